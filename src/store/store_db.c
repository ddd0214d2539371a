/* store_db.c - the connection: opening, pragmas, the statement cache, transactions. */
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

/* A lock held by another connection (a reader checkpointing, a second process) is waited
 * for this long before a write fails; long enough for any checkpoint, short enough that a
 * stuck writer is reported while the technician is still at the treadmill. */
#define TL_STORE_BUSY_MS 5000

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
			       "operator, source, recorded_at, noncompressible, confirmed, peer) "
			       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
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
			   "t.findings_at, t.abi_json, t.classification_json, t.software_version "
			   "FROM tests t JOIN patients p ON p.id = t.patient_id WHERE t.id = ?1",
	[TL_ST_EVENTS_GET] = "SELECT t_ms, kind, source, operator, detail, value, recorded_at "
			     "FROM events WHERE test_id = ?1 ORDER BY t_ms, id",
	[TL_ST_PRESSURES_GET] = "SELECT phase, minute, site, mmhg, noncompressible, confirmed, "
				"operator, source, recorded_at "
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

/* Runs one pragma (or any statement) whose rows, if any, are ignored. */
static int exec_sql(struct tl_store *st, const char *sql, const char *what, struct tl_err *err)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return tl_store_fail_db(st, what, err);
	return 0;
}

/* journal_mode answers with the mode it ended in; a file system without shared memory (or
 * a read-only directory) silently stays in "delete", which would lose the reader/writer
 * concurrency the daemon relies on, so anything but "wal" is an error. */
static int set_wal(struct tl_store *st, const char *path, struct tl_err *err)
{
	char what[TL_STORE_WHAT_MAX];
	snprintf(what, sizeof what, "setting WAL journal on %s", path);
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode=WAL", -1, &stmt, NULL) != SQLITE_OK)
		return tl_store_fail_db(st, what, err);
	int rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW) {
		tl_store_fail_db(st, what, err);
		sqlite3_finalize(stmt);
		return -1;
	}
	const char *mode = (const char *)sqlite3_column_text(stmt, 0);
	int ok = mode && sqlite3_stricmp(mode, "wal") == 0;
	if (!ok)
		tl_err_set(err, "store: %s: the journal stayed in mode '%s'", what,
			   mode ? mode : "?");
	sqlite3_finalize(stmt);
	return ok ? 0 : -1;
}

/* A new store is made 0640 whatever the umask (a daemon started by hand outside systemd
 * has 0022): the record is patients' data. SQLite gives the -wal and -shm files the
 * database's mode, so they follow. An existing file keeps the mode its owner gave it. */
static int create_private(const char *path, struct tl_err *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0) {
		if (errno == EEXIST)
			return 0;
		tl_err_set(err, "store: creating %s: %s", path, strerror(errno));
		return -1;
	}
	int rc = fchmod(fd, 0640); /* the umask may have taken bits away; it adds none */
	close(fd);
	if (rc < 0) {
		tl_err_set(err, "store: creating %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* A store the daemon cannot write is refused before SQLite reads it: reading a WAL
 * database makes -wal and -shm files that a read-only connection then cannot remove. */
static int check_writable_file(struct tl_store *st, const char *path, struct tl_err *err)
{
	if (sqlite3_db_readonly(st->db, "main") != 1)
		return 0;
	struct statvfs vfs;
	const char *why = "no write permission on the file";
	if (statvfs(path, &vfs) == 0 && (vfs.f_flag & ST_RDONLY))
		why = "its file system is mounted read-only";
	tl_err_set(err,
		   "store: %s is read-only (%s); treadlabd must be able to write the record: "
		   "fix the file's permissions or the mount, then start again",
		   path, why);
	return -1;
}

/* SQLite keeps -wal and -shm beside the database: the directory must take new files. */
static int check_writable_dir(const char *path, struct tl_err *err)
{
	char dir[4096];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, sizeof dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if (access(dir, W_OK) == 0)
		return 0;
	tl_err_set(err,
		   "store: %s: the directory %s is not writable (%s); SQLite needs to make the "
		   "-wal and -shm files beside the database",
		   path, dir, strerror(errno));
	return -1;
}

static struct tl_store *open_conn(const char *path, bool read_only, struct tl_err *err)
{
	if (!path || !*path) {
		tl_err_set(err, "store: opening: no path given");
		return NULL;
	}
	struct tl_store *st = calloc(1, sizeof *st);
	if (!st) {
		tl_err_set(err, "store: opening %s: out of memory", path);
		return NULL;
	}
	st->read_only = read_only;
	int flags = SQLITE_OPEN_FULLMUTEX |
		    (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
	int rc = sqlite3_open_v2(path, &st->db, flags, NULL);
	if (rc != SQLITE_OK) {
		tl_err_set(err, "store: opening %s: %s", path,
			   st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
		tl_store_close(st);
		return NULL;
	}
	if (!read_only && check_writable_file(st, path, err) < 0) {
		tl_store_close(st);
		return NULL;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, TL_STORE_BUSY_MS);
	char what[TL_STORE_WHAT_MAX];
	snprintf(what, sizeof what, "opening %s", path);
	if (!tl_store_stmt(st, TL_ST_ROLLBACK, what, err)) {
		tl_store_close(st);
		return NULL;
	}
	return st;
}

/* The whole file, read before anything is written to it. quick_check rather than
 * integrity_check: it reads every page of every table and index and checks the b-tree
 * structure, the free list, the cells and every record's format and NOT NULL/CHECK
 * constraints, which is where torn or overwritten pages show, in time linear in the
 * file. integrity_check adds that each index matches its table, a sort per index that
 * makes a station's years of samples slow to start on (3 million samples, 208 MB:
 * 1.7 s against 7.9 s here), for damage REINDEX repairs without losing a row. */
static int check_whole(struct tl_store *st, const char *path, struct tl_err *err)
{
	char what[TL_STORE_WHAT_MAX];
	snprintf(what, sizeof what, "checking %s", path);
	sqlite3_stmt *stmt;
	/* main only: the temp schema has nothing to check, and opening it can fail alone. */
	if (sqlite3_prepare_v2(st->db, "PRAGMA main.quick_check(1)", -1, &stmt, NULL) != SQLITE_OK)
		return tl_store_fail_db(st, what, err);
	int rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW && (sqlite3_extended_errcode(st->db) & 0xff) != SQLITE_CORRUPT) {
		tl_store_fail_db(st, what, err); /* could not check: not a verdict on the file */
		sqlite3_finalize(stmt);
		return -1;
	}
	const char *res = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(stmt, 0) : NULL;
	int ok = res && strcmp(res, "ok") == 0;
	if (!ok) {
		/* One line: the check's report runs over several ("*** in database main ***"). */
		char why[200];
		snprintf(why, sizeof why, "%s", res ? res : sqlite3_errmsg(st->db));
		const char *head = "*** in database main ***\n";
		char *start = strncmp(why, head, strlen(head)) ? why : why + strlen(head);
		for (char *p = start; *p; p++)
			if (*p == '\n' || *p == '\r')
				*p = ' ';
		tl_err_set(err,
			   "store: %s is damaged (quick_check: %s); it was left as it is: "
			   "restore it from a backup, or save what it holds with "
			   "'sqlite3 %s .recover', then start again",
			   path, start, path);
	}
	sqlite3_finalize(stmt);
	return ok ? 0 : -1;
}

/* A damaged header or schema page is already found by the first read. */
static int identify(struct tl_store *st, const char *path, int *version, struct tl_err *err)
{
	if (tl_store_schema_identify(st, path, version, err) == 0)
		return 0;
	if ((sqlite3_extended_errcode(st->db) & 0xff) == SQLITE_CORRUPT)
		tl_err_set(err,
			   "store: %s is damaged (%s); it was left as it is: restore it from a "
			   "backup, or save what it holds with 'sqlite3 %s .recover', then start again",
			   path, sqlite3_errmsg(st->db), path);
	return -1;
}

struct tl_store *tl_store_open(const char *path, struct tl_err *err)
{
	if (path && *path && create_private(path, err) < 0)
		return NULL;
	struct tl_store *st = open_conn(path, false, err);
	if (!st)
		return NULL;
	if (check_writable_dir(path, err) < 0) {
		tl_store_close(st);
		return NULL;
	}
	char what[TL_STORE_WHAT_MAX];
	snprintf(what, sizeof what, "configuring %s", path);
	/* Identify the file first: reading its header is where a file that is not a database,
	 * or is another program's, is found, before any pragma writes to it. */
	int version;
	if (identify(st, path, &version, err) < 0 || check_whole(st, path, err) < 0 ||
	    set_wal(st, path, err) < 0 ||
	    exec_sql(st, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON", what, err) < 0 ||
	    tl_store_migrate(st, path, err) < 0) {
		tl_store_close(st);
		return NULL;
	}
	return st;
}

struct tl_store *tl_store_open_readonly(const char *path, struct tl_err *err)
{
	struct tl_store *st = open_conn(path, true, err);
	if (!st)
		return NULL;
	char what[TL_STORE_WHAT_MAX];
	snprintf(what, sizeof what, "configuring %s", path);
	if (tl_store_schema_check(st, path, err) < 0 ||
	    exec_sql(st, "PRAGMA foreign_keys=ON; PRAGMA query_only=ON", what, err) < 0) {
		tl_store_close(st);
		return NULL;
	}
	return st;
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
