/* test_store.c - the store: opening and migrating files, writes and their durability,
 * recovery of interrupted tests, queries and their JSON, argument checks. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

#include "store_fixture.h"

#define AT "2026-11-25T19:20:00.123Z"

/* ---- opening and migrating ---- */

static void open_creates_current_schema_in_wal(void **state)
{
	struct fx *f = *state;
	struct tl_store *st = fx_open(f);
	tl_store_close(st);
	assert_int_equal(path_int(f->path, "PRAGMA user_version"), TL_STORE_SCHEMA_VERSION);
	assert_int_equal(path_int(f->path, "PRAGMA application_id"), 0x544c6162);
	sqlite3 *db = raw_open(f->path);
	char *mode = raw_text(db, "PRAGMA journal_mode");
	assert_string_equal(mode, "wal");
	free(mode);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_schema WHERE name IN "
				     "('patients','tests','events','samples','pressures','audit')"),
			 6);
	sqlite3_close(db);
}

static void reopen_keeps_everything(void **state)
{
	struct fx *f = *state;
	struct tl_store *st = fx_open(f);
	int64_t id = fx_create(st, "MRN-1", AT);
	fx_event(st, id, 1500, "onset");
	tl_store_close(st);

	st = fx_open(f);
	struct tl_err err = {""};
	json_t *t = tl_store_test_json(st, id, &err);
	assert_non_null(t);
	assert_string_equal(json_string_value(json_object_get(t, "patient")), "MRN-1");
	json_t *ev = json_array_get(json_object_get(t, "events"), 0);
	assert_string_equal(json_string_value(json_object_get(ev, "kind")), "onset");
	assert_true(json_real_value(json_object_get(ev, "t_s")) == 1.5);
	json_decref(t);
	tl_store_close(st);
}

static void empty_file_is_migrated(void **state)
{
	struct fx *f = *state;
	int fd = open(f->path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	assert_true(fd >= 0);
	close(fd);
	struct tl_store *st = fx_open(f);
	int64_t id = fx_create(st, "MRN-1", AT);
	assert_true(id > 0);
	tl_store_close(st);
	assert_int_equal(path_int(f->path, "PRAGMA user_version"), TL_STORE_SCHEMA_VERSION);
}

static void version_1_is_migrated_keeping_data(void **state)
{
	struct fx *f = *state;
	fx_write_v1(f->path);
	struct tl_store *st = fx_open(f);
	assert_int_equal(path_int(f->path, "PRAGMA user_version"), TL_STORE_SCHEMA_VERSION);

	struct tl_err err = {""};
	json_t *t = tl_store_test_json(st, 1, &err);
	assert_non_null(t);
	assert_string_equal(json_string_value(json_object_get(t, "patient")), "OLD-7");
	assert_true(json_real_value(json_object_get(t, "cot_s")) == 95.5);
	assert_true(json_is_true(json_object_get(json_object_get(t, "findings"), "calf")));
	assert_true(json_is_null(json_object_get(t, "findings_operator")));
	/* A test from before version 3 does not say which software measured it. */
	assert_true(json_is_null(json_object_get(t, "software_version")));
	assert_int_equal(json_array_size(json_object_get(t, "events")), 1);
	json_decref(t);

	/* The columns version 2 added work on the old test. */
	assert_int_equal(tl_store_findings_set(st, 1, "{\"calf\":false}", "tech2", AT, &err), 0);
	t = tl_store_test_json(st, 1, &err);
	assert_string_equal(json_string_value(json_object_get(t, "findings_operator")), "tech2");
	json_decref(t);
	tl_store_close(st);
	assert_int_equal(path_int(f->path, "SELECT count(*) FROM sqlite_schema "
					   "WHERE name = 'audit_at'"),
			 1);
}

/* Every new test records the version of the treadlab that measured it (schema 3). */
static void new_test_records_software_version(void **state)
{
	struct fx *f = *state;
	struct tl_store *st = fx_open(f);
	int64_t id = fx_create(st, "MRN-1", AT);
	assert_true(id > 0);
	struct tl_err err = {""};
	json_t *t = tl_store_test_json(st, id, &err);
	assert_non_null(t);
	assert_string_equal(json_string_value(json_object_get(t, "software_version")),
			    TREADLAB_VERSION);
	json_decref(t);
	tl_store_close(st);
}

static void newer_schema_is_refused(void **state)
{
	struct fx *f = *state;
	sqlite3 *db = raw_open(f->path);
	raw_exec(db, "CREATE TABLE future (x); PRAGMA application_id = 1414291810;"
		     "PRAGMA user_version = 99");
	sqlite3_close(db);
	struct tl_err err = {""};
	assert_null(tl_store_open(f->path, &err));
	assert_msg_has(err.msg, "store: ");
	char want[80];
	snprintf(want, sizeof want, "schema version 99, newer than this treadlab (%d)",
		 TL_STORE_SCHEMA_VERSION);
	assert_msg_has(err.msg, want);
	assert_null(tl_store_open_readonly(f->path, &err));
	assert_msg_has(err.msg, "schema version 99, newer");
	assert_int_equal(path_int(f->path, "PRAGMA user_version"), 99);
}

static void non_database_is_refused_and_left_alone(void **state)
{
	struct fx *f = *state;
	static const char text[] = "patient,cot_s\nMRN-1,95.5\n this is a CSV file, not SQLite\n";
	FILE *fp = fopen(f->path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	struct tl_err err = {""};
	assert_null(tl_store_open(f->path, &err));
	assert_msg_has(err.msg, f->path);
	assert_msg_has(err.msg, "is not a SQLite database (not a treadlab store)");
	char back[sizeof text + 16] = "";
	fp = fopen(f->path, "r");
	assert_non_null(fp);
	size_t n = fread(back, 1, sizeof back - 1, fp);
	fclose(fp);
	assert_int_equal(n, sizeof text - 1);
	assert_string_equal(back, text);
}

static void other_programs_database_is_refused(void **state)
{
	struct fx *f = *state;
	sqlite3 *db = raw_open(f->path);
	raw_exec(db, "CREATE TABLE contacts (name TEXT)");
	sqlite3_close(db);
	struct tl_err err = {""};
	assert_null(tl_store_open(f->path, &err));
	assert_msg_has(err.msg, "a SQLite database of another program");
	assert_int_equal(path_int(f->path, "SELECT count(*) FROM sqlite_schema"), 1);
}

static void readonly_needs_a_current_store(void **state)
{
	struct fx *f = *state;
	struct tl_err err = {""};
	assert_null(tl_store_open_readonly(f->path, &err));
	assert_msg_has(err.msg, "store: opening ");
	assert_int_equal(access(f->path, F_OK), -1); /* not created */

	fx_write_v1(f->path);
	assert_null(tl_store_open_readonly(f->path, &err));
	char want[80];
	snprintf(want, sizeof want, "schema version 1, this treadlab needs %d",
		 TL_STORE_SCHEMA_VERSION);
	assert_msg_has(err.msg, want);
	tl_store_close(fx_open(f));
	/* With no writer open (no -wal, no -shm), a reader still reads. */
	struct tl_store *ro = tl_store_open_readonly(f->path, &err);
	assert_non_null(ro);
	json_t *all = tl_store_tests_json(ro, NULL, &err);
	if (!all)
		fail_msg("%s", err.msg);
	assert_int_equal(json_array_size(all), 1);
	json_decref(all);
	tl_store_close(ro);
}

static void readonly_refuses_writes(void **state)
{
	struct fx *f = *state;
	struct tl_store *st = fx_open(f);
	int64_t id = fx_create(st, "MRN-1", AT);
	struct tl_err err = {""};
	struct tl_store *ro = tl_store_open_readonly(f->path, &err);
	assert_non_null(ro);
	struct tl_store_event ev = {.t_ms = 1, .kind = "onset", .source = "operator",
				    .value = NAN, .recorded_at = AT};
	assert_int_equal(tl_store_event_add(ro, id, &ev, &err), -1);
	assert_string_equal(err.msg, "store: adding event 'onset' to test 1: "
				     "this connection was opened read-only");
	struct tl_store_sample s = fx_sample(0);
	assert_int_equal(tl_store_samples_add(ro, id, &s, 1, &err), -1);
	assert_msg_has(err.msg, "read-only");
	tl_store_close(ro);
	tl_store_close(st);
	assert_int_equal(path_int(f->path, "SELECT count(*) FROM events"), 0);
}

/* ---- writes ---- */

static void events_are_durable_and_in_time_order(void **state)
{
	struct fx *f = *state;
	struct tl_store *st = fx_open(f);
	int64_t id = fx_create(st, "MRN-1", AT);
	struct tl_err err = {""};
	struct tl_store_event max = {.t_ms = 300000, .kind = "max", .source = "button-cts",
				     .detail = "patient pressed twice", .value = 4.5,
				     .recorded_at = "2026-11-25T19:25:00.123Z"};
	assert_int_equal(tl_store_event_add(st, id, &max, &err), 0);
	fx_event(st, id, 95000, "onset");
	fx_event(st, id, 0, "start");
	/* Only the writer's file handles are gone; nothing was checkpointed by hand. */
	tl_store_close(st);

	st = fx_open(f);
	json_t *t = tl_store_test_json(st, id, &err);
	json_t *evs = json_object_get(t, "events");
	assert_int_equal(json_array_size(evs), 3);
	const char *kinds[] = {"start", "onset", "max"};
	for (size_t i = 0; i < 3; i++)
		assert_string_equal(json_string_value(json_object_get(json_array_get(evs, i), "kind")),
				    kinds[i]);
	json_t *m = json_array_get(evs, 2);
	assert_true(json_real_value(json_object_get(m, "t_s")) == 300.0);
	assert_string_equal(json_string_value(json_object_get(m, "source")), "button-cts");
	assert_true(json_is_null(json_object_get(m, "operator")));
	assert_string_equal(json_string_value(json_object_get(m, "detail")),
			    "patient pressed twice");
	assert_true(json_real_value(json_object_get(m, "value")) == 4.5);
	assert_string_equal(json_string_value(json_object_get(m, "recorded_at")),
			    "2026-11-25T19:25:00.123Z");
	assert_true(json_is_null(json_object_get(json_array_get(evs, 1), "value")));
	json_decref(t);
	tl_store_close(st);
}

static void event_on_missing_test_names_it(void **state)
{
	struct fx *f = *state;
	struct tl_store *st = fx_open(f);
	struct tl_err err = {""};
	struct tl_store_event ev = {.t_ms = 1, .kind = "onset", .source = "operator",
				    .value = NAN, .recorded_at = AT};
	assert_int_equal(tl_store_event_add(st, 999, &ev, &err), -1);
	assert_string_equal(err.msg, "store: adding event 'onset' to test 999: no test 999");
	struct tl_store_sample s = fx_sample(0);
	assert_int_equal(tl_store_samples_add(st, 999, &s, 1, &err), -1);
	assert_string_equal(err.msg, "store: adding 1 samples to test 999: no test 999");
	assert_int_equal(tl_store_test_set_state(st, 999, "complete", NULL, NULL, &err), -1);
	assert_string_equal(err.msg, "store: setting test 999 to state 'complete': no test 999");
	assert_int_equal(tl_store_pressure_add(st, 999, "rest", NAN, "brachial-right", 120, "t",
					       "doppler", AT, &err),
			 -1);
	assert_msg_has(err.msg, "no test 999");
	assert_int_equal(tl_store_test_exists(st, 999, &err), 0);
	tl_store_close(st);
}

static void bad_event_arguments_are_refused(void **state)
{
	struct fx *f = *state;
	struct tl_store *st = fx_open(f);
	int64_t id = fx_create(st, "MRN-1", AT);
	struct tl_err err = {""};
#define EV(t, k, s, d, v, at)                                                                    \
	{.t_ms = (t), .kind = (k), .source = (s), .detail = (d), .value = (v), .recorded_at = (at)}
	const struct {
		const char *legend;
		struct tl_store_event ev;
		const char *msg;
	} rows[] = {
		{"negative time", EV(-1, "onset", "operator", NULL, NAN, AT),
		 "t_ms -1 is before the test started"},
		{"no kind", EV(1, NULL, "operator", NULL, NAN, AT),
		 "store: adding an event to test 1: kind is missing"},
		{"kind with newline", EV(1, "on\nset", "operator", NULL, NAN, AT),
		 "kind has a control character (0x0a)"},
		{"infinite value", EV(1, "onset", "operator", NULL, INFINITY, AT),
		 "value must be a finite number or NAN"},
		{"local time", EV(1, "onset", "operator", NULL, NAN, "2026-11-25 19:20:00"),
		 "recorded_at '2026-11-25 19:20:00' is not UTC like"},
		{"no millis", EV(1, "onset", "operator", NULL, NAN, "2026-11-25T19:20:00Z"),
		 "is not UTC like"},
		{"month 13", EV(1, "onset", "operator", NULL, NAN, "2026-13-25T19:20:00.123Z"),
		 "is not UTC like"},
		{"no time", EV(1, "onset", "operator", NULL, NAN, NULL), "recorded_at is missing"},
		{"bad UTF-8", EV(1, "onset", "operator", "caf\xe9", NAN, AT),
		 "detail is not valid UTF-8 (byte 4)"},
		{"empty source", EV(1, "onset", "", NULL, NAN, AT),
		 "source must be 1 to 64 bytes (it has 0)"},
	};
#undef EV
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		err.msg[0] = '\0';
		if (tl_store_event_add(st, id, &rows[i].ev, &err) != -1)
			fail_msg("%s: accepted", rows[i].legend);
		assert_msg_has(err.msg, rows[i].msg);
	}
	tl_store_close(st);
	assert_int_equal(path_int(f->path, "SELECT count(*) FROM events"), 0);
}

static void samples_are_batched_and_ordered(void **state)
{
	struct fx *f = *state;
	struct tl_store *st = fx_open(f);
	int64_t id = fx_create(st, "MRN-1", AT);
	struct tl_err err = {""};
	struct tl_store_sample batch[10];
	for (int b = 0; b < 10; b++) {
		for (int i = 0; i < 10; i++)
			batch[i] = fx_sample((b * 10 + i) * 100);
		if (b == 3)
			batch[5].actual_speed_kmh = NAN; /* feedback missed */
		assert_int_equal(tl_store_samples_add(st, id, batch, 10, &err), 0);
	}
	assert_int_equal(tl_store_samples_add(st, id, batch, 0, &err), 0);

	/* One bad sample refuses the whole batch. */
	for (int i = 0; i < 10; i++)
		batch[i] = fx_sample(100000 + i);
	batch[7].distance_m = NAN;
	assert_int_equal(tl_store_samples_add(st, id, batch, 10, &err), -1);
	assert_string_equal(err.msg, "store: adding 10 samples to test 1: sample 8 (t_ms 100007): "
				     "distance_m must be a finite number");

	json_t *s = tl_store_samples_json(st, id, &err);
	assert_int_equal(json_array_size(s), 100);
	for (size_t i = 0; i < 100; i++)
		assert_true(json_real_value(json_object_get(json_array_get(s, i), "t_s")) ==
			    (double)i / 10.0);
	json_t *s35 = json_array_get(s, 35);
	assert_true(json_is_null(json_object_get(s35, "actual_speed_kmh")));
	assert_true(json_real_value(json_object_get(s35, "target_speed_kmh")) == 3.2);
	assert_true(json_real_value(json_object_get(s35, "actual_grade_pct")) == 1.9);
	json_decref(s);
	tl_store_close(st);
}

static void state_changes_keep_what_is_not_given(void **state)
{
	struct fx *f = *state;
	struct tl_store *st = fx_open(f);
	int64_t id = fx_create(st, "MRN-1", AT);
	struct tl_err err = {""};
	assert_int_equal(tl_store_test_set_state(st, id, "stopping", "max", "2026-11-25T19:25:00.000Z",
						 &err),
			 0);
	assert_int_equal(tl_store_test_set_state(st, id, "complete", NULL, NULL, &err), 0);
	json_t *t = tl_store_test_json(st, id, &err);
	assert_string_equal(json_string_value(json_object_get(t, "state")), "complete");
	assert_string_equal(json_string_value(json_object_get(t, "end_reason")), "max");
	assert_string_equal(json_string_value(json_object_get(t, "ended_at")),
			    "2026-11-25T19:25:00.000Z");
	json_decref(t);
	assert_int_equal(tl_store_test_set_state(st, id, "complete", NULL, "yesterday", &err), -1);
	assert_msg_has(err.msg, "ended_at 'yesterday' is not UTC");
	tl_store_close(st);
}

/* ---- recovery ---- */

/* The daemon makes a test's row "starting" and starts the belt once it is committed; a
 * daemon that died in between leaves a row that is closed like any other open test. */
static void recovery_closes_a_test_that_was_starting(void **state)
{
	struct fx *f = *state;
	struct tl_store *st = fx_open(f);
	struct tl_store_test_new t = fx_new_test("MRN-1", AT);
	t.state = "starting";
	struct tl_err err = {""};
	int64_t id = tl_store_test_create(st, &t, &err);
	assert_true(id > 0);
	tl_store_close(st);
	st = fx_open(f);
	assert_int_equal(tl_store_recover_interrupted(st, "2026-11-25T20:00:00.000Z", &err), 1);
	json_t *j = tl_store_test_json(st, id, &err);
	assert_string_equal(json_string_value(json_object_get(j, "state")), "interrupted");
	assert_msg_has(json_string_value(json_object_get(json_array_get(json_object_get(j, "events"), 0),
							 "detail")),
		       "while the test was starting");
	json_decref(j);
	tl_store_close(st);
}

static void recovery_closes_open_tests_and_keeps_their_record(void **state)
{
	struct fx *f = *state;
	struct tl_store *st = fx_open(f);
	int64_t running = fx_create(st, "MRN-1", "2026-11-25T19:00:00.000Z");
	int64_t recovering = fx_create(st, "MRN-2", "2026-11-25T19:01:00.000Z");
	int64_t done = fx_create(st, "MRN-3", "2026-11-25T19:02:00.000Z");
	struct tl_err err = {""};
	fx_event(st, running, 95000, "onset");
	struct tl_store_sample s[3] = {fx_sample(120000), fx_sample(120100), fx_sample(120200)};
	assert_int_equal(tl_store_samples_add(st, running, s, 3, &err), 0);
	assert_int_equal(tl_store_test_set_state(st, recovering, "recovery", "max",
						 "2026-11-25T19:06:00.000Z", &err),
			 0);
	fx_event(st, recovering, 300000, "max");
	assert_int_equal(tl_store_test_set_state(st, done, "complete", "max", AT, &err), 0);
	tl_store_close(st); /* the daemon died here */

	st = fx_open(f);
	const char *now = "2026-11-25T20:00:00.000Z";
	assert_int_equal(tl_store_recover_interrupted(st, now, &err), 2);

	json_t *t = tl_store_test_json(st, running, &err);
	assert_string_equal(json_string_value(json_object_get(t, "state")), "interrupted");
	assert_string_equal(json_string_value(json_object_get(t, "end_reason")), "interrupted");
	assert_string_equal(json_string_value(json_object_get(t, "ended_at")), now);
	json_t *evs = json_object_get(t, "events");
	assert_int_equal(json_array_size(evs), 2);
	json_t *last = json_array_get(evs, 1);
	assert_string_equal(json_string_value(json_object_get(last, "kind")), "interrupted");
	assert_string_equal(json_string_value(json_object_get(last, "source")), "system");
	assert_true(json_real_value(json_object_get(last, "t_s")) == 120.2); /* last sample */
	assert_msg_has(json_string_value(json_object_get(last, "detail")), "while the test was running");
	json_decref(t);
	json_t *samples = tl_store_samples_json(st, running, &err);
	assert_int_equal(json_array_size(samples), 3);
	json_decref(samples);

	t = tl_store_test_json(st, recovering, &err);
	assert_string_equal(json_string_value(json_object_get(t, "state")), "interrupted");
	assert_string_equal(json_string_value(json_object_get(t, "end_reason")), "max");
	assert_string_equal(json_string_value(json_object_get(t, "ended_at")),
			    "2026-11-25T19:06:00.000Z");
	assert_int_equal(json_array_size(json_object_get(t, "events")), 2);
	json_decref(t);

	t = tl_store_test_json(st, done, &err);
	assert_string_equal(json_string_value(json_object_get(t, "state")), "complete");
	assert_int_equal(json_array_size(json_object_get(t, "events")), 0);
	json_decref(t);

	assert_int_equal(tl_store_recover_interrupted(st, now, &err), 0);
	assert_int_equal(tl_store_recover_interrupted(st, "now", &err), -1);
	assert_msg_has(err.msg, "store: closing interrupted tests: now 'now' is not UTC");
	tl_store_close(st);
}

/* The daemon killed mid-test: a child process records and dies by SIGKILL without closing
 * anything; what it committed is in the file and recovery closes its test. */
static void a_killed_writer_loses_nothing_it_committed(void **state)
{
	struct fx *f = *state;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct tl_err err;
		struct tl_store *st = tl_store_open(f->path, &err);
		if (!st)
			_exit(2);
		struct tl_store_test_new t = fx_new_test("MRN-1", AT);
		int64_t id = tl_store_test_create(st, &t, &err);
		struct tl_store_sample s[20];
		for (int i = 0; i < 20; i++)
			s[i] = fx_sample(i * 100);
		struct tl_store_event ev = {.t_ms = 1900, .kind = "onset", .source = "button-cts",
					    .value = NAN, .recorded_at = AT};
		if (id != 1 || tl_store_samples_add(st, id, s, 20, &err) < 0 ||
		    tl_store_event_add(st, id, &ev, &err) < 0)
			_exit(3);
		raise(SIGKILL);
		_exit(4);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

	struct tl_store *st = fx_open(f);
	struct tl_err err = {""};
	assert_int_equal(tl_store_recover_interrupted(st, "2026-11-25T19:30:00.000Z", &err), 1);
	json_t *t = tl_store_test_json(st, 1, &err);
	assert_non_null(t);
	assert_string_equal(json_string_value(json_object_get(t, "state")), "interrupted");
	json_t *evs = json_object_get(t, "events");
	assert_int_equal(json_array_size(evs), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(evs, 0), "kind")),
			    "onset");
	assert_true(json_real_value(json_object_get(json_array_get(evs, 1), "t_s")) == 1.9);
	json_decref(t);
	json_t *samples = tl_store_samples_json(st, 1, &err);
	assert_int_equal(json_array_size(samples), 20);
	json_decref(samples);
	tl_store_close(st);
	sqlite3 *db = raw_open(f->path);
	char *ok = raw_text(db, "PRAGMA integrity_check");
	assert_string_equal(ok, "ok");
	free(ok);
	sqlite3_close(db);
}

/* ---- two connections ---- */

static void second_connection_sees_each_commit(void **state)
{
	struct fx *f = *state;
	struct tl_store *w = fx_open(f);
	struct tl_err err = {""};
	struct tl_store *r = tl_store_open_readonly(f->path, &err);
	assert_non_null(r);
	int64_t id = fx_create(w, "MRN-1", AT);
	assert_int_equal(tl_store_test_exists(r, id, &err), 1);
	for (int i = 0; i < 5; i++) {
		fx_event(w, id, i * 1000, "stage");
		json_t *t = tl_store_test_json(r, id, &err);
		assert_non_null(t);
		assert_int_equal(json_array_size(json_object_get(t, "events")), (size_t)i + 1);
		json_decref(t);
	}
	/* A reader in the middle of a snapshot does not stop the writer. */
	sqlite3 *raw = raw_open(f->path);
	raw_exec(raw, "BEGIN; SELECT count(*) FROM events;");
	fx_event(w, id, 9000, "stop");
	assert_int_equal(raw_int(raw, "SELECT count(*) FROM events"), 5); /* its snapshot */
	raw_exec(raw, "COMMIT");
	assert_int_equal(raw_int(raw, "SELECT count(*) FROM events"), 6);
	sqlite3_close(raw);
	tl_store_close(r);
	tl_store_close(w);
}

static void locked_database_fails_clearly_and_loses_nothing(void **state)
{
	struct fx *f = *state;
	struct tl_store *st = fx_open(f);
	int64_t id = fx_create(st, "MRN-1", AT);
	fx_event(st, id, 1000, "start");
	struct tl_err err = {""};
	assert_int_equal(tl_store_busy_timeout_set(st, 20, &err), 0);

	sqlite3 *other = raw_open(f->path);
	raw_exec(other, "BEGIN IMMEDIATE");
	struct tl_store_event ev = {.t_ms = 95000, .kind = "onset", .source = "operator",
				    .value = NAN, .recorded_at = AT};
	tl_store_fault_clear(st);
	assert_int_equal(tl_store_event_add(st, id, &ev, &err), -1);
	assert_string_equal(err.msg, "store: adding event 'onset' to test 1: database is locked");
	assert_true(tl_store_fault(st)); /* the daemon holds the write and tries again */
	struct tl_store_sample s[2] = {fx_sample(0), fx_sample(100)};
	tl_store_fault_clear(st);
	assert_int_equal(tl_store_samples_add(st, id, s, 2, &err), -1);
	assert_string_equal(err.msg, "store: adding 2 samples to test 1: database is locked");
	assert_true(tl_store_fault(st));
	tl_store_fault_clear(st);
	ev.kind = "bad\x01kind"; /* a refusal: never a fault, whatever came before */
	assert_int_equal(tl_store_event_add(st, id, &ev, &err), -1);
	assert_false(tl_store_fault(st));
	ev.kind = "onset";
	raw_exec(other, "COMMIT");
	sqlite3_close(other);

	assert_int_equal(tl_store_event_add(st, id, &ev, &err), 0);
	assert_int_equal(tl_store_samples_add(st, id, s, 2, &err), 0);
	tl_store_close(st);
	assert_int_equal(path_int(f->path, "SELECT count(*) FROM events"), 2);
	assert_int_equal(path_int(f->path, "SELECT count(*) FROM samples"), 2);
	assert_int_equal(tl_store_busy_timeout_set(st = fx_open(f), -1, &err), -1);
	assert_msg_has(err.msg, "-1 ms is negative");
	tl_store_close(st);
}

/* ---- queries ---- */

static void test_json_has_every_key_with_nulls(void **state)
{
	struct fx *f = *state;
	struct tl_store *st = fx_open(f);
	int64_t id = fx_create(st, "MRN-1", AT);
	struct tl_err err = {""};
	json_t *t = tl_store_test_json(st, id, &err);
	assert_non_null(t);
	static const char *const nulls[] = {
		"end_reason", "ended_at", "cot_s", "pwt_s", "icd_m", "acd_m", "walking_time_s",
		"distance_m", "recovery_s", "findings", "findings_operator", "findings_at", "abi",
		"classification"};
	for (size_t i = 0; i < sizeof nulls / sizeof nulls[0]; i++) {
		json_t *v = json_object_get(t, nulls[i]);
		if (!json_is_null(v))
			fail_msg("%s is not null", nulls[i]);
	}
	assert_int_equal(json_integer_value(json_object_get(t, "id")), id);
	assert_string_equal(json_string_value(json_object_get(t, "patient")), "MRN-1");
	assert_string_equal(json_string_value(json_object_get(t, "protocol")), "gardner-skinner");
	assert_string_equal(json_string_value(json_object_get(t, "operator")), "tech1");
	assert_string_equal(json_string_value(json_object_get(t, "state")), "running");
	assert_string_equal(json_string_value(json_object_get(t, "started_at")), AT);
	assert_true(json_real_value(json_object_get(t, "time_scale")) == 1.0);
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(t, "protocol_as_run"), "name")),
			    "gardner-skinner");
	assert_true(json_is_array(json_object_get(t, "events")));
	assert_int_equal(json_array_size(json_object_get(t, "events")), 0);
	assert_int_equal(json_array_size(json_object_get(t, "pressures")), 0);
	assert_int_equal(json_object_size(t), 27); /* with demographics and order (schema 8) */
	json_decref(t);

	assert_null(tl_store_test_json(st, 42, &err));
	assert_string_equal(err.msg, "store: reading test 42: no test 42");
	assert_null(tl_store_samples_json(st, 42, &err));
	assert_string_equal(err.msg, "store: reading the samples of test 42: no test 42");
	assert_null(tl_store_pressures_json(st, 42, &err));
	assert_msg_has(err.msg, "no test 42");
	tl_store_close(st);
}

static void endpoints_round_trip_with_unknowns(void **state)
{
	struct fx *f = *state;
	struct tl_store *st = fx_open(f);
	int64_t id = fx_create(st, "MRN-1", AT);
	struct tl_err err = {""};
	struct tl_store_endpoints e = {.cot_s = 95.5, .pwt_s = 301.2, .icd_m = 84.9, .acd_m = 268.1,
				       .walking_time_s = 301.2, .distance_m = 268.1,
				       .recovery_s = NAN};
	assert_int_equal(tl_store_test_set_endpoints(st, id, &e, &err), 0);
	json_t *t = tl_store_test_json(st, id, &err);
	assert_true(json_real_value(json_object_get(t, "cot_s")) == 95.5);
	assert_true(json_real_value(json_object_get(t, "acd_m")) == 268.1);
	assert_true(json_is_null(json_object_get(t, "recovery_s")));
	json_decref(t);
	e.pwt_s = -INFINITY;
	assert_int_equal(tl_store_test_set_endpoints(st, id, &e, &err), -1);
	assert_string_equal(err.msg, "store: setting the endpoints of test 1: pwt_s must be a "
				     "finite number or NAN for unknown");
	tl_store_close(st);
}

static void pressure_flags_are_kept(void **state)
{
	struct fx *f = *state;
	struct tl_store *st = fx_open(f);
	struct tl_err err = {""};
	int64_t id = fx_create(st, "MRN-FLAGS", AT);
	/* Not compressible at 260 mmHg; an arm at 40 mmHg the operator confirmed. */
	assert_int_equal(tl_store_pressure_add_flags(st, id, "rest", NAN, "pt-left", 260,
						     TL_STORE_PRESSURE_NONCOMPRESSIBLE, "tech1",
						     "manual", AT, &err),
			 0);
	assert_int_equal(tl_store_pressure_add_flags(st, id, "rest", NAN, "brachial-left", 40,
						     TL_STORE_PRESSURE_CONFIRMED, "tech1", "manual",
						     AT, &err),
			 0);
	assert_int_equal(tl_store_pressure_add_flags(st, id, "rest", NAN, "pt-right", 100, 4u,
						     "tech1", "manual", AT, &err),
			 -1);
	assert_msg_has(err.msg, "unknown pressure flags 0x4");
	json_t *p = tl_store_pressures_json(st, id, &err);
	assert_int_equal(json_array_size(p), 2);
	json_t *p0 = json_array_get(p, 0), *p1 = json_array_get(p, 1);
	assert_true(json_is_true(json_object_get(p0, "noncompressible")));
	assert_true(json_is_false(json_object_get(p0, "confirmed")));
	assert_true(json_real_value(json_object_get(p0, "mmhg")) == 260);
	assert_true(json_is_false(json_object_get(p1, "noncompressible")));
	assert_true(json_is_true(json_object_get(p1, "confirmed")));
	json_decref(p);
	tl_store_close(st);
}

static void pressures_round_trip_in_report_order(void **state)
{
	struct fx *f = *state;
	struct tl_store *st = fx_open(f);
	int64_t id = fx_create(st, "MRN-1", AT);
	struct tl_err err = {""};
	assert_int_equal(tl_store_pressure_add(st, id, "post", 1, "ankle-pt-right", 80, "tech1",
					       "doppler", AT, &err),
			 0);
	assert_int_equal(tl_store_pressure_add(st, id, "rest", NAN, "brachial-right", 132, "tech1",
					       "doppler", AT, &err),
			 0);
	assert_int_equal(tl_store_pressure_add(st, id, "post", 0.5, "brachial-right", 150, NULL,
					       "cuff-serial", AT, &err),
			 0);
	json_t *p = tl_store_pressures_json(st, id, &err);
	assert_int_equal(json_array_size(p), 3);
	json_t *p0 = json_array_get(p, 0), *p1 = json_array_get(p, 1), *p2 = json_array_get(p, 2);
	assert_string_equal(json_string_value(json_object_get(p0, "phase")), "rest");
	assert_true(json_is_null(json_object_get(p0, "minute")));
	assert_true(json_real_value(json_object_get(p0, "mmhg")) == 132);
	assert_true(json_real_value(json_object_get(p1, "minute")) == 0.5);
	assert_true(json_is_null(json_object_get(p1, "operator")));
	assert_string_equal(json_string_value(json_object_get(p1, "source")), "cuff-serial");
	assert_string_equal(json_string_value(json_object_get(p2, "site")), "ankle-pt-right");
	/* An ordinary reading is neither noncompressible nor a confirmed implausible one. */
	assert_true(json_is_false(json_object_get(p0, "noncompressible")));
	assert_true(json_is_false(json_object_get(p0, "confirmed")));
	json_decref(p);

	struct {
		const char *phase;
		double minute, mmhg;
		const char *msg;
	} bad[] = {
		{"exercise", NAN, 100, "phase must be 'rest' or 'post'"},
		{"rest", 1, 100, "a rest pressure has no minute"},
		{"post", NAN, 100, "a post-exercise pressure needs its minute"},
		{"post", -1, 100, "a post-exercise pressure needs its minute"},
		{"rest", NAN, 1200, "1200 mmHg is outside 0..400"},
		{"rest", NAN, -5, "-5 mmHg is outside 0..400"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(tl_store_pressure_add(st, id, bad[i].phase, bad[i].minute,
						       "ankle-dp-left", bad[i].mmhg, "tech1",
						       "doppler", AT, &err),
				 -1);
		assert_msg_has(err.msg, bad[i].msg);
	}
	p = tl_store_test_json(st, id, &err);
	assert_int_equal(json_array_size(json_object_get(p, "pressures")), 3);
	json_decref(p);
	tl_store_close(st);
}

static void findings_and_results_round_trip(void **state)
{
	struct fx *f = *state;
	struct tl_store *st = fx_open(f);
	int64_t id = fx_create(st, "MRN-1", AT);
	struct tl_err err = {""};
	assert_int_equal(tl_store_findings_set(st, id, "{\"site\":\"calf\",\"relief_by_standing\":true}",
					       "tech1", "2026-11-25T19:30:00.000Z", &err),
			 0);
	assert_int_equal(tl_store_results_set(st, id, "{\"rest\":{\"right\":0.62}}", NULL, &err), 0);
	json_t *t = tl_store_test_json(st, id, &err);
	json_t *fi = json_object_get(t, "findings");
	assert_string_equal(json_string_value(json_object_get(fi, "site")), "calf");
	assert_true(json_is_true(json_object_get(fi, "relief_by_standing")));
	assert_string_equal(json_string_value(json_object_get(t, "findings_at")),
			    "2026-11-25T19:30:00.000Z");
	assert_true(json_real_value(json_object_get(json_object_get(json_object_get(t, "abi"),
								      "rest"),
						    "right")) == 0.62);
	assert_true(json_is_null(json_object_get(t, "classification")));
	json_decref(t);

	assert_int_equal(tl_store_results_set(st, id, "{\"rest\":{\"right\":0.62}}",
					      "{\"class\":\"vascular\"}", &err),
			 0);
	t = tl_store_test_json(st, id, &err);
	assert_string_equal(json_string_value(json_object_get(json_object_get(t, "classification"),
							      "class")),
			    "vascular");
	json_decref(t);

	assert_int_equal(tl_store_findings_set(st, id, "{\"site\":", "tech1", AT, &err), -1);
	assert_msg_has(err.msg, "store: setting the findings of test 1: findings is not JSON (line 1");
	/* JSON that SQLite accepts but the queries could not read back is refused too. */
	assert_int_equal(tl_store_findings_set(st, id, "{\"site\":\"ca\\u0000lf\"}", "tech1", AT,
					       &err),
			 -1);
	assert_msg_has(err.msg, "findings could not be read back (");
	assert_int_equal(tl_store_results_set(st, id, "{\"n\":123456789012345678901234567890}",
					      NULL, &err),
			 -1);
	assert_msg_has(err.msg, "ABI could not be read back (too big integer");
	assert_int_equal(tl_store_results_set(st, id, "[1,", NULL, &err), -1);
	assert_msg_has(err.msg, "ABI is not JSON");
	assert_int_equal(tl_store_findings_set(st, 77, "{}", "tech1", AT, &err), -1);
	assert_string_equal(err.msg, "store: setting the findings of test 77: no test 77");
	tl_store_close(st);
}

static void audit_rows_are_kept_newest_first(void **state)
{
	struct fx *f = *state;
	struct tl_store *st = fx_open(f);
	struct tl_err err = {""};
	assert_int_equal(tl_store_audit(st, "2026-11-25T19:00:00.000Z", "tech1", "start",
					"{\"patient\":\"MRN-1\",\"protocol\":\"hiatt\"}", "ok", &err),
			 0);
	assert_int_equal(tl_store_audit(st, "2026-11-25T19:05:00.000Z", NULL, "stop", NULL,
					"ok", &err),
			 0);
	assert_int_equal(tl_store_audit(st, "2026-11-25T19:06:00.000Z", "tech2", "start", "{}",
					"refused: a test is already running", &err),
			 0);
	assert_int_equal(tl_store_audit(st, AT, "tech2", "start", "{", "ok", &err), -1);
	assert_msg_has(err.msg, "store: auditing command 'start': detail is not JSON");
	json_t *a = tl_store_audit_json(st, 2, &err);
	assert_int_equal(json_array_size(a), 2);
	json_t *a0 = json_array_get(a, 0), *a1 = json_array_get(a, 1);
	assert_string_equal(json_string_value(json_object_get(a0, "result")),
			    "refused: a test is already running");
	assert_string_equal(json_string_value(json_object_get(a0, "operator")), "tech2");
	assert_string_equal(json_string_value(json_object_get(a1, "command")), "stop");
	assert_true(json_is_null(json_object_get(a1, "operator")));
	assert_true(json_is_null(json_object_get(a1, "detail")));
	json_decref(a);
	a = tl_store_audit_json(st, 10, &err);
	assert_int_equal(json_array_size(a), 3);
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(json_array_get(a, 2), "detail"), "protocol")),
			    "hiatt");
	json_decref(a);
	tl_store_close(st);
}

static void tests_are_listed_newest_first_per_patient(void **state)
{
	struct fx *f = *state;
	struct tl_store *st = fx_open(f);
	int64_t a1 = fx_create(st, "MRN-A", "2026-11-20T09:00:00.000Z");
	int64_t b1 = fx_create(st, "MRN-B", "2026-11-21T09:00:00.000Z");
	int64_t a2 = fx_create(st, "MRN-A", "2026-11-25T09:00:00.000Z");
	struct tl_err err = {""};
	json_t *all = tl_store_tests_json(st, NULL, &err);
	assert_int_equal(json_array_size(all), 3);
	int64_t want[] = {a2, b1, a1};
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(json_integer_value(json_object_get(json_array_get(all, i), "id")),
				 want[i]);
	assert_true(json_is_null(json_object_get(json_array_get(all, 0), "cot_s")));
	json_decref(all);
	json_t *a = tl_store_tests_json(st, "MRN-A", &err);
	assert_int_equal(json_array_size(a), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(a, 0), "id")), a2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(a, 1), "patient")),
			    "MRN-A");
	json_decref(a);
	json_t *none = tl_store_tests_json(st, "MRN-Z", &err);
	assert_non_null(none);
	assert_int_equal(json_array_size(none), 0);
	json_decref(none);
	assert_int_equal(path_int(f->path, "SELECT count(*) FROM patients"), 2);
	tl_store_close(st);
}

static void patient_mrn_is_checked(void **state)
{
	struct fx *f = *state;
	struct tl_store *st = fx_open(f);
	struct tl_err err = {""};
	char long_mrn[66];
	memset(long_mrn, '7', 65);
	long_mrn[65] = '\0';
	struct {
		const char *legend, *mrn, *msg;
	} bad[] = {
		{"missing", NULL, "store: creating a test: patient MRN is missing"},
		{"empty", "", "patient MRN must be 1 to 64 bytes (it has 0)"},
		{"too long", long_mrn, "patient MRN must be 1 to 64 bytes (it has 65)"},
		{"newline", "123\n", "patient MRN has a control character (0x0a) at 4"},
		{"tab", "12\t3", "control character (0x09) at 3"},
		{"delete", "12\x7f", "control character (0x7f) at 3"},
		{"C1 control", "12\xc2\x85", "control character (U+0085) at 3"},
		{"bad UTF-8", "12\xff", "patient MRN is not valid UTF-8 (byte 3)"},
		{"overlong UTF-8", "\xc0\xaf", "not valid UTF-8 (byte 1)"},
		{"leading space", " 123", "patient MRN ' 123' starts or ends with a space"},
		{"trailing space", "123 ", "starts or ends with a space"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct tl_store_test_new t = fx_new_test(bad[i].mrn, AT);
		err.msg[0] = '\0';
		if (tl_store_test_create(st, &t, &err) != -1)
			fail_msg("%s: accepted", bad[i].legend);
		assert_msg_has(err.msg, bad[i].msg);
	}
	assert_int_equal(path_int(f->path, "SELECT count(*) FROM patients"), 0);

	long_mrn[64] = '\0';
	const char *good[] = {"MRN-00123", long_mrn, "Müller 12", "1"};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		assert_true(fx_create(st, good[i], AT) > 0);
	assert_int_equal(path_int(f->path, "SELECT count(*) FROM patients"), 4);
	tl_store_close(st);
}

static void test_creation_checks_its_arguments(void **state)
{
	struct fx *f = *state;
	struct tl_store *st = fx_open(f);
	struct tl_err err = {""};
	struct tl_store_test_new t = fx_new_test("MRN-1", AT);
	t.time_scale = 0;
	assert_int_equal(tl_store_test_create(st, &t, &err), -1);
	assert_string_equal(err.msg, "store: creating a test for patient 'MRN-1': time scale 0 "
				     "is not a positive number");
	t = fx_new_test("MRN-1", AT);
	t.protocol_json = "{not json}";
	assert_int_equal(tl_store_test_create(st, &t, &err), -1);
	assert_msg_has(err.msg, "protocol JSON is not JSON");
	t = fx_new_test("MRN-1", AT);
	t.operator_id = NULL;
	assert_int_equal(tl_store_test_create(st, &t, &err), -1);
	assert_msg_has(err.msg, "operator is missing");
	t = fx_new_test("MRN-1", AT);
	t.state = "resting";
	t.time_scale = 10;
	int64_t id = tl_store_test_create(st, &t, &err);
	assert_true(id > 0);
	json_t *j = tl_store_test_json(st, id, &err);
	assert_string_equal(json_string_value(json_object_get(j, "state")), "resting");
	assert_true(json_real_value(json_object_get(j, "time_scale")) == 10);
	json_decref(j);
	char *text = tl_store_test_protocol_text(st, id, &err);
	assert_string_equal(text, "name = gardner-skinner\nspeed = 2.0 mph\n");
	free(text);
	assert_null(tl_store_test_protocol_text(st, id + 1, &err));
	assert_msg_has(err.msg, "no test 2");
	tl_store_close(st);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(open_creates_current_schema_in_wal),
		T(reopen_keeps_everything),
		T(empty_file_is_migrated),
		T(version_1_is_migrated_keeping_data),
		T(new_test_records_software_version),
		T(newer_schema_is_refused),
		T(non_database_is_refused_and_left_alone),
		T(other_programs_database_is_refused),
		T(readonly_needs_a_current_store),
		T(readonly_refuses_writes),
		T(events_are_durable_and_in_time_order),
		T(event_on_missing_test_names_it),
		T(bad_event_arguments_are_refused),
		T(samples_are_batched_and_ordered),
		T(state_changes_keep_what_is_not_given),
		T(recovery_closes_open_tests_and_keeps_their_record),
		T(recovery_closes_a_test_that_was_starting),
		T(a_killed_writer_loses_nothing_it_committed),
		T(second_connection_sees_each_commit),
		T(locked_database_fails_clearly_and_loses_nothing),
		T(test_json_has_every_key_with_nulls),
		T(endpoints_round_trip_with_unknowns),
		T(pressures_round_trip_in_report_order),
		T(pressure_flags_are_kept),
		T(findings_and_results_round_trip),
		T(audit_rows_are_kept_newest_first),
		T(tests_are_listed_newest_first_per_patient),
		T(patient_mrn_is_checked),
		T(test_creation_checks_its_arguments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
