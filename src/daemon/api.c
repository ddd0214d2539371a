#include "api.h"
#include "api_int.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <syslog.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "json_out.h"
#include "findings_json.h"
#include "protocol_files.h"
#include "record_findings.h"
#include "store.h"
#include "writer.h"

#define BODY_MAX TL_API_BODY_MAX

struct request {
	char *body;
	size_t len;
	bool too_big;
	bool estop;      /* POST /v1/estop (served here only on a TLS listener: api_gate.c) */
	bool stopped;    /* ... and the stop has been carried out: */
	int stop_status;
	char stop_msg[sizeof ((struct tl_reply *)0)->msg], warning[160];
	bool refused;    /* answered at its head */
	const struct listener *l;
};

/* ---------- responses ---------- */

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, json_t *j)
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

static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return send_json(c, status, json_pack("{s:s}", "error", msg));
}

/* ---------- request bodies ---------- */

/* Parses the body as a JSON object whose keys are all in `allowed` (NULL-terminated).
 * An empty body is an empty object. On failure sends the 400 and returns NULL. */
static json_t *parse_body(struct MHD_Connection *c, const struct request *rq,
			  const char *const *allowed, enum MHD_Result *ret)
{
	char msg[512];
	json_t *j = tl_api_body_parse(rq->len ? rq->body : NULL, rq->len, allowed, msg, sizeof msg);
	if (!j)
		*ret = send_error(c, 400, "%s", msg);
	return j;
}

/* An optional string field; returns false (and sends 400) if present but not a string
 * of 1..cap-1 printable characters. */
static bool opt_string(struct MHD_Connection *c, json_t *body, const char *key, char *dst,
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
		*ret = send_error(c, 400, "field '%s' must be a string of 1 to %zu printable characters",
				  key, cap - 1);
		return false;
	}
	memcpy(dst, s, n + 1);
	return true;
}

static bool valid_mrn(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '-' || s[i] == '_' || s[i] == '.'))
			return false;
	return true;
}

/* ---------- status ---------- */

json_t *tl_api_status_json(const struct tl_status *st, const struct tl_daemon *d)
{
	json_t *o = json_pack("{s:s, s:s}", "state", tl_state_name(st->state), "end_reason",
			      st->end_reason == TL_END_NONE ? "" : tl_end_reason_name(st->end_reason));
	if (st->end_reason == TL_END_NONE)
		json_object_set_new(o, "end_reason", json_null());
	bool has_test = st->state != TL_STATE_IDLE;
	json_object_set_new(o, "test_id", has_test && st->test_id >= 0 ? json_integer(st->test_id) : json_null());
	json_object_set_new(o, "patient", has_test ? json_string(st->patient) : json_null());
	json_object_set_new(o, "protocol", has_test ? json_string(st->protocol) : json_null());
	json_object_set_new(o, "t_s", tl_json_round((double)st->t_ms / 1000.0, 1));
	json_object_set_new(o, "stage", st->stage >= 0 && has_test ? json_integer(st->stage) : json_null());
	json_object_set_new(o, "command", json_pack("{s:b, s:b, s:o, s:o}", "belt_on", st->command.belt_on,
						     "estop", st->command.estop, "speed_kmh",
						     tl_json_round(st->command.speed_kmh, 2), "grade_pct",
						     tl_json_round(st->command.grade_pct, 2)));
	json_object_set_new(o, "treadmill",
			    json_pack("{s:s, s:b, s:o, s:o, s:b, s:b, s:s}", "driver", d->cfg.driver,
				      "reading", st->fb.valid, "speed_kmh", tl_json_round(st->fb.speed_kmh, 2),
				      "grade_pct", tl_json_round(st->fb.grade_pct, 2), "running",
				      st->fb.belt_running, "stopped_by_device", st->fb.device_stopped,
				      "detail", st->fb.detail));
	json_object_set_new(json_object_get(o, "treadmill"), "connected", json_boolean(st->connected));
	json_object_set_new(json_object_get(o, "treadmill"), "error",
			    st->device_error[0] ? json_string(st->device_error) : json_null());
	json_object_set_new(o, "alarm", st->alarm[0] ? json_string(st->alarm) : json_null());
	json_object_set_new(o, "button_error", st->button_error[0] ? json_string(st->button_error) : json_null());
	json_object_set_new(o, "store_error", st->store_error[0] ? json_string(st->store_error) : json_null());
	json_t *ep = json_object();
	tl_json_add_endpoints(ep, &st->ep, st->t_ms);
	json_object_set_new(o, "endpoints", ep);
	json_object_set_new(o, "time_scale", json_real(d->cfg.time_scale));
	return o;
}

void tl_api_snapshot(struct tl_daemon *d, struct tl_status *out)
{
	pthread_mutex_lock(&d->st_mu);
	*out = d->st;
	pthread_mutex_unlock(&d->st_mu);
}

/* ---------- commands ---------- */

/* Who sent the request on c (tl_api_peer_of_fd). */
static void peer_of(struct MHD_Connection *c, char *peer, size_t cap)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	char key[48];
	if (ci)
		tl_api_peer_of_fd(ci->connect_fd, peer, cap, key, sizeof key);
	else
		snprintf(peer, cap, "unknown");
}

/* Hands cmd (taken) to the control thread as the technician's and waits for its answer,
 * which comes once what it caused is committed. */
static void submit_and_wait(struct tl_api *api, struct tl_cmd *cmd, struct tl_reply *reply)
{
	tl_reply_init(reply);
	cmd->reply = reply;
	snprintf(cmd->source, sizeof cmd->source, "technician");
	tl_control_submit(api->d, cmd);
	tl_reply_wait(reply);
}

static enum MHD_Result run_command(struct tl_api *api, struct MHD_Connection *c, struct tl_cmd *cmd)
{
	struct tl_reply reply;
	peer_of(c, cmd->peer, sizeof cmd->peer);
	submit_and_wait(api, cmd, &reply);
	enum MHD_Result ret;
	if (reply.http_status >= 300) {
		ret = send_error(c, (unsigned)reply.http_status, "%s", reply.msg);
	} else {
		struct tl_status st;
		tl_api_snapshot(api->d, &st);
		json_t *o = tl_api_status_json(&st, api->d);
		if (reply.http_status == 201)
			json_object_set_new(o, "id", json_integer(reply.test_id));
		ret = send_json(c, (unsigned)reply.http_status, o);
	}
	tl_reply_destroy(&reply);
	return ret;
}

static struct tl_cmd *new_cmd(enum tl_cmd_kind kind)
{
	struct tl_cmd *cmd = calloc(1, sizeof *cmd);
	if (cmd)
		cmd->kind = kind;
	return cmd;
}

static enum MHD_Result cmd_start(struct tl_api *api, struct MHD_Connection *c, const struct request *rq)
{
	static const char *const allowed[] = {"protocol", "patient", "operator", NULL};
	enum MHD_Result ret;
	json_t *body = parse_body(c, rq, allowed, &ret);
	if (!body)
		return ret;
	struct tl_cmd *cmd = new_cmd(CMD_START);
	char proto[64];
	if (!cmd) {
		json_decref(body);
		return send_error(c, 500, "out of memory");
	}
	if (!json_is_string(json_object_get(body, "protocol")) ||
	    !json_is_string(json_object_get(body, "patient"))) {
		ret = send_error(c, 400, "'protocol' and 'patient' are required strings");
		goto fail;
	}
	if (!opt_string(c, body, "protocol", proto, sizeof proto, NULL, &ret) ||
	    !opt_string(c, body, "patient", cmd->patient, sizeof cmd->patient, NULL, &ret) ||
	    !opt_string(c, body, "operator", cmd->operator_id, sizeof cmd->operator_id,
			api->d->cfg.operator_default, &ret))
		goto fail;
	if (!valid_mrn(cmd->patient)) {
		ret = send_error(c, 400, "patient '%s' is not a valid MRN (1-64 of A-Z a-z 0-9 . _ -)", cmd->patient);
		goto fail;
	}
	const struct tl_config *cfg = &api->d->cfg;
	struct tl_device_caps caps = {
		.max_speed_kmh = fmin(cfg->max_speed_kmh, cfg->limits.max_speed_kmh),
		.max_grade_pct = fmin(cfg->max_grade_pct, cfg->limits.max_grade_pct)};
	const char *dir = cfg->protocols[0] ? cfg->protocols : NULL;
	struct tl_err err;
	if (!tl_protocol_name_valid(proto)) {
		ret = send_error(c, 404, "unknown protocol '%s'", proto);
		goto fail;
	}
	char path[512];
	snprintf(path, sizeof path, "%s/%s.protocol", dir ? dir : tl_protocol_dir(), proto);
	if (access(path, R_OK)) {
		ret = send_error(c, 404, "unknown protocol '%s' (GET /v1/protocols lists them)", proto);
		goto fail;
	}
	if (tl_protocol_load_file(path, &caps, &cmd->protocol, &err)) {
		ret = send_error(c, 422, "protocol '%s' cannot run on this treadmill: %s", proto, err.msg);
		goto fail;
	}
	size_t len;
	cmd->protocol_text = tl_read_file(path, &len, &err);
	json_t *pj = tl_json_protocol(&cmd->protocol);
	cmd->protocol_json = json_dumps(pj, JSON_PRESERVE_ORDER | JSON_COMPACT);
	json_decref(pj);
	if (!cmd->protocol_text || !cmd->protocol_json) {
		ret = send_error(c, 500, "reading protocol '%s': %s", proto, err.msg);
		goto fail;
	}
	json_decref(body);
	return run_command(api, c, cmd);
fail:
	json_decref(body);
	free(cmd->protocol_text);
	free(cmd->protocol_json);
	free(cmd);
	return ret;
}

/* The emergency stop as libmicrohttpd serves it: on a TLS listener, whose heads the gate
 * cannot read (api_gate.c serves it on the others, on its head alone). The stop is
 * carried out whatever the body is: a malformed one is named in a "warning" of the
 * answer; one over BODY_MAX is not kept but still stops (on_request); a client that
 * stalls or goes away before its body is in still stops (on_completed). */
static void estop_now(struct tl_api *api, struct MHD_Connection *c, struct request *rq)
{
	struct tl_cmd *cmd = new_cmd(CMD_ESTOP);
	rq->stopped = true;
	if (!cmd) {
		rq->stop_status = 500;
		snprintf(rq->stop_msg, sizeof rq->stop_msg, "out of memory");
		return;
	}
	const char *def = api->d->cfg.operator_default;
	if (rq->too_big) {
		snprintf(cmd->operator_id, sizeof cmd->operator_id, "%s", def);
		snprintf(rq->warning, sizeof rq->warning, "the request body was not used (over %d bytes)",
			 BODY_MAX);
	} else {
		tl_api_estop_body(rq->body, rq->len, def, cmd->operator_id, sizeof cmd->operator_id,
				  rq->warning, sizeof rq->warning);
	}
	peer_of(c, cmd->peer, sizeof cmd->peer);
	struct tl_reply reply;
	submit_and_wait(api, cmd, &reply);
	rq->stop_status = reply.http_status;
	snprintf(rq->stop_msg, sizeof rq->stop_msg, "%s", reply.msg);
	tl_reply_destroy(&reply);
}

static enum MHD_Result cmd_estop(struct tl_api *api, struct MHD_Connection *c, struct request *rq)
{
	if (!rq->stopped)
		estop_now(api, c, rq);
	struct tl_status st;
	tl_api_snapshot(api->d, &st);
	json_t *o = tl_api_status_json(&st, api->d);
	if (rq->warning[0])
		json_object_set_new(o, "warning", json_string(rq->warning));
	if (rq->stop_status >= 300)
		json_object_set_new(o, "error", json_string(rq->stop_msg));
	return send_json(c, rq->stop_status >= 300 ? (unsigned)rq->stop_status : 200, o);
}

static enum MHD_Result cmd_simple(struct tl_api *api, struct MHD_Connection *c,
				  const struct request *rq, enum tl_cmd_kind kind)
{
	static const char *const plain[] = {"operator", NULL};
	static const char *const stop[] = {"operator", "reason", NULL};
	static const char *const relief[] = {"operator", "posture", NULL};
	const char *const *allowed = kind == CMD_STOP ? stop : kind == CMD_RELIEF ? relief : plain;
	enum MHD_Result ret;
	json_t *body = parse_body(c, rq, allowed, &ret);
	if (!body)
		return ret;
	struct tl_cmd *cmd = new_cmd(kind);
	if (!cmd) {
		json_decref(body);
		return send_error(c, 500, "out of memory");
	}
	bool ok = opt_string(c, body, "operator", cmd->operator_id, sizeof cmd->operator_id,
			     api->d->cfg.operator_default, &ret);
	if (ok && kind == CMD_STOP)
		ok = opt_string(c, body, "reason", cmd->text, sizeof cmd->text, "operator stop", &ret);
	if (ok && kind == CMD_RELIEF) {
		ok = opt_string(c, body, "posture", cmd->text, sizeof cmd->text, NULL, &ret);
		if (ok && (!cmd->text[0] || (strcmp(cmd->text, "standing") && strcmp(cmd->text, "sitting") &&
					     strcmp(cmd->text, "bending_forward")))) {
			ret = send_error(c, 400, "field 'posture' must be one of standing, sitting, bending_forward");
			ok = false;
		}
	}
	json_decref(body);
	if (!ok) {
		free(cmd);
		return ret;
	}
	return run_command(api, c, cmd);
}

/* ---------- queries ---------- */

static struct tl_store *reader(struct tl_api *api, struct tl_err *err)
{
	return tl_store_open_readonly(api->d->cfg.database, err);
}

/* A test id in canonical decimal only: 1-9 then digits, up to 18 of them ("+1", "0001",
 * " 1" and "1e0" name no test). */
static bool parse_id(const char *s, int64_t *id)
{
	size_t n = strspn(s, "0123456789");
	if (n == 0 || n > 18 || s[0] == '0' || (s[n] && s[n] != '/'))
		return false;
	int64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	*id = v;
	return true;
}

static enum MHD_Result get_test(struct tl_api *api, struct MHD_Connection *c, int64_t id)
{
	struct tl_err err;
	struct tl_store *st = reader(api, &err);
	if (!st)
		return send_error(c, 500, "%s", err.msg);
	int exists = tl_store_test_exists(st, id, &err);
	enum MHD_Result ret;
	if (exists == 0) {
		ret = send_error(c, 404, "no test %lld", (long long)id);
	} else {
		json_t *j = exists < 0 ? NULL : tl_store_test_json(st, id, &err);
		/* Changes after the fact, each with who made them and what it replaced. */
		json_t *h = j ? tl_store_history_json(st, id, &err) : NULL;
		if (h)
			json_object_set_new(j, "history", h);
		ret = h ? send_json(c, 200, j) : send_error(c, 500, "%s", err.msg);
		if (!h)
			json_decref(j);
	}
	tl_store_close(st);
	return ret;
}

/* Checks that test `id` exists; sends 404/500 and returns false if not. */
static bool test_exists(struct tl_api *api, struct MHD_Connection *c, int64_t id, enum MHD_Result *ret)
{
	struct tl_err err;
	struct tl_store *st = reader(api, &err);
	int exists = st ? tl_store_test_exists(st, id, &err) : -1;
	tl_store_close(st);
	if (exists == 1)
		return true;
	*ret = exists == 0 ? send_error(c, 404, "no test %lld", (long long)id)
			   : send_error(c, 500, "%s", err.msg);
	return false;
}

/* Queues writes for a test, recomputes its results and waits until all is committed. */
static enum MHD_Result commit_and_answer(struct tl_api *api, struct MHD_Connection *c, int64_t id,
					 const char *operator_id, const char *command, json_t *detail)
{
	struct tl_writer *w = api->d->writer;
	char *text = json_dumps(detail, JSON_COMPACT | JSON_PRESERVE_ORDER);
	char peer[64];
	peer_of(c, peer, sizeof peer);
	tl_writer_audit_by(w, operator_id, peer, command, text, "ok");
	free(text);
	tl_writer_recompute(w, id);
	struct tl_reply reply;
	tl_reply_init(&reply);
	tl_writer_barrier(w, &reply, 201, "");
	tl_reply_wait(&reply);
	enum MHD_Result ret = reply.http_status >= 300
				      ? send_error(c, (unsigned)reply.http_status, "%s", reply.msg)
				      : get_test(api, c, id);
	tl_reply_destroy(&reply);
	return ret;
}

/* An arm pressure below this is implausible for a patient walking on a treadmill: a cuff
 * or Doppler slip is likelier. Kept only with the operator's confirmation, which the record
 * keeps (docs/clinical.md, Values the lab records). A plausibility bound, not a clinical
 * threshold. */
#define ARM_PLAUSIBLE_MIN_MMHG 50.0

static enum MHD_Result add_pressure(struct tl_api *api, struct MHD_Connection *c,
				    const struct request *rq, int64_t id)
{
	static const char *const allowed[] = {"phase", "minute", "site", "mmhg", "noncompressible",
					      "confirm_implausible", "operator", NULL};
	enum MHD_Result ret;
	json_t *body = parse_body(c, rq, allowed, &ret);
	if (!body)
		return ret;
	char phase[8], site[32], op[64];
	json_t *minute = json_object_get(body, "minute"), *mmhg = json_object_get(body, "mmhg");
	json_t *nc = json_object_get(body, "noncompressible");
	json_t *confirm = json_object_get(body, "confirm_implausible");
	if (!opt_string(c, body, "phase", phase, sizeof phase, NULL, &ret) ||
	    !opt_string(c, body, "site", site, sizeof site, NULL, &ret) ||
	    !opt_string(c, body, "operator", op, sizeof op, api->d->cfg.operator_default, &ret))
		goto out;
	if (strcmp(phase, "rest") && strcmp(phase, "post")) {
		ret = send_error(c, 400, "field 'phase' must be rest or post");
		goto out;
	}
	if (!tl_pressure_site_valid(site)) {
		ret = send_error(c, 400, "field 'site' must be one of brachial-left, brachial-right, "
				 "pt-left, dp-left, pt-right, dp-right, toe-left, toe-right");
		goto out;
	}
	/* 0 is a reading (no Doppler signal); above 300 mmHg is not a systolic pressure. */
	if (!json_is_number(mmhg) || json_number_value(mmhg) < 0 || json_number_value(mmhg) > 300) {
		ret = send_error(c, 400, "field 'mmhg' must be a number from 0 to 300");
		goto out;
	}
	if ((nc && !json_is_boolean(nc)) || (confirm && !json_is_boolean(confirm))) {
		ret = send_error(c, 400, "fields 'noncompressible' and 'confirm_implausible' are "
				 "true or false");
		goto out;
	}
	/* An artery not compressible at the cuff's maximum is recorded as such, its mmhg being
	 * the cuff pressure reached; only ankle arteries are (docs/clinical.md). */
	bool noncompressible = json_is_true(nc);
	if (noncompressible && strncmp(site, "pt-", 3) && strncmp(site, "dp-", 3)) {
		ret = send_error(c, 400, "field 'noncompressible' is for an ankle artery (pt-left, "
				 "dp-left, pt-right, dp-right), not %s", site);
		goto out;
	}
	bool implausible = !strncmp(site, "brachial-", 9) &&
			   json_number_value(mmhg) < ARM_PLAUSIBLE_MIN_MMHG;
	if (implausible && !json_is_true(confirm)) {
		ret = send_error(c, 400, "field 'mmhg': an arm pressure of %g mmHg at %s is "
				 "implausible (below %g); check the cuff, or send "
				 "\"confirm_implausible\": true to keep it",
				 json_number_value(mmhg), site, ARM_PLAUSIBLE_MIN_MMHG);
		goto out;
	}
	if (!implausible && json_is_true(confirm)) {
		ret = send_error(c, 400, "field 'confirm_implausible' is only for an arm pressure "
				 "below %g mmHg", ARM_PLAUSIBLE_MIN_MMHG);
		goto out;
	}
	double min = NAN;
	if (!strcmp(phase, "post")) {
		if (!json_is_number(minute) || json_number_value(minute) < 0 || json_number_value(minute) > 120) {
			ret = send_error(c, 400, "field 'minute' (minutes after exercise, 0 to 120) is required for phase post");
			goto out;
		}
		min = json_number_value(minute);
	} else if (minute && !json_is_null(minute)) {
		ret = send_error(c, 400, "field 'minute' is for phase post; resting pressures have none");
		goto out;
	}
	if (!test_exists(api, c, id, &ret))
		goto out;
	unsigned flags = (noncompressible ? TL_STORE_PRESSURE_NONCOMPRESSIBLE : 0) |
			 (implausible ? TL_STORE_PRESSURE_CONFIRMED : 0);
	char peer[64];
	peer_of(c, peer, sizeof peer);
	tl_writer_pressure_by(api->d->writer, id, phase, min, site, json_number_value(mmhg), flags,
			      op, peer);
	json_object_set_new(body, "test", json_integer(id));
	ret = commit_and_answer(api, c, id, op, "pressure", body);
out:
	json_decref(body);
	return ret;
}

static enum MHD_Result set_findings(struct tl_api *api, struct MHD_Connection *c,
				    const struct request *rq, int64_t id)
{
	static const char *const allowed[] = {"symptoms", "operator", NULL};
	enum MHD_Result ret;
	json_t *body = parse_body(c, rq, allowed, &ret);
	if (!body)
		return ret;
	char op[64];
	json_t *sym = json_object_get(body, "symptoms");
	struct tl_symptoms parsed;
	struct tl_err err;
	if (!opt_string(c, body, "operator", op, sizeof op, api->d->cfg.operator_default, &ret))
		goto out;
	if (!json_is_object(sym)) {
		ret = send_error(c, 400, "field 'symptoms' (an object) is required");
		goto out;
	}
	if (tl_symptoms_from_json(sym, "symptoms", &parsed, &err)) {
		ret = send_error(c, 400, "%s", err.msg);
		goto out;
	}
	if (!test_exists(api, c, id, &ret))
		goto out;
	char *text = json_dumps(sym, JSON_COMPACT | JSON_PRESERVE_ORDER);
	char peer[64];
	peer_of(c, peer, sizeof peer);
	tl_writer_findings_by(api->d->writer, id, text, op, peer);
	free(text);
	json_t *detail = json_pack("{s:I}", "test", (json_int_t)id);
	ret = commit_and_answer(api, c, id, op, "findings", detail);
	json_decref(detail);
out:
	json_decref(body);
	return ret;
}

static enum MHD_Result list_tests(struct tl_api *api, struct MHD_Connection *c)
{
	const char *mrn = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "patient");
	if (mrn && !valid_mrn(mrn))
		return send_error(c, 400, "patient '%s' is not a valid MRN", mrn);
	struct tl_err err;
	struct tl_store *st = reader(api, &err);
	if (!st)
		return send_error(c, 500, "%s", err.msg);
	json_t *j = tl_store_tests_json(st, mrn, &err);
	tl_store_close(st);
	if (!j)
		return send_error(c, 500, "%s", err.msg);
	if (mrn && json_array_size(j) == 0) {
		json_decref(j);
		return send_error(c, 404, "unknown patient '%s': no tests recorded", mrn);
	}
	return send_json(c, 200, j);
}

static enum MHD_Result list_protocols(struct tl_api *api, struct MHD_Connection *c)
{
	const char *dir = api->d->cfg.protocols[0] ? api->d->cfg.protocols : NULL;
	struct tl_err err;
	char **names;
	int n = tl_protocol_list(dir, &names, &err);
	if (n < 0)
		return send_error(c, 500, "%s", err.msg);
	json_t *arr = json_array();
	for (int i = 0; i < n; i++) {
		struct tl_protocol p;
		if (tl_protocol_load_name(dir, names[i], NULL, &p, &err) == 0)
			json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "name", p.name, "title",
							     p.title, "reference", p.reference));
	}
	tl_protocol_names_free(names, n);
	return send_json(c, 200, arr);
}

static enum MHD_Result metrics(struct tl_api *api, struct MHD_Connection *c)
{
	struct tl_daemon *d = api->d;
	json_t *jit = json_array(), *est = json_array(), *at = json_array();
	pthread_mutex_lock(&d->m_mu);
	size_t nj = d->n_jitter < 4096 ? d->n_jitter : 4096;
	for (size_t i = 0; i < nj; i++)
		json_array_append_new(jit, json_integer(d->jitter_us[i]));
	size_t ne = d->n_estop < 1024 ? d->n_estop : 1024;
	for (size_t i = 0; i < ne; i++) {
		json_array_append_new(est, json_integer(d->estop_us[i]));
		json_array_append_new(at, json_integer(d->estop_at_ns[i]));
	}
	json_t *o = json_pack("{s:I, s:I, s:o, s:o, s:o}", "ticks", (json_int_t)d->ticks, "overruns",
			      (json_int_t)d->overruns, "jitter_us", jit, "estop_us", est,
			      "estop_at_ns", at);
	pthread_mutex_unlock(&d->m_mu);
	return send_json(c, 200, o);
}

/* ---------- Server-Sent Events ---------- */

struct sse {
	struct tl_api *api;
	struct listener *l;
	uint64_t seq;
	uint64_t events_sent;
	char *pending;
	size_t pending_len, pending_off;
};

static void sse_append(struct sse *s, const char *kind, json_t *j)
{
	char *text = json_dumps(j, JSON_PRESERVE_ORDER | JSON_COMPACT | JSON_REAL_PRECISION(10));
	json_decref(j);
	if (!text)
		return;
	/* "event: " kind "\ndata: " text "\n\n" is 16 bytes besides kind and text; one more
	 * for snprintf's terminating NUL, which is not part of the stream. */
	size_t add = strlen(kind) + strlen(text) + 16;
	char *p = realloc(s->pending, s->pending_len + add + 1);
	if (!p) {
		free(text);
		return;
	}
	s->pending = p;
	snprintf(p + s->pending_len, add + 1, "event: %s\ndata: %s\n\n", kind, text);
	s->pending_len += add;
	free(text);
}

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)pos;
	struct sse *s = cls;
	struct tl_daemon *d = s->api->d;
	while (s->pending_off >= s->pending_len) {
		if (atomic_load(&s->api->stopping))
			return MHD_CONTENT_READER_END_OF_STREAM;
		free(s->pending);
		s->pending = NULL;
		s->pending_len = s->pending_off = 0;
		struct tl_status st;
		pthread_mutex_lock(&d->st_mu);
		if (d->st.seq == s->seq) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			pthread_cond_timedwait(&d->st_cv, &d->st_mu, &ts);
		}
		st = d->st;
		pthread_mutex_unlock(&d->st_mu);
		if (st.seq == s->seq) {
			/* A comment line keeps idle connections alive and notices closed ones. */
			s->pending = strdup(": idle\n\n");
			s->pending_len = s->pending ? strlen(s->pending) : 0;
			continue;
		}
		s->seq = st.seq;
		uint64_t first = st.events_total > TL_RECENT_EVENTS ? st.events_total - TL_RECENT_EVENTS : 0;
		if (s->events_sent < first)
			s->events_sent = first;
		for (; s->events_sent < st.events_total; s->events_sent++)
			sse_append(s, "event", tl_json_event(&st.recent[s->events_sent % TL_RECENT_EVENTS]));
		sse_append(s, "status", tl_api_status_json(&st, d));
	}
	size_t n = s->pending_len - s->pending_off;
	if (n > max)
		n = max;
	memcpy(buf, s->pending + s->pending_off, n);
	s->pending_off += n;
	return (ssize_t)n;
}

static void sse_free(void *cls)
{
	struct sse *s = cls;
	atomic_fetch_sub(&s->l->n_streams, 1);
	free(s->pending);
	free(s);
}

/* Streams take at most TL_API_STREAMS_MAX of a listener's connections, so that the
 * rest are always there for commands. */
static enum MHD_Result events_stream(struct tl_api *api, struct MHD_Connection *c, struct request *rq)
{
	struct listener *l = (struct listener *)rq->l;
	if (atomic_fetch_add(&l->n_streams, 1) >= TL_API_STREAMS_MAX) {
		atomic_fetch_sub(&l->n_streams, 1);
		return send_error(c, 503, "too many event streams open (%d): close one and try again",
				  TL_API_STREAMS_MAX);
	}
	setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), TL_API_STREAM_NICE);
	struct sse *s = calloc(1, sizeof *s);
	if (!s) {
		atomic_fetch_sub(&l->n_streams, 1);
		return send_error(c, 500, "out of memory");
	}
	s->api = api;
	s->l = l;
	/* Only events from now on; the status first. */
	pthread_mutex_lock(&api->d->st_mu);
	s->events_sent = api->d->st.events_total;
	pthread_mutex_unlock(&api->d->st_mu);
	struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, sse_read, s, sse_free);
	if (!r) {
		sse_free(s);
		return send_error(c, 500, "out of memory");
	}
	MHD_add_response_header(r, "Content-Type", "text/event-stream");
	MHD_add_response_header(r, "Cache-Control", "no-cache");
	MHD_add_response_header(r, "Connection", "close");
	enum MHD_Result ret = MHD_queue_response(c, 200, r);
	MHD_destroy_response(r);
	return ret;
}

/* ---------- routing ---------- */

static enum MHD_Result route(struct tl_api *api, struct MHD_Connection *c, const char *url,
			     const char *method, struct request *rq)
{
	bool get = !strcmp(method, "GET"), post = !strcmp(method, "POST");
	static const struct {
		const char *path;
		enum tl_cmd_kind kind;
	} simple[] = {
		{"/v1/onset", CMD_ONSET}, {"/v1/max", CMD_MAX},       {"/v1/relief", CMD_RELIEF},
		{"/v1/stop", CMD_STOP},   {"/v1/estop", CMD_ESTOP},   {"/v1/finish", CMD_FINISH},
		/* /v1/estop by POST is cmd_estop (on_request); this row answers other methods */
	};
	for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++)
		if (!strcmp(url, simple[i].path))
			return post ? cmd_simple(api, c, rq, simple[i].kind)
				    : send_error(c, 405, "%s takes POST", url);
	if (!strcmp(url, "/v1/treadmill/reconnect"))
		return post ? cmd_simple(api, c, rq, CMD_RECONNECT) : send_error(c, 405, "%s takes POST", url);
	if (!strcmp(url, "/v1/status")) {
		if (!get)
			return send_error(c, 405, "%s takes GET", url);
		struct tl_status st;
		tl_api_snapshot(api->d, &st);
		return send_json(c, 200, tl_api_status_json(&st, api->d));
	}
	if (!strcmp(url, "/v1/events"))
		return get ? events_stream(api, c, rq) : send_error(c, 405, "%s takes GET", url);
	if (!strcmp(url, "/v1/protocols"))
		return get ? list_protocols(api, c) : send_error(c, 405, "%s takes GET", url);
	if (!strcmp(url, "/v1/metrics"))
		return get ? metrics(api, c) : send_error(c, 405, "%s takes GET", url);
	if (!strcmp(url, "/v1/tests")) {
		if (post)
			return cmd_start(api, c, rq);
		if (get)
			return list_tests(api, c);
		return send_error(c, 405, "%s takes GET or POST", url);
	}
	if (!strncmp(url, "/v1/tests/", 10)) {
		int64_t id;
		if (!parse_id(url + 10, &id))
			return send_error(c, 404, "no such resource: %s", url);
		const char *rest = strchr(url + 10, '/');
		if (!rest)
			return get ? get_test(api, c, id) : send_error(c, 405, "%s takes GET", url);
		if (!strcmp(rest, "/pressures"))
			return post ? add_pressure(api, c, rq, id) : send_error(c, 405, "%s takes POST", url);
		if (!strcmp(rest, "/findings"))
			return !strcmp(method, "PUT") ? set_findings(api, c, rq, id)
						      : send_error(c, 405, "%s takes PUT", url);
		return send_error(c, 404, "no such resource: %s", url);
	}
	return send_error(c, 404, "no such resource: %s (see docs/api.md)", url);
}

/* Compares in time independent of where the strings differ. */
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

static bool authorised(const struct listener *l, struct MHD_Connection *c)
{
	if (!l->need_token)
		return true;
	return tl_api_token_ok(l->api, MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization"));
}

/* ---------- who may ask: Host, Origin, Content-Type ----------
 *
 * A web page on any site can make a browser send requests to a loopback listener: a
 * "simple" POST (text/plain, no preflight), or any request once its own host name
 * resolves to 127.0.0.1 (DNS rebinding). So every request must name this daemon in Host,
 * an Origin header (sent by browsers) must be this daemon's own, and a request that
 * changes anything must say Content-Type: application/json, which a page can send to
 * another site only after a CORS preflight this API never grants. The emergency stop is
 * exempt from all three: it can only stop the belt, and a stop refused over a header
 * would be the wrong way to fail. */

/* Whether host is one of the comma- or space-separated names of list (no case). */
static bool in_list(const char *list, const char *host)
{
	size_t n = strlen(host);
	for (const char *p = list; *p;) {
		p += strspn(p, ", ");
		size_t k = strcspn(p, ", ");
		if (k && k == n && !strncasecmp(p, host, n))
			return true;
		p += k;
	}
	return false;
}

/* The Host values this listener answers to: [api] allowed_hosts; on the socket,
 * treadlabd (what the command line sends), localhost, 127.0.0.1 and [::1]; on TCP, those
 * loopback names with the listener's port, the address bound, and the address the
 * connection came in on (a listener on 0.0.0.0 answers to each of its addresses). */
static bool host_allowed(const struct listener *l, struct MHD_Connection *c, const char *host)
{
	static const char *const loopback[] = {"localhost", "127.0.0.1", "[::1]"};
	const struct tl_api *api = l->api;
	if (in_list(api->d->cfg.allowed_hosts, host))
		return true;
	if (l->is_unix) {
		if (!strcasecmp(host, "treadlabd"))
			return true;
		for (size_t i = 0; i < sizeof loopback / sizeof loopback[0]; i++)
			if (!strcasecmp(host, loopback[i]))
				return true;
		return false;
	}
	const char *port = strrchr(api->bound, ':');
	char want[96];
	for (size_t i = 0; port && i < sizeof loopback / sizeof loopback[0]; i++) {
		snprintf(want, sizeof want, "%s%s", loopback[i], port);
		if (!strcasecmp(host, want))
			return true;
	}
	if (!strcmp(host, api->bound))
		return true;
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct sockaddr_in sa;
	socklen_t sl = sizeof sa;
	char ip[INET_ADDRSTRLEN];
	if (!ci || getsockname(ci->connect_fd, (struct sockaddr *)&sa, &sl) || sa.sin_family != AF_INET ||
	    !inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof ip))
		return false;
	snprintf(want, sizeof want, "%s:%u", ip, ntohs(sa.sin_port));
	return !strcmp(host, want);
}

/* An Origin is this daemon's own: http(s)://HOST with an allowed HOST and nothing after. */
static bool origin_allowed(const struct listener *l, struct MHD_Connection *c, const char *origin)
{
	const char *h = !strncasecmp(origin, "http://", 7)    ? origin + 7
			: !strncasecmp(origin, "https://", 8) ? origin + 8
							      : NULL;
	return h && *h && !strchr(h, '/') && host_allowed(l, c, h);
}

static bool is_json_type(const char *ct)
{
	static const char json[] = "application/json";
	if (!ct || strncasecmp(ct, json, sizeof json - 1))
		return false;
	ct += sizeof json - 1;
	ct += strspn(ct, " \t");
	return *ct == '\0' || *ct == ';';
}

/* Refuses what is not for this daemon (see above); false once it answered. */
static bool request_allowed(const struct listener *l, struct MHD_Connection *c, const char *method,
			    enum MHD_Result *ret)
{
	const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
	const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
	const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
	if (host && !host_allowed(l, c, host)) {
		*ret = send_error(c, 403, "unknown Host '%.80s': this daemon answers to its own address "
				  "and localhost (more in [api] allowed_hosts)", host);
		return false;
	}
	if (origin && !origin_allowed(l, c, origin)) {
		*ret = send_error(c, 403, "requests from another site are refused (Origin '%.80s')", origin);
		return false;
	}
	bool mutating = strcmp(method, "GET") && strcmp(method, "HEAD");
	if (mutating && !is_json_type(ct)) {
		*ret = send_error(c, 415, "%s needs Content-Type: application/json (got %s%.60s%s)", method,
				  ct ? "'" : "", ct ? ct : "none", ct ? "'" : "");
		return false;
	}
	return true;
}

static enum MHD_Result send_unauthorised(struct MHD_Connection *c)
{
	static const char body[] = "{\"error\": \"a valid bearer token is required\"}\n";
	struct MHD_Response *r = MHD_create_response_from_buffer(sizeof body - 1, (void *)body,
								 MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "application/json");
	MHD_add_response_header(r, "WWW-Authenticate", "Bearer");
	MHD_add_response_header(r, "Connection", "close");
	enum MHD_Result ret = MHD_queue_response(c, 401, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result count_length(void *cls, enum MHD_ValueKind kind, const char *key,
				   const char *value)
{
	(void)kind, (void)value;
	if (!strcasecmp(key, "Content-Length"))
		++*(int *)cls;
	return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	(void)version;
	const struct listener *l = cls;
	struct tl_api *api = l->api;
	struct request *rq = *con_cls;
	if (!rq) {
		/* Each connection has its own thread, and carries one request (api_gate.c). Under
		 * load these threads (event streams above all) must not crowd out the gate and
		 * the control thread, which carry the emergency stop: they yield to them. */
		setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), TL_API_CONN_NICE);
		rq = calloc(1, sizeof *rq);
		if (!rq)
			return MHD_NO;
		rq->l = l;
		rq->estop = !strcmp(method, "POST") && !strcmp(url, "/v1/estop") && authorised(l, c);
		*con_cls = rq;
		if (rq->estop)
			return MHD_YES;
		if (!authorised(l, c)) {
			/* Before anything else: without the token, nothing is said about the rest. */
			rq->refused = true;
			return send_unauthorised(c);
		}
		int n_length = 0;
		MHD_get_connection_values(c, MHD_HEADER_KIND, count_length, &n_length);
		if (n_length > 1) {
			/* Which one is the body's length? Two readers may disagree (request smuggling). */
			rq->refused = true;
			return send_error(c, 400, "Content-Length given %d times: send it once", n_length);
		}
		enum MHD_Result ret;
		if (!request_allowed(l, c, method, &ret)) {
			rq->refused = true;
			return ret;
		}
		return MHD_YES;
	}
	if (rq->refused) {
		*upload_size = 0; /* answered already */
		return MHD_YES;
	}
	if (*upload_size) {
		if (rq->len + *upload_size > BODY_MAX) {
			rq->too_big = true;
			if (rq->estop && !rq->stopped)
				estop_now(api, c, rq); /* the rest is read and dropped before the answer */
		} else {
			char *b = realloc(rq->body, rq->len + *upload_size + 1);
			if (!b)
				return MHD_NO;
			memcpy(b + rq->len, upload, *upload_size);
			rq->body = b;
			rq->len += *upload_size;
			rq->body[rq->len] = '\0';
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (rq->estop)
		return cmd_estop(api, c, rq);
	if (rq->too_big)
		return send_error(c, 413, "request body larger than %d bytes", BODY_MAX);
	return route(api, c, url, method, rq);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)toe;
	struct tl_api *api = cls;
	struct request *rq = *con_cls;
	if (rq && rq->estop && !rq->stopped) {
		/* An e-stop whose body never came in whole (timed out, the client went): the
		 * belt stops all the same; there is no one to answer. */
		rq->too_big = true; /* the body is not used */
		estop_now(api, c, rq);
	}
	if (rq) {
		free(rq->body);
		free(rq);
		*con_cls = NULL;
	}
}

/* libmicrohttpd serves what the gate (api_gate.c) passes it: it accepts nothing itself.
 * A thread per connection, because commands and event streams wait (for the control
 * thread, the store, the next status); a connection idle for idle_timeout_s (a client
 * that stalls in its body or stops reading) is closed. */
static struct MHD_Daemon *start_mhd(struct tl_api *api, struct listener *l, bool tls)
{
	/* No MHD error log: a client that closes a live stream is routine, not an error. */
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
			 MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC;
	/* Room above the gate's own limit: the gate counts first and answers 503 itself. */
	unsigned limit = TL_API_CONN_MAX + 8;
	if (tls)
		return MHD_start_daemon(flags | MHD_USE_TLS, 0, NULL, NULL, on_request, l,
					MHD_OPTION_HTTPS_MEM_CERT, api->cert_pem,
					MHD_OPTION_HTTPS_MEM_KEY, api->key_pem,
					MHD_OPTION_NOTIFY_COMPLETED, on_completed, api,
					MHD_OPTION_NOTIFY_CONNECTION, tl_gate_notify, l,
					MHD_OPTION_CONNECTION_TIMEOUT, api->idle_timeout_s,
					MHD_OPTION_CONNECTION_LIMIT, limit, MHD_OPTION_END);
	return MHD_start_daemon(flags, 0, NULL, NULL, on_request, l,
				MHD_OPTION_NOTIFY_COMPLETED, on_completed, api,
				MHD_OPTION_NOTIFY_CONNECTION, tl_gate_notify, l,
				MHD_OPTION_CONNECTION_TIMEOUT, api->idle_timeout_s,
				MHD_OPTION_CONNECTION_LIMIT, limit, MHD_OPTION_END);
}

/* Reads the bearer token: one line, at least 16 characters, no spaces. */
static int load_token(const char *path, char *out, size_t cap, struct tl_err *err)
{
	size_t len;
	char *text = tl_read_file(path, &len, err);
	if (!text)
		return -1;
	while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		text[--len] = '\0';
	int rc = 0;
	if (len < 16 || len >= cap || strpbrk(text, " \t\n\r")) {
		tl_err_set(err, "%s: the token must be one line of 16 to %zu characters without spaces",
			   path, cap - 1);
		rc = -1;
	} else {
		memcpy(out, text, len + 1);
	}
	memset(text, 0, len);
	free(text);
	return rc;
}

static int unix_listener(const char *path, struct tl_err *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof sa.sun_path) {
		tl_err_set(err, "api socket path '%s' is too long", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	struct stat sb;
	if (lstat(path, &sb) == 0) {
		if (!S_ISSOCK(sb.st_mode)) {
			tl_err_set(err, "api socket path '%s' exists and is not a socket", path);
			return -1;
		}
		/* A socket nobody answers on is a leftover of a dead daemon. */
		int probe = socket(AF_UNIX, SOCK_STREAM, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0) {
			close(probe);
			tl_err_set(err, "api socket '%s' is in use: is another treadlabd running?", path);
			return -1;
		}
		if (probe >= 0)
			close(probe);
		unlink(path);
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) || chmod(path, 0660) ||
	    listen(fd, 512)) {
		tl_err_set(err, "api socket '%s': %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int tcp_listener(const char *listen_addr, char *bound, size_t cap, struct tl_err *err)
{
	char host[64];
	int port;
	bool lo;
	if (tl_listen_parse(listen_addr, host, sizeof host, &port, &lo)) {
		tl_err_set(err, "api listen '%s' is not ADDR:PORT", listen_addr);
		return -1;
	}
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (!strcmp(host, "localhost"))
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		tl_err_set(err, "api listen '%s': bad address", listen_addr);
		return -1;
	}
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int one = 1;
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) || listen(fd, 512)) {
		tl_err_set(err, "api listen '%s': %s", listen_addr, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	socklen_t sl = sizeof sa;
	getsockname(fd, (struct sockaddr *)&sa, &sl);
	char ip[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof ip);
	snprintf(bound, cap, "%s:%u", ip, ntohs(sa.sin_port));
	return fd;
}

const char *tl_api_bound(const struct tl_api *api)
{
	return api->bound[0] ? api->bound : "-";
}

/* The gate holds up to TL_API_PENDING_MAX connections besides libmicrohttpd's: the soft
 * limit on descriptors goes up to what that needs, as far as the hard limit allows. If
 * it cannot, the gate makes room by closing the slowest waiting head. */
static void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= TL_API_NOFILE)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > TL_API_NOFILE ? TL_API_NOFILE
										  : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		syslog(LOG_WARNING, "api: raising the limit on open files: %m");
}

struct tl_api *tl_api_start(struct tl_daemon *d, struct tl_err *err)
{
	struct tl_api *api = calloc(1, sizeof *api);
	if (!api) {
		tl_err_set(err, "out of memory");
		return NULL;
	}
	api->d = d;
	api->idle_timeout_s = TL_API_IDLE_TIMEOUT_S;
	raise_nofile();
	api->unix_l.fd = api->tcp_l.fd = -1;
	pthread_mutex_init(&api->gate_mu, NULL);
	if (d->cfg.socket[0]) {
		struct listener *l = &api->unix_l;
		*l = (struct listener){.api = api, .is_unix = true};
		l->fd = unix_listener(d->cfg.socket, err);
		if (l->fd < 0)
			goto fail;
		snprintf(api->socket_path, sizeof api->socket_path, "%s", d->cfg.socket);
		api->have_unix = true;
		l->mhd = start_mhd(api, l, false);
		if (!l->mhd) {
			tl_err_set(err, "cannot start the HTTP server on '%s'", d->cfg.socket);
			goto fail;
		}
	}
	if (d->cfg.listen[0]) {
		const struct tl_config *cfg = &d->cfg;
		size_t len;
		bool tls = cfg->tls_cert[0];
		if (tls && (!(api->cert_pem = tl_read_file(cfg->tls_cert, &len, err)) ||
			    !(api->key_pem = tl_read_file(cfg->tls_key, &len, err))))
			goto fail;
		if (cfg->token_file[0] && load_token(cfg->token_file, api->token, sizeof api->token, err))
			goto fail;
		struct listener *l = &api->tcp_l;
		*l = (struct listener){.api = api, .tls = tls, .need_token = cfg->token_file[0] != '\0'};
		l->fd = tcp_listener(cfg->listen, api->bound, sizeof api->bound, err);
		if (l->fd < 0)
			goto fail;
		api->have_tcp = true;
		l->mhd = start_mhd(api, l, tls);
		if (!l->mhd) {
			tl_err_set(err, "cannot start the HTTP%s server on '%s'%s", tls ? "S" : "",
				   d->cfg.listen, tls ? " (is the certificate or key malformed?)" : "");
			goto fail;
		}
	}
	if (tl_gate_start(api, err))
		goto fail;
	return api;
fail:
	tl_api_stop(api);
	return NULL;
}

void tl_api_stop(struct tl_api *api)
{
	if (!api)
		return;
	atomic_store(&api->stopping, 1);
	/* The gate first: nothing new reaches libmicrohttpd after it. */
	tl_gate_stop(api);
	pthread_mutex_lock(&api->d->st_mu);
	pthread_cond_broadcast(&api->d->st_cv);
	pthread_mutex_unlock(&api->d->st_mu);
	struct listener *ls[2] = {&api->unix_l, &api->tcp_l};
	for (int i = 0; i < 2; i++) {
		if (ls[i]->mhd)
			MHD_stop_daemon(ls[i]->mhd);
		if (ls[i]->fd >= 0)
			close(ls[i]->fd);
	}
	if (api->socket_path[0])
		unlink(api->socket_path);
	free(api->cert_pem);
	free(api->key_pem);
	memset(api->token, 0, sizeof api->token);
	pthread_mutex_destroy(&api->gate_mu);
	free(api);
}
