/* report_render - renders one report case (a JSON file in tests/data/report) to a PDF file.
 *
 * A case is {"record": <tl_store_test_json>, "samples": [...], "earlier": [...],
 * "opts": {"paper", "lab_name", "lab_address", "logo", "patient_page", "guidance",
 * "amended_version", "amended_by", "amended_at"}, "signature": {"name", "at"}}; logo and
 * guidance are file names relative to the case's directory.
 * Usage: report_render CASE.json OUT.pdf [REPEAT] (REPEAT: render that many times and print
 * the time of each, in ms, for the benchmark). */
#include <jansson.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report.h"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *s = NULL;
	size_t n = 0, cap = 0;
	for (;;) {
		if (n + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			char *p = realloc(s, cap);
			if (!p) {
				free(s);
				fclose(f);
				return NULL;
			}
			s = p;
		}
		size_t r = fread(s + n, 1, 4096, f);
		n += r;
		if (r < 4096)
			break;
	}
	fclose(f);
	s[n] = 0;
	return s;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: report_render CASE.json OUT.pdf [REPEAT]\n");
		return 2;
	}
	json_error_t jerr;
	json_t *cs = json_load_file(argv[1], JSON_REJECT_DUPLICATES, &jerr);
	if (!cs) {
		fprintf(stderr, "report_render: %s:%d: %s\n", argv[1], jerr.line, jerr.text);
		return 1;
	}
	char dirbuf[4096];
	snprintf(dirbuf, sizeof dirbuf, "%s", argv[1]);
	const char *dir = dirname(dirbuf);
	json_t *o = json_object_get(cs, "opts");
	struct tl_report_opts opts = {0};
	const char *paper = json_string_value(json_object_get(o, "paper"));
	if (paper && tl_report_paper_parse(paper, &opts.paper) < 0) {
		fprintf(stderr, "report_render: %s: paper '%s' is not a4 or letter\n", argv[1], paper);
		return 1;
	}
	opts.lab_name = json_string_value(json_object_get(o, "lab_name"));
	opts.lab_address = json_string_value(json_object_get(o, "lab_address"));
	opts.patient_page = json_is_true(json_object_get(o, "patient_page"));
	opts.amended_version = (int)json_integer_value(json_object_get(o, "amended_version"));
	opts.amended_by = json_string_value(json_object_get(o, "amended_by"));
	opts.amended_at = json_string_value(json_object_get(o, "amended_at"));
	char logo[4096], gpath[4096];
	char *guidance = NULL;
	if (json_string_value(json_object_get(o, "logo"))) {
		snprintf(logo, sizeof logo, "%s/%s", dir, json_string_value(json_object_get(o, "logo")));
		opts.logo_png = logo;
	}
	if (json_string_value(json_object_get(o, "guidance"))) {
		snprintf(gpath, sizeof gpath, "%s/%s", dir, json_string_value(json_object_get(o, "guidance")));
		guidance = slurp(gpath);
		if (!guidance) {
			fprintf(stderr, "report_render: cannot read %s\n", gpath);
			return 1;
		}
		opts.patient_guidance = guidance;
	}
	json_t *sj = json_object_get(cs, "signature");
	struct tl_report_signature sig = {json_string_value(json_object_get(sj, "name")),
					  json_string_value(json_object_get(sj, "at"))};
	int repeat = argc > 3 ? atoi(argv[3]) : 1;
	unsigned char *pdf = NULL;
	size_t len = 0;
	int rc = 0;
	for (int i = 0; i < (repeat > 0 ? repeat : 1); i++) {
		struct timespec a, b;
		struct tl_err err;
		free(pdf);
		clock_gettime(CLOCK_MONOTONIC, &a);
		if (tl_report_pdf(json_object_get(cs, "record"), json_object_get(cs, "samples"),
				  json_object_get(cs, "earlier"), &opts, sig.name ? &sig : NULL, &pdf,
				  &len, &err) < 0) {
			fprintf(stderr, "report_render: %s: %s\n", argv[1], err.msg);
			rc = 1;
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &b);
		if (repeat > 1)
			printf("%.3f\n", (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6);
	}
	if (!rc) {
		FILE *f = fopen(argv[2], "wb");
		if (!f || fwrite(pdf, 1, len, f) != len || fclose(f) != 0) {
			fprintf(stderr, "report_render: cannot write %s\n", argv[2]);
			rc = 1;
		}
	}
	free(pdf);
	free(guidance);
	json_decref(cs);
	return rc;
}
