/* api_session.c - logging in and out (POST/GET/DELETE /v1/session), and what a login
 * session changes for every request: its cookie stands in for the bearer token on TCP,
 * a state-changing request by cookie must carry the session's X-CSRF-Token, and the
 * operator recorded is the account (docs/api.md, Accounts and sessions; docs/security.md,
 * Accounts).
 *
 * Sessions and failed-login counts are in memory (src/common/logins.c). A password is
 * checked against its Argon2id hash here, in the request's own thread, never in the gate
 * and never on the emergency stop's path: the gate only looks a cookie up. An unknown
 * name is checked against a dummy hash of the same cost, so it answers in the time a
 * wrong password does. Cookies are ignored on the Unix socket: there the file's
 * permissions say who may ask, as before. */
#include "api_int.h"
#include "api_pool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "password.h"
#include "store.h"
#include "writer.h"

#define COOKIE "treadlab_session"

/* ---------- the table's life ---------- */

int tl_api_sessions_start(struct tl_api *api, struct tl_err *err)
{
	if (tl_password_init(err) < 0)
		return -1;
	double idle_s = api->d->cfg.session_idle_min * 60.0;
	api->logins = tl_logins_new((int64_t)(idle_s * 1e9));
	if (!api->logins) {
		tl_err_set(err, "api: cannot make the table of login sessions (out of memory)");
		return -1;
	}
	return 0;
}

void tl_api_sessions_stop(struct tl_api *api)
{
	tl_logins_free(api->logins);
	api->logins = NULL;
}

/* ---------- hashing, two at a time ---------- */

static pthread_mutex_t hash_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hash_cv = PTHREAD_COND_INITIALIZER;
static int hash_n;

void tl_api_hash_begin(void)
{
	pthread_mutex_lock(&hash_mu);
	while (hash_n >= TL_PASSWORD_CONCURRENT)
		pthread_cond_wait(&hash_cv, &hash_mu);
	hash_n++;
	pthread_mutex_unlock(&hash_mu);
}

void tl_api_hash_end(void)
{
	pthread_mutex_lock(&hash_mu);
	hash_n--;
	pthread_cond_signal(&hash_cv);
	pthread_mutex_unlock(&hash_mu);
}

/* ---------- every request ---------- */

void tl_api_session_of(struct tl_api *api, struct MHD_Connection *c, struct tl_api_request *rq)
{
	if (rq->l->is_unix || !api->logins)
		return;
	const char *v = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, COOKIE);
	if (!v)
		return;
	rq->has_session = tl_logins_find(api->logins, v, tl_mono_ns(), &rq->who);
	rq->stale_session = !rq->has_session;
	if (rq->has_session)
		snprintf(rq->session, sizeof rq->session, "%s", v);
}

bool tl_api_session_allowed(struct MHD_Connection *c, const struct tl_api_request *rq,
			    const char *url, const char *method, enum MHD_Result *ret)
{
	bool login = !strcmp(url, "/v1/session");
	if (rq->stale_session && !login) {
		*ret = tl_api_send_error(c, 401, "the session has ended (idle too long, logged out, "
					 "or its account changed): log in again");
		return false;
	}
	/* Logging in proves itself with the password; the e-stop is never refused over a
	 * header (and SameSite=Strict keeps the cookie off other sites' requests). */
	bool mutating = strcmp(method, "GET") && strcmp(method, "HEAD");
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-CSRF-Token");
	if (!rq->has_session && h && mutating && !login && strcmp(url, "/v1/estop")) {
		/* A page's request (it carries the session's CSRF token) whose cookie the browser
		 * already dropped: the session ended; it must not pass as an anonymous one. */
		*ret = tl_api_send_error(c, 401, "the session has ended (logged out, or its cookie "
					 "is gone): log in again");
		return false;
	}
	if (!rq->has_session || !mutating || (login && !strcmp(method, "POST")) ||
	    !strcmp(url, "/v1/estop"))
		return true;
	if (!tl_logins_csrf_ok(&rq->who, h)) {
		*ret = tl_api_send_error(c, 403, "%s by a login session needs the session's "
					 "X-CSRF-Token header (the csrf_token of POST or GET "
					 "/v1/session)", method);
		return false;
	}
	/* Roles: a technician runs tests and records what is measured, and so may an admin
	 * (on a small station the first account, who also manages the others). A physician
	 * signs; the routes that say so check their own role (api_route.c, who). A
	 * physician's session watches: it may stop the belt (above), vent the cuff and log
	 * out, nothing more. */
	enum tl_api_who who = tl_api_route_who(url, method);
	if (who != TL_WHO_RECORDER || !strcmp(rq->who.role, "technician") ||
	    !strcmp(rq->who.role, "admin"))
		return true;
	*ret = tl_api_send_error(c, 403, "'%s' is %s %s: a %s's session can watch and stop the "
				 "belt; running a test and recording data need a technician's login",
				 rq->who.user, strchr("aeiou", rq->who.role[0]) ? "an" : "a",
				 rq->who.role, rq->who.role);
	return false;
}

/* The value of cookie COOKIE in the head's Cookie headers, into out; false if none. */
static bool head_cookie(const char *head, size_t n, char *out, size_t cap)
{
	static const char hname[] = "Cookie:";
	const char *end = head + n;
	for (const char *p = memchr(head, '\n', n); p && p + 1 < end;
	     p = memchr(p + 1, '\n', (size_t)(end - p - 1))) {
		const char *h = p + 1;
		if ((size_t)(end - h) < sizeof hname - 1 || strncasecmp(h, hname, sizeof hname - 1))
			continue;
		const char *v = h + sizeof hname - 1;
		while (v < end && *v != '\r' && *v != '\n') {
			while (v < end && (*v == ' ' || *v == '\t' || *v == ';'))
				v++;
			const char *pair = v;
			while (v < end && *v != ';' && *v != '\r' && *v != '\n')
				v++;
			size_t k = sizeof COOKIE - 1, len = (size_t)(v - pair);
			if (len > k && !strncmp(pair, COOKIE "=", k + 1) && len - k - 1 < cap) {
				memcpy(out, pair + k + 1, len - k - 1);
				out[len - k - 1] = '\0';
				return true;
			}
		}
	}
	return false;
}

bool tl_api_session_in_head(struct tl_api *api, const char *head, size_t n,
			    struct tl_login_who *who)
{
	char v[TL_LOGIN_TOKEN_TEXT + 1];
	return api->logins && head_cookie(head, n, v, sizeof v) &&
	       tl_logins_find(api->logins, v, tl_mono_ns(), who);
}

bool tl_api_operator(struct MHD_Connection *c, const struct tl_api_request *rq, json_t *body,
		     char *dst, size_t cap, const char *def, enum MHD_Result *ret)
{
	if (!rq->has_session)
		return tl_api_opt_string(c, body, "operator", dst, cap, def, ret);
	/* The account is who did it; a body naming someone else is a mistake or a lie. */
	const char *named = json_string_value(json_object_get(body, "operator"));
	if (named && strcmp(named, rq->who.user)) {
		*ret = tl_api_send_error(c, 403, "field 'operator' ('%.64s') is not the account "
					 "logged in ('%s'): leave it out", named, rq->who.user);
		return false;
	}
	snprintf(dst, cap, "%s", rq->who.user);
	return true;
}

/* ---------- answers with headers of their own ---------- */

static enum MHD_Result send_with(struct MHD_Connection *c, unsigned status, json_t *j,
				 const char *name, const char *value)
{
	char *text = json_dumps(j, JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	json_decref(j);
	size_t n = text ? strlen(text) : 0;
	char *t = text ? realloc(text, n + 2) : NULL;
	if (!t) {
		free(text);
		return tl_api_send_error(c, 500, "out of memory");
	}
	memcpy(t + n, "\n", 2);
	struct MHD_Response *r = MHD_create_response_from_buffer(n + 1, t, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(t);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", "application/json");
	MHD_add_response_header(r, "Connection", "close");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	if (name)
		MHD_add_response_header(r, name, value);
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static json_t *who_json(const struct tl_login_who *w)
{
	return json_pack("{s:s, s:s, s:s}", "user", w->user, "role", w->role, "csrf_token", w->csrf);
}

/* The audit line of a login or logout: who tried, from where, and how it ended. */
static void audit(struct tl_api *api, struct MHD_Connection *c, const char *command,
		  const char *operator_id, const char *user, const char *result)
{
	char peer[64];
	tl_api_peer_of(c, peer, sizeof peer);
	json_t *d = json_pack("{s:s}", "user", user);
	char *detail = d ? json_dumps(d, JSON_COMPACT) : NULL;
	json_decref(d);
	tl_writer_audit_by(api->d->writer, operator_id, peer, command, detail, result);
	free(detail);
}

/* ---------- the endpoints ---------- */

enum MHD_Result tl_api_session_get(struct tl_api *api, struct MHD_Connection *c,
				   struct tl_api_request *rq)
{
	(void)api;
	if (!rq->has_session)
		return tl_api_send_error(c, 401, "not logged in (POST /v1/session)");
	return send_with(c, 200, who_json(&rq->who), NULL, NULL);
}

/* The Set-Cookie value of a session (or of its end, token NULL). */
static void set_cookie(char *out, size_t cap, const char *token, bool tls)
{
	snprintf(out, cap, COOKIE "=%s; HttpOnly; SameSite=Strict; Path=/%s%s", token ? token : "",
		 token ? "" : "; Max-Age=0", tls ? "; Secure" : "");
}

/* A session for u, answered with its cookie. */
static enum MHD_Result logged_in(struct tl_api *api, struct MHD_Connection *c,
				 struct tl_api_request *rq, const struct tl_store_user *u)
{
	char token[TL_LOGIN_TOKEN_TEXT], cookie[160];
	struct tl_login_who who;
	tl_logins_open(api->logins, u->name, u->role, tl_mono_ns(), token, &who);
	audit(api, c, "login", u->name, u->name, "ok");
	set_cookie(cookie, sizeof cookie, token, rq->l->tls);
	tl_password_wipe(token, sizeof token);
	enum MHD_Result ret = send_with(c, 200, who_json(&who), "Set-Cookie", cookie);
	tl_password_wipe(cookie, sizeof cookie);
	return ret;
}

/* A hash of older parameters is replaced now that the password is at hand; a failure
 * only leaves the old one (it still verifies). */
static void rehash(struct tl_api *api, const char *name, const char *pw)
{
	char h[TL_PASSWORD_HASH_MAX], at[32];
	struct tl_err err;
	tl_api_hash_begin();
	int rc = tl_password_hash(pw, h, &err);
	tl_api_hash_end();
	if (rc)
		return;
	struct tl_store *st = tl_store_open_current(api->d->cfg.database, &err);
	tl_utc_now(at);
	if (st)
		tl_store_user_set_password(st, name, h, at, &err);
	tl_store_close(st);
}

bool tl_api_password_ok(struct tl_api *api, struct MHD_Connection *c, const char *command,
			const char *name, const char *pw, struct tl_store_user *u,
			enum MHD_Result *ret)
{
	char peer[64], client[48] = "unknown";
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci)
		tl_api_peer_of_fd(ci->connect_fd, peer, sizeof peer, client, sizeof client);
	int wait = tl_logins_blocked(api->logins, name, client, tl_mono_ns());
	if (wait) {
		/* Refused before any hash: a guesser gets nothing, and costs nothing. */
		audit(api, c, command, NULL, name, "refused: too many failed logins");
		char after[16];
		snprintf(after, sizeof after, "%d", wait);
		json_t *e = json_pack("{s:s}", "error", "too many failed logins: try again later");
		*ret = send_with(c, 429, e, "Retry-After", after);
		return false;
	}
	struct tl_err err;
	int known = 0;
	memset(u, 0, sizeof *u);
	if (tl_store_user_name_ok(name)) {
		struct tl_store *st = tl_api_pool_take(api->pool, &err);
		known = st ? tl_store_user_get(st, name, u, &err) : -1;
		if (st)
			tl_api_pool_give(api->pool, st, known < 0);
		if (known < 0) {
			*ret = tl_api_send_error(c, 500, "%s", err.msg);
			return false;
		}
	}
	/* An unknown name costs the same hash as a known one: the time says nothing. */
	tl_api_hash_begin();
	bool ok = tl_password_verify(known ? u->pwhash : tl_password_dummy_hash(), pw);
	tl_api_hash_end();
	if (known != 1 || !ok) {
		tl_logins_failed(api->logins, name, client, tl_mono_ns());
		audit(api, c, command, NULL, name, "refused: wrong user name or password");
		*ret = tl_api_send_error(c, 401, "wrong user name or password");
		return false;
	}
	if (u->disabled) {
		audit(api, c, command, NULL, name, "refused: account disabled");
		*ret = tl_api_send_error(c, 403, "account '%s' is disabled", name);
		return false;
	}
	tl_logins_succeeded(api->logins, name);
	if (tl_password_needs_rehash(u->pwhash))
		rehash(api, name, pw);
	return true;
}

json_t *tl_api_credentials(struct MHD_Connection *c, struct tl_api_request *rq,
			   char name[64], const char **pw, enum MHD_Result *ret)
{
	static const char *const allowed[] = {"user", "password", NULL};
	json_t *body = tl_api_parse_body(c, rq, allowed, ret);
	if (rq->body)
		tl_password_wipe(rq->body, rq->len);
	if (!body)
		return NULL;
	json_t *jpw = json_object_get(body, "password");
	if (!json_is_string(json_object_get(body, "user")) || !json_is_string(jpw)) {
		*ret = tl_api_send_error(c, 400, "fields 'user' and 'password' (strings) are required");
	} else if (json_string_length(jpw) > TL_PASSWORD_MAX_BYTES) {
		*ret = tl_api_send_error(c, 400, "field 'password' is longer than %d bytes",
					 TL_PASSWORD_MAX_BYTES);
	} else if (tl_api_opt_string(c, body, "user", name, 64, NULL, ret)) {
		*pw = json_string_value(jpw);
		return body;
	}
	tl_api_credentials_free(body);
	return NULL;
}

void tl_api_credentials_free(json_t *body)
{
	json_t *jpw = json_object_get(body, "password");
	if (json_is_string(jpw))
		tl_password_wipe((char *)json_string_value(jpw), json_string_length(jpw));
	json_decref(body);
}

enum MHD_Result tl_api_session_login(struct tl_api *api, struct MHD_Connection *c,
				     struct tl_api_request *rq)
{
	enum MHD_Result ret;
	char name[64];
	const char *pw;
	json_t *body = tl_api_credentials(c, rq, name, &pw, &ret);
	if (!body)
		return ret;
	struct tl_store_user u = {0};
	if (tl_api_password_ok(api, c, "login", name, pw, &u, &ret))
		ret = logged_in(api, c, rq, &u);
	tl_api_credentials_free(body);
	return ret;
}

enum MHD_Result tl_api_session_logout(struct tl_api *api, struct MHD_Connection *c,
				      struct tl_api_request *rq)
{
	if (!rq->has_session)
		return tl_api_send_error(c, 401, "not logged in (POST /v1/session)");
	tl_logins_close(api->logins, rq->session);
	audit(api, c, "logout", rq->who.user, rq->who.user, "ok");
	char cookie[160];
	set_cookie(cookie, sizeof cookie, NULL, rq->l->tls);
	return send_with(c, 200, json_pack("{s:s, s:b}", "user", rq->who.user, "ended", 1),
			 "Set-Cookie", cookie);
}
