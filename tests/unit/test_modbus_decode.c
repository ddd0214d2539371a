/* tl_modbus_decode: the registers one Modbus poll read, decoded into feedback and fault
 * bits (pure; the driver's poll() latches on top of it). Table-driven against the shipped
 * treadsim profile. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "modbus_treadmill.h"
#include "tl_assert.h"

#define DEVICES_DIR TL_PROTOCOL_DIR "/../config/devices"

static struct tl_modbus_profile prof;

static int load(void **state)
{
	(void)state;
	struct tl_err err = {{0}};
	return tl_modbus_profile_load(DEVICES_DIR "/treadsim.profile", &prof, &err);
}

/* The keys in the order poll() reads them with every optional register present. */
static const enum tl_reg_key keys[] = {TL_REG_STATUS,       TL_REG_SPEED_ACTUAL,
				       TL_REG_WATCHDOG,     TL_REG_GRADE_ACTUAL,
				       TL_REG_FAULT_CODE,   TL_REG_BOOT_COUNT,
				       TL_REG_BUTTON};
#define N_KEYS ((int)(sizeof keys / sizeof keys[0]))

static const struct row {
	const char *legend;
	uint16_t v[N_KEYS]; /* status, speed, watchdog, grade, fault code, boot, button */
	double speed_kmh, grade_pct;
	bool running;
	int fault_code;
	uint32_t faults;
} rows[] = {
	{"idle, all well", {0, 0, 1000, 0, 0, 7, 0}, 0, 0, false, 0, 0},
	{"running 3.22 km/h at 8 %", {0x01, 322, 1000, 80, 0, 7, 0}, 3.22, 8.0, true, 0, 0},
	{"emergency stop bit", {0x02, 0, 1000, 0, 0, 7, 0}, 0, 0, false, 0, TL_FAULT_ESTOP},
	{"safety key bit", {0x04, 0, 1000, 0, 0, 7, 0}, 0, 0, false, 0, TL_FAULT_SAFETY_KEY},
	{"watchdog tripped bit", {0x08, 0, 1000, 0, 0, 7, 0}, 0, 0, false, 0, TL_FAULT_WATCHDOG},
	{"drive fault bit", {0x10, 0, 1000, 0, 0, 7, 0}, 0, 0, false, 0, TL_FAULT_DRIVE},
	{"fault code alone", {0x01, 100, 1000, 0, 42, 7, 0}, 1.0, 0, true, 42, TL_FAULT_DRIVE},
	{"homing: a restart", {0x20, 0, 1000, 0, 0, 7, 0}, 0, 0, false, 0, TL_FAULT_REBOOT},
	{"boot counter changed", {0x01, 0, 1000, 0, 0, 8, 0}, 0, 0, true, 0, TL_FAULT_REBOOT},
	{"watchdog setting reverted", {0, 0, 0, 0, 0, 7, 0}, 0, 0, false, 0, TL_FAULT_REBOOT},
	{"every bit at once", {0xFFFF, 65535, 65535, 65535, 65535, 0, 0xFFFF}, 655.35, 6553.5, true,
	 65535,
	 TL_FAULT_ESTOP | TL_FAULT_SAFETY_KEY | TL_FAULT_WATCHDOG | TL_FAULT_DRIVE | TL_FAULT_REBOOT},
};

static void decode_table(void **state)
{
	(void)state;
	const struct tl_modbus_expect e = {.watchdog_ms = 1000, .have_boot = true, .boot_count = 7};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const struct row *r = &rows[i];
		struct tl_feedback fb = {0};
		print_message("%s\n", r->legend);
		uint32_t f = tl_modbus_decode(&prof, &e, keys, r->v, N_KEYS, &fb);
		assert_int_equal(f, r->faults);
		assert_true(fb.valid);
		assert_near(fb.speed_kmh, r->speed_kmh, 1e-9);
		assert_near(fb.grade_pct, r->grade_pct, 1e-9);
		assert_int_equal(fb.belt_running, r->running);
		assert_int_equal(fb.fault_code, r->fault_code);
	}
}

/* Without the optional registers (a poll between two watchdog read-backs): no grade, no
 * fault code, no restart seen, whatever the expectation says. */
static void only_status_and_speed(void **state)
{
	(void)state;
	const struct tl_modbus_expect e = {.watchdog_ms = 1000, .have_boot = true, .boot_count = 7};
	const uint16_t v[2] = {0x01, 50};
	struct tl_feedback fb = {0};
	assert_int_equal(tl_modbus_decode(&prof, &e, keys, v, 2, &fb), 0);
	assert_near(fb.speed_kmh, 0.5, 1e-9);
	assert_exact(fb.grade_pct, 0);
	assert_true(fb.belt_running);
}

/* A device without a boot counter: the counter's value never means a restart. */
static void no_boot_counter_expected(void **state)
{
	(void)state;
	const struct tl_modbus_expect e = {.watchdog_ms = 1000, .have_boot = false};
	const uint16_t v[N_KEYS] = {0, 0, 1000, 0, 0, 99, 0};
	struct tl_feedback fb = {0};
	assert_int_equal(tl_modbus_decode(&prof, &e, keys, v, N_KEYS, &fb), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(decode_table),
		cmocka_unit_test(only_status_and_speed),
		cmocka_unit_test(no_boot_counter_expected),
	};
	return cmocka_run_group_tests(tests, load, NULL);
}
