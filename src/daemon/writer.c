#include "writer.h"

#include "record_findings.h"
#include "tl_str.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

enum witem_kind { W_CREATE, W_EVENT, W_SAMPLES, W_STATE, W_ENDPOINTS, W_AUDIT, W_PRESSURE,
		  W_FINDINGS, W_RECOMPUTE, W_BARRIER, W_QUIT };

struct witem {
	enum witem_kind kind;
	struct witem *next;
	int64_t test_id;
	char at[32];
	char a[64], b[64], c[64], d[64]; /* short strings, meaning by kind */
	char *text1, *text2;             /* owned long strings */
	double x, y;
	struct tl_event ev;
	struct tl_store_sample *samples;
	size_t n;
	struct tl_store_endpoints ep;
	struct tl_reply *reply;
	int http_status;
	char msg[300];
};

struct tl_writer {
	struct tl_daemon *d;
	struct tl_store *st;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct witem *head, *tail;
	int64_t current_test;
	char failure[300]; /* first failure since the last barrier */
};

static void fail(struct tl_writer *w, const char *msg)
{
	syslog(LOG_ERR, "%s", msg);
	fprintf(stderr, "treadlabd: %s\n", msg);
	if (!w->failure[0])
		tl_strcpy(w->failure, sizeof w->failure, msg);
	pthread_mutex_lock(&w->d->st_mu);
	tl_strcpy(w->d->st.store_error, sizeof w->d->st.store_error, msg);
	pthread_mutex_unlock(&w->d->st_mu);
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

static void apply(struct tl_writer *w, struct witem *it)
{
	struct tl_err err = {{0}};
	int rc = 0;
	switch (it->kind) {
	case W_CREATE: {
		struct tl_store_test_new t = {
			.patient_mrn = it->a, .protocol_name = it->b, .protocol_text = it->text1,
			.protocol_json = it->text2, .operator_id = it->c, .started_at = it->at,
			.time_scale = it->x};
		int64_t id = tl_store_test_create(w->st, &t, &err);
		rc = id < 0 ? -1 : 0;
		w->current_test = id;
		pthread_mutex_lock(&w->d->st_mu);
		w->d->st.test_id = id;
		/* A test that cannot be recorded must not go on: the control thread stops it. */
		w->d->st.unrecorded = id < 0;
		pthread_mutex_unlock(&w->d->st_mu);
		break;
	}
	case W_EVENT: {
		if (w->current_test < 0)
			break;
		struct tl_store_event ev = {
			.t_ms = it->ev.t_ms, .kind = tl_event_kind_name(it->ev.kind),
			.source = it->ev.source, .operator_id = it->a[0] ? it->a : NULL,
			.detail = it->ev.detail[0] ? it->ev.detail : NULL, .value = it->ev.value,
			.recorded_at = it->at};
		rc = tl_store_event_add(w->st, w->current_test, &ev, &err);
		break;
	}
	case W_SAMPLES:
		if (w->current_test >= 0)
			rc = tl_store_samples_add(w->st, w->current_test, it->samples, it->n, &err);
		break;
	case W_STATE:
		if (w->current_test >= 0)
			rc = tl_store_test_set_state(w->st, w->current_test, it->a, it->b[0] ? it->b : NULL,
						     it->at[0] ? it->at : NULL, &err);
		break;
	case W_ENDPOINTS:
		if (w->current_test >= 0)
			rc = tl_store_test_set_endpoints(w->st, w->current_test, &it->ep, &err);
		break;
	case W_AUDIT:
		rc = tl_store_audit_by(w->st, it->at, it->a[0] ? it->a : NULL, it->d[0] ? it->d : NULL,
				       it->b, it->text1, it->c, &err);
		break;
	case W_PRESSURE:
		rc = tl_store_pressure_add_by(w->st, it->test_id, it->a, it->x, it->b, it->y,
					      it->c[0] ? it->c : NULL, it->d[0] ? it->d : NULL, "manual",
					      it->at, &err);
		break;
	case W_FINDINGS:
		rc = tl_store_findings_set_by(w->st, it->test_id, it->text1, it->a[0] ? it->a : NULL,
					      it->d[0] ? it->d : NULL, it->at, &err);
		break;
	case W_RECOMPUTE:
		rc = recompute(w, it->test_id < 0 ? w->current_test : it->test_id, &err);
		break;
	case W_BARRIER:
		if (w->failure[0])
			tl_reply_complete(it->reply, 500, w->failure, w->current_test);
		else
			tl_reply_complete(it->reply, it->http_status, it->msg, w->current_test);
		w->failure[0] = '\0';
		break;
	case W_QUIT:
		break;
	}
	if (rc)
		fail(w, err.msg);
}

static void free_item(struct witem *it)
{
	free(it->text1);
	free(it->text2);
	free(it->samples);
	free(it);
}

static void *writer_main(void *arg)
{
	struct tl_writer *w = arg;
	for (;;) {
		pthread_mutex_lock(&w->mu);
		while (!w->head)
			pthread_cond_wait(&w->cv, &w->mu);
		struct witem *it = w->head;
		w->head = it->next;
		if (!w->head)
			w->tail = NULL;
		pthread_mutex_unlock(&w->mu);
		bool quit = it->kind == W_QUIT;
		apply(w, it);
		free_item(it);
		if (quit)
			return NULL;
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
	pthread_cond_init(&w->cv, NULL);
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

void tl_writer_create(struct tl_writer *w, const char *patient, const char *protocol_name,
		      char *protocol_text, char *protocol_json, const char *operator_id,
		      const char *started_at, double time_scale)
{
	struct witem *it = item(W_CREATE);
	copy(it->a, sizeof it->a, patient);
	copy(it->b, sizeof it->b, protocol_name);
	copy(it->c, sizeof it->c, operator_id);
	copy(it->at, sizeof it->at, started_at);
	it->text1 = protocol_text;
	it->text2 = protocol_json;
	it->x = time_scale;
	push(w, it);
}

void tl_writer_event(struct tl_writer *w, const struct tl_event *ev, const char *operator_id)
{
	struct witem *it = item(W_EVENT);
	it->ev = *ev;
	copy(it->a, sizeof it->a, operator_id);
	push(w, it);
}

void tl_writer_samples(struct tl_writer *w, const struct tl_store_sample *s, size_t n)
{
	if (n == 0)
		return;
	struct witem *it = item(W_SAMPLES);
	it->samples = malloc(sizeof *s * n);
	if (!it->samples)
		abort();
	memcpy(it->samples, s, sizeof *s * n);
	it->n = n;
	push(w, it);
}

void tl_writer_state(struct tl_writer *w, const char *state, const char *end_reason,
		     const char *ended_at)
{
	struct witem *it = item(W_STATE);
	copy(it->a, sizeof it->a, state);
	copy(it->b, sizeof it->b, end_reason);
	copy(it->at, sizeof it->at, ended_at);
	push(w, it);
}

void tl_writer_endpoints(struct tl_writer *w, const struct tl_store_endpoints *e)
{
	struct witem *it = item(W_ENDPOINTS);
	it->ep = *e;
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
	copy(it->d, sizeof it->d, peer);
	copy(it->a, sizeof it->a, operator_id);
	copy(it->b, sizeof it->b, command);
	copy(it->c, sizeof it->c, result);
	it->text1 = detail_json ? strdup(detail_json) : NULL;
	push(w, it);
}

void tl_writer_pressure(struct tl_writer *w, int64_t test_id, const char *phase, double minute,
			const char *site, double mmhg, const char *operator_id)
{
	tl_writer_pressure_by(w, test_id, phase, minute, site, mmhg, operator_id, NULL);
}

void tl_writer_pressure_by(struct tl_writer *w, int64_t test_id, const char *phase, double minute,
			   const char *site, double mmhg, const char *operator_id, const char *peer)
{
	struct witem *it = item(W_PRESSURE);
	copy(it->d, sizeof it->d, peer);
	it->test_id = test_id;
	copy(it->a, sizeof it->a, phase);
	copy(it->b, sizeof it->b, site);
	copy(it->c, sizeof it->c, operator_id);
	it->x = minute;
	it->y = mmhg;
	push(w, it);
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
	copy(it->d, sizeof it->d, peer);
	it->test_id = test_id;
	it->text1 = strdup(json);
	copy(it->a, sizeof it->a, operator_id);
	push(w, it);
}

void tl_writer_recompute(struct tl_writer *w, int64_t test_id)
{
	struct witem *it = item(W_RECOMPUTE);
	it->test_id = test_id;
	push(w, it);
}

void tl_writer_barrier(struct tl_writer *w, struct tl_reply *reply, int http_status,
		       const char *msg)
{
	struct witem *it = item(W_BARRIER);
	it->reply = reply;
	it->http_status = http_status;
	copy(it->msg, sizeof it->msg, msg);
	push(w, it);
}
