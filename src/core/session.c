#include "session.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Below this measured speed the belt counts as stopped. */
#define STOPPED_KMH 0.05

const struct tl_session_opts tl_session_opts_default = {
	.reminder_min = {1, 3, 5, 10},
	.n_reminders = 4,
};

void tl_session_init(struct tl_session *s, const struct tl_session_opts *opts)
{
	memset(s, 0, sizeof *s);
	s->opts = opts ? *opts : tl_session_opts_default;
	s->state = TL_STATE_IDLE;
	s->stage = -1;
	tl_endpoints_init(&s->ep);
}

static void emit(struct tl_session *s, int64_t t_ms, enum tl_event_kind kind, const char *source,
		 const char *detail, double value)
{
	if (s->n_events == TL_EVENT_QUEUE) {
		s->dropped_events++;
		return;
	}
	struct tl_event *e = &s->events[s->n_events++];
	e->t_ms = t_ms;
	e->kind = kind;
	snprintf(e->source, sizeof e->source, "%s", source ? source : "system");
	snprintf(e->detail, sizeof e->detail, "%s", detail ? detail : "");
	e->value = value;
}

bool tl_session_next_event(struct tl_session *s, struct tl_event *out)
{
	if (s->n_events == 0)
		return false;
	*out = s->events[0];
	memmove(&s->events[0], &s->events[1], sizeof s->events[0] * (s->n_events - 1));
	s->n_events--;
	return true;
}

bool tl_state_terminal(enum tl_state st)
{
	return st == TL_STATE_COMPLETE || st == TL_STATE_EMERGENCY_STOPPED ||
	       st == TL_STATE_FAULTED || st == TL_STATE_ABORTED;
}

bool tl_session_active(const struct tl_session *s)
{
	return s->state == TL_STATE_RUNNING || s->state == TL_STATE_RESTING ||
	       s->state == TL_STATE_STOPPING || s->state == TL_STATE_RECOVERY;
}

bool tl_session_walking(const struct tl_session *s)
{
	return s->state == TL_STATE_RUNNING;
}

int64_t tl_session_test_ms(const struct tl_session *s, int64_t now_ms)
{
	return s->state == TL_STATE_IDLE ? 0 : now_ms - s->start_ms;
}

static bool walking_over(const struct tl_session *s)
{
	return s->end_reason != TL_END_NONE;
}

/* Ends walking for good at test time t. */
static void end_walking(struct tl_session *s, int64_t t, enum tl_end_reason reason, bool is_max,
			const char *source)
{
	if (walking_over(s))
		return;
	tl_endpoints_walk_end(&s->ep, t, is_max, true);
	s->end_reason = reason;
	emit(s, t, TL_EV_WALK_END, source, tl_end_reason_name(reason), NAN);
}

/* Enters stage k at test time t (the exact boundary). */
static void enter_stage(struct tl_session *s, int k, int64_t t)
{
	const struct tl_stage *st = &s->protocol.stages[k];
	if (st->kind == TL_STAGE_WALK) {
		/* A walk segment begins at the start and after each rest, not at every stage. */
		if (k == 0 || s->protocol.stages[k - 1].kind == TL_STAGE_REST)
			tl_endpoints_walk_start(&s->ep, t);
		s->state = TL_STATE_RUNNING;
	} else if (s->state == TL_STATE_RUNNING) {
		tl_endpoints_walk_end(&s->ep, t, false, false);
		emit(s, t, TL_EV_WALK_END, "protocol", "rest", NAN);
		s->state = TL_STATE_RESTING;
	}
	s->stage = k;
	char d[64];
	if (st->kind == TL_STAGE_WALK)
		snprintf(d, sizeof d, "stage %d: walk %.2f km/h at %.1f %%", k + 1, st->speed_kmh,
			 st->grade_pct);
	else
		snprintf(d, sizeof d, "stage %d: seated rest", k + 1);
	emit(s, t, TL_EV_STAGE, "protocol", d, k);
}

/* The protocol's own end: max_duration_s for a symptom-limited protocol (walking
 * continues until the patient stops or the limit), protocol_end otherwise. */
static void advance_protocol(struct tl_session *s, int64_t t)
{
	const struct tl_protocol *p = &s->protocol;
	int64_t length = tl_protocol_length_ms(p);
	int64_t end_pt = length < p->max_duration_ms ? length : p->max_duration_ms;
	int64_t pt = t + s->skip_ms;
	struct tl_schedule_point sp;
	tl_schedule_at(p, pt < end_pt ? pt : end_pt - 1, &sp);
	for (int k = s->stage + 1; k <= sp.stage; k++)
		enter_stage(s, k, p->stages[k].start_ms - s->skip_ms);
	if (pt >= end_pt) {
		enum tl_end_reason r = TL_END_PROTOCOL_END;
		if (p->max_duration_ms < length ||
		    (p->endpoint == TL_ENDPOINT_SYMPTOM_LIMITED && p->max_duration_ms == length))
			r = TL_END_MAX_DURATION;
		if (s->state == TL_STATE_RESTING)
			r = TL_END_PROTOCOL_END;
		end_walking(s, end_pt - s->skip_ms, r, false, "protocol");
		s->state = TL_STATE_STOPPING;
	}
}

int64_t tl_session_next_change_ms(const struct tl_session *s)
{
	if (s->state != TL_STATE_RUNNING && s->state != TL_STATE_RESTING)
		return INT64_MAX;
	const struct tl_protocol *p = &s->protocol;
	int64_t length = tl_protocol_length_ms(p);
	int64_t end_pt = length < p->max_duration_ms ? length : p->max_duration_ms;
	int64_t pt = s->now_ms + s->skip_ms;
	struct tl_schedule_point sp;
	tl_schedule_at(p, pt < end_pt ? pt : end_pt - 1, &sp);
	int64_t next = sp.next_change_ms < end_pt ? sp.next_change_ms : end_pt;
	return s->start_ms + next - s->skip_ms;
}

static void check_belt_stop(struct tl_session *s, int64_t t, const struct tl_feedback *fb)
{
	if (!fb || !fb->valid || fb->speed_kmh > STOPPED_KMH)
		return;
	if (s->state == TL_STATE_STOPPING) {
		tl_endpoints_belt_stopped(&s->ep, t, true);
		emit(s, t, TL_EV_BELT_STOPPED, "device", NULL, NAN);
		s->state = TL_STATE_RECOVERY;
	} else if (s->state == TL_STATE_RESTING && s->ep.n_walks &&
		   s->ep.walks[s->ep.n_walks - 1].belt_stop_ms < 0) {
		tl_endpoints_belt_stopped(&s->ep, t, false);
		emit(s, t, TL_EV_BELT_STOPPED, "device", "rest", NAN);
	}
}

static void reminders(struct tl_session *s, int64_t t)
{
	while (s->next_reminder < s->opts.n_reminders) {
		int min = s->opts.reminder_min[s->next_reminder];
		int64_t due = s->ep.belt_stop_ms + (int64_t)min * 60000;
		if (t < due)
			break;
		char d[64];
		snprintf(d, sizeof d, "take post-exercise pressures (minute %d)", min);
		emit(s, due, TL_EV_REMINDER, "protocol", d, min);
		s->next_reminder++;
	}
}

struct tl_target tl_session_step(struct tl_session *s, int64_t now_ms, const struct tl_feedback *fb)
{
	struct tl_target off = {0};
	if (s->state == TL_STATE_IDLE)
		return off;
	int64_t t = now_ms - s->start_ms;
	if (t < s->now_ms)
		t = s->now_ms; /* never step backwards */
	s->now_ms = t;
	if (fb && fb->valid) {
		tl_endpoints_sample(&s->ep, t, fb->speed_kmh);
		s->last_speed_kmh = fb->speed_kmh;
	}
	if (s->state == TL_STATE_RUNNING || s->state == TL_STATE_RESTING)
		advance_protocol(s, t);
	check_belt_stop(s, t, fb);
	if (s->state == TL_STATE_RECOVERY)
		reminders(s, t);
	if (s->state != TL_STATE_RUNNING)
		return off;
	struct tl_schedule_point sp;
	tl_schedule_at(&s->protocol, t + s->skip_ms, &sp);
	return sp.target;
}

/* Brings the protocol up to now_ms before a command acts: a press between two ticks
 * must see the stage boundaries and the protocol's end that came before it. */
static void catch_up(struct tl_session *s, int64_t now_ms)
{
	int64_t t = now_ms - s->start_ms;
	if (t < s->now_ms)
		return;
	s->now_ms = t;
	if (s->state == TL_STATE_RUNNING || s->state == TL_STATE_RESTING)
		advance_protocol(s, t);
}

static int refuse(struct tl_session *s, struct tl_err *err, const char *what)
{
	tl_err_set(err, "%s: no test is walking (state %s)", what, tl_state_name(s->state));
	return -1;
}

int tl_session_start(struct tl_session *s, int64_t now_ms, const struct tl_protocol *p,
		     const char *source, struct tl_err *err)
{
	if (tl_session_active(s)) {
		tl_err_set(err, "start: a test is already in progress (state %s)", tl_state_name(s->state));
		return -1;
	}
	if (p->n_stages == 0 || p->stages[0].kind != TL_STAGE_WALK) {
		tl_err_set(err, "start: protocol '%s' has no walk to start with", p->name);
		return -1;
	}
	struct tl_session_opts opts = s->opts;
	tl_session_init(s, &opts);
	s->protocol = *p;
	s->start_ms = now_ms;
	s->state = TL_STATE_RUNNING;
	emit(s, 0, TL_EV_START, source, p->name, tl_protocol_length_ms(p) / 1000.0);
	enter_stage(s, 0, 0);
	return 0;
}

int tl_session_onset(struct tl_session *s, int64_t now_ms, const char *source, struct tl_err *err)
{
	catch_up(s, now_ms);
	if (s->state != TL_STATE_RUNNING)
		return refuse(s, err, "onset");
	int64_t t = now_ms - s->start_ms;
	bool first = tl_endpoints_onset(&s->ep, t);
	emit(s, t, TL_EV_ONSET, source, first ? "first" : "repeat", NAN);
	return 0;
}

int tl_session_max(struct tl_session *s, int64_t now_ms, const char *source, struct tl_err *err)
{
	catch_up(s, now_ms);
	if (s->state != TL_STATE_RUNNING)
		return refuse(s, err, "max");
	int64_t t = now_ms - s->start_ms;
	emit(s, t, TL_EV_MAX, source, NULL, NAN);
	const struct tl_protocol *p = &s->protocol;
	int next_walk = tl_protocol_next_walk(p, (size_t)s->stage);
	if (p->endpoint == TL_ENDPOINT_EACH_WALK && next_walk > s->stage + 1) {
		/* Two-stage test: this walk ends; the rest that follows starts now. */
		int rest = s->stage + 1;
		tl_endpoints_walk_end(&s->ep, t, true, false);
		emit(s, t, TL_EV_WALK_END, source, "max_claudication", s->ep.n_walks);
		s->skip_ms = p->stages[rest].start_ms - t;
		s->stage = rest;
		s->state = TL_STATE_RESTING;
		char d[64];
		snprintf(d, sizeof d, "stage %d: seated rest", rest + 1);
		emit(s, t, TL_EV_STAGE, "protocol", d, rest);
		return 0;
	}
	end_walking(s, t, TL_END_MAX_CLAUDICATION, true, source);
	s->state = TL_STATE_STOPPING;
	return 0;
}

int tl_session_relief(struct tl_session *s, int64_t now_ms, const char *posture, const char *source,
		      struct tl_err *err)
{
	static const char *const postures[] = {"standing", "sitting", "bending_forward"};
	bool known = false;
	for (size_t i = 0; i < sizeof postures / sizeof postures[0]; i++)
		known |= posture && !strcmp(posture, postures[i]);
	if (!known) {
		tl_err_set(err, "relief: posture '%s' is not one of standing, sitting, bending_forward",
			   posture ? posture : "");
		return -1;
	}
	if (s->state != TL_STATE_RECOVERY && s->state != TL_STATE_RESTING) {
		tl_err_set(err, "relief: the belt has not stopped after walking (state %s)",
			   tl_state_name(s->state));
		return -1;
	}
	int64_t t = now_ms - s->start_ms;
	const struct tl_walk_segment *w = s->ep.n_walks ? &s->ep.walks[s->ep.n_walks - 1] : NULL;
	if (!tl_endpoints_relief(&s->ep, t)) {
		tl_err_set(err, "relief: %s", w && w->relief_ms >= 0 ? "already recorded for this walk"
								 : "the belt has not stopped yet");
		return -1;
	}
	emit(s, t, TL_EV_RELIEF, source, posture, (double)(t - w->belt_stop_ms) / 1000.0);
	return 0;
}

/* A controlled stop of walking (or of a rest between walks) for `reason`. */
static int stop_walking(struct tl_session *s, int64_t now_ms, enum tl_end_reason reason,
			const char *detail, const char *source, struct tl_err *err)
{
	catch_up(s, now_ms);
	if (s->state != TL_STATE_RUNNING && s->state != TL_STATE_RESTING) {
		tl_err_set(err, "stop: walking is not in progress (state %s)", tl_state_name(s->state));
		return -1;
	}
	int64_t t = now_ms - s->start_ms;
	emit(s, t, TL_EV_STOP, source, detail, NAN);
	end_walking(s, t, reason, false, source);
	s->state = TL_STATE_STOPPING;
	return 0;
}

int tl_session_stop(struct tl_session *s, int64_t now_ms, const char *reason, const char *source,
		    struct tl_err *err)
{
	return stop_walking(s, now_ms, TL_END_OPERATOR_STOP,
			    reason && *reason ? reason : "operator stop", source, err);
}

int tl_session_store_failure(struct tl_session *s, int64_t now_ms, const char *what,
			     struct tl_err *err)
{
	char detail[TL_DETAIL_MAX];
	snprintf(detail, sizeof detail, "the record cannot be written: %s", what ? what : "?");
	return stop_walking(s, now_ms, TL_END_STORE_FAILURE, detail, "system", err);
}

/* Ends an active test in a terminal state, recording why. */
static int terminate(struct tl_session *s, int64_t now_ms, enum tl_state st,
		     enum tl_end_reason reason, enum tl_event_kind kind, const char *source,
		     const char *detail)
{
	if (!tl_session_active(s))
		return 0;
	catch_up(s, now_ms);
	int64_t t = now_ms - s->start_ms;
	if (t < s->now_ms)
		t = s->now_ms;
	emit(s, t, kind, source, detail, NAN);
	end_walking(s, t, reason, false, source);
	s->state = st;
	return 1;
}

/* In recovery the belt has already stopped after walking, so an emergency stop has
 * nothing left to stop: ending the test there would throw away what a technician is
 * still recording at the patient's side (relief, post-exercise pressures, finish), and
 * turn a max-claudication test into an emergency-stopped one. The stop is recorded (and
 * the guard latches it), the end reason stays the one that ended walking, and the test
 * stays in recovery. Anywhere earlier the belt may be moving, and the stop ends the test. */
int tl_session_estop(struct tl_session *s, int64_t now_ms, const char *source)
{
	if (s->state == TL_STATE_RECOVERY) {
		int64_t t = now_ms - s->start_ms;
		if (t < s->now_ms)
			t = s->now_ms;
		emit(s, t, TL_EV_ESTOP, source, "emergency stop in recovery (the belt had stopped)",
		     NAN);
		return 1;
	}
	return terminate(s, now_ms, TL_STATE_EMERGENCY_STOPPED, TL_END_EMERGENCY_STOP, TL_EV_ESTOP,
			 source, "emergency stop");
}

int tl_session_shutdown(struct tl_session *s, int64_t now_ms)
{
	return terminate(s, now_ms, TL_STATE_ABORTED, TL_END_SHUTDOWN, TL_EV_SHUTDOWN, "system",
			 "daemon shutting down");
}

void tl_session_fault(struct tl_session *s, int64_t now_ms, const char *what)
{
	terminate(s, now_ms, TL_STATE_FAULTED, TL_END_FAULT, TL_EV_FAULT, "safety", what);
}

void tl_session_device_stop(struct tl_session *s, int64_t now_ms, const char *what)
{
	terminate(s, now_ms, TL_STATE_EMERGENCY_STOPPED, TL_END_EMERGENCY_STOP, TL_EV_DEVICE_STOP,
		  "device", what);
}

int tl_session_finish(struct tl_session *s, int64_t now_ms, const char *source, struct tl_err *err)
{
	if (s->state != TL_STATE_RECOVERY) {
		tl_err_set(err, "finish: the test is not in recovery (state %s)", tl_state_name(s->state));
		return -1;
	}
	emit(s, now_ms - s->start_ms, TL_EV_COMPLETE, source, NULL, NAN);
	s->state = TL_STATE_COMPLETE;
	return 0;
}

const char *tl_state_name(enum tl_state st)
{
	static const char *const names[] = {
		[TL_STATE_IDLE] = "idle",
		[TL_STATE_RUNNING] = "running",
		[TL_STATE_RESTING] = "resting",
		[TL_STATE_STOPPING] = "stopping",
		[TL_STATE_RECOVERY] = "recovery",
		[TL_STATE_COMPLETE] = "complete",
		[TL_STATE_EMERGENCY_STOPPED] = "emergency_stopped",
		[TL_STATE_FAULTED] = "faulted",
		[TL_STATE_ABORTED] = "aborted",
	};
	return (unsigned)st < sizeof names / sizeof names[0] ? names[st] : "?";
}

const char *tl_end_reason_name(enum tl_end_reason r)
{
	static const char *const names[] = {
		[TL_END_NONE] = "none",
		[TL_END_MAX_CLAUDICATION] = "max_claudication",
		[TL_END_PROTOCOL_END] = "protocol_end",
		[TL_END_MAX_DURATION] = "max_duration",
		[TL_END_OPERATOR_STOP] = "operator_stop",
		[TL_END_EMERGENCY_STOP] = "emergency_stop",
		[TL_END_FAULT] = "fault",
		[TL_END_SHUTDOWN] = "shutdown",
		[TL_END_STORE_FAILURE] = "store_failure",
	};
	return (unsigned)r < sizeof names / sizeof names[0] ? names[r] : "?";
}

const char *tl_event_kind_name(enum tl_event_kind k)
{
	static const char *const names[] = {
		[TL_EV_START] = "start",
		[TL_EV_STAGE] = "stage",
		[TL_EV_ONSET] = "onset",
		[TL_EV_MAX] = "max",
		[TL_EV_WALK_END] = "walk_end",
		[TL_EV_BELT_STOPPED] = "belt_stopped",
		[TL_EV_RELIEF] = "relief",
		[TL_EV_STOP] = "stop",
		[TL_EV_ESTOP] = "estop",
		[TL_EV_FAULT] = "fault",
		[TL_EV_DEVICE_STOP] = "device_stop",
		[TL_EV_REMINDER] = "reminder",
		[TL_EV_COMPLETE] = "complete",
		[TL_EV_SHUTDOWN] = "shutdown",
		[TL_EV_NOTE] = "note",
	};
	return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}
