/* store_db.c - the connection: its statement cache, transactions, errors, closing. The
 * open sequence (pragmas, checks, schema) is store_open.c. */
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

static const char *const stmt_sql[TL_ST_COUNT] = {
	[TL_ST_BEGIN_WRITE] = "BEGIN IMMEDIATE",
	[TL_ST_BEGIN_READ] = "BEGIN DEFERRED",
	[TL_ST_COMMIT] = "COMMIT",
	[TL_ST_ROLLBACK] = "ROLLBACK",
	[TL_ST_PATIENT_FIND] = "SELECT id FROM patients WHERE mrn = ?1",
	[TL_ST_PATIENT_ADD] = "INSERT INTO patients (mrn, created_at) VALUES (?1, ?2)",
	[TL_ST_TEST_ADD] = "INSERT INTO tests (patient_id, protocol_name, protocol_text, "
			   "protocol_json, operator, state, started_at, time_scale, "
			   "software_version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[TL_ST_TEST_EXISTS] = "SELECT 1 FROM tests WHERE id = ?1",
	[TL_ST_EVENT_ADD] = "INSERT INTO events (test_id, t_ms, kind, source, operator, detail, "
			    "value, recorded_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[TL_ST_SAMPLE_ADD] = "INSERT INTO samples (test_id, t_ms, target_speed_kmh, "
			     "actual_speed_kmh, target_grade_pct, actual_grade_pct, distance_m) "
			     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[TL_ST_TEST_STATE] = "UPDATE tests SET state = ?2, end_reason = COALESCE(?3, end_reason), "
			     "ended_at = COALESCE(?4, ended_at) WHERE id = ?1",
	[TL_ST_TEST_ENDPOINTS] = "UPDATE tests SET cot_s = ?2, pwt_s = ?3, icd_m = ?4, acd_m = ?5, "
				 "walking_time_s = ?6, distance_m = ?7, recovery_s = ?8 "
				 "WHERE id = ?1",
	[TL_ST_PRESSURE_ADD] = "INSERT INTO pressures (test_id, phase, minute, site, mmhg, "
			       "operator, source, recorded_at, noncompressible, confirmed, peer, "
			       "interval_ms, deflation_mmhg_s) "
			       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
	[TL_ST_FINDINGS_SET] = "UPDATE tests SET findings_json = ?2, findings_operator = ?3, "
			       "findings_at = ?4, findings_peer = ?5 WHERE id = ?1",
	[TL_ST_RESULTS_SET] = "UPDATE tests SET abi_json = ?2, classification_json = ?3 "
			      "WHERE id = ?1",
	[TL_ST_AUDIT_ADD] = "INSERT INTO audit (at, operator, command, detail, result, peer) "
			    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[TL_ST_OPEN_TESTS] = "SELECT id, state FROM tests "
			     "WHERE state IN ('starting', 'running', 'resting', 'stopping', "
			     "'recovery') "
			     "ORDER BY id",
	[TL_ST_LAST_T_MS] = "SELECT max(COALESCE((SELECT max(t_ms) FROM events WHERE test_id = ?1), 0), "
			    "COALESCE((SELECT max(t_ms) FROM samples WHERE test_id = ?1), 0))",
	[TL_ST_INTERRUPT] = "UPDATE tests SET state = 'interrupted', "
			    "end_reason = COALESCE(end_reason, 'interrupted'), "
			    "ended_at = COALESCE(ended_at, ?2) WHERE id = ?1",
	[TL_ST_TEST_GET] = "SELECT t.id, p.mrn, t.protocol_name, t.operator, t.state, "
			   "t.end_reason, t.started_at, t.ended_at, t.time_scale, t.cot_s, "
			   "t.pwt_s, t.icd_m, t.acd_m, t.walking_time_s, t.distance_m, "
			   "t.recovery_s, t.protocol_json, t.findings_json, t.findings_operator, "
			   "t.findings_at, t.abi_json, t.classification_json, t.software_version, "
			   "p.assigning_authority, p.family, p.given, p.birth_date, p.sex, "
			   "t.accession, t.physician_id, t.physician_family, t.physician_given "
			   "FROM tests t JOIN patients p ON p.id = t.patient_id WHERE t.id = ?1",
	[TL_ST_EVENTS_GET] = "SELECT t_ms, kind, source, operator, detail, value, recorded_at "
			     "FROM events WHERE test_id = ?1 ORDER BY t_ms, id",
	[TL_ST_PRESSURES_GET] = "SELECT phase, minute, site, mmhg, noncompressible, confirmed, "
				"operator, source, recorded_at, interval_ms, deflation_mmhg_s "
				"FROM pressures WHERE test_id = ?1 "
				"ORDER BY phase = 'post', minute, id",
	[TL_ST_SAMPLES_GET] = "SELECT t_ms, target_speed_kmh, actual_speed_kmh, target_grade_pct, "
			      "actual_grade_pct, distance_m FROM samples WHERE test_id = ?1 "
			      "ORDER BY t_ms, id",
	[TL_ST_TESTS_ALL] = "SELECT t.id, p.mrn, t.protocol_name, t.operator, t.state, "
			    "t.end_reason, t.started_at, t.ended_at, t.time_scale, t.cot_s, "
			    "t.pwt_s, t.icd_m, t.acd_m, t.walking_time_s, t.distance_m, "
			    "t.recovery_s FROM tests t JOIN patients p ON p.id = t.patient_id "
			    "ORDER BY t.started_at DESC, t.id DESC",
	[TL_ST_TESTS_OF_PATIENT] = "SELECT t.id, p.mrn, t.protocol_name, t.operator, t.state, "
				   "t.end_reason, t.started_at, t.ended_at, t.time_scale, t.cot_s, "
				   "t.pwt_s, t.icd_m, t.acd_m, t.walking_time_s, t.distance_m, "
				   "t.recovery_s FROM tests t JOIN patients p ON p.id = t.patient_id "
				   "WHERE p.mrn = ?1 ORDER BY t.started_at DESC, t.id DESC",
	[TL_ST_PROTOCOL_TEXT] = "SELECT protocol_text FROM tests WHERE id = ?1",
	[TL_ST_AUDIT_GET] = "SELECT id, at, operator, command, detail, result, peer FROM audit "
			    "ORDER BY id DESC LIMIT ?1",
	[TL_ST_JSON_VALID] = "SELECT json_valid(?1)",
	[TL_ST_PRESSURE_COUNT] = "SELECT count(*) FROM pressures WHERE test_id = ?1",
};

/* Failures of the storage itself, which may pass: everything but a refusal of what was
 * asked (constraints, type, size, misuse). */
static bool is_fault(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_FULL: case SQLITE_IOERR: case SQLITE_BUSY: case SQLITE_LOCKED:
	case SQLITE_NOMEM: case SQLITE_READONLY: case SQLITE_CANTOPEN: case SQLITE_PROTOCOL:
	case SQLITE_CORRUPT: case SQLITE_NOTADB: case SQLITE_NOLFS:
		return true;
	default:
		return false;
	}
}

int tl_store_fail_db(struct tl_store *st, const char *what, struct tl_err *err)
{
	st->fault = is_fault(sqlite3_extended_errcode(st->db));
	tl_err_set(err, "store: %s: %s", what, sqlite3_errmsg(st->db));
	return -1;
}

bool tl_store_fault(const struct tl_store *st)
{
	return st->fault;
}

void tl_store_fault_clear(struct tl_store *st)
{
	st->fault = false;
}

sqlite3_stmt *tl_store_stmt(struct tl_store *st, enum tl_stmt_id id, const char *what,
			    struct tl_err *err)
{
	if (st->stmt[id])
		return st->stmt[id];
	if (sqlite3_prepare_v3(st->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &st->stmt[id],
			       NULL) != SQLITE_OK) {
		tl_store_fail_db(st, what, err);
		st->stmt[id] = NULL;
		return NULL;
	}
	return st->stmt[id];
}

void tl_store_stmt_done(sqlite3_stmt *stmt)
{
	/* The step's error was already reported; reset repeats it, so its result is moot. */
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
}

int tl_store_exec_stmt(struct tl_store *st, sqlite3_stmt *stmt, const char *what,
		       struct tl_err *err)
{
	int rc = sqlite3_step(stmt);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		tl_store_fail_db(st, what, err);
		tl_store_stmt_done(stmt);
		return -1;
	}
	tl_store_stmt_done(stmt);
	return 0;
}

static int run_cached(struct tl_store *st, enum tl_stmt_id id, const char *what,
		      struct tl_err *err)
{
	sqlite3_stmt *stmt = tl_store_stmt(st, id, what, err);
	if (!stmt)
		return -1;
	return tl_store_exec_stmt(st, stmt, what, err);
}

/* A connection opened read-only (the API's readers) refuses writes with a message, before
 * SQLite would give a less helpful one. */
int tl_store_check_writable(struct tl_store *st, const char *what, struct tl_err *err)
{
	if (!st->read_only)
		return 0;
	tl_err_set(err, "store: %s: this connection was opened read-only", what);
	return -1;
}

int tl_store_begin_write(struct tl_store *st, const char *what, struct tl_err *err)
{
	if (tl_store_check_writable(st, what, err) < 0)
		return -1;
	tl_store_rollback(st);
	return run_cached(st, TL_ST_BEGIN_WRITE, what, err);
}

int tl_store_begin_read(struct tl_store *st, const char *what, struct tl_err *err)
{
	tl_store_rollback(st);
	return run_cached(st, TL_ST_BEGIN_READ, what, err);
}

int tl_store_commit(struct tl_store *st, const char *what, struct tl_err *err)
{
	if (run_cached(st, TL_ST_COMMIT, what, err) < 0) {
		/* A failed COMMIT may leave the transaction open (SQLITE_BUSY); never leave it
		 * open for the next caller to commit by accident. */
		tl_store_rollback(st);
		return -1;
	}
	return 0;
}

void tl_store_rollback(struct tl_store *st)
{
	/* After an I/O error SQLite may already have rolled back on its own. */
	if (sqlite3_get_autocommit(st->db))
		return;
	/* ROLLBACK was prepared at open, so ending a transaction needs no memory; the next
	 * begin calls this again should it still have failed. */
	struct tl_err ignored;
	run_cached(st, TL_ST_ROLLBACK, "rolling back", &ignored);
}

int tl_store_bind_real(sqlite3_stmt *stmt, int i, double v)
{
	return isnan(v) ? sqlite3_bind_null(stmt, i) : sqlite3_bind_double(stmt, i, v);
}

int tl_store_bind_text(sqlite3_stmt *stmt, int i, const char *s)
{
	return s ? sqlite3_bind_text(stmt, i, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(stmt, i);
}

void tl_store_close(struct tl_store *st)
{
	if (!st)
		return;
	for (int i = 0; i < TL_ST_COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	sqlite3_close_v2(st->db);
	free(st);
}

int tl_store_busy_timeout_set(struct tl_store *st, int timeout_ms, struct tl_err *err)
{
	if (timeout_ms < 0) {
		tl_err_set(err, "store: setting busy timeout: %d ms is negative", timeout_ms);
		return -1;
	}
	if (sqlite3_busy_timeout(st->db, timeout_ms) != SQLITE_OK)
		return tl_store_fail_db(st, "setting busy timeout", err);
	return 0;
}
