/* cmd_report.c - treadlab report (the PDF of a test) and treadlab export (the research
 * CSV): both fetched from the daemon's API (docs/api.md) and written as received. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api_client.h"
#include "cli.h"

/* Writes len bytes to path through a temporary file renamed into place (a reader never
 * sees half a report), or to stdout when path is NULL. */
static int write_out(const char *path, const char *data, size_t len)
{
	if (!path) {
		if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0)
			return cli_fail("writing to standard output: %s", strerror(errno));
		return 0;
	}
	char tmp[4096];
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid()) >= sizeof tmp)
		return cli_fail("%s: path too long", path);
	FILE *f = fopen(tmp, "wb");
	if (!f)
		return cli_fail("%s: %s", tmp, strerror(errno));
	bool ok = fwrite(data, 1, len, f) == len;
	ok = (fclose(f) == 0) && ok;
	if (!ok || rename(tmp, path) != 0) {
		int e = errno;
		unlink(tmp);
		return cli_fail("writing %s: %s", path, strerror(e));
	}
	return 0;
}

int cmd_report(int argc, char **argv)
{
	struct tl_client c;
	if (tl_client_init(&c, &argc, argv))
		return 1;
	const char *id = NULL, *out = NULL;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) {
			if (++i >= argc)
				return cli_usage("report: %s needs a file name", argv[i - 1]);
			out = argv[i];
		} else if (argv[i][0] == '-' || id) {
			return cli_usage("report: unexpected '%s' (usage: report ID [-o FILE])", argv[i]);
		} else {
			id = argv[i];
		}
	}
	if (!id || strspn(id, "0123456789") != strlen(id) || id[0] == '0' || strlen(id) > 18)
		return cli_usage("report: expected a test id (a positive number)");
	if (!out && isatty(STDOUT_FILENO))
		return cli_usage("report: give -o FILE (a PDF is not for the terminal)");
	char path[64];
	snprintf(path, sizeof path, "/v1/tests/%s/report.pdf", id);
	char *pdf;
	size_t len;
	if (tl_client_get_bytes(&c, path, &pdf, &len))
		return 1;
	int rc = write_out(out, pdf, len);
	free(pdf);
	return rc;
}

/* A date YYYY-MM-DD (the daemon checks that it exists). */
static bool is_date(const char *s)
{
	return strlen(s) == 10 && strspn(s, "0123456789-") == 10 && s[4] == '-' && s[7] == '-';
}

/* export --fhir ID: the FHIR Bundle the test would be sent as (GET /v1/tests/ID/fhir). */
/* One test's message as the daemon would deliver it (kind "hl7": the ORU^R01, segments
 * separated by CR; "fhir": the Bundle), written as received. */
static int export_message(const struct tl_client *c, const char *kind, const char *id,
			  const char *out, bool other)
{
	if (other)
		return cli_usage("export: --%s ID is one test's message; --csv, --from and --to "
				 "are for the CSV", kind);
	if (strspn(id, "0123456789") != strlen(id) || id[0] == '0' || strlen(id) > 18)
		return cli_usage("export: --%s expects a test id (a positive number), got '%s'",
				 kind, id);
	char path[64];
	snprintf(path, sizeof path, "/v1/tests/%s/%s", id, kind);
	char *text;
	size_t len;
	if (tl_client_get_bytes(c, path, &text, &len))
		return 1;
	int rc = write_out(out, text, len);
	free(text);
	return rc;
}

int cmd_export(int argc, char **argv)
{
	struct tl_client c;
	if (tl_client_init(&c, &argc, argv))
		return 1;
	const char *from = NULL, *to = NULL, *out = NULL, *hl7 = NULL, *fhir = NULL;
	bool csv = false;
	for (int i = 0; i < argc; i++) {
		const char **dst = !strcmp(argv[i], "--from") ? &from
				   : !strcmp(argv[i], "--to") ? &to
				   : !strcmp(argv[i], "--hl7") ? &hl7
				   : !strcmp(argv[i], "-o") || !strcmp(argv[i], "--output") ? &out
				   : !strcmp(argv[i], "--fhir") ? &fhir
				   : NULL;
		if (!strcmp(argv[i], "--csv")) {
			csv = true;
		} else if (dst) {
			if (++i >= argc)
				return cli_usage("export: %s needs a value", argv[i - 1]);
			*dst = argv[i];
		} else {
			return cli_usage("export: unexpected '%s' (usage: export --csv [--from DATE] "
					 "[--to DATE] [-o FILE] | export --hl7 ID [-o FILE] | export --fhir ID [-o FILE])", argv[i]);
		}
	}
	if (hl7 && fhir)
		return cli_usage("export: --hl7 or --fhir, one at a time");
	if (hl7 || fhir)
		return export_message(&c, hl7 ? "hl7" : "fhir", hl7 ? hl7 : fhir, out, csv || from || to);
	if (!csv)
		return cli_usage("export: give --csv [--from DATE] [--to DATE], --hl7 ID or --fhir ID");
	if ((from && !is_date(from)) || (to && !is_date(to)))
		return cli_usage("export: --from and --to take a date YYYY-MM-DD, got '%s'",
				 from && !is_date(from) ? from : to);
	char path[128];
	snprintf(path, sizeof path, "/v1/export.csv?from=%s&to=%s", from ? from : "", to ? to : "");
	char *text;
	size_t len;
	if (tl_client_get_bytes(&c, path, &text, &len))
		return 1;
	int rc = write_out(out, text, len);
	free(text);
	return rc;
}
