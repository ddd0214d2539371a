/* The "trackmaster" driver against treadsim's Trackmaster protocol on a pty: A0 only,
 * one command at a time, 0.5 % grade steps, BE, 999.9, restarts, the disconnect stop,
 * the adapter unplugged and plugged back, and the patient's button box on a second pty. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "buttons.h"
#include "child.h"
#include "driver_fixture.h"
#include "trackmaster.h"
#include "units.h"

static void up(enum sim_mode mode, const char *const *extra)
{
	assert_int_equal(sim_start(&fx.sim, mode, extra), 0);
	fx_driver(&tl_trackmaster_treadmill_ops);
	fx_opt("device", fx.sim.link);
	fx_opt("response_timeout_ms", "100");
	fx_opt("retries", "2");
	if (fx.tm.ops->open(&fx.tm, &fx.opts))
		fail_msg("open: %s", fx.tm.err);
	fx.open = true;
}

static bool at_speed(const struct tl_feedback *fb)
{
	return fb->valid && fb->speed_kmh > 3.0;
}

static const char *const fast[] = {"--time-scale", "20", NULL};

static void run_belt(void)
{
	double sent;
	assert_int_equal(fx.tm.ops->start(&fx.tm, hil_now_ms()), 0);
	assert_int_equal(fx.tm.ops->set_speed(&fx.tm, 3.3, hil_now_ms(), &sent), 0);
	assert_float_equal(sent, tl_mph_to_kmh(2.1), 1e-9); /* 3.3 km/h = 2.05 mph -> 2.1 */
	struct tl_feedback fb = poll_until(at_speed, 5000);
	if (!at_speed(&fb))
		fail_msg("belt did not reach speed: %.2f (%s)", fb.speed_kmh, fb.detail);
	assert_true(fb.belt_running);
	assert_int_equal(fb.faults, 0);
}

static void starts_with_a0_and_moves(void **state)
{
	(void)state;
	up(SIM_TM, fast);
	run_belt();
	double sent;
	assert_int_equal(fx.tm.ops->set_grade(&fx.tm, 2.3, hil_now_ms(), &sent), 0);
	assert_float_equal(sent, 2.5, 1e-9);
	assert_true(sim_wait_state(&fx.sim, "grade_pct=2.50", 5000));
	assert_int_equal(fx.tm.ops->stop(&fx.tm, hil_now_ms()), 0);
	assert_true(sim_wait_state(&fx.sim, "running=0", 2000));
	/* what went over the wire: A0, never A1; A4 0025 for 2.5 % */
	assert_int_equal(sim_log_count(&fx.sim, "rx trackmaster A0"), 1);
	assert_int_equal(sim_log_count(&fx.sim, "rx trackmaster A1"), 0);
	assert_int_equal(sim_log_count(&fx.sim, "rx trackmaster A4 30 30 32 35"), 1);
	assert_int_equal(sim_log_count(&fx.sim, "rx trackmaster A3 30 30 32 31"), 1);
}

static void out_of_range_grade_is_refused(void **state)
{
	(void)state;
	up(SIM_TM, NULL);
	double sent = -1;
	assert_int_equal(fx.tm.ops->set_grade(&fx.tm, 30.0, hil_now_ms(), &sent), -1);
	assert_non_null(strstr(fx.tm.err, "BE"));
	assert_float_equal(sent, -1, 0);
}

static void speed_9999_is_the_treadmills_estop(void **state)
{
	(void)state;
	up(SIM_TM, fast);
	run_belt();
	char reply[100];
	assert_int_equal(sim_control(&fx.sim, "key-pulled", reply, sizeof reply), 0);
	struct tl_feedback fb = poll_until(stopped_by_device, 2000);
	assert_true(fb.device_stopped);
	assert_true(fb.faults & TL_FAULT_ESTOP);
	assert_non_null(strstr(fb.detail, "999.9"));
	assert_int_equal(fx.tm.ops->start(&fx.tm, hil_now_ms()), -1);
}

static void stop_while_driven_is_a_restart(void **state)
{
	(void)state;
	up(SIM_TM, fast);
	run_belt();
	char reply[100];
	assert_int_equal(sim_control(&fx.sim, "reboot", reply, sizeof reply), 0);
	struct tl_feedback fb = poll_until(stopped_by_device, 2000);
	assert_true(fb.device_stopped);
	assert_true(fb.faults & TL_FAULT_REBOOT);
}

static void ignored_start_is_a_restart(void **state)
{
	(void)state;
	up(SIM_TM, NULL);
	char reply[100];
	/* powered up a moment ago: homing the lift, it ignores starts */
	assert_int_equal(sim_control(&fx.sim, "reboot", reply, sizeof reply), 0);
	assert_int_equal(fx.tm.ops->start(&fx.tm, hil_now_ms()), -1);
	assert_non_null(strstr(fx.tm.err, "ignored the start"));
	struct tl_feedback fb;
	assert_int_equal(fx.tm.ops->poll(&fx.tm, hil_now_ms(), &fb), 0);
	assert_true(fb.device_stopped);
	assert_true(fb.faults & TL_FAULT_REBOOT);
	assert_true(sim_wait_state(&fx.sim, "running=0", 100));
}

static void no_reply_is_comm_fault(void **state)
{
	(void)state;
	up(SIM_TM, NULL);
	char reply[100];
	assert_int_equal(sim_control(&fx.sim, "no-reply", reply, sizeof reply), 0);
	struct tl_feedback fb;
	assert_int_equal(fx.tm.ops->poll(&fx.tm, hil_now_ms(), &fb), -1);
	assert_true(fb.faults & TL_FAULT_COMM);
	assert_non_null(strstr(fx.tm.err, "after 3 tries"));
	assert_int_equal(sim_control(&fx.sim, "clear", reply, sizeof reply), 0);
	assert_int_equal(fx.tm.ops->poll(&fx.tm, hil_now_ms(), &fb), 0);
}

static void corrupt_reply_is_retried_then_fault(void **state)
{
	(void)state;
	up(SIM_TM, NULL);
	char reply[100];
	assert_int_equal(sim_control(&fx.sim, "bad-crc", reply, sizeof reply), 0);
	struct tl_feedback fb;
	assert_int_equal(fx.tm.ops->poll(&fx.tm, hil_now_ms(), &fb), -1);
	assert_true(fb.faults & TL_FAULT_CRC);
	assert_non_null(strstr(fx.tm.err, "only corrupt replies"));
	assert_int_equal(sim_control(&fx.sim, "clear", reply, sizeof reply), 0);
	assert_int_equal(fx.tm.ops->poll(&fx.tm, hil_now_ms(), &fb), 0);
}

static void silent_host_trips_the_disconnect_stop(void **state)
{
	(void)state;
	up(SIM_TM, fast);
	run_belt();
	assert_true(sim_wait_state(&fx.sim, "watchdog_tripped=1", 3000));
	struct tl_feedback fb = poll_until(stopped_by_device, 1000);
	assert_true(fb.device_stopped);
	assert_true(fb.faults & TL_FAULT_WATCHDOG);
}

/* The adapter pulled out while the belt runs: the next command fails at once, with the
 * hang-up in words, instead of waiting out its timeouts and retries; nothing reaches the
 * treadmill any more, so its disconnect stop halts the belt. Plugged back (a new node
 * behind the same link), the driver reopened on it reads the treadmill again. */
static void unplugged_adapter_is_a_comm_fault_named_at_once(void **state)
{
	(void)state;
	up(SIM_TM, fast);
	run_belt();
	char reply[100];
	assert_int_equal(sim_control(&fx.sim, "unplug", reply, sizeof reply), 0);
	struct tl_feedback fb;
	long long t0 = hil_now_ms();
	assert_int_equal(fx.tm.ops->poll(&fx.tm, hil_now_ms(), &fb), -1);
	assert_true(hil_now_ms() - t0 < 100); /* one response timeout is 100 ms, 3 tries */
	assert_false(fb.valid);
	assert_true(fb.faults & TL_FAULT_COMM);
	assert_non_null(strstr(fb.detail, "the device hung up (unplugged?)"));
	double sent;
	assert_int_equal(fx.tm.ops->set_speed(&fx.tm, 2.0, hil_now_ms(), &sent), -1);
	assert_non_null(strstr(fx.tm.err, "the device hung up (unplugged?)"));
	assert_true(sim_wait_state(&fx.sim, "running=0", 2000));
	assert_true(sim_wait_state(&fx.sim, "watchdog_tripped=1", 100));
	assert_int_equal(sim_control(&fx.sim, "plug", reply, sizeof reply), 0);
	fx.tm.ops->close(&fx.tm);
	fx.open = false;
	if (fx.tm.ops->open(&fx.tm, &fx.opts))
		fail_msg("reopen: %s", fx.tm.err);
	fx.open = true;
	assert_int_equal(fx.tm.ops->poll(&fx.tm, hil_now_ms(), &fb), 0);
	assert_true(fb.valid);
	assert_false(fb.belt_running);
	assert_int_equal(sim_log_count(&fx.sim, "rx trackmaster A0"), 1); /* never restarted */
}

struct unplugger {
	int heard;          /* status requests treadsim had heard before */
	long long deadline;
};

/* Pulls the adapter out once treadsim has heard one more status request (whose reply
 * it holds back): the driver is then waiting for that reply. */
static void *unplug_while_awaited(void *arg)
{
	const struct unplugger *u = arg;
	while (sim_log_count(&fx.sim, "rx trackmaster C0") <= u->heard && hil_now_ms() < u->deadline)
		;
	char reply[100];
	sim_control(&fx.sim, "unplug", reply, sizeof reply);
	return NULL;
}

/* A hang-up met while waiting for a reply is the link failing, not a reply lost: it is
 * named as such, at once, even on the last try (here the only one). */
static void hang_up_while_awaiting_a_reply_is_named(void **state)
{
	(void)state;
	up(SIM_TM, NULL);
	fx.tm.ops->close(&fx.tm);
	fx_opt("retries", "0");
	fx_opt("response_timeout_ms", "2000");
	if (fx.tm.ops->open(&fx.tm, &fx.opts))
		fail_msg("reopen: %s", fx.tm.err);
	char reply[100];
	assert_int_equal(sim_control(&fx.sim, "late-reply=1000", reply, sizeof reply), 0);
	struct unplugger u = {.heard = sim_log_count(&fx.sim, "rx trackmaster C0"),
			      .deadline = hil_now_ms() + 5000};
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, unplug_while_awaited, &u), 0);
	struct tl_feedback fb;
	long long t0 = hil_now_ms();
	int rc = fx.tm.ops->poll(&fx.tm, hil_now_ms(), &fb);
	long long took = hil_now_ms() - t0;
	pthread_join(th, NULL);
	assert_int_equal(rc, -1);
	assert_non_null(strstr(fx.tm.err, "the device hung up (unplugged?)"));
	assert_null(strstr(fx.tm.err, "no reply"));
	assert_true(fb.faults & TL_FAULT_COMM);
	assert_true(took < 1000); /* neither the late reply (1000 ms) nor the timeout (2000) */
}

static void button_box_reports_patient_presses(void **state)
{
	(void)state;
	const char *const args[] = {"--time-scale", "10", "--patient-onset", "3",
				    "--patient-max", "8", NULL};
	up(SIM_TM_BOX, args);
	struct tl_serial_link link;
	assert_int_equal(tl_serial_open(&link, fx.sim.link2, 9600, TL_SERIAL_AUTO), 0);
	struct tl_button b;
	struct tl_button_config c;
	tl_button_config_default(&c);
	assert_int_equal(tl_button_box_open(&b, &link, &c, hil_now_ms()), 0);
	run_belt();
	struct tl_press got[4];
	int n = presses_while_polling(&b, got, 2, 5000);
	assert_int_equal(n, 2);
	assert_int_equal(got[0].kind, TL_PRESS_ONSET);
	assert_int_equal(got[1].kind, TL_PRESS_MAX);
	assert_string_equal(got[1].source, "button-box");
	tl_button_close(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(starts_with_a0_and_moves, teardown),
		cmocka_unit_test_teardown(out_of_range_grade_is_refused, teardown),
		cmocka_unit_test_teardown(speed_9999_is_the_treadmills_estop, teardown),
		cmocka_unit_test_teardown(stop_while_driven_is_a_restart, teardown),
		cmocka_unit_test_teardown(ignored_start_is_a_restart, teardown),
		cmocka_unit_test_teardown(no_reply_is_comm_fault, teardown),
		cmocka_unit_test_teardown(corrupt_reply_is_retried_then_fault, teardown),
		cmocka_unit_test_teardown(silent_host_trips_the_disconnect_stop, teardown),
		cmocka_unit_test_teardown(unplugged_adapter_is_a_comm_fault_named_at_once, teardown),
		cmocka_unit_test_teardown(hang_up_while_awaiting_a_reply_is_named, teardown),
		cmocka_unit_test_teardown(button_box_reports_patient_presses, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
