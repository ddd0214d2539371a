/* The "modbus" driver against treadsim over a pty (RTU) and loopback TCP: open checks,
 * motion, bounded retries and faults, restart detection, the Modbus patient button. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <modbus.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buttons.h"
#include "child.h"
#include "driver_fixture.h"
#include "modbus_treadmill.h"

#define PROFILE TL_DEVICES_DIR "/treadsim.profile"

static void opts_for(enum sim_mode mode)
{
	fx_driver(&tl_modbus_treadmill_ops);
	if (mode == SIM_RTU)
		fx_opt("device", fx.sim.link);
	if (mode == SIM_TCP)
		fx_opt("tcp", fx.sim.tcp_addr);
	fx_opt("baud", "19200");
	fx_opt("profile", PROFILE);
	fx_opt("unit_id", "1");
	fx_opt("watchdog_max_ms", "2000");
	fx_opt("response_timeout_ms", "100");
	fx_opt("retries", "2");
}

/* Starts treadsim and opens the driver on it. */
static void up(enum sim_mode mode, const char *const *extra)
{
	assert_int_equal(sim_start(&fx.sim, mode, extra), 0);
	opts_for(mode);
	int rc = fx.tm.ops->open(&fx.tm, &fx.opts);
	if (rc)
		fail_msg("open: %s", fx.tm.err);
	fx.open = true;
}

static bool at_speed(const struct tl_feedback *fb)
{
	return fb->valid && fb->speed_kmh > 2.99;
}

static void run_belt(void)
{
	double sent;
	assert_int_equal(fx.tm.ops->start(&fx.tm, hil_now_ms()), 0);
	assert_int_equal(fx.tm.ops->set_speed(&fx.tm, 3.0, hil_now_ms(), &sent), 0);
	assert_float_equal(sent, 3.0, 1e-9);
	struct tl_feedback fb = poll_until(at_speed, 5000);
	if (!at_speed(&fb))
		fail_msg("belt did not reach 3 km/h: %.2f (%s)", fb.speed_kmh, fb.detail);
	assert_true(fb.belt_running);
	assert_int_equal(fb.faults, 0);
}

static const char *const fast[] = {"--time-scale", "20", NULL};

static void moves_belt_and_lift(enum sim_mode mode)
{
	up(mode, fast);
	run_belt();
	double sent;
	assert_int_equal(fx.tm.ops->set_grade(&fx.tm, 2.34, hil_now_ms(), &sent), 0);
	assert_float_equal(sent, 2.3, 1e-9);
	char reply[400];
	assert_true(sim_wait_state(&fx.sim, "grade_pct=2.30", 5000));
	assert_int_equal(fx.tm.ops->stop(&fx.tm, hil_now_ms()), 0);
	assert_true(sim_wait_state(&fx.sim, "running=0", 5000));
	assert_int_equal(sim_control(&fx.sim, "state", reply, sizeof reply), 0);
	assert_int_equal(tl_modbus_treadmill_watchdog_ms(&fx.tm), 1000);
}

static void rtu_moves_belt_and_lift(void **state)
{
	(void)state;
	moves_belt_and_lift(SIM_RTU);
}

static void tcp_moves_belt_and_lift(void **state)
{
	(void)state;
	moves_belt_and_lift(SIM_TCP);
}

/* treadsim's `estop-reset` (the console's reset, which bench_estop.mjs --rtu uses): the
 * device ignores starts after an emergency stop until it; refused while the belt moves. */
static void estop_reset_releases_the_latch_at_rest(void **state)
{
	(void)state;
	up(SIM_RTU, NULL); /* real time: the belt takes 750 ms to stop */
	run_belt();
	assert_int_equal(fx.tm.ops->emergency_stop(&fx.tm, hil_now_ms()), 0);
	char reply[400];
	assert_int_equal(sim_control(&fx.sim, "estop-reset", reply, sizeof reply), -1);
	assert_non_null(strstr(reply, "the belt is still moving"));
	assert_true(sim_wait_state(&fx.sim, "running=0 speed_kmh=0.000", 5000));
	assert_int_equal(fx.tm.ops->start(&fx.tm, hil_now_ms()), 0);
	assert_int_equal(sim_control(&fx.sim, "state", reply, sizeof reply), 0);
	assert_non_null(strstr(reply, "running=0")); /* latched: the start was ignored */
	assert_int_equal(sim_control(&fx.sim, "estop-reset", reply, sizeof reply), 0);
	assert_string_equal(reply, "ok estop-reset");
	assert_int_equal(fx.tm.ops->start(&fx.tm, hil_now_ms()), 0);
	assert_true(sim_wait_state(&fx.sim, "running=1", 2000));
}

static void refuses_device_with_watchdog_off(void **state)
{
	(void)state;
	const char *const args[] = {"--watchdog-ms", "0", NULL};
	assert_int_equal(sim_start(&fx.sim, SIM_RTU, args), 0);
	opts_for(SIM_RTU);
	assert_int_equal(fx.tm.ops->open(&fx.tm, &fx.opts), -1);
	assert_non_null(strstr(fx.tm.err, "watchdog is off"));
	assert_null(fx.tm.priv);
}

static void refuses_device_with_watchdog_too_long(void **state)
{
	(void)state;
	const char *const args[] = {"--watchdog-ms", "5000", NULL};
	assert_int_equal(sim_start(&fx.sim, SIM_TCP, args), 0);
	opts_for(SIM_TCP);
	assert_int_equal(fx.tm.ops->open(&fx.tm, &fx.opts), -1);
	assert_non_null(strstr(fx.tm.err, "5000 ms, longer than the configured bound of 2000"));
}

static void refuses_profile_with_unverified_facts(void **state)
{
	(void)state;
	assert_int_equal(sim_start(&fx.sim, SIM_TCP, NULL), 0);
	opts_for(SIM_TCP);
	fx_opt("profile", TL_DEVICES_DIR "/siemens-v20.profile");
	assert_int_equal(fx.tm.ops->open(&fx.tm, &fx.opts), -1);
	assert_non_null(strstr(fx.tm.err, "unverified"));
}

static void no_reply_is_comm_fault_after_bounded_retries(void **state)
{
	(void)state;
	up(SIM_RTU, NULL);
	char reply[100];
	assert_int_equal(sim_control(&fx.sim, "no-reply", reply, sizeof reply), 0);
	int lost_before = sim_log_count(&fx.sim, "rx-lost");
	struct tl_feedback fb;
	assert_int_equal(fx.tm.ops->poll(&fx.tm, hil_now_ms(), &fb), -1);
	assert_false(fb.valid);
	assert_true(fb.faults & TL_FAULT_COMM);
	assert_non_null(strstr(fx.tm.err, "after 3 tries"));
	/* exactly 1 + retries requests reached the wire */
	assert_int_equal(sim_log_count(&fx.sim, "rx-lost") - lost_before, 3);
	assert_int_equal(sim_control(&fx.sim, "clear", reply, sizeof reply), 0);
	assert_int_equal(fx.tm.ops->poll(&fx.tm, hil_now_ms(), &fb), 0);
	assert_true(fb.valid);
}

static void bad_crc_is_crc_fault(void **state)
{
	(void)state;
	up(SIM_RTU, NULL);
	char reply[100];
	assert_int_equal(sim_control(&fx.sim, "bad-crc", reply, sizeof reply), 0);
	struct tl_feedback fb;
	assert_int_equal(fx.tm.ops->poll(&fx.tm, hil_now_ms(), &fb), -1);
	assert_true(fb.faults & TL_FAULT_CRC);
	assert_int_equal(sim_control(&fx.sim, "clear", reply, sizeof reply), 0);
	assert_int_equal(fx.tm.ops->poll(&fx.tm, hil_now_ms(), &fb), 0);
}

static void late_reply_times_out_and_recovers(void **state)
{
	(void)state;
	const char *const args[] = {"--fault", "late-reply=250", NULL};
	assert_int_equal(sim_start(&fx.sim, SIM_RTU, args), 0);
	opts_for(SIM_RTU);
	fx_opt("retries", "0");
	assert_int_equal(fx.tm.ops->open(&fx.tm, &fx.opts), -1);
	assert_non_null(strstr(fx.tm.err, "timed out"));
	char reply[100];
	assert_int_equal(sim_control(&fx.sim, "clear", reply, sizeof reply), 0);
	/* wait until the late reply is on the line: the driver must not take it for the
	 * answer to its next question */
	long long deadline = hil_now_ms() + 3000;
	while (sim_log_count(&fx.sim, "tx modbus-rtu") < 1 && hil_now_ms() < deadline)
		;
	assert_int_equal(sim_log_count(&fx.sim, "tx modbus-rtu"), 1);
	if (fx.tm.ops->open(&fx.tm, &fx.opts))
		fail_msg("reopen: %s", fx.tm.err);
	fx.open = true;
	struct tl_feedback fb;
	assert_int_equal(fx.tm.ops->poll(&fx.tm, hil_now_ms(), &fb), 0);
	assert_true(fb.valid);
}

static void tcp_disconnect_is_comm_fault_then_reconnects(void **state)
{
	(void)state;
	up(SIM_TCP, NULL);
	char reply[100];
	assert_int_equal(sim_control(&fx.sim, "disconnect", reply, sizeof reply), 0);
	struct tl_feedback fb;
	assert_int_equal(fx.tm.ops->poll(&fx.tm, hil_now_ms(), &fb), -1);
	assert_true(fb.faults & TL_FAULT_COMM);
	assert_int_equal(sim_control(&fx.sim, "clear", reply, sizeof reply), 0);
	long long deadline = hil_now_ms() + 5000;
	int rc;
	while ((rc = fx.tm.ops->poll(&fx.tm, hil_now_ms(), &fb)) != 0 && hil_now_ms() < deadline)
		;
	assert_int_equal(rc, 0);
}

static void key_pulled_is_device_stop(void **state)
{
	(void)state;
	up(SIM_RTU, fast);
	run_belt();
	char reply[100];
	assert_int_equal(sim_control(&fx.sim, "key-pulled", reply, sizeof reply), 0);
	struct tl_feedback fb = poll_until(stopped_by_device, 3000);
	assert_true(fb.device_stopped);
	assert_true(fb.faults & TL_FAULT_SAFETY_KEY);
	assert_non_null(strstr(fb.detail, "safety key"));
	/* never restarted by the driver, and refused until reconnected */
	assert_int_equal(sim_control(&fx.sim, "clear", reply, sizeof reply), 0);
	assert_int_equal(fx.tm.ops->start(&fx.tm, hil_now_ms()), -1);
	assert_non_null(strstr(fx.tm.err, "stopped the belt by itself"));
	fb = poll_until(stopped_by_device, 100);
	assert_true(fb.device_stopped); /* latched until close */
	assert_true(sim_wait_state(&fx.sim, "running=0", 1000));
}

static void stop_on_the_console_is_a_device_stop(void **state)
{
	(void)state;
	up(SIM_TCP, fast);
	run_belt();
	char reply[100];
	assert_int_equal(sim_control(&fx.sim, "stop-button", reply, sizeof reply), 0);
	/* no fault bit at all: only "not running while we drive it", after the start grace */
	struct tl_feedback fb = poll_until(stopped_by_device, 3000);
	assert_true(fb.device_stopped);
	assert_non_null(strstr(fb.detail, "stop button"));
	assert_int_equal(fx.tm.ops->start(&fx.tm, hil_now_ms()), -1);
}

static void stalled_belt_and_stuck_lift_show_in_feedback(void **state)
{
	(void)state;
	up(SIM_RTU, fast);
	char reply[100];
	assert_int_equal(sim_control(&fx.sim, "belt-stall", reply, sizeof reply), 0);
	assert_int_equal(sim_control(&fx.sim, "lift-stuck", reply, sizeof reply), 0);
	double sent;
	assert_int_equal(fx.tm.ops->start(&fx.tm, hil_now_ms()), 0);
	assert_int_equal(fx.tm.ops->set_speed(&fx.tm, 3.0, hil_now_ms(), &sent), 0);
	assert_int_equal(fx.tm.ops->set_grade(&fx.tm, 5.0, hil_now_ms(), &sent), 0);
	/* the device says it runs; the measured speed and grade say otherwise: the feedback
	 * carries both so the safety guard can fault-stop on the deviation */
	struct tl_feedback fb = poll_until(at_speed, 600);
	assert_true(fb.valid);
	assert_true(fb.belt_running);
	assert_float_equal(fb.speed_kmh, 0.0, 1e-9);
	assert_float_equal(fb.grade_pct, 0.0, 1e-9);
	assert_false(fb.device_stopped);
}

static void drive_fault_reports_code(void **state)
{
	(void)state;
	up(SIM_TCP, fast);
	run_belt();
	char reply[100];
	assert_int_equal(sim_control(&fx.sim, "drive-fault=42", reply, sizeof reply), 0);
	struct tl_feedback fb = poll_until(stopped_by_device, 3000);
	assert_true(fb.device_stopped);
	assert_true(fb.faults & TL_FAULT_DRIVE);
	assert_int_equal(fb.fault_code, 42);
}

static void device_restart_is_detected(void **state)
{
	(void)state;
	up(SIM_RTU, fast);
	char reply[100];
	/* restarted while idle: still detected (boot counter) and latched */
	assert_int_equal(sim_control(&fx.sim, "reboot", reply, sizeof reply), 0);
	struct tl_feedback fb = poll_until(stopped_by_device, 2000);
	assert_true(fb.device_stopped);
	assert_true(fb.faults & TL_FAULT_REBOOT);
	assert_non_null(strstr(fb.detail, "restarted"));
	assert_int_equal(fx.tm.ops->start(&fx.tm, hil_now_ms()), -1);
}

static void watchdog_reverting_is_a_restart(void **state)
{
	(void)state;
	/* A profile without a boot counter: the watchdog read-back alone must catch a
	 * device whose configuration reverted (a factory reset, a power cycle). */
	char profile[] = "/tmp/treadsim-profile-XXXXXX";
	int fd = mkstemp(profile);
	assert_true(fd >= 0);
	FILE *in = fopen(PROFILE, "r"), *out = fdopen(fd, "w");
	char line[256];
	while (fgets(line, sizeof line, in))
		if (strncmp(line, "boot_count", 10))
			fputs(line, out);
	fclose(in);
	fclose(out);
	const char *const args[] = {"--profile", profile, NULL};
	assert_int_equal(sim_start(&fx.sim, SIM_TCP, args), 0);
	opts_for(SIM_TCP);
	fx_opt("profile", profile);
	assert_int_equal(fx.tm.ops->open(&fx.tm, &fx.opts), 0);
	fx.open = true;
	struct tl_feedback fb;
	assert_int_equal(fx.tm.ops->poll(&fx.tm, hil_now_ms(), &fb), 0);
	assert_false(fb.device_stopped);
	/* a second master (a service tool) turns the watchdog off behind our back */
	char port[16];
	snprintf(port, sizeof port, "%s", strrchr(fx.sim.tcp_addr, ':') + 1);
	modbus_t *other = modbus_new_tcp_pi("127.0.0.1", port);
	assert_non_null(other);
	assert_int_equal(modbus_connect(other), 0);
	assert_int_equal(modbus_write_register(other, 3, 0), 1);
	modbus_close(other);
	modbus_free(other);
	fb = poll_until(stopped_by_device, 2000);
	assert_true(fb.faults & TL_FAULT_REBOOT);
	unlink(profile);
}

/* Writes a copy of the treadsim profile without the line starting with `drop`. */
static void profile_without(char *path, const char *drop)
{
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *in = fopen(PROFILE, "r"), *out = fdopen(fd, "w");
	char line[256];
	while (fgets(line, sizeof line, in))
		if (strncmp(line, drop, strlen(drop)))
			fputs(line, out);
	fclose(in);
	fclose(out);
}

static void exception_is_refused_without_retry(void **state)
{
	(void)state;
	/* treadsim serves no fault_code register; the driver's profile has one: reading it
	 * gets an "illegal data address" exception, which asking again cannot change */
	char sim_profile[] = "/tmp/treadsim-profile-XXXXXX";
	profile_without(sim_profile, "fault_code");
	const char *const args[] = {"--profile", sim_profile, NULL};
	up(SIM_RTU, args);
	int before = sim_log_count(&fx.sim, "rx modbus-rtu");
	struct tl_feedback fb;
	assert_int_equal(fx.tm.ops->poll(&fx.tm, hil_now_ms(), &fb), -1);
	assert_true(fb.faults & TL_FAULT_REFUSED);
	assert_non_null(strstr(fx.tm.err, "Illegal data address"));
	assert_non_null(strstr(fx.tm.err, "after 1 try"));
	assert_int_equal(sim_log_count(&fx.sim, "rx modbus-rtu") - before, 1);
	unlink(sim_profile);
}

static void device_watchdog_stops_a_silent_host(void **state)
{
	(void)state;
	const char *const args[] = {"--time-scale", "20", "--watchdog-ms", "300", NULL};
	up(SIM_RTU, args);
	run_belt();
	/* the host goes silent: the device's own watchdog must stop the belt */
	assert_true(sim_wait_state(&fx.sim, "watchdog_tripped=1", 3000));
	struct tl_feedback fb = poll_until(stopped_by_device, 1000);
	assert_true(fb.device_stopped);
	assert_true(fb.faults & TL_FAULT_WATCHDOG);
}

static void keepalive_keeps_the_watchdog_fed(void **state)
{
	(void)state;
	const char *const args[] = {"--time-scale", "20", "--watchdog-ms", "300", NULL};
	up(SIM_RTU, args);
	run_belt();
	/* 1.5 s of keepalives only (no polls): the belt keeps running */
	long long end = hil_now_ms() + 1500;
	int sent_before = sim_log_count(&fx.sim, "rx modbus-rtu");
	while (hil_now_ms() < end)
		assert_int_equal(fx.tm.ops->keepalive(&fx.tm, hil_now_ms()), 0);
	int sent = sim_log_count(&fx.sim, "rx modbus-rtu") - sent_before;
	assert_true(sim_wait_state(&fx.sim, "watchdog_tripped=0", 100));
	assert_true(sim_wait_state(&fx.sim, "running=1", 100));
	/* fed about every watchdog/4 = 75 ms: ~20 requests, not a flood */
	assert_in_range(sent, 10, 40);
}

/* Within a tick the button register comes with the poll's own read; a button poll at
 * another time reads it on its own. */
static void modbus_button_shares_the_poll_read(void **state)
{
	(void)state;
	const char *const args[] = {"--time-scale", "10", NULL};
	up(SIM_RTU, args);
	struct tl_button b;
	struct tl_button_config c;
	tl_button_config_default(&c);
	assert_int_equal(tl_button_modbus_open(&b, &fx.tm, &c, hil_now_ms()), 0);
	struct tl_feedback fb;
	struct tl_press p[4];
	long long now = hil_now_ms();
	int before = sim_log_count(&fx.sim, "rx modbus-rtu");
	assert_int_equal(fx.tm.ops->poll(&fx.tm, now, &fb), 0);
	int poll_only = sim_log_count(&fx.sim, "rx modbus-rtu") - before;
	assert_int_equal(tl_button_poll(&b, now, p, 4), 0);
	assert_int_equal(sim_log_count(&fx.sim, "rx modbus-rtu") - before, poll_only);
	/* taken once: the same time again, or a later one, reads the register */
	assert_int_equal(tl_button_poll(&b, now, p, 4), 0);
	assert_int_equal(sim_log_count(&fx.sim, "rx modbus-rtu") - before, poll_only + 1);
	assert_int_equal(tl_button_poll(&b, now + 5, p, 4), 0);
	assert_int_equal(sim_log_count(&fx.sim, "rx modbus-rtu") - before, poll_only + 2);
	tl_button_close(&b);
}

static void modbus_button_reports_presses(void **state)
{
	(void)state;
	const char *const args[] = {"--time-scale", "10", "--patient-onset", "3",
				    "--patient-max", "8", NULL};
	up(SIM_TCP, args);
	struct tl_button b;
	struct tl_button_config c;
	tl_button_config_default(&c);
	assert_int_equal(tl_button_modbus_open(&b, &fx.tm, &c, hil_now_ms()), 0);
	long long t0 = hil_now_ms();
	run_belt();
	struct tl_press got[4];
	int n = presses_while_polling(&b, got, 2, 5000);
	assert_int_equal(n, 2);
	assert_int_equal(got[0].kind, TL_PRESS_ONSET);
	assert_int_equal(got[1].kind, TL_PRESS_MAX);
	assert_string_equal(got[0].source, "button-modbus");
	/* 3 s and 8 s of belt time at 10x: about 0.3 s and 0.8 s after the start */
	assert_true(got[0].t_ms - t0 >= 250);
	assert_true(got[1].t_ms - got[0].t_ms >= 400);
	tl_button_close(&b);
}

static void refuses_an_unknown_framing(void **state)
{
	(void)state;
	assert_int_equal(sim_start(&fx.sim, SIM_RTU, NULL), 0);
	opts_for(SIM_RTU);
	char why[300];
	/* the driver's option table refuses it before open() could see it */
	assert_int_equal(tl_driver_opts_set(fx.tm.ops, &fx.opts, "treadmill", "framing", "7E1", why,
					    sizeof why), -1);
	assert_non_null(strstr(why, "framing: '7E1' is not one of 8E1, 8O1, 8N2, 8N1"));
	fx_opt("framing", "8N2"); /* the standard's choice without parity opens */
	assert_int_equal(fx.tm.ops->open(&fx.tm, &fx.opts), 0);
	fx.open = true;
}

/* Modbus RTU: frames are separated by 3.5 characters of silence (11-bit characters,
 * 2.005 ms at 19200 baud). treadsim stamps a reply's log line when its last byte has
 * crossed the paced line and a request's when its first byte arrives, so every request
 * must come at least that long after the reply before it. A lower bound only: the
 * driver sleeps until the gap has passed, so a slow machine cannot make this fail. */
static void rtu_keeps_the_silent_interval(void **state)
{
	(void)state;
	const char *const args[] = {"--baud", "19200", NULL};
	up(SIM_RTU, args);
	struct tl_feedback fb;
	uint16_t raw;
	for (int i = 0; i < 20; i++) {
		assert_int_equal(fx.tm.ops->poll(&fx.tm, hil_now_ms(), &fb), 0);
		assert_int_equal(tl_modbus_treadmill_read_key(&fx.tm, TL_REG_BUTTON, &raw), 0);
	}
	FILE *f = fopen(fx.sim.log, "r");
	assert_non_null(f);
	char line[512];
	double last_tx = -1, min_gap = 1e9;
	int pairs = 0;
	while (fgets(line, sizeof line, f)) {
		double t = atof(line);
		if (strstr(line, " tx modbus-rtu ")) {
			last_tx = t;
		} else if (strstr(line, " rx modbus-rtu ") && last_tx >= 0) {
			double gap = (t - last_tx) * 1000;
			min_gap = gap < min_gap ? gap : min_gap;
			pairs++;
			last_tx = -1;
		}
	}
	fclose(f);
	assert_true(pairs >= 39);
	if (min_gap < 3.5 * 11 / 19.2)
		fail_msg("a request came %.3f ms after the reply before it (at least 2.005)", min_gap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(rtu_moves_belt_and_lift, teardown),
		cmocka_unit_test_teardown(modbus_button_shares_the_poll_read, teardown),
		cmocka_unit_test_teardown(tcp_moves_belt_and_lift, teardown),
		cmocka_unit_test_teardown(estop_reset_releases_the_latch_at_rest, teardown),
		cmocka_unit_test_teardown(refuses_device_with_watchdog_off, teardown),
		cmocka_unit_test_teardown(refuses_device_with_watchdog_too_long, teardown),
		cmocka_unit_test_teardown(refuses_profile_with_unverified_facts, teardown),
		cmocka_unit_test_teardown(no_reply_is_comm_fault_after_bounded_retries, teardown),
		cmocka_unit_test_teardown(bad_crc_is_crc_fault, teardown),
		cmocka_unit_test_teardown(late_reply_times_out_and_recovers, teardown),
		cmocka_unit_test_teardown(tcp_disconnect_is_comm_fault_then_reconnects, teardown),
		cmocka_unit_test_teardown(key_pulled_is_device_stop, teardown),
		cmocka_unit_test_teardown(stop_on_the_console_is_a_device_stop, teardown),
		cmocka_unit_test_teardown(stalled_belt_and_stuck_lift_show_in_feedback, teardown),
		cmocka_unit_test_teardown(drive_fault_reports_code, teardown),
		cmocka_unit_test_teardown(device_restart_is_detected, teardown),
		cmocka_unit_test_teardown(watchdog_reverting_is_a_restart, teardown),
		cmocka_unit_test_teardown(exception_is_refused_without_retry, teardown),
		cmocka_unit_test_teardown(device_watchdog_stops_a_silent_host, teardown),
		cmocka_unit_test_teardown(keepalive_keeps_the_watchdog_fed, teardown),
		cmocka_unit_test_teardown(modbus_button_reports_presses, teardown),
		cmocka_unit_test_teardown(rtu_keeps_the_silent_interval, teardown),
		cmocka_unit_test_teardown(refuses_an_unknown_framing, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
