/* ABI arithmetic: rounding edges, categories on the rounded value, measured 0 versus
 * not measured, missing brachial, the lower-ankle option, TBI and the post-exercise
 * criteria. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "abi.h"

static const struct tl_mmhg NONE = {0};

static struct tl_mmhg P(double v)
{
	return tl_mmhg_of(v);
}

/* A resting set with both arms and both ankles (PT/DP) given. */
static struct tl_pressure_set rest_set(double bl, double br, double ptl, double dpl, double ptr,
				       double dpr)
{
	struct tl_pressure_set s = {0};
	s.brachial[TL_LEFT] = P(bl);
	s.brachial[TL_RIGHT] = P(br);
	s.pt[TL_LEFT] = P(ptl);
	s.dp[TL_LEFT] = P(dpl);
	s.pt[TL_RIGHT] = P(ptr);
	s.dp[TL_RIGHT] = P(dpr);
	return s;
}

static struct tl_abi_result compute(const struct tl_pressure_set *rest,
				    const struct tl_post_set *post, size_t n,
				    enum tl_ankle_rule rule)
{
	struct tl_abi_result r;
	struct tl_abi_options opt = {.ankle_rule = rule};
	struct tl_err err = {{0}};
	assert_int_equal(tl_abi_compute(rest, post, n, &opt, &r, &err), 0);
	return r;
}

static void rounding_half_up_at_0_905(void **state)
{
	(void)state;
	/* 181 / 200 = 0.905 exactly: rounds to 0.91, borderline (not abnormal). */
	struct tl_index i = tl_abi_index(P(181), P(200));
	assert_true(i.has);
	assert_int_equal(i.hundredths, 91);
	assert_int_equal(tl_abi_categorize(i.hundredths), TL_ABI_BORDERLINE);
	/* 180.9 / 200 = 0.9045 -> 0.90 abnormal. */
	i = tl_abi_index(P(180.9), P(200));
	assert_int_equal(i.hundredths, 90);
	assert_int_equal(tl_abi_categorize(i.hundredths), TL_ABI_ABNORMAL);
}

static void rounding_at_0_995_and_1_405(void **state)
{
	(void)state;
	/* 199 / 200 = 0.995 -> 1.00 normal; 0.994 stays borderline. */
	assert_int_equal(tl_abi_index(P(199), P(200)).hundredths, 100);
	assert_int_equal(tl_abi_categorize(100), TL_ABI_NORMAL);
	assert_int_equal(tl_abi_index(P(198.8), P(200)).hundredths, 99);
	/* 281 / 200 = 1.405 -> 1.41 noncompressible; 1.4049 -> 1.40 normal. */
	assert_int_equal(tl_abi_index(P(281), P(200)).hundredths, 141);
	assert_int_equal(tl_abi_categorize(141), TL_ABI_NONCOMPRESSIBLE);
	assert_int_equal(tl_abi_index(P(280.98), P(200)).hundredths, 140);
	assert_int_equal(tl_abi_categorize(140), TL_ABI_NORMAL);
}

static void category_edges(void **state)
{
	(void)state;
	assert_int_equal(tl_abi_categorize(0), TL_ABI_ABNORMAL);
	assert_int_equal(tl_abi_categorize(90), TL_ABI_ABNORMAL);
	assert_int_equal(tl_abi_categorize(91), TL_ABI_BORDERLINE);
	assert_int_equal(tl_abi_categorize(99), TL_ABI_BORDERLINE);
	assert_int_equal(tl_abi_categorize(100), TL_ABI_NORMAL);
	assert_int_equal(tl_abi_categorize(140), TL_ABI_NORMAL);
	assert_int_equal(tl_abi_categorize(141), TL_ABI_NONCOMPRESSIBLE);
	assert_int_equal(tl_tbi_categorize(70), TL_TBI_ABNORMAL);
	assert_int_equal(tl_tbi_categorize(71), TL_TBI_NORMAL);
}

static void measured_zero_is_a_value(void **state)
{
	(void)state;
	/* Ankle 0 (no signal) is ABI 0.00, abnormal; not "not measured". */
	struct tl_index i = tl_abi_index(P(0), P(120));
	assert_true(i.has);
	assert_int_equal(i.hundredths, 0);
	assert_int_equal(tl_abi_categorize(i.hundredths), TL_ABI_ABNORMAL);
	/* Not measured ankle: not computable. */
	assert_false(tl_abi_index(NONE, P(120)).has);
}

static void brachial_zero_or_missing_not_computable(void **state)
{
	(void)state;
	assert_false(tl_abi_index(P(100), P(0)).has);
	assert_false(tl_abi_index(P(100), NONE).has);
	struct tl_pressure_set s = rest_set(0, 0, 100, 90, 100, 90);
	struct tl_abi_result r = compute(&s, NULL, 0, TL_ANKLE_HIGHER);
	assert_false(r.leg[TL_LEFT].rest.has);
	assert_false(r.leg[TL_RIGHT].rest.has);
	s.brachial[TL_LEFT] = NONE;
	s.brachial[TL_RIGHT] = NONE;
	r = compute(&s, NULL, 0, TL_ANKLE_HIGHER);
	assert_false(r.leg[TL_LEFT].rest.has);
}

static void higher_brachial_one_arm_zero(void **state)
{
	(void)state;
	/* One arm no signal (subclavian occlusion), the other 140: the higher is used. */
	struct tl_mmhg b = tl_abi_brachial(P(0), P(140));
	assert_true(b.has);
	assert_true(b.mmhg == 140);
	b = tl_abi_brachial(NONE, P(130));
	assert_true(b.mmhg == 130);
	assert_false(tl_abi_brachial(NONE, NONE).has);
}

static void ankle_rule_higher_and_lower(void **state)
{
	(void)state;
	struct tl_pressure_set s = rest_set(120, 130, 100, 65, 130, 120);
	struct tl_abi_result r = compute(&s, NULL, 0, TL_ANKLE_HIGHER);
	assert_int_equal(r.leg[TL_LEFT].rest.hundredths, 77); /* 100/130 */
	assert_int_equal(r.leg[TL_RIGHT].rest.hundredths, 100);
	r = compute(&s, NULL, 0, TL_ANKLE_LOWER);
	assert_int_equal(r.leg[TL_LEFT].rest.hundredths, 50); /* 65/130 */
	assert_int_equal(r.leg[TL_RIGHT].rest.hundredths, 92);
	assert_int_equal(r.leg[TL_RIGHT].rest_category, TL_ABI_BORDERLINE);
	/* Lower rule with a no-signal DP: 0 is the lower value. */
	assert_true(tl_abi_ankle(P(90), P(0), TL_ANKLE_LOWER).mmhg == 0);
	/* One artery measured: used alone under either rule. */
	assert_true(tl_abi_ankle(NONE, P(80), TL_ANKLE_LOWER).mmhg == 80);
	assert_true(tl_abi_ankle(P(70), NONE, TL_ANKLE_HIGHER).mmhg == 70);
	assert_false(tl_abi_ankle(NONE, NONE, TL_ANKLE_HIGHER).has);
}

static void one_sided_data(void **state)
{
	(void)state;
	struct tl_pressure_set s = {0};
	s.brachial[TL_RIGHT] = P(140);
	s.dp[TL_LEFT] = P(126);
	struct tl_abi_result r = compute(&s, NULL, 0, TL_ANKLE_HIGHER);
	assert_true(r.leg[TL_LEFT].rest.has);
	assert_int_equal(r.leg[TL_LEFT].rest.hundredths, 90);
	assert_false(r.leg[TL_RIGHT].rest.has);
}

static void tbi_computed_with_toes(void **state)
{
	(void)state;
	struct tl_pressure_set s = rest_set(140, 140, 220, 210, 150, 140);
	s.toe[TL_LEFT] = P(84);
	s.toe[TL_RIGHT] = P(105);
	struct tl_abi_result r = compute(&s, NULL, 0, TL_ANKLE_HIGHER);
	assert_int_equal(r.leg[TL_LEFT].rest_category, TL_ABI_NONCOMPRESSIBLE);
	assert_int_equal(r.leg[TL_LEFT].tbi.hundredths, 60);
	assert_int_equal(r.leg[TL_LEFT].tbi_category, TL_TBI_ABNORMAL);
	assert_int_equal(r.leg[TL_RIGHT].tbi.hundredths, 75);
	assert_int_equal(r.leg[TL_RIGHT].tbi_category, TL_TBI_NORMAL);
	/* 0.705 rounds to 0.71: normal. */
	assert_int_equal(tl_abi_index(P(141), P(200)).hundredths, 71);
	/* No toe pressure: no TBI. */
	s.toe[TL_LEFT] = NONE;
	r = compute(&s, NULL, 0, TL_ANKLE_HIGHER);
	assert_false(r.leg[TL_LEFT].tbi.has);
}

static struct tl_post_set post_point(double minute, double brachial, double ankle_left,
				     double ankle_right)
{
	struct tl_post_set p = {.minute = minute};
	if (brachial >= 0)
		p.p.brachial[TL_LEFT] = P(brachial);
	if (ankle_left >= 0)
		p.p.pt[TL_LEFT] = P(ankle_left);
	if (ankle_right >= 0)
		p.p.pt[TL_RIGHT] = P(ankle_right);
	return p;
}

static void post_exercise_series(void **state)
{
	(void)state;
	/* Rest: brachial 140, left ankle 98 (0.70), right 140 (1.00). */
	struct tl_pressure_set s = {0};
	s.brachial[TL_LEFT] = P(140);
	s.pt[TL_LEFT] = P(98);
	s.pt[TL_RIGHT] = P(140);
	struct tl_post_set post[] = {
		post_point(1, 160, 56, 150),  /* left 0.35, fall 50 %, 42 mmHg */
		post_point(3, 150, 70, 145),
		post_point(5, 145, 90, 142),
		post_point(10, 140, 100, 140), /* left back at >= rest */
	};
	struct tl_abi_result r = compute(&s, post, 4, TL_ANKLE_HIGHER);
	const struct tl_abi_leg *l = &r.leg[TL_LEFT];
	assert_int_equal(l->rest.hundredths, 70);
	assert_int_equal(l->post[0].abi.hundredths, 35);
	assert_true(l->post[0].has_fall_pct);
	assert_float_equal(l->post[0].fall_pct, 50.0, 1e-9);
	assert_float_equal(l->post[0].ankle_fall_mmhg, 42.0, 1e-9);
	assert_true(l->criteria & TL_CRIT_POST_ABI_LE_0_90);
	assert_true(l->criteria & TL_CRIT_ABI_FALL_GT_20PCT);
	assert_true(l->criteria & TL_CRIT_ANKLE_FALL_GT_30MMHG);
	assert_true(l->criteria & TL_CRIT_DELAYED_RECOVERY_GT_3MIN);
	/* 90 mmHg at 5 min is 8 below rest, within the noise tolerance (0.08 x 140 = 11.2
	 * mmHg): recovered at 5 min, not 10 (docs/clinical.md, Recovery). */
	assert_true(l->has_recovery);
	assert_float_equal(l->recovery_min, 5.0, 1e-9);
	/* Right: post ABI 150/160 = 0.94, fall 6 %, ankle rises: nothing fired. */
	const struct tl_abi_leg *rt = &r.leg[TL_RIGHT];
	assert_int_equal(rt->post[0].abi.hundredths, 94);
	assert_int_equal(rt->criteria, 0);
	assert_true(rt->has_recovery);
	assert_float_equal(rt->recovery_min, 1.0, 1e-9);
	assert_float_equal(rt->post[0].ankle_fall_mmhg, -10.0, 1e-9);
}

static void fall_exactly_20pct_does_not_fire(void **state)
{
	(void)state;
	struct tl_pressure_set s = {0};
	s.brachial[TL_LEFT] = P(100);
	s.pt[TL_LEFT] = P(100);
	/* 1.00 -> 0.80 is exactly 20 %: "> 20 %" does not fire; ankle fall exactly 30
	 * does not fire either ("> 30 mmHg"). */
	struct tl_post_set post[] = {post_point(1, 130, 104, -1)};
	struct tl_abi_result r = compute(&s, post, 1, TL_ANKLE_HIGHER);
	assert_int_equal(r.leg[TL_LEFT].post[0].abi.hundredths, 80);
	assert_false(r.leg[TL_LEFT].criteria & TL_CRIT_ABI_FALL_GT_20PCT);
	assert_true(r.leg[TL_LEFT].criteria & TL_CRIT_POST_ABI_LE_0_90);
	post[0] = post_point(1, 100, 70, -1);
	r = compute(&s, post, 1, TL_ANKLE_HIGHER);
	assert_float_equal(r.leg[TL_LEFT].post[0].ankle_fall_mmhg, 30.0, 1e-9);
	assert_false(r.leg[TL_LEFT].criteria & TL_CRIT_ANKLE_FALL_GT_30MMHG);
	/* 0.79 is > 20 %. */
	post[0] = post_point(1, 100, 79, -1);
	r = compute(&s, post, 1, TL_ANKLE_HIGHER);
	assert_true(r.leg[TL_LEFT].criteria & TL_CRIT_ABI_FALL_GT_20PCT);
}

static void noncompressible_rest_applies_no_criteria(void **state)
{
	(void)state;
	struct tl_pressure_set s = {0};
	s.brachial[TL_LEFT] = P(120);
	s.pt[TL_LEFT] = P(200); /* 1.67 */
	struct tl_post_set post[] = {post_point(1, 140, 100, -1)}; /* 0.71, fall 57 % */
	struct tl_abi_result r = compute(&s, post, 1, TL_ANKLE_HIGHER);
	assert_true(r.leg[TL_LEFT].changes_not_interpreted);
	assert_int_equal(r.leg[TL_LEFT].criteria, 0);
	/* The raw post values are still reported. */
	assert_int_equal(r.leg[TL_LEFT].post[0].abi.hundredths, 71);
}

static void post_without_brachial_keeps_ankle_fall(void **state)
{
	(void)state;
	struct tl_pressure_set s = {0};
	s.brachial[TL_LEFT] = P(120);
	s.pt[TL_LEFT] = P(110);
	struct tl_post_set post[] = {post_point(1, -1, 70, -1), post_point(3, -1, 90, -1)};
	struct tl_abi_result r = compute(&s, post, 2, TL_ANKLE_HIGHER);
	const struct tl_abi_leg *l = &r.leg[TL_LEFT];
	assert_false(l->post[0].abi.has);
	assert_false(l->post[0].has_fall_pct);
	assert_true(l->post[0].has_ankle_fall);
	assert_true(l->criteria & TL_CRIT_ANKLE_FALL_GT_30MMHG);
	assert_true(l->criteria & TL_CRIT_DELAYED_RECOVERY_GT_3MIN); /* still low at 3 min */
	assert_false(l->has_recovery);
}

static void recovery_takes_the_earliest_minute(void **state)
{
	(void)state;
	struct tl_pressure_set s = {0};
	s.brachial[TL_LEFT] = P(120);
	s.pt[TL_LEFT] = P(110);
	/* Given out of order: recovery is the earliest minute back at rest. */
	struct tl_post_set post[] = {post_point(5, 120, 112, -1), post_point(1, 120, 80, -1),
				     post_point(3, 120, 110, -1)};
	struct tl_abi_result r = compute(&s, post, 3, TL_ANKLE_HIGHER);
	assert_true(r.leg[TL_LEFT].has_recovery);
	assert_float_equal(r.leg[TL_LEFT].recovery_min, 3.0, 1e-9);
	assert_false(r.leg[TL_LEFT].criteria & TL_CRIT_DELAYED_RECOVERY_GT_3MIN);
}

static void refuses_absurd_values(void **state)
{
	(void)state;
	struct tl_abi_result r;
	struct tl_err err = {{0}};
	struct tl_pressure_set s = {0};
	s.pt[TL_RIGHT] = P(-5);
	assert_int_equal(tl_abi_compute(&s, NULL, 0, NULL, &r, &err), -1);
	assert_non_null(strstr(err.msg, "rest.pt_right"));
	s.pt[TL_RIGHT] = P(120);
	struct tl_post_set post[] = {post_point(1, 120, 412, -1)};
	assert_int_equal(tl_abi_compute(&s, post, 1, NULL, &r, &err), -1);
	assert_string_equal(err.msg, "post[0].pt_left: 412 is above 300 mmHg");
	post[0].minute = -1;
	assert_int_equal(tl_abi_compute(&s, post, 1, NULL, &r, &err), -1);
	assert_non_null(strstr(err.msg, "post[0].minute"));
	assert_int_equal(tl_abi_compute(&s, post, TL_ABI_MAX_POST + 1, NULL, &r, &err), -1);
}


static void severity_band_edges(void **state)
{
	(void)state;
	assert_int_equal(tl_abi_band_of(0), TL_BAND_SEVERE);
	assert_int_equal(tl_abi_band_of(39), TL_BAND_SEVERE);
	assert_int_equal(tl_abi_band_of(40), TL_BAND_MILD_MODERATE); /* 0.40 is not < 0.40 */
	assert_int_equal(tl_abi_band_of(90), TL_BAND_MILD_MODERATE);
	assert_int_equal(tl_abi_band_of(91), TL_BAND_BORDERLINE);
	assert_int_equal(tl_abi_band_of(99), TL_BAND_BORDERLINE);
	assert_int_equal(tl_abi_band_of(100), TL_BAND_NORMAL);
	assert_int_equal(tl_abi_band_of(140), TL_BAND_NORMAL);
	assert_int_equal(tl_abi_band_of(141), TL_BAND_NONCOMPRESSIBLE);
	assert_string_equal(tl_abi_band_name(TL_BAND_SEVERE), "severe");
	assert_non_null(strstr(tl_abi_band_criteria(TL_BAND_SEVERE), "ESC 2017"));
}

static void recovery_tolerance_bound(void **state)
{
	(void)state;
	/* Brachial 125: tolerance 0.08 x 125 = 10 mmHg. Rest ankle 130. */
	struct tl_pressure_set s = {0};
	s.brachial[TL_LEFT] = P(125);
	s.pt[TL_LEFT] = P(130);
	struct tl_post_set post[] = {post_point(1, -1, 90, -1), post_point(3, -1, 120, -1),
				     post_point(5, -1, 126, -1)};
	struct tl_abi_result r = compute(&s, post, 3, TL_ANKLE_HIGHER);
	const struct tl_abi_leg *l = &r.leg[TL_LEFT];
	assert_true(l->has_tolerance);
	assert_float_equal(l->tolerance_mmhg, 10.0, 1e-9);
	/* 120 is exactly 10 below: at the bound, recovered at 3 min, nothing delayed. */
	assert_float_equal(l->recovery_min, 3.0, 1e-9);
	assert_false(l->criteria & TL_CRIT_DELAYED_RECOVERY_GT_3MIN);
	/* 119 is beyond the bound: still low at 3 min, recovered at 5. */
	post[1] = post_point(3, -1, 119, -1);
	r = compute(&s, post, 3, TL_ANKLE_HIGHER);
	assert_float_equal(r.leg[TL_LEFT].recovery_min, 5.0, 1e-9);
	assert_true(r.leg[TL_LEFT].criteria & TL_CRIT_DELAYED_RECOVERY_GT_3MIN);
	/* No resting brachial: no tolerance is known, so none is allowed (strict). */
	s.brachial[TL_LEFT] = NONE;
	post[1] = post_point(3, -1, 129, -1);
	r = compute(&s, post, 3, TL_ANKLE_HIGHER);
	assert_false(r.leg[TL_LEFT].has_tolerance);
	assert_true(r.leg[TL_LEFT].criteria & TL_CRIT_DELAYED_RECOVERY_GT_3MIN);
}


static void noncompressible_artery(void **state)
{
	(void)state;
	const struct tl_mmhg nc = {.has = true, .mmhg = 250, .noncompressible = true};
	/* Above the cuff's maximum: the higher rule takes it, the lower rule the other. */
	assert_true(tl_abi_ankle(nc, P(90), TL_ANKLE_HIGHER).noncompressible);
	assert_true(tl_abi_ankle(P(90), nc, TL_ANKLE_HIGHER).noncompressible);
	assert_float_equal(tl_abi_ankle(nc, P(90), TL_ANKLE_LOWER).mmhg, 90, 1e-9);
	assert_true(tl_abi_ankle(nc, nc, TL_ANKLE_LOWER).noncompressible);
	struct tl_index i = tl_abi_index(nc, P(130));
	assert_true(i.has && i.noncompressible);
	assert_int_equal(tl_abi_index_category(i), TL_ABI_NONCOMPRESSIBLE);
	/* Without a brachial pressure nothing is computable, noncompressible or not. */
	assert_false(tl_abi_index(nc, NONE).has);
	/* A leg with a noncompressible resting ankle: no value, no criteria, no recovery. */
	struct tl_pressure_set s = {0};
	s.brachial[TL_LEFT] = P(130);
	s.pt[TL_LEFT] = nc;
	s.dp[TL_LEFT] = P(120);
	struct tl_post_set post[] = {post_point(1, 150, 60, -1)};
	struct tl_abi_result r = compute(&s, post, 1, TL_ANKLE_HIGHER);
	const struct tl_abi_leg *l = &r.leg[TL_LEFT];
	assert_true(l->rest.noncompressible);
	assert_int_equal(l->rest_category, TL_ABI_NONCOMPRESSIBLE);
	assert_true(l->changes_not_interpreted);
	assert_int_equal(l->criteria, 0);
	assert_false(l->post[0].has_ankle_fall);
	assert_false(l->post[0].has_fall_pct);
	assert_false(l->has_recovery);
	/* The lower rule reads the DP: ABI 0.92, and the fall at 1 min is interpreted. */
	r = compute(&s, post, 1, TL_ANKLE_LOWER);
	assert_int_equal(r.leg[TL_LEFT].rest.hundredths, 92);
	assert_true(r.leg[TL_LEFT].criteria & TL_CRIT_ANKLE_FALL_GT_30MMHG);
}

static void noncompressible_only_at_the_ankle(void **state)
{
	(void)state;
	struct tl_pressure_set s = {0};
	s.toe[TL_RIGHT] = (struct tl_mmhg){.has = true, .mmhg = 200, .noncompressible = true};
	struct tl_abi_result r;
	struct tl_err err = {{0}};
	assert_int_equal(tl_abi_compute(&s, NULL, 0, NULL, &r, &err), -1);
	assert_string_equal(err.msg, "rest.toe_right: only an ankle artery (pt, dp) is recorded as "
				     "noncompressible");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rounding_half_up_at_0_905),
		cmocka_unit_test(rounding_at_0_995_and_1_405),
		cmocka_unit_test(category_edges),
		cmocka_unit_test(measured_zero_is_a_value),
		cmocka_unit_test(brachial_zero_or_missing_not_computable),
		cmocka_unit_test(higher_brachial_one_arm_zero),
		cmocka_unit_test(ankle_rule_higher_and_lower),
		cmocka_unit_test(one_sided_data),
		cmocka_unit_test(tbi_computed_with_toes),
		cmocka_unit_test(post_exercise_series),
		cmocka_unit_test(fall_exactly_20pct_does_not_fire),
		cmocka_unit_test(noncompressible_rest_applies_no_criteria),
		cmocka_unit_test(post_without_brachial_keeps_ankle_fall),
		cmocka_unit_test(recovery_takes_the_earliest_minute),
		cmocka_unit_test(severity_band_edges),
		cmocka_unit_test(recovery_tolerance_bound),
		cmocka_unit_test(noncompressible_artery),
		cmocka_unit_test(noncompressible_only_at_the_ankle),
		cmocka_unit_test(refuses_absurd_values),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
