/* test_session.c - the test's state machine driven by commands and virtual time.
 *
 * The caller's clock starts at T0 (not 0) so that every check also covers the
 * conversion to test time. Events are drained after every input, as the daemon does. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "protocol_files.h"
#include "session.h"

#include "tl_assert.h"

#define T0 5000
#define MAX_EVENTS 4096

struct run {
	struct tl_session s;
	struct tl_protocol p;
	struct tl_event ev[MAX_EVENTS];
	size_t n;
};

static void drain(struct run *r)
{
	struct tl_event e;
	while (tl_session_next_event(&r->s, &e)) {
		assert_true(r->n < MAX_EVENTS);
		r->ev[r->n++] = e;
	}
	assert_int_equal(r->s.dropped_events, 0);
}

/* One run at a time, in static storage: a failed assertion leaves nothing to free. */
static struct run the_run;

static struct run *new_run(const char *name)
{
	struct run *r = &the_run;
	memset(r, 0, sizeof *r);
	struct tl_err err = {{0}};
	int rc = tl_protocol_load_name(TL_PROTOCOL_DIR, name, NULL, &r->p, &err);
	if (rc)
		print_error("%s: %s\n", name, err.msg);
	assert_int_equal(rc, 0);
	tl_session_init(&r->s, NULL);
	return r;
}

static struct run *begin(const char *name)
{
	struct run *r = new_run(name);
	struct tl_err err = {{0}};
	assert_int_equal(tl_session_start(&r->s, T0, &r->p, "operator", &err), 0);
	drain(r);
	return r;
}

/* One tick at test time t with the belt measured at speed_kmh. */
static struct tl_target step(struct run *r, int64_t t, double speed_kmh)
{
	struct tl_feedback fb = {.valid = true, .speed_kmh = speed_kmh, .belt_running = speed_kmh > 0};
	struct tl_target tg = tl_session_step(&r->s, T0 + t, &fb);
	drain(r);
	return tg;
}

/* Ticks every tick_ms from the last tick (exclusive) to t (inclusive), belt at speed. */
static void tick_to(struct run *r, int64_t from, int64_t t, int64_t tick_ms, double speed)
{
	int64_t x = from;
	while (x < t) {
		x = x + tick_ms < t ? x + tick_ms : t;
		step(r, x, speed);
	}
}

static int count(const struct run *r, enum tl_event_kind k)
{
	int n = 0;
	for (size_t i = 0; i < r->n; i++)
		n += r->ev[i].kind == k;
	return n;
}

/* The nth (from 0) event of kind k, failing if there is none. */
static const struct tl_event *nth(const struct run *r, enum tl_event_kind k, int which)
{
	int left = which;
	for (size_t i = 0; i < r->n; i++)
		if (r->ev[i].kind == k && left-- == 0)
			return &r->ev[i];
	print_error("no event %s #%d\n", tl_event_kind_name(k), which);
	fail();
	return NULL;
}

static const struct tl_event *last(const struct run *r, enum tl_event_kind k)
{
	const struct tl_event *e = NULL;
	for (size_t i = 0; i < r->n; i++)
		if (r->ev[i].kind == k)
			e = &r->ev[i];
	assert_non_null(e);
	return e;
}

static void events_in_time_order(const struct run *r)
{
	for (size_t i = 1; i < r->n; i++) {
		if (r->ev[i].t_ms < r->ev[i - 1].t_ms)
			print_error("event %zu (%s at %lld ms) before event %zu (%s at %lld ms)\n", i,
				    tl_event_kind_name(r->ev[i].kind), (long long)r->ev[i].t_ms, i - 1,
				    tl_event_kind_name(r->ev[i - 1].kind), (long long)r->ev[i - 1].t_ms);
		assert_true(r->ev[i].t_ms >= r->ev[i - 1].t_ms);
	}
}

#define SPEED 3.218688 /* 2.0 mph */

/* ---- start and stages ---- */

static void start_enters_running_first_stage(void **state)
{
	(void)state;
	struct run *r = begin("gardner-skinner");
	assert_int_equal(r->s.state, TL_STATE_RUNNING);
	assert_int_equal(r->s.stage, 0);
	assert_true(tl_session_active(&r->s));
	assert_int_equal(r->n, 2);
	assert_int_equal(r->ev[0].kind, TL_EV_START);
	assert_int_equal(r->ev[0].t_ms, 0);
	assert_exact(r->ev[0].value, 1800.0);
	assert_int_equal(r->ev[1].kind, TL_EV_STAGE);
	assert_int_equal(r->ev[1].t_ms, 0);
	assert_exact(r->ev[1].value, 0);
	struct tl_target tg = step(r, 0, 0);
	assert_true(tg.belt_on);
	assert_exact(tg.speed_kmh, SPEED);
}

static void check_stage_events(const struct run *r, int64_t stage_ms, int n_stages)
{
	assert_int_equal(count(r, TL_EV_STAGE), n_stages);
	for (int k = 0; k < n_stages; k++) {
		const struct tl_event *e = nth(r, TL_EV_STAGE, k);
		assert_int_equal(e->t_ms, (int64_t)k * stage_ms);
		assert_exact(e->value, k);
	}
	events_in_time_order(r);
}

static void stage_events_exact_with_100ms_ticks(void **state)
{
	(void)state;
	struct run *r = begin("gardner-skinner");
	tick_to(r, 0, 1500000, 100, SPEED);
	check_stage_events(r, 120000, 13);
}

static void stage_events_exact_with_7ms_ticks(void **state)
{
	(void)state;
	struct run *r = begin("gardner-skinner");
	tick_to(r, 0, 1500000, 7, SPEED);
	check_stage_events(r, 120000, 13);
}

static void stage_events_exact_with_one_10_minute_jump(void **state)
{
	(void)state;
	struct run *r = begin("gardner-skinner");
	step(r, 600000, SPEED);
	check_stage_events(r, 120000, 6); /* 0, 120, 240, 360, 480 and 600 s */
	assert_int_equal(r->s.stage, 5);
	assert_int_equal(r->s.state, TL_STATE_RUNNING);
}

static void bruce_stage_events_exact_with_7ms_ticks(void **state)
{
	(void)state;
	struct run *r = begin("bruce");
	tick_to(r, 0, 1259999, 7, 5.0);
	check_stage_events(r, 180000, 7);
}

/* A command that arrives after a boundary no tick has seen yet (the daemon wakes at once
 * for commands) must not lose the stage that began before it. */
static void command_after_unticked_boundary_keeps_stage_event(void **state)
{
	(void)state;
	struct run *r = begin("gardner-skinner");
	tick_to(r, 0, 119900, 100, SPEED);
	struct tl_err err = {{0}};
	assert_int_equal(tl_session_max(&r->s, T0 + 120050, "button-box", &err), 0);
	drain(r);
	step(r, 120100, SPEED);
	assert_int_equal(count(r, TL_EV_STAGE), 2);
	const struct tl_event *e = nth(r, TL_EV_STAGE, 1);
	assert_int_equal(e->t_ms, 120000);
	events_in_time_order(r);
}

/* ---- presses ---- */

static void first_onset_sets_cot(void **state)
{
	(void)state;
	struct run *r = begin("gardner-skinner");
	tick_to(r, 0, 200000, 100, SPEED);
	struct tl_err err = {{0}};
	assert_int_equal(tl_session_onset(&r->s, T0 + 200000, "button-box", &err), 0);
	drain(r);
	assert_int_equal(r->s.ep.cot_ms, 200000);
	const struct tl_event *e = last(r, TL_EV_ONSET);
	assert_int_equal(e->t_ms, 200000);
	assert_string_equal(e->detail, "first");
	assert_string_equal(e->source, "button-box");
	assert_int_equal(r->s.state, TL_STATE_RUNNING);
}

static void repeat_onset_keeps_cot(void **state)
{
	(void)state;
	struct run *r = begin("gardner-skinner");
	tick_to(r, 0, 250000, 100, SPEED);
	struct tl_err err = {{0}};
	assert_int_equal(tl_session_onset(&r->s, T0 + 200000, "operator", &err), 0);
	double icd = r->s.ep.icd_m;
	assert_int_equal(tl_session_onset(&r->s, T0 + 250000, "operator", &err), 0);
	drain(r);
	assert_int_equal(r->s.ep.cot_ms, 200000);
	assert_exact(r->s.ep.icd_m, icd);
	assert_int_equal(count(r, TL_EV_ONSET), 2);
	assert_string_equal(nth(r, TL_EV_ONSET, 1)->detail, "repeat");
}

/* Walks gardner-skinner to 500 s and presses max there. */
static struct run *walk_to_max(void)
{
	struct run *r = begin("gardner-skinner");
	tick_to(r, 0, 500000, 100, SPEED);
	struct tl_err err = {{0}};
	assert_int_equal(tl_session_max(&r->s, T0 + 500000, "button-box", &err), 0);
	drain(r);
	return r;
}

static void max_sets_pwt_and_ends_walking(void **state)
{
	(void)state;
	struct run *r = walk_to_max();
	assert_int_equal(r->s.ep.pwt_ms, 500000);
	assert_int_equal(r->s.state, TL_STATE_STOPPING);
	assert_int_equal(r->s.end_reason, TL_END_MAX_CLAUDICATION);
	assert_int_equal(last(r, TL_EV_MAX)->t_ms, 500000);
	const struct tl_event *we = last(r, TL_EV_WALK_END);
	assert_int_equal(we->t_ms, 500000);
	assert_string_equal(we->detail, "max_claudication");
	struct tl_target tg = step(r, 500100, 3.0);
	assert_false(tg.belt_on);
	assert_exact(tg.speed_kmh, 0.0);
}

static void belt_stop_enters_recovery(void **state)
{
	(void)state;
	struct run *r = walk_to_max();
	step(r, 501000, 2.0);
	assert_int_equal(r->s.state, TL_STATE_STOPPING);
	step(r, 503300, 0.0);
	assert_int_equal(r->s.state, TL_STATE_RECOVERY);
	assert_int_equal(r->s.ep.belt_stop_ms, 503300);
	assert_int_equal(last(r, TL_EV_BELT_STOPPED)->t_ms, 503300);
	assert_int_equal(count(r, TL_EV_BELT_STOPPED), 1);
}

static struct run *walk_to_recovery(void)
{
	struct run *r = walk_to_max();
	step(r, 503000, 0.0);
	assert_int_equal(r->s.state, TL_STATE_RECOVERY);
	return r;
}

static void relief_sets_recovery_time(void **state)
{
	(void)state;
	struct run *r = walk_to_recovery();
	step(r, 593000, 0.0);
	struct tl_err err = {{0}};
	assert_int_equal(tl_session_relief(&r->s, T0 + 593000, "standing", "operator", &err), 0);
	drain(r);
	assert_int_equal(r->s.ep.recovery_ms, 90000);
	const struct tl_event *e = last(r, TL_EV_RELIEF);
	assert_int_equal(e->t_ms, 593000);
	assert_string_equal(e->detail, "standing");
	assert_exact(e->value, 90.0);
}

static void second_relief_refused(void **state)
{
	(void)state;
	struct run *r = walk_to_recovery();
	struct tl_err err = {{0}};
	assert_int_equal(tl_session_relief(&r->s, T0 + 560000, "sitting", "operator", &err), 0);
	assert_int_equal(tl_session_relief(&r->s, T0 + 600000, "sitting", "operator", &err), -1);
	drain(r);
	assert_int_equal(r->s.ep.recovery_ms, 57000);
	assert_int_equal(count(r, TL_EV_RELIEF), 1);
}

static void finish_completes(void **state)
{
	(void)state;
	struct run *r = walk_to_recovery();
	struct tl_err err = {{0}};
	assert_int_equal(tl_session_finish(&r->s, T0 + 900000, "operator", &err), 0);
	drain(r);
	assert_int_equal(r->s.state, TL_STATE_COMPLETE);
	assert_true(tl_state_terminal(r->s.state));
	assert_false(tl_session_active(&r->s));
	assert_int_equal(last(r, TL_EV_COMPLETE)->t_ms, 900000);
	assert_int_equal(r->s.end_reason, TL_END_MAX_CLAUDICATION);
}

static void check_reminders(const struct run *r, int64_t stop_ms)
{
	static const int minutes[] = {1, 3, 5, 10};
	assert_int_equal(count(r, TL_EV_REMINDER), 4);
	for (int i = 0; i < 4; i++) {
		const struct tl_event *e = nth(r, TL_EV_REMINDER, i);
		assert_int_equal(e->t_ms, stop_ms + minutes[i] * 60000);
		assert_exact(e->value, minutes[i]);
	}
}

static void reminders_at_1_3_5_10_min_after_belt_stop(void **state)
{
	(void)state;
	struct run *r = walk_to_recovery();
	tick_to(r, 503000, 503000 + 59999, 1000, 0.0);
	assert_int_equal(count(r, TL_EV_REMINDER), 0);
	tick_to(r, 503000 + 59999, 503000 + 60000, 1, 0.0);
	assert_int_equal(count(r, TL_EV_REMINDER), 1);
	tick_to(r, 503000 + 60000, 503000 + 11 * 60000, 700, 0.0);
	check_reminders(r, 503000);
}

static void reminders_exact_after_one_jump(void **state)
{
	(void)state;
	struct run *r = walk_to_recovery();
	step(r, 503000 + 20 * 60000, 0.0);
	check_reminders(r, 503000);
	events_in_time_order(r);
}

/* ---- how walking ends ---- */

static void fixed_duration_ends_with_protocol_end(void **state)
{
	(void)state;
	struct run *r = begin("constant-2mph-10pct");
	tick_to(r, 0, 299900, 100, SPEED);
	assert_int_equal(r->s.state, TL_STATE_RUNNING);
	step(r, 300000, SPEED);
	assert_int_equal(r->s.state, TL_STATE_STOPPING);
	assert_int_equal(r->s.end_reason, TL_END_PROTOCOL_END);
	assert_int_equal(r->s.ep.pwt_ms, 300000);
	const struct tl_event *e = last(r, TL_EV_WALK_END);
	assert_int_equal(e->t_ms, 300000);
	assert_string_equal(e->detail, "protocol_end");
}

static void symptom_limited_ends_with_max_duration(void **state)
{
	(void)state;
	struct run *r = begin("gardner-skinner");
	step(r, 2000000, SPEED);
	assert_int_equal(r->s.state, TL_STATE_STOPPING);
	assert_int_equal(r->s.end_reason, TL_END_MAX_DURATION);
	assert_int_equal(r->s.ep.pwt_ms, 1800000);
	assert_int_equal(last(r, TL_EV_WALK_END)->t_ms, 1800000);
	assert_int_equal(tl_endpoints_walking_ms(&r->s.ep, 2000000), 1800000);
}

static void constant_3kmh_ends_with_max_duration(void **state)
{
	(void)state;
	struct run *r = begin("constant-3kmh-12pct");
	tick_to(r, 0, 1800000, 100, 3.0);
	assert_int_equal(r->s.end_reason, TL_END_MAX_DURATION);
	assert_int_equal(r->s.ep.pwt_ms, 1800000);
}

/* A max press handled after the protocol's end, before a tick saw the end, must not move
 * PWT beyond the protocol: walking never goes beyond its end. */
static void max_after_unticked_protocol_end_keeps_protocol_end(void **state)
{
	(void)state;
	struct run *r = begin("constant-2mph-10pct");
	tick_to(r, 0, 299950, 50, SPEED);
	struct tl_err err = {{0}};
	tl_session_max(&r->s, T0 + 300050, "button-box", &err);
	drain(r);
	step(r, 300100, SPEED);
	assert_int_equal(r->s.ep.pwt_ms, 300000);
	assert_int_equal(r->s.end_reason, TL_END_PROTOCOL_END);
}

static void onset_after_unticked_protocol_end_not_counted(void **state)
{
	(void)state;
	struct run *r = begin("constant-2mph-10pct");
	tick_to(r, 0, 299950, 50, SPEED);
	struct tl_err err = {{0}};
	tl_session_onset(&r->s, T0 + 300050, "button-box", &err);
	drain(r);
	step(r, 300100, SPEED);
	assert_true(r->s.ep.cot_ms <= 300000);
}

static void operator_stop_ends_walking(void **state)
{
	(void)state;
	struct run *r = begin("gardner-skinner");
	tick_to(r, 0, 100000, 100, SPEED);
	struct tl_err err = {{0}};
	assert_int_equal(tl_session_stop(&r->s, T0 + 100000, "SBP drop > 10 mmHg", "operator", &err), 0);
	drain(r);
	assert_int_equal(r->s.state, TL_STATE_STOPPING);
	assert_int_equal(r->s.end_reason, TL_END_OPERATOR_STOP);
	assert_string_equal(last(r, TL_EV_STOP)->detail, "SBP drop > 10 mmHg");
	assert_int_equal(r->s.ep.pwt_ms, 100000);
	assert_false(step(r, 100100, 3.0).belt_on);
}

static void emergency_stop_ends_test(void **state)
{
	(void)state;
	struct run *r = begin("gardner-skinner");
	tick_to(r, 0, 100000, 100, SPEED);
	assert_int_equal(tl_session_estop(&r->s, T0 + 100000, "operator"), 1);
	drain(r);
	assert_int_equal(r->s.state, TL_STATE_EMERGENCY_STOPPED);
	assert_int_equal(r->s.end_reason, TL_END_EMERGENCY_STOP);
	assert_int_equal(last(r, TL_EV_ESTOP)->t_ms, 100000);
	assert_string_equal(last(r, TL_EV_WALK_END)->detail, "emergency_stop");
	assert_false(step(r, 100100, 3.0).belt_on);
	assert_false(step(r, 400000, 0.0).belt_on);
}

/* An e-stop in recovery (the belt already at rest) is recorded, and the technician can
 * still record relief and finish the test; the walk keeps its own end reason. */
static void estop_in_recovery_keeps_relief_and_finish(void **state)
{
	(void)state;
	struct run *r = walk_to_recovery();
	step(r, 520000, 0.0);
	assert_int_equal(tl_session_estop(&r->s, T0 + 520000, "technician"), 1);
	drain(r);
	assert_int_equal(r->s.state, TL_STATE_RECOVERY);
	assert_int_equal(r->s.end_reason, TL_END_MAX_CLAUDICATION);
	assert_int_equal(last(r, TL_EV_ESTOP)->t_ms, 20000 + 500000);
	assert_string_equal(last(r, TL_EV_ESTOP)->source, "technician");
	assert_int_equal(count(r, TL_EV_WALK_END), 1);
	assert_false(step(r, 530000, 0.0).belt_on);
	struct tl_err err = {{0}};
	assert_int_equal(tl_session_relief(&r->s, T0 + 560000, "sitting", "technician", &err), 0);
	drain(r);
	assert_int_equal(r->s.ep.recovery_ms, 560000 - 503000);
	assert_int_equal(tl_session_estop(&r->s, T0 + 561000, "technician"), 1); /* again */
	drain(r);
	assert_int_equal(count(r, TL_EV_ESTOP), 2);
	assert_int_equal(tl_session_finish(&r->s, T0 + 600000, "technician", &err), 0);
	drain(r);
	assert_int_equal(r->s.state, TL_STATE_COMPLETE);
	assert_int_equal(r->s.end_reason, TL_END_MAX_CLAUDICATION);
	assert_false(step(r, 601000, 0.0).belt_on);
}

/* While the belt is still stopping it may be moving: the e-stop ends the test. */
static void estop_while_stopping_ends_test(void **state)
{
	(void)state;
	struct run *r = walk_to_max();
	step(r, 501000, 2.0);
	assert_int_equal(r->s.state, TL_STATE_STOPPING);
	assert_int_equal(tl_session_estop(&r->s, T0 + 501500, "technician"), 1);
	drain(r);
	assert_int_equal(r->s.state, TL_STATE_EMERGENCY_STOPPED);
}

/* A test whose record cannot be written is stopped like an operator stop (the belt
 * ramps down, recovery follows) but with its own end reason and the store's words. */
static void store_failure_is_a_controlled_stop_with_its_own_reason(void **state)
{
	(void)state;
	struct run *r = begin("gardner-skinner");
	tick_to(r, 0, 100000, 100, SPEED);
	struct tl_err err = {{0}};
	assert_int_equal(tl_session_store_failure(&r->s, T0 + 100000, "store: disk is full", &err), 0);
	drain(r);
	assert_int_equal(r->s.state, TL_STATE_STOPPING);
	assert_int_equal(r->s.end_reason, TL_END_STORE_FAILURE);
	assert_string_equal(tl_end_reason_name(r->s.end_reason), "store_failure");
	const struct tl_event *e = last(r, TL_EV_STOP);
	assert_int_equal(e->t_ms, 100000);
	assert_string_equal(e->source, "system");
	assert_string_equal(e->detail, "the record cannot be written: store: disk is full");
	assert_string_equal(last(r, TL_EV_WALK_END)->detail, "store_failure");
	assert_false(step(r, 100100, 2.0).belt_on);
	step(r, 103000, 0.0);
	assert_int_equal(r->s.state, TL_STATE_RECOVERY);
	/* Nothing left to stop once walking is over. */
	assert_int_equal(tl_session_store_failure(&r->s, T0 + 104000, "again", &err), -1);
	assert_int_equal(tl_session_finish(&r->s, T0 + 200000, "technician", &err), 0);
}

/* A seated rest of a two-stage test is stopped too: its next walk must not start. */
static void store_failure_during_a_rest_stops_the_test(void **state)
{
	(void)state;
	struct run *r = begin("two-stage");
	tick_to(r, 0, 700000, 1000, 1.93);
	assert_int_equal(r->s.state, TL_STATE_RESTING);
	struct tl_err err = {{0}};
	assert_int_equal(tl_session_store_failure(&r->s, T0 + 700000, "store: full", &err), 0);
	drain(r);
	assert_int_equal(r->s.state, TL_STATE_STOPPING);
	assert_int_equal(r->s.end_reason, TL_END_STORE_FAILURE);
	assert_false(step(r, 1300000, 0.0).belt_on); /* past the rest: no second walk */
}

static void estop_when_idle_is_harmless(void **state)
{
	(void)state;
	struct run *r = new_run("gardner-skinner");
	assert_int_equal(tl_session_estop(&r->s, T0, "operator"), 0);
	drain(r);
	assert_int_equal(r->n, 0);
	assert_int_equal(r->s.state, TL_STATE_IDLE);
}

static void fault_ends_test(void **state)
{
	(void)state;
	struct run *r = begin("gardner-skinner");
	tick_to(r, 0, 100000, 100, SPEED);
	tl_session_fault(&r->s, T0 + 100000, "stale_feedback");
	drain(r);
	assert_int_equal(r->s.state, TL_STATE_FAULTED);
	assert_int_equal(r->s.end_reason, TL_END_FAULT);
	assert_string_equal(last(r, TL_EV_FAULT)->detail, "stale_feedback");
	assert_false(step(r, 100100, 3.0).belt_on);
}

static void device_stop_ends_test(void **state)
{
	(void)state;
	struct run *r = begin("gardner-skinner");
	tick_to(r, 0, 100000, 100, SPEED);
	tl_session_device_stop(&r->s, T0 + 100000, "safety key pulled");
	drain(r);
	assert_int_equal(r->s.state, TL_STATE_EMERGENCY_STOPPED);
	assert_int_equal(r->s.end_reason, TL_END_EMERGENCY_STOP);
	assert_string_equal(last(r, TL_EV_DEVICE_STOP)->detail, "safety key pulled");
}

static void shutdown_aborts_test(void **state)
{
	(void)state;
	struct run *r = begin("gardner-skinner");
	tick_to(r, 0, 100000, 100, SPEED);
	assert_int_equal(tl_session_shutdown(&r->s, T0 + 100000), 1);
	drain(r);
	assert_int_equal(r->s.state, TL_STATE_ABORTED);
	assert_int_equal(r->s.end_reason, TL_END_SHUTDOWN);
	assert_int_equal(count(r, TL_EV_SHUTDOWN), 1);
}

/* ---- refusals: the session is left unchanged ---- */

static void onset_refused_when_idle(void **state)
{
	(void)state;
	struct run *r = new_run("gardner-skinner");
	struct tl_err err = {{0}};
	assert_int_equal(tl_session_onset(&r->s, T0, "operator", &err), -1);
	drain(r);
	assert_true(strlen(err.msg) > 0);
	assert_int_equal(r->n, 0);
	assert_int_equal(r->s.state, TL_STATE_IDLE);
	assert_int_equal(r->s.ep.cot_ms, -1);
}

static void max_refused_in_recovery(void **state)
{
	(void)state;
	struct run *r = walk_to_recovery();
	size_t n = r->n;
	struct tl_err err = {{0}};
	assert_int_equal(tl_session_max(&r->s, T0 + 520000, "operator", &err), -1);
	drain(r);
	assert_true(strlen(err.msg) > 0);
	assert_int_equal(r->n, n);
	assert_int_equal(r->s.ep.pwt_ms, 500000);
	assert_int_equal(r->s.state, TL_STATE_RECOVERY);
}

static void onset_refused_while_stopping(void **state)
{
	(void)state;
	struct run *r = walk_to_max();
	struct tl_err err = {{0}};
	assert_int_equal(tl_session_onset(&r->s, T0 + 501000, "operator", &err), -1);
	assert_int_equal(r->s.ep.cot_ms, -1);
}

static void start_refused_while_running(void **state)
{
	(void)state;
	struct run *r = begin("gardner-skinner");
	tick_to(r, 0, 300000, 100, SPEED);
	struct tl_protocol other;
	struct tl_err err = {{0}};
	assert_int_equal(tl_protocol_load_name(TL_PROTOCOL_DIR, "bruce", NULL, &other, &err), 0);
	assert_int_equal(tl_session_start(&r->s, T0 + 300000, &other, "operator", &err), -1);
	drain(r);
	assert_true(strlen(err.msg) > 0);
	assert_string_equal(r->s.protocol.name, "gardner-skinner");
	assert_int_equal(r->s.state, TL_STATE_RUNNING);
	assert_int_equal(r->s.stage, 2);
	assert_int_equal(r->s.start_ms, T0);
	assert_int_equal(count(r, TL_EV_START), 1);
}

static void finish_refused_while_running(void **state)
{
	(void)state;
	struct run *r = begin("gardner-skinner");
	tick_to(r, 0, 100000, 100, SPEED);
	struct tl_err err = {{0}};
	assert_int_equal(tl_session_finish(&r->s, T0 + 100000, "operator", &err), -1);
	drain(r);
	assert_true(strlen(err.msg) > 0);
	assert_int_equal(r->s.state, TL_STATE_RUNNING);
	assert_int_equal(count(r, TL_EV_COMPLETE), 0);
}

static void relief_refused_with_bad_posture(void **state)
{
	(void)state;
	struct run *r = walk_to_recovery();
	struct tl_err err = {{0}};
	assert_int_equal(tl_session_relief(&r->s, T0 + 560000, "lying", "operator", &err), -1);
	assert_non_null(strstr(err.msg, "lying"));
	assert_int_equal(tl_session_relief(&r->s, T0 + 560000, NULL, "operator", &err), -1);
	assert_int_equal(tl_session_relief(&r->s, T0 + 560000, "", "operator", &err), -1);
	drain(r);
	assert_int_equal(count(r, TL_EV_RELIEF), 0);
	assert_int_equal(r->s.ep.recovery_ms, -1);
}

static void relief_refused_while_running(void **state)
{
	(void)state;
	struct run *r = begin("gardner-skinner");
	tick_to(r, 0, 100000, 100, SPEED);
	struct tl_err err = {{0}};
	assert_int_equal(tl_session_relief(&r->s, T0 + 100000, "sitting", "operator", &err), -1);
	drain(r);
	assert_int_equal(count(r, TL_EV_RELIEF), 0);
}

/* ---- two-stage: each walk ends at its own max press ---- */

static void two_stage_max_in_level_walk_starts_rest(void **state)
{
	(void)state;
	struct run *r = begin("two-stage");
	tick_to(r, 0, 300000, 100, 1.93);
	struct tl_err err = {{0}};
	assert_int_equal(tl_session_max(&r->s, T0 + 300000, "button-box", &err), 0);
	drain(r);
	assert_int_equal(r->s.state, TL_STATE_RESTING);
	assert_int_equal(r->s.end_reason, TL_END_NONE);
	assert_int_equal(r->s.stage, 1);
	assert_string_equal(last(r, TL_EV_WALK_END)->detail, "max_claudication");
	const struct tl_event *st = last(r, TL_EV_STAGE);
	assert_int_equal(st->t_ms, 300000);
	assert_exact(st->value, 1);
	assert_int_equal(r->s.ep.walks[0].max_ms, 300000);
	assert_int_equal(r->s.ep.walks[0].end_ms, 300000);
	assert_false(step(r, 300100, 1.0).belt_on);
}

static void two_stage_incline_walk_follows_the_rest(void **state)
{
	(void)state;
	struct run *r = begin("two-stage");
	tick_to(r, 0, 300000, 100, 1.93);
	struct tl_err err = {{0}};
	assert_int_equal(tl_session_max(&r->s, T0 + 300000, "button-box", &err), 0);
	drain(r);
	tick_to(r, 300000, 305000, 100, 0.0);
	tick_to(r, 305000, 899999, 7, 0.0);
	assert_int_equal(r->s.state, TL_STATE_RESTING);
	struct tl_target tg = step(r, 900000, 0.0);
	assert_int_equal(r->s.state, TL_STATE_RUNNING);
	assert_int_equal(r->s.stage, 2);
	assert_int_equal(last(r, TL_EV_STAGE)->t_ms, 900000);
	assert_true(tg.belt_on);
	assert_exact(tg.grade_pct, 26.8);
	tick_to(r, 900000, 1000000, 100, 1.93);
	assert_int_equal(tl_session_max(&r->s, T0 + 1000000, "button-box", &err), 0);
	drain(r);
	assert_int_equal(r->s.state, TL_STATE_STOPPING);
	assert_int_equal(r->s.end_reason, TL_END_MAX_CLAUDICATION);
	assert_int_equal(r->s.ep.n_walks, 2);
	assert_int_equal(r->s.ep.walks[1].start_ms, 900000);
	assert_int_equal(r->s.ep.walks[1].max_ms, 1000000);
	assert_int_equal(r->s.ep.walking_ms, 300000 + 100000);
	events_in_time_order(r);
}

static void two_stage_without_presses_runs_to_protocol_end(void **state)
{
	(void)state;
	struct run *r = begin("two-stage");
	tick_to(r, 0, 600000, 100, 1.93);
	assert_int_equal(r->s.state, TL_STATE_RESTING);
	assert_string_equal(last(r, TL_EV_WALK_END)->detail, "rest");
	assert_int_equal(last(r, TL_EV_WALK_END)->t_ms, 600000);
	tick_to(r, 600000, 1200000, 100, 0.0);
	assert_int_equal(r->s.state, TL_STATE_RUNNING);
	assert_int_equal(last(r, TL_EV_STAGE)->t_ms, 1200000);
	tick_to(r, 1200000, 1800000, 100, 1.93);
	assert_int_equal(r->s.state, TL_STATE_STOPPING);
	assert_int_equal(r->s.end_reason, TL_END_PROTOCOL_END);
	assert_int_equal(last(r, TL_EV_WALK_END)->t_ms, 1800000);
	assert_int_equal(r->s.ep.walking_ms, 1200000);
}

static void two_stage_relief_after_level_walk(void **state)
{
	(void)state;
	struct run *r = begin("two-stage");
	tick_to(r, 0, 600000, 100, 1.93);
	step(r, 603000, 0.0);
	assert_int_equal(last(r, TL_EV_BELT_STOPPED)->t_ms, 603000);
	assert_string_equal(last(r, TL_EV_BELT_STOPPED)->detail, "rest");
	struct tl_err err = {{0}};
	assert_int_equal(tl_session_relief(&r->s, T0 + 700000, "sitting", "operator", &err), 0);
	drain(r);
	assert_int_equal(r->s.ep.walks[0].relief_ms, 700000);
	assert_exact(last(r, TL_EV_RELIEF)->value, 97.0);
	assert_int_equal(r->s.ep.recovery_ms, -1);
	assert_int_equal(r->s.state, TL_STATE_RESTING);
}

static void two_stage_max_refused_during_rest(void **state)
{
	(void)state;
	struct run *r = begin("two-stage");
	tick_to(r, 0, 700000, 100, 0.0);
	struct tl_err err = {{0}};
	assert_int_equal(tl_session_max(&r->s, T0 + 700000, "operator", &err), -1);
	assert_int_equal(r->s.state, TL_STATE_RESTING);
}

/* ---- events ---- */

static void events_never_dropped_over_a_whole_test(void **state)
{
	(void)state;
	struct run *r = begin("gardner-skinner");
	struct tl_err err = {{0}};
	tick_to(r, 0, 200000, 100, SPEED);
	assert_int_equal(tl_session_onset(&r->s, T0 + 200000, "button-box", &err), 0);
	tick_to(r, 200000, 1800000, 100, SPEED);
	tick_to(r, 1800000, 1803000, 100, 0.0);
	assert_int_equal(r->s.state, TL_STATE_RECOVERY);
	tick_to(r, 1803000, 1803000 + 11 * 60000, 100, 0.0);
	assert_int_equal(r->s.dropped_events, 0);
	/* start, 15 stages of 120 s, onset, walk end, belt stopped, 4 reminders */
	assert_int_equal(r->n, 1 + 15 + 1 + 1 + 1 + 4);
	events_in_time_order(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(start_enters_running_first_stage),
		cmocka_unit_test(stage_events_exact_with_100ms_ticks),
		cmocka_unit_test(stage_events_exact_with_7ms_ticks),
		cmocka_unit_test(stage_events_exact_with_one_10_minute_jump),
		cmocka_unit_test(bruce_stage_events_exact_with_7ms_ticks),
		cmocka_unit_test(command_after_unticked_boundary_keeps_stage_event),
		cmocka_unit_test(first_onset_sets_cot),
		cmocka_unit_test(repeat_onset_keeps_cot),
		cmocka_unit_test(max_sets_pwt_and_ends_walking),
		cmocka_unit_test(belt_stop_enters_recovery),
		cmocka_unit_test(relief_sets_recovery_time),
		cmocka_unit_test(second_relief_refused),
		cmocka_unit_test(finish_completes),
		cmocka_unit_test(reminders_at_1_3_5_10_min_after_belt_stop),
		cmocka_unit_test(reminders_exact_after_one_jump),
		cmocka_unit_test(fixed_duration_ends_with_protocol_end),
		cmocka_unit_test(symptom_limited_ends_with_max_duration),
		cmocka_unit_test(constant_3kmh_ends_with_max_duration),
		cmocka_unit_test(max_after_unticked_protocol_end_keeps_protocol_end),
		cmocka_unit_test(onset_after_unticked_protocol_end_not_counted),
		cmocka_unit_test(operator_stop_ends_walking),
		cmocka_unit_test(emergency_stop_ends_test),
		cmocka_unit_test(estop_when_idle_is_harmless),
		cmocka_unit_test(estop_in_recovery_keeps_relief_and_finish),
		cmocka_unit_test(estop_while_stopping_ends_test),
		cmocka_unit_test(store_failure_is_a_controlled_stop_with_its_own_reason),
		cmocka_unit_test(store_failure_during_a_rest_stops_the_test),
		cmocka_unit_test(fault_ends_test),
		cmocka_unit_test(device_stop_ends_test),
		cmocka_unit_test(shutdown_aborts_test),
		cmocka_unit_test(onset_refused_when_idle),
		cmocka_unit_test(max_refused_in_recovery),
		cmocka_unit_test(onset_refused_while_stopping),
		cmocka_unit_test(start_refused_while_running),
		cmocka_unit_test(finish_refused_while_running),
		cmocka_unit_test(relief_refused_with_bad_posture),
		cmocka_unit_test(relief_refused_while_running),
		cmocka_unit_test(two_stage_max_in_level_walk_starts_rest),
		cmocka_unit_test(two_stage_incline_walk_follows_the_rest),
		cmocka_unit_test(two_stage_without_presses_runs_to_protocol_end),
		cmocka_unit_test(two_stage_relief_after_level_walk),
		cmocka_unit_test(two_stage_max_refused_during_rest),
		cmocka_unit_test(events_never_dropped_over_a_whole_test),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
