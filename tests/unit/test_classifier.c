/* The classifier: the vignettes in tests/data/vignettes (table-driven, one file per
 * case with a one-line legend and the expected category and red flags), and direct
 * tests of the scoring and red-flag rules on built structs. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classifier.h"
#include "findings_json.h"
#include "protocol_files.h"

#define VIGNETTE_DIR TL_TEST_DATA_DIR "/vignettes"
#define MIN_VIGNETTES 25

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted *.json names in the vignette directory; returns the count. */
static size_t list_vignettes(char ***names)
{
	DIR *d = opendir(VIGNETTE_DIR);
	assert_non_null(d);
	size_t n = 0, cap = 64;
	*names = malloc(cap * sizeof **names);
	assert_non_null(*names);
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len < 6 || strcmp(e->d_name + len - 5, ".json"))
			continue;
		assert_true(n < cap);
		(*names)[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(*names, n, sizeof **names, cmp_names);
	return n;
}

/* True if the JSON array of strings `want` equals the set given by name/count. */
static bool same_set(const json_t *want, const char *const *got, size_t n_got)
{
	if (!json_is_array(want) || json_array_size(want) != n_got)
		return false;
	for (size_t i = 0; i < n_got; i++) {
		bool found = false;
		size_t k;
		const json_t *w;
		json_array_foreach (want, k, w)
			found = found || (json_is_string(w) && !strcmp(json_string_value(w), got[i]));
		if (!found)
			return false;
	}
	return true;
}

static void check_criteria(const char *file, const json_t *expect, const char *key,
			   const struct tl_abi_leg *leg)
{
	const json_t *want = json_object_get(expect, key);
	if (!want)
		return;
	const char *got[TL_N_CRITERIA];
	size_t n = 0;
	for (int i = 0; i < TL_N_CRITERIA; i++)
		if (leg->criteria & tl_abi_criteria[i])
			got[n++] = tl_abi_criterion_name(tl_abi_criteria[i]);
	if (!same_set(want, got, n))
		fail_msg("%s: %s differs (%zu fired)", file, key, n);
}

/* Runs one vignette; marks the category and flags it expects in the coverage arrays. */
static void run_vignette(const char *file, bool *cat_seen, bool *flag_seen)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", VIGNETTE_DIR, file);
	json_error_t jerr;
	json_t *v = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!v)
		fail_msg("%s: %s", file, jerr.text);
	const json_t *legend = json_object_get(v, "legend");
	const json_t *expect = json_object_get(v, "expect");
	assert_true(json_is_string(legend) && !strchr(json_string_value(legend), '\n'));
	assert_true(json_is_object(expect));
	struct tl_findings f;
	struct tl_err err = {{0}};
	if (tl_findings_from_json(json_object_get(v, "findings"), &f, &err))
		fail_msg("%s: %s", file, err.msg);
	struct tl_classification c;
	assert_int_equal(tl_classify(&f, NULL, &c, &err), 0);
	const char *want_cat = json_string_value(json_object_get(expect, "category"));
	assert_non_null(want_cat);
	if (strcmp(want_cat, tl_category_name(c.category)))
		fail_msg("%s (%s): expected %s, got %s", file, json_string_value(legend), want_cat,
			 tl_category_name(c.category));
	cat_seen[c.category] = true;
	const char *flags[TL_N_RED_FLAGS];
	for (size_t i = 0; i < c.n_red_flags; i++) {
		flags[i] = tl_red_flag_name(c.red_flags[i].code);
		flag_seen[c.red_flags[i].code] = true;
	}
	if (!same_set(json_object_get(expect, "red_flags"), flags, c.n_red_flags))
		fail_msg("%s (%s): red flags differ (%zu raised)", file, json_string_value(legend),
			 c.n_red_flags);
	check_criteria(file, expect, "criteria_left", &c.abi.leg[TL_LEFT]);
	check_criteria(file, expect, "criteria_right", &c.abi.leg[TL_RIGHT]);
	/* Every result lists the findings that drove it and says why. */
	assert_true(c.n_rationale > 0);
	if (c.category != TL_CAT_INDETERMINATE)
		assert_true(c.n_findings > 0);
	json_t *out = tl_classification_to_json(&c);
	assert_non_null(out);
	assert_string_equal(json_string_value(json_object_get(out, "category")), want_cat);
	json_decref(out);
	json_decref(v);
}

static void vignettes(void **state)
{
	(void)state;
	char **names;
	size_t n = list_vignettes(&names);
	assert_true(n >= MIN_VIGNETTES);
	bool cat_seen[TL_CAT_MUSCULAR + 1] = {0}, flag_seen[TL_N_RED_FLAGS] = {0};
	for (size_t i = 0; i < n; i++) {
		print_message("vignette %s\n", names[i]);
		run_vignette(names[i], cat_seen, flag_seen);
	}
	for (int i = 0; i <= TL_CAT_MUSCULAR; i++)
		if (!cat_seen[i])
			fail_msg("no vignette is %s", tl_category_name((enum tl_category)i));
	for (int i = 0; i < TL_N_RED_FLAGS; i++)
		if (!flag_seen[i])
			fail_msg("no vignette raises %s", tl_red_flag_name((enum tl_red_flag_code)i));
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* ---- direct tests ---- */

static struct tl_classification classify(const struct tl_findings *f)
{
	struct tl_classification c;
	struct tl_err err = {{0}};
	assert_int_equal(tl_classify(f, NULL, &c, &err), 0);
	return c;
}

static const struct tl_mmhg NO_MMHG = {0};

static bool has_flag(const struct tl_classification *c, enum tl_red_flag_code code)
{
	for (size_t i = 0; i < c->n_red_flags; i++)
		if (c->red_flags[i].code == code)
			return true;
	return false;
}

static void empty_is_indeterminate_without_flags(void **state)
{
	(void)state;
	struct tl_findings f = {0};
	struct tl_classification c = classify(&f);
	assert_int_equal(c.category, TL_CAT_INDETERMINATE);
	assert_int_equal(c.n_red_flags, 0);
	assert_int_equal(c.n_findings, 0);
	assert_false(c.abi.leg[TL_LEFT].rest.has);
}

static void cli_at_the_thresholds(void **state)
{
	(void)state;
	struct tl_findings f = {0};
	f.symptoms.side = TL_SYM_SIDE_LEFT;
	f.symptoms.flag[TL_SYM_REST_PAIN] = TL_TRI_YES;
	/* Brachial 120 keeps the ABI at or above 0.40 (50/120 = 0.42), so only the TASC II
	 * pressure thresholds are tested here. */
	f.rest.brachial[TL_LEFT] = tl_mmhg_of(120);
	f.rest.pt[TL_LEFT] = tl_mmhg_of(50); /* not < 50 */
	f.rest.toe[TL_LEFT] = tl_mmhg_of(30); /* not < 30 */
	struct tl_classification c = classify(&f);
	assert_false(has_flag(&c, TL_RF_CRITICAL_LIMB_ISCHEMIA));
	f.rest.pt[TL_LEFT] = tl_mmhg_of(49);
	c = classify(&f);
	assert_true(has_flag(&c, TL_RF_CRITICAL_LIMB_ISCHEMIA));
	assert_non_null(strstr(c.red_flags[0].reason, "ankle pressure 49"));
	/* Tissue loss raises the thresholds to 70 / 50. */
	f.rest.pt[TL_LEFT] = tl_mmhg_of(69);
	f.rest.toe[TL_LEFT] = tl_mmhg_of(60);
	f.symptoms.flag[TL_SYM_REST_PAIN] = TL_TRI_ABSENT;
	f.symptoms.flag[TL_SYM_NONHEALING_WOUND] = TL_TRI_YES;
	c = classify(&f);
	assert_true(has_flag(&c, TL_RF_CRITICAL_LIMB_ISCHEMIA));
	f.rest.pt[TL_LEFT] = tl_mmhg_of(70);
	c = classify(&f);
	assert_false(has_flag(&c, TL_RF_CRITICAL_LIMB_ISCHEMIA));
	/* Toe 49 with tissue loss confirms it. */
	f.rest.toe[TL_LEFT] = tl_mmhg_of(49);
	c = classify(&f);
	assert_true(has_flag(&c, TL_RF_CRITICAL_LIMB_ISCHEMIA));
}

static void cli_only_on_the_symptomatic_side(void **state)
{
	(void)state;
	struct tl_findings f = {0};
	f.symptoms.side = TL_SYM_SIDE_RIGHT;
	f.symptoms.flag[TL_SYM_REST_PAIN] = TL_TRI_YES;
	f.rest.brachial[TL_LEFT] = tl_mmhg_of(130);
	f.rest.pt[TL_LEFT] = tl_mmhg_of(30);
	f.rest.pt[TL_RIGHT] = tl_mmhg_of(120);
	f.rest.toe[TL_RIGHT] = tl_mmhg_of(90);
	struct tl_classification c = classify(&f);
	assert_false(has_flag(&c, TL_RF_CRITICAL_LIMB_ISCHEMIA));
	/* Side unknown: both legs concerned, the left confirms. */
	f.symptoms.side = TL_SYM_SIDE_ABSENT;
	c = classify(&f);
	assert_true(has_flag(&c, TL_RF_CRITICAL_LIMB_ISCHEMIA));
}

static void red_flags_whatever_the_category(void **state)
{
	(void)state;
	/* A clean neurogenic picture still reports every red flag it has. */
	struct tl_findings f = {0};
	f.symptoms.side = TL_SYM_SIDE_BILATERAL;
	f.symptoms.has_location = true;
	f.symptoms.locations = TL_LOC_THIGH | TL_LOC_BUTTOCK;
	f.symptoms.relief = TL_RELIEF_SITTING;
	f.symptoms.flag[TL_SYM_SHOPPING_CART_SIGN] = TL_TRI_YES;
	f.symptoms.flag[TL_SYM_TRIGGERED_BY_STANDING] = TL_TRI_YES;
	f.symptoms.flag[TL_SYM_SKIN_PALLOR] = TL_TRI_YES;
	f.symptoms.flag[TL_SYM_BLADDER_DYSFUNCTION] = TL_TRI_YES;
	f.symptoms.flag[TL_SYM_REST_PAIN] = TL_TRI_YES;
	struct tl_classification c = classify(&f);
	assert_int_equal(c.category, TL_CAT_NEUROGENIC);
	assert_int_equal(c.n_red_flags, 3);
	/* Reported in a fixed order: CLI, ALI, skin, neuro, cauda equina. */
	assert_int_equal(c.red_flags[0].code, TL_RF_CRITICAL_LIMB_ISCHEMIA);
	assert_int_equal(c.red_flags[1].code, TL_RF_SKIN_CHANGES);
	assert_int_equal(c.red_flags[2].code, TL_RF_CAUDA_EQUINA);
}

static void absent_is_not_no(void **state)
{
	(void)state;
	/* "triggered_by_standing" absent does not count against stenosis; false does. */
	struct tl_findings f = {0};
	struct tl_classification c = classify(&f);
	assert_int_equal(c.neurogenic_score, 0);
	f.symptoms.flag[TL_SYM_TRIGGERED_BY_STANDING] = TL_TRI_NO;
	c = classify(&f);
	assert_int_equal(c.neurogenic_score, -3);
	assert_int_equal(c.findings[0].points_to, TL_POINTS_AGAINST_NEUROGENIC);
}

static void lower_ankle_option_changes_the_abi(void **state)
{
	(void)state;
	struct tl_findings f = {0};
	f.rest.brachial[TL_LEFT] = tl_mmhg_of(130);
	f.rest.pt[TL_LEFT] = tl_mmhg_of(130);
	f.rest.dp[TL_LEFT] = tl_mmhg_of(100);
	struct tl_abi_options lower = {.ankle_rule = TL_ANKLE_LOWER};
	struct tl_classification c;
	struct tl_err err = {{0}};
	assert_int_equal(tl_classify(&f, &lower, &c, &err), 0);
	assert_int_equal(c.abi.leg[TL_LEFT].rest.hundredths, 77);
	assert_int_equal(c.category, TL_CAT_VASCULAR);
	c = classify(&f);
	assert_int_equal(c.abi.leg[TL_LEFT].rest.hundredths, 100);
	assert_int_equal(c.category, TL_CAT_INDETERMINATE);
}

static void every_finding_has_a_source(void **state)
{
	(void)state;
	struct tl_findings f = {0};
	f.rest.brachial[TL_LEFT] = tl_mmhg_of(130);
	f.rest.pt[TL_LEFT] = tl_mmhg_of(100);
	f.symptoms.has_location = true;
	f.symptoms.locations = TL_LOC_CALF;
	f.symptoms.relief = TL_RELIEF_STANDING;
	f.symptoms.side = TL_SYM_SIDE_BILATERAL;
	f.symptoms.flag[TL_SYM_NUMBNESS] = TL_TRI_YES;
	f.symptoms.flag[TL_SYM_SUDDEN_MUSCLE_KNOT] = TL_TRI_YES;
	struct tl_classification c = classify(&f);
	assert_true(c.n_findings >= 4);
	for (size_t i = 0; i < c.n_findings; i++) {
		assert_non_null(c.findings[i].source);
		assert_true(strlen(c.findings[i].source) > 4);
		assert_true(c.findings[i].weight >= 1 && c.findings[i].weight <= 4);
	}
}

static void pulseless_means_no_signal_in_any_artery(void **state)
{
	(void)state;
	struct tl_findings f = {0};
	f.symptoms.flag[TL_SYM_ACUTE_ONSET] = TL_TRI_YES;
	f.rest.brachial[TL_LEFT] = tl_mmhg_of(130);
	f.rest.pt[TL_LEFT] = tl_mmhg_of(0);
	f.rest.dp[TL_LEFT] = tl_mmhg_of(80);
	struct tl_abi_options lower = {.ankle_rule = TL_ANKLE_LOWER};
	struct tl_classification c;
	struct tl_err err = {{0}};
	/* The lower-ankle ABI is 0.00, but the DP still has a signal: not pulseless. */
	assert_int_equal(tl_classify(&f, &lower, &c, &err), 0);
	assert_int_equal(c.abi.leg[TL_LEFT].rest.hundredths, 0);
	assert_false(has_flag(&c, TL_RF_ACUTE_LIMB_ISCHEMIA));
	f.rest.dp[TL_LEFT] = tl_mmhg_of(0);
	assert_int_equal(tl_classify(&f, &lower, &c, &err), 0);
	assert_true(has_flag(&c, TL_RF_ACUTE_LIMB_ISCHEMIA));
	assert_non_null(strstr(c.red_flags[0].reason, "pulselessness"));
}

static void out_of_range_pressure_is_refused(void **state)
{
	(void)state;
	struct tl_findings f = {0};
	f.rest.toe[TL_RIGHT] = tl_mmhg_of(301);
	struct tl_classification c;
	struct tl_err err = {{0}};
	assert_int_equal(tl_classify(&f, NULL, &c, &err), -1);
	assert_string_equal(err.msg, "rest.toe_right: 301 is above 300 mmHg");
}


/* ---- issue 17: rules corrected and completed ---- */

static bool has_finding(const struct tl_classification *c, const char *text, int weight)
{
	for (size_t i = 0; i < c->n_findings; i++)
		if (strstr(c->findings[i].finding, text) && c->findings[i].weight == weight)
			return true;
	return false;
}

static bool has_rationale(const struct tl_classification *c, const char *text)
{
	for (size_t i = 0; i < c->n_rationale; i++)
		if (strstr(c->rationale[i], text))
			return true;
	return false;
}

/* Rest pain on the left with the toe above its threshold: only the ABI can confirm. */
static struct tl_findings rest_pain_left(double brachial, double pt)
{
	struct tl_findings f = {0};
	f.symptoms.side = TL_SYM_SIDE_LEFT;
	f.symptoms.flag[TL_SYM_REST_PAIN] = TL_TRI_YES;
	f.rest.brachial[TL_LEFT] = tl_mmhg_of(brachial);
	f.rest.pt[TL_LEFT] = tl_mmhg_of(pt);
	f.rest.toe[TL_LEFT] = tl_mmhg_of(40);
	return f;
}

static void clti_by_abi_below_0_40(void **state)
{
	(void)state;
	/* 60/150 = 0.40 exactly: not below 0.40, ankle 60 >= 50, toe 40 >= 30: excluded. */
	struct tl_findings f = rest_pain_left(150, 60);
	struct tl_classification c = classify(&f);
	assert_int_equal(c.abi.leg[TL_LEFT].rest.hundredths, 40);
	assert_false(has_flag(&c, TL_RF_CRITICAL_LIMB_ISCHEMIA));
	/* 59/150 = 0.39: CLTI by the ABI alone, the TASC II pressures being above. */
	f = rest_pain_left(150, 59);
	c = classify(&f);
	assert_true(has_flag(&c, TL_RF_CRITICAL_LIMB_ISCHEMIA));
	assert_non_null(strstr(c.red_flags[0].reason, "resting ABI 0.39 (< 0.40)"));
}

static void clti_uses_the_better_artery(void **state)
{
	(void)state;
	/* PT silent, DP 90: under the lower-ankle rule the ABI's ankle is 0, but the foot is
	 * perfused through the DP: no CLTI. */
	struct tl_findings f = rest_pain_left(120, 0);
	f.rest.dp[TL_LEFT] = tl_mmhg_of(90);
	struct tl_abi_options lower = {.ankle_rule = TL_ANKLE_LOWER};
	struct tl_classification c;
	struct tl_err err = {{0}};
	assert_int_equal(tl_classify(&f, &lower, &c, &err), 0);
	assert_int_equal(c.abi.leg[TL_LEFT].rest.hundredths, 0);
	assert_false(has_flag(&c, TL_RF_CRITICAL_LIMB_ISCHEMIA));
	/* Both silent: the ankle is 0 and CLTI is confirmed. */
	f.rest.dp[TL_LEFT] = tl_mmhg_of(0);
	assert_int_equal(tl_classify(&f, &lower, &c, &err), 0);
	assert_true(has_flag(&c, TL_RF_CRITICAL_LIMB_ISCHEMIA));
}

static void acute_is_not_chronic(void **state)
{
	(void)state;
	struct tl_findings f = rest_pain_left(140, 40);
	f.symptoms.flag[TL_SYM_ACUTE_ONSET] = TL_TRI_YES;
	struct tl_classification c = classify(&f);
	assert_true(has_flag(&c, TL_RF_ACUTE_LIMB_ISCHEMIA));
	assert_false(has_flag(&c, TL_RF_CRITICAL_LIMB_ISCHEMIA));
	assert_true(has_rationale(&c, "not chronic limb-threatening ischemia"));
	/* Chronic (onset not acute): CLTI, and no acute flag. */
	f.symptoms.flag[TL_SYM_ACUTE_ONSET] = TL_TRI_NO;
	c = classify(&f);
	assert_true(has_flag(&c, TL_RF_CRITICAL_LIMB_ISCHEMIA));
	assert_false(has_flag(&c, TL_RF_ACUTE_LIMB_ISCHEMIA));
	/* Tissue loss at an acute onset is still flagged, as acute limb ischemia. */
	f.symptoms.flag[TL_SYM_REST_PAIN] = TL_TRI_ABSENT;
	f.symptoms.flag[TL_SYM_GANGRENE] = TL_TRI_YES;
	f.symptoms.flag[TL_SYM_ACUTE_ONSET] = TL_TRI_YES;
	c = classify(&f);
	assert_true(has_flag(&c, TL_RF_ACUTE_LIMB_ISCHEMIA));
	assert_false(has_flag(&c, TL_RF_CRITICAL_LIMB_ISCHEMIA));
}

/* Normal resting ABIs (1.08) and one post point at 1 min with the left ankle given. */
static struct tl_findings normal_rest_one_post(double post_ankle_left, double post_brachial)
{
	struct tl_findings f = {0};
	f.rest.brachial[TL_LEFT] = tl_mmhg_of(130);
	f.rest.pt[TL_LEFT] = tl_mmhg_of(140);
	f.rest.pt[TL_RIGHT] = tl_mmhg_of(140);
	f.n_post = 1;
	f.post[0].minute = 1;
	f.post[0].p.pt[TL_LEFT] = tl_mmhg_of(post_ankle_left);
	f.post[0].p.pt[TL_RIGHT] = tl_mmhg_of(150);
	if (post_brachial > 0)
		f.post[0].p.brachial[TL_LEFT] = tl_mmhg_of(post_brachial);
	f.symptoms.side = TL_SYM_SIDE_LEFT;
	return f;
}

static void ankle_fall_alone_with_symptoms_is_vascular(void **state)
{
	(void)state;
	/* Ankle 140 -> 105 (fall 35 mmHg), no post brachial: no post ABI at all. */
	struct tl_findings f = normal_rest_one_post(105, 0);
	struct tl_classification c = classify(&f);
	/* Without exertional leg symptoms it is not enough. */
	assert_int_equal(c.category, TL_CAT_INDETERMINATE);
	assert_true(has_finding(&c, "ankle pressure fall 35", 2));
	f.symptoms.has_location = true;
	f.symptoms.locations = TL_LOC_CALF;
	c = classify(&f);
	assert_int_equal(c.category, TL_CAT_VASCULAR);
	assert_true(has_finding(&c, "with exertional leg symptoms", 4));
	/* An onset press is an exertional symptom too. */
	f.symptoms.has_location = false;
	f.symptoms.locations = 0;
	f.walk.cot_s = (struct tl_opt_s){.has = true, .s = 120};
	c = classify(&f);
	assert_int_equal(c.category, TL_CAT_VASCULAR);
}

static void abi_fall_alone_with_symptoms_is_vascular(void **state)
{
	(void)state;
	/* ABI 1.30 -> 1.00: a fall of 23 % with the post ABI still normal and the ankle
	 * falling only 5 mmHg, so the ABI fall is the only criterion. */
	struct tl_findings f = {0};
	f.rest.brachial[TL_LEFT] = tl_mmhg_of(100);
	f.rest.pt[TL_LEFT] = tl_mmhg_of(130); /* 1.30 */
	f.rest.pt[TL_RIGHT] = tl_mmhg_of(130);
	f.n_post = 1;
	f.post[0].minute = 1;
	f.post[0].p.brachial[TL_LEFT] = tl_mmhg_of(125);
	f.post[0].p.pt[TL_LEFT] = tl_mmhg_of(125); /* 1.00: fall 23 %, ankle fall 5 */
	f.post[0].p.pt[TL_RIGHT] = tl_mmhg_of(165);
	f.symptoms.side = TL_SYM_SIDE_LEFT;
	struct tl_classification c = classify(&f);
	assert_int_equal(c.abi.leg[TL_LEFT].criteria, TL_CRIT_ABI_FALL_GT_20PCT);
	assert_int_equal(c.category, TL_CAT_INDETERMINATE);
	f.walk.end_reason = TL_WALK_END_MAX_CLAUDICATION;
	c = classify(&f);
	assert_int_equal(c.category, TL_CAT_VASCULAR);
	/* Stronger neurogenic evidence beside it: mixed, and both sides are in the findings. */
	f.symptoms.has_location = true;
	f.symptoms.locations = TL_LOC_THIGH;
	f.symptoms.relief = TL_RELIEF_SITTING;
	f.symptoms.flag[TL_SYM_SHOPPING_CART_SIGN] = TL_TRI_YES;
	f.symptoms.flag[TL_SYM_TRIGGERED_BY_STANDING] = TL_TRI_YES;
	f.symptoms.flag[TL_SYM_NO_PAIN_SEATED] = TL_TRI_YES;
	c = classify(&f);
	assert_int_equal(c.category, TL_CAT_MIXED);
	assert_true(has_finding(&c, "ABI fall 23 %", 4));
}

/* A normal study: ABIs 1.08 before, ankle back within a few mmHg at 3, 5 and 10 min. */
static struct tl_findings noisy_normal_study(double at3)
{
	struct tl_findings f = {0};
	f.rest.brachial[TL_LEFT] = tl_mmhg_of(125); /* tolerance 0.08 x 125 = 10 mmHg */
	f.rest.pt[TL_LEFT] = tl_mmhg_of(135);
	f.rest.pt[TL_RIGHT] = tl_mmhg_of(135);
	const double minutes[] = {1, 3, 5, 10}, left[] = {140, at3, 131, 132};
	f.n_post = 4;
	for (size_t i = 0; i < 4; i++) {
		f.post[i].minute = minutes[i];
		f.post[i].p.brachial[TL_LEFT] = tl_mmhg_of(130);
		f.post[i].p.pt[TL_LEFT] = tl_mmhg_of(left[i]);
		f.post[i].p.pt[TL_RIGHT] = tl_mmhg_of(150);
	}
	f.walk.cot_s = (struct tl_opt_s){.has = true, .s = 200};
	f.walk.end_reason = TL_WALK_END_MAX_CLAUDICATION;
	f.symptoms.side = TL_SYM_SIDE_LEFT;
	return f;
}

static void noise_is_not_delayed_recovery(void **state)
{
	(void)state;
	/* 125 at 3 min is exactly 10 below rest: the tolerance's bound counts as recovered.
	 * (The 1-min point is above rest, so recovery is at 1 min anyway; what matters is
	 * that nothing below rest beyond the noise follows at >= 3 min.) */
	struct tl_findings f = noisy_normal_study(125);
	struct tl_classification c = classify(&f);
	const struct tl_abi_leg *l = &c.abi.leg[TL_LEFT];
	assert_true(l->has_tolerance);
	assert_float_equal(l->tolerance_mmhg, 10.0, 1e-9);
	assert_int_equal(l->criteria, 0);
	assert_true(has_finding(&c, "normal ABI before and after a symptom-limited walk", 4));
	assert_int_equal(c.category, TL_CAT_INDETERMINATE);
	assert_true(c.vascular_score < 0);
}

static void beyond_noise_is_delayed_recovery(void **state)
{
	(void)state;
	/* Rest 135, brachial 125: 1 min 110 (below by 25), 3 min 124 (below by 11, one
	 * beyond the bound), 5 min 131 (within): delayed recovery fires. */
	struct tl_findings f = noisy_normal_study(124);
	f.post[0].p.pt[TL_LEFT] = tl_mmhg_of(110);
	struct tl_classification c = classify(&f);
	const struct tl_abi_leg *l = &c.abi.leg[TL_LEFT];
	assert_true(l->criteria & TL_CRIT_DELAYED_RECOVERY_GT_3MIN);
	assert_float_equal(l->recovery_min, 5.0, 1e-9);
	/* At the bound (125) the same study recovers at 3 min and nothing is delayed. */
	f.post[1].p.pt[TL_LEFT] = tl_mmhg_of(125);
	c = classify(&f);
	assert_false(c.abi.leg[TL_LEFT].criteria & TL_CRIT_DELAYED_RECOVERY_GT_3MIN);
	assert_float_equal(c.abi.leg[TL_LEFT].recovery_min, 3.0, 1e-9);
}

static void tbi_outweighs_a_normal_abi(void **state)
{
	(void)state;
	/* ABI 1.08 before and after a symptom-limited walk, but TBI 0.60 (diabetes). */
	struct tl_findings f = noisy_normal_study(135);
	f.rest.toe[TL_LEFT] = tl_mmhg_of(75);
	f.symptoms.has_location = true;
	f.symptoms.locations = TL_LOC_CALF;
	struct tl_classification c = classify(&f);
	assert_int_equal(c.abi.leg[TL_LEFT].tbi.hundredths, 60);
	assert_int_equal(c.category, TL_CAT_VASCULAR);
	assert_false(has_finding(&c, "normal ABI before and after", 4));
	assert_true(has_rationale(&c, "falsely normal"));
	/* TBI 0.71: normal, the normal ABIs count against vascular again. */
	f.rest.toe[TL_LEFT] = tl_mmhg_of(89);
	c = classify(&f);
	assert_int_equal(c.abi.leg[TL_LEFT].tbi.hundredths, 71);
	assert_int_not_equal(c.category, TL_CAT_VASCULAR);
}

static struct tl_findings neuro_items(int n_items)
{
	struct tl_findings f = {0};
	f.symptoms.has_location = true;
	f.symptoms.locations = TL_LOC_THIGH; /* item: above the knee */
	f.symptoms.flag[TL_SYM_TRIGGERED_BY_STANDING] = TL_TRI_YES;
	f.symptoms.relief = TL_RELIEF_SITTING;
	if (n_items == 4)
		f.symptoms.flag[TL_SYM_SHOPPING_CART_SIGN] = TL_TRI_YES;
	return f;
}

static void nadeau_needs_all_four(void **state)
{
	(void)state;
	struct tl_findings f = neuro_items(3);
	struct tl_classification c = classify(&f);
	assert_int_equal(c.neurogenic_score, 3); /* three single items of 1 */
	assert_int_equal(c.category, TL_CAT_INDETERMINATE);
	assert_false(has_finding(&c, "symptoms above the knee; triggered", 3));
	f = neuro_items(4);
	c = classify(&f);
	assert_true(has_finding(&c, "shopping-cart sign; symptoms above the knee", 3));
	assert_int_equal(c.neurogenic_score, 3);
}

static void aortoiliac_pattern_stays_vascular(void **state)
{
	(void)state;
	/* Bilateral buttock and thigh pain triggered by standing with ABIs 0.60. */
	struct tl_findings f = {0};
	f.rest.brachial[TL_LEFT] = tl_mmhg_of(140);
	f.rest.pt[TL_LEFT] = tl_mmhg_of(84);
	f.rest.pt[TL_RIGHT] = tl_mmhg_of(84);
	f.symptoms.has_location = true;
	f.symptoms.locations = TL_LOC_BUTTOCK | TL_LOC_THIGH;
	f.symptoms.side = TL_SYM_SIDE_BILATERAL;
	f.symptoms.flag[TL_SYM_TRIGGERED_BY_STANDING] = TL_TRI_YES;
	struct tl_classification c = classify(&f);
	assert_int_equal(c.category, TL_CAT_VASCULAR);
	assert_int_equal(c.neurogenic_score, 3); /* bilateral 2 + standing 1; not the thigh */
	assert_true(has_rationale(&c, "aortoiliac"));
	/* With normal ABIs the thigh item counts again. */
	f.rest.pt[TL_LEFT] = tl_mmhg_of(150);
	f.rest.pt[TL_RIGHT] = tl_mmhg_of(150);
	c = classify(&f);
	assert_true(has_finding(&c, "symptoms above the knee", 1));
}

static void no_pain_seated_weighs_neurogenic(void **state)
{
	(void)state;
	struct tl_findings f = {0};
	f.symptoms.flag[TL_SYM_NO_PAIN_SEATED] = TL_TRI_YES;
	struct tl_classification c = classify(&f);
	assert_int_equal(c.neurogenic_score, 2);
	assert_true(has_finding(&c, "no pain when seated", 2));
	/* "false" is not evidence either way. */
	f.symptoms.flag[TL_SYM_NO_PAIN_SEATED] = TL_TRI_NO;
	c = classify(&f);
	assert_int_equal(c.neurogenic_score, 0);
}

static void inter_arm_difference(void **state)
{
	(void)state;
	struct tl_findings f = {0};
	f.rest.brachial[TL_LEFT] = tl_mmhg_of(140);
	f.rest.brachial[TL_RIGHT] = tl_mmhg_of(126); /* 14 */
	f.rest.pt[TL_LEFT] = tl_mmhg_of(140);
	struct tl_classification c = classify(&f);
	assert_int_equal(c.n_warnings, 0);
	assert_true(has_rationale(&c, "14 mmHg (>= 10, < 15)"));
	f.rest.brachial[TL_RIGHT] = tl_mmhg_of(125); /* 15 */
	c = classify(&f);
	assert_int_equal(c.n_warnings, 1);
	assert_non_null(strstr(c.warnings[0].text, "15 mmHg (>= 15)"));
	assert_non_null(strstr(c.warnings[0].text, "subclavian stenosis on the right side"));
	assert_non_null(strstr(c.warnings[0].text, "higher (left) arm"));
	assert_non_null(strstr(c.warnings[0].source, "Clark"));
	/* The ABI uses the higher arm: 140/140. */
	assert_int_equal(c.abi.leg[TL_LEFT].rest.hundredths, 100);
	/* Under 10 nothing is said. */
	f.rest.brachial[TL_RIGHT] = tl_mmhg_of(131);
	c = classify(&f);
	assert_int_equal(c.n_warnings, 0);
	assert_false(has_rationale(&c, "inter-arm"));
}

static void severity_bands_per_leg(void **state)
{
	(void)state;
	struct tl_findings f = {0};
	f.rest.brachial[TL_LEFT] = tl_mmhg_of(100);
	f.rest.pt[TL_LEFT] = tl_mmhg_of(40);  /* 0.40: not severe */
	f.rest.pt[TL_RIGHT] = tl_mmhg_of(39); /* 0.39: severe */
	struct tl_classification c = classify(&f);
	assert_true(c.severity.has_band[TL_LEFT]);
	assert_int_equal(c.severity.band[TL_LEFT], TL_BAND_MILD_MODERATE);
	assert_int_equal(c.severity.band[TL_RIGHT], TL_BAND_SEVERE);
	f.rest.pt[TL_LEFT] = tl_mmhg_of(95);
	f.rest.pt[TL_RIGHT] = tl_mmhg_of(141);
	c = classify(&f);
	assert_int_equal(c.severity.band[TL_LEFT], TL_BAND_BORDERLINE);
	assert_int_equal(c.severity.band[TL_RIGHT], TL_BAND_NONCOMPRESSIBLE);
	f.rest.pt[TL_LEFT] = NO_MMHG;
	c = classify(&f);
	assert_false(c.severity.has_band[TL_LEFT]);
}

/* Calf claudication, resting ABI 0.70 on the left, one post point. */
static struct tl_findings claudicant(enum tl_walk_end end, double post_ankle, double icd_m)
{
	struct tl_findings f = {0};
	f.rest.brachial[TL_LEFT] = tl_mmhg_of(140);
	f.rest.pt[TL_LEFT] = tl_mmhg_of(98);
	f.n_post = 1;
	f.post[0].minute = 1;
	f.post[0].p.pt[TL_LEFT] = tl_mmhg_of(post_ankle);
	f.walk.end_reason = end;
	f.walk.cot_s = (struct tl_opt_s){.has = true, .s = 100};
	f.walk.pwt_s = (struct tl_opt_s){.has = true, .s = 200};
	f.walk.icd_m = (struct tl_opt_m){.has = true, .m = icd_m};
	f.symptoms.has_location = true;
	f.symptoms.locations = TL_LOC_CALF;
	f.symptoms.side = TL_SYM_SIDE_LEFT;
	return f;
}

static void rutherford_and_fontaine(void **state)
{
	(void)state;
	struct tl_findings f = claudicant(TL_WALK_END_MAX_CLAUDICATION, 40, 150);
	struct tl_classification c = classify(&f);
	assert_true(c.severity.rutherford.has);
	assert_string_equal(c.severity.rutherford.grade, "3");
	assert_non_null(strstr(c.severity.rutherford.criteria, "40 mmHg (< 50)"));
	assert_string_equal(c.severity.fontaine.grade, "IIb");
	/* Completed the protocol, post ankle 70 (> 50, 28 below rest): category 1. */
	f = claudicant(TL_WALK_END_PROTOCOL_END, 70, 250);
	c = classify(&f);
	assert_string_equal(c.severity.rutherford.grade, "1");
	assert_string_equal(c.severity.fontaine.grade, "IIa");
	/* Stopped by claudication with the post ankle at 50 (not < 50): category 2. */
	f = claudicant(TL_WALK_END_MAX_CLAUDICATION, 50, 200);
	c = classify(&f);
	assert_string_equal(c.severity.rutherford.grade, "2");
	/* Exactly 200 m is not > 200 m: IIb. */
	assert_string_equal(c.severity.fontaine.grade, "IIb");
	/* An emergency stop cannot say whether the patient could complete the test. */
	f = claudicant(TL_WALK_END_EMERGENCY_STOP, 40, 150);
	c = classify(&f);
	assert_false(c.severity.rutherford.has);
	assert_non_null(strstr(c.severity.rutherford.criteria, "emergency stop"));
	/* Rest pain and tissue loss. */
	f.symptoms.flag[TL_SYM_REST_PAIN] = TL_TRI_YES;
	c = classify(&f);
	assert_string_equal(c.severity.rutherford.grade, "4");
	assert_string_equal(c.severity.fontaine.grade, "III");
	f.symptoms.flag[TL_SYM_GANGRENE] = TL_TRI_YES;
	c = classify(&f);
	assert_string_equal(c.severity.rutherford.grade, "5-6");
	assert_string_equal(c.severity.fontaine.grade, "IV");
	/* The same at an acute onset: acute limb ischemia, the chronic grades do not apply. */
	f.symptoms.flag[TL_SYM_ACUTE_ONSET] = TL_TRI_YES;
	c = classify(&f);
	assert_false(c.severity.rutherford.has);
	assert_false(c.severity.fontaine.has);
	assert_non_null(strstr(c.severity.rutherford.criteria, "acute onset"));
}

static void no_grade_for_a_neurogenic_picture(void **state)
{
	(void)state;
	struct tl_findings f = neuro_items(4);
	f.symptoms.side = TL_SYM_SIDE_BILATERAL;
	f.walk.end_reason = TL_WALK_END_MAX_CLAUDICATION;
	f.walk.icd_m = (struct tl_opt_m){.has = true, .m = 100};
	struct tl_classification c = classify(&f);
	assert_int_equal(c.category, TL_CAT_NEUROGENIC);
	assert_false(c.severity.rutherford.has);
	assert_false(c.severity.fontaine.has);
	assert_non_null(strstr(c.severity.fontaine.criteria, "not a vascular picture"));
}

static void censored_walking_endpoints(void **state)
{
	(void)state;
	struct tl_findings f = {0};
	f.walk.pwt_s = (struct tl_opt_s){.has = true, .s = 8.1};
	f.walk.acd_m = (struct tl_opt_m){.has = true, .m = 7.24};
	f.walk.end_reason = TL_WALK_END_EMERGENCY_STOP;
	struct tl_classification c = classify(&f);
	assert_true(c.pwt.censored);
	assert_int_equal(c.pwt.censored_by, TL_WALK_END_EMERGENCY_STOP);
	assert_string_equal(c.pwt.text, "more than 8.1 s: emergency stop");
	assert_string_equal(c.acd.text, "more than 7.2 m: emergency stop");
	const enum tl_walk_end censoring[] = {TL_WALK_END_PROTOCOL_END, TL_WALK_END_MAX_DURATION,
					      TL_WALK_END_OPERATOR_STOP, TL_WALK_END_FAULT,
					      TL_WALK_END_SHUTDOWN, TL_WALK_END_INTERRUPTED};
	for (size_t i = 0; i < sizeof censoring / sizeof censoring[0]; i++) {
		f.walk.end_reason = censoring[i];
		c = classify(&f);
		assert_true(c.pwt.censored);
		assert_non_null(strstr(c.pwt.text, "more than 8.1 s: "));
	}
	/* Maximal claudication: a plain value. */
	f.walk.end_reason = TL_WALK_END_MAX_CLAUDICATION;
	c = classify(&f);
	assert_false(c.pwt.censored);
	assert_string_equal(c.pwt.text, "8.1 s");
	/* Not measured: nothing to report. */
	f.walk.pwt_s.has = false;
	c = classify(&f);
	assert_false(c.pwt.has);
}


static void noncompressible_ankle_keeps_clti_open(void **state)
{
	(void)state;
	/* Rest pain, PT not compressible at the cuff's maximum, no DP, toe 40 (>= 30): the
	 * ankle cannot exclude CLTI, so the flag stays up and says why. */
	struct tl_findings f = rest_pain_left(130, 0);
	f.rest.pt[TL_LEFT] = (struct tl_mmhg){.has = true, .mmhg = 250, .noncompressible = true};
	struct tl_classification c = classify(&f);
	assert_true(has_flag(&c, TL_RF_CRITICAL_LIMB_ISCHEMIA));
	assert_non_null(strstr(c.red_flags[0].reason, "artery noncompressible"));
	assert_true(c.severity.has_band[TL_LEFT]);
	assert_int_equal(c.severity.band[TL_LEFT], TL_BAND_NONCOMPRESSIBLE);
	assert_true(has_rationale(&c, "(ankle artery noncompressible) is not interpretable"));
	/* Not pulseless: a noncompressible artery has a signal. */
	f.symptoms.flag[TL_SYM_ACUTE_ONSET] = TL_TRI_YES;
	f.symptoms.flag[TL_SYM_REST_PAIN] = TL_TRI_ABSENT;
	c = classify(&f);
	assert_false(has_flag(&c, TL_RF_ACUTE_LIMB_ISCHEMIA));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vignettes),
		cmocka_unit_test(empty_is_indeterminate_without_flags),
		cmocka_unit_test(cli_at_the_thresholds),
		cmocka_unit_test(cli_only_on_the_symptomatic_side),
		cmocka_unit_test(red_flags_whatever_the_category),
		cmocka_unit_test(absent_is_not_no),
		cmocka_unit_test(lower_ankle_option_changes_the_abi),
		cmocka_unit_test(every_finding_has_a_source),
		cmocka_unit_test(pulseless_means_no_signal_in_any_artery),
		cmocka_unit_test(out_of_range_pressure_is_refused),
		cmocka_unit_test(clti_by_abi_below_0_40),
		cmocka_unit_test(clti_uses_the_better_artery),
		cmocka_unit_test(acute_is_not_chronic),
		cmocka_unit_test(ankle_fall_alone_with_symptoms_is_vascular),
		cmocka_unit_test(abi_fall_alone_with_symptoms_is_vascular),
		cmocka_unit_test(noise_is_not_delayed_recovery),
		cmocka_unit_test(beyond_noise_is_delayed_recovery),
		cmocka_unit_test(tbi_outweighs_a_normal_abi),
		cmocka_unit_test(nadeau_needs_all_four),
		cmocka_unit_test(aortoiliac_pattern_stays_vascular),
		cmocka_unit_test(no_pain_seated_weighs_neurogenic),
		cmocka_unit_test(inter_arm_difference),
		cmocka_unit_test(severity_bands_per_leg),
		cmocka_unit_test(rutherford_and_fontaine),
		cmocka_unit_test(no_grade_for_a_neurogenic_picture),
		cmocka_unit_test(censored_walking_endpoints),
		cmocka_unit_test(noncompressible_ankle_keeps_clti_open),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
