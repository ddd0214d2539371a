/* sim_cuff.c - treadsim's cuff: an inflator on its own wire (Modbus RTU or TCP, the map in
 * config/devices/sim-cuff.profile) or a gauge printing text lines, a virtual patient's
 * true systolic pressure per site (a scenario file), a Doppler "signal back" that
 * presses the foot switch by itself, and the device's own vents (hil/README.md, "The
 * cuff").
 *
 * The pressure follows the commands at fixed rates: a pump inflating at 25 mmHg/s (or
 * --cuff-inflate-mmhg-s), the commanded deflation rate, a vent at 60 mmHg/s. When the
 * deflating pressure crosses the site's true systolic pressure (the instant found exactly
 * between two model steps), the foot switch is pressed reaction_ms later, plus a seeded
 * uniform jitter of +-jitter_ms: the technician hearing the signal come back. The device vents by itself when nothing
 * was heard for watchdog_ms while it is inflated (its commander is gone), and when the
 * cuff has been above 15 mmHg for 180 s (the limit of src/core/cuff.h).
 *
 * Follow mode (--cuff-follow): the technician walks a guided series in the scenario's
 * order. Once a cycle that was marked is down at venous pressure, the probe moves to the
 * next site (after the last, to the first site of the next phase), and reaction_ms later
 * the technician presses the foot switch again (an inflator: the daemon inflates the next
 * site) or inflates by hand again (a gauge). */
#include "sim.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VENT_MMHG_S 60.0
#define VENOUS_MMHG 15.0
#define LIMIT_US 180000000LL
#define MAX_SETPOINT 300.0
#define INFLATE_DEFAULT_MMHG_S 25.0
#define MANUAL_CEILING 180.0

enum { ST_INFLATE = 1, ST_HOLD = 2, ST_DEFLATE = 4, ST_VENT = 8, ST_WATCHDOG = 16, ST_LIMIT = 32 };

static const char *const mode_names[] = {"idle", "inflate", "hold", "deflate", "vent"};

/* ---- the scenario --------------------------------------------------------------------- */

static int sc_fail(char *why, size_t n, const char *path, int line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static int sc_fail(char *why, size_t n, const char *path, int line, const char *fmt, ...)
{
	char msg[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(why, n, "%s:%d: %s", path, line, msg);
	return -1;
}

/* The daemon's pressure sites (src/common/record_findings.c, tl_pressure_site_valid). */
static bool site_name_ok(const char *name)
{
	static const char *const names[] = {"brachial-left", "brachial-right", "pt-left", "dp-left",
					    "pt-right", "dp-right", "toe-left", "toe-right"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (!strcmp(name, names[i]))
			return true;
	return false;
}

static int read_num(const char *tok, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	double v = tok ? strtod(tok, &end) : 0;
	if (!tok || end == tok || *end || errno || !(v >= lo && v <= hi))
		return -1;
	*out = v;
	return 0;
}

int sim_cuff_scenario_load(const char *path, struct sim_cuff_scenario *sc, char *why, size_t n)
{
	*sc = (struct sim_cuff_scenario){.seed = 1, .reaction_ms = 250, .jitter_ms = 0};
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(why, n, "%s: %s", path, strerror(errno));
		return -1;
	}
	char buf[512];
	int line = 0, rc = 0;
	bool minutes_seen = false;
	while (rc == 0 && fgets(buf, sizeof buf, f)) {
		line++;
		if (!strchr(buf, '\n') && !feof(f)) {
			rc = sc_fail(why, n, path, line, "line longer than %zu characters", sizeof buf - 2);
			break;
		}
		char *hash = strchr(buf, '#');
		if (hash)
			*hash = '\0';
		char *save = NULL, *key = strtok_r(buf, " \t\r\n", &save);
		if (!key)
			continue;
		double v;
		if (!strcmp(key, "seed") || !strcmp(key, "reaction_ms") || !strcmp(key, "jitter_ms")) {
			if (read_num(strtok_r(NULL, " \t\r\n", &save), 0, 1e9, &v) ||
			    strtok_r(NULL, " \t\r\n", &save)) {
				rc = sc_fail(why, n, path, line, "%s wants one number (0 or more)", key);
				break;
			}
			if (key[0] == 's')
				sc->seed = (unsigned)v;
			else if (key[0] == 'r')
				sc->reaction_ms = (int)v;
			else
				sc->jitter_ms = (int)v;
			if (sc->jitter_ms > sc->reaction_ms)
				rc = sc_fail(why, n, path, line, "jitter_ms %d is larger than reaction_ms %d",
					     sc->jitter_ms, sc->reaction_ms);
		} else if (!strcmp(key, "minutes")) {
			if (minutes_seen || sc->nsites) {
				rc = sc_fail(why, n, path, line, "'minutes' once, before the sites");
				break;
			}
			minutes_seen = true;
			char *tok;
			while ((tok = strtok_r(NULL, " \t\r\n", &save))) {
				if (sc->nminutes == SIM_CUFF_MINUTES ||
				    read_num(tok, 0, 60, &v) ||
				    (sc->nminutes && v <= sc->minutes[sc->nminutes - 1])) {
					rc = sc_fail(why, n, path, line, "minutes: '%s' is not a minute 0..60 "
						     "after the one before (at most %d)", tok, SIM_CUFF_MINUTES);
					break;
				}
				sc->minutes[sc->nminutes++] = (int)v;
			}
		} else if (!strcmp(key, "site")) {
			char *name = strtok_r(NULL, " \t\r\n", &save);
			if (!name || !site_name_ok(name)) {
				rc = sc_fail(why, n, path, line, "site '%s' is not one of brachial-left, "
					     "brachial-right, pt-left, dp-left, pt-right, dp-right, toe-left, "
					     "toe-right", name ? name : "");
				break;
			}
			for (int i = 0; i < sc->nsites && rc == 0; i++)
				if (!strcmp(sc->site[i].name, name))
					rc = sc_fail(why, n, path, line, "site %s appears twice", name);
			if (rc)
				break;
			if (sc->nsites == SIM_CUFF_SITES) {
				rc = sc_fail(why, n, path, line, "more than %d sites", SIM_CUFF_SITES);
				break;
			}
			struct sim_cuff_site *s = &sc->site[sc->nsites];
			snprintf(s->name, sizeof s->name, "%s", name);
			for (int i = -1; i < sc->nminutes && rc == 0; i++) {
				char *tok = strtok_r(NULL, " \t\r\n", &save);
				if (read_num(tok, 20, 300, &v))
					rc = sc_fail(why, n, path, line, "site %s: expected %d pressures "
						     "(rest and one per minute, 20..300 mmHg), '%s' is not one",
						     name, sc->nminutes + 1, tok ? tok : "(missing)");
				else if (i < 0)
					s->rest = v;
				else
					s->post[i] = v;
			}
			if (rc == 0 && strtok_r(NULL, " \t\r\n", &save))
				rc = sc_fail(why, n, path, line, "site %s: more than %d pressures", name,
					     sc->nminutes + 1);
			sc->nsites++;
		} else {
			rc = sc_fail(why, n, path, line, "unknown key '%s' (seed, reaction_ms, jitter_ms, "
				     "minutes, site)", key);
		}
	}
	fclose(f);
	if (rc == 0 && sc->nsites == 0)
		rc = sc_fail(why, n, path, line, "no 'site' lines");
	return rc;
}

/* ---- the model ---------------------------------------------------------------------- */

static void event(struct sim_cuff *k, int64_t t_us, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void event(struct sim_cuff *k, int64_t t_us, const char *fmt, ...)
{
	if (!k->log)
		return;
	fprintf(k->log, "%lld.%06lld event cuff-", (long long)(t_us / 1000000),
		(long long)(t_us % 1000000));
	va_list ap;
	va_start(ap, fmt);
	vfprintf(k->log, fmt, ap);
	va_end(ap);
	fputc('\n', k->log);
	fflush(k->log);
}

static uint64_t next_rand(struct sim_cuff *k)
{
	/* xorshift64*: deterministic from the scenario's seed */
	k->rng ^= k->rng >> 12;
	k->rng ^= k->rng << 25;
	k->rng ^= k->rng >> 27;
	return k->rng * 2685821657736338717ULL;
}

void sim_cuff_init(struct sim_cuff *k, int64_t t_us)
{
	k->mode = CUFF_IDLE;
	k->mmhg = 0;
	k->last_us = k->heard_us = t_us;
	k->above_since_us = -1;
	k->press_due_us = -1;
	k->follow_due_us = -1;
	k->phase = -1;
	if (!(k->inflate_rate > 0))
		k->inflate_rate = INFLATE_DEFAULT_MMHG_S;
	if (!(k->manual_ceiling > 0))
		k->manual_ceiling = MANUAL_CEILING;
	k->rng = 0x9E3779B97F4A7C15ULL ^ k->sc.seed;
	k->next_line_us = t_us;
	if (!k->watchdog_ms)
		k->watchdog_ms = 1000;
	if (!k->text_period_ms)
		k->text_period_ms = 50;
	if (!k->text_format[0])
		snprintf(k->text_format, sizeof k->text_format, "{site} {mmhg} mmHg");
}

void sim_cuff_heard(struct sim_cuff *k, int64_t t_us)
{
	k->heard_us = t_us;
}

static double truth(const struct sim_cuff *k)
{
	const struct sim_cuff_site *s = &k->sc.site[k->site];
	return k->phase < 0 ? s->rest : s->post[k->phase];
}

static void vent(struct sim_cuff *k, int64_t t_us, const char *why, unsigned bit)
{
	if (k->mode == CUFF_VENT || k->mode == CUFF_IDLE)
		return;
	k->mode = CUFF_VENT;
	k->press_due_us = -1;
	k->status_vented |= bit;
	if (bit)
		k->vents++;
	event(k, t_us, "vent %s pressure=%.1f last_rx=%lld.%06lld", why, k->mmhg,
	      (long long)(k->heard_us / 1000000), (long long)(k->heard_us % 1000000));
}

int64_t sim_cuff_next_due(const struct sim_cuff *k)
{
	int64_t d = k->press_due_us >= 0 ? k->press_due_us : INT64_MAX;
	if (k->follow_due_us >= 0 && k->follow_due_us < d)
		d = k->follow_due_us;
	return d;
}

static const char *phase_name(const struct sim_cuff *k, char *buf, size_t n)
{
	if (k->phase < 0)
		snprintf(buf, n, "rest");
	else
		snprintf(buf, n, "%d", k->sc.minutes[k->phase]);
	return buf;
}

/* The technician's cycle on a gauge: inflate by hand to ceiling, let it down at the rate,
 * vent after the press. */
static void manual_cycle(struct sim_cuff *k, int64_t t_us, double ceiling)
{
	if (k->rate <= 0)
		k->rate = 2.0;
	k->setpoint = k->manual_ceiling = ceiling;
	k->manual = true;
	k->mode = CUFF_INFLATE;
	k->status_vented = 0;
	k->follow_marked = false;
	event(k, t_us, "inflate manual to=%.1f", ceiling);
}

/* Follow mode: once a marked cycle is down, the probe goes to the next site (or the first
 * site of the next phase); reaction_ms later the technician acts again. */
static void follow(struct sim_cuff *k, int64_t t_us)
{
	char ph[16];
	if (k->follow_marked && k->mmhg <= VENOUS_MMHG &&
	    (k->mode == CUFF_VENT || k->mode == CUFF_IDLE)) {
		k->follow_marked = false;
		if (++k->site == k->sc.nsites) {
			k->site = 0;
			if (k->phase + 1 == k->sc.nminutes) {
				k->follow_done = true;
				event(k, t_us, "follow done");
				return;
			}
			k->phase++;
		}
		k->occluded = false;
		k->follow_due_us = t_us + (int64_t)k->sc.reaction_ms * 1000;
		event(k, t_us, "follow site=%s phase=%s true=%.1f", k->sc.site[k->site].name,
		      phase_name(k, ph, sizeof ph), truth(k));
	}
	if (k->follow_due_us < 0 || t_us < k->follow_due_us)
		return;
	k->follow_due_us = -1;
	if (k->commanded) {
		/* the cuff is on the next site: the press asks the daemon to inflate it */
		k->box_pending++;
		event(k, t_us, "follow-press site=%s phase=%s", k->sc.site[k->site].name,
		      phase_name(k, ph, sizeof ph));
	} else {
		manual_cycle(k, t_us, k->manual_ceiling);
	}
}

/* One line as the device prints it, from text_format: {site} and {mmhg} replaced. */
static size_t format_line(struct sim_cuff *k, char *line, size_t cap)
{
	double v = k->stuck ? k->stuck_mmhg : k->mmhg;
	char num[16];
	if (k->garble > 0) {
		k->garble--;
		snprintf(num, sizeof num, "%s", k->garble % 2 ? "--.-" : "1x2");
	} else {
		snprintf(num, sizeof num, "%.1f", v);
	}
	size_t n = 0;
	for (const char *p = k->text_format; *p && n + 20 < cap;) {
		const char *ins = NULL;
		if (!strncmp(p, "{site}", 6)) {
			ins = k->sc.site[k->site].name;
			p += 6;
		} else if (!strncmp(p, "{mmhg}", 6)) {
			ins = num;
			p += 6;
		}
		if (ins)
			n += (size_t)snprintf(line + n, cap - n, "%s", ins);
		else
			line[n++] = *p++;
	}
	line[n++] = '\r';
	line[n++] = '\n';
	line[n] = '\0';
	return n;
}

size_t sim_cuff_advance(struct sim_cuff *k, int64_t t_us, bool text, char *line, size_t cap)
{
	int64_t t0 = k->last_us;
	if (t_us > t0) {
		double dt = (double)(t_us - t0) / 1e6, p0 = k->mmhg;
		enum sim_cuff_mode m0 = k->mode;
		switch (k->mode) {
		case CUFF_IDLE:
		case CUFF_HOLD:
			break;
		case CUFF_INFLATE:
			k->mmhg += k->inflate_rate * dt;
			if (k->mmhg >= k->setpoint) {
				k->mmhg = k->setpoint;
				k->mode = k->manual ? CUFF_DEFLATE : CUFF_HOLD;
				event(k, t_us, "%s pressure=%.1f", k->manual ? "deflate manual" : "hold",
				      k->mmhg);
			}
			break;
		case CUFF_DEFLATE:
		case CUFF_VENT:
			if (k->mode == CUFF_DEFLATE && k->stall)
				break; /* the valve is stuck: the pressure holds */
			k->mmhg -= (k->mode == CUFF_VENT ? VENT_MMHG_S : k->rate) * dt;
			if (k->mmhg <= 0) {
				k->mmhg = 0;
				if (k->mode == CUFF_VENT)
					event(k, t_us, "idle");
				k->mode = CUFF_IDLE;
				k->manual = false;
			}
			break;
		}
		/* The Doppler: silent while the cuff is above the true pressure; back when a slow
		 * deflation crosses it. */
		double tp = truth(k);
		if (k->mmhg > tp)
			k->occluded = true;
		if (k->occluded && !k->doppler_off && m0 == CUFF_DEFLATE && p0 > tp && k->mmhg <= tp) {
			k->occluded = false;
			int64_t tc = t0 + (int64_t)((p0 - tp) / (p0 - k->mmhg) * (double)(t_us - t0));
			int64_t j = 0;
			if (k->sc.jitter_ms > 0)
				j = (int64_t)(next_rand(k) % (uint64_t)(2 * k->sc.jitter_ms * 1000 + 1)) -
				    k->sc.jitter_ms * 1000;
			k->press_due_us = tc + (int64_t)k->sc.reaction_ms * 1000 + j;
			k->press_true = tp;
			event(k, t_us, "signal-back site=%s true=%.1f crossed=%lld.%06lld", k->sc.site[k->site].name,
			      tp, (long long)(tc / 1000000), (long long)(tc % 1000000));
		} else if (k->mmhg <= tp && m0 != CUFF_DEFLATE) {
			k->occluded = false; /* vented below it: no signal-back to mark */
		}
		if (k->mmhg > VENOUS_MMHG) {
			if (k->above_since_us < 0)
				k->above_since_us = t_us;
		} else {
			k->above_since_us = -1;
		}
		k->last_us = t_us;
	}
	if (k->press_due_us >= 0 && t_us >= k->press_due_us) {
		k->box_pending++;
		k->presses++;
		event(k, t_us, "footswitch site=%s true=%.1f pressure=%.2f rate=%.2f",
		      k->sc.site[k->site].name, k->press_true, k->mmhg, k->rate);
		k->press_due_us = -1;
		k->follow_marked = true;
		if (k->manual)
			vent(k, t_us, "manual", 0); /* the technician opens the valve */
	}
	if (k->follow && !k->follow_done)
		follow(k, t_us);
	bool inflated = k->mode == CUFF_INFLATE || k->mode == CUFF_HOLD || k->mode == CUFF_DEFLATE;
	if (k->commanded && !k->manual && inflated && t_us - k->heard_us > (int64_t)k->watchdog_ms * 1000)
		vent(k, t_us, "watchdog", ST_WATCHDOG);
	if (inflated && k->above_since_us >= 0 && t_us - k->above_since_us > LIMIT_US)
		vent(k, t_us, "time-limit", ST_LIMIT);
	if (!text || t_us < k->next_line_us)
		return 0;
	k->next_line_us += (int64_t)k->text_period_ms * 1000;
	if (k->next_line_us <= t_us)
		k->next_line_us = t_us + (int64_t)k->text_period_ms * 1000;
	return format_line(k, line, cap);
}

/* ---- Modbus ----------------------------------------------------------------------------- */

static int find_reg(const struct sim_cuff *k, enum tl_reg_kind kind, unsigned addr)
{
	for (int r = 0; r < TL_CREG_N; r++)
		if (k->prof.reg[r].present && k->prof.reg[r].kind == kind && k->prof.reg[r].address == addr)
			return r;
	return -1;
}

static uint16_t raw_of(const struct sim_cuff *k, int r, double v)
{
	uint16_t raw = 0;
	if (tl_cuff_profile_from_mmhg(&k->prof, (enum tl_cuff_reg)r, v < 0 ? 0 : v, &raw))
		raw = 65535;
	return raw;
}

static uint16_t read_reg(const struct sim_cuff *k, int r)
{
	static const unsigned mode_bits[] = {0, ST_INFLATE, ST_HOLD, ST_DEFLATE, ST_VENT};
	switch (r) {
	case TL_CREG_PRESSURE:
		return raw_of(k, r, k->mmhg);
	case TL_CREG_SETPOINT:
		return raw_of(k, r, k->setpoint);
	case TL_CREG_RATE:
		return raw_of(k, r, k->rate);
	case TL_CREG_COMMAND:
		return k->command;
	default:
		return (uint16_t)(mode_bits[k->mode] | k->status_vented);
	}
}

static bool is_cmd(const struct tl_cmd_seq *s, uint16_t v)
{
	return s->n == 1 && s->value[0] == v;
}

/* A write: 0, or a Modbus exception code. */
static int write_reg(struct sim_cuff *k, int r, uint16_t v, int64_t t_us)
{
	double x = tl_cuff_profile_to_mmhg(&k->prof, (enum tl_cuff_reg)r, v);
	switch (r) {
	case TL_CREG_SETPOINT:
		if (x > MAX_SETPOINT)
			return 3; /* the device's own limit */
		k->setpoint = x;
		return 0;
	case TL_CREG_RATE:
		if (x <= 0 || x > 20)
			return 3;
		k->rate = x;
		return 0;
	case TL_CREG_COMMAND:
		if (is_cmd(&k->prof.cmd_inflate, v)) {
			if (k->setpoint <= 0)
				return 3;
			k->mode = CUFF_INFLATE;
			k->manual = false;
			k->status_vented = 0;
			event(k, t_us, "inflate to=%.1f", k->setpoint);
		} else if (is_cmd(&k->prof.cmd_deflate, v)) {
			if (k->rate <= 0)
				return 3;
			k->mode = CUFF_DEFLATE;
			event(k, t_us, "deflate rate=%.2f pressure=%.1f", k->rate, k->mmhg);
		} else if (is_cmd(&k->prof.cmd_vent, v)) {
			vent(k, t_us, "command", 0);
		} else {
			return 3;
		}
		k->command = v;
		return 0;
	default:
		return 2; /* read-only */
	}
}

static size_t exception(const uint8_t *req, uint8_t *resp, int code)
{
	resp[0] = (uint8_t)(req[0] | 0x80);
	resp[1] = (uint8_t)code;
	return 2;
}

size_t sim_cuff_pdu(struct sim_cuff *k, const uint8_t *req, size_t len, uint8_t *resp, int64_t t_us)
{
	if (len < 5)
		return exception(req, resp, 3);
	sim_cuff_advance(k, t_us, false, NULL, 0);
	uint8_t fc = req[0];
	unsigned addr = (unsigned)req[1] << 8 | req[2], qty = (unsigned)req[3] << 8 | req[4];
	if (fc == 3 || fc == 4) {
		if (qty < 1 || qty > 125)
			return exception(req, resp, 3);
		resp[0] = fc;
		resp[1] = (uint8_t)(2 * qty);
		for (unsigned i = 0; i < qty; i++) {
			int r = find_reg(k, fc == 3 ? TL_REG_HOLDING : TL_REG_INPUT, addr + i);
			if (r < 0)
				return exception(req, resp, 2);
			uint16_t v = read_reg(k, r);
			resp[2 + 2 * i] = (uint8_t)(v >> 8);
			resp[3 + 2 * i] = (uint8_t)v;
		}
		return 2 + 2 * qty;
	}
	if (fc == 6) {
		int r = find_reg(k, TL_REG_HOLDING, addr);
		if (r < 0)
			return exception(req, resp, 2);
		int ex = write_reg(k, r, (uint16_t)qty, t_us);
		if (ex)
			return exception(req, resp, ex);
		memcpy(resp, req, 5);
		return 5;
	}
	if (fc == 16) {
		if (qty < 1 || qty > 123 || len < 6 + 2 * qty || req[5] != 2 * qty)
			return exception(req, resp, 3);
		for (unsigned i = 0; i < qty; i++) {
			int r = find_reg(k, TL_REG_HOLDING, addr + i);
			if (r < 0)
				return exception(req, resp, 2);
			int ex = write_reg(k, r, (uint16_t)(req[6 + 2 * i] << 8 | req[7 + 2 * i]), t_us);
			if (ex)
				return exception(req, resp, ex);
		}
		memcpy(resp, req, 5);
		return 5;
	}
	return exception(req, resp, 1);
}

/* ---- control ------------------------------------------------------------------------------ */

int sim_cuff_control(struct sim_cuff *k, const char *line, int64_t t_us, char *msg, size_t n, int *rc)
{
	if (strncmp(line, "cuff-", 5))
		return 0;
	*rc = 0;
	const char *arg = strchr(line, '=');
	arg = arg ? arg + 1 : NULL;
	double v;
	if (!strcmp(line, "cuff-state")) {
		char phase[16];
		snprintf(msg, n, "ok cuff mode=%s mmhg=%.1f site=%s phase=%s true=%.1f presses=%d "
			 "vents=%d status=0x%02x follow=%s", mode_names[k->mode], k->mmhg,
			 k->sc.site[k->site].name, phase_name(k, phase, sizeof phase), truth(k), k->presses,
			 k->vents, read_reg(k, TL_CREG_STATUS),
			 !k->follow ? "off" : k->follow_done ? "done" : "on");
	} else if (!strncmp(line, "cuff-site=", 10)) {
		int i = 0;
		while (i < k->sc.nsites && strcmp(arg, k->sc.site[i].name))
			i++;
		if (i == k->sc.nsites) {
			*rc = -1;
			snprintf(msg, n, "cuff-site: no site '%s' in the scenario", arg);
		} else {
			k->site = i;
			k->occluded = false;
			snprintf(msg, n, "ok cuff-site %s true=%.1f", arg, truth(k));
		}
	} else if (!strncmp(line, "cuff-phase=", 11)) {
		int i = -1;
		if (strcmp(arg, "rest")) {
			for (i = 0; i < k->sc.nminutes; i++)
				if (read_num(arg, 0, 60, &v) == 0 && (int)v == k->sc.minutes[i])
					break;
			if (i == k->sc.nminutes) {
				*rc = -1;
				snprintf(msg, n, "cuff-phase: '%s' is not rest or one of the scenario's minutes",
					 arg);
				return 1;
			}
		}
		k->phase = i;
		snprintf(msg, n, "ok cuff-phase %s true=%.1f", arg, truth(k));
	} else if (!strcmp(line, "cuff-cycle") || !strncmp(line, "cuff-cycle=", 11)) {
		double ceiling = 180;
		if (arg && read_num(arg, 20, MAX_SETPOINT, &ceiling)) {
			*rc = -1;
			snprintf(msg, n, "cuff-cycle: '%s' is not a ceiling of 20..300 mmHg", arg);
			return 1;
		}
		manual_cycle(k, t_us, ceiling);
		snprintf(msg, n, "ok cuff-cycle to %.0f mmHg at %.1f mmHg/s", ceiling, k->rate);
	} else if (!strncmp(line, "cuff-rate=", 10) && read_num(arg, 0.5, 20, &v) == 0) {
		k->rate = v;
		snprintf(msg, n, "ok cuff-rate %.2f", v);
	} else if (!strncmp(line, "cuff-inflate=", 13) && read_num(arg, 1, 1000, &v) == 0) {
		/* the pump's rate from now on: one run can have a slow pump for one cycle */
		k->inflate_rate = v;
		snprintf(msg, n, "ok cuff-inflate %.2f", v);
	} else if (!strncmp(line, "cuff-garble=", 12) && read_num(arg, 0, 1000, &v) == 0) {
		k->garble = (int)v;
		snprintf(msg, n, "ok cuff-garble %d", k->garble);
	} else if (!strncmp(line, "cuff-stuck=", 11) && (!strcmp(arg, "1") || !strcmp(arg, "0"))) {
		k->stuck = arg[0] == '1';
		k->stuck_mmhg = k->mmhg;
		snprintf(msg, n, "ok cuff-stuck %s at %.1f", arg, k->mmhg);
	} else if (!strncmp(line, "cuff-stall=", 11) && (!strcmp(arg, "1") || !strcmp(arg, "0"))) {
		k->stall = arg[0] == '1';
		event(k, t_us, "stall %s pressure=%.1f", arg, k->mmhg);
		snprintf(msg, n, "ok cuff-stall %s at %.1f", arg, k->mmhg);
	} else if (!strncmp(line, "cuff-doppler=", 13) && (!strcmp(arg, "1") || !strcmp(arg, "0"))) {
		k->doppler_off = arg[0] == '0';
		if (k->doppler_off)
			k->press_due_us = -1;
		snprintf(msg, n, "ok cuff-doppler %s", arg);
	} else {
		*rc = -1;
		snprintf(msg, n, "unknown cuff command '%s' (cuff-state, cuff-site=NAME, "
			 "cuff-phase=rest|MIN, cuff-cycle[=MMHG], cuff-rate=MMHG_S, cuff-inflate=MMHG_S, "
			 "cuff-garble=N, "
			 "cuff-stuck=1|0, cuff-stall=1|0, cuff-doppler=1|0)", line);
	}
	return 1;
}
