/* store_lock.c - one daemon per database.
 *
 * SQLite lets two processes write the same file, and a second treadlabd would take the
 * first one's live test for a dead daemon's and close it as interrupted. The daemon
 * therefore holds a write lock on "<database>.lock" for its whole life. A POSIX record
 * lock (fcntl) is used rather than flock: the kernel drops it when the process dies
 * however it dies, and F_GETLK names the holder's pid. A lock on the database file itself
 * would be released by SQLite's own close() calls on that file (POSIX locks belong to the
 * process, not the descriptor), so it is a file of its own, never removed: removing it
 * would let a third daemon lock a new file while the first still holds the old one. */
#include "store.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct tl_store_lock {
	int fd;
};

/* The pid the holder wrote into the file, for a holder F_GETLK cannot see (another pid
 * namespace reports 0); -1 if none can be read. */
static long pid_written(int fd)
{
	char buf[32] = "";
	ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	char *end;
	long pid = strtol(buf, &end, 10);
	return end != buf && pid > 0 ? pid : -1;
}

static void refuse_held(int fd, const char *db_path, const char *lock_path, struct tl_err *err)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	long pid = -1;
	if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK && fl.l_pid > 0)
		pid = fl.l_pid;
	if (pid < 0)
		pid = pid_written(fd);
	char who[48] = "another process";
	if (pid > 0)
		snprintf(who, sizeof who, "another treadlabd (pid %ld)", pid);
	tl_err_set(err,
		   "store: %s is in use by %s, which holds %s; stop it first, or give this "
		   "daemon a database of its own (--db)",
		   db_path, who, lock_path);
}

struct tl_store_lock *tl_store_lock_take(const char *db_path, struct tl_err *err)
{
	char lock_path[4096];
	if (!db_path || !*db_path) {
		tl_err_set(err, "store: locking: no database path given");
		return NULL;
	}
	if ((size_t)snprintf(lock_path, sizeof lock_path, "%s.lock", db_path) >= sizeof lock_path) {
		tl_err_set(err, "store: locking %s: the path is too long", db_path);
		return NULL;
	}
	int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0 && errno == EROFS) {
		tl_err_set(err,
			   "store: %s is read-only (its file system is mounted read-only, so %s "
			   "cannot be made); treadlabd must be able to write the record: fix the "
			   "mount, then start again",
			   db_path, lock_path);
		return NULL;
	}
	if (fd < 0) {
		tl_err_set(err, "store: locking %s: cannot open %s: %s", db_path, lock_path,
			   strerror(errno));
		return NULL;
	}
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	if (fcntl(fd, F_SETLK, &fl) < 0) {
		if (errno == EACCES || errno == EAGAIN)
			refuse_held(fd, db_path, lock_path, err);
		else
			tl_err_set(err, "store: locking %s: %s: %s", db_path, lock_path,
				   strerror(errno));
		close(fd);
		return NULL;
	}
	/* The pid in the file is only a hint for people (and for a holder in another pid
	 * namespace); the lock is what counts, so failing to write it is not an error. */
	char pid[24];
	int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	bool hint_written = ftruncate(fd, 0) == 0 && pwrite(fd, pid, (size_t)n, 0) == n;
	(void)hint_written;
	struct tl_store_lock *l = malloc(sizeof *l);
	if (!l) {
		tl_err_set(err, "store: locking %s: out of memory", db_path);
		close(fd);
		return NULL;
	}
	l->fd = fd;
	return l;
}

void tl_store_lock_release(struct tl_store_lock *l)
{
	if (!l)
		return;
	close(l->fd); /* drops the lock */
	free(l);
}
