/* One daemon per database: the store's lock refuses a second process, names the holder,
 * and is free again once the holder releases it or dies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "store_fixture.h"

/* Runs tl_store_lock_take in a child process (POSIX locks never conflict within one
 * process); returns 0 if the child got the lock, 1 if refused, and the child's message. */
static int take_in_child(const char *path, char *msg, size_t cap)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		struct tl_err err = {""};
		struct tl_store_lock *l = tl_store_lock_take(path, &err);
		ssize_t n = write(p[1], err.msg, strlen(err.msg));
		(void)n;
		_exit(l ? 0 : 1);
	}
	close(p[1]);
	ssize_t n = read(p[0], msg, cap - 1);
	msg[n > 0 ? n : 0] = '\0';
	close(p[0]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void a_second_process_is_refused_with_the_holders_pid(void **state)
{
	struct fx *f = *state;
	struct tl_err err = {""};
	struct tl_store_lock *l = tl_store_lock_take(f->path, &err);
	assert_non_null(l);
	char msg[512], want[64];
	assert_int_equal(take_in_child(f->path, msg, sizeof msg), 1);
	snprintf(want, sizeof want, "(pid %ld)", (long)getpid());
	if (!strstr(msg, want) || !strstr(msg, "is in use by another treadlabd"))
		fail_msg("unexpected message: %s", msg);
	tl_store_lock_release(l);
	assert_int_equal(take_in_child(f->path, msg, sizeof msg), 0);
}

static void a_dead_holders_lock_is_free(void **state)
{
	struct fx *f = *state;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct tl_err err;
		if (!tl_store_lock_take(f->path, &err))
			_exit(1);
		raise(SIGKILL); /* dies holding it */
		_exit(2);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	struct tl_err err = {""};
	struct tl_store_lock *l = tl_store_lock_take(f->path, &err);
	if (!l)
		fail_msg("%s", err.msg);
	tl_store_lock_release(l);
}

static void the_lock_file_is_not_world_readable(void **state)
{
	struct fx *f = *state;
	mode_t old = umask(0);
	struct tl_err err = {""};
	struct tl_store_lock *l = tl_store_lock_take(f->path, &err);
	umask(old);
	assert_non_null(l);
	char lock[160];
	snprintf(lock, sizeof lock, "%s.lock", f->path);
	struct stat sb;
	assert_int_equal(stat(lock, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0640);
	tl_store_lock_release(l);
}

static void an_unwritable_place_is_a_clear_error(void **state)
{
	(void)state;
	struct tl_err err = {""};
	assert_null(tl_store_lock_take("/nonexistent-dir/treadlab.db", &err));
	assert_non_null(strstr(err.msg, "cannot open /nonexistent-dir/treadlab.db.lock"));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(a_second_process_is_refused_with_the_holders_pid),
		T(a_dead_holders_lock_is_free),
		T(the_lock_file_is_not_world_readable),
		T(an_unwritable_place_is_a_clear_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
