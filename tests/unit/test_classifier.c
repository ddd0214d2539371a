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
	f.rest.brachial[TL_LEFT] = tl_mmhg_of(130);
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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
