/* cmd_cuff.c - treadlab cuff: the pressures read from the cuff (issue 15), through the
 * daemon's API (docs/api.md, The cuff; src/daemon/cuffd.h). Every command answers with
 * the cuff's status; `watch` follows it on the live stream. The daemon checks every
 * value (the site, the minute): one rule, one message, whoever sends it. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_client.h"
#include "cli.h"
#include "json_out.h"

#define USAGE "cuff [--json] | series TEST rest|post [MINUTE] | site SITE | inflate | mark | " \
	      "vent | end [--operator ID] [--json] | watch [--json]"

static const char *str(json_t *o, const char *k, const char *none)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s && *s ? s : none;
}

/* "118 mmHg", or "-" when the value is null (no sample for a second). */
static void fmt_mmhg(json_t *v, char *buf, size_t n)
{
	if (json_is_number(v))
		snprintf(buf, n, "%.0f mmHg", json_number_value(v));
	else
		snprintf(buf, n, "-");
}

/* "rest" or "post 3 min". */
static void fmt_phase(json_t *o, char *buf, size_t n)
{
	json_t *m = json_object_get(o, "minute");
	if (json_is_number(m))
		snprintf(buf, n, "%s %g min", str(o, "phase", "?"), json_number_value(m));
	else
		snprintf(buf, n, "%s", str(o, "phase", "?"));
}

/* The sites of a JSON array, comma-separated; "none" when empty. */
static void fmt_sites(json_t *a, char *buf, size_t n)
{
	size_t i, used = 0;
	json_t *s;
	buf[0] = '\0';
	json_array_foreach(a, i, s) {
		int w = snprintf(buf + used, n - used, "%s%s", i ? ", " : "", json_string_value(s));
		if (w < 0 || (size_t)w >= n - used)
			break;
		used += (size_t)w;
	}
	if (!buf[0])
		snprintf(buf, n, "none");
}

/* A recorded reading as the technician reads it:
 * "pt-right 118 mmHg (cuff-modbus, samples 50 ms apart, deflating 2.0 mmHg/s)". */
static void fmt_reading(json_t *last, const char *source, char *buf, size_t n)
{
	/* the value as recorded (0.1 mmHg), where the live pressure is shown to 1 mmHg */
	snprintf(buf, n, "%s %.10g mmHg (%s, samples %lld ms apart, deflating %.1f mmHg/s)",
		 str(last, "site", "?"), json_number_value(json_object_get(last, "mmhg")), source,
		 (long long)json_integer_value(json_object_get(last, "interval_ms")),
		 json_number_value(json_object_get(last, "deflation_mmhg_s")));
}

static void print_status(json_t *c)
{
	char p[32], buf[256];
	bool can = json_is_true(json_object_get(c, "can_inflate"));
	fmt_mmhg(json_object_get(c, "mmhg"), p, sizeof p);
	printf("cuff         %s (%s), %s\n", str(c, "source", "?"),
	       can ? "inflates it" : "inflated by hand",
	       json_is_true(json_object_get(c, "connected")) ? "connected" : "not connected");
	const char *err = str(c, "error", NULL);
	if (err)
		printf("ERROR        %s\n", err);
	printf("pressure     %s, %s\n", p, str(c, "state", "?"));
	json_t *s = json_object_get(c, "series");
	if (json_is_object(s)) {
		fmt_phase(s, buf, sizeof buf);
		printf("series       test %lld, %s: at %s, next %s\n",
		       (long long)json_integer_value(json_object_get(s, "test_id")), buf,
		       str(s, "site", "-"), str(s, "next", "none"));
		fmt_sites(json_object_get(s, "done"), buf, sizeof buf);
		printf("done         %s\n", buf);
	} else {
		printf("series       none\n");
	}
	json_t *last = json_object_get(c, "last");
	if (json_is_object(last)) {
		char ph[32];
		fmt_phase(last, ph, sizeof ph);
		fmt_reading(last, str(c, "source", "?"), buf, sizeof buf);
		printf("last         test %lld, %s: %s; %lld recorded\n",
		       (long long)json_integer_value(json_object_get(last, "test_id")), ph, buf,
		       (long long)json_integer_value(json_object_get(last, "recorded")));
	}
	const char *msg = str(c, "message", NULL);
	if (msg)
		printf("message      %s\n", msg);
}

static int output(json_t *r, bool json)
{
	if (!r)
		return 1;
	if (json)
		tl_json_print(r);
	else
		print_status(r);
	json_decref(r);
	return 0;
}

/* ---- watch ------------------------------------------------------------------------ */

struct watch {
	bool json;
	bool started;         /* the first cuff status was seen */
	bool had_series;      /* a series was under way */
	bool ended;           /* ... and it ended: the watch ends once the cuff is down */
	bool connected;
	char error[256], state[16], message[256], site[24];
	char done[200];       /* the sites the series has done, comma-separated */
	size_t n_done, n_sites;
	long long recorded;
	double mmhg;          /* NAN: none */
	double shown_at;      /* when the live pressure was last printed (s, monotonic) */
	int rc;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void copy(char *dst, size_t n, const char *s)
{
	snprintf(dst, n, "%s", s ? s : "");
}

/* Whether the cuff is down: nothing inflating, deflating or venting it. */
static bool cuff_down(const char *state)
{
	return strcmp(state, "inflating") && strcmp(state, "deflating") && strcmp(state, "marked") &&
	       strcmp(state, "venting");
}

/* One line of the watch: human text, or the cuff object for machines. */
static void line(struct watch *w, json_t *c, const char *text)
{
	if (w->json) {
		char *s = json_dumps(c, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
		printf("%s\n", s ? s : "null");
		free(s);
	} else {
		printf("%s\n", text);
	}
}

/* Keeps what the series has done, to say how it ended. */
static void note_series(struct watch *w, json_t *s)
{
	w->had_series = true;
	copy(w->site, sizeof w->site, str(s, "site", ""));
	fmt_sites(json_object_get(s, "done"), w->done, sizeof w->done);
	w->n_done = json_array_size(json_object_get(s, "done"));
	w->n_sites = json_array_size(json_object_get(s, "sites"));
}

/* Prints what changed since the last status; false to end the watch. */
static bool on_cuff(struct watch *w, json_t *c)
{
	char buf[400], p[32];
	bool conn = json_is_true(json_object_get(c, "connected"));
	const char *err = str(c, "error", "");
	const char *state = str(c, "state", "");
	const char *msg = str(c, "message", "");
	json_t *s = json_object_get(c, "series");
	json_t *last = json_object_get(c, "last");
	json_t *mv = json_object_get(c, "mmhg");
	double mmhg = json_is_number(mv) ? json_number_value(mv) : NAN;
	long long recorded = json_integer_value(json_object_get(last, "recorded"));
	if (!w->started) {
		/* where things stand when the watch starts */
		w->started = true;
		if (w->json)
			line(w, c, "");
		else
			print_status(c);
		w->connected = conn;
		copy(w->error, sizeof w->error, err);
		copy(w->state, sizeof w->state, state);
		copy(w->message, sizeof w->message, msg);
		if (json_is_object(s))
			note_series(w, s);
		w->recorded = recorded;
		w->mmhg = mmhg;
		w->shown_at = now_s();
		fflush(stdout);
		return true;
	}
	if (conn != w->connected || strcmp(err, w->error)) {
		if (*err)
			snprintf(buf, sizeof buf, "ERROR %s", err);
		else
			snprintf(buf, sizeof buf, "cuff %s", conn ? "connected" : "not connected");
		line(w, c, buf);
		w->connected = conn;
		copy(w->error, sizeof w->error, err);
	}
	bool new_reading = recorded != w->recorded && json_is_object(last);
	if (new_reading) {
		fmt_reading(last, str(c, "source", "?"), buf, sizeof buf);
		line(w, c, buf);
		w->recorded = recorded;
	}
	if (*msg && strcmp(msg, w->message) && !new_reading) {
		/* a reading's message repeats the line above */
		snprintf(buf, sizeof buf, "cuff: %s", msg);
		line(w, c, buf);
	}
	copy(w->message, sizeof w->message, msg);
	if (json_is_object(s) && !w->ended) {
		const char *site = str(s, "site", "");
		if (!w->had_series || strcmp(site, w->site)) {
			char ph[32];
			fmt_phase(s, ph, sizeof ph);
			snprintf(buf, sizeof buf, "series: test %lld, %s: at %s, next %s",
				 (long long)json_integer_value(json_object_get(s, "test_id")), ph, site,
				 str(s, "next", "none"));
			line(w, c, buf);
		}
		note_series(w, s);
	} else if (!json_is_object(s) && w->had_series && !w->ended) {
		/* every site recorded (the last reading ended it), or ended by a request */
		w->ended = true;
		if (new_reading && w->n_done + 1 >= w->n_sites) {
			char text[440];
			snprintf(text, sizeof text, "series complete: %s%s%s", w->n_done ? w->done : "",
				 w->n_done ? ", " : "", str(last, "site", "?"));
			line(w, c, text);
		} else {
			line(w, c, "series ended");
		}
	}
	/* the live pressure: a change of state at once, a new value at most once a second */
	double t = now_s();
	bool moved = isnan(mmhg) != isnan(w->mmhg) || (!isnan(mmhg) && fabs(mmhg - w->mmhg) >= 0.5);
	if (strcmp(state, w->state) || (moved && t - w->shown_at >= 1.0)) {
		fmt_mmhg(mv, p, sizeof p);
		snprintf(buf, sizeof buf, "%s %s", p, state);
		line(w, c, buf);
		copy(w->state, sizeof w->state, state);
		w->mmhg = mmhg;
		w->shown_at = t;
	}
	fflush(stdout);
	return !(w->ended && cuff_down(state));
}

static bool on_event(const char *kind, json_t *data, void *arg)
{
	struct watch *w = arg;
	if (strcmp(kind, "status"))
		return true;
	json_t *c = json_object_get(data, "cuff");
	if (!json_is_object(c)) {
		/* the daemon restarted without a cuff */
		w->rc = cli_fail("cuff watch: no cuff is configured ([cuff] source in treadlabd.conf)");
		return false;
	}
	return on_cuff(w, c);
}

static int watch(const struct tl_client *c, bool json)
{
	/* the daemon's own answer when there is no cuff (404, [cuff] source) */
	json_t *r = tl_client_call(c, "GET", "/v1/cuff", NULL);
	if (!r)
		return 1;
	json_decref(r);
	struct watch w = {.json = json, .mmhg = NAN};
	int rc = tl_client_stream(c, "/v1/events", on_event, &w);
	return rc ? rc : w.rc;
}

/* ---- the commands ------------------------------------------------------------------- */

static bool positive_id(const char *s)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	return !(end == s || *end || errno || v <= 0);
}

/* POSTs body (taken) with the operator, if one is named; prints the cuff's status. */
static int post(const struct tl_client *c, const char *path, json_t *body, const char *op,
		bool json)
{
	if (body && op && json_object_set_new(body, "operator", json_string(op))) {
		json_decref(body);
		body = NULL;
	}
	if (!body)
		return cli_fail("cuff: out of memory");
	json_t *r = tl_client_call(c, "POST", path, body);
	json_decref(body);
	return output(r, json);
}

/* series TEST rest | series TEST post MINUTE */
static int series(const struct tl_client *c, const char **pos, int n, const char *op, bool json)
{
	if (n < 3 || n > 4)
		return cli_usage("cuff series: usage: series TEST rest | series TEST post MINUTE");
	if (!positive_id(pos[1]))
		return cli_usage("cuff series: '%s' is not a test id (a positive number)", pos[1]);
	json_t *body = json_pack("{s:I, s:s}", "test", (json_int_t)strtoll(pos[1], NULL, 10),
				 "phase", pos[2]);
	if (!body)
		return cli_fail("cuff: out of memory");
	if (n == 4) {
		double m;
		if (cli_parse_double(pos[3], -1e9, 1e9, &m)) {
			json_decref(body);
			return cli_usage("cuff series: minute '%s' is not a number", pos[3]);
		}
		/* whether a minute fits the phase, and its range, are the daemon's to say */
		json_object_set_new(body, "minute", json_real(m));
	}
	return post(c, "/v1/cuff/series", body, op, json);
}

int cmd_cuff(int argc, char **argv)
{
	struct tl_client c;
	if (tl_client_init(&c, &argc, argv))
		return 1;
	bool json = false;
	const char *pos[5], *op = NULL;
	int n = 0;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--operator") && i + 1 < argc)
			op = argv[++i];
		else if (!strcmp(argv[i], "--operator"))
			return cli_usage("cuff: --operator needs a value");
		else if (argv[i][0] == '-' && argv[i][1])
			return cli_usage("cuff: unknown option '%s' (usage: %s)", argv[i], USAGE);
		else if (n == (int)(sizeof pos / sizeof pos[0]))
			return cli_usage("cuff: unexpected argument '%s' (usage: %s)", argv[i], USAGE);
		else
			pos[n++] = argv[i];
	}
	const char *sub = n ? pos[0] : "status";
	if (op && (!strcmp(sub, "status") || !strcmp(sub, "watch")))
		return cli_usage("cuff %s: --operator is for the commands that act", sub);
	if (!strcmp(sub, "series"))
		return series(&c, pos, n, op, json);
	if (!strcmp(sub, "site")) {
		if (n != 2)
			return cli_usage("cuff site: usage: site SITE (one of [cuff] sites)");
		return post(&c, "/v1/cuff/site", json_pack("{s:s}", "site", pos[1]), op, json);
	}
	static const char *const simple[] = {"inflate", "mark", "vent", "end"};
	for (size_t k = 0; k < sizeof simple / sizeof simple[0]; k++) {
		if (strcmp(sub, simple[k]))
			continue;
		if (n > 1)
			return cli_usage("cuff %s: unexpected argument '%s'", sub, pos[1]);
		char path[32];
		snprintf(path, sizeof path, "/v1/cuff/%s", sub);
		return post(&c, path, json_object(), op, json);
	}
	if (!strcmp(sub, "status") || !strcmp(sub, "watch")) {
		if (n > 1)
			return cli_usage("cuff %s: unexpected argument '%s'", sub, pos[1]);
		if (!strcmp(sub, "watch"))
			return watch(&c, json);
		return output(tl_client_call(&c, "GET", "/v1/cuff", NULL), json);
	}
	return cli_usage("cuff: unknown subcommand '%s' (usage: %s)", sub, USAGE);
}
