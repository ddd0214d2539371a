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
#include "store.h"
#include "tl_clock.h"

enum MHD_Result tl_api_get_fhir(struct tl_api *api, struct MHD_Connection *c,
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
	/* A report signed before the record changed is not this record's: no PDF, and the
	 * Bundle is preliminary. */
	bool current = has_signed == 1 && !strcmp(sr.record_sha256, hash);
	if (current &&
	    json_object_set_new(rec, "signature",
				json_pack("{s:s, s:s, s:i}", "signed_by", sr.signed_by, "signed_at",
					  sr.signed_at, "version", sr.version))) {
		json_decref(rec);
		free(sr.pdf);
		return tl_api_send_oom(c);
	}
	char seed[40], now[32];
	snprintf(seed, sizeof seed, "preview-%lld", (long long)rq->id);
	tl_utc_now(now);
	json_t *b = tl_fhir_bundle(rec, current ? sr.pdf : NULL, current ? sr.len : 0, seed, now,
				   &err);
	json_decref(rec);
	free(sr.pdf);
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
