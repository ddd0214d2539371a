/* The engine between ticks: when the next protocol change is due, a step on the
 * schedule alone at that moment, and the checks a start makes of the treadmill's
 * reading. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "engine.h"
#include "protocol_files.h"

#define T0 1000000 /* the caller's clock at start */

static struct tl_protocol gardner;

static int setup(void **state)
{
	(void)state;
	struct tl_err err;
	return tl_protocol_load_name(TL_PROTOCOL_DIR, "gardner-skinner", NULL, &gardner, &err);
}

static struct tl_feedback reading(double kmh, double grade)
{
	return (struct tl_feedback){.valid = true, .speed_kmh = kmh, .grade_pct = grade,
				    .belt_running = kmh > 0};
}

static void start(struct tl_engine *e)
{
	struct tl_err err = {{0}};
	tl_engine_init(e, &tl_limits_default, NULL, T0);
	struct tl_feedback fb = reading(0, 0);
	assert_int_equal(tl_engine_start(e, T0, &gardner, &fb, "operator", &err), 0);
}

static void next_change_is_the_stage_boundary(void **state)
{
	(void)state;
	struct tl_engine e;
	start(&e);
	struct tl_feedback fb = reading(3.2, 0);
	tl_engine_tick(&e, T0 + 100, &fb);
	assert_int_equal(tl_engine_next_change_ms(&e), T0 + 120000);
	tl_engine_tick(&e, T0 + 119900, &fb);
	assert_int_equal(tl_engine_next_change_ms(&e), T0 + 120000);
	tl_engine_tick(&e, T0 + 120000, &fb);
	assert_int_equal(tl_engine_next_change_ms(&e), T0 + 240000);
}

static void no_change_due_when_not_walking(void **state)
{
	(void)state;
	struct tl_engine e;
	tl_engine_init(&e, &tl_limits_default, NULL, T0);
	assert_true(tl_engine_next_change_ms(&e) == INT64_MAX);
	start(&e);
	struct tl_err err;
	assert_int_equal(tl_engine_stop(&e, T0 + 5000, "test", "operator", &err), 0);
	assert_true(tl_engine_next_change_ms(&e) == INT64_MAX);
}

static void step_at_the_boundary_starts_the_new_stage(void **state)
{
	(void)state;
	struct tl_engine e;
	start(&e);
	struct tl_feedback fb = reading(3.218688, 0);
	for (int64_t t = 0; t <= 119900; t += 100)
		tl_engine_tick(&e, T0 + t, &fb);
	struct tl_motion before = tl_engine_step(&e, T0 + 119950);
	assert_true(before.grade_pct == 0.0);
	struct tl_motion m = tl_engine_step(&e, T0 + 120000);
	assert_int_equal(e.session.stage, 1);
	assert_true(m.belt_on);
	/* the grade starts toward 2 %, limited by the guard's grade rate */
	assert_true(m.grade_pct > 0.0 && m.grade_pct <= 0.5 * 0.05 + 1e-9);
	struct tl_event ev;
	bool saw_stage = false;
	while (tl_session_next_event(&e.session, &ev))
		if (ev.kind == TL_EV_STAGE && ev.value == 1) {
			assert_int_equal(ev.t_ms, 120000);
			saw_stage = true;
		}
	assert_true(saw_stage);
}

static void start_needs_a_reading(void **state)
{
	(void)state;
	struct tl_engine e;
	struct tl_err err = {{0}};
	tl_engine_init(&e, &tl_limits_default, NULL, T0);
	assert_int_equal(tl_engine_start(&e, T0, &gardner, NULL, "operator", &err), -1);
	assert_non_null(strstr(err.msg, "no reading"));
	assert_int_equal(e.session.state, TL_STATE_IDLE);
	assert_false(e.guard.armed);
}

static void start_refused_on_the_treadmills_own_stop_or_fault(void **state)
{
	(void)state;
	static const struct {
		const char *legend;
		uint32_t faults;
		bool device_stopped;
		const char *says;
	} rows[] = {
		{"watchdog tripped", TL_FAULT_WATCHDOG, false, "own stop"},
		{"safety key", TL_FAULT_SAFETY_KEY, false, "own stop"},
		{"latched device stop", 0, true, "own stop"},
		{"drive fault", TL_FAULT_DRIVE, false, "a fault"},
		{"no reply", TL_FAULT_COMM, false, "a fault"},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct tl_engine e;
		struct tl_err err = {{0}};
		tl_engine_init(&e, &tl_limits_default, NULL, T0);
		struct tl_feedback fb = reading(0, 0);
		fb.faults = rows[i].faults;
		fb.device_stopped = rows[i].device_stopped;
		assert_int_equal(tl_engine_start(&e, T0, &gardner, &fb, "operator", &err), -1);
		if (!strstr(err.msg, rows[i].says) || !strstr(err.msg, "reconnect"))
			fail_msg("%s: '%s'", rows[i].legend, err.msg);
		assert_false(e.guard.armed);
	}
}

static void driver_fault_keeps_the_first_alarm(void **state)
{
	(void)state;
	struct tl_engine e;
	start(&e);
	struct tl_feedback fb = reading(3.2, 0);
	tl_engine_tick(&e, T0 + 100, &fb);
	/* no reading for longer than the feedback timeout: stale */
	tl_engine_tick(&e, T0 + 100 + tl_limits_default.feedback_timeout_ms + 100, NULL);
	assert_int_equal(e.session.state, TL_STATE_FAULTED);
	assert_non_null(strstr(e.alarm_detail, "stale_feedback"));
	tl_engine_driver_fault(&e, T0 + 1300, "modbus: timed out");
	assert_non_null(strstr(e.alarm_detail, "stale_feedback"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(next_change_is_the_stage_boundary),
		cmocka_unit_test(no_change_due_when_not_walking),
		cmocka_unit_test(step_at_the_boundary_starts_the_new_stage),
		cmocka_unit_test(start_needs_a_reading),
		cmocka_unit_test(start_refused_on_the_treadmills_own_stop_or_fault),
		cmocka_unit_test(driver_fault_keeps_the_first_alarm),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
