/* Modbus replies as the driver decodes them (tl_modbus_decode, what poll() does with the
 * registers it read), against the shipped device profiles. Input: byte 0 picks the
 * profile, byte 1 which optional registers this poll read, bytes 2..6 what open() read
 * (watchdog setting, whether there is a boot counter and its value), then two bytes per
 * register value, big-endian as on the wire; missing bytes read 0. */
#include <math.h>

#include "fuzz.h"
#include "modbus_treadmill.h"

#ifndef TL_DEVICES_DIR
#error "TL_DEVICES_DIR: the directory of the shipped profiles"
#endif

static const char *const names[] = {"treadsim", "siemens-v20", "delta-ms300"};
#define N_PROFILES (sizeof names / sizeof names[0])
static struct tl_modbus_profile profiles[N_PROFILES];

static void load_profiles(void)
{
	for (size_t i = 0; i < N_PROFILES; i++) {
		char path[512];
		struct tl_err err;
		snprintf(path, sizeof path, "%s/%s.profile", TL_DEVICES_DIR, names[i]);
		if (tl_modbus_profile_load(path, &profiles[i], &err)) {
			fprintf(stderr, "%s\n", err.msg);
			abort();
		}
	}
}

static size_t at;
static uint8_t byte(const uint8_t *data, size_t size)
{
	return at < size ? data[at++] : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int loaded;
	if (!loaded) {
		load_profiles();
		loaded = 1;
	}
	at = 0;
	const struct tl_modbus_profile *p = &profiles[byte(data, size) % N_PROFILES];
	uint8_t which = byte(data, size);
	struct tl_modbus_expect e;
	e.watchdog_ms = byte(data, size) << 8;
	e.watchdog_ms |= byte(data, size);
	e.have_boot = byte(data, size) & 1;
	e.boot_count = (uint16_t)(byte(data, size) << 8);
	e.boot_count |= byte(data, size);

	/* The keys in poll()'s order: status, speed, then those this poll read. */
	enum tl_reg_key keys[TL_REG_N];
	uint16_t vals[TL_REG_N];
	int n = 0;
	keys[n++] = TL_REG_STATUS;
	keys[n++] = TL_REG_SPEED_ACTUAL;
	const enum tl_reg_key optional[] = {TL_REG_WATCHDOG, TL_REG_GRADE_ACTUAL,
					    TL_REG_FAULT_CODE, TL_REG_BOOT_COUNT, TL_REG_BUTTON};
	for (size_t i = 0; i < sizeof optional / sizeof optional[0]; i++)
		if ((which >> i & 1) && p->reg[optional[i]].present)
			keys[n++] = optional[i];
	for (int i = 0; i < n; i++) {
		vals[i] = (uint16_t)(byte(data, size) << 8);
		vals[i] |= byte(data, size);
	}

	struct tl_feedback fb = {0};
	uint32_t f = tl_modbus_decode(p, &e, keys, vals, n, &fb);
	FUZZ_REQUIRE(fb.valid);
	FUZZ_REQUIRE(isfinite(fb.speed_kmh) && fb.speed_kmh >= 0);
	FUZZ_REQUIRE(isfinite(fb.grade_pct) && fb.grade_pct >= 0);
	FUZZ_REQUIRE(fb.belt_running == ((vals[0] & p->st_running) != 0));
	FUZZ_REQUIRE((f & ~(uint32_t)(TL_FAULT_ESTOP | TL_FAULT_SAFETY_KEY | TL_FAULT_WATCHDOG |
				      TL_FAULT_DRIVE | TL_FAULT_REBOOT)) == 0);
	/* A fault code or the drive's fault bit is a drive fault; none of them, none. */
	int drive = fb.fault_code != 0 || (p->st_fault && (vals[0] & p->st_fault));
	FUZZ_REQUIRE(!!(f & TL_FAULT_DRIVE) == drive);
	/* A restart is only ever read from the watchdog, the boot counter or homing. */
	if (f & TL_FAULT_REBOOT) {
		int why = p->st_homing && (vals[0] & p->st_homing);
		for (int i = 2; i < n; i++)
			why |= keys[i] == TL_REG_WATCHDOG || (keys[i] == TL_REG_BOOT_COUNT && e.have_boot);
		FUZZ_REQUIRE(why);
	}
	return 0;
}
