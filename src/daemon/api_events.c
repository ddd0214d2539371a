/* api_events.c - GET /v1/events: the live status and the test's events as Server-Sent
 * Events, one thread per stream waiting on the status's condition variable. */
#include "api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "json_out.h"

struct sse {
	struct tl_api *api;
	struct listener *l;
	uint64_t seq;
	uint64_t events_sent;
	char *pending;
	size_t pending_len, pending_off;
};

/* Adds one record (j, taken) to what is to be sent; false if out of memory (j NULL: it
 * could not be built), and then the stream ends: a client that follows it must not miss
 * an event without knowing. It reconnects and reads the test's record. */
static bool sse_append(struct sse *s, const char *kind, json_t *j)
{
	char *text = j ? json_dumps(j, JSON_PRESERVE_ORDER | JSON_COMPACT | JSON_REAL_PRECISION(10))
		       : NULL;
	json_decref(j);
	if (!text)
		return false;
	/* "event: " kind "\ndata: " text "\n\n" is 16 bytes besides kind and text; one more
	 * for snprintf's terminating NUL, which is not part of the stream. */
	size_t add = strlen(kind) + strlen(text) + 16;
	char *p = realloc(s->pending, s->pending_len + add + 1);
	if (!p) {
		free(text);
		return false;
	}
	s->pending = p;
	snprintf(p + s->pending_len, add + 1, "event: %s\ndata: %s\n\n", kind, text);
	s->pending_len += add;
	free(text);
	return true;
}

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)pos;
	struct sse *s = cls;
	struct tl_daemon *d = s->api->d;
	while (s->pending_off >= s->pending_len) {
		if (atomic_load(&s->api->stopping))
			return MHD_CONTENT_READER_END_OF_STREAM;
		free(s->pending);
		s->pending = NULL;
		s->pending_len = s->pending_off = 0;
		struct tl_status st;
		pthread_mutex_lock(&d->st_mu);
		if (d->st.seq == s->seq) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			pthread_cond_timedwait(&d->st_cv, &d->st_mu, &ts);
		}
		st = d->st;
		pthread_mutex_unlock(&d->st_mu);
		if (st.seq == s->seq) {
			/* A comment line keeps idle connections alive and notices closed ones. */
			s->pending = strdup(": idle\n\n");
			if (!s->pending)
				return MHD_CONTENT_READER_END_WITH_ERROR;
			s->pending_len = strlen(s->pending);
			continue;
		}
		s->seq = st.seq;
		uint64_t first = st.events_total > TL_RECENT_EVENTS ? st.events_total - TL_RECENT_EVENTS : 0;
		if (s->events_sent < first)
			s->events_sent = first;
		for (; s->events_sent < st.events_total; s->events_sent++)
			if (!sse_append(s, "event",
					tl_json_event(&st.recent[s->events_sent % TL_RECENT_EVENTS])))
				return MHD_CONTENT_READER_END_WITH_ERROR;
		if (!sse_append(s, "status", tl_api_status_json(&st, d)))
			return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	size_t n = s->pending_len - s->pending_off;
	if (n > max)
		n = max;
	memcpy(buf, s->pending + s->pending_off, n);
	s->pending_off += n;
	return (ssize_t)n;
}

static void sse_free(void *cls)
{
	struct sse *s = cls;
	atomic_fetch_sub(&s->l->n_streams, 1);
	free(s->pending);
	free(s);
}

/* Streams take at most TL_API_STREAMS_MAX of a listener's connections, so that the
 * rest are always there for commands. */
enum MHD_Result tl_api_events(struct tl_api *api, struct MHD_Connection *c, struct tl_api_request *rq)
{
	struct listener *l = (struct listener *)rq->l;
	if (atomic_fetch_add(&l->n_streams, 1) >= TL_API_STREAMS_MAX) {
		atomic_fetch_sub(&l->n_streams, 1);
		return tl_api_send_error(c, 503, "too many event streams open (%d): close one and try again",
					 TL_API_STREAMS_MAX);
	}
	setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), TL_API_STREAM_NICE);
	struct sse *s = calloc(1, sizeof *s);
	if (!s) {
		atomic_fetch_sub(&l->n_streams, 1);
		return tl_api_send_error(c, 500, "out of memory");
	}
	s->api = api;
	s->l = l;
	/* Only events from now on; the status first. */
	pthread_mutex_lock(&api->d->st_mu);
	s->events_sent = api->d->st.events_total;
	pthread_mutex_unlock(&api->d->st_mu);
	struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, sse_read, s, sse_free);
	if (!r) {
		sse_free(s);
		return tl_api_send_error(c, 500, "out of memory");
	}
	if (!tl_api_headers(r, "text/event-stream") ||
	    MHD_add_response_header(r, "Cache-Control", "no-cache") != MHD_YES) {
		MHD_destroy_response(r); /* frees s (sse_free) */
		return tl_api_send_oom(c);
	}
	enum MHD_Result ret = MHD_queue_response(c, 200, r);
	MHD_destroy_response(r);
	return ret;
}
