/* motion.h - hands the safety guard's motion to a driver, sending only what changed.
 *
 * The daemon and the dry run call nothing else that moves the belt: every speed, grade,
 * start and stop a driver receives comes from a tl_motion the guard produced. */
#ifndef TL_MOTION_H
#define TL_MOTION_H

#include <stdbool.h>

#include "guard.h"
#include "treadmill.h"

struct tl_actuator {
	struct tl_treadmill *tm;
	bool running;        /* start sent, no stop since */
	bool estopped;       /* emergency stop sent since the last start */
	bool have_speed, have_grade;
	double sent_speed_kmh, sent_grade_pct; /* as the driver reported sending them */
	double asked_speed_kmh, asked_grade_pct;
	/* Asked between two commands of one tl_actuate() call (after the start, after the
	 * speed): true when an emergency stop is waiting to be served. The call then returns
	 * TL_ACTUATE_PREEMPTED at once, so that the stop does not wait behind the rest of the
	 * motion (a grade write is one transaction on the wire). NULL: never asked. */
	bool (*stop_waiting)(void *ctx);
	void *stop_ctx;
};

enum {
	TL_ACTUATE_OK = 0,
	TL_ACTUATE_FAILED = -1,   /* tm->err says why; the caller treats it as a fault */
	TL_ACTUATE_PREEMPTED = 1, /* stop_waiting() said yes: serve the stop, then actuate again */
};

/* Clears a, its stop_waiting hook included. */
void tl_actuator_init(struct tl_actuator *a, struct tl_treadmill *tm);
/* Applies m; returns one of TL_ACTUATE_*. An emergency stop is sent even if an earlier
 * call failed. What a preempted call left unsent is sent by the next call. */
int tl_actuate(struct tl_actuator *a, int64_t now_ms, const struct tl_motion *m);

#endif
