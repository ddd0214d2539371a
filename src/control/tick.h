/* tick.h - the control sequence, one copy of it: what happens, and in which order, at a
 * tick, at a stage boundary between ticks, on the patient buttons between ticks and on an
 * emergency stop; and which of these is due next.
 *
 * treadlabd's control thread and `treadlab dry-run` both run it, as do the virtual-time
 * tests of the sequence (tests/unit/test_tick.c). The host gives the clock, the driver,
 * the actuator and the buttons, and hooks for what only some hosts have: a command queue
 * with emergency stops in it, a store, a status to publish, a log. The sequence reads no
 * clock but the one it is given and does no I/O but the driver's and the buttons'.
 *
 * A tick, in this order:
 *  1. poll the treadmill (speed, grade, status, faults);
 *  2. serve the emergency stops that came meanwhile (hooks.serve_estops);
 *  3. read the patient buttons: a press counts at the time its input went active;
 *  4. let the host stop a test it cannot record (hooks.before_engine);
 *  5. the engine: session, guard, endpoints: safe motion out;
 *  6. hand the motion to the driver through the actuator; between two of its driver
 *     commands an emergency stop that is waiting preempts the rest (hooks.estop_waiting);
 *  7. feed the device's watchdog (keepalive) when the driver has one;
 *  8. hand the events and the state change to the host, then publish;
 *  9. keep a sample of the reading while a test is active.
 * Between ticks: at a stage boundary the new target goes out at once (engine step,
 * actuate, drain, publish); while the patient walks, buttons that cannot be waited on
 * are sampled every button period. */
#ifndef TL_TICK_H
#define TL_TICK_H

#include <stdbool.h>
#include <stdint.h>

#include "buttons.h"
#include "engine.h"
#include "motion.h"
#include "tl_clock.h"
#include "treadmill.h"

#define TL_TICK_BUTTONS_MAX 4

/* What the tick read while a test was active. */
struct tl_tick_sample {
	int64_t t_ms; /* test time since the start */
	double target_speed_kmh, target_grade_pct;
	double actual_speed_kmh, actual_grade_pct;
	double distance_m;
};

/* What the host does at the sequence's points; any may be NULL. ctx is tl_tick.ctx. */
struct tl_tick_hooks {
	/* Take the emergency stops waiting in the host's queue and carry each out with
	 * tl_tick_estop(), now. */
	void (*serve_estops)(void *ctx);
	/* Whether an emergency stop is waiting (asked between two driver commands). */
	bool (*estop_waiting)(void *ctx);
	/* Before the engine's tick (test time now): the host may stop the test for a reason
	 * of its own, e.g. its record cannot be written. */
	void (*before_engine)(void *ctx, int64_t now_ms);
	/* An event the engine made; operator_id is the person a command came from, or NULL. */
	void (*event)(void *ctx, const struct tl_event *ev, const char *operator_id);
	/* The session's state changed (after that change's events). */
	void (*state_changed)(void *ctx, enum tl_state from, enum tl_state to);
	/* Events or a state change were handed over (endpoints may have moved). */
	void (*drained)(void *ctx);
	/* What the driver was last given, after every step of the sequence. */
	void (*publish)(void *ctx, int64_t now_ms, const struct tl_motion *m);
	/* A tick's reading while a test is active. */
	void (*sample)(void *ctx, const struct tl_tick_sample *s);
	/* A line for the log (syslog priorities). */
	void (*log)(void *ctx, int priority, const char *msg);
	/* The technician's foot switch (the Doppler signal is back), pressed at real_ms (the
	 * clock's real ms, the cuff's samples' time base); source names the button source.
	 * NULL: the press is logged and ignored (no cuff). */
	void (*foot)(void *ctx, int64_t real_ms, const char *source);
};

/* What is due next (tl_tick_plan). */
enum tl_tick_due { TL_DUE_TICK, TL_DUE_BOUNDARY, TL_DUE_BUTTONS };

struct tl_tick {
	/* given by the host */
	struct tl_engine *engine;
	struct tl_treadmill *tm;
	struct tl_actuator *act;
	struct tl_button *buttons;
	int n_buttons;
	const bool *devices_open; /* the treadmill and buttons are open (the host's flag) */
	const struct tl_clock *clock;
	const struct tl_tick_hooks *hooks;
	void *ctx;
	int64_t period_ns;        /* the tick's period */
	int64_t button_poll_ns;   /* buttons sampled between ticks this often while walking */

	/* the sequence's own */
	enum tl_state last_state;
	struct tl_motion last_motion;  /* what the driver was last given */
	bool link_lost;                /* the last poll found the treadmill's link gone */
	bool button_failed[TL_TICK_BUTTONS_MAX]; /* logged once per failure */
	bool button_gone[TL_TICK_BUTTONS_MAX];   /* a box that hung up: no longer waited on */
	char button_why[TL_TICK_BUTTONS_MAX][192];
	int64_t deadline_ns;           /* the next tick */
	int64_t boundary_done_ns;      /* the last boundary stepped */
	int64_t buttons_due_ns;        /* the next sample of the buttons between ticks */
	uint64_t ticks, overruns;      /* the host may read these (they are the control's) */
};

/* Sets up t over what the host filled in (engine ... button_poll_ns); the first tick is
 * one period from now. */
void tl_tick_init(struct tl_tick *t);

/* Which step is due next and when (monotonic ns, *wake): the tick, a stage boundary
 * before it, or a sample of the buttons before either. */
enum tl_tick_due tl_tick_plan(const struct tl_tick *t, int64_t *wake);
/* Carries out a step that tl_tick_plan gave, once its time has come, and moves the plan
 * on. A tick that ran past the next deadline is counted as an overrun and the next one
 * runs at once, re-anchored to now (no backlog). */
void tl_tick_run_due(struct tl_tick *t, enum tl_tick_due due, int64_t wake);

/* The steps themselves. */
void tl_tick(struct tl_tick *t);
void tl_tick_step(struct tl_tick *t);
/* Reads the buttons marked in only[] (NULL: those that are sampled, not waited on), with
 * no treadmill reading and no motion; a press goes to the engine and the host at once. */
void tl_tick_buttons(struct tl_tick *t, const bool *only);
/* The emergency stop, from source: engine, then the driver, then the host. */
void tl_tick_estop(struct tl_tick *t, const char *source);
/* Hands m to the driver; a driver that cannot take it is a latched fault stop. now is
 * test time. */
void tl_tick_actuate(struct tl_tick *t, int64_t now_ms, const struct tl_motion *m);
/* Hands the engine's new events and state change to the host. */
void tl_tick_drain(struct tl_tick *t, const char *operator_id);
/* Publishes what the driver was last given. */
void tl_tick_publish(struct tl_tick *t, int64_t now_ms);
/* A button that failed: logged once, kept for status. */
void tl_tick_button_failure(struct tl_tick *t, int i, const char *why);
/* The buttons that are read by sampling, not by waiting on a descriptor. */
bool tl_tick_button_sampled(const struct tl_tick *t, int i);
/* The first failing button's reason, or "" while all work. */
const char *tl_tick_button_error(const struct tl_tick *t);
/* Forgets button failures and the lost link (after a reconnect). */
void tl_tick_devices_reopened(struct tl_tick *t);

#endif
