/* api_outbox.c - the outbox (issue 13; docs/api.md, The outbox): GET /v1/outbox,
 * GET /v1/outbox/{id}, POST /v1/outbox/{id}/retry and /cancel.
 *
 * Retry and cancel are a technician's or an admin's (api_session.c's role rule for
 * every change) and are audited. Each is written at once through a read-write connection
 * of its own, as a signature is: the sender thread owns the message only while it is
 * 'sending', and the store refuses both then. */
#include "api_int.h"
#include "api_pool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outbox.h"
#include "outbox_build.h"
#include "store.h"
#include "writer.h"

enum MHD_Result tl_api_get_outbox(struct tl_api *api, struct MHD_Connection *c,
				  struct tl_api_request *rq)
{
	(void)rq;
	struct tl_err err;
	struct tl_store *st = tl_api_pool_take(api->pool, &err);
	if (!st)
		return tl_api_send_error(c, 500, "%s", err.msg);
	json_t *j = tl_store_outbox_json(st, &err);
	tl_api_pool_give(api->pool, st, !j);
	if (!j)
		return tl_api_send_error(c, 500, "%s", err.msg);
	return tl_api_send_json(c, 200, j);
}

enum MHD_Result tl_api_get_outbox_msg(struct tl_api *api, struct MHD_Connection *c,
				      struct tl_api_request *rq)
{
	struct tl_err err;
	struct tl_store *st = tl_api_pool_take(api->pool, &err);
	if (!st)
		return tl_api_send_error(c, 500, "%s", err.msg);
	const char *p = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "payload");
	json_t *j = tl_store_outbox_msg_json(st, rq->id, p && !strcmp(p, "1"), &err);
	bool missing = !j && strstr(err.msg, "no outbox message");
	tl_api_pool_give(api->pool, st, !j && !missing);
	if (!j)
		return tl_api_send_error(c, missing ? 404 : 500, "%s", err.msg);
	return tl_api_send_json(c, 200, j);
}

/* rq->arg: 0 retry, 1 cancel. */
enum MHD_Result tl_api_outbox_act(struct tl_api *api, struct MHD_Connection *c,
				  struct tl_api_request *rq)
{
	static const char *const allowed[] = {"operator", NULL};
	enum MHD_Result ret;
	json_t *body = tl_api_parse_body(c, rq, allowed, &ret);
	if (!body)
		return ret;
	char op[64];
	if (!tl_api_operator(c, rq, body, op, sizeof op, api->d->cfg.operator_default, &ret)) {
		json_decref(body);
		return ret;
	}
	json_decref(body);
	bool cancel = rq->arg == 1;
	struct tl_err err;
	char now[32];
	tl_utc_now(now);
	struct tl_store *st = tl_store_open_current(api->d->cfg.database, &err);
	int r = !st ? -1
		    : cancel ? tl_store_outbox_cancel(st, rq->id, op, now, &err)
			     : tl_store_outbox_retry(st, rq->id, op, now, &err);
	json_t *j = r == 1 ? tl_store_outbox_msg_json(st, rq->id, false, &err) : NULL;
	tl_store_close(st);
	char peer[64], detail[64];
	tl_api_peer_of(c, peer, sizeof peer);
	snprintf(detail, sizeof detail, "{\"outbox\":%lld}", (long long)rq->id);
	const char *command = cancel ? "outbox cancel" : "outbox retry";
	if (r == 0 || r == -2) {
		tl_writer_audit_by(api->d->writer, op, peer, command, detail, "refused");
		return tl_api_send_error(c, r == 0 ? 404 : 409, "%s", err.msg);
	}
	if (r < 0 || !j) {
		tl_writer_audit_by(api->d->writer, op, peer, command, detail, "failed");
		json_decref(j);
		return tl_api_send_error(c, 500, "%s", err.msg);
	}
	tl_writer_audit_by(api->d->writer, op, peer, command, detail, "ok");
	if (!cancel)
		tl_outbox_wake(api->d->outbox);
	return tl_api_send_json(c, 200, j);
}

/* POST /v1/tests/{id}/send: queues the messages of the latest signed version again for
 * every destination configured, once the data they need is recorded (a signature whose
 * record lacked it queued nothing). One message per test, kind and version: a kind
 * already queued is not queued twice (retry that one). */
enum MHD_Result tl_api_outbox_send(struct tl_api *api, struct MHD_Connection *c,
				   struct tl_api_request *rq)
{
	static const char *const allowed[] = {"operator", NULL};
	enum MHD_Result ret;
	json_t *body = tl_api_parse_body(c, rq, allowed, &ret);
	if (!body)
		return ret;
	char op[64];
	bool ok = tl_api_operator(c, rq, body, op, sizeof op, api->d->cfg.operator_default, &ret);
	json_decref(body);
	if (!ok || !tl_api_test_exists(api, c, rq->id, &ret))
		return ret;
	struct tl_outbox_build ob = {0};
	struct tl_store_outbox_plan plan;
	tl_outbox_plan(&api->d->cfg, false, &ob, &plan);
	if (!plan.n)
		return tl_api_send_error(c, 409, "no destination is configured ([hl7] send_to, "
					 "[fhir] url in treadlabd.conf)");
	struct tl_api_signed sg;
	if (!tl_api_signed_read(api, c, rq->id, &sg, &ret))
		return ret;
	struct tl_err err = {""};
	struct tl_store *st;
	if (!sg.has) {
		ret = tl_api_send_error(c, 409, "test %lld has no signed report: a physician signs "
					"it (that queues its messages)", (long long)rq->id);
		goto out;
	}
	if (!sg.current) {
		ret = tl_api_send_error(c, 409, "the record of test %lld changed since version %d was "
					"signed: sign it again (that queues its messages)",
					(long long)rq->id, sg.version);
		goto out;
	}
	ob.rec = sg.rec;
	ob.pdf = sg.pdf;
	ob.len = sg.len;
	ob.signer = sg.signed_by;
	snprintf(ob.signed_at, sizeof ob.signed_at, "%s", sg.signed_at);
	tl_utc_now(ob.now);
	st = tl_store_open_current(api->d->cfg.database, &err);
	int n = st ? tl_store_outbox_queue(st, rq->id, sg.version, &plan, ob.now, &err) : -1;
	tl_store_close(st);
	if (n < 0) {
		ret = tl_api_send_error(c, 500, "%s", err.msg);
		goto out;
	}
	char peer[64];
	tl_api_peer_of(c, peer, sizeof peer);
	json_t *sent = tl_outbox_plan_result(&plan, &ob, rq->id, api->d->writer, op, peer);
	if (n == 0) {
		/* nothing new: each kind was already queued or still lacks data */
		const char *k;
		json_t *v;
		char why[600] = "";
		json_object_foreach(sent, k, v) {
			size_t l = strlen(why);
			snprintf(why + l, sizeof why - l, "%s%s: %s", l ? "; " : "", k,
				 !strcmp(json_string_value(v), "queued") ? err.msg : json_string_value(v));
		}
		json_decref(sent);
		ret = tl_api_send_error(c, 409, "nothing queued for test %lld: %s", (long long)rq->id,
					why[0] ? why : err.msg);
		goto out;
	}
	tl_outbox_wake(api->d->outbox);
	ret = tl_api_send_json(c, 201, json_pack("{s:I, s:i, s:o*}", "test", (json_int_t)rq->id,
						 "version", sg.version, "outbox", sent));
out:
	tl_api_signed_free(&sg);
	return ret;
}
