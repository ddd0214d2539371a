/* store_patient.c - patient demographics and order data (schema version 8, issue 13):
 * what an HL7 PID / FHIR Patient needs of the patient, and what the order of a test is.
 * A change and its audit row are one transaction; the row's detail keeps the values the
 * change replaced, so nothing entered is lost (docs/demographics.md). */
#include "store_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert((int)TL_STORE_ORDER_N <= (int)TL_STORE_DEMO_N, "struct tl_store_fields holds both");

static const char *const demo_keys[TL_STORE_DEMO_N] = {
	"assigning_authority", "family", "given", "birth_date", "sex"};
static const char *const order_keys[TL_STORE_ORDER_N] = {
	"accession", "physician_id", "physician_family", "physician_given"};
/* The columns, in the order of the keys above (patients, tests). */
static const char *const demo_cols = "assigning_authority, family, given, birth_date, sex";
static const char *const order_cols = "accession, physician_id, physician_family, physician_given";

const char *tl_store_demo_key(enum tl_store_demo_field f)
{
	return f < TL_STORE_DEMO_N ? demo_keys[f] : "?";
}

const char *tl_store_order_key(enum tl_store_order_field f)
{
	return f < TL_STORE_ORDER_N ? order_keys[f] : "?";
}

/* Printable UTF-8 of 1..max bytes without a space at either end. */
static int check_printable(const char *s, const char *name, size_t max, struct tl_err *err)
{
	size_t n = strlen(s);
	if (n == 0 || n > max) {
		tl_err_set(err, "%s must be 1 to %zu bytes (it has %zu)", name, max, n);
		return -1;
	}
	struct tl_err tmp;
	if (tl_store_check_text(s, name, false, "", &tmp) < 0) {
		tl_err_set(err, "%s is not valid UTF-8", name);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		/* C0, DEL and C1 (U+0080..U+009F, 0xc2 0x80..0x9f in UTF-8) */
		if (c < 0x20 || c == 0x7f || (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] < 0xa0)) {
			tl_err_set(err, "%s has a control character at byte %zu", name, i + 1);
			return -1;
		}
	}
	if (s[0] == ' ' || s[n - 1] == ' ') {
		tl_err_set(err, "%s '%s' starts or ends with a space", name, s);
		return -1;
	}
	return 0;
}

static int num(const char *s, size_t n)
{
	int v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/* A real date YYYY-MM-DD (proleptic Gregorian), from 1880-01-01 to today (the first 10
 * characters of today_utc). */
static int check_birth_date(const char *s, const char *today_utc, struct tl_err *err)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool shape = strlen(s) == 10 && s[4] == '-' && s[7] == '-' && strspn(s, "0123456789") == 4 &&
		     strspn(s + 5, "0123456789") == 2 && strspn(s + 8, "0123456789") == 2;
	if (!shape) {
		tl_err_set(err, "birth_date '%.40s' is not a date YYYY-MM-DD", s);
		return -1;
	}
	int y = num(s, 4), m = num(s + 5, 2), d = num(s + 8, 2);
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	int last = m >= 1 && m <= 12 ? mdays[m - 1] + (m == 2 && leap) : 0;
	if (m < 1 || m > 12 || d < 1 || d > last) {
		tl_err_set(err, "birth_date '%s' is not a day of the calendar", s);
		return -1;
	}
	if (y < 1880) {
		tl_err_set(err, "birth_date '%s' is before 1880", s);
		return -1;
	}
	/* Same shape, so text order is date order. */
	if (today_utc && strlen(today_utc) >= 10 && strncmp(s, today_utc, 10) > 0) {
		tl_err_set(err, "birth_date '%s' is after today (%.10s)", s, today_utc);
		return -1;
	}
	return 0;
}

int tl_store_demographics_check(const struct tl_store_fields *f, const char *today_utc,
				struct tl_err *err)
{
	for (int i = 0; i < TL_STORE_DEMO_N; i++) {
		const char *v = f->value[i];
		if (!f->set[i] || !v)
			continue;
		const char *key = demo_keys[i];
		switch ((enum tl_store_demo_field)i) {
		case TL_STORE_DEMO_AUTHORITY:
			if (check_printable(v, key, 64, err) < 0)
				return -1;
			break;
		case TL_STORE_DEMO_FAMILY:
		case TL_STORE_DEMO_GIVEN:
			if (check_printable(v, key, TL_STORE_NAME_MAX, err) < 0)
				return -1;
			break;
		case TL_STORE_DEMO_BIRTH_DATE:
			if (check_birth_date(v, today_utc, err) < 0)
				return -1;
			break;
		case TL_STORE_DEMO_SEX:
			if (strcmp(v, "female") && strcmp(v, "male") && strcmp(v, "other") &&
			    strcmp(v, "unknown")) {
				tl_err_set(err, "sex '%.40s' is not one of female, male, other, unknown", v);
				return -1;
			}
			break;
		case TL_STORE_DEMO_N:
			break;
		}
	}
	return 0;
}

int tl_store_order_check(const struct tl_store_fields *f, struct tl_err *err)
{
	for (int i = 0; i < TL_STORE_ORDER_N; i++) {
		const char *v = f->value[i];
		if (!f->set[i] || !v)
			continue;
		bool name = i == TL_STORE_ORDER_PHYSICIAN_FAMILY || i == TL_STORE_ORDER_PHYSICIAN_GIVEN;
		if (check_printable(v, order_keys[i], name ? TL_STORE_NAME_MAX : 64, err) < 0)
			return -1;
	}
	return 0;
}

/* The row's columns first..first+n-1 as {keys[i]: text or null}, after "mrn" when it is
 * given (so the object reads in the order of docs/api.md); NULL if out of memory. */
static json_t *fields_object(sqlite3_stmt *stmt, int first, const char *const *keys, int n,
			     const char *mrn)
{
	json_t *o = mrn ? json_pack("{s:s}", "mrn", mrn) : json_object();
	for (int i = 0; o && i < n; i++) {
		const char *v = (const char *)sqlite3_column_text(stmt, first + i);
		json_t *j = v ? json_string(v) : json_null();
		if (!j || json_object_set_new(o, keys[i], j) < 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

int tl_store_demographics_into(json_t *rec, sqlite3_stmt *stmt, int first, const char *mrn)
{
	json_t *demo = mrn ? fields_object(stmt, first, demo_keys, TL_STORE_DEMO_N, mrn) : NULL;
	json_t *o = fields_object(stmt, first + TL_STORE_DEMO_N, order_keys, TL_STORE_ORDER_N, NULL);
	json_t *order = o ? json_pack("{s:O, s:{s:O, s:O, s:O}}", "accession",
				      json_object_get(o, "accession"), "ordering_physician", "id",
				      json_object_get(o, "physician_id"), "family",
				      json_object_get(o, "physician_family"), "given",
				      json_object_get(o, "physician_given"))
			  : NULL;
	json_decref(o);
	if (!demo || !order) {
		json_decref(demo);
		json_decref(order);
		return -1;
	}
	if (json_object_set_new(rec, "demographics", demo) < 0) {
		json_decref(order);
		return -1;
	}
	return json_object_set_new(rec, "order", order);
}

/* The current values of one row (SELECT <cols> FROM <table> WHERE <key> = ?1) as an
 * object; NULL + err ("no test 12" when there is no such row). */
static json_t *current(struct tl_store *st, const char *table, const char *cols,
		       const char *key, const char *const *keys, int n, int64_t id,
		       const char *what, struct tl_err *err)
{
	char sql[256];
	snprintf(sql, sizeof sql, "SELECT %s FROM %s WHERE %s = ?1", cols, table, key);
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		tl_store_fail_db(st, what, err);
		return NULL;
	}
	json_t *o = NULL;
	int rc = sqlite3_bind_int64(stmt, 1, id);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		o = fields_object(stmt, 0, keys, n, NULL);
		if (!o)
			tl_err_set(err, "store: %s: out of memory", what);
	} else if (rc == SQLITE_DONE) {
		tl_err_set(err, "store: %s: no %s %" PRId64, what, strcmp(table, "tests") ? "row" : "test",
			   id);
	} else {
		tl_store_fail_db(st, what, err);
	}
	sqlite3_finalize(stmt);
	return o;
}

/* Updates the set fields of one row and audits the change with what it replaced, inside
 * the caller's write transaction. prev NULL: the row was just created. */
static int change(struct tl_store *st, const char *table, const char *key, int64_t id,
		  const char *const *keys, const char *const *cols, int n, json_t *prev,
		  const struct tl_store_fields *f, const char *command, const char *subject_key,
		  json_t *subject, const char *at_utc, const char *operator_id, const char *peer, const char *what,
		  struct tl_err *err)
{
	json_t *value = prev ? json_deep_copy(prev) : json_object();
	for (int i = 0; value && !prev && i < n; i++) /* a new row: unknown but what is set */
		if (json_object_set_new(value, keys[i], json_null()) < 0) {
			json_decref(value);
			value = NULL;
		}
	char sql[512];
	int len = snprintf(sql, sizeof sql, "UPDATE %s SET ", table);
	int n_set = 0;
	for (int i = 0; value && i < n; i++) {
		if (!f->set[i])
			continue;
		json_t *v = f->value[i] ? json_string(f->value[i]) : json_null();
		if (!v || json_object_set_new(value, keys[i], v) < 0) {
			json_decref(value);
			value = NULL;
			break;
		}
		len += snprintf(sql + len, sizeof sql - (size_t)len, "%s%s = ?%d", n_set ? ", " : "",
				cols[i], i + 2);
		n_set++;
	}
	snprintf(sql + len, sizeof sql - (size_t)len, " WHERE %s = ?1", key);
	json_t *detail = value ? json_pack("{s:O, s:O, s:O}", subject_key, subject, "previous", prev ? prev : json_null(), "value", value)
			       : NULL;
	json_decref(value);
	char *text = detail ? json_dumps(detail, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(detail);
	if (!text) {
		tl_err_set(err, "store: %s: out of memory", what);
		return -1;
	}
	int rc = 0;
	if (n_set) {
		sqlite3_stmt *stmt;
		if (sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
			free(text);
			return tl_store_fail_db(st, what, err);
		}
		rc = sqlite3_bind_int64(stmt, 1, id);
		for (int i = 0; rc == SQLITE_OK && i < n; i++)
			if (f->set[i])
				rc = tl_store_bind_text(stmt, i + 2, f->value[i]);
		if (rc == SQLITE_OK)
			rc = sqlite3_step(stmt);
		rc = rc == SQLITE_DONE ? 0 : tl_store_fail_db(st, what, err);
		sqlite3_finalize(stmt);
	}
	sqlite3_stmt *audit = rc == 0 ? tl_store_stmt(st, TL_ST_AUDIT_ADD, what, err) : NULL;
	if (audit) {
		int b = tl_store_bind_text(audit, 1, at_utc);
		if (b == SQLITE_OK)
			b = tl_store_bind_text(audit, 2, operator_id);
		if (b == SQLITE_OK)
			b = tl_store_bind_text(audit, 3, command);
		if (b == SQLITE_OK)
			b = tl_store_bind_text(audit, 4, text);
		if (b == SQLITE_OK)
			b = tl_store_bind_text(audit, 5, "ok");
		if (b == SQLITE_OK)
			b = tl_store_bind_text(audit, 6, peer);
		rc = b == SQLITE_OK ? tl_store_exec_stmt(st, audit, what, err)
				    : (tl_store_stmt_done(audit), tl_store_fail_db(st, what, err));
	} else {
		rc = -1;
	}
	free(text);
	return rc;
}

static int check_who(const char *at_utc, const char *operator_id, const char *peer,
		     const char *what, struct tl_err *err)
{
	if (tl_store_check_utc(at_utc, "at", what, err) < 0 ||
	    tl_store_check_id(operator_id, "operator", true, what, err) < 0 ||
	    tl_store_check_id(peer, "peer", true, what, err) < 0)
		return -1;
	return 0;
}

/* err's message of a value check, as the store words it. */
static int refuse(struct tl_err *err, const char *what)
{
	char why[sizeof err->msg];
	snprintf(why, sizeof why, "%s", err->msg);
	tl_err_set(err, "store: %s: %s", what, why);
	return -1;
}

int tl_store_patient_set(struct tl_store *st, const char *mrn, const struct tl_store_fields *f,
			 const char *at_utc, const char *operator_id, const char *peer,
			 struct tl_err *err)
{
	char what[TL_STORE_WHAT_MAX] = "setting a patient's demographics";
	if (tl_store_check_writable(st, what, err) < 0 || tl_store_check_mrn(mrn, what, err) < 0)
		return -1;
	snprintf(what, sizeof what, "setting the demographics of patient '%s'", mrn);
	if (check_who(at_utc, operator_id, peer, what, err) < 0)
		return -1;
	if (tl_store_demographics_check(f, at_utc, err) < 0)
		return refuse(err, what);
	if (tl_store_begin_write(st, what, err) < 0)
		return -1;
	int created = 0;
	int64_t pid = -1;
	sqlite3_stmt *find = tl_store_stmt(st, TL_ST_PATIENT_FIND, what, err);
	if (!find)
		goto fail;
	int rc = tl_store_bind_text(find, 1, mrn);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(find);
	if (rc == SQLITE_ROW)
		pid = sqlite3_column_int64(find, 0);
	else if (rc != SQLITE_DONE)
		tl_store_fail_db(st, what, err);
	tl_store_stmt_done(find);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		goto fail;
	if (pid < 0) {
		sqlite3_stmt *add = tl_store_stmt(st, TL_ST_PATIENT_ADD, what, err);
		if (!add)
			goto fail;
		if (tl_store_bind_text(add, 1, mrn) != SQLITE_OK ||
		    tl_store_bind_text(add, 2, at_utc) != SQLITE_OK) {
			tl_store_stmt_done(add);
			tl_store_fail_db(st, what, err);
			goto fail;
		}
		if (tl_store_exec_stmt(st, add, what, err) < 0)
			goto fail;
		pid = sqlite3_last_insert_rowid(st->db);
		created = 1;
	}
	json_t *prev = created ? NULL
			       : current(st, "patients", demo_cols, "id", demo_keys,
					 TL_STORE_DEMO_N, pid, what, err);
	if (!created && !prev)
		goto fail;
	static const char *const cols[] = {"assigning_authority", "family", "given", "birth_date",
					   "sex"};
	json_t *subject = json_string(mrn);
	rc = subject ? change(st, "patients", "id", pid, demo_keys, cols, TL_STORE_DEMO_N, prev, f,
			      "patient", "mrn", subject, at_utc, operator_id, peer, what, err)
		     : (tl_err_set(err, "store: %s: out of memory", what), -1);
	json_decref(subject);
	json_decref(prev);
	if (rc < 0)
		goto fail;
	if (tl_store_commit(st, what, err) < 0)
		return -1;
	return created;
fail:
	tl_store_rollback(st);
	return -1;
}

int tl_store_patient_get(struct tl_store *st, const char *mrn, json_t **out, struct tl_err *err)
{
	char what[TL_STORE_WHAT_MAX] = "reading a patient's demographics";
	*out = NULL;
	if (tl_store_check_mrn(mrn, what, err) < 0)
		return -1;
	snprintf(what, sizeof what, "reading the demographics of patient '%s'", mrn);
	char sql[160];
	snprintf(sql, sizeof sql, "SELECT %s FROM patients WHERE mrn = ?1", demo_cols);
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return tl_store_fail_db(st, what, err);
	int rc = tl_store_bind_text(stmt, 1, mrn);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(stmt);
	int found = -1;
	if (rc == SQLITE_ROW) {
		json_t *o = fields_object(stmt, 0, demo_keys, TL_STORE_DEMO_N, mrn);
		if (o) {
			*out = o;
			found = 1;
		} else {
			json_decref(o);
			tl_err_set(err, "store: %s: out of memory", what);
		}
	} else if (rc == SQLITE_DONE) {
		found = 0;
	} else {
		tl_store_fail_db(st, what, err);
	}
	sqlite3_finalize(stmt);
	return found;
}

int tl_store_order_set(struct tl_store *st, int64_t test_id, const struct tl_store_fields *f,
		       const char *at_utc, const char *operator_id, const char *peer,
		       struct tl_err *err)
{
	char what[TL_STORE_WHAT_MAX];
	snprintf(what, sizeof what, "setting the order of test %" PRId64, test_id);
	if (tl_store_check_writable(st, what, err) < 0 ||
	    check_who(at_utc, operator_id, peer, what, err) < 0)
		return -1;
	if (tl_store_order_check(f, err) < 0)
		return refuse(err, what);
	if (tl_store_begin_write(st, what, err) < 0)
		return -1;
	/* no such test: current() says so */
	json_t *prev = current(st, "tests", order_cols, "id", order_keys, TL_STORE_ORDER_N,
			       test_id, what, err);
	if (!prev)
		goto fail;
	static const char *const cols[] = {"accession", "physician_id", "physician_family",
					   "physician_given"};
	json_t *subject = json_integer(test_id);
	int rc = subject ? change(st, "tests", "id", test_id, order_keys, cols, TL_STORE_ORDER_N,
				  prev, f, "order", "test", subject, at_utc, operator_id, peer, what, err)
			 : (tl_err_set(err, "store: %s: out of memory", what), -1);
	json_decref(subject);
	json_decref(prev);
	if (rc < 0)
		goto fail;
	return tl_store_commit(st, what, err);
fail:
	tl_store_rollback(st);
	return -1;
}
