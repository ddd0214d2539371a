#include "classifier.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Weights of the scoring rule (classifier.h explains each level). */
enum {
	W_OBJECTIVE = 4,
	W_STRONG_HISTORY = 3,
	W_MODERATE = 2,
	W_SUPPORTIVE = 1,
};

/* Sources, as CLINICAL.md names them. */
static const char SRC_ABI[] = "2016 AHA/ACC PAD guideline (ABI <= 0.90 abnormal, 0.91-0.99 "
			      "borderline, 1.00-1.40 normal)";
static const char SRC_POST_ABI[] = "Aday et al., Vasc Med 2018 (post-exercise ABI < 0.90 "
				   "sensitivity 88 %); 2012 AHA statement";
static const char SRC_ABI_FALL[] = "2012 AHA statement, cited by the 2016 AHA/ACC guideline; "
				   "common in young healthy adults (Kyte 2023)";
static const char SRC_ANKLE_FALL[] = "2012 AHA statement, cited by the 2016 AHA/ACC guideline";
static const char SRC_RECOVERY[] = "SVS 2015 (secondary)";
static const char SRC_TBI[] = "2016 AHA/ACC PAD guideline (TBI <= 0.70 abnormal)";
static const char SRC_CALF_STANDING[] = "Nadeau et al., Can J Surg 2013 (LR+ 20)";
static const char SRC_REST_10MIN[] = "2016 AHA/ACC PAD guideline (claudication relieved by rest "
				     "within 10 min)";
static const char SRC_NORMAL_BOTH[] = "2016 AHA/ACC PAD guideline (normal ABI before and after a "
				      "symptom-limited walk: not vascular)";
static const char SRC_EXERCISE_ABI[] = "2024 AHA/ACC PAD guideline (exercise ABI when resting ABI "
				       "is normal or borderline)";
static const char SRC_NADEAU_NEURO[] = "Nadeau et al., Can J Surg 2013 (LR+ 13 for the "
				       "combination)";
static const char SRC_NADEAU_AGAINST[] = "Nadeau et al., Can J Surg 2013 (LR- 0.05)";
static const char SRC_SURI_BENDING[] = "Suri et al., JAMA 2010 (LR 6.4)";
static const char SRC_SURI_BILATERAL[] = "Suri et al., JAMA 2010 (LR 6.3)";
static const char SRC_TASC[] = "TASC II / 2016 AHA/ACC differential table";
static const char SRC_FRITZ[] = "Fritz et al., J Spinal Disord 1997 (secondary; specificity "
				"92 % for incline time)";
static const char SRC_CRAMP[] = "J Athl Train 2022 (definition of exercise-associated muscle "
				"cramp)";

/* Critical limb ischemia thresholds (CLINICAL.md, Red flags): with rest pain ankle < 50
 * or toe < 30 mmHg; with tissue loss ankle < 70 or toe < 50 mmHg. */
#define CLI_REST_PAIN_ANKLE_MMHG 50.0
#define CLI_REST_PAIN_TOE_MMHG 30.0
#define CLI_TISSUE_LOSS_ANKLE_MMHG 70.0
#define CLI_TISSUE_LOSS_TOE_MMHG 50.0
/* Claudication is relieved by rest within 10 min (2016 AHA/ACC definition). */
#define VASCULAR_RELIEF_MAX_S 600.0

struct ctx {
	const struct tl_findings *f;
	struct tl_classification *out;
	bool legs[TL_N_SIDES]; /* the symptomatic legs */
};

static bool yes(const struct ctx *c, enum tl_symptom_flag fl)
{
	return c->f->symptoms.flag[fl] == TL_TRI_YES;
}

/* Appends printf-style text to buf, separated by "; " from what is there. */
__attribute__((format(printf, 3, 4))) static void append(char *buf, size_t n, const char *fmt, ...)
{
	size_t used = strlen(buf);
	if (used && used + 2 < n) {
		memcpy(buf + used, "; ", 3);
		used += 2;
	}
	if (used >= n)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + used, n - used, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 5, 6))) static void
add_finding(struct ctx *c, enum tl_points_to to, int weight, const char *source, const char *fmt,
	    ...)
{
	struct tl_classification *o = c->out;
	if (o->n_findings == TL_MAX_FINDINGS)
		return;
	struct tl_finding *fi = &o->findings[o->n_findings++];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(fi->finding, sizeof fi->finding, fmt, ap);
	va_end(ap);
	fi->points_to = to;
	fi->weight = weight;
	fi->source = source;
	switch (to) {
	case TL_POINTS_VASCULAR:
		o->vascular_score += weight;
		break;
	case TL_POINTS_AGAINST_VASCULAR:
		o->vascular_score -= weight;
		break;
	case TL_POINTS_NEUROGENIC:
		o->neurogenic_score += weight;
		break;
	case TL_POINTS_AGAINST_NEUROGENIC:
		o->neurogenic_score -= weight;
		break;
	case TL_POINTS_MUSCULAR:
		o->muscular_score += weight;
		break;
	}
}

__attribute__((format(printf, 2, 3))) static void add_rationale(struct ctx *c, const char *fmt, ...)
{
	struct tl_classification *o = c->out;
	if (o->n_rationale == TL_MAX_RATIONALE)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(o->rationale[o->n_rationale++], TL_TEXT_MAX, fmt, ap);
	va_end(ap);
}

/* Flags are added in enum order by the callers, so the list comes out in that order. */
__attribute__((format(printf, 3, 4))) static void
add_flag(struct ctx *c, enum tl_red_flag_code code, const char *fmt, ...)
{
	struct tl_classification *o = c->out;
	struct tl_red_flag *rf = &o->red_flags[o->n_red_flags++];
	rf->code = code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rf->reason, sizeof rf->reason, fmt, ap);
	va_end(ap);
}

static const char *side(int s)
{
	return tl_side_name((enum tl_side)s);
}

/* ---- red flags ---- */

static void flag_cli(struct ctx *c)
{
	bool rest_pain = yes(c, TL_SYM_REST_PAIN);
	bool tissue = yes(c, TL_SYM_NONHEALING_WOUND) || yes(c, TL_SYM_GANGRENE);
	if (!rest_pain && !tissue)
		return;
	/* Tissue loss uses the higher (more inclusive) thresholds. */
	double ankle_lim = tissue ? CLI_TISSUE_LOSS_ANKLE_MMHG : CLI_REST_PAIN_ANKLE_MMHG;
	double toe_lim = tissue ? CLI_TISSUE_LOSS_TOE_MMHG : CLI_REST_PAIN_TOE_MMHG;
	char what[96] = "", confirm[TL_TEXT_MAX] = "", gaps[TL_TEXT_MAX] = "";
	if (rest_pain)
		append(what, sizeof what, "rest pain");
	if (yes(c, TL_SYM_NONHEALING_WOUND))
		append(what, sizeof what, "non-healing wound");
	if (yes(c, TL_SYM_GANGRENE))
		append(what, sizeof what, "gangrene");
	for (int s = 0; s < TL_N_SIDES; s++) {
		if (!c->legs[s])
			continue;
		const struct tl_abi_leg *leg = &c->out->abi.leg[s];
		struct tl_mmhg toe = c->f->rest.toe[s];
		bool noncompressible = leg->rest.has && leg->rest_category == TL_ABI_NONCOMPRESSIBLE;
		if (leg->ankle.has && leg->ankle.mmhg < ankle_lim)
			append(confirm, sizeof confirm, "%s ankle pressure %g mmHg (< %g)", side(s),
			       leg->ankle.mmhg, ankle_lim);
		if (toe.has && toe.mmhg < toe_lim)
			append(confirm, sizeof confirm, "%s toe pressure %g mmHg (< %g)", side(s),
			       toe.mmhg, toe_lim);
		if (!leg->ankle.has)
			append(gaps, sizeof gaps, "%s ankle pressure not measured", side(s));
		else if (noncompressible)
			append(gaps, sizeof gaps, "%s ankle pressure not interpretable (ABI > 1.40)",
			       side(s));
		if (!toe.has)
			append(gaps, sizeof gaps, "%s toe pressure not measured", side(s));
	}
	if (confirm[0])
		add_flag(c, TL_RF_CRITICAL_LIMB_ISCHEMIA, "%s with %s", what, confirm);
	else if (gaps[0])
		add_flag(c, TL_RF_CRITICAL_LIMB_ISCHEMIA, "%s reported; not excluded: %s", what,
			 gaps);
	else
		add_rationale(c, "%s reported, but ankle and toe pressures are at or above the "
				 "critical limb ischemia thresholds (ankle %g, toe %g mmHg)",
			      what, ankle_lim, toe_lim);
}

static void flag_ali(struct ctx *c)
{
	if (!yes(c, TL_SYM_ACUTE_ONSET))
		return;
	char signs[TL_TEXT_MAX] = "";
	if (yes(c, TL_SYM_REST_PAIN))
		append(signs, sizeof signs, "pain at rest");
	if (yes(c, TL_SYM_SKIN_PALLOR))
		append(signs, sizeof signs, "pallor");
	if (yes(c, TL_SYM_SKIN_CYANOSIS))
		append(signs, sizeof signs, "bluish colour");
	if (yes(c, TL_SYM_COOL_LIMB))
		append(signs, sizeof signs, "cool limb (poikilothermia)");
	for (int s = 0; s < TL_N_SIDES; s++) {
		/* Pulseless: no signal in any measured ankle artery, whatever the ABI's ankle
		 * rule (the lower-ankle rule would call one silent artery pulseless). */
		struct tl_mmhg best = tl_abi_ankle(c->f->rest.pt[s], c->f->rest.dp[s],
						   TL_ANKLE_HIGHER);
		if (c->legs[s] && best.has && best.mmhg == 0)
			append(signs, sizeof signs, "no %s ankle signal (pulselessness)", side(s));
	}
	if (yes(c, TL_SYM_NUMBNESS) || yes(c, TL_SYM_TINGLING))
		append(signs, sizeof signs, "paresthesias");
	if (yes(c, TL_SYM_WEAKNESS))
		append(signs, sizeof signs, "weakness (paralysis)");
	if (!signs[0])
		return;
	add_flag(c, TL_RF_ACUTE_LIMB_ISCHEMIA, "acute onset (< 2 weeks) with %s", signs);
}

static void flag_skin(struct ctx *c)
{
	char signs[TL_TEXT_MAX] = "";
	if (yes(c, TL_SYM_SKIN_PALLOR))
		append(signs, sizeof signs, "pallor");
	if (yes(c, TL_SYM_SKIN_CYANOSIS))
		append(signs, sizeof signs, "bluish colour");
	if (yes(c, TL_SYM_COOL_LIMB))
		append(signs, sizeof signs, "persistently cool limb");
	if (signs[0])
		add_flag(c, TL_RF_SKIN_CHANGES, "%s", signs);
}

static void flag_neuro(struct ctx *c)
{
	if (yes(c, TL_SYM_PERSISTENT_NEURO_DEFICIT))
		add_flag(c, TL_RF_PERSISTENT_NEURO_DEFICIT,
			 "numbness, tingling or weakness persists after the episode");
	char signs[TL_TEXT_MAX] = "";
	if (yes(c, TL_SYM_SADDLE_ANESTHESIA))
		append(signs, sizeof signs, "saddle anaesthesia");
	if (yes(c, TL_SYM_BLADDER_DYSFUNCTION))
		append(signs, sizeof signs, "bladder dysfunction");
	if (yes(c, TL_SYM_WEAKNESS) && yes(c, TL_SYM_PERSISTENT_NEURO_DEFICIT) &&
	    c->f->symptoms.side == TL_SYM_SIDE_BILATERAL)
		append(signs, sizeof signs, "bilateral persistent weakness");
	if (signs[0])
		add_flag(c, TL_RF_CAUDA_EQUINA, "%s: urgent referral", signs);
}

/* ---- vascular evidence ---- */

/* Worst (lowest) post ABI, largest ABI fall and largest ankle fall of a leg. */
static void post_extremes(const struct tl_abi_leg *leg, double *min_abi, double *max_fall_pct,
			  double *max_ankle_fall)
{
	*min_abi = 99, *max_fall_pct = -1e9, *max_ankle_fall = -1e9;
	for (size_t i = 0; i < leg->n_post; i++) {
		const struct tl_abi_post *p = &leg->post[i];
		if (p->abi.has && tl_index_value(p->abi) < *min_abi)
			*min_abi = tl_index_value(p->abi);
		if (p->has_fall_pct && p->fall_pct > *max_fall_pct)
			*max_fall_pct = p->fall_pct;
		if (p->has_ankle_fall && p->ankle_fall_mmhg > *max_ankle_fall)
			*max_ankle_fall = p->ankle_fall_mmhg;
	}
}

static void leg_criteria(struct ctx *c, int s, const struct tl_abi_leg *leg)
{
	double min_abi, max_fall, max_ankle_fall;
	post_extremes(leg, &min_abi, &max_fall, &max_ankle_fall);
	if (leg->criteria & TL_CRIT_POST_ABI_LE_0_90)
		add_finding(c, TL_POINTS_VASCULAR, W_OBJECTIVE, SRC_POST_ABI,
			    "%s post-exercise ABI %.2f (<= 0.90)", side(s), min_abi);
	if (leg->criteria & TL_CRIT_ANKLE_FALL_GT_30MMHG)
		add_finding(c, TL_POINTS_VASCULAR, W_MODERATE, SRC_ANKLE_FALL,
			    "%s ankle pressure fall %g mmHg after exercise (> 30)", side(s),
			    max_ankle_fall);
	if (leg->criteria & TL_CRIT_ABI_FALL_GT_20PCT)
		add_finding(c, TL_POINTS_VASCULAR, W_SUPPORTIVE, SRC_ABI_FALL,
			    "%s ABI fall %.0f %% from rest (> 20 %%)", side(s), max_fall);
	if (leg->criteria & TL_CRIT_DELAYED_RECOVERY_GT_3MIN)
		add_finding(c, TL_POINTS_VASCULAR, W_SUPPORTIVE, SRC_RECOVERY,
			    "%s ankle pressure still below rest after 3 min", side(s));
}

static void leg_rest(struct ctx *c, int s, const struct tl_abi_leg *leg)
{
	if (leg->rest.has && leg->rest_category == TL_ABI_ABNORMAL)
		add_finding(c, TL_POINTS_VASCULAR, W_OBJECTIVE, SRC_ABI,
			    "%s resting ABI %.2f (<= 0.90, abnormal)", side(s),
			    tl_index_value(leg->rest));
	else if (leg->rest.has && leg->rest_category == TL_ABI_BORDERLINE)
		add_finding(c, TL_POINTS_VASCULAR, W_SUPPORTIVE, SRC_ABI,
			    "%s resting ABI %.2f (borderline)", side(s), tl_index_value(leg->rest));
	if (leg->tbi.has && leg->tbi_category == TL_TBI_ABNORMAL)
		add_finding(c, TL_POINTS_VASCULAR, W_OBJECTIVE, SRC_TBI,
			    "%s toe-brachial index %.2f (<= 0.70, abnormal)", side(s),
			    tl_index_value(leg->tbi));
	else if (leg->tbi.has && (!leg->rest.has || leg->rest_category == TL_ABI_NONCOMPRESSIBLE))
		add_finding(c, TL_POINTS_AGAINST_VASCULAR, W_SUPPORTIVE, SRC_TBI,
			    "%s toe-brachial index %.2f (normal)", side(s), tl_index_value(leg->tbi));
}

static bool has_post_abi(const struct tl_abi_leg *leg)
{
	for (size_t i = 0; i < leg->n_post; i++)
		if (leg->post[i].abi.has)
			return true;
	return false;
}

/* Normal pressures on the symptomatic legs: every such leg with a resting ABI has a
 * normal one and fired no criterion, and at least one leg has a resting ABI. *with_post
 * tells whether any of them has a post-exercise ABI. */
static bool pressures_normal(const struct ctx *c, bool *with_post)
{
	int n = 0;
	*with_post = false;
	for (int s = 0; s < TL_N_SIDES; s++) {
		const struct tl_abi_leg *leg = &c->out->abi.leg[s];
		if (!c->legs[s] || !leg->rest.has)
			continue;
		if (leg->rest_category != TL_ABI_NORMAL || leg->criteria)
			return false;
		n++;
		*with_post = *with_post || has_post_abi(leg);
	}
	return n > 0;
}

static void vascular_history(struct ctx *c)
{
	const struct tl_symptoms *sy = &c->f->symptoms;
	if ((sy->locations & TL_LOC_CALF) && sy->relief == TL_RELIEF_STANDING)
		add_finding(c, TL_POINTS_VASCULAR, W_STRONG_HISTORY, SRC_CALF_STANDING,
			    "calf symptoms relieved by standing still");
	/* Relief by stopping whatever the posture, within 10 min: a posture named as the
	 * relief (sitting, bending, stretching) points elsewhere, so only standing or an
	 * unnamed relief counts here. */
	if (sy->relief_time_s.has && sy->relief_time_s.s <= VASCULAR_RELIEF_MAX_S &&
	    (sy->relief == TL_RELIEF_STANDING || sy->relief == TL_RELIEF_ABSENT))
		add_finding(c, TL_POINTS_VASCULAR, W_SUPPORTIVE, SRC_REST_10MIN,
			    "relieved by stopping within %g s (<= 10 min)", sy->relief_time_s.s);
}

static void vascular_evidence(struct ctx *c)
{
	for (int s = 0; s < TL_N_SIDES; s++) {
		if (!c->legs[s])
			continue;
		const struct tl_abi_leg *leg = &c->out->abi.leg[s];
		leg_rest(c, s, leg);
		leg_criteria(c, s, leg);
	}
	bool with_post;
	if (pressures_normal(c, &with_post)) {
		const struct tl_walk *w = &c->f->walk;
		bool limited = w->end_reason == TL_WALK_END_MAX_CLAUDICATION || w->cot_s.has;
		if (with_post && limited)
			add_finding(c, TL_POINTS_AGAINST_VASCULAR, W_OBJECTIVE, SRC_NORMAL_BOTH,
				    "normal ABI before and after a symptom-limited walk");
		else if (with_post)
			add_finding(c, TL_POINTS_AGAINST_VASCULAR, W_MODERATE, SRC_NORMAL_BOTH,
				    "normal ABI before and after a walk not known to be "
				    "symptom-limited");
		else
			add_finding(c, TL_POINTS_AGAINST_VASCULAR, W_SUPPORTIVE, SRC_ABI,
				    "normal resting ABI (no post-exercise ABI)");
	}
	vascular_history(c);
}

/* ---- neurogenic evidence ---- */

static void nadeau_combination(struct ctx *c)
{
	const struct tl_symptoms *sy = &c->f->symptoms;
	const char *items[4];
	int n = 0;
	if (yes(c, TL_SYM_SHOPPING_CART_SIGN))
		items[n++] = "shopping-cart sign";
	if (sy->locations & (TL_LOC_THIGH | TL_LOC_BUTTOCK))
		items[n++] = "symptoms above the knee";
	if (yes(c, TL_SYM_TRIGGERED_BY_STANDING))
		items[n++] = "triggered by standing alone";
	if (sy->relief == TL_RELIEF_SITTING)
		items[n++] = "relieved by sitting";
	/* Three or four items make the combination Nadeau reports (LR+ 13); fewer are
	 * each only supportive. */
	if (n >= 3) {
		char list[TL_TEXT_MAX] = "";
		for (int i = 0; i < n; i++)
			append(list, sizeof list, "%s", items[i]);
		add_finding(c, TL_POINTS_NEUROGENIC, W_STRONG_HISTORY, SRC_NADEAU_NEURO, "%s", list);
		return;
	}
	for (int i = 0; i < n; i++)
		add_finding(c, TL_POINTS_NEUROGENIC, W_SUPPORTIVE, SRC_NADEAU_NEURO, "%s", items[i]);
}

static void two_stage(struct ctx *c)
{
	const struct tl_two_stage *t = &c->f->two_stage;
	if (t->level_walk_s.has && t->incline_walk_s.has && t->incline_walk_s.s > t->level_walk_s.s)
		add_finding(c, TL_POINTS_NEUROGENIC, W_MODERATE, SRC_FRITZ,
			    "two-stage test: longer walk on the incline (%g s) than level (%g s)",
			    t->incline_walk_s.s, t->level_walk_s.s);
	if (t->level_onset_s.has && t->incline_onset_s.has &&
	    t->level_onset_s.s < t->incline_onset_s.s)
		add_finding(c, TL_POINTS_NEUROGENIC, W_SUPPORTIVE, SRC_FRITZ,
			    "two-stage test: earlier onset level (%g s) than incline (%g s)",
			    t->level_onset_s.s, t->incline_onset_s.s);
	if (t->level_recovery_s.has && t->incline_recovery_s.has &&
	    t->level_recovery_s.s > t->incline_recovery_s.s)
		add_finding(c, TL_POINTS_NEUROGENIC, W_SUPPORTIVE, SRC_FRITZ,
			    "two-stage test: longer recovery after level walking (%g s) than "
			    "incline (%g s)",
			    t->level_recovery_s.s, t->incline_recovery_s.s);
}

static void neurogenic_evidence(struct ctx *c)
{
	const struct tl_symptoms *sy = &c->f->symptoms;
	nadeau_combination(c);
	if (sy->relief == TL_RELIEF_BENDING_FORWARD)
		add_finding(c, TL_POINTS_NEUROGENIC, W_MODERATE, SRC_SURI_BENDING,
			    "improvement bending forward");
	if (sy->side == TL_SYM_SIDE_BILATERAL)
		add_finding(c, TL_POINTS_NEUROGENIC, W_MODERATE, SRC_SURI_BILATERAL,
			    "bilateral buttock or leg pain");
	char list[TL_TEXT_MAX] = "";
	if (yes(c, TL_SYM_NUMBNESS))
		append(list, sizeof list, "numbness");
	if (yes(c, TL_SYM_TINGLING))
		append(list, sizeof list, "tingling");
	if (yes(c, TL_SYM_WEAKNESS))
		append(list, sizeof list, "weakness");
	if (list[0])
		add_finding(c, TL_POINTS_NEUROGENIC, W_SUPPORTIVE, SRC_TASC, "%s", list);
	two_stage(c);
	if (sy->flag[TL_SYM_TRIGGERED_BY_STANDING] == TL_TRI_NO)
		add_finding(c, TL_POINTS_AGAINST_NEUROGENIC, W_STRONG_HISTORY, SRC_NADEAU_AGAINST,
			    "pain not triggered by standing alone");
}

/* ---- muscular evidence ---- */

static void muscular_evidence(struct ctx *c)
{
	if (!yes(c, TL_SYM_SUDDEN_MUSCLE_KNOT))
		return;
	bool stretching = c->f->symptoms.relief == TL_RELIEF_STRETCHING;
	bool with_post;
	bool normal = pressures_normal(c, &with_post);
	bool any_rest = c->out->abi.leg[TL_LEFT].rest.has || c->out->abi.leg[TL_RIGHT].rest.has;
	if (stretching && normal)
		add_finding(c, TL_POINTS_MUSCULAR, W_OBJECTIVE, SRC_CRAMP,
			    "sudden hard muscle knot relieved by stretching, normal pressures");
	else if (stretching && !any_rest)
		add_finding(c, TL_POINTS_MUSCULAR, W_MODERATE, SRC_CRAMP,
			    "sudden hard muscle knot relieved by stretching (pressures not "
			    "measured)");
	else
		add_finding(c, TL_POINTS_MUSCULAR, W_SUPPORTIVE, SRC_CRAMP,
			    "sudden hard muscle knot%s", stretching ? " relieved by stretching, "
								     "pressures not normal" : "");
}

/* ---- notes on the pressures ---- */

static void leg_notes(struct ctx *c, int s)
{
	const struct tl_abi_leg *leg = &c->out->abi.leg[s];
	if (leg->rest.has && leg->rest_category == TL_ABI_NONCOMPRESSIBLE) {
		if (leg->tbi.has)
			add_rationale(c, "%s resting ABI %.2f > 1.40 is not interpretable; the "
					 "toe-brachial index (%.2f) is used instead",
				      side(s), tl_index_value(leg->rest), tl_index_value(leg->tbi));
		else
			add_rationale(c, "%s resting ABI %.2f > 1.40 is not interpretable: measure "
					 "toe pressures; source: %s",
				      side(s), tl_index_value(leg->rest), SRC_TBI);
		if (leg->n_post)
			add_rationale(c, "%s: post-exercise ABI changes not interpreted because the "
					 "resting ABI is > 1.40 (no criterion applied)",
				      side(s));
	}
	if (leg->criteria) {
		char list[TL_TEXT_MAX] = "";
		for (int i = 0; i < TL_N_CRITERIA; i++)
			if (leg->criteria & tl_abi_criteria[i])
				append(list, sizeof list, "%s", tl_abi_criterion_name(tl_abi_criteria[i]));
		add_rationale(c, "%s post-exercise criteria fired: %s (criteria often disagree; "
				 "each is reported separately)",
			      side(s), list);
	}
	if (!c->legs[s] && leg->rest.has && leg->rest_category == TL_ABI_ABNORMAL)
		add_rationale(c, "%s resting ABI %.2f is abnormal, but the symptoms are on the "
				 "other side: not counted",
			      side(s), tl_index_value(leg->rest));
	bool borderline_or_normal = leg->rest.has && (leg->rest_category == TL_ABI_NORMAL ||
						      leg->rest_category == TL_ABI_BORDERLINE);
	if (c->legs[s] && borderline_or_normal && !has_post_abi(leg))
		add_rationale(c, "%s resting ABI %.2f: exercise ABI recommended with exertional "
				 "symptoms; source: %s",
			      side(s), tl_index_value(leg->rest), SRC_EXERCISE_ABI);
}

static void pressure_notes(struct ctx *c)
{
	const struct tl_pressure_set *r = &c->f->rest;
	const struct tl_mmhg *b = r->brachial;
	if (!b[TL_LEFT].has && !b[TL_RIGHT].has)
		add_rationale(c, "no resting brachial pressure: ABI not computable");
	else if (c->out->abi.leg[TL_LEFT].brachial.mmhg == 0)
		add_rationale(c, "resting brachial pressure 0 (no signal): ABI not computable");
	else if (b[TL_LEFT].has != b[TL_RIGHT].has)
		add_rationale(c, "only the %s arm pressure was measured: the higher brachial "
				 "pressure may be missed",
			      b[TL_LEFT].has ? "left" : "right");
	for (int s = 0; s < TL_N_SIDES; s++)
		leg_notes(c, s);
}

/* ---- the decision ---- */

static void decide(struct ctx *c)
{
	struct tl_classification *o = c->out;
	bool v = o->vascular_score >= TL_STRONG_SCORE;
	bool n = o->neurogenic_score >= TL_STRONG_SCORE;
	bool m = o->muscular_score >= TL_STRONG_SCORE;
	add_rationale(c, "scores (strong at >= %d): vascular %d, neurogenic %d, muscular %d",
		      TL_STRONG_SCORE, o->vascular_score, o->neurogenic_score, o->muscular_score);
	if (m && (v || n)) {
		o->category = TL_CAT_INDETERMINATE;
		add_rationale(c, "muscle cramp and %s evidence are both strong: contradictory, "
				 "indeterminate",
			      v ? "vascular" : "neurogenic");
	} else if (v && n) {
		o->category = TL_CAT_MIXED;
		add_rationale(c, "vascular and neurogenic evidence are both strong: mixed");
	} else if (v || n || m) {
		o->category = v ? TL_CAT_VASCULAR : n ? TL_CAT_NEUROGENIC : TL_CAT_MUSCULAR;
		add_rationale(c, "only the %s evidence is strong", tl_category_name(o->category));
	} else {
		o->category = TL_CAT_INDETERMINATE;
		add_rationale(c, "no evidence reaches the strong score: the data are too thin to "
				 "classify");
	}
}

int tl_classify(const struct tl_findings *f, const struct tl_abi_options *opt,
		struct tl_classification *out, struct tl_err *err)
{
	memset(out, 0, sizeof *out);
	if (tl_abi_compute(&f->rest, f->post, f->n_post, opt, &out->abi, err))
		return -1;
	struct ctx c = {.f = f, .out = out};
	enum tl_symptom_side sd = f->symptoms.side;
	c.legs[TL_LEFT] = sd != TL_SYM_SIDE_RIGHT;
	c.legs[TL_RIGHT] = sd != TL_SYM_SIDE_LEFT;
	flag_cli(&c);
	flag_ali(&c);
	flag_skin(&c);
	flag_neuro(&c);
	vascular_evidence(&c);
	neurogenic_evidence(&c);
	muscular_evidence(&c);
	pressure_notes(&c);
	decide(&c);
	return 0;
}

const char *tl_category_name(enum tl_category c)
{
	static const char *const names[] = {"indeterminate", "vascular", "neurogenic", "mixed",
					    "muscular"};
	return (unsigned)c < sizeof names / sizeof names[0] ? names[c] : "?";
}

const char *tl_red_flag_name(enum tl_red_flag_code c)
{
	static const char *const names[] = {"critical_limb_ischemia", "acute_limb_ischemia",
					    "skin_changes", "persistent_neuro_deficit",
					    "cauda_equina"};
	return (unsigned)c < sizeof names / sizeof names[0] ? names[c] : "?";
}

const char *tl_points_to_name(enum tl_points_to p)
{
	static const char *const names[] = {"vascular", "neurogenic", "muscular",
					    "against_vascular", "against_neurogenic"};
	return (unsigned)p < sizeof names / sizeof names[0] ? names[p] : "?";
}

const char *tl_symptom_flag_name(enum tl_symptom_flag f)
{
	static const char *const names[TL_N_SYMPTOM_FLAGS] = {
		"triggered_by_standing", "shopping_cart_sign", "numbness", "tingling", "weakness",
		"persistent_neuro_deficit", "sudden_muscle_knot", "rest_pain", "nonhealing_wound",
		"gangrene", "skin_pallor", "skin_cyanosis", "cool_limb", "saddle_anesthesia",
		"bladder_dysfunction", "acute_onset"};
	return (unsigned)f < TL_N_SYMPTOM_FLAGS ? names[f] : "?";
}

const char *tl_location_name(enum tl_location l)
{
	switch (l) {
	case TL_LOC_CALF:
		return "calf";
	case TL_LOC_THIGH:
		return "thigh";
	case TL_LOC_BUTTOCK:
		return "buttock";
	case TL_LOC_FOOT:
		return "foot";
	case TL_LOC_BACK:
		return "back";
	}
	return "?";
}

const char *tl_symptom_side_name(enum tl_symptom_side s)
{
	static const char *const names[] = {NULL, "left", "right", "bilateral"};
	return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : NULL;
}

const char *tl_relief_name(enum tl_relief r)
{
	static const char *const names[] = {NULL, "standing", "sitting", "bending_forward",
					    "stretching", "none"};
	return (unsigned)r < sizeof names / sizeof names[0] ? names[r] : NULL;
}

const char *tl_walk_end_name(enum tl_walk_end e)
{
	static const char *const names[] = {
		NULL, "max_claudication", "protocol_end", "max_duration",
		"operator_stop", "emergency_stop", "fault", "shutdown",
	};
	return (unsigned)e < sizeof names / sizeof names[0] ? names[e] : NULL;
}
