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
};

void tl_actuator_init(struct tl_actuator *a, struct tl_treadmill *tm);
/* Applies m; returns 0, or -1 with tm->err set (the caller treats it as a fault). An
 * emergency stop is sent even if an earlier call failed. */
int tl_actuate(struct tl_actuator *a, int64_t now_ms, const struct tl_motion *m);

#endif
