/* store_query.c - the record as JSON for the API, the command line and reports.
 *
 * Rows become objects through a table of columns (key and kind), so a query and its JSON
 * shape are read side by side. Every query that runs more than one statement runs inside
 * one read transaction: under WAL that is one snapshot, so a test is never shown with the
 * events of a later moment than its state. */
#include "store_int.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum col_kind {
	COL_INT,
	COL_BOOL, /* 0 or 1, given as false or true */
	COL_REAL,
	COL_TEXT,
	COL_JSON, /* JSON text, parsed into the document */
	COL_T_S,  /* integer milliseconds, given as seconds */
	/* as COL_INT and COL_REAL, but a NULL leaves the key out (a column newer than the
	 * records already signed, whose hash must not change) */
	COL_INT_OPT,
	COL_REAL_OPT,
};

struct col {
	const char *key;
	enum col_kind kind;
};

/* Columns 0..15 of TL_ST_TESTS_* and of TL_ST_TEST_GET. */
#define SUMMARY_COLS                                                                             \
	{"id", COL_INT}, {"patient", COL_TEXT}, {"protocol", COL_TEXT}, {"operator", COL_TEXT},   \
		{"state", COL_TEXT}, {"end_reason", COL_TEXT}, {"started_at", COL_TEXT},          \
		{"ended_at", COL_TEXT}, {"time_scale", COL_REAL}, {"cot_s", COL_REAL},            \
		{"pwt_s", COL_REAL}, {"icd_m", COL_REAL}, {"acd_m", COL_REAL},                    \
		{"walking_time_s", COL_REAL}, {"distance_m", COL_REAL}, {"recovery_s", COL_REAL}

static const struct col summary_cols[] = {SUMMARY_COLS};
static const struct col test_cols[] = {
	SUMMARY_COLS,
	{"protocol_as_run", COL_JSON},
	{"findings", COL_JSON},
	{"findings_operator", COL_TEXT},
	{"findings_at", COL_TEXT},
	{"abi", COL_JSON},
	{"classification", COL_JSON},
	{"software_version", COL_TEXT}, /* the treadlab that measured it; null before schema 3 */
};
static const struct col event_cols[] = {
	{"t_s", COL_T_S},	{"kind", COL_TEXT},  {"source", COL_TEXT},	 {"operator", COL_TEXT},
	{"detail", COL_TEXT}, {"value", COL_REAL}, {"recorded_at", COL_TEXT},
};
static const struct col pressure_cols[] = {
	{"phase", COL_TEXT},    {"minute", COL_REAL}, {"site", COL_TEXT},	 {"mmhg", COL_REAL},
	{"noncompressible", COL_BOOL}, {"confirmed", COL_BOOL},
	{"operator", COL_TEXT}, {"source", COL_TEXT}, {"recorded_at", COL_TEXT},
	/* a cuff's reading (schema 10); absent from a typed one, so the hash of a record
	 * signed before them is unchanged */
	{"interval_ms", COL_INT_OPT}, {"deflation_mmhg_s", COL_REAL_OPT},
};
static const struct col sample_cols[] = {
	{"t_s", COL_T_S},		{"target_speed_kmh", COL_REAL},
	{"actual_speed_kmh", COL_REAL}, {"target_grade_pct", COL_REAL},
	{"actual_grade_pct", COL_REAL}, {"distance_m", COL_REAL},
};
static const struct col audit_cols[] = {
	{"id", COL_INT},	   {"at", COL_TEXT},	 {"operator", COL_TEXT},
	{"command", COL_TEXT}, {"detail", COL_JSON}, {"result", COL_TEXT},
	{"peer", COL_TEXT},
};

#define N_COLS(a) (sizeof(a) / sizeof((a)[0]))

static json_t *col_value(struct tl_store *st, sqlite3_stmt *stmt, int i, enum col_kind kind,
			 const char *key, const char *what, struct tl_err *err)
{
	if (sqlite3_column_type(stmt, i) == SQLITE_NULL)
		return json_null();
	json_t *v = NULL;
	const char *text = NULL;
	json_error_t jerr;
	char name[64];
	switch (kind) {
	case COL_INT:
	case COL_INT_OPT:
		v = json_integer(sqlite3_column_int64(stmt, i));
		break;
	case COL_BOOL:
		v = json_boolean(sqlite3_column_int64(stmt, i) != 0);
		break;
	case COL_REAL:
	case COL_REAL_OPT:
		v = json_real(sqlite3_column_double(stmt, i));
		break;
	case COL_T_S:
		v = json_real((double)sqlite3_column_int64(stmt, i) / 1000.0);
		break;
	case COL_TEXT:
		text = (const char *)sqlite3_column_text(stmt, i);
		v = text ? json_stringn(text, (size_t)sqlite3_column_bytes(stmt, i)) : NULL;
		break;
	case COL_JSON:
		text = (const char *)sqlite3_column_text(stmt, i);
		v = text ? json_loads(text, JSON_DECODE_ANY, &jerr) : NULL;
		break;
	}
	if (v)
		return v;
	/* The store checks what it writes, so text that fails here was either written around
	 * it or met a failed allocation; say which. */
	snprintf(name, sizeof name, "stored %s", key);
	if (text && kind == COL_JSON)
		tl_store_json_explain(st, text, &jerr, name, what, err);
	else if (text && tl_store_check_text(text, name, false, what, err) == 0)
		tl_err_set(err, "store: %s: out of memory reading %s", what, key);
	else if (!text)
		tl_err_set(err, "store: %s: out of memory reading %s", what, key);
	return NULL;
}

/* The current row as an object; NULL + err on failure. */
static json_t *row_object(struct tl_store *st, sqlite3_stmt *stmt, const struct col *cols,
			  size_t n, const char *what, struct tl_err *err)
{
	json_t *o = json_object();
	if (!o) {
		tl_err_set(err, "store: %s: out of memory building JSON", what);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		if ((cols[i].kind == COL_INT_OPT || cols[i].kind == COL_REAL_OPT) &&
		    sqlite3_column_type(stmt, (int)i) == SQLITE_NULL)
			continue;
		json_t *v = col_value(st, stmt, (int)i, cols[i].kind, cols[i].key, what, err);
		if (!v || json_object_set_new(o, cols[i].key, v) < 0) {
			if (v)
				tl_err_set(err, "store: %s: out of memory building JSON", what);
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

/* Every row of a bound statement as an array; resets the statement. */
static json_t *rows_array(struct tl_store *st, sqlite3_stmt *stmt, const struct col *cols,
			  size_t n, const char *what, struct tl_err *err)
{
	json_t *a = json_array();
	if (!a) {
		tl_err_set(err, "store: %s: out of memory building JSON", what);
		goto fail;
	}
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		json_t *o = row_object(st, stmt, cols, n, what, err);
		if (!o)
			goto fail;
		if (json_array_append_new(a, o) < 0) {
			tl_err_set(err, "store: %s: out of memory building JSON", what);
			goto fail;
		}
	}
	if (rc != SQLITE_DONE) {
		tl_store_fail_db(st, what, err);
		goto fail;
	}
	tl_store_stmt_done(stmt);
	return a;
fail:
	tl_store_stmt_done(stmt);
	json_decref(a);
	return NULL;
}

/* Runs the rows of a cached statement that takes the test id as ?1. */
static json_t *test_rows(struct tl_store *st, enum tl_stmt_id id, int64_t test_id,
			 const struct col *cols, size_t n, const char *what, struct tl_err *err)
{
	sqlite3_stmt *stmt = tl_store_stmt(st, id, what, err);
	if (!stmt)
		return NULL;
	if (sqlite3_bind_int64(stmt, 1, test_id) != SQLITE_OK) {
		tl_store_fail_db(st, what, err);
		tl_store_stmt_done(stmt);
		return NULL;
	}
	return rows_array(st, stmt, cols, n, what, err);
}

static int exists(struct tl_store *st, int64_t test_id, const char *what, struct tl_err *err)
{
	sqlite3_stmt *stmt = tl_store_stmt(st, TL_ST_TEST_EXISTS, what, err);
	if (!stmt)
		return -1;
	if (sqlite3_bind_int64(stmt, 1, test_id) != SQLITE_OK) {
		tl_store_fail_db(st, what, err);
		tl_store_stmt_done(stmt);
		return -1;
	}
	int rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		tl_store_fail_db(st, what, err);
	tl_store_stmt_done(stmt);
	if (rc == SQLITE_DONE)
		tl_err_set(err, "store: %s: no test %" PRId64, what, test_id);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int tl_store_test_exists(struct tl_store *st, int64_t test_id, struct tl_err *err)
{
	char what[TL_STORE_WHAT_MAX];
	snprintf(what, sizeof what, "looking up test %" PRId64, test_id);
	return exists(st, test_id, what, err);
}

typedef json_t *(*query_fn)(struct tl_store *st, const void *arg, const char *what,
			    struct tl_err *err);

/* Runs fn in one read transaction (one snapshot). */
static json_t *in_snapshot(struct tl_store *st, query_fn fn, const void *arg, const char *what,
			   struct tl_err *err)
{
	if (tl_store_begin_read(st, what, err) < 0)
		return NULL;
	json_t *j = fn(st, arg, what, err);
	if (!j) {
		tl_store_rollback(st);
		return NULL;
	}
	if (tl_store_commit(st, what, err) < 0) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static json_t *test_query(struct tl_store *st, const void *arg, const char *what,
			  struct tl_err *err)
{
	int64_t test_id = *(const int64_t *)arg;
	sqlite3_stmt *stmt = tl_store_stmt(st, TL_ST_TEST_GET, what, err);
	if (!stmt)
		return NULL;
	if (sqlite3_bind_int64(stmt, 1, test_id) != SQLITE_OK) {
		tl_store_fail_db(st, what, err);
		tl_store_stmt_done(stmt);
		return NULL;
	}
	int rc = sqlite3_step(stmt);
	json_t *t = NULL;
	if (rc == SQLITE_ROW)
		t = row_object(st, stmt, test_cols, N_COLS(test_cols), what, err);
	else if (rc == SQLITE_DONE)
		tl_err_set(err, "store: %s: no test %" PRId64, what, test_id);
	else
		tl_store_fail_db(st, what, err);
	/* demographics and order (schema 8): the columns after test_cols' */
	if (t && tl_store_demographics_into(t, stmt, (int)N_COLS(test_cols),
					     json_string_value(json_object_get(t, "patient"))) < 0) {
		tl_err_set(err, "store: %s: out of memory building JSON", what);
		json_decref(t);
		t = NULL;
	}
	tl_store_stmt_done(stmt);
	if (!t)
		return NULL;
	json_t *events = test_rows(st, TL_ST_EVENTS_GET, test_id, event_cols, N_COLS(event_cols),
				   what, err);
	if (!events)
		goto fail;
	if (json_object_set_new(t, "events", events) < 0)
		goto oom;
	json_t *pressures = test_rows(st, TL_ST_PRESSURES_GET, test_id, pressure_cols,
				      N_COLS(pressure_cols), what, err);
	if (!pressures)
		goto fail;
	if (json_object_set_new(t, "pressures", pressures) < 0)
		goto oom;
	return t;
oom:
	tl_err_set(err, "store: %s: out of memory building JSON", what);
fail:
	json_decref(t);
	return NULL;
}

json_t *tl_store_test_json(struct tl_store *st, int64_t test_id, struct tl_err *err)
{
	char what[TL_STORE_WHAT_MAX];
	snprintf(what, sizeof what, "reading test %" PRId64, test_id);
	return in_snapshot(st, test_query, &test_id, what, err);
}

json_t *tl_store_tests_json(struct tl_store *st, const char *patient_mrn, struct tl_err *err)
{
	char what[TL_STORE_WHAT_MAX] = "listing tests";
	if (patient_mrn) {
		if (tl_store_check_mrn(patient_mrn, what, err) < 0)
			return NULL;
		snprintf(what, sizeof what, "listing the tests of patient '%s'", patient_mrn);
	}
	sqlite3_stmt *stmt = tl_store_stmt(
		st, patient_mrn ? TL_ST_TESTS_OF_PATIENT : TL_ST_TESTS_ALL, what, err);
	if (!stmt)
		return NULL;
	if (patient_mrn && tl_store_bind_text(stmt, 1, patient_mrn) != SQLITE_OK) {
		tl_store_fail_db(st, what, err);
		tl_store_stmt_done(stmt);
		return NULL;
	}
	return rows_array(st, stmt, summary_cols, N_COLS(summary_cols), what, err);
}

struct rows_arg {
	int64_t test_id;
	enum tl_stmt_id id;
	const struct col *cols;
	size_t n;
};

static json_t *rows_of_test_query(struct tl_store *st, const void *arg, const char *what,
				  struct tl_err *err)
{
	const struct rows_arg *a = arg;
	if (exists(st, a->test_id, what, err) != 1)
		return NULL;
	return test_rows(st, a->id, a->test_id, a->cols, a->n, what, err);
}

json_t *tl_store_samples_json(struct tl_store *st, int64_t test_id, struct tl_err *err)
{
	char what[TL_STORE_WHAT_MAX];
	snprintf(what, sizeof what, "reading the samples of test %" PRId64, test_id);
	struct rows_arg a = {test_id, TL_ST_SAMPLES_GET, sample_cols, N_COLS(sample_cols)};
	return in_snapshot(st, rows_of_test_query, &a, what, err);
}

json_t *tl_store_pressures_json(struct tl_store *st, int64_t test_id, struct tl_err *err)
{
	char what[TL_STORE_WHAT_MAX];
	snprintf(what, sizeof what, "reading the pressures of test %" PRId64, test_id);
	struct rows_arg a = {test_id, TL_ST_PRESSURES_GET, pressure_cols, N_COLS(pressure_cols)};
	return in_snapshot(st, rows_of_test_query, &a, what, err);
}

char *tl_store_test_protocol_text(struct tl_store *st, int64_t test_id, struct tl_err *err)
{
	char what[TL_STORE_WHAT_MAX];
	snprintf(what, sizeof what, "reading the protocol of test %" PRId64, test_id);
	sqlite3_stmt *stmt = tl_store_stmt(st, TL_ST_PROTOCOL_TEXT, what, err);
	if (!stmt)
		return NULL;
	char *text = NULL;
	int rc = sqlite3_bind_int64(stmt, 1, test_id);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(stmt, 0);
		text = t ? strdup(t) : NULL;
		if (!text)
			tl_err_set(err, "store: %s: out of memory", what);
	} else if (rc == SQLITE_DONE) {
		tl_err_set(err, "store: %s: no test %" PRId64, what, test_id);
	} else {
		tl_store_fail_db(st, what, err);
	}
	tl_store_stmt_done(stmt);
	return text;
}

json_t *tl_store_audit_json(struct tl_store *st, size_t limit, struct tl_err *err)
{
	const char *what = "reading the audit trail";
	sqlite3_stmt *stmt = tl_store_stmt(st, TL_ST_AUDIT_GET, what, err);
	if (!stmt)
		return NULL;
	sqlite3_int64 lim = limit > INT64_MAX ? INT64_MAX : (sqlite3_int64)limit;
	if (sqlite3_bind_int64(stmt, 1, lim) != SQLITE_OK) {
		tl_store_fail_db(st, what, err);
		tl_store_stmt_done(stmt);
		return NULL;
	}
	return rows_array(st, stmt, audit_cols, N_COLS(audit_cols), what, err);
}
