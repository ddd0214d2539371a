/* cuff.h - reading an ankle or arm pressure from a cuff: the pure part (no I/O, no clock;
 * every time is the caller's monotonic ms).
 *
 * (a) The "signal back" mark: the technician holds a Doppler probe on the artery below
 *     the cuff and presses a foot switch when the signal returns while the cuff deflates;
 *     the systolic pressure is the cuff pressure at that instant: the last sample before
 *     the press carried on at the deflation rate of the second before it (a sample after
 *     the press must close the bracket, but the vent that may follow it does not count).
 * (b) The cycle of a source that can inflate: idle -> inflating to the ceiling ->
 *     deflating at the rate -> marked -> venting -> idle. Every stop, error, time limit
 *     and over-pressure vents.
 * (c) The safety limits (docs/hardware.md, "Cuff safety limits"; docs/clinical.md,
 *     "Cuff deflation"). */
#ifndef TL_CUFF_H
#define TL_CUFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tl_err.h"

/* IEC 80601-2-30 (automated non-invasive sphygmomanometers), adult mode, as quoted (its
 * text unverified here): the cuff pressure never above 300 mmHg, and not above 15 mmHg
 * for longer than 180 s (docs/hardware.md, "Cuff safety limits"). */
#define TL_CUFF_MAX_MMHG 300.0
#define TL_CUFF_VENOUS_MMHG 15.0
#define TL_CUFF_MAX_ABOVE_VENOUS_MS 180000
/* AHA scientific statement on measuring the ABI (Aboyans V et al., Circulation
 * 2012;126:2890-2909): inflate about 20 mmHg past the point where the Doppler signal
 * disappears, deflate slowly. 2 mmHg/s, the default here, is a slow manual deflation's
 * usual rate, unverified against the statement's text (docs/clinical.md, "Cuff
 * deflation"). */
#define TL_CUFF_DEFLATE_MMHG_S 2.0
#define TL_CUFF_DEFLATE_MIN_MMHG_S 1.0
#define TL_CUFF_DEFLATE_MAX_MMHG_S 5.0
#define TL_CUFF_OVERSHOOT_MMHG 20.0

/* ---- (a) the mark ------------------------------------------------------------------- */

struct tl_cuff_sample {
	int64_t t_ms; /* when the pressure was read (caller's or device's monotonic ms) */
	double mmhg;
};

struct tl_cuff_mark {
	double mmhg;        /* the cuff pressure at the press (see (a) above) */
	int64_t t_ms;       /* the press */
	int interval_ms;    /* the gap between the two samples that bracket it */
	double rate_mmhg_s; /* the deflation rate measured around it (positive: falling) */
};

/* The window before the press over which the deflation rate is measured. */
#define TL_CUFF_RATE_WINDOW_MS 1000

/* The pressure at press_ms from n samples in strictly increasing time order. Refused
 * (-1, err says why and where) when the samples are out of order or not finite, the press
 * lies outside them, or the samples that bracket it are more than max_gap_ms apart. */
int tl_cuff_mark_at(const struct tl_cuff_sample *s, size_t n, int64_t press_ms, int max_gap_ms,
		    struct tl_cuff_mark *out, struct tl_err *err);

/* ---- (b) the cycle -------------------------------------------------------------------- */

enum tl_cuff_state {
	TL_CUFF_IDLE,
	TL_CUFF_INFLATING,
	TL_CUFF_DEFLATING,
	TL_CUFF_MARKED,
	TL_CUFF_VENTING,
};

/* What the caller sends the source now. */
enum tl_cuff_action {
	TL_CUFF_DO_NOTHING,
	TL_CUFF_DO_INFLATE, /* inflate_to(ceiling) */
	TL_CUFF_DO_DEFLATE, /* deflate_at(rate) */
	TL_CUFF_DO_VENT,    /* vent(); repeated every step until the cuff is down */
};

struct tl_cuff_cycle_cfg {
	double ceiling_mmhg;     /* inflate to this */
	double rate_mmhg_s;      /* then deflate at this */
	double venous_mmhg;      /* "deflated": at or below this */
	int max_above_venous_ms; /* the longest the cuff may stay above venous_mmhg */
	int inflate_limit_ms;    /* the longest inflation may take to reach the ceiling */
};

/* Defaults: ceiling 200 mmHg, 2 mmHg/s, 15 mmHg, 180 s, 30 s to inflate. */
void tl_cuff_cycle_cfg_default(struct tl_cuff_cycle_cfg *c);

/* Refuses settings beyond the safety limits: 0, or -1 with err naming the setting. */
int tl_cuff_cycle_cfg_check(const struct tl_cuff_cycle_cfg *c, struct tl_err *err);

struct tl_cuff_cycle {
	struct tl_cuff_cycle_cfg cfg;
	enum tl_cuff_state state;
	int64_t state_ms;       /* when the state was entered */
	int64_t above_since_ms; /* the cuff went above venous pressure; -1: it is not */
	bool have_pressure;
	double last_mmhg;
	bool vent_failed;       /* venting has not brought the cuff down within the limit */
	char why[160];          /* why the last vent was ordered, "" after a normal cycle */
};

void tl_cuff_cycle_init(struct tl_cuff_cycle *c, const struct tl_cuff_cycle_cfg *cfg);
const char *tl_cuff_state_name(enum tl_cuff_state s);

/* Starts a cycle from idle: TL_CUFF_DO_INFLATE. In any other state it starts nothing:
 * TL_CUFF_DO_NOTHING, with why set. */
enum tl_cuff_action tl_cuff_cycle_start(struct tl_cuff_cycle *c, int64_t now_ms);
/* One pressure reading at now_ms: the transitions and the limits. */
enum tl_cuff_action tl_cuff_cycle_step(struct tl_cuff_cycle *c, int64_t now_ms, double mmhg);
/* The foot switch: while deflating, marks and orders the vent; otherwise nothing. */
enum tl_cuff_action tl_cuff_cycle_mark(struct tl_cuff_cycle *c, int64_t now_ms);
/* The operator's stop, an error of the source, the program's exit: vent, with why. */
enum tl_cuff_action tl_cuff_cycle_abort(struct tl_cuff_cycle *c, int64_t now_ms, const char *why);
/* No reading arrived at now_ms: the time limits still apply. */
enum tl_cuff_action tl_cuff_cycle_tick(struct tl_cuff_cycle *c, int64_t now_ms);

#endif
