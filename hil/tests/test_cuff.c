/* The cuff pressure sources against treadsim's cuff (issue 15): the Modbus source run
 * through the core's cycle on RTU and TCP, the mark it computes from its own samples
 * within the simulator's known error of the true pressure (deflation rate x reaction
 * time); the vent at close; the simulator's own vent when its commander goes silent; the
 * text source's lines, its mark, and its refusals (bad lines, a stuck pressure, an
 * unplugged port), never a value. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>

#include "cuff_fixture.h"

/* The fixture's pt-left 3 minutes after exercise, and its Doppler's timing. */
#define TRUE_MMHG 66.0
#define REACTION_MS 250
#define JITTER_MS 40
#define RATE 5.0     /* mmHg/s: the fastest the core allows, to keep the test short */
/* 12 mmHg above the truth: the deflation reaches the mark 2.4 s after the ceiling, long
 * enough for the rate around the press; the mark's error depends on the rate and the
 * reaction, not on that distance. */
#define CEILING 78.0
/* treadsim's pump: the inflation is none of what these tests measure. */
#define FAST_PUMP "--cuff-inflate-mmhg-s", "100"
/* What the host's timing may add to the mark: the sampling (a read every ~10 ms, a text
 * line's way through the pty, the interpolation) and the press's way through the box's
 * pty: 300 ms at RATE, for a loaded machine or a sanitizer. */
#define SLACK_MMHG 1.5

static int teardown(void **state)
{
	(void)state;
	cuff_teardown();
	return 0;
}

static bool cuff_state_has(const char *needle, int timeout_ms)
{
	long long deadline = hil_now_ms() + timeout_ms;
	char reply[400];
	do {
		if (sim_control(&cfx.sim, "cuff-state", reply, sizeof reply) == 0 && strstr(reply, needle))
			return true;
		/* a question every 20 ms, not a connection after connection (system time) */
		poll(NULL, 0, 20);
	} while (hil_now_ms() < deadline);
	return false;
}

/* The mark from the samples around the press, checked against the truth. */
static void check_mark(const char *wire)
{
	struct tl_cuff_mark m;
	struct tl_err err;
	if (tl_cuff_mark_at(cfx.s, cfx.n, cfx.press_ms, 250, &m, &err))
		fail_msg("%s: %s", wire, err.msg);
	double t_sim = 0, truth = 0, at_press = 0;
	assert_int_equal(cuff_sim_press(&t_sim, &truth, &at_press), 0);
	assert_true(truth == TRUE_MMHG);
	/* The technician presses REACTION_MS +- JITTER_MS after the signal came back, while
	 * the cuff falls at RATE: the mark lies that far below the truth. */
	double lo = truth - RATE * (REACTION_MS + JITTER_MS) / 1000.0 - SLACK_MMHG;
	double hi = truth - RATE * (REACTION_MS - JITTER_MS) / 1000.0 + SLACK_MMHG;
	print_message("%s: true %.1f, marked %.2f (simulator at the press %.2f), interval %d ms, "
		      "rate %.2f mmHg/s, press seen %.1f ms after the simulator sent it\n", wire,
		      truth, m.mmhg, at_press, m.interval_ms, m.rate_mmhg_s,
		      (double)cfx.press_ms - t_sim);
	if (m.mmhg < lo || m.mmhg > hi)
		fail_msg("%s: marked %.2f mmHg, outside %.2f..%.2f", wire, m.mmhg, lo, hi);
	assert_true(fabs(m.mmhg - at_press) <= SLACK_MMHG);
	assert_true(fabs(m.rate_mmhg_s - RATE) < 1.0);
	assert_true(m.interval_ms > 0 && m.interval_ms <= 250);
}

static void modbus_marks_signal_back(enum cuff_wire wire, const char *name)
{
	const char *const args[] = {FAST_PUMP, NULL};
	assert_int_equal(cuff_sim_start(wire, args), 0);
	cuff_source_for(wire);
	if (cuff_open())
		fail_msg("open: %s", cfx.cuff.err);
	assert_true(tl_cuff_modbus_can_inflate(&cfx.cuff));
	cuff_control("cuff-site=pt-left");
	cuff_control("cuff-phase=3");
	if (cuff_modbus_cycle(CEILING, RATE, 20000))
		fail_msg("%s cycle: %s", name, cfx.last_err);
	check_mark(name);
	assert_true(cuff_state_has("mode=idle", 10000));
	/* The core ordered the vent after the mark; treadsim saw it as a command. */
	assert_int_equal(sim_log_count(&cfx.sim, "event cuff-vent command"), 1);
	assert_int_equal(sim_log_count(&cfx.sim, "event cuff-idle"), 1);
	assert_int_equal(sim_log_count(&cfx.sim, "event cuff-vent watchdog"), 0);
}

static void modbus_rtu_marks_signal_back(void **state)
{
	(void)state;
	modbus_marks_signal_back(CW_RTU, "cuff-modbus RTU");
}

static void modbus_tcp_marks_signal_back(void **state)
{
	(void)state;
	modbus_marks_signal_back(CW_TCP, "cuff-modbus TCP");
}

/* Inflates to mmhg and reads until the cuff holds it. */
static void inflate_and_hold(double mmhg)
{
	assert_int_equal(cfx.cuff.ops->inflate_to(&cfx.cuff, mmhg, hil_now_ms()), 0);
	long long deadline = hil_now_ms() + 20000;
	struct tl_cuff_reading r = {0};
	while (hil_now_ms() < deadline) {
		assert_int_equal(cfx.cuff.ops->read(&cfx.cuff, hil_now_ms(), &r), 1);
		if (r.mmhg >= mmhg - 0.05)
			return;
		struct pollfd p = {.fd = -1};
		poll(&p, 0, 20);
	}
	fail_msg("the cuff did not reach %.0f mmHg (%.1f)", mmhg, r.mmhg);
}


static void close_vents_the_cuff(void **state)
{
	(void)state;
	const char *const args[] = {FAST_PUMP, NULL};
	assert_int_equal(cuff_sim_start(CW_TCP, args), 0);
	cuff_source_for(CW_TCP);
	assert_int_equal(cuff_open(), 0);
	inflate_and_hold(60);
	tl_cuff_close(&cfx.cuff);
	cfx.open = false;
	assert_int_equal(sim_log_count(&cfx.sim, "event cuff-vent command"), 1);
	assert_true(cuff_state_has("mode=idle", 10000));
}

static void simulator_vents_when_commander_goes_silent(void **state)
{
	(void)state;
	const char *const args[] = {"--cuff-watchdog-ms", "300", FAST_PUMP, NULL};
	assert_int_equal(cuff_sim_start(CW_RTU, args), 0);
	cuff_source_for(CW_RTU);
	assert_int_equal(cuff_open(), 0);
	inflate_and_hold(50);
	long long silent_from = hil_now_ms();
	/* The commander says nothing more (as a daemon killed with -9): the cuff vents. */
	assert_true(cuff_state_has("vents=1", 10000));
	assert_true(cuff_state_has("mode=idle", 10000));
	assert_int_equal(sim_log_count(&cfx.sim, "event cuff-vent watchdog"), 1);
	FILE *f = fopen(cfx.sim.log, "r");
	assert_non_null(f);
	char line[512];
	double vent_s = 0, last_rx_s = 0;
	while (fgets(line, sizeof line, f))
		if (strstr(line, "event cuff-vent watchdog"))
			assert_int_equal(sscanf(line, "%lf event cuff-vent watchdog pressure=%*f last_rx=%lf",
						&vent_s, &last_rx_s), 2);
	fclose(f);
	double gap_ms = (vent_s - last_rx_s) * 1000;
	print_message("watchdog vent %.0f ms after the last request (limit 300 ms)\n", gap_ms);
	assert_true(gap_ms >= 300);
	assert_true(vent_s * 1000 >= silent_from);
	/* The device says why in its status register (bit 0x10). */
	assert_int_equal(sim_log_count(&cfx.sim, "event cuff-vent command"), 0);
	assert_true(cuff_state_has("status=0x10", 1000));
}

static void manometer_profile_cannot_inflate(void **state)
{
	(void)state;
	/* The sample profile without its control path: a read-only manometer. */
	char path[160];
	snprintf(path, sizeof path, "/tmp/cuff-manometer-%d.profile", (int)getpid());
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("[device]\nname = manometer\nsource = test\n[registers]\n"
	      "pressure = input 0x0000 0.1 mmHg\n", f);
	fclose(f);
	assert_int_equal(cuff_sim_start(CW_TCP, NULL), 0);
	cuff_source_for(CW_TCP);
	cuff_opt("profile", path);
	assert_int_equal(cuff_open(), 0);
	unlink(path);
	assert_false(tl_cuff_modbus_can_inflate(&cfx.cuff));
	assert_int_equal(cfx.cuff.ops->inflate_to(&cfx.cuff, 100, hil_now_ms()), -1);
	assert_non_null(strstr(cfx.cuff.err, "cannot inflate: the profile is a manometer"));
	struct tl_cuff_reading r;
	assert_int_equal(cfx.cuff.ops->read(&cfx.cuff, hil_now_ms(), &r), 1);
	assert_true(r.mmhg == 0.0);
}

static void modbus_refuses_unreachable_device(void **state)
{
	(void)state;
	assert_int_equal(cuff_sim_start(CW_RTU, NULL), 0);
	cuff_source_for(CW_RTU);
	cuff_opt("device", "/nonexistent/tty");
	assert_int_equal(cuff_open(), -1);
	assert_non_null(strstr(cfx.cuff.err, "cannot connect to /nonexistent/tty"));
}

/* ---- the text source ----------------------------------------------------------------- */

static void text_open(const char *const *extra)
{
	assert_int_equal(cuff_sim_start(CW_TEXT, extra), 0);
	cuff_source_for(CW_TEXT);
	if (cuff_open())
		fail_msg("open: %s", cfx.cuff.err);
	assert_int_equal(cfx.cuff.ops->flags & TL_CUFF_CAN_INFLATE, 0);
	assert_null(cfx.cuff.ops->inflate_to);
}

/* Waits for the next reading (1) or error (-1). */
static int text_next(struct tl_cuff_reading *r, int timeout_ms)
{
	long long deadline = hil_now_ms() + timeout_ms;
	while (hil_now_ms() < deadline) {
		int rc = cfx.cuff.ops->read(&cfx.cuff, hil_now_ms(), r);
		if (rc)
			return rc;
		struct pollfd p = {.fd = cfx.cuff.ops->fd(&cfx.cuff), .events = POLLIN};
		poll(&p, 1, 100);
	}
	fail_msg("no line within %d ms", timeout_ms);
	return 0;
}

static void text_reads_lines_and_refuses_bad_ones(void **state)
{
	(void)state;
	text_open(NULL);
	struct tl_cuff_reading r;
	assert_int_equal(text_next(&r, 5000), 1);
	assert_string_equal(r.site, "brachial-right");
	assert_true(r.mmhg == 0.0);
	cuff_control("cuff-site=dp-left");
	/* Lines already on their way name the old site; the new one comes. */
	for (int i = 0; i < 20 && strcmp(r.site, "dp-left"); i++)
		assert_int_equal(text_next(&r, 5000), 1);
	assert_string_equal(r.site, "dp-left");
	cuff_control("cuff-garble=4");
	int bad = 0, good = 0;
	while (bad < 4 && good < 100) {
		int rc = text_next(&r, 5000);
		if (rc < 0) {
			bad++;
			assert_non_null(strstr(cfx.cuff.err, "bad line"));
			assert_non_null(strstr(cfx.cuff.err, "'dp-left "));
			assert_non_null(strstr(cfx.cuff.err, ": column "));
		} else {
			good++;
		}
	}
	assert_int_equal(bad, 4);
	assert_int_equal(cfx.cuff.bad_lines, 4);
	assert_int_equal(text_next(&r, 5000), 1); /* and good lines again */
	print_message("bad line reported as: %s\n", cfx.cuff.err);
}

static void text_marks_signal_back(void **state)
{
	(void)state;
	const char *const args[] = {"--cuff-text-period-ms", "20", FAST_PUMP, NULL};
	text_open(args);
	cuff_control("cuff-site=pt-left");
	cuff_control("cuff-phase=3");
	if (cuff_text_cycle(CEILING, RATE, 20000))
		fail_msg("text cycle: %s", cfx.last_err);
	assert_int_equal(cfx.bad, 0);
	check_mark("cuff-text");
	/* The technician vented after the press. */
	assert_int_equal(sim_log_count(&cfx.sim, "event cuff-vent manual"), 1);
}

static void text_refuses_a_stuck_pressure(void **state)
{
	(void)state;
	const char *const args[] = {FAST_PUMP, NULL};
	text_open(args);
	/* Re-open with a short stuck limit. */
	tl_cuff_close(&cfx.cuff);
	cfx.open = false;
	cfx.cuff.ops = &tl_cuff_text_ops;
	cuff_opt("stuck_ms", "500");
	assert_int_equal(cuff_open(), 0);
	cuff_control("cuff-rate=2");
	cuff_control("cuff-cycle=120");
	struct tl_cuff_reading r = {0};
	/* Read on while it inflates (the lines would pile up in the pty) until it deflates:
	 * a value 1 mmHg below the highest seen. */
	long long until = hil_now_ms() + 30000;
	double peak = 0;
	while (hil_now_ms() < until && !(peak > 100 && r.mmhg < peak - 1)) {
		if (text_next(&r, 5000) != 1)
			fail_msg("%s", cfx.cuff.err);
		peak = r.mmhg > peak ? r.mmhg : peak;
	}
	assert_true(peak > 100 && r.mmhg < peak - 1 && r.mmhg > 20);
	cuff_control("cuff-stuck=1");
	long long deadline = hil_now_ms() + 5000;
	int rc = 1;
	while (rc == 1 && hil_now_ms() < deadline)
		rc = text_next(&r, 5000);
	assert_int_equal(rc, -1);
	assert_non_null(strstr(cfx.cuff.err, "stuck valve or sensor"));
	assert_int_equal(cfx.cuff.bad_lines, 0);
}

static void text_reports_an_unplugged_port(void **state)
{
	(void)state;
	text_open(NULL);
	struct tl_cuff_reading r;
	assert_int_equal(text_next(&r, 5000), 1);
	cuff_control("unplug=cuff");
	long long deadline = hil_now_ms() + 5000;
	int rc = 1;
	while (rc == 1 && hil_now_ms() < deadline)
		rc = text_next(&r, 5000);
	assert_int_equal(rc, -1);
	assert_non_null(strstr(cfx.cuff.err, "hung up"));
}

static void text_refuses_a_bad_pattern(void **state)
{
	(void)state;
	assert_int_equal(cuff_sim_start(CW_TEXT, NULL), 0);
	cuff_source_for(CW_TEXT);
	cuff_opt("pattern", "{site}{mmhg}");
	assert_int_equal(cuff_open(), -1);
	assert_non_null(strstr(cfx.cuff.err, "pattern: pattern column 7: two fields"));
}

/* ---- the scenario and follow mode ------------------------------------------------------ */

/* Writes a scenario into the fixture's directory; returns its path (static). */
static const char *scenario_file(const char *text)
{
	static char path[160];
	snprintf(path, sizeof path, "/tmp/cuff-scenario-%d.txt", (int)getpid());
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

/* treadsim's answer (stdout and stderr) when started on scenario. */
static void sim_refuses(const char *scenario, const char *want)
{
	const char *path = scenario_file(scenario);
	char cmd[512], out[1024] = "";
	snprintf(cmd, sizeof cmd, "%s --cuff-text /tmp/cuff-never-%d --cuff-scenario %s 2>&1",
		 TREADSIM_BIN, (int)getpid(), path);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t n = fread(out, 1, sizeof out - 1, p);
	out[n] = '\0';
	int st = pclose(p);
	unlink(path);
	char expect[300];
	snprintf(expect, sizeof expect, "%s:%s", path, want);
	print_message("treadsim: %s", out);
	assert_true(st != 0);
	assert_non_null(strstr(out, expect));
}

static void scenario_sites_are_the_daemons(void **state)
{
	(void)state;
	sim_refuses("minutes 1\nsite brachial-right 120 130\nsite ankle-right-pt 100 80\n",
		    "3: site 'ankle-right-pt' is not one of brachial-left, brachial-right, pt-left, "
		    "dp-left, pt-right, dp-right, toe-left, toe-right");
	sim_refuses("minutes 1\nsite pt-left 120 130\n# again\nsite pt-left 100 80\n",
		    "4: site pt-left appears twice");
	sim_refuses("site toe-left 60\nsite\n", "2: site '' is not one of");
}

/* Reads the log's cuff events in order (their text after "event cuff-"). */
static int log_events(char ev[][96], int max)
{
	FILE *f = fopen(cfx.sim.log, "r");
	assert_non_null(f);
	char line[512];
	int n = 0;
	while (fgets(line, sizeof line, f) && n < max) {
		char *e = strstr(line, " event cuff-");
		if (!e)
			continue;
		line[strcspn(line, "\n")] = '\0';
		snprintf(ev[n++], 96, "%s", e + 12);
	}
	fclose(f);
	return n;
}

/* Low pressures under CEILING: each cycle (inflate, deflate to the truth, vent) is short. */
#define FOLLOW_SCENARIO "seed 3\nreaction_ms 100\njitter_ms 0\nminutes 1\n" \
	"site brachial-right 64 70\nsite pt-left 56 50\n"

/* A gauge (text): the technician's hand cycle at each site in turn, rest then minute 1,
 * each started reaction_ms after the cuff is down, and nothing after the last. */
static void follow_text_walks_sites_and_phases(void **state)
{
	(void)state;
	const char *path = scenario_file(FOLLOW_SCENARIO);
	const char *const args[] = {"--cuff-follow", "--cuff-inflate-mmhg-s", "200", "--cuff-text-period-ms", "1000",
				    "--cuff-scenario", path, NULL};
	assert_int_equal(cuff_sim_start(CW_TEXT, args), 0);
	unlink(path);
	cuff_control("cuff-rate=20");
	cuff_control("cuff-cycle=76");
	assert_true(cuff_state_has("follow=done", 30000));
	assert_true(cuff_state_has("mode=idle", 10000));
	char ev[200][96];
	int n = log_events(ev, 200);
	const char *want[] = {
		"inflate manual to=76.0", "footswitch site=brachial-right true=64.0",
		"follow site=pt-left phase=rest", "inflate manual to=76.0",
		"footswitch site=pt-left true=56.0", "follow site=brachial-right phase=1",
		"inflate manual to=76.0", "footswitch site=brachial-right true=70.0",
		"follow site=pt-left phase=1", "inflate manual to=76.0",
		"footswitch site=pt-left true=50.0", "follow done",
	};
	int w = 0;
	for (int i = 0; i < n && w < (int)(sizeof want / sizeof want[0]); i++) {
		if (!strncmp(ev[i], want[w], strlen(want[w])))
			w++;
		else if (!strncmp(ev[i], "follow", 6) || !strncmp(ev[i], "footswitch", 10) ||
			 !strncmp(ev[i], "inflate", 7))
			fail_msg("event %d '%s' where '%s' was due", i, ev[i], want[w]);
	}
	assert_int_equal(w, (int)(sizeof want / sizeof want[0]));
	assert_int_equal(sim_log_count(&cfx.sim, "event cuff-inflate manual"), 4);
	assert_int_equal(sim_log_count(&cfx.sim, "event cuff-follow-press"), 0);
	/* Each hand cycle begins reaction_ms after the move, once the cuff was down. */
	FILE *f = fopen(cfx.sim.log, "r");
	assert_non_null(f);
	char line[512];
	double moved = -1, t;
	while (fgets(line, sizeof line, f)) {
		if (sscanf(line, "%lf event cuff-follow site=", &t) == 1 && strstr(line, "follow site="))
			moved = t;
		else if (sscanf(line, "%lf event cuff-inflate manual", &t) == 1 && strstr(line, "manual") &&
			 moved >= 0) {
			assert_true(t - moved >= 0.099);
			moved = -1;
		}
	}
	fclose(f);
}

/* An inflator (Modbus): after the cycle at the first site is vented, the probe moves to
 * the second and the foot switch is pressed once more for the daemon to inflate it. */
static void follow_modbus_presses_for_the_next_site(void **state)
{
	(void)state;
	const char *path = scenario_file(FOLLOW_SCENARIO);
	const char *const args[] = {"--cuff-follow", FAST_PUMP, "--cuff-scenario", path, NULL};
	assert_int_equal(cuff_sim_start(CW_TCP, args), 0);
	unlink(path);
	cuff_source_for(CW_TCP);
	assert_int_equal(cuff_open(), 0);
	if (cuff_modbus_cycle(CEILING, RATE, 20000))
		fail_msg("cycle: %s", cfx.last_err);
	long long deadline = hil_now_ms() + 5000;
	bool again = false;
	while (!again && hil_now_ms() < deadline) {
		struct pollfd p = {.fd = cfx.box_fd, .events = POLLIN};
		unsigned char b;
		if (poll(&p, 1, 100) > 0 && read(cfx.box_fd, &b, 1) == 1 && b == '3')
			again = true;
	}
	assert_true(again);
	assert_int_equal(sim_log_count(&cfx.sim, "event cuff-follow site=pt-left phase=rest true=56.0"), 1);
	assert_int_equal(sim_log_count(&cfx.sim, "event cuff-follow-press site=pt-left phase=rest"), 1);
	assert_true(cuff_state_has("site=pt-left phase=rest", 1000));
	/* No second cycle without the commander: the press alone inflates nothing. */
	assert_true(cuff_state_has("mode=idle", 1000));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(modbus_rtu_marks_signal_back, teardown),
		cmocka_unit_test_teardown(modbus_tcp_marks_signal_back, teardown),
		cmocka_unit_test_teardown(close_vents_the_cuff, teardown),
		cmocka_unit_test_teardown(simulator_vents_when_commander_goes_silent, teardown),
		cmocka_unit_test_teardown(manometer_profile_cannot_inflate, teardown),
		cmocka_unit_test_teardown(modbus_refuses_unreachable_device, teardown),
		cmocka_unit_test_teardown(text_reads_lines_and_refuses_bad_ones, teardown),
		cmocka_unit_test_teardown(text_marks_signal_back, teardown),
		cmocka_unit_test_teardown(text_refuses_a_stuck_pressure, teardown),
		cmocka_unit_test_teardown(text_reports_an_unplugged_port, teardown),
		cmocka_unit_test_teardown(text_refuses_a_bad_pattern, teardown),
		cmocka_unit_test_teardown(scenario_sites_are_the_daemons, teardown),
		cmocka_unit_test_teardown(follow_text_walks_sites_and_phases, teardown),
		cmocka_unit_test_teardown(follow_modbus_presses_for_the_next_site, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
