/* test_store_history.c - who changed a record (schema version 3): the audit trail's peer,
 * and the history the triggers keep of pressures added and findings replaced, with what
 * they replaced; a version 1 file gains the history on migration. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "store_fixture.h"

#define AT "2026-11-25T19:20:00.123Z"
#define AT2 "2026-11-25T19:30:00.000Z"
#define AT3 "2026-11-25T19:40:00.000Z"

static const char *str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static void audit_names_the_peer(void **state)
{
	struct fx *f = *state;
	struct tl_store *st = fx_open(f);
	struct tl_err err = {""};
	assert_int_equal(tl_store_audit_by(st, AT, "alice", "uid 1000 pid 42", "start", "{}", "ok", &err), 0);
	assert_int_equal(tl_store_audit(st, AT2, NULL, "stop", NULL, "ok", &err), 0);
	json_t *a = tl_store_audit_json(st, 10, &err);
	assert_non_null(a);
	assert_true(json_is_null(json_object_get(json_array_get(a, 0), "peer")));
	assert_string_equal(str(json_array_get(a, 1), "peer"), "uid 1000 pid 42");
	json_decref(a);
	/* A peer is printable text like every identifier. */
	assert_int_equal(tl_store_audit_by(st, AT, "alice", "uid\n1", "start", NULL, "ok", &err), -1);
	tl_store_close(st);
}

static void changes_are_kept_with_what_they_replaced(void **state)
{
	struct fx *f = *state;
	struct tl_store *st = fx_open(f);
	struct tl_err err = {""};
	int64_t id = fx_create(st, "MRN-H", AT);
	assert_int_equal(tl_store_test_set_state(st, id, "complete", "max_claudication", AT, &err), 0);
	assert_int_equal(tl_store_findings_set_by(st, id, "{\"side\":\"left\"}", "alice", "uid 1000 pid 7",
						  AT, &err), 0);
	assert_int_equal(tl_store_findings_set_by(st, id, "{\"side\":\"right\"}", "alice",
						  "127.0.0.1:4242", AT2, &err), 0);
	assert_int_equal(tl_store_pressure_add_by(st, id, "rest", NAN, "pt-left", 60, 0, "bob",
						  "127.0.0.1:4243", "manual", AT3, &err), 0);
	json_t *h = tl_store_history_json(st, id, &err);
	assert_non_null(h);
	assert_int_equal(json_array_size(h), 3);
	json_t *c0 = json_array_get(h, 0), *c1 = json_array_get(h, 1), *c2 = json_array_get(h, 2);
	assert_string_equal(str(c0, "what"), "findings");
	assert_string_equal(str(c0, "peer"), "uid 1000 pid 7");
	assert_string_equal(str(c0, "test_state"), "complete");
	assert_true(json_is_null(json_object_get(c0, "previous")));
	assert_string_equal(str(json_object_get(c1, "value"), "side"), "right");
	assert_string_equal(str(c1, "peer"), "127.0.0.1:4242");
	json_t *prev = json_object_get(c1, "previous");
	assert_string_equal(str(json_object_get(prev, "findings"), "side"), "left");
	assert_string_equal(str(prev, "operator"), "alice");
	assert_string_equal(str(prev, "peer"), "uid 1000 pid 7");
	assert_string_equal(str(prev, "at"), AT);
	assert_string_equal(str(c2, "what"), "pressure");
	assert_string_equal(str(c2, "operator"), "bob");
	assert_string_equal(str(c2, "at"), AT3);
	assert_true(json_number_value(json_object_get(json_object_get(c2, "value"), "mmhg")) == 60);
	json_decref(h);
	/* A test with no changes, or none at all, has an empty history. */
	h = tl_store_history_json(st, id + 1, &err);
	assert_int_equal(json_array_size(h), 0);
	json_decref(h);
	tl_store_close(st);
}

static void the_old_forms_keep_history_without_a_peer(void **state)
{
	struct fx *f = *state;
	struct tl_store *st = fx_open(f);
	struct tl_err err = {""};
	int64_t id = fx_create(st, "MRN-O", AT);
	assert_int_equal(tl_store_pressure_add(st, id, "post", 1, "pt-right", 80, "carol", "manual", AT, &err), 0);
	json_t *h = tl_store_history_json(st, id, &err);
	assert_int_equal(json_array_size(h), 1);
	assert_true(json_is_null(json_object_get(json_array_get(h, 0), "peer")));
	assert_string_equal(str(json_array_get(h, 0), "test_state"), "running");
	json_decref(h);
	tl_store_close(st);
}

/* A cuff's reading (schema 10) keeps how it was measured, in the record and in the
 * history; a typed pressure has no such keys (the record, and so the hash of a record
 * signed before schema 10, is as it was); a typed correction is kept beside it. */
static void a_cuff_reading_keeps_its_interval_and_rate(void **state)
{
	struct fx *f = *state;
	struct tl_store *st = fx_open(f);
	struct tl_err err = {""};
	int64_t id = fx_create(st, "MRN-C", AT);
	assert_int_equal(tl_store_pressure_add_by(st, id, "rest", NAN, "pt-left", 120, 0, "bob",
						  NULL, "manual", AT, &err), 0);
	json_t *rec = tl_store_test_json(st, id, &err);
	json_t *p0 = json_array_get(json_object_get(rec, "pressures"), 0);
	assert_null(json_object_get(p0, "interval_ms"));
	assert_null(json_object_get(p0, "deflation_mmhg_s"));
	json_decref(rec);
	struct tl_store_cuff_meta m = {.interval_ms = 50, .deflation_mmhg_s = 2.04};
	assert_int_equal(tl_store_pressure_add_cuff(st, id, "post", 1, "pt-right", 92.5, &m, "bob",
						    "foot switch (button-box)", "cuff-modbus", AT2,
						    &err), 0);
	assert_int_equal(tl_store_pressure_add_by(st, id, "post", 1, "pt-right", 94, 0, "bob", NULL,
						  "manual", AT3, &err), 0);
	rec = tl_store_test_json(st, id, &err);
	json_t *ps = json_object_get(rec, "pressures");
	assert_int_equal(json_array_size(ps), 3);
	json_t *cuff = json_array_get(ps, 1), *typed = json_array_get(ps, 2);
	assert_string_equal(str(cuff, "source"), "cuff-modbus");
	assert_int_equal(json_integer_value(json_object_get(cuff, "interval_ms")), 50);
	assert_true(json_real_value(json_object_get(cuff, "deflation_mmhg_s")) == 2.04);
	assert_string_equal(str(typed, "source"), "manual");
	assert_null(json_object_get(typed, "interval_ms"));
	json_decref(rec);
	json_t *h = tl_store_history_json(st, id, &err);
	assert_int_equal(json_array_size(h), 3);
	json_t *v = json_object_get(json_array_get(h, 1), "value");
	assert_int_equal(json_integer_value(json_object_get(v, "interval_ms")), 50);
	assert_string_equal(str(json_array_get(h, 1), "peer"), "foot switch (button-box)");
	json_decref(h);
	/* not a measurement: refused, nothing written */
	m.interval_ms = -1;
	assert_int_equal(tl_store_pressure_add_cuff(st, id, "post", 1, "pt-right", 92.5, &m, "bob",
						    NULL, "cuff-modbus", AT2, &err), -1);
	assert_non_null(strstr(err.msg, "is not a measurement"));
	tl_store_close(st);
}

static void a_version_1_file_gains_the_history(void **state)
{
	struct fx *f = *state;
	fx_write_v1(f->path);
	struct tl_store *st = fx_open(f);
	tl_store_close(st);
	assert_int_equal(path_int(f->path, "PRAGMA user_version"), TL_STORE_SCHEMA_VERSION);
	assert_int_equal(path_int(f->path, "SELECT count(*) FROM sqlite_schema WHERE name IN "
					   "('record_changes','pressures_history','findings_history')"), 3);
	assert_int_equal(path_int(f->path, "SELECT count(*) FROM pragma_table_info('audit') "
					   "WHERE name = 'peer'"), 1);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(audit_names_the_peer),
		T(changes_are_kept_with_what_they_replaced),
		T(the_old_forms_keep_history_without_a_peer),
		T(a_cuff_reading_keeps_its_interval_and_rate),
		T(a_version_1_file_gains_the_history),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
