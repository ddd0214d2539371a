/* api_query.c - what the API reads: the live status, the recorded tests (through
 * read-only store connections of its own), protocols and timing figures. */
#include "api_int.h"
#include "cuffd.h"
#include "api_pool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_out.h"
#include "protocol_files.h"
#include "store.h"

/* Sets o[key] = v, taking v whatever happens; false if either is NULL (a json_* call ran
 * out of memory) or the set fails. Callers go on through every field and check once, so
 * that nothing leaks and no answer goes out with fields silently missing. */
static bool set(json_t *o, const char *key, json_t *v)
{
	if (!o || !v) {
		json_decref(v);
		return false;
	}
	return json_object_set_new(o, key, v) == 0;
}

static json_t *str_or_null(const char *s, bool use)
{
	return use ? json_string(s) : json_null();
}

json_t *tl_api_status_json(const struct tl_status *st, const struct tl_daemon *d)
{
	bool has_test = st->state != TL_STATE_IDLE;
	bool ok = true;
	json_t *o = json_object();
	ok &= set(o, "state", json_string(tl_state_name(st->state)));
	ok &= set(o, "end_reason", str_or_null(tl_end_reason_name(st->end_reason),
					       st->end_reason != TL_END_NONE));
	ok &= set(o, "test_id", has_test && st->test_id >= 0 ? json_integer(st->test_id) : json_null());
	ok &= set(o, "patient", str_or_null(st->patient, has_test));
	ok &= set(o, "protocol", str_or_null(st->protocol, has_test));
	ok &= set(o, "t_s", tl_json_round((double)st->t_ms / 1000.0, 1));
	ok &= set(o, "stage", st->stage >= 0 && has_test ? json_integer(st->stage) : json_null());
	ok &= set(o, "command", json_pack("{s:b, s:b, s:o, s:o}", "belt_on", st->command.belt_on,
					  "estop", st->command.estop, "speed_kmh",
					  tl_json_round(st->command.speed_kmh, 2), "grade_pct",
					  tl_json_round(st->command.grade_pct, 2)));
	json_t *tm = json_pack("{s:s, s:b, s:o, s:o, s:b, s:b, s:s}", "driver", d->cfg.driver,
			       "reading", st->fb.valid, "speed_kmh", tl_json_round(st->fb.speed_kmh, 2),
			       "grade_pct", tl_json_round(st->fb.grade_pct, 2), "running",
			       st->fb.belt_running, "stopped_by_device", st->fb.device_stopped,
			       "detail", st->fb.detail);
	ok &= set(tm, "connected", json_boolean(st->connected));
	ok &= set(tm, "error", str_or_null(st->device_error, st->device_error[0]));
	ok &= set(o, "treadmill", tm);
	ok &= set(o, "alarm", str_or_null(st->alarm, st->alarm[0]));
	ok &= set(o, "button_error", str_or_null(st->button_error, st->button_error[0]));
	ok &= set(o, "store_error", str_or_null(st->store_error, st->store_error[0]));
	json_t *ep = json_object();
	ok &= ep && tl_json_add_endpoints(ep, &st->ep, st->t_ms) == 0;
	ok &= set(o, "endpoints", ep);
	ok &= set(o, "time_scale", json_real(d->cfg.time_scale));
	/* the page counts down to these ([daemon] reminder_minutes) */
	json_t *rm = json_array();
	for (int i = 0; rm && i < d->cfg.session.n_reminders; i++)
		ok &= json_array_append_new(rm, json_integer(d->cfg.session.reminder_min[i])) == 0;
	ok &= set(o, "reminder_minutes", rm);
	/* the outbox: results not yet in the medical record (docs/records.md) */
	pthread_mutex_t *ob_mu = (pthread_mutex_t *)&d->ob_mu;
	pthread_mutex_lock(ob_mu);
	ok &= set(o, "outbox", json_pack("{s:i, s:i, s:o}", "undelivered", d->ob_undelivered,
					 "failed", d->ob_failed,
					 "alert", str_or_null(d->ob_alert, d->ob_alert[0])));
	pthread_mutex_unlock(ob_mu);
	/* the cuff, when one is configured (cuffd.h) */
	if (d->cuffd)
		ok &= set(o, "cuff", tl_cuffd_json(d->cuffd));
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

void tl_api_snapshot(struct tl_daemon *d, struct tl_status *out)
{
	pthread_mutex_lock(&d->st_mu);
	*out = d->st;
	pthread_mutex_unlock(&d->st_mu);
}

enum MHD_Result tl_api_get_status(struct tl_api *api, struct MHD_Connection *c,
				  struct tl_api_request *rq)
{
	(void)rq;
	struct tl_status st;
	tl_api_snapshot(api->d, &st);
	return tl_api_send_json(c, 200, tl_api_status_json(&st, api->d));
}

enum MHD_Result tl_api_send_test(struct tl_api *api, struct MHD_Connection *c, int64_t id)
{
	struct tl_err err;
	struct tl_store *st = tl_api_pool_take(api->pool, &err);
	if (!st)
		return tl_api_send_error(c, 500, "%s", err.msg);
	int exists = tl_store_test_exists(st, id, &err);
	json_t *j = exists == 1 ? tl_store_test_json(st, id, &err) : NULL;
	/* Changes after the fact, each with who made them and what it replaced. */
	json_t *h = j ? tl_store_history_json(st, id, &err) : NULL;
	/* The connection goes back before the answer is sent: a slow client holds none. */
	tl_api_pool_give(api->pool, st, exists != 0 && !h);
	if (exists == 0)
		return tl_api_send_error(c, 404, "no test %lld", (long long)id);
	if (!h) {
		json_decref(j);
		return tl_api_send_error(c, 500, "%s", err.msg);
	}
	if (!set(j, "history", h)) {
		json_decref(j);
		j = NULL; /* answered 500: out of memory */
	}
	return tl_api_send_json(c, 200, j);
}

bool tl_api_test_exists(struct tl_api *api, struct MHD_Connection *c, int64_t id,
			enum MHD_Result *ret)
{
	struct tl_err err;
	struct tl_store *st = tl_api_pool_take(api->pool, &err);
	int exists = st ? tl_store_test_exists(st, id, &err) : -1;
	tl_api_pool_give(api->pool, st, exists < 0);
	if (exists == 1)
		return true;
	*ret = exists == 0 ? tl_api_send_error(c, 404, "no test %lld", (long long)id)
			   : tl_api_send_error(c, 500, "%s", err.msg);
	return false;
}

enum MHD_Result tl_api_get_test(struct tl_api *api, struct MHD_Connection *c, struct tl_api_request *rq)
{
	return tl_api_send_test(api, c, rq->id);
}

enum MHD_Result tl_api_get_tests(struct tl_api *api, struct MHD_Connection *c, struct tl_api_request *rq)
{
	(void)rq;
	const char *mrn = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "patient");
	if (mrn && !tl_api_valid_mrn(mrn))
		return tl_api_send_error(c, 400, "patient '%s' is not a valid MRN", mrn);
	struct tl_err err;
	struct tl_store *st = tl_api_pool_take(api->pool, &err);
	if (!st)
		return tl_api_send_error(c, 500, "%s", err.msg);
	json_t *j = tl_store_tests_json(st, mrn, &err);
	tl_api_pool_give(api->pool, st, !j);
	if (!j)
		return tl_api_send_error(c, 500, "%s", err.msg);
	if (mrn && json_array_size(j) == 0) {
		json_decref(j);
		return tl_api_send_error(c, 404, "unknown patient '%s': no tests recorded", mrn);
	}
	return tl_api_send_json(c, 200, j);
}

enum MHD_Result tl_api_get_protocols(struct tl_api *api, struct MHD_Connection *c,
				     struct tl_api_request *rq)
{
	(void)rq;
	const char *dir = api->d->cfg.protocols[0] ? api->d->cfg.protocols : NULL;
	struct tl_err err;
	char **names;
	int n = tl_protocol_list(dir, &names, &err);
	if (n < 0)
		return tl_api_send_error(c, 500, "%s", err.msg);
	json_t *arr = json_array();
	bool ok = arr != NULL;
	for (int i = 0; ok && i < n; i++) {
		struct tl_protocol p;
		if (tl_protocol_load_name(dir, names[i], NULL, &p, &err) == 0) {
			json_t *o = json_pack("{s:s, s:s, s:s}", "name", p.name, "title", p.title,
					      "reference", p.reference);
			ok = o && json_array_append_new(arr, o) == 0;
		}
	}
	tl_protocol_names_free(names, n);
	if (!ok) {
		json_decref(arr);
		arr = NULL; /* answered 500: out of memory */
	}
	return tl_api_send_json(c, 200, arr);
}

enum MHD_Result tl_api_get_metrics(struct tl_api *api, struct MHD_Connection *c,
				   struct tl_api_request *rq)
{
	(void)rq;
	struct tl_daemon *d = api->d;
	json_t *jit = json_array(), *est = json_array(), *at = json_array();
	bool ok = jit && est && at;
	pthread_mutex_lock(&d->m_mu);
	size_t nj = d->n_jitter < 4096 ? d->n_jitter : 4096;
	for (size_t i = 0; ok && i < nj; i++)
		ok = json_array_append_new(jit, json_integer(d->jitter_us[i])) == 0;
	size_t ne = d->n_estop < 1024 ? d->n_estop : 1024;
	for (size_t i = 0; ok && i < ne; i++)
		ok = json_array_append_new(est, json_integer(d->estop_us[i])) == 0 &&
		     json_array_append_new(at, json_integer(d->estop_at_ns[i])) == 0;
	json_int_t ticks = (json_int_t)d->ticks, overruns = (json_int_t)d->overruns;
	pthread_mutex_unlock(&d->m_mu);
	json_t *o = json_object();
	ok &= set(o, "ticks", json_integer(ticks));
	ok &= set(o, "overruns", json_integer(overruns));
	ok &= set(o, "jitter_us", jit);
	ok &= set(o, "estop_us", est);
	ok &= set(o, "estop_at_ns", at);
	if (!ok) {
		json_decref(o);
		o = NULL; /* answered 500: out of memory */
	}
	return tl_api_send_json(c, 200, o);
}
