/* The driver registry: every driver is found by its configured name, fills the
 * operations the interface marks as required, and declares its configuration keys in a
 * well-formed table (unique keys, defaults that its own parser accepts, fields inside
 * its options struct). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "modbus_treadmill.h"
#include "sim.h"
#include "trackmaster.h"
#include "treadmill.h"

static void drivers_are_found_by_name(void **state)
{
	(void)state;
	assert_ptr_equal(tl_treadmill_find("sim"), &tl_sim_treadmill_ops);
	assert_ptr_equal(tl_treadmill_find("modbus"), &tl_modbus_treadmill_ops);
	assert_ptr_equal(tl_treadmill_find("trackmaster"), &tl_trackmaster_treadmill_ops);
	assert_null(tl_treadmill_find("Modbus"));
	assert_null(tl_treadmill_find(""));
	assert_null(tl_treadmill_find(NULL));
	char names[80];
	tl_treadmill_names(names, sizeof names);
	assert_string_equal(names, "sim, modbus, trackmaster");
}

static void every_driver_fills_the_required_operations(void **state)
{
	(void)state;
	size_t n = 0;
	for (size_t i = 0; tl_treadmill_drivers[i]; i++, n++) {
		const struct tl_treadmill_ops *o = tl_treadmill_drivers[i];
		assert_non_null(o->name);
		assert_non_null(o->open);
		assert_non_null(o->close);
		assert_non_null(o->start);
		assert_non_null(o->stop);
		assert_non_null(o->emergency_stop);
		assert_non_null(o->set_speed);
		assert_non_null(o->set_grade);
		assert_non_null(o->poll);
		assert_non_null(o->options);
		assert_true(o->opts_size > 0 && o->opts_size <= TL_DRIVER_OPTS_MAX);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(tl_treadmill_drivers[j]->name, o->name);
	}
	assert_true(n >= 3);
}

static bool is_word(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

static size_t kind_size(enum tl_opt_kind k)
{
	return k == TL_OPT_INT ? sizeof(int) : k == TL_OPT_REAL ? sizeof(double) : sizeof(bool);
}

static void every_option_table_is_well_formed(void **state)
{
	(void)state;
	for (size_t i = 0; tl_treadmill_drivers[i]; i++) {
		const struct tl_treadmill_ops *ops = tl_treadmill_drivers[i];
		unsigned char used[TL_DRIVER_OPTS_MAX] = {0};
		for (const struct tl_driver_option *o = ops->options; o->key; o++) {
			assert_true(is_word(o->section));
			assert_true(is_word(o->key));
			assert_non_null(o->help);
			assert_true(strlen(o->help) > 0 && !strpbrk(o->help, "\t\n"));
			/* Unique within the driver. */
			assert_ptr_equal(tl_driver_option_find(ops, o->section, o->key), o);
			/* Inside the struct, the right size for its kind, not overlapping another. */
			assert_true(o->offset + o->size <= ops->opts_size);
			if (o->kind == TL_OPT_TEXT || o->kind == TL_OPT_ENUM)
				assert_true(o->size >= 2);
			else
				assert_int_equal(o->size, kind_size(o->kind));
			for (size_t b = o->offset; b < o->offset + o->size; b++) {
				assert_int_equal(used[b], 0);
				used[b] = 1;
			}
			if (o->kind == TL_OPT_INT || o->kind == TL_OPT_REAL) {
				assert_true(isfinite(o->min) && isfinite(o->max) && o->min <= o->max);
				if (!o->def)
					assert_true(o->none < o->min || o->none > o->max);
			}
			if (o->kind == TL_OPT_ENUM) {
				assert_non_null(o->values);
				assert_non_null(o->values[0]);
				for (size_t k = 0; o->values[k]; k++)
					assert_true(strlen(o->values[k]) < o->size);
				assert_non_null(o->def);
			}
			/* The default is a value its own parser accepts (in range, one of the
			 * words, short enough). */
			struct tl_driver_optbuf b;
			char why[300] = "";
			tl_driver_opts_defaults(ops, &b);
			if (o->def) {
				int rc = tl_driver_opts_set(ops, &b, o->section, o->key, o->def, why, sizeof why);
				if (rc)
					fail_msg("%s", why);
			}
		}
	}
}

/* Defaults land in the driver's own struct; absent numbers hold the row's `none`. */
static void defaults_fill_the_drivers_struct(void **state)
{
	(void)state;
	struct tl_driver_optbuf b;
	memset(&b, 0x5a, sizeof b);
	tl_driver_opts_defaults(&tl_modbus_treadmill_ops, &b);
	const struct tl_modbus_opts *m = (const void *)&b;
	assert_string_equal(m->device, "");
	assert_string_equal(m->framing, "8E1");
	assert_int_equal(m->baud, 19200);
	assert_int_equal(m->unit_id, 1);
	assert_int_equal(m->watchdog_max_ms, 1000);
	assert_int_equal(m->response_timeout_ms, 100);
	assert_int_equal(m->retries, 2);
	tl_driver_opts_defaults(&tl_sim_treadmill_ops, &b);
	const struct tl_sim_opts *s = (const void *)&b;
	assert_true(s->patient_onset_s < 0 && s->patient_max_s < 0);
	tl_driver_opts_defaults(&tl_trackmaster_treadmill_ops, &b);
	assert_int_equal(((const struct tl_trackmaster_opts *)(const void *)&b)->baud, 4800);
}

static void values_are_parsed_and_checked_by_the_table(void **state)
{
	(void)state;
	const struct tl_treadmill_ops *ops = &tl_modbus_treadmill_ops;
	struct tl_driver_optbuf b;
	const struct tl_modbus_opts *m = (const void *)&b;
	char why[300];
	tl_driver_opts_defaults(ops, &b);
	assert_int_equal(tl_driver_opts_set(ops, &b, "treadmill", "unit_id", "247", why, sizeof why), 0);
	assert_int_equal(m->unit_id, 247);
	assert_int_equal(tl_driver_opts_set(ops, &b, "treadmill", "unit_id", "248", why, sizeof why), -1);
	assert_string_equal(why, "[treadmill] unit_id: 248 is out of range (1 to 247)");
	assert_int_equal(m->unit_id, 247); /* a refused value changes nothing */
	assert_int_equal(tl_driver_opts_set(ops, &b, "treadmill", "baud", "fast", why, sizeof why), -1);
	assert_string_equal(why, "[treadmill] baud: 'fast' is not an integer");
	assert_int_equal(tl_driver_opts_set(ops, &b, "treadmill", "framing", "7E1", why, sizeof why), -1);
	assert_string_equal(why, "[treadmill] framing: '7E1' is not one of 8E1, 8O1, 8N2, 8N1");
	assert_int_equal(tl_driver_opts_set(ops, &b, "treadmill", "framing", "8N1", why, sizeof why), 0);
	assert_string_equal(m->framing, "8N1");
	char longpath[300];
	memset(longpath, 'x', sizeof longpath - 1);
	longpath[sizeof longpath - 1] = '\0';
	assert_int_equal(tl_driver_opts_set(ops, &b, "treadmill", "device", longpath, why, sizeof why), -1);
	assert_string_equal(why, "[treadmill] device: longer than 255 characters");
	assert_int_equal(tl_driver_opts_set(ops, &b, "treadmill", "device", "/dev/ttyUSB0", why, sizeof why), 0);
	assert_string_equal(m->device, "/dev/ttyUSB0");

	const struct tl_treadmill_ops *sim = &tl_sim_treadmill_ops;
	tl_driver_opts_defaults(sim, &b);
	assert_int_equal(tl_driver_opts_set(sim, &b, "sim", "patient_onset_s", "inf", why, sizeof why), -1);
	assert_string_equal(why, "[sim] patient_onset_s: 'inf' is not a number");
	assert_int_equal(tl_driver_opts_set(sim, &b, "sim", "patient_onset_s", "12.5", why, sizeof why), 0);
	assert_true(((const struct tl_sim_opts *)(const void *)&b)->patient_onset_s == 12.5);
}

static void a_key_the_driver_does_not_take_is_refused_with_what_it_takes(void **state)
{
	(void)state;
	struct tl_driver_optbuf b;
	char why[300];
	tl_driver_opts_defaults(&tl_trackmaster_treadmill_ops, &b);
	assert_int_equal(tl_driver_opts_set(&tl_trackmaster_treadmill_ops, &b, "treadmill", "framing",
					    "8N1", why, sizeof why), -2);
	assert_string_equal(why, "[treadmill] framing: the trackmaster driver has no such option "
				 "(it takes: device, baud, response_timeout_ms, retries)");
	tl_driver_opts_defaults(&tl_sim_treadmill_ops, &b);
	assert_int_equal(tl_driver_opts_set(&tl_sim_treadmill_ops, &b, "treadmill", "device", "/dev/x",
					    why, sizeof why), -2);
	assert_string_equal(why, "[treadmill] device: the sim driver has no such option "
				 "(it takes: [sim] patient_onset_s, [sim] patient_max_s)");
	assert_true(tl_driver_option_known("treadmill", "framing"));
	assert_false(tl_driver_option_known("treadmill", "colour"));
	assert_true(tl_driver_section_known("sim"));
	assert_false(tl_driver_section_known("daemon"));
}

/* Capabilities replace name comparisons in the daemon. */
static void capabilities_are_flags(void **state)
{
	(void)state;
	assert_true(tl_sim_treadmill_ops.flags & TL_DRV_SIMULATED);
	assert_false(tl_modbus_treadmill_ops.flags & TL_DRV_SIMULATED);
	assert_false(tl_trackmaster_treadmill_ops.flags & TL_DRV_SIMULATED);
	assert_true(tl_modbus_treadmill_ops.flags & TL_DRV_BUTTON_REGISTER);
	assert_false(tl_sim_treadmill_ops.flags & TL_DRV_BUTTON_REGISTER);
	assert_non_null(tl_sim_treadmill_ops.patient_button);
}

/* The sim driver's virtual patient opens only when a press time is set. */
static void the_virtual_patient_follows_the_options(void **state)
{
	(void)state;
	const struct tl_treadmill_ops *ops = &tl_sim_treadmill_ops;
	struct tl_driver_optbuf b;
	char why[300];
	struct tl_button btn = {0};
	tl_driver_opts_defaults(ops, &b);
	struct tl_treadmill tm = {.ops = ops};
	assert_int_equal(ops->open(&tm, &b), 0);
	assert_int_equal(ops->patient_button(&btn, &tm), 0);
	ops->close(&tm);
	assert_int_equal(tl_driver_opts_set(ops, &b, "sim", "patient_max_s", "30", why, sizeof why), 0);
	assert_int_equal(ops->open(&tm, &b), 0);
	assert_int_equal(ops->patient_button(&btn, &tm), 1);
	tl_button_close(&btn);
	ops->close(&tm);
}

/* A driver that takes a device fails to open a missing one and keeps no state. */
static void open_failures_leave_no_state(void **state)
{
	(void)state;
	size_t tried = 0;
	for (size_t i = 0; tl_treadmill_drivers[i]; i++) {
		const struct tl_treadmill_ops *ops = tl_treadmill_drivers[i];
		if (!tl_driver_option_find(ops, "treadmill", "device"))
			continue;
		struct tl_driver_optbuf b;
		char why[300];
		tl_driver_opts_defaults(ops, &b);
		assert_int_equal(tl_driver_opts_set(ops, &b, "treadmill", "device", "/nonexistent/tty",
						    why, sizeof why), 0);
		if (tl_driver_option_find(ops, "treadmill", "profile"))
			assert_int_equal(tl_driver_opts_set(ops, &b, "treadmill", "profile",
							    "/nonexistent.profile", why, sizeof why), 0);
		assert_int_equal(tl_driver_opts_check(ops, &b, why, sizeof why), 0);
		struct tl_treadmill tm = {.ops = ops};
		assert_int_equal(ops->open(&tm, &b), -1);
		assert_null(tm.priv);
		assert_true(strlen(tm.err) > 0);
		tried++;
	}
	assert_true(tried >= 2);
}

/* The drivers' own rules between keys, through their validate hooks. */
static void validate_hooks_say_what_is_missing(void **state)
{
	(void)state;
	struct tl_driver_optbuf b;
	char why[300];
	tl_driver_opts_defaults(&tl_modbus_treadmill_ops, &b);
	assert_int_equal(tl_driver_opts_check(&tl_modbus_treadmill_ops, &b, why, sizeof why), -1);
	assert_string_equal(why, "needs 'profile' (a register map in config/devices/)");
	assert_int_equal(tl_driver_opts_set(&tl_modbus_treadmill_ops, &b, "treadmill", "profile", "p",
					    why, sizeof why), 0);
	assert_int_equal(tl_driver_opts_check(&tl_modbus_treadmill_ops, &b, why, sizeof why), -1);
	assert_string_equal(why, "needs 'device' (or 'tcp')");
	assert_int_equal(tl_driver_opts_set(&tl_modbus_treadmill_ops, &b, "treadmill", "tcp",
					    "127.0.0.1:1502", why, sizeof why), 0);
	assert_int_equal(tl_driver_opts_check(&tl_modbus_treadmill_ops, &b, why, sizeof why), 0);
	tl_driver_opts_defaults(&tl_trackmaster_treadmill_ops, &b);
	assert_int_equal(tl_driver_opts_check(&tl_trackmaster_treadmill_ops, &b, why, sizeof why), -1);
	assert_string_equal(why, "needs 'device'");
	tl_driver_opts_defaults(&tl_sim_treadmill_ops, &b);
	assert_int_equal(tl_driver_opts_check(&tl_sim_treadmill_ops, &b, why, sizeof why), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(drivers_are_found_by_name),
		cmocka_unit_test(every_driver_fills_the_required_operations),
		cmocka_unit_test(every_option_table_is_well_formed),
		cmocka_unit_test(defaults_fill_the_drivers_struct),
		cmocka_unit_test(values_are_parsed_and_checked_by_the_table),
		cmocka_unit_test(a_key_the_driver_does_not_take_is_refused_with_what_it_takes),
		cmocka_unit_test(capabilities_are_flags),
		cmocka_unit_test(the_virtual_patient_follows_the_options),
		cmocka_unit_test(open_failures_leave_no_state),
		cmocka_unit_test(validate_hooks_say_what_is_missing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
