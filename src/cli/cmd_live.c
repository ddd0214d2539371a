/* Live commands: talk to treadlabd through its API (see docs/api.md). */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_client.h"
#include "classifier.h"
#include "cli.h"
#include "json_out.h"

/* Options a live command accepts: "--name" with a value, or a flag. */
struct opts {
	const char *names[8];   /* accepted options with a value */
	const char *values[8];
	const char *flags[4];   /* accepted flags */
	bool set[4];
	const char *positional[2];
	int n_positional, max_positional;
};

static int parse(const char *cmd, int argc, char **argv, struct opts *o)
{
	for (int i = 0; i < argc; i++) {
		bool known = false;
		for (int k = 0; o->names[k]; k++)
			if (!strcmp(argv[i], o->names[k])) {
				if (i + 1 >= argc)
					return cli_usage("%s: %s needs a value", cmd, argv[i]);
				o->values[k] = argv[++i];
				known = true;
			}
		for (int k = 0; !known && o->flags[k]; k++)
			if (!strcmp(argv[i], o->flags[k]))
				o->set[k] = known = true;
		if (known)
			continue;
		if (argv[i][0] == '-' && argv[i][1])
			return cli_usage("%s: unknown option '%s'", cmd, argv[i]);
		if (o->n_positional >= o->max_positional)
			return cli_usage("%s: unexpected argument '%s'", cmd, argv[i]);
		o->positional[o->n_positional++] = argv[i];
	}
	return 0;
}

static const char *val(const struct opts *o, const char *name)
{
	for (int k = 0; o->names[k]; k++)
		if (!strcmp(o->names[k], name))
			return o->values[k];
	return NULL;
}

static bool flag(const struct opts *o, const char *name)
{
	for (int k = 0; o->flags[k]; k++)
		if (!strcmp(o->flags[k], name))
			return o->set[k];
	return false;
}

static double num(json_t *o, const char *key)
{
	return json_number_value(json_object_get(o, key));
}

static void print_endpoint(const char *label, json_t *v, const char *unit)
{
	if (json_is_number(v))
		printf("  %-16s %.1f %s\n", label, json_number_value(v), unit);
	else
		printf("  %-16s -\n", label);
}

/* The end reason as a reader says it: "emergency stop"; an unknown one ("interrupted",
 * from a record recovered after a crash) with its underscores turned to spaces. */
static void end_reason_text(const char *er, char *buf, size_t n)
{
	for (int r = TL_WALK_END_MAX_CLAUDICATION; r <= TL_WALK_END_LAST; r++)
		if (!strcmp(er, tl_walk_end_name((enum tl_walk_end)r))) {
			snprintf(buf, n, "%s", tl_walk_end_text((enum tl_walk_end)r));
			return;
		}
	snprintf(buf, n, "%s", er);
	for (char *p = buf; *p; p++)
		if (*p == '_')
			*p = ' ';
}

/* PWT and ACD are censored when walking ended other than by maximal claudication:
 * "more than 8.1 s: emergency stop" (docs/clinical.md, Censored endpoints). */
static void print_walk_endpoint(const char *label, json_t *v, const char *unit, const char *er)
{
	if (!json_is_number(v) || !er || !strcmp(er, "max_claudication")) {
		print_endpoint(label, v, unit);
		return;
	}
	char why[48];
	end_reason_text(er, why, sizeof why);
	printf("  %-16s more than %.1f %s: %s\n", label, json_number_value(v), unit, why);
}

static void print_status(json_t *s)
{
	json_t *tm = json_object_get(s, "treadmill");
	json_t *cmd = json_object_get(s, "command");
	printf("state        %s", json_string_value(json_object_get(s, "state")));
	const char *er = json_string_value(json_object_get(s, "end_reason"));
	printf("%s%s%s\n", er ? " (" : "", er ? er : "", er ? ")" : "");
	if (json_is_integer(json_object_get(s, "test_id")))
		printf("test         %lld, patient %s, protocol %s, t = %.1f s\n",
		       (long long)json_integer_value(json_object_get(s, "test_id")),
		       json_string_value(json_object_get(s, "patient")),
		       json_string_value(json_object_get(s, "protocol")), num(s, "t_s"));
	printf("treadmill    %s: %.2f km/h at %.1f %% (%s), commanded %.2f km/h at %.1f %%\n",
	       json_string_value(json_object_get(tm, "driver")), num(tm, "speed_kmh"),
	       num(tm, "grade_pct"), json_is_true(json_object_get(tm, "running")) ? "running" : "stopped",
	       num(cmd, "speed_kmh"), num(cmd, "grade_pct"));
	const char *alarm = json_string_value(json_object_get(s, "alarm"));
	if (alarm)
		printf("ALARM        %s\n", alarm);
	const char *serr = json_string_value(json_object_get(s, "store_error"));
	if (serr)
		printf("STORE ERROR  %s\n", serr);
	const char *berr = json_string_value(json_object_get(s, "button_error"));
	if (berr)
		printf("BUTTON       %s\n", berr);
}

static int output(json_t *j, bool json, void (*human)(json_t *))
{
	if (!j)
		return 1;
	if (json)
		tl_json_print(j);
	else if (human)
		human(j);
	json_decref(j);
	return 0;
}

int cmd_status(int argc, char **argv)
{
	struct tl_client c;
	if (tl_client_init(&c, &argc, argv))
		return 1;
	struct opts o = {.flags = {"--json"}};
	int rc = parse("status", argc, argv, &o);
	if (rc)
		return rc;
	return output(tl_client_call(&c, "GET", "/v1/status", NULL), flag(&o, "--json"), print_status);
}

int cmd_start(int argc, char **argv)
{
	struct tl_client c;
	if (tl_client_init(&c, &argc, argv))
		return 1;
	struct opts o = {.names = {"--protocol", "--patient", "--operator"}, .flags = {"--json"}};
	int rc = parse("start", argc, argv, &o);
	if (rc)
		return rc;
	if (!val(&o, "--protocol") || !val(&o, "--patient"))
		return cli_usage("start: --protocol NAME and --patient MRN are required");
	json_t *body = json_pack("{s:s, s:s}", "protocol", val(&o, "--protocol"), "patient",
				 val(&o, "--patient"));
	if (val(&o, "--operator"))
		json_object_set_new(body, "operator", json_string(val(&o, "--operator")));
	json_t *r = tl_client_call(&c, "POST", "/v1/tests", body);
	json_decref(body);
	if (!r)
		return 1;
	if (flag(&o, "--json"))
		tl_json_print(r);
	else
		printf("%lld\n", (long long)json_integer_value(json_object_get(r, "id")));
	json_decref(r);
	return 0;
}

/* onset, max, relief, stop, estop, finish */
static int simple(const char *name, const char *path, int argc, char **argv)
{
	struct tl_client c;
	if (tl_client_init(&c, &argc, argv))
		return 1;
	struct opts o = {.names = {"--operator", "--reason", "--posture"}, .flags = {"--json"}};
	int rc = parse(name, argc, argv, &o);
	if (rc)
		return rc;
	json_t *body = json_object();
	if (val(&o, "--operator"))
		json_object_set_new(body, "operator", json_string(val(&o, "--operator")));
	if (val(&o, "--reason")) {
		if (strcmp(name, "stop"))
			return json_decref(body), cli_usage("%s: --reason is for stop", name);
		json_object_set_new(body, "reason", json_string(val(&o, "--reason")));
	}
	if (!strcmp(name, "relief")) {
		if (!val(&o, "--posture"))
			return json_decref(body),
			       cli_usage("relief: --posture standing|sitting|bending_forward is required");
		json_object_set_new(body, "posture", json_string(val(&o, "--posture")));
	} else if (val(&o, "--posture")) {
		return json_decref(body), cli_usage("%s: --posture is for relief", name);
	}
	json_t *r = tl_client_call(&c, "POST", path, body);
	json_decref(body);
	return output(r, flag(&o, "--json"), print_status);
}

int cmd_onset(int argc, char **argv) { return simple("onset", "/v1/onset", argc, argv); }
int cmd_max(int argc, char **argv) { return simple("max", "/v1/max", argc, argv); }
int cmd_relief(int argc, char **argv) { return simple("relief", "/v1/relief", argc, argv); }
int cmd_stop(int argc, char **argv) { return simple("stop", "/v1/stop", argc, argv); }
int cmd_estop(int argc, char **argv) { return simple("estop", "/v1/estop", argc, argv); }
int cmd_finish(int argc, char **argv) { return simple("finish", "/v1/finish", argc, argv); }
int cmd_reconnect(int argc, char **argv)
{
	return simple("reconnect", "/v1/treadmill/reconnect", argc, argv);
}

/* Changes to the record after the fact: who (the operator named, the connection's peer),
 * when, in which state, and what was there before. */
static void print_history(json_t *h)
{
	if (json_array_size(h) == 0)
		return;
	printf("\nchanges to the record\n");
	size_t i;
	json_t *c;
	json_array_foreach(h, i, c) {
		const char *op = json_string_value(json_object_get(c, "operator"));
		const char *peer = json_string_value(json_object_get(c, "peer"));
		char *value = json_dumps(json_object_get(c, "value"), JSON_COMPACT | JSON_ENCODE_ANY);
		printf("  %s  %-8s by %s (%s) while %s: %s\n",
		       json_string_value(json_object_get(c, "at")),
		       json_string_value(json_object_get(c, "what")), op ? op : "-", peer ? peer : "peer unknown",
		       json_string_value(json_object_get(c, "test_state")), value ? value : "?");
		free(value);
		json_t *prev = json_object_get(c, "previous");
		if (prev && !json_is_null(prev)) {
			char *p = json_dumps(prev, JSON_COMPACT | JSON_ENCODE_ANY);
			printf("      replaced %s\n", p ? p : "?");
			free(p);
		}
	}
}

static const char *str_or(json_t *o, const char *key, const char *dflt)
{
	const char *v = json_string_value(json_object_get(o, key));
	return v && *v ? v : dflt;
}

/* The patient's demographics and the order, where the record has them. */
static void print_patient(json_t *t)
{
	json_t *d = json_object_get(t, "demographics");
	bool known = false;
	static const char *const keys[] = {"family", "given", "birth_date", "sex"};
	for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
		known = known || json_is_string(json_object_get(d, keys[k]));
	if (known)
		printf("patient %s (%s): %s, %s; born %s; sex %s\n", str_or(d, "mrn", "?"),
		       str_or(d, "assigning_authority", "no authority"), str_or(d, "family", "-"),
		       str_or(d, "given", "-"), str_or(d, "birth_date", "-"), str_or(d, "sex", "-"));
	json_t *o = json_object_get(t, "order");
	json_t *ph = json_object_get(o, "ordering_physician");
	if (json_is_string(json_object_get(o, "accession")) || json_is_string(json_object_get(ph, "id"))) {
		printf("order %s, ordering physician %s (%s, %s)\n", str_or(o, "accession", "-"),
		       str_or(ph, "id", "-"), str_or(ph, "family", "-"), str_or(ph, "given", "-"));
	}
}

/* Every pressure as recorded (a correction is a later line for the same site and time). */
static void print_pressures(json_t *t)
{
	json_t *ps = json_object_get(t, "pressures");
	if (!json_array_size(ps))
		return;
	printf("\npressures\n");
	size_t i;
	json_t *p;
	json_array_foreach(ps, i, p) {
		char when[24];
		json_t *m = json_object_get(p, "minute");
		if (json_is_number(m))
			snprintf(when, sizeof when, "post %g min", json_number_value(m));
		else
			snprintf(when, sizeof when, "%s", str_or(p, "phase", "?"));
		char value[32];
		if (json_is_true(json_object_get(p, "noncompressible")))
			snprintf(value, sizeof value, "noncompressible");
		else if (num(p, "mmhg") == 0)
			snprintf(value, sizeof value, "0 (no signal)");
		else
			snprintf(value, sizeof value, "%.0f mmHg", num(p, "mmhg"));
		printf("  %-13s %-15s %-16s %-12s %s\n", when, str_or(p, "site", "?"), value,
		       str_or(p, "source", "manual"), str_or(p, "operator", "-"));
	}
}

/* The ABI of each leg, at rest and after exercise, and the classification: red flags
 * first, then the category. */
static void print_result(json_t *t)
{
	json_t *abi = json_object_get(json_object_get(t, "abi"), "abi");
	static const char *const sides[] = {"right", "left"};
	bool any = false;
	for (int k = 0; k < 2; k++) {
		json_t *leg = json_object_get(abi, sides[k]);
		if (!json_is_object(leg))
			continue;
		if (!any)
			printf("\nABI\n");
		any = true;
		json_t *rest = json_object_get(leg, "rest");
		if (json_is_number(rest))
			printf("  %-6s rest %.2f (%s)", sides[k], json_number_value(rest),
			       str_or(leg, "rest_category", "-"));
		else
			printf("  %-6s rest -", sides[k]);
		size_t i;
		json_t *p;
		json_array_foreach(json_object_get(leg, "post"), i, p) {
			json_t *v = json_object_get(p, "abi");
			if (json_is_number(v))
				printf(", %g min %.2f", num(p, "minute"), json_number_value(v));
			else
				printf(", %g min -", num(p, "minute"));
		}
		printf("\n");
	}
	json_t *c = json_object_get(t, "classification");
	if (!json_is_object(c))
		return;
	printf("\n");
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(c, "red_flags"), i, f)
		printf("RED FLAG %s: %s\n", str_or(f, "code", "?"), str_or(f, "reason", ""));
	printf("category %s\n", str_or(c, "category", "-"));
}

static void print_test(json_t *t)
{
	printf("test %lld: patient %s, protocol %s, operator %s\n",
	       (long long)json_integer_value(json_object_get(t, "id")),
	       json_string_value(json_object_get(t, "patient")),
	       json_string_value(json_object_get(t, "protocol")),
	       json_string_value(json_object_get(t, "operator")));
	print_patient(t);
	const char *er = json_string_value(json_object_get(t, "end_reason"));
	const char *ended = json_string_value(json_object_get(t, "ended_at"));
	printf("state %s%s%s%s, started %s, ended %s\n", json_string_value(json_object_get(t, "state")),
	       er ? " (" : "", er ? er : "", er ? ")" : "",
	       json_string_value(json_object_get(t, "started_at")), ended ? ended : "-");
	const char *sw = json_string_value(json_object_get(t, "software_version"));
	printf("measured by treadlab %s\n\n", sw ? sw : "(version not recorded)");
	print_endpoint("COT", json_object_get(t, "cot_s"), "s");
	print_endpoint("ICD", json_object_get(t, "icd_m"), "m");
	print_walk_endpoint("PWT", json_object_get(t, "pwt_s"), "s", er);
	print_walk_endpoint("ACD", json_object_get(t, "acd_m"), "m", er);
	print_endpoint("walking time", json_object_get(t, "walking_time_s"), "s");
	print_endpoint("distance", json_object_get(t, "distance_m"), "m");
	print_endpoint("recovery", json_object_get(t, "recovery_s"), "s");
	printf("\nevents\n");
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(t, "events"), i, e) {
		const char *d = json_string_value(json_object_get(e, "detail"));
		printf("  %9.1f s  %-13s %-16s %s\n", num(e, "t_s"),
		       json_string_value(json_object_get(e, "kind")),
		       json_string_value(json_object_get(e, "source")), d ? d : "");
	}
	print_pressures(t);
	print_result(t);
	json_t *sig = json_object_get(t, "signature");
	if (json_is_object(sig))
		printf("\nsigned by %s at %s\n", str_or(sig, "signed_by", "?"),
		       str_or(sig, "signed_at", "?"));
	print_history(json_object_get(t, "history"));
}

static bool parse_test_id(const char *s)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	return !(end == s || *end || errno || v <= 0);
}

int cmd_show(int argc, char **argv)
{
	struct tl_client c;
	if (tl_client_init(&c, &argc, argv))
		return 1;
	struct opts o = {.flags = {"--json"}, .max_positional = 1};
	int rc = parse("show", argc, argv, &o);
	if (rc)
		return rc;
	if (o.n_positional != 1 || !parse_test_id(o.positional[0]))
		return cli_usage("show: expected a test id (a positive number)");
	char path[64];
	snprintf(path, sizeof path, "/v1/tests/%s", o.positional[0]);
	return output(tl_client_call(&c, "GET", path, NULL), flag(&o, "--json"), print_test);
}

static void print_list(json_t *arr)
{
	size_t i;
	json_t *t;
	printf("%6s  %-16s %-20s %-18s %-17s %s\n", "id", "patient", "protocol", "state", "end", "started");
	json_array_foreach(arr, i, t) {
		const char *er = json_string_value(json_object_get(t, "end_reason"));
		printf("%6lld  %-16s %-20s %-18s %-17s %s\n",
		       (long long)json_integer_value(json_object_get(t, "id")),
		       json_string_value(json_object_get(t, "patient")),
		       json_string_value(json_object_get(t, "protocol")),
		       json_string_value(json_object_get(t, "state")), er ? er : "-",
		       json_string_value(json_object_get(t, "started_at")));
	}
}

int cmd_list(int argc, char **argv)
{
	struct tl_client c;
	if (tl_client_init(&c, &argc, argv))
		return 1;
	struct opts o = {.names = {"--patient"}, .flags = {"--json"}};
	int rc = parse("list", argc, argv, &o);
	if (rc)
		return rc;
	char path[160] = "/v1/tests";
	const char *mrn = val(&o, "--patient");
	if (mrn) {
		for (const char *p = mrn; *p; p++)
			if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
			      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
				return cli_usage("list: '%s' is not a valid MRN", mrn);
		snprintf(path, sizeof path, "/v1/tests?patient=%s", mrn);
	}
	return output(tl_client_call(&c, "GET", path, NULL), flag(&o, "--json"), print_list);
}

struct watch {
	bool json;
	long remaining; /* status updates to show, < 0: forever */
};

/* Shows one item of the stream; --count counts status updates, in either format. */
static bool on_event(const char *kind, json_t *data, void *arg)
{
	struct watch *w = arg;
	if (!strcmp(kind, "status") && w->remaining > 0)
		w->remaining--;
	if (w->json) {
		char *s = json_dumps(data, JSON_COMPACT | JSON_PRESERVE_ORDER);
		printf("{\"%s\": %s}\n", kind, s ? s : "null");
		free(s);
	} else if (!strcmp(kind, "event")) {
		const char *d = json_string_value(json_object_get(data, "detail"));
		printf(">> %9.1f s  %-13s %-16s %s\n", num(data, "t_s"),
		       json_string_value(json_object_get(data, "kind")),
		       json_string_value(json_object_get(data, "source")), d ? d : "");
	} else if (!strcmp(kind, "status")) {
		json_t *tm = json_object_get(data, "treadmill");
		const char *alarm = json_string_value(json_object_get(data, "alarm"));
		printf("%-18s t=%7.1f s  belt %5.2f km/h  grade %5.1f %%%s%s\n",
		       json_string_value(json_object_get(data, "state")), num(data, "t_s"),
		       num(tm, "speed_kmh"), num(tm, "grade_pct"), alarm ? "  ALARM " : "",
		       alarm ? alarm : "");
	}
	fflush(stdout);
	return w->remaining != 0;
}

int cmd_watch(int argc, char **argv)
{
	struct tl_client c;
	if (tl_client_init(&c, &argc, argv))
		return 1;
	struct opts o = {.names = {"--count"}, .flags = {"--json"}};
	int rc = parse("watch", argc, argv, &o);
	if (rc)
		return rc;
	struct watch w = {.json = flag(&o, "--json"), .remaining = -1};
	if (val(&o, "--count")) {
		double n;
		if (cli_parse_double(val(&o, "--count"), 1, 1e9, &n))
			return cli_usage("watch: --count needs a positive number");
		w.remaining = (long)n;
	}
	return tl_client_stream(&c, "/v1/events", on_event, &w);
}

static void print_results(json_t *t)
{
	json_t *cls = json_object_get(t, "classification");
	if (!json_is_object(cls)) {
		printf("no classification yet\n");
		return;
	}
	size_t i;
	json_t *rf;
	json_array_foreach(json_object_get(cls, "red_flags"), i, rf)
		printf("RED FLAG  %s: %s\n", json_string_value(json_object_get(rf, "code")),
		       json_string_value(json_object_get(rf, "reason")));
	printf("category  %s\n", json_string_value(json_object_get(cls, "category")));
	json_t *abi = json_object_get(cls, "abi");
	const char *sides[] = {"left", "right"};
	for (int s = 0; s < 2; s++) {
		json_t *leg = json_object_get(abi, sides[s]);
		json_t *rest = json_object_get(leg, "rest");
		if (json_is_number(rest))
			printf("ABI %-5s rest %.2f (%s)\n", sides[s], json_number_value(rest),
			       json_string_value(json_object_get(leg, "rest_category")));
	}
}

int cmd_pressure(int argc, char **argv)
{
	struct tl_client c;
	if (tl_client_init(&c, &argc, argv))
		return 1;
	struct opts o = {.names = {"--phase", "--minute", "--site", "--mmhg", "--operator"},
			 .flags = {"--json", "--noncompressible", "--confirm-implausible"},
			 .max_positional = 1};
	int rc = parse("pressure", argc, argv, &o);
	if (rc)
		return rc;
	if (o.n_positional != 1 || !parse_test_id(o.positional[0]))
		return cli_usage("pressure: expected a test id (a positive number)");
	const char *phase = val(&o, "--phase"), *site = val(&o, "--site");
	double mmhg, minute = -1;
	if (!phase || !site || !val(&o, "--mmhg"))
		return cli_usage("pressure: --phase rest|post, --site SITE and --mmhg N are required");
	if (cli_parse_double(val(&o, "--mmhg"), -1e9, 1e9, &mmhg))
		return cli_usage("pressure: --mmhg '%s' is not a number", val(&o, "--mmhg"));
	if (val(&o, "--minute") && cli_parse_double(val(&o, "--minute"), -1e9, 1e9, &minute))
		return cli_usage("pressure: --minute '%s' is not a number", val(&o, "--minute"));
	/* Range checks are the daemon's: one rule, one message, whoever sends the value. */
	json_t *body = json_pack("{s:s, s:s, s:f}", "phase", phase, "site", site, "mmhg", mmhg);
	if (val(&o, "--minute"))
		json_object_set_new(body, "minute", json_real(minute));
	if (val(&o, "--operator"))
		json_object_set_new(body, "operator", json_string(val(&o, "--operator")));
	/* An ankle artery not compressible at the cuff's maximum (--mmhg is then the cuff
	 * pressure reached), and the confirmation an implausible arm pressure needs. */
	if (flag(&o, "--noncompressible"))
		json_object_set_new(body, "noncompressible", json_true());
	if (flag(&o, "--confirm-implausible"))
		json_object_set_new(body, "confirm_implausible", json_true());
	char path[96];
	snprintf(path, sizeof path, "/v1/tests/%s/pressures", o.positional[0]);
	json_t *r = tl_client_call(&c, "POST", path, body);
	json_decref(body);
	return output(r, flag(&o, "--json"), print_results);
}

int cmd_findings(int argc, char **argv)
{
	struct tl_client c;
	if (tl_client_init(&c, &argc, argv))
		return 1;
	struct opts o = {.names = {"--file", "--operator"}, .flags = {"--json"}, .max_positional = 1};
	int rc = parse("findings", argc, argv, &o);
	if (rc)
		return rc;
	if (o.n_positional != 1 || !parse_test_id(o.positional[0]))
		return cli_usage("findings: expected a test id (a positive number)");
	const char *file = val(&o, "--file");
	if (!file)
		return cli_usage("findings: --file F (the symptoms, JSON; '-' for stdin) is required");
	json_error_t e;
	json_t *doc = !strcmp(file, "-") ? json_loadf(stdin, JSON_REJECT_DUPLICATES, &e)
					 : json_load_file(file, JSON_REJECT_DUPLICATES, &e);
	if (!doc)
		return cli_fail("%s:%d:%d: %s", file, e.line, e.column, e.text);
	/* The file holds the symptoms object, or a document with only "symptoms" in it. */
	json_t *sym = doc;
	if (json_is_object(doc) && json_object_size(doc) == 1 && json_object_get(doc, "symptoms"))
		sym = json_object_get(doc, "symptoms");
	json_t *body = json_pack("{s:O}", "symptoms", sym);
	json_decref(doc);
	if (val(&o, "--operator"))
		json_object_set_new(body, "operator", json_string(val(&o, "--operator")));
	char path[96];
	snprintf(path, sizeof path, "/v1/tests/%s/findings", o.positional[0]);
	json_t *r = tl_client_call(&c, "PUT", path, body);
	json_decref(body);
	return output(r, flag(&o, "--json"), print_results);
}
