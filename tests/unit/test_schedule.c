/* test_schedule.c - every shipped protocol walked in virtual time: the stage in force at
 * each boundary, 1 ms either side, is right to the millisecond, and the boundaries are
 * the exact integer sums of the stage durations (no drift over 30 minutes). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "protocol_files.h"
#include "schedule.h"

#include "tl_assert.h"

static const char *const shipped[] = {
	"bruce", "constant-2mph-10pct", "constant-3kmh-12pct", "deen-level",
	"gardner-skinner", "hiatt", "modified-bruce", "two-stage",
};
#define N_SHIPPED (sizeof shipped / sizeof shipped[0])

static void load(const char *name, struct tl_protocol *p)
{
	struct tl_err err = {{0}};
	int rc = tl_protocol_load_name(TL_PROTOCOL_DIR, name, NULL, p, &err);
	if (rc)
		print_error("%s: %s\n", name, err.msg);
	assert_int_equal(rc, 0);
}

/* The stage index a protocol is in at t, computed independently from the durations. */
static int stage_by_sum(const struct tl_protocol *p, int64_t t)
{
	int64_t end = 0;
	for (size_t i = 0; i < p->n_stages; i++) {
		end += p->stages[i].duration_ms;
		if (t < end)
			return (int)i;
	}
	return -1;
}

static void check_point(const struct tl_protocol *p, int64_t t, int want)
{
	struct tl_schedule_point sp;
	tl_schedule_at(p, t, &sp);
	if (sp.stage != want)
		print_error("%s at %lld ms: stage %d, expected %d\n", p->name, (long long)t, sp.stage, want);
	assert_int_equal(sp.stage, want);
	if (want < 0) {
		assert_false(sp.target.belt_on);
		return;
	}
	const struct tl_stage *s = &p->stages[want];
	assert_int_equal(sp.stage_start_ms, s->start_ms);
	assert_int_equal(sp.next_change_ms, s->start_ms + s->duration_ms);
	assert_int_equal(sp.target.belt_on, s->kind == TL_STAGE_WALK);
	assert_exact(sp.target.speed_kmh, s->kind == TL_STAGE_WALK ? s->speed_kmh : 0.0);
	assert_exact(sp.target.grade_pct, s->grade_pct);
}

static void boundaries_exact_to_the_ms(void **state)
{
	(void)state;
	for (size_t k = 0; k < N_SHIPPED; k++) {
		struct tl_protocol p;
		load(shipped[k], &p);
		check_point(&p, 0, 0);
		check_point(&p, 1, 0);
		int64_t boundary = 0;
		for (size_t i = 0; i < p.n_stages; i++) {
			boundary += p.stages[i].duration_ms;
			int next = i + 1 < p.n_stages ? (int)i + 1 : -1;
			check_point(&p, boundary - 1, (int)i);
			check_point(&p, boundary, next);
			check_point(&p, boundary + 1, next);
		}
	}
}

/* Every millisecond of every protocol, against the independent sum. */
static void every_millisecond_matches_the_sum_of_durations(void **state)
{
	(void)state;
	for (size_t k = 0; k < N_SHIPPED; k++) {
		struct tl_protocol p;
		load(shipped[k], &p);
		int64_t end = tl_protocol_length_ms(&p);
		int bad = 0;
		for (int64_t t = 0; t <= end + 1 && bad < 5; t++) {
			struct tl_schedule_point sp;
			tl_schedule_at(&p, t, &sp);
			int want = stage_by_sum(&p, t);
			if (sp.stage != want) {
				print_error("%s at %lld ms: stage %d, expected %d\n", p.name, (long long)t, sp.stage,
					    want);
				bad++;
			}
		}
		assert_int_equal(bad, 0);
	}
}

/* The shipped 30-minute protocols end exactly at 1 800 000 ms: the last boundary is the
 * sum of the durations, not an accumulation of rounded steps. */
static void no_drift_over_30_minutes(void **state)
{
	(void)state;
	static const char *const thirty[] = {"gardner-skinner", "hiatt", "constant-3kmh-12pct", "two-stage"};
	for (size_t k = 0; k < sizeof thirty / sizeof thirty[0]; k++) {
		struct tl_protocol p;
		load(thirty[k], &p);
		int64_t sum = 0;
		for (size_t i = 0; i < p.n_stages; i++) {
			assert_int_equal(p.stages[i].start_ms, sum);
			sum += p.stages[i].duration_ms;
		}
		assert_int_equal(sum, 1800000);
		assert_int_equal(tl_protocol_length_ms(&p), sum);
		check_point(&p, 1799999, (int)p.n_stages - 1);
		check_point(&p, 1800000, -1);
		struct tl_schedule_point sp;
		tl_schedule_at(&p, 1800000, &sp);
		assert_int_equal(sp.stage_start_ms, 1800000);
		assert_int_equal(sp.next_change_ms, 1800000);
	}
}

static void gardner_skinner_boundaries_every_120_s(void **state)
{
	(void)state;
	struct tl_protocol p;
	load("gardner-skinner", &p);
	for (int k = 1; k <= 12; k++) {
		int64_t b = (int64_t)k * 120000;
		struct tl_schedule_point before, at;
		tl_schedule_at(&p, b - 1, &before);
		tl_schedule_at(&p, b, &at);
		assert_int_equal(before.next_change_ms, b);
		assert_int_equal(at.stage_start_ms, b);
		assert_exact(at.target.grade_pct - before.target.grade_pct, 2.0);
	}
}

static void two_stage_rest_stops_the_belt(void **state)
{
	(void)state;
	struct tl_protocol p;
	load("two-stage", &p);
	struct tl_schedule_point sp;
	tl_schedule_at(&p, 599999, &sp);
	assert_true(sp.target.belt_on);
	tl_schedule_at(&p, 600000, &sp);
	assert_false(sp.target.belt_on);
	assert_exact(sp.target.speed_kmh, 0.0);
	tl_schedule_at(&p, 1199999, &sp);
	assert_false(sp.target.belt_on);
	tl_schedule_at(&p, 1200000, &sp);
	assert_true(sp.target.belt_on);
	assert_exact(sp.target.grade_pct, 26.8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(boundaries_exact_to_the_ms),
		cmocka_unit_test(every_millisecond_matches_the_sum_of_durations),
		cmocka_unit_test(no_drift_over_30_minutes),
		cmocka_unit_test(gardner_skinner_boundaries_every_120_s),
		cmocka_unit_test(two_stage_rest_stops_the_belt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
