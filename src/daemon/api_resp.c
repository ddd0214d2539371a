/* api_resp.c - answers (JSON, errors) and the fields of request bodies. */
#include "api_int.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum MHD_Result tl_api_send_json(struct MHD_Connection *c, unsigned status, json_t *j)
{
	char *text = json_dumps(j, JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	json_decref(j);
	if (!text)
		return MHD_NO;
	size_t n = strlen(text);
	text = realloc(text, n + 2);
	text[n] = '\n';
	text[n + 1] = '\0';
	struct MHD_Response *r = MHD_create_response_from_buffer(n + 1, text, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(r, "Content-Type", "application/json");
	/* One request a connection: each one comes through the gate (api_gate.c). */
	MHD_add_response_header(r, "Connection", "close");
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
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
	json_t *j = tl_api_body_parse(rq->len ? rq->body : NULL, rq->len, allowed, msg, sizeof msg);
	if (!j)
		*ret = tl_api_send_error(c, 400, "%s", msg);
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
