/* store_recover.c - closing the tests a daemon left open when it died.
 *
 * Run once at start-up, before the writer takes new work. Nothing recorded is removed or
 * changed: the test only gets a final state, an end time and an event saying it was
 * interrupted, so the report shows exactly what was recorded until the daemon stopped. */
#include "store_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

struct open_test {
	int64_t id;
	char state[72];
};

/* Collects the open tests first: changing rows while a SELECT walks them is legal in SQLite
 * but hard to reason about. */
static int open_tests(struct tl_store *st, struct open_test **out, size_t *n, const char *what,
		      struct tl_err *err)
{
	sqlite3_stmt *stmt = tl_store_stmt(st, TL_ST_OPEN_TESTS, what, err);
	if (!stmt)
		return -1;
	size_t cap = 0;
	*out = NULL;
	*n = 0;
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? 2 * cap : 4;
			struct open_test *grown = realloc(*out, cap * sizeof **out);
			if (!grown) {
				tl_err_set(err, "store: %s: out of memory", what);
				goto fail;
			}
			*out = grown;
		}
		(*out)[*n].id = sqlite3_column_int64(stmt, 0);
		const unsigned char *state = sqlite3_column_text(stmt, 1);
		snprintf((*out)[*n].state, sizeof (*out)[*n].state, "%s", state ? (const char *)state : "?");
		(*n)++;
	}
	if (rc != SQLITE_DONE) {
		tl_store_fail_db(st, what, err);
		goto fail;
	}
	tl_store_stmt_done(stmt);
	return 0;
fail:
	tl_store_stmt_done(stmt);
	free(*out);
	*out = NULL;
	return -1;
}

static int64_t last_t_ms(struct tl_store *st, int64_t test_id, const char *what,
			 struct tl_err *err)
{
	sqlite3_stmt *stmt = tl_store_stmt(st, TL_ST_LAST_T_MS, what, err);
	if (!stmt)
		return -1;
	if (sqlite3_bind_int64(stmt, 1, test_id) != SQLITE_OK || sqlite3_step(stmt) != SQLITE_ROW) {
		tl_store_fail_db(st, what, err);
		tl_store_stmt_done(stmt);
		return -1;
	}
	int64_t t_ms = sqlite3_column_int64(stmt, 0);
	tl_store_stmt_done(stmt);
	return t_ms;
}

static int close_one(struct tl_store *st, const struct open_test *t, const char *now_utc,
		     struct tl_err *err)
{
	char what[TL_STORE_WHAT_MAX];
	snprintf(what, sizeof what, "closing interrupted test %" PRId64, t->id);
	int64_t t_ms = last_t_ms(st, t->id, what, err);
	if (t_ms < 0)
		return -1;
	char detail[160];
	snprintf(detail, sizeof detail,
		 "the daemon stopped while the test was %s; closed when it started again",
		 t->state);
	sqlite3_stmt *ev = tl_store_stmt(st, TL_ST_EVENT_ADD, what, err);
	if (!ev)
		return -1;
	if (sqlite3_bind_int64(ev, 1, t->id) != SQLITE_OK ||
	    sqlite3_bind_int64(ev, 2, t_ms) != SQLITE_OK ||
	    tl_store_bind_text(ev, 3, "interrupted") != SQLITE_OK ||
	    tl_store_bind_text(ev, 4, "system") != SQLITE_OK ||
	    sqlite3_bind_null(ev, 5) != SQLITE_OK ||
	    tl_store_bind_text(ev, 6, detail) != SQLITE_OK || sqlite3_bind_null(ev, 7) != SQLITE_OK ||
	    tl_store_bind_text(ev, 8, now_utc) != SQLITE_OK) {
		tl_store_fail_db(st, what, err);
		tl_store_stmt_done(ev);
		return -1;
	}
	if (tl_store_exec_stmt(st, ev, what, err) < 0)
		return -1;
	sqlite3_stmt *up = tl_store_stmt(st, TL_ST_INTERRUPT, what, err);
	if (!up)
		return -1;
	if (sqlite3_bind_int64(up, 1, t->id) != SQLITE_OK ||
	    tl_store_bind_text(up, 2, now_utc) != SQLITE_OK) {
		tl_store_fail_db(st, what, err);
		tl_store_stmt_done(up);
		return -1;
	}
	return tl_store_exec_stmt(st, up, what, err);
}

int tl_store_recover_interrupted(struct tl_store *st, const char *now_utc, struct tl_err *err)
{
	const char *what = "closing interrupted tests";
	if (tl_store_check_utc(now_utc, "now", what, err) < 0 ||
	    tl_store_begin_write(st, what, err) < 0)
		return -1;
	struct open_test *tests;
	size_t n;
	if (open_tests(st, &tests, &n, what, err) < 0)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		if (close_one(st, &tests[i], now_utc, err) < 0) {
			free(tests);
			goto fail;
		}
	}
	free(tests);
	if (tl_store_commit(st, what, err) < 0)
		return -1;
	return (int)n;
fail:
	tl_store_rollback(st);
	return -1;
}
