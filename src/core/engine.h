/* engine.h - one test's logic: session, safety guard and endpoints wired together.
 *
 * The daemon's control loop and the dry run drive the same engine: commands go in with
 * the caller's time, each tick takes the device's feedback and returns the motion for
 * the driver, which has passed through the safety guard. Pure: no I/O, no clock. */
#ifndef TL_ENGINE_H
#define TL_ENGINE_H

#include "guard.h"
#include "session.h"

struct tl_engine {
	struct tl_session session;
	struct tl_guard guard;
	struct tl_feedback last_fb;  /* the last feedback seen (valid or not) */
	enum tl_guard_verdict alarm; /* the last verdict other than OK, for status */
	char alarm_detail[192];
	char why_no_reading[128];    /* the driver's message for a missing reading */
};

void tl_engine_init(struct tl_engine *e, const struct tl_limits *lim,
		    const struct tl_session_opts *opts, int64_t now_ms);

/* Starts a test against fb, a reading of the treadmill taken just before (NULL: none).
 * Refused if a test is in progress, there is no reading, or the treadmill reports a
 * fault or its own stop (safety key, e-stop) that only a person at it can clear. */
int tl_engine_start(struct tl_engine *e, int64_t now_ms, const struct tl_protocol *p,
		    const struct tl_feedback *fb, const char *source, struct tl_err *err);
/* Emergency stop: always accepted; the returned motion goes to the driver at once. */
struct tl_motion tl_engine_estop(struct tl_engine *e, int64_t now_ms, const char *source);
/* Operator stop, max press and the rest end walking; the guard then stops the belt. */
int tl_engine_onset(struct tl_engine *e, int64_t now_ms, const char *source, struct tl_err *err);
int tl_engine_max(struct tl_engine *e, int64_t now_ms, const char *source, struct tl_err *err);
int tl_engine_relief(struct tl_engine *e, int64_t now_ms, const char *posture, const char *source,
		     struct tl_err *err);
int tl_engine_stop(struct tl_engine *e, int64_t now_ms, const char *reason, const char *source,
		   struct tl_err *err);
int tl_engine_finish(struct tl_engine *e, int64_t now_ms, const char *source, struct tl_err *err);
int tl_engine_shutdown(struct tl_engine *e, int64_t now_ms);

/* The driver could not carry out a command: fault stop, latched, recorded. */
void tl_engine_driver_fault(struct tl_engine *e, int64_t now_ms, const char *what);

/* A step on the schedule alone, between ticks, with no new reading: at a stage
 * boundary the new stage's target reaches the driver without waiting for the next tick. */
struct tl_motion tl_engine_step(struct tl_engine *e, int64_t now_ms);

/* The caller's time of the next protocol change (stage boundary or end of walking), or
 * INT64_MAX when none is due. */
int64_t tl_engine_next_change_ms(const struct tl_engine *e);

/* One control tick: feedback (NULL if none was read) in, safe motion out. */
struct tl_motion tl_engine_tick(struct tl_engine *e, int64_t now_ms, const struct tl_feedback *fb);

/* Why the next tick has no reading (the driver's message), so that a silence that
 * lasts into a stale-feedback stop says what the wire said; a reading clears it. */
void tl_engine_no_reading(struct tl_engine *e, const char *why);

#endif
