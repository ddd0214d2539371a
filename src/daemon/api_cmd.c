/* api_cmd.c - commands: each is handed to the control thread, and answered once what it
 * caused is committed (the emergency stop: once the driver has it). */
#include "api_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json_out.h"
#include "protocol_files.h"

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
	tl_api_peer_of(c, cmd->peer, sizeof cmd->peer);
	submit_and_wait(api, cmd, &reply);
	enum MHD_Result ret;
	if (reply.http_status >= 300) {
		ret = tl_api_send_error(c, (unsigned)reply.http_status, "%s", reply.msg);
	} else {
		struct tl_status st;
		tl_api_snapshot(api->d, &st);
		json_t *o = tl_api_status_json(&st, api->d);
		if (o && reply.http_status == 201 &&
		    json_object_set_new(o, "id", json_integer(reply.test_id))) {
			json_decref(o);
			o = NULL;
		}
		/* The command was carried out: a 500 for want of memory must say so. */
		ret = o ? tl_api_send_json(c, (unsigned)reply.http_status, o)
			: reply.http_status == 201
				? tl_api_send_error(c, 500, "test %lld started, but out of memory for the "
						    "answer (GET /v1/status)", (long long)reply.test_id)
				: tl_api_send_error(c, 500, "done, but out of memory for the answer "
						    "(GET /v1/status)");
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

enum MHD_Result tl_api_cmd_start(struct tl_api *api, struct MHD_Connection *c, struct tl_api_request *rq)
{
	static const char *const allowed[] = {"protocol", "patient", "operator", NULL};
	enum MHD_Result ret;
	json_t *body = tl_api_parse_body(c, rq, allowed, &ret);
	if (!body)
		return ret;
	struct tl_cmd *cmd = new_cmd(CMD_START);
	char proto[64];
	if (!cmd) {
		json_decref(body);
		return tl_api_send_error(c, 500, "out of memory");
	}
	if (!json_is_string(json_object_get(body, "protocol")) ||
	    !json_is_string(json_object_get(body, "patient"))) {
		ret = tl_api_send_error(c, 400, "'protocol' and 'patient' are required strings");
		goto fail;
	}
	if (!tl_api_opt_string(c, body, "protocol", proto, sizeof proto, NULL, &ret) ||
	    !tl_api_opt_string(c, body, "patient", cmd->patient, sizeof cmd->patient, NULL, &ret) ||
	    !tl_api_operator(c, rq, body, cmd->operator_id, sizeof cmd->operator_id,
			     api->d->cfg.operator_default, &ret))
		goto fail;
	if (!tl_api_valid_mrn(cmd->patient)) {
		ret = tl_api_send_error(c, 400, "patient '%s' is not a valid MRN (1-64 of A-Z a-z 0-9 . _ -)", cmd->patient);
		goto fail;
	}
	const struct tl_config *cfg = &api->d->cfg;
	struct tl_device_caps caps = {
		.max_speed_kmh = fmin(cfg->max_speed_kmh, cfg->limits.max_speed_kmh),
		.max_grade_pct = fmin(cfg->max_grade_pct, cfg->limits.max_grade_pct)};
	const char *dir = cfg->protocols[0] ? cfg->protocols : NULL;
	struct tl_err err;
	if (!tl_protocol_name_valid(proto)) {
		ret = tl_api_send_error(c, 404, "unknown protocol '%s'", proto);
		goto fail;
	}
	char path[512];
	snprintf(path, sizeof path, "%s/%s.protocol", dir ? dir : tl_protocol_dir(), proto);
	if (access(path, R_OK)) {
		ret = tl_api_send_error(c, 404, "unknown protocol '%s' (GET /v1/protocols lists them)", proto);
		goto fail;
	}
	if (tl_protocol_load_file(path, &caps, &cmd->protocol, &err)) {
		ret = tl_api_send_error(c, 422, "protocol '%s' cannot run on this treadmill: %s", proto, err.msg);
		goto fail;
	}
	size_t len;
	cmd->protocol_text = tl_read_file(path, &len, &err);
	json_t *pj = tl_json_protocol(&cmd->protocol);
	cmd->protocol_json = json_dumps(pj, JSON_PRESERVE_ORDER | JSON_COMPACT);
	json_decref(pj);
	if (!cmd->protocol_text) {
		ret = tl_api_send_error(c, 500, "reading protocol '%s': %s", proto, err.msg);
		goto fail;
	}
	if (!cmd->protocol_json) {
		ret = tl_api_send_error(c, 500, "protocol '%s': out of memory", proto);
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
 * answer; one over TL_API_BODY_MAX, or that finds no memory, is not kept but still
 * stops (on_request in api_listen.c); a client that stalls or goes away before its body
 * is in still stops (on_completed). */
void tl_api_estop_now(struct tl_api *api, struct MHD_Connection *c, struct tl_api_request *rq)
{
	struct tl_cmd *cmd = new_cmd(CMD_ESTOP);
	rq->stopped = true;
	if (!cmd) {
		rq->stop_status = 500;
		snprintf(rq->stop_msg, sizeof rq->stop_msg, "out of memory");
		return;
	}
	const char *def = api->d->cfg.operator_default;
	if (rq->too_big || rq->no_memory) {
		snprintf(cmd->operator_id, sizeof cmd->operator_id, "%s", def);
		if (rq->too_big)
			snprintf(rq->warning, sizeof rq->warning,
				 "the request body was not used (over %d bytes)", TL_API_BODY_MAX);
		else
			snprintf(rq->warning, sizeof rq->warning,
				 "the request body was not used (out of memory)");
	} else {
		tl_api_estop_body(rq->body, rq->len, def, cmd->operator_id, sizeof cmd->operator_id,
				  rq->warning, sizeof rq->warning);
	}
	if (rq->has_session) /* the account stops, whoever the body names */
		snprintf(cmd->operator_id, sizeof cmd->operator_id, "%s", rq->who.user);
	tl_api_peer_of(c, cmd->peer, sizeof cmd->peer);
	struct tl_reply reply;
	submit_and_wait(api, cmd, &reply);
	rq->stop_status = reply.http_status;
	snprintf(rq->stop_msg, sizeof rq->stop_msg, "%s", reply.msg);
	tl_reply_destroy(&reply);
}

enum MHD_Result tl_api_cmd_estop(struct tl_api *api, struct MHD_Connection *c,
				 struct tl_api_request *rq)
{
	if (!rq->stopped)
		tl_api_estop_now(api, c, rq);
	struct tl_status st;
	tl_api_snapshot(api->d, &st);
	json_t *o = tl_api_status_json(&st, api->d);
	if (o && ((rq->warning[0] && json_object_set_new(o, "warning", json_string(rq->warning))) ||
		  (rq->stop_status >= 300 &&
		   json_object_set_new(o, "error", json_string(rq->stop_msg))))) {
		json_decref(o);
		o = NULL;
	}
	if (!o && rq->stop_status < 300)
		return tl_api_send_error(c, 500, "the emergency stop was carried out, but out of "
					 "memory for the answer (GET /v1/status)");
	if (!o)
		return tl_api_send_error(c, (unsigned)rq->stop_status, "%s", rq->stop_msg);
	return tl_api_send_json(c, rq->stop_status >= 300 ? (unsigned)rq->stop_status : 200, o);
}

enum MHD_Result tl_api_cmd_simple(struct tl_api *api, struct MHD_Connection *c,
				  struct tl_api_request *rq)
{
	enum tl_cmd_kind kind = (enum tl_cmd_kind)rq->arg;
	static const char *const plain[] = {"operator", NULL};
	static const char *const stop[] = {"operator", "reason", NULL};
	static const char *const relief[] = {"operator", "posture", NULL};
	const char *const *allowed = kind == CMD_STOP ? stop : kind == CMD_RELIEF ? relief : plain;
	enum MHD_Result ret;
	json_t *body = tl_api_parse_body(c, rq, allowed, &ret);
	if (!body)
		return ret;
	struct tl_cmd *cmd = new_cmd(kind);
	if (!cmd) {
		json_decref(body);
		return tl_api_send_error(c, 500, "out of memory");
	}
	bool ok = tl_api_operator(c, rq, body, cmd->operator_id, sizeof cmd->operator_id,
				  api->d->cfg.operator_default, &ret);
	if (ok && kind == CMD_STOP)
		ok = tl_api_opt_string(c, body, "reason", cmd->text, sizeof cmd->text, "operator stop", &ret);
	if (ok && kind == CMD_RELIEF) {
		ok = tl_api_opt_string(c, body, "posture", cmd->text, sizeof cmd->text, NULL, &ret);
		if (ok && (!cmd->text[0] || (strcmp(cmd->text, "standing") && strcmp(cmd->text, "sitting") &&
					     strcmp(cmd->text, "bending_forward")))) {
			ret = tl_api_send_error(c, 400, "field 'posture' must be one of standing, sitting, bending_forward");
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
