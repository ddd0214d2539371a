/* bench_live - the daemon's live state as the benchmarks follow it: one event stream
 * (GET /v1/events over the Unix socket) read by a thread of its own, the latest status
 * kept, and a wait for the belt to run or to come to rest that never sleeps. */
#ifndef TL_BENCH_LIVE_H
#define TL_BENCH_LIVE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "bench_util.h"

#define BU_STOPPED_KMH 0.05 /* the belt counts as at rest at or below this */

struct bu_live {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv; /* CLOCK_MONOTONIC */
	void *curl;        /* the stream's CURL handle */
	struct bu_buf line;
	char kind[32];
	atomic_int quit;
	bool ended;
	/* the latest status, and how many have come */
	uint64_t n;
	char state[32];
	bool running;
	double speed_kmh;
};

enum bu_want { BU_BELT_RUNNING, BU_BELT_AT_REST };

/* Opens the stream of the daemon listening on sock; 0, or -1. */
int bu_live_start(struct bu_live *l, const char *sock);
/* Ends the stream (within a second: the daemon's idle comment) and frees it. */
void bu_live_stop(struct bu_live *l);
/* Waits until a status newer than the after-th shows what is wanted; -1 after timeout_s
 * (or when the stream ended), with the last status on stderr. */
int bu_live_wait(struct bu_live *l, enum bu_want w, uint64_t after, double timeout_s);
/* How many statuses have come so far. */
uint64_t bu_live_seen(struct bu_live *l);

#endif
