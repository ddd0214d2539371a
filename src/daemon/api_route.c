/* api_route.c - which handler serves which path and method (how to add one: api_int.h).
 * docs/api.md documents every route. */
#include "api_int.h"
#include "cuffd.h"

#include <stdio.h>
#include <string.h>

struct route {
	const char *path;   /* "{id}" matches a test id (tl_api_parse_id) */
	const char *method;
	tl_api_handler handler;
	int arg;            /* handed to the handler as rq->arg */
	enum tl_api_who who; /* who may call it from a login session */
};

/* A path with more than one method lists them in the order its 405 names them. */
static const struct route routes[] = {
	{"/v1/status", "GET", tl_api_get_status, 0, TL_WHO_ANYONE},
	{"/v1/events", "GET", tl_api_events, 0, TL_WHO_ANYONE},
	{"/v1/protocols", "GET", tl_api_get_protocols, 0, TL_WHO_ANYONE},
	{"/v1/protocols/{name}", "GET", tl_api_get_protocol, 0, TL_WHO_ANYONE},
	{"/v1/metrics", "GET", tl_api_get_metrics, 0, TL_WHO_ANYONE},
	{"/v1/tests", "GET", tl_api_get_tests, 0, TL_WHO_ANYONE},
	{"/v1/tests", "POST", tl_api_cmd_start, 0, TL_WHO_RECORDER},
	{"/v1/tests/{id}", "GET", tl_api_get_test, 0, TL_WHO_ANYONE},
	{"/v1/tests/{id}/pressures", "POST", tl_api_add_pressure, 0, TL_WHO_RECORDER},
	{"/v1/tests/{id}/findings", "PUT", tl_api_set_findings, 0, TL_WHO_RECORDER},
	{"/v1/tests/{id}/order", "PUT", tl_api_put_order, 0, TL_WHO_RECORDER},
	{"/v1/patients/{mrn}", "GET", tl_api_get_patient, 0, TL_WHO_ANYONE},
	{"/v1/patients/{mrn}", "PUT", tl_api_put_patient, 0, TL_WHO_RECORDER},
	{"/v1/tests/{id}/report.pdf", "GET", tl_api_get_report, 0, TL_WHO_ANYONE},
	{"/v1/tests/{id}/sign", "POST", tl_api_sign_report, 0, TL_WHO_HANDLER}, /* a physician */
	{"/v1/tests/{id}/hl7", "GET", tl_api_get_hl7, 0, TL_WHO_ANYONE},
	{"/v1/tests/{id}/fhir", "GET", tl_api_get_fhir, 0, TL_WHO_ANYONE},
	{"/v1/export.csv", "GET", tl_api_get_export, 0, TL_WHO_ANYONE},
	{"/v1/tests/{id}/send", "POST", tl_api_outbox_send, 0, TL_WHO_RECORDER},
	{"/v1/outbox", "GET", tl_api_get_outbox, 0, TL_WHO_ANYONE},
	{"/v1/outbox/{id}", "GET", tl_api_get_outbox_msg, 0, TL_WHO_ANYONE},
	{"/v1/outbox/{id}/retry", "POST", tl_api_outbox_act, 0, TL_WHO_RECORDER},
	{"/v1/outbox/{id}/cancel", "POST", tl_api_outbox_act, 1, TL_WHO_RECORDER},
	{"/v1/cuff", "GET", tl_api_get_cuff, 0, TL_WHO_ANYONE},
	{"/v1/cuff/series", "POST", tl_api_cuff_act, TL_CUFFD_SERIES, TL_WHO_RECORDER},
	{"/v1/cuff/site", "POST", tl_api_cuff_act, TL_CUFFD_SITE, TL_WHO_RECORDER},
	{"/v1/cuff/inflate", "POST", tl_api_cuff_act, TL_CUFFD_INFLATE, TL_WHO_RECORDER},
	{"/v1/cuff/mark", "POST", tl_api_cuff_act, TL_CUFFD_MARK, TL_WHO_RECORDER},
	{"/v1/cuff/vent", "POST", tl_api_cuff_act, TL_CUFFD_VENT, TL_WHO_ANYONE},
	{"/v1/cuff/end", "POST", tl_api_cuff_act, TL_CUFFD_END, TL_WHO_RECORDER},
	{"/v1/onset", "POST", tl_api_cmd_simple, CMD_ONSET, TL_WHO_RECORDER},
	{"/v1/max", "POST", tl_api_cmd_simple, CMD_MAX, TL_WHO_RECORDER},
	{"/v1/relief", "POST", tl_api_cmd_simple, CMD_RELIEF, TL_WHO_RECORDER},
	{"/v1/stop", "POST", tl_api_cmd_simple, CMD_STOP, TL_WHO_RECORDER},
	/* POST /v1/estop is served before routing (api_gate.c, or tl_api_cmd_estop on a TLS
	 * listener); this row answers the other methods */
	{"/v1/estop", "POST", tl_api_cmd_simple, CMD_ESTOP, TL_WHO_ANYONE},
	{"/v1/finish", "POST", tl_api_cmd_simple, CMD_FINISH, TL_WHO_RECORDER},
	{"/v1/treadmill/reconnect", "POST", tl_api_cmd_simple, CMD_RECONNECT, TL_WHO_RECORDER},
	{"/v1/session", "GET", tl_api_session_get, 0, TL_WHO_ANYONE},
	{"/v1/session", "POST", tl_api_session_login, 0, TL_WHO_HANDLER},
	{"/v1/session", "DELETE", tl_api_session_logout, 0, TL_WHO_HANDLER},
	{"/v1/users", "GET", tl_api_users_list, 0, TL_WHO_ANYONE},
	{"/v1/users", "POST", tl_api_users_add, 0, TL_WHO_HANDLER}, /* an admin */
	{"/v1/users/{name}", "PUT", tl_api_users_change, 0, TL_WHO_HANDLER},
};

size_t tl_api_parse_id(const char *s, int64_t *id)
{
	size_t n = strspn(s, "0123456789");
	if (n == 0 || n > 18 || s[0] == '0')
		return 0;
	int64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	*id = v;
	return n;
}

/* Whether url is path, "{id}" standing for a test id (put in *id), "{name}" for an
 * account's name (1 to 32 of a-z 0-9 . _ -, copied to name), "{mrn}" for a patient's MRN
 * (1 to 64 of A-Z a-z 0-9 . _ -, as tl_api_valid_mrn, copied to name). */
static bool match(const char *path, const char *url, int64_t *id, char name[65])
{
	static const char param[] = "{id}", pname[] = "{name}", pmrn[] = "{mrn}";
	while (*path) {
		if (!strncmp(path, param, sizeof param - 1)) {
			size_t n = tl_api_parse_id(url, id);
			if (!n)
				return false;
			url += n;
			path += sizeof param - 1;
		} else if (!strncmp(path, pname, sizeof pname - 1)) {
			size_t n = strspn(url, "abcdefghijklmnopqrstuvwxyz0123456789._-");
			if (!n || n > 32)
				return false;
			memcpy(name, url, n);
			name[n] = '\0';
			url += n;
			path += sizeof pname - 1;
		} else if (!strncmp(path, pmrn, sizeof pmrn - 1)) {
			size_t n = strspn(url, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					       "0123456789._-");
			if (!n || n > 64)
				return false;
			memcpy(name, url, n);
			name[n] = '\0';
			url += n;
			path += sizeof pmrn - 1;
		} else if (*path++ != *url++) {
			return false;
		}
	}
	return *url == '\0';
}

enum tl_api_who tl_api_route_who(const char *url, const char *method)
{
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		int64_t id;
		char name[65];
		if (!strcmp(routes[i].method, method) && match(routes[i].path, url, &id, name))
			return routes[i].who;
	}
	return TL_WHO_RECORDER;
}

enum MHD_Result tl_api_route(struct tl_api *api, struct MHD_Connection *c, const char *url,
			     const char *method, struct tl_api_request *rq)
{
	const size_t n = sizeof routes / sizeof routes[0];
	char methods[64] = "";
	size_t n_methods = 0;
	for (size_t i = 0; i < n; i++) {
		int64_t id = 0;
		char name[65] = "";
		if (!match(routes[i].path, url, &id, name))
			continue;
		if (!strcmp(routes[i].method, method)) {
			rq->id = id;
			memcpy(rq->name, name, sizeof rq->name);
			rq->arg = routes[i].arg;
			return routes[i].handler(api, c, rq);
		}
		n_methods++;
	}
	if (!n_methods && tl_api_static_path(url))
		return tl_api_static(api, c, url, method);
	if (!n_methods) {
		/* Under /v1/tests/ the path names a test that is not one (docs/api.md). */
		if (!strncmp(url, "/v1/tests/", 10))
			return tl_api_send_error(c, 404, "no such resource: %s", url);
		return tl_api_send_error(c, 404, "no such resource: %s (see docs/api.md)", url);
	}
	/* "GET", "GET or POST", "GET, POST or PUT" */
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		int64_t id;
		char name[65];
		if (!match(routes[i].path, url, &id, name))
			continue;
		size_t len = strlen(methods);
		const char *sep = k == 0 ? "" : k + 1 == n_methods ? " or " : ", ";
		snprintf(methods + len, sizeof methods - len, "%s%s", sep, routes[i].method);
		k++;
	}
	return tl_api_send_error(c, 405, "%s takes %s", url, methods);
}
