#include "engine.h"

#include <stdio.h>
#include <string.h>

void tl_engine_init(struct tl_engine *e, const struct tl_limits *lim,
		    const struct tl_session_opts *opts, int64_t now_ms)
{
	memset(e, 0, sizeof *e);
	tl_session_init(&e->session, opts);
	tl_guard_init(&e->guard, lim, now_ms);
}

int tl_engine_start(struct tl_engine *e, int64_t now_ms, const struct tl_protocol *p,
		    const struct tl_feedback *reading, const char *source, struct tl_err *err)
{
	if (tl_session_active(&e->session)) {
		tl_err_set(err, "start: a test is already in progress (state %s)",
			   tl_state_name(e->session.state));
		return -1;
	}
	if (reading)
		e->last_fb = *reading;
	else
		e->last_fb.valid = false;
	if (e->guard.estopped && e->guard.stop_since_ms >= 0) {
		tl_err_set(err, "start: the belt is still stopping after an emergency stop");
		return -1;
	}
	/* The belt is only started on a treadmill that answered and reports nothing
	 * against it. */
	const struct tl_feedback *fb = &e->last_fb;
	const char *detail = fb->detail[0] ? fb->detail : NULL;
	if (!fb->valid) {
		tl_err_set(err, "start: no reading from the treadmill%s%s; check its connection",
			   detail ? ": " : "", detail ? detail : "");
		return -1;
	}
	if (fb->device_stopped || (fb->faults & TL_FAULT_OWN_STOP)) {
		tl_err_set(err, "start: the treadmill reports its own stop (%s); clear it at the "
			   "treadmill, then reconnect it (treadlab reconnect)",
			   detail ? detail : "device stopped");
		return -1;
	}
	if (fb->faults) {
		tl_err_set(err, "start: the treadmill reports a fault (%s); clear it at the treadmill, "
			   "then reconnect it (treadlab reconnect)", detail ? detail : "fault");
		return -1;
	}
	if (tl_guard_arm(&e->guard, now_ms, fb)) {
		tl_err_set(err, "start: the treadmill reports its own stop; clear it at the treadmill, "
			   "then reconnect it (treadlab reconnect)");
		return -1;
	}
	if (tl_session_start(&e->session, now_ms, p, source, err)) {
		tl_guard_disarm(&e->guard, now_ms);
		return -1;
	}
	e->alarm = TL_GUARD_OK;
	e->alarm_detail[0] = '\0';
	return 0;
}

struct tl_motion tl_engine_estop(struct tl_engine *e, int64_t now_ms, const char *source)
{
	struct tl_motion m = tl_guard_estop(&e->guard, now_ms);
	tl_session_estop(&e->session, now_ms, source);
	return m;
}

int tl_engine_onset(struct tl_engine *e, int64_t now_ms, const char *source, struct tl_err *err)
{
	return tl_session_onset(&e->session, now_ms, source, err);
}

int tl_engine_max(struct tl_engine *e, int64_t now_ms, const char *source, struct tl_err *err)
{
	int rc = tl_session_max(&e->session, now_ms, source, err);
	if (rc == 0 && e->session.state == TL_STATE_STOPPING)
		tl_guard_disarm(&e->guard, now_ms);
	return rc;
}

int tl_engine_relief(struct tl_engine *e, int64_t now_ms, const char *posture, const char *source,
		     struct tl_err *err)
{
	return tl_session_relief(&e->session, now_ms, posture, source, err);
}

int tl_engine_stop(struct tl_engine *e, int64_t now_ms, const char *reason, const char *source,
		   struct tl_err *err)
{
	int rc = tl_session_stop(&e->session, now_ms, reason, source, err);
	if (rc == 0)
		tl_guard_disarm(&e->guard, now_ms);
	return rc;
}

int tl_engine_finish(struct tl_engine *e, int64_t now_ms, const char *source, struct tl_err *err)
{
	return tl_session_finish(&e->session, now_ms, source, err);
}

int tl_engine_shutdown(struct tl_engine *e, int64_t now_ms)
{
	tl_guard_disarm(&e->guard, now_ms);
	return tl_session_shutdown(&e->session, now_ms);
}

static void describe(struct tl_engine *e, enum tl_guard_verdict v, const struct tl_feedback *fb)
{
	e->alarm = v;
	if (fb && fb->detail[0])
		snprintf(e->alarm_detail, sizeof e->alarm_detail, "%s: %s", tl_guard_verdict_name(v),
			 fb->detail);
	else
		snprintf(e->alarm_detail, sizeof e->alarm_detail, "%s", tl_guard_verdict_name(v));
}

struct tl_motion tl_engine_step(struct tl_engine *e, int64_t now_ms)
{
	struct tl_target target = tl_session_step(&e->session, now_ms, NULL);
	if (!tl_session_walking(&e->session) && e->session.state != TL_STATE_RESTING)
		tl_guard_disarm(&e->guard, now_ms);
	return tl_guard_step(&e->guard, now_ms, &target);
}

int64_t tl_engine_next_change_ms(const struct tl_engine *e)
{
	return tl_session_next_change_ms(&e->session);
}

struct tl_motion tl_engine_tick(struct tl_engine *e, int64_t now_ms, const struct tl_feedback *fb)
{
	if (fb) {
		e->last_fb = *fb;
		e->why_no_reading[0] = '\0';
	} else {
		e->last_fb.valid = false;
		snprintf(e->last_fb.detail, sizeof e->last_fb.detail, "%s", e->why_no_reading);
	}
	enum tl_guard_verdict v = tl_guard_feedback(&e->guard, now_ms, fb);
	if (v != TL_GUARD_OK) {
		describe(e, v, fb ? fb : &e->last_fb);
		if (v == TL_GUARD_DEVICE_STOPPED)
			tl_session_device_stop(&e->session, now_ms, e->alarm_detail);
		else if (v == TL_GUARD_NOT_STOPPING)
			tl_session_estop(&e->session, now_ms, "safety");
		else
			tl_session_fault(&e->session, now_ms, e->alarm_detail);
	}
	struct tl_target target = tl_session_step(&e->session, now_ms, fb);
	/* Walking ended on its own this tick (protocol end, maximum duration). */
	if (!tl_session_walking(&e->session) && e->session.state != TL_STATE_RESTING)
		tl_guard_disarm(&e->guard, now_ms);
	return tl_guard_step(&e->guard, now_ms, &target);
}

void tl_engine_no_reading(struct tl_engine *e, const char *why)
{
	snprintf(e->why_no_reading, sizeof e->why_no_reading, "%s", why ? why : "");
}

void tl_engine_driver_fault(struct tl_engine *e, int64_t now_ms, const char *what)
{
	tl_guard_disarm(&e->guard, now_ms);
	/* The first cause stays on the alarm: a stop that fails on a dead wire is a
	 * consequence of the fault already shown, not news. */
	if (e->alarm == TL_GUARD_OK) {
		e->alarm = TL_GUARD_DEVICE_FAULT;
		snprintf(e->alarm_detail, sizeof e->alarm_detail, "driver: %s", what);
	}
	tl_session_fault(&e->session, now_ms, e->alarm_detail);
}
