/* api_query.c - what the API reads: the live status, the recorded tests (through
 * read-only store connections of its own), protocols and timing figures. */
#include "api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_out.h"
#include "protocol_files.h"
#include "store.h"

json_t *tl_api_status_json(const struct tl_status *st, const struct tl_daemon *d)
{
	json_t *o = json_pack("{s:s, s:s}", "state", tl_state_name(st->state), "end_reason",
			      st->end_reason == TL_END_NONE ? "" : tl_end_reason_name(st->end_reason));
	if (st->end_reason == TL_END_NONE)
		json_object_set_new(o, "end_reason", json_null());
	bool has_test = st->state != TL_STATE_IDLE;
	json_object_set_new(o, "test_id", has_test && st->test_id >= 0 ? json_integer(st->test_id) : json_null());
	json_object_set_new(o, "patient", has_test ? json_string(st->patient) : json_null());
	json_object_set_new(o, "protocol", has_test ? json_string(st->protocol) : json_null());
	json_object_set_new(o, "t_s", tl_json_round((double)st->t_ms / 1000.0, 1));
	json_object_set_new(o, "stage", st->stage >= 0 && has_test ? json_integer(st->stage) : json_null());
	json_object_set_new(o, "command", json_pack("{s:b, s:b, s:o, s:o}", "belt_on", st->command.belt_on,
						     "estop", st->command.estop, "speed_kmh",
						     tl_json_round(st->command.speed_kmh, 2), "grade_pct",
						     tl_json_round(st->command.grade_pct, 2)));
	json_object_set_new(o, "treadmill",
			    json_pack("{s:s, s:b, s:o, s:o, s:b, s:b, s:s}", "driver", d->cfg.driver,
				      "reading", st->fb.valid, "speed_kmh", tl_json_round(st->fb.speed_kmh, 2),
				      "grade_pct", tl_json_round(st->fb.grade_pct, 2), "running",
				      st->fb.belt_running, "stopped_by_device", st->fb.device_stopped,
				      "detail", st->fb.detail));
	json_object_set_new(json_object_get(o, "treadmill"), "connected", json_boolean(st->connected));
	json_object_set_new(json_object_get(o, "treadmill"), "error",
			    st->device_error[0] ? json_string(st->device_error) : json_null());
	json_object_set_new(o, "alarm", st->alarm[0] ? json_string(st->alarm) : json_null());
	json_object_set_new(o, "button_error", st->button_error[0] ? json_string(st->button_error) : json_null());
	json_object_set_new(o, "store_error", st->store_error[0] ? json_string(st->store_error) : json_null());
	json_t *ep = json_object();
	tl_json_add_endpoints(ep, &st->ep, st->t_ms);
	json_object_set_new(o, "endpoints", ep);
	json_object_set_new(o, "time_scale", json_real(d->cfg.time_scale));
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
	struct tl_store *st = tl_api_pool_take(&api->pool, &err);
	if (!st)
		return tl_api_send_error(c, 500, "%s", err.msg);
	int exists = tl_store_test_exists(st, id, &err);
	json_t *j = exists == 1 ? tl_store_test_json(st, id, &err) : NULL;
	/* Changes after the fact, each with who made them and what it replaced. */
	json_t *h = j ? tl_store_history_json(st, id, &err) : NULL;
	/* The connection goes back before the answer is sent: a slow client holds none. */
	tl_api_pool_give(&api->pool, st, exists != 0 && !h);
	if (exists == 0)
		return tl_api_send_error(c, 404, "no test %lld", (long long)id);
	if (!h) {
		json_decref(j);
		return tl_api_send_error(c, 500, "%s", err.msg);
	}
	json_object_set_new(j, "history", h);
	return tl_api_send_json(c, 200, j);
}

bool tl_api_test_exists(struct tl_api *api, struct MHD_Connection *c, int64_t id,
			enum MHD_Result *ret)
{
	struct tl_err err;
	struct tl_store *st = tl_api_pool_take(&api->pool, &err);
	int exists = st ? tl_store_test_exists(st, id, &err) : -1;
	tl_api_pool_give(&api->pool, st, exists < 0);
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
	struct tl_store *st = tl_api_pool_take(&api->pool, &err);
	if (!st)
		return tl_api_send_error(c, 500, "%s", err.msg);
	json_t *j = tl_store_tests_json(st, mrn, &err);
	tl_api_pool_give(&api->pool, st, !j);
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
	for (int i = 0; i < n; i++) {
		struct tl_protocol p;
		if (tl_protocol_load_name(dir, names[i], NULL, &p, &err) == 0)
			json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "name", p.name, "title",
							     p.title, "reference", p.reference));
	}
	tl_protocol_names_free(names, n);
	return tl_api_send_json(c, 200, arr);
}

enum MHD_Result tl_api_get_metrics(struct tl_api *api, struct MHD_Connection *c,
				   struct tl_api_request *rq)
{
	(void)rq;
	struct tl_daemon *d = api->d;
	json_t *jit = json_array(), *est = json_array(), *at = json_array();
	pthread_mutex_lock(&d->m_mu);
	size_t nj = d->n_jitter < 4096 ? d->n_jitter : 4096;
	for (size_t i = 0; i < nj; i++)
		json_array_append_new(jit, json_integer(d->jitter_us[i]));
	size_t ne = d->n_estop < 1024 ? d->n_estop : 1024;
	for (size_t i = 0; i < ne; i++) {
		json_array_append_new(est, json_integer(d->estop_us[i]));
		json_array_append_new(at, json_integer(d->estop_at_ns[i]));
	}
	json_t *o = json_pack("{s:I, s:I, s:o, s:o, s:o}", "ticks", (json_int_t)d->ticks, "overruns",
			      (json_int_t)d->overruns, "jitter_us", jit, "estop_us", est,
			      "estop_at_ns", at);
	pthread_mutex_unlock(&d->m_mu);
	return tl_api_send_json(c, 200, o);
}
