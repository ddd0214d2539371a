/* report_sign - signs a test's report straight in the store, as the daemon's sign command
 * will (the physician role is not wired yet): renders the record with the signature,
 * stores it as the next version with the record's hash, writes the PDF to OUT.
 * Usage: report_sign DB ID NAME AT OUT.pdf; prints the version. For the tests. */
#include <stdio.h>
#include <stdlib.h>

#include "report.h"
#include "store.h"

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr, "usage: report_sign DB ID NAME AT OUT.pdf\n");
		return 2;
	}
	struct tl_err err;
	int64_t id = strtoll(argv[2], NULL, 10);
	struct tl_store *st = tl_store_open(argv[1], &err);
	if (!st) {
		fprintf(stderr, "report_sign: %s\n", err.msg);
		return 1;
	}
	int rc = 1;
	char hash[65];
	json_t *rec = tl_store_test_json(st, id, &err);
	json_t *samples = rec ? tl_store_samples_json(st, id, &err) : NULL;
	json_t *earlier = samples ? tl_store_tests_json(st, json_string_value(json_object_get(rec, "patient")), &err) : NULL;
	struct tl_report_opts o = {0};
	struct tl_report_signature sig = {argv[3], argv[4]};
	unsigned char *pdf = NULL;
	size_t len = 0;
	if (earlier && tl_store_record_hash(st, id, hash, &err) == 0 &&
	    tl_report_pdf(rec, samples, earlier, &o, &sig, &pdf, &len, &err) == 0) {
		int v = tl_store_report_sign(st, id, argv[3], argv[4], pdf, len, hash, &err);
		FILE *f = v > 0 ? fopen(argv[5], "wb") : NULL;
		if (f && fwrite(pdf, 1, len, f) == len && fclose(f) == 0) {
			printf("%d\n", v);
			rc = 0;
		} else if (v > 0) {
			snprintf(err.msg, sizeof err.msg, "cannot write %s", argv[5]);
		}
	}
	if (rc)
		fprintf(stderr, "report_sign: %s\n", err.msg);
	free(pdf);
	json_decref(rec);
	json_decref(samples);
	json_decref(earlier);
	tl_store_close(st);
	return rc;
}
