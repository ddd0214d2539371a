/* schedule.h - what the protocol asks for at a given protocol time.
 *
 * Pure function of (protocol, time): no state, so there is nothing to drift. Stage
 * boundaries are the exact sums of stage durations in integer milliseconds. */
#ifndef TL_SCHEDULE_H
#define TL_SCHEDULE_H

#include <stdbool.h>
#include <stdint.h>

#include "protocol.h"

struct tl_target {
	bool belt_on;
	double speed_kmh;
	double grade_pct;
};

struct tl_schedule_point {
	int stage;              /* index into protocol->stages, -1 once past the end */
	struct tl_target target;
	int64_t stage_start_ms; /* protocol time the stage began */
	int64_t next_change_ms; /* protocol time of the next boundary (the end, at the last) */
};

/* The stage in force at protocol time t_ms (t_ms >= 0). A boundary belongs to the stage
 * that begins there. */
void tl_schedule_at(const struct tl_protocol *p, int64_t t_ms, struct tl_schedule_point *out);

#endif
