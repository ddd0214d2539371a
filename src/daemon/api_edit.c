/* api_edit.c - changes to a recorded test after the fact (pressures, findings): queued
 * to the store's writer with who made them, then the test answered as committed. */
#include "api_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "findings_json.h"
#include "record_findings.h"
#include "store.h"
#include "writer.h"

/* The audit record's detail, or NULL (then answered 500, nothing queued): made before
 * any write is queued, so that a change is never recorded without its audit line. */
static char *audit_text(json_t *detail)
{
	return detail ? json_dumps(detail, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
}

/* Queues the audit line (audit, taken) after the writes queued for a test, recomputes its
 * results and waits until all is committed. */
static enum MHD_Result commit_and_answer(struct tl_api *api, struct MHD_Connection *c, int64_t id,
					 const char *operator_id, const char *command, char *audit)
{
	struct tl_writer *w = api->d->writer;
	char peer[64];
	tl_api_peer_of(c, peer, sizeof peer);
	tl_writer_audit_by(w, operator_id, peer, command, audit, "ok");
	free(audit);
	tl_writer_recompute(w, id);
	struct tl_reply reply;
	tl_reply_init(&reply);
	tl_writer_barrier(w, &reply, 201, "");
	tl_reply_wait(&reply);
	enum MHD_Result ret = reply.http_status >= 300
				      ? tl_api_send_error(c, (unsigned)reply.http_status, "%s", reply.msg)
				      : tl_api_send_test(api, c, id);
	tl_reply_destroy(&reply);
	return ret;
}

/* An arm pressure below this is implausible for a patient walking on a treadmill: a cuff
 * or Doppler slip is likelier. Kept only with the operator's confirmation, which the record
 * keeps (docs/clinical.md, Values the lab records). A plausibility bound, not a clinical
 * threshold. */
#define ARM_PLAUSIBLE_MIN_MMHG 50.0

enum MHD_Result tl_api_add_pressure(struct tl_api *api, struct MHD_Connection *c,
				   struct tl_api_request *rq)
{
	int64_t id = rq->id;
	static const char *const allowed[] = {"phase", "minute", "site", "mmhg", "noncompressible",
					      "confirm_implausible", "operator", NULL};
	enum MHD_Result ret;
	json_t *body = tl_api_parse_body(c, rq, allowed, &ret);
	if (!body)
		return ret;
	char phase[8], site[32], op[64];
	json_t *minute = json_object_get(body, "minute"), *mmhg = json_object_get(body, "mmhg");
	json_t *nc = json_object_get(body, "noncompressible");
	json_t *confirm = json_object_get(body, "confirm_implausible");
	if (!tl_api_opt_string(c, body, "phase", phase, sizeof phase, NULL, &ret) ||
	    !tl_api_opt_string(c, body, "site", site, sizeof site, NULL, &ret) ||
	    !tl_api_operator(c, rq, body, op, sizeof op, api->d->cfg.operator_default, &ret))
		goto out;
	if (strcmp(phase, "rest") && strcmp(phase, "post")) {
		ret = tl_api_send_error(c, 400, "field 'phase' must be rest or post");
		goto out;
	}
	if (!tl_pressure_site_valid(site)) {
		ret = tl_api_send_error(c, 400, "field 'site' must be one of brachial-left, brachial-right, "
					"pt-left, dp-left, pt-right, dp-right, toe-left, toe-right");
		goto out;
	}
	/* 0 is a reading (no Doppler signal); above 300 mmHg is not a systolic pressure. */
	if (!json_is_number(mmhg) || json_number_value(mmhg) < 0 || json_number_value(mmhg) > 300) {
		ret = tl_api_send_error(c, 400, "field 'mmhg' must be a number from 0 to 300");
		goto out;
	}
	if ((nc && !json_is_boolean(nc)) || (confirm && !json_is_boolean(confirm))) {
		ret = tl_api_send_error(c, 400, "fields 'noncompressible' and 'confirm_implausible' are "
					"true or false");
		goto out;
	}
	/* An artery not compressible at the cuff's maximum is recorded as such, its mmhg being
	 * the cuff pressure reached; only ankle arteries are (docs/clinical.md). */
	bool noncompressible = json_is_true(nc);
	if (noncompressible && strncmp(site, "pt-", 3) && strncmp(site, "dp-", 3)) {
		ret = tl_api_send_error(c, 400, "field 'noncompressible' is for an ankle artery (pt-left, "
					"dp-left, pt-right, dp-right), not %s", site);
		goto out;
	}
	bool implausible = !strncmp(site, "brachial-", 9) &&
			   json_number_value(mmhg) < ARM_PLAUSIBLE_MIN_MMHG;
	if (implausible && !json_is_true(confirm)) {
		ret = tl_api_send_error(c, 400, "field 'mmhg': an arm pressure of %g mmHg at %s is "
					"implausible (below %g); check the cuff, or send "
					"\"confirm_implausible\": true to keep it",
					json_number_value(mmhg), site, ARM_PLAUSIBLE_MIN_MMHG);
		goto out;
	}
	if (!implausible && json_is_true(confirm)) {
		ret = tl_api_send_error(c, 400, "field 'confirm_implausible' is only for an arm pressure "
					"below %g mmHg", ARM_PLAUSIBLE_MIN_MMHG);
		goto out;
	}
	double min = NAN;
	if (!strcmp(phase, "post")) {
		if (!json_is_number(minute) || json_number_value(minute) < 0 || json_number_value(minute) > 120) {
			ret = tl_api_send_error(c, 400, "field 'minute' (minutes after exercise, 0 to 120) is required for phase post");
			goto out;
		}
		min = json_number_value(minute);
	} else if (minute && !json_is_null(minute)) {
		ret = tl_api_send_error(c, 400, "field 'minute' is for phase post; resting pressures have none");
		goto out;
	}
	if (!tl_api_test_exists(api, c, id, &ret))
		goto out;
	unsigned flags = (noncompressible ? TL_STORE_PRESSURE_NONCOMPRESSIBLE : 0) |
			 (implausible ? TL_STORE_PRESSURE_CONFIRMED : 0);
	char peer[64];
	char *audit = json_object_set_new(body, "test", json_integer(id)) ? NULL : audit_text(body);
	if (!audit) {
		ret = tl_api_send_error(c, 500, "out of memory: the pressure was not recorded");
		goto out;
	}
	tl_api_peer_of(c, peer, sizeof peer);
	tl_writer_pressure_by(api->d->writer, id, phase, min, site, json_number_value(mmhg), flags,
			      op, peer);
	ret = commit_and_answer(api, c, id, op, "pressure", audit);
out:
	json_decref(body);
	return ret;
}

enum MHD_Result tl_api_set_findings(struct tl_api *api, struct MHD_Connection *c,
				   struct tl_api_request *rq)
{
	int64_t id = rq->id;
	static const char *const allowed[] = {"symptoms", "operator", NULL};
	enum MHD_Result ret;
	json_t *body = tl_api_parse_body(c, rq, allowed, &ret);
	if (!body)
		return ret;
	char op[64];
	json_t *sym = json_object_get(body, "symptoms");
	struct tl_symptoms parsed;
	struct tl_err err;
	if (!tl_api_operator(c, rq, body, op, sizeof op, api->d->cfg.operator_default, &ret))
		goto out;
	if (!json_is_object(sym)) {
		ret = tl_api_send_error(c, 400, "field 'symptoms' (an object) is required");
		goto out;
	}
	if (tl_symptoms_from_json(sym, "symptoms", &parsed, &err)) {
		ret = tl_api_send_error(c, 400, "%s", err.msg);
		goto out;
	}
	if (!tl_api_test_exists(api, c, id, &ret))
		goto out;
	char *text = json_dumps(sym, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_t *detail = json_pack("{s:I}", "test", (json_int_t)id);
	char *audit = audit_text(detail);
	json_decref(detail);
	if (!text || !audit) {
		free(text);
		free(audit);
		ret = tl_api_send_error(c, 500, "out of memory: the findings were not recorded");
		goto out;
	}
	char peer[64];
	tl_api_peer_of(c, peer, sizeof peer);
	tl_writer_findings_by(api->d->writer, id, text, op, peer);
	free(text);
	ret = commit_and_answer(api, c, id, op, "findings", audit);
out:
	json_decref(body);
	return ret;
}
