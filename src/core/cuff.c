/* cuff.c - the cuff's mark, cycle and limits (cuff.h). No I/O, no clock. */
#include "cuff.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* ---- the mark ----------------------------------------------------------------------- */

int tl_cuff_mark_at(const struct tl_cuff_sample *s, size_t n, int64_t press_ms, int max_gap_ms,
		    struct tl_cuff_mark *out, struct tl_err *err)
{
	if (n == 0) {
		tl_err_set(err, "cuff mark: no pressure samples around the press at %lld ms",
			   (long long)press_ms);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(s[i].mmhg)) {
			tl_err_set(err, "cuff mark: sample %zu (at %lld ms) is not a number", i,
				   (long long)s[i].t_ms);
			return -1;
		}
		if (i && s[i].t_ms <= s[i - 1].t_ms) {
			tl_err_set(err, "cuff mark: sample %zu at %lld ms is not after the one before "
				   "(%lld ms)", i, (long long)s[i].t_ms, (long long)s[i - 1].t_ms);
			return -1;
		}
	}
	if (press_ms < s[0].t_ms || press_ms > s[n - 1].t_ms) {
		tl_err_set(err, "cuff mark: the press at %lld ms is outside the samples (%lld to %lld ms)",
			   (long long)press_ms, (long long)s[0].t_ms, (long long)s[n - 1].t_ms);
		return -1;
	}
	size_t i = 0;
	while (i + 1 < n && s[i + 1].t_ms <= press_ms)
		i++;
	/* The deflation over the window before the press: the samples up to the last one at
	 * or before it. What follows the press may be the vent it ordered, or the hand that
	 * opened the valve as it pressed: it says nothing of the pressure at the press. */
	size_t a = i;
	while (a > 0 && s[a - 1].t_ms >= press_ms - TL_CUFF_RATE_WINDOW_MS)
		a--;
	bool have_rate = a < i;
	double rate = have_rate ? (s[a].mmhg - s[i].mmhg) / ((double)(s[i].t_ms - s[a].t_ms) / 1000.0)
				: 0;
	double v;
	int interval;
	if (s[i].t_ms == press_ms) {
		v = s[i].mmhg;
		interval = i + 1 < n ? (int)(s[i + 1].t_ms - s[i].t_ms)
			   : i ? (int)(s[i].t_ms - s[i - 1].t_ms) : 0;
	} else {
		/* a sample after the press must close the bracket: the source was alive */
		int64_t gap = s[i + 1].t_ms - s[i].t_ms;
		if (gap > max_gap_ms) {
			tl_err_set(err, "cuff mark: the samples around the press at %lld ms are %lld ms "
				   "apart (at most %d allowed)", (long long)press_ms, (long long)gap,
				   max_gap_ms);
			return -1;
		}
		double dt = (double)(press_ms - s[i].t_ms);
		if (have_rate) {
			/* carried on from the last sample before the press at the rate before it */
			v = s[i].mmhg - rate * dt / 1000.0;
		} else {
			/* one sample before the press: between it and the one after */
			v = s[i].mmhg + (s[i + 1].mmhg - s[i].mmhg) * dt / (double)gap;
			rate = (s[i].mmhg - s[i + 1].mmhg) / ((double)gap / 1000.0);
		}
		interval = (int)gap;
	}
	if (!have_rate && s[i].t_ms == press_ms && i > 0)
		rate = (s[i - 1].mmhg - s[i].mmhg) / ((double)(s[i].t_ms - s[i - 1].t_ms) / 1000.0);
	*out = (struct tl_cuff_mark){.mmhg = v, .t_ms = press_ms, .interval_ms = interval,
				     .rate_mmhg_s = rate};
	return 0;
}

/* ---- the limits ------------------------------------------------------------------------- */

void tl_cuff_cycle_cfg_default(struct tl_cuff_cycle_cfg *c)
{
	*c = (struct tl_cuff_cycle_cfg){
		.ceiling_mmhg = 200,
		.rate_mmhg_s = TL_CUFF_DEFLATE_MMHG_S,
		.venous_mmhg = TL_CUFF_VENOUS_MMHG,
		.max_above_venous_ms = TL_CUFF_MAX_ABOVE_VENOUS_MS,
		.inflate_limit_ms = 30000,
	};
}

int tl_cuff_cycle_cfg_check(const struct tl_cuff_cycle_cfg *c, struct tl_err *err)
{
	if (!(c->ceiling_mmhg > c->venous_mmhg && c->ceiling_mmhg <= TL_CUFF_MAX_MMHG)) {
		tl_err_set(err, "cuff: ceiling %g mmHg is outside %g to %g mmHg (IEC 80601-2-30 "
			   "adult limit)", c->ceiling_mmhg, c->venous_mmhg, TL_CUFF_MAX_MMHG);
		return -1;
	}
	if (!(c->rate_mmhg_s >= TL_CUFF_DEFLATE_MIN_MMHG_S &&
	      c->rate_mmhg_s <= TL_CUFF_DEFLATE_MAX_MMHG_S)) {
		tl_err_set(err, "cuff: deflation rate %g mmHg/s is outside %g to %g mmHg/s",
			   c->rate_mmhg_s, TL_CUFF_DEFLATE_MIN_MMHG_S, TL_CUFF_DEFLATE_MAX_MMHG_S);
		return -1;
	}
	if (!(c->venous_mmhg > 0 && c->venous_mmhg <= TL_CUFF_VENOUS_MMHG)) {
		tl_err_set(err, "cuff: venous threshold %g mmHg is outside 0 to %g mmHg",
			   c->venous_mmhg, TL_CUFF_VENOUS_MMHG);
		return -1;
	}
	if (c->max_above_venous_ms <= 0 || c->max_above_venous_ms > TL_CUFF_MAX_ABOVE_VENOUS_MS) {
		tl_err_set(err, "cuff: time above venous pressure %d ms is outside 1 to %d ms "
			   "(IEC 80601-2-30)", c->max_above_venous_ms, TL_CUFF_MAX_ABOVE_VENOUS_MS);
		return -1;
	}
	if (c->inflate_limit_ms <= 0 || c->inflate_limit_ms > c->max_above_venous_ms) {
		tl_err_set(err, "cuff: inflation limit %d ms is outside 1 to %d ms",
			   c->inflate_limit_ms, c->max_above_venous_ms);
		return -1;
	}
	/* A whole deflation from the ceiling must fit in the time above venous pressure. */
	double deflate_ms = (c->ceiling_mmhg - c->venous_mmhg) / c->rate_mmhg_s * 1000.0;
	if (deflate_ms > c->max_above_venous_ms) {
		tl_err_set(err, "cuff: deflating from %g mmHg at %g mmHg/s takes %.0f s, longer than "
			   "the %d s the cuff may stay above venous pressure", c->ceiling_mmhg,
			   c->rate_mmhg_s, deflate_ms / 1000, c->max_above_venous_ms / 1000);
		return -1;
	}
	return 0;
}

/* ---- the cycle ---------------------------------------------------------------------------- */

static const char *const state_names[] = {"idle", "inflating", "deflating", "marked", "venting"};

const char *tl_cuff_state_name(enum tl_cuff_state s)
{
	return (unsigned)s < sizeof state_names / sizeof state_names[0] ? state_names[s] : "?";
}

void tl_cuff_cycle_init(struct tl_cuff_cycle *c, const struct tl_cuff_cycle_cfg *cfg)
{
	*c = (struct tl_cuff_cycle){.cfg = *cfg, .state = TL_CUFF_IDLE, .above_since_ms = -1};
}

static void enter(struct tl_cuff_cycle *c, enum tl_cuff_state s, int64_t now_ms)
{
	c->state = s;
	c->state_ms = now_ms;
}

static enum tl_cuff_action vent(struct tl_cuff_cycle *c, int64_t now_ms, const char *why)
{
	if (c->state != TL_CUFF_VENTING)
		enter(c, TL_CUFF_VENTING, now_ms);
	if (why)
		snprintf(c->why, sizeof c->why, "%s", why);
	return TL_CUFF_DO_VENT;
}

enum tl_cuff_action tl_cuff_cycle_start(struct tl_cuff_cycle *c, int64_t now_ms)
{
	if (c->state != TL_CUFF_IDLE) {
		snprintf(c->why, sizeof c->why, "cannot start: the cuff is %s",
			 tl_cuff_state_name(c->state));
		return TL_CUFF_DO_NOTHING;
	}
	c->why[0] = '\0';
	c->vent_failed = false;
	enter(c, TL_CUFF_INFLATING, now_ms);
	return TL_CUFF_DO_INFLATE;
}

/* The limits that hold in every state: returns TL_CUFF_DO_VENT when one is passed. */
static enum tl_cuff_action limits(struct tl_cuff_cycle *c, int64_t now_ms)
{
	char why[160];
	if (c->state == TL_CUFF_VENTING) {
		/* already venting: the vent has the same time again to bring the cuff down (the
		 * limit that ordered it must not be reported again as the vent's failure) */
		if (c->above_since_ms >= 0 && !c->vent_failed &&
		    now_ms - c->state_ms > c->cfg.max_above_venous_ms) {
			c->vent_failed = true;
			snprintf(why, sizeof why, "venting has not brought the cuff below %g mmHg "
				 "within %d s", c->cfg.venous_mmhg, c->cfg.max_above_venous_ms / 1000);
			return vent(c, now_ms, why);
		}
		return TL_CUFF_DO_NOTHING;
	}
	if (c->above_since_ms >= 0 && now_ms - c->above_since_ms > c->cfg.max_above_venous_ms) {
		snprintf(why, sizeof why, "the cuff was above %g mmHg for more than %d s",
			 c->cfg.venous_mmhg, c->cfg.max_above_venous_ms / 1000);
		return vent(c, now_ms, why);
	}
	if (c->state == TL_CUFF_INFLATING && now_ms - c->state_ms > c->cfg.inflate_limit_ms) {
		snprintf(why, sizeof why, "the cuff did not reach %g mmHg within %d s",
			 c->cfg.ceiling_mmhg, c->cfg.inflate_limit_ms / 1000);
		return vent(c, now_ms, why);
	}
	return TL_CUFF_DO_NOTHING;
}

enum tl_cuff_action tl_cuff_cycle_step(struct tl_cuff_cycle *c, int64_t now_ms, double mmhg)
{
	if (!isfinite(mmhg))
		return vent(c, now_ms, "the cuff pressure read is not a number");
	c->have_pressure = true;
	c->last_mmhg = mmhg;
	if (mmhg > c->cfg.venous_mmhg) {
		if (c->above_since_ms < 0)
			c->above_since_ms = now_ms;
	} else {
		c->above_since_ms = -1;
	}
	double over = c->cfg.ceiling_mmhg + TL_CUFF_OVERSHOOT_MMHG;
	if (over > TL_CUFF_MAX_MMHG)
		over = TL_CUFF_MAX_MMHG;
	if (mmhg > over) {
		char why[160];
		snprintf(why, sizeof why, "over-pressure: %.1f mmHg, above %g mmHg", mmhg, over);
		return vent(c, now_ms, why);
	}
	if (limits(c, now_ms) == TL_CUFF_DO_VENT)
		return TL_CUFF_DO_VENT;
	switch (c->state) {
	case TL_CUFF_IDLE:
		return TL_CUFF_DO_NOTHING;
	case TL_CUFF_INFLATING:
		if (mmhg >= c->cfg.ceiling_mmhg) {
			enter(c, TL_CUFF_DEFLATING, now_ms);
			return TL_CUFF_DO_DEFLATE;
		}
		return TL_CUFF_DO_NOTHING;
	case TL_CUFF_DEFLATING:
		if (mmhg <= c->cfg.venous_mmhg) {
			char why[160];
			snprintf(why, sizeof why, "deflated to %.1f mmHg without a mark (no signal back)",
				 mmhg);
			return vent(c, now_ms, why);
		}
		return TL_CUFF_DO_NOTHING;
	case TL_CUFF_MARKED:
		return vent(c, now_ms, NULL);
	case TL_CUFF_VENTING:
		if (mmhg <= c->cfg.venous_mmhg) {
			enter(c, TL_CUFF_IDLE, now_ms);
			return TL_CUFF_DO_NOTHING;
		}
		return TL_CUFF_DO_VENT;
	}
	return vent(c, now_ms, "the cycle is in an unknown state");
}

enum tl_cuff_action tl_cuff_cycle_tick(struct tl_cuff_cycle *c, int64_t now_ms)
{
	if (limits(c, now_ms) == TL_CUFF_DO_VENT)
		return TL_CUFF_DO_VENT;
	if (c->state == TL_CUFF_MARKED)
		return vent(c, now_ms, NULL);
	return c->state == TL_CUFF_VENTING ? TL_CUFF_DO_VENT : TL_CUFF_DO_NOTHING;
}

enum tl_cuff_action tl_cuff_cycle_mark(struct tl_cuff_cycle *c, int64_t now_ms)
{
	if (c->state != TL_CUFF_DEFLATING) {
		snprintf(c->why, sizeof c->why, "mark ignored: the cuff is %s, not deflating",
			 tl_cuff_state_name(c->state));
		return TL_CUFF_DO_NOTHING;
	}
	c->why[0] = '\0';
	enter(c, TL_CUFF_MARKED, now_ms);
	return TL_CUFF_DO_VENT;
}

enum tl_cuff_action tl_cuff_cycle_abort(struct tl_cuff_cycle *c, int64_t now_ms, const char *why)
{
	return vent(c, now_ms, why && *why ? why : "stopped");
}
