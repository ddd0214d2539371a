/* api_hl7.c - GET /v1/tests/{id}/hl7: the HL7 v2.5.1 ORU^R01 the test would send
 * (issue 13; docs/records.md, docs/api.md), built now and not sent.
 *
 * The report embedded is the latest signed version while the record is what was signed
 * (as report.pdf serves it); an unsigned or since-changed record is sent without one.
 * MSH-10 is "TL<id>-preview" (or "P<id>" when that is longer than 20 characters), so a
 * preview is never mistaken for a message that went out. */
#include "api_int.h"
#include "api_pool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hl7.h"
#include "store.h"
#include "tl_clock.h"

static bool in_progress(const char *state)
{
	static const char *const busy[] = {"starting", "running", "resting", "stopping", "recovery"};
	for (size_t i = 0; state && i < sizeof busy / sizeof busy[0]; i++)
		if (!strcmp(state, busy[i]))
			return true;
	return false;
}

enum MHD_Result tl_api_get_hl7(struct tl_api *api, struct MHD_Connection *c,
			       struct tl_api_request *rq)
{
	enum MHD_Result ret;
	if (!tl_api_test_exists(api, c, rq->id, &ret))
		return ret;
	struct tl_err err;
	struct tl_store *st = tl_api_pool_take(api->pool, &err);
	if (!st)
		return tl_api_send_error(c, 500, "%s", err.msg);
	json_t *rec = NULL;
	struct tl_store_signed_report sr = {0};
	char hash[65];
	int has_signed = 0;
	bool ok = (rec = tl_store_test_json(st, rq->id, &err)) &&
		  tl_store_record_hash(st, rq->id, hash, &err) == 0 &&
		  (has_signed = tl_store_report_latest(st, rq->id, &sr, &err)) >= 0;
	tl_api_pool_give(api->pool, st, !ok);
	if (!ok) {
		json_decref(rec);
		free(sr.pdf);
		return tl_api_send_error(c, 500, "%s", err.msg);
	}
	const char *state = json_string_value(json_object_get(rec, "state"));
	if (in_progress(state)) {
		ret = tl_api_send_error(c, 409, "test %lld is still in progress (state %s): its "
					"message is built once it is finished", (long long)rq->id, state);
		json_decref(rec);
		free(sr.pdf);
		return ret;
	}
	bool current = has_signed && !strcmp(sr.record_sha256, hash);
	char ctl[32], now[32];
	if (snprintf(ctl, sizeof ctl, "TL%lld-preview", (long long)rq->id) > 20)
		snprintf(ctl, sizeof ctl, "P%lld", (long long)rq->id);
	tl_utc_now(now);
	char *msg;
	size_t len;
	int rc = tl_hl7_oru(rec, current ? sr.pdf : NULL, current ? sr.len : 0, &api->d->cfg.hl7,
			    ctl, now, &msg, &len, &err);
	json_decref(rec);
	free(sr.pdf);
	if (rc < 0)
		return tl_api_send_error(c, strstr(err.msg, "out of memory") ? 500 : 422, "%s", err.msg);
	struct MHD_Response *r = MHD_create_response_from_buffer(len, msg, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(msg);
		return tl_api_send_error(c, 500, "out of memory");
	}
	MHD_add_response_header(r, "Content-Type", "application/hl7-v2; charset=utf-8");
	MHD_add_response_header(r, "Connection", "close");
	MHD_add_response_header(r, "X-Treadlab-Report",
				current ? "signed report embedded" : "no signed report embedded");
	ret = MHD_queue_response(c, 200, r);
	MHD_destroy_response(r);
	return ret;
}
