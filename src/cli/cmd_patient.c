/* cmd_patient.c - treadlab patient (a patient's demographics) and treadlab order (a test's
 * accession and ordering physician), through the daemon's API (docs/api.md, Patients and
 * orders). The daemon checks every value: one rule, one message, whoever sends it. */
#include <stdio.h>
#include <string.h>

#include "api_client.h"
#include "cli.h"

struct opt {
	const char *flag, *key; /* --flag and the body's key */
	const char *value;
};

/* Takes "--flag VALUE" pairs of opts and at most one positional argument; 0, or the exit
 * status of a usage error. An empty VALUE ("") sends null: clears the field. */
static int parse(const char *cmd, const char *usage, int argc, char **argv, struct opt *opts,
		 size_t n, const char **pos, bool *json)
{
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			*json = true;
			continue;
		}
		size_t k = 0;
		while (k < n && strcmp(argv[i], opts[k].flag))
			k++;
		if (k < n) {
			if (++i >= argc)
				return cli_usage("%s: %s needs a value", cmd, argv[i - 1]);
			opts[k].value = argv[i];
		} else if (argv[i][0] == '-' || *pos) {
			return cli_usage("%s: unexpected '%s' (usage: %s)", cmd, argv[i], usage);
		} else {
			*pos = argv[i];
		}
	}
	if (!*pos)
		return cli_usage("%s: usage: %s", cmd, usage);
	return 0;
}

static const char *or_dash(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "-";
}

static int print_patient(json_t *p, bool json)
{
	if (!p)
		return 1;
	if (json) {
		json_dumpf(p, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
	} else {
		printf("patient     %s\nauthority   %s\nfamily      %s\ngiven       %s\n"
		       "birth date  %s\nsex         %s\n",
		       or_dash(p, "mrn"), or_dash(p, "assigning_authority"), or_dash(p, "family"),
		       or_dash(p, "given"), or_dash(p, "birth_date"), or_dash(p, "sex"));
	}
	json_decref(p);
	return 0;
}

/* The body's key for each option given: the value, or null for "". */
static int set_fields(json_t *obj, const struct opt *opts, size_t n)
{
	int set = 0;
	for (size_t k = 0; k < n; k++) {
		if (!opts[k].value)
			continue;
		json_object_set_new(obj, opts[k].key,
				    opts[k].value[0] ? json_string(opts[k].value) : json_null());
		set++;
	}
	return set;
}

int cmd_patient(int argc, char **argv)
{
	struct tl_client c;
	if (tl_client_init(&c, &argc, argv))
		return 1;
	struct opt opts[] = {
		{"--authority", "assigning_authority", NULL}, {"--family", "family", NULL},
		{"--given", "given", NULL},		    {"--birth-date", "birth_date", NULL},
		{"--sex", "sex", NULL},			    {"--operator", "operator", NULL},
	};
	const size_t n = sizeof opts / sizeof opts[0];
	const char *mrn = NULL;
	bool json = false;
	int rc = parse("patient", "patient MRN [--authority A] [--family F] [--given G] "
		       "[--birth-date YYYY-MM-DD] [--sex female|male|other|unknown]",
		       argc, argv, opts, n, &mrn, &json);
	if (rc)
		return rc;
	if (strspn(mrn, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") !=
		    strlen(mrn) || strlen(mrn) > 64)
		return cli_usage("patient: '%s' is not an MRN (1 to 64 of A-Z a-z 0-9 . _ -)", mrn);
	char path[128];
	snprintf(path, sizeof path, "/v1/patients/%s", mrn);
	json_t *body = json_object();
	if (!body)
		return cli_fail("out of memory");
	bool changes = set_fields(body, opts, n - 1) > 0;
	set_fields(body, opts + n - 1, 1);
	json_t *r = changes ? tl_client_call(&c, "PUT", path, body) : tl_client_call(&c, "GET", path, NULL);
	json_decref(body);
	return print_patient(r, json);
}

int cmd_order(int argc, char **argv)
{
	struct tl_client c;
	if (tl_client_init(&c, &argc, argv))
		return 1;
	struct opt opts[] = {
		{"--accession", "accession", NULL},	{"--physician-id", "id", NULL},
		{"--physician-family", "family", NULL}, {"--physician-given", "given", NULL},
		{"--operator", "operator", NULL},
	};
	const char *id = NULL;
	bool json = false;
	int rc = parse("order", "order ID [--accession X] [--physician-id I] [--physician-family F] "
		       "[--physician-given G]", argc, argv, opts, sizeof opts / sizeof opts[0], &id, &json);
	if (rc)
		return rc;
	if (strspn(id, "0123456789") != strlen(id) || id[0] == '0' || strlen(id) > 18)
		return cli_usage("order: expected a test id (a positive number), got '%s'", id);
	json_t *body = json_object(), *ph = json_object();
	if (!body || !ph || json_object_set_new(body, "ordering_physician", ph)) {
		json_decref(body);
		return cli_fail("out of memory");
	}
	int set = set_fields(body, opts, 1) + set_fields(ph, opts + 1, 3);
	set_fields(body, opts + 4, 1);
	if (!json_object_size(ph))
		json_object_del(body, "ordering_physician");
	if (!set) {
		json_decref(body);
		return cli_usage("order: give --accession or a --physician-* option to set");
	}
	char path[64];
	snprintf(path, sizeof path, "/v1/tests/%s/order", id);
	json_t *r = tl_client_call(&c, "PUT", path, body);
	json_decref(body);
	if (!r)
		return 1;
	json_t *o = json_object_get(r, "order");
	json_t *p = json_object_get(o, "ordering_physician");
	if (json) {
		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
	} else {
		printf("test        %s\naccession   %s\nphysician   %s (%s %s)\n", id, or_dash(o, "accession"),
		       or_dash(p, "id"), or_dash(p, "given"), or_dash(p, "family"));
	}
	json_decref(r);
	return 0;
}
