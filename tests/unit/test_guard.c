/* test_guard.c - the safety guard: limits, rates, stale and deviating feedback, emergency
 * stop precedence and the rule that a stopped belt is never restarted without a new arm. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "guard.h"

#include "tl_assert.h"

static struct tl_feedback fbk(double speed, double grade, bool running)
{
	return (struct tl_feedback){.valid = true, .speed_kmh = speed, .grade_pct = grade,
				    .belt_running = running};
}

static const struct tl_target walk_3kmh = {.belt_on = true, .speed_kmh = 3.0, .grade_pct = 0.0};

/* Limits whose rates never bind, to look at one thing at a time. */
static struct tl_limits fast_limits(void)
{
	struct tl_limits lim = tl_limits_default;
	lim.max_accel_kmh_per_s = 1000.0;
	lim.max_grade_rate_pct_per_s = 1000.0;
	return lim;
}

static void arm_at_0(struct tl_guard *g, const struct tl_limits *lim)
{
	tl_guard_init(g, lim, 0);
	struct tl_feedback fb = fbk(0, 0, false);
	assert_int_equal(tl_guard_arm(g, 0, &fb), 0);
}

/* Armed, belt commanded toward 3 km/h and reported running from t = 100 ms. */
static void running_at_3kmh(struct tl_guard *g, const struct tl_limits *lim)
{
	arm_at_0(g, lim);
	struct tl_motion m = tl_guard_step(g, 100, &walk_3kmh);
	assert_true(m.belt_on);
	assert_true(m.speed_kmh > 0.0);
	struct tl_feedback fb = fbk(3.0, 0, true);
	assert_int_equal(tl_guard_feedback(g, 100, &fb), TL_GUARD_OK);
}

/* ---- limits and rates ---- */

static void clamps_to_max_speed_and_grade(void **state)
{
	(void)state;
	struct tl_limits lim = fast_limits();
	struct tl_guard g;
	arm_at_0(&g, &lim);
	struct tl_target t = {.belt_on = true, .speed_kmh = 30.0, .grade_pct = 40.0};
	struct tl_motion m = tl_guard_step(&g, 1000, &t);
	assert_true(m.belt_on);
	assert_exact(m.speed_kmh, lim.max_speed_kmh);
	assert_exact(m.grade_pct, lim.max_grade_pct);
	assert_true(g.clamped);
	m = tl_guard_step(&g, 60000, &t);
	assert_exact(m.speed_kmh, lim.max_speed_kmh);
	assert_exact(m.grade_pct, lim.max_grade_pct);
}

static void clamps_negative_grade_and_speed_to_zero(void **state)
{
	(void)state;
	struct tl_limits lim = fast_limits();
	struct tl_guard g;
	arm_at_0(&g, &lim);
	struct tl_target t = {.belt_on = true, .speed_kmh = -5.0, .grade_pct = -3.0};
	struct tl_motion m = tl_guard_step(&g, 1000, &t);
	assert_exact(m.speed_kmh, 0.0);
	assert_exact(m.grade_pct, 0.0);
	assert_true(g.clamped);
}

static void within_limits_not_clamped(void **state)
{
	(void)state;
	struct tl_limits lim = fast_limits();
	struct tl_guard g;
	arm_at_0(&g, &lim);
	struct tl_target t = {.belt_on = true, .speed_kmh = 5.0, .grade_pct = 12.0};
	struct tl_motion m = tl_guard_step(&g, 1000, &t);
	assert_exact(m.speed_kmh, 5.0);
	assert_exact(m.grade_pct, 12.0);
	assert_false(g.clamped);
}

/* A target that is not a number never reaches the driver as one, nor as a value outside
 * the limits. */
static void non_finite_target_stays_within_limits(void **state)
{
	(void)state;
	struct tl_limits lim = tl_limits_default;
	struct tl_guard g;
	arm_at_0(&g, &lim);
	struct tl_target t = {.belt_on = true, .speed_kmh = NAN, .grade_pct = NAN};
	for (int64_t ms = 100; ms <= 2000; ms += 100) {
		struct tl_motion m = tl_guard_step(&g, ms, &t);
		assert_true(m.speed_kmh >= 0.0 && m.speed_kmh <= lim.max_speed_kmh);
		assert_true(m.grade_pct >= 0.0 && m.grade_pct <= lim.max_grade_pct);
	}
}

static void acceleration_limited_per_tick(void **state)
{
	(void)state;
	struct tl_limits lim = tl_limits_default; /* 1.0 km/h per s */
	struct tl_guard g;
	arm_at_0(&g, &lim);
	struct tl_target t = {.belt_on = true, .speed_kmh = 10.0, .grade_pct = 0.0};
	double prev = 0.0;
	for (int64_t ms = 100; ms <= 12000; ms += 100) {
		struct tl_motion m = tl_guard_step(&g, ms, &t);
		double want = fmin(10.0, (double)ms / 1000.0);
		assert_near(m.speed_kmh, want, 1e-9);
		assert_true(m.speed_kmh - prev <= 0.1 + 1e-9);
		prev = m.speed_kmh;
	}
	/* and down again at the same rate */
	t.speed_kmh = 5.0;
	struct tl_motion m = tl_guard_step(&g, 12100, &t);
	assert_near(m.speed_kmh, 9.9, 1e-9);
}

static void acceleration_limit_scales_with_tick_length(void **state)
{
	(void)state;
	struct tl_limits lim = tl_limits_default;
	struct tl_guard g;
	arm_at_0(&g, &lim);
	struct tl_target t = {.belt_on = true, .speed_kmh = 10.0, .grade_pct = 0.0};
	assert_near(tl_guard_step(&g, 7, &t).speed_kmh, 0.007, 1e-12);
	assert_near(tl_guard_step(&g, 2007, &t).speed_kmh, 2.007, 1e-12);
}

static void grade_rate_limited_per_tick(void **state)
{
	(void)state;
	struct tl_limits lim = tl_limits_default; /* 0.5 % per s */
	struct tl_guard g;
	arm_at_0(&g, &lim);
	struct tl_target t = {.belt_on = true, .speed_kmh = 3.0, .grade_pct = 10.0};
	double prev = 0.0;
	for (int64_t ms = 100; ms <= 25000; ms += 100) {
		struct tl_motion m = tl_guard_step(&g, ms, &t);
		double want = fmin(10.0, 0.5 * (double)ms / 1000.0);
		assert_near(m.grade_pct, want, 1e-9);
		assert_true(m.grade_pct - prev <= 0.05 + 1e-9);
		prev = m.grade_pct;
	}
}

/* ---- feedback ---- */

static void stale_feedback_fault_stop(void **state)
{
	(void)state;
	struct tl_limits lim = tl_limits_default; /* 1000 ms */
	struct tl_guard g;
	running_at_3kmh(&g, &lim);
	assert_int_equal(tl_guard_feedback(&g, 1100, NULL), TL_GUARD_OK);
	assert_int_equal(tl_guard_feedback(&g, 1101, NULL), TL_GUARD_STALE);
	assert_int_equal(g.tripped, TL_GUARD_STALE);
	struct tl_motion m = tl_guard_step(&g, 1101, &walk_3kmh);
	assert_false(m.belt_on);
	assert_exact(m.speed_kmh, 0.0);
}

static void invalid_feedback_counts_as_missing(void **state)
{
	(void)state;
	struct tl_limits lim = tl_limits_default;
	struct tl_guard g;
	running_at_3kmh(&g, &lim);
	struct tl_feedback bad = {.valid = false};
	assert_int_equal(tl_guard_feedback(&g, 600, &bad), TL_GUARD_OK);
	assert_int_equal(tl_guard_feedback(&g, 1100, &bad), TL_GUARD_OK);
	assert_int_equal(tl_guard_feedback(&g, 1101, &bad), TL_GUARD_STALE);
	assert_false(tl_guard_step(&g, 1101, &walk_3kmh).belt_on);
}

static void speed_deviation_trips_after_timeout_not_before(void **state)
{
	(void)state;
	struct tl_limits lim = fast_limits(); /* 1.0 km/h for 5000 ms */
	struct tl_guard g;
	running_at_3kmh(&g, &lim);
	struct tl_feedback slow = fbk(1.9, 0, true); /* 1.1 km/h below the command */
	for (int64_t ms = 200; ms <= 5200; ms += 500)
		assert_int_equal(tl_guard_feedback(&g, ms, &slow), TL_GUARD_OK);
	assert_int_equal(tl_guard_feedback(&g, 5200, &slow), TL_GUARD_OK);
	assert_int_equal(tl_guard_feedback(&g, 5201, &slow), TL_GUARD_SPEED_DEVIATION);
	assert_false(tl_guard_step(&g, 5201, &walk_3kmh).belt_on);
}

static void speed_within_tolerance_never_trips(void **state)
{
	(void)state;
	struct tl_limits lim = fast_limits();
	struct tl_guard g;
	running_at_3kmh(&g, &lim);
	struct tl_feedback near = fbk(2.0, 0, true); /* exactly at the tolerance */
	for (int64_t ms = 200; ms <= 60000; ms += 500)
		assert_int_equal(tl_guard_feedback(&g, ms, &near), TL_GUARD_OK);
}

static void speed_deviation_timer_resets_when_back_in_tolerance(void **state)
{
	(void)state;
	struct tl_limits lim = fast_limits();
	struct tl_guard g;
	running_at_3kmh(&g, &lim);
	struct tl_feedback slow = fbk(1.5, 0, true), ok = fbk(3.0, 0, true);
	for (int64_t ms = 200; ms <= 4200; ms += 500)
		assert_int_equal(tl_guard_feedback(&g, ms, &slow), TL_GUARD_OK);
	assert_int_equal(tl_guard_feedback(&g, 4500, &ok), TL_GUARD_OK);
	for (int64_t ms = 5000; ms <= 10000; ms += 500)
		assert_int_equal(tl_guard_feedback(&g, ms, &slow), TL_GUARD_OK);
	assert_int_equal(tl_guard_feedback(&g, 10001, &slow), TL_GUARD_SPEED_DEVIATION);
}

static void grade_deviation_trips_after_timeout_not_before(void **state)
{
	(void)state;
	struct tl_limits lim = fast_limits(); /* 2 % for 5000 ms */
	struct tl_guard g;
	arm_at_0(&g, &lim);
	struct tl_target t = {.belt_on = true, .speed_kmh = 3.0, .grade_pct = 10.0};
	struct tl_motion m = tl_guard_step(&g, 100, &t);
	assert_exact(m.grade_pct, 10.0);
	struct tl_feedback low = fbk(3.0, 7.9, true);
	for (int64_t ms = 100; ms <= 5100; ms += 500)
		assert_int_equal(tl_guard_feedback(&g, ms, &low), TL_GUARD_OK);
	assert_int_equal(tl_guard_feedback(&g, 5100, &low), TL_GUARD_OK);
	assert_int_equal(tl_guard_feedback(&g, 5101, &low), TL_GUARD_GRADE_DEVIATION);
	assert_false(tl_guard_step(&g, 5101, &t).belt_on);
}

static void device_stopping_the_belt_itself_is_a_device_stop(void **state)
{
	(void)state;
	struct tl_limits lim = tl_limits_default;
	struct tl_guard g;
	running_at_3kmh(&g, &lim);
	struct tl_feedback stopped = fbk(2.5, 0, false);
	assert_int_equal(tl_guard_feedback(&g, 200, &stopped), TL_GUARD_DEVICE_STOPPED);
}

static void safety_key_is_a_device_stop_and_comm_a_fault(void **state)
{
	(void)state;
	struct tl_limits lim = tl_limits_default;
	struct tl_guard g;
	running_at_3kmh(&g, &lim);
	struct tl_feedback key = fbk(3.0, 0, true);
	key.faults = TL_FAULT_SAFETY_KEY;
	assert_int_equal(tl_guard_feedback(&g, 200, &key), TL_GUARD_DEVICE_STOPPED);

	running_at_3kmh(&g, &lim);
	struct tl_feedback comm = {.valid = false, .faults = TL_FAULT_COMM};
	assert_int_equal(tl_guard_feedback(&g, 200, &comm), TL_GUARD_DEVICE_FAULT);
	assert_false(tl_guard_step(&g, 200, &walk_3kmh).belt_on);
}

static void never_restarts(struct tl_guard *g, int64_t from);

/* The Modbus driver reports a drive trip as the device having stopped the belt (so it is
 * never restarted); the guard still records it as a fault, unless the device's own stop
 * (key, e-stop, restart, watchdog) came with it. */
static void drive_trip_is_a_fault_though_the_device_stopped(void **state)
{
	(void)state;
	struct tl_limits lim = tl_limits_default;
	struct tl_guard g;
	running_at_3kmh(&g, &lim);
	struct tl_feedback trip = fbk(2.5, 0, false);
	trip.device_stopped = true;
	trip.faults = TL_FAULT_DRIVE;
	assert_int_equal(tl_guard_feedback(&g, 200, &trip), TL_GUARD_DEVICE_FAULT);
	never_restarts(&g, 300);

	running_at_3kmh(&g, &lim);
	trip.faults = TL_FAULT_DRIVE | TL_FAULT_SAFETY_KEY;
	assert_int_equal(tl_guard_feedback(&g, 200, &trip), TL_GUARD_DEVICE_STOPPED);
}

/* The first start tolerates a device that reports "running" a poll later; so must the
 * restart after a rest stage (two-stage test), or the incline walk ends as a device stop. */
static void restart_after_rest_tolerates_start_latency(void **state)
{
	(void)state;
	struct tl_limits lim = tl_limits_default;
	struct tl_guard g;
	arm_at_0(&g, &lim);
	tl_guard_step(&g, 100, &walk_3kmh);
	struct tl_feedback not_yet = fbk(0, 0, false);
	assert_int_equal(tl_guard_feedback(&g, 200, &not_yet), TL_GUARD_OK); /* first start */
	struct tl_feedback fb = fbk(0.2, 0, true);
	assert_int_equal(tl_guard_feedback(&g, 300, &fb), TL_GUARD_OK);
	for (int64_t ms = 300; ms <= 600000; ms += 100) {
		tl_guard_step(&g, ms, &walk_3kmh);
		fb = fbk(fmin(3.0, (double)ms / 1000.0), 0, true);
		assert_int_equal(tl_guard_feedback(&g, ms, &fb), TL_GUARD_OK);
	}
	struct tl_target rest = {.belt_on = false, .speed_kmh = 0, .grade_pct = 0};
	for (int64_t ms = 600100; ms < 1200000; ms += 100) {
		assert_false(tl_guard_step(&g, ms, &rest).belt_on);
		fb = fbk(fmax(0.0, 3.0 - (double)(ms - 600000) / 1000.0), 0, false);
		assert_int_equal(tl_guard_feedback(&g, ms, &fb), TL_GUARD_OK);
	}
	assert_true(tl_guard_step(&g, 1200000, &walk_3kmh).belt_on);
	assert_int_equal(tl_guard_feedback(&g, 1200100, &not_yet), TL_GUARD_OK);
}

/* ---- stops ---- */

static void estop_goes_out_at_once_and_stays_latched(void **state)
{
	(void)state;
	struct tl_limits lim = tl_limits_default;
	struct tl_guard g;
	running_at_3kmh(&g, &lim);
	struct tl_motion m = tl_guard_estop(&g, 150);
	assert_true(m.estop);
	assert_false(m.belt_on);
	assert_exact(m.speed_kmh, 0.0);
	for (int64_t ms = 200; ms <= 600000; ms += 100) {
		m = tl_guard_step(&g, ms, &walk_3kmh);
		assert_true(m.estop);
		assert_false(m.belt_on);
		assert_exact(m.speed_kmh, 0.0);
		struct tl_feedback fb = fbk(0, 0, false);
		tl_guard_feedback(&g, ms, &fb);
	}
}

static void estop_wins_over_arm_less_states(void **state)
{
	(void)state;
	struct tl_limits lim = tl_limits_default;
	struct tl_guard g;
	tl_guard_init(&g, &lim, 0);
	struct tl_motion m = tl_guard_estop(&g, 10);
	assert_true(m.estop);
	assert_true(tl_guard_step(&g, 20, &walk_3kmh).estop);
}

/* Runs 10 minutes of ticks asking to walk, with clean feedback, and checks the belt is
 * never commanded on. */
static void never_restarts(struct tl_guard *g, int64_t from)
{
	for (int64_t ms = from; ms <= from + 600000; ms += 100) {
		struct tl_feedback fb = fbk(0, 0, false);
		tl_guard_feedback(g, ms, &fb);
		struct tl_motion m = tl_guard_step(g, ms, &walk_3kmh);
		assert_false(m.belt_on);
		assert_exact(m.speed_kmh, 0.0);
	}
}

static void no_restart_after_device_stop_until_arm(void **state)
{
	(void)state;
	struct tl_limits lim = tl_limits_default;
	struct tl_guard g;
	running_at_3kmh(&g, &lim);
	struct tl_feedback dev = fbk(3.0, 0, false);
	dev.device_stopped = true;
	assert_int_equal(tl_guard_feedback(&g, 200, &dev), TL_GUARD_DEVICE_STOPPED);
	never_restarts(&g, 300);
	struct tl_feedback clear = fbk(0, 0, false);
	assert_int_equal(tl_guard_arm(&g, 700000, &clear), 0);
	assert_true(tl_guard_step(&g, 700100, &walk_3kmh).belt_on);
}

static void no_restart_after_stop_until_arm(void **state)
{
	(void)state;
	struct tl_limits lim = tl_limits_default;
	struct tl_guard g;
	running_at_3kmh(&g, &lim);
	tl_guard_disarm(&g, 200);
	never_restarts(&g, 300);
	struct tl_feedback clear = fbk(0, 0, false);
	assert_int_equal(tl_guard_arm(&g, 700000, &clear), 0);
	assert_true(tl_guard_step(&g, 700100, &walk_3kmh).belt_on);
}

static void no_restart_after_estop_until_arm(void **state)
{
	(void)state;
	struct tl_limits lim = tl_limits_default;
	struct tl_guard g;
	running_at_3kmh(&g, &lim);
	tl_guard_estop(&g, 200);
	never_restarts(&g, 300);
	struct tl_feedback clear = fbk(0, 0, false);
	assert_int_equal(tl_guard_arm(&g, 700000, &clear), 0);
	struct tl_motion m = tl_guard_step(&g, 700100, &walk_3kmh);
	assert_true(m.belt_on);
	assert_false(m.estop);
}

static void no_restart_after_fault_until_arm(void **state)
{
	(void)state;
	struct tl_limits lim = tl_limits_default;
	struct tl_guard g;
	running_at_3kmh(&g, &lim);
	assert_int_equal(tl_guard_feedback(&g, 5000, NULL), TL_GUARD_STALE);
	never_restarts(&g, 5100);
}

static void arm_refused_while_device_reports_its_stop(void **state)
{
	(void)state;
	struct tl_limits lim = tl_limits_default;
	struct tl_guard g;
	running_at_3kmh(&g, &lim);
	struct tl_feedback dev = fbk(0, 0, false);
	dev.device_stopped = true;
	assert_int_equal(tl_guard_feedback(&g, 200, &dev), TL_GUARD_DEVICE_STOPPED);
	assert_int_equal(tl_guard_arm(&g, 300, &dev), -1);
	assert_false(g.armed);
	assert_false(tl_guard_step(&g, 400, &walk_3kmh).belt_on);
}

static void belt_still_moving_after_stop_escalates(void **state)
{
	(void)state;
	struct tl_limits lim = tl_limits_default; /* 20 000 ms */
	struct tl_guard g;
	running_at_3kmh(&g, &lim);
	tl_guard_disarm(&g, 1000);
	struct tl_feedback moving = fbk(3.0, 0, true);
	assert_int_equal(tl_guard_feedback(&g, 11000, &moving), TL_GUARD_OK);
	assert_int_equal(tl_guard_feedback(&g, 21000, &moving), TL_GUARD_OK);
	assert_int_equal(tl_guard_feedback(&g, 21001, &moving), TL_GUARD_NOT_STOPPING);
	struct tl_motion m = tl_guard_step(&g, 21001, &walk_3kmh);
	assert_true(m.estop);
	assert_false(m.belt_on);
}

static void belt_stopping_in_time_does_not_escalate(void **state)
{
	(void)state;
	struct tl_limits lim = tl_limits_default;
	struct tl_guard g;
	running_at_3kmh(&g, &lim);
	tl_guard_disarm(&g, 1000);
	for (int64_t ms = 1100; ms <= 60000; ms += 100) {
		struct tl_feedback fb = fbk(fmax(0.0, 3.0 - (double)(ms - 1000) / 1000.0), 0, false);
		assert_int_equal(tl_guard_feedback(&g, ms, &fb), TL_GUARD_OK);
	}
	assert_false(g.estopped);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(clamps_to_max_speed_and_grade),
		cmocka_unit_test(clamps_negative_grade_and_speed_to_zero),
		cmocka_unit_test(within_limits_not_clamped),
		cmocka_unit_test(non_finite_target_stays_within_limits),
		cmocka_unit_test(acceleration_limited_per_tick),
		cmocka_unit_test(acceleration_limit_scales_with_tick_length),
		cmocka_unit_test(grade_rate_limited_per_tick),
		cmocka_unit_test(stale_feedback_fault_stop),
		cmocka_unit_test(invalid_feedback_counts_as_missing),
		cmocka_unit_test(speed_deviation_trips_after_timeout_not_before),
		cmocka_unit_test(speed_within_tolerance_never_trips),
		cmocka_unit_test(speed_deviation_timer_resets_when_back_in_tolerance),
		cmocka_unit_test(grade_deviation_trips_after_timeout_not_before),
		cmocka_unit_test(device_stopping_the_belt_itself_is_a_device_stop),
		cmocka_unit_test(safety_key_is_a_device_stop_and_comm_a_fault),
		cmocka_unit_test(drive_trip_is_a_fault_though_the_device_stopped),
		cmocka_unit_test(restart_after_rest_tolerates_start_latency),
		cmocka_unit_test(estop_goes_out_at_once_and_stays_latched),
		cmocka_unit_test(estop_wins_over_arm_less_states),
		cmocka_unit_test(no_restart_after_device_stop_until_arm),
		cmocka_unit_test(no_restart_after_stop_until_arm),
		cmocka_unit_test(no_restart_after_estop_until_arm),
		cmocka_unit_test(no_restart_after_fault_until_arm),
		cmocka_unit_test(arm_refused_while_device_reports_its_stop),
		cmocka_unit_test(belt_still_moving_after_stop_escalates),
		cmocka_unit_test(belt_stopping_in_time_does_not_escalate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
