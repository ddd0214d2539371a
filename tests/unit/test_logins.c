/* test_logins.c - sessions and failed-login counts (src/common/logins.c), on a clock the
 * test sets: open, find, idle expiry, logout, revocation of an account's sessions, CSRF,
 * the least recently used session making room, and the doubling refusal after failures
 * per account and per client. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "logins.h"

#define S 1000000000LL
#define IDLE (15 * 60 * S)

static void open_find_and_idle_expiry(void **state)
{
	(void)state;
	struct tl_logins *t = tl_logins_new(IDLE);
	assert_non_null(t);
	char tok[TL_LOGIN_TOKEN_TEXT], tok2[TL_LOGIN_TOKEN_TEXT];
	struct tl_login_who who, got;
	assert_int_equal(tl_logins_open(t, "alice", "technician", 100 * S, tok, &who), 0);
	assert_int_equal(strlen(tok), 43);
	assert_int_equal(strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), 43);
	assert_int_equal(strlen(who.csrf), 43);
	assert_string_not_equal(tok, who.csrf);
	assert_int_equal(tl_logins_open(t, "alice", "technician", 100 * S, tok2, &got), 0);
	assert_string_not_equal(tok, tok2);
	assert_true(tl_logins_find(t, tok, 100 * S + IDLE, &got));
	assert_string_equal(got.user, "alice");
	assert_string_equal(got.role, "technician");
	assert_string_equal(got.csrf, who.csrf);
	/* Each use starts the idle time again. */
	assert_true(tl_logins_find(t, tok, 100 * S + 2 * IDLE, &got));
	assert_false(tl_logins_find(t, tok, 100 * S + 3 * IDLE + 1, &got));
	/* ... and once expired it stays ended. */
	assert_false(tl_logins_find(t, tok, 100 * S + 2 * IDLE, &got));
	/* Not a token: wrong length, wrong alphabet, one character changed. */
	assert_false(tl_logins_find(t, "", 100 * S, &got));
	assert_false(tl_logins_find(t, NULL, 100 * S, &got));
	char bad[TL_LOGIN_TOKEN_TEXT];
	memcpy(bad, tok2, sizeof bad);
	bad[5] = bad[5] == 'A' ? 'B' : 'A';
	assert_false(tl_logins_find(t, bad, 100 * S, &got));
	bad[5] = '+';
	assert_false(tl_logins_find(t, bad, 100 * S, &got));
	tl_logins_free(t);
}

static void logout_and_revocation(void **state)
{
	(void)state;
	struct tl_logins *t = tl_logins_new(IDLE);
	char a1[TL_LOGIN_TOKEN_TEXT], a2[TL_LOGIN_TOKEN_TEXT], b[TL_LOGIN_TOKEN_TEXT];
	struct tl_login_who w;
	tl_logins_open(t, "alice", "technician", 0, a1, &w);
	tl_logins_open(t, "alice", "technician", 0, a2, &w);
	tl_logins_open(t, "bob", "admin", 0, b, &w);
	assert_true(tl_logins_close(t, a1));
	assert_false(tl_logins_close(t, a1));
	assert_false(tl_logins_find(t, a1, 1, &w));
	assert_true(tl_logins_find(t, a2, 1, &w));
	assert_int_equal(tl_logins_close_user(t, "alice"), 1);
	assert_false(tl_logins_find(t, a2, 1, &w));
	assert_true(tl_logins_find(t, b, 1, &w));
	assert_int_equal(tl_logins_close_user(t, "alice"), 0);
	tl_logins_free(t);
}

static void csrf(void **state)
{
	(void)state;
	struct tl_logins *t = tl_logins_new(IDLE);
	char tok[TL_LOGIN_TOKEN_TEXT];
	struct tl_login_who w, other;
	tl_logins_open(t, "alice", "technician", 0, tok, &w);
	tl_logins_open(t, "alice", "technician", 0, tok, &other);
	assert_true(tl_logins_csrf_ok(&w, w.csrf));
	assert_false(tl_logins_csrf_ok(&w, other.csrf));
	assert_false(tl_logins_csrf_ok(&w, NULL));
	assert_false(tl_logins_csrf_ok(&w, ""));
	char cut[TL_LOGIN_TOKEN_TEXT];
	memcpy(cut, w.csrf, sizeof cut);
	cut[42] = '\0';
	assert_false(tl_logins_csrf_ok(&w, cut));
	tl_logins_free(t);
}

static void full_table_drops_least_recently_used(void **state)
{
	(void)state;
	struct tl_logins *t = tl_logins_new(IDLE);
	static char toks[TL_LOGIN_SESSIONS_MAX][TL_LOGIN_TOKEN_TEXT];
	struct tl_login_who w;
	for (int i = 0; i < TL_LOGIN_SESSIONS_MAX; i++)
		tl_logins_open(t, "alice", "technician", i, toks[i], &w);
	assert_true(tl_logins_find(t, toks[0], 1000, &w)); /* 0 used last now; 1 is the oldest */
	char extra[TL_LOGIN_TOKEN_TEXT];
	tl_logins_open(t, "bob", "technician", 1001, extra, &w);
	assert_true(tl_logins_find(t, extra, 1002, &w));
	assert_false(tl_logins_find(t, toks[1], 1002, &w));
	assert_true(tl_logins_find(t, toks[0], 1002, &w));
	assert_true(tl_logins_find(t, toks[2], 1002, &w));
	tl_logins_free(t);
}

static void failures_block_with_a_doubling_delay(void **state)
{
	(void)state;
	struct tl_logins *t = tl_logins_new(IDLE);
	int64_t now = 1000 * S;
	for (int i = 1; i < TL_LOGIN_USER_FAILS; i++) {
		tl_logins_failed(t, "alice", "127.0.0.1", now);
		assert_int_equal(tl_logins_blocked(t, "alice", "127.0.0.1", now), 0);
	}
	tl_logins_failed(t, "alice", "127.0.0.1", now);
	assert_int_equal(tl_logins_blocked(t, "alice", "127.0.0.1", now), TL_LOGIN_BLOCK_S);
	/* Another address too: the count is the account's. Another account is not blocked. */
	assert_int_equal(tl_logins_blocked(t, "alice", "10.0.0.9", now), TL_LOGIN_BLOCK_S);
	assert_int_equal(tl_logins_blocked(t, "bob", "127.0.0.1", now), 0);
	assert_int_equal(tl_logins_blocked(t, "alice", "127.0.0.1", now + TL_LOGIN_BLOCK_S * S), 0);
	now += TL_LOGIN_BLOCK_S * S;
	tl_logins_failed(t, "alice", "127.0.0.1", now);
	assert_int_equal(tl_logins_blocked(t, "alice", "127.0.0.1", now), 2 * TL_LOGIN_BLOCK_S);
	assert_int_equal(tl_logins_blocked(t, "alice", "127.0.0.1", now + S / 2), 2 * TL_LOGIN_BLOCK_S);
	for (int i = 0; i < 10; i++)
		tl_logins_failed(t, "alice", "10.0.0.9", now);
	assert_int_equal(tl_logins_blocked(t, "alice", "10.0.0.9", now), TL_LOGIN_BLOCK_MAX_S);
	/* A success clears the account's count... */
	tl_logins_succeeded(t, "alice");
	assert_int_equal(tl_logins_blocked(t, "alice", "127.0.0.1", now), 0);
	/* ... not the client's: 10.0.0.9 failed 10 times, so it is blocked for every account. */
	assert_int_equal(tl_logins_blocked(t, "carol", "10.0.0.9", now), TL_LOGIN_BLOCK_S);
	/* Counts are forgotten an hour after the last failure. */
	now += (TL_LOGIN_FORGET_S + 1) * S;
	tl_logins_failed(t, "carol", "10.0.0.9", now);
	assert_int_equal(tl_logins_blocked(t, "carol", "10.0.0.9", now), 0);
	tl_logins_free(t);
}

static void client_limit_spans_accounts(void **state)
{
	(void)state;
	struct tl_logins *t = tl_logins_new(IDLE);
	char name[16];
	for (int i = 0; i < TL_LOGIN_CLIENT_FAILS; i++) {
		assert_int_equal(tl_logins_blocked(t, "x", "uid 1000", 0), 0);
		snprintf(name, sizeof name, "u%d", i);
		tl_logins_failed(t, name, "uid 1000", 0);
	}
	assert_int_equal(tl_logins_blocked(t, "x", "uid 1000", 0), TL_LOGIN_BLOCK_S);
	assert_int_equal(tl_logins_blocked(t, "x", "uid 1001", 0), 0);
	tl_logins_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(open_find_and_idle_expiry),
		cmocka_unit_test(logout_and_revocation),
		cmocka_unit_test(csrf),
		cmocka_unit_test(full_table_drops_least_recently_used),
		cmocka_unit_test(failures_block_with_a_doubling_delay),
		cmocka_unit_test(client_limit_spans_accounts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
