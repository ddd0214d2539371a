/* test_store_threads.c - the daemon's arrangement: a writer thread and a query thread, each
 * with its own connection to the same file. The reader must never fail, never block the
 * writer, and always see one consistent moment (a test that says "stopping" has every event
 * the writer added before it said so). Threads report into a struct; only the main thread
 * asserts (cmocka's asserts jump and must not cross threads). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>

#include "store_fixture.h"

#define N_EVENTS 200
#define N_BATCHES 40
#define BATCH 10

struct run {
	const char *path;
	int64_t test_id;
	atomic_int writer_done;
	char writer_err[512];
	char reader_err[512];
	int reads;
	int reads_mid_test; /* reads that saw some but not all events */
};

static void *writer(void *arg)
{
	struct run *r = arg;
	struct tl_err err = {""};
	struct tl_store *st = tl_store_open(r->path, &err);
	if (!st) {
		snprintf(r->writer_err, sizeof r->writer_err, "%s", err.msg);
		atomic_store(&r->writer_done, 1);
		return NULL;
	}
	for (int i = 0; i < N_EVENTS && !err.msg[0]; i++) {
		struct tl_store_event ev = {.t_ms = i * 100, .kind = "stage", .source = "system",
					    .value = i, .recorded_at = "2026-11-25T19:20:00.123Z"};
		if (tl_store_event_add(st, r->test_id, &ev, &err) < 0)
			break;
		if (i % (N_EVENTS / N_BATCHES) == 0) {
			struct tl_store_sample s[BATCH];
			for (int k = 0; k < BATCH; k++)
				s[k] = fx_sample(i * 100 + k * 10);
			if (tl_store_samples_add(st, r->test_id, s, BATCH, &err) < 0)
				break;
		}
	}
	if (!err.msg[0])
		tl_store_test_set_state(st, r->test_id, "stopping", "max", NULL, &err);
	snprintf(r->writer_err, sizeof r->writer_err, "%s", err.msg);
	tl_store_close(st);
	atomic_store(&r->writer_done, 1);
	return NULL;
}

/* One read; 1 when the writer's last state was seen, 0 otherwise, -1 on a failure. */
static int read_once(struct tl_store *st, struct run *r, size_t *last_events)
{
	struct tl_err err = {""};
	json_t *t = tl_store_test_json(st, r->test_id, &err);
	if (!t) {
		snprintf(r->reader_err, sizeof r->reader_err, "%s", err.msg);
		return -1;
	}
	size_t n = json_array_size(json_object_get(t, "events"));
	const char *state = json_string_value(json_object_get(t, "state"));
	int stopped = state && strcmp(state, "stopping") == 0;
	json_decref(t);
	if (n < *last_events)
		snprintf(r->reader_err, sizeof r->reader_err, "events went from %zu to %zu",
			 *last_events, n);
	else if (stopped && n != N_EVENTS)
		snprintf(r->reader_err, sizeof r->reader_err,
			 "state 'stopping' seen with %zu of %d events", n, N_EVENTS);
	if (r->reader_err[0])
		return -1;
	if (n > 0 && n < N_EVENTS)
		r->reads_mid_test++;
	*last_events = n;
	json_t *s = tl_store_samples_json(st, r->test_id, &err);
	if (!s) {
		snprintf(r->reader_err, sizeof r->reader_err, "%s", err.msg);
		return -1;
	}
	if (json_array_size(s) % BATCH != 0)
		snprintf(r->reader_err, sizeof r->reader_err, "%zu samples: a batch seen in part",
			 json_array_size(s));
	json_decref(s);
	r->reads++;
	return r->reader_err[0] ? -1 : stopped;
}

static void *reader(void *arg)
{
	struct run *r = arg;
	struct tl_err err = {""};
	struct tl_store *st = tl_store_open_readonly(r->path, &err);
	if (!st) {
		snprintf(r->reader_err, sizeof r->reader_err, "%s", err.msg);
		return NULL;
	}
	size_t last = 0;
	for (;;) {
		int done = atomic_load(&r->writer_done);
		int rc = read_once(st, r, &last);
		if (rc < 0 || done)
			break;
	}
	tl_store_close(st);
	return NULL;
}

static void reader_and_writer_threads_share_the_file(void **state)
{
	struct fx *f = *state;
	struct tl_store *st = fx_open(f);
	struct run r = {.path = f->path, .test_id = fx_create(st, "MRN-1", "2026-11-25T19:20:00.123Z")};
	tl_store_close(st);

	pthread_t w, rd;
	assert_int_equal(pthread_create(&rd, NULL, reader, &r), 0);
	assert_int_equal(pthread_create(&w, NULL, writer, &r), 0);
	assert_int_equal(pthread_join(w, NULL), 0);
	assert_int_equal(pthread_join(rd, NULL), 0);
	if (r.writer_err[0])
		fail_msg("writer: %s", r.writer_err);
	if (r.reader_err[0])
		fail_msg("reader: %s", r.reader_err);
	print_message("reader: %d reads, %d in the middle of the test\n", r.reads, r.reads_mid_test);
	assert_true(r.reads > 0);

	st = fx_open(f);
	struct tl_err err = {""};
	json_t *t = tl_store_test_json(st, r.test_id, &err);
	assert_int_equal(json_array_size(json_object_get(t, "events")), N_EVENTS);
	assert_string_equal(json_string_value(json_object_get(t, "state")), "stopping");
	json_decref(t);
	json_t *s = tl_store_samples_json(st, r.test_id, &err);
	assert_int_equal(json_array_size(s), N_BATCHES * BATCH);
	json_decref(s);
	tl_store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(reader_and_writer_threads_share_the_file, fx_setup,
						fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
