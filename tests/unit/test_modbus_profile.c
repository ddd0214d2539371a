/* The Modbus device profile parser: shipped profiles load, bad files are refused with
 * file:line: reason. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "modbus_profile.h"

#define DEVICES_DIR TL_PROTOCOL_DIR "/../config/devices"

/* A minimal valid profile; each bad case below changes one thing. */
#define HEAD "[device]\nname = t\nsource = test\n"
#define REGS \
	"[registers]\n" \
	"speed_setpoint = holding 0 0.01 km/h\n" \
	"speed_actual = input 0 0.01 km/h\n" \
	"command = holding 2 1 code\n" \
	"status = input 2 1 bits\n" \
	"watchdog_ms = holding 3 1 ms\n"
#define CMDS "[command]\nstart = 1\nstop = 0\n[status]\nrunning = 0x1\n"

static void shipped_treadsim_profile_loads(void **state)
{
	(void)state;
	struct tl_modbus_profile p;
	struct tl_err err = {{0}};
	assert_int_equal(tl_modbus_profile_load(DEVICES_DIR "/treadsim.profile", &p, &err), 0);
	assert_string_equal(p.name, "treadsim");
	assert_true(p.simulated);
	assert_string_equal(p.unverified, "");
	for (int k = 0; k < TL_REG_N; k++)
		assert_true(p.reg[k].present);
	assert_int_equal(p.reg[TL_REG_BUTTON].kind, TL_REG_INPUT);
	assert_int_equal(p.reg[TL_REG_BUTTON].address, 5);
	assert_int_equal(p.cmd_estop.n, 1);
	assert_int_equal(p.st_key_pulled, 4);
}

static void shipped_drive_profiles_load_and_say_what_is_unverified(void **state)
{
	(void)state;
	const char *names[] = {"siemens-v20", "delta-ms300"};
	for (size_t i = 0; i < 2; i++) {
		char path[512];
		snprintf(path, sizeof path, "%s/%s.profile", DEVICES_DIR, names[i]);
		struct tl_modbus_profile p;
		struct tl_err err = {{0}};
		int rc = tl_modbus_profile_load(path, &p, &err);
		if (rc)
			fail_msg("%s", err.msg);
		assert_false(p.simulated);
		assert_true(strlen(p.unverified) > 0);
	}
}

static void conversions_round_to_register_resolution(void **state)
{
	(void)state;
	struct tl_modbus_profile p;
	struct tl_err err;
	assert_int_equal(tl_modbus_profile_parse(HEAD "kmh_per_hz = 0.2\n"
		"[registers]\n"
		"speed_setpoint = holding 0 0.01 Hz\n"
		"speed_actual = input 0 0.5 mph\n"
		"grade_setpoint = holding 1 0.5 %\n"
		"command = holding 2 1 code\n"
		"status = input 2 1 bits\n"
		"watchdog_ms = holding 3 0.1 s\n" CMDS, "mem", &p, &err), 0);
	uint16_t raw;
	double sent;
	/* 4.0 km/h = 20 Hz = 2000 counts */
	assert_int_equal(tl_profile_kmh_to_raw(&p, 4.0, &raw, &sent), 0);
	assert_int_equal(raw, 2000);
	assert_float_equal(sent, 4.0, 1e-9);
	assert_float_equal(tl_profile_raw_to_kmh(&p, TL_REG_SPEED_ACTUAL, 4), 2 * 1.609344, 1e-9);
	assert_int_equal(tl_profile_pct_to_raw(&p, 2.3, &raw, &sent), 0);
	assert_int_equal(raw, 5);
	assert_float_equal(sent, 2.5, 1e-9);
	assert_float_equal(tl_profile_raw_to_ms(&p, TL_REG_WATCHDOG, 5), 500.0, 1e-9);
	assert_int_equal(tl_profile_kmh_to_raw(&p, 1e6, &raw, &sent), -1);
	assert_int_equal(tl_profile_kmh_to_raw(&p, -1, &raw, &sent), -1);
}

static const struct bad {
	const char *legend;
	const char *text;
	const char *expect; /* substring of the error, starting with "mem:LINE:" */
} bad_files[] = {
	{"empty file", "", "mem:0: [device] lacks 'name'"},
	{"garbage line", HEAD "this is not ini\n", "mem:4: expected 'key = value'"},
	{"key outside section", "name = x\n", "mem:1: 'name' outside a section"},
	{"unknown section", HEAD "[bogus]\n", "mem:4: unknown section [bogus]"},
	{"unterminated header", "[device\n", "mem:1: malformed section header"},
	{"trailing text after header", "[device] x\n", "mem:1: malformed section header"},
	{"duplicate section", HEAD "[device]\n", "mem:4: duplicate section [device]"},
	{"unknown device key", HEAD "colour = red\n", "mem:4: unknown key 'colour'"},
	{"duplicate device key", HEAD "name = u\n", "mem:4: duplicate key 'name'"},
	{"bad simulated", HEAD "simulated = maybe\n", "mem:4: simulated must be yes or no"},
	{"min gap too big", HEAD "min_gap_ms = 5000\n", "mem:4: min_gap_ms must be 0..1000"},
	{"negative kmh_per_hz", HEAD "kmh_per_hz = -1\n", "mem:4: kmh_per_hz must be a positive"},
	{"missing value", HEAD "[registers]\nstatus =\n", "mem:5: status: missing value"},
	{"missing key", HEAD "[registers]\n= input 1 1 bits\n", "mem:5: missing key"},
	{"unknown register", HEAD "[registers]\nturbo = holding 1 1 code\n",
	 "mem:5: unknown register 'turbo'"},
	{"too few words", HEAD "[registers]\nstatus = input 1 1\n", "mem:5: status: expected"},
	{"too many words", HEAD "[registers]\nstatus = input 1 1 bits extra\n",
	 "mem:5: status: expected"},
	{"unknown kind", HEAD "[registers]\nstatus = register 1 1 bits\n",
	 "mem:5: status: unknown kind 'register'"},
	{"setpoint not writable", HEAD "[registers]\nspeed_setpoint = input 1 0.01 km/h\n",
	 "mem:5: speed_setpoint must be writable"},
	{"address too big", HEAD "[registers]\nstatus = input 65536 1 bits\n",
	 "mem:5: status: bad address '65536'"},
	{"negative address", HEAD "[registers]\nstatus = input -1 1 bits\n",
	 "mem:5: status: bad address '-1'"},
	{"hex garbage address", HEAD "[registers]\nstatus = input 0x1g 1 bits\n",
	 "mem:5: status: bad address"},
	{"zero scale", HEAD "[registers]\nstatus = input 1 0 bits\n", "mem:5: status: bad scale"},
	{"nan scale", HEAD "[registers]\nstatus = input 1 nan bits\n", "mem:5: status: bad scale"},
	{"wrong units for speed", HEAD "[registers]\nspeed_actual = input 1 1 %\n",
	 "mem:5: speed_actual: units '%' do not fit"},
	{"wrong units for watchdog", HEAD "[registers]\nwatchdog_ms = holding 1 1 km/h\n",
	 "mem:5: watchdog_ms: units 'km/h' do not fit"},
	{"duplicate register", HEAD "[registers]\nstatus = input 1 1 bits\nstatus = input 2 1 bits\n",
	 "mem:6: duplicate register 'status' (first on line 5)"},
	{"missing required register", HEAD "[registers]\nstatus = input 1 1 bits\n" CMDS,
	 "mem:4: [registers] lacks required 'speed_setpoint'"},
	{"no registers section", HEAD CMDS, "no [registers] section"},
	{"Hz without kmh_per_hz", HEAD "[registers]\nspeed_setpoint = holding 0 0.01 Hz\n"
	 "speed_actual = input 0 0.01 km/h\ncommand = holding 2 1 code\n"
	 "status = input 2 1 bits\nwatchdog_ms = holding 3 1 ms\n" CMDS,
	 "mem:5: speed_setpoint is in Hz: [device] needs kmh_per_hz"},
	{"no start command", HEAD REGS "[command]\nstop = 0\n[status]\nrunning = 1\n",
	 "[command] needs 'start' and 'stop'"},
	{"too long command sequence", HEAD REGS "[command]\nstart = 1 2 3 4 5\n",
	 "mem:11: start: expected 1 to 4 values"},
	{"bad command value", HEAD REGS "[command]\nstart = 0x10000\n",
	 "mem:11: start: bad value '0x10000'"},
	{"unknown command key", HEAD REGS "[command]\nreverse = 3\n", "mem:11: unknown key 'reverse'"},
	{"zero status mask", HEAD REGS "[command]\nstart = 1\nstop = 0\n[status]\nrunning = 0\n",
	 "mem:14: running: bad bit mask '0'"},
	{"unknown status key", HEAD REGS "[status]\nsparkles = 1\n", "mem:11: unknown key 'sparkles'"},
	{"no running bit", HEAD REGS "[command]\nstart = 1\nstop = 0\n",
	 "[status] needs 'running'"},
	{"no source", "[device]\nname = t\n" REGS CMDS, "[device] lacks 'source'"},
	{"name too long", "[device]\nname = "
	 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
	 "mem:2: name is longer than 63 characters"},
};

static void bad_files_are_refused_with_file_and_line(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof bad_files / sizeof bad_files[0]; i++) {
		struct tl_modbus_profile p;
		struct tl_err err = {{0}};
		int rc = tl_modbus_profile_parse(bad_files[i].text, "mem", &p, &err);
		if (rc != -1 || !strstr(err.msg, bad_files[i].expect))
			fail_msg("%s: rc %d, got '%s', want '%s'", bad_files[i].legend, rc, err.msg,
				 bad_files[i].expect);
	}
}

static void valid_minimal_profile_parses_with_comments(void **state)
{
	(void)state;
	struct tl_modbus_profile p;
	struct tl_err err = {{0}};
	int rc = tl_modbus_profile_parse("# leading comment\n; another\n\n" HEAD
					 "unverified = everything   # trailing comment\n" REGS CMDS,
					 "mem", &p, &err);
	if (rc)
		fail_msg("%s", err.msg);
	assert_string_equal(p.unverified, "everything");
	assert_false(p.reg[TL_REG_GRADE_SETPOINT].present);
}

static void missing_file_names_the_file(void **state)
{
	(void)state;
	struct tl_modbus_profile p;
	struct tl_err err = {{0}};
	assert_int_equal(tl_modbus_profile_load("/nonexistent/x.profile", &p, &err), -1);
	assert_non_null(strstr(err.msg, "/nonexistent/x.profile"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(shipped_treadsim_profile_loads),
		cmocka_unit_test(shipped_drive_profiles_load_and_say_what_is_unverified),
		cmocka_unit_test(conversions_round_to_register_resolution),
		cmocka_unit_test(bad_files_are_refused_with_file_and_line),
		cmocka_unit_test(valid_minimal_profile_parses_with_comments),
		cmocka_unit_test(missing_file_names_the_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
