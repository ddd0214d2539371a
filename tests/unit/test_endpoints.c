/* test_endpoints.c - COT, PWT, ICD, ACD, walking time, recovery time, and the distance
 * integral of the measured belt speed against exact piecewise-linear integrals. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "endpoints.h"

#include "tl_assert.h"

/* Metres covered in ms milliseconds at kmh. */
static double metres(double kmh, int64_t ms)
{
	return kmh / 3.6 * (double)ms / 1000.0;
}

/* Samples the profile 0 -> 6 km/h over 6 s, 6 km/h for 60 s, 6 -> 0 over 3 s every
 * tick_ms, from t = 0. Returns the end time. */
static int64_t sample_profile(struct tl_endpoints *e, int64_t tick_ms)
{
	for (int64_t t = 0; t <= 69000; t += tick_ms) {
		double v;
		if (t <= 6000)
			v = (double)t / 1000.0;
		else if (t <= 66000)
			v = 6.0;
		else
			v = 6.0 - 2.0 * (double)(t - 66000) / 1000.0;
		tl_endpoints_sample(e, t, v);
	}
	return 69000;
}

static void trapezoids_exact_for_piecewise_linear_speed(void **state)
{
	(void)state;
	/* ramp: 6 km/h * 6 s / 2; hold: 6 km/h * 60 s; stop: 6 km/h * 3 s / 2 */
	double exact = metres(6.0, 6000) / 2 + metres(6.0, 60000) + metres(6.0, 3000) / 2;
	static const int64_t ticks[] = {1, 100, 250, 1000, 3000}; /* kinks fall on samples */
	for (size_t i = 0; i < sizeof ticks / sizeof ticks[0]; i++) {
		struct tl_endpoints e;
		tl_endpoints_init(&e);
		sample_profile(&e, ticks[i]);
		assert_near(e.distance_m, exact, 1e-9);
	}
	assert_near(exact, 5.0 + 100.0 + 2.5, 1e-12);
}

static void distance_at_extrapolates_at_last_speed(void **state)
{
	(void)state;
	struct tl_endpoints e;
	tl_endpoints_init(&e);
	tl_endpoints_sample(&e, 0, 3.6);
	tl_endpoints_sample(&e, 10000, 3.6); /* 1 m/s: 10 m */
	assert_near(tl_endpoints_distance_at(&e, 10000), 10.0, 1e-12);
	assert_near(tl_endpoints_distance_at(&e, 10250), 10.25, 1e-12);
	assert_near(tl_endpoints_distance_at(&e, 70000), 70.0, 1e-9);
	assert_near(e.distance_m, 10.0, 1e-12); /* extrapolation is not integration */
}

static void distance_at_without_samples_is_zero(void **state)
{
	(void)state;
	struct tl_endpoints e;
	tl_endpoints_init(&e);
	assert_exact(tl_endpoints_distance_at(&e, 5000), 0.0);
}

static void negative_measured_speed_counts_as_zero(void **state)
{
	(void)state;
	struct tl_endpoints e;
	tl_endpoints_init(&e);
	tl_endpoints_sample(&e, 0, -1.0);
	tl_endpoints_sample(&e, 1000, -1.0);
	assert_exact(e.distance_m, 0.0);
}

static void repeated_or_older_sample_adds_nothing(void **state)
{
	(void)state;
	struct tl_endpoints e;
	tl_endpoints_init(&e);
	tl_endpoints_sample(&e, 0, 3.6);
	tl_endpoints_sample(&e, 1000, 3.6);
	tl_endpoints_sample(&e, 1000, 3.6);
	tl_endpoints_sample(&e, 500, 3.6);
	assert_near(e.distance_m, 1.0, 1e-12);
}

static void cot_and_icd_at_first_onset(void **state)
{
	(void)state;
	struct tl_endpoints e;
	tl_endpoints_init(&e);
	tl_endpoints_walk_start(&e, 0);
	for (int64_t t = 0; t <= 200000; t += 100)
		tl_endpoints_sample(&e, t, 3.218688);
	assert_true(tl_endpoints_onset(&e, 200000));
	assert_int_equal(e.cot_ms, 200000);
	assert_near(e.icd_m, metres(3.218688, 200000), 1e-9);
	assert_int_equal(e.walks[0].onset_ms, 200000);
}

static void icd_between_samples_extrapolates(void **state)
{
	(void)state;
	struct tl_endpoints e;
	tl_endpoints_init(&e);
	tl_endpoints_walk_start(&e, 0);
	for (int64_t t = 0; t <= 200000; t += 100)
		tl_endpoints_sample(&e, t, 3.218688);
	assert_true(tl_endpoints_onset(&e, 200050));
	assert_near(e.icd_m, metres(3.218688, 200050), 1e-9);
}

static void repeat_onset_keeps_cot_and_icd(void **state)
{
	(void)state;
	struct tl_endpoints e;
	tl_endpoints_init(&e);
	tl_endpoints_walk_start(&e, 0);
	tl_endpoints_sample(&e, 0, 3.6);
	tl_endpoints_sample(&e, 100000, 3.6);
	assert_true(tl_endpoints_onset(&e, 100000));
	tl_endpoints_sample(&e, 150000, 3.6);
	assert_false(tl_endpoints_onset(&e, 150000));
	assert_int_equal(e.cot_ms, 100000);
	assert_near(e.icd_m, 100.0, 1e-9);
}

static void pwt_and_acd_at_max(void **state)
{
	(void)state;
	struct tl_endpoints e;
	tl_endpoints_init(&e);
	tl_endpoints_walk_start(&e, 0);
	tl_endpoints_sample(&e, 0, 3.6);
	tl_endpoints_sample(&e, 500000, 3.6);
	tl_endpoints_walk_end(&e, 500000, true, true);
	assert_int_equal(e.pwt_ms, 500000);
	assert_near(e.acd_m, 500.0, 1e-9);
	assert_int_equal(e.walks[0].max_ms, 500000);
	assert_int_equal(e.walking_ms, 500000);
	assert_false(e.pwt_censored);
}

static void pwt_and_acd_at_end_of_walking_without_max(void **state)
{
	(void)state;
	struct tl_endpoints e;
	tl_endpoints_init(&e);
	tl_endpoints_walk_start(&e, 0);
	tl_endpoints_sample(&e, 0, 3.6);
	tl_endpoints_sample(&e, 300000, 3.6);
	tl_endpoints_walk_end(&e, 300000, false, true);
	assert_int_equal(e.pwt_ms, 300000);
	assert_near(e.acd_m, 300.0, 1e-9);
	assert_int_equal(e.walks[0].max_ms, -1);
	assert_int_equal(e.cot_ms, -1);
	/* Ended without the max press: a lower bound. */
	assert_true(e.pwt_censored);
}

static void two_stage_censoring_follows_the_last_walk(void **state)
{
	(void)state;
	/* Level walk ended by max claudication, incline walk ended by an emergency stop. */
	struct tl_endpoints e;
	tl_endpoints_init(&e);
	tl_endpoints_walk_start(&e, 0);
	tl_endpoints_walk_end(&e, 300000, true, false);
	assert_int_equal(e.pwt_ms, -1);
	tl_endpoints_walk_start(&e, 900000);
	tl_endpoints_walk_end(&e, 1000000, false, true);
	assert_int_equal(e.pwt_ms, 1000000);
	assert_true(e.pwt_censored);
	/* The same test with the incline walk ended by the max press: not censored. */
	tl_endpoints_init(&e);
	tl_endpoints_walk_start(&e, 0);
	tl_endpoints_walk_end(&e, 300000, true, false);
	tl_endpoints_walk_start(&e, 900000);
	tl_endpoints_walk_end(&e, 1000000, true, true);
	assert_false(e.pwt_censored);
}

/* Level walk 0-600 s, seated rest, incline walk 1200-1500 s: rests are not walking. */
static void walking_time_excludes_rests(void **state)
{
	(void)state;
	struct tl_endpoints e;
	tl_endpoints_init(&e);
	tl_endpoints_walk_start(&e, 0);
	assert_int_equal(tl_endpoints_walking_ms(&e, 300000), 300000);
	tl_endpoints_walk_end(&e, 600000, false, false);
	assert_int_equal(tl_endpoints_walking_ms(&e, 900000), 600000);
	assert_int_equal(e.pwt_ms, -1);
	tl_endpoints_walk_start(&e, 1200000);
	assert_int_equal(tl_endpoints_walking_ms(&e, 1300000), 700000);
	tl_endpoints_walk_end(&e, 1500000, true, true);
	assert_int_equal(e.walking_ms, 900000);
	assert_int_equal(tl_endpoints_walking_ms(&e, 2000000), 900000);
	assert_int_equal(e.pwt_ms, 1500000);
	assert_int_equal(e.n_walks, 2);
}

/* An operator stop during the rest ends walking: PWT is the end of the last walk. */
static void stop_during_rest_pwt_is_end_of_last_walk(void **state)
{
	(void)state;
	struct tl_endpoints e;
	tl_endpoints_init(&e);
	tl_endpoints_walk_start(&e, 0);
	tl_endpoints_walk_end(&e, 600000, false, false);
	tl_endpoints_walk_end(&e, 800000, false, true);
	assert_int_equal(e.pwt_ms, 600000);
	assert_int_equal(e.walking_ms, 600000);
	assert_true(e.pwt_censored);
}

static void recovery_time_from_belt_stop_to_relief(void **state)
{
	(void)state;
	struct tl_endpoints e;
	tl_endpoints_init(&e);
	tl_endpoints_walk_start(&e, 0);
	tl_endpoints_walk_end(&e, 500000, true, true);
	assert_false(tl_endpoints_relief(&e, 501000)); /* belt not yet stopped */
	tl_endpoints_belt_stopped(&e, 503000, true);
	assert_int_equal(e.belt_stop_ms, 503000);
	assert_true(tl_endpoints_relief(&e, 593000));
	assert_int_equal(e.recovery_ms, 90000);
	assert_false(tl_endpoints_relief(&e, 600000));
	assert_int_equal(e.recovery_ms, 90000);
}

static void relief_after_rest_stop_is_per_walk_only(void **state)
{
	(void)state;
	struct tl_endpoints e;
	tl_endpoints_init(&e);
	tl_endpoints_walk_start(&e, 0);
	tl_endpoints_walk_end(&e, 600000, false, false);
	tl_endpoints_belt_stopped(&e, 603000, false);
	assert_true(tl_endpoints_relief(&e, 700000));
	assert_int_equal(e.walks[0].relief_ms, 700000);
	assert_int_equal(e.recovery_ms, -1);
	assert_int_equal(e.belt_stop_ms, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(trapezoids_exact_for_piecewise_linear_speed),
		cmocka_unit_test(distance_at_extrapolates_at_last_speed),
		cmocka_unit_test(distance_at_without_samples_is_zero),
		cmocka_unit_test(negative_measured_speed_counts_as_zero),
		cmocka_unit_test(repeated_or_older_sample_adds_nothing),
		cmocka_unit_test(cot_and_icd_at_first_onset),
		cmocka_unit_test(icd_between_samples_extrapolates),
		cmocka_unit_test(repeat_onset_keeps_cot_and_icd),
		cmocka_unit_test(pwt_and_acd_at_max),
		cmocka_unit_test(pwt_and_acd_at_end_of_walking_without_max),
		cmocka_unit_test(two_stage_censoring_follows_the_last_walk),
		cmocka_unit_test(walking_time_excludes_rests),
		cmocka_unit_test(stop_during_rest_pwt_is_end_of_last_walk),
		cmocka_unit_test(recovery_time_from_belt_stop_to_relief),
		cmocka_unit_test(relief_after_rest_stop_is_per_walk_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
