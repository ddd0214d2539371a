/* api_resp.c - answers (JSON, errors) and the fields of request bodies. */
#include "api_int.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every answer says what it is and that its connection closes after it: each request
 * comes through the gate (api_gate.c). False if a header could not be added (no memory). */
bool tl_api_headers(struct MHD_Response *r, const char *content_type)
{
	return MHD_add_response_header(r, "Content-Type", content_type) == MHD_YES &&
	       MHD_add_response_header(r, "Connection", "close") == MHD_YES;
}

/* Queues r (and lets go of it); MHD_NO if r is NULL or its headers cannot be added, which
 * closes the connection: without memory for a header, there is no answer to give. */
static enum MHD_Result queue(struct MHD_Connection *c, unsigned status, struct MHD_Response *r)
{
	if (!r)
		return MHD_NO;
	enum MHD_Result ret = tl_api_headers(r, "application/json") ? MHD_queue_response(c, status, r)
								    : MHD_NO;
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result tl_api_send_oom(struct MHD_Connection *c)
{
	static const char body[] = "{\"error\": \"out of memory: the answer could not be made\"}\n";
	return queue(c, 500, MHD_create_response_from_buffer(sizeof body - 1, (void *)body,
							     MHD_RESPMEM_PERSISTENT));
}

enum MHD_Result tl_api_send_json(struct MHD_Connection *c, unsigned status, json_t *j)
{
	/* j is NULL when building it ran out of memory (json_* return NULL). */
	char *text = j ? json_dumps(j, JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10)) : NULL;
	json_decref(j);
	size_t n = text ? strlen(text) : 0;
	char *nl = text ? realloc(text, n + 2) : NULL;
	if (!nl) {
		free(text);
		return tl_api_send_oom(c);
	}
	nl[n] = '\n';
	nl[n + 1] = '\0';
	struct MHD_Response *r = MHD_create_response_from_buffer(n + 1, nl, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(nl);
		return tl_api_send_oom(c);
	}
	return queue(c, status, r);
}

enum MHD_Result tl_api_send_error(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return tl_api_send_json(c, status, json_pack("{s:s}", "error", msg));
}

/* ---------- request bodies ---------- */

json_t *tl_api_parse_body(struct MHD_Connection *c, const struct tl_api_request *rq,
			  const char *const *allowed, enum MHD_Result *ret)
{
	char msg[512];
	bool oom = false;
	json_t *j = tl_api_body_parse(rq->len ? rq->body : NULL, rq->len, allowed, msg, sizeof msg,
				      &oom);
	if (!j)
		*ret = tl_api_send_error(c, oom ? 500 : 400, "%s", msg);
	return j;
}

bool tl_api_opt_string(struct MHD_Connection *c, json_t *body, const char *key, char *dst,
		       size_t cap, const char *def, enum MHD_Result *ret)
{
	json_t *v = json_object_get(body, key);
	if (!v || json_is_null(v)) {
		snprintf(dst, cap, "%s", def ? def : "");
		return true;
	}
	const char *s = json_string_value(v);
	size_t n = s ? strlen(s) : 0;
	char why[64];
	bool ok = s && n > 0 && n < cap && !tl_api_text_bad(s, n, why, sizeof why);
	if (!ok) {
		*ret = tl_api_send_error(c, 400, "field '%s' must be a string of 1 to %zu printable characters",
					 key, cap - 1);
		return false;
	}
	memcpy(dst, s, n + 1);
	return true;
}

bool tl_api_valid_mrn(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '-' || s[i] == '_' || s[i] == '.'))
			return false;
	return true;
}

void tl_api_peer_of(struct MHD_Connection *c, char *peer, size_t cap)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	char key[48];
	if (ci)
		tl_api_peer_of_fd(ci->connect_fd, peer, cap, key, sizeof key);
	else
		snprintf(peer, cap, "unknown");
}
