/* store_outbox.c - messages to the medical record (schema step "outbox", issue 13;
 * docs/records.md, The outbox).
 *
 * A message is stored, with its control id (MSH-10, or the Bundle's id) fixed, before it is
 * ever sent, and is never deleted: a trigger refuses it. Each change of state and each
 * attempt adds a line to outbox_history in the same transaction. The daemon's sender is
 * the only one to move a message to 'sending' and out of it; the API's retry and cancel
 * act only on messages that are not being sent. */
#include "store_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int exec_sql(struct tl_store *st, const char *sql, const char *what, struct tl_err *err)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return tl_store_fail_db(st, what, err);
	return 0;
}

/* Steps a prepared statement expecting no row, finalizes it; rows changed, or -1. */
static int step_done(struct tl_store *st, sqlite3_stmt *stmt, const char *what,
		     struct tl_err *err)
{
	int rc = stmt ? sqlite3_step(stmt) : SQLITE_ERROR;
	if (rc != SQLITE_DONE) {
		tl_store_fail_db(st, what, err);
		sqlite3_finalize(stmt);
		return -1;
	}
	sqlite3_finalize(stmt);
	return sqlite3_changes(st->db);
}

static sqlite3_stmt *prep(struct tl_store *st, const char *sql)
{
	sqlite3_stmt *stmt = NULL;
	if (sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		sqlite3_finalize(stmt);
		return NULL;
	}
	return stmt;
}

static int history(struct tl_store *st, int64_t id, const char *at, const char *event,
		   const char *detail, const char *what, struct tl_err *err)
{
	sqlite3_stmt *s = prep(st, "INSERT INTO outbox_history (outbox_id, at, event, detail)"
				   " VALUES (?1, ?2, ?3, ?4)");
	if (s && (sqlite3_bind_int64(s, 1, id) != SQLITE_OK ||
		  tl_store_bind_text(s, 2, at) != SQLITE_OK ||
		  tl_store_bind_text(s, 3, event) != SQLITE_OK ||
		  tl_store_bind_text(s, 4, detail) != SQLITE_OK)) {
		sqlite3_finalize(s);
		s = NULL;
	}
	return step_done(st, s, what, err) < 0 ? -1 : 0;
}

bool tl_store_outbox_kind_ok(const char *kind)
{
	return kind && (!strcmp(kind, "hl7") || !strcmp(kind, "fhir"));
}

/* Inside an open write transaction: reserves the next id, names its control id, has the
 * message built and stores it queued. 1 stored (*id), 0 build declined or the message
 * already exists (err says), -1. */
static int insert_msg(struct tl_store *st, int64_t test_id, const char *kind, int version,
		      int64_t resend_of, const unsigned char *payload_in, size_t len_in,
		      tl_store_outbox_build_fn build, void *arg, const char *now, int64_t *id,
		      const char *what, struct tl_err *err)
{
	sqlite3_stmt *s = prep(st, "SELECT (SELECT prefix FROM outbox_station),"
				   " coalesce(max(id), 0) + 1,"
				   " (SELECT count(*) FROM outbox WHERE test_id = ?1 AND kind = ?2"
				   "  AND report_version = ?3 AND resend_of IS NULL) FROM outbox");
	if (!s || sqlite3_bind_int64(s, 1, test_id) != SQLITE_OK ||
	    tl_store_bind_text(s, 2, kind) != SQLITE_OK || sqlite3_bind_int(s, 3, version) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_ROW) {
		tl_store_fail_db(st, what, err);
		sqlite3_finalize(s);
		return -1;
	}
	char control[64];
	snprintf(control, sizeof control, "TL%s-%" PRId64, (const char *)sqlite3_column_text(s, 0),
		 (int64_t)sqlite3_column_int64(s, 1));
	*id = sqlite3_column_int64(s, 1);
	bool exists = sqlite3_column_int(s, 2) > 0;
	sqlite3_finalize(s);
	if (exists && resend_of == 0) {
		tl_err_set(err, "store: %s: test %" PRId64 " already has its %s message of report "
			   "version %d (retry it, or re-send it on purpose)", what, test_id, kind,
			   version);
		return 0;
	}
	unsigned char *payload = NULL;
	size_t len = len_in;
	if (build) {
		int b = build(arg, kind, control, version, &payload, &len, err);
		if (b <= 0) {
			free(payload); /* a builder that declined after all */
			return b;
		}
	}
	const unsigned char *bytes = build ? payload : payload_in;
	s = prep(st, "INSERT INTO outbox (id, test_id, kind, report_version, resend_of, control_id,"
		     " payload, created_at, state, attempts, next_at)"
		     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'queued', 0, ?8)");
	if (s && (sqlite3_bind_int64(s, 1, *id) != SQLITE_OK ||
		  sqlite3_bind_int64(s, 2, test_id) != SQLITE_OK ||
		  tl_store_bind_text(s, 3, kind) != SQLITE_OK ||
		  sqlite3_bind_int(s, 4, version) != SQLITE_OK ||
		  (resend_of ? sqlite3_bind_int64(s, 5, resend_of) : sqlite3_bind_null(s, 5)) != SQLITE_OK ||
		  tl_store_bind_text(s, 6, control) != SQLITE_OK ||
		  sqlite3_bind_blob64(s, 7, bytes ? (const void *)bytes : "", len, SQLITE_TRANSIENT) != SQLITE_OK ||
		  tl_store_bind_text(s, 8, now) != SQLITE_OK)) {
		sqlite3_finalize(s);
		s = NULL;
	}
	free(payload);
	if (step_done(st, s, what, err) < 0)
		return -1;
	char detail[96];
	if (resend_of)
		snprintf(detail, sizeof detail, "%s, a re-send of message %" PRId64, control, resend_of);
	else
		snprintf(detail, sizeof detail, "%s", control);
	return history(st, *id, now, "queued", detail, what, err) < 0 ? -1 : 1;
}

int tl_store_outbox_add_in(struct tl_store *st, int64_t test_id, int version,
			   const struct tl_store_outbox_plan *plan, const char *now,
			   struct tl_err *err)
{
	char what[TL_STORE_WHAT_MAX];
	int n = 0;
	for (size_t i = 0; i < plan->n; i++) {
		snprintf(what, sizeof what, "queuing the %s message of test %" PRId64, plan->kinds[i],
			 test_id);
		int64_t id;
		struct tl_err e = {""};
		int r = insert_msg(st, test_id, plan->kinds[i], version, 0, NULL, 0, plan->build,
				   plan->arg, now, &id, what, &e);
		if (r < 0) {
			*err = e;
			return -1;
		}
		if (r > 0)
			n++;
		else
			*err = e; /* why this one was not queued */
	}
	return n;
}

int tl_store_outbox_queue(struct tl_store *st, int64_t test_id, int version,
			  const struct tl_store_outbox_plan *plan, const char *now,
			  struct tl_err *err)
{
	char what[TL_STORE_WHAT_MAX];
	snprintf(what, sizeof what, "queuing the messages of test %" PRId64, test_id);
	if (tl_store_check_writable(st, what, err) < 0 ||
	    tl_store_check_utc(now, "now", what, err) < 0 || tl_store_begin_write(st, what, err) < 0)
		return -1;
	int n = tl_store_outbox_add_in(st, test_id, version, plan, now, err);
	if (n < 0) {
		tl_store_rollback(st);
		return -1;
	}
	return tl_store_commit(st, what, err) < 0 ? -1 : n;
}

int64_t tl_store_outbox_add(struct tl_store *st, int64_t test_id, const char *kind, int version,
			    int64_t resend_of, const unsigned char *payload, size_t len,
			    const char *now, struct tl_err *err)
{
	char what[TL_STORE_WHAT_MAX];
	snprintf(what, sizeof what, "queuing the %s message of test %" PRId64, kind ? kind : "?",
		 test_id);
	if (tl_store_check_writable(st, what, err) < 0 ||
	    tl_store_check_utc(now, "now", what, err) < 0)
		return -1;
	if (!tl_store_outbox_kind_ok(kind) || version < 0 || !payload || !len) {
		tl_err_set(err, "store: %s: kind must be hl7 or fhir, the version >= 0 and the "
			   "message not empty", what);
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
	int64_t id;
	int r = insert_msg(st, test_id, kind, version, resend_of, payload, len, NULL, NULL, now, &id,
			   what, err);
	if (r <= 0) {
		tl_store_rollback(st);
		return r;
	}
	if (tl_store_commit(st, what, err) < 0)
		return -1;
	return id;
}

int tl_store_outbox_resume(struct tl_store *st, const char *now, struct tl_err *err)
{
	const char *what = "resuming the outbox";
	if (tl_store_begin_write(st, what, err) < 0)
		return -1;
	/* The receiver may have had it: it comes again with the same control id. */
	if (exec_sql(st, "CREATE TEMP TABLE IF NOT EXISTS resumed (id INTEGER);"
			 "DELETE FROM temp.resumed;"
			 "INSERT INTO temp.resumed SELECT id FROM outbox WHERE state = 'sending';",
		     what, err) < 0)
		goto fail;
	sqlite3_stmt *s = prep(st, "INSERT INTO outbox_history (outbox_id, at, event, detail)"
				   " SELECT id, ?1, 'resumed', 'the daemon stopped during an attempt:"
				   " sent again with the same control id (the receiver may see it"
				   " twice)' FROM temp.resumed");
	if (s && tl_store_bind_text(s, 1, now) != SQLITE_OK) {
		sqlite3_finalize(s);
		s = NULL;
	}
	if (step_done(st, s, what, err) < 0)
		goto fail;
	s = prep(st, "UPDATE outbox SET state = 'queued', next_at = ?1 WHERE state = 'sending'");
	if (s && tl_store_bind_text(s, 1, now) != SQLITE_OK) {
		sqlite3_finalize(s);
		s = NULL;
	}
	int n = step_done(st, s, what, err);
	if (n < 0 || exec_sql(st, "DROP TABLE temp.resumed", what, err) < 0)
		goto fail;
	if (tl_store_commit(st, what, err) < 0)
		return -1;
	return n;
fail:
	tl_store_rollback(st);
	return -1;
}

static void fill_msg(sqlite3_stmt *s, struct tl_store_outbox_msg *m)
{
	m->id = sqlite3_column_int64(s, 0);
	m->test_id = sqlite3_column_int64(s, 1);
	snprintf(m->kind, sizeof m->kind, "%s", (const char *)sqlite3_column_text(s, 2));
	snprintf(m->control_id, sizeof m->control_id, "%s", (const char *)sqlite3_column_text(s, 3));
	snprintf(m->state, sizeof m->state, "%s", (const char *)sqlite3_column_text(s, 4));
	m->attempts = sqlite3_column_int(s, 5);
	snprintf(m->next_at, sizeof m->next_at, "%s", (const char *)sqlite3_column_text(s, 6));
}

int tl_store_outbox_next(struct tl_store *st, const char *kind, const char *now,
			 struct tl_store_outbox_msg *out, char next_at[32], struct tl_err *err)
{
	char what[TL_STORE_WHAT_MAX];
	snprintf(what, sizeof what, "reading the %s outbox", kind);
	memset(out, 0, sizeof *out);
	next_at[0] = 0;
	if (tl_store_begin_read(st, what, err) < 0)
		return -1;
	sqlite3_stmt *s = prep(st, "SELECT id, test_id, kind, control_id, state, attempts, next_at,"
				   " payload FROM outbox WHERE kind = ?1 AND state = 'queued'"
				   " ORDER BY next_at > ?2, id LIMIT 1");
	if (!s || tl_store_bind_text(s, 1, kind) != SQLITE_OK ||
	    tl_store_bind_text(s, 2, now) != SQLITE_OK) {
		sqlite3_finalize(s);
		tl_store_fail_db(st, what, err);
		tl_store_rollback(st);
		return -1;
	}
	int rc = sqlite3_step(s), found = 0;
	if (rc == SQLITE_ROW) {
		fill_msg(s, out);
		if (strcmp(out->next_at, now) > 0) {
			snprintf(next_at, 32, "%s", out->next_at); /* none due yet */
		} else {
			size_t n = (size_t)sqlite3_column_bytes(s, 7);
			out->payload = malloc(n + 1);
			if (!out->payload) {
				tl_err_set(err, "store: %s: out of memory", what);
				rc = SQLITE_NOMEM;
			} else {
				memcpy(out->payload, sqlite3_column_blob(s, 7), n);
				out->payload[n] = 0;
				out->len = n;
				found = 1;
			}
		}
	} else if (rc != SQLITE_DONE) {
		tl_store_fail_db(st, what, err);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		tl_store_rollback(st);
		return -1;
	}
	if (!found && rc == SQLITE_ROW) {
		/* the earliest due of all (the first row was ordered by id among the not due) */
		s = prep(st, "SELECT min(next_at) FROM outbox WHERE kind = ?1 AND state = 'queued'");
		if (s && tl_store_bind_text(s, 1, kind) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW &&
		    sqlite3_column_text(s, 0))
			snprintf(next_at, 32, "%s", (const char *)sqlite3_column_text(s, 0));
		sqlite3_finalize(s);
	}
	if (tl_store_commit(st, what, err) < 0) {
		tl_store_outbox_msg_free(out);
		return -1;
	}
	return found;
}

void tl_store_outbox_msg_free(struct tl_store_outbox_msg *m)
{
	free(m->payload);
	m->payload = NULL;
}

int tl_store_outbox_attempt(struct tl_store *st, int64_t id, const char *now, struct tl_err *err)
{
	char what[TL_STORE_WHAT_MAX];
	snprintf(what, sizeof what, "starting an attempt of outbox message %" PRId64, id);
	if (tl_store_begin_write(st, what, err) < 0)
		return -1;
	sqlite3_stmt *s = prep(st, "UPDATE outbox SET state = 'sending', attempts = attempts + 1"
				   " WHERE id = ?1 AND state = 'queued'");
	if (s && sqlite3_bind_int64(s, 1, id) != SQLITE_OK) {
		sqlite3_finalize(s);
		s = NULL;
	}
	int n = step_done(st, s, what, err);
	if (n < 0)
		goto fail;
	if (n == 0) {
		tl_err_set(err, "store: %s: it is no longer queued", what);
		tl_store_rollback(st);
		return 0;
	}
	char detail[32];
	s = prep(st, "SELECT attempts FROM outbox WHERE id = ?1");
	int k = 0;
	if (s && sqlite3_bind_int64(s, 1, id) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		k = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	snprintf(detail, sizeof detail, "attempt %d", k);
	if (history(st, id, now, "attempt", detail, what, err) < 0)
		goto fail;
	return tl_store_commit(st, what, err) < 0 ? -1 : 1;
fail:
	tl_store_rollback(st);
	return -1;
}

int tl_store_outbox_outcome(struct tl_store *st, int64_t id, const char *event, const char *detail,
			    const char *state, const char *next_at, const char *now,
			    struct tl_err *err)
{
	char what[TL_STORE_WHAT_MAX];
	snprintf(what, sizeof what, "recording the answer to outbox message %" PRId64, id);
	if (tl_store_check_text(detail, "detail", true, what, err) < 0)
		return -1;
	bool delivered = !strcmp(state, "delivered"), failed = !strcmp(state, "failed");
	if (!delivered && !failed && strcmp(state, "queued")) {
		tl_err_set(err, "store: %s: state must be delivered, failed or queued", what);
		return -1;
	}
	if (!delivered && !failed && tl_store_check_utc(next_at, "next_at", what, err) < 0)
		return -1;
	if (tl_store_begin_write(st, what, err) < 0)
		return -1;
	sqlite3_stmt *s = prep(st, "UPDATE outbox SET state = ?2, next_at = coalesce(?3, next_at),"
				   " last_error = CASE WHEN ?2 = 'delivered' THEN NULL ELSE ?4 END,"
				   " delivered_at = CASE WHEN ?2 = 'delivered' THEN ?5 END"
				   " WHERE id = ?1 AND state = 'sending'");
	if (s && (sqlite3_bind_int64(s, 1, id) != SQLITE_OK || tl_store_bind_text(s, 2, state) != SQLITE_OK ||
		  tl_store_bind_text(s, 3, delivered || failed ? NULL : next_at) != SQLITE_OK ||
		  tl_store_bind_text(s, 4, detail) != SQLITE_OK || tl_store_bind_text(s, 5, now) != SQLITE_OK)) {
		sqlite3_finalize(s);
		s = NULL;
	}
	int n = step_done(st, s, what, err);
	if (n < 0)
		goto fail;
	if (n == 0) {
		tl_err_set(err, "store: %s: it is not being sent", what);
		tl_store_rollback(st);
		return 0;
	}
	char after[96];
	if (delivered || failed)
		snprintf(after, sizeof after, "%s", state);
	else
		snprintf(after, sizeof after, "next attempt at %s", next_at);
	if (history(st, id, now, event, detail, what, err) < 0 ||
	    history(st, id, now, delivered ? "delivered" : failed ? "failed" : "retry",
		    delivered || failed ? NULL : after, what, err) < 0)
		goto fail;
	return tl_store_commit(st, what, err) < 0 ? -1 : 1;
fail:
	tl_store_rollback(st);
	return -1;
}

/* Moves a message from one of the states in `from` to `to` with a history line. */
static int operator_change(struct tl_store *st, int64_t id, const char *from_sql, const char *to,
			   const char *event, const char *who, const char *now, const char *what,
			   const char *refusal, struct tl_err *err)
{
	if (tl_store_check_utc(now, "now", what, err) < 0 ||
	    tl_store_check_id(who, "operator", true, what, err) < 0)
		return -1;
	if (tl_store_begin_write(st, what, err) < 0)
		return -1;
	sqlite3_stmt *s = prep(st, "SELECT state FROM outbox WHERE id = ?1");
	int rc = s && sqlite3_bind_int64(s, 1, id) == SQLITE_OK ? sqlite3_step(s) : SQLITE_ERROR;
	char state[16] = "";
	if (rc == SQLITE_ROW)
		snprintf(state, sizeof state, "%s", (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		tl_store_fail_db(st, what, err);
		goto fail;
	}
	if (rc == SQLITE_DONE) {
		tl_err_set(err, "store: %s: no outbox message %" PRId64, what, id);
		tl_store_rollback(st);
		return 0;
	}
	if (!strstr(from_sql, state)) {
		tl_err_set(err, "store: %s: it is %s; %s", what, state, refusal);
		tl_store_rollback(st);
		return -2;
	}
	/* A retry starts a new round of attempts (the history keeps the earlier ones). */
	s = prep(st, "UPDATE outbox SET state = ?2, next_at = CASE WHEN ?2 = 'queued' THEN ?3"
		     " ELSE next_at END, attempts = CASE WHEN ?2 = 'queued' THEN 0 ELSE attempts END"
		     " WHERE id = ?1");
	if (s && (sqlite3_bind_int64(s, 1, id) != SQLITE_OK || tl_store_bind_text(s, 2, to) != SQLITE_OK ||
		  tl_store_bind_text(s, 3, now) != SQLITE_OK)) {
		sqlite3_finalize(s);
		s = NULL;
	}
	char detail[96];
	snprintf(detail, sizeof detail, "by %s", who ? who : "the system");
	if (step_done(st, s, what, err) < 0 || history(st, id, now, event, detail, what, err) < 0)
		goto fail;
	return tl_store_commit(st, what, err) < 0 ? -1 : 1;
fail:
	tl_store_rollback(st);
	return -1;
}

int tl_store_outbox_retry(struct tl_store *st, int64_t id, const char *who, const char *now,
			  struct tl_err *err)
{
	char what[TL_STORE_WHAT_MAX];
	snprintf(what, sizeof what, "retrying outbox message %" PRId64, id);
	return operator_change(st, id, "failed cancelled", "queued", "retry-requested", who, now,
			       what, "only a failed or cancelled message is retried", err);
}

int tl_store_outbox_cancel(struct tl_store *st, int64_t id, const char *who, const char *now,
			   struct tl_err *err)
{
	char what[TL_STORE_WHAT_MAX];
	snprintf(what, sizeof what, "cancelling outbox message %" PRId64, id);
	return operator_change(st, id, "queued failed", "cancelled", "cancelled", who, now, what,
			       "only a queued or failed message is cancelled (one being sent: "
			       "wait for its answer)", err);
}

static json_t *col_json(sqlite3_stmt *s, int i)
{
	switch (sqlite3_column_type(s, i)) {
	case SQLITE_INTEGER:
		return json_integer(sqlite3_column_int64(s, i));
	case SQLITE_TEXT:
		return json_string((const char *)sqlite3_column_text(s, i));
	default:
		return json_null();
	}
}

/* Rows of s as objects with these names. */
static json_t *rows_json(struct tl_store *st, sqlite3_stmt *s, const char *const *names, int n,
			 const char *what, struct tl_err *err)
{
	json_t *arr = json_array();
	int rc;
	while (arr && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		json_t *o = json_object();
		for (int i = 0; o && i < n; i++) {
			json_t *v = col_json(s, i);
			if (!v || json_object_set_new(o, names[i], v)) {
				json_decref(o);
				o = NULL;
			}
		}
		if (!o || json_array_append_new(arr, o)) {
			json_decref(arr);
			arr = NULL;
		}
	}
	if (!arr) {
		tl_err_set(err, "store: %s: out of memory", what);
		return NULL;
	}
	if (rc != SQLITE_DONE) {
		tl_store_fail_db(st, what, err);
		json_decref(arr);
		return NULL;
	}
	return arr;
}

static const char *const msg_names[] = {"id", "test", "kind", "report_version", "resend_of",
					"control_id", "created_at", "state", "attempts", "next_at",
					"last_error", "delivered_at", "bytes"};
#define MSG_COLS "id, test_id, kind, report_version, resend_of, control_id, created_at, state," \
		 " attempts, next_at, last_error, delivered_at, length(payload)"

json_t *tl_store_outbox_json(struct tl_store *st, struct tl_err *err)
{
	const char *what = "listing the outbox";
	sqlite3_stmt *s = prep(st, "SELECT " MSG_COLS " FROM outbox ORDER BY id");
	if (!s) {
		tl_store_fail_db(st, what, err);
		return NULL;
	}
	json_t *arr = rows_json(st, s, msg_names, 13, what, err);
	sqlite3_finalize(s);
	return arr;
}

json_t *tl_store_outbox_msg_json(struct tl_store *st, int64_t id, bool with_payload,
				 struct tl_err *err)
{
	char what[TL_STORE_WHAT_MAX];
	snprintf(what, sizeof what, "reading outbox message %" PRId64, id);
	if (tl_store_begin_read(st, what, err) < 0)
		return NULL;
	json_t *msg = NULL, *hist = NULL;
	sqlite3_stmt *s = prep(st, "SELECT " MSG_COLS ", payload FROM outbox WHERE id = ?1");
	if (!s || sqlite3_bind_int64(s, 1, id) != SQLITE_OK) {
		tl_store_fail_db(st, what, err);
		goto out;
	}
	json_t *arr = rows_json(st, s, msg_names, 13, what, err);
	sqlite3_reset(s);
	if (arr && json_array_size(arr) == 1) {
		msg = json_incref(json_array_get(arr, 0));
		if (with_payload && sqlite3_step(s) == SQLITE_ROW) {
			/* the message as text (an HL7 message or JSON: UTF-8 text; null if not) */
			json_t *p = json_stringn((const char *)sqlite3_column_blob(s, 13),
						  (size_t)sqlite3_column_bytes(s, 13));
			json_object_set_new(msg, "payload", p ? p : json_null());
		}
	} else if (arr) {
		tl_err_set(err, "store: no outbox message %" PRId64, id);
	}
	json_decref(arr);
	sqlite3_finalize(s);
	s = NULL;
	if (!msg)
		goto out;
	static const char *const hn[] = {"at", "event", "detail"};
	s = prep(st, "SELECT at, event, detail FROM outbox_history WHERE outbox_id = ?1 ORDER BY id");
	if (!s || sqlite3_bind_int64(s, 1, id) != SQLITE_OK) {
		tl_store_fail_db(st, what, err);
		goto out;
	}
	hist = rows_json(st, s, hn, 3, what, err);
	if (!hist || json_object_set_new(msg, "history", hist)) {
		if (hist)
			tl_err_set(err, "store: %s: out of memory", what);
		json_decref(msg);
		msg = NULL;
	}
out:
	sqlite3_finalize(s);
	tl_store_rollback(st);
	return msg;
}

int tl_store_outbox_counts(struct tl_store *st, int *undelivered, int *failed, struct tl_err *err)
{
	const char *what = "counting the outbox";
	sqlite3_stmt *s = prep(st, "SELECT count(*) FILTER (WHERE state IN ('queued', 'sending',"
				   " 'failed')), count(*) FILTER (WHERE state = 'failed') FROM outbox");
	if (!s || sqlite3_step(s) != SQLITE_ROW) {
		tl_store_fail_db(st, what, err);
		sqlite3_finalize(s);
		return -1;
	}
	*undelivered = sqlite3_column_int(s, 0);
	*failed = sqlite3_column_int(s, 1);
	sqlite3_finalize(s);
	return 0;
}
