/* test_store_report.c - signed reports (schema version 7): each signature a new version
 * with the PDF bytes, their SHA-256 and the record's hash; never updated or deleted; the
 * record hash moves when the record changes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "store_fixture.h"

#define AT "2026-11-25T19:20:00.123Z"
#define AT2 "2026-11-25T19:30:00.000Z"

static const unsigned char PDF1[] = "%PDF-1.5 first rendering";
static const unsigned char PDF2[] = "%PDF-1.5 second rendering";

static void no_report_until_signed(void **state)
{
	struct fx *f = *state;
	struct tl_store *st = fx_open(f);
	struct tl_err err = {""};
	int64_t id = fx_create(st, "MRN-R", AT);
	struct tl_store_signed_report r;
	assert_int_equal(tl_store_report_latest(st, id, &r, &err), 0);
	assert_null(r.pdf);
	assert_int_equal(tl_store_report_latest(st, 999, &r, &err), 0);
	tl_store_close(st);
}

static void each_signature_is_a_new_version(void **state)
{
	struct fx *f = *state;
	struct tl_store *st = fx_open(f);
	struct tl_err err = {""};
	int64_t id = fx_create(st, "MRN-R", AT);
	char h1[65], h2[65];
	assert_int_equal(tl_store_record_hash(st, id, h1, &err), 0);
	assert_int_equal(strlen(h1), 64);
	assert_int_equal(tl_store_report_sign(st, id, "dr.ana", AT, PDF1, sizeof PDF1 - 1, h1, &err), 1);
	struct tl_store_signed_report r;
	assert_int_equal(tl_store_report_latest(st, id, &r, &err), 1);
	assert_int_equal(r.version, 1);
	assert_int_equal(r.len, sizeof PDF1 - 1);
	assert_memory_equal(r.pdf, PDF1, r.len);
	assert_string_equal(r.signed_by, "dr.ana");
	assert_string_equal(r.signed_at, AT);
	assert_string_equal(r.record_sha256, h1);
	char want[65];
	assert_int_equal(tl_store_sha256_hex(PDF1, sizeof PDF1 - 1, want), 0);
	assert_string_equal(r.pdf_sha256, want);
	free(r.pdf);
	/* The record changes: its hash moves; the next signature is version 2, the first kept. */
	assert_int_equal(tl_store_test_set_state(st, id, "complete", "max_claudication", AT2, &err), 0);
	assert_int_equal(tl_store_record_hash(st, id, h2, &err), 0);
	assert_string_not_equal(h1, h2);
	assert_int_equal(tl_store_report_sign(st, id, "dr.bo", AT2, PDF2, sizeof PDF2 - 1, h2, &err), 2);
	assert_int_equal(tl_store_report_latest(st, id, &r, &err), 1);
	assert_int_equal(r.version, 2);
	assert_memory_equal(r.pdf, PDF2, r.len);
	free(r.pdf);
	tl_store_close(st);
	assert_int_equal(path_int(f->path, "SELECT count(*) FROM reports"), 2);
	assert_int_equal(path_int(f->path, "SELECT length(pdf) FROM reports WHERE version = 1"),
			 (int64_t)(sizeof PDF1 - 1));
}

static void a_signed_version_never_changes(void **state)
{
	struct fx *f = *state;
	struct tl_store *st = fx_open(f);
	struct tl_err err = {""};
	int64_t id = fx_create(st, "MRN-R", AT);
	char h[65];
	assert_int_equal(tl_store_record_hash(st, id, h, &err), 0);
	assert_int_equal(tl_store_report_sign(st, id, "dr.ana", AT, PDF1, sizeof PDF1 - 1, h, &err), 1);
	tl_store_close(st);
	sqlite3 *db = raw_open(f->path);
	char *msg = NULL;
	assert_int_not_equal(sqlite3_exec(db, "UPDATE reports SET signed_by = 'mallory'", NULL, NULL, &msg),
			     SQLITE_OK);
	assert_non_null(strstr(msg, "never changed"));
	sqlite3_free(msg);
	msg = NULL;
	assert_int_not_equal(sqlite3_exec(db, "DELETE FROM reports", NULL, NULL, &msg), SQLITE_OK);
	assert_non_null(strstr(msg, "never deleted"));
	sqlite3_free(msg);
	sqlite3_close(db);
	assert_int_equal(path_int(f->path, "SELECT count(*) FROM reports WHERE signed_by = 'dr.ana'"), 1);
}

static void bad_arguments_are_refused(void **state)
{
	struct fx *f = *state;
	struct tl_store *st = fx_open(f);
	struct tl_err err = {""};
	int64_t id = fx_create(st, "MRN-R", AT);
	char h[65];
	assert_int_equal(tl_store_record_hash(st, id, h, &err), 0);
	assert_int_equal(tl_store_report_sign(st, id, "dr.ana", AT, (const unsigned char *)"hello", 5, h, &err), -1);
	assert_non_null(strstr(err.msg, "not a PDF"));
	assert_int_equal(tl_store_report_sign(st, id, "dr.ana", AT, PDF1, sizeof PDF1 - 1, "abc", &err), -1);
	assert_non_null(strstr(err.msg, "record hash"));
	assert_int_equal(tl_store_report_sign(st, id, "dr\nana", AT, PDF1, sizeof PDF1 - 1, h, &err), -1);
	assert_int_equal(tl_store_report_sign(st, id, "dr.ana", "yesterday", PDF1, sizeof PDF1 - 1, h, &err), -1);
	assert_int_equal(tl_store_report_sign(st, 999, "dr.ana", AT, PDF1, sizeof PDF1 - 1, h, &err), -1);
	assert_non_null(strstr(err.msg, "no test 999"));
	assert_int_equal(tl_store_record_hash(st, 999, h, &err), -1);
	tl_store_close(st);
	assert_int_equal(path_int(f->path, "SELECT count(*) FROM reports"), 0);
}

static void damaged_bytes_are_reported(void **state)
{
	struct fx *f = *state;
	struct tl_store *st = fx_open(f);
	struct tl_err err = {""};
	int64_t id = fx_create(st, "MRN-R", AT);
	char h[65];
	assert_int_equal(tl_store_record_hash(st, id, h, &err), 0);
	assert_int_equal(tl_store_report_sign(st, id, "dr.ana", AT, PDF1, sizeof PDF1 - 1, h, &err), 1);
	tl_store_close(st);
	/* Behind the store's back, past its trigger: the stored hash no longer matches. */
	sqlite3 *db = raw_open(f->path);
	raw_exec(db, "DROP TRIGGER reports_no_update; UPDATE reports SET pdf = X'255044462D58';");
	sqlite3_close(db);
	st = fx_open(f);
	struct tl_store_signed_report r;
	assert_int_equal(tl_store_report_latest(st, id, &r, &err), -1);
	assert_non_null(strstr(err.msg, "does not match"));
	assert_null(r.pdf);
	tl_store_close(st);
}

static void an_older_file_gains_the_reports_table(void **state)
{
	struct fx *f = *state;
	fx_write_v1(f->path);
	struct tl_store *st = fx_open(f);
	tl_store_close(st);
	assert_int_equal(path_int(f->path, "PRAGMA user_version"), TL_STORE_SCHEMA_VERSION);
	assert_int_equal(path_int(f->path, "SELECT count(*) FROM sqlite_schema WHERE name IN "
					   "('reports','reports_no_update','reports_no_delete')"), 3);
}

static int count_row(const json_t *t, void *arg)
{
	json_array_append_new(arg, json_integer(json_integer_value(json_object_get(t, "id"))));
	return json_is_null(json_object_get(t, "classification")) ? 0 : -1;
}

static void export_keeps_the_bounds(void **state)
{
	struct fx *f = *state;
	struct tl_store *st = fx_open(f);
	struct tl_err err = {""};
	int64_t a = fx_create(st, "MRN-A", "2026-01-01T10:00:00.000Z");
	int64_t b = fx_create(st, "MRN-B", "2026-01-02T10:00:00.000Z");
	int64_t c = fx_create(st, "MRN-A", "2026-01-03T10:00:00.000Z");
	json_t *ids = json_array();
	assert_int_equal(tl_store_export_each(st, NULL, NULL, count_row, ids, &err), 3);
	assert_int_equal(json_integer_value(json_array_get(ids, 0)), a);
	assert_int_equal(json_integer_value(json_array_get(ids, 2)), c);
	json_array_clear(ids);
	assert_int_equal(tl_store_export_each(st, "2026-01-02T00:00:00.000Z",
					      "2026-01-03T00:00:00.000Z", count_row, ids, &err), 1);
	assert_int_equal(json_integer_value(json_array_get(ids, 0)), b);
	assert_int_equal(tl_store_export_each(st, "2027-01-01T00:00:00.000Z", NULL, count_row, ids,
					      &err), 0);
	/* A callback that fails stops the export, saying so. */
	assert_int_equal(tl_store_results_set(st, a, NULL, "{\"category\":\"vascular\"}", &err), 0);
	assert_int_equal(tl_store_export_each(st, NULL, NULL, count_row, ids, &err), -1);
	assert_non_null(strstr(err.msg, "stopped after 0 tests"));
	json_decref(ids);
	tl_store_close(st);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(no_report_until_signed),
		T(each_signature_is_a_new_version),
		T(a_signed_version_never_changes),
		T(bad_arguments_are_refused),
		T(damaged_bytes_are_reported),
		T(an_older_file_gains_the_reports_table),
		T(export_keeps_the_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
