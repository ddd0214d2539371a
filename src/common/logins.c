/* logins.c - sessions and failed-login counts in memory (logins.h). */
#include "logins.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS_PER_S 1000000000LL

struct sess {
	bool used;
	unsigned char token[TL_LOGIN_TOKEN_BYTES];
	int64_t last_ns;
	struct tl_login_who who;
};

struct fails {
	char key[72]; /* "user alice" or "client 127.0.0.1"; empty: free */
	int count;
	int64_t last_ns, until_ns;
};

struct tl_logins {
	pthread_mutex_t mu;
	int64_t idle_ns;
	struct sess s[TL_LOGIN_SESSIONS_MAX];
	struct fails f[TL_LOGIN_RECORDS_MAX];
};

struct tl_logins *tl_logins_new(int64_t idle_ns)
{
	if (idle_ns <= 0 || sodium_init() < 0)
		return NULL;
	struct tl_logins *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	pthread_mutex_init(&t->mu, NULL);
	t->idle_ns = idle_ns;
	return t;
}

void tl_logins_free(struct tl_logins *t)
{
	if (!t)
		return;
	pthread_mutex_destroy(&t->mu);
	sodium_memzero(t, sizeof *t);
	free(t);
}

static void encode(char out[TL_LOGIN_TOKEN_TEXT], const unsigned char bin[TL_LOGIN_TOKEN_BYTES])
{
	sodium_bin2base64(out, TL_LOGIN_TOKEN_TEXT, bin, TL_LOGIN_TOKEN_BYTES,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* A cookie value back to its 32 bytes; false if it is not one. */
static bool decode(const char *text, unsigned char bin[TL_LOGIN_TOKEN_BYTES])
{
	size_t n = 0;
	if (!text || strlen(text) != TL_LOGIN_TOKEN_TEXT - 1)
		return false;
	return sodium_base642bin(bin, TL_LOGIN_TOKEN_BYTES, text, TL_LOGIN_TOKEN_TEXT - 1, NULL, &n,
				 NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 &&
	       n == TL_LOGIN_TOKEN_BYTES;
}

int tl_logins_open(struct tl_logins *t, const char *user, const char *role, int64_t now_ns,
		   char token[TL_LOGIN_TOKEN_TEXT], struct tl_login_who *who)
{
	unsigned char csrf[TL_LOGIN_TOKEN_BYTES];
	pthread_mutex_lock(&t->mu);
	/* A free slot, else one idle too long, else the least recently used. */
	struct sess *slot = NULL;
	for (int i = 0; i < TL_LOGIN_SESSIONS_MAX; i++) {
		struct sess *s = &t->s[i];
		if (!s->used || now_ns - s->last_ns > t->idle_ns) {
			slot = s;
			break;
		}
		if (!slot || s->last_ns < slot->last_ns)
			slot = s;
	}
	memset(slot, 0, sizeof *slot);
	randombytes_buf(slot->token, sizeof slot->token);
	randombytes_buf(csrf, sizeof csrf);
	slot->used = true;
	slot->last_ns = now_ns;
	snprintf(slot->who.user, sizeof slot->who.user, "%s", user);
	snprintf(slot->who.role, sizeof slot->who.role, "%s", role);
	encode(slot->who.csrf, csrf);
	encode(token, slot->token);
	*who = slot->who;
	pthread_mutex_unlock(&t->mu);
	sodium_memzero(csrf, sizeof csrf);
	return 0;
}

/* The slot holding bin, or NULL. Every slot is compared, each in constant time. */
static struct sess *lookup(struct tl_logins *t, const unsigned char bin[TL_LOGIN_TOKEN_BYTES])
{
	struct sess *found = NULL;
	for (int i = 0; i < TL_LOGIN_SESSIONS_MAX; i++)
		if (t->s[i].used && sodium_memcmp(t->s[i].token, bin, TL_LOGIN_TOKEN_BYTES) == 0)
			found = &t->s[i];
	return found;
}

bool tl_logins_find(struct tl_logins *t, const char *token, int64_t now_ns,
		    struct tl_login_who *who)
{
	unsigned char bin[TL_LOGIN_TOKEN_BYTES];
	if (!decode(token, bin))
		return false;
	pthread_mutex_lock(&t->mu);
	struct sess *s = lookup(t, bin);
	bool ok = s && now_ns - s->last_ns <= t->idle_ns;
	if (s && !ok)
		memset(s, 0, sizeof *s); /* idle too long: it ends */
	if (ok) {
		s->last_ns = now_ns;
		*who = s->who;
	}
	pthread_mutex_unlock(&t->mu);
	return ok;
}

bool tl_logins_close(struct tl_logins *t, const char *token)
{
	unsigned char bin[TL_LOGIN_TOKEN_BYTES];
	if (!decode(token, bin))
		return false;
	pthread_mutex_lock(&t->mu);
	struct sess *s = lookup(t, bin);
	if (s)
		memset(s, 0, sizeof *s);
	pthread_mutex_unlock(&t->mu);
	return s != NULL;
}

int tl_logins_close_user(struct tl_logins *t, const char *user)
{
	int n = 0;
	pthread_mutex_lock(&t->mu);
	for (int i = 0; i < TL_LOGIN_SESSIONS_MAX; i++)
		if (t->s[i].used && !strcmp(t->s[i].who.user, user)) {
			memset(&t->s[i], 0, sizeof t->s[i]);
			n++;
		}
	pthread_mutex_unlock(&t->mu);
	return n;
}

bool tl_logins_csrf_ok(const struct tl_login_who *who, const char *header)
{
	unsigned char want[TL_LOGIN_TOKEN_BYTES], got[TL_LOGIN_TOKEN_BYTES];
	if (!decode(who->csrf, want) || !decode(header, got))
		return false;
	return sodium_memcmp(want, got, sizeof want) == 0;
}

/* ---------- failed logins ---------- */

static struct fails *record(struct tl_logins *t, const char *key, int64_t now_ns, bool add)
{
	struct fails *free_slot = NULL, *stalest = NULL;
	for (int i = 0; i < TL_LOGIN_RECORDS_MAX; i++) {
		struct fails *f = &t->f[i];
		if (f->key[0] && now_ns - f->last_ns > TL_LOGIN_FORGET_S * NS_PER_S &&
		    now_ns >= f->until_ns)
			f->key[0] = '\0'; /* forgotten */
		if (f->key[0] && !strcmp(f->key, key))
			return f;
		if (!f->key[0] && !free_slot)
			free_slot = f;
		if (f->key[0] && (!stalest || f->last_ns < stalest->last_ns))
			stalest = f;
	}
	if (!add)
		return NULL;
	struct fails *f = free_slot ? free_slot : stalest;
	memset(f, 0, sizeof *f);
	snprintf(f->key, sizeof f->key, "%s", key);
	return f;
}

static int wait_s(struct fails *f, int64_t now_ns)
{
	if (!f || now_ns >= f->until_ns)
		return 0;
	return (int)((f->until_ns - now_ns + NS_PER_S - 1) / NS_PER_S);
}

int tl_logins_blocked(struct tl_logins *t, const char *user, const char *client, int64_t now_ns)
{
	char ku[72], kc[72];
	snprintf(ku, sizeof ku, "user %s", user);
	snprintf(kc, sizeof kc, "client %s", client);
	pthread_mutex_lock(&t->mu);
	int a = wait_s(record(t, ku, now_ns, false), now_ns);
	int b = wait_s(record(t, kc, now_ns, false), now_ns);
	pthread_mutex_unlock(&t->mu);
	return a > b ? a : b;
}

static void count(struct tl_logins *t, const char *key, int threshold, int64_t now_ns)
{
	struct fails *f = record(t, key, now_ns, true);
	f->count++;
	f->last_ns = now_ns;
	if (f->count < threshold)
		return;
	int64_t block = TL_LOGIN_BLOCK_S;
	for (int i = threshold; i < f->count && block < TL_LOGIN_BLOCK_MAX_S; i++)
		block *= 2;
	if (block > TL_LOGIN_BLOCK_MAX_S)
		block = TL_LOGIN_BLOCK_MAX_S;
	f->until_ns = now_ns + block * NS_PER_S;
}

void tl_logins_failed(struct tl_logins *t, const char *user, const char *client, int64_t now_ns)
{
	char ku[72], kc[72];
	snprintf(ku, sizeof ku, "user %s", user);
	snprintf(kc, sizeof kc, "client %s", client);
	pthread_mutex_lock(&t->mu);
	count(t, ku, TL_LOGIN_USER_FAILS, now_ns);
	count(t, kc, TL_LOGIN_CLIENT_FAILS, now_ns);
	pthread_mutex_unlock(&t->mu);
}

void tl_logins_succeeded(struct tl_logins *t, const char *user)
{
	char ku[72];
	snprintf(ku, sizeof ku, "user %s", user);
	pthread_mutex_lock(&t->mu);
	struct fails *f = record(t, ku, 0, false);
	if (f)
		memset(f, 0, sizeof *f);
	pthread_mutex_unlock(&t->mu);
}
