/* treadlab - the command line of the treadmill test controller. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <math.h>

#include "cli.h"

static const struct {
	const char *name;
	tl_cmd_fn fn;
	const char *help;
} commands[] = {
	{"protocols", cmd_protocols, "list the shipped protocols [--json]"},
	{"protocol", cmd_protocol, "show NAME [--json] | check FILE"},
	{"dry-run", cmd_dry_run, "NAME [--onset-at S] [--max-at S] [--json]: run in virtual time"},
	{"status", cmd_status, "[--json]: the daemon's live state"},
	{"start", cmd_start, "--protocol NAME --patient MRN [--operator ID]: prints the test id"},
	{"onset", cmd_onset, "[--operator ID]: the patient signals claudication onset"},
	{"max", cmd_max, "[--operator ID]: the patient signals maximal claudication (ends walking)"},
	{"relief", cmd_relief, "--posture standing|sitting|bending_forward: symptoms relieved"},
	{"stop", cmd_stop, "[--reason TEXT]: operator stop (controlled)"},
	{"estop", cmd_estop, "emergency stop"},
	{"finish", cmd_finish, "end recovery; the test is complete"},
	{"reconnect", cmd_reconnect, "reopen the treadmill after it stopped itself (no test running)"},
	{"show", cmd_show, "ID [--json]: a test's record"},
	{"list", cmd_list, "[--patient MRN] [--json]: recorded tests"},
	{"watch", cmd_watch, "[--count N] [--json]: live view"},
	{"pressure", cmd_pressure, "ID --phase rest|post [--minute M] --site SITE --mmhg N [--noncompressible] [--confirm-implausible]: record a pressure"},
	{"patient", cmd_patient, "MRN [--authority A] [--family F] [--given G] [--birth-date YYYY-MM-DD] [--sex female|male|other|unknown]: show or set demographics"},
	{"order", cmd_order, "ID [--accession X] [--physician-id I] [--physician-family F] [--physician-given G]: a test's order"},
	{"cuff", cmd_cuff, "[--json] | series ID rest|post [MINUTE] | site SITE | inflate | mark | vent | end [--operator ID] [--json] | watch [--json]: pressures read from the cuff"},
	{"findings", cmd_findings, "ID --file F: record the symptoms (JSON) of a test"},
	{"classify", cmd_classify, "FILE|- [--json] [--lower-ankle]: read a findings document"},
	{"ports", cmd_ports, "list serial ports with USB VID:PID [--json]"},
	{"user", cmd_user, "add NAME --role technician|physician|admin | passwd NAME | disable NAME | enable NAME | list [--json]: accounts"},
	{"report", cmd_report, "ID [-o FILE]: the test's report (PDF)"},
	{"sign", cmd_sign, "ID --user NAME: a physician signs the test's report (asks the password)"},
	{"outbox", cmd_outbox, "[list] [--json] | show ID [--json] | retry ID | cancel ID | send TEST-ID [--operator ID]: messages to the medical record"},
	{"export", cmd_export, "--csv [--from DATE] [--to DATE] [-o FILE]: every test as CSV; "
				"--hl7 ID [-o FILE]: the test's HL7 v2 ORU^R01, not sent; "
				"--fhir ID [-o FILE]: its FHIR Bundle, not sent"},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: treadlab COMMAND [ARGS] | --version\n\n"
		     "Live commands reach treadlabd through --socket PATH or $TREADLAB_SOCKET\n"
		     "(default /run/treadlab/api.sock), or --url http://127.0.0.1:PORT.\n\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].help);
}

/* One line on stderr; returns the exit status given. */
static int report(int status, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static int report(int status, const char *fmt, va_list ap)
{
	fputs("treadlab: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	return status;
}

int cli_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = report(1, fmt, ap);
	va_end(ap);
	return rc;
}

int cli_usage(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = report(2, fmt, ap);
	va_end(ap);
	return rc;
}

int cli_parse_double(const char *s, double min, double max, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || *end || errno || !isfinite(v) || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("treadlab %s\n", TREADLAB_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 2, argv + 2);
	return cli_usage("unknown command '%s' (see 'treadlab --help')", argv[1]);
}
