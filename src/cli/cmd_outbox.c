/* treadlab outbox [--json] | show ID [--json] | retry ID [--operator ID] |
 * cancel ID [--operator ID] | send TEST-ID [--operator ID]: the messages to the medical record, through the daemon's
 * API (docs/api.md, The outbox; docs/records.md). */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_client.h"
#include "cli.h"
#include "json_out.h"

static const char *str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "-";
}

static int parse_id(const char *sub, const char *s, long long *out)
{
	char *end;
	errno = 0;
	long long n = s ? strtoll(s, &end, 10) : 0;
	if (!s || *end || errno || n <= 0)
		return cli_usage("outbox %s: '%s' is not a %s id (a positive number)", sub,
				 s ? s : "", strcmp(sub, "send") ? "message" : "test");
	*out = n;
	return 0;
}

static void print_row(json_t *m)
{
	printf("%-6lld %-6lld %-5s %-10s %-8lld %-25s %s\n",
	       (long long)json_integer_value(json_object_get(m, "id")),
	       (long long)json_integer_value(json_object_get(m, "test")), str(m, "kind"),
	       str(m, "state"), (long long)json_integer_value(json_object_get(m, "attempts")),
	       !strcmp(str(m, "state"), "queued") ? str(m, "next_at") : "-", str(m, "last_error"));
}

static int list(const struct tl_client *c, bool json)
{
	json_t *r = tl_client_call(c, "GET", "/v1/outbox", NULL);
	if (!r)
		return 1;
	if (json) {
		tl_json_print(r);
	} else if (json_array_size(r) == 0) {
		printf("the outbox is empty\n");
	} else {
		printf("%-6s %-6s %-5s %-10s %-8s %-25s %s\n", "ID", "TEST", "KIND", "STATE",
		       "ATTEMPTS", "NEXT ATTEMPT", "LAST ERROR");
		size_t i;
		json_t *m;
		json_array_foreach(r, i, m)
			print_row(m);
	}
	json_decref(r);
	return 0;
}

static int show(const struct tl_client *c, long long id, bool json)
{
	char path[64];
	snprintf(path, sizeof path, "/v1/outbox/%lld", id);
	json_t *r = tl_client_call(c, "GET", path, NULL);
	if (!r)
		return 1;
	if (json) {
		tl_json_print(r);
		json_decref(r);
		return 0;
	}
	printf("message %lld of test %lld (%s, report version %lld), control id %s\n", id,
	       (long long)json_integer_value(json_object_get(r, "test")), str(r, "kind"),
	       (long long)json_integer_value(json_object_get(r, "report_version")),
	       str(r, "control_id"));
	printf("state %s, %lld attempt(s) this round, created %s%s%s\n", str(r, "state"),
	       (long long)json_integer_value(json_object_get(r, "attempts")), str(r, "created_at"),
	       json_is_string(json_object_get(r, "delivered_at")) ? ", delivered " : "",
	       json_is_string(json_object_get(r, "delivered_at")) ? str(r, "delivered_at") : "");
	size_t i;
	json_t *h;
	json_array_foreach(json_object_get(r, "history"), i, h)
		printf("  %s  %-16s %s\n", str(h, "at"), str(h, "event"),
		       json_is_string(json_object_get(h, "detail")) ? str(h, "detail") : "");
	json_decref(r);
	return 0;
}

static int act(const struct tl_client *c, const char *sub, long long id, const char *op)
{
	char path[64];
	if (!strcmp(sub, "send"))
		snprintf(path, sizeof path, "/v1/tests/%lld/send", id);
	else
		snprintf(path, sizeof path, "/v1/outbox/%lld/%s", id, sub);
	json_t *body = op ? json_pack("{s:s}", "operator", op) : json_object();
	if (!body)
		return cli_fail("outbox %s: out of memory", sub);
	json_t *r = tl_client_call(c, "POST", path, body);
	json_decref(body);
	if (!r)
		return 1;
	if (!strcmp(sub, "send")) {
		const char *k;
		json_t *v;
		json_object_foreach(json_object_get(r, "outbox"), k, v)
			printf("test %lld: %s %s\n", id, k, json_string_value(v));
	} else {
		printf("message %lld: %s (control id %s)\n", id, str(r, "state"), str(r, "control_id"));
	}
	json_decref(r);
	return 0;
}

int cmd_outbox(int argc, char **argv)
{
	struct tl_client c;
	if (tl_client_init(&c, &argc, argv))
		return 1;
	const char *sub = argc > 0 && argv[0][0] != '-' ? argv[0] : "list";
	if (argc > 0 && argv[0][0] != '-')
		argc--, argv++;
	bool json = false;
	const char *id = NULL, *op = NULL;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--operator") && i + 1 < argc)
			op = argv[++i];
		else if (argv[i][0] != '-' && !id)
			id = argv[i];
		else
			return cli_usage("outbox: unexpected argument '%s'", argv[i]);
	}
	long long n = 0;
	if (!strcmp(sub, "list")) {
		if (id)
			return cli_usage("outbox: unexpected argument '%s'", id);
		return list(&c, json);
	}
	if (strcmp(sub, "show") && strcmp(sub, "retry") && strcmp(sub, "cancel") && strcmp(sub, "send"))
		return cli_usage("outbox: unknown subcommand '%s' (list, show, retry, cancel, send)", sub);
	int rc = parse_id(sub, id, &n);
	if (rc)
		return rc;
	if (!strcmp(sub, "show"))
		return show(&c, n, json);
	return act(&c, sub, n, op);
}
