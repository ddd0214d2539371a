/* store_schema.c - the schema and its forward migrations.
 *
 * migrations[i] takes a database from user_version i to i + 1. A step is never edited
 * once released: a database in the field at version i was made by exactly the steps before
 * it, so changes go into a new step appended at the end (and TL_STORE_SCHEMA_VERSION moves
 * with it). All pending steps and the new user_version commit in one transaction, so a crash
 * or an I/O error during a migration leaves the file at its old version, never between. */
#include "store_int.h"

#include <stdio.h>

/* "TLab": marks the file as treadlab's, so another program's SQLite file is refused rather
 * than having tables added to it. */
#define TL_STORE_APPLICATION_ID 0x544c6162

static const char *const migrations[TL_STORE_SCHEMA_VERSION] = {
	/* 0 -> 1: the record of a test. Times of day are UTC ISO 8601 text with milliseconds
	 * (text order is time order); times within a test are integer ms since its start;
	 * NULL is "unknown". */
	"CREATE TABLE patients ("
	"  id INTEGER PRIMARY KEY,"
	"  mrn TEXT NOT NULL UNIQUE,"
	"  created_at TEXT NOT NULL);"
	"CREATE TABLE tests ("
	"  id INTEGER PRIMARY KEY,"
	"  patient_id INTEGER NOT NULL REFERENCES patients(id),"
	"  protocol_name TEXT NOT NULL,"
	"  protocol_text TEXT NOT NULL,"
	"  protocol_json TEXT NOT NULL,"
	"  operator TEXT NOT NULL,"
	"  state TEXT NOT NULL,"
	"  end_reason TEXT,"
	"  started_at TEXT NOT NULL,"
	"  ended_at TEXT,"
	"  time_scale REAL NOT NULL CHECK (time_scale > 0),"
	"  cot_s REAL, pwt_s REAL, icd_m REAL, acd_m REAL,"
	"  walking_time_s REAL, distance_m REAL, recovery_s REAL,"
	"  abi_json TEXT, classification_json TEXT, findings_json TEXT);"
	"CREATE INDEX tests_patient ON tests(patient_id, started_at);"
	"CREATE INDEX tests_started ON tests(started_at);"
	"CREATE INDEX tests_state ON tests(state);"
	"CREATE TABLE events ("
	"  id INTEGER PRIMARY KEY,"
	"  test_id INTEGER NOT NULL REFERENCES tests(id),"
	"  t_ms INTEGER NOT NULL CHECK (t_ms >= 0),"
	"  kind TEXT NOT NULL,"
	"  source TEXT NOT NULL,"
	"  operator TEXT,"
	"  detail TEXT,"
	"  value REAL,"
	"  recorded_at TEXT NOT NULL);"
	"CREATE INDEX events_test ON events(test_id, t_ms);"
	"CREATE TABLE samples ("
	"  id INTEGER PRIMARY KEY,"
	"  test_id INTEGER NOT NULL REFERENCES tests(id),"
	"  t_ms INTEGER NOT NULL CHECK (t_ms >= 0),"
	"  target_speed_kmh REAL NOT NULL,"
	"  actual_speed_kmh REAL,"
	"  target_grade_pct REAL NOT NULL,"
	"  actual_grade_pct REAL,"
	"  distance_m REAL NOT NULL);"
	"CREATE INDEX samples_test ON samples(test_id, t_ms);"
	"CREATE TABLE pressures ("
	"  id INTEGER PRIMARY KEY,"
	"  test_id INTEGER NOT NULL REFERENCES tests(id),"
	"  phase TEXT NOT NULL CHECK (phase IN ('rest', 'post')),"
	"  minute REAL CHECK ((phase = 'rest') = (minute IS NULL)),"
	"  site TEXT NOT NULL,"
	"  mmhg REAL NOT NULL,"
	"  operator TEXT,"
	"  source TEXT NOT NULL,"
	"  recorded_at TEXT NOT NULL);"
	"CREATE INDEX pressures_test ON pressures(test_id);"
	"CREATE TABLE audit ("
	"  id INTEGER PRIMARY KEY,"
	"  at TEXT NOT NULL,"
	"  operator TEXT,"
	"  command TEXT NOT NULL,"
	"  detail TEXT,"
	"  result TEXT NOT NULL);",

	/* 1 -> 2: who entered the findings and when (a report the physician signs names the
	 * technician), and the audit trail searchable by time. */
	"ALTER TABLE tests ADD COLUMN findings_operator TEXT;"
	"ALTER TABLE tests ADD COLUMN findings_at TEXT;"
	"CREATE INDEX audit_at ON audit(at);",

	/* 2 -> 3 (clinical, issue 17; a step of its own, to be renumbered freely): what the
	 * lab really records. An ankle artery not compressible at the cuff's maximum is kept
	 * as such (mmhg is then the cuff pressure reached, not a systolic pressure), and an
	 * implausible arm pressure is kept only with the operator's confirmation, which the
	 * record keeps. Existing rows are ordinary readings (0, 0). */
	"ALTER TABLE pressures ADD COLUMN noncompressible INTEGER NOT NULL DEFAULT 0"
	"  CHECK (noncompressible IN (0, 1));"
	"ALTER TABLE pressures ADD COLUMN confirmed INTEGER NOT NULL DEFAULT 0"
	"  CHECK (confirmed IN (0, 1));",
	/* 3 -> 4: which software measured the test: the version of the treadlab that created
	 * the row (TREADLAB_VERSION, set once by project() in CMakeLists.txt). NULL for a test
	 * recorded before treadlab kept it. */
	"ALTER TABLE tests ADD COLUMN software_version TEXT;",
	/* 4 -> 5 (issue 9, the HTTP API): who really changed what. The operator is what a
	 * request says; the peer is what its connection proves: the Unix socket's credentials
	 * ("uid 1000 pid 4242") or the TCP address and port. Every change to a test's record
	 * after the fact (a pressure added, the findings recorded or replaced) is kept in
	 * record_changes by triggers, with the values it replaced, so no writer can skip it
	 * and nothing replaced is lost. */
	"ALTER TABLE audit ADD COLUMN peer TEXT;"
	"ALTER TABLE pressures ADD COLUMN peer TEXT;"
	"ALTER TABLE tests ADD COLUMN findings_peer TEXT;"
	"CREATE TABLE record_changes ("
	"  id INTEGER PRIMARY KEY,"
	"  test_id INTEGER NOT NULL REFERENCES tests(id),"
	"  at TEXT NOT NULL,"
	"  what TEXT NOT NULL,"
	"  operator TEXT,"
	"  peer TEXT,"
	"  test_state TEXT NOT NULL,"  /* the test's state when it was changed */
	"  previous TEXT,"             /* JSON: what was replaced; NULL if nothing was */
	"  value TEXT NOT NULL);"      /* JSON: what was written */
	"CREATE INDEX record_changes_test ON record_changes(test_id, id);"
	"CREATE TRIGGER pressures_history AFTER INSERT ON pressures BEGIN"
	"  INSERT INTO record_changes (test_id, at, what, operator, peer, test_state, previous, value)"
	"  SELECT new.test_id, new.recorded_at, 'pressure', new.operator, new.peer, t.state, NULL,"
	"         json_object('phase', new.phase, 'minute', new.minute, 'site', new.site,"
	"                     'mmhg', new.mmhg, 'noncompressible', new.noncompressible,"
	"                     'confirmed', new.confirmed, 'source', new.source)"
	"  FROM tests t WHERE t.id = new.test_id;"
	"END;"
	"CREATE TRIGGER findings_history AFTER UPDATE OF findings_json ON tests BEGIN"
	"  INSERT INTO record_changes (test_id, at, what, operator, peer, test_state, previous, value)"
	"  VALUES (new.id, coalesce(new.findings_at, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),"
	"          'findings', new.findings_operator, new.findings_peer, new.state,"
	"          CASE WHEN old.findings_json IS NULL THEN NULL"
	"               ELSE json_object('findings', json(old.findings_json),"
	"                                'operator', old.findings_operator,"
	"                                'peer', old.findings_peer, 'at', old.findings_at) END,"
	"          json(new.findings_json));"
	"END;",
	/* 5 -> 6 (issue 11, accounts): the operators who log in. Only an Argon2id hash of a
	 * password is kept (src/common/password.h); a disabled account stays, as the audit
	 * trail names it. Sessions and failed-login counts live in the daemon's memory. */
	"CREATE TABLE users ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  role TEXT NOT NULL CHECK (role IN ('technician', 'physician', 'admin')),"
	"  pwhash TEXT NOT NULL,"
	"  disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),"
	"  created_at TEXT NOT NULL,"
	"  updated_at TEXT NOT NULL);",
	/* 6 -> 7 (issue 12, the signed report):
	 * each signature of a test's report is a new version holding the PDF bytes as signed,
	 * their SHA-256 and the hash of the record rendered. A signed version is never changed
	 * or deleted: the triggers refuse it whatever the writer. */
	"CREATE TABLE reports ("
	"  id INTEGER PRIMARY KEY,"
	"  test_id INTEGER NOT NULL REFERENCES tests(id),"
	"  version INTEGER NOT NULL CHECK (version >= 1),"
	"  pdf BLOB NOT NULL,"
	"  pdf_sha256 TEXT NOT NULL,"
	"  record_sha256 TEXT NOT NULL,"
	"  signed_by TEXT NOT NULL,"
	"  signed_at TEXT NOT NULL,"
	"  UNIQUE (test_id, version));"
	"CREATE TRIGGER reports_no_update BEFORE UPDATE ON reports BEGIN"
	"  SELECT RAISE(ABORT, 'a signed report is never changed: sign a new version');"
	"END;"
	"CREATE TRIGGER reports_no_delete BEFORE DELETE ON reports BEGIN"
	"  SELECT RAISE(ABORT, 'a signed report is never deleted');"
	"END;",
	/* 7 -> 8 (issue 13, into the medical record): what an HL7 PID or a FHIR Patient
	 * needs of the patient (assigning authority of the MRN, name, birth date as
	 * YYYY-MM-DD, FHIR administrative gender) and what the order of a test is (accession,
	 * ordering physician). NULL is "not entered"; the values a change replaces are kept
	 * in its audit row's detail (store_patient.c). */
	"ALTER TABLE patients ADD COLUMN assigning_authority TEXT;"
	"ALTER TABLE patients ADD COLUMN family TEXT;"
	"ALTER TABLE patients ADD COLUMN given TEXT;"
	"ALTER TABLE patients ADD COLUMN birth_date TEXT;"
	"ALTER TABLE patients ADD COLUMN sex TEXT"
	"  CHECK (sex IN ('female', 'male', 'other', 'unknown'));"
	"ALTER TABLE tests ADD COLUMN accession TEXT;"
	"ALTER TABLE tests ADD COLUMN physician_id TEXT;"
	"ALTER TABLE tests ADD COLUMN physician_family TEXT;"
	"ALTER TABLE tests ADD COLUMN physician_given TEXT;",
	/* 8 -> 9 (issue 13, the outbox; one self-contained step, to be renumbered freely):
	 * each message to the medical record is stored before it is sent and never deleted;
	 * outbox_history keeps every attempt and its answer. One message per test, kind and
	 * report version (0: a completed test's unsigned rendering) unless re-sent on
	 * purpose (resend_of). outbox_station holds this database's random prefix of the
	 * control ids (MSH-10), so two stations never use the same one. */
	"CREATE TABLE outbox_station (prefix TEXT NOT NULL);"
	"INSERT INTO outbox_station VALUES (upper(hex(randomblob(4))));"
	"CREATE TABLE outbox ("
	"  id INTEGER PRIMARY KEY,"
	"  test_id INTEGER NOT NULL REFERENCES tests(id),"
	"  kind TEXT NOT NULL CHECK (kind IN ('hl7', 'fhir')),"
	"  report_version INTEGER NOT NULL CHECK (report_version >= 0),"
	"  resend_of INTEGER REFERENCES outbox(id),"
	"  control_id TEXT NOT NULL UNIQUE,"
	"  payload BLOB NOT NULL,"
	"  created_at TEXT NOT NULL,"
	"  state TEXT NOT NULL CHECK (state IN ('queued', 'sending', 'delivered', 'failed',"
	"                                       'cancelled')),"
	"  attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),"
	"  next_at TEXT NOT NULL,"
	"  last_error TEXT,"
	"  delivered_at TEXT);"
	"CREATE UNIQUE INDEX outbox_once ON outbox(test_id, kind, report_version)"
	"  WHERE resend_of IS NULL;"
	"CREATE INDEX outbox_due ON outbox(kind, state, next_at);"
	"CREATE TABLE outbox_history ("
	"  id INTEGER PRIMARY KEY,"
	"  outbox_id INTEGER NOT NULL REFERENCES outbox(id),"
	"  at TEXT NOT NULL,"
	"  event TEXT NOT NULL,"
	"  detail TEXT);"
	"CREATE INDEX outbox_history_msg ON outbox_history(outbox_id, id);"
	"CREATE TRIGGER outbox_no_delete BEFORE DELETE ON outbox BEGIN"
	"  SELECT RAISE(ABORT, 'an outbox message is never deleted: cancel it');"
	"END;"
	"CREATE TRIGGER outbox_history_no_delete BEFORE DELETE ON outbox_history BEGIN"
	"  SELECT RAISE(ABORT, 'the outbox history is never deleted');"
	"END;",
	/* 9 -> 10 (issue 15, the cuff): a pressure read from a cuff at the foot switch keeps
	 * how it was measured: the gap between the two samples around the press and the
	 * deflation rate there (together they bound its error). NULL for a typed pressure.
	 * The history trigger records them too. */
	"ALTER TABLE pressures ADD COLUMN interval_ms INTEGER CHECK (interval_ms >= 0);"
	"ALTER TABLE pressures ADD COLUMN deflation_mmhg_s REAL;"
	"DROP TRIGGER pressures_history;"
	"CREATE TRIGGER pressures_history AFTER INSERT ON pressures BEGIN"
	"  INSERT INTO record_changes (test_id, at, what, operator, peer, test_state, previous, value)"
	"  SELECT new.test_id, new.recorded_at, 'pressure', new.operator, new.peer, t.state, NULL,"
	"         json_object('phase', new.phase, 'minute', new.minute, 'site', new.site,"
	"                     'mmhg', new.mmhg, 'noncompressible', new.noncompressible,"
	"                     'confirmed', new.confirmed, 'source', new.source,"
	"                     'interval_ms', new.interval_ms,"
	"                     'deflation_mmhg_s', new.deflation_mmhg_s)"
	"  FROM tests t WHERE t.id = new.test_id;"
	"END;",
};

static int pragma_int(struct tl_store *st, const char *sql, int *out, const char *what,
		      struct tl_err *err)
{
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return tl_store_fail_db(st, what, err);
	int rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW) {
		tl_store_fail_db(st, what, err);
		sqlite3_finalize(stmt);
		return -1;
	}
	*out = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	return 0;
}

int tl_store_schema_identify(struct tl_store *st, const char *path, int *version,
			     struct tl_err *err)
{
	char what[TL_STORE_WHAT_MAX];
	snprintf(what, sizeof what, "reading %s", path);
	int app_id = 0, n_objects = 0;
	if (pragma_int(st, "PRAGMA application_id", &app_id, what, err) < 0 ||
	    pragma_int(st, "PRAGMA user_version", version, what, err) < 0 ||
	    pragma_int(st, "SELECT count(*) FROM sqlite_schema", &n_objects, what, err) < 0) {
		if (sqlite3_extended_errcode(st->db) == SQLITE_NOTADB)
			tl_err_set(err, "store: %s is not a SQLite database (not a treadlab store)",
				   path);
		return -1;
	}
	if (app_id != TL_STORE_APPLICATION_ID && (app_id != 0 || *version != 0 || n_objects)) {
		tl_err_set(err,
			   "store: %s is a SQLite database of another program "
			   "(application_id 0x%08x, user_version %d), not a treadlab store",
			   path, (unsigned)app_id, *version);
		return -1;
	}
	if (*version > TL_STORE_SCHEMA_VERSION) {
		tl_err_set(err,
			   "store: %s has schema version %d, newer than this treadlab (%d); "
			   "use the newer treadlab that wrote it",
			   path, *version, TL_STORE_SCHEMA_VERSION);
		return -1;
	}
	return 0;
}

int tl_store_schema_check(struct tl_store *st, const char *path, struct tl_err *err)
{
	int version;
	if (tl_store_schema_identify(st, path, &version, err) < 0)
		return -1;
	if (version != TL_STORE_SCHEMA_VERSION) {
		tl_err_set(err,
			   "store: %s has schema version %d, this treadlab needs %d; "
			   "open it read-write once (start the daemon) to migrate it",
			   path, version, TL_STORE_SCHEMA_VERSION);
		return -1;
	}
	return 0;
}

int tl_store_migrate(struct tl_store *st, const char *path, struct tl_err *err)
{
	char what[TL_STORE_WHAT_MAX];
	snprintf(what, sizeof what, "migrating %s", path);
	if (tl_store_begin_write(st, what, err) < 0)
		return -1;
	/* Read again under the write lock: another process may have migrated meanwhile. */
	int version;
	if (tl_store_schema_identify(st, path, &version, err) < 0)
		goto fail;
	if (version == TL_STORE_SCHEMA_VERSION) {
		tl_store_rollback(st);
		return 0;
	}
	for (int v = version; v < TL_STORE_SCHEMA_VERSION; v++) {
		snprintf(what, sizeof what, "migrating %s from schema version %d to %d", path, v,
			 v + 1);
		if (sqlite3_exec(st->db, migrations[v], NULL, NULL, NULL) != SQLITE_OK) {
			tl_store_fail_db(st, what, err);
			goto fail;
		}
	}
	/* The rest commits every step at once, so a failure from here on is the whole move. */
	snprintf(what, sizeof what, "migrating %s from schema version %d to %d", path, version,
		 TL_STORE_SCHEMA_VERSION);
	char sql[96];
	snprintf(sql, sizeof sql, "PRAGMA application_id = %d; PRAGMA user_version = %d",
		 TL_STORE_APPLICATION_ID, TL_STORE_SCHEMA_VERSION);
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		tl_store_fail_db(st, what, err);
		goto fail;
	}
	return tl_store_commit(st, what, err);
fail:
	tl_store_rollback(st);
	return -1;
}
