/* test_password.c - Argon2id hashing of operator passwords: a round trip, a wrong
 * password, the rehash rule, the dummy hash's parameters and the new-password rule. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sodium.h>
#include <string.h>

#include "password.h"

static void round_trip(void **state)
{
	(void)state;
	struct tl_err err = {""};
	char h[TL_PASSWORD_HASH_MAX];
	assert_int_equal(tl_password_hash("correct horse", h, &err), 0);
	assert_true(strncmp(h, "$argon2id$", 10) == 0);
	assert_true(tl_password_verify(h, "correct horse"));
	assert_false(tl_password_verify(h, "correct horsE"));
	assert_false(tl_password_verify(h, "correct horse "));
	assert_false(tl_password_verify(h, ""));
	/* A salt each time: the same password never gives the same string. */
	char h2[TL_PASSWORD_HASH_MAX];
	assert_int_equal(tl_password_hash("correct horse", h2, &err), 0);
	assert_string_not_equal(h, h2);
	assert_false(tl_password_needs_rehash(h));
}

static void needs_rehash_for_other_parameters(void **state)
{
	(void)state;
	struct tl_err err = {""};
	char h[TL_PASSWORD_HASH_MAX];
	assert_int_equal(tl_password_hash_with("weaker one", crypto_pwhash_OPSLIMIT_MIN,
					       crypto_pwhash_MEMLIMIT_MIN, h, &err), 0);
	assert_true(tl_password_verify(h, "weaker one"));
	assert_true(tl_password_needs_rehash(h));
	assert_true(tl_password_needs_rehash("not a hash"));
	assert_false(tl_password_verify("not a hash", "weaker one"));
	assert_false(tl_password_verify(NULL, "weaker one"));
}

static void dummy_hash_has_the_current_parameters(void **state)
{
	(void)state;
	/* Otherwise an unknown user would answer in another time than a known one. */
	assert_false(tl_password_needs_rehash(tl_password_dummy_hash()));
	assert_false(tl_password_verify(tl_password_dummy_hash(), ""));
	assert_false(tl_password_verify(tl_password_dummy_hash(), "password"));
}

static void new_password_rule(void **state)
{
	(void)state;
	assert_null(tl_password_refused("12345678"));
	assert_null(tl_password_refused("ÄÖÜäöüßé")); /* 8 characters, 16 bytes */
	assert_string_equal(tl_password_refused("1234567"), "shorter than 8 characters");
	assert_string_equal(tl_password_refused("äöüäöüä"), "shorter than 8 characters");
	assert_non_null(tl_password_refused("12345678\t"));
	assert_non_null(tl_password_refused("1234\x01" "5678"));
	assert_non_null(tl_password_refused("12345678\xc3"));  /* cut UTF-8 */
	assert_non_null(tl_password_refused("1234\xc2\x85" "5678")); /* C1 control */
	assert_non_null(tl_password_refused(NULL));
	char long_pw[TL_PASSWORD_MAX_BYTES + 2];
	memset(long_pw, 'a', sizeof long_pw - 1);
	long_pw[sizeof long_pw - 1] = '\0';
	assert_string_equal(tl_password_refused(long_pw), "longer than 256 bytes");
	long_pw[TL_PASSWORD_MAX_BYTES] = '\0';
	assert_null(tl_password_refused(long_pw));
}

static void wipe_zeroes(void **state)
{
	(void)state;
	char s[] = "secret!!";
	tl_password_wipe(s, sizeof s);
	for (size_t i = 0; i < sizeof s; i++)
		assert_int_equal(s[i], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(needs_rehash_for_other_parameters),
		cmocka_unit_test(dummy_hash_has_the_current_parameters),
		cmocka_unit_test(new_password_rule),
		cmocka_unit_test(wipe_zeroes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
