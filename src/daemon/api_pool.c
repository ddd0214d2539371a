/* api_pool.c - read-only store connections shared by the API's request threads.
 *
 * A request used to open its own read-only connection (reading and checking the schema
 * each time) and close it after. Here up to TL_API_POOL_SIZE stay open and are lent out
 * one at a time: a struct tl_store belongs to one thread at a time (store.h), and the
 * mutex hands it from one to the next. Opening and closing happen outside the mutex. A
 * kept connection sees every commit like a fresh one would: each query of the store is
 * its own read transaction (WAL), and its statements are reset when they return. */
#include "api_pool.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int tl_api_pool_init(struct tl_api_pool *p, const char *path, size_t size, struct tl_err *err)
{
	memset(p, 0, sizeof *p);
	if (size < 1 || size > TL_API_POOL_SIZE) {
		tl_err_set(err, "api: a pool of %zu store connections (1 to %d)", size,
			   TL_API_POOL_SIZE);
		return -1;
	}
	if (strlen(path) >= sizeof p->path) {
		tl_err_set(err, "api: the database path is too long (%zu bytes)", strlen(path));
		return -1;
	}
	memcpy(p->path, path, strlen(path) + 1);
	p->size = size;
	if (pthread_mutex_init(&p->mu, NULL)) {
		tl_err_set(err, "api: cannot make the store pool's mutex");
		return -1;
	}
	if (pthread_cond_init(&p->cv, NULL)) {
		pthread_mutex_destroy(&p->mu);
		tl_err_set(err, "api: cannot make the store pool's condition variable");
		return -1;
	}
	return 0;
}

void tl_api_pool_destroy(struct tl_api_pool *p)
{
	for (size_t i = 0; i < p->size; i++) {
		tl_store_close(p->slot[i].st);
		p->slot[i].st = NULL;
	}
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
}

/* Whether the file at path is still the one opened as (dev, ino). */
static bool same_file(const char *path, dev_t dev, ino_t ino)
{
	struct stat sb;
	return stat(path, &sb) == 0 && sb.st_dev == dev && sb.st_ino == ino;
}

struct tl_store *tl_api_pool_take(struct tl_api_pool *p, struct tl_err *err)
{
	pthread_mutex_lock(&p->mu);
	size_t i;
	for (;;) {
		for (i = 0; i < p->size && p->slot[i].taken; i++)
			;
		if (i < p->size)
			break;
		pthread_cond_wait(&p->cv, &p->mu);
	}
	struct tl_api_pool_slot *s = &p->slot[i];
	s->taken = true;
	struct tl_store *st = s->st;
	dev_t dev = s->dev;
	ino_t ino = s->ino;
	pthread_mutex_unlock(&p->mu);

	/* Deleted or replaced under the daemon: the kept connection would go on reading
	 * the old file; a fresh open says what the path holds now. */
	if (st && !same_file(p->path, dev, ino)) {
		tl_store_close(st);
		st = NULL;
	}
	bool opened = false;
	if (!st) {
		st = tl_store_open_readonly(p->path, err);
		struct stat sb;
		if (st && stat(p->path, &sb) == 0) {
			dev = sb.st_dev;
			ino = sb.st_ino;
		} else {
			dev = 0; /* gone again already: checked, and reopened, next time */
			ino = 0;
		}
		opened = st != NULL;
	}

	pthread_mutex_lock(&p->mu);
	s->st = st;
	s->dev = dev;
	s->ino = ino;
	if (opened)
		p->opened++;
	if (!st) {
		s->taken = false;
		pthread_cond_signal(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	return st;
}

void tl_api_pool_give(struct tl_api_pool *p, struct tl_store *st, bool failed)
{
	if (!st)
		return;
	pthread_mutex_lock(&p->mu);
	size_t i;
	for (i = 0; i < p->size && p->slot[i].st != st; i++)
		;
	if (i < p->size) {
		if (failed)
			p->slot[i].st = NULL;
		p->slot[i].taken = false;
		pthread_cond_signal(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	if (failed || i == p->size) /* i == size: not one of the pool's; not leaked either */
		tl_store_close(st);
}

unsigned long tl_api_pool_opened(struct tl_api_pool *p)
{
	pthread_mutex_lock(&p->mu);
	unsigned long n = p->opened;
	pthread_mutex_unlock(&p->mu);
	return n;
}
