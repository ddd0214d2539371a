/* logins.h - the daemon's login sessions and its count of failed logins, in memory.
 *
 * A session is a random 256-bit token (the cookie's value, base64url) with the account's
 * name and role, a CSRF token of its own and the time of its last use. It ends when idle
 * longer than the table's idle time, when closed (logout), or when its account is
 * disabled or its password changed (tl_logins_close_user). Nothing here is written to
 * disk: a daemon restart logs everyone out.
 *
 * Failed logins are counted per account name and per client (an address, or the Unix
 * socket's uid). From the TL_LOGIN_USER_FAILS-th failure of an account (the
 * TL_LOGIN_CLIENT_FAILS-th of a client) its logins are refused for TL_LOGIN_BLOCK_S
 * seconds, doubling with each further failure up to TL_LOGIN_BLOCK_MAX_S; a success
 * clears the account's count (not the client's: one good account must not reset a
 * guesser's count). A count is forgotten TL_LOGIN_FORGET_S after its last failure.
 *
 * Times are CLOCK_MONOTONIC nanoseconds given by the caller (tests give their own).
 * Every function takes the table's mutex for a scan of memory only: never a hash, never
 * I/O, so the emergency stop's check of a cookie is quick. */
#ifndef TL_LOGINS_H
#define TL_LOGINS_H

#include <stdbool.h>
#include <stdint.h>

#define TL_LOGIN_TOKEN_BYTES 32       /* 256 bits */
#define TL_LOGIN_TOKEN_TEXT 44        /* base64url without padding (43) and NUL */
#define TL_LOGIN_SESSIONS_MAX 256     /* when full, the least recently used one ends */
#define TL_LOGIN_USER_FAILS 5
#define TL_LOGIN_CLIENT_FAILS 10
#define TL_LOGIN_BLOCK_S 30
#define TL_LOGIN_BLOCK_MAX_S 900
#define TL_LOGIN_FORGET_S 3600
#define TL_LOGIN_RECORDS_MAX 512      /* counts kept; when full, the stalest is dropped */

struct tl_logins;

struct tl_login_who {
	char user[40];
	char role[16];
	char csrf[TL_LOGIN_TOKEN_TEXT];
};

/* NULL if out of memory (or libsodium cannot start). idle_ns > 0. */
struct tl_logins *tl_logins_new(int64_t idle_ns);
void tl_logins_free(struct tl_logins *t); /* safe with NULL */

/* Opens a session; its cookie value into token, its CSRF token into who->csrf. 0, or -1
 * if libsodium is not available. */
int tl_logins_open(struct tl_logins *t, const char *user, const char *role, int64_t now_ns,
		   char token[TL_LOGIN_TOKEN_TEXT], struct tl_login_who *who);

/* The session of a cookie value: true and who (its last use becomes now), or false if
 * there is none or it was idle too long (then it ends). */
bool tl_logins_find(struct tl_logins *t, const char *token, int64_t now_ns,
		    struct tl_login_who *who);

/* Ends the session of a cookie value; true if there was one. */
bool tl_logins_close(struct tl_logins *t, const char *token);
/* Ends every session of an account; returns how many. */
int tl_logins_close_user(struct tl_logins *t, const char *user);

/* Whether an X-CSRF-Token value is the session's (in time independent of the value). */
bool tl_logins_csrf_ok(const struct tl_login_who *who, const char *header);

/* 0 if a login to user from client may be tried at now, else the whole seconds (>= 1)
 * until it may. */
int tl_logins_blocked(struct tl_logins *t, const char *user, const char *client, int64_t now_ns);
void tl_logins_failed(struct tl_logins *t, const char *user, const char *client, int64_t now_ns);
void tl_logins_succeeded(struct tl_logins *t, const char *user);

#endif
