/* classifier.h - vascular, neurogenic or muscular: reading a findings document.
 *
 * Input is the findings of one test (resting and post-exercise pressures, the walk, the
 * two-stage test, the symptoms); every field may be absent, and absent is never read
 * as "no" or as 0. Output is a category, the red flags, the findings that drove the
 * category (each with the source it comes from, docs/clinical.md) and rationale lines.
 *
 * Every rule, threshold and weight below is set out with its source in docs/clinical.md;
 * the code cites the short form beside each rule.
 *
 * Red flags are evaluated on their own and always reported, whatever the category:
 * - critical_limb_ischemia (chronic limb-threatening ischemia, CLTI): rest pain, a
 *   non-healing wound or gangrene of chronic onset, unless the pressures of the legs
 *   concerned exclude it. Confirmed by any of (docs/clinical.md, CLTI): with rest pain
 *   ankle < 50 mmHg or toe < 30 mmHg, with tissue loss ankle < 70 or toe < 50 (TASC II);
 *   a resting ABI below 0.40 (ESC 2017; WIfI ischemia grade 3). The ankle pressure for
 *   these thresholds is the ankle's better artery whatever the ABI's ankle rule: a silent
 *   artery beside one with a signal does not make the ankle 0. CLTI is only excluded
 *   when that ankle pressure is measured and interpretable (ABI not > 1.40) and at or
 *   above its threshold, the ABI is not below 0.40, AND the toe pressure is measured and
 *   at or above its threshold; a missing pressure keeps the flag up (a red flag errs on
 *   the side of referral). Only the symptomatic legs are checked. An acute onset
 *   (< 2 weeks) is acute limb ischemia, never CLTI.
 * - acute_limb_ischemia: acute onset (< 2 weeks) with at least one of pallor, cyanosis,
 *   a cool limb (poikilothermia), pulselessness (a measured resting ankle pressure of 0),
 *   numbness or tingling (paresthesias), weakness (paralysis), rest pain or tissue loss.
 * - skin_changes: pallor, a bluish colour or a persistently cool limb.
 * - persistent_neuro_deficit: numbness, tingling or weakness persisting after the
 *   episode.
 * - cauda_equina: saddle anaesthesia, bladder dysfunction, or weakness that is bilateral
 *   and persists (the record has no "progressive" field; persistence is the closest).
 *
 * Warnings (after the red flags; they qualify the measurement, not the patient's
 * urgency): an inter-arm systolic difference of 15 mmHg or more (Clark 2012).
 *
 * Scoring rule for the category. Each finding has a weight:
 *   4  objective hemodynamic evidence: resting ABI <= 0.90, post-exercise ABI <= 0.90,
 *      TBI <= 0.70 (diagnostic on its own, even beside a normal ABI), and, with
 *      exertional leg symptoms, an ankle pressure fall > 30 mmHg or an ABI fall > 20 %
 *      (each diagnostic on its own, 2012 AHA statement); against vascular: normal ABI
 *      before and after a symptom-limited walk. The guideline diagnoses PAD on these
 *      alone, so one of them is enough.
 *   3  history items with LR+ >= 10 (Nadeau 2013: calf symptoms relieved by standing
 *      still, LR+ 20; the neurogenic combination of all four items, LR+ 13) and the
 *      LR- 0.05 of "pain not triggered by standing alone" against stenosis.
 *   2  moderate items (LR about 5-10: Suri 2010 no pain when seated, bending forward and
 *      bilateral pain; the two-stage incline time, specificity 92 %; an ankle fall
 *      > 30 mmHg without exertional symptoms), a muscle knot relieved by stretching when
 *      the pressures are unknown, and normal ABI before and after a walk not known to be
 *      symptom-limited (it may not have stressed the legs).
 *   1  supportive items without a strong figure: an ABI fall > 20 % without exertional
 *      symptoms (common in young healthy adults, Kyte 2023), delayed recovery, a
 *      borderline ABI, relief within 10 min, numbness/tingling/weakness, each single
 *      Nadeau item (when fewer than all four are present), the other two-stage signs, a
 *      normal resting ABI or TBI (against vascular).
 * Pain above the knee is not counted as a single Nadeau item when a symptomatic leg has
 * an abnormal resting or post-exercise ABI: buttock and thigh claudication is the
 * pattern of aortoiliac disease.
 * A side's score is its findings minus the findings against it. A side is STRONG at a
 * score >= 4 (TL_STRONG_SCORE): one objective finding, or history that adds up to the
 * strongest item plus one concordant item. Then, conservatively:
 *   vascular and neurogenic both strong      -> mixed
 *   muscular strong together with another    -> indeterminate (contradictory)
 *   exactly one strong                       -> that one
 *   none strong                              -> indeterminate (data too thin)
 * Muscular is strong only with a sudden knot relieved by stretching AND normal pressures
 * (J Athl Train 2022 definition). Pressure findings count only for the symptomatic legs
 * (symptoms.side; both legs when the side is bilateral or unknown).
 *
 * Severity (docs/clinical.md, Severity): each leg's resting ABI band; the Rutherford
 * category and Fontaine stage from the symptoms, the walk and the pressures, each with
 * the criteria used, or why it could not be graded.
 *
 * Walking endpoints: PWT and ACD are censored when walking ended other than by maximal
 * claudication ("more than 8.1 s: emergency stop").
 * No I/O, no allocation. */
#ifndef TL_CLASSIFIER_H
#define TL_CLASSIFIER_H

#include <stdbool.h>
#include <stddef.h>

#include "abi.h"
#include "tl_err.h"

/* A yes/no answer that may be missing; zero means absent. */
enum tl_tri {
	TL_TRI_ABSENT = 0,
	TL_TRI_NO,
	TL_TRI_YES,
};

/* A duration in seconds that may be missing. */
struct tl_opt_s {
	bool has;
	double s;
};

enum tl_location {
	TL_LOC_CALF = 1u << 0,
	TL_LOC_THIGH = 1u << 1,
	TL_LOC_BUTTOCK = 1u << 2,
	TL_LOC_FOOT = 1u << 3,
	TL_LOC_BACK = 1u << 4,
};
#define TL_N_LOCATIONS 5

enum tl_symptom_side {
	TL_SYM_SIDE_ABSENT = 0,
	TL_SYM_SIDE_LEFT,
	TL_SYM_SIDE_RIGHT,
	TL_SYM_SIDE_BILATERAL,
};

enum tl_relief {
	TL_RELIEF_ABSENT = 0,
	TL_RELIEF_STANDING,
	TL_RELIEF_SITTING,
	TL_RELIEF_BENDING_FORWARD,
	TL_RELIEF_STRETCHING,
	TL_RELIEF_NONE,
};

/* The yes/no symptoms, in document order. */
enum tl_symptom_flag {
	TL_SYM_TRIGGERED_BY_STANDING,
	TL_SYM_SHOPPING_CART_SIGN,
	TL_SYM_NUMBNESS,
	TL_SYM_TINGLING,
	TL_SYM_WEAKNESS,
	TL_SYM_PERSISTENT_NEURO_DEFICIT,
	TL_SYM_SUDDEN_MUSCLE_KNOT,
	TL_SYM_REST_PAIN,
	TL_SYM_NONHEALING_WOUND,
	TL_SYM_GANGRENE,
	TL_SYM_SKIN_PALLOR,
	TL_SYM_SKIN_CYANOSIS,
	TL_SYM_COOL_LIMB,
	TL_SYM_SADDLE_ANESTHESIA,
	TL_SYM_BLADDER_DYSFUNCTION,
	TL_SYM_ACUTE_ONSET,
	TL_SYM_NO_PAIN_SEATED, /* Suri 2010: no pain when seated, LR 7.4 */
	TL_N_SYMPTOM_FLAGS,
};

struct tl_symptoms {
	bool has_location;  /* the list was given (it may be empty) */
	unsigned locations; /* enum tl_location bits */
	enum tl_symptom_side side;
	enum tl_relief relief;
	struct tl_opt_s relief_time_s;
	enum tl_tri flag[TL_N_SYMPTOM_FLAGS];
};

/* Why walking ended. The strings are the session's end reasons (tl_end_reason_name in
 * session.h on main), and the store's "interrupted" for a test the daemon did not see to
 * its end, so a recorded reason can be copied into a findings document; a separate enum
 * keeps this module free of the session. */
enum tl_walk_end {
	TL_WALK_END_ABSENT = 0,
	TL_WALK_END_MAX_CLAUDICATION, /* the patient's max press: symptom-limited */
	TL_WALK_END_PROTOCOL_END,
	TL_WALK_END_MAX_DURATION,
	TL_WALK_END_OPERATOR_STOP,
	TL_WALK_END_EMERGENCY_STOP,
	TL_WALK_END_FAULT,
	TL_WALK_END_SHUTDOWN,
	TL_WALK_END_INTERRUPTED, /* the store's: the daemon died during the test */
	TL_WALK_END_LAST = TL_WALK_END_INTERRUPTED,
};

/* A distance in metres that may be missing. */
struct tl_opt_m {
	bool has;
	double m;
};

struct tl_walk {
	struct tl_opt_s cot_s; /* claudication onset time */
	struct tl_opt_s pwt_s; /* peak walking time */
	struct tl_opt_m icd_m; /* initial claudication distance */
	struct tl_opt_m acd_m; /* absolute claudication distance */
	enum tl_walk_end end_reason;
};

/* Two-stage treadmill test for spinal stenosis (Fritz 1997). */
struct tl_two_stage {
	struct tl_opt_s level_onset_s;
	struct tl_opt_s incline_onset_s;
	struct tl_opt_s level_walk_s;
	struct tl_opt_s incline_walk_s;
	struct tl_opt_s level_recovery_s;
	struct tl_opt_s incline_recovery_s;
};

/* The findings document; a zeroed struct has nothing measured and nothing reported. */
struct tl_findings {
	struct tl_pressure_set rest;
	size_t n_post;
	struct tl_post_set post[TL_ABI_MAX_POST];
	struct tl_walk walk;
	struct tl_two_stage two_stage;
	struct tl_symptoms symptoms;
};

enum tl_category {
	TL_CAT_INDETERMINATE = 0,
	TL_CAT_VASCULAR,
	TL_CAT_NEUROGENIC,
	TL_CAT_MIXED,
	TL_CAT_MUSCULAR,
};

enum tl_red_flag_code {
	TL_RF_CRITICAL_LIMB_ISCHEMIA,
	TL_RF_ACUTE_LIMB_ISCHEMIA,
	TL_RF_SKIN_CHANGES,
	TL_RF_PERSISTENT_NEURO_DEFICIT,
	TL_RF_CAUDA_EQUINA,
	TL_N_RED_FLAGS,
};

enum tl_points_to {
	TL_POINTS_VASCULAR,
	TL_POINTS_NEUROGENIC,
	TL_POINTS_MUSCULAR,
	TL_POINTS_AGAINST_VASCULAR,
	TL_POINTS_AGAINST_NEUROGENIC,
};

#define TL_TEXT_MAX 256
#define TL_MAX_FINDINGS 32
#define TL_MAX_RATIONALE 32
#define TL_MAX_WARNINGS 4
#define TL_STRONG_SCORE 4

struct tl_red_flag {
	enum tl_red_flag_code code;
	char reason[TL_TEXT_MAX];
};

struct tl_finding {
	char finding[TL_TEXT_MAX];
	enum tl_points_to points_to;
	int weight;         /* 1..4, see the scoring rule above */
	const char *source; /* guideline or paper (docs/clinical.md); static string */
};

struct tl_warning {
	char text[TL_TEXT_MAX];
	const char *source; /* static string */
};

/* A severity grade: the grade ("3", "IIb") when has, and the criteria used or, when not
 * has, why it could not be graded. */
struct tl_grade {
	bool has;
	char grade[8];
	char criteria[TL_TEXT_MAX];
	const char *source; /* static string */
};

struct tl_severity {
	bool has_band[TL_N_SIDES]; /* a resting ABI exists */
	enum tl_abi_band band[TL_N_SIDES];
	struct tl_grade rutherford;
	struct tl_grade fontaine;
};

/* A walking endpoint as reported: censored when walking ended other than by maximal
 * claudication; text is "310.0 s" or "more than 8.1 s: emergency stop". */
struct tl_endpoint_report {
	bool has;
	double value;
	bool censored;
	enum tl_walk_end censored_by; /* when censored */
	char text[64];
};

struct tl_classification {
	enum tl_category category;
	struct tl_abi_result abi;
	size_t n_red_flags; /* in enum order, each code at most once */
	struct tl_red_flag red_flags[TL_N_RED_FLAGS];
	size_t n_warnings;
	struct tl_warning warnings[TL_MAX_WARNINGS];
	struct tl_severity severity;
	struct tl_endpoint_report pwt, acd;
	size_t n_findings;
	struct tl_finding findings[TL_MAX_FINDINGS];
	size_t n_rationale;
	char rationale[TL_MAX_RATIONALE][TL_TEXT_MAX];
	int vascular_score; /* net: for minus against */
	int neurogenic_score;
	int muscular_score;
};

/* Classifies f. opt may be NULL (default ankle rule). Returns 0, or -1 with err set when
 * the pressures are out of range (see tl_abi_compute). */
int tl_classify(const struct tl_findings *f, const struct tl_abi_options *opt,
		struct tl_classification *out, struct tl_err *err);

const char *tl_category_name(enum tl_category c);     /* "vascular", ... */
const char *tl_red_flag_name(enum tl_red_flag_code c); /* "critical_limb_ischemia", ... */
const char *tl_points_to_name(enum tl_points_to p);   /* "vascular", "against_vascular" */
const char *tl_symptom_flag_name(enum tl_symptom_flag f); /* document key: "rest_pain" */
const char *tl_location_name(enum tl_location l);     /* "calf", ... */
const char *tl_symptom_side_name(enum tl_symptom_side s); /* NULL for absent */
const char *tl_relief_name(enum tl_relief r);         /* NULL for absent */
const char *tl_walk_end_name(enum tl_walk_end e);     /* NULL for absent */
/* "emergency stop" for the report's text; NULL for absent. */
const char *tl_walk_end_text(enum tl_walk_end e);
/* True when walking ended for a reason other than maximal claudication (known). */
bool tl_walk_end_censors(enum tl_walk_end e);

#endif
