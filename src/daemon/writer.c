#include "writer.h"

#include "record_findings.h"
#include "tl_str.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

/* While the store refuses writes (disk full, I/O error), what it could not take is held
 * and tried again this often, and before every answer to a command. */
#define RETRY_MS 1000
/* Held writes beyond this many (hours of a stuck store) keep events and states but let
 * further sample batches go, so memory stays bounded; each one dropped is counted. */
#define HELD_MAX 20000
/* How long a stopping daemon keeps trying to write what is held. */
#define QUIT_RETRY_MS 5000

enum witem_kind { W_CREATE, W_EVENT, W_SAMPLES, W_STATE, W_ENDPOINTS, W_AUDIT, W_PRESSURE,
		  W_FINDINGS, W_RECOMPUTE, W_PATIENT, W_ORDER, W_BARRIER, W_QUIT };

/* One queued item: a payload of its own per kind, so that a field cannot be read as
 * another kind's. Owned strings (char *) are freed with the item. */
struct w_create {
	char patient[64], protocol[64], operator_id[64], started_at[32];
	char *text, *json; /* the protocol as run, as a file and expanded */
	double time_scale;
};
struct w_event {
	struct tl_event ev;
	char operator_id[64];
};
struct w_samples {
	struct tl_store_sample *v;
	size_t n;
};
struct w_state {
	char state[32], end_reason[32], ended_at[32];
};
struct w_audit {
	char operator_id[64], peer[64], command[64], result[32];
	char *detail; /* JSON, or NULL */
};
struct w_pressure {
	char phase[16], site[64], operator_id[64], peer[64];
	double minute, mmhg;
	unsigned flags; /* enum tl_store_pressure_flag bits */
	char source[32];                /* "manual", or the cuff's source */
	bool cuff;                      /* a cuff's reading: meta holds how it was measured */
	struct tl_store_cuff_meta meta;
};
struct w_findings {
	char operator_id[64], peer[64];
	char *json;
};
/* A patient's demographics (mrn) or a test's order: the fields set, each a value or
 * null (cleared). */
struct w_fields {
	char mrn[65], operator_id[64], peer[64];
	char v[TL_STORE_DEMO_N][TL_STORE_NAME_MAX + 1];
	bool set[TL_STORE_DEMO_N], null[TL_STORE_DEMO_N];
};
struct w_barrier {
	struct tl_reply *reply;
	int http_status;
	char msg[300];
};

struct witem {
	enum witem_kind kind;
	struct witem *next;
	int64_t test_id;  /* the test it is for: fixed when taken for "current test" kinds */
	char at[32];      /* UTC when queued */
	union {
		struct w_create create;
		struct w_event event;
		struct w_samples samples;
		struct w_state state;
		struct tl_store_endpoints endpoints;
		struct w_audit audit;
		struct w_pressure pressure;
		struct w_findings findings;
		struct w_fields fields;
		struct w_barrier barrier;
	} u;
};

static const char *or_null(const char *s)
{
	return s[0] ? s : NULL;
}

struct tl_writer {
	struct tl_daemon *d;
	struct tl_store *st;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;         /* CLOCK_MONOTONIC, for the retries */
	struct witem *head, *tail;
	int64_t current_test;
	char failure[300];         /* first failure since the last barrier */
	int failure_status;        /* its HTTP status */
	/* Writes the store could not take because of a fault of its own, oldest first:
	 * written in order once it takes them again (the writer thread's alone). */
	struct witem *held_head, *held_tail;
	size_t n_held;
	char fault[200];           /* the store's error that holds them */
	size_t dropped_batches;    /* sample batches let go beyond HELD_MAX */
	int64_t retry_ns;          /* CLOCK_MONOTONIC of the next try of what is held */
};

/* Items that belong to the test the last create made. */
static bool of_current_test(enum witem_kind k)
{
	return k == W_EVENT || k == W_SAMPLES || k == W_STATE || k == W_ENDPOINTS;
}

static void say(int prio, const char *msg)
{
	syslog(prio, "%s", msg);
	fprintf(stderr, "treadlabd: %s\n", msg);
}

/* The first failure since the last answer is the one the next answer gives. */
static void remember_failure(struct tl_writer *w, int http_status, const char *msg)
{
	if (w->failure[0])
		return;
	tl_strcpy(w->failure, sizeof w->failure, msg);
	w->failure_status = http_status;
}

/* Tells the control thread, which alone writes status: the store's error that stands
 * (NULL: unchanged, "": none any more), that the current test's record failed, and the
 * answer to a start (created: the new test's id or -1, with why). */
static void post_news(struct tl_writer *w, const char *store_error, bool unrecorded,
		      const int64_t *created, const char *why)
{
	struct tl_daemon *d = w->d;
	pthread_mutex_lock(&d->cmd_mu);
	struct tl_store_news *n = &d->news;
	if (store_error) {
		tl_strcpy(n->store_error, sizeof n->store_error, store_error);
		n->error_changed = true;
	}
	n->unrecorded = n->unrecorded || unrecorded;
	if (created) {
		n->created = true;
		n->created_id = *created;
		tl_strcpy(n->created_err, sizeof n->created_err, why ? why : "");
	}
	pthread_mutex_unlock(&d->cmd_mu);
	uint64_t one = 1;
	if (write(d->cmd_efd, &one, sizeof one) != (ssize_t)sizeof one)
		syslog(LOG_ERR, "waking the control thread: %m"); /* it still wakes by its tick */
}

/* What status shows while writes are held: the store's own words, then what it means. */
static void show_fault(struct tl_writer *w, bool stop_the_walk)
{
	char msg[sizeof w->d->news.store_error];
	snprintf(msg, sizeof msg,
		 "%.300s (the record cannot be written; %zu writes are held and retried every "
		 "second)", w->fault, w->n_held);
	post_news(w, msg, stop_the_walk, NULL, NULL);
}

/* A write the store refused for what it was given: no retry changes that. A test's own
 * record that cannot be written still stops the walk. */
static void refused(struct tl_writer *w, const struct witem *it, const char *msg)
{
	say(LOG_ERR, msg);
	bool clients = it->kind == W_PRESSURE || it->kind == W_FINDINGS || it->kind == W_PATIENT ||
		       it->kind == W_ORDER;
	remember_failure(w, clients ? 409 : 500, msg);
	if (clients)
		return; /* the client's mistake, answered to it; the store is fine */
	post_news(w, msg, of_current_test(it->kind), NULL, NULL);
}

/* ABI and classification from what the store holds for the test, stored with it. */
static int recompute(struct tl_writer *w, int64_t id, struct tl_err *err)
{
	if (id < 0)
		return 0;
	json_t *rec = tl_store_test_json(w->st, id, err);
	if (!rec)
		return -1;
	const char *endpoint = json_string_value(
		json_object_get(json_object_get(rec, "protocol_as_run"), "endpoint"));
	bool two_stage = endpoint && !strcmp(endpoint, "each-walk");
	char *abi = NULL, *cls = NULL;
	int rc = tl_record_classify(rec, two_stage, &abi, &cls, err);
	if (rc == 0)
		rc = tl_store_results_set(w->st, id, abi, cls, err);
	else {
		char why[sizeof err->msg];
		tl_strcpy(why, sizeof why, err->msg);
		tl_err_set(err, "classifying test %lld: %s", (long long)id, why);
	}
	free(abi);
	free(cls);
	json_decref(rec);
	return rc;
}

/* Writes one item; 0, or -1 with err (tl_store_fault says whether it may pass). */
static int apply(struct tl_writer *w, struct witem *it, struct tl_err *err)
{
	switch (it->kind) {
	case W_EVENT: {
		if (it->test_id < 0)
			return 0;
		const struct tl_event *e = &it->u.event.ev;
		struct tl_store_event ev = {
			.t_ms = e->t_ms, .kind = tl_event_kind_name(e->kind), .source = e->source,
			.operator_id = or_null(it->u.event.operator_id), .detail = or_null(e->detail),
			.value = e->value, .recorded_at = it->at};
		return tl_store_event_add(w->st, it->test_id, &ev, err);
	}
	case W_SAMPLES:
		if (it->test_id < 0)
			return 0;
		return tl_store_samples_add(w->st, it->test_id, it->u.samples.v, it->u.samples.n, err);
	case W_STATE:
		if (it->test_id < 0)
			return 0;
		return tl_store_test_set_state(w->st, it->test_id, it->u.state.state,
					       or_null(it->u.state.end_reason),
					       or_null(it->u.state.ended_at), err);
	case W_ENDPOINTS:
		if (it->test_id < 0)
			return 0;
		return tl_store_test_set_endpoints(w->st, it->test_id, &it->u.endpoints, err);
	case W_AUDIT:
		return tl_store_audit_by(w->st, it->at, or_null(it->u.audit.operator_id),
					 or_null(it->u.audit.peer), it->u.audit.command,
					 it->u.audit.detail, it->u.audit.result, err);
	case W_PRESSURE: {
		const struct w_pressure *p = &it->u.pressure;
		if (p->cuff)
			return tl_store_pressure_add_cuff(w->st, it->test_id, p->phase, p->minute,
							  p->site, p->mmhg, &p->meta,
							  or_null(p->operator_id), or_null(p->peer),
							  p->source, it->at, err);
		return tl_store_pressure_add_by(w->st, it->test_id, p->phase, p->minute, p->site,
						p->mmhg, p->flags, or_null(p->operator_id),
						or_null(p->peer), p->source, it->at, err);
	}
	case W_FINDINGS:
		return tl_store_findings_set_by(w->st, it->test_id, it->u.findings.json,
						or_null(it->u.findings.operator_id),
						or_null(it->u.findings.peer), it->at, err);
	case W_RECOMPUTE:
		return recompute(w, it->test_id, err);
	case W_PATIENT:
	case W_ORDER: {
		const struct w_fields *fl = &it->u.fields;
		struct tl_store_fields f = {{0}, {0}};
		for (int i = 0; i < TL_STORE_DEMO_N; i++) {
			f.set[i] = fl->set[i];
			f.value[i] = fl->null[i] ? NULL : fl->v[i];
		}
		if (it->kind == W_ORDER)
			return tl_store_order_set(w->st, it->test_id, &f, it->at, or_null(fl->operator_id),
						  or_null(fl->peer), err);
		return tl_store_patient_set(w->st, fl->mrn, &f, it->at, or_null(fl->operator_id),
					    or_null(fl->peer), err) < 0 ? -1 : 0;
	}
	case W_CREATE:
	case W_BARRIER:
	case W_QUIT:
		break; /* not writes of their own: see take() */
	}
	return 0;
}

static void free_item(struct witem *it)
{
	switch (it->kind) {
	case W_CREATE:
		free(it->u.create.text);
		free(it->u.create.json);
		break;
	case W_SAMPLES:
		free(it->u.samples.v);
		break;
	case W_AUDIT:
		free(it->u.audit.detail);
		break;
	case W_FINDINGS:
		free(it->u.findings.json);
		break;
	default:
		break;
	}
	free(it);
}

/* Keeps a write the store could not take, behind those already held. Consecutive
 * endpoint updates of one test collapse into the last (each replaces all seven). */
static void hold(struct tl_writer *w, struct witem *it)
{
	struct witem *tail = w->held_tail;
	if (it->kind == W_ENDPOINTS && tail && tail->kind == W_ENDPOINTS &&
	    tail->test_id == it->test_id) {
		tail->u.endpoints = it->u.endpoints;
		free_item(it);
		return;
	}
	if (it->kind == W_SAMPLES && w->n_held >= HELD_MAX) {
		if (w->dropped_batches++ == 0)
			say(LOG_ERR, "store: too many writes held; further sample batches are let go "
				     "(events and states are still kept)");
		free_item(it);
		return;
	}
	it->next = NULL;
	if (tail)
		tail->next = it;
	else {
		w->held_head = it;
		w->retry_ns = tl_mono_ns() + (int64_t)RETRY_MS * 1000000;
	}
	w->held_tail = it;
	w->n_held++;
}

static struct witem *unhold(struct tl_writer *w)
{
	struct witem *it = w->held_head;
	w->held_head = it->next;
	if (!w->held_head)
		w->held_tail = NULL;
	w->n_held--;
	return it;
}

/* Writes what is held, in order, until the store fails again. Returns the number of
 * held writes still waiting. */
static size_t retry_held(struct tl_writer *w)
{
	if (!w->held_head)
		return 0;
	size_t before = w->n_held;
	while (w->held_head) {
		struct tl_err err = {{0}};
		tl_store_fault_clear(w->st);
		if (apply(w, w->held_head, &err) < 0) {
			if (tl_store_fault(w->st)) {
				tl_strcpy(w->fault, sizeof w->fault, err.msg);
				show_fault(w, false);
				return w->n_held;
			}
			refused(w, w->held_head, err.msg);
		}
		free_item(unhold(w));
	}
	char msg[200];
	snprintf(msg, sizeof msg, "store: writing again: the %zu held writes are recorded", before);
	say(LOG_NOTICE, msg);
	w->fault[0] = '\0';
	post_news(w, "", false, NULL, NULL);
	return 0;
}

/* Writes one item, or holds it if the store fails on its own account. */
static void write_item(struct tl_writer *w, struct witem *it)
{
	bool current = of_current_test(it->kind);
	if (w->held_head) {
		hold(w, it); /* behind what waits: the record keeps its order (it may be freed) */
		show_fault(w, current);
		return;
	}
	struct tl_err err = {{0}};
	tl_store_fault_clear(w->st);
	if (apply(w, it, &err) == 0) {
		free_item(it);
		return;
	}
	if (!tl_store_fault(w->st)) {
		refused(w, it, err.msg);
		free_item(it);
		return;
	}
	say(LOG_ERR, err.msg);
	tl_strcpy(w->fault, sizeof w->fault, err.msg);
	hold(w, it);
	show_fault(w, current);
}

/* Creates the test's record, and tells the control thread, which starts the belt only
 * once the record is there. */
static void create(struct tl_writer *w, struct witem *it)
{
	struct tl_err err = {{0}};
	int64_t id = -1;
	if (retry_held(w) > 0) {
		/* A new test on a store that cannot take the last one's record would walk
		 * unrecorded from its first second. */
		tl_strcpy(err.msg, sizeof err.msg, w->fault);
	} else {
		const struct w_create *c = &it->u.create;
		struct tl_store_test_new t = {
			.patient_mrn = c->patient, .protocol_name = c->protocol, .protocol_text = c->text,
			.protocol_json = c->json, .operator_id = c->operator_id,
			.started_at = c->started_at, .state = "starting", .time_scale = c->time_scale};
		tl_store_fault_clear(w->st);
		id = tl_store_test_create(w->st, &t, &err);
		if (id < 0)
			say(LOG_ERR, err.msg);
	}
	w->current_test = id;
	post_news(w, id < 0 ? err.msg : NULL, false, &id, id < 0 ? err.msg : "");
}

/* Answers a command once everything before it is written, or says plainly why not. */
static void answer(struct tl_writer *w, struct witem *it)
{
	retry_held(w);
	const struct w_barrier *b = &it->u.barrier;
	if (b->http_status >= 300) {
		tl_reply_complete(b->reply, b->http_status, b->msg, w->current_test);
	} else if (w->n_held) {
		char msg[512];
		snprintf(msg, sizeof msg,
			 "done, but not recorded yet: %s; the daemon holds it (%zu writes) and "
			 "records it as soon as the store takes writes again", w->fault, w->n_held);
		tl_reply_complete(b->reply, 500, msg, w->current_test);
	} else if (w->failure[0]) {
		tl_reply_complete(b->reply, w->failure_status, w->failure, w->current_test);
	} else {
		tl_reply_complete(b->reply, b->http_status, b->msg, w->current_test);
	}
	w->failure[0] = '\0';
}

static void take(struct tl_writer *w, struct witem *it)
{
	/* Fixed now: a held write must go to the test it was made for. */
	if (of_current_test(it->kind) || (it->kind == W_RECOMPUTE && it->test_id < 0))
		it->test_id = w->current_test;
	switch (it->kind) {
	case W_CREATE:
		create(w, it);
		free_item(it);
		break;
	case W_BARRIER:
		answer(w, it);
		free_item(it);
		break;
	default:
		write_item(w, it);
		break;
	}
}

/* At shutdown: a last few tries, then what still cannot be written goes to the log, so
 * that nothing recorded in this run is lost without a trace. */
static void last_tries(struct tl_writer *w)
{
	int64_t give_up = tl_mono_ns() + (int64_t)QUIT_RETRY_MS * 1000000;
	while (retry_held(w) > 0 && tl_mono_ns() < give_up) {
		struct timespec pause = {.tv_nsec = 200 * 1000000L};
		nanosleep(&pause, NULL);
	}
	while (w->held_head) {
		struct witem *it = unhold(w);
		char msg[1024];
		msg[0] = '\0';
		if (it->kind == W_EVENT) {
			const struct tl_event *e = &it->u.event.ev;
			snprintf(msg, sizeof msg, "not recorded (%s): test %" PRId64 " event %s at %.1f s, source %s%s%s",
				 w->fault, it->test_id, tl_event_kind_name(e->kind),
				 (double)e->t_ms / 1000.0, e->source, e->detail[0] ? ": " : "", e->detail);
		} else if (it->kind == W_STATE) {
			const struct w_state *st = &it->u.state;
			snprintf(msg, sizeof msg, "not recorded (%s): test %" PRId64 " state %s, end reason %s, ended %s",
				 w->fault, it->test_id, st->state, st->end_reason[0] ? st->end_reason : "-",
				 st->ended_at[0] ? st->ended_at : "-");
		} else if (it->kind == W_PRESSURE) {
			const struct w_pressure *p = &it->u.pressure;
			snprintf(msg, sizeof msg, "not recorded (%s): test %" PRId64 " pressure %s %g %s %g mmHg",
				 w->fault, it->test_id, p->phase, p->minute, p->site, p->mmhg);
		} else if (it->kind == W_FINDINGS) {
			snprintf(msg, sizeof msg, "not recorded (%s): test %" PRId64 " findings by %s: %.300s",
				 w->fault, it->test_id, it->u.findings.operator_id, it->u.findings.json);
		} else if (it->kind == W_PATIENT || it->kind == W_ORDER) {
			const struct w_fields *fl = &it->u.fields;
			char what[96];
			if (it->kind == W_ORDER)
				snprintf(what, sizeof what, "the order of test %" PRId64, it->test_id);
			else
				snprintf(what, sizeof what, "patient %s", fl->mrn);
			int len = snprintf(msg, sizeof msg, "not recorded (%s): %s by %s:", w->fault, what,
					   fl->operator_id);
			for (int i = 0; i < TL_STORE_DEMO_N && len > 0 && (size_t)len < sizeof msg; i++)
				if (fl->set[i])
					len += snprintf(msg + len, sizeof msg - (size_t)len, " %s=%s",
							it->kind == W_ORDER ? tl_store_order_key(i)
									    : tl_store_demo_key(i),
							fl->null[i] ? "null" : fl->v[i]);
		}
		if (msg[0])
			say(LOG_ERR, msg);
		free_item(it);
	}
}

static void *writer_main(void *arg)
{
	struct tl_writer *w = arg;
	for (;;) {
		pthread_mutex_lock(&w->mu);
		while (!w->head) {
			if (!w->n_held) {
				pthread_cond_wait(&w->cv, &w->mu);
				continue;
			}
			struct timespec due = {.tv_sec = w->retry_ns / 1000000000LL,
					       .tv_nsec = w->retry_ns % 1000000000LL};
			if (pthread_cond_timedwait(&w->cv, &w->mu, &due) == ETIMEDOUT)
				break;
		}
		struct witem *it = w->head;
		if (it) {
			w->head = it->next;
			if (!w->head)
				w->tail = NULL;
		}
		pthread_mutex_unlock(&w->mu);
		/* On time even while items keep coming (samples do, every second). */
		if (w->n_held && tl_mono_ns() >= w->retry_ns) {
			retry_held(w);
			w->retry_ns = tl_mono_ns() + (int64_t)RETRY_MS * 1000000;
		}
		if (!it)
			continue;
		if (it->kind == W_QUIT) {
			free_item(it);
			last_tries(w);
			return NULL;
		}
		take(w, it);
	}
}

static struct witem *item(enum witem_kind kind)
{
	struct witem *it = calloc(1, sizeof *it);
	if (!it) {
		/* Nothing sensible is left to do without memory; the record must not be
		 * silently incomplete. */
		fprintf(stderr, "treadlabd: out of memory in the store writer\n");
		abort();
	}
	it->kind = kind;
	tl_utc_now(it->at);
	return it;
}

static void push(struct tl_writer *w, struct witem *it)
{
	pthread_mutex_lock(&w->mu);
	if (w->tail)
		w->tail->next = it;
	else
		w->head = it;
	w->tail = it;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

static void copy(char *dst, size_t cap, const char *src)
{
	tl_strcpy(dst, cap, src);
}

struct tl_writer *tl_writer_start(struct tl_daemon *d, const char *db_path, struct tl_err *err)
{
	struct tl_writer *w = calloc(1, sizeof *w);
	if (!w) {
		tl_err_set(err, "out of memory");
		return NULL;
	}
	w->d = d;
	w->current_test = -1;
	w->st = tl_store_open(db_path, err);
	if (!w->st) {
		free(w);
		return NULL;
	}
	char now[32];
	tl_utc_now(now);
	int n = tl_store_recover_interrupted(w->st, now, err);
	if (n < 0) {
		tl_store_close(w->st);
		free(w);
		return NULL;
	}
	if (n > 0) {
		syslog(LOG_WARNING, "closed %d test(s) left running by a previous daemon as interrupted", n);
		fprintf(stderr, "treadlabd: closed %d test(s) left running as interrupted\n", n);
	}
	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&w->th, NULL, writer_main, w)) {
		tl_err_set(err, "cannot start the store writer thread");
		tl_store_close(w->st);
		free(w);
		return NULL;
	}
	return w;
}

void tl_writer_stop(struct tl_writer *w)
{
	if (!w)
		return;
	push(w, item(W_QUIT));
	pthread_join(w->th, NULL);
	tl_store_close(w->st);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
}

/* A copy of a long string; like item(), the writer gives up rather than lose a part of
 * the record without a trace. NULL stays NULL. */
static char *dup_or_die(const char *src)
{
	if (!src)
		return NULL;
	char *p = strdup(src);
	if (!p) {
		fprintf(stderr, "treadlabd: out of memory in the store writer\n");
		abort();
	}
	return p;
}

void tl_writer_create(struct tl_writer *w, const char *patient, const char *protocol_name,
		      char *protocol_text, char *protocol_json, const char *operator_id,
		      const char *started_at, double time_scale)
{
	struct witem *it = item(W_CREATE);
	struct w_create *c = &it->u.create;
	copy(c->patient, sizeof c->patient, patient);
	copy(c->protocol, sizeof c->protocol, protocol_name);
	copy(c->operator_id, sizeof c->operator_id, operator_id);
	copy(c->started_at, sizeof c->started_at, started_at);
	c->text = protocol_text;
	c->json = protocol_json;
	c->time_scale = time_scale;
	push(w, it);
}

void tl_writer_event(struct tl_writer *w, const struct tl_event *ev, const char *operator_id)
{
	struct witem *it = item(W_EVENT);
	it->u.event.ev = *ev;
	copy(it->u.event.operator_id, sizeof it->u.event.operator_id, operator_id);
	push(w, it);
}

void tl_writer_samples(struct tl_writer *w, const struct tl_store_sample *s, size_t n)
{
	if (n == 0)
		return;
	struct witem *it = item(W_SAMPLES);
	it->u.samples.v = malloc(sizeof *s * n);
	if (!it->u.samples.v) {
		fprintf(stderr, "treadlabd: out of memory in the store writer\n");
		abort();
	}
	memcpy(it->u.samples.v, s, sizeof *s * n);
	it->u.samples.n = n;
	push(w, it);
}

void tl_writer_state(struct tl_writer *w, const char *state, const char *end_reason,
		     const char *ended_at)
{
	struct witem *it = item(W_STATE);
	struct w_state *st = &it->u.state;
	copy(st->state, sizeof st->state, state);
	copy(st->end_reason, sizeof st->end_reason, end_reason);
	copy(st->ended_at, sizeof st->ended_at, ended_at);
	push(w, it);
}

void tl_writer_endpoints(struct tl_writer *w, const struct tl_store_endpoints *e)
{
	struct witem *it = item(W_ENDPOINTS);
	it->u.endpoints = *e;
	push(w, it);
}

void tl_writer_audit(struct tl_writer *w, const char *operator_id, const char *command,
		     const char *detail_json, const char *result)
{
	tl_writer_audit_by(w, operator_id, NULL, command, detail_json, result);
}

void tl_writer_audit_by(struct tl_writer *w, const char *operator_id, const char *peer,
			const char *command, const char *detail_json, const char *result)
{
	struct witem *it = item(W_AUDIT);
	struct w_audit *a = &it->u.audit;
	copy(a->peer, sizeof a->peer, peer);
	copy(a->operator_id, sizeof a->operator_id, operator_id);
	copy(a->command, sizeof a->command, command);
	copy(a->result, sizeof a->result, result);
	a->detail = dup_or_die(detail_json);
	push(w, it);
}

void tl_writer_pressure(struct tl_writer *w, int64_t test_id, const char *phase, double minute,
			const char *site, double mmhg, unsigned flags, const char *operator_id)
{
	tl_writer_pressure_by(w, test_id, phase, minute, site, mmhg, flags, operator_id, NULL);
}

/* A pressure item: a typed one (meta NULL, source "manual") or a cuff's. */
static void pressure_item(struct tl_writer *w, int64_t test_id, const char *phase, double minute,
			  const char *site, double mmhg, unsigned flags,
			  const struct tl_store_cuff_meta *meta, const char *source,
			  const char *operator_id, const char *peer)
{
	struct witem *it = item(W_PRESSURE);
	struct w_pressure *p = &it->u.pressure;
	it->test_id = test_id;
	copy(p->phase, sizeof p->phase, phase);
	copy(p->site, sizeof p->site, site);
	copy(p->operator_id, sizeof p->operator_id, operator_id);
	copy(p->peer, sizeof p->peer, peer);
	copy(p->source, sizeof p->source, source);
	p->minute = minute;
	p->mmhg = mmhg;
	p->flags = flags;
	p->cuff = meta != NULL;
	if (meta)
		p->meta = *meta;
	push(w, it);
}

void tl_writer_pressure_by(struct tl_writer *w, int64_t test_id, const char *phase, double minute,
			   const char *site, double mmhg, unsigned flags, const char *operator_id,
			   const char *peer)
{
	pressure_item(w, test_id, phase, minute, site, mmhg, flags, NULL, "manual", operator_id, peer);
}

void tl_writer_pressure_cuff(struct tl_writer *w, int64_t test_id, const char *phase,
			     double minute, const char *site, double mmhg,
			     const struct tl_store_cuff_meta *meta, const char *source,
			     const char *operator_id, const char *peer)
{
	pressure_item(w, test_id, phase, minute, site, mmhg, 0, meta, source, operator_id, peer);
}

void tl_writer_findings(struct tl_writer *w, int64_t test_id, const char *json,
			const char *operator_id)
{
	tl_writer_findings_by(w, test_id, json, operator_id, NULL);
}

void tl_writer_findings_by(struct tl_writer *w, int64_t test_id, const char *json,
			   const char *operator_id, const char *peer)
{
	struct witem *it = item(W_FINDINGS);
	it->test_id = test_id;
	it->u.findings.json = dup_or_die(json);
	copy(it->u.findings.operator_id, sizeof it->u.findings.operator_id, operator_id);
	copy(it->u.findings.peer, sizeof it->u.findings.peer, peer);
	push(w, it);
}

void tl_writer_recompute(struct tl_writer *w, int64_t test_id)
{
	struct witem *it = item(W_RECOMPUTE);
	it->test_id = test_id;
	push(w, it);
}

static void fields(struct tl_writer *w, enum witem_kind kind, const char *mrn, int64_t test_id,
		   const struct tl_store_fields *f, const char *operator_id, const char *peer)
{
	struct witem *it = item(kind);
	struct w_fields *fl = &it->u.fields;
	it->test_id = test_id;
	copy(fl->mrn, sizeof fl->mrn, mrn);
	copy(fl->operator_id, sizeof fl->operator_id, operator_id);
	copy(fl->peer, sizeof fl->peer, peer);
	for (int i = 0; i < TL_STORE_DEMO_N; i++) {
		fl->set[i] = f->set[i];
		fl->null[i] = !f->value[i];
		copy(fl->v[i], sizeof fl->v[i], f->value[i]);
	}
	push(w, it);
}

void tl_writer_patient(struct tl_writer *w, const char *mrn, const struct tl_store_fields *f,
		       const char *operator_id, const char *peer)
{
	fields(w, W_PATIENT, mrn, -1, f, operator_id, peer);
}

void tl_writer_order(struct tl_writer *w, int64_t test_id, const struct tl_store_fields *f,
		     const char *operator_id, const char *peer)
{
	fields(w, W_ORDER, "", test_id, f, operator_id, peer);
}

void tl_writer_barrier(struct tl_writer *w, struct tl_reply *reply, int http_status,
		       const char *msg)
{
	struct witem *it = item(W_BARRIER);
	it->u.barrier.reply = reply;
	it->u.barrier.http_status = http_status;
	copy(it->u.barrier.msg, sizeof it->u.barrier.msg, msg);
	push(w, it);
}
