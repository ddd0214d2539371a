/* abi.h - ankle-brachial and toe-brachial indices, at rest and after exercise.
 *
 * What this module promises:
 * - ABI per leg = ankle pressure / the higher of the two brachial pressures, where the
 *   ankle pressure is the higher of PT and DP by default or the lower one as an option
 *   (2016 AHA/ACC guideline citing Aboyans 2012; docs/clinical.md, ABI).
 * - Every index is rounded to 2 decimals (half away from zero) and kept as an integer
 *   number of hundredths, so the category is applied to the ROUNDED value exactly:
 *   0.905 is reported as 0.91 and is borderline, never abnormal.
 * - A pressure is either measured (0 included: "no signal" is a real finding) or not
 *   measured. struct tl_mmhg says which; a zeroed struct means "not measured", so a
 *   forgotten field can never pass for a measured 0.
 * - An ankle artery (PT or DP) may be recorded as noncompressible: not compressed at the
 *   cuff's maximum, so its pressure is not a number. It is above any measured pressure
 *   (the higher-ankle rule picks it, the lower-ankle rule the other artery), and an ABI
 *   on it is noncompressible (category > 1.40, no value). Only ankle arteries may be
 *   noncompressible (docs/clinical.md, Noncompressible arteries).
 * - An index is not computable (has == false) when its ankle/toe pressure is missing or
 *   when no brachial pressure above 0 exists: never a division by zero, never a guess.
 * - A post-exercise ABI uses the brachial pressures measured at that time point; the
 *   resting brachial pressure is not carried over (a post ABI without a post brachial
 *   is not computable), but ankle falls and recovery need only ankle pressures.
 * - Post-exercise criteria (each reported separately; docs/clinical.md, Post-exercise
 *   criteria) are applied per leg only when the resting ABI is not > 1.40 ("Do not
 *   interpret ABI changes when ABI > 1.40"); a leg with a noncompressible resting ABI
 *   gets no criteria at all and says so (changes_not_interpreted).
 * - Recovery allows for measurement noise: an ankle pressure counts as back at rest when
 *   it is within the ABI's minimal detectable change (0.08) of the resting pressure,
 *   expressed in mmHg on the resting brachial pressure (docs/clinical.md, Recovery).
 * - Each resting ABI gets a severity band (docs/clinical.md, Severity).
 * No I/O, no allocation. */
#ifndef TL_ABI_H
#define TL_ABI_H

#include <stdbool.h>
#include <stddef.h>

#include "tl_err.h"

/* A systolic pressure in mmHg, or "not measured" (has == false), or an artery not
 * compressible at the cuff's maximum (has and noncompressible; mmhg is then the cuff
 * pressure reached, never a systolic pressure). */
struct tl_mmhg {
	bool has;
	double mmhg;
	bool noncompressible;
};

/* Measured as a number: usable in arithmetic. */
static inline bool tl_mmhg_numeric(struct tl_mmhg p)
{
	return p.has && !p.noncompressible;
}

static inline struct tl_mmhg tl_mmhg_of(double mmhg)
{
	return (struct tl_mmhg){.has = true, .mmhg = mmhg};
}

/* Sanity bound for any systolic pressure (issue 5: "pressures above 300 mmHg" are absurd
 * input). Not a clinical threshold: it only refuses typing errors. */
#define TL_MMHG_MAX 300.0

/* Post-exercise time points kept per study (default schedule 1, 3, 5, 10 min). */
#define TL_ABI_MAX_POST 16

enum tl_side {
	TL_LEFT,
	TL_RIGHT,
	TL_N_SIDES,
};

enum tl_ankle_rule {
	TL_ANKLE_HIGHER, /* the guideline's default (2016 AHA/ACC) */
	TL_ANKLE_LOWER,  /* some sites: more sensitive (docs/clinical.md, ABI) */
};

struct tl_abi_options {
	enum tl_ankle_rule ankle_rule;
};

#define TL_ABI_OPTIONS_DEFAULT ((struct tl_abi_options){.ankle_rule = TL_ANKLE_HIGHER})

/* One set of pressures, indexed by enum tl_side. */
struct tl_pressure_set {
	struct tl_mmhg brachial[TL_N_SIDES];
	struct tl_mmhg pt[TL_N_SIDES];
	struct tl_mmhg dp[TL_N_SIDES];
	struct tl_mmhg toe[TL_N_SIDES];
};

struct tl_post_set {
	double minute; /* after belt stop, >= 0 */
	struct tl_pressure_set p;
};

/* An ABI or TBI rounded to 2 decimals, as hundredths: 0.91 is 91; or, on a
 * noncompressible artery, no value (has and noncompressible, hundredths 0). */
struct tl_index {
	bool has;
	int hundredths;
	bool noncompressible;
};

static inline double tl_index_value(struct tl_index i)
{
	return i.hundredths / 100.0;
}

enum tl_abi_category {
	TL_ABI_ABNORMAL,        /* <= 0.90: PAD */
	TL_ABI_BORDERLINE,      /* 0.91 - 0.99 */
	TL_ABI_NORMAL,          /* 1.00 - 1.40 */
	TL_ABI_NONCOMPRESSIBLE, /* > 1.40: not interpretable, measure toe pressures */
};

/* Severity band of a resting ABI (docs/clinical.md, Severity): the 2016 AHA/ACC
 * categories with the abnormal range split at 0.40 (ESC 2017 CLTI criterion; WIfI
 * ischemia grade 3). */
enum tl_abi_band {
	TL_BAND_NONCOMPRESSIBLE, /* > 1.40: no band, not interpretable */
	TL_BAND_NORMAL,          /* 1.00 - 1.40 */
	TL_BAND_BORDERLINE,      /* 0.91 - 0.99 */
	TL_BAND_MILD_MODERATE,   /* 0.40 - 0.90: PAD */
	TL_BAND_SEVERE,          /* < 0.40 */
};

/* The ABI's minimal detectable change, in hundredths (docs/clinical.md, Recovery). */
#define TL_ABI_MDC_HUNDREDTHS 8

enum tl_tbi_category {
	TL_TBI_ABNORMAL, /* <= 0.70 */
	TL_TBI_NORMAL,
};

/* Post-exercise criteria supporting PAD, one bit each (docs/clinical.md, Post-exercise
 * criteria). */
enum tl_abi_criterion {
	TL_CRIT_POST_ABI_LE_0_90 = 1u << 0,     /* post-exercise ABI <= 0.90 */
	TL_CRIT_ABI_FALL_GT_20PCT = 1u << 1,    /* ABI fall > 20 % from rest */
	TL_CRIT_ANKLE_FALL_GT_30MMHG = 1u << 2, /* ankle pressure fall > 30 mmHg */
	TL_CRIT_DELAYED_RECOVERY_GT_3MIN = 1u << 3, /* ankle not back at rest (within the
						     * noise tolerance) by 3 min */
};
#define TL_N_CRITERIA 4

struct tl_abi_post {
	double minute;
	struct tl_index abi;  /* not computable without this point's brachial pressure */
	struct tl_mmhg ankle; /* this point's ankle pressure (ankle rule applied) */
	bool has_fall_pct;
	double fall_pct; /* (rest - post) / rest x 100 on the rounded ABIs; < 0 is a rise */
	bool has_ankle_fall;
	double ankle_fall_mmhg; /* rest ankle - post ankle; < 0 is a rise */
};

struct tl_abi_leg {
	struct tl_mmhg brachial; /* the higher arm at rest, shared by both legs */
	struct tl_mmhg ankle;    /* resting ankle pressure (ankle rule applied) */
	struct tl_index rest;
	enum tl_abi_category rest_category; /* valid when rest.has */
	struct tl_index tbi;
	enum tl_tbi_category tbi_category; /* valid when tbi.has */
	size_t n_post;
	struct tl_abi_post post[TL_ABI_MAX_POST]; /* in the caller's order */
	unsigned criteria;            /* enum tl_abi_criterion bits */
	bool changes_not_interpreted; /* resting ABI > 1.40: no criterion applied */
	bool has_tolerance;
	double tolerance_mmhg; /* noise allowed for recovery: MDC x resting brachial */
	bool has_recovery;
	double recovery_min; /* first post minute with the ankle back at rest - tolerance */
};

struct tl_abi_result {
	struct tl_abi_leg leg[TL_N_SIDES];
};

/* The higher of two brachial pressures; a measured 0 counts as measured. */
struct tl_mmhg tl_abi_brachial(struct tl_mmhg left, struct tl_mmhg right);

/* The ankle pressure of one leg from PT and DP under the rule; one measured artery is
 * used alone. */
struct tl_mmhg tl_abi_ankle(struct tl_mmhg pt, struct tl_mmhg dp, enum tl_ankle_rule rule);

/* numerator / brachial rounded to hundredths; not computable when either is missing
 * or the brachial pressure is 0. */
struct tl_index tl_abi_index(struct tl_mmhg numerator, struct tl_mmhg brachial);

enum tl_abi_category tl_abi_categorize(int hundredths);
/* The category of an index that has a value or is noncompressible. */
enum tl_abi_category tl_abi_index_category(struct tl_index i);
enum tl_tbi_category tl_tbi_categorize(int hundredths);
enum tl_abi_band tl_abi_band_of(int hundredths);

/* Checks one pressure: 0 <= mmhg <= TL_MMHG_MAX when measured. path names the field in
 * the message ("post[2].pt_left: 412 is above 300 mmHg"). Returns 0 or -1. */
int tl_mmhg_check(struct tl_mmhg p, const char *path, struct tl_err *err);

/* Computes both legs. post may be NULL when n_post is 0. Returns 0, or -1 with err set
 * when a pressure is out of range, a minute is negative or there are too many points. */
int tl_abi_compute(const struct tl_pressure_set *rest, const struct tl_post_set *post,
		   size_t n_post, const struct tl_abi_options *opt, struct tl_abi_result *out,
		   struct tl_err *err);

const char *tl_side_name(enum tl_side s);                  /* "left", "right" */
const char *tl_abi_category_name(enum tl_abi_category c);  /* "abnormal", ... */
const char *tl_tbi_category_name(enum tl_tbi_category c);  /* "abnormal", "normal" */
const char *tl_abi_band_name(enum tl_abi_band b);          /* "severe", ... */
const char *tl_abi_band_criteria(enum tl_abi_band b);      /* "< 0.40 (ESC 2017 ...)" */
const char *tl_abi_criterion_name(enum tl_abi_criterion c); /* "post_abi_le_0_90", ... */

/* The criteria in report order, for iterating over the bits. */
extern const enum tl_abi_criterion tl_abi_criteria[TL_N_CRITERIA];

#endif
