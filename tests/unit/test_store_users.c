/* test_store_users.c - operator accounts (schema version 6): add, read, a taken name,
 * password change, disable and enable, the list without hashes, refused arguments, the
 * read-write connection for an existing store, and a version 5 file migrated. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "store_fixture.h"

#define AT "2026-11-26T10:00:00.000Z"
#define AT2 "2026-11-26T11:00:00.000Z"
#define H1 "$argon2id$v=19$m=65536,t=2,p=1$cLVOkbzk4NTAiWTxgcyu+A$GMrH0tjdXk/vpyyVlrWhCKvXyxu9/dE16Bfw4rmRDiY"
#define H2 "$argon2id$v=19$m=65536,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"

static void add_get_and_taken_name(void **state)
{
	struct fx *f = *state;
	struct tl_store *st = fx_open(f);
	struct tl_err err = {""};
	int64_t id = tl_store_user_add(st, "alice", "admin", H1, AT, &err);
	assert_true(id > 0);
	assert_int_equal(tl_store_user_add(st, "bob.t-1", "technician", H1, AT, &err), id + 1);
	assert_int_equal(tl_store_user_add(st, "alice", "physician", H2, AT2, &err), 0);
	assert_non_null(strstr(err.msg, "a user of that name exists"));
	struct tl_store_user u;
	assert_int_equal(tl_store_user_get(st, "alice", &u, &err), 1);
	assert_int_equal(u.id, id);
	assert_string_equal(u.role, "admin");
	assert_string_equal(u.pwhash, H1);
	assert_false(u.disabled);
	assert_string_equal(u.created_at, AT);
	assert_string_equal(u.updated_at, AT);
	assert_int_equal(tl_store_user_get(st, "carol", &u, &err), 0);
	tl_store_close(st);
}

static void password_and_disable(void **state)
{
	struct fx *f = *state;
	struct tl_store *st = fx_open(f);
	struct tl_err err = {""};
	assert_true(tl_store_user_add(st, "alice", "technician", H1, AT, &err) > 0);
	assert_int_equal(tl_store_user_set_password(st, "alice", H2, AT2, &err), 1);
	assert_int_equal(tl_store_user_set_disabled(st, "alice", true, AT2, &err), 1);
	struct tl_store_user u;
	assert_int_equal(tl_store_user_get(st, "alice", &u, &err), 1);
	assert_string_equal(u.pwhash, H2);
	assert_true(u.disabled);
	assert_string_equal(u.created_at, AT);
	assert_string_equal(u.updated_at, AT2);
	assert_int_equal(tl_store_user_set_disabled(st, "alice", false, AT2, &err), 1);
	assert_int_equal(tl_store_user_get(st, "alice", &u, &err), 1);
	assert_false(u.disabled);
	assert_int_equal(tl_store_user_set_password(st, "nobody", H2, AT2, &err), 0);
	assert_non_null(strstr(err.msg, "no user 'nobody'"));
	assert_int_equal(tl_store_user_set_disabled(st, "nobody", true, AT2, &err), 0);
	tl_store_close(st);
}

static void list_has_no_hashes(void **state)
{
	struct fx *f = *state;
	struct tl_store *st = fx_open(f);
	struct tl_err err = {""};
	json_t *l = tl_store_users_json(st, &err);
	assert_non_null(l);
	assert_int_equal(json_array_size(l), 0);
	json_decref(l);
	assert_true(tl_store_user_add(st, "zed", "physician", H1, AT, &err) > 0);
	assert_true(tl_store_user_add(st, "amy", "admin", H2, AT, &err) > 0);
	assert_int_equal(tl_store_user_set_disabled(st, "zed", true, AT2, &err), 1);
	l = tl_store_users_json(st, &err);
	assert_non_null(l);
	assert_int_equal(json_array_size(l), 2);
	json_t *a = json_array_get(l, 0), *z = json_array_get(l, 1);
	assert_string_equal(json_string_value(json_object_get(a, "name")), "amy");
	assert_string_equal(json_string_value(json_object_get(z, "role")), "physician");
	assert_true(json_is_true(json_object_get(z, "disabled")));
	assert_string_equal(json_string_value(json_object_get(z, "updated_at")), AT2);
	assert_null(json_object_get(a, "pwhash"));
	char *text = json_dumps(l, 0);
	assert_null(strstr(text, "argon2"));
	free(text);
	json_decref(l);
	tl_store_close(st);
}

static void bad_arguments_are_refused(void **state)
{
	struct fx *f = *state;
	struct tl_store *st = fx_open(f);
	struct tl_err err = {""};
	const char *bad_names[] = {"", "Alice", "-x", ".x", "a b", "a/b", "é",
				   "abcdefghijabcdefghijabcdefghijabc" /* 33 */};
	for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
		assert_int_equal(tl_store_user_add(st, bad_names[i], "admin", H1, AT, &err), -1);
		assert_non_null(strstr(err.msg, "is not 1 to 32 of a-z 0-9"));
	}
	assert_true(tl_store_user_name_ok("abcdefghijabcdefghijabcdefghijab"));
	assert_true(tl_store_user_name_ok("7of9"));
	assert_int_equal(tl_store_user_add(st, "alice", "nurse", H1, AT, &err), -1);
	assert_non_null(strstr(err.msg, "role 'nurse'"));
	assert_int_equal(tl_store_user_add(st, "alice", "admin", "hunter22", AT, &err), -1);
	assert_non_null(strstr(err.msg, "not an Argon2id string"));
	assert_int_equal(tl_store_user_add(st, "alice", "admin", H1, "yesterday", &err), -1);
	assert_int_equal(tl_store_user_set_password(st, "alice", "plain text", AT, &err), -1);
	/* Nothing was written by any of them. */
	assert_int_equal(path_int(f->path, "SELECT count(*) FROM users"), 0);
	/* The table's own checks stand behind the code's. */
	sqlite3 *db = raw_open(f->path);
	assert_int_not_equal(sqlite3_exec(db, "INSERT INTO users (name, role, pwhash, created_at, "
					  "updated_at) VALUES ('x', 'root', 'h', 'a', 'a')",
					  NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	tl_store_close(st);
}

static void open_current_writes_an_existing_store(void **state)
{
	struct fx *f = *state;
	struct tl_err err = {""};
	/* Not made by it: a missing file is refused, not created. */
	assert_null(tl_store_open_current(f->path, &err));
	assert_int_equal(access(f->path, F_OK), -1);
	tl_store_close(fx_open(f));
	struct tl_store *st = tl_store_open_current(f->path, &err);
	assert_non_null(st);
	assert_true(tl_store_user_add(st, "alice", "admin", H1, AT, &err) > 0);
	tl_store_close(st);
	assert_int_equal(path_int(f->path, "SELECT count(*) FROM users"), 1);
	/* An older schema is not migrated by it. */
	sqlite3 *db = raw_open(f->path);
	raw_exec(db, "PRAGMA user_version = 5");
	sqlite3_close(db);
	assert_null(tl_store_open_current(f->path, &err));
	assert_non_null(strstr(err.msg, "schema version 5"));
}

static void version_5_gains_users(void **state)
{
	struct fx *f = *state;
	tl_store_close(fx_open(f));
	sqlite3 *db = raw_open(f->path);
	raw_exec(db, FX_UNDO_V10 "DROP TABLE outbox_history; DROP TABLE outbox; DROP TABLE outbox_station;"
		     " DROP TABLE users; DROP TABLE reports;"
		     "ALTER TABLE patients DROP COLUMN assigning_authority;"
		     "ALTER TABLE patients DROP COLUMN family; ALTER TABLE patients DROP COLUMN given;"
		     "ALTER TABLE patients DROP COLUMN birth_date; ALTER TABLE patients DROP COLUMN sex;"
		     "ALTER TABLE tests DROP COLUMN accession; ALTER TABLE tests DROP COLUMN physician_id;"
		     "ALTER TABLE tests DROP COLUMN physician_family;"
		     "ALTER TABLE tests DROP COLUMN physician_given; PRAGMA user_version = 5");
	sqlite3_close(db);
	struct tl_store *st = fx_open(f);
	struct tl_err err = {""};
	assert_int_equal(path_int(f->path, "PRAGMA user_version"), TL_STORE_SCHEMA_VERSION);
	assert_true(tl_store_user_add(st, "alice", "admin", H1, AT, &err) > 0);
	tl_store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(add_get_and_taken_name, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(password_and_disable, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(list_has_no_hashes, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(bad_arguments_are_refused, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(open_current_writes_an_existing_store, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(version_5_gains_users, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
