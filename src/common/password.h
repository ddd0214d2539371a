/* password.h - operator passwords, stored only as Argon2id hashes (libsodium).
 *
 * Parameters: libsodium's "interactive" limits (crypto_pwhash_OPSLIMIT_INTERACTIVE = 2
 * passes, crypto_pwhash_MEMLIMIT_INTERACTIVE = 64 MiB), which its documentation gives as
 * the baseline for an online login ("The pwhash* API", doc.libsodium.org/password_hashing/
 * default_phf). A login on the station's 2-core machine costs one such hash; the daemon
 * runs at most TL_PASSWORD_CONCURRENT of them at once, so logins cannot take more than
 * that much memory together (docs/security.md, Accounts). */
#ifndef TL_PASSWORD_H
#define TL_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#include "tl_err.h"

/* Room for a hash string (crypto_pwhash_STRBYTES, with its NUL). */
#define TL_PASSWORD_HASH_MAX 128
/* NIST SP 800-63B 5.1.1.2: a memorized secret the user chooses is at least 8
 * characters; rate limiting (not composition rules) guards what remains. */
#define TL_PASSWORD_MIN_CHARS 8
/* Longer is no stronger, and hashing megabytes is work an attacker chooses. */
#define TL_PASSWORD_MAX_BYTES 256
/* Hashes computed at once by one process (the daemon's logins): 2 cores, 64 MiB each. */
#define TL_PASSWORD_CONCURRENT 2

/* Initialises libsodium (once; safe from any thread). 0, or -1 + err. */
int tl_password_init(struct tl_err *err);

/* NULL if pw is acceptable as a new password, else why not ("shorter than 8
 * characters"): valid UTF-8, no control characters, TL_PASSWORD_MIN_CHARS characters
 * (code points) to TL_PASSWORD_MAX_BYTES bytes. */
const char *tl_password_refused(const char *pw);

/* Hashes pw with the parameters above into out. 0, or -1 + err (out of memory). */
int tl_password_hash(const char *pw, char out[TL_PASSWORD_HASH_MAX], struct tl_err *err);
/* The same with explicit limits (tests use libsodium's minimum to run fast). */
int tl_password_hash_with(const char *pw, unsigned long long opslimit, size_t memlimit,
			  char out[TL_PASSWORD_HASH_MAX], struct tl_err *err);

/* Whether pw matches hash (a string from tl_password_hash). False also for a hash that
 * is not one. */
bool tl_password_verify(const char *hash, const char *pw);

/* Whether hash was made with other parameters than tl_password_hash's (or is not a
 * hash): then it is to be replaced at the next successful login. */
bool tl_password_needs_rehash(const char *hash);

/* A hash of a password nobody knows, with tl_password_hash's parameters: verified for an
 * unknown user, so that a wrong name costs the same time as a wrong password. */
const char *tl_password_dummy_hash(void);

/* Overwrites n bytes at p with zeros (not optimised away). */
void tl_password_wipe(void *p, size_t n);

#endif
