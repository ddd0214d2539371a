/* test_store_oom.c - out of memory at the Nth allocation, for N = 1, 2, ... (SQLite's own
 * malloc tests). SQLite's and jansson's allocators are both routed through one counter;
 * opening a new file, and the work on an open store (create a test, record, query,
 * recover), are each run until they complete without reaching the failing allocation.
 * Each time: the failure is reported in one line starting "store: " that says out of
 * memory, the failed write is all there or not at all, the connection carries on once
 * memory is back, nothing leaks (run under ASan or valgrind), and the file passes
 * integrity_check. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <sys/stat.h>

#include "store_fixture.h"

#define AT "2026-11-25T19:20:00.123Z"

static sqlite3_mem_methods real_mem;
static int oom_countdown; /* 0: off */
static int oom_fired;
static int oom_calls; /* every allocation through the counter, failing or not */

static bool oom_now(void)
{
	oom_calls++;
	if (oom_countdown == 0 || --oom_countdown > 0)
		return false;
	oom_fired++;
	return true;
}

static void *oom_sqlite_malloc(int n)
{
	return oom_now() ? NULL : real_mem.xMalloc(n);
}

static void *oom_sqlite_realloc(void *p, int n)
{
	return oom_now() ? NULL : real_mem.xRealloc(p, n);
}

static void *oom_json_malloc(size_t n)
{
	return oom_now() ? NULL : malloc(n);
}

static void oom_json_free(void *p)
{
	free(p);
}

static int install_allocators(void)
{
	if (sqlite3_config(SQLITE_CONFIG_GETMALLOC, &real_mem) != SQLITE_OK)
		return -1;
	sqlite3_mem_methods m = real_mem;
	m.xMalloc = oom_sqlite_malloc;
	m.xRealloc = oom_sqlite_realloc;
	if (sqlite3_config(SQLITE_CONFIG_MALLOC, &m) != SQLITE_OK)
		return -1;
	json_set_alloc_funcs(oom_json_malloc, oom_json_free);
	return 0;
}

enum step { S_OPEN, S_CREATE, S_EVENT, S_SAMPLES, S_FINDINGS, S_QUERY, S_LIST, S_RECOVER, S_COUNT };

/* Runs one step; -1 + err when it fails. */
static int run_step(struct tl_store **st, const char *path, enum step step, struct tl_err *err)
{
	struct tl_store_event ev = {.t_ms = 95000, .kind = "onset", .source = "operator",
				    .operator_id = "tech1", .detail = "calf", .value = NAN,
				    .recorded_at = AT};
	struct tl_store_sample s[10];
	struct tl_store_test_new t = fx_new_test("MRN-1", AT);
	json_t *j;
	switch (step) {
	case S_OPEN:
		*st = tl_store_open(path, err);
		return *st ? 0 : -1;
	case S_CREATE:
		return tl_store_test_create(*st, &t, err) == 1 ? 0 : -1;
	case S_EVENT:
		return tl_store_event_add(*st, 1, &ev, err);
	case S_SAMPLES:
		for (int i = 0; i < 10; i++)
			s[i] = fx_sample(i * 100);
		return tl_store_samples_add(*st, 1, s, 10, err);
	case S_FINDINGS:
		return tl_store_findings_set(*st, 1, "{\"site\":\"calf\"}", "tech1", AT, err);
	case S_QUERY:
		j = tl_store_test_json(*st, 1, err);
		if (!j)
			return -1;
		if (json_array_size(json_object_get(j, "events")) != 1)
			fail_msg("test JSON without its event");
		json_decref(j);
		return 0;
	case S_LIST:
		j = tl_store_tests_json(*st, NULL, err);
		if (!j)
			return -1;
		json_decref(j);
		return 0;
	case S_RECOVER:
		return tl_store_recover_interrupted(*st, AT, err) == 1 ? 0 : -1;
	case S_COUNT:
		break;
	}
	return -1;
}

/* What the file must hold once `done` writing steps succeeded (the failed one: all or none). */
static void assert_file(const char *path, int done)
{
	if (done == S_OPEN) {
		/* Whatever the failed open left, the next one makes a working store of it. */
		struct tl_err err = {""};
		struct tl_store *st = tl_store_open(path, &err);
		if (!st)
			fail_msg("reopening: %s", err.msg);
		tl_store_close(st);
	}
	sqlite3 *db = raw_open(path);
	assert_int_equal(raw_int(db, "PRAGMA user_version"), TL_STORE_SCHEMA_VERSION);
	if (done > S_CREATE)
		assert_int_equal(raw_int(db, "SELECT count(*) FROM tests"), 1);
	if (done > S_EVENT)
		assert_int_equal(raw_int(db, "SELECT count(*) FROM events WHERE kind = 'onset'"), 1);
	int64_t n = raw_int(db, "SELECT count(*) FROM samples");
	if ((done > S_SAMPLES && n != 10) || (n != 0 && n != 10))
		fail_msg("%lld samples after %d steps", (long long)n, done);
	if (done > S_FINDINGS)
		assert_int_equal(raw_int(db, "SELECT count(*) FROM tests WHERE findings_at IS NOT NULL"), 1);
	if (done > S_RECOVER)
		assert_int_equal(raw_int(db, "SELECT count(*) FROM tests WHERE state = 'interrupted'"), 1);
	char *r = raw_text(db, "PRAGMA integrity_check");
	assert_string_equal(r, "ok");
	free(r);
	sqlite3_close(db);
}

static void assert_clear_oom(int n, const char *what, const char *msg)
{
	if (strncmp(msg, "store: ", 7) != 0 || !strstr(msg, "out of memory"))
		fail_msg("N=%d: %s: unclear message '%s'", n, what, msg);
}

/* Opening a new file makes the schema: some 20000 allocations (counted first), nearly all
 * inside SQLite's parser, where one failure is much like the next. Every N up to 200, then
 * every 11th, and the last ones (the newest migrations) each; the loop must end with an
 * open that no longer reaches the failing allocation (a fixed bound once stopped short of
 * the last migrations as the schema grew). */
static void opening_under_oom_leaves_a_usable_file(void **state)
{
	struct fx *f = *state;
	struct tl_err err = {""};
	oom_calls = 0;
	struct tl_store *st = tl_store_open(f->path, &err);
	if (!st)
		fail_msg("%s", err.msg);
	tl_store_close(st);
	const int total = oom_calls;
	fx_remove_dir(f->dir);
	assert_int_equal(mkdir(f->dir, 0700), 0);

	int n, failures = 0;
	bool finished = false;
	for (n = 1; n <= total + 1; n += n < 200 || n > total - 200 ? 1 : 11) {
		err.msg[0] = '\0';
		oom_fired = 0;
		oom_countdown = n;
		st = tl_store_open(f->path, &err);
		bool reached = oom_fired != 0;
		oom_countdown = 0;
		if (!st) {
			assert_true(reached);
			assert_clear_oom(n, "opening", err.msg);
			failures++;
		}
		tl_store_close(st);
		assert_file(f->path, S_OPEN);
		fx_remove_dir(f->dir);
		assert_int_equal(mkdir(f->dir, 0700), 0);
		if (!reached) {
			finished = true;
			break;
		}
	}
	print_message("open: %d allocations, N = 1..%d, %d failed\n", total, n, failures);
	assert_true(finished);
	assert_true(failures > 100);
}

/* A new store made once and copied for each N (no schema to make, no fsync to wait for). */
static void copy_file(const char *from, const char *to)
{
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	assert_non_null(in);
	assert_non_null(out);
	char buf[8192];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		assert_int_equal(fwrite(buf, 1, n, out), n);
	fclose(in);
	assert_int_equal(fclose(out), 0);
}

static void work_under_oom_fails_clearly_and_loses_nothing(void **state)
{
	struct fx *f = *state;
	char template[160];
	snprintf(template, sizeof template, "%s.template", f->dir);
	struct tl_err err = {""};
	struct tl_store *st = tl_store_open(template, &err);
	assert_non_null(st);
	tl_store_close(st); /* the last close checkpoints: the .db file is the whole store */
	int n, failures = 0;
	for (n = 1; n < 20000; n++) {
		copy_file(template, f->path);
		st = tl_store_open(f->path, &err);
		if (!st)
			fail_msg("%s", err.msg);
		oom_fired = 0;
		oom_countdown = n;
		int done;
		for (done = S_CREATE; done < S_COUNT; done++) {
			err.msg[0] = '\0';
			if (run_step(&st, f->path, (enum step)done, &err) < 0)
				break;
		}
		bool reached = oom_fired != 0;
		oom_countdown = 0;
		if (done < S_COUNT) {
			if (!reached)
				fail_msg("N=%d: step %d failed without a failed allocation: %s", n, done,
					 err.msg);
			assert_clear_oom(n, "a step", err.msg);
			failures++;
		}
		assert_file(f->path, done); /* the failed step: all or nothing */
		/* Memory is back: the same connection must redo the failed step and finish the
		 * work (no transaction left open, no statement left stuck). */
		for (int k = done; k < S_COUNT; k++)
			if (run_step(&st, f->path, (enum step)k, &err) < 0)
				fail_msg("N=%d: step %d after the failure: %s", n, k, err.msg);
		tl_store_close(st);
		assert_file(f->path, S_COUNT);
		fx_remove_dir(f->dir);
		assert_int_equal(mkdir(f->dir, 0700), 0);
		if (!reached)
			break;
	}
	unlink(template);
	print_message("work: N = 1..%d, %d failed\n", n, failures);
	assert_true(failures > 100);
}

int main(void)
{
	if (install_allocators() < 0) {
		fprintf(stderr, "cannot install the failing allocators\n");
		return 1;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(opening_under_oom_leaves_a_usable_file, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(work_under_oom_fails_clearly_and_loses_nothing,
						fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
