/* api_patient.c - patient demographics and a test's order (issue 13): read from the store,
 * written through the store's writer (one transaction with its audit row, which keeps the
 * values replaced). docs/api.md, Patients and orders. */
#include "api_int.h"

#include <stdio.h>
#include <string.h>

#include "api_pool.h"
#include "store.h"
#include "tl_clock.h"
#include "writer.h"

/* Reads field key of obj into f (slot i): absent leaves it, null clears it, a string sets
 * it. name is how the answer names it ("ordering_physician.id"). False once a 400 is sent. */
static bool take_field(struct MHD_Connection *c, json_t *obj, const char *key, const char *name,
		       struct tl_store_fields *f, int i, enum MHD_Result *ret)
{
	json_t *v = json_object_get(obj, key);
	if (!v)
		return true;
	if (!json_is_null(v) && !json_is_string(v)) {
		*ret = tl_api_send_error(c, 400, "field '%s' must be a string, or null to clear it", name);
		return false;
	}
	f->set[i] = true;
	f->value[i] = json_string_value(v); /* NULL for null */
	return true;
}

/* Commits what was queued and answers 500/409 if it failed, else calls nothing: true when
 * it was written. */
static bool committed(struct tl_api *api, struct MHD_Connection *c, enum MHD_Result *ret)
{
	struct tl_reply reply;
	tl_reply_init(&reply);
	tl_writer_barrier(api->d->writer, &reply, 200, "");
	tl_reply_wait(&reply);
	bool ok = reply.http_status < 300;
	if (!ok)
		*ret = tl_api_send_error(c, (unsigned)reply.http_status, "%s", reply.msg);
	tl_reply_destroy(&reply);
	return ok;
}

static enum MHD_Result send_patient(struct tl_api *api, struct MHD_Connection *c, const char *mrn)
{
	struct tl_err err;
	struct tl_store *st = tl_api_pool_take(api->pool, &err);
	if (!st)
		return tl_api_send_error(c, 500, "%s", err.msg);
	json_t *p = NULL;
	int found = tl_store_patient_get(st, mrn, &p, &err);
	tl_api_pool_give(api->pool, st, found < 0);
	if (found == 0)
		return tl_api_send_error(c, 404, "no patient '%s'", mrn);
	if (found < 0)
		return tl_api_send_error(c, 500, "%s", err.msg);
	return tl_api_send_json(c, 200, p);
}

enum MHD_Result tl_api_get_patient(struct tl_api *api, struct MHD_Connection *c,
				   struct tl_api_request *rq)
{
	return send_patient(api, c, rq->name);
}

enum MHD_Result tl_api_put_patient(struct tl_api *api, struct MHD_Connection *c,
				   struct tl_api_request *rq)
{
	static const char *const allowed[] = {"assigning_authority", "family", "given", "birth_date",
					      "sex", "operator", NULL};
	enum MHD_Result ret;
	json_t *body = tl_api_parse_body(c, rq, allowed, &ret);
	if (!body)
		return ret;
	char op[64], peer[64], now[32];
	struct tl_store_fields f = {{0}, {0}};
	struct tl_err err;
	int n = 0;
	if (!tl_api_operator(c, rq, body, op, sizeof op, api->d->cfg.operator_default, &ret))
		goto out;
	for (int i = 0; i < TL_STORE_DEMO_N; i++) {
		const char *key = tl_store_demo_key(i);
		if (!take_field(c, body, key, key, &f, i, &ret))
			goto out;
		n += f.set[i];
	}
	if (!n) {
		ret = tl_api_send_error(c, 400, "the body names no field to set (expected: "
					"assigning_authority, family, given, birth_date, sex)");
		goto out;
	}
	tl_utc_now(now);
	if (tl_store_demographics_check(&f, now, &err) < 0) {
		ret = tl_api_send_error(c, 400, "field %s", err.msg);
		goto out;
	}
	tl_api_peer_of(c, peer, sizeof peer);
	tl_writer_patient(api->d->writer, rq->name, &f, op, peer);
	if (committed(api, c, &ret))
		ret = send_patient(api, c, rq->name);
out:
	json_decref(body);
	return ret;
}

enum MHD_Result tl_api_put_order(struct tl_api *api, struct MHD_Connection *c,
				 struct tl_api_request *rq)
{
	static const char *const allowed[] = {"accession", "ordering_physician", "operator", NULL};
	static const char *const physician[] = {"id", "family", "given"};
	enum MHD_Result ret;
	json_t *body = tl_api_parse_body(c, rq, allowed, &ret);
	if (!body)
		return ret;
	char op[64], peer[64];
	struct tl_store_fields f = {{0}, {0}};
	struct tl_err err;
	if (!tl_api_operator(c, rq, body, op, sizeof op, api->d->cfg.operator_default, &ret) ||
	    !take_field(c, body, "accession", "accession", &f, TL_STORE_ORDER_ACCESSION, &ret))
		goto out;
	json_t *ph = json_object_get(body, "ordering_physician");
	if (ph && !json_is_object(ph) && !json_is_null(ph)) {
		ret = tl_api_send_error(c, 400, "field 'ordering_physician' must be an object "
					"{\"id\", \"family\", \"given\"}, or null to clear it");
		goto out;
	}
	const char *key;
	json_t *v;
	json_object_foreach (ph, key, v) {
		if (strcmp(key, "id") && strcmp(key, "family") && strcmp(key, "given")) {
			ret = tl_api_send_error(c, 400, "unknown field 'ordering_physician.%.40s' "
						"(expected: id, family, given)", key);
			goto out;
		}
	}
	for (int i = 0; i < 3; i++) {
		char name[48];
		snprintf(name, sizeof name, "ordering_physician.%s", physician[i]);
		if (json_is_null(ph)) { /* null clears all three */
			f.set[TL_STORE_ORDER_PHYSICIAN_ID + i] = true;
		} else if (!take_field(c, ph, physician[i], name, &f, TL_STORE_ORDER_PHYSICIAN_ID + i, &ret)) {
			goto out;
		}
	}
	int n = 0;
	for (int i = 0; i < TL_STORE_ORDER_N; i++)
		n += f.set[i];
	if (!n) {
		ret = tl_api_send_error(c, 400, "the body names no field to set (expected: accession, "
					"ordering_physician)");
		goto out;
	}
	if (tl_store_order_check(&f, &err) < 0) {
		/* the store's "physician_family" is the body's "ordering_physician.family" */
		bool phys = !strncmp(err.msg, "physician_", 10);
		ret = tl_api_send_error(c, 400, "field %s%s", phys ? "ordering_physician." : "",
					err.msg + (phys ? 10 : 0));
		goto out;
	}
	if (!tl_api_test_exists(api, c, rq->id, &ret))
		goto out;
	tl_api_peer_of(c, peer, sizeof peer);
	tl_writer_order(api->d->writer, rq->id, &f, op, peer);
	if (committed(api, c, &ret))
		ret = tl_api_send_test(api, c, rq->id);
out:
	json_decref(body);
	return ret;
}
