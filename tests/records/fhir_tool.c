/* fhir_tool - the FHIR builder and poster from the command line, for the records tests:
 *   fhir_tool bundle RECORD.json SEED NOW [PDF]   the Bundle on standard output
 *   fhir_tool post URL TIMEOUT_MS FILE [TOKEN]    one attempt: "RESULT<TAB>detail<TAB>ms"
 * RESULT is DELIVERED, REJECTED or RETRY (tl_fhir_post); $FHIR_CA_FILE, when set, is
 * the CA file TLS verifies the server against. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fhir.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *p = NULL;
	size_t n = 0, cap = 0;
	for (;;) {
		if (n + 65536 + 1 > cap) {
			char *q = realloc(p, cap = (n + 65536 + 1) * 2);
			if (!q) {
				free(p);
				fclose(f);
				return NULL;
			}
			p = q;
		}
		size_t got = fread(p + n, 1, 65536, f);
		n += got;
		if (got < 65536)
			break;
	}
	fclose(f);
	p[n] = 0;
	*len = n;
	return p;
}

static int bundle(int argc, char **argv)
{
	json_error_t je;
	json_t *rec = json_load_file(argv[2], 0, &je);
	if (!rec) {
		fprintf(stderr, "fhir_tool: %s:%d: %s\n", argv[2], je.line, je.text);
		return 1;
	}
	size_t pdf_len = 0;
	char *pdf = argc > 5 ? slurp(argv[5], &pdf_len) : NULL;
	if (argc > 5 && !pdf) {
		fprintf(stderr, "fhir_tool: cannot read %s\n", argv[5]);
		json_decref(rec);
		return 1;
	}
	struct tl_err err;
	json_t *b = tl_fhir_bundle(rec, (unsigned char *)pdf, pdf_len, argv[3], argv[4], &err);
	json_decref(rec);
	free(pdf);
	if (!b) {
		fprintf(stderr, "fhir_tool: %s\n", err.msg);
		return 1;
	}
	char *text = tl_fhir_dump(b);
	json_decref(b);
	if (!text)
		return 1;
	puts(text);
	free(text);
	return 0;
}

static int post(int argc, char **argv)
{
	struct tl_fhir_conf conf = {0};
	snprintf(conf.url, sizeof conf.url, "%s", argv[2]);
	conf.d.timeout_ms = atoi(argv[3]);
	const char *ca = getenv("FHIR_CA_FILE");
	if (ca)
		snprintf(conf.ca_file, sizeof conf.ca_file, "%s", ca);
	size_t len;
	char *body = slurp(argv[4], &len);
	if (!body) {
		fprintf(stderr, "fhir_tool: cannot read %s\n", argv[4]);
		return 1;
	}
	char detail[1024];
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	enum tl_send_result r = tl_fhir_post(&conf, argc > 5 ? argv[5] : NULL, body, len, detail,
					     sizeof detail);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	free(body);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	printf("%s\t%s\t%ld\n", r == TL_SEND_DELIVERED ? "DELIVERED" : r == TL_SEND_REJECTED ? "REJECTED" : "RETRY",
	       detail, ms);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 5 && !strcmp(argv[1], "bundle"))
		return bundle(argc, argv);
	if (argc >= 5 && !strcmp(argv[1], "post"))
		return post(argc, argv);
	fprintf(stderr, "usage: fhir_tool bundle RECORD.json SEED NOW [PDF]\n"
			"       fhir_tool post URL TIMEOUT_MS FILE [TOKEN]\n");
	return 2;
}
