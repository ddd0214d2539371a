/* api_users.c - operator accounts: GET and POST /v1/users, PUT /v1/users/{name}
 * (docs/api.md, Accounts and sessions).
 *
 * Served to the Unix socket (whoever may open it administers the station: that is how
 * the first account is made, with no default password) and to an admin's login
 * session; to anyone else, the bearer token included, 403.
 *
 * A change is written at once through a read-write connection of its own
 * (tl_store_open_current) and answered with what the store holds, not through the
 * writer's queue: an account change is rare, and is to fail loudly rather than wait in
 * memory for a disk that may come back. */
#include "api_int.h"
#include "api_pool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "password.h"
#include "store.h"
#include "writer.h"

static bool admin_ok(struct MHD_Connection *c, const struct tl_api_request *rq,
		     enum MHD_Result *ret)
{
	if (rq->l->is_unix || (rq->has_session && !strcmp(rq->who.role, "admin")))
		return true;
	*ret = tl_api_send_error(c, 403, "accounts are managed on the station's Unix socket "
				 "(treadlab user ...) or by an admin's login session");
	return false;
}

/* The operator an account change is recorded under: the admin's account, or none on the
 * socket (its peer names the uid). */
static const char *actor(const struct tl_api_request *rq)
{
	return rq->has_session ? rq->who.user : NULL;
}

static void audit(struct tl_api *api, struct MHD_Connection *c, const struct tl_api_request *rq,
		  const char *command, json_t *detail)
{
	char peer[64];
	tl_api_peer_of(c, peer, sizeof peer);
	char *text = detail ? json_dumps(detail, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(detail);
	tl_writer_audit_by(api->d->writer, actor(rq), peer, command, text, "ok");
	free(text);
}

/* The account as the list shows it, or an error answered. */
static enum MHD_Result send_user(struct MHD_Connection *c, struct tl_store *st, const char *name,
				 unsigned status)
{
	struct tl_store_user u;
	struct tl_err err;
	int rc = tl_store_user_get(st, name, &u, &err);
	if (rc < 0)
		return tl_api_send_error(c, 500, "%s", err.msg);
	if (rc == 0)
		return tl_api_send_error(c, 404, "no user '%s'", name);
	return tl_api_send_json(c, status, json_pack("{s:s, s:s, s:b, s:s, s:s}", "name", u.name,
						     "role", u.role, "disabled", u.disabled,
						     "created_at", u.created_at,
						     "updated_at", u.updated_at));
}

enum MHD_Result tl_api_users_list(struct tl_api *api, struct MHD_Connection *c,
				  struct tl_api_request *rq)
{
	enum MHD_Result ret;
	if (!admin_ok(c, rq, &ret))
		return ret;
	struct tl_err err;
	struct tl_store *st = tl_api_pool_take(api->pool, &err);
	json_t *j = st ? tl_store_users_json(st, &err) : NULL;
	if (st)
		tl_api_pool_give(api->pool, st, !j);
	return j ? tl_api_send_json(c, 200, j) : tl_api_send_error(c, 500, "%s", err.msg);
}

/* The new password of body (a 400 answered if it is not acceptable) hashed into h. */
static bool new_hash(struct MHD_Connection *c, json_t *pw, char h[TL_PASSWORD_HASH_MAX],
		     enum MHD_Result *ret)
{
	const char *why = json_is_string(pw) ? tl_password_refused(json_string_value(pw))
					     : "missing (a string)";
	if (why) {
		*ret = tl_api_send_error(c, 400, "field 'password': %s (at least %d characters, at "
					 "most %d bytes, no control characters)", why,
					 TL_PASSWORD_MIN_CHARS, TL_PASSWORD_MAX_BYTES);
		return false;
	}
	struct tl_err err;
	tl_api_hash_begin();
	int rc = tl_password_hash(json_string_value(pw), h, &err);
	tl_api_hash_end();
	if (rc) {
		*ret = tl_api_send_error(c, 500, "%s", err.msg);
		return false;
	}
	return true;
}

/* Wipes a password the request carried: its body and the parsed string. */
static void wipe(struct tl_api_request *rq, json_t *body)
{
	json_t *pw = json_object_get(body, "password");
	if (json_is_string(pw))
		tl_password_wipe((char *)json_string_value(pw), json_string_length(pw));
	if (rq->body)
		tl_password_wipe(rq->body, rq->len);
}

static struct tl_store *writer_conn(struct tl_api *api, struct MHD_Connection *c,
				    enum MHD_Result *ret)
{
	struct tl_err err;
	struct tl_store *st = tl_store_open_current(api->d->cfg.database, &err);
	if (!st)
		*ret = tl_api_send_error(c, 500, "%s", err.msg);
	return st;
}

enum MHD_Result tl_api_users_add(struct tl_api *api, struct MHD_Connection *c,
				 struct tl_api_request *rq)
{
	static const char *const allowed[] = {"name", "role", "password", NULL};
	enum MHD_Result ret;
	if (!admin_ok(c, rq, &ret))
		return ret;
	json_t *body = tl_api_parse_body(c, rq, allowed, &ret);
	if (!body) {
		wipe(rq, NULL);
		return ret;
	}
	const char *name = json_string_value(json_object_get(body, "name"));
	const char *role = json_string_value(json_object_get(body, "role"));
	char h[TL_PASSWORD_HASH_MAX], at[32];
	struct tl_store *st = NULL;
	if (!tl_store_user_name_ok(name)) {
		ret = tl_api_send_error(c, 400, "field 'name' must be 1 to %d of a-z 0-9 . _ - "
					"starting with a letter or digit", TL_STORE_USER_NAME_MAX);
		goto out;
	}
	if (!tl_store_user_role_ok(role)) {
		ret = tl_api_send_error(c, 400, "field 'role' must be technician, physician or admin");
		goto out;
	}
	if (!new_hash(c, json_object_get(body, "password"), h, &ret) ||
	    !(st = writer_conn(api, c, &ret)))
		goto out;
	struct tl_err err;
	tl_utc_now(at);
	int64_t id = tl_store_user_add(st, name, role, h, at, &err);
	if (id <= 0) {
		ret = id == 0 ? tl_api_send_error(c, 409, "user '%s' exists", name)
			      : tl_api_send_error(c, 500, "%s", err.msg);
		goto out;
	}
	audit(api, c, rq, "user add", json_pack("{s:s, s:s}", "name", name, "role", role));
	ret = send_user(c, st, name, 201);
out:
	tl_password_wipe(h, sizeof h);
	tl_store_close(st);
	wipe(rq, body);
	json_decref(body);
	return ret;
}

enum MHD_Result tl_api_users_change(struct tl_api *api, struct MHD_Connection *c,
				    struct tl_api_request *rq)
{
	static const char *const allowed[] = {"password", "disabled", NULL};
	enum MHD_Result ret;
	if (!admin_ok(c, rq, &ret))
		return ret;
	json_t *body = tl_api_parse_body(c, rq, allowed, &ret);
	if (!body) {
		wipe(rq, NULL);
		return ret;
	}
	json_t *pw = json_object_get(body, "password"), *dis = json_object_get(body, "disabled");
	char h[TL_PASSWORD_HASH_MAX] = "", at[32];
	struct tl_store *st = NULL;
	struct tl_err err;
	if ((!pw && !dis) || (dis && !json_is_boolean(dis))) {
		ret = tl_api_send_error(c, 400, "send 'password' (a string), 'disabled' (true or "
					"false), or both");
		goto out;
	}
	if ((pw && !new_hash(c, pw, h, &ret)) || !(st = writer_conn(api, c, &ret)))
		goto out;
	tl_utc_now(at);
	int rc = 1;
	if (pw)
		rc = tl_store_user_set_password(st, rq->name, h, at, &err);
	if (rc == 1 && dis)
		rc = tl_store_user_set_disabled(st, rq->name, json_is_true(dis), at, &err);
	if (rc != 1) {
		ret = rc == 0 ? tl_api_send_error(c, 404, "no user '%s'", rq->name)
			      : tl_api_send_error(c, 500, "%s", err.msg);
		goto out;
	}
	/* The account's sessions end with its old password, or when it is disabled. */
	int ended = 0;
	if (pw || json_is_true(dis))
		ended = tl_logins_close_user(api->logins, rq->name);
	if (pw)
		audit(api, c, rq, "user passwd", json_pack("{s:s, s:i}", "name", rq->name,
							   "sessions_ended", ended));
	if (dis)
		audit(api, c, rq, json_is_true(dis) ? "user disable" : "user enable",
		      json_pack("{s:s, s:i}", "name", rq->name, "sessions_ended", pw ? 0 : ended));
	ret = send_user(c, st, rq->name, 200);
out:
	tl_password_wipe(h, sizeof h);
	tl_store_close(st);
	wipe(rq, body);
	json_decref(body);
	return ret;
}
