/* The findings document codec: bad documents (table-driven: each row the input, the
 * expected start of the message, which names the field path, and a legend), what
 * "absent", null and 0 mean, the symptoms-only parser, and the rendered result. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "findings_json.h"

struct bad_doc {
	const char *legend;
	const char *json;
	const char *message; /* the error message starts with this */
};

static const struct bad_doc bad_docs[] = {
	{"not an object", "[]", "document: expected an object, got an array"},
	{"truncated text", "{\"rest\": {", "line 1 column"},
	{"duplicate key", "{\"rest\": {\"pt_left\": 1, \"pt_left\": 2}}", "line 1 column"},
	{"unknown top-level key", "{\"pressures\": {}}", "pressures: unknown key"},
	{"section of the wrong type", "{\"rest\": 5}", "rest: expected an object, got a number"},
	{"unknown pressure key", "{\"rest\": {\"ankle_left\": 100}}", "rest.ankle_left: unknown key"},
	{"pressure above 300", "{\"rest\": {\"pt_left\": 412}}", "rest.pt_left: 412 is above 300 mmHg"},
	{"post pressure above 300, third point",
	 "{\"post\": [{\"minute\": 1}, {\"minute\": 3}, {\"minute\": 5, \"pt_left\": 412}]}",
	 "post[2].pt_left: 412 is above 300 mmHg"},
	{"negative pressure", "{\"rest\": {\"brachial_left\": -1}}",
	 "rest.brachial_left: -1 is negative"},
	{"pressure as a string", "{\"rest\": {\"pt_left\": \"120\"}}",
	 "rest.pt_left: expected a number or \"noncompressible\", got \"120\""},
	{"noncompressible toe", "{\"rest\": {\"toe_left\": \"noncompressible\"}}",
	 "rest.toe_left: expected a number, got \"noncompressible\""},
	{"noncompressible arm", "{\"post\": [{\"minute\": 1, \"brachial_right\": \"noncompressible\"}]}",
	 "post[0].brachial_right: expected a number, got \"noncompressible\""},
	{"pressure as a boolean", "{\"rest\": {\"toe_right\": true}}",
	 "rest.toe_right: expected a number, got a boolean"},
	{"post not an array", "{\"post\": {\"minute\": 1}}", "post: expected an array, got an object"},
	{"post point not an object", "{\"post\": [1]}", "post[0]: expected an object, got a number"},
	{"negative minute", "{\"post\": [{\"minute\": -1}]}", "post[0].minute: -1 is negative"},
	{"minute missing", "{\"post\": [{\"pt_left\": 100}]}", "post[0].minute: missing"},
	{"minutes not increasing", "{\"post\": [{\"minute\": 3}, {\"minute\": 3}]}",
	 "post[1].minute: 3 is not after post[0] (3)"},
	{"unknown key in a post point", "{\"post\": [{\"minute\": 1, \"extra\": 1}]}",
	 "post[0].extra: unknown key"},
	{"too many post points",
	 "{\"post\": [{\"minute\":1},{\"minute\":2},{\"minute\":3},{\"minute\":4},{\"minute\":5},"
	 "{\"minute\":6},{\"minute\":7},{\"minute\":8},{\"minute\":9},{\"minute\":10},"
	 "{\"minute\":11},{\"minute\":12},{\"minute\":13},{\"minute\":14},{\"minute\":15},"
	 "{\"minute\":16},{\"minute\":17}]}",
	 "post: 17 time points, at most 16"},
	{"unknown end reason", "{\"walk\": {\"end_reason\": \"tired\"}}",
	 "walk.end_reason: unknown value \"tired\""},
	{"onset after peak", "{\"walk\": {\"cot_s\": 300, \"pwt_s\": 200}}",
	 "walk.cot_s: 300 is after pwt_s (200)"},
	{"absurd walking time", "{\"walk\": {\"pwt_s\": 20000}}", "walk.pwt_s: 20000 is above 14400 s"},
	{"negative distance", "{\"walk\": {\"acd_m\": -3}}", "walk.acd_m: -3 is negative"},
	{"distance as a string", "{\"walk\": {\"icd_m\": \"120\"}}",
	 "walk.icd_m: expected a number, got a string"},
	{"absurd distance", "{\"walk\": {\"acd_m\": 200000}}", "walk.acd_m: 200000 is above 100000 m"},
	{"onset distance beyond the peak", "{\"walk\": {\"icd_m\": 300, \"acd_m\": 200}}",
	 "walk.icd_m: 300 is beyond acd_m (200)"},
	{"no_pain_seated not a boolean", "{\"symptoms\": {\"no_pain_seated\": \"yes\"}}",
	 "symptoms.no_pain_seated: expected a boolean, got a string"},
	{"negative two-stage time", "{\"two_stage\": {\"level_walk_s\": -5}}",
	 "two_stage.level_walk_s: -5 is negative"},
	{"unknown two-stage key", "{\"two_stage\": {\"incline_s\": 5}}",
	 "two_stage.incline_s: unknown key"},
	{"unknown side", "{\"symptoms\": {\"side\": \"both\"}}",
	 "symptoms.side: unknown value \"both\""},
	{"unknown relief", "{\"symptoms\": {\"relief\": \"lying\"}}",
	 "symptoms.relief: unknown value \"lying\""},
	{"location not an array", "{\"symptoms\": {\"location\": \"calf\"}}",
	 "symptoms.location: expected an array, got a string"},
	{"unknown location", "{\"symptoms\": {\"location\": [\"calf\", \"knee\"]}}",
	 "symptoms.location[1]: unknown value \"knee\""},
	{"repeated location", "{\"symptoms\": {\"location\": [\"calf\", \"calf\"]}}",
	 "symptoms.location[1]: \"calf\" repeated"},
	{"location not a string", "{\"symptoms\": {\"location\": [3]}}",
	 "symptoms.location[0]: expected a string, got a number"},
	{"yes/no as a string", "{\"symptoms\": {\"numbness\": \"yes\"}}",
	 "symptoms.numbness: expected a boolean, got a string"},
	{"relief time as a string", "{\"symptoms\": {\"relief_time_s\": \"fast\"}}",
	 "symptoms.relief_time_s: expected a number, got a string"},
	{"unknown symptom", "{\"symptoms\": {\"acute\": true}}", "symptoms.acute: unknown key"},
	{"side as a number", "{\"symptoms\": {\"side\": 1}}",
	 "symptoms.side: expected a string, got a number"},
};

static void bad_documents(void **state)
{
	(void)state;
	size_t n = sizeof bad_docs / sizeof bad_docs[0];
	assert_true(n >= 15);
	for (size_t i = 0; i < n; i++) {
		const struct bad_doc *b = &bad_docs[i];
		struct tl_findings f;
		struct tl_err err = {{0}};
		if (tl_findings_parse(b->json, strlen(b->json), &f, &err) != -1)
			fail_msg("%s: accepted", b->legend);
		if (strncmp(err.msg, b->message, strlen(b->message)))
			fail_msg("%s: got \"%s\", expected \"%s...\"", b->legend, err.msg, b->message);
	}
}

static struct tl_findings parse(const char *json)
{
	struct tl_findings f;
	struct tl_err err = {{0}};
	if (tl_findings_parse(json, strlen(json), &f, &err))
		fail_msg("%s", err.msg);
	return f;
}

static void zero_null_and_missing(void **state)
{
	(void)state;
	struct tl_findings f = parse("{\"rest\": {\"pt_left\": 0, \"dp_left\": null, "
				     "\"brachial_left\": 120.5}}");
	assert_true(f.rest.pt[TL_LEFT].has);
	assert_true(f.rest.pt[TL_LEFT].mmhg == 0);
	assert_false(f.rest.dp[TL_LEFT].has);
	assert_false(f.rest.pt[TL_RIGHT].has);
	assert_true(f.rest.brachial[TL_LEFT].mmhg == 120.5);
	/* Boundaries: 0 and 300 are accepted. */
	f = parse("{\"rest\": {\"pt_left\": 300, \"pt_right\": 0}}");
	assert_true(f.rest.pt[TL_LEFT].mmhg == 300);
}

static void symptoms_parse(void **state)
{
	(void)state;
	struct tl_findings f = parse(
		"{\"symptoms\": {\"location\": [\"calf\", \"buttock\"], \"side\": \"bilateral\", "
		"\"relief\": \"bending_forward\", \"relief_time_s\": 300, \"numbness\": true, "
		"\"triggered_by_standing\": false, \"rest_pain\": null}, "
		"\"walk\": {\"cot_s\": 60, \"pwt_s\": 200, \"end_reason\": \"max_claudication\"}}");
	const struct tl_symptoms *s = &f.symptoms;
	assert_true(s->has_location);
	assert_int_equal(s->locations, TL_LOC_CALF | TL_LOC_BUTTOCK);
	assert_int_equal(s->side, TL_SYM_SIDE_BILATERAL);
	assert_int_equal(s->relief, TL_RELIEF_BENDING_FORWARD);
	assert_true(s->relief_time_s.has);
	assert_int_equal(s->flag[TL_SYM_NUMBNESS], TL_TRI_YES);
	assert_int_equal(s->flag[TL_SYM_TRIGGERED_BY_STANDING], TL_TRI_NO);
	assert_int_equal(s->flag[TL_SYM_REST_PAIN], TL_TRI_ABSENT);
	assert_int_equal(s->flag[TL_SYM_GANGRENE], TL_TRI_ABSENT);
	assert_int_equal(f.walk.end_reason, TL_WALK_END_MAX_CLAUDICATION);
	/* An empty location list is "given, none", not absent. */
	f = parse("{\"symptoms\": {\"location\": []}}");
	assert_true(f.symptoms.has_location);
	assert_int_equal(f.symptoms.locations, 0);
}

static void symptoms_alone_with_a_caller_path(void **state)
{
	(void)state;
	struct tl_symptoms s;
	struct tl_err err = {{0}};
	json_t *j = json_pack("{s:b, s:s}", "cool_limb", 1, "side", "left");
	assert_int_equal(tl_symptoms_from_json(j, "symptoms", &s, &err), 0);
	assert_int_equal(s.flag[TL_SYM_COOL_LIMB], TL_TRI_YES);
	assert_int_equal(s.side, TL_SYM_SIDE_LEFT);
	json_decref(j);
	j = json_pack("{s:s}", "side", "middle");
	assert_int_equal(tl_symptoms_from_json(j, "test.symptoms", &s, &err), -1);
	assert_string_equal(err.msg, "test.symptoms.side: unknown value \"middle\"");
	json_decref(j);
	j = json_array();
	assert_int_equal(tl_symptoms_from_json(j, "symptoms", &s, &err), -1);
	assert_string_equal(err.msg, "symptoms: expected an object, got an array");
	json_decref(j);
}

static json_t *classify_json(const char *doc)
{
	struct tl_findings f = parse(doc);
	struct tl_classification c;
	struct tl_err err = {{0}};
	assert_int_equal(tl_classify(&f, NULL, &c, &err), 0);
	json_t *j = tl_classification_to_json(&c);
	assert_non_null(j);
	return j;
}

static void render_nulls_for_absent_data(void **state)
{
	(void)state;
	/* Right leg not measured; left post point without brachial; no toes. */
	json_t *j = classify_json("{\"rest\": {\"brachial_left\": 140, \"pt_left\": 98}, "
				  "\"post\": [{\"minute\": 1, \"pt_left\": 60}]}");
	json_t *left = json_object_get(json_object_get(j, "abi"), "left");
	json_t *right = json_object_get(json_object_get(j, "abi"), "right");
	assert_float_equal(json_real_value(json_object_get(left, "rest")), 0.70, 1e-12);
	assert_string_equal(json_string_value(json_object_get(left, "rest_category")), "abnormal");
	json_t *p0 = json_array_get(json_object_get(left, "post"), 0);
	assert_true(json_is_null(json_object_get(p0, "abi")));
	assert_true(json_is_null(json_object_get(p0, "fall_pct")));
	assert_float_equal(json_real_value(json_object_get(p0, "ankle_fall_mmhg")), 38.0, 1e-12);
	assert_true(json_is_null(json_object_get(left, "recovery_min")));
	assert_true(json_is_null(json_object_get(right, "rest")));
	assert_true(json_is_null(json_object_get(right, "rest_category")));
	json_t *rp0 = json_array_get(json_object_get(right, "post"), 0);
	assert_true(json_is_null(json_object_get(rp0, "ankle_fall_mmhg")));
	json_t *tbi = json_object_get(json_object_get(j, "tbi"), "left");
	assert_true(json_is_null(json_object_get(tbi, "value")));
	assert_true(json_is_null(json_object_get(tbi, "category")));
	json_t *crit = json_object_get(left, "criteria");
	assert_int_equal(json_array_size(crit), 1);
	assert_string_equal(json_string_value(json_array_get(crit, 0)), "ankle_fall_gt_30mmhg");
	json_decref(j);
}

static void render_shape(void **state)
{
	(void)state;
	json_t *j = classify_json(
		"{\"rest\": {\"brachial_left\": 140, \"pt_left\": 98, \"pt_right\": 140, "
		"\"toe_left\": 28}, \"post\": [{\"minute\": 1, \"brachial_left\": 160, "
		"\"pt_left\": 56, \"pt_right\": 150}, {\"minute\": 10, \"brachial_left\": 140, "
		"\"pt_left\": 100, \"pt_right\": 140}], \"symptoms\": {\"location\": [\"calf\"], "
		"\"side\": \"left\", \"relief\": \"standing\", \"rest_pain\": true}}");
	static const char *const top[] = {"category", "abi",	  "tbi",      "red_flags", "warnings",
					  "severity", "endpoints", "findings", "rationale"};
	assert_int_equal(json_object_size(j), 9);
	for (size_t i = 0; i < 9; i++)
		assert_non_null(json_object_get(j, top[i]));
	assert_string_equal(json_string_value(json_object_get(j, "category")), "vascular");
	json_t *left = json_object_get(json_object_get(j, "abi"), "left");
	assert_float_equal(json_real_value(json_object_get(left, "recovery_min")), 10.0, 1e-12);
	json_t *p0 = json_array_get(json_object_get(left, "post"), 0);
	assert_float_equal(json_real_value(json_object_get(p0, "abi")), 0.35, 1e-12);
	assert_float_equal(json_real_value(json_object_get(p0, "fall_pct")), 50.0, 1e-12);
	json_t *tbi = json_object_get(json_object_get(j, "tbi"), "left");
	assert_float_equal(json_real_value(json_object_get(tbi, "value")), 0.2, 1e-12);
	assert_string_equal(json_string_value(json_object_get(tbi, "category")), "abnormal");
	json_t *flag = json_array_get(json_object_get(j, "red_flags"), 0);
	assert_string_equal(json_string_value(json_object_get(flag, "code")),
			    "critical_limb_ischemia");
	assert_non_null(json_string_value(json_object_get(flag, "reason")));
	json_t *finding = json_array_get(json_object_get(j, "findings"), 0);
	assert_int_equal(json_object_size(finding), 3);
	assert_non_null(json_string_value(json_object_get(finding, "source")));
	assert_string_equal(json_string_value(json_object_get(finding, "points_to")), "vascular");
	json_decref(j);
}

static void render_severity_warnings_endpoints(void **state)
{
	(void)state;
	json_t *j = classify_json(
		"{\"rest\": {\"brachial_left\": 140, \"brachial_right\": 120, \"pt_left\": 98, "
		"\"pt_right\": 50}, \"post\": [{\"minute\": 1, \"pt_left\": 40}], \"walk\": "
		"{\"cot_s\": 5, \"pwt_s\": 8.1, \"icd_m\": 4, \"acd_m\": 7.2, \"end_reason\": "
		"\"emergency_stop\"}, \"symptoms\": {\"location\": [\"calf\"], \"side\": \"left\", "
		"\"no_pain_seated\": false}}");
	json_t *w = json_array_get(json_object_get(j, "warnings"), 0);
	assert_non_null(strstr(json_string_value(json_object_get(w, "warning")), "20 mmHg (>= 15)"));
	assert_non_null(strstr(json_string_value(json_object_get(w, "source")), "Clark"));
	json_t *sv = json_object_get(j, "severity");
	json_t *band = json_object_get(json_object_get(sv, "abi_band"), "right");
	assert_string_equal(json_string_value(json_object_get(band, "band")), "severe");
	assert_non_null(strstr(json_string_value(json_object_get(band, "criteria")), "< 0.40"));
	json_t *ru = json_object_get(sv, "rutherford");
	assert_true(json_is_null(json_object_get(ru, "grade")));
	assert_non_null(strstr(json_string_value(json_object_get(ru, "criteria")), "emergency stop"));
	json_t *fo = json_object_get(sv, "fontaine");
	assert_string_equal(json_string_value(json_object_get(fo, "grade")), "IIb");
	json_t *pwt = json_object_get(json_object_get(j, "endpoints"), "pwt");
	assert_true(json_is_true(json_object_get(pwt, "censored")));
	assert_string_equal(json_string_value(json_object_get(pwt, "censored_by")), "emergency_stop");
	assert_string_equal(json_string_value(json_object_get(pwt, "text")),
			    "more than 8.1 s: emergency stop");
	json_t *acd = json_object_get(json_object_get(j, "endpoints"), "acd");
	assert_string_equal(json_string_value(json_object_get(acd, "text")),
			    "more than 7.2 m: emergency stop");
	json_decref(j);
	/* Nothing measured: null endpoints, an empty warning list. */
	j = classify_json("{}");
	assert_true(json_is_null(json_object_get(json_object_get(j, "endpoints"), "pwt")));
	assert_int_equal(json_array_size(json_object_get(j, "warnings")), 0);
	json_decref(j);
}


static void noncompressible_in_the_document(void **state)
{
	(void)state;
	struct tl_findings f = parse("{\"rest\": {\"brachial_left\": 130, \"pt_left\": "
				     "\"noncompressible\", \"dp_left\": 120}}");
	assert_true(f.rest.pt[TL_LEFT].has && f.rest.pt[TL_LEFT].noncompressible);
	assert_false(f.rest.dp[TL_LEFT].noncompressible);
	json_t *j = classify_json("{\"rest\": {\"brachial_left\": 130, \"pt_left\": "
				  "\"noncompressible\"}}");
	json_t *left = json_object_get(json_object_get(j, "abi"), "left");
	assert_true(json_is_null(json_object_get(left, "rest")));
	assert_string_equal(json_string_value(json_object_get(left, "rest_category")),
			    "noncompressible");
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bad_documents),
		cmocka_unit_test(zero_null_and_missing),
		cmocka_unit_test(symptoms_parse),
		cmocka_unit_test(symptoms_alone_with_a_caller_path),
		cmocka_unit_test(render_nulls_for_absent_data),
		cmocka_unit_test(render_shape),
		cmocka_unit_test(render_severity_warnings_endpoints),
		cmocka_unit_test(noncompressible_in_the_document),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
