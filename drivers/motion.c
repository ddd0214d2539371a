#include "motion.h"

#include <math.h>
#include <string.h>

/* Changes smaller than these are not sent again. */
#define SPEED_EPS_KMH 0.005
#define GRADE_EPS_PCT 0.005

void tl_actuator_init(struct tl_actuator *a, struct tl_treadmill *tm)
{
	memset(a, 0, sizeof *a);
	a->tm = tm;
}

static bool preempted(const struct tl_actuator *a)
{
	return a->stop_waiting && a->stop_waiting(a->stop_ctx);
}

int tl_actuate(struct tl_actuator *a, int64_t now_ms, const struct tl_motion *m)
{
	const struct tl_treadmill_ops *ops = a->tm->ops;
	/* A stop is only marked sent once the driver took it: a failed send is retried on
	 * the next call. */
	if (m->estop) {
		if (a->estopped)
			return 0;
		a->running = false;
		a->have_speed = false;
		if (ops->emergency_stop(a->tm, now_ms))
			return -1;
		a->estopped = true;
		return 0;
	}
	if (!m->belt_on) {
		if (a->running) {
			a->have_speed = false;
			if (ops->stop(a->tm, now_ms))
				return -1;
			a->running = false;
		}
		return 0;
	}
	int rc = 0;
	if (!a->running) {
		if (ops->start(a->tm, now_ms))
			return -1;
		a->running = true;
		a->estopped = false;
		if (preempted(a))
			return TL_ACTUATE_PREEMPTED;
	}
	if (!a->have_speed || fabs(m->speed_kmh - a->asked_speed_kmh) > SPEED_EPS_KMH) {
		if (ops->set_speed(a->tm, m->speed_kmh, now_ms, &a->sent_speed_kmh))
			rc = -1;
		else {
			a->asked_speed_kmh = m->speed_kmh;
			a->have_speed = true;
		}
		if (preempted(a))
			return TL_ACTUATE_PREEMPTED;
	}
	if (!a->have_grade || fabs(m->grade_pct - a->asked_grade_pct) > GRADE_EPS_PCT) {
		if (ops->set_grade(a->tm, m->grade_pct, now_ms, &a->sent_grade_pct))
			rc = -1;
		else {
			a->asked_grade_pct = m->grade_pct;
			a->have_grade = true;
		}
	}
	return rc;
}
