/* api_pool.h - a few read-only store connections shared by the API's request threads
 * (api_pool.c), instead of one opened and closed per request. Apart from api_int.h, so
 * that a unit test builds it with the store alone and api_int.h needs no store. */
#ifndef TL_API_POOL_H
#define TL_API_POOL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "store.h"

/* Queries are short (a test's record, a list); more threads than this wait their turn. */
#define TL_API_POOL_SIZE 4

struct tl_api_pool_slot {
	struct tl_store *st; /* NULL: not open (yet, or closed after an error) */
	dev_t dev;           /* the file st has open, to notice it replaced or gone */
	ino_t ino;
	bool taken;
};

struct tl_api_pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;   /* a slot was given back */
	char path[4096];
	size_t size;
	struct tl_api_pool_slot slot[TL_API_POOL_SIZE];
	unsigned long opened; /* connections opened so far (tests read it) */
};

/* size: 1..TL_API_POOL_SIZE. Opens nothing: connections open at their first use. */
int tl_api_pool_init(struct tl_api_pool *p, const char *path, size_t size, struct tl_err *err);
/* Closes every connection; none may be taken. */
void tl_api_pool_destroy(struct tl_api_pool *p);
/* A connection for this thread alone until it is given back; waits while all are taken.
 * Opened here if its slot has none, or if the file at the path is no longer the one it
 * has open (deleted, or replaced): then the answer is what opening the path gives now.
 * NULL + err ("store: opening ...") if it cannot be opened. */
struct tl_store *tl_api_pool_take(struct tl_api_pool *p, struct tl_err *err);
/* Gives st back. failed: a call on it failed; it is closed, and the next take opens the
 * file afresh, so one broken connection does not fail requests for good. */
void tl_api_pool_give(struct tl_api_pool *p, struct tl_store *st, bool failed);
/* How many connections have been opened so far. */
unsigned long tl_api_pool_opened(struct tl_api_pool *p);

#endif
