/* session.h - the test's state machine.
 *
 *   idle -> running (walk stages) <-> resting (rest stages) -> stopping -> recovery
 *        -> complete;  from any active state: emergency-stopped, faulted, aborted.
 *
 * Inputs are commands (start, onset, max, relief, stop, emergency stop, finish,
 * shutdown), device feedback and time; outputs are the target speed and grade and a
 * queue of events. Times passed in are the caller's monotonic ms; events carry test
 * time (ms since start). The first onset sets COT; a max press sets PWT and ends walking
 * (in an each-walk protocol it ends the current walk only). Every way walking ends has
 * its own end reason. Pure: no I/O, no clock. */
#ifndef TL_SESSION_H
#define TL_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "endpoints.h"
#include "feedback.h"
#include "protocol.h"
#include "schedule.h"
#include "tl_err.h"

enum tl_state {
	TL_STATE_IDLE,
	TL_STATE_RUNNING,
	TL_STATE_RESTING,
	TL_STATE_STOPPING,
	TL_STATE_RECOVERY,
	TL_STATE_COMPLETE,
	TL_STATE_EMERGENCY_STOPPED,
	TL_STATE_FAULTED,
	TL_STATE_ABORTED,
};

enum tl_end_reason {
	TL_END_NONE,
	TL_END_MAX_CLAUDICATION,
	TL_END_PROTOCOL_END,
	TL_END_MAX_DURATION,
	TL_END_OPERATOR_STOP,
	TL_END_EMERGENCY_STOP,
	TL_END_FAULT,
	TL_END_SHUTDOWN, /* the daemon was asked to stop during the test (SIGTERM) */
	TL_END_STORE_FAILURE, /* the record could not be written: a controlled stop */
};

enum tl_event_kind {
	TL_EV_START,        /* value: protocol length s */
	TL_EV_STAGE,        /* a stage began; value: stage index */
	TL_EV_ONSET,        /* patient's onset press; detail "first" or "repeat" */
	TL_EV_MAX,          /* patient's max press */
	TL_EV_WALK_END,     /* detail: end reason (or "rest" for a walk that a rest follows) */
	TL_EV_BELT_STOPPED, /* the measured belt speed reached zero */
	TL_EV_RELIEF,       /* detail: posture; value: recovery s */
	TL_EV_STOP,         /* operator stop; detail: the operator's reason */
	TL_EV_ESTOP,        /* emergency stop */
	TL_EV_FAULT,        /* detail: what */
	TL_EV_DEVICE_STOP,  /* the treadmill stopped by itself; detail: what it said */
	TL_EV_REMINDER,     /* post-exercise pressure reminder; value: minute */
	TL_EV_COMPLETE,
	TL_EV_SHUTDOWN,
	TL_EV_NOTE,         /* anything else worth keeping; detail says what */
};

#define TL_SOURCE_MAX 24
#define TL_DETAIL_MAX 128

struct tl_event {
	int64_t t_ms; /* test time */
	enum tl_event_kind kind;
	char source[TL_SOURCE_MAX]; /* "operator", "protocol", "safety", "device", "button-box", ... */
	char detail[TL_DETAIL_MAX];
	double value; /* NAN when the kind has none */
};

#define TL_EVENT_QUEUE 64
#define TL_MAX_REMINDERS 8

struct tl_session_opts {
	/* Post-exercise minutes at which to remind the technician to take pressures
	 * (docs/clinical.md, Post-exercise pressure timing: no single standard schedule). */
	int reminder_min[TL_MAX_REMINDERS];
	int n_reminders;
};

extern const struct tl_session_opts tl_session_opts_default;

struct tl_session {
	struct tl_session_opts opts;
	enum tl_state state;
	enum tl_end_reason end_reason;
	struct tl_protocol protocol;
	int64_t start_ms;  /* caller's clock at start */
	int64_t skip_ms;   /* protocol time skipped by each-walk max presses */
	int stage;         /* current stage index, -1 before start / after the end */
	int64_t now_ms;    /* test time of the last input */
	int next_reminder;
	double last_speed_kmh;
	struct tl_endpoints ep;
	/* events not yet drained, oldest first */
	struct tl_event events[TL_EVENT_QUEUE];
	size_t n_events;
	size_t dropped_events; /* must stay 0: the caller drains every tick */
};

void tl_session_init(struct tl_session *s, const struct tl_session_opts *opts);

/* Commands. Each returns 0, or -1 with err saying why it does not apply now (the
 * session is left unchanged). now_ms is the caller's monotonic clock. */
int tl_session_start(struct tl_session *s, int64_t now_ms, const struct tl_protocol *p,
		     const char *source, struct tl_err *err);
int tl_session_onset(struct tl_session *s, int64_t now_ms, const char *source, struct tl_err *err);
int tl_session_max(struct tl_session *s, int64_t now_ms, const char *source, struct tl_err *err);
int tl_session_relief(struct tl_session *s, int64_t now_ms, const char *posture, const char *source,
		      struct tl_err *err);
int tl_session_stop(struct tl_session *s, int64_t now_ms, const char *reason, const char *source,
		    struct tl_err *err);
/* The same controlled stop when the test's record cannot be written (what: the store's
 * error), with its own end reason; the test goes on to recovery as after any stop. */
int tl_session_store_failure(struct tl_session *s, int64_t now_ms, const char *what,
			     struct tl_err *err);
/* Always accepted; returns 1 if a test was active. Ends the test as emergency-stopped,
 * except in recovery (the belt already stopped): there the stop is recorded and the test
 * stays in recovery, so relief and finish can still be recorded. */
int tl_session_estop(struct tl_session *s, int64_t now_ms, const char *source);
int tl_session_finish(struct tl_session *s, int64_t now_ms, const char *source, struct tl_err *err);
/* Ends an active test as aborted (daemon shutdown); returns 1 if one was active. */
int tl_session_shutdown(struct tl_session *s, int64_t now_ms);
/* A fault stop (stale or deviating feedback, device fault) or the device's own stop. */
void tl_session_fault(struct tl_session *s, int64_t now_ms, const char *what);
void tl_session_device_stop(struct tl_session *s, int64_t now_ms, const char *what);

/* Advances time with the device's feedback (fb may be NULL); returns the target. */
struct tl_target tl_session_step(struct tl_session *s, int64_t now_ms, const struct tl_feedback *fb);

/* The caller's time of the next stage boundary or end of walking, INT64_MAX if none. */
int64_t tl_session_next_change_ms(const struct tl_session *s);

/* Pops the oldest event; false when none. */
bool tl_session_next_event(struct tl_session *s, struct tl_event *out);

bool tl_session_active(const struct tl_session *s);   /* a test is in progress */
bool tl_session_walking(const struct tl_session *s);  /* running state */
bool tl_state_terminal(enum tl_state st);
int64_t tl_session_test_ms(const struct tl_session *s, int64_t now_ms);

const char *tl_state_name(enum tl_state st);
const char *tl_end_reason_name(enum tl_end_reason r);
const char *tl_event_kind_name(enum tl_event_kind k);

#endif
