/* test_store_faults.c - I/O faults in the spirit of SQLite's own testing.
 *
 * A VFS shim, registered as the default VFS, passes every call to the real one but makes
 * the Nth write, sync or truncate fail. Each loop runs the same work for N = 1, 2, ...
 * until the work completes without reaching the fault, and checks each time that:
 * - the failed call says what failed, in one line starting "store: ";
 * - everything committed before is still there after reopening the file;
 * - the failed write is all there or not at all (an I/O error while committing may leave a
 *   whole transaction on disk, never a part of one);
 * - the same connection keeps working after the fault;
 * - PRAGMA integrity_check says ok. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <sys/stat.h>

#include "store_fixture.h"

#define AT "2026-11-25T19:20:00.123Z"

/* ---- the faulty VFS ---- */

struct fault_file {
	sqlite3_file base;
	sqlite3_file *real; /* follows this struct in the same allocation */
};

static sqlite3_vfs *real_vfs;
static int fault_countdown; /* 0: off; otherwise the call that fails, counting down */
static int fault_fired;
static bool fault_reads; /* reads count (and fail) too */

/* Whether this write-type call is the one to fail. */
static bool fault_now(void)
{
	if (fault_countdown == 0)
		return false;
	if (--fault_countdown > 0)
		return false;
	fault_fired++;
	return true;
}

static sqlite3_file *real_of(sqlite3_file *f)
{
	return ((struct fault_file *)f)->real;
}

static int ff_close(sqlite3_file *f)
{
	return real_of(f)->pMethods->xClose(real_of(f));
}
static int ff_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
	if (fault_reads && fault_now())
		return SQLITE_IOERR_READ;
	return real_of(f)->pMethods->xRead(real_of(f), buf, n, off);
}
static bool fault_full; /* writes fail as on a full disk instead of with an I/O error */

static int ff_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
	if (fault_now())
		return fault_full ? SQLITE_FULL : SQLITE_IOERR_WRITE;
	return real_of(f)->pMethods->xWrite(real_of(f), buf, n, off);
}
static int ff_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	if (fault_now())
		return SQLITE_IOERR_TRUNCATE;
	return real_of(f)->pMethods->xTruncate(real_of(f), size);
}
static int ff_sync(sqlite3_file *f, int flags)
{
	if (fault_now())
		return SQLITE_IOERR_FSYNC;
	return real_of(f)->pMethods->xSync(real_of(f), flags);
}
static int ff_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
	return real_of(f)->pMethods->xFileSize(real_of(f), size);
}
static int ff_lock(sqlite3_file *f, int lock)
{
	return real_of(f)->pMethods->xLock(real_of(f), lock);
}
static int ff_unlock(sqlite3_file *f, int lock)
{
	return real_of(f)->pMethods->xUnlock(real_of(f), lock);
}
static int ff_check_reserved(sqlite3_file *f, int *out)
{
	return real_of(f)->pMethods->xCheckReservedLock(real_of(f), out);
}
static int ff_file_control(sqlite3_file *f, int op, void *arg)
{
	return real_of(f)->pMethods->xFileControl(real_of(f), op, arg);
}
static int ff_sector_size(sqlite3_file *f)
{
	return real_of(f)->pMethods->xSectorSize(real_of(f));
}
static int ff_device_characteristics(sqlite3_file *f)
{
	return real_of(f)->pMethods->xDeviceCharacteristics(real_of(f));
}
static int ff_shm_map(sqlite3_file *f, int region, int size, int extend, void volatile **p)
{
	return real_of(f)->pMethods->xShmMap(real_of(f), region, size, extend, p);
}
static int ff_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
	return real_of(f)->pMethods->xShmLock(real_of(f), offset, n, flags);
}
static void ff_shm_barrier(sqlite3_file *f)
{
	real_of(f)->pMethods->xShmBarrier(real_of(f));
}
static int ff_shm_unmap(sqlite3_file *f, int delete_flag)
{
	return real_of(f)->pMethods->xShmUnmap(real_of(f), delete_flag);
}

/* Version 2: shared memory (WAL) but no memory-mapped I/O, so every write passes here. */
static const sqlite3_io_methods ff_methods = {
	.iVersion = 2,
	.xClose = ff_close,
	.xRead = ff_read,
	.xWrite = ff_write,
	.xTruncate = ff_truncate,
	.xSync = ff_sync,
	.xFileSize = ff_file_size,
	.xLock = ff_lock,
	.xUnlock = ff_unlock,
	.xCheckReservedLock = ff_check_reserved,
	.xFileControl = ff_file_control,
	.xSectorSize = ff_sector_size,
	.xDeviceCharacteristics = ff_device_characteristics,
	.xShmMap = ff_shm_map,
	.xShmLock = ff_shm_lock,
	.xShmBarrier = ff_shm_barrier,
	.xShmUnmap = ff_shm_unmap,
};

static int fv_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out_flags)
{
	(void)vfs;
	struct fault_file *p = (struct fault_file *)f;
	p->real = (sqlite3_file *)&p[1];
	int rc = real_vfs->xOpen(real_vfs, name, p->real, flags, out_flags);
	p->base.pMethods = rc == SQLITE_OK && p->real->pMethods ? &ff_methods : NULL;
	return rc;
}
static int fv_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
	(void)vfs;
	return real_vfs->xDelete(real_vfs, name, sync_dir);
}
static int fv_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	(void)vfs;
	return real_vfs->xAccess(real_vfs, name, flags, out);
}
static int fv_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	(void)vfs;
	return real_vfs->xFullPathname(real_vfs, name, n, out);
}
static int fv_randomness(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return real_vfs->xRandomness(real_vfs, n, out);
}
static int fv_sleep(sqlite3_vfs *vfs, int us)
{
	(void)vfs;
	return real_vfs->xSleep(real_vfs, us);
}
static int fv_current_time(sqlite3_vfs *vfs, double *out)
{
	(void)vfs;
	return real_vfs->xCurrentTime(real_vfs, out);
}
static int fv_last_error(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return real_vfs->xGetLastError(real_vfs, n, out);
}
static int fv_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
	(void)vfs;
	return real_vfs->xCurrentTimeInt64(real_vfs, out);
}

static sqlite3_vfs fault_vfs = {
	.iVersion = 2,
	.zName = "tl-faulty",
	.xOpen = fv_open,
	.xDelete = fv_delete,
	.xAccess = fv_access,
	.xFullPathname = fv_full_pathname,
	.xRandomness = fv_randomness,
	.xSleep = fv_sleep,
	.xCurrentTime = fv_current_time,
	.xGetLastError = fv_last_error,
	.xCurrentTimeInt64 = fv_current_time_int64,
};

static int vfs_setup(void **state)
{
	(void)state;
	real_vfs = sqlite3_vfs_find(NULL);
	if (!real_vfs)
		return -1;
	fault_vfs.szOsFile = (int)sizeof(struct fault_file) + real_vfs->szOsFile;
	fault_vfs.mxPathname = real_vfs->mxPathname;
	return sqlite3_vfs_register(&fault_vfs, 1) == SQLITE_OK ? 0 : -1;
}

static int vfs_teardown(void **state)
{
	(void)state;
	sqlite3_vfs_unregister(&fault_vfs);
	return 0;
}

static void arm(int n)
{
	fault_countdown = n;
	fault_fired = 0;
}

static void disarm(void)
{
	fault_countdown = 0;
	fault_reads = false;
	fault_full = false;
}

/* ---- checks ---- */

static void assert_integrity_ok(const char *path)
{
	sqlite3 *db = raw_open(path);
	char *r = raw_text(db, "PRAGMA integrity_check");
	assert_string_equal(r, "ok");
	free(r);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
	sqlite3_close(db);
}

/* A failed call's message: the operation, then SQLite's reason. */
static void assert_clear_error(const char *msg, const char *what)
{
	assert_msg_has(msg, "store: ");
	assert_msg_has(msg, what);
	if (!strstr(msg, "disk I/O error") && !strstr(msg, "database disk image is malformed"))
		fail_msg("message '%s' gives no reason", msg);
}

/* ---- the work under faults ---- */

enum op {
	OP_EVENT,
	OP_SAMPLES,
	OP_PRESSURE,
	OP_STATE,
	OP_ENDPOINTS,
	OP_FINDINGS,
	OP_RESULTS,
	OP_AUDIT,
	OP_CREATE,
	OP_COUNT
};

static const char *const op_what[OP_COUNT] = {
	[OP_EVENT] = "adding event 'max' to test 1",
	[OP_SAMPLES] = "adding 25 samples to test 1",
	[OP_PRESSURE] = "adding a post pressure at ankle-pt-right to test 1",
	[OP_STATE] = "setting test 1 to state 'stopping'",
	[OP_ENDPOINTS] = "setting the endpoints of test 1",
	[OP_FINDINGS] = "setting the findings of test 1",
	[OP_RESULTS] = "setting the results of test 1",
	[OP_AUDIT] = "auditing command 'stop'",
	[OP_CREATE] = "creating a test for patient 'MRN-NEW'",
};

static int run_op(struct tl_store *st, enum op op, struct tl_err *err)
{
	struct tl_store_event max = {.t_ms = 300000, .kind = "max", .source = "button-cts",
				     .value = NAN, .recorded_at = AT};
	struct tl_store_sample s[25];
	struct tl_store_endpoints e = {95.5, 300.0, 84.9, 268.1, 300.0, 268.1, NAN};
	struct tl_store_test_new t = fx_new_test("MRN-NEW", AT);
	switch (op) {
	case OP_EVENT:
		return tl_store_event_add(st, 1, &max, err);
	case OP_SAMPLES:
		for (int i = 0; i < 25; i++)
			s[i] = fx_sample(200000 + i * 100);
		return tl_store_samples_add(st, 1, s, 25, err);
	case OP_PRESSURE:
		return tl_store_pressure_add(st, 1, "post", 1, "ankle-pt-right", 82, "tech1",
					     "doppler", AT, err);
	case OP_STATE:
		return tl_store_test_set_state(st, 1, "stopping", "max", AT, err);
	case OP_ENDPOINTS:
		return tl_store_test_set_endpoints(st, 1, &e, err);
	case OP_FINDINGS:
		return tl_store_findings_set(st, 1, "{\"site\":\"calf\"}", "tech1", AT, err);
	case OP_RESULTS:
		return tl_store_results_set(st, 1, "{\"rest\":0.7}", "{\"class\":\"vascular\"}", err);
	case OP_AUDIT:
		return tl_store_audit(st, AT, "tech1", "stop", "{\"test\":1}", "ok", err);
	case OP_CREATE:
		return tl_store_test_create(st, &t, err) < 0 ? -1 : 0;
	case OP_COUNT:
		break;
	}
	return -1;
}

/* 1 if the op's effect is in the file, 0 if it is not; fails the test on a partial one. */
static int op_present(sqlite3 *db, enum op op)
{
	int64_t n;
	switch (op) {
	case OP_EVENT:
		return (int)raw_int(db, "SELECT count(*) FROM events WHERE kind = 'max'");
	case OP_SAMPLES:
		n = raw_int(db, "SELECT count(*) FROM samples WHERE t_ms >= 200000");
		if (n != 0 && n != 25)
			fail_msg("%lld of 25 samples of one batch", (long long)n);
		return n == 25;
	case OP_PRESSURE:
		return (int)raw_int(db, "SELECT count(*) FROM pressures WHERE phase = 'post'");
	case OP_STATE:
		n = raw_int(db, "SELECT (state = 'stopping') + (end_reason IS NOT NULL) "
				"+ (ended_at IS NOT NULL) FROM tests WHERE id = 1");
		if (n != 0 && n != 3)
			fail_msg("state change half done (%lld of 3 columns)", (long long)n);
		return n == 3;
	case OP_ENDPOINTS:
		n = raw_int(db, "SELECT (cot_s IS NOT NULL) + (pwt_s IS NOT NULL) + (icd_m IS NOT NULL)"
				" + (acd_m IS NOT NULL) + (walking_time_s IS NOT NULL)"
				" + (distance_m IS NOT NULL) FROM tests WHERE id = 1");
		if (n != 0 && n != 6)
			fail_msg("endpoints half written (%lld of 6)", (long long)n);
		return n == 6;
	case OP_FINDINGS:
		n = raw_int(db, "SELECT (findings_json IS NOT NULL) + (findings_operator IS NOT NULL)"
				" + (findings_at IS NOT NULL) FROM tests WHERE id = 1");
		if (n != 0 && n != 3)
			fail_msg("findings half written (%lld of 3)", (long long)n);
		return n == 3;
	case OP_RESULTS:
		return (int)raw_int(db, "SELECT abi_json IS NOT NULL FROM tests WHERE id = 1");
	case OP_AUDIT:
		return (int)raw_int(db, "SELECT count(*) FROM audit");
	case OP_CREATE:
		n = raw_int(db, "SELECT (SELECT count(*) FROM patients WHERE mrn = 'MRN-NEW') * 10 + "
				"(SELECT count(*) FROM tests t JOIN patients p ON p.id = t.patient_id"
				" WHERE p.mrn = 'MRN-NEW')");
		if (n != 0 && n != 11)
			fail_msg("patient and test half created (%lld)", (long long)n);
		return n == 11;
	case OP_COUNT:
		break;
	}
	return -1;
}

/* What was committed before the faults start: a running test with its events and samples. */
static void make_baseline(const char *path)
{
	struct tl_err err = {""};
	struct tl_store *st = tl_store_open(path, &err);
	if (!st)
		fail_msg("%s", err.msg);
	fx_create(st, "MRN-1", AT);
	fx_event(st, 1, 0, "start");
	fx_event(st, 1, 95000, "onset");
	struct tl_store_sample s[50];
	for (int i = 0; i < 50; i++)
		s[i] = fx_sample(i * 100);
	if (tl_store_samples_add(st, 1, s, 50, &err) < 0)
		fail_msg("%s", err.msg);
	if (tl_store_pressure_add(st, 1, "rest", NAN, "brachial-right", 130, "tech1", "doppler",
				  AT, &err) < 0)
		fail_msg("%s", err.msg);
	tl_store_close(st);
}

static void assert_baseline(sqlite3 *db)
{
	assert_int_equal(raw_int(db, "SELECT count(*) FROM events WHERE kind IN ('start', 'onset')"),
			 2);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM samples WHERE t_ms < 200000"), 50);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM pressures WHERE phase = 'rest'"), 1);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM patients WHERE mrn = 'MRN-1'"), 1);
}

static void writes_under_faults_lose_nothing_committed(void **state)
{
	struct fx *f = *state;
	int n;
	int faults_hit = 0;
	for (n = 1; n < 1000; n++) {
		make_baseline(f->path);
		struct tl_err err = {""};
		struct tl_store *st = tl_store_open(f->path, &err);
		assert_non_null(st);
		int failed_op = -1;
		arm(n);
		for (int op = 0; op < OP_COUNT; op++) {
			err.msg[0] = '\0';
			int rc = run_op(st, (enum op)op, &err);
			if (rc < 0) {
				if (failed_op >= 0 || !fault_fired)
					fail_msg("N=%d: op %d failed without a fault: %s", n, op, err.msg);
				failed_op = op;
				assert_clear_error(err.msg, op_what[op]);
				disarm(); /* the connection must carry on */
			}
		}
		bool reached = fault_fired != 0;
		disarm();
		tl_store_close(st);

		sqlite3 *db = raw_open(f->path);
		assert_baseline(db);
		for (int op = 0; op < OP_COUNT; op++) {
			int present = op_present(db, (enum op)op);
			if (op != failed_op && present != 1)
				fail_msg("N=%d: op %d succeeded but is not in the file", n, op);
		}
		sqlite3_close(db);
		assert_integrity_ok(f->path);
		fx_remove_dir(f->dir);
		assert_int_equal(mkdir(f->dir, 0700), 0);
		if (failed_op >= 0)
			faults_hit++;
		if (!reached)
			break; /* the work finished before the Nth write: every N was tried */
	}
	print_message("writes: N = 1..%d, %d faults failed a write\n", n, faults_hit);
	assert_true(n > OP_COUNT); /* each op writes at least once */
	assert_true(faults_hit >= OP_COUNT);
}

static void opening_under_faults_is_all_or_nothing(void **state)
{
	struct fx *f = *state;
	int n;
	for (n = 1; n < 1000; n++) {
		struct tl_err err = {""};
		arm(n);
		struct tl_store *st = tl_store_open(f->path, &err);
		bool reached = fault_fired != 0;
		disarm();
		if (!st) {
			assert_true(reached);
			assert_msg_has(err.msg, "store: ");
			assert_msg_has(err.msg, f->path);
			assert_msg_has(err.msg, "disk I/O error");
		}
		tl_store_close(st);
		/* Whatever happened, the next open finds a file it can use. */
		st = tl_store_open(f->path, &err);
		if (!st)
			fail_msg("N=%d: reopening: %s", n, err.msg);
		assert_true(fx_create(st, "MRN-1", AT) > 0);
		tl_store_close(st);
		assert_int_equal(path_int(f->path, "PRAGMA user_version"), TL_STORE_SCHEMA_VERSION);
		assert_integrity_ok(f->path);
		fx_remove_dir(f->dir);
		assert_int_equal(mkdir(f->dir, 0700), 0);
		if (!reached)
			break;
	}
	print_message("open: N = 1..%d\n", n);
	assert_true(n > 3);
}

static void migration_under_faults_keeps_version_1_data(void **state)
{
	struct fx *f = *state;
	int n;
	for (n = 1; n < 1000; n++) {
		disarm();
		fx_write_v1(f->path);
		struct tl_err err = {""};
		arm(n);
		struct tl_store *st = tl_store_open(f->path, &err);
		bool reached = fault_fired != 0;
		disarm();
		if (!st) {
			assert_true(reached);
			assert_clear_error(err.msg, f->path);
		}
		tl_store_close(st);
		int64_t version = path_int(f->path, "PRAGMA user_version");
		if (version != 1 && version != TL_STORE_SCHEMA_VERSION)
			fail_msg("N=%d: schema version %lld", n, (long long)version);
		if (!st && version != 1)
			fail_msg("N=%d: open failed but the file moved to version %lld", n,
				 (long long)version);
		st = tl_store_open(f->path, &err);
		if (!st)
			fail_msg("N=%d: reopening: %s", n, err.msg);
		json_t *t = tl_store_test_json(st, 1, &err);
		assert_non_null(t);
		assert_string_equal(json_string_value(json_object_get(t, "patient")), "OLD-7");
		assert_int_equal(json_array_size(json_object_get(t, "events")), 1);
		json_decref(t);
		tl_store_close(st);
		assert_int_equal(path_int(f->path, "PRAGMA user_version"), TL_STORE_SCHEMA_VERSION);
		assert_integrity_ok(f->path);
		fx_remove_dir(f->dir);
		assert_int_equal(mkdir(f->dir, 0700), 0);
		if (!reached)
			break;
	}
	print_message("migration from version 1: N = 1..%d\n", n);
	assert_true(n > 2);
}

static void recovery_under_faults_is_all_or_nothing(void **state)
{
	struct fx *f = *state;
	int n;
	for (n = 1; n < 1000; n++) {
		make_baseline(f->path);
		struct tl_err err = {""};
		struct tl_store *st = tl_store_open(f->path, &err);
		assert_non_null(st);
		fx_create(st, "MRN-2", AT);
		fx_event(st, 2, 5000, "stage");
		arm(n);
		int closed = tl_store_recover_interrupted(st, "2026-11-25T21:00:00.000Z", &err);
		bool reached = fault_fired != 0;
		disarm();
		if (closed < 0) {
			assert_true(reached);
			assert_clear_error(err.msg, "closing interrupted tests");
			/* Not retried on purpose: the file must be whole as it is. */
		} else {
			assert_int_equal(closed, 2);
		}
		tl_store_close(st);

		sqlite3 *db = raw_open(f->path);
		assert_baseline(db);
		int64_t interrupted = raw_int(db, "SELECT count(*) FROM tests WHERE state = 'interrupted'");
		int64_t events = raw_int(db, "SELECT count(*) FROM events WHERE kind = 'interrupted'");
		if (closed == 2)
			assert_int_equal(interrupted, 2);
		if (!((interrupted == 0 && events == 0) || (interrupted == 2 && events == 2)))
			fail_msg("N=%d: %lld tests and %lld events closed", n, (long long)interrupted,
				 (long long)events);
		sqlite3_close(db);
		assert_integrity_ok(f->path);
		fx_remove_dir(f->dir);
		assert_int_equal(mkdir(f->dir, 0700), 0);
		if (!reached)
			break;
	}
	print_message("recovery: N = 1..%d\n", n);
	assert_true(n > 2);
}

/* The queries the HTTP thread runs, with the Nth read failing. */
static json_t *query_all(struct tl_store *st, struct tl_err *err)
{
	json_t *t = tl_store_test_json(st, 1, err);
	json_t *s = t ? tl_store_samples_json(st, 1, err) : NULL;
	json_t *l = s ? tl_store_tests_json(st, "MRN-1", err) : NULL;
	json_t *all = l ? json_pack("{s:o, s:o, s:o}", "test", t, "samples", s, "list", l) : NULL;
	if (!all) {
		json_decref(t);
		json_decref(s);
		json_decref(l);
	}
	return all;
}

static void queries_under_read_faults_fail_clearly(void **state)
{
	struct fx *f = *state;
	make_baseline(f->path);
	int n, failures = 0;
	for (n = 1; n < 1000; n++) {
		struct tl_err err = {""};
		struct tl_store *st = tl_store_open_readonly(f->path, &err);
		if (!st)
			fail_msg("%s", err.msg);
		arm(n);
		fault_reads = true;
		json_t *all = query_all(st, &err);
		bool reached = fault_fired != 0;
		disarm();
		if (!all) {
			assert_true(reached);
			assert_clear_error(err.msg, "test"); /* names the test or tests it read */
			failures++;
		}
		json_decref(all);
		/* The same connection answers in full once the disk reads again. */
		all = query_all(st, &err);
		if (!all)
			fail_msg("N=%d: after the fault: %s", n, err.msg);
		json_t *t = json_object_get(all, "test");
		assert_int_equal(json_array_size(json_object_get(t, "events")), 2);
		assert_int_equal(json_array_size(json_object_get(all, "samples")), 50);
		assert_int_equal(json_array_size(json_object_get(all, "list")), 1);
		json_decref(all);
		tl_store_close(st);
		if (!reached)
			break;
	}
	print_message("reads: N = 1..%d, %d queries failed\n", n, failures);
	assert_true(failures > 0);
	assert_integrity_ok(f->path);
}

/* A full disk is a fault of the storage (the daemon keeps the write and tries again),
 * and the same write succeeds once there is room; a refusal of what was asked is not. */
static void a_full_disk_is_a_fault_that_passes(void **state)
{
	struct fx *f = *state;
	struct tl_store *st = fx_open(f);
	int64_t id = fx_create(st, "MRN-1", AT);
	struct tl_store_event ev = {.t_ms = 1000, .kind = "onset", .source = "technician",
				    .value = NAN, .recorded_at = AT};
	struct tl_err err = {""};
	tl_store_fault_clear(st);
	fault_full = true;
	arm(1);
	assert_int_equal(tl_store_event_add(st, id, &ev, &err), -1);
	disarm();
	assert_true(tl_store_fault(st));
	assert_msg_has(err.msg, "store: adding event 'onset' to test");
	assert_msg_has(err.msg, "database or disk is full");
	assert_int_equal(path_int(f->path, "SELECT count(*) FROM events"), 0);
	tl_store_fault_clear(st);
	assert_int_equal(tl_store_event_add(st, id, &ev, &err), 0); /* room again */
	assert_false(tl_store_fault(st));
	assert_int_equal(path_int(f->path, "SELECT count(*) FROM events"), 1);

	tl_store_fault_clear(st);
	assert_int_equal(tl_store_pressure_add(st, id, "rest", NAN, "pt-left", 900, NULL, "manual",
					       AT, &err), -1);
	assert_false(tl_store_fault(st)); /* a refusal: no retry changes it */
	tl_store_close(st);
	assert_integrity_ok(f->path);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(writes_under_faults_lose_nothing_committed),
		T(opening_under_faults_is_all_or_nothing),
		T(migration_under_faults_keeps_version_1_data),
		T(recovery_under_faults_is_all_or_nothing),
		T(queries_under_read_faults_fail_clearly),
		T(a_full_disk_is_a_fault_that_passes),
	};
	return cmocka_run_group_tests(tests, vfs_setup, vfs_teardown);
}
