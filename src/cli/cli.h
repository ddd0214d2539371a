/* cli.h - the treadlab command line: one function per command. */
#ifndef TL_CLI_H
#define TL_CLI_H

#include <stdbool.h>

/* Every command gets argv after its own name(s) and returns the process exit status:
 * 0 on success, 1 on a failure it reported on stderr, 2 on a usage error. */
typedef int (*tl_cmd_fn)(int argc, char **argv);

int cmd_protocols(int argc, char **argv);
int cmd_protocol(int argc, char **argv);
int cmd_dry_run(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_start(int argc, char **argv);
int cmd_onset(int argc, char **argv);
int cmd_max(int argc, char **argv);
int cmd_relief(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_estop(int argc, char **argv);
int cmd_finish(int argc, char **argv);
int cmd_reconnect(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_pressure(int argc, char **argv);
int cmd_findings(int argc, char **argv);
int cmd_patient(int argc, char **argv);
int cmd_order(int argc, char **argv);
int cmd_classify(int argc, char **argv);
int cmd_ports(int argc, char **argv);
int cmd_user(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_outbox(int argc, char **argv);
int cmd_cuff(int argc, char **argv);

/* Prints "treadlab: <message>" on stderr and returns 1 (or 2 for usage). */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Parses a finite number in [min, max]; returns 0 or -1. */
int cli_parse_double(const char *s, double min, double max, double *out);

#endif
