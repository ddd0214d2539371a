/* csv.c - the research export as CSV (RFC 4180), one row per test (README.md, Data
 * dictionary). Missing values are empty cells: a value never reached is never a zero. */
#include "report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put(struct tl_csv *c, const char *s, size_t n)
{
	if (c->oom)
		return;
	if (c->n + n + 1 > c->cap) {
		size_t cap = c->cap ? c->cap : 4096;
		while (cap < c->n + n + 1)
			cap *= 2;
		char *p = realloc(c->p, cap);
		if (!p) {
			c->oom = true;
			return;
		}
		c->p = p;
		c->cap = cap;
	}
	memcpy(c->p + c->n, s, n);
	c->n += n;
	c->p[c->n] = 0;
}

void tl_csv_cell(struct tl_csv *c, const char *s)
{
	if (c->col++)
		put(c, ",", 1);
	if (!s || !*s)
		return;
	/* A spreadsheet runs a cell starting with one of these as a formula (OWASP, CSV
	 * injection): an apostrophe makes it text. */
	bool formula = strchr("=+-@\t\r", s[0]) != NULL;
	bool quote = formula || strpbrk(s, ",\"\r\n") != NULL;
	if (quote)
		put(c, "\"", 1);
	if (formula)
		put(c, "'", 1);
	for (const char *p = s; *p;) {
		size_t k = strcspn(p, "\"");
		put(c, p, k);
		p += k;
		if (*p == '"') {
			put(c, "\"\"", 2);
			p++;
		}
	}
	if (quote)
		put(c, "\"", 1);
}

void tl_csv_num(struct tl_csv *c, double v, int decimals)
{
	if (!isfinite(v)) {
		tl_csv_cell(c, NULL);
		return;
	}
	char b[64];
	snprintf(b, sizeof b, "%.*f", decimals, v);
	tl_csv_cell(c, b);
}

void tl_csv_end_row(struct tl_csv *c)
{
	put(c, "\r\n", 2);
	c->col = 0;
}

void tl_csv_free(struct tl_csv *c)
{
	free(c->p);
	memset(c, 0, sizeof *c);
}

/* ---- the export's columns ---- */

static const char *const columns[] = {
	"test_id", "patient", "protocol", "operator", "state", "end_reason", "started_at",
	"ended_at", "cot_s", "pwt_s", "pwt_censored", "icd_m", "acd_m", "acd_censored",
	"walking_time_s", "distance_m", "recovery_s", "abi_rest_right", "abi_rest_left",
	"abi_category_right", "abi_category_left", "abi_post_min_right", "abi_post_min_left",
	"tbi_right", "tbi_left", "criteria_right", "criteria_left", "category", "red_flags",
	"rutherford", "fontaine",
};

void tl_report_csv_header(struct tl_csv *c)
{
	for (size_t i = 0; i < sizeof columns / sizeof columns[0]; i++)
		tl_csv_cell(c, columns[i]);
	tl_csv_end_row(c);
}

static double numv(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_number(v) ? json_number_value(v) : NAN;
}

static const char *strv(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* The strings of an array (or the "key" of each object in it) joined by ';'. */
static void joined(struct tl_csv *c, const json_t *arr, const char *key)
{
	char b[1024];
	size_t o = 0, i;
	json_t *v;
	b[0] = 0;
	json_array_foreach(arr, i, v) {
		const char *s = key ? strv(v, key) : json_string_value(v);
		if (s && o < sizeof b)
			o += (size_t)snprintf(b + o, sizeof b - o, "%s%s", o ? ";" : "", s);
	}
	tl_csv_cell(c, b);
}

/* The lowest post-exercise ABI of a leg (the ABI's nadir), NAN if none. */
static double post_min(const json_t *leg)
{
	double m = NAN;
	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(leg, "post"), i, p) {
		double v = numv(p, "abi");
		if (isfinite(v) && (isnan(m) || v < m))
			m = v;
	}
	return m;
}

void tl_report_csv_row(struct tl_csv *c, const json_t *t)
{
	const json_t *cl = json_object_get(t, "classification");
	const json_t *abi = json_object_get(cl, "abi"), *tbi = json_object_get(cl, "tbi");
	const json_t *r = json_object_get(abi, "right"), *l = json_object_get(abi, "left");
	const char *er = strv(t, "end_reason");
	/* PWT and ACD are censored when walking ended other than by maximal claudication
	 * (docs/clinical.md, Censored endpoints); unknown end: not said. */
	const char *censored = !er ? NULL : strcmp(er, "max_claudication") ? "true" : "false";
	char id[32];
	snprintf(id, sizeof id, "%lld", (long long)json_integer_value(json_object_get(t, "id")));
	tl_csv_cell(c, id);
	tl_csv_cell(c, strv(t, "patient"));
	tl_csv_cell(c, strv(t, "protocol"));
	tl_csv_cell(c, strv(t, "operator"));
	tl_csv_cell(c, strv(t, "state"));
	tl_csv_cell(c, er);
	tl_csv_cell(c, strv(t, "started_at"));
	tl_csv_cell(c, strv(t, "ended_at"));
	tl_csv_num(c, numv(t, "cot_s"), 1);
	tl_csv_num(c, numv(t, "pwt_s"), 1);
	tl_csv_cell(c, isfinite(numv(t, "pwt_s")) ? censored : NULL);
	tl_csv_num(c, numv(t, "icd_m"), 1);
	tl_csv_num(c, numv(t, "acd_m"), 1);
	tl_csv_cell(c, isfinite(numv(t, "acd_m")) ? censored : NULL);
	tl_csv_num(c, numv(t, "walking_time_s"), 1);
	tl_csv_num(c, numv(t, "distance_m"), 1);
	tl_csv_num(c, numv(t, "recovery_s"), 1);
	tl_csv_num(c, numv(r, "rest"), 2);
	tl_csv_num(c, numv(l, "rest"), 2);
	tl_csv_cell(c, strv(r, "rest_category"));
	tl_csv_cell(c, strv(l, "rest_category"));
	tl_csv_num(c, post_min(r), 2);
	tl_csv_num(c, post_min(l), 2);
	tl_csv_num(c, numv(json_object_get(tbi, "right"), "value"), 2);
	tl_csv_num(c, numv(json_object_get(tbi, "left"), "value"), 2);
	joined(c, json_object_get(r, "criteria"), NULL);
	joined(c, json_object_get(l, "criteria"), NULL);
	tl_csv_cell(c, strv(cl, "category"));
	joined(c, json_object_get(cl, "red_flags"), "code");
	const json_t *sev = json_object_get(cl, "severity");
	tl_csv_cell(c, strv(json_object_get(sev, "rutherford"), "grade"));
	tl_csv_cell(c, strv(json_object_get(sev, "fontaine"), "grade"));
	tl_csv_end_row(c);
}
