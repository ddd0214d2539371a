/* store_report.c - signed reports: each signature keeps the PDF bytes as signed, their
 * SHA-256 and the hash of the record they were rendered from, as a new version. Triggers of
 * schema version 7 refuse any UPDATE or DELETE of a signed report (store_schema.c), so what
 * a physician signed never changes: a later change of the record makes a new version. */
#include "store_int.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tl_store_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char h[crypto_hash_sha256_BYTES];
	if (crypto_hash_sha256(h, data, len) != 0)
		return -1;
	sodium_bin2hex(out, 65, h, sizeof h);
	return 0;
}

/* The record as hashed: without "demographics" and "order" (schema 8), and with the
 * patient's name, birth date and sex, which the report shows, once one of them is known
 * (store.h). */
static json_t *as_hashed(const json_t *rec)
{
	json_t *r = json_copy((json_t *)rec);
	if (!r)
		return NULL;
	json_t *demo = json_object_get(rec, "demographics");
	json_object_del(r, "demographics");
	json_object_del(r, "order");
	json_t *family = json_object_get(demo, "family"), *given = json_object_get(demo, "given");
	json_t *birth = json_object_get(demo, "birth_date"), *sex = json_object_get(demo, "sex");
	if (json_is_string(family) || json_is_string(given) || json_is_string(birth) ||
	    json_is_string(sex)) {
		json_t *shown = json_pack("{s:O?, s:O?, s:O?, s:O?}", "family", family, "given", given,
					  "birth_date", birth, "sex", sex);
		if (!shown || json_object_set_new(r, "patient_on_report", shown) < 0) {
			json_decref(r);
			return NULL;
		}
	}
	return r;
}

int tl_store_record_hash_of(const json_t *rec, const json_t *samples, char out[65])
{
	/* Keys sorted and numbers at full precision: the same record, the same text. */
	json_t *r = as_hashed(rec);
	json_t *both = r ? json_pack("{s:o, s:O}", "record", r, "samples", samples) : NULL;
	char *text = both ? json_dumps(both, JSON_SORT_KEYS | JSON_COMPACT | JSON_REAL_PRECISION(17))
			  : NULL;
	json_decref(both);
	int rc = text ? tl_store_sha256_hex(text, strlen(text), out) : -1;
	free(text);
	return rc;
}

int tl_store_record_hash(struct tl_store *st, int64_t test_id, char out[65], struct tl_err *err)
{
	json_t *rec = tl_store_test_json(st, test_id, err);
	if (!rec)
		return -1;
	json_t *samples = tl_store_samples_json(st, test_id, err);
	if (!samples) {
		json_decref(rec);
		return -1;
	}
	int rc = tl_store_record_hash_of(rec, samples, out);
	if (rc < 0)
		tl_err_set(err, "store: hashing the record of test %" PRId64 ": out of memory", test_id);
	json_decref(rec);
	json_decref(samples);
	return rc;
}

static bool is_hex64(const char *s)
{
	if (!s || strlen(s) != 64)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

int tl_store_report_sign(struct tl_store *st, int64_t test_id, const char *signer,
			 const char *signed_at, const unsigned char *pdf, size_t len,
			 const char *record_hash, struct tl_err *err)
{
	return tl_store_report_sign_send(st, test_id, signer, signed_at, pdf, len, record_hash,
					 NULL, err);
}

int tl_store_report_sign_send(struct tl_store *st, int64_t test_id, const char *signer,
			      const char *signed_at, const unsigned char *pdf, size_t len,
			      const char *record_hash, const struct tl_store_outbox_plan *plan,
			      struct tl_err *err)
{
	char what[TL_STORE_WHAT_MAX];
	snprintf(what, sizeof what, "signing the report of test %" PRId64, test_id);
	if (tl_store_check_writable(st, what, err) < 0 ||
	    tl_store_check_id(signer, "signer", false, what, err) < 0 ||
	    tl_store_check_utc(signed_at, "signed_at", what, err) < 0)
		return -1;
	if (!pdf || len < 5 || memcmp(pdf, "%PDF-", 5) || len > 64u * 1024 * 1024) {
		tl_err_set(err, "store: %s: the report is not a PDF of at most 64 MiB", what);
		return -1;
	}
	if (!is_hex64(record_hash)) {
		tl_err_set(err, "store: %s: the record hash is not 64 lowercase hex digits", what);
		return -1;
	}
	char pdf_hash[65];
	if (tl_store_sha256_hex(pdf, len, pdf_hash) < 0) {
		tl_err_set(err, "store: %s: hashing the PDF failed", what);
		return -1;
	}
	if (tl_store_begin_write(st, what, err) < 0)
		return -1;
	int exists = tl_store_test_exists(st, test_id, err);
	if (exists <= 0) {
		if (exists == 0)
			tl_err_set(err, "store: %s: no test %" PRId64, what, test_id);
		tl_store_rollback(st);
		return -1;
	}
	sqlite3_stmt *stmt = NULL;
	int version = -1;
	if (sqlite3_prepare_v2(st->db,
			       "INSERT INTO reports (test_id, version, pdf, pdf_sha256, record_sha256,"
			       " signed_by, signed_at) SELECT ?1, coalesce(max(version), 0) + 1, ?2, ?3,"
			       " ?4, ?5, ?6 FROM reports WHERE test_id = ?1 RETURNING version",
			       -1, &stmt, NULL) != SQLITE_OK ||
	    sqlite3_bind_int64(stmt, 1, test_id) != SQLITE_OK ||
	    sqlite3_bind_blob64(stmt, 2, pdf, len, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(stmt, 3, pdf_hash, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
	    sqlite3_bind_text(stmt, 4, record_hash, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
	    sqlite3_bind_text(stmt, 5, signer, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
	    sqlite3_bind_text(stmt, 6, signed_at, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
	    sqlite3_step(stmt) != SQLITE_ROW) {
		tl_store_fail_db(st, what, err);
		goto fail;
	}
	version = sqlite3_column_int(stmt, 0);
	if (sqlite3_step(stmt) != SQLITE_DONE) {
		tl_store_fail_db(st, what, err);
		goto fail;
	}
	sqlite3_finalize(stmt);
	stmt = NULL;
	/* The signature's messages commit with it: a crash loses neither or both. */
	if (plan && plan->n && tl_store_outbox_add_in(st, test_id, version, plan, signed_at, err) < 0)
		goto fail;
	if (tl_store_commit(st, what, err) < 0)
		return -1;
	return version;
fail:
	sqlite3_finalize(stmt);
	tl_store_rollback(st);
	return -1;
}

int tl_store_report_latest(struct tl_store *st, int64_t test_id, struct tl_store_signed_report *out,
			   struct tl_err *err)
{
	char what[TL_STORE_WHAT_MAX];
	snprintf(what, sizeof what, "reading the signed report of test %" PRId64, test_id);
	memset(out, 0, sizeof *out);
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v2(st->db,
			       "SELECT version, pdf, pdf_sha256, record_sha256, signed_by, signed_at "
			       "FROM reports WHERE test_id = ?1 ORDER BY version DESC LIMIT 1",
			       -1, &stmt, NULL) != SQLITE_OK)
		return tl_store_fail_db(st, what, err);
	if (sqlite3_bind_int64(stmt, 1, test_id) != SQLITE_OK) {
		tl_store_fail_db(st, what, err);
		sqlite3_finalize(stmt);
		return -1;
	}
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE) {
		sqlite3_finalize(stmt);
		return 0;
	}
	if (rc != SQLITE_ROW) {
		tl_store_fail_db(st, what, err);
		sqlite3_finalize(stmt);
		return -1;
	}
	out->version = sqlite3_column_int(stmt, 0);
	const void *blob = sqlite3_column_blob(stmt, 1);
	size_t n = (size_t)sqlite3_column_bytes(stmt, 1);
	out->pdf = malloc(n ? n : 1);
	if (!out->pdf) {
		tl_err_set(err, "store: %s: out of memory", what);
		sqlite3_finalize(stmt);
		return -1;
	}
	if (n)
		memcpy(out->pdf, blob, n);
	out->len = n;
	snprintf(out->pdf_sha256, sizeof out->pdf_sha256, "%s", (const char *)sqlite3_column_text(stmt, 2));
	snprintf(out->record_sha256, sizeof out->record_sha256, "%s",
		 (const char *)sqlite3_column_text(stmt, 3));
	snprintf(out->signed_by, sizeof out->signed_by, "%s", (const char *)sqlite3_column_text(stmt, 4));
	snprintf(out->signed_at, sizeof out->signed_at, "%s", (const char *)sqlite3_column_text(stmt, 5));
	sqlite3_finalize(stmt);
	/* What was read must be what was signed: a damaged blob is reported, not served. */
	char h[65];
	if (tl_store_sha256_hex(out->pdf, out->len, h) < 0 || strcmp(h, out->pdf_sha256)) {
		tl_err_set(err, "store: %s: version %d's PDF does not match its SHA-256 (damaged)",
			   what, out->version);
		free(out->pdf);
		out->pdf = NULL;
		return -1;
	}
	return 1;
}

int tl_store_export_each(struct tl_store *st, const char *from, const char *to,
			 int (*fn)(const json_t *test, void *arg), void *arg, struct tl_err *err)
{
	char what[TL_STORE_WHAT_MAX];
	snprintf(what, sizeof what, "exporting tests from %s to %s", from ? from : "the first",
		 to ? to : "the last");
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v2(st->db,
			       "SELECT t.id, p.mrn, t.protocol_name, t.operator, t.state, t.end_reason,"
			       " t.started_at, t.ended_at, t.time_scale, t.cot_s, t.pwt_s, t.icd_m,"
			       " t.acd_m, t.walking_time_s, t.distance_m, t.recovery_s,"
			       /* only what the export needs: SQLite's JSON reader is faster than
				* parsing each whole classification (a few kB) with jansson */
			       " json_extract(t.classification_json, '$.category', '$.abi.right.rest',"
			       "  '$.abi.right.rest_category', '$.abi.right.post', '$.abi.right.criteria',"
			       "  '$.abi.left.rest', '$.abi.left.rest_category', '$.abi.left.post',"
			       "  '$.abi.left.criteria', '$.tbi.right.value', '$.tbi.left.value',"
			       "  '$.red_flags', '$.severity.rutherford.grade', '$.severity.fontaine.grade')"
			       " FROM tests t JOIN patients p ON p.id = t.patient_id"
			       /* plain bounds, so that the tests_started index serves the range */
			       " WHERE t.started_at >= ?1 AND t.started_at < ?2"
			       " ORDER BY t.started_at, t.id",
			       -1, &stmt, NULL) != SQLITE_OK)
		return tl_store_fail_db(st, what, err);
	/* No bound: below and above every time of day the store keeps ("2026-...") */
	if (tl_store_bind_text(stmt, 1, from ? from : "") != SQLITE_OK ||
	    tl_store_bind_text(stmt, 2, to ? to : "~") != SQLITE_OK ||
	    tl_store_begin_read(st, what, err) < 0) {
		tl_store_fail_db(st, what, err);
		sqlite3_finalize(stmt);
		return -1;
	}
	static const char *const names[] = {"id", "patient", "protocol", "operator", "state",
					    "end_reason", "started_at", "ended_at", "time_scale",
					    "cot_s", "pwt_s", "icd_m", "acd_m", "walking_time_s",
					    "distance_m", "recovery_s"};
	int rc, n = 0;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		json_t *o = json_object();
		if (!o)
			goto oom;
		for (int i = 0; i < 16; i++) {
			json_t *v;
			switch (sqlite3_column_type(stmt, i)) {
			case SQLITE_INTEGER:
				v = json_integer(sqlite3_column_int64(stmt, i));
				break;
			case SQLITE_FLOAT:
				v = json_real(sqlite3_column_double(stmt, i));
				break;
			case SQLITE_TEXT:
				v = json_string((const char *)sqlite3_column_text(stmt, i));
				break;
			default:
				v = json_null();
			}
			if (!v || json_object_set_new(o, names[i], v)) {
				json_decref(o);
				goto oom;
			}
		}
		const char *cl = (const char *)sqlite3_column_text(stmt, 16);
		json_t *v = cl ? json_loads(cl, 0, NULL) : NULL, *c = json_null();
		if (json_is_array(v) && json_array_size(v) == 14) {
			c = json_pack("{s:O, s:{s:{s:O, s:O, s:O, s:O}, s:{s:O, s:O, s:O, s:O}},"
				      " s:{s:{s:O}, s:{s:O}}, s:O, s:{s:{s:O}, s:{s:O}}}",
				      "category", json_array_get(v, 0), "abi", "right", "rest",
				      json_array_get(v, 1), "rest_category", json_array_get(v, 2),
				      "post", json_array_get(v, 3), "criteria", json_array_get(v, 4),
				      "left", "rest", json_array_get(v, 5), "rest_category",
				      json_array_get(v, 6), "post", json_array_get(v, 7), "criteria",
				      json_array_get(v, 8), "tbi", "right", "value", json_array_get(v, 9),
				      "left", "value", json_array_get(v, 10), "red_flags",
				      json_array_get(v, 11), "severity", "rutherford", "grade",
				      json_array_get(v, 12), "fontaine", "grade", json_array_get(v, 13));
		}
		json_decref(v);
		json_object_set_new(o, "classification", c ? c : json_null());
		int r = fn(o, arg);
		json_decref(o);
		if (r < 0) {
			tl_err_set(err, "store: %s: stopped after %d tests", what, n);
			goto fail;
		}
		n++;
	}
	if (rc != SQLITE_DONE) {
		tl_store_fail_db(st, what, err);
		goto fail;
	}
	sqlite3_finalize(stmt);
	if (tl_store_commit(st, what, err) < 0)
		return -1;
	return n;
oom:
	tl_err_set(err, "store: %s: out of memory", what);
fail:
	sqlite3_finalize(stmt);
	tl_store_rollback(st);
	return -1;
}
