/* The daemon's configuration reader (src/daemon/config.c, linked in) reads the driver's
 * keys through the chosen driver's option table: a key of another driver is refused
 * naming the driver and what it takes, `driver =` may come after the driver's keys, the
 * driver's own rules run in tl_config_validate, and the daemon's capability checks use
 * the drivers' flags. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "modbus_treadmill.h"
#include "sim.h"
#include "trackmaster.h"

static char path[64];

static int setup(void **state)
{
	(void)state;
	snprintf(path, sizeof path, "/tmp/tl-drvopts-XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

/* Loads text over the defaults: 0, or -1 with err holding "path:line: reason". */
static int load(struct tl_config *c, const char *text, struct tl_err *err)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	tl_config_defaults(c);
	memset(err, 0, sizeof *err);
	return tl_config_load(c, path, err);
}

/* err's message without the "path:" prefix. */
static const char *after_path(const struct tl_err *err)
{
	size_t n = strlen(path);
	assert_memory_equal(err->msg, path, n);
	return err->msg + n + 1;
}

static struct tl_config c;

static void the_default_driver_is_the_registrys_first(void **state)
{
	(void)state;
	tl_config_defaults(&c);
	assert_ptr_equal(c.drv, tl_treadmill_drivers[0]);
	assert_string_equal(c.driver, tl_treadmill_drivers[0]->name);
	const struct tl_sim_opts *s = (const void *)&c.drv_opts;
	assert_true(s->patient_onset_s < 0 && s->patient_max_s < 0);
}

static void a_key_of_another_driver_is_refused(void **state)
{
	(void)state;
	struct tl_err err;
	assert_int_equal(load(&c, "[treadmill]\ndriver = trackmaster\ndevice = /dev/ttyS0\nunit_id = 3\n",
			      &err), -1);
	assert_string_equal(after_path(&err), "4: [treadmill] unit_id: the trackmaster driver has no such "
					      "option (it takes: device, baud, response_timeout_ms, retries)");
	assert_int_equal(load(&c, "[sim]\ntime_scale = 2\n[treadmill]\ndriver = modbus\n"
				  "[sim]\npatient_max_s = 60\n", &err), -1);
	assert_string_equal(after_path(&err), "6: [sim] patient_max_s: the modbus driver has no such "
					      "option (it takes: [treadmill] device, [treadmill] baud, "
					      "[treadmill] framing, [treadmill] tcp, [treadmill] profile, "
					      "[treadmill] unit_id, [treadmill] watchdog_max_ms, "
					      "[treadmill] response_timeout_ms, [treadmill] retries)");
}

static void a_key_no_driver_takes_is_unknown(void **state)
{
	(void)state;
	struct tl_err err;
	assert_int_equal(load(&c, "[treadmill]\ndriver = modbus\nparity = E\n", &err), -1);
	assert_string_equal(after_path(&err), "3: [treadmill]: unknown key 'parity'");
	assert_int_equal(load(&c, "[sim]\npatient_age = 70\n", &err), -1);
	assert_string_equal(after_path(&err), "2: [sim]: unknown key 'patient_age'");
}

static void the_driver_may_come_after_its_keys(void **state)
{
	(void)state;
	struct tl_err err;
	int rc = load(&c, "[treadmill]\ndevice = /dev/ttyUSB0\nframing = 8N1\nprofile = p.profile\n"
			  "[daemon]\ntick_hz = 20\n[treadmill]\ndriver = modbus\n", &err);
	if (rc)
		fail_msg("%s", err.msg);
	assert_ptr_equal(c.drv, &tl_modbus_treadmill_ops);
	assert_string_equal(c.driver, "modbus");
	const struct tl_modbus_opts *m = (const void *)&c.drv_opts;
	assert_string_equal(m->device, "/dev/ttyUSB0");
	assert_string_equal(m->framing, "8N1");
	assert_string_equal(m->profile, "p.profile");
	assert_int_equal(m->baud, 19200); /* the table's default */
	assert_int_equal(m->retries, 2);
	assert_int_equal(tl_config_validate(&c, "x.conf", &err), 0);
	/* the line of a bad value is its own, not the driver's */
	assert_int_equal(load(&c, "[treadmill]\nretries = 11\ndriver = modbus\n", &err), -1);
	assert_string_equal(after_path(&err), "2: [treadmill] retries: 11 is out of range (0 to 10)");
	/* with an unknown driver, its line is the error */
	assert_int_equal(load(&c, "[treadmill]\ndevice = /dev/ttyS0\ndriver = magic\n", &err), -1);
	assert_string_equal(after_path(&err),
			    "3: [treadmill] driver: 'magic' is not one of sim, modbus, trackmaster");
	assert_int_equal(load(&c, "[treadmill]\ndriver =\nretries = 1\n", &err), -1);
	assert_string_equal(after_path(&err), "2: [treadmill] driver: '' is not one of sim, modbus, trackmaster");
}

static void the_drivers_rules_run_in_validate(void **state)
{
	(void)state;
	struct tl_err err;
	assert_int_equal(load(&c, "[treadmill]\ndriver = modbus\ndevice = /dev/ttyS0\n", &err), 0);
	assert_int_equal(tl_config_validate(&c, "x.conf", &err), -1);
	assert_string_equal(err.msg, "x.conf: [treadmill] driver = modbus needs 'profile' (a register "
				     "map in config/devices/)");
	assert_int_equal(load(&c, "[treadmill]\ndriver = trackmaster\n", &err), 0);
	assert_int_equal(tl_config_validate(&c, "x.conf", &err), -1);
	assert_string_equal(err.msg, "x.conf: [treadmill] driver = trackmaster needs 'device'");
}

static void capabilities_decide_time_scale_and_buttons(void **state)
{
	(void)state;
	struct tl_err err;
	const char *tm_scaled = "[treadmill]\ndriver = trackmaster\ndevice = /dev/ttyS0\n[sim]\ntime_scale = 5\n";
	assert_int_equal(load(&c, tm_scaled, &err), 0);
	assert_int_equal(tl_config_validate(&c, "x.conf", &err), -1);
	assert_non_null(strstr(err.msg, "only a simulated treadmill may run faster than real time"));
	assert_int_equal(load(&c, "[treadmill]\ndriver = trackmaster\ndevice = /dev/ttyS0\n"
				  "simulated = yes\n[sim]\ntime_scale = 5\n", &err), 0);
	assert_int_equal(tl_config_validate(&c, "x.conf", &err), 0);
	assert_int_equal(load(&c, "[sim]\ntime_scale = 5\npatient_onset_s = 30\n", &err), 0);
	assert_int_equal(tl_config_validate(&c, "x.conf", &err), 0);
	assert_true(((const struct tl_sim_opts *)(const void *)&c.drv_opts)->patient_onset_s == 30);
	assert_int_equal(load(&c, "[buttons]\nmodbus = true\n", &err), 0);
	assert_int_equal(tl_config_validate(&c, "x.conf", &err), -1);
	assert_string_equal(err.msg, "x.conf: [buttons] modbus = true needs a driver with a button "
				     "register (driver = modbus)");
	assert_int_equal(load(&c, "[buttons]\nmodbus = true\n[treadmill]\ndriver = modbus\n"
				  "profile = p\ntcp = 127.0.0.1:1502\n", &err), 0);
	assert_int_equal(tl_config_validate(&c, "x.conf", &err), 0);
}

/* Reading over a configuration that had another driver starts from the new one's
 * defaults; the same driver keeps what was read before. */
static void a_second_file_over_the_first(void **state)
{
	(void)state;
	struct tl_err err;
	assert_int_equal(load(&c, "[treadmill]\ndriver = modbus\nunit_id = 9\n", &err), 0);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("[treadmill]\nretries = 1\n", f);
	fclose(f);
	assert_int_equal(tl_config_load(&c, path, &err), 0);
	const struct tl_modbus_opts *m = (const void *)&c.drv_opts;
	assert_int_equal(m->unit_id, 9);
	assert_int_equal(m->retries, 1);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("[treadmill]\ndriver = trackmaster\n", f);
	fclose(f);
	assert_int_equal(tl_config_load(&c, path, &err), 0);
	const struct tl_trackmaster_opts *t = (const void *)&c.drv_opts;
	assert_int_equal(t->baud, 4800);
	assert_int_equal(t->retries, 2);
}

/* [cuff]: the source may come after its keys; a key of the other source is refused
 * naming it; the safety limits (src/core/cuff.h) are refused in validate; sites are
 * pressure sites, each once. */
static void the_cuff_section(void **state)
{
	(void)state;
	struct tl_err err;
	assert_int_equal(load(&c, "[cuff]\ntcp = 127.0.0.1:1502\nprofile = p\nsource = cuff-modbus\n",
			      &err), 0);
	assert_string_equal(c.cuff_source, "cuff-modbus");
	assert_ptr_equal(c.cuff_ops, tl_cuff_find("cuff-modbus"));
	assert_int_equal(tl_config_validate(&c, "x.conf", &err), 0);
	assert_int_equal(c.cuff_n_sites, 6);
	assert_string_equal(c.cuff_sites[1], "pt-right");
	/* no source: no cuff, and its keys are still known (a file may keep them) */
	assert_int_equal(load(&c, "[cuff]\nsource = none\n", &err), 0);
	assert_string_equal(c.cuff_source, "");
	assert_int_equal(load(&c, "[cuff]\nsource = cuff-text\ntcp = 127.0.0.1:1502\n", &err), -1);
	assert_string_equal(after_path(&err), "3: [cuff]: unknown key 'tcp' for this source");
	assert_int_equal(load(&c, "[cuff]\nsource = cuff-text\nvolume = 3\n", &err), -1);
	assert_string_equal(after_path(&err), "3: [cuff]: unknown key 'volume'");
	assert_int_equal(load(&c, "[cuff]\nsource = bellows\n", &err), -1);
	assert_string_equal(after_path(&err), "2: [cuff] source: 'bellows' is not none or one of "
					      "cuff-modbus, cuff-text");
	const char *base = "[cuff]\nsource = cuff-text\ndevice = /dev/ttyS0\n";
	char text[256];
	static const struct {
		const char *line, *why;
	} refused[] = {
		{"ceiling_mmhg = 301", "ceiling 301 mmHg is outside 15 to 300 mmHg"},
		{"deflate_mmhg_s = 6", "deflation rate 6 mmHg/s is outside 1 to 5 mmHg/s"},
		{"deflate_mmhg_s = 0.5", "deflation rate 0.5 mmHg/s is outside 1 to 5 mmHg/s"},
		{"max_above_venous_ms = 180001", "time above venous pressure 180001 ms is outside"},
	};
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		snprintf(text, sizeof text, "%s%s\n", base, refused[i].line);
		assert_int_equal(load(&c, text, &err), 0);
		assert_int_equal(tl_config_validate(&c, "x.conf", &err), -1);
		if (!strstr(err.msg, refused[i].why))
			fail_msg("%s: '%s' does not say '%s'", refused[i].line, err.msg, refused[i].why);
	}
	/* with no source too */
	assert_int_equal(load(&c, "[cuff]\nsource = none\nceiling_mmhg = 320\n", &err), 0);
	assert_int_equal(tl_config_validate(&c, "x.conf", &err), -1);
	assert_non_null(strstr(err.msg, "ceiling 320 mmHg is outside 15 to 300 mmHg"));
	snprintf(text, sizeof text, "%ssample_ms = 300\nmax_gap_ms = 500\n", base);
	assert_int_equal(load(&c, text, &err), 0);
	assert_int_equal(tl_config_validate(&c, "x.conf", &err), -1);
	assert_string_equal(err.msg, "x.conf: [cuff] max_gap_ms 500 is less than two samples "
				     "(sample_ms 300)");
	snprintf(text, sizeof text, "%ssites = pt-left, brachial-left\n", base);
	assert_int_equal(load(&c, text, &err), 0);
	assert_int_equal(c.cuff_n_sites, 2);
	assert_string_equal(c.cuff_sites[1], "brachial-left");
	snprintf(text, sizeof text, "%ssites = pt-left,ankle\n", base);
	assert_int_equal(load(&c, text, &err), -1);
	assert_non_null(strstr(after_path(&err), "4: [cuff] sites: 'ankle' is not one of"));
	snprintf(text, sizeof text, "%ssites = pt-left,pt-left\n", base);
	assert_int_equal(load(&c, text, &err), -1);
	assert_string_equal(after_path(&err), "4: [cuff] sites: 'pt-left' appears twice");
	/* the foot switch: its own byte on the box, a modem line of its own */
	assert_int_equal(load(&c, "[buttons]\nbox_foot = 7\nmodem_lines = CTS=onset,DCD=foot\n", &err), 0);
	assert_string_equal(c.box_foot, "7");
	assert_int_equal(load(&c, "[buttons]\nbox_foot = 77\n", &err), -1);
	assert_string_equal(after_path(&err), "2: [buttons] box_foot: one character, got '77'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_default_driver_is_the_registrys_first),
		cmocka_unit_test(a_key_of_another_driver_is_refused),
		cmocka_unit_test(a_key_no_driver_takes_is_unknown),
		cmocka_unit_test(the_driver_may_come_after_its_keys),
		cmocka_unit_test(the_drivers_rules_run_in_validate),
		cmocka_unit_test(capabilities_decide_time_scale_and_buttons),
		cmocka_unit_test(a_second_file_over_the_first),
		cmocka_unit_test(the_cuff_section),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
