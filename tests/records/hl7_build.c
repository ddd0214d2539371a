/* hl7_build - tl_hl7_oru on a record file, for the tests (integration.daemon_hl7): a
 * record read back from the daemon with demographics and order added, and its report.
 *
 * Usage: hl7_build RECORD.json [--pdf FILE] [--patient-class CLASS] [--control-id ID]
 * Prints the message (segments ending in CR) on stdout; exit 1 with the builder's error
 * on stderr, 2 on bad usage. The message time is fixed (the tests compare bytes). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hl7.h"

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	unsigned char *p = NULL;
	size_t cap = 0;
	*len = 0;
	for (;;) {
		if (*len == cap) {
			unsigned char *q = realloc(p, cap = cap ? cap * 2 : 65536);
			if (!q) {
				free(p);
				fclose(f);
				return NULL;
			}
			p = q;
		}
		size_t n = fread(p + *len, 1, cap - *len, f);
		*len += n;
		if (n == 0)
			break;
	}
	fclose(f);
	return p;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: hl7_build RECORD.json [--pdf FILE] [--patient-class C] "
				"[--control-id ID]\n");
		return 2;
	}
	struct tl_hl7_conf c = {0};
	strcpy(c.sending_application, "TREADLAB");
	strcpy(c.sending_facility, "VASCLAB");
	strcpy(c.receiving_application, "EHR");
	strcpy(c.receiving_facility, "HOSP");
	strcpy(c.ed_type, "Application");
	strcpy(c.ed_subtype, "PDF");
	const char *pdf_path = NULL, *ctl = "TL1";
	for (int i = 2; i < argc; i++) {
		if (i + 1 >= argc) {
			fprintf(stderr, "hl7_build: %s needs a value\n", argv[i]);
			return 2;
		}
		if (!strcmp(argv[i], "--pdf"))
			pdf_path = argv[++i];
		else if (!strcmp(argv[i], "--patient-class"))
			snprintf(c.patient_class, sizeof c.patient_class, "%s", argv[++i]);
		else if (!strcmp(argv[i], "--control-id"))
			ctl = argv[++i];
		else {
			fprintf(stderr, "hl7_build: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	json_error_t je;
	json_t *rec = json_load_file(argv[1], 0, &je);
	if (!rec) {
		fprintf(stderr, "hl7_build: %s line %d: %s\n", argv[1], je.line, je.text);
		return 1;
	}
	size_t pdf_len = 0;
	unsigned char *pdf = pdf_path ? slurp(pdf_path, &pdf_len) : NULL;
	if (pdf_path && !pdf) {
		fprintf(stderr, "hl7_build: cannot read %s\n", pdf_path);
		json_decref(rec);
		return 1;
	}
	char *out;
	size_t len;
	struct tl_err err;
	int rc = tl_hl7_oru(rec, pdf, pdf_len, &c, ctl, "2026-11-26T19:00:00.000Z", &out, &len, &err);
	json_decref(rec);
	free(pdf);
	if (rc < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	rc = fwrite(out, 1, len, stdout) == len ? 0 : 1;
	free(out);
	return rc;
}
