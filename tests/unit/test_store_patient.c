/* test_store_patient.c - patient demographics and order data (schema version 8, issue 13):
 * set and read back, each field's check, the values a change replaced kept in its audit
 * row, the record's "demographics" and "order", the migration from 7 keeping every row,
 * and the record hash of a record without demographics unchanged. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sodium.h>

#include "store_fixture.h"

#define AT "2026-11-25T19:20:00.123Z"
#define AT2 "2026-11-25T19:30:00.000Z"

static const char *str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static struct tl_store_fields demo(const char *authority, const char *family, const char *given,
				   const char *birth, const char *sex)
{
	struct tl_store_fields f = {{authority, family, given, birth, sex}, {true, true, true, true, true}};
	return f;
}

static void set_creates_the_patient_and_reads_back(void **state)
{
	struct fx *f = *state;
	struct tl_store *st = fx_open(f);
	struct tl_err err = {""};
	json_t *p = NULL;
	assert_int_equal(tl_store_patient_get(st, "MRN-1", &p, &err), 0);
	assert_null(p);
	struct tl_store_fields d = demo("HOSP", "Müller", "Anna", "1950-02-28", "female");
	assert_int_equal(tl_store_patient_set(st, "MRN-1", &d, AT, "tech1", "uid 1 pid 2", &err), 1);
	assert_int_equal(tl_store_patient_get(st, "MRN-1", &p, &err), 1);
	assert_string_equal(str(p, "mrn"), "MRN-1");
	assert_string_equal(str(p, "assigning_authority"), "HOSP");
	assert_string_equal(str(p, "family"), "Müller");
	assert_string_equal(str(p, "given"), "Anna");
	assert_string_equal(str(p, "birth_date"), "1950-02-28");
	assert_string_equal(str(p, "sex"), "female");
	json_decref(p);
	/* A subset changes only what it names; NULL clears. */
	struct tl_store_fields some = {{0}, {0}};
	some.set[TL_STORE_DEMO_SEX] = true;
	some.value[TL_STORE_DEMO_SEX] = "other";
	some.set[TL_STORE_DEMO_GIVEN] = true;
	assert_int_equal(tl_store_patient_set(st, "MRN-1", &some, AT2, "tech2", NULL, &err), 0);
	assert_int_equal(tl_store_patient_get(st, "MRN-1", &p, &err), 1);
	assert_string_equal(str(p, "sex"), "other");
	assert_true(json_is_null(json_object_get(p, "given")));
	assert_string_equal(str(p, "family"), "Müller");
	json_decref(p);
	/* The test of a registered patient joins it (one patient row). */
	fx_create(st, "MRN-1", AT2);
	tl_store_close(st);
	assert_int_equal(path_int(f->path, "SELECT count(*) FROM patients"), 1);
}

static void each_field_is_checked(void **state)
{
	struct fx *f = *state;
	struct tl_store *st = fx_open(f);
	struct tl_err err = {""};
	static const struct {
		const char *authority, *family, *given, *birth, *sex, *why;
	} bad[] = {
		{"", "A", "B", "1950-01-01", "male", "assigning_authority must be 1 to 64"},
		{"H\tX", "A", "B", "1950-01-01", "male", "assigning_authority has a control character"},
		{"HOSP", " A", "B", "1950-01-01", "male", "family ' A' starts or ends with a space"},
		{"HOSP", "A\xc2\x85", "B", "1950-01-01", "male", "family has a control character"},
		{"HOSP", "A", "\xff", "1950-01-01", "male", "given is not valid UTF-8"},
		{"HOSP", "A", "B", "1950-1-01", "male", "birth_date '1950-1-01' is not a date YYYY-MM-DD"},
		{"HOSP", "A", "B", "1950-02-29", "male", "birth_date '1950-02-29' is not a day"},
		{"HOSP", "A", "B", "1950-13-01", "male", "is not a day of the calendar"},
		{"HOSP", "A", "B", "1879-12-31", "male", "is before 1880"},
		{"HOSP", "A", "B", "2026-11-26", "male", "birth_date '2026-11-26' is after today (2026-11-25)"},
		{"HOSP", "A", "B", "1950-01-01", "F", "sex 'F' is not one of female, male, other, unknown"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct tl_store_fields d = demo(bad[i].authority, bad[i].family, bad[i].given,
						bad[i].birth, bad[i].sex);
		assert_int_equal(tl_store_patient_set(st, "MRN-2", &d, AT, "tech1", NULL, &err), -1);
		assert_msg_has(err.msg, bad[i].why);
		assert_msg_has(err.msg, "store: setting the demographics of patient 'MRN-2'");
	}
	/* Leap day and today itself are fine. */
	struct tl_store_fields ok = demo("HOSP", "A", "B", "2000-02-29", "unknown");
	assert_int_equal(tl_store_patient_set(st, "MRN-2", &ok, AT, "tech1", NULL, &err), 1);
	ok = demo("HOSP", "A", "B", "2026-11-25", "unknown");
	assert_int_equal(tl_store_patient_set(st, "MRN-2", &ok, AT, "tech1", NULL, &err), 0);
	/* A bad MRN, time or operator. */
	assert_int_equal(tl_store_patient_set(st, "MRN-2 ", &ok, AT, "tech1", NULL, &err), -1);
	assert_msg_has(err.msg, "starts or ends with a space");
	assert_int_equal(tl_store_patient_set(st, "MRN-3", &ok, "today", "tech1", NULL, &err), -1);
	assert_int_equal(tl_store_patient_set(st, "MRN-3", &ok, AT, "te\nch", NULL, &err), -1);
	/* The order's fields. */
	int64_t id = fx_create(st, "MRN-2", AT);
	struct tl_store_fields o = {{"", NULL, NULL, NULL}, {true, false, false, false}};
	assert_int_equal(tl_store_order_set(st, id, &o, AT, "tech1", NULL, &err), -1);
	assert_msg_has(err.msg, "accession must be 1 to 64 bytes");
	o.value[0] = "ACC 1\n";
	assert_int_equal(tl_store_order_set(st, id, &o, AT, "tech1", NULL, &err), -1);
	assert_msg_has(err.msg, "accession has a control character at byte 6");
	o.value[0] = "ACC-1";
	o.set[TL_STORE_ORDER_PHYSICIAN_FAMILY] = true;
	o.value[TL_STORE_ORDER_PHYSICIAN_FAMILY] = "Dr ";
	assert_int_equal(tl_store_order_set(st, id, &o, AT, "tech1", NULL, &err), -1);
	assert_msg_has(err.msg, "physician_family 'Dr ' starts or ends with a space");
	o.value[TL_STORE_ORDER_PHYSICIAN_FAMILY] = "House";
	assert_int_equal(tl_store_order_set(st, 999, &o, AT, "tech1", NULL, &err), -1);
	assert_msg_has(err.msg, "no test 999");
	tl_store_close(st);
	/* Nothing refused was written: one patient, no order, two audit rows. */
	assert_int_equal(path_int(f->path, "SELECT count(*) FROM patients"), 1);
	assert_int_equal(path_int(f->path, "SELECT count(*) FROM tests WHERE accession IS NOT NULL"), 0);
	assert_int_equal(path_int(f->path, "SELECT count(*) FROM audit"), 2);
}

static void a_change_keeps_what_it_replaced(void **state)
{
	struct fx *f = *state;
	struct tl_store *st = fx_open(f);
	struct tl_err err = {""};
	struct tl_store_fields d = demo("HOSP", "Smith", "Jo", "1960-05-05", "male");
	assert_int_equal(tl_store_patient_set(st, "MRN-4", &d, AT, "tech1", "uid 1 pid 2", &err), 1);
	d = demo("HOSP", "Smyth", "Jo", "1960-05-05", "male");
	assert_int_equal(tl_store_patient_set(st, "MRN-4", &d, AT2, "tech2", NULL, &err), 0);
	int64_t id = fx_create(st, "MRN-4", AT);
	struct tl_store_fields o = {{"ACC-1", "P1", "House", "Greg"}, {true, true, true, true}};
	assert_int_equal(tl_store_order_set(st, id, &o, AT, "tech1", NULL, &err), 0);
	o.value[0] = "ACC-2";
	o.set[1] = o.set[2] = o.set[3] = false;
	assert_int_equal(tl_store_order_set(st, id, &o, AT2, "tech2", "127.0.0.1:5", &err), 0);
	json_t *a = tl_store_audit_json(st, 10, &err); /* newest first */
	assert_non_null(a);
	assert_int_equal(json_array_size(a), 4);
	json_t *o2 = json_array_get(a, 0), *o1 = json_array_get(a, 1);
	json_t *p2 = json_array_get(a, 2), *p1 = json_array_get(a, 3);
	assert_string_equal(str(p1, "command"), "patient");
	assert_string_equal(str(p1, "operator"), "tech1");
	assert_string_equal(str(p1, "peer"), "uid 1 pid 2");
	json_t *det = json_object_get(p1, "detail");
	assert_string_equal(str(det, "mrn"), "MRN-4");
	assert_true(json_is_null(json_object_get(det, "previous")));
	assert_string_equal(str(json_object_get(det, "value"), "family"), "Smith");
	det = json_object_get(p2, "detail");
	assert_string_equal(str(json_object_get(det, "previous"), "family"), "Smith");
	assert_string_equal(str(json_object_get(det, "value"), "family"), "Smyth");
	assert_string_equal(str(json_object_get(det, "value"), "birth_date"), "1960-05-05");
	assert_string_equal(str(o1, "command"), "order");
	det = json_object_get(o1, "detail");
	assert_int_equal(json_integer_value(json_object_get(det, "test")), id);
	assert_true(json_is_null(json_object_get(json_object_get(det, "previous"), "accession")));
	det = json_object_get(o2, "detail");
	assert_string_equal(str(json_object_get(det, "previous"), "accession"), "ACC-1");
	assert_string_equal(str(json_object_get(det, "value"), "accession"), "ACC-2");
	assert_string_equal(str(json_object_get(det, "value"), "physician_family"), "House");
	assert_string_equal(str(o2, "peer"), "127.0.0.1:5");
	json_decref(a);
	tl_store_close(st);
}

static void the_record_carries_demographics_and_order(void **state)
{
	struct fx *f = *state;
	struct tl_store *st = fx_open(f);
	struct tl_err err = {""};
	int64_t id = fx_create(st, "MRN-5", AT);
	json_t *rec = tl_store_test_json(st, id, &err);
	assert_non_null(rec);
	json_t *d = json_object_get(rec, "demographics"), *o = json_object_get(rec, "order");
	assert_int_equal(json_object_size(d), 6);
	assert_string_equal(str(d, "mrn"), "MRN-5");
	const char *dk[] = {"assigning_authority", "family", "given", "birth_date", "sex"};
	for (size_t i = 0; i < 5; i++)
		assert_true(json_is_null(json_object_get(d, dk[i])));
	assert_int_equal(json_object_size(o), 2);
	assert_true(json_is_null(json_object_get(o, "accession")));
	json_t *ph = json_object_get(o, "ordering_physician");
	assert_int_equal(json_object_size(ph), 3);
	assert_true(json_is_null(json_object_get(ph, "id")) && json_is_null(json_object_get(ph, "family")) &&
		    json_is_null(json_object_get(ph, "given")));
	json_decref(rec);
	struct tl_store_fields dm = demo("HOSP", "Doe", "Jane", "1948-12-01", "female");
	assert_int_equal(tl_store_patient_set(st, "MRN-5", &dm, AT, "tech1", NULL, &err), 0);
	struct tl_store_fields ord = {{"ACC-9", "P7", "Quinn", "Mia"}, {true, true, true, true}};
	assert_int_equal(tl_store_order_set(st, id, &ord, AT, "tech1", NULL, &err), 0);
	rec = tl_store_test_json(st, id, &err);
	d = json_object_get(rec, "demographics");
	o = json_object_get(rec, "order");
	ph = json_object_get(o, "ordering_physician");
	assert_string_equal(str(d, "family"), "Doe");
	assert_string_equal(str(d, "sex"), "female");
	assert_string_equal(str(o, "accession"), "ACC-9");
	assert_string_equal(str(ph, "id"), "P7");
	assert_string_equal(str(ph, "family"), "Quinn");
	assert_string_equal(str(ph, "given"), "Mia");
	json_decref(rec);
	tl_store_close(st);
}

/* The hash as schema 7 made it: the record without the keys schema 8 added. */
static void hash_as_before(const json_t *rec, const json_t *samples, char out[65])
{
	json_t *r = json_deep_copy(rec);
	json_object_del(r, "demographics");
	json_object_del(r, "order");
	json_t *both = json_pack("{s:o, s:O}", "record", r, "samples", samples);
	char *text = json_dumps(both, JSON_SORT_KEYS | JSON_COMPACT | JSON_REAL_PRECISION(17));
	assert_non_null(text);
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, (const unsigned char *)text, strlen(text));
	sodium_bin2hex(out, 65, h, sizeof h);
	free(text);
	json_decref(both);
}

static void record_hash(struct tl_store *st, int64_t id, char out[65])
{
	struct tl_err err = {""};
	if (tl_store_record_hash(st, id, out, &err) < 0)
		fail_msg("%s", err.msg);
}

static void the_hash_counts_only_what_the_report_shows(void **state)
{
	struct fx *f = *state;
	struct tl_store *st = fx_open(f);
	struct tl_err err = {""};
	int64_t id = fx_create(st, "MRN-6", AT);
	struct tl_store_sample s = fx_sample(1000);
	assert_int_equal(tl_store_samples_add(st, id, &s, 1, &err), 0);
	json_t *rec = tl_store_test_json(st, id, &err), *samples = tl_store_samples_json(st, id, &err);
	char old[65], now[65], h[65];
	hash_as_before(rec, samples, old);
	json_decref(rec);
	json_decref(samples);
	record_hash(st, id, now);
	assert_string_equal(now, old);
	/* Sign it; then what the report does not show changes nothing. */
	static const unsigned char pdf[] = "%PDF-1.5 x";
	assert_int_equal(tl_store_report_sign(st, id, "dr.ana", AT, pdf, sizeof pdf - 1, now, &err), 1);
	struct tl_store_fields d = {{"HOSP", NULL, NULL, NULL, NULL}, {true, false, false, false, false}};
	assert_int_equal(tl_store_patient_set(st, "MRN-6", &d, AT, "tech1", NULL, &err), 0);
	struct tl_store_fields o = {{"ACC-1", "P1", "House", NULL}, {true, true, true, false}};
	assert_int_equal(tl_store_order_set(st, id, &o, AT, "tech1", NULL, &err), 0);
	record_hash(st, id, h);
	assert_string_equal(h, now);
	/* The name, birth date and sex are on the report: a change of one is an amendment. */
	struct tl_store_fields sx = {{0}, {0}};
	sx.set[TL_STORE_DEMO_SEX] = true;
	sx.value[TL_STORE_DEMO_SEX] = "male";
	assert_int_equal(tl_store_patient_set(st, "MRN-6", &sx, AT, "tech1", NULL, &err), 0);
	record_hash(st, id, h);
	assert_string_not_equal(h, now);
	struct tl_store_fields b = {{0}, {0}};
	b.set[TL_STORE_DEMO_BIRTH_DATE] = true;
	b.value[TL_STORE_DEMO_BIRTH_DATE] = "1940-01-01";
	assert_int_equal(tl_store_patient_set(st, "MRN-6", &b, AT, "tech1", NULL, &err), 0);
	record_hash(st, id, h);
	assert_string_not_equal(h, now);
	char h2[65];
	b.set[TL_STORE_DEMO_BIRTH_DATE] = false;
	b.set[TL_STORE_DEMO_FAMILY] = true;
	b.value[TL_STORE_DEMO_FAMILY] = "Roe";
	assert_int_equal(tl_store_patient_set(st, "MRN-6", &b, AT, "tech1", NULL, &err), 0);
	record_hash(st, id, h2);
	assert_string_not_equal(h2, h);
	/* Cleared again: the hash of the record as signed. */
	struct tl_store_fields clear = {{0}, {false, true, true, true, true}};
	assert_int_equal(tl_store_patient_set(st, "MRN-6", &clear, AT, "tech1", NULL, &err), 0);
	record_hash(st, id, h);
	assert_string_equal(h, now);
	tl_store_close(st);
}

/* Takes a current file back to schema 7 exactly as version 7 made it. */
static void back_to_7(const char *path)
{
	sqlite3 *db = raw_open(path);
	raw_exec(db, FX_UNDO_V10 "DROP TABLE outbox_history; DROP TABLE outbox; DROP TABLE outbox_station;"
		     "ALTER TABLE patients DROP COLUMN assigning_authority;"
		     "ALTER TABLE patients DROP COLUMN family;"
		     "ALTER TABLE patients DROP COLUMN given;"
		     "ALTER TABLE patients DROP COLUMN birth_date;"
		     "ALTER TABLE patients DROP COLUMN sex;"
		     "ALTER TABLE tests DROP COLUMN accession;"
		     "ALTER TABLE tests DROP COLUMN physician_id;"
		     "ALTER TABLE tests DROP COLUMN physician_family;"
		     "ALTER TABLE tests DROP COLUMN physician_given;"
		     "PRAGMA user_version = 7;");
	sqlite3_close(db);
}

static void version_7_migrates_keeping_every_row_and_signature(void **state)
{
	struct fx *f = *state;
	struct tl_store *st = fx_open(f);
	struct tl_err err = {""};
	int64_t id = fx_create(st, "OLD-1", AT);
	fx_create(st, "OLD-2", AT2);
	fx_event(st, id, 1500, "onset");
	struct tl_store_sample s = fx_sample(1000);
	assert_int_equal(tl_store_samples_add(st, id, &s, 1, &err), 0);
	assert_int_equal(tl_store_pressure_add(st, id, "rest", NAN, "pt-left", 90, "tech1", "manual",
					       AT, &err), 0);
	assert_int_equal(tl_store_findings_set(st, id, "{\"calf\":true}", "tech1", AT, &err), 0);
	char signed_hash[65];
	record_hash(st, id, signed_hash);
	static const unsigned char pdf[] = "%PDF-1.5 y";
	assert_int_equal(tl_store_report_sign(st, id, "dr.ana", AT, pdf, sizeof pdf - 1, signed_hash,
					      &err), 1);
	tl_store_close(st);
	back_to_7(f->path);
	const char *counts[] = {"SELECT count(*) FROM patients", "SELECT count(*) FROM tests",
				"SELECT count(*) FROM events", "SELECT count(*) FROM samples",
				"SELECT count(*) FROM pressures", "SELECT count(*) FROM reports",
				"SELECT count(*) FROM audit", "SELECT count(*) FROM record_changes"};
	int64_t before[8];
	for (size_t i = 0; i < 8; i++)
		before[i] = path_int(f->path, counts[i]);
	st = fx_open(f);
	assert_int_equal(path_int(f->path, "PRAGMA user_version"), TL_STORE_SCHEMA_VERSION);
	for (size_t i = 0; i < 8; i++)
		assert_int_equal(path_int(f->path, counts[i]), before[i]);
	/* The signed record hashes as it did when signed: not amended by the upgrade. */
	char h[65];
	record_hash(st, id, h);
	assert_string_equal(h, signed_hash);
	struct tl_store_signed_report r;
	assert_int_equal(tl_store_report_latest(st, id, &r, &err), 1);
	assert_string_equal(r.record_sha256, h);
	free(r.pdf);
	json_t *rec = tl_store_test_json(st, id, &err);
	assert_string_equal(str(json_object_get(rec, "demographics"), "mrn"), "OLD-1");
	assert_true(json_is_null(json_object_get(json_object_get(rec, "demographics"), "family")));
	assert_string_equal(str(rec, "patient"), "OLD-1");
	json_decref(rec);
	/* And its patients take demographics. */
	struct tl_store_fields d = demo("HOSP", "Old", "One", "1930-03-03", "male");
	assert_int_equal(tl_store_patient_set(st, "OLD-1", &d, AT2, "tech1", NULL, &err), 0);
	tl_store_close(st);
	/* A file of schema 1 reaches 8 too. */
	fx_remove_dir(f->dir);
	assert_non_null(mkdtemp(strcpy(f->dir, "/tmp/tl_store_XXXXXX")));
	snprintf(f->path, sizeof f->path, "%s/treadlab.db", f->dir);
	fx_write_v1(f->path);
	st = fx_open(f);
	rec = tl_store_test_json(st, 1, &err);
	assert_non_null(rec);
	assert_string_equal(str(json_object_get(rec, "demographics"), "mrn"), "OLD-7");
	json_decref(rec);
	tl_store_close(st);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(set_creates_the_patient_and_reads_back),
		T(each_field_is_checked),
		T(a_change_keeps_what_it_replaced),
		T(the_record_carries_demographics_and_order),
		T(the_hash_counts_only_what_the_report_shows),
		T(version_7_migrates_keeping_every_row_and_signature),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
