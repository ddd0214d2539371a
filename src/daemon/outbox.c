/* outbox.c - the daemon's sender thread (outbox.h). */
#include "outbox.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "fhir.h"
#include "mllp.h"
#include "records.h"
#include "store.h"
#include "tl_log.h"

/* After a store failure the sender tries again this often. */
#define STORE_RETRY_MS 1000

struct tl_outbox {
	struct tl_daemon *d;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;  /* CLOCK_MONOTONIC */
	bool woken, stop;
	int stop_efd;       /* ends an attempt's waits at once */
	struct tl_store *st;
	struct tl_mllp mllp;
};

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" <-> ms since the epoch. */
static int64_t ms_of_utc(const char *s)
{
	struct tm tm = {0};
	int ms = 0;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm) * 1000 + ms;
}

static void utc_of_ms(int64_t ms, char out[32])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 32 - n, ".%03dZ", (int)(ms % 1000));
}

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The counts the status shows, and an alert for a message that failed. */
static void publish(struct tl_outbox *o, const char *alert)
{
	struct tl_daemon *d = o->d;
	struct tl_err err;
	int u = 0, f = 0;
	if (tl_store_outbox_counts(o->st, &u, &f, &err) < 0) {
		TL_WARNING("outbox: %s", err.msg);
		return;
	}
	pthread_mutex_lock(&d->ob_mu);
	d->ob_undelivered = u;
	d->ob_failed = f;
	if (alert)
		snprintf(d->ob_alert, sizeof d->ob_alert, "%s", alert);
	else if (!f)
		d->ob_alert[0] = 0; /* nothing stands failed any more */
	pthread_mutex_unlock(&d->ob_mu);
}

static const struct tl_delivery_conf *conf_of(const struct tl_daemon *d, const char *kind)
{
	return !strcmp(kind, "fhir") ? &d->cfg.fhir.d : &d->cfg.hl7.d;
}

/* The bearer token: the first line of token_file, read at each attempt (a token renewed
 * on disk is used from the next attempt on). */
static int read_token(const char *path, char *out, size_t cap, char *why, size_t wcap)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(why, wcap, "token_file %s: %s", path, strerror(errno));
		return -1;
	}
	bool ok = fgets(out, (int)cap, f) != NULL;
	fclose(f);
	out[ok ? strcspn(out, "\r\n") : 0] = 0;
	if (!out[0]) {
		snprintf(why, wcap, "token_file %s: empty", path);
		return -1;
	}
	return 0;
}

/* One FHIR POST (tl_fhir_post: its own deadline; a stop waits for it). */
static void post_fhir(struct tl_outbox *o, const struct tl_store_outbox_msg *m,
		      struct tl_mllp_answer *ans)
{
	const struct tl_fhir_conf *fc = &o->d->cfg.fhir;
	char token[4096] = "";
	if (fc->token_file[0] &&
	    read_token(fc->token_file, token, sizeof token, ans->detail, sizeof ans->detail) < 0) {
		ans->result = TL_SEND_RETRY;
		snprintf(ans->event, sizeof ans->event, "token");
		return;
	}
	ans->result = tl_fhir_post(fc, token[0] ? token : NULL, (const char *)m->payload, m->len,
				   ans->detail, sizeof ans->detail);
	snprintf(ans->event, sizeof ans->event, "http %s",
		 ans->result == TL_SEND_DELIVERED ? "2xx" : ans->result == TL_SEND_REJECTED ? "4xx"
											  : "retry");
	memset(token, 0, sizeof token);
}

/* One attempt at m and what it came to, recorded. */
static void deliver(struct tl_outbox *o, struct tl_store_outbox_msg *m)
{
	struct tl_err err;
	char now[32];
	tl_utc_now(now);
	int a = tl_store_outbox_attempt(o->st, m->id, now, &err);
	if (a <= 0) {
		if (a < 0)
			TL_WARNING("outbox: %s", err.msg);
		return;
	}
	int attempt = m->attempts + 1;
	const struct tl_delivery_conf *dc = conf_of(o->d, m->kind);
	struct tl_mllp_answer ans;
	if (!strcmp(m->kind, "fhir"))
		post_fhir(o, m, &ans);
	else
		tl_mllp_send(&o->mllp, m->payload, m->len, m->control_id, dc->timeout_ms, o->stop_efd,
			     &ans);
	tl_utc_now(now);
	/* The receiver's text may be in any encoding: kept as printable ASCII. */
	for (char *c = ans.detail; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
			*c = '?';
	const char *state = "queued";
	char next[32] = "", alert[300] = "";
	if (ans.result == TL_SEND_DELIVERED) {
		state = "delivered";
		TL_INFO("outbox: message %" PRId64 " (test %" PRId64 ", %s) delivered on attempt %d",
			m->id, m->test_id, m->control_id, attempt);
	} else if (ans.result == TL_SEND_REJECTED) {
		/* The receiver refused this message: the same bytes would be refused again. */
		state = "failed";
		snprintf(alert, sizeof alert, "the %s message %" PRId64 " of test %" PRId64
			 " was rejected (%s): %.200s", m->kind, m->id, m->test_id, ans.event, ans.detail);
	} else if (!strcmp(ans.event, "cancelled")) {
		/* the daemon is stopping: not the receiver's failure; due again at the next start */
		snprintf(next, sizeof next, "%s", now);
	} else if (attempt >= dc->max_attempts) {
		state = "failed";
		snprintf(alert, sizeof alert, "the %s message %" PRId64 " of test %" PRId64
			 " was not delivered in %d attempts: %.200s", m->kind, m->id, m->test_id,
			 attempt, ans.detail);
	} else {
		utc_of_ms(ms_of_utc(now) + tl_delivery_backoff_ms(dc, attempt), next);
		TL_INFO("outbox: message %" PRId64 " (%s) attempt %d: %s %s; next at %s", m->id,
			m->control_id, attempt, ans.event, ans.detail, next);
	}
	if (alert[0])
		TL_ERROR("outbox: %s", alert);
	for (;;) {
		tl_store_fault_clear(o->st);
		int r = tl_store_outbox_outcome(o->st, m->id, ans.event, ans.detail, state,
						next[0] ? next : NULL, now, &err);
		if (r >= 0)
			break;
		if (!tl_store_fault(o->st)) {
			/* refused, not failed: no retry changes it; resumed at the next start */
			TL_ERROR("outbox: %s", err.msg);
			break;
		}
		/* The answer came; only the store failed: keep it until the store takes it. */
		TL_WARNING("outbox: %s", err.msg);
		pthread_mutex_lock(&o->mu);
		bool stop = o->stop;
		pthread_mutex_unlock(&o->mu);
		if (stop)
			break; /* left 'sending': resumed (sent again, same id) at the next start */
		struct timespec w = {STORE_RETRY_MS / 1000, 0};
		nanosleep(&w, NULL);
	}
	publish(o, alert[0] ? alert : NULL);
}

static const char *const kinds[] = {"hl7", "fhir"};

static void *run(void *arg)
{
	struct tl_outbox *o = arg;
	struct tl_daemon *d = o->d;
	struct tl_err err;
	char now[32];
	bool hl7 = d->cfg.hl7.send_to[0] != 0, fhir = d->cfg.fhir.url[0] != 0;
	for (;;) {
		pthread_mutex_lock(&o->mu);
		bool stop = o->stop;
		o->woken = false;
		pthread_mutex_unlock(&o->mu);
		if (stop)
			break;
		int64_t wait_ms = 3600 * 1000;
		bool sent = false;
		for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
			if ((!strcmp(kinds[k], "hl7") && !hl7) || (!strcmp(kinds[k], "fhir") && !fhir))
				continue;
			struct tl_store_outbox_msg m;
			char next[32];
			tl_utc_now(now);
			int r = tl_store_outbox_next(o->st, kinds[k], now, &m, next, &err);
			if (r < 0) {
				TL_WARNING("outbox: %s", err.msg);
				wait_ms = STORE_RETRY_MS;
			} else if (r > 0) {
				deliver(o, &m);
				tl_store_outbox_msg_free(&m);
				sent = true;
			} else if (next[0]) {
				int64_t w = ms_of_utc(next) - wall_ms();
				if (w < wait_ms)
					wait_ms = w < 1 ? 1 : w;
			}
		}
		if (sent)
			continue;
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += wait_ms / 1000;
		until.tv_nsec += (wait_ms % 1000) * 1000000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		pthread_mutex_lock(&o->mu);
		while (!o->stop && !o->woken) {
			if (pthread_cond_timedwait(&o->cv, &o->mu, &until) == ETIMEDOUT)
				break;
		}
		pthread_mutex_unlock(&o->mu);
	}
	tl_mllp_close(&o->mllp);
	return NULL;
}

struct tl_outbox *tl_outbox_start(struct tl_daemon *d, struct tl_err *err)
{
	struct tl_outbox *o = calloc(1, sizeof *o);
	if (!o) {
		tl_err_set(err, "outbox: out of memory");
		return NULL;
	}
	o->d = d;
	o->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (o->stop_efd < 0) {
		tl_err_set(err, "outbox: eventfd: %s", strerror(errno));
		free(o);
		return NULL;
	}
	o->st = tl_store_open_current(d->cfg.database, err);
	if (!o->st) {
		close(o->stop_efd);
		free(o);
		return NULL;
	}
	tl_mllp_init(&o->mllp, d->cfg.hl7.host, d->cfg.hl7.port);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&o->cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&o->mu, NULL);
	/* Before the thread and before the daemon says it is ready: messages a dead daemon
	 * left 'sending' go back to the queue, and the status has its counts. Nothing else
	 * writes to the store during start-up (another program's write would meet a lock). */
	char now[32];
	tl_utc_now(now);
	struct tl_err e;
	int n = tl_store_outbox_resume(o->st, now, &e);
	if (n < 0)
		TL_ERROR("outbox: %s", e.msg);
	else if (n > 0)
		TL_WARNING("outbox: %d message(s) were being sent when the daemon stopped: sending "
			   "them again with the same control id", n);
	publish(o, NULL);
	if (pthread_create(&o->th, NULL, run, o)) {
		tl_err_set(err, "outbox: cannot start the sender thread");
		pthread_cond_destroy(&o->cv);
		pthread_mutex_destroy(&o->mu);
		tl_store_close(o->st);
		close(o->stop_efd);
		free(o);
		return NULL;
	}
	return o;
}

void tl_outbox_wake(struct tl_outbox *o)
{
	if (!o)
		return;
	pthread_mutex_lock(&o->mu);
	o->woken = true;
	pthread_cond_signal(&o->cv);
	pthread_mutex_unlock(&o->mu);
}

void tl_outbox_stop(struct tl_outbox *o)
{
	if (!o)
		return;
	pthread_mutex_lock(&o->mu);
	o->stop = true;
	pthread_cond_signal(&o->cv);
	pthread_mutex_unlock(&o->mu);
	uint64_t one = 1;
	if (write(o->stop_efd, &one, sizeof one) != sizeof one)
		TL_WARNING("outbox: waking the sender: %s", strerror(errno));
	pthread_join(o->th, NULL);
	tl_store_close(o->st);
	close(o->stop_efd);
	pthread_cond_destroy(&o->cv);
	pthread_mutex_destroy(&o->mu);
	free(o);
}
