/* The FHIR R4 transaction Bundle of a test (src/records/fhir.c): its structure for a full
 * record, ids derived from the seed, references that all resolve inside the Bundle, and
 * every missing field named at once. The validators' checks are tests/records. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fhir.h"

#define NOW "2026-11-26T17:00:00.000Z"
static const unsigned char pdf[] = "%PDF-1.4 test";

static json_t *fixture(const char *name)
{
	char path[512];
	snprintf(path, sizeof path, "%s/records/%s", TL_TEST_DATA_DIR, name);
	json_error_t e;
	json_t *j = json_load_file(path, 0, &e);
	if (!j)
		print_error("%s:%d: %s\n", path, e.line, e.text);
	assert_non_null(j);
	return j;
}

static json_t *build(const json_t *rec, const char *seed)
{
	struct tl_err err = {{0}};
	json_t *b = tl_fhir_bundle(rec, pdf, sizeof pdf - 1, seed, NOW, &err);
	if (!b)
		print_error("%s\n", err.msg);
	assert_non_null(b);
	return b;
}

static const char *s(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* The resources of one type, in Bundle order. */
static size_t of_type(const json_t *b, const char *type, json_t **out, size_t cap)
{
	size_t i, n = 0;
	json_t *e;
	json_array_foreach(json_object_get(b, "entry"), i, e)
		if (!strcmp(s(json_object_get(e, "resource"), "resourceType"), type)) {
			if (n < cap)
				out[n] = json_object_get(e, "resource");
			n++;
		}
	return n;
}

/* The Observation whose code.text is text. */
static json_t *obs_by_text(const json_t *b, const char *text)
{
	json_t *obs[128];
	size_t n = of_type(b, "Observation", obs, 128);
	for (size_t i = 0; i < n && i < 128; i++)
		if (!strcmp(s(json_object_get(obs[i], "code"), "text"), text))
			return obs[i];
	return NULL;
}

static const char *coding_code(const json_t *cc, size_t i)
{
	return s(json_array_get(json_object_get(cc, "coding"), i), "code");
}

static void full_record_structure(void **state)
{
	(void)state;
	json_t *rec = fixture("fhir_signed.json");
	json_t *b = build(rec, "TL1-42");
	assert_string_equal(s(b, "resourceType"), "Bundle");
	assert_string_equal(s(b, "type"), "transaction");
	assert_string_equal(s(b, "timestamp"), NOW);
	json_t *entries = json_object_get(b, "entry");
	/* Patient first, conditionally created on its identifier */
	json_t *e0 = json_array_get(entries, 0);
	json_t *pat = json_object_get(e0, "resource");
	assert_string_equal(s(pat, "resourceType"), "Patient");
	assert_string_equal(s(json_object_get(e0, "request"), "method"), "POST");
	assert_string_equal(s(json_object_get(e0, "request"), "ifNoneExist"),
			    "identifier=urn:treadlab:authority:St%2520Example%2520Hospital|MRN-0042");
	json_t *id = json_array_get(json_object_get(pat, "identifier"), 0);
	assert_string_equal(s(id, "system"), "urn:treadlab:authority:St%20Example%20Hospital");
	assert_string_equal(s(id, "value"), "MRN-0042");
	assert_string_equal(coding_code(json_object_get(id, "type"), 0), "MR");
	assert_string_equal(s(pat, "gender"), "female");
	assert_string_equal(s(pat, "birthDate"), "1956-03-14");
	json_t *name = json_array_get(json_object_get(pat, "name"), 0);
	assert_string_equal(s(name, "family"), "O'Brien-Núñez");
	assert_string_equal(json_string_value(json_array_get(json_object_get(name, "given"), 0)), "Zoë");

	json_t *r[4];
	assert_int_equal(of_type(b, "Procedure", r, 4), 1);
	assert_string_equal(s(r[0], "status"), "completed");
	assert_string_equal(s(json_object_get(r[0], "performedPeriod"), "start"), "2026-11-26T15:43:07.316Z");
	assert_string_equal(s(json_object_get(r[0], "performedPeriod"), "end"), "2026-11-26T15:43:24.359Z");

	assert_int_equal(of_type(b, "DiagnosticReport", r, 4), 1);
	json_t *dr = r[0];
	assert_string_equal(s(dr, "status"), "final"); /* signed */
	assert_non_null(json_object_get(dr, "code"));
	assert_string_equal(s(dr, "issued"), NOW);
	json_t *form = json_array_get(json_object_get(dr, "presentedForm"), 0);
	assert_string_equal(s(form, "contentType"), "application/pdf");
	assert_string_equal(s(form, "data"), "JVBERi0xLjQgdGVzdA==");
	assert_string_equal(coding_code(json_array_get(json_object_get(dr, "conclusionCode"), 0), 0),
			    "vascular");
	assert_string_equal(s(json_array_get(json_object_get(dr, "resultsInterpreter"), 0), "display"),
			    "dr.lee");
	/* every Observation is a result of the report */
	json_t *obs[128];
	size_t n_obs = of_type(b, "Observation", obs, 128);
	assert_true(n_obs > 20 && n_obs < 128);
	assert_int_equal(json_array_size(json_object_get(dr, "result")), n_obs);
	assert_int_equal(json_array_size(entries), n_obs + 3);
	for (size_t i = 0; i < n_obs; i++) {
		const char *cat = coding_code(json_array_get(json_object_get(obs[i], "category"), 0), 0);
		assert_true(!strcmp(cat, "exam") || !strcmp(cat, "procedure")); /* never vital-signs */
		assert_string_equal(s(obs[i], "status"), "final");
		json_t *q = json_object_get(obs[i], "valueQuantity");
		if (q)
			assert_string_equal(s(q, "system"), "http://unitsofmeasure.org");
	}

	/* the right resting ABI: LOINC and SNOMED CT, {ratio}, its side, exam, low */
	json_t *abi = obs_by_text(b, "Ankle-brachial index at rest, right leg");
	assert_non_null(abi);
	assert_string_equal(coding_code(json_object_get(abi, "code"), 0), "77194-9");
	assert_string_equal(coding_code(json_object_get(abi, "code"), 1), "446841001");
	json_t *q = json_object_get(abi, "valueQuantity");
	assert_true(json_real_value(json_object_get(q, "value")) == 0.71);
	assert_string_equal(s(q, "code"), "{ratio}");
	assert_string_equal(coding_code(json_object_get(abi, "bodySite"), 0), "leg-right");
	assert_string_equal(coding_code(json_array_get(json_object_get(abi, "category"), 0), 0), "exam");
	assert_string_equal(coding_code(json_array_get(json_object_get(abi, "interpretation"), 0), 0), "L");
	/* a post-exercise ABI with its falls as components */
	abi = obs_by_text(b, "Ankle-brachial index 1 min after exercise, left leg");
	assert_non_null(abi);
	assert_string_equal(coding_code(json_array_get(json_object_get(abi, "category"), 0), 0), "procedure");
	assert_int_equal(json_array_size(json_object_get(abi, "component")), 2);
	/* pressures: brachial 8508-4 with SNOMED 17137000, post exercise 87741-5, mm[Hg] */
	json_t *p = obs_by_text(b, "Systolic pressure, left brachial artery, at rest");
	assert_non_null(p);
	assert_string_equal(coding_code(json_object_get(p, "code"), 0), "8508-4");
	assert_string_equal(coding_code(json_object_get(p, "bodySite"), 1), "17137000");
	assert_string_equal(s(json_object_get(p, "valueQuantity"), "code"), "mm[Hg]");
	p = obs_by_text(b, "Systolic pressure, left posterior tibial artery, 1 min after exercise");
	assert_non_null(p);
	assert_string_equal(coding_code(json_object_get(p, "code"), 0), "87741-5");
	assert_string_equal(coding_code(json_object_get(p, "bodySite"), 1), "13363002");
	/* endpoints: local codes in seconds and metres; LOINC only for exercise duration */
	json_t *cot = obs_by_text(b, "Claudication onset time (pain-free walking time)");
	assert_non_null(cot);
	assert_string_equal(s(json_array_get(json_object_get(json_object_get(cot, "code"), "coding"), 0),
			      "system"), "urn:treadlab:code");
	assert_string_equal(s(json_object_get(cot, "valueQuantity"), "code"), "s");
	json_t *wt = obs_by_text(b, "Walking time (exercise duration)");
	assert_string_equal(coding_code(json_object_get(wt, "code"), 1), "55411-3");
	assert_string_equal(s(json_object_get(obs_by_text(b, "Absolute claudication distance"),
					      "valueQuantity"), "code"), "m");
	/* criteria: each reported, fired or not */
	json_t *cr = obs_by_text(b, "Post-exercise criteria supporting PAD, right leg");
	assert_non_null(cr);
	assert_int_equal(json_array_size(json_object_get(cr, "component")), 4);
	assert_true(json_is_true(json_object_get(json_array_get(json_object_get(cr, "component"), 0),
						 "valueBoolean")));
	assert_true(json_is_false(json_object_get(json_array_get(json_object_get(cr, "component"), 2),
						  "valueBoolean")));
	json_decref(b);
	json_decref(rec);
}

static bool uuid_shaped(const char *u)
{
	if (strncmp(u, "urn:uuid:", 9) || strlen(u) != 45)
		return false;
	u += 9;
	for (int i = 0; i < 36; i++)
		if ((i == 8 || i == 13 || i == 18 || i == 23) ? u[i] != '-' : !strchr("0123456789abcdef", u[i]))
			return false;
	return u[14] == '4' && strchr("89ab", u[19]);
}

static void ids_follow_the_seed(void **state)
{
	(void)state;
	json_t *rec = fixture("fhir_signed.json");
	json_t *a = build(rec, "TL1-42"), *a2 = build(rec, "TL1-42"), *c = build(rec, "TL1-43");
	assert_true(json_equal(a, a2));
	char *ta = tl_fhir_dump(a), *ta2 = tl_fhir_dump(a2);
	assert_string_equal(ta, ta2);
	free(ta);
	free(ta2);
	json_t *ea = json_object_get(a, "entry"), *ec = json_object_get(c, "entry");
	assert_int_equal(json_array_size(ea), json_array_size(ec));
	for (size_t i = 0; i < json_array_size(ea); i++) {
		const char *ua = s(json_array_get(ea, i), "fullUrl");
		assert_true(uuid_shaped(ua));
		for (size_t k = 0; k < json_array_size(ec); k++)
			assert_string_not_equal(ua, s(json_array_get(ec, k), "fullUrl"));
		for (size_t k = i + 1; k < json_array_size(ea); k++) /* unique in the Bundle */
			assert_string_not_equal(ua, s(json_array_get(ea, k), "fullUrl"));
	}
	assert_string_not_equal(s(json_object_get(a, "identifier"), "value"),
				s(json_object_get(c, "identifier"), "value"));
	json_decref(a);
	json_decref(a2);
	json_decref(c);
	json_decref(rec);
}

/* Every "reference" anywhere under j names a fullUrl in urls (n of them). */
static size_t check_refs(const json_t *j, const char **urls, size_t n)
{
	size_t count = 0, i;
	const char *key;
	json_t *v;
	if (json_is_object(j)) {
		json_object_foreach((json_t *)j, key, v) {
			if (!strcmp(key, "reference")) {
				bool found = false;
				for (size_t k = 0; k < n; k++)
					found |= !strcmp(urls[k], json_string_value(v));
				if (!found)
					print_error("unresolved reference %s\n", json_string_value(v));
				assert_true(found);
				count++;
			} else {
				count += check_refs(v, urls, n);
			}
		}
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			count += check_refs(v, urls, n);
	}
	return count;
}

static void references_resolve(void **state)
{
	(void)state;
	static const char *const names[] = {"fhir_signed.json", "fhir_hostile.json"};
	for (size_t f = 0; f < 2; f++) {
		json_t *rec = fixture(names[f]);
		json_t *b = build(rec, "seed");
		json_t *entries = json_object_get(b, "entry");
		const char *urls[256];
		size_t n = json_array_size(entries);
		assert_true(n < 256);
		for (size_t i = 0; i < n; i++)
			urls[i] = s(json_array_get(entries, i), "fullUrl");
		/* subject + partOf per Observation, and the report's results: many */
		assert_true(check_refs(b, urls, n) > 3 * (n - 3));
		json_decref(b);
		json_decref(rec);
	}
}

static void missing_fields_named_at_once(void **state)
{
	(void)state;
	json_t *rec = fixture("fhir_signed.json");
	json_object_del(rec, "order");
	json_t *d = json_object_get(rec, "demographics");
	json_object_set_new(d, "assigning_authority", json_null());
	json_object_del(d, "family");
	json_object_set_new(d, "birth_date", json_string("14/03/1956"));
	json_object_set_new(d, "sex", json_string("F"));
	struct tl_err err = {{0}};
	assert_null(tl_fhir_bundle(rec, NULL, 0, "s", NOW, &err));
	assert_non_null(strstr(err.msg, "test 2 cannot be sent"));
	assert_non_null(strstr(err.msg, "demographics.assigning_authority"));
	assert_non_null(strstr(err.msg, "demographics.family"));
	assert_non_null(strstr(err.msg, "demographics.birth_date as YYYY-MM-DD (not '14/03/1956')"));
	assert_non_null(strstr(err.msg, "demographics.sex as female, male, other or unknown (not 'F')"));
	assert_non_null(strstr(err.msg, "order.accession"));
	assert_null(strstr(err.msg, "demographics.mrn"));
	json_object_del(rec, "demographics");
	assert_null(tl_fhir_bundle(rec, NULL, 0, "s", NOW, &err));
	assert_non_null(strstr(err.msg, "missing demographics.mrn, demographics.assigning_authority, "
					"demographics.family, demographics.birth_date, "
					"demographics.sex, order.accession"));
	json_decref(rec);
}

static void status_follows_signature_and_state(void **state)
{
	(void)state;
	json_t *rec = fixture("fhir_signed.json");
	json_object_del(rec, "signature");
	json_t *b = build(rec, "x"), *r[2];
	of_type(b, "DiagnosticReport", r, 2);
	assert_string_equal(s(r[0], "status"), "preliminary");
	assert_null(json_object_get(r[0], "resultsInterpreter"));
	json_decref(b);
	json_object_set_new(rec, "state", json_string("recovery"));
	json_object_set_new(rec, "ended_at", json_null());
	b = build(rec, "x");
	of_type(b, "DiagnosticReport", r, 2);
	assert_string_equal(s(r[0], "status"), "partial");
	of_type(b, "Procedure", r, 2);
	assert_string_equal(s(r[0], "status"), "in-progress");
	assert_null(json_object_get(json_object_get(r[0], "performedPeriod"), "end"));
	json_decref(b);
	json_object_set_new(rec, "state", json_string("emergency_stopped"));
	json_object_set_new(rec, "ended_at", json_string("2026-11-26T15:44:00.000Z"));
	b = build(rec, "x");
	of_type(b, "Procedure", r, 2);
	assert_string_equal(s(r[0], "status"), "stopped");
	json_decref(b);
	json_decref(rec);
}

static void a_corrected_pressure_replaces_the_first(void **state)
{
	(void)state;
	json_t *rec = fixture("fhir_signed.json");
	json_t *again = json_deep_copy(json_array_get(json_object_get(rec, "pressures"), 2));
	assert_string_equal(s(again, "site"), "pt-left");
	json_object_set_new(again, "mmhg", json_real(101));
	json_array_append_new(json_object_get(rec, "pressures"), again);
	json_t *b = build(rec, "x");
	json_t *obs[128];
	size_t n = of_type(b, "Observation", obs, 128), found = 0;
	for (size_t i = 0; i < n && i < 128; i++)
		if (!strcmp(s(json_object_get(obs[i], "code"), "text"),
			    "Systolic pressure, left posterior tibial artery, at rest")) {
			found++;
			assert_true(json_number_value(json_object_get(
					    json_object_get(obs[i], "valueQuantity"), "value")) == 101);
		}
	assert_int_equal(found, 1);
	json_decref(b);
	json_decref(rec);
}

static void red_flags_come_first(void **state)
{
	(void)state;
	json_t *rec = fixture("fhir_hostile.json");
	json_t *b = build(rec, "x"), *r[2];
	of_type(b, "DiagnosticReport", r, 2);
	const char *c = s(r[0], "conclusion");
	assert_true(!strncmp(c, "RED FLAG critical_limb_ischemia: ", 33));
	assert_non_null(strstr(c, "\nRED FLAG skin_changes: pallor and cool limb — ألم في الساق"));
	assert_true(strstr(c, "RED FLAG skin_changes") < strstr(c, "Category: "));
	assert_non_null(json_object_get(r[0], "presentedForm"));
	/* no PDF given: no presentedForm */
	json_decref(b);
	struct tl_err err;
	b = tl_fhir_bundle(rec, NULL, 0, "x", NOW, &err);
	assert_non_null(b);
	of_type(b, "DiagnosticReport", r, 2);
	assert_null(json_object_get(r[0], "presentedForm"));
	/* the noncompressible artery: above the cuff pressure reached */
	json_t *p = obs_by_text(b, "Systolic pressure, right dorsalis pedis artery, at rest");
	assert_non_null(p);
	assert_string_equal(s(json_object_get(p, "valueQuantity"), "comparator"), ">");
	json_decref(b);
	json_decref(rec);
}

static void authority_systems(void **state)
{
	(void)state;
	char out[128];
	assert_int_equal(tl_fhir_authority_system("2.16.840.1.113883.19.5", out, sizeof out), 0);
	assert_string_equal(out, "urn:oid:2.16.840.1.113883.19.5");
	assert_int_equal(tl_fhir_authority_system("https://hospital.example/mrn", out, sizeof out), 0);
	assert_string_equal(out, "https://hospital.example/mrn");
	assert_int_equal(tl_fhir_authority_system("2.16.08", out, sizeof out), 0); /* not an OID */
	assert_string_equal(out, "urn:treadlab:authority:2.16.08");
	assert_int_equal(tl_fhir_authority_system("St Ex|ample", out, sizeof out), 0);
	assert_string_equal(out, "urn:treadlab:authority:St%20Ex%7Cample");
	assert_int_equal(tl_fhir_authority_system("HOSP", out, 20), -1); /* does not fit */
}

static void token_file(void **state)
{
	(void)state;
	char path[] = "/tmp/test_fhir_token.XXXXXX", tok[64];
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	assert_non_null(f);
	fputs("abc.DEF-123_x\n", f);
	fclose(f);
	struct tl_err err = {{0}};
	assert_int_equal(tl_fhir_token_load(path, tok, sizeof tok, &err), 0);
	assert_string_equal(tok, "abc.DEF-123_x");
	assert_int_equal(tl_fhir_token_load(path, tok, 8, &err), -1); /* too long */
	assert_non_null(strstr(err.msg, "1 to 7 characters"));
	static const char *const bad[] = {"two words\n", "\n", "line\nbreak\n", "tab\there"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		f = fopen(path, "w");
		assert_non_null(f);
		fputs(bad[i], f);
		fclose(f);
		err.msg[0] = 0;
		assert_int_equal(tl_fhir_token_load(path, tok, sizeof tok, &err), -1);
		assert_non_null(strstr(err.msg, path));
	}
	unlink(path);
	assert_int_equal(tl_fhir_token_load(path, tok, sizeof tok, &err), -1); /* gone */
}

/* Allocation failures: the Nth of jansson's allocations fails, for every N until the
 * Bundle is built; each run answers NULL saying "out of memory", or a whole Bundle, and
 * leaks nothing (valgrind.fhir, the sanitizer build). */
static long alloc_left;

static void *failing_malloc(size_t n)
{
	return alloc_left-- > 0 ? malloc(n) : NULL;
}

static void out_of_memory_everywhere(void **state)
{
	(void)state;
	/* every kind of entry, fewer of each: the loop's cost grows with the square */
	json_t *rec = fixture("fhir_hostile.json");
	json_t *pr = json_object_get(rec, "pressures");
	while (json_array_size(pr) > 2)
		json_array_remove(pr, 1);
	json_t *abi = json_object_get(rec, "abi");
	json_object_del(json_object_get(abi, "abi"), "right");
	json_object_del(json_object_get(abi, "tbi"), "right");
	json_t *post = json_object_get(json_object_get(json_object_get(abi, "abi"), "left"), "post");
	while (json_array_size(post) > 1)
		json_array_remove(post, 1);
	static const char *const gone[] = {"icd_m", "walking_time_s", "distance_m", "recovery_s"};
	for (size_t i = 0; i < sizeof gone / sizeof *gone; i++)
		json_object_set_new(rec, gone[i], json_null());
	json_t *flags = json_object_get(json_object_get(rec, "classification"), "red_flags");
	while (json_array_size(flags) > 1)
		json_array_remove(flags, 1);
	long n;
	for (n = 0;; n++) {
		alloc_left = n;
		json_set_alloc_funcs(failing_malloc, free);
		struct tl_err err = {{0}};
		json_t *b = tl_fhir_bundle(rec, pdf, sizeof pdf - 1, "s", NOW, &err);
		json_set_alloc_funcs(malloc, free);
		if (b) {
			json_decref(b);
			break;
		}
		if (!strstr(err.msg, "out of memory"))
			print_error("allocation %ld: %s\n", n, err.msg);
		assert_non_null(strstr(err.msg, "out of memory"));
	}
	print_message("%ld allocations\n", n);
	assert_true(n > 100); /* the loop really went through the builder */
	json_decref(rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(full_record_structure),
		cmocka_unit_test(ids_follow_the_seed),
		cmocka_unit_test(references_resolve),
		cmocka_unit_test(missing_fields_named_at_once),
		cmocka_unit_test(status_follows_signature_and_state),
		cmocka_unit_test(a_corrected_pressure_replaces_the_first),
		cmocka_unit_test(red_flags_come_first),
		cmocka_unit_test(authority_systems),
		cmocka_unit_test(token_file),
		cmocka_unit_test(out_of_memory_everywhere),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
