/* test_tick.c - the daemon's control sequence (src/control/tick.c) in virtual time.
 *
 * The host here is the daemon's control loop without its descriptors: plan the next
 * step, serve the commands that are queued (emergency stops first), move the virtual
 * clock to the step's time, run it. The treadmill is the simulator wrapped in a driver
 * that writes every call to a wire log with its virtual time, lets a call take time on
 * the wire, fail, or see an emergency stop arrive while it is on the wire. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "engine.h"
#include "protocol_files.h"
#include "sim.h"
#include "tick.h"

struct host {
	struct tl_engine engine;
	struct tl_treadmill tm;
	struct tl_actuator act;
	struct tl_button buttons[2];
	int n_buttons;
	bool open;
	struct tl_clock clock;
	int64_t now_ns;
	struct tl_tick t;
	int estops_queued;           /* emergency stops waiting in the host's queue */
	char wire[1 << 17];             /* "call@ms call@ms ..." */
	/* what the next calls do */
	const char *arrive_during;   /* an e-stop arrives while this call is on the wire */
	int64_t call_takes_ns;       /* each driver call takes this long on the wire */
	bool poll_fails;
	/* what the host saw */
	struct tl_event events[64];
	int n_events;
	int64_t estop_served_ns;
	int publishes;
};

static struct host *H;
static struct host host; /* large (the wire log): not on the stack */

static void wire(const char *call)
{
	size_t n = strlen(H->wire);
	snprintf(H->wire + n, sizeof H->wire - n, "%s%s@%lld", n ? " " : "", call,
		 (long long)(H->now_ns / 1000000));
}

/* A call on the wire: logged at its start, takes its time, maybe sees an e-stop come. */
static void on_wire(const char *call)
{
	wire(call);
	H->now_ns += H->call_takes_ns;
	if (H->arrive_during && !strcmp(H->arrive_during, call)) {
		H->arrive_during = NULL;
		H->estops_queued++;
	}
}

static int w_open(struct tl_treadmill *tm, const void *o)
{
	return tl_sim_treadmill_ops.open(tm, o);
}
static void w_close(struct tl_treadmill *tm)
{
	tl_sim_treadmill_ops.close(tm);
}
static int w_start(struct tl_treadmill *tm, int64_t now)
{
	on_wire("start");
	return tl_sim_treadmill_ops.start(tm, now);
}
static int w_stop(struct tl_treadmill *tm, int64_t now)
{
	on_wire("stop");
	return tl_sim_treadmill_ops.stop(tm, now);
}
static int w_estop(struct tl_treadmill *tm, int64_t now)
{
	on_wire("estop");
	return tl_sim_treadmill_ops.emergency_stop(tm, now);
}
static int w_speed(struct tl_treadmill *tm, double kmh, int64_t now, double *sent)
{
	on_wire("speed");
	return tl_sim_treadmill_ops.set_speed(tm, kmh, now, sent);
}
static int w_grade(struct tl_treadmill *tm, double pct, int64_t now, double *sent)
{
	on_wire("grade");
	return tl_sim_treadmill_ops.set_grade(tm, pct, now, sent);
}
static int w_poll(struct tl_treadmill *tm, int64_t now, struct tl_feedback *fb)
{
	on_wire("poll");
	if (H->poll_fails) {
		memset(fb, 0, sizeof *fb);
		tl_treadmill_set_err(tm, "no reply after 3 tries");
		return -1;
	}
	return tl_sim_treadmill_ops.poll(tm, now, fb);
}

static const struct tl_treadmill_ops wire_ops = {
	.name = "wire-log",
	.open = w_open,
	.close = w_close,
	.start = w_start,
	.stop = w_stop,
	.emergency_stop = w_estop,
	.set_speed = w_speed,
	.set_grade = w_grade,
	.poll = w_poll,
};

/* ---- the host's hooks ---- */

static void serve(void *ctx)
{
	struct host *h = ctx;
	while (h->estops_queued > 0) {
		h->estops_queued--;
		h->estop_served_ns = h->now_ns;
		tl_tick_estop(&h->t, "technician");
	}
}
static bool waiting(void *ctx)
{
	return ((struct host *)ctx)->estops_queued > 0;
}
static void event(void *ctx, const struct tl_event *ev, const char *op)
{
	struct host *h = ctx;
	(void)op;
	if (h->n_events < 64)
		h->events[h->n_events++] = *ev;
}
static void publish(void *ctx, int64_t now, const struct tl_motion *m)
{
	(void)now, (void)m;
	((struct host *)ctx)->publishes++;
}

static const struct tl_tick_hooks hooks = {
	.serve_estops = serve,
	.estop_waiting = waiting,
	.event = event,
	.publish = publish,
};

static int64_t virtual_ns(void *ctx)
{
	return ((struct host *)ctx)->now_ns;
}

/* A host with the simulator's virtual patient as its button when onset_s/max_s >= 0. */
static void host_init(struct host *h, double onset_s, double max_s)
{
	memset(h, 0, sizeof *h);
	H = h;
	h->tm.ops = &wire_ops;
	struct tl_sim_opts o = {.patient_onset_s = onset_s, .patient_max_s = max_s};
	assert_int_equal(h->tm.ops->open(&h->tm, &o), 0);
	tl_actuator_init(&h->act, &h->tm);
	if (onset_s >= 0 || max_s >= 0)
		assert_int_equal(tl_sim_button_open(&h->buttons[h->n_buttons++], &h->tm), 0);
	h->open = true;
	h->clock = (struct tl_clock){.mono_ns = virtual_ns, .ctx = h, .time_scale = 1.0};
	struct tl_limits lim = tl_limits_default;
	tl_engine_init(&h->engine, &lim, NULL, 0);
	h->t = (struct tl_tick){
		.engine = &h->engine, .tm = &h->tm, .act = &h->act, .buttons = h->buttons,
		.n_buttons = h->n_buttons, .devices_open = &h->open, .clock = &h->clock,
		.hooks = &hooks, .ctx = h, .period_ns = 100000000LL, .button_poll_ns = 10000000LL,
	};
	tl_tick_init(&h->t);
}

static void host_free(struct host *h)
{
	for (int i = 0; i < h->n_buttons; i++)
		tl_button_close(&h->buttons[i]);
	h->tm.ops->close(&h->tm);
}

/* Starts name at the current virtual time (a command between ticks, as in the daemon). */
static void start(struct host *h, const char *name)
{
	struct tl_protocol p;
	struct tl_err err;
	const struct tl_device_caps caps = {.max_speed_kmh = 16, .max_grade_pct = 25};
	assert_int_equal(tl_protocol_load_name(NULL, name, &caps, &p, &err), 0);
	struct tl_feedback fb;
	assert_int_equal(h->tm.ops->poll(&h->tm, tl_clock_real_ms(&h->clock), &fb), 0);
	assert_int_equal(tl_engine_start(&h->engine, tl_clock_test_ms(&h->clock), &p, &fb,
					 "technician", &err), 0);
	tl_tick_drain(&h->t, "tech");
	h->t.deadline_ns = h->now_ns; /* a tick at the start: the virtual patient's zero */
}

/* The daemon's loop, in virtual time: until the clock reaches until_ms, or (steps > 0)
 * for that many steps. Commands that came in are served on waking, before the step. */
static void run(struct host *h, int64_t until_ms, int steps)
{
	while (h->now_ns < until_ms * 1000000LL || steps > 0) {
		int64_t wake;
		enum tl_tick_due due = tl_tick_plan(&h->t, &wake);
		if (h->estops_queued) {
			serve(h);
			continue;
		}
		if (wake > h->now_ns)
			h->now_ns = wake;
		tl_tick_run_due(&h->t, due, wake);
		if (steps > 0 && --steps == 0)
			break;
	}
}

static int64_t event_ms(const struct host *h, enum tl_event_kind kind)
{
	for (int i = 0; i < h->n_events; i++)
		if (h->events[i].kind == kind)
			return h->events[i].t_ms;
	return -1;
}

/* The part of the wire log from the first call named `from` on. */
static const char *from(const struct host *h, const char *call)
{
	const char *p = strstr(h->wire, call);
	assert_non_null(p);
	return p;
}

static void assert_no_motion_after_estop(const struct host *h)
{
	const char *after = from(h, "estop@");
	assert_null(strstr(after, "speed@"));
	assert_null(strstr(after, "grade@"));
	assert_null(strstr(after, "start@"));
}

/* An emergency stop that arrives while the tick's poll is on the wire goes out as soon
 * as the poll is back: before the buttons, the engine and any motion of that tick. */
static void test_estop_mid_poll(void **state)
{
	(void)state;
	struct host *h = &host;
	host_init(h, -1, -1);
	start(h, "gardner-skinner");
	run(h, 5000, 0);
	assert_int_equal(h->engine.session.state, TL_STATE_RUNNING);
	h->wire[0] = '\0';
	h->call_takes_ns = 20 * 1000000LL; /* a 20 ms transaction */
	h->arrive_during = "poll";
	run(h, 0, 1); /* the next tick */
	assert_string_equal(h->wire, "poll@5100 estop@5120");
	assert_int_equal(h->estop_served_ns, 5120 * 1000000LL);
	assert_int_equal(h->engine.session.state, TL_STATE_EMERGENCY_STOPPED);
	assert_int_equal(h->engine.session.end_reason, TL_END_EMERGENCY_STOP);
	h->call_takes_ns = 0;
	run(h, 10000, 0);
	assert_no_motion_after_estop(h);
	host_free(h);
}

/* Between the speed write and the grade write of one motion (a stage that changes
 * both), an emergency stop preempts the grade write: it goes out next. */
static void test_estop_between_speed_and_grade(void **state)
{
	(void)state;
	struct host *h = &host;
	host_init(h, -1, -1);
	start(h, "bruce"); /* stage 2 changes both speed and grade */
	run(h, 170000, 0);
	assert_int_equal(h->engine.session.stage, 0);
	h->wire[0] = '\0';
	h->call_takes_ns = 10 * 1000000LL;
	h->arrive_during = "speed";
	run(h, 190000, 0);
	const char *first_speed = from(h, "speed@");
	assert_non_null(strstr(first_speed, "estop@"));
	/* the call after the speed write is the stop, not the grade */
	const char *next = strchr(first_speed, ' ');
	assert_non_null(next);
	assert_memory_equal(next + 1, "estop@", 6);
	assert_no_motion_after_estop(h);
	assert_int_equal(h->engine.session.state, TL_STATE_EMERGENCY_STOPPED);
	host_free(h);
}

/* A poll that fails after the driver's retries (300 ms on the wire) with an emergency
 * stop arriving meanwhile: the stop goes out right after it, not a tick later. */
static void test_estop_during_retry(void **state)
{
	(void)state;
	struct host *h = &host;
	host_init(h, -1, -1);
	start(h, "gardner-skinner");
	run(h, 3000, 0);
	h->wire[0] = '\0';
	h->call_takes_ns = 300 * 1000000LL;
	h->poll_fails = true;
	h->arrive_during = "poll";
	run(h, 0, 1);
	assert_string_equal(h->wire, "poll@3100 estop@3400");
	assert_int_equal(h->engine.session.state, TL_STATE_EMERGENCY_STOPPED);
	h->call_takes_ns = 0;
	h->poll_fails = false;
	run(h, 6000, 0);
	assert_no_motion_after_estop(h);
	host_free(h);
}

/* A stage boundary between two ticks: the new target goes out at the boundary, not at
 * the next tick. The ticks here run 50 ms off the whole tenths of a second. */
static void test_stage_boundary_between_ticks(void **state)
{
	(void)state;
	struct host *h = &host;
	host_init(h, -1, -1);
	h->now_ns = 50 * 1000000LL; /* the test starts at 50 ms of test time */
	start(h, "gardner-skinner");
	h->t.deadline_ns += 50 * 1000000LL; /* ticks at 100, 200, ... ms: 50 ms off the start */
	run(h, 119000, 0);
	h->wire[0] = '\0';
	h->n_events = 0;
	run(h, 120300, 0);
	/* Gardner-Skinner's stage 2 (2 % grade) begins 120 s into the test (event times are
	 * test times), at 120.05 s on the clock: between the ticks at 120.0 and 120.1 s. */
	assert_int_equal(event_ms(h, TL_EV_STAGE), 120000);
	const char *grade = from(h, "grade@");
	int64_t at;
	assert_int_equal(sscanf(grade, "grade@%lld", (long long *)&at), 1);
	assert_int_equal(at, 120050); /* at the boundary, before the tick at 120.1 s */
	host_free(h);
}

/* A press of a sampled button between ticks is taken within the button period and
 * recorded at its own time, not at the next tick. */
static void test_press_between_ticks(void **state)
{
	(void)state;
	struct host *h = &host;
	host_init(h, 42.33, -1);
	start(h, "gardner-skinner");
	run(h, 42300, 0);
	assert_int_equal(event_ms(h, TL_EV_ONSET), -1);
	h->wire[0] = '\0';
	run(h, 42350, 0); /* before the tick at 42.4 s */
	assert_int_equal(event_ms(h, TL_EV_ONSET), 42330); /* the sample at 42.33 s */
	assert_null(strstr(h->wire, "poll@42400"));
	host_free(h);
}

/* The same sequence with no emergency stop: a whole walk to the virtual patient's max
 * press, with the belt stopped at the end and the endpoints the dry run gives. */
static void test_whole_walk(void **state)
{
	(void)state;
	struct host *h = &host;
	host_init(h, 95.3, 301.7);
	start(h, "gardner-skinner");
	run(h, 400000, 0);
	assert_int_equal(h->engine.session.ep.cot_ms, 95300);
	assert_int_equal(h->engine.session.ep.pwt_ms, 301700);
	assert_null(strstr(h->wire, "estop@"));
	assert_non_null(strstr(h->wire, "stop@"));
	assert_true(h->publishes > 4000);
	host_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_estop_mid_poll),
		cmocka_unit_test(test_estop_between_speed_and_grade),
		cmocka_unit_test(test_estop_during_retry),
		cmocka_unit_test(test_stage_boundary_between_ticks),
		cmocka_unit_test(test_press_between_ticks),
		cmocka_unit_test(test_whole_walk),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
