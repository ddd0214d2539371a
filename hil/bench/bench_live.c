/* bench_live - the daemon's live state for the benchmarks (see bench_live.h). */
#define _GNU_SOURCE /* program_invocation_short_name */
#include "bench_live.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void take_status(struct bu_live *l, json_t *j)
{
	json_t *tm = json_object_get(j, "treadmill");
	const char *state = json_string_value(json_object_get(j, "state"));
	pthread_mutex_lock(&l->mu);
	snprintf(l->state, sizeof l->state, "%s", state ? state : "");
	l->running = json_is_true(json_object_get(tm, "running"));
	l->speed_kmh = json_number_value(json_object_get(tm, "speed_kmh"));
	l->n++;
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
}

/* One line of the stream at a time: "event: KIND", then "data: JSON". */
static size_t on_sse(char *data, size_t size, size_t nmemb, void *arg)
{
	struct bu_live *l = arg;
	size_t n = size * nmemb;
	if (atomic_load(&l->quit))
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (data[i] != '\n') {
			if (!bu_collect(&data[i], 1, 1, &l->line))
				return 0;
			continue;
		}
		const char *s = l->line.p ? l->line.p : "";
		if (!strncmp(s, "event: ", 7)) {
			snprintf(l->kind, sizeof l->kind, "%s", s + 7);
		} else if (!strncmp(s, "data: ", 6) && !strcmp(l->kind, "status")) {
			json_t *j = json_loads(s + 6, 0, NULL);
			if (j)
				take_status(l, j);
			json_decref(j);
		}
		free(l->line.p);
		l->line.p = NULL;
		l->line.n = 0;
	}
	return n;
}

static int on_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	(void)a, (void)b, (void)c, (void)d;
	return atomic_load(&((struct bu_live *)arg)->quit);
}

static void *live_main(void *arg)
{
	struct bu_live *l = arg;
	curl_easy_perform(l->curl);
	pthread_mutex_lock(&l->mu);
	l->ended = true;
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

int bu_live_start(struct bu_live *l, const char *sock)
{
	memset(l, 0, sizeof *l);
	pthread_mutex_init(&l->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->cv, &ca);
	pthread_condattr_destroy(&ca);
	CURL *h = curl_easy_init();
	if (!h)
		return -1;
	curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, sock);
	curl_easy_setopt(h, CURLOPT_URL, "http://treadlabd/v1/events");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_sse);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, l);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, l);
	l->curl = h;
	if (pthread_create(&l->th, NULL, live_main, l)) {
		curl_easy_cleanup(h);
		return -1;
	}
	return 0;
}

void bu_live_stop(struct bu_live *l)
{
	atomic_store(&l->quit, 1); /* the idle comment or the next status ends the transfer */
	pthread_join(l->th, NULL);
	curl_easy_cleanup(l->curl);
	free(l->line.p);
	pthread_mutex_destroy(&l->mu);
	pthread_cond_destroy(&l->cv);
}

static bool wanted(const struct bu_live *l, enum bu_want w)
{
	if (w == BU_BELT_RUNNING)
		return !strcmp(l->state, "running") && l->running;
	return strcmp(l->state, "running") && l->speed_kmh <= BU_STOPPED_KMH;
}

int bu_live_wait(struct bu_live *l, enum bu_want w, uint64_t after, double timeout_s)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)timeout_s;
	int rc = 0;
	pthread_mutex_lock(&l->mu);
	while (!(l->n > after && wanted(l, w))) {
		if (l->ended || pthread_cond_timedwait(&l->cv, &l->mu, &ts) == ETIMEDOUT) {
			rc = -1;
			break;
		}
	}
	if (rc)
		fprintf(stderr, "%s: waited %.0f s for the belt %s; last of %llu statuses: state '%s', "
			"belt %s at %.2f km/h%s\n", program_invocation_short_name, timeout_s,
			w == BU_BELT_RUNNING ? "to run" : "to rest", (unsigned long long)l->n, l->state,
			l->running ? "running" : "not running", l->speed_kmh,
			l->ended ? ", stream ended" : "");
	pthread_mutex_unlock(&l->mu);
	return rc;
}

uint64_t bu_live_seen(struct bu_live *l)
{
	pthread_mutex_lock(&l->mu);
	uint64_t n = l->n;
	pthread_mutex_unlock(&l->mu);
	return n;
}
