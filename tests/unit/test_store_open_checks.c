/* What the store checks when it opens a file, before anything is written to it: a damaged
 * file and a read-only one are refused with a message that says so (and a read-only one
 * is left without -wal or -shm files); a new file is made private (0640), and its -wal
 * and -shm alike. Also the limit on pressures per test. */
#define _GNU_SOURCE /* unshare */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "store_fixture.h"

#define AT "2026-11-25T19:20:00.123Z"

static void fill(struct tl_store *st, int64_t id, int n)
{
	for (int i = 0; i < n; i++)
		fx_event(st, id, i * 100, "stage");
}

/* Overwrites the first bytes of page `page` (1-based) with garbage, as a torn write or a
 * bad sector would. */
static void damage_page(const char *path, int64_t page, int64_t page_size)
{
	int fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	unsigned char junk[64];
	memset(junk, 0xa5, sizeof junk);
	assert_int_equal(pwrite(fd, junk, sizeof junk, (page - 1) * page_size), (ssize_t)sizeof junk);
	close(fd);
}

static void a_damaged_page_is_refused_at_open(void **state)
{
	struct fx *f = *state;
	struct tl_store *st = fx_open(f);
	int64_t id = fx_create(st, "MRN-1", AT);
	fill(st, id, 400); /* the events table spans several pages */
	tl_store_close(st);
	int64_t page_size = path_int(f->path, "PRAGMA page_size");
	/* A leaf of the events table, not the schema: only a check of the whole file finds it. */
	int64_t leaf = path_int(f->path, "SELECT max(pageno) FROM dbstat WHERE name = 'events' "
					 "AND pagetype = 'leaf'");
	damage_page(f->path, leaf, page_size);
	struct stat before, after;
	assert_int_equal(stat(f->path, &before), 0);

	struct tl_err err = {""};
	assert_null(tl_store_open(f->path, &err));
	assert_msg_has(err.msg, "store: ");
	assert_msg_has(err.msg, " is damaged (quick_check: ");
	assert_msg_has(err.msg, "restore it from a backup");
	assert_int_equal(stat(f->path, &after), 0);
	assert_int_equal(after.st_size, before.st_size); /* left as it is */
	assert_true(after.st_mtim.tv_sec == before.st_mtim.tv_sec &&
		    after.st_mtim.tv_nsec == before.st_mtim.tv_nsec);
}

static void a_damaged_header_is_refused_at_open(void **state)
{
	struct fx *f = *state;
	struct tl_store *st = fx_open(f);
	fx_create(st, "MRN-1", AT);
	tl_store_close(st);
	damage_page(f->path, 2, path_int(f->path, "PRAGMA page_size")); /* the schema's tables */
	struct tl_err err = {""};
	assert_null(tl_store_open(f->path, &err));
	assert_msg_has(err.msg, " is damaged");
}

static int mode_of(const char *path)
{
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	return (int)(sb.st_mode & 0777);
}

static void a_new_store_is_private_whatever_the_umask(void **state)
{
	struct fx *f = *state;
	mode_t old = umask(0);
	struct tl_store *st = fx_open(f);
	umask(old);
	fx_create(st, "MRN-1", AT); /* the -wal and -shm exist while it is open */
	char wal[160], shm[160];
	snprintf(wal, sizeof wal, "%s-wal", f->path);
	snprintf(shm, sizeof shm, "%s-shm", f->path);
	assert_int_equal(mode_of(f->path), 0640);
	assert_int_equal(mode_of(wal), 0640);
	assert_int_equal(mode_of(shm), 0640);
	tl_store_close(st);
}

static void an_existing_store_keeps_its_mode(void **state)
{
	struct fx *f = *state;
	tl_store_close(fx_open(f));
	assert_int_equal(chmod(f->path, 0600), 0);
	tl_store_close(fx_open(f));
	assert_int_equal(mode_of(f->path), 0600);
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* In a user and mount namespace of its own (as `unshare -rm` makes): a tmpfs over the
 * test's directory holding a store, remounted read-only. Exit status: 0 pass, 77 no
 * namespaces here, anything else a failure (described on stderr). */
static int read_only_child(const char *dir, const char *path)
{
	uid_t uid = getuid();
	gid_t gid = getgid();
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
		return 77;
	char map[64];
	snprintf(map, sizeof map, "0 %d 1", (int)uid);
	if (write_file("/proc/self/setgroups", "deny") < 0 ||
	    write_file("/proc/self/uid_map", map) < 0)
		return 77;
	snprintf(map, sizeof map, "0 %d 1", (int)gid);
	if (write_file("/proc/self/gid_map", map) < 0 ||
	    mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("tmpfs", dir, "tmpfs", 0, "size=4m") < 0)
		return 77;
	struct tl_err err = {""};
	struct tl_store *st = tl_store_open(path, &err);
	if (!st) {
		fprintf(stderr, "open on tmpfs: %s\n", err.msg);
		return 1;
	}
	tl_store_close(st);
	if (mount("tmpfs", dir, "tmpfs", MS_REMOUNT | MS_RDONLY, NULL) < 0)
		return 77;
	st = tl_store_open(path, &err);
	if (st) {
		fprintf(stderr, "a read-only store was opened for writing\n");
		return 1;
	}
	if (!strstr(err.msg, " is read-only (its file system is mounted read-only)")) {
		fprintf(stderr, "unclear message: %s\n", err.msg);
		return 1;
	}
	char side[160];
	snprintf(side, sizeof side, "%s-wal", path);
	int left = access(side, F_OK) == 0;
	snprintf(side, sizeof side, "%s-shm", path);
	left |= access(side, F_OK) == 0;
	if (left) {
		fprintf(stderr, "-wal or -shm left beside the read-only store\n");
		return 1;
	}
	return 0;
}

static void a_read_only_store_is_refused_and_left_clean(void **state)
{
	struct fx *f = *state;
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(read_only_child(f->dir, f->path));
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77)
		skip(); /* no user namespaces on this machine; the integration test says so too */
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void pressures_per_test_are_limited(void **state)
{
	struct fx *f = *state;
	struct tl_store *st = fx_open(f);
	int64_t id = fx_create(st, "MRN-1", AT);
	int64_t other = fx_create(st, "MRN-2", AT);
	struct tl_err err = {""};
	for (int i = 0; i < TL_STORE_PRESSURES_MAX; i++)
		assert_int_equal(tl_store_pressure_add(st, id, "post", i, "pt-left", 80, "alice",
						       "manual", AT, &err), 0);
	tl_store_fault_clear(st);
	assert_int_equal(tl_store_pressure_add(st, id, "post", 1, "pt-left", 80, "alice", "manual",
					       AT, &err), -1);
	assert_msg_has(err.msg, "the test already has 200 pressures, the most one test may have");
	assert_false(tl_store_fault(st));
	assert_int_equal(path_int(f->path, "SELECT count(*) FROM pressures"), TL_STORE_PRESSURES_MAX);
	/* Another test is not affected. */
	assert_int_equal(tl_store_pressure_add(st, other, "rest", NAN, "pt-left", 80, "alice",
					       "manual", AT, &err), 0);
	tl_store_close(st);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(a_damaged_page_is_refused_at_open),
		T(a_damaged_header_is_refused_at_open),
		T(a_new_store_is_private_whatever_the_umask),
		T(an_existing_store_keeps_its_mode),
		T(a_read_only_store_is_refused_and_left_clean),
		T(pressures_per_test_are_limited),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
