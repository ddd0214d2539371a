/* password.c - Argon2id hashes of operator passwords (password.h). */
#include "password.h"

#include <sodium.h>
#include <string.h>

#define OPSLIMIT crypto_pwhash_OPSLIMIT_INTERACTIVE
#define MEMLIMIT crypto_pwhash_MEMLIMIT_INTERACTIVE

_Static_assert(TL_PASSWORD_HASH_MAX >= crypto_pwhash_STRBYTES, "room for a hash string");

int tl_password_init(struct tl_err *err)
{
	/* sodium_init is safe to call again and from several threads (it returns 1 then). */
	if (sodium_init() < 0) {
		tl_err_set(err, "password: libsodium could not be initialised");
		return -1;
	}
	return 0;
}

/* Code points of valid UTF-8 without control characters, or -1. */
static long utf8_chars(const unsigned char *s)
{
	long n = 0;
	while (*s) {
		unsigned c = *s, len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3
						    : (c & 0xf8) == 0xf0 ? 4 : 0;
		if (!len || (len == 2 && c < 0xc2) || (len == 4 && c > 0xf4))
			return -1;
		unsigned cp = len == 1 ? c : c & (0x7fu >> len);
		for (unsigned i = 1; i < len; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return -1;
			cp = cp << 6 | (s[i] & 0x3fu);
		}
		if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
			return -1;
		if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
			return -1;
		s += len;
		n++;
	}
	return n;
}

const char *tl_password_refused(const char *pw)
{
	if (!pw)
		return "no password given";
	if (strlen(pw) > TL_PASSWORD_MAX_BYTES)
		return "longer than 256 bytes";
	long n = utf8_chars((const unsigned char *)pw);
	if (n < 0)
		return "not valid UTF-8 text, or has a control character";
	if (n < TL_PASSWORD_MIN_CHARS)
		return "shorter than 8 characters";
	return NULL;
}

int tl_password_hash_with(const char *pw, unsigned long long opslimit, size_t memlimit,
			  char out[TL_PASSWORD_HASH_MAX], struct tl_err *err)
{
	if (tl_password_init(err) < 0)
		return -1;
	if (crypto_pwhash_str_alg(out, pw, strlen(pw), opslimit, memlimit,
				  crypto_pwhash_ALG_ARGON2ID13) != 0) {
		tl_err_set(err, "password: hashing failed (out of memory?)");
		return -1;
	}
	return 0;
}

int tl_password_hash(const char *pw, char out[TL_PASSWORD_HASH_MAX], struct tl_err *err)
{
	return tl_password_hash_with(pw, OPSLIMIT, MEMLIMIT, out, err);
}

bool tl_password_verify(const char *hash, const char *pw)
{
	struct tl_err err;
	if (!hash || !pw || tl_password_init(&err) < 0)
		return false;
	return crypto_pwhash_str_verify(hash, pw, strlen(pw)) == 0;
}

bool tl_password_needs_rehash(const char *hash)
{
	struct tl_err err;
	if (tl_password_init(&err) < 0)
		return true;
	return crypto_pwhash_str_needs_rehash(hash, OPSLIMIT, MEMLIMIT) != 0;
}

const char *tl_password_dummy_hash(void)
{
	/* Made once from 32 random bytes that were then thrown away. Its parameters must
	 * stay those of tl_password_hash (unit.password checks), or an unknown user would
	 * answer faster than a known one. */
	return "$argon2id$v=19$m=65536,t=2,p=1$cLVOkbzk4NTAiWTxgcyu+A$"
	       "GMrH0tjdXk/vpyyVlrWhCKvXyxu9/dE16Bfw4rmRDiY";
}

void tl_password_wipe(void *p, size_t n)
{
	sodium_memzero(p, n);
}
