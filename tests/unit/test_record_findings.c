/* A test record read as a findings document: pressures by site and minute, the walk,
 * the two-stage test's own stages, and the symptoms. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdlib.h>

#include "record_findings.h"

static json_t *load(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);
	assert_non_null(j);
	return j;
}

static double num(const json_t *o, const char *path1, const char *path2)
{
	const json_t *v = json_object_get(json_object_get(o, path1), path2);
	assert_true(json_is_number(v));
	return json_number_value(v);
}

static void pressures_become_rest_and_post_points(void **state)
{
	(void)state;
	json_t *rec = load("{\"cot_s\": 200.0, \"pwt_s\": 500.0, \"end_reason\": \"max_claudication\","
			   " \"pressures\": ["
			   "  {\"phase\": \"rest\", \"minute\": null, \"site\": \"pt-left\", \"mmhg\": 100},"
			   "  {\"phase\": \"post\", \"minute\": 3, \"site\": \"pt-left\", \"mmhg\": 80},"
			   "  {\"phase\": \"post\", \"minute\": 1, \"site\": \"pt-left\", \"mmhg\": 60},"
			   "  {\"phase\": \"post\", \"minute\": 1, \"site\": \"brachial-left\", \"mmhg\": 150},"
			   "  {\"phase\": \"rest\", \"minute\": null, \"site\": \"pt-left\", \"mmhg\": 110}],"
			   " \"findings\": {\"side\": \"left\"}, \"events\": []}");
	json_t *doc = tl_record_findings(rec, 0);
	/* the later reading of a site wins: it is the corrected one */
	assert_true(num(doc, "rest", "pt_left") == 110);
	json_t *post = json_object_get(doc, "post");
	assert_int_equal(json_array_size(post), 2);
	assert_true(json_number_value(json_object_get(json_array_get(post, 0), "minute")) == 1);
	assert_true(json_number_value(json_object_get(json_array_get(post, 0), "pt_left")) == 60);
	assert_true(json_number_value(json_object_get(json_array_get(post, 0), "brachial_left")) == 150);
	assert_true(json_number_value(json_object_get(json_array_get(post, 1), "minute")) == 3);
	assert_true(num(doc, "walk", "cot_s") == 200.0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "walk"), "end_reason")),
			    "max_claudication");
	assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "symptoms"), "side")), "left");
	assert_null(json_object_get(doc, "two_stage"));
	json_decref(doc);
	json_decref(rec);
}

static void unknown_end_reason_is_left_out(void **state)
{
	(void)state;
	json_t *rec = load("{\"cot_s\": null, \"pwt_s\": 12.5, \"end_reason\": \"tired\","
			   " \"pressures\": [], \"findings\": null, \"events\": []}");
	json_t *doc = tl_record_findings(rec, 0);
	json_t *walk = json_object_get(doc, "walk");
	assert_null(json_object_get(walk, "end_reason"));
	assert_null(json_object_get(walk, "cot_s"));
	assert_null(json_object_get(doc, "symptoms"));
	json_decref(doc);
	json_decref(rec);
}

static void interrupted_test_censors_pwt(void **state)
{
	(void)state;
	/* The store closes a test the daemon did not see to its end as "interrupted": its PWT
	 * is a lower bound like any end other than maximal claudication. */
	json_t *rec = load("{\"cot_s\": null, \"pwt_s\": 12.5, \"end_reason\": \"interrupted\","
			   " \"pressures\": [], \"findings\": null, \"events\": []}");
	char *abi = NULL, *cls = NULL;
	struct tl_err err = {{0}};
	assert_int_equal(tl_record_classify(rec, 0, &abi, &cls, &err), 0);
	json_t *c = load(cls);
	json_t *pwt = json_object_get(json_object_get(c, "endpoints"), "pwt");
	assert_string_equal(json_string_value(json_object_get(pwt, "censored_by")), "interrupted");
	assert_string_equal(json_string_value(json_object_get(pwt, "text")),
			    "more than 12.5 s: interruption (the daemon stopped)");
	json_decref(c);
	free(abi);
	free(cls);
	json_decref(rec);
}

/* Events as the daemon records a two-stage test: onset 100 s into the level walk, max at
 * 300 s, belt stopped, relief 240 s later in the rest; the incline walk from 900 s with
 * onset at 1200 s, protocol end at 1500 s, relief 30 s after the stop. */
static const char *two_stage_events =
	"[{\"t_s\": 0, \"kind\": \"start\", \"detail\": \"two-stage\", \"value\": 1800},"
	" {\"t_s\": 0, \"kind\": \"stage\", \"detail\": \"stage 1: walk 1.93 km/h at 0.0 %\", \"value\": 0},"
	" {\"t_s\": 100, \"kind\": \"onset\", \"detail\": \"first\", \"value\": null},"
	" {\"t_s\": 300, \"kind\": \"max\", \"detail\": null, \"value\": null},"
	" {\"t_s\": 300, \"kind\": \"walk_end\", \"detail\": \"max_claudication\", \"value\": 1},"
	" {\"t_s\": 300, \"kind\": \"stage\", \"detail\": \"stage 2: seated rest\", \"value\": 1},"
	" {\"t_s\": 302, \"kind\": \"belt_stopped\", \"detail\": \"rest\", \"value\": null},"
	" {\"t_s\": 542, \"kind\": \"relief\", \"detail\": \"sitting\", \"value\": 240},"
	" {\"t_s\": 900, \"kind\": \"stage\", \"detail\": \"stage 3: walk 1.93 km/h at 26.8 %\", \"value\": 2},"
	" {\"t_s\": 1200, \"kind\": \"onset\", \"detail\": \"repeat\", \"value\": null},"
	" {\"t_s\": 1500, \"kind\": \"walk_end\", \"detail\": \"protocol_end\", \"value\": null},"
	" {\"t_s\": 1502, \"kind\": \"belt_stopped\", \"detail\": null, \"value\": null},"
	" {\"t_s\": 1532, \"kind\": \"relief\", \"detail\": \"standing\", \"value\": 30}]";

static void two_stage_fills_from_its_own_stages(void **state)
{
	(void)state;
	json_t *rec = load("{\"cot_s\": 100, \"pwt_s\": 1500, \"end_reason\": \"protocol_end\","
			   " \"pressures\": [], \"findings\": null}");
	json_object_set_new(rec, "events", load(two_stage_events));
	json_t *doc = tl_record_findings(rec, 1);
	json_t *ts = json_object_get(doc, "two_stage");
	assert_non_null(ts);
	assert_true(num(doc, "two_stage", "level_onset_s") == 100);
	assert_true(num(doc, "two_stage", "level_walk_s") == 300);
	assert_true(num(doc, "two_stage", "level_recovery_s") == 240);
	assert_true(num(doc, "two_stage", "incline_onset_s") == 300);
	assert_true(num(doc, "two_stage", "incline_walk_s") == 600);
	assert_true(num(doc, "two_stage", "incline_recovery_s") == 30);
	json_decref(doc);
	json_decref(rec);
}

static void classification_of_a_record(void **state)
{
	(void)state;
	/* Resting ABI 0.70 on the left with a fall after exercise: vascular. */
	json_t *rec = load("{\"cot_s\": 120, \"pwt_s\": 300, \"icd_m\": 90, \"acd_m\": 240,"
			   " \"end_reason\": \"max_claudication\","
			   " \"pressures\": ["
			   "  {\"phase\": \"rest\", \"site\": \"brachial-left\", \"mmhg\": 140},"
			   "  {\"phase\": \"rest\", \"site\": \"brachial-right\", \"mmhg\": 136},"
			   "  {\"phase\": \"rest\", \"site\": \"pt-left\", \"mmhg\": 98},"
			   "  {\"phase\": \"post\", \"minute\": 1, \"site\": \"brachial-left\", \"mmhg\": 150},"
			   "  {\"phase\": \"post\", \"minute\": 1, \"site\": \"pt-left\", \"mmhg\": 60}],"
			   " \"findings\": {\"location\": [\"calf\"], \"side\": \"left\", \"relief\": \"standing\"},"
			   " \"events\": []}");
	char *abi = NULL, *cls = NULL;
	struct tl_err err = {{0}};
	assert_int_equal(tl_record_classify(rec, 0, &abi, &cls, &err), 0);
	json_t *c = load(cls), *a = load(abi);
	assert_string_equal(json_string_value(json_object_get(c, "category")), "vascular");
	/* The walk's distances reach the classifier: ACD as reported, Fontaine from the ICD. */
	json_t *acd = json_object_get(json_object_get(c, "endpoints"), "acd");
	assert_string_equal(json_string_value(json_object_get(acd, "text")), "240.0 m");
	json_t *fontaine = json_object_get(json_object_get(c, "severity"), "fontaine");
	assert_string_equal(json_string_value(json_object_get(fontaine, "grade")), "IIb");
	assert_true(json_number_value(json_object_get(json_object_get(json_object_get(a, "abi"), "left"), "rest")) == 0.70);
	json_decref(c);
	json_decref(a);
	free(abi);
	free(cls);
	json_decref(rec);
}

static void site_names(void **state)
{
	(void)state;
	assert_true(tl_pressure_site_valid("toe-right"));
	assert_false(tl_pressure_site_valid("toe_right"));
	assert_false(tl_pressure_site_valid("ankle"));
	assert_false(tl_pressure_site_valid(""));
}


static void noncompressible_pressure_reads_as_such(void **state)
{
	(void)state;
	/* The store keeps the cuff pressure reached; the document says "noncompressible". */
	json_t *rec = load("{\"pressures\": ["
			   "  {\"phase\": \"rest\", \"site\": \"pt-left\", \"mmhg\": 250,"
			   "   \"noncompressible\": true, \"confirmed\": false},"
			   "  {\"phase\": \"rest\", \"site\": \"brachial-left\", \"mmhg\": 45,"
			   "   \"noncompressible\": false, \"confirmed\": true}],"
			   " \"events\": []}");
	json_t *doc = tl_record_findings(rec, 0);
	json_t *rest = json_object_get(doc, "rest");
	assert_string_equal(json_string_value(json_object_get(rest, "pt_left")), "noncompressible");
	/* A confirmed arm pressure is used as a number. */
	assert_true(num(doc, "rest", "brachial_left") == 45);
	json_decref(doc);
	json_decref(rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pressures_become_rest_and_post_points),
		cmocka_unit_test(unknown_end_reason_is_left_out),
		cmocka_unit_test(interrupted_test_censors_pwt),
		cmocka_unit_test(two_stage_fills_from_its_own_stages),
		cmocka_unit_test(classification_of_a_record),
		cmocka_unit_test(site_names),
		cmocka_unit_test(noncompressible_pressure_reads_as_such),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
