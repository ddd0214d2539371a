/* test_belt_model.c - the model treadmill: ramp distances against exact integrals, the
 * same answer whatever the step size, e-stop deceleration, stall and stuck lift. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "belt_model.h"

#include "tl_assert.h"

static void ramp_distance_complete_ramp_then_hold(void **state)
{
	(void)state;
	/* 0 -> 6 km/h at 1 km/h/s: 6 s ramp (5 m), then 4 s at 6 km/h (20/3 m) */
	assert_near(tl_belt_ramp_distance_m(0, 6, 1, 10), 5.0 + 20.0 / 3.0, 1e-12);
}

static void ramp_distance_ramp_cut_short(void **state)
{
	(void)state;
	/* 0 -> 6 km/h, only 3 s: ends at 3 km/h, 1.25 m */
	assert_near(tl_belt_ramp_distance_m(0, 6, 1, 3), 1.25, 1e-12);
}

static void ramp_distance_deceleration(void **state)
{
	(void)state;
	/* 6 -> 0 km/h at 4 km/h/s: 1.5 s, 1.25 m, then standing */
	assert_near(tl_belt_ramp_distance_m(6, 0, 4, 10), 1.25, 1e-12);
	/* 6 -> 2 km/h at 1 km/h/s over 2 s: ends at 4 km/h, (6+4)/2 * 2 s */
	assert_near(tl_belt_ramp_distance_m(6, 2, 1, 2), 10.0 / 3.6, 1e-12);
}

static void ramp_distance_constant_and_zero_time(void **state)
{
	(void)state;
	assert_near(tl_belt_ramp_distance_m(3.6, 3.6, 1, 10), 10.0, 1e-12);
	assert_exact(tl_belt_ramp_distance_m(0, 6, 1, 0), 0.0);
	assert_exact(tl_belt_ramp_distance_m(0, 6, 1, -1), 0.0);
}

static void start(struct tl_belt *b, double kmh, double pct)
{
	tl_belt_init(b, &tl_belt_default_params, 0);
	tl_belt_start(b, 0);
	tl_belt_set_speed(b, kmh, 0);
	tl_belt_set_grade(b, pct, 0);
}

static void distance_independent_of_step_size(void **state)
{
	(void)state;
	struct tl_belt one, fine, odd;
	start(&one, 6.0, 10.0);
	start(&fine, 6.0, 10.0);
	start(&odd, 6.0, 10.0);
	tl_belt_advance(&one, 60000);
	for (int64_t t = 1; t <= 60000; t++)
		tl_belt_advance(&fine, t);
	for (int64_t t = 7; t < 60000; t += 7)
		tl_belt_advance(&odd, t);
	tl_belt_advance(&odd, 60000);
	double exact = 5.0 + 6.0 / 3.6 * 54.0; /* 6 s ramp, then 54 s at 6 km/h */
	assert_near(one.distance_m, exact, 1e-9);
	assert_near(fine.distance_m, exact, 1e-6);
	assert_near(odd.distance_m, exact, 1e-6);
	assert_exact(one.speed_kmh, 6.0);
	assert_near(fine.speed_kmh, 6.0, 1e-9);
}

static void speed_and_lift_follow_their_rates(void **state)
{
	(void)state;
	struct tl_belt b;
	start(&b, 6.0, 10.0);
	tl_belt_advance(&b, 2000);
	assert_near(b.speed_kmh, 2.0, 1e-12);
	assert_near(b.grade_pct, 1.0, 1e-12);
	tl_belt_advance(&b, 30000);
	assert_exact(b.speed_kmh, 6.0);
	assert_exact(b.grade_pct, 10.0);
}

static void controlled_stop_decelerates_at_belt_rate(void **state)
{
	(void)state;
	struct tl_belt b;
	start(&b, 6.0, 0.0);
	tl_belt_advance(&b, 10000);
	double d0 = b.distance_m;
	tl_belt_stop(&b, 10000);
	tl_belt_advance(&b, 13000);
	assert_near(b.speed_kmh, 3.0, 1e-12);
	tl_belt_advance(&b, 30000);
	assert_exact(b.speed_kmh, 0.0);
	assert_near(b.distance_m - d0, 6.0 / 2 * 6.0 / 3.6, 1e-9); /* 6 s from 6 km/h to 0 */
}

static void estop_decelerates_at_estop_rate_and_holds_grade(void **state)
{
	(void)state;
	struct tl_belt b;
	start(&b, 6.0, 10.0);
	tl_belt_advance(&b, 10000); /* grade at 5 % */
	double d0 = b.distance_m;
	tl_belt_estop(&b, 10000);
	tl_belt_advance(&b, 11000);
	assert_near(b.speed_kmh, 2.0, 1e-12);
	tl_belt_advance(&b, 20000);
	assert_exact(b.speed_kmh, 0.0);
	assert_near(b.distance_m - d0, 1.25, 1e-9);
	assert_near(b.grade_pct, 5.0, 1e-12);
}

static void estop_latched_until_reset(void **state)
{
	(void)state;
	struct tl_belt b;
	start(&b, 6.0, 0.0);
	tl_belt_advance(&b, 10000);
	tl_belt_estop(&b, 10000);
	tl_belt_start(&b, 20000);
	tl_belt_set_speed(&b, 6.0, 20000);
	tl_belt_advance(&b, 30000);
	assert_false(b.running);
	assert_exact(b.speed_kmh, 0.0);
	tl_belt_reset(&b, 30000);
	tl_belt_start(&b, 30000);
	tl_belt_set_speed(&b, 6.0, 30000);
	tl_belt_advance(&b, 31000);
	assert_true(b.running);
	assert_near(b.speed_kmh, 1.0, 1e-12);
}

static void stalled_belt_does_not_move(void **state)
{
	(void)state;
	struct tl_belt b;
	start(&b, 6.0, 0.0);
	tl_belt_advance(&b, 10000);
	double d0 = b.distance_m;
	b.stall = true;
	tl_belt_advance(&b, 20000);
	assert_exact(b.speed_kmh, 0.0);
	assert_exact(b.distance_m, d0);
	assert_true(b.running);
	b.stall = false;
	tl_belt_advance(&b, 21000);
	assert_near(b.speed_kmh, 1.0, 1e-12);
}

static void stuck_lift_does_not_move(void **state)
{
	(void)state;
	struct tl_belt b;
	start(&b, 3.0, 10.0);
	tl_belt_advance(&b, 4000);
	assert_near(b.grade_pct, 2.0, 1e-12);
	b.lift_stuck = true;
	tl_belt_advance(&b, 60000);
	assert_near(b.grade_pct, 2.0, 1e-12);
	assert_exact(b.speed_kmh, 3.0);
}

static void targets_clamped_to_model_limits(void **state)
{
	(void)state;
	struct tl_belt b;
	start(&b, 100.0, -5.0);
	assert_exact(b.target_speed_kmh, tl_belt_default_params.max_speed_kmh);
	assert_exact(b.target_grade_pct, 0.0);
	tl_belt_set_grade(&b, 99.0, 0);
	assert_exact(b.target_grade_pct, tl_belt_default_params.max_grade_pct);
}

static void advance_backwards_is_a_no_op(void **state)
{
	(void)state;
	struct tl_belt b;
	start(&b, 6.0, 0.0);
	tl_belt_advance(&b, 10000);
	double d = b.distance_m, v = b.speed_kmh;
	tl_belt_advance(&b, 5000);
	assert_exact(b.distance_m, d);
	assert_exact(b.speed_kmh, v);
	assert_int_equal(b.t_ms, 10000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ramp_distance_complete_ramp_then_hold),
		cmocka_unit_test(ramp_distance_ramp_cut_short),
		cmocka_unit_test(ramp_distance_deceleration),
		cmocka_unit_test(ramp_distance_constant_and_zero_time),
		cmocka_unit_test(distance_independent_of_step_size),
		cmocka_unit_test(speed_and_lift_follow_their_rates),
		cmocka_unit_test(controlled_stop_decelerates_at_belt_rate),
		cmocka_unit_test(estop_decelerates_at_estop_rate_and_holds_grade),
		cmocka_unit_test(estop_latched_until_reset),
		cmocka_unit_test(stalled_belt_does_not_move),
		cmocka_unit_test(stuck_lift_does_not_move),
		cmocka_unit_test(targets_clamped_to_model_limits),
		cmocka_unit_test(advance_backwards_is_a_no_op),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
