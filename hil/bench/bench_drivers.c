/* bench_drivers - what a poll and an emergency stop cost on each wire, against treadsim.
 *
 * Prints figures; asserts nothing (performance is measured, not asserted: hil/README.md). For each setup: the time of a
 * full poll() (median, p99, max over N polls) next to the physical minimum of its bytes
 * at the line's baud rate, and the emergency-stop latency from the call to the moment
 * treadsim received the frame (its log's CLOCK_MONOTONIC stamp) and to the call's return.
 * The unpaced wires are then measured again with the wire trace on (tl_log.h, the level
 * of treadlabd -vv), its lines written to /dev/null: the cost of formatting and writing
 * them, without what a terminal or the journal adds.
 * Run: build/hil/bench_drivers [N] */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "modbus_treadmill.h"
#include "tl_log.h"
#include "trackmaster.h"

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The CLOCK_MONOTONIC stamp of the last log line containing needle, or -1. */
static double last_stamp(const struct sim_proc *p, const char *needle)
{
	FILE *f = fopen(p->log, "r");
	if (!f)
		return -1;
	char line[2048];
	double t = -1;
	while (fgets(line, sizeof line, f))
		if (strstr(line, needle))
			t = atof(line);
	fclose(f);
	return t;
}

struct setup {
	const char *title;
	enum sim_mode mode;
	const char *baud;             /* treadsim pacing, NULL: none */
	const struct tl_treadmill_ops *ops;
	double min_ms;                /* bytes of one poll at the baud rate, ms */
	const char *estop_frame;      /* how the e-stop request shows in the log */
};

static void bench(const struct setup *s, int n, const char *trace)
{
	const char *args[] = {"--time-scale", "20", s->baud ? "--baud" : NULL, s->baud, NULL};
	struct sim_proc sim;
	if (sim_start(&sim, s->mode, args)) {
		printf("%-34s treadsim did not start\n", s->title);
		return;
	}
	/* The driver's own options, through its table; keys it does not take are skipped. */
	const char *const kv[][2] = {
		{s->mode == SIM_TCP ? "tcp" : "device", s->mode == SIM_TCP ? sim.tcp_addr : sim.link},
		{"baud", s->baud && s->mode == SIM_RTU ? s->baud : NULL},
		{"profile", TL_DEVICES_DIR "/treadsim.profile"},
		{"unit_id", "1"}, {"watchdog_max_ms", "2000"}, {"response_timeout_ms", "300"},
		{"retries", "1"},
	};
	struct tl_driver_optbuf o;
	char why[300];
	tl_driver_opts_defaults(s->ops, &o);
	for (size_t k = 0; k < sizeof kv / sizeof kv[0]; k++) {
		if (!kv[k][1] || !tl_driver_option_find(s->ops, "treadmill", kv[k][0]))
			continue;
		if (tl_driver_opts_set(s->ops, &o, "treadmill", kv[k][0], kv[k][1], why, sizeof why)) {
			printf("%-34s %s\n", s->title, why);
			sim_stop(&sim);
			return;
		}
	}
	struct tl_treadmill tm = {.ops = s->ops};
	if (tm.ops->open(&tm, &o)) {
		printf("%-34s open: %s\n", s->title, tm.err);
		sim_stop(&sim);
		return;
	}
	double *ms = calloc((size_t)n, sizeof *ms);
	tm.ops->start(&tm, 0);
	tm.ops->set_speed(&tm, 3.0, 0, NULL);
	int ok = 0;
	for (int i = 0; i < n; i++) {
		struct tl_feedback fb;
		double t0 = mono_s();
		if (tm.ops->poll(&tm, (int64_t)(t0 * 1000), &fb) == 0)
			ms[ok++] = (mono_s() - t0) * 1000;
	}
	qsort(ms, (size_t)ok, sizeof *ms, cmp);
	double t_call = mono_s();
	tm.ops->emergency_stop(&tm, (int64_t)(t_call * 1000));
	double t_ret = mono_s();
	double t_rx = last_stamp(&sim, s->estop_frame);
	if (ok)
		printf("%-34s %-10s poll %6.2f / %6.2f / %6.2f ms (median/p99/max, n=%d; wire "
		       "minimum %.1f ms)  e-stop: at device %+.2f ms, acked %.2f ms\n", s->title,
		       trace, ms[ok / 2], ms[ok * 99 / 100], ms[ok - 1], ok, s->min_ms,
		       (t_rx - t_call) * 1000, (t_ret - t_call) * 1000);
	else
		printf("%-34s no successful poll: %s\n", s->title, tm.err);
	free(ms);
	tm.ops->close(&tm);
	sim_stop(&sim);
}

/* One poll: input registers 0..4 (8 + 15 bytes) and holding 3 (8 + 7 bytes), each with a
 * 3.5-character gap; 11 bits a character. */
static double modbus_min_ms(int baud)
{
	return (23 + 15 + 2 * 3.5) * 11 * 1000.0 / baud;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 200;
	if (n < 10)
		n = 10;
	const struct setup setups[] = {
		{"modbus rtu, pty, unpaced", SIM_RTU, NULL, &tl_modbus_treadmill_ops, 0,
		 "rx modbus-rtu 01 06 00 02 00 02"},
		{"modbus rtu, pty, 19200 baud", SIM_RTU, "19200", &tl_modbus_treadmill_ops,
		 modbus_min_ms(19200), "rx modbus-rtu 01 06 00 02 00 02"},
		{"modbus rtu, pty, 9600 baud", SIM_RTU, "9600", &tl_modbus_treadmill_ops,
		 modbus_min_ms(9600), "rx modbus-rtu 01 06 00 02 00 02"},
		{"modbus tcp, loopback", SIM_TCP, NULL, &tl_modbus_treadmill_ops, 0,
		 "00 06 01 06 00 02 00 02"},
		{"trackmaster, pty, unpaced", SIM_TM, NULL, &tl_trackmaster_treadmill_ops, 0,
		 "rx trackmaster A2"},
		/* C0/D0 x, C1/D1 dddd, C2/D2 dddd: 3 + 6 + 6 = 15 characters */
		{"trackmaster, pty, 4800 baud", SIM_TM, "4800", &tl_trackmaster_treadmill_ops,
		 15 * 11 * 1000.0 / 4800, "rx trackmaster A2"},
	};
	printf("bench_drivers: %d polls per setup; times from CLOCK_MONOTONIC\n", n);
	tl_log_set_level(TL_LOG_INFO);
	for (size_t i = 0; i < sizeof setups / sizeof setups[0]; i++)
		bench(&setups[i], n, "trace off");
	int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (null_fd < 0) {
		perror("bench_drivers: /dev/null");
		return 1;
	}
	tl_log_to_fd(null_fd);
	tl_log_set_level(TL_LOG_WIRE);
	for (size_t i = 0; i < sizeof setups / sizeof setups[0]; i++)
		if (!setups[i].baud)
			bench(&setups[i], n, "trace wire");
	close(null_fd);
	return 0;
}
