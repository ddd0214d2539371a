/* cuff_fixture.h - what the cuff's hil test and benchmark share: treadsim with a cuff and
 * its button box, a source opened on it through its option table, and one "signal back"
 * cycle: the Modbus source driven by the core's cycle (src/core/cuff.h), or the text
 * source read while treadsim's technician inflates and deflates, the foot switch read from
 * the box, the samples kept for the mark. Included once, after cmocka.h (the test) or on
 * its own (the benchmark, which defines CUFF_FAIL). */
#ifndef TL_HIL_CUFF_FIXTURE_H
#define TL_HIL_CUFF_FIXTURE_H

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "../../src/core/cuff.h" /* the core's, not drivers/cuff_source.h */
#include "child.h"
#include "cuff_modbus.h"
#include "cuff_source.h"
#include "cuff_text.h"

#ifndef CUFF_FAIL
#define CUFF_FAIL(...) fail_msg(__VA_ARGS__)
#endif

/* The C tests' own virtual patient (not tests/data/cuff-scenario.txt, which the daemon's
 * tests tune): pt-right at minute 3 for the benchmark, pt-left at minute 3 low enough that
 * a test's cycle (inflate, deflate to the mark, vent) takes a few seconds. */
#define CUFF_SCENARIO_TEXT "seed 15\nreaction_ms 250\njitter_ms 40\nminutes 1 3\n" \
	"site brachial-right 132 158 146\nsite pt-right 138 92 108\n" \
	"site pt-left 96 58 66\nsite dp-left 92 54 62\n"
#define CUFF_PROFILE TL_DEVICES_DIR "/sim-cuff.profile"
#define CUFF_MAX_SAMPLES 8192

enum cuff_wire { CW_RTU, CW_TCP, CW_TEXT };

struct cuff_fx {
	struct sim_proc sim;
	char dir[64];        /* the cuff's links and port file */
	char link[128];      /* the cuff's pty (RTU or text) */
	char port_file[128];
	char scenario[128];
	char tcp[64];
	int box_fd;          /* the button box's pty, read for '3' */
	struct tl_cuff cuff;
	struct tl_driver_optbuf opts;
	bool open;
	/* one cycle */
	struct tl_cuff_sample s[CUFF_MAX_SAMPLES];
	size_t n;
	int64_t press_ms;    /* the foot switch byte arrived (host's clock); -1: none */
	double press_ms_f;   /* the same, to the microsecond */
	int bad;             /* readings refused during the cycle */
	char last_err[256];
};

static struct cuff_fx cfx;

static inline void cuff_opt(const char *key, const char *val)
{
	char why[300];
	if (tl_cuff_opts_set(cfx.cuff.ops, &cfx.opts, "cuff", key, val, why, sizeof why))
		CUFF_FAIL("%s", why);
}

/* Starts treadsim with a cuff on wire and the button box; extra: more arguments. */
static inline int cuff_sim_start(enum cuff_wire wire, const char *const *extra)
{
	memset(&cfx, 0, sizeof cfx);
	cfx.box_fd = -1;
	snprintf(cfx.dir, sizeof cfx.dir, "/tmp/cuff-test-XXXXXX");
	if (!mkdtemp(cfx.dir))
		return -1;
	snprintf(cfx.link, sizeof cfx.link, "%s/cuff", cfx.dir);
	snprintf(cfx.port_file, sizeof cfx.port_file, "%s/port", cfx.dir);
	snprintf(cfx.scenario, sizeof cfx.scenario, "%s/scenario.txt", cfx.dir);
	FILE *sf = fopen(cfx.scenario, "w");
	if (!sf)
		return -1;
	bool written = fputs(CUFF_SCENARIO_TEXT, sf) >= 0;
	if (fclose(sf) || !written)
		return -1;
	const char *args[40];
	int n = 0;
	args[n++] = wire == CW_RTU ? "--cuff-modbus-rtu" : wire == CW_TCP ? "--cuff-modbus-tcp" : "--cuff-text";
	args[n++] = wire == CW_TCP ? "127.0.0.1:0" : cfx.link;
	if (wire == CW_TCP) {
		args[n++] = "--cuff-tcp-port-file";
		args[n++] = cfx.port_file;
	}
	args[n++] = "--cuff-scenario";
	args[n++] = cfx.scenario;
	for (int i = 0; extra && extra[i] && n < 38; i++)
		args[n++] = extra[i];
	args[n] = NULL;
	if (sim_start(&cfx.sim, SIM_RTU_BOX, args))
		return -1;
	if (wire == CW_TCP) {
		FILE *f = fopen(cfx.port_file, "r");
		unsigned port = 0;
		if (!f || fscanf(f, "%u", &port) != 1) {
			if (f)
				fclose(f);
			return -1;
		}
		fclose(f);
		snprintf(cfx.tcp, sizeof cfx.tcp, "127.0.0.1:%u", port);
	}
	cfx.box_fd = open(cfx.sim.link2, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (cfx.box_fd < 0)
		return -1;
	struct termios t;
	if (tcgetattr(cfx.box_fd, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(cfx.box_fd, TCSANOW, &t);
	}
	return 0;
}

/* Opens the source for wire with its usual keys (the caller may set more before). */
static inline void cuff_source_for(enum cuff_wire wire)
{
	cfx.cuff.ops = wire == CW_TEXT ? &tl_cuff_text_ops : &tl_cuff_modbus_ops;
	tl_cuff_opts_defaults(cfx.cuff.ops, &cfx.opts);
	if (wire == CW_TEXT) {
		cuff_opt("device", cfx.link);
		cuff_opt("baud", "9600");
		cuff_opt("pattern", "{site} {mmhg} mmHg");
	} else {
		cuff_opt(wire == CW_RTU ? "device" : "tcp", wire == CW_RTU ? cfx.link : cfx.tcp);
		cuff_opt("framing", "8N1");
		cuff_opt("profile", CUFF_PROFILE);
		cuff_opt("response_timeout_ms", "200");
	}
}

static inline int cuff_open(void)
{
	const struct tl_cuff_ops *ops = cfx.cuff.ops;
	char why[300];
	if (tl_cuff_opts_check(ops, &cfx.opts, why, sizeof why)) {
		snprintf(cfx.cuff.err, sizeof cfx.cuff.err, "%.250s", why);
		return -1;
	}
	if (tl_cuff_open(&cfx.cuff, ops, &cfx.opts))
		return -1;
	cfx.open = true;
	return 0;
}

static inline void cuff_teardown(void)
{
	if (cfx.open)
		tl_cuff_close(&cfx.cuff);
	cfx.open = false;
	if (cfx.box_fd >= 0)
		close(cfx.box_fd);
	cfx.box_fd = -1;
	if (cfx.sim.pid > 0)
		sim_stop(&cfx.sim);
	unlink(cfx.port_file);
	unlink(cfx.link);
	unlink(cfx.scenario);
	if (cfx.dir[0])
		rmdir(cfx.dir);
}

static inline void cuff_control(const char *cmd)
{
	char reply[400];
	if (sim_control(&cfx.sim, cmd, reply, sizeof reply))
		CUFF_FAIL("treadsim refused '%s': %s", cmd, reply);
}

/* Keeps a sample; one at the same ms as the last replaces it (times must increase). */
static inline void cuff_keep(int64_t t_ms, double mmhg)
{
	if (cfx.n && cfx.s[cfx.n - 1].t_ms >= t_ms) {
		cfx.s[cfx.n - 1].mmhg = mmhg;
		return;
	}
	if (cfx.n < CUFF_MAX_SAMPLES)
		cfx.s[cfx.n++] = (struct tl_cuff_sample){t_ms, mmhg};
}

/* Whether the box sent the foot switch ('3'); stamps cfx.press_ms with its arrival. */
static inline bool cuff_box_pressed(void)
{
	unsigned char b[16];
	ssize_t r;
	bool pressed = false;
	while ((r = read(cfx.box_fd, b, sizeof b)) > 0)
		for (ssize_t i = 0; i < r; i++)
			if (b[i] == '3' && cfx.press_ms < 0) {
				struct timespec ts;
				clock_gettime(CLOCK_MONOTONIC, &ts);
				cfx.press_ms_f = (double)ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
				cfx.press_ms = (int64_t)cfx.press_ms_f;
				pressed = true;
			}
	return pressed;
}

static inline int cuff_do(enum tl_cuff_action a, const struct tl_cuff_cycle *cy)
{
	int64_t now = hil_now_ms();
	switch (a) {
	case TL_CUFF_DO_INFLATE:
		return cfx.cuff.ops->inflate_to(&cfx.cuff, cy->cfg.ceiling_mmhg, now);
	case TL_CUFF_DO_DEFLATE:
		return cfx.cuff.ops->deflate_at(&cfx.cuff, cy->cfg.rate_mmhg_s, now);
	case TL_CUFF_DO_VENT:
		return cfx.cuff.ops->vent(&cfx.cuff, now);
	default:
		return 0;
	}
}

/* One cycle through an inflating source, run by the core's state machine: returns 0 once
 * the cuff is back to idle after a press, -1 with cfx.last_err. */
static inline int cuff_modbus_cycle(double ceiling, double rate, int timeout_ms)
{
	struct tl_cuff_cycle_cfg cfg;
	tl_cuff_cycle_cfg_default(&cfg);
	cfg.ceiling_mmhg = ceiling;
	cfg.rate_mmhg_s = rate;
	struct tl_err err;
	if (tl_cuff_cycle_cfg_check(&cfg, &err)) {
		snprintf(cfx.last_err, sizeof cfx.last_err, "%.250s", err.msg);
		return -1;
	}
	struct tl_cuff_cycle cy;
	tl_cuff_cycle_init(&cy, &cfg);
	cfx.n = 0;
	cfx.press_ms = -1;
	if (cuff_do(tl_cuff_cycle_start(&cy, hil_now_ms()), &cy))
		goto io;
	long long deadline = hil_now_ms() + timeout_ms;
	while (hil_now_ms() < deadline) {
		struct pollfd p = {.fd = cfx.box_fd, .events = POLLIN};
		if (poll(&p, 1, 10) > 0 && cuff_box_pressed() &&
		    cuff_do(tl_cuff_cycle_mark(&cy, cfx.press_ms), &cy))
			goto io;
		int64_t now = hil_now_ms();
		struct tl_cuff_reading r;
		if (cfx.cuff.ops->read(&cfx.cuff, now, &r) != 1) {
			cuff_do(tl_cuff_cycle_abort(&cy, now, cfx.cuff.err), &cy);
			goto io;
		}
		cuff_keep(r.t_ms, r.mmhg);
		if (cuff_do(tl_cuff_cycle_step(&cy, now, r.mmhg), &cy))
			goto io;
		if (cy.state == TL_CUFF_IDLE && cfx.press_ms >= 0)
			return 0;
		if (cy.state == TL_CUFF_IDLE && cy.why[0]) {
			snprintf(cfx.last_err, sizeof cfx.last_err, "cycle ended without a mark: %s", cy.why);
			return -1;
		}
	}
	snprintf(cfx.last_err, sizeof cfx.last_err, "no mark within %d ms (cycle %s, %s)", timeout_ms,
		 tl_cuff_state_name(cy.state), cy.why);
	return -1;
io:
	snprintf(cfx.last_err, sizeof cfx.last_err, "%s", cfx.cuff.err);
	return -1;
}

/* The text source read while treadsim's technician inflates to ceiling and deflates at
 * rate; returns 0 once the press came and samples after it were read. */
static inline int cuff_text_cycle(double ceiling, double rate, int timeout_ms)
{
	char cmd[64];
	cfx.n = 0;
	cfx.press_ms = -1;
	cfx.bad = 0;
	snprintf(cmd, sizeof cmd, "cuff-rate=%g", rate);
	cuff_control(cmd);
	snprintf(cmd, sizeof cmd, "cuff-cycle=%g", ceiling);
	cuff_control(cmd);
	long long deadline = hil_now_ms() + timeout_ms;
	int fd = cfx.cuff.ops->fd(&cfx.cuff);
	while (hil_now_ms() < deadline) {
		struct pollfd p[2] = {{.fd = cfx.box_fd, .events = POLLIN}, {.fd = fd, .events = POLLIN}};
		if (poll(p, 2, 100) <= 0)
			continue;
		if (p[0].revents & POLLIN)
			cuff_box_pressed();
		if (!(p[1].revents & (POLLIN | POLLHUP)))
			continue;
		int64_t now = hil_now_ms();
		struct tl_cuff_reading r;
		int rc;
		while ((rc = cfx.cuff.ops->read(&cfx.cuff, now, &r)) != 0) {
			if (rc < 0) {
				cfx.bad++;
				snprintf(cfx.last_err, sizeof cfx.last_err, "%s", cfx.cuff.err);
				if (!strstr(cfx.cuff.err, "bad line"))
					return -1;
				continue;
			}
			cuff_keep(r.t_ms, r.mmhg);
		}
		if (cfx.press_ms >= 0 && cfx.n && cfx.s[cfx.n - 1].t_ms > cfx.press_ms + 100)
			return 0;
	}
	snprintf(cfx.last_err, sizeof cfx.last_err, "no press within %d ms", timeout_ms);
	return -1;
}

/* The last "event cuff-footswitch" line of treadsim's log: its time (ms, the same
 * CLOCK_MONOTONIC), the true pressure and the cuff pressure at that moment. */
static inline int cuff_sim_press(double *t_ms, double *truth, double *pressure)
{
	FILE *f = fopen(cfx.sim.log, "r");
	if (!f)
		return -1;
	char line[512];
	int found = 0;
	while (fgets(line, sizeof line, f)) {
		double t, tr, pr;
		char site[32];
		if (sscanf(line, "%lf event cuff-footswitch site=%31s true=%lf pressure=%lf", &t, site,
			   &tr, &pr) == 4) {
			*t_ms = t * 1000.0;
			*truth = tr;
			*pressure = pr;
			found = 1;
		}
	}
	fclose(f);
	return found ? 0 : -1;
}

#endif
