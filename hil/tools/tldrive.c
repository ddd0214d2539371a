/* tldrive - drive one treadmill driver by hand: bring-up and interoperability checks.
 *
 *   tldrive --driver modbus --tcp 127.0.0.1:1502 --profile config/devices/treadsim.profile \
 *           --speed 3.0 --grade 2.0 --run-ms 3000 --until-speed 2.9
 *
 * Opens the driver (which makes its own checks, e.g. the Modbus watchdog read-back),
 * optionally starts the belt and sets speed and grade, then polls at 10 Hz on absolute
 * deadlines and prints one line per poll. Stops the belt and closes at the end.
 * Exit 0 when --until-speed was reached (or not asked for) without faults. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "treadmill.h"

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double num(const char *opt, const char *v)
{
	char *end;
	errno = 0;
	double d = strtod(v, &end);
	if (end == v || *end || errno) {
		fprintf(stderr, "tldrive: %s: '%s' is not a number\n", opt, v);
		exit(2);
	}
	return d;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: tldrive --driver NAME [--device PATH | --tcp HOST:PORT] [--profile FILE]\n"
		     "               [--unit N] [--baud N] [--framing 8E1|8O1|8N2|8N1]\n"
		     "               [--watchdog-max-ms N] [--timeout-ms N]\n"
		     "               [--retries N] [--no-start] [--speed KMH] [--grade PCT]\n"
		     "               [--run-ms N] [--until-speed KMH]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"driver", required_argument, 0, 'd'}, {"device", required_argument, 0, 'D'},
		{"tcp", required_argument, 0, 't'}, {"profile", required_argument, 0, 'p'},
		{"unit", required_argument, 0, 'u'}, {"baud", required_argument, 0, 'b'},
		{"framing", required_argument, 0, 'f'},
		{"watchdog-max-ms", required_argument, 0, 'w'}, {"timeout-ms", required_argument, 0, 'T'},
		{"retries", required_argument, 0, 'r'}, {"no-start", no_argument, 0, 'n'},
		{"speed", required_argument, 0, 's'}, {"grade", required_argument, 0, 'g'},
		{"run-ms", required_argument, 0, 'R'}, {"until-speed", required_argument, 0, 'U'},
		{"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
	};
	/* Driver keys as the configuration would write them, set through the driver's table
	 * once it is known; the first row is tldrive's own default, used if the driver takes it. */
	const char *kv[16][2] = {{"response_timeout_ms", "200"}};
	int nkv = 1;
	const char *driver = NULL;
	bool start = true;
	double speed = 0, grade = 0, until = -1;
	int run_ms = 2000, c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': driver = optarg; break;
		case 'D': case 't': case 'p': case 'u': case 'b': case 'f': case 'w': case 'T': case 'r':
			if (nkv == 16) {
				usage(stderr);
				return 2;
			}
			kv[nkv][0] = c == 'D' ? "device" : c == 't' ? "tcp" : c == 'p' ? "profile"
				   : c == 'u' ? "unit_id" : c == 'b' ? "baud" : c == 'f' ? "framing"
				   : c == 'w' ? "watchdog_max_ms" : c == 'T' ? "response_timeout_ms" : "retries";
			kv[nkv++][1] = optarg;
			break;
		case 'n': start = false; break;
		case 's': speed = num("--speed", optarg); break;
		case 'g': grade = num("--grade", optarg); break;
		case 'R': run_ms = (int)num("--run-ms", optarg); break;
		case 'U': until = num("--until-speed", optarg); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	const struct tl_treadmill_ops *ops = driver ? tl_treadmill_find(driver) : NULL;
	if (!ops) {
		fprintf(stderr, "tldrive: unknown driver '%s'; this build has:", driver ? driver : "");
		for (size_t i = 0; tl_treadmill_drivers[i]; i++)
			fprintf(stderr, " %s", tl_treadmill_drivers[i]->name);
		fputc('\n', stderr);
		return 2;
	}
	struct tl_driver_optbuf o;
	char why[300];
	tl_driver_opts_defaults(ops, &o);
	for (int k = 0; k < nkv; k++) {
		if (k == 0 && !tl_driver_option_find(ops, "treadmill", kv[k][0]))
			continue;
		if (tl_driver_opts_set(ops, &o, "treadmill", kv[k][0], kv[k][1], why, sizeof why)) {
			fprintf(stderr, "tldrive: %s\n", why);
			return 2;
		}
	}
	if (tl_driver_opts_check(ops, &o, why, sizeof why)) {
		fprintf(stderr, "tldrive: driver %s %s\n", ops->name, why);
		return 2;
	}
	struct tl_treadmill tm = {.ops = ops};
	if (ops->open(&tm, &o)) {
		fprintf(stderr, "tldrive: %s\n", tm.err);
		return 1;
	}
	int64_t t0 = mono_ms();
	int rc = 0;
	double sent_speed = 0, sent_grade = 0;
	if (start && (ops->start(&tm, 0) || ops->set_speed(&tm, speed, 0, &sent_speed) ||
		      ops->set_grade(&tm, grade, 0, &sent_grade))) {
		fprintf(stderr, "tldrive: %s\n", tm.err);
		ops->close(&tm);
		return 1;
	}
	if (start)
		printf("sent speed_kmh=%.3f grade_pct=%.2f\n", sent_speed, sent_grade);
	bool reached = until < 0;
	struct timespec next;
	clock_gettime(CLOCK_MONOTONIC, &next);
	while (mono_ms() - t0 < run_ms && !(reached && until >= 0)) {
		struct tl_feedback fb;
		int64_t now = mono_ms() - t0;
		int prc = ops->poll(&tm, now, &fb);
		printf("t_ms=%lld valid=%d speed_kmh=%.3f grade_pct=%.2f running=%d "
		       "device_stopped=%d faults=0x%02x fault_code=%d%s%s\n", (long long)now, fb.valid,
		       fb.speed_kmh, fb.grade_pct, fb.belt_running, fb.device_stopped, fb.faults,
		       fb.fault_code, fb.detail[0] ? " detail=" : "", fb.detail);
		if (prc || fb.faults) {
			rc = 1;
			break;
		}
		if (until >= 0 && fb.speed_kmh >= until)
			reached = true;
		next.tv_nsec += 100 * 1000000L;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_sec++;
			next.tv_nsec -= 1000000000L;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
	}
	if (start && ops->stop(&tm, mono_ms() - t0)) {
		fprintf(stderr, "tldrive: stop: %s\n", tm.err);
		rc = 1;
	}
	ops->close(&tm);
	if (!reached) {
		fprintf(stderr, "tldrive: speed %.2f km/h not reached within %d ms\n", until, run_ms);
		rc = 1;
	}
	printf("%s\n", rc ? "failed" : "ok");
	return rc;
}
