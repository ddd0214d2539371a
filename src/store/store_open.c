/* store_open.c - opening a store: the file made private, the connection, its pragmas
 * (WAL, foreign keys, busy timeout), an integrity check, the schema identified and
 * migrated; and the read-only open the API's readers use. */
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* A lock held by another connection (a reader checkpointing, a second process) is waited
 * for this long before a write fails; long enough for any checkpoint, short enough that a
 * stuck writer is reported while the technician is still at the treadmill. */
#define TL_STORE_BUSY_MS 5000

/* Runs one pragma (or any statement) whose rows, if any, are ignored. */
static int exec_sql(struct tl_store *st, const char *sql, const char *what, struct tl_err *err)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return tl_store_fail_db(st, what, err);
	return 0;
}

/* journal_mode answers with the mode it ended in; a file system without shared memory (or
 * a read-only directory) silently stays in "delete", which would lose the reader/writer
 * concurrency the daemon relies on, so anything but "wal" is an error. */
static int set_wal(struct tl_store *st, const char *path, struct tl_err *err)
{
	char what[TL_STORE_WHAT_MAX];
	snprintf(what, sizeof what, "setting WAL journal on %s", path);
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode=WAL", -1, &stmt, NULL) != SQLITE_OK)
		return tl_store_fail_db(st, what, err);
	int rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW) {
		tl_store_fail_db(st, what, err);
		sqlite3_finalize(stmt);
		return -1;
	}
	const char *mode = (const char *)sqlite3_column_text(stmt, 0);
	int ok = mode && sqlite3_stricmp(mode, "wal") == 0;
	if (!ok)
		tl_err_set(err, "store: %s: the journal stayed in mode '%s'", what,
			   mode ? mode : "?");
	sqlite3_finalize(stmt);
	return ok ? 0 : -1;
}

/* A new store is made 0640 whatever the umask (a daemon started by hand outside systemd
 * has 0022): the record is patients' data. SQLite gives the -wal and -shm files the
 * database's mode, so they follow. An existing file keeps the mode its owner gave it. */
static int create_private(const char *path, struct tl_err *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0) {
		if (errno == EEXIST)
			return 0;
		tl_err_set(err, "store: creating %s: %s", path, strerror(errno));
		return -1;
	}
	int rc = fchmod(fd, 0640); /* the umask may have taken bits away; it adds none */
	close(fd);
	if (rc < 0) {
		tl_err_set(err, "store: creating %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* A store the daemon cannot write is refused before SQLite reads it: reading a WAL
 * database makes -wal and -shm files that a read-only connection then cannot remove. */
static int check_writable_file(struct tl_store *st, const char *path, struct tl_err *err)
{
	if (sqlite3_db_readonly(st->db, "main") != 1)
		return 0;
	struct statvfs vfs;
	const char *why = "no write permission on the file";
	if (statvfs(path, &vfs) == 0 && (vfs.f_flag & ST_RDONLY))
		why = "its file system is mounted read-only";
	tl_err_set(err,
		   "store: %s is read-only (%s); treadlabd must be able to write the record: "
		   "fix the file's permissions or the mount, then start again",
		   path, why);
	return -1;
}

/* SQLite keeps -wal and -shm beside the database: the directory must take new files. */
static int check_writable_dir(const char *path, struct tl_err *err)
{
	char dir[4096];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, sizeof dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if (access(dir, W_OK) == 0)
		return 0;
	tl_err_set(err,
		   "store: %s: the directory %s is not writable (%s); SQLite needs to make the "
		   "-wal and -shm files beside the database",
		   path, dir, strerror(errno));
	return -1;
}

/* A connection: read-only, or read-write on a file that create makes if missing. */
static struct tl_store *open_conn(const char *path, bool read_only, bool create,
				  struct tl_err *err)
{
	if (!path || !*path) {
		tl_err_set(err, "store: opening: no path given");
		return NULL;
	}
	struct tl_store *st = calloc(1, sizeof *st);
	if (!st) {
		tl_err_set(err, "store: opening %s: out of memory", path);
		return NULL;
	}
	st->read_only = read_only;
	int flags = SQLITE_OPEN_FULLMUTEX |
		    (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) |
		    (create ? SQLITE_OPEN_CREATE : 0);
	int rc = sqlite3_open_v2(path, &st->db, flags, NULL);
	if (rc != SQLITE_OK) {
		tl_err_set(err, "store: opening %s: %s", path,
			   st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
		tl_store_close(st);
		return NULL;
	}
	if (!read_only && check_writable_file(st, path, err) < 0) {
		tl_store_close(st);
		return NULL;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, TL_STORE_BUSY_MS);
	char what[TL_STORE_WHAT_MAX];
	snprintf(what, sizeof what, "opening %s", path);
	if (!tl_store_stmt(st, TL_ST_ROLLBACK, what, err)) {
		tl_store_close(st);
		return NULL;
	}
	return st;
}

/* The whole file, read before anything is written to it. quick_check rather than
 * integrity_check: it reads every page of every table and index and checks the b-tree
 * structure, the free list, the cells and every record's format and NOT NULL/CHECK
 * constraints, which is where torn or overwritten pages show, in time linear in the
 * file. integrity_check adds that each index matches its table, a sort per index that
 * makes a station's years of samples slow to start on (3 million samples, 208 MB:
 * 1.7 s against 7.9 s here), for damage REINDEX repairs without losing a row. */
static int check_whole(struct tl_store *st, const char *path, struct tl_err *err)
{
	char what[TL_STORE_WHAT_MAX];
	snprintf(what, sizeof what, "checking %s", path);
	sqlite3_stmt *stmt;
	/* main only: the temp schema has nothing to check, and opening it can fail alone. */
	if (sqlite3_prepare_v2(st->db, "PRAGMA main.quick_check(1)", -1, &stmt, NULL) != SQLITE_OK)
		return tl_store_fail_db(st, what, err);
	int rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW && (sqlite3_extended_errcode(st->db) & 0xff) != SQLITE_CORRUPT) {
		tl_store_fail_db(st, what, err); /* could not check: not a verdict on the file */
		sqlite3_finalize(stmt);
		return -1;
	}
	const char *res = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(stmt, 0) : NULL;
	int ok = res && strcmp(res, "ok") == 0;
	if (!ok) {
		/* One line: the check's report runs over several ("*** in database main ***"). */
		char why[200];
		snprintf(why, sizeof why, "%s", res ? res : sqlite3_errmsg(st->db));
		const char *head = "*** in database main ***\n";
		char *start = strncmp(why, head, strlen(head)) ? why : why + strlen(head);
		for (char *p = start; *p; p++)
			if (*p == '\n' || *p == '\r')
				*p = ' ';
		tl_err_set(err,
			   "store: %s is damaged (quick_check: %s); it was left as it is: "
			   "restore it from a backup, or save what it holds with "
			   "'sqlite3 %s .recover', then start again",
			   path, start, path);
	}
	sqlite3_finalize(stmt);
	return ok ? 0 : -1;
}

/* A damaged header or schema page is already found by the first read. */
static int identify(struct tl_store *st, const char *path, int *version, struct tl_err *err)
{
	if (tl_store_schema_identify(st, path, version, err) == 0)
		return 0;
	if ((sqlite3_extended_errcode(st->db) & 0xff) == SQLITE_CORRUPT)
		tl_err_set(err,
			   "store: %s is damaged (%s); it was left as it is: restore it from a "
			   "backup, or save what it holds with 'sqlite3 %s .recover', then start again",
			   path, sqlite3_errmsg(st->db), path);
	return -1;
}

struct tl_store *tl_store_open(const char *path, struct tl_err *err)
{
	if (path && *path && create_private(path, err) < 0)
		return NULL;
	struct tl_store *st = open_conn(path, false, true, err);
	if (!st)
		return NULL;
	if (check_writable_dir(path, err) < 0) {
		tl_store_close(st);
		return NULL;
	}
	char what[TL_STORE_WHAT_MAX];
	snprintf(what, sizeof what, "configuring %s", path);
	/* Identify the file first: reading its header is where a file that is not a database,
	 * or is another program's, is found, before any pragma writes to it. */
	int version;
	if (identify(st, path, &version, err) < 0 || check_whole(st, path, err) < 0 ||
	    set_wal(st, path, err) < 0 ||
	    exec_sql(st, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON", what, err) < 0 ||
	    tl_store_migrate(st, path, err) < 0) {
		tl_store_close(st);
		return NULL;
	}
	return st;
}

struct tl_store *tl_store_open_readonly(const char *path, struct tl_err *err)
{
	struct tl_store *st = open_conn(path, true, false, err);
	if (!st)
		return NULL;
	char what[TL_STORE_WHAT_MAX];
	snprintf(what, sizeof what, "configuring %s", path);
	if (tl_store_schema_check(st, path, err) < 0 ||
	    exec_sql(st, "PRAGMA foreign_keys=ON; PRAGMA query_only=ON", what, err) < 0) {
		tl_store_close(st);
		return NULL;
	}
	return st;
}

struct tl_store *tl_store_open_current(const char *path, struct tl_err *err)
{
	struct tl_store *st = open_conn(path, false, false, err);
	if (!st)
		return NULL;
	char what[TL_STORE_WHAT_MAX];
	snprintf(what, sizeof what, "configuring %s", path);
	/* WAL is a property of the file (set by tl_store_open); durability and foreign keys
	 * are the connection's. */
	if (tl_store_schema_check(st, path, err) < 0 ||
	    exec_sql(st, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON", what, err) < 0) {
		tl_store_close(st);
		return NULL;
	}
	return st;
}
