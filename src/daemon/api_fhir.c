/* api_fhir.c - GET /v1/tests/{id}/fhir: the FHIR R4 transaction Bundle the test would be
 * delivered as (src/records/fhir.h; docs/records.md, FHIR), without sending it. The
 * signed report's PDF is its presentedForm while the record is what was signed (as GET
 * .../report.pdf serves it); the seed of its ids is "preview-<id>", so a preview never
 * shares an id with a Bundle the outbox sends. 422 names every field the record lacks. */
#include "api_int.h"
#include "api_pool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhir.h"
#include "tl_clock.h"

enum MHD_Result tl_api_get_fhir(struct tl_api *api, struct MHD_Connection *c,
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
	/* A report signed before the record changed is not this record's: no PDF, and the
	 * Bundle is preliminary. */
	bool current = sg.current;
	if (current &&
	    json_object_set_new(rec, "signature",
				json_pack("{s:s, s:s, s:i}", "signed_by", sg.signed_by, "signed_at",
					  sg.signed_at, "version", sg.version))) {
		tl_api_signed_free(&sg);
		return tl_api_send_oom(c);
	}
	char seed[40], now[32];
	snprintf(seed, sizeof seed, "preview-%lld", (long long)rq->id);
	tl_utc_now(now);
	json_t *b = tl_fhir_bundle(rec, current ? sg.pdf : NULL, current ? sg.len : 0, seed, now,
				   &err);
	tl_api_signed_free(&sg);
	if (!b)
		return strstr(err.msg, "out of memory") ? tl_api_send_oom(c)
							: tl_api_send_error(c, 422, "%s", err.msg);
	char *text = tl_fhir_dump(b);
	json_decref(b);
	if (!text)
		return tl_api_send_oom(c);
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), text,
								 MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(text);
		return tl_api_send_oom(c);
	}
	if (!tl_api_headers(r, "application/fhir+json")) {
		MHD_destroy_response(r);
		return tl_api_send_oom(c);
	}
	ret = MHD_queue_response(c, 200, r);
	MHD_destroy_response(r);
	return ret;
}
