/* guard.h - the safety guard: the only path by which a speed or grade reaches a driver.
 *
 * It clamps targets to the site and device limits, limits acceleration and grade rate,
 * turns stale or deviating feedback into a fault stop, lets an emergency stop through
 * at once and latches every stop: a belt that was stopped (by the guard, the operator or
 * the device itself) is only moved again after tl_guard_arm(), which the daemon calls
 * only for a new test started by the operator (docs/hardware.md, Safety standards: software
 * must never restart a belt on its own). Pure: time is passed in. */
#ifndef TL_GUARD_H
#define TL_GUARD_H

#include <stdbool.h>
#include <stdint.h>

#include "feedback.h"
#include "schedule.h"

struct tl_limits {
	double max_speed_kmh;            /* site and device limit, the lower of the two */
	double max_grade_pct;
	double max_accel_kmh_per_s;      /* speed change per second, both ways */
	double max_grade_rate_pct_per_s; /* grade change per second */
	int64_t feedback_timeout_ms;     /* no valid feedback for longer: fault stop */
	double speed_tolerance_kmh;      /* |measured - commanded| beyond this ... */
	double grade_tolerance_pct;
	int64_t deviation_timeout_ms;    /* ... for longer than this: fault stop */
	int64_t stop_timeout_ms;         /* belt still moving this long after a stop: escalate */
};

/* Defaults for a clinical treadmill; the daemon's configuration overrides them. */
extern const struct tl_limits tl_limits_default;

/* What the driver is told to do. */
struct tl_motion {
	bool belt_on;     /* false: controlled stop (device decelerates) */
	bool estop;       /* emergency stop: the fastest stop the device has */
	double speed_kmh; /* commanded belt speed (0 when off) */
	double grade_pct; /* commanded grade */
};

enum tl_guard_verdict {
	TL_GUARD_OK,
	TL_GUARD_STALE,           /* feedback missing for longer than the timeout */
	TL_GUARD_SPEED_DEVIATION, /* measured speed away from the command too long */
	TL_GUARD_GRADE_DEVIATION, /* measured grade away from the command too long */
	TL_GUARD_DEVICE_STOPPED,  /* the device stopped the belt by itself */
	TL_GUARD_DEVICE_FAULT,    /* the device reports a fault (comm, drive, ...) */
	TL_GUARD_NOT_STOPPING,    /* belt still moving after a stop: escalated to e-stop */
};

struct tl_guard {
	struct tl_limits lim;
	bool armed;            /* a test may move the belt */
	bool estopped;         /* emergency stop latched */
	bool belt_on;          /* the command currently given */
	double cmd_speed_kmh;  /* rate-limited command */
	double cmd_grade_pct;
	int64_t last_ms;       /* time of the last step */
	int64_t last_fb_ms;    /* time of the last valid feedback */
	int64_t speed_dev_since_ms; /* -1: no deviation */
	int64_t grade_dev_since_ms;
	int64_t stop_since_ms; /* when the belt was told to stop, -1 if running */
	bool seen_running;     /* the device reported the belt running since arming */
	enum tl_guard_verdict tripped; /* the first verdict that latched a stop */
	bool clamped;          /* the last target was clamped to a limit */
};

void tl_guard_init(struct tl_guard *g, const struct tl_limits *lim, int64_t now_ms);
/* Allows motion for a new test (operator's start). Refused (returns -1) while the
 * device still reports itself stopped by its own safety chain. */
int tl_guard_arm(struct tl_guard *g, int64_t now_ms, const struct tl_feedback *fb);
/* Latches an emergency stop; the returned motion must go to the driver at once. */
struct tl_motion tl_guard_estop(struct tl_guard *g, int64_t now_ms);
/* Latches a controlled stop (operator stop, end of walking, fault). */
void tl_guard_disarm(struct tl_guard *g, int64_t now_ms);
/* Checks device feedback; a verdict other than OK latches a stop (an e-stop for
 * TL_GUARD_NOT_STOPPING). fb may be NULL when nothing was read this tick. */
enum tl_guard_verdict tl_guard_feedback(struct tl_guard *g, int64_t now_ms,
					const struct tl_feedback *fb);
/* Turns the session's target into a safe command for now_ms. */
struct tl_motion tl_guard_step(struct tl_guard *g, int64_t now_ms, const struct tl_target *target);

const char *tl_guard_verdict_name(enum tl_guard_verdict v);

#endif
