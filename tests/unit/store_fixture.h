/* store_fixture.h - what the store's tests share: a fresh directory for each test (under
 * $TL_TEST_TMPDIR, else /tmp; removed afterwards), a plain SQLite connection to look at the file behind the store's
 * back, and a ready-made test to create. Included by tests/unit/test_store*.c only. */
#ifndef TL_STORE_FIXTURE_H
#define TL_STORE_FIXTURE_H

#include <dirent.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"

struct fx {
	char dir[64];
	char path[128];
};

static inline int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	if (!f)
		return -1;
	/* ctest points TL_TEST_TMPDIR at a tmpfs where there is one: the fault loops open
	 * thousands of stores, and a disk's fsync made them wait minutes for nothing the
	 * tests check (they check what the store does, not what the disk keeps). */
	const char *base = getenv("TL_TEST_TMPDIR");
	if (!base || !*base)
		base = "/tmp";
	if ((size_t)snprintf(f->dir, sizeof f->dir, "%s/tl_store_XXXXXX", base) >= sizeof f->dir) {
		fprintf(stderr, "TL_TEST_TMPDIR is too long: %s\n", base);
		free(f);
		return -1;
	}
	if (!mkdtemp(f->dir)) {
		fprintf(stderr, "cannot make a directory under %s\n", base);
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof f->path, "%s/treadlab.db", f->dir);
	*state = f;
	return 0;
}

/* Removes every file the test made (the database, its -wal and -shm) and the directory. */
static inline void fx_remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (d) {
		struct dirent *e;
		while ((e = readdir(d))) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			char p[512];
			snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(dir);
}

static inline int fx_teardown(void **state)
{
	struct fx *f = *state;
	fx_remove_dir(f->dir);
	free(f);
	return 0;
}

static inline sqlite3 *raw_open(const char *path)
{
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
					 NULL),
			 SQLITE_OK);
	return db;
}

static inline void raw_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		fail_msg("%s: %s", sql, msg ? msg : "?");
}

static inline int64_t raw_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	int64_t v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* The first column of the first row as a new string (NULL for SQL NULL). */
static inline char *raw_text(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	const unsigned char *t = sqlite3_column_text(s, 0);
	char *out = t ? strdup((const char *)t) : NULL;
	sqlite3_finalize(s);
	return out;
}

/* Opens path with the plain SQLite API and returns one integer. */
static inline int64_t path_int(const char *path, const char *sql)
{
	sqlite3 *db = raw_open(path);
	int64_t v = raw_int(db, sql);
	sqlite3_close(db);
	return v;
}

static inline struct tl_store *fx_open(const struct fx *f)
{
	struct tl_err err = {""};
	struct tl_store *st = tl_store_open(f->path, &err);
	if (!st)
		fail_msg("%s", err.msg);
	return st;
}

static const char fx_protocol_json[] =
	"{\"name\":\"gardner-skinner\",\"stages\":[{\"index\":0,\"speed_kmh\":3.2}]}";

static inline struct tl_store_test_new fx_new_test(const char *mrn, const char *started_at)
{
	return (struct tl_store_test_new){
		.patient_mrn = mrn,
		.protocol_name = "gardner-skinner",
		.protocol_text = "name = gardner-skinner\nspeed = 2.0 mph\n",
		.protocol_json = fx_protocol_json,
		.operator_id = "tech1",
		.started_at = started_at,
		.time_scale = 1.0,
	};
}

static inline int64_t fx_create(struct tl_store *st, const char *mrn, const char *started_at)
{
	struct tl_err err = {""};
	struct tl_store_test_new t = fx_new_test(mrn, started_at);
	int64_t id = tl_store_test_create(st, &t, &err);
	if (id < 0)
		fail_msg("%s", err.msg);
	return id;
}

static inline void fx_event(struct tl_store *st, int64_t test_id, int64_t t_ms, const char *kind)
{
	struct tl_err err = {""};
	struct tl_store_event ev = {.t_ms = t_ms,
				    .kind = kind,
				    .source = "operator",
				    .operator_id = "tech1",
				    .detail = NULL,
				    .value = NAN,
				    .recorded_at = "2026-11-25T19:20:00.123Z"};
	if (tl_store_event_add(st, test_id, &ev, &err) < 0)
		fail_msg("%s", err.msg);
}

static inline struct tl_store_sample fx_sample(int64_t t_ms)
{
	return (struct tl_store_sample){.t_ms = t_ms,
					.target_speed_kmh = 3.2,
					.actual_speed_kmh = 3.1,
					.target_grade_pct = 2.0,
					.actual_grade_pct = 1.9,
					.distance_m = (double)t_ms / 1000.0 * 0.89};
}

/* Takes schema 10's step back (the cuff's measurement columns and the history trigger
 * that records them): the file is then as schema 9 left it. */
#define FX_UNDO_V10                                                                            \
	"DROP TRIGGER pressures_history;"                                                      \
	"ALTER TABLE pressures DROP COLUMN interval_ms;"                                       \
	"ALTER TABLE pressures DROP COLUMN deflation_mmhg_s;"                                  \
	"CREATE TRIGGER pressures_history AFTER INSERT ON pressures BEGIN"                     \
	"  INSERT INTO record_changes (test_id, at, what, operator, peer, test_state, previous, value)" \
	"  SELECT new.test_id, new.recorded_at, 'pressure', new.operator, new.peer, t.state, NULL," \
	"         json_object('phase', new.phase, 'minute', new.minute, 'site', new.site,"     \
	"                     'mmhg', new.mmhg, 'noncompressible', new.noncompressible,"       \
	"                     'confirmed', new.confirmed, 'source', new.source)"               \
	"  FROM tests t WHERE t.id = new.test_id;"                                             \
	"END;"

/* Schema version 1 exactly as the first migration made it, written without the store,
 * with one patient (OLD-7), one complete test (1) and its onset event. */
static const char fx_v1_schema[] =
	"CREATE TABLE patients (id INTEGER PRIMARY KEY, mrn TEXT NOT NULL UNIQUE,"
	"  created_at TEXT NOT NULL);"
	"CREATE TABLE tests (id INTEGER PRIMARY KEY,"
	"  patient_id INTEGER NOT NULL REFERENCES patients(id), protocol_name TEXT NOT NULL,"
	"  protocol_text TEXT NOT NULL, protocol_json TEXT NOT NULL, operator TEXT NOT NULL,"
	"  state TEXT NOT NULL, end_reason TEXT, started_at TEXT NOT NULL, ended_at TEXT,"
	"  time_scale REAL NOT NULL CHECK (time_scale > 0), cot_s REAL, pwt_s REAL, icd_m REAL,"
	"  acd_m REAL, walking_time_s REAL, distance_m REAL, recovery_s REAL, abi_json TEXT,"
	"  classification_json TEXT, findings_json TEXT);"
	"CREATE INDEX tests_patient ON tests(patient_id, started_at);"
	"CREATE INDEX tests_started ON tests(started_at);"
	"CREATE INDEX tests_state ON tests(state);"
	"CREATE TABLE events (id INTEGER PRIMARY KEY,"
	"  test_id INTEGER NOT NULL REFERENCES tests(id), t_ms INTEGER NOT NULL CHECK (t_ms >= 0),"
	"  kind TEXT NOT NULL, source TEXT NOT NULL, operator TEXT, detail TEXT, value REAL,"
	"  recorded_at TEXT NOT NULL);"
	"CREATE INDEX events_test ON events(test_id, t_ms);"
	"CREATE TABLE samples (id INTEGER PRIMARY KEY,"
	"  test_id INTEGER NOT NULL REFERENCES tests(id), t_ms INTEGER NOT NULL CHECK (t_ms >= 0),"
	"  target_speed_kmh REAL NOT NULL, actual_speed_kmh REAL, target_grade_pct REAL NOT NULL,"
	"  actual_grade_pct REAL, distance_m REAL NOT NULL);"
	"CREATE INDEX samples_test ON samples(test_id, t_ms);"
	"CREATE TABLE pressures (id INTEGER PRIMARY KEY,"
	"  test_id INTEGER NOT NULL REFERENCES tests(id),"
	"  phase TEXT NOT NULL CHECK (phase IN ('rest', 'post')),"
	"  minute REAL CHECK ((phase = 'rest') = (minute IS NULL)), site TEXT NOT NULL,"
	"  mmhg REAL NOT NULL, operator TEXT, source TEXT NOT NULL, recorded_at TEXT NOT NULL);"
	"CREATE INDEX pressures_test ON pressures(test_id);"
	"CREATE TABLE audit (id INTEGER PRIMARY KEY, at TEXT NOT NULL, operator TEXT,"
	"  command TEXT NOT NULL, detail TEXT, result TEXT NOT NULL);"
	"PRAGMA application_id = 1414291810;" /* 0x544c6162 */
	"PRAGMA user_version = 1;";

static const char fx_v1_data[] =
	"INSERT INTO patients VALUES (1, 'OLD-7', '2026-01-02T03:04:05.678Z');"
	"INSERT INTO tests (id, patient_id, protocol_name, protocol_text, protocol_json, operator,"
	"  state, end_reason, started_at, ended_at, time_scale, cot_s, findings_json)"
	"  VALUES (1, 1, 'hiatt', 'name = hiatt', '{\"name\":\"hiatt\"}', 'tech9', 'complete',"
	"  'max', '2026-01-02T03:04:05.678Z', '2026-01-02T03:14:05.678Z', 1, 95.5,"
	"  '{\"calf\":true}');"
	"INSERT INTO events (test_id, t_ms, kind, source, recorded_at)"
	"  VALUES (1, 95500, 'onset', 'button-cts', '2026-01-02T03:05:41.178Z');";

static inline void fx_write_v1(const char *path)
{
	sqlite3 *db = raw_open(path);
	raw_exec(db, "PRAGMA journal_mode=WAL");
	raw_exec(db, fx_v1_schema);
	raw_exec(db, fx_v1_data);
	sqlite3_close(db);
}

/* The message contains every one of the given fragments. */
#define assert_msg_has(msg, frag)                                                                \
	do {                                                                                     \
		if (!strstr((msg), (frag)))                                                      \
			fail_msg("message '%s' lacks '%s'", (msg), (frag));                      \
	} while (0)

#endif
