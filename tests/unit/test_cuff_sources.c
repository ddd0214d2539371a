/* The cuff pressure sources' tables (drivers/cuff_registry.c) checked row by row, their
 * validate rules, and the cuff profile parser (drivers/cuff_profile.c): the shipped
 * sample, every refusal with its line, and the unit conversions. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "cuff_modbus.h"
#include "cuff_profile.h"
#include "cuff_source.h"
#include "cuff_text.h"
#include "tl_assert.h"

#define SIM_CUFF_PROFILE TL_TEST_DATA_DIR "/../../config/devices/sim-cuff.profile"

static void every_source_is_complete(void **state)
{
	(void)state;
	int n = 0;
	for (size_t i = 0; tl_cuff_sources[i]; i++, n++) {
		const struct tl_cuff_ops *o = tl_cuff_sources[i];
		assert_non_null(o->name);
		assert_ptr_equal(tl_cuff_find(o->name), o);
		assert_non_null(o->open);
		assert_non_null(o->close);
		assert_non_null(o->read);
		bool can = o->flags & TL_CUFF_CAN_INFLATE;
		assert_true(can == (o->inflate_to != NULL));
		assert_true(can == (o->deflate_at != NULL));
		assert_true(can == (o->vent != NULL));
		assert_true(o->opts_size > 0 && o->opts_size <= TL_DRIVER_OPTS_MAX);
		struct tl_driver_optbuf buf;
		tl_cuff_opts_defaults(o, &buf);
		for (const struct tl_driver_option *r = o->options; r->key; r++) {
			char why[300];
			assert_string_equal(r->section, "cuff");
			assert_non_null(r->help);
			assert_true(r->offset + r->size <= o->opts_size);
			if (r->def && tl_cuff_opts_set(o, &buf, "cuff", r->key, r->def, why, sizeof why))
				fail_msg("%s %s default '%s': %s", o->name, r->key, r->def, why);
		}
	}
	assert_int_equal(n, 2);
	assert_null(tl_cuff_find("nonesuch"));
	char names[100];
	tl_cuff_names(names, sizeof names);
	assert_string_equal(names, "cuff-modbus, cuff-text");
}

static void options_are_checked(void **state)
{
	(void)state;
	struct tl_driver_optbuf buf;
	char why[300];
	const struct tl_cuff_ops *m = &tl_cuff_modbus_ops;
	tl_cuff_opts_defaults(m, &buf);
	assert_int_equal(tl_cuff_opts_check(m, &buf, why, sizeof why), -1);
	assert_non_null(strstr(why, "needs 'profile'"));
	assert_int_equal(tl_cuff_opts_set(m, &buf, "cuff", "profile", "x.profile", why, sizeof why), 0);
	assert_int_equal(tl_cuff_opts_check(m, &buf, why, sizeof why), -1);
	assert_non_null(strstr(why, "needs one of 'device' (RTU) or 'tcp'"));
	assert_int_equal(tl_cuff_opts_set(m, &buf, "cuff", "tcp", "127.0.0.1:502", why, sizeof why), 0);
	assert_int_equal(tl_cuff_opts_check(m, &buf, why, sizeof why), 0);
	assert_int_equal(tl_cuff_opts_set(m, &buf, "cuff", "device", "/dev/ttyUSB0", why, sizeof why), 0);
	assert_int_equal(tl_cuff_opts_check(m, &buf, why, sizeof why), -1);
	assert_int_equal(tl_cuff_opts_set(m, &buf, "cuff", "retries", "11", why, sizeof why), -1);
	assert_non_null(strstr(why, "[cuff] retries: 11 is out of range (0 to 10)"));
	assert_int_equal(tl_cuff_opts_set(m, &buf, "cuff", "pattern", "{mmhg}", why, sizeof why), -2);
	assert_non_null(strstr(why, "the cuff-modbus driver has no such option"));

	const struct tl_cuff_ops *t = &tl_cuff_text_ops;
	tl_cuff_opts_defaults(t, &buf);
	const struct tl_cuff_text_opts *to = (const void *)&buf;
	assert_string_equal(to->pattern, "{mmhg}");
	assert_int_equal(to->stuck_ms, 3000);
	assert_int_equal(tl_cuff_opts_check(t, &buf, why, sizeof why), -1);
	assert_non_null(strstr(why, "needs 'device'"));
	assert_int_equal(tl_cuff_opts_set(t, &buf, "cuff", "device", "/dev/ttyUSB1", why, sizeof why), 0);
	assert_int_equal(tl_cuff_opts_set(t, &buf, "cuff", "pattern", "P {mmhg", why, sizeof why), 0);
	assert_int_equal(tl_cuff_opts_check(t, &buf, why, sizeof why), -1);
	assert_non_null(strstr(why, "[cuff] pattern: pattern column 3: '{' without a closing '}'"));
}

static void sample_profile_is_an_inflator(void **state)
{
	(void)state;
	struct tl_cuff_profile p;
	struct tl_err err = {{0}};
	if (tl_cuff_profile_load(SIM_CUFF_PROFILE, &p, &err))
		fail_msg("%s", err.msg);
	assert_true(p.inflator);
	assert_true(p.simulated);
	assert_string_equal(p.unverified, "");
	assert_int_equal(p.reg[TL_CREG_PRESSURE].kind, TL_REG_INPUT);
	assert_int_equal(p.reg[TL_CREG_RATE].address, 1);
	assert_int_equal(p.cmd_vent.n, 1);
	assert_int_equal(p.cmd_vent.value[0], 3);
	assert_near(tl_cuff_profile_to_mmhg(&p, TL_CREG_PRESSURE, 1234), 123.4, 1e-9);
	uint16_t raw;
	assert_int_equal(tl_cuff_profile_from_mmhg(&p, TL_CREG_RATE, 2.0, &raw), 0);
	assert_int_equal(raw, 20);
	assert_int_equal(tl_cuff_profile_from_mmhg(&p, TL_CREG_SETPOINT, 70000, &raw), -1);
}

static void refused(const char *text, const char *expect)
{
	struct tl_cuff_profile p;
	struct tl_err err = {{0}};
	assert_int_equal(tl_cuff_profile_parse(text, "t.profile", &p, &err), -1);
	if (!strstr(err.msg, expect))
		fail_msg("'%s' does not say '%s'", err.msg, expect);
}

#define HEAD "[device]\nname = x\nsource = y\n[registers]\n"

static void bad_profiles_are_refused_with_their_line(void **state)
{
	(void)state;
	struct tl_cuff_profile p;
	struct tl_err err = {{0}};
	assert_int_equal(tl_cuff_profile_parse(HEAD "pressure = input 0 0.01 kPa\n", "t", &p, &err), 0);
	assert_false(p.inflator);
	assert_near(tl_cuff_profile_to_mmhg(&p, TL_CREG_PRESSURE, 2000), 150.0124, 1e-9);
	refused(HEAD, "t.profile:4: [registers] lacks required 'pressure'");
	refused(HEAD "pressure = coil 0 1 mmHg\n", "t.profile:5: pressure: a cuff register is a 16-bit");
	refused(HEAD "pressure = input 0 1 km/h\n", "t.profile:5: pressure: units 'km/h' do not fit (expected mmHg or kPa)");
	refused(HEAD "pressure = input 0 1 mmHg\npressure = input 1 1 mmHg\n",
		"t.profile:6: duplicate register 'pressure' (first on line 5)");
	refused(HEAD "flow = input 0 1 mmHg\n", "t.profile:5: unknown register 'flow'");
	refused(HEAD "pressure = input 0 0 mmHg\n", "bad scale '0'");
	refused(HEAD "pressure = input 0 1 mmHg\nsetpoint = input 1 1 mmHg\n",
		"t.profile:6: setpoint must be writable (holding), not input");
	refused(HEAD "pressure = input 0 1 mmHg\nsetpoint = holding 1 1 mmHg\n",
		"an inflator needs register rate");
	refused(HEAD "pressure = input 0 1 mmHg\n[command]\nvent = 3\n", "an inflator needs register setpoint");
	refused(HEAD "pressure = input 0 1 mmHg\n[command]\nstart = 3\n",
		"t.profile:7: unknown key 'start' in [command] (inflate, deflate, vent)");
	refused("[device]\nname = x\n[registers]\npressure = input 0 1 mmHg\n", "[device] lacks 'source'");
	refused("[valves]\n", "t.profile:1: unknown section [valves]");
	refused("pressure = input 0 1 mmHg\n", "t.profile:1: 'pressure' outside a section");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_source_is_complete),
		cmocka_unit_test(options_are_checked),
		cmocka_unit_test(sample_profile_is_an_inflator),
		cmocka_unit_test(bad_profiles_are_refused_with_their_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
