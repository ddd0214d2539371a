/* store_history.c - the history of changes to a test's record: what triggers of schema
 * version 3 keep in record_changes (store_schema.c) when a pressure is added or the
 * findings are recorded, read back for the record. */
#include "store_int.h"

#include <inttypes.h>
#include <stdio.h>

static json_t *text_or_null(sqlite3_stmt *stmt, int i)
{
	const unsigned char *s = sqlite3_column_text(stmt, i);
	return s ? json_string((const char *)s) : json_null();
}

/* A JSON column: parsed, or null. The triggers write it with SQLite's json(), so a value
 * that does not parse is a damaged file: reported, not hidden. */
static int json_col(struct tl_store *st, sqlite3_stmt *stmt, int i, json_t **out,
		    const char *what, struct tl_err *err)
{
	const char *s = (const char *)sqlite3_column_text(stmt, i);
	if (!s) {
		*out = json_null();
		return 0;
	}
	json_error_t jerr;
	*out = json_loads(s, JSON_DECODE_ANY, &jerr);
	return *out ? 0 : tl_store_json_explain(st, s, &jerr, "history value", what, err);
}

json_t *tl_store_history_json(struct tl_store *st, int64_t test_id, struct tl_err *err)
{
	char what[TL_STORE_WHAT_MAX];
	snprintf(what, sizeof what, "reading the history of test %" PRId64, test_id);
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v2(st->db,
			       "SELECT at, what, operator, peer, test_state, previous, value "
			       "FROM record_changes WHERE test_id = ?1 ORDER BY id",
			       -1, &stmt, NULL) != SQLITE_OK) {
		tl_store_fail_db(st, what, err);
		return NULL;
	}
	json_t *arr = json_array();
	if (!arr || sqlite3_bind_int64(stmt, 1, test_id) != SQLITE_OK) {
		tl_store_fail_db(st, what, err);
		goto fail;
	}
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		json_t *prev, *value;
		if (json_col(st, stmt, 5, &prev, what, err))
			goto fail;
		if (json_col(st, stmt, 6, &value, what, err)) {
			json_decref(prev);
			goto fail;
		}
		json_t *o = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "at", text_or_null(stmt, 0),
				      "what", text_or_null(stmt, 1), "operator", text_or_null(stmt, 2),
				      "peer", text_or_null(stmt, 3), "test_state", text_or_null(stmt, 4),
				      "previous", prev, "value", value);
		if (!o || json_array_append_new(arr, o)) {
			tl_err_set(err, "store: %s: out of memory", what);
			goto fail;
		}
	}
	if (rc != SQLITE_DONE) {
		tl_store_fail_db(st, what, err);
		goto fail;
	}
	sqlite3_finalize(stmt);
	return arr;
fail:
	sqlite3_finalize(stmt);
	json_decref(arr);
	return NULL;
}
