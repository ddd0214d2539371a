/* store_users.c - operator accounts (schema version 6): the users table, and a
 * read-write connection for the API's account changes. */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool tl_store_user_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > TL_STORE_USER_NAME_MAX)
		return false;
	if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= '0' && name[0] <= '9')))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return false;
	}
	return true;
}

bool tl_store_user_role_ok(const char *role)
{
	return role && (!strcmp(role, "technician") || !strcmp(role, "physician") ||
			!strcmp(role, "admin"));
}

static int check_name(const char *name, const char *what, struct tl_err *err)
{
	if (tl_store_user_name_ok(name))
		return 0;
	tl_err_set(err, "store: %s: user name '%.40s' is not 1 to %d of a-z 0-9 . _ - "
		   "starting with a letter or digit", what, name ? name : "", TL_STORE_USER_NAME_MAX);
	return -1;
}

/* An Argon2id string as libsodium writes it: printable, prefixed, shorter than its room. */
static int check_hash(const char *h, const char *what, struct tl_err *err)
{
	size_t n = h ? strlen(h) : 0;
	bool ok = n > 10 && n < sizeof ((struct tl_store_user *)0)->pwhash &&
		  !strncmp(h, "$argon2id$", 10);
	for (size_t i = 0; ok && i < n; i++)
		ok = h[i] > 0x20 && h[i] < 0x7f;
	if (ok)
		return 0;
	tl_err_set(err, "store: %s: the password hash is not an Argon2id string", what);
	return -1;
}

/* Runs one write statement on its own (its own transaction); returns the rows changed or
 * -1. *taken is set when a UNIQUE constraint refused it. */
static int write_one(struct tl_store *st, sqlite3_stmt *stmt, bool *taken, const char *what,
		     struct tl_err *err)
{
	int rc = sqlite3_step(stmt);
	if (rc != SQLITE_DONE) {
		if (taken)
			*taken = sqlite3_extended_errcode(st->db) == SQLITE_CONSTRAINT_UNIQUE;
		tl_store_fail_db(st, what, err);
		sqlite3_finalize(stmt);
		return -1;
	}
	sqlite3_finalize(stmt);
	return sqlite3_changes(st->db);
}

static sqlite3_stmt *prepare(struct tl_store *st, const char *sql, const char *what,
			     struct tl_err *err)
{
	if (tl_store_check_writable(st, what, err) < 0)
		return NULL;
	tl_store_rollback(st);
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		tl_store_fail_db(st, what, err);
		return NULL;
	}
	return stmt;
}

int64_t tl_store_user_add(struct tl_store *st, const char *name, const char *role,
			  const char *pwhash, const char *at_utc, struct tl_err *err)
{
	char what[TL_STORE_WHAT_MAX] = "adding a user";
	if (check_name(name, what, err) < 0)
		return -1;
	snprintf(what, sizeof what, "adding user '%s'", name);
	if (!tl_store_user_role_ok(role)) {
		tl_err_set(err, "store: %s: role '%.40s' is not technician, physician or admin",
			   what, role ? role : "");
		return -1;
	}
	if (check_hash(pwhash, what, err) < 0 || tl_store_check_utc(at_utc, "at", what, err) < 0)
		return -1;
	sqlite3_stmt *stmt = prepare(st, "INSERT INTO users (name, role, pwhash, created_at, "
				     "updated_at) VALUES (?1, ?2, ?3, ?4, ?4)", what, err);
	if (!stmt)
		return -1;
	if (tl_store_bind_text(stmt, 1, name) != SQLITE_OK ||
	    tl_store_bind_text(stmt, 2, role) != SQLITE_OK ||
	    tl_store_bind_text(stmt, 3, pwhash) != SQLITE_OK ||
	    tl_store_bind_text(stmt, 4, at_utc) != SQLITE_OK) {
		tl_store_fail_db(st, what, err);
		sqlite3_finalize(stmt);
		return -1;
	}
	bool taken = false;
	if (write_one(st, stmt, &taken, what, err) < 0) {
		if (!taken)
			return -1;
		tl_err_set(err, "store: %s: a user of that name exists", what);
		return 0;
	}
	return sqlite3_last_insert_rowid(st->db);
}

static void copy_col(sqlite3_stmt *stmt, int i, char *dst, size_t cap)
{
	const unsigned char *s = sqlite3_column_text(stmt, i);
	snprintf(dst, cap, "%s", s ? (const char *)s : "");
}

int tl_store_user_get(struct tl_store *st, const char *name, struct tl_store_user *out,
		      struct tl_err *err)
{
	char what[TL_STORE_WHAT_MAX] = "reading a user";
	if (check_name(name, what, err) < 0)
		return -1;
	snprintf(what, sizeof what, "reading user '%s'", name);
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v2(st->db, "SELECT id, name, role, pwhash, disabled, created_at, "
			       "updated_at FROM users WHERE name = ?1", -1, &stmt, NULL) != SQLITE_OK)
		return tl_store_fail_db(st, what, err);
	if (tl_store_bind_text(stmt, 1, name) != SQLITE_OK) {
		tl_store_fail_db(st, what, err);
		sqlite3_finalize(stmt);
		return -1;
	}
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		memset(out, 0, sizeof *out);
		out->id = sqlite3_column_int64(stmt, 0);
		copy_col(stmt, 1, out->name, sizeof out->name);
		copy_col(stmt, 2, out->role, sizeof out->role);
		copy_col(stmt, 3, out->pwhash, sizeof out->pwhash);
		out->disabled = sqlite3_column_int(stmt, 4) != 0;
		copy_col(stmt, 5, out->created_at, sizeof out->created_at);
		copy_col(stmt, 6, out->updated_at, sizeof out->updated_at);
		sqlite3_finalize(stmt);
		return 1;
	}
	if (rc != SQLITE_DONE)
		tl_store_fail_db(st, what, err);
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* UPDATE ... WHERE name = ?1 with ?2 the new value and ?3 the time. */
static int update_user(struct tl_store *st, const char *sql, const char *name, const char *text,
		       int number, const char *at_utc, const char *what, struct tl_err *err)
{
	if (tl_store_check_utc(at_utc, "at", what, err) < 0)
		return -1;
	sqlite3_stmt *stmt = prepare(st, sql, what, err);
	if (!stmt)
		return -1;
	int b = text ? tl_store_bind_text(stmt, 2, text) : sqlite3_bind_int(stmt, 2, number);
	if (b != SQLITE_OK || tl_store_bind_text(stmt, 1, name) != SQLITE_OK ||
	    tl_store_bind_text(stmt, 3, at_utc) != SQLITE_OK) {
		tl_store_fail_db(st, what, err);
		sqlite3_finalize(stmt);
		return -1;
	}
	int n = write_one(st, stmt, NULL, what, err);
	if (n == 0)
		tl_err_set(err, "store: %s: no user '%s'", what, name);
	return n < 0 ? -1 : n > 0;
}

int tl_store_user_set_password(struct tl_store *st, const char *name, const char *pwhash,
			       const char *at_utc, struct tl_err *err)
{
	char what[TL_STORE_WHAT_MAX] = "changing a password";
	if (check_name(name, what, err) < 0)
		return -1;
	snprintf(what, sizeof what, "changing the password of user '%s'", name);
	if (check_hash(pwhash, what, err) < 0)
		return -1;
	return update_user(st, "UPDATE users SET pwhash = ?2, updated_at = ?3 WHERE name = ?1",
			   name, pwhash, 0, at_utc, what, err);
}

int tl_store_user_set_disabled(struct tl_store *st, const char *name, bool disabled,
			       const char *at_utc, struct tl_err *err)
{
	char what[TL_STORE_WHAT_MAX] = "disabling a user";
	if (check_name(name, what, err) < 0)
		return -1;
	snprintf(what, sizeof what, "%s user '%s'", disabled ? "disabling" : "enabling", name);
	return update_user(st, "UPDATE users SET disabled = ?2, updated_at = ?3 WHERE name = ?1",
			   name, NULL, disabled, at_utc, what, err);
}

json_t *tl_store_users_json(struct tl_store *st, struct tl_err *err)
{
	const char *what = "listing users";
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v2(st->db, "SELECT name, role, disabled, created_at, updated_at "
			       "FROM users ORDER BY name", -1, &stmt, NULL) != SQLITE_OK) {
		tl_store_fail_db(st, what, err);
		return NULL;
	}
	json_t *arr = json_array();
	if (!arr) {
		tl_err_set(err, "store: %s: out of memory", what);
		sqlite3_finalize(stmt);
		return NULL;
	}
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		json_t *o = json_pack("{s:s, s:s, s:b, s:s, s:s}",
				      "name", (const char *)sqlite3_column_text(stmt, 0),
				      "role", (const char *)sqlite3_column_text(stmt, 1),
				      "disabled", sqlite3_column_int(stmt, 2) != 0,
				      "created_at", (const char *)sqlite3_column_text(stmt, 3),
				      "updated_at", (const char *)sqlite3_column_text(stmt, 4));
		if (!o || json_array_append_new(arr, o)) {
			tl_err_set(err, "store: %s: out of memory", what);
			goto fail;
		}
	}
	if (rc != SQLITE_DONE) {
		tl_store_fail_db(st, what, err);
		goto fail;
	}
	sqlite3_finalize(stmt);
	return arr;
fail:
	sqlite3_finalize(stmt);
	json_decref(arr);
	return NULL;
}
