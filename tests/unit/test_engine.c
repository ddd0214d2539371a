/* test_engine.c - the engine driving the simulated treadmill through the actuator in
 * virtual time, as the dry run and the daemon's control loop do.
 *
 * The simulated driver is wrapped in an ops table that counts the calls the engine makes,
 * so a test can show the belt is never started again after a stop. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "engine.h"
#include "motion.h"
#include "protocol_files.h"
#include "sim.h"

#include "tl_assert.h"

#define TICK_MS 100
#define MAX_EVENTS 1024

struct rig {
	struct tl_treadmill tm; /* first: the wrappers find the rig from it */
	int start_calls, stop_calls, estop_calls;
	int fail_stops, fail_estops; /* the next N such calls fail, as on a bus error */
	struct tl_engine engine;
	struct tl_actuator act;
	struct tl_protocol p;
	struct tl_motion last_motion;
	double model_icd_m, model_acd_m; /* the model's distance at the presses */
	int belt_on_ticks_after_stop;    /* motions asking to run after a stop was injected */
	bool stop_injected;
	struct tl_event ev[MAX_EVENTS];
	size_t n;
};

static struct rig *rig_of(struct tl_treadmill *tm)
{
	return (struct rig *)(void *)tm;
}

static int w_open(struct tl_treadmill *tm, const void *o)
{
	return tl_sim_treadmill_ops.open(tm, o);
}
static void w_close(struct tl_treadmill *tm)
{
	tl_sim_treadmill_ops.close(tm);
}
static int w_start(struct tl_treadmill *tm, int64_t now_ms)
{
	rig_of(tm)->start_calls++;
	return tl_sim_treadmill_ops.start(tm, now_ms);
}
static int w_stop(struct tl_treadmill *tm, int64_t now_ms)
{
	struct rig *r = rig_of(tm);
	r->stop_calls++;
	if (r->fail_stops > 0) {
		r->fail_stops--;
		snprintf(tm->err, sizeof tm->err, "injected: no reply to stop");
		return -1;
	}
	return tl_sim_treadmill_ops.stop(tm, now_ms);
}
static int w_estop(struct tl_treadmill *tm, int64_t now_ms)
{
	struct rig *r = rig_of(tm);
	r->estop_calls++;
	if (r->fail_estops > 0) {
		r->fail_estops--;
		snprintf(tm->err, sizeof tm->err, "injected: no reply to emergency stop");
		return -1;
	}
	return tl_sim_treadmill_ops.emergency_stop(tm, now_ms);
}
static int w_speed(struct tl_treadmill *tm, double kmh, int64_t now_ms, double *sent)
{
	return tl_sim_treadmill_ops.set_speed(tm, kmh, now_ms, sent);
}
static int w_grade(struct tl_treadmill *tm, double pct, int64_t now_ms, double *sent)
{
	return tl_sim_treadmill_ops.set_grade(tm, pct, now_ms, sent);
}
static int w_poll(struct tl_treadmill *tm, int64_t now_ms, struct tl_feedback *fb)
{
	return tl_sim_treadmill_ops.poll(tm, now_ms, fb);
}

static const struct tl_treadmill_ops counting_ops = {
	.name = "sim-counting",
	.open = w_open,
	.close = w_close,
	.start = w_start,
	.stop = w_stop,
	.emergency_stop = w_estop,
	.set_speed = w_speed,
	.set_grade = w_grade,
	.poll = w_poll,
	.keepalive = NULL,
};

static void drain(struct rig *r)
{
	struct tl_event e;
	while (tl_session_next_event(&r->engine.session, &e)) {
		assert_true(r->n < MAX_EVENTS);
		r->ev[r->n++] = e;
	}
	assert_int_equal(r->engine.session.dropped_events, 0);
}

/* One rig at a time, in static storage; the teardown closes its driver even after a
 * failed assertion. */
static struct rig the_rig;

static int rig_teardown(void **state)
{
	(void)state;
	if (the_rig.tm.ops && the_rig.tm.priv)
		the_rig.tm.ops->close(&the_rig.tm);
	memset(&the_rig, 0, sizeof the_rig);
	return 0;
}

static struct rig *rig_start(const char *name, double onset_s, double max_s)
{
	struct rig *r = &the_rig;
	memset(r, 0, sizeof *r);
	const struct tl_device_caps caps = {.max_speed_kmh = tl_belt_default_params.max_speed_kmh,
					    .max_grade_pct = tl_belt_default_params.max_grade_pct};
	struct tl_err err = {{0}};
	assert_int_equal(tl_protocol_load_name(TL_PROTOCOL_DIR, name, &caps, &r->p, &err), 0);
	struct tl_sim_opts opts = {.patient_onset_s = onset_s, .patient_max_s = max_s};
	r->tm.ops = &counting_ops;
	assert_int_equal(r->tm.ops->open(&r->tm, &opts), 0);
	tl_actuator_init(&r->act, &r->tm);
	struct tl_limits lim = tl_limits_default;
	lim.max_speed_kmh = caps.max_speed_kmh;
	lim.max_grade_pct = caps.max_grade_pct;
	tl_engine_init(&r->engine, &lim, NULL, 0);
	struct tl_feedback fb;
	r->tm.ops->poll(&r->tm, 0, &fb);
	assert_int_equal(tl_engine_start(&r->engine, 0, &r->p, &fb, "operator", &err), 0);
	drain(r);
	return r;
}

/* One control tick at t: poll, the virtual patient's presses, engine, actuator. */
static void tick(struct rig *r, int64_t t)
{
	struct tl_feedback fb;
	assert_int_equal(r->tm.ops->poll(&r->tm, t, &fb), 0);
	struct tl_err err = {{0}};
	struct tl_button patient = {0};
	assert_int_equal(tl_sim_button_open(&patient, &r->tm), 0);
	struct tl_press presses[2];
	int n = tl_button_poll(&patient, t, presses, 2);
	for (int i = 0; i < n; i++) {
		assert_string_equal(presses[i].source, "virtual-patient");
		if (presses[i].kind == TL_PRESS_ONSET) {
			r->model_icd_m = tl_sim_belt(&r->tm)->distance_m;
			tl_engine_onset(&r->engine, t, presses[i].source, &err);
		} else {
			r->model_acd_m = tl_sim_belt(&r->tm)->distance_m;
			tl_engine_max(&r->engine, t, presses[i].source, &err);
		}
	}
	tl_button_close(&patient);
	struct tl_motion m = tl_engine_tick(&r->engine, t, &fb);
	drain(r);
	r->last_motion = m;
	if (r->stop_injected && m.belt_on)
		r->belt_on_ticks_after_stop++;
	tl_actuate(&r->act, t, &m);
}

static void run(struct rig *r, int64_t from, int64_t to)
{
	for (int64_t t = from; t <= to; t += TICK_MS)
		tick(r, t);
}

static int count(const struct rig *r, enum tl_event_kind k)
{
	int n = 0;
	for (size_t i = 0; i < r->n; i++)
		n += r->ev[i].kind == k;
	return n;
}

static void gardner_skinner_onset_200_max_500(void **state)
{
	(void)state;
	struct rig *r = rig_start("gardner-skinner", 200, 500);
	run(r, 0, 600000);
	const struct tl_session *s = &r->engine.session;
	assert_int_equal(s->end_reason, TL_END_MAX_CLAUDICATION);
	assert_int_equal(s->state, TL_STATE_RECOVERY);
	assert_near((double)s->ep.cot_ms / 1000.0, 200.0, 0.1);
	assert_near((double)s->ep.pwt_ms / 1000.0, 500.0, 0.1);
	assert_true(r->model_icd_m > 0 && r->model_acd_m > r->model_icd_m);
	assert_near(s->ep.icd_m, r->model_icd_m, 0.01 * r->model_icd_m);
	assert_near(s->ep.acd_m, r->model_acd_m, 0.01 * r->model_acd_m);
	assert_int_equal(r->engine.alarm, TL_GUARD_OK);
	assert_int_equal(r->start_calls, 1);
	assert_exact(tl_sim_belt(&r->tm)->speed_kmh, 0.0);
}

/* Independent of the model: after the 3.2 s ramp the belt runs at 2.0 mph, so the
 * distances are those of a 1.6 s late start (half the ramp). */
static void gardner_skinner_distances_match_the_ramp(void **state)
{
	(void)state;
	struct rig *r = rig_start("gardner-skinner", 200, 500);
	run(r, 0, 600000);
	const struct tl_session *s = &r->engine.session;
	double v = 3.218688 / 3.6;
	assert_near(s->ep.icd_m, v * (200.0 - 1.6), 0.01 * v * 200.0);
	assert_near(s->ep.acd_m, v * (500.0 - 1.6), 0.01 * v * 500.0);
}

static void device_stop_ends_test_and_belt_never_restarts(void **state)
{
	(void)state;
	struct rig *r = rig_start("gardner-skinner", -1, -1);
	run(r, 0, 300000);
	assert_int_equal(r->start_calls, 1);
	tl_sim_device_stop(&r->tm, 300050, "safety key pulled");
	r->stop_injected = true;
	run(r, 300100, 2400000);
	const struct tl_session *s = &r->engine.session;
	assert_int_equal(s->state, TL_STATE_EMERGENCY_STOPPED);
	assert_int_equal(s->end_reason, TL_END_EMERGENCY_STOP);
	assert_int_equal(count(r, TL_EV_DEVICE_STOP), 1);
	assert_int_equal(r->engine.alarm, TL_GUARD_DEVICE_STOPPED);
	assert_int_equal(r->start_calls, 1);
	assert_int_equal(r->belt_on_ticks_after_stop, 0);
	assert_exact(tl_sim_belt(&r->tm)->speed_kmh, 0.0);
	assert_near((double)s->ep.pwt_ms, 300100, 100);
}

static void start_refused_while_device_reports_its_stop(void **state)
{
	(void)state;
	struct rig *r = rig_start("gardner-skinner", -1, -1);
	run(r, 0, 300000);
	tl_sim_device_stop(&r->tm, 300050, "stop button");
	r->stop_injected = true;
	run(r, 300100, 400000);
	struct tl_err err = {{0}};
	struct tl_feedback last = r->engine.last_fb;
	assert_int_equal(tl_engine_start(&r->engine, 400050, &r->p, &last, "operator", &err), -1);
	assert_non_null(strstr(err.msg, "stop button"));
	run(r, 400100, 500000);
	assert_int_equal(r->start_calls, 1);
	assert_int_equal(r->belt_on_ticks_after_stop, 0);
}

static void emergency_stop_mid_test(void **state)
{
	(void)state;
	struct rig *r = rig_start("gardner-skinner", -1, -1);
	run(r, 0, 300000);
	struct tl_motion m = tl_engine_estop(&r->engine, 300050, "operator");
	assert_true(m.estop);
	assert_int_equal(tl_actuate(&r->act, 300050, &m), 0);
	assert_int_equal(r->estop_calls, 1);
	drain(r);
	r->stop_injected = true;
	const struct tl_session *s = &r->engine.session;
	assert_int_equal(s->state, TL_STATE_EMERGENCY_STOPPED);
	assert_int_equal(s->end_reason, TL_END_EMERGENCY_STOP);
	assert_int_equal(count(r, TL_EV_ESTOP), 1);
	/* 2.0 mph at the 4 km/h/s e-stop rate: stopped within 0.81 s */
	run(r, 300100, 300900);
	assert_exact(tl_sim_belt(&r->tm)->speed_kmh, 0.0);
	run(r, 301000, 1200000);
	assert_true(r->last_motion.estop);
	assert_int_equal(r->estop_calls, 1);
	assert_int_equal(r->start_calls, 1);
	assert_int_equal(r->belt_on_ticks_after_stop, 0);
}

static void fixed_duration_runs_to_protocol_end(void **state)
{
	(void)state;
	struct rig *r = rig_start("constant-2mph-10pct", -1, -1);
	run(r, 0, 360000);
	const struct tl_session *s = &r->engine.session;
	assert_int_equal(s->end_reason, TL_END_PROTOCOL_END);
	assert_int_equal(s->ep.pwt_ms, 300000);
	assert_int_equal(s->state, TL_STATE_RECOVERY);
	assert_int_equal(r->stop_calls, 1);
	assert_int_equal(r->engine.alarm, TL_GUARD_OK);
}

static void two_stage_walks_rests_and_climbs(void **state)
{
	(void)state;
	struct rig *r = rig_start("two-stage", -1, -1);
	run(r, 0, 1150000);
	assert_int_equal(r->engine.session.state, TL_STATE_RESTING);
	assert_exact(tl_sim_belt(&r->tm)->speed_kmh, 0.0);
	run(r, 1150100, 1300000);
	assert_int_equal(r->engine.session.state, TL_STATE_RUNNING);
	assert_near(tl_sim_belt(&r->tm)->grade_pct, 26.8, 0.1);
	run(r, 1300100, 1900000);
	const struct tl_session *s = &r->engine.session;
	assert_int_equal(s->end_reason, TL_END_PROTOCOL_END);
	assert_int_equal(r->engine.alarm, TL_GUARD_OK);
	assert_int_equal(r->start_calls, 2);
	assert_int_equal(s->ep.walking_ms, 1200000);
}

/* The actuator promises "an emergency stop is sent even if an earlier call failed": a
 * failed e-stop send is sent again on the next tick, until the driver takes it. */
static void failed_estop_send_is_retried(void **state)
{
	(void)state;
	struct rig *r = rig_start("gardner-skinner", -1, -1);
	run(r, 0, 300000);
	r->fail_estops = 1;
	struct tl_motion m = tl_engine_estop(&r->engine, 300050, "operator");
	assert_int_equal(tl_actuate(&r->act, 300050, &m), -1);
	assert_int_equal(r->estop_calls, 1);
	run(r, 300100, 302000);
	assert_int_equal(r->estop_calls, 2);
	assert_true(tl_sim_belt(&r->tm)->estopped);
	assert_exact(tl_sim_belt(&r->tm)->speed_kmh, 0.0);
}

/* A controlled stop the driver did not take is sent again, not forgotten. */
static void failed_stop_send_is_retried(void **state)
{
	(void)state;
	struct rig *r = rig_start("gardner-skinner", -1, -1);
	run(r, 0, 300000);
	r->fail_stops = 1;
	struct tl_err err = {{0}};
	assert_int_equal(tl_engine_stop(&r->engine, 300050, "patient asked", "operator", &err), 0);
	run(r, 300100, 300100);
	assert_int_equal(r->stop_calls, 1);
	run(r, 300200, 310000);
	assert_int_equal(r->stop_calls, 2);
	assert_false(tl_sim_belt(&r->tm)->running);
	assert_exact(tl_sim_belt(&r->tm)->speed_kmh, 0.0);
}

/* A reading that stops coming ends the test as stale feedback, and the alarm carries
 * what the driver said about the silence (it once said only "stale_feedback"). */
static void stale_feedback_alarm_says_why(void **state)
{
	(void)state;
	struct rig *r = rig_start("gardner-skinner", -1, -1);
	run(r, 0, 5000);
	assert_int_equal(r->engine.session.state, TL_STATE_RUNNING);
	int64_t t = 5000 + TICK_MS;
	for (; r->engine.session.state == TL_STATE_RUNNING && t < 60000; t += TICK_MS) {
		tl_engine_no_reading(&r->engine, "modbus treadsim: read input 0: Connection timed out");
		struct tl_motion m = tl_engine_tick(&r->engine, t, NULL);
		tl_actuate(&r->act, t, &m);
		drain(r);
	}
	assert_int_equal(r->engine.session.end_reason, TL_END_FAULT);
	assert_string_equal(r->engine.alarm_detail,
			    "stale_feedback: modbus treadsim: read input 0: Connection timed out");
	assert_string_equal(r->engine.last_fb.detail,
			    "modbus treadsim: read input 0: Connection timed out");
	/* a reading clears the reason */
	struct tl_feedback fb;
	assert_int_equal(r->tm.ops->poll(&r->tm, t, &fb), 0);
	tl_engine_tick(&r->engine, t, &fb);
	tl_engine_tick(&r->engine, t + TICK_MS, NULL);
	assert_string_equal(r->engine.last_fb.detail, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(gardner_skinner_onset_200_max_500, rig_teardown),
		cmocka_unit_test_teardown(gardner_skinner_distances_match_the_ramp, rig_teardown),
		cmocka_unit_test_teardown(device_stop_ends_test_and_belt_never_restarts, rig_teardown),
		cmocka_unit_test_teardown(start_refused_while_device_reports_its_stop, rig_teardown),
		cmocka_unit_test_teardown(emergency_stop_mid_test, rig_teardown),
		cmocka_unit_test_teardown(fixed_duration_runs_to_protocol_end, rig_teardown),
		cmocka_unit_test_teardown(two_stage_walks_rests_and_climbs, rig_teardown),
		cmocka_unit_test_teardown(failed_estop_send_is_retried, rig_teardown),
		cmocka_unit_test_teardown(failed_stop_send_is_retried, rig_teardown),
		cmocka_unit_test_teardown(stale_feedback_alarm_says_why, rig_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
