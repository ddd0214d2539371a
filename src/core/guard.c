#include "guard.h"

#include <math.h>

const struct tl_limits tl_limits_default = {
	.max_speed_kmh = 16.0,
	.max_grade_pct = 25.0,
	.max_accel_kmh_per_s = 1.0,
	.max_grade_rate_pct_per_s = 0.5,
	.feedback_timeout_ms = 1000,
	.speed_tolerance_kmh = 1.0,
	.grade_tolerance_pct = 2.0,
	.deviation_timeout_ms = 5000,
	.stop_timeout_ms = 20000,
};

/* Below this the belt counts as stopped. */
#define STOPPED_KMH 0.05

void tl_guard_init(struct tl_guard *g, const struct tl_limits *lim, int64_t now_ms)
{
	*g = (struct tl_guard){
		.lim = *lim,
		.last_ms = now_ms,
		.last_fb_ms = now_ms,
		.speed_dev_since_ms = -1,
		.grade_dev_since_ms = -1,
		.stop_since_ms = -1,
	};
}

int tl_guard_arm(struct tl_guard *g, int64_t now_ms, const struct tl_feedback *fb)
{
	if (fb && fb->valid && fb->device_stopped)
		return -1;
	g->armed = true;
	g->estopped = false;
	g->tripped = TL_GUARD_OK;
	g->belt_on = false;
	g->cmd_speed_kmh = 0;
	g->seen_running = false;
	g->speed_dev_since_ms = g->grade_dev_since_ms = -1;
	g->stop_since_ms = -1;
	g->last_ms = now_ms;
	g->last_fb_ms = now_ms;
	if (fb && fb->valid)
		g->cmd_grade_pct = fb->grade_pct;
	return 0;
}

static void latch_stop(struct tl_guard *g, int64_t now_ms)
{
	if (g->armed || g->belt_on)
		g->stop_since_ms = now_ms;
	g->armed = false;
	g->belt_on = false;
	g->cmd_speed_kmh = 0;
}

struct tl_motion tl_guard_estop(struct tl_guard *g, int64_t now_ms)
{
	latch_stop(g, now_ms);
	g->estopped = true;
	return (struct tl_motion){.estop = true, .grade_pct = g->cmd_grade_pct};
}

void tl_guard_disarm(struct tl_guard *g, int64_t now_ms)
{
	latch_stop(g, now_ms);
}

static enum tl_guard_verdict trip(struct tl_guard *g, int64_t now_ms, enum tl_guard_verdict v)
{
	if (g->tripped == TL_GUARD_OK)
		g->tripped = v;
	latch_stop(g, now_ms);
	return v;
}

/* Tracks how long |a - b| > tol has lasted; true once it exceeds timeout. */
static bool deviates(int64_t *since, int64_t now_ms, double a, double b, double tol, int64_t timeout)
{
	if (fabs(a - b) <= tol) {
		*since = -1;
		return false;
	}
	if (*since < 0)
		*since = now_ms;
	return now_ms - *since > timeout;
}

enum tl_guard_verdict tl_guard_feedback(struct tl_guard *g, int64_t now_ms,
					const struct tl_feedback *fb)
{
	bool valid = fb && fb->valid;
	if (valid)
		g->last_fb_ms = now_ms;

	/* A belt told to stop that keeps moving is escalated whatever the state. */
	if (valid && g->stop_since_ms >= 0) {
		if (fb->speed_kmh <= STOPPED_KMH)
			g->stop_since_ms = -1;
		else if (now_ms - g->stop_since_ms > g->lim.stop_timeout_ms && !g->estopped) {
			g->estopped = true;
			if (g->tripped == TL_GUARD_OK)
				g->tripped = TL_GUARD_NOT_STOPPING;
			return TL_GUARD_NOT_STOPPING;
		}
	}
	if (!g->armed)
		return TL_GUARD_OK;

	/* A tripped drive stops the belt as well (the driver reports the device stopped),
	 * but it is a fault of the treadmill, not a stop by its safety chain or a person. */
	const uint32_t own_stop = TL_FAULT_OWN_STOP;
	if (fb && (fb->faults & TL_FAULT_DRIVE) && !(fb->faults & own_stop))
		return trip(g, now_ms, TL_GUARD_DEVICE_FAULT);
	if (valid && fb->device_stopped)
		return trip(g, now_ms, TL_GUARD_DEVICE_STOPPED);
	if (valid && fb->belt_running)
		g->seen_running = true;
	/* The belt stopped while we commanded it to run: the device did that itself. */
	if (valid && g->belt_on && g->seen_running && !fb->belt_running)
		return trip(g, now_ms, TL_GUARD_DEVICE_STOPPED);
	if (fb && (fb->faults & own_stop))
		return trip(g, now_ms, TL_GUARD_DEVICE_STOPPED);
	if (fb && (fb->faults & (TL_FAULT_COMM | TL_FAULT_CRC | TL_FAULT_DRIVE | TL_FAULT_REFUSED)))
		return trip(g, now_ms, TL_GUARD_DEVICE_FAULT);
	if (now_ms - g->last_fb_ms > g->lim.feedback_timeout_ms)
		return trip(g, now_ms, TL_GUARD_STALE);
	if (!valid)
		return TL_GUARD_OK;
	if (g->belt_on && deviates(&g->speed_dev_since_ms, now_ms, fb->speed_kmh, g->cmd_speed_kmh,
				   g->lim.speed_tolerance_kmh, g->lim.deviation_timeout_ms))
		return trip(g, now_ms, TL_GUARD_SPEED_DEVIATION);
	if (deviates(&g->grade_dev_since_ms, now_ms, fb->grade_pct, g->cmd_grade_pct,
		     g->lim.grade_tolerance_pct, g->lim.deviation_timeout_ms))
		return trip(g, now_ms, TL_GUARD_GRADE_DEVIATION);
	return TL_GUARD_OK;
}

static double clamp(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static double toward(double from, double to, double max_step)
{
	if (fabs(to - from) <= max_step)
		return to;
	return from < to ? from + max_step : from - max_step;
}

struct tl_motion tl_guard_step(struct tl_guard *g, int64_t now_ms, const struct tl_target *target)
{
	double dt = now_ms > g->last_ms ? (double)(now_ms - g->last_ms) / 1000.0 : 0.0;
	g->last_ms = now_ms;
	if (g->estopped)
		return (struct tl_motion){.estop = true, .grade_pct = g->cmd_grade_pct};
	if (!g->armed || !target) {
		latch_stop(g, now_ms);
		return (struct tl_motion){.grade_pct = g->cmd_grade_pct};
	}
	/* A target that is not a number never reaches the driver: no speed, grade held. */
	double want_speed = target->belt_on && isfinite(target->speed_kmh) ? target->speed_kmh : 0.0;
	double want_grade = isfinite(target->grade_pct) ? target->grade_pct : g->cmd_grade_pct;
	double speed = clamp(want_speed, 0.0, g->lim.max_speed_kmh);
	double grade = clamp(want_grade, 0.0, g->lim.max_grade_pct);
	g->clamped = speed != want_speed || grade != want_grade;
	if (target->belt_on && !g->belt_on) {
		g->belt_on = true;
		g->stop_since_ms = -1;
		/* After a rest the device may report the belt stopped for a poll or two. */
		g->seen_running = false;
	} else if (!target->belt_on && g->belt_on) {
		/* A rest stage: stop the belt, stay armed for the next walk. */
		g->belt_on = false;
		g->stop_since_ms = now_ms;
		g->speed_dev_since_ms = -1;
	}
	g->cmd_speed_kmh = g->belt_on ? toward(g->cmd_speed_kmh, speed, g->lim.max_accel_kmh_per_s * dt) : 0.0;
	g->cmd_grade_pct = toward(g->cmd_grade_pct, grade, g->lim.max_grade_rate_pct_per_s * dt);
	return (struct tl_motion){.belt_on = g->belt_on, .speed_kmh = g->cmd_speed_kmh,
				  .grade_pct = g->cmd_grade_pct};
}

const char *tl_guard_verdict_name(enum tl_guard_verdict v)
{
	switch (v) {
	case TL_GUARD_OK:
		return "ok";
	case TL_GUARD_STALE:
		return "stale_feedback";
	case TL_GUARD_SPEED_DEVIATION:
		return "speed_deviation";
	case TL_GUARD_GRADE_DEVIATION:
		return "grade_deviation";
	case TL_GUARD_DEVICE_STOPPED:
		return "device_stopped";
	case TL_GUARD_DEVICE_FAULT:
		return "device_fault";
	case TL_GUARD_NOT_STOPPING:
		return "not_stopping";
	}
	return "?";
}
