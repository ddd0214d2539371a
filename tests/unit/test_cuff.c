/* The cuff's pure part (src/core/cuff.c): the "signal back" mark (interpolation, bracket
 * and gap refusals, the measured rate), every transition of the inflate/deflate cycle,
 * its time limits and vents, and the safety limits on its settings. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "cuff.h"
#include "tl_assert.h"

/* A deflation at 2 mmHg/s from 180 mmHg, sampled every 100 ms from t = 1000 ms. */
static size_t ramp(struct tl_cuff_sample *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		s[i] = (struct tl_cuff_sample){.t_ms = 1000 + (int64_t)i * 100, .mmhg = 180 - 0.2 * (double)i};
	return n;
}

static void mark_interpolates_between_samples(void **state)
{
	(void)state;
	struct tl_cuff_sample s[50];
	size_t n = ramp(s, 50);
	struct tl_cuff_mark m;
	struct tl_err err = {{0}};
	/* 1525 ms: a quarter past sample 5 (179.0) towards sample 6 (178.8). */
	assert_int_equal(tl_cuff_mark_at(s, n, 1525, 250, &m, &err), 0);
	assert_near(m.mmhg, 179.0 - 0.05, 1e-9);
	assert_int_equal(m.interval_ms, 100);
	assert_near(m.rate_mmhg_s, 2.0, 1e-9);
	assert_int_equal(m.t_ms, 1525);
	/* The rate is the deflation before the press, not the vent after it. */
	for (size_t k = 6; k < n; k++)
		s[k].mmhg = s[5].mmhg - 0.2 - 6.0 * (double)(k - 6);
	assert_int_equal(tl_cuff_mark_at(s, n, 1500, 250, &m, &err), 0);
	assert_near(m.rate_mmhg_s, 2.0, 1e-9);
	ramp(s, n);
	/* On a sample exactly. */
	assert_int_equal(tl_cuff_mark_at(s, n, 2000, 250, &m, &err), 0);
	assert_near(m.mmhg, 178.0, 1e-9);
	/* The first and the last sample are inside. */
	assert_int_equal(tl_cuff_mark_at(s, n, 1000, 250, &m, &err), 0);
	assert_near(m.mmhg, 180.0, 1e-9);
	assert_int_equal(tl_cuff_mark_at(s, n, 5900, 250, &m, &err), 0);
	assert_near(m.mmhg, 180 - 0.2 * 49, 1e-9);
}

/* A hand that opens the valve as it presses (a manual cycle): the samples after the
 * press fall at the vent's rate, and the mark is carried on from the deflation before
 * it, not pulled down by the vent. */
static void mark_ignores_a_vent_at_the_press(void **state)
{
	(void)state;
	struct tl_cuff_sample s[50];
	size_t n = ramp(s, 50); /* 2 mmHg/s, a sample every 100 ms */
	for (size_t k = 6; k < n; k++)
		s[k].mmhg = s[5].mmhg - 6.0 * (double)(k - 5); /* 60 mmHg/s from sample 5 on */
	struct tl_cuff_mark m;
	struct tl_err err = {{0}};
	assert_int_equal(tl_cuff_mark_at(s, n, 1550, 250, &m, &err), 0);
	assert_near(m.mmhg, 179.0 - 0.1, 1e-9); /* interpolating would give 176.0 */
	assert_near(m.rate_mmhg_s, 2.0, 1e-9);
	assert_int_equal(m.interval_ms, 100);
}

static void mark_refuses_a_press_outside_the_samples(void **state)
{
	(void)state;
	struct tl_cuff_sample s[10];
	size_t n = ramp(s, 10);
	struct tl_cuff_mark m;
	struct tl_err err = {{0}};
	assert_int_equal(tl_cuff_mark_at(s, n, 999, 250, &m, &err), -1);
	assert_non_null(strstr(err.msg, "outside the samples (1000 to 1900 ms)"));
	assert_int_equal(tl_cuff_mark_at(s, n, 1901, 250, &m, &err), -1);
	assert_non_null(strstr(err.msg, "the press at 1901 ms"));
	assert_int_equal(tl_cuff_mark_at(s, 0, 1500, 250, &m, &err), -1);
	assert_non_null(strstr(err.msg, "no pressure samples"));
}

static void mark_refuses_a_long_gap(void **state)
{
	(void)state;
	struct tl_cuff_sample s[3] = {{1000, 150}, {1100, 149.8}, {1600, 148.8}};
	struct tl_cuff_mark m;
	struct tl_err err = {{0}};
	assert_int_equal(tl_cuff_mark_at(s, 3, 1300, 250, &m, &err), -1);
	assert_non_null(strstr(err.msg, "500 ms apart (at most 250 allowed)"));
	/* The same press with a looser bound is interpolated. */
	assert_int_equal(tl_cuff_mark_at(s, 3, 1300, 500, &m, &err), 0);
	assert_near(m.mmhg, 149.8 - 0.4, 1e-9);
	assert_int_equal(m.interval_ms, 500);
	/* A gap that does not bracket the press does not matter. */
	assert_int_equal(tl_cuff_mark_at(s, 3, 1050, 250, &m, &err), 0);
	assert_near(m.mmhg, 149.9, 1e-9);
}

static void mark_refuses_samples_out_of_order(void **state)
{
	(void)state;
	struct tl_cuff_sample s[3] = {{1000, 150}, {1000, 149.8}, {1200, 149.4}};
	struct tl_cuff_mark m;
	struct tl_err err = {{0}};
	assert_int_equal(tl_cuff_mark_at(s, 3, 1100, 250, &m, &err), -1);
	assert_non_null(strstr(err.msg, "sample 1 at 1000 ms is not after"));
	struct tl_cuff_sample t[2] = {{1000, 150}, {1100, 0.0 / 0.0}};
	assert_int_equal(tl_cuff_mark_at(t, 2, 1050, 250, &m, &err), -1);
	assert_non_null(strstr(err.msg, "sample 1 (at 1100 ms) is not a number"));
}

/* ---- the cycle ---------------------------------------------------------------------- */

static struct tl_cuff_cycle fresh(void)
{
	struct tl_cuff_cycle_cfg cfg;
	tl_cuff_cycle_cfg_default(&cfg);
	struct tl_cuff_cycle c;
	tl_cuff_cycle_init(&c, &cfg);
	return c;
}

static void cycle_goes_through_every_state(void **state)
{
	(void)state;
	struct tl_cuff_cycle c = fresh();
	assert_int_equal(c.state, TL_CUFF_IDLE);
	assert_int_equal(tl_cuff_cycle_step(&c, 0, 0), TL_CUFF_DO_NOTHING);
	assert_int_equal(tl_cuff_cycle_start(&c, 100), TL_CUFF_DO_INFLATE);
	assert_int_equal(c.state, TL_CUFF_INFLATING);
	/* A second start is refused. */
	assert_int_equal(tl_cuff_cycle_start(&c, 150), TL_CUFF_DO_NOTHING);
	assert_non_null(strstr(c.why, "cannot start: the cuff is inflating"));
	assert_int_equal(tl_cuff_cycle_step(&c, 1000, 120), TL_CUFF_DO_NOTHING);
	assert_int_equal(tl_cuff_cycle_step(&c, 2000, 200), TL_CUFF_DO_DEFLATE);
	assert_int_equal(c.state, TL_CUFF_DEFLATING);
	assert_int_equal(tl_cuff_cycle_step(&c, 3000, 198), TL_CUFF_DO_NOTHING);
	assert_int_equal(tl_cuff_cycle_mark(&c, 3500), TL_CUFF_DO_VENT);
	assert_int_equal(c.state, TL_CUFF_MARKED);
	assert_int_equal(tl_cuff_cycle_step(&c, 3600, 196), TL_CUFF_DO_VENT);
	assert_int_equal(c.state, TL_CUFF_VENTING);
	assert_int_equal(tl_cuff_cycle_step(&c, 3700, 80), TL_CUFF_DO_VENT); /* repeated */
	assert_int_equal(tl_cuff_cycle_step(&c, 4000, 10), TL_CUFF_DO_NOTHING);
	assert_int_equal(c.state, TL_CUFF_IDLE);
	assert_string_equal(c.why, "");
	assert_false(c.vent_failed);
}

static void cycle_mark_outside_deflation_is_ignored(void **state)
{
	(void)state;
	struct tl_cuff_cycle c = fresh();
	assert_int_equal(tl_cuff_cycle_mark(&c, 10), TL_CUFF_DO_NOTHING);
	assert_non_null(strstr(c.why, "not deflating"));
	tl_cuff_cycle_start(&c, 20);
	assert_int_equal(tl_cuff_cycle_mark(&c, 30), TL_CUFF_DO_NOTHING);
	assert_int_equal(c.state, TL_CUFF_INFLATING);
}

static void cycle_vents_on_abort_in_every_state(void **state)
{
	(void)state;
	for (int at = 0; at < 4; at++) {
		struct tl_cuff_cycle c = fresh();
		if (at >= 1)
			tl_cuff_cycle_start(&c, 0);
		if (at >= 2)
			tl_cuff_cycle_step(&c, 1000, 205);
		if (at >= 3)
			tl_cuff_cycle_mark(&c, 1500);
		assert_int_equal(tl_cuff_cycle_abort(&c, 2000, "source disconnected"), TL_CUFF_DO_VENT);
		assert_int_equal(c.state, TL_CUFF_VENTING);
		assert_string_equal(c.why, "source disconnected");
	}
}

static void cycle_vents_when_deflated_without_mark(void **state)
{
	(void)state;
	struct tl_cuff_cycle c = fresh();
	tl_cuff_cycle_start(&c, 0);
	tl_cuff_cycle_step(&c, 1000, 200);
	assert_int_equal(tl_cuff_cycle_step(&c, 90000, 14), TL_CUFF_DO_VENT);
	assert_non_null(strstr(c.why, "without a mark"));
}

static void cycle_vents_on_over_pressure(void **state)
{
	(void)state;
	struct tl_cuff_cycle c = fresh();
	tl_cuff_cycle_start(&c, 0);
	/* ceiling 200 + 20 overshoot allowed, not more */
	assert_int_equal(tl_cuff_cycle_step(&c, 100, 220), TL_CUFF_DO_DEFLATE);
	assert_int_equal(tl_cuff_cycle_step(&c, 200, 220.5), TL_CUFF_DO_VENT);
	assert_non_null(strstr(c.why, "over-pressure: 220.5 mmHg"));
	/* Never above the absolute limit, whatever the ceiling. */
	struct tl_cuff_cycle_cfg cfg;
	tl_cuff_cycle_cfg_default(&cfg);
	cfg.ceiling_mmhg = 290;
	tl_cuff_cycle_init(&c, &cfg);
	tl_cuff_cycle_start(&c, 0);
	assert_int_equal(tl_cuff_cycle_step(&c, 100, 300.1), TL_CUFF_DO_VENT);
	/* Even idle: something else inflated it. */
	c = fresh();
	assert_int_equal(tl_cuff_cycle_step(&c, 100, 260), TL_CUFF_DO_VENT);
}

static void cycle_time_limit_above_venous(void **state)
{
	(void)state;
	struct tl_cuff_cycle c = fresh();
	tl_cuff_cycle_start(&c, 0);
	tl_cuff_cycle_step(&c, 1000, 100); /* above 15 mmHg from 1000 ms */
	tl_cuff_cycle_step(&c, 5000, 200);
	assert_int_equal(c.state, TL_CUFF_DEFLATING);
	/* Deflating very slowly (a stuck valve): the limit counts from 1000 ms. */
	assert_int_equal(tl_cuff_cycle_step(&c, 181000, 150), TL_CUFF_DO_NOTHING);
	assert_int_equal(tl_cuff_cycle_tick(&c, 181001), TL_CUFF_DO_VENT);
	assert_non_null(strstr(c.why, "above 15 mmHg for more than 180 s"));
	assert_false(c.vent_failed);
	/* Venting: the limit that ordered it is not reported again as a failed vent (a
	 * cuff vented at once kept the first reason; hil.daemon_cuff_vent saw it replaced). */
	assert_int_equal(tl_cuff_cycle_step(&c, 200000, 140), TL_CUFF_DO_VENT);
	assert_int_equal(c.state, TL_CUFF_VENTING);
	assert_false(c.vent_failed);
	assert_non_null(strstr(c.why, "above 15 mmHg for more than 180 s"));
	/* The vent does not bring it down within the limit again: reported, still venting. */
	assert_int_equal(tl_cuff_cycle_tick(&c, 181001 + 180000), TL_CUFF_DO_VENT);
	assert_false(c.vent_failed);
	assert_int_equal(tl_cuff_cycle_tick(&c, 181001 + 180001), TL_CUFF_DO_VENT);
	assert_true(c.vent_failed);
	assert_non_null(strstr(c.why, "venting has not brought the cuff below"));
	/* Down at last: idle. */
	assert_int_equal(tl_cuff_cycle_step(&c, 400000, 10), TL_CUFF_DO_NOTHING);
	assert_int_equal(c.state, TL_CUFF_IDLE);
}

static void cycle_inflation_limit(void **state)
{
	(void)state;
	struct tl_cuff_cycle c = fresh();
	tl_cuff_cycle_start(&c, 0);
	assert_int_equal(tl_cuff_cycle_step(&c, 29000, 120), TL_CUFF_DO_NOTHING);
	assert_int_equal(tl_cuff_cycle_tick(&c, 30001), TL_CUFF_DO_VENT);
	assert_non_null(strstr(c.why, "did not reach 200 mmHg within 30 s"));
}

static void cycle_vents_on_a_bad_reading(void **state)
{
	(void)state;
	struct tl_cuff_cycle c = fresh();
	tl_cuff_cycle_start(&c, 0);
	assert_int_equal(tl_cuff_cycle_step(&c, 10, 0.0 / 0.0), TL_CUFF_DO_VENT);
	assert_non_null(strstr(c.why, "not a number"));
}

static void limits_refuse_settings_beyond_the_standard(void **state)
{
	(void)state;
	struct tl_cuff_cycle_cfg cfg;
	struct tl_err err = {{0}};
	tl_cuff_cycle_cfg_default(&cfg);
	assert_int_equal(tl_cuff_cycle_cfg_check(&cfg, &err), 0);
	cfg.ceiling_mmhg = 301;
	assert_int_equal(tl_cuff_cycle_cfg_check(&cfg, &err), -1);
	assert_non_null(strstr(err.msg, "ceiling 301 mmHg"));
	tl_cuff_cycle_cfg_default(&cfg);
	cfg.max_above_venous_ms = 180001;
	assert_int_equal(tl_cuff_cycle_cfg_check(&cfg, &err), -1);
	assert_non_null(strstr(err.msg, "time above venous pressure"));
	tl_cuff_cycle_cfg_default(&cfg);
	cfg.rate_mmhg_s = 0.5;
	assert_int_equal(tl_cuff_cycle_cfg_check(&cfg, &err), -1);
	assert_non_null(strstr(err.msg, "deflation rate 0.5"));
	tl_cuff_cycle_cfg_default(&cfg);
	cfg.venous_mmhg = 20;
	assert_int_equal(tl_cuff_cycle_cfg_check(&cfg, &err), -1);
	tl_cuff_cycle_cfg_default(&cfg);
	/* 280 mmHg at 1 mmHg/s: 265 s of deflation, longer than 180 s. */
	cfg.ceiling_mmhg = 280;
	cfg.rate_mmhg_s = 1;
	assert_int_equal(tl_cuff_cycle_cfg_check(&cfg, &err), -1);
	assert_non_null(strstr(err.msg, "takes 265 s"));
	tl_cuff_cycle_cfg_default(&cfg);
	cfg.inflate_limit_ms = 0;
	assert_int_equal(tl_cuff_cycle_cfg_check(&cfg, &err), -1);
	assert_true(TL_CUFF_MAX_MMHG == 300.0 && TL_CUFF_MAX_ABOVE_VENOUS_MS == 180000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mark_interpolates_between_samples),
		cmocka_unit_test(mark_ignores_a_vent_at_the_press),
		cmocka_unit_test(mark_refuses_a_press_outside_the_samples),
		cmocka_unit_test(mark_refuses_a_long_gap),
		cmocka_unit_test(mark_refuses_samples_out_of_order),
		cmocka_unit_test(cycle_goes_through_every_state),
		cmocka_unit_test(cycle_mark_outside_deflation_is_ignored),
		cmocka_unit_test(cycle_vents_on_abort_in_every_state),
		cmocka_unit_test(cycle_vents_when_deflated_without_mark),
		cmocka_unit_test(cycle_vents_on_over_pressure),
		cmocka_unit_test(cycle_time_limit_above_venous),
		cmocka_unit_test(cycle_inflation_limit),
		cmocka_unit_test(cycle_vents_on_a_bad_reading),
		cmocka_unit_test(limits_refuse_settings_beyond_the_standard),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
