/* bench_cuff - the foot switch to the marked pressure, on each cuff source, against
 * treadsim's cuff (issue 15). Prints figures; asserts nothing.
 *
 * For each wire (Modbus RTU, Modbus TCP, the text gauge) it runs N "signal back" cycles
 * (the scenario's pt-right 3 minutes after exercise; the Modbus source driven by the
 * core's cycle, the text gauge by treadsim's technician) and prints, as p50 / p99 / max:
 *   - press: the host's time of the foot switch byte minus treadsim's time of sending it
 *     (its log, the same CLOCK_MONOTONIC): the mark's timestamp error;
 *   - implied: that error times the configured deflation rate (2 mmHg/s, the default of
 *     src/core/cuff.h): the pressure error the timing alone causes;
 *   - marked: the marked pressure (interpolated from the source's own samples) minus
 *     treadsim's cuff pressure at the press: timestamp and sampling errors together, at
 *     the rate the bench deflates (5 mmHg/s, so the run stays short), also scaled to 2;
 *   - the sampling interval around the press.
 * The Doppler's own reaction time (the scenario's 250 +- 40 ms) is not in these figures:
 * it is the technician's, the same with any software.
 * Run: build/hil/bench_cuff [N]   (default 5 cycles a wire) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CUFF_FAIL(...) (fprintf(stderr, "bench_cuff: " __VA_ARGS__), fputc('\n', stderr), exit(1))
#include "cuff_fixture.h"

#define RATE 5.0
#define CONFIGURED_RATE TL_CUFF_DEFLATE_MMHG_S
#define CEILING 120.0
#define MAX_N 200

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(double *v, int n, double p)
{
	qsort(v, (size_t)n, sizeof *v, cmp);
	int i = (int)ceil(p / 100.0 * n) - 1;
	return v[i < 0 ? 0 : i >= n ? n - 1 : i];
}

static void row(const char *what, double *v, int n, const char *unit)
{
	double p50 = pct(v, n, 50), p99 = pct(v, n, 99), max = v[n - 1];
	printf("  %-34s p50 %8.3f  p99 %8.3f  max %8.3f %s\n", what, p50, p99, max, unit);
}

static bool idle(int timeout_ms)
{
	long long deadline = hil_now_ms() + timeout_ms;
	char reply[400];
	do {
		if (sim_control(&cfx.sim, "cuff-state", reply, sizeof reply) == 0 &&
		    strstr(reply, "mode=idle"))
			return true;
	} while (hil_now_ms() < deadline);
	return false;
}

static void bench(enum cuff_wire wire, const char *title, int n)
{
	const char *const text_args[] = {"--cuff-text-period-ms", "20", NULL};
	if (cuff_sim_start(wire, wire == CW_TEXT ? text_args : NULL))
		CUFF_FAIL("%s: treadsim did not start", title);
	cuff_source_for(wire);
	if (cuff_open())
		CUFF_FAIL("%s: open: %s", title, cfx.cuff.err);
	cuff_control("cuff-site=pt-right");
	cuff_control("cuff-phase=3");
	double dt[MAX_N], implied[MAX_N], marked[MAX_N], scaled[MAX_N], interval[MAX_N];
	int k = 0;
	for (int i = 0; i < n; i++) {
		int rc = wire == CW_TEXT ? cuff_text_cycle(CEILING, RATE, 60000)
					 : cuff_modbus_cycle(CEILING, RATE, 60000);
		if (rc) {
			fprintf(stderr, "%s: cycle %d: %s\n", title, i + 1, cfx.last_err);
			continue;
		}
		struct tl_cuff_mark m;
		struct tl_err err;
		double t_sim, truth, at_press;
		if (tl_cuff_mark_at(cfx.s, cfx.n, cfx.press_ms, 250, &m, &err) ||
		    cuff_sim_press(&t_sim, &truth, &at_press)) {
			fprintf(stderr, "%s: cycle %d: %s\n", title, i + 1, err.msg);
			continue;
		}
		dt[k] = fabs(cfx.press_ms_f - t_sim);
		implied[k] = dt[k] / 1000.0 * CONFIGURED_RATE;
		marked[k] = fabs(m.mmhg - at_press);
		scaled[k] = marked[k] * CONFIGURED_RATE / RATE;
		interval[k] = m.interval_ms;
		k++;
		if (!idle(20000))
			CUFF_FAIL("%s: the cuff did not vent after cycle %d", title, i + 1);
	}
	printf("%s: %d of %d cycles marked\n", title, k, n);
	if (k) {
		row("press timestamp error", dt, k, "ms");
		row("pressure error it implies at 2/s", implied, k, "mmHg");
		row("|marked - simulator| at 5 mmHg/s", marked, k, "mmHg");
		row("  the same scaled to 2 mmHg/s", scaled, k, "mmHg");
		row("sampling interval at the press", interval, k, "ms");
	}
	cuff_teardown();
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 5;
	if (n < 1 || n > MAX_N) {
		fprintf(stderr, "usage: bench_cuff [N]   (1..%d cycles a wire)\n", MAX_N);
		return 2;
	}
	printf("bench_cuff: %d cycles a wire, deflating at %.0f mmHg/s (configured rate %.0f "
	       "mmHg/s)\n", n, RATE, CONFIGURED_RATE);
	bench(CW_RTU, "cuff-modbus RTU (pty, unpaced)", n);
	bench(CW_TCP, "cuff-modbus TCP (loopback)", n);
	bench(CW_TEXT, "cuff-text (pty, a line every 20 ms)", n);
	return 0;
}
