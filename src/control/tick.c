/* tick.c - the control sequence (tick.h). */
#include "tick.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "tl_str.h"

static void say(struct tl_tick *t, int priority, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(struct tl_tick *t, int priority, const char *fmt, ...)
{
	if (!t->hooks->log)
		return;
	char line[320];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	t->hooks->log(t->ctx, priority, line);
}

static bool open_(const struct tl_tick *t)
{
	return *t->devices_open;
}

void tl_tick_init(struct tl_tick *t)
{
	t->last_state = t->engine->session.state;
	memset(&t->last_motion, 0, sizeof t->last_motion);
	t->link_lost = false;
	memset(t->button_failed, 0, sizeof t->button_failed);
	memset(t->button_gone, 0, sizeof t->button_gone);
	int64_t now = tl_clock_ns(t->clock);
	t->deadline_ns = now + t->period_ns;
	t->boundary_done_ns = INT64_MIN;
	t->buttons_due_ns = now + t->button_poll_ns;
	t->ticks = t->overruns = 0;
}

void tl_tick_publish(struct tl_tick *t, int64_t now_ms)
{
	if (t->hooks->publish)
		t->hooks->publish(t->ctx, now_ms, &t->last_motion);
}

void tl_tick_drain(struct tl_tick *t, const char *operator_id)
{
	struct tl_session *s = &t->engine->session;
	struct tl_event ev;
	bool any = false;
	while (tl_session_next_event(s, &ev)) {
		any = true;
		/* Presses and commands carry the operator; the protocol's own events do not. */
		bool by_person = !strcmp(ev.source, "technician");
		if (t->hooks->event)
			t->hooks->event(t->ctx, &ev, by_person ? operator_id : NULL);
	}
	if (s->state != t->last_state) {
		enum tl_state from = t->last_state;
		t->last_state = s->state;
		if (t->hooks->state_changed)
			t->hooks->state_changed(t->ctx, from, s->state);
		any = true;
	}
	if (any && t->hooks->drained)
		t->hooks->drained(t->ctx);
}

static bool estop_waiting(void *ctx)
{
	struct tl_tick *t = ctx;
	return t->hooks->estop_waiting && t->hooks->estop_waiting(t->ctx);
}

static void serve_estops(struct tl_tick *t)
{
	if (t->hooks->serve_estops)
		t->hooks->serve_estops(t->ctx);
}

void tl_tick_actuate(struct tl_tick *t, int64_t now_ms, const struct tl_motion *m)
{
	t->last_motion = *m;
	if (!open_(t))
		return; /* nothing to command; start is refused until a reconnect succeeds */
	/* Set on every call: a reconnect re-initialises the actuator. */
	t->act->stop_waiting = estop_waiting;
	t->act->stop_ctx = t;
	int rc = tl_actuate(t->act, tl_clock_real_ms(t->clock), m);
	if (rc == TL_ACTUATE_PREEMPTED) {
		/* The stop goes out now, not after the rest of this motion; whatever the
		 * motion left unsent is sent by the next actuation if it is still wanted. */
		serve_estops(t);
		return;
	}
	if (rc == TL_ACTUATE_OK)
		return;
	/* A driver that cannot take a command is a fault: stop, latched, recorded. */
	say(t, LOG_ERR, "driver: %s", t->tm->err);
	tl_engine_driver_fault(t->engine, now_ms, t->tm->err);
	struct tl_motion stop = tl_engine_tick(t->engine, now_ms, NULL);
	t->last_motion = stop;
	tl_actuate(t->act, tl_clock_real_ms(t->clock), &stop);
}

void tl_tick_estop(struct tl_tick *t, const char *source)
{
	int64_t now = tl_clock_test_ms(t->clock);
	struct tl_motion m = tl_engine_estop(t->engine, now, source);
	tl_tick_actuate(t, now, &m);
}

bool tl_tick_button_sampled(const struct tl_tick *t, int i)
{
	return tl_button_fd(&t->buttons[i]) < 0;
}

void tl_tick_button_failure(struct tl_tick *t, int i, const char *why)
{
	if (!t->button_failed[i]) {
		say(t, LOG_ERR, "patient button: %s", why);
		tl_strcpy(t->button_why[i], sizeof t->button_why[i], why);
	}
	t->button_failed[i] = true;
}

const char *tl_tick_button_error(const struct tl_tick *t)
{
	for (int i = 0; i < t->n_buttons && i < TL_TICK_BUTTONS_MAX; i++)
		if (t->button_failed[i]) /* the first that fails; the others are in the log */
			return t->button_why[i];
	return "";
}

void tl_tick_devices_reopened(struct tl_tick *t)
{
	t->link_lost = false;
	memset(t->button_failed, 0, sizeof t->button_failed);
	memset(t->button_gone, 0, sizeof t->button_gone);
}

/* The patient's buttons: all of them (only == NULL) or those marked in only[]. A press
 * counts at the time its input went active; a press while no test walks is the
 * patient's, and is only logged. Returns the presses seen. */
static int button_presses(struct tl_tick *t, int64_t real_ms, int64_t now, const bool *only)
{
	int seen = 0;
	for (int i = 0; i < t->n_buttons; i++) {
		if ((only && !only[i]) || t->button_gone[i])
			continue;
		struct tl_press p[4];
		int n = tl_button_poll(&t->buttons[i], real_ms, p, 4);
		if (n < 0) {
			tl_tick_button_failure(t, i, t->buttons[i].err);
			continue;
		}
		t->button_failed[i] = false;
		seen += n;
		for (int k = 0; k < n; k++) {
			struct tl_err err;
			if (p[k].kind == TL_PRESS_FOOT) {
				/* the cuff's, not the session's: the cuff keeps real time */
				if (t->hooks->foot)
					t->hooks->foot(t->ctx, p[k].t_ms, p[k].source);
				else
					say(t, LOG_INFO, "%s foot switch ignored: no cuff is configured",
					    p[k].source);
				continue;
			}
			int64_t at = tl_clock_test_of_real(t->clock, p[k].t_ms);
			if (at > now)
				at = now;
			int rc = p[k].kind == TL_PRESS_ONSET
					 ? tl_engine_onset(t->engine, at, p[k].source, &err)
					 : tl_engine_max(t->engine, at, p[k].source, &err);
			if (rc)
				say(t, LOG_INFO, "%s press ignored: %s", p[k].source, err.msg);
		}
	}
	return seen;
}

void tl_tick_buttons(struct tl_tick *t, const bool *only)
{
	bool which[TL_TICK_BUTTONS_MAX] = {false};
	if (!only) {
		for (int i = 0; i < t->n_buttons; i++)
			which[i] = tl_tick_button_sampled(t, i);
		only = which;
	}
	int64_t now = tl_clock_test_ms(t->clock);
	if (button_presses(t, tl_clock_real_ms(t->clock), now, only) > 0) {
		tl_tick_drain(t, NULL);
		tl_tick_publish(t, now);
	}
}

void tl_tick(struct tl_tick *t)
{
	struct tl_engine *e = t->engine;
	int64_t real_ms = tl_clock_real_ms(t->clock);
	int64_t now = tl_clock_test_ms(t->clock);
	if (!open_(t)) {
		/* No treadmill after a failed reconnect: no test can be active (start is
		 * refused), so there is nothing to move; keep status alive. */
		t->last_motion = tl_engine_tick(e, now, NULL);
		tl_tick_drain(t, NULL);
		tl_tick_publish(t, now);
		return;
	}
	struct tl_feedback fb = {0};
	const struct tl_feedback *fbp = &fb;
	if (t->tm->ops->poll(t->tm, real_ms, &fb)) {
		/* No reading this tick; the guard turns a lasting silence into a fault, whose
		 * alarm then carries the driver's message. */
		fbp = NULL;
		tl_engine_no_reading(e, fb.detail[0] ? fb.detail : t->tm->err);
	}
	t->link_lost = fbp == NULL && fb.link_lost;
	serve_estops(t);
	button_presses(t, real_ms, now, NULL);
	if (t->hooks->before_engine)
		t->hooks->before_engine(t->ctx, now);
	struct tl_motion m = tl_engine_tick(e, now, fbp);
	tl_tick_actuate(t, now, &m);
	if (t->tm->ops->keepalive)
		t->tm->ops->keepalive(t->tm, tl_clock_real_ms(t->clock));
	tl_tick_drain(t, NULL);
	tl_tick_publish(t, now);
	const struct tl_session *s = &e->session;
	if (s->state != TL_STATE_IDLE && !tl_state_terminal(s->state) && fbp && t->hooks->sample) {
		struct tl_tick_sample smp = {
			.t_ms = tl_session_test_ms(s, now),
			.target_speed_kmh = m.speed_kmh,
			.target_grade_pct = m.grade_pct,
			.actual_speed_kmh = fb.speed_kmh,
			.actual_grade_pct = fb.grade_pct,
			.distance_m = s->ep.distance_m,
		};
		t->hooks->sample(t->ctx, &smp);
	}
}

void tl_tick_step(struct tl_tick *t)
{
	int64_t now = tl_clock_test_ms(t->clock);
	struct tl_motion m = tl_engine_step(t->engine, now);
	tl_tick_actuate(t, now, &m);
	tl_tick_drain(t, NULL);
	tl_tick_publish(t, now);
}

/* Monotonic ns of the next sample of the buttons between ticks, or INT64_MAX: only while
 * a test walks, and only for sources that cannot be waited on. */
static int64_t buttons_ns(const struct tl_tick *t)
{
	if (!open_(t) || !tl_session_walking(&t->engine->session))
		return INT64_MAX;
	for (int i = 0; i < t->n_buttons; i++)
		if (tl_tick_button_sampled(t, i))
			return t->buttons_due_ns;
	return INT64_MAX;
}

enum tl_tick_due tl_tick_plan(const struct tl_tick *t, int64_t *wake)
{
	int64_t boundary = tl_clock_ns_of_test(t->clock, tl_engine_next_change_ms(t->engine));
	enum tl_tick_due due = TL_DUE_TICK;
	*wake = t->deadline_ns;
	if (boundary < t->deadline_ns && boundary > t->boundary_done_ns) {
		due = TL_DUE_BOUNDARY;
		*wake = boundary;
	}
	int64_t buttons = buttons_ns(t);
	if (buttons < *wake) {
		/* a boundary comes round again after the sample */
		due = TL_DUE_BUTTONS;
		*wake = buttons;
	}
	return due;
}

void tl_tick_run_due(struct tl_tick *t, enum tl_tick_due due, int64_t wake)
{
	switch (due) {
	case TL_DUE_BOUNDARY:
		t->boundary_done_ns = wake;
		tl_tick_step(t);
		return;
	case TL_DUE_BUTTONS: {
		tl_tick_buttons(t, NULL);
		t->buttons_due_ns += t->button_poll_ns;
		int64_t now = tl_clock_ns(t->clock);
		if (t->buttons_due_ns < now)
			t->buttons_due_ns = now; /* a slow source: again at once, no backlog */
		return;
	}
	case TL_DUE_TICK: {
		int64_t woke = tl_clock_ns(t->clock);
		tl_tick(t);
		t->ticks++;
		t->buttons_due_ns = woke + t->button_poll_ns; /* the tick polled them */
		t->deadline_ns += t->period_ns;
		if (tl_clock_ns(t->clock) > t->deadline_ns) {
			/* The tick took longer than a period (a slow line at a high rate): count it
			 * and run the next one at once, re-anchored to now, so the wire is never
			 * left idle and no backlog of ticks builds up. */
			t->overruns++;
			t->deadline_ns = tl_clock_ns(t->clock);
		}
		return;
	}
	}
}
