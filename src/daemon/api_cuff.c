/* api_cuff.c - the cuff (docs/api.md, "The cuff"): its status, and the requests the cuff
 * thread carries out (cuffd.h). Every answer is the cuff's status after the request, or
 * the thread's refusal. */
#include "api_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cuffd.h"

static bool have_cuff(struct tl_api *api, struct MHD_Connection *c, enum MHD_Result *ret)
{
	if (api->d->cuffd)
		return true;
	*ret = tl_api_send_error(c, 404, "no cuff is configured ([cuff] source in treadlabd.conf)");
	return false;
}

enum MHD_Result tl_api_get_cuff(struct tl_api *api, struct MHD_Connection *c,
				struct tl_api_request *rq)
{
	(void)rq;
	enum MHD_Result ret;
	if (!have_cuff(api, c, &ret))
		return ret;
	return tl_api_send_json(c, 200, tl_cuffd_json(api->d->cuffd));
}

/* POST /v1/cuff/series: {"test", "phase", "minute"} */
static bool series_fields(struct tl_api *api, struct MHD_Connection *c, json_t *body,
			  struct tl_cuffd_req *r, enum MHD_Result *ret)
{
	json_t *test = json_object_get(body, "test"), *minute = json_object_get(body, "minute");
	if (!json_is_integer(test) || json_integer_value(test) < 1) {
		*ret = tl_api_send_error(c, 400, "field 'test' must be a test id (a whole number "
					 "from 1)");
		return false;
	}
	r->test_id = json_integer_value(test);
	if (!tl_api_opt_string(c, body, "phase", r->phase, sizeof r->phase, "", ret))
		return false;
	bool post = !strcmp(r->phase, "post");
	if (!post && strcmp(r->phase, "rest")) {
		*ret = tl_api_send_error(c, 400, "field 'phase' must be rest or post");
		return false;
	}
	if (post && (!json_is_number(minute) || !(json_number_value(minute) >= 0) ||
		     json_number_value(minute) > 60)) {
		*ret = tl_api_send_error(c, 400, "field 'minute' (minutes after exercise, 0 to 60) "
					 "is required for a post-exercise series");
		return false;
	}
	if (!post && minute && !json_is_null(minute)) {
		*ret = tl_api_send_error(c, 400, "field 'minute' is for a post-exercise series, not "
					 "rest");
		return false;
	}
	r->minute = post ? json_number_value(minute) : NAN;
	return tl_api_test_exists(api, c, r->test_id, ret);
}

/* POST /v1/cuff/{series,site,inflate,mark,vent,end}: rq->arg is the enum tl_cuffd_req_kind. */
enum MHD_Result tl_api_cuff_act(struct tl_api *api, struct MHD_Connection *c,
				struct tl_api_request *rq)
{
	static const char *const series_keys[] = {"test", "phase", "minute", "operator", NULL};
	static const char *const site_keys[] = {"site", "operator", NULL};
	static const char *const plain_keys[] = {"operator", NULL};
	enum MHD_Result ret;
	if (!have_cuff(api, c, &ret))
		return ret;
	struct tl_cuffd_req r = {.kind = (enum tl_cuffd_req_kind)rq->arg, .minute = NAN};
	const char *const *keys = r.kind == TL_CUFFD_SERIES ? series_keys
				  : r.kind == TL_CUFFD_SITE ? site_keys : plain_keys;
	json_t *body = tl_api_parse_body(c, rq, keys, &ret);
	if (!body)
		return ret;
	bool ok = tl_api_operator(c, rq, body, r.operator_id, sizeof r.operator_id,
				  api->d->cfg.operator_default, &ret);
	if (ok && r.kind == TL_CUFFD_SERIES)
		ok = series_fields(api, c, body, &r, &ret);
	if (ok && r.kind == TL_CUFFD_SITE) {
		ok = tl_api_opt_string(c, body, "site", r.site, sizeof r.site, "", &ret);
		if (ok && !r.site[0]) {
			ret = tl_api_send_error(c, 400, "field 'site' is required");
			ok = false;
		}
	}
	json_decref(body);
	if (!ok)
		return ret;
	tl_api_peer_of(c, r.peer, sizeof r.peer);
	char msg[256];
	int status = tl_cuffd_request(api->d->cuffd, &r, msg, sizeof msg);
	if (status)
		return tl_api_send_error(c, (unsigned)status, "%s", msg);
	return tl_api_send_json(c, 200, tl_cuffd_json(api->d->cuffd));
}
