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
	struct tl_api_signed sg;
	if (!tl_api_signed_read(api, c, rq->id, &sg, &ret))
		return ret;
	json_t *rec = sg.rec;
	struct tl_err err;
	const char *state = json_string_value(json_object_get(rec, "state"));
	if (in_progress(state)) {
		ret = tl_api_send_error(c, 409, "test %lld is still in progress (state %s): its "
					"message is built once it is finished", (long long)rq->id, state);
		tl_api_signed_free(&sg);
		return ret;
	}
	bool current = sg.current;
	char ctl[32], now[32];
	if (snprintf(ctl, sizeof ctl, "TL%lld-preview", (long long)rq->id) > 20)
		snprintf(ctl, sizeof ctl, "P%lld", (long long)rq->id);
	tl_utc_now(now);
	char *msg;
	size_t len;
	int rc = tl_hl7_oru(rec, current ? sg.pdf : NULL, current ? sg.len : 0, &api->d->cfg.hl7,
			    ctl, now, &msg, &len, &err);
	tl_api_signed_free(&sg);
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
