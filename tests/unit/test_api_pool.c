/* test_api_pool.c - the API's pool of read-only store connections (src/daemon/api_pool.c,
 * compiled in): opened at first use and kept, lent to one thread at a time, never more
 * than its size, closed and reopened after an error, and reopened when the file at the
 * path is gone or replaced. Threads report into a struct; only the main thread asserts. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>

#include "api_pool.h"
#include "store_fixture.h"

/* A store with n tests, all connections closed (its -wal and -shm gone with them). */
static void make_store(const char *path, int n)
{
	struct tl_err err = {""};
	struct tl_store *st = tl_store_open(path, &err);
	if (!st)
		fail_msg("%s", err.msg);
	for (int i = 0; i < n; i++)
		fx_create(st, "P1", "2026-11-25T19:20:00.123Z");
	tl_store_close(st);
}

static struct tl_store *take(struct tl_api_pool *p)
{
	struct tl_err err = {""};
	struct tl_store *st = tl_api_pool_take(p, &err);
	if (!st)
		fail_msg("take: %s", err.msg);
	return st;
}

static size_t n_tests(struct tl_store *st)
{
	struct tl_err err = {""};
	json_t *j = tl_store_tests_json(st, NULL, &err);
	if (!j)
		fail_msg("%s", err.msg);
	size_t n = json_array_size(j);
	json_decref(j);
	return n;
}

static void test_bad_size(void **state)
{
	struct fx *f = *state;
	struct tl_api_pool p;
	struct tl_err err = {""};
	assert_int_equal(tl_api_pool_init(&p, f->path, 0, &err), -1);
	assert_non_null(strstr(err.msg, "1 to 4"));
	assert_int_equal(tl_api_pool_init(&p, f->path, TL_API_POOL_SIZE + 1, &err), -1);
}

static void test_lazy_and_kept(void **state)
{
	struct fx *f = *state;
	make_store(f->path, 2);
	struct tl_api_pool p;
	struct tl_err err = {""};
	assert_int_equal(tl_api_pool_init(&p, f->path, 2, &err), 0);
	assert_int_equal(tl_api_pool_opened(&p), 0);
	struct tl_store *a = take(&p);
	assert_int_equal(tl_api_pool_opened(&p), 1);
	assert_int_equal(n_tests(a), 2);
	tl_api_pool_give(&p, a, false);
	struct tl_store *b = take(&p);
	assert_ptr_equal(a, b); /* kept, not reopened */
	assert_int_equal(tl_api_pool_opened(&p), 1);
	struct tl_store *c = take(&p); /* the first is out: the second slot opens */
	assert_ptr_not_equal(b, c);
	assert_int_equal(tl_api_pool_opened(&p), 2);
	/* A kept connection sees what is committed after it opened. */
	struct tl_store *w = fx_open(f);
	fx_create(w, "P2", "2026-11-25T19:30:00.123Z");
	tl_store_close(w);
	assert_int_equal(n_tests(b), 3);
	tl_api_pool_give(&p, b, false);
	tl_api_pool_give(&p, c, false);
	tl_api_pool_destroy(&p);
}

static void test_failed_is_reopened(void **state)
{
	struct fx *f = *state;
	make_store(f->path, 1);
	struct tl_api_pool p;
	struct tl_err err = {""};
	assert_int_equal(tl_api_pool_init(&p, f->path, 1, &err), 0);
	struct tl_store *a = take(&p);
	tl_api_pool_give(&p, a, true);
	struct tl_store *b = take(&p);
	assert_int_equal(tl_api_pool_opened(&p), 2);
	assert_int_equal(n_tests(b), 1);
	tl_api_pool_give(&p, b, false);
	tl_api_pool_destroy(&p);
}

static void test_gone_and_back(void **state)
{
	struct fx *f = *state;
	make_store(f->path, 1);
	struct tl_api_pool p;
	struct tl_err err = {""};
	assert_int_equal(tl_api_pool_init(&p, f->path, 1, &err), 0);
	tl_api_pool_give(&p, take(&p), false);
	char away[160];
	snprintf(away, sizeof away, "%s/away.db", f->dir);
	assert_int_equal(rename(f->path, away), 0);
	/* The kept connection could still read the moved file; the pool says it is gone. */
	assert_null(tl_api_pool_take(&p, &err));
	assert_non_null(strstr(err.msg, "store: opening"));
	assert_non_null(strstr(err.msg, "unable to open database file"));
	assert_null(tl_api_pool_take(&p, &err)); /* the slot was given back, not lost */
	assert_int_equal(rename(away, f->path), 0);
	struct tl_store *st = take(&p);
	assert_int_equal(n_tests(st), 1);
	tl_api_pool_give(&p, st, false);
	tl_api_pool_destroy(&p);
}

static void test_replaced(void **state)
{
	struct fx *f = *state;
	make_store(f->path, 1);
	char other[160], side[160];
	snprintf(other, sizeof other, "%s/other.db", f->dir);
	make_store(other, 3);
	struct tl_api_pool p;
	struct tl_err err = {""};
	assert_int_equal(tl_api_pool_init(&p, f->path, 1, &err), 0);
	struct tl_store *st = take(&p);
	assert_int_equal(n_tests(st), 1);
	tl_api_pool_give(&p, st, false);
	/* A restore from a backup: another file put in place (the old one's -wal and -shm,
	 * which its kept connection holds, are not the new one's). */
	assert_int_equal(rename(other, f->path), 0);
	snprintf(side, sizeof side, "%s-wal", f->path);
	unlink(side);
	snprintf(side, sizeof side, "%s-shm", f->path);
	unlink(side);
	st = take(&p);
	assert_int_equal(tl_api_pool_opened(&p), 2);
	assert_int_equal(n_tests(st), 3);
	tl_api_pool_give(&p, st, false);
	tl_api_pool_destroy(&p);
}

#define N_THREADS 8
#define N_ROUNDS 100
#define POOL 2

struct run {
	struct tl_api_pool *p;
	pthread_mutex_t mu;
	struct tl_store *out[N_THREADS]; /* lent out now */
	int n_out, max_out;
	int shared;                      /* a connection lent to two threads at once */
	char err[600];   /* a prefix and a struct tl_err message */
};

static void *borrower(void *arg)
{
	struct run *r = arg;
	for (int i = 0; i < N_ROUNDS; i++) {
		struct tl_err err = {""};
		struct tl_store *st = tl_api_pool_take(r->p, &err);
		if (!st) {
			pthread_mutex_lock(&r->mu);
			snprintf(r->err, sizeof r->err, "take: %s", err.msg);
			pthread_mutex_unlock(&r->mu);
			return NULL;
		}
		pthread_mutex_lock(&r->mu);
		int slot = -1;
		for (int k = 0; k < N_THREADS; k++) {
			if (r->out[k] == st)
				r->shared++;
			if (!r->out[k] && slot < 0)
				slot = k;
		}
		r->out[slot] = st;
		if (++r->n_out > r->max_out)
			r->max_out = r->n_out;
		pthread_mutex_unlock(&r->mu);
		int e = tl_store_test_exists(st, 1, &err);
		pthread_mutex_lock(&r->mu);
		r->out[slot] = NULL;
		r->n_out--;
		if (e != 1)
			snprintf(r->err, sizeof r->err, "exists: %d %s", e, err.msg);
		pthread_mutex_unlock(&r->mu);
		tl_api_pool_give(r->p, st, e != 1);
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct fx *f = *state;
	make_store(f->path, 1);
	struct tl_api_pool p;
	struct tl_err err = {""};
	assert_int_equal(tl_api_pool_init(&p, f->path, POOL, &err), 0);
	struct run r = {.p = &p};
	pthread_mutex_init(&r.mu, NULL);
	pthread_t th[N_THREADS];
	for (int i = 0; i < N_THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, borrower, &r), 0);
	for (int i = 0; i < N_THREADS; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&r.mu);
	assert_string_equal(r.err, "");
	assert_int_equal(r.shared, 0);
	assert_true(r.max_out >= 1 && r.max_out <= POOL);
	assert_true(tl_api_pool_opened(&p) >= 1 && tl_api_pool_opened(&p) <= POOL);
	tl_api_pool_destroy(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bad_size, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_lazy_and_kept, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_failed_is_reopened, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_gone_and_back, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_replaced, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_threads, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
