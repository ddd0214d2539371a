/* api_text.c - checks of the text a request carries, the request bodies, the e-stop's
 * body, and who the peer of a connection is. Nothing here touches libmicrohttpd: the
 * request handlers send what these return, and tests/fuzz feeds them any bytes. */
#define _GNU_SOURCE /* struct ucred */
#include "api_int.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

/* Length of the UTF-8 sequence at s (n bytes left) and its code point; 0 if invalid
 * (overlong forms, surrogates and values above U+10FFFF included). */
static size_t utf8_next(const unsigned char *s, size_t n, unsigned *cp)
{
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	size_t len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
	if (len == 0 || s[0] > 0xf4 || len > n)
		return 0;
	unsigned v = s[0] & (0x7f >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
	}
	static const unsigned min[5] = {0, 0, 0x80, 0x800, 0x10000};
	if (v < min[len] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

const char *tl_api_text_bad(const char *s, size_t n, char *why, size_t cap)
{
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		unsigned cp;
		size_t len = utf8_next(u + i, n - i, &cp);
		if (len == 0) {
			snprintf(why, cap, "invalid UTF-8 at byte %zu", i);
			return why;
		}
		/* C0, DEL and C1: none belongs in a name or a note, and the store refuses them. */
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
			snprintf(why, cap, "a control character (U+%04X)", cp);
			return why;
		}
		i += len;
	}
	return NULL;
}

/* Whether any string in j (keys and values, at any depth) holds invalid UTF-8 or a
 * control character (C0, DEL, C1): they are refused here, not left for the store to
 * fail on. `where` gets the field's path ("symptoms.location[1]"), `why` what is wrong. */
static bool text_bad(json_t *j, const char *path, char *where, size_t wcap, char *why, size_t ycap)
{
	char sub[128];
	if (json_is_string(j)) {
		if (!tl_api_text_bad(json_string_value(j), json_string_length(j), why, ycap))
			return false;
		snprintf(where, wcap, "%s", path);
		return true;
	}
	if (json_is_array(j)) {
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v) {
			snprintf(sub, sizeof sub, "%s[%zu]", path, i);
			if (text_bad(v, sub, where, wcap, why, ycap))
				return true;
		}
		return false;
	}
	const char *key;
	json_t *v;
	json_object_foreach(j, key, v) {
		snprintf(sub, sizeof sub, "%s%s%s", path, path[0] ? "." : "", key);
		if (tl_api_text_bad(key, strlen(key), why, ycap)) {
			snprintf(where, wcap, "%s", sub);
			return true;
		}
		if (text_bad(v, sub, where, wcap, why, ycap))
			return true;
	}
	return false;
}

json_t *tl_api_body_parse(const char *body, size_t len, const char *const *allowed, char *msg,
			  size_t cap, bool *oom)
{
	json_error_t e;
	/* jansson sets the error code (text's last byte) only with a message: zero it first. */
	memset(&e, 0, sizeof e);
	*oom = false;
	json_t *j = len == 0 ? json_object() : json_loadb(body, len, JSON_REJECT_DUPLICATES, &e);
	/* jansson names a lack of memory, except when it fails before it has read anything
	 * (its buffers cannot be made): then the error has no text at all. */
	if (!j && (len == 0 || json_error_code(&e) == json_error_out_of_memory || !e.text[0])) {
		*oom = true;
		snprintf(msg, cap, "out of memory parsing the request body");
		return NULL;
	}
	if (!j) {
		snprintf(msg, cap, "malformed JSON at line %d column %d: %s", e.line, e.column, e.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		snprintf(msg, cap, "the body must be a JSON object");
		return NULL;
	}
	char where[128], why[64];
	if (text_bad(j, "", where, sizeof where, why, sizeof why)) {
		snprintf(msg, cap, "field '%s' has %s: text fields must be printable UTF-8", where, why);
		json_decref(j);
		return NULL;
	}
	const char *key;
	json_t *v;
	json_object_foreach(j, key, v) {
		bool ok = false;
		for (size_t i = 0; allowed[i]; i++)
			ok |= !strcmp(key, allowed[i]);
		if (!ok) {
			char list[256] = "";
			for (size_t i = 0; allowed[i]; i++)
				snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
					 i ? ", " : "", allowed[i]);
			snprintf(msg, cap, "unknown field '%s' (expected: %s)", key,
				 list[0] ? list : "none");
			json_decref(j);
			return NULL;
		}
	}
	return j;
}

void tl_api_estop_body(const char *body, size_t len, const char *def, char *operator_id,
		       size_t cap, char *warning, size_t wcap)
{
	snprintf(operator_id, cap, "%s", def);
	warning[0] = '\0';
	if (len == 0)
		return;
	json_error_t e;
	json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &e);
	json_t *op = json_object_get(j, "operator");
	const char *s = json_string_value(op);
	char why[64];
	if (!json_is_object(j) || json_object_size(j) > (op ? 1u : 0u))
		snprintf(warning, wcap, "the request body was not used (expected {\"operator\": ID} or nothing)");
	else if (op && (!s || !*s || strlen(s) >= cap || tl_api_text_bad(s, strlen(s), why, sizeof why)))
		snprintf(warning, wcap, "field 'operator' was not used: not a valid name");
	else if (s)
		snprintf(operator_id, cap, "%s", s);
	json_decref(j);
}

void tl_api_peer_of_fd(int fd, char *peer, size_t cap, char *key, size_t kcap)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	snprintf(peer, cap, "unknown");
	snprintf(key, kcap, "unknown");
	if (getsockname(fd, (struct sockaddr *)&ss, &sl))
		return;
	if (ss.ss_family == AF_UNIX) {
		struct ucred cr;
		socklen_t cl = sizeof cr;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) == 0) {
			snprintf(peer, cap, "uid %u pid %d", (unsigned)cr.uid, (int)cr.pid);
			snprintf(key, kcap, "uid %u", (unsigned)cr.uid);
		}
		return;
	}
	sl = sizeof ss;
	if (getpeername(fd, (struct sockaddr *)&ss, &sl))
		return;
	char ip[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
		port = ntohs(in->sin_port);
		snprintf(peer, cap, "%s:%u", ip, port);
	} else if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
		port = ntohs(in6->sin6_port);
		snprintf(peer, cap, "[%s]:%u", ip, port);
	}
	snprintf(key, kcap, "%s", ip);
}

/* The bearer token: compared in time that does not depend on where it differs. */
static bool same_secret(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	unsigned char diff = na != nb;
	for (size_t i = 0; i < na; i++)
		diff |= (unsigned char)(a[i] ^ b[i % (nb ? nb : 1)]);
	return diff == 0;
}

bool tl_api_token_ok(const struct tl_api *api, const char *h)
{
	return h && !strncmp(h, "Bearer ", 7) && same_secret(h + 7, api->token);
}
