#include "classifier.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Weights of the scoring rule (classifier.h explains each level). */
enum {
	W_OBJECTIVE = 4,
	W_STRONG_HISTORY = 3,
	W_MODERATE = 2,
	W_SUPPORTIVE = 1,
};

/* Sources in short form; docs/clinical.md gives each in full with what it says. */
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
static const char SRC_POST_ALONE[] = "2012 AHA statement on the ABI (Aboyans et al., "
				     "Circulation 2012): an ankle pressure fall > 30 mmHg or an "
				     "ABI fall > 20 % after exercise is diagnostic of PAD";
static const char SRC_TBI_ALONE[] = "2016 AHA/ACC PAD guideline (TBI <= 0.70 diagnostic of PAD; "
				    "toe arteries are rarely noncompressible)";
static const char SRC_SURI_SEATED[] = "Suri et al., JAMA 2010 (no pain when seated, LR 7.4)";
static const char SRC_RUTHERFORD[] = "Rutherford et al., J Vasc Surg 1997 (reporting standards; "
				     "categories 0-6 as tabled in TASC II 2007)";
static const char SRC_FONTAINE[] = "Fontaine stages as tabled in TASC II 2007 (IIa > 200 m, IIb "
				   "< 200 m)";
static const char SRC_CLARK[] = "Clark et al., Lancet 2012;379:905-914 (inter-arm difference "
				">= 10 mmHg: subclavian stenosis; >= 15 mmHg: peripheral vascular "
				"disease and mortality)";

/* Critical limb ischemia thresholds (TASC II; docs/clinical.md, CLTI): with rest pain
 * ankle < 50 or toe < 30 mmHg; with tissue loss ankle < 70 or toe < 50 mmHg. */
#define CLI_REST_PAIN_ANKLE_MMHG 50.0
#define CLI_REST_PAIN_TOE_MMHG 30.0
#define CLI_TISSUE_LOSS_ANKLE_MMHG 70.0
#define CLI_TISSUE_LOSS_TOE_MMHG 50.0
/* CLTI by ABI: resting ABI below 0.40 (ESC 2017; WIfI ischemia grade 3;
 * docs/clinical.md, CLTI), in hundredths of the rounded ABI. */
#define CLI_ABI_BELOW_HUNDREDTHS 40
/* Inter-arm systolic difference (Clark 2012; docs/clinical.md, Inter-arm difference). */
#define INTER_ARM_NOTE_MMHG 10.0
#define INTER_ARM_WARN_MMHG 15.0
/* Rutherford categories 1 and 3 (Rutherford 1997; docs/clinical.md, Severity):
 * post-exercise ankle pressure above / below 50 mmHg, and at least 20 mmHg below rest for
 * category 1. */
#define RUTHERFORD_POST_ANKLE_MMHG 50.0
#define RUTHERFORD_FALL_MMHG 20.0
/* Fontaine IIa above 200 m, IIb below (docs/clinical.md, Severity). */
#define FONTAINE_DISTANCE_M 200.0
/* Claudication is relieved by rest within 10 min (2016 AHA/ACC definition). */
#define VASCULAR_RELIEF_MAX_S 600.0

struct ctx {
	const struct tl_findings *f;
	struct tl_classification *out;
	bool legs[TL_N_SIDES]; /* the symptomatic legs */
	bool abi_abnormal;     /* a symptomatic leg has a resting or post ABI <= 0.90 */
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

__attribute__((format(printf, 3, 4))) static void add_warning(struct ctx *c, const char *source,
								const char *fmt, ...)
{
	struct tl_classification *o = c->out;
	if (o->n_warnings == TL_MAX_WARNINGS)
		return;
	struct tl_warning *w = &o->warnings[o->n_warnings++];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(w->text, sizeof w->text, fmt, ap);
	va_end(ap);
	w->source = source;
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

/* The ankle's better artery and the ABI on it, whatever the configured ankle rule: the
 * CLTI thresholds are about perfusion of the foot, which the better artery gives
 * (docs/clinical.md, CLTI). A silent artery beside one with a signal is not a 0 ankle. */
static struct tl_mmhg better_ankle(const struct ctx *c, int s)
{
	return tl_abi_ankle(c->f->rest.pt[s], c->f->rest.dp[s], TL_ANKLE_HIGHER);
}

static const char *cli_what(const struct ctx *c, char *what, size_t n)
{
	what[0] = '\0';
	if (yes(c, TL_SYM_REST_PAIN))
		append(what, n, "rest pain");
	if (yes(c, TL_SYM_NONHEALING_WOUND))
		append(what, n, "non-healing wound");
	if (yes(c, TL_SYM_GANGRENE))
		append(what, n, "gangrene");
	return what;
}

/* Adds to confirm what confirms CLTI on leg s, and to gaps what keeps it open. */
static void cli_leg(const struct ctx *c, int s, double ankle_lim, double toe_lim, char *confirm,
		    char *gaps)
{
	struct tl_mmhg ankle = better_ankle(c, s);
	struct tl_mmhg toe = c->f->rest.toe[s];
	struct tl_index abi = tl_abi_index(ankle, c->out->abi.leg[s].brachial);
	bool noncompressible = ankle.noncompressible ||
			       (abi.has && tl_abi_index_category(abi) == TL_ABI_NONCOMPRESSIBLE);
	if (tl_mmhg_numeric(ankle) && ankle.mmhg < ankle_lim)
		append(confirm, TL_TEXT_MAX, "%s ankle pressure %g mmHg (< %g)", side(s), ankle.mmhg,
		       ankle_lim);
	if (toe.has && toe.mmhg < toe_lim)
		append(confirm, TL_TEXT_MAX, "%s toe pressure %g mmHg (< %g)", side(s), toe.mmhg,
		       toe_lim);
	if (abi.has && !abi.noncompressible && abi.hundredths < CLI_ABI_BELOW_HUNDREDTHS)
		append(confirm, TL_TEXT_MAX, "%s resting ABI %.2f (< 0.40)", side(s),
		       tl_index_value(abi));
	if (!ankle.has)
		append(gaps, TL_TEXT_MAX, "%s ankle pressure not measured", side(s));
	else if (noncompressible)
		append(gaps, TL_TEXT_MAX, "%s ankle pressure not interpretable (%s)", side(s),
		       ankle.noncompressible ? "artery noncompressible" : "ABI > 1.40");
	if (!toe.has)
		append(gaps, TL_TEXT_MAX, "%s toe pressure not measured", side(s));
}

static void flag_cli(struct ctx *c)
{
	bool rest_pain = yes(c, TL_SYM_REST_PAIN);
	bool tissue = yes(c, TL_SYM_NONHEALING_WOUND) || yes(c, TL_SYM_GANGRENE);
	if (!rest_pain && !tissue)
		return;
	char what[96];
	cli_what(c, what, sizeof what);
	/* CLTI is chronic (more than two weeks); an acute onset is acute limb ischemia, which
	 * flag_ali raises (ESC 2017; docs/clinical.md, Acute is not chronic). */
	if (yes(c, TL_SYM_ACUTE_ONSET)) {
		add_rationale(c, "%s with an acute onset (< 2 weeks): acute limb ischemia, not "
				 "chronic limb-threatening ischemia",
			      what);
		return;
	}
	/* Tissue loss uses the higher (more inclusive) thresholds. */
	double ankle_lim = tissue ? CLI_TISSUE_LOSS_ANKLE_MMHG : CLI_REST_PAIN_ANKLE_MMHG;
	double toe_lim = tissue ? CLI_TISSUE_LOSS_TOE_MMHG : CLI_REST_PAIN_TOE_MMHG;
	char confirm[TL_TEXT_MAX] = "", gaps[TL_TEXT_MAX] = "";
	for (int s = 0; s < TL_N_SIDES; s++)
		if (c->legs[s])
			cli_leg(c, s, ankle_lim, toe_lim, confirm, gaps);
	if (confirm[0])
		add_flag(c, TL_RF_CRITICAL_LIMB_ISCHEMIA, "%s with %s (TASC II; ESC 2017)", what,
			 confirm);
	else if (gaps[0])
		add_flag(c, TL_RF_CRITICAL_LIMB_ISCHEMIA, "%s reported; not excluded: %s", what,
			 gaps);
	else
		add_rationale(c, "%s reported, but ankle and toe pressures are at or above the "
				 "critical limb ischemia thresholds (ankle %g, toe %g mmHg) and no "
				 "resting ABI is below 0.40",
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
		if (c->legs[s] && tl_mmhg_numeric(best) && best.mmhg == 0)
			append(signs, sizeof signs, "no %s ankle signal (pulselessness)", side(s));
	}
	if (yes(c, TL_SYM_NUMBNESS) || yes(c, TL_SYM_TINGLING))
		append(signs, sizeof signs, "paresthesias");
	if (yes(c, TL_SYM_WEAKNESS))
		append(signs, sizeof signs, "weakness (paralysis)");
	/* Tissue loss at an acute onset is not CLTI (flag_cli), so it is reported here
	 * rather than lost. */
	if (yes(c, TL_SYM_NONHEALING_WOUND))
		append(signs, sizeof signs, "non-healing wound");
	if (yes(c, TL_SYM_GANGRENE))
		append(signs, sizeof signs, "gangrene");
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
		if (p->abi.has && !p->abi.noncompressible && tl_index_value(p->abi) < *min_abi)
			*min_abi = tl_index_value(p->abi);
		if (p->has_fall_pct && p->fall_pct > *max_fall_pct)
			*max_fall_pct = p->fall_pct;
		if (p->has_ankle_fall && p->ankle_fall_mmhg > *max_ankle_fall)
			*max_ankle_fall = p->ankle_fall_mmhg;
	}
}

/* Exertional leg symptoms: the walk brought on claudication (an onset or a max press)
 * or the document says where in the legs it hurts. */
static bool exertional_leg_symptoms(const struct ctx *c)
{
	const struct tl_walk *w = &c->f->walk;
	const unsigned legs = TL_LOC_CALF | TL_LOC_THIGH | TL_LOC_BUTTOCK | TL_LOC_FOOT;
	return w->cot_s.has || w->end_reason == TL_WALK_END_MAX_CLAUDICATION ||
	       (c->f->symptoms.locations & legs);
}

static void leg_criteria(struct ctx *c, int s, const struct tl_abi_leg *leg)
{
	double min_abi, max_fall, max_ankle_fall;
	post_extremes(leg, &min_abi, &max_fall, &max_ankle_fall);
	/* Each post-exercise criterion stands on its own: with exertional leg symptoms an
	 * ankle fall > 30 mmHg or an ABI fall > 20 % is diagnostic of PAD (2012 AHA
	 * statement; docs/clinical.md, Post-exercise criteria). Without symptoms they keep
	 * their lower weights (an ABI fall > 20 % is common in healthy adults, Kyte 2023). */
	bool alone = exertional_leg_symptoms(c);
	if (leg->criteria & TL_CRIT_POST_ABI_LE_0_90)
		add_finding(c, TL_POINTS_VASCULAR, W_OBJECTIVE, SRC_POST_ABI,
			    "%s post-exercise ABI %.2f (<= 0.90)", side(s), min_abi);
	if (leg->criteria & TL_CRIT_ANKLE_FALL_GT_30MMHG)
		add_finding(c, TL_POINTS_VASCULAR, alone ? W_OBJECTIVE : W_MODERATE,
			    alone ? SRC_POST_ALONE : SRC_ANKLE_FALL,
			    "%s ankle pressure fall %g mmHg after exercise (> 30)%s", side(s),
			    max_ankle_fall, alone ? " with exertional leg symptoms" : "");
	if (leg->criteria & TL_CRIT_ABI_FALL_GT_20PCT)
		add_finding(c, TL_POINTS_VASCULAR, alone ? W_OBJECTIVE : W_SUPPORTIVE,
			    alone ? SRC_POST_ALONE : SRC_ABI_FALL,
			    "%s ABI fall %.0f %% from rest (> 20 %%)%s", side(s), max_fall,
			    alone ? " with exertional leg symptoms" : "");
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
	/* TBI <= 0.70 is diagnostic on its own, and a normal ABI beside it does not
	 * outweigh it (2016 AHA/ACC; docs/clinical.md, TBI). */
	if (leg->tbi.has && leg->tbi_category == TL_TBI_ABNORMAL)
		add_finding(c, TL_POINTS_VASCULAR, W_OBJECTIVE, SRC_TBI_ALONE,
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
		/* A low TBI beside a normal ABI: the ABI may be falsely normal. */
		if (leg->tbi.has && leg->tbi_category == TL_TBI_ABNORMAL)
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
		if ((leg->rest.has && leg->rest_category == TL_ABI_ABNORMAL) ||
		    (leg->criteria & TL_CRIT_POST_ABI_LE_0_90))
			c->abi_abnormal = true;
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
	bool above_knee = sy->locations & (TL_LOC_THIGH | TL_LOC_BUTTOCK);
	/* Relief by bending forward (flexion) is weighed by Suri 2010 in
	 * neurogenic_evidence; counting it here too would count it twice. */
	if (yes(c, TL_SYM_SHOPPING_CART_SIGN))
		items[n++] = "shopping-cart sign";
	if (above_knee)
		items[n++] = "symptoms above the knee";
	if (yes(c, TL_SYM_TRIGGERED_BY_STANDING))
		items[n++] = "triggered by standing alone";
	if (sy->relief == TL_RELIEF_SITTING)
		items[n++] = "relieved by sitting";
	/* Nadeau 2013's LR+ 13 is for all four items together; three of four is not the
	 * combination, so fewer are weighed singly (docs/clinical.md, Neurogenic
	 * combination). */
	if (n == 4) {
		char list[TL_TEXT_MAX] = "";
		for (int i = 0; i < n; i++)
			append(list, sizeof list, "%s", items[i]);
		add_finding(c, TL_POINTS_NEUROGENIC, W_STRONG_HISTORY, SRC_NADEAU_NEURO, "%s", list);
		return;
	}
	for (int i = 0; i < n; i++) {
		/* Buttock and thigh claudication with an abnormal ABI is the aortoiliac
		 * pattern: it does not count toward stenosis (docs/clinical.md, Aortoiliac
		 * pattern). */
		if (c->abi_abnormal && !strcmp(items[i], "symptoms above the knee")) {
			add_rationale(c, "symptoms above the knee not counted toward neurogenic: "
					 "with an abnormal ABI they fit aortoiliac disease");
			continue;
		}
		add_finding(c, TL_POINTS_NEUROGENIC, W_SUPPORTIVE, SRC_NADEAU_NEURO,
			    "%s (single item; the combination needs all four)", items[i]);
	}
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
	if (yes(c, TL_SYM_NO_PAIN_SEATED))
		add_finding(c, TL_POINTS_NEUROGENIC, W_MODERATE, SRC_SURI_SEATED,
			    "no pain when seated");
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
		char abi[64];
		if (leg->rest.noncompressible)
			snprintf(abi, sizeof abi, "(ankle artery noncompressible)");
		else
			snprintf(abi, sizeof abi, "%.2f > 1.40", tl_index_value(leg->rest));
		if (leg->tbi.has)
			add_rationale(c, "%s resting ABI %s is not interpretable; the "
					 "toe-brachial index (%.2f) is used instead",
				      side(s), abi, tl_index_value(leg->tbi));
		else
			add_rationale(c, "%s resting ABI %s is not interpretable: measure "
					 "toe pressures; source: %s",
				      side(s), abi, SRC_TBI);
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
	if (c->legs[s] && leg->tbi.has && leg->tbi_category == TL_TBI_ABNORMAL && leg->rest.has &&
	    (leg->rest_category == TL_ABI_NORMAL || leg->rest_category == TL_ABI_BORDERLINE))
		add_rationale(c, "%s resting ABI %.2f is not abnormal but the toe-brachial index "
				 "%.2f is: the ABI may be falsely normal (for example in diabetes) "
				 "and the TBI is diagnostic on its own; source: %s",
			      side(s), tl_index_value(leg->rest), tl_index_value(leg->tbi),
			      SRC_TBI_ALONE);
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

/* Inter-arm systolic difference (Clark 2012; docs/clinical.md, Inter-arm difference):
 * >= 15 mmHg is a warning, 10-14 mmHg a note. Compared in tenths of a mmHg so that
 * 15.0 is 15. */
static void inter_arm(struct ctx *c)
{
	const struct tl_mmhg *b = c->f->rest.brachial;
	if (!b[TL_LEFT].has || !b[TL_RIGHT].has)
		return;
	long diff_tenths = labs(lround((b[TL_LEFT].mmhg - b[TL_RIGHT].mmhg) * 10.0));
	int high = b[TL_LEFT].mmhg >= b[TL_RIGHT].mmhg ? TL_LEFT : TL_RIGHT;
	double diff = diff_tenths / 10.0;
	if (diff_tenths >= lround(INTER_ARM_WARN_MMHG * 10))
		add_warning(c, SRC_CLARK,
			    "inter-arm systolic difference %g mmHg (>= 15): suspected subclavian "
			    "stenosis on the %s side (>= 10 mmHg is associated with it; >= 15 mmHg "
			    "with peripheral vascular disease and mortality); the ABI uses the "
			    "higher (%s) arm",
			    diff, side(1 - high), side(high));
	else if (diff_tenths >= lround(INTER_ARM_NOTE_MMHG * 10))
		add_rationale(c, "inter-arm systolic difference %g mmHg (>= 10, < 15): associated "
				 "with subclavian stenosis (Clark 2012); the ABI uses the higher "
				 "(%s) arm",
			      diff, side(high));
}

/* Says how much noise recovery allowed, so a reader sees why a reading a few mmHg
 * below rest counted as recovered (docs/clinical.md, Recovery). */
static void recovery_note(struct ctx *c)
{
	const struct tl_abi_leg *leg = &c->out->abi.leg[TL_LEFT];
	if (!leg->has_tolerance || (!leg->n_post))
		return;
	add_rationale(c, "recovery allows %.1f mmHg below the resting ankle pressure (the ABI's "
			 "minimal detectable change 0.08 x resting brachial %g mmHg)",
		      leg->tolerance_mmhg, leg->brachial.mmhg);
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
	inter_arm(c);
	recovery_note(c);
	for (int s = 0; s < TL_N_SIDES; s++)
		leg_notes(c, s);
}

/* ---- severity ---- */

__attribute__((format(printf, 4, 5))) static void grade(struct tl_grade *g, const char *value,
							 const char *source, const char *fmt, ...)
{
	g->has = value != NULL;
	snprintf(g->grade, sizeof g->grade, "%s", value ? value : "");
	g->source = source;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(g->criteria, sizeof g->criteria, fmt, ap);
	va_end(ap);
}

/* The lowest post-exercise ankle pressure of the symptomatic legs, with that leg's
 * resting ankle pressure; false when no leg has both. */
static bool worst_post_ankle(const struct ctx *c, double *post_mmhg, double *rest_mmhg)
{
	bool found = false;
	for (int s = 0; s < TL_N_SIDES; s++) {
		const struct tl_abi_leg *leg = &c->out->abi.leg[s];
		if (!c->legs[s] || !tl_mmhg_numeric(leg->ankle))
			continue;
		for (size_t i = 0; i < leg->n_post; i++) {
			const struct tl_mmhg a = leg->post[i].ankle;
			if (tl_mmhg_numeric(a) && (!found || a.mmhg < *post_mmhg)) {
				found = true;
				*post_mmhg = a.mmhg;
				*rest_mmhg = leg->ankle.mmhg;
			}
		}
	}
	return found;
}

/* Claudication categories 1-3 from the walk and the post-exercise ankle pressure
 * (Rutherford 1997; docs/clinical.md, Severity). */
static void rutherford_claudication(struct ctx *c, struct tl_grade *g)
{
	enum tl_walk_end end = c->f->walk.end_reason;
	double post, rest;
	if (end == TL_WALK_END_ABSENT) {
		grade(g, NULL, SRC_RUTHERFORD, "not graded: how walking ended is not recorded");
		return;
	}
	if (!worst_post_ankle(c, &post, &rest)) {
		grade(g, NULL, SRC_RUTHERFORD, "not graded: no post-exercise ankle pressure with "
					       "a resting one");
		return;
	}
	bool completed = end == TL_WALK_END_PROTOCOL_END || end == TL_WALK_END_MAX_DURATION;
	bool stopped_by_pain = end == TL_WALK_END_MAX_CLAUDICATION;
	if (!completed && !stopped_by_pain) {
		grade(g, NULL, SRC_RUTHERFORD, "not graded: walking ended by %s, so whether the "
					       "patient could complete the test is unknown",
		      tl_walk_end_text(end));
		return;
	}
	if (stopped_by_pain && post < RUTHERFORD_POST_ANKLE_MMHG)
		grade(g, "3", SRC_RUTHERFORD, "severe claudication: could not complete the test "
					      "(max claudication) and post-exercise ankle "
					      "pressure %g mmHg (< 50)",
		      post);
	else if (completed && post > RUTHERFORD_POST_ANKLE_MMHG &&
		 rest - post >= RUTHERFORD_FALL_MMHG)
		grade(g, "1", SRC_RUTHERFORD, "mild claudication: completed the test; "
					      "post-exercise ankle pressure %g mmHg (> 50) and "
					      "%g mmHg below rest (>= 20)",
		      post, rest - post);
	else if (completed && rest - post < RUTHERFORD_FALL_MMHG)
		grade(g, NULL, SRC_RUTHERFORD, "not graded: completed the test with the ankle "
					       "pressure %g mmHg below rest (< 20): the criteria "
					       "of categories 1-3 are not met",
		      rest - post);
	else
		grade(g, "2", SRC_RUTHERFORD, "moderate claudication: between categories 1 and "
					      "3 (%s; post-exercise ankle pressure %g mmHg, %g "
					      "below rest)",
		      completed ? "completed the test" : "stopped by claudication", post,
		      rest - post);
}

static void rutherford(struct ctx *c)
{
	struct tl_grade *g = &c->out->severity.rutherford;
	if (yes(c, TL_SYM_NONHEALING_WOUND) || yes(c, TL_SYM_GANGRENE))
		grade(g, "5-6", SRC_RUTHERFORD, "tissue loss (%s): minor (5) or major (6); the "
						"extent is not recorded",
		      yes(c, TL_SYM_GANGRENE) ? "gangrene" : "non-healing wound");
	else if (yes(c, TL_SYM_REST_PAIN))
		grade(g, "4", SRC_RUTHERFORD, "ischemic rest pain");
	else
		rutherford_claudication(c, g);
}

static void fontaine(struct ctx *c)
{
	struct tl_grade *g = &c->out->severity.fontaine;
	const struct tl_walk *w = &c->f->walk;
	if (yes(c, TL_SYM_NONHEALING_WOUND) || yes(c, TL_SYM_GANGRENE))
		grade(g, "IV", SRC_FONTAINE, "ulceration or gangrene");
	else if (yes(c, TL_SYM_REST_PAIN))
		grade(g, "III", SRC_FONTAINE, "ischemic rest pain");
	else if (!w->icd_m.has)
		grade(g, NULL, SRC_FONTAINE, "not graded: no claudication onset distance");
	else if (w->icd_m.m > FONTAINE_DISTANCE_M)
		grade(g, "IIa", SRC_FONTAINE, "claudication after %g m (> 200 m)", w->icd_m.m);
	else
		grade(g, "IIb", SRC_FONTAINE, "claudication after %g m (<= 200 m)", w->icd_m.m);
}

/* Grades apply to limb ischemia: a vascular or mixed picture, or a CLTI flag. */
static void severity(struct ctx *c)
{
	struct tl_severity *sv = &c->out->severity;
	for (int s = 0; s < TL_N_SIDES; s++) {
		const struct tl_abi_leg *leg = &c->out->abi.leg[s];
		sv->has_band[s] = leg->rest.has;
		if (leg->rest.has)
			sv->band[s] = leg->rest.noncompressible ? TL_BAND_NONCOMPRESSIBLE
								: tl_abi_band_of(leg->rest.hundredths);
	}
	enum tl_category cat = c->out->category;
	bool cli = c->out->n_red_flags && c->out->red_flags[0].code == TL_RF_CRITICAL_LIMB_ISCHEMIA;
	if (cat != TL_CAT_VASCULAR && cat != TL_CAT_MIXED && !cli) {
		grade(&sv->rutherford, NULL, SRC_RUTHERFORD, "not graded: not a vascular picture");
		grade(&sv->fontaine, NULL, SRC_FONTAINE, "not graded: not a vascular picture");
		return;
	}
	/* Both grade chronic ischemia; an acute onset is acute limb ischemia. */
	if (yes(c, TL_SYM_ACUTE_ONSET)) {
		grade(&sv->rutherford, NULL, SRC_RUTHERFORD, "not graded: acute onset (acute limb "
							     "ischemia, not chronic)");
		grade(&sv->fontaine, NULL, SRC_FONTAINE, "not graded: acute onset (acute limb "
							 "ischemia, not chronic)");
		return;
	}
	rutherford(c);
	fontaine(c);
}

/* ---- walking endpoints ---- */

/* PWT and ACD are censored when walking ended other than by maximal claudication: the
 * patient could have walked further (docs/clinical.md, Censored endpoints). */
static void endpoint(struct tl_endpoint_report *r, bool has, double value, const char *unit,
		     enum tl_walk_end end)
{
	r->has = has;
	if (!has)
		return;
	r->value = value;
	r->censored = tl_walk_end_censors(end);
	if (r->censored) {
		r->censored_by = end;
		snprintf(r->text, sizeof r->text, "more than %.1f %s: %s", value, unit,
			 tl_walk_end_text(end));
	} else {
		snprintf(r->text, sizeof r->text, "%.1f %s", value, unit);
	}
}

static void endpoints(struct ctx *c)
{
	const struct tl_walk *w = &c->f->walk;
	endpoint(&c->out->pwt, w->pwt_s.has, w->pwt_s.s, "s", w->end_reason);
	endpoint(&c->out->acd, w->acd_m.has, w->acd_m.m, "m", w->end_reason);
	if (c->out->pwt.censored)
		add_rationale(c, "PWT and ACD are censored: walking ended by %s, not by maximal "
				 "claudication",
			      tl_walk_end_text(w->end_reason));
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
	endpoints(&c);
	decide(&c);
	severity(&c);
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
		"bladder_dysfunction", "acute_onset", "no_pain_seated"};
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

const char *tl_walk_end_text(enum tl_walk_end e)
{
	static const char *const texts[] = {
		NULL, "maximal claudication", "protocol end", "maximum duration",
		"operator stop", "emergency stop", "treadmill fault", "shutdown",
		"interruption (the daemon stopped)",
	};
	return (unsigned)e < sizeof texts / sizeof texts[0] ? texts[e] : NULL;
}

bool tl_walk_end_censors(enum tl_walk_end e)
{
	return e != TL_WALK_END_ABSENT && e != TL_WALK_END_MAX_CLAUDICATION;
}

const char *tl_walk_end_name(enum tl_walk_end e)
{
	static const char *const names[] = {
		NULL, "max_claudication", "protocol_end", "max_duration",
		"operator_stop", "emergency_stop", "fault", "shutdown", "interrupted",
	};
	return (unsigned)e < sizeof names / sizeof names[0] ? names[e] : NULL;
}
