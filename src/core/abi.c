#include "abi.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const enum tl_abi_criterion tl_abi_criteria[TL_N_CRITERIA] = {
	TL_CRIT_POST_ABI_LE_0_90,
	TL_CRIT_ABI_FALL_GT_20PCT,
	TL_CRIT_ANKLE_FALL_GT_30MMHG,
	TL_CRIT_DELAYED_RECOVERY_GT_3MIN,
};

struct tl_mmhg tl_abi_brachial(struct tl_mmhg left, struct tl_mmhg right)
{
	if (!left.has)
		return right;
	if (!right.has)
		return left;
	return left.mmhg >= right.mmhg ? left : right;
}

struct tl_mmhg tl_abi_ankle(struct tl_mmhg pt, struct tl_mmhg dp, enum tl_ankle_rule rule)
{
	if (!pt.has)
		return dp;
	if (!dp.has)
		return pt;
	/* A noncompressible artery is above the cuff's maximum, so above the other one: the
	 * higher rule takes it, the lower rule the other (noncompressible too when both are). */
	if (pt.noncompressible || dp.noncompressible) {
		if (rule == TL_ANKLE_LOWER)
			return pt.noncompressible ? dp : pt;
		return pt.noncompressible ? pt : dp;
	}
	if (rule == TL_ANKLE_LOWER)
		return pt.mmhg <= dp.mmhg ? pt : dp;
	return pt.mmhg >= dp.mmhg ? pt : dp;
}

struct tl_index tl_abi_index(struct tl_mmhg numerator, struct tl_mmhg brachial)
{
	struct tl_index i = {0};
	/* A brachial 0 (no signal in either arm) makes the ratio meaningless, not infinite. */
	if (!numerator.has || !tl_mmhg_numeric(brachial) || !(brachial.mmhg > 0))
		return i;
	if (numerator.noncompressible) {
		i.has = i.noncompressible = true;
		return i;
	}
	/* x100 before dividing: 181/200 gives exactly 90.5, which rounds to 91 (0.905 ->
	 * 0.91); dividing first would give 0.90499999... and round the other way. */
	i.has = true;
	i.hundredths = (int)lround(numerator.mmhg * 100.0 / brachial.mmhg);
	return i;
}

enum tl_abi_category tl_abi_categorize(int hundredths)
{
	/* 2016 AHA/ACC PAD guideline, kept in 2024 (docs/clinical.md, ABI): <= 0.90 abnormal,
	 * 0.91-0.99 borderline, 1.00-1.40 normal, > 1.40 noncompressible. */
	if (hundredths <= 90)
		return TL_ABI_ABNORMAL;
	if (hundredths <= 99)
		return TL_ABI_BORDERLINE;
	if (hundredths <= 140)
		return TL_ABI_NORMAL;
	return TL_ABI_NONCOMPRESSIBLE;
}

enum tl_abi_category tl_abi_index_category(struct tl_index i)
{
	return i.noncompressible ? TL_ABI_NONCOMPRESSIBLE : tl_abi_categorize(i.hundredths);
}

enum tl_abi_band tl_abi_band_of(int hundredths)
{
	/* 2016 AHA/ACC categories; within the abnormal range, below 0.40 is severe (ESC 2017
	 * CLTI criterion "ABI < 0.40"; WIfI ischemia grade 3). docs/clinical.md, Severity. */
	if (hundredths < 40)
		return TL_BAND_SEVERE;
	switch (tl_abi_categorize(hundredths)) {
	case TL_ABI_ABNORMAL:
		return TL_BAND_MILD_MODERATE;
	case TL_ABI_BORDERLINE:
		return TL_BAND_BORDERLINE;
	case TL_ABI_NORMAL:
		return TL_BAND_NORMAL;
	case TL_ABI_NONCOMPRESSIBLE:
		break;
	}
	return TL_BAND_NONCOMPRESSIBLE;
}

enum tl_tbi_category tl_tbi_categorize(int hundredths)
{
	/* Toe-brachial index <= 0.70 abnormal (2016 AHA/ACC; docs/clinical.md, ABI). */
	return hundredths <= 70 ? TL_TBI_ABNORMAL : TL_TBI_NORMAL;
}

int tl_mmhg_check(struct tl_mmhg p, const char *path, struct tl_err *err)
{
	if (!p.has)
		return 0;
	/* A noncompressible artery's mmhg is the cuff pressure reached, checked the same. */
	if (!isfinite(p.mmhg)) {
		tl_err_set(err, "%s: not a finite number", path);
		return -1;
	}
	if (p.mmhg < 0) {
		tl_err_set(err, "%s: %g is negative (0 means measured, no signal)", path, p.mmhg);
		return -1;
	}
	if (p.mmhg > TL_MMHG_MAX) {
		tl_err_set(err, "%s: %g is above %g mmHg", path, p.mmhg, TL_MMHG_MAX);
		return -1;
	}
	return 0;
}

static int check_set(const struct tl_pressure_set *s, const char *where, struct tl_err *err)
{
	static const char *const names[] = {"brachial", "pt", "dp", "toe"};
	const struct tl_mmhg *fields[] = {s->brachial, s->pt, s->dp, s->toe};
	char path[96];
	for (size_t f = 0; f < 4; f++)
		for (int side = 0; side < TL_N_SIDES; side++) {
			snprintf(path, sizeof path, "%s.%s_%s", where, names[f],
				 tl_side_name((enum tl_side)side));
			if (tl_mmhg_check(fields[f][side], path, err))
				return -1;
			/* Only ankle arteries are recorded as noncompressible (fields 1, 2). */
			if (fields[f][side].noncompressible && (f == 0 || f == 3)) {
				tl_err_set(err, "%s: only an ankle artery (pt, dp) is recorded as "
						"noncompressible",
					   path);
				return -1;
			}
		}
	return 0;
}

static int check_input(const struct tl_pressure_set *rest, const struct tl_post_set *post,
		       size_t n_post, struct tl_err *err)
{
	if (n_post > TL_ABI_MAX_POST) {
		tl_err_set(err, "post: %zu time points, at most %d", n_post, TL_ABI_MAX_POST);
		return -1;
	}
	if (check_set(rest, "rest", err))
		return -1;
	char where[32];
	for (size_t i = 0; i < n_post; i++) {
		snprintf(where, sizeof where, "post[%zu]", i);
		if (!isfinite(post[i].minute) || post[i].minute < 0) {
			tl_err_set(err, "%s.minute: %g is not a time after belt stop", where,
				   post[i].minute);
			return -1;
		}
		if (check_set(&post[i].p, where, err))
			return -1;
	}
	return 0;
}

/* Fills one post-exercise point of one leg. */
static void post_point(struct tl_abi_leg *leg, const struct tl_post_set *ps, enum tl_side side,
		       const struct tl_abi_options *opt, struct tl_abi_post *out)
{
	const struct tl_pressure_set *p = &ps->p;
	memset(out, 0, sizeof *out);
	out->minute = ps->minute;
	out->ankle = tl_abi_ankle(p->pt[side], p->dp[side], opt->ankle_rule);
	out->abi = tl_abi_index(out->ankle, tl_abi_brachial(p->brachial[TL_LEFT],
							     p->brachial[TL_RIGHT]));
	if (leg->rest.has && out->abi.has && !leg->rest.noncompressible &&
	    !out->abi.noncompressible && leg->rest.hundredths > 0) {
		out->has_fall_pct = true;
		out->fall_pct = (leg->rest.hundredths - out->abi.hundredths) * 100.0 /
				leg->rest.hundredths;
	}
	if (tl_mmhg_numeric(leg->ankle) && tl_mmhg_numeric(out->ankle)) {
		out->has_ankle_fall = true;
		out->ankle_fall_mmhg = leg->ankle.mmhg - out->ankle.mmhg;
	}
}

/* Repeated Doppler pressures differ by several mmHg, so "back at rest" allows the ABI's
 * minimal detectable change (0.08, intra-tester reliability study, J Foot Ankle Res
 * 2020; docs/clinical.md, Recovery). Recovery is read on ankle pressures, which need no
 * post-exercise brachial, so the 0.08 is converted to mmHg on the resting brachial
 * pressure: a post ABI on that brachial within 0.08 of the resting ABI. Without a
 * resting brachial pressure no tolerance is known and none is allowed. */
static void tolerance(struct tl_abi_leg *leg)
{
	if (!leg->brachial.has || !(leg->brachial.mmhg > 0))
		return;
	leg->has_tolerance = true;
	leg->tolerance_mmhg = leg->brachial.mmhg * TL_ABI_MDC_HUNDREDTHS / 100.0;
}

/* Still below rest beyond the noise: the bound itself counts as recovered. */
static bool below_rest(const struct tl_abi_leg *leg, struct tl_mmhg ankle)
{
	double tol = leg->has_tolerance ? leg->tolerance_mmhg : 0.0;
	/* Compared in hundredths of a mmHg so that 130 - 10.4 and 119.6 agree. */
	return lround((leg->ankle.mmhg - ankle.mmhg) * 100.0) > lround(tol * 100.0);
}

static void recovery(struct tl_abi_leg *leg)
{
	if (!tl_mmhg_numeric(leg->ankle))
		return;
	for (size_t i = 0; i < leg->n_post; i++) {
		const struct tl_abi_post *pp = &leg->post[i];
		if (!tl_mmhg_numeric(pp->ankle) || below_rest(leg, pp->ankle))
			continue;
		if (!leg->has_recovery || pp->minute < leg->recovery_min) {
			leg->has_recovery = true;
			leg->recovery_min = pp->minute;
		}
	}
}

static void criteria(struct tl_abi_leg *leg)
{
	/* "Do not interpret ABI changes when ABI > 1.40" (docs/clinical.md, ABI): calcified
	 * arteries make both the resting and the post-exercise values unreliable, so none
	 * of the criteria is applied to such a leg. */
	if (leg->rest.has && leg->rest_category == TL_ABI_NONCOMPRESSIBLE) {
		leg->changes_not_interpreted = true;
		return;
	}
	for (size_t i = 0; i < leg->n_post; i++) {
		const struct tl_abi_post *pp = &leg->post[i];
		/* Post-exercise ABI <= 0.90 (2012 AHA statement via 2016 AHA/ACC; Aday 2018:
		 * sensitivity 88 %), on the rounded value like the resting category. */
		if (pp->abi.has && !pp->abi.noncompressible && pp->abi.hundredths <= 90)
			leg->criteria |= TL_CRIT_POST_ABI_LE_0_90;
		/* ABI fall > 20 % from rest (2012 AHA statement, as cited in docs/clinical.md);
		 * compared in integers: (rest - post) x 100 > 20 x rest. */
		if (pp->has_fall_pct &&
		    (leg->rest.hundredths - pp->abi.hundredths) * 100 > 20 * leg->rest.hundredths)
			leg->criteria |= TL_CRIT_ABI_FALL_GT_20PCT;
		/* Ankle pressure fall > 30 mmHg (2012 AHA statement, as cited in docs/clinical.md). */
		if (pp->has_ankle_fall && pp->ankle_fall_mmhg > 30.0)
			leg->criteria |= TL_CRIT_ANKLE_FALL_GT_30MMHG;
		/* Delayed recovery > 3 min (SVS 2015, secondary; docs/clinical.md, Post-exercise
		 * criteria): the ankle is still below rest, beyond the noise tolerance, at a
		 * point 3 min or later that comes before recovery. */
		if (tl_mmhg_numeric(pp->ankle) && tl_mmhg_numeric(leg->ankle) &&
		    below_rest(leg, pp->ankle) &&
		    pp->minute >= 3.0 && (!leg->has_recovery || pp->minute < leg->recovery_min))
			leg->criteria |= TL_CRIT_DELAYED_RECOVERY_GT_3MIN;
	}
}

int tl_abi_compute(const struct tl_pressure_set *rest, const struct tl_post_set *post,
		   size_t n_post, const struct tl_abi_options *opt, struct tl_abi_result *out,
		   struct tl_err *err)
{
	static const struct tl_pressure_set none;
	struct tl_abi_options def = TL_ABI_OPTIONS_DEFAULT;
	if (!rest)
		rest = &none;
	if (!opt)
		opt = &def;
	if (check_input(rest, post, n_post, err))
		return -1;
	memset(out, 0, sizeof *out);
	struct tl_mmhg brachial = tl_abi_brachial(rest->brachial[TL_LEFT], rest->brachial[TL_RIGHT]);
	for (int s = 0; s < TL_N_SIDES; s++) {
		enum tl_side side = (enum tl_side)s;
		struct tl_abi_leg *leg = &out->leg[side];
		leg->brachial = brachial;
		leg->ankle = tl_abi_ankle(rest->pt[side], rest->dp[side], opt->ankle_rule);
		leg->rest = tl_abi_index(leg->ankle, brachial);
		if (leg->rest.has)
			leg->rest_category = tl_abi_index_category(leg->rest);
		leg->tbi = tl_abi_index(rest->toe[side], brachial);
		if (leg->tbi.has)
			leg->tbi_category = tl_tbi_categorize(leg->tbi.hundredths);
		leg->n_post = n_post;
		for (size_t i = 0; i < n_post; i++)
			post_point(leg, &post[i], side, opt, &leg->post[i]);
		tolerance(leg);
		recovery(leg);
		criteria(leg);
	}
	return 0;
}

const char *tl_side_name(enum tl_side s)
{
	return s == TL_LEFT ? "left" : s == TL_RIGHT ? "right" : "?";
}

const char *tl_abi_category_name(enum tl_abi_category c)
{
	switch (c) {
	case TL_ABI_ABNORMAL:
		return "abnormal";
	case TL_ABI_BORDERLINE:
		return "borderline";
	case TL_ABI_NORMAL:
		return "normal";
	case TL_ABI_NONCOMPRESSIBLE:
		return "noncompressible";
	}
	return "?";
}

const char *tl_tbi_category_name(enum tl_tbi_category c)
{
	return c == TL_TBI_ABNORMAL ? "abnormal" : "normal";
}

const char *tl_abi_band_name(enum tl_abi_band b)
{
	static const char *const names[] = {
		[TL_BAND_NONCOMPRESSIBLE] = "noncompressible", [TL_BAND_NORMAL] = "normal",
		[TL_BAND_BORDERLINE] = "borderline", [TL_BAND_MILD_MODERATE] = "mild_to_moderate",
		[TL_BAND_SEVERE] = "severe"};
	return (unsigned)b < sizeof names / sizeof names[0] ? names[b] : "?";
}

const char *tl_abi_band_criteria(enum tl_abi_band b)
{
	static const char *const criteria[] = {
		[TL_BAND_NONCOMPRESSIBLE] = "> 1.40, not interpretable (2016 AHA/ACC)",
		[TL_BAND_NORMAL] = "1.00-1.40 (2016 AHA/ACC)",
		[TL_BAND_BORDERLINE] = "0.91-0.99 (2016 AHA/ACC)",
		[TL_BAND_MILD_MODERATE] = "0.40-0.90: PAD (2016 AHA/ACC), not below 0.40",
		[TL_BAND_SEVERE] = "< 0.40 (ESC 2017 CLTI criterion; WIfI ischemia grade 3)"};
	return (unsigned)b < sizeof criteria / sizeof criteria[0] ? criteria[b] : "?";
}

const char *tl_abi_criterion_name(enum tl_abi_criterion c)
{
	switch (c) {
	case TL_CRIT_POST_ABI_LE_0_90:
		return "post_abi_le_0_90";
	case TL_CRIT_ABI_FALL_GT_20PCT:
		return "abi_fall_gt_20pct";
	case TL_CRIT_ANKLE_FALL_GT_30MMHG:
		return "ankle_fall_gt_30mmhg";
	case TL_CRIT_DELAYED_RECOVERY_GT_3MIN:
		return "delayed_recovery_gt_3min";
	}
	return "?";
}
