#include "config.h"

#include "buttons.h"
#include "record_findings.h"
#include "tl_log.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void tl_config_defaults(struct tl_config *c)
{
	memset(c, 0, sizeof *c);
	c->drv = tl_treadmill_drivers[0]; /* the registry's first is the default */
	snprintf(c->driver, sizeof c->driver, "%s", c->drv->name);
	tl_driver_opts_defaults(c->drv, &c->drv_opts);
	c->max_speed_kmh = 16.0;
	c->max_grade_pct = 25.0;
	c->limits = tl_limits_default;
	snprintf(c->database, sizeof c->database, "/var/lib/treadlab/treadlab.db");
	snprintf(c->socket, sizeof c->socket, "/run/treadlab/api.sock");
	c->session_idle_min = 15;
	c->tick_hz = 10;
	snprintf(c->operator_default, sizeof c->operator_default, "technician");
	c->session = tl_session_opts_default;
	c->time_scale = 1.0;
	snprintf(c->modem_lines, sizeof c->modem_lines, "CTS=onset,DSR=max");
	c->box_baud = 9600;
	snprintf(c->box_onset, sizeof c->box_onset, "1");
	snprintf(c->box_max, sizeof c->box_max, "2");
	snprintf(c->box_foot, sizeof c->box_foot, "3");
	/* [cuff]: none until a source is named; the series' order is the usual one of an
	 * ABI: arms first, then the right ankle, then the left (docs/clinical.md) */
	static const char *const order[] = {"brachial-right", "pt-right", "dp-right",
					    "brachial-left", "pt-left", "dp-left"};
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
		snprintf(c->cuff_sites[i], sizeof c->cuff_sites[i], "%s", order[i]);
	c->cuff_n_sites = (int)(sizeof order / sizeof order[0]);
	tl_cuff_cycle_cfg_default(&c->cuff_cycle);
	c->cuff_sample_ms = 50;
	c->cuff_max_gap_ms = 500;
	c->debounce_ms = 50;
	c->button_poll_ms = 10;
	/* delivery: off until a destination is set */
	c->hl7.d = (struct tl_delivery_conf){TL_SEND_ON_SIGN, 10000, 10, 1000, 300000};
	snprintf(c->hl7.sending_application, sizeof c->hl7.sending_application, "TREADLAB");
	snprintf(c->hl7.ed_type, sizeof c->hl7.ed_type, "Application");
	snprintf(c->hl7.ed_subtype, sizeof c->hl7.ed_subtype, "PDF");
	c->fhir.d = (struct tl_delivery_conf){TL_SEND_ON_SIGN, 30000, 10, 1000, 300000};
}

/* A configuration file is a few kilobytes; anything much larger is not one (and a
 * device like /dev/zero would otherwise be read forever). */
#define CONFIG_MAX_BYTES (256 * 1024)
/* Distinct keys a file may set; the known keys are far fewer. */
#define CONFIG_MAX_KEYS 128

struct loader {
	struct tl_config *c;
	const struct tl_treadmill_ops *drv; /* the file's driver (first pass); NULL: unknown */
	const struct tl_cuff_ops *cuff;     /* the file's [cuff] source (first pass); NULL: none */
	char msg[300]; /* the first error, without file:line */
	char seen[CONFIG_MAX_KEYS][80]; /* "section\nkey" of every key set so far */
	int n_seen;
};

static int bad(struct loader *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(struct loader *l, const char *fmt, ...)
{
	if (!l->msg[0]) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(l->msg, sizeof l->msg, fmt, ap);
		va_end(ap);
	}
	return 0;
}

static int num(struct loader *l, const char *sec, const char *key, const char *val, double lo,
	       double hi, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(val, &end);
	if (end == val || *end || errno || !isfinite(v))
		return bad(l, "[%s] %s: '%s' is not a number", sec, key, val);
	if (v < lo || v > hi)
		return bad(l, "[%s] %s: %s is out of range (%g to %g)", sec, key, val, lo, hi);
	*out = v;
	return 1;
}

static int integer(struct loader *l, const char *sec, const char *key, const char *val, long lo,
		   long hi, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(val, &end, 10);
	if (end == val || *end || errno)
		return bad(l, "[%s] %s: '%s' is not an integer", sec, key, val);
	if (v < lo || v > hi)
		return bad(l, "[%s] %s: %s is out of range (%ld to %ld)", sec, key, val, lo, hi);
	*out = (int)v;
	return 1;
}

static int text(struct loader *l, const char *sec, const char *key, const char *val, char *dst,
		size_t cap)
{
	if (strlen(val) >= cap)
		return bad(l, "[%s] %s: longer than %zu characters", sec, key, cap - 1);
	memcpy(dst, val, strlen(val) + 1);
	return 1;
}

/* Host values, "name:port" or "name", comma-separated: letters, digits, '.', '-', ':'
 * and brackets (an IPv6 address), each under 80 characters. */
static int hosts(struct loader *l, const char *sec, const char *key, const char *val, char *dst,
		 size_t cap)
{
	size_t run = 0;
	for (const char *p = val; *p; p++) {
		if (*p == ',' || *p == ' ') {
			run = 0;
			continue;
		}
		if (!isalnum((unsigned char)*p) && !strchr(".-:[]", *p))
			return bad(l, "[%s] %s: '%c' cannot be in a host name (expected NAME[:PORT], ...)",
				   sec, key, *p);
		if (++run >= 80)
			return bad(l, "[%s] %s: a host of 80 characters or more", sec, key);
	}
	return text(l, sec, key, val, dst, cap);
}

static int boolean(struct loader *l, const char *sec, const char *key, const char *val, bool *out)
{
	if (!strcmp(val, "true") || !strcmp(val, "yes") || !strcmp(val, "1"))
		*out = true;
	else if (!strcmp(val, "false") || !strcmp(val, "no") || !strcmp(val, "0"))
		*out = false;
	else
		return bad(l, "[%s] %s: '%s' is not true or false", sec, key, val);
	return 1;
}

static int ms(struct loader *l, const char *sec, const char *key, const char *val, long lo,
	      long hi, int64_t *out)
{
	int v;
	if (!integer(l, sec, key, val, lo, hi, &v))
		return 0;
	*out = v;
	return 1;
}

/* A value that goes into an HL7 v2 field as it is (MSH-3..6, PV1-2, the ED type): no
 * delimiter (| ^ ~ \ &) and no control character, which would change the message's
 * structure rather than be escaped as text. */
static int hl7_value(struct loader *l, const char *sec, const char *key, const char *val,
		     char *dst, size_t cap)
{
	for (const char *p = val; *p; p++)
		if (strchr("|^~\\&", *p) || (unsigned char)*p < 0x20 || *p == 0x7f)
			return bad(l, "[%s] %s: '%s' holds an HL7 delimiter or a control character "
				   "(none of | ^ ~ \\ & may appear)", sec, key, val);
	return text(l, sec, key, val, dst, cap);
}

/* The keys [hl7] and [fhir] share: when to send and how to retry. */
static int delivery_key(struct loader *l, const char *sec, const char *key, const char *val,
			struct tl_delivery_conf *d)
{
	if (!strcmp(key, "trigger")) {
		if (tl_send_trigger_parse(val, &d->trigger))
			return bad(l, "[%s] trigger: '%s' is not one of sign, complete", sec, val);
		/* Sending when a test ends, unsigned, is not built: refused rather than
		 * accepted and silently never sent (docs/records.md, Known limits). */
		if (d->trigger == TL_SEND_ON_COMPLETE)
			return bad(l, "[%s] trigger: 'complete' (send when a test ends) is not built yet; "
				   "only 'sign' is", sec);
		return 1;
	}
	if (!strcmp(key, !strcmp(sec, "hl7") ? "ack_timeout_ms" : "timeout_ms"))
		return integer(l, sec, key, val, 100, 600000, &d->timeout_ms);
	if (!strcmp(key, "max_attempts"))
		return integer(l, sec, key, val, 1, 1000, &d->max_attempts);
	if (!strcmp(key, "retry_min_ms"))
		return integer(l, sec, key, val, 10, 3600000, &d->retry_min_ms);
	if (!strcmp(key, "retry_max_ms"))
		return integer(l, sec, key, val, 10, 86400000, &d->retry_max_ms);
	return bad(l, "[%s]: unknown key '%s'", sec, key);
}

/* [hl7] send_to: HOST:PORT, one destination (a name or an IPv4 address). */
static int send_to(struct loader *l, const char *val, struct tl_hl7_conf *h)
{
	const char *colon = strrchr(val, ':');
	char *end;
	long port = colon ? strtol(colon + 1, &end, 10) : 0;
	if (!colon || colon == val || !colon[1] || *end || port < 1 || port > 65535 ||
	    strchr(val, ',') || strchr(val, ' ') || (size_t)(colon - val) >= sizeof h->host)
		return bad(l, "[hl7] send_to: '%s' is not HOST:PORT (port 1 to 65535)", val);
	if (!hosts(l, "hl7", "send_to", val, h->send_to, sizeof h->send_to))
		return 0;
	memcpy(h->host, val, (size_t)(colon - val));
	h->host[colon - val] = '\0';
	h->port = (int)port;
	return 1;
}

static int reminders(struct loader *l, const char *val, struct tl_session_opts *o)
{
	char buf[128];
	if (strlen(val) >= sizeof buf)
		return bad(l, "[daemon] reminder_minutes: too long");
	memcpy(buf, val, strlen(val) + 1);
	o->n_reminders = 0;
	int prev = 0;
	for (char *save = NULL, *tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		int m;
		if (!integer(l, "daemon", "reminder_minutes", tok, 1, 120, &m))
			return 0;
		if (m <= prev)
			return bad(l, "[daemon] reminder_minutes: minutes must increase (%d after %d)", m, prev);
		if (o->n_reminders == TL_MAX_REMINDERS)
			return bad(l, "[daemon] reminder_minutes: at most %d", TL_MAX_REMINDERS);
		o->reminder_min[o->n_reminders++] = prev = m;
	}
	return 1;
}

/* A key set twice would silently take the last value, which is rarely what the person
 * who added the second line meant; refuse it. */
static bool first_time(struct loader *l, const char *sec, const char *key)
{
	char id[sizeof l->seen[0]];
	snprintf(id, sizeof id, "%s\n%s", sec, key);
	for (int i = 0; i < l->n_seen; i++)
		if (!strcmp(l->seen[i], id))
			return bad(l, "[%s] %s is set twice; keep one", sec, key);
	if (l->n_seen == CONFIG_MAX_KEYS)
		return bad(l, "more than %d keys", CONFIG_MAX_KEYS);
	memcpy(l->seen[l->n_seen++], id, strlen(id) + 1);
	return true;
}

/* A key that is not the daemon's: the file's driver's, through its table. A key another
 * driver takes is refused naming the driver and what it takes; one no driver takes is an
 * unknown key. With the driver unknown, its own line is the error. */
static int driver_key(struct loader *l, const char *sec, const char *key, const char *val)
{
	if (!l->drv)
		return tl_driver_option_known(sec, key) ? 1 : bad(l, "[%s]: unknown key '%s'", sec, key);
	char why[300];
	int rc = tl_driver_opts_set(l->drv, &l->c->drv_opts, sec, key, val, why, sizeof why);
	if (rc == 0)
		return 1;
	if (rc == -2 && !tl_driver_option_known(sec, key))
		return bad(l, "[%s]: unknown key '%s'", sec, key);
	return bad(l, "%s", why);
}

/* [cuff] sites: the order of a series, each a pressure site once. */
static int cuff_sites(struct loader *l, const char *val)
{
	struct tl_config *c = l->c;
	char buf[256];
	if (strlen(val) >= sizeof buf)
		return bad(l, "[cuff] sites: too long");
	snprintf(buf, sizeof buf, "%s", val);
	int n = 0;
	char *save = NULL;
	for (char *tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		if (!tl_pressure_site_valid(tok))
			return bad(l, "[cuff] sites: '%s' is not one of brachial-left, brachial-right, "
				   "pt-left, dp-left, pt-right, dp-right, toe-left, toe-right", tok);
		for (int i = 0; i < n; i++)
			if (!strcmp(c->cuff_sites[i], tok))
				return bad(l, "[cuff] sites: '%s' appears twice", tok);
		if (n == TL_CUFF_SITES_MAX)
			return bad(l, "[cuff] sites: more than %d sites", TL_CUFF_SITES_MAX);
		snprintf(c->cuff_sites[n++], sizeof c->cuff_sites[0], "%s", tok);
	}
	if (n == 0)
		return bad(l, "[cuff] sites: no site given");
	c->cuff_n_sites = n;
	return 1;
}

/* [cuff]: the daemon's keys, then the source's own (its option table). */
static int cuff_key(struct loader *l, const char *key, const char *val)
{
	struct tl_config *c = l->c;
	const char *sec = "cuff";
	struct tl_cuff_cycle_cfg *y = &c->cuff_cycle;
	if (!strcmp(key, "source")) {
		if (!strcmp(val, "none"))
			return text(l, sec, key, "", c->cuff_source, sizeof c->cuff_source);
		if (!tl_cuff_find(val)) {
			char names[160];
			tl_cuff_names(names, sizeof names);
			return bad(l, "[cuff] source: '%s' is not none or one of %s", val, names);
		}
		return text(l, sec, key, val, c->cuff_source, sizeof c->cuff_source);
	}
	if (!strcmp(key, "sites"))
		return cuff_sites(l, val);
	/* the safety limits are checked together in tl_config_validate (src/core/cuff.h) */
	if (!strcmp(key, "ceiling_mmhg"))
		return num(l, sec, key, val, 0, 1000, &y->ceiling_mmhg);
	if (!strcmp(key, "deflate_mmhg_s"))
		return num(l, sec, key, val, 0, 100, &y->rate_mmhg_s);
	if (!strcmp(key, "max_above_venous_ms"))
		return integer(l, sec, key, val, 1, 3600000, &y->max_above_venous_ms);
	if (!strcmp(key, "inflate_limit_ms"))
		return integer(l, sec, key, val, 1, 3600000, &y->inflate_limit_ms);
	if (!strcmp(key, "sample_ms"))
		return integer(l, sec, key, val, 5, 500, &c->cuff_sample_ms);
	if (!strcmp(key, "max_gap_ms"))
		return integer(l, sec, key, val, 10, 5000, &c->cuff_max_gap_ms);
	if (!l->cuff)
		return tl_cuff_option_known(key) ? 1 : bad(l, "[cuff]: unknown key '%s'", key);
	char why[300];
	int rc = tl_cuff_opts_set(l->cuff, &c->cuff_opts, sec, key, val, why, sizeof why);
	if (rc == 0)
		return 1;
	if (rc == -2)
		return bad(l, "[cuff]: unknown key '%s'%s", key,
			   tl_cuff_option_known(key) ? " for this source" : "");
	return bad(l, "%s", why);
}

/* First pass: the file's [treadmill] driver, which may come after the driver's keys. A
 * name too long for a driver's is cut and then found in no registry: the second pass
 * reports it on its line. */
struct first_pass {
	bool found;
	char name[64];
	bool cuff_found; /* and the [cuff] source */
	char cuff[64];
};

static int find_driver(void *user, const char *sec, const char *key, const char *val)
{
	struct first_pass *fp = user;
	if (key && !fp->found && !strcmp(sec, "treadmill") && !strcmp(key, "driver")) {
		fp->found = true;
		snprintf(fp->name, sizeof fp->name, "%s", val);
	}
	if (key && !fp->cuff_found && !strcmp(sec, "cuff") && !strcmp(key, "source")) {
		fp->cuff_found = true;
		snprintf(fp->cuff, sizeof fp->cuff, "%s", val);
	}
	return 1;
}

static int handler(void *user, const char *sec, const char *key, const char *val)
{
	struct loader *l = user;
	struct tl_config *c = l->c;
	if (l->msg[0])
		return 1; /* report only the first error */
	if (!key)
		return 1; /* a section header alone */
	if (!first_time(l, sec, key))
		return 0;
#define IS(s, k) (!strcmp(sec, s) && !strcmp(key, k))
	if (!strcmp(sec, "treadmill")) {
		if (IS("treadmill", "driver")) {
			if (!tl_treadmill_find(val)) {
				char names[160];
				tl_treadmill_names(names, sizeof names);
				return bad(l, "[treadmill] driver: '%s' is not one of %s", val, names);
			}
			return text(l, sec, key, val, c->driver, sizeof c->driver);
		}
		if (IS("treadmill", "simulated"))
			return boolean(l, sec, key, val, &c->simulated);
		if (IS("treadmill", "max_speed_kmh"))
			return num(l, sec, key, val, 1, 30, &c->max_speed_kmh);
		if (IS("treadmill", "max_grade_pct"))
			return num(l, sec, key, val, 0, 40, &c->max_grade_pct);
		return driver_key(l, sec, key, val);
	} else if (!strcmp(sec, "limits")) {
		struct tl_limits *m = &c->limits;
		if (IS("limits", "max_speed_kmh"))
			return num(l, sec, key, val, 0.5, 30, &m->max_speed_kmh);
		if (IS("limits", "max_grade_pct"))
			return num(l, sec, key, val, 0, 40, &m->max_grade_pct);
		if (IS("limits", "max_accel_kmh_per_s"))
			return num(l, sec, key, val, 0.05, 10, &m->max_accel_kmh_per_s);
		if (IS("limits", "max_grade_rate_pct_per_s"))
			return num(l, sec, key, val, 0.05, 5, &m->max_grade_rate_pct_per_s);
		if (IS("limits", "feedback_timeout_ms"))
			return ms(l, sec, key, val, 100, 10000, &m->feedback_timeout_ms);
		if (IS("limits", "speed_tolerance_kmh"))
			return num(l, sec, key, val, 0.05, 5, &m->speed_tolerance_kmh);
		if (IS("limits", "grade_tolerance_pct"))
			return num(l, sec, key, val, 0.1, 10, &m->grade_tolerance_pct);
		if (IS("limits", "deviation_timeout_ms"))
			return ms(l, sec, key, val, 100, 60000, &m->deviation_timeout_ms);
		if (IS("limits", "stop_timeout_ms"))
			return ms(l, sec, key, val, 1000, 120000, &m->stop_timeout_ms);
	} else if (!strcmp(sec, "store")) {
		if (IS("store", "database"))
			return text(l, sec, key, val, c->database, sizeof c->database);
	} else if (!strcmp(sec, "api")) {
		if (IS("api", "socket"))
			return text(l, sec, key, val, c->socket, sizeof c->socket);
		if (IS("api", "listen"))
			return text(l, sec, key, val, c->listen, sizeof c->listen);
		if (IS("api", "tls_cert"))
			return text(l, sec, key, val, c->tls_cert, sizeof c->tls_cert);
		if (IS("api", "tls_key"))
			return text(l, sec, key, val, c->tls_key, sizeof c->tls_key);
		if (IS("api", "token_file"))
			return text(l, sec, key, val, c->token_file, sizeof c->token_file);
		if (IS("api", "allowed_hosts"))
			return hosts(l, sec, key, val, c->allowed_hosts, sizeof c->allowed_hosts);
		/* Fractions allowed: 0.05 (3 s) lets a test see a session expire. */
		if (IS("api", "session_idle_min"))
			return num(l, sec, key, val, 0.05, 1440, &c->session_idle_min);
		if (IS("api", "web_root"))
			return text(l, sec, key, val, c->web_root, sizeof c->web_root);
	} else if (!strcmp(sec, "daemon")) {
		if (IS("daemon", "tick_hz"))
			return integer(l, sec, key, val, 1, 100, &c->tick_hz);
		if (IS("daemon", "operator_default"))
			return text(l, sec, key, val, c->operator_default, sizeof c->operator_default);
		if (IS("daemon", "protocols"))
			return text(l, sec, key, val, c->protocols, sizeof c->protocols);
		if (IS("daemon", "reminder_minutes"))
			return reminders(l, val, &c->session);
		if (IS("daemon", "log_level")) {
			enum tl_log_level lv;
			if (tl_log_level_parse(val, &lv))
				return bad(l, "[daemon] log_level: '%s' is not error, warning, info, "
					   "debug or wire", val);
			return text(l, sec, key, val, c->log_level, sizeof c->log_level);
		}
	} else if (!strcmp(sec, "buttons")) {
		if (IS("buttons", "modem_device"))
			return text(l, sec, key, val, c->modem_device, sizeof c->modem_device);
		if (IS("buttons", "modem_lines")) {
			struct tl_button_config bc;
			char why[160];
			tl_button_config_default(&bc);
			if (tl_button_parse_lines(val, &bc, why, sizeof why))
				return bad(l, "[buttons] modem_lines: %s", why);
			return text(l, sec, key, val, c->modem_lines, sizeof c->modem_lines);
		}
		if (IS("buttons", "box_device"))
			return text(l, sec, key, val, c->box_device, sizeof c->box_device);
		if (IS("buttons", "box_baud"))
			return integer(l, sec, key, val, 1200, 115200, &c->box_baud);
		if (IS("buttons", "box_onset") || IS("buttons", "box_max") || IS("buttons", "box_foot")) {
			if (strlen(val) != 1)
				return bad(l, "[buttons] %s: one character, got '%s'", key, val);
			return text(l, sec, key, val, key[4] == 'o' ? c->box_onset
						      : key[4] == 'm' ? c->box_max : c->box_foot, 4);
		}
		if (IS("buttons", "modbus"))
			return boolean(l, sec, key, val, &c->modbus_button);
		if (IS("buttons", "debounce_ms"))
			return integer(l, sec, key, val, 0, 1000, &c->debounce_ms);
		if (IS("buttons", "poll_ms"))
			return integer(l, sec, key, val, 1, 1000, &c->button_poll_ms);
	} else if (!strcmp(sec, "sim")) {
		if (IS("sim", "time_scale"))
			return num(l, sec, key, val, 0.01, 1000, &c->time_scale);
		return driver_key(l, sec, key, val);
	} else if (!strcmp(sec, "report")) {
		/* the PDF report (src/report; docs/report.md) */
		if (IS("report", "paper")) {
			if (strcmp(val, "a4") && strcmp(val, "letter"))
				return bad(l, "[report] paper: '%s' is not one of a4, letter", val);
			return text(l, sec, key, val, c->report_paper, sizeof c->report_paper);
		}
		if (IS("report", "lab_name"))
			return text(l, sec, key, val, c->report_lab_name, sizeof c->report_lab_name);
		if (IS("report", "lab_address"))
			return text(l, sec, key, val, c->report_lab_address, sizeof c->report_lab_address);
		if (IS("report", "logo"))
			return text(l, sec, key, val, c->report_logo, sizeof c->report_logo);
		if (IS("report", "patient_page"))
			return boolean(l, sec, key, val, &c->report_patient_page);
		if (IS("report", "patient_guidance"))
			return text(l, sec, key, val, c->report_guidance, sizeof c->report_guidance);
	} else if (!strcmp(sec, "cuff")) {
		return cuff_key(l, key, val);
	} else if (!strcmp(sec, "hl7")) {
		/* HL7 v2 over MLLP to the interface engine (src/records; docs/records.md) */
		struct tl_hl7_conf *h = &c->hl7;
		if (IS("hl7", "send_to"))
			return send_to(l, val, h);
		if (IS("hl7", "sending_application"))
			return hl7_value(l, sec, key, val, h->sending_application, sizeof h->sending_application);
		if (IS("hl7", "sending_facility"))
			return hl7_value(l, sec, key, val, h->sending_facility, sizeof h->sending_facility);
		if (IS("hl7", "receiving_application"))
			return hl7_value(l, sec, key, val, h->receiving_application, sizeof h->receiving_application);
		if (IS("hl7", "receiving_facility"))
			return hl7_value(l, sec, key, val, h->receiving_facility, sizeof h->receiving_facility);
		if (IS("hl7", "patient_class"))
			return hl7_value(l, sec, key, val, h->patient_class, sizeof h->patient_class);
		if (IS("hl7", "ed_type"))
			return hl7_value(l, sec, key, val, h->ed_type, sizeof h->ed_type);
		if (IS("hl7", "ed_subtype"))
			return hl7_value(l, sec, key, val, h->ed_subtype, sizeof h->ed_subtype);
		return delivery_key(l, sec, key, val, &h->d);
	} else if (!strcmp(sec, "fhir")) {
		/* a FHIR R4 server (src/records; docs/records.md) */
		if (IS("fhir", "url")) {
			if (strncmp(val, "https://", 8) && strncmp(val, "http://", 7))
				return bad(l, "[fhir] url: '%s' is not an http:// or https:// URL", val);
			for (const char *p = val; *p; p++)
				if ((unsigned char)*p <= 0x20 || *p == 0x7f)
					return bad(l, "[fhir] url: a space or control character in '%s'", val);
			return text(l, sec, key, val, c->fhir.url, sizeof c->fhir.url);
		}
		if (IS("fhir", "token_file"))
			return text(l, sec, key, val, c->fhir.token_file, sizeof c->fhir.token_file);
		if (IS("fhir", "ca_file"))
			return text(l, sec, key, val, c->fhir.ca_file, sizeof c->fhir.ca_file);
		return delivery_key(l, sec, key, val, &c->fhir.d);
	} else if (tl_driver_section_known(sec)) {
		return driver_key(l, sec, key, val);
	} else {
		return bad(l, "unknown section [%s]", sec);
	}
#undef IS
	return bad(l, "[%s]: unknown key '%s'", sec, key);
}

/* The line (1-based) of offset off in text. */
static int line_of(const char *text, size_t off)
{
	int line = 1;
	for (size_t i = 0; i < off; i++)
		line += text[i] == '\n';
	return line;
}

/* Reads a whole configuration file into a new NUL-terminated string; *len gets its
 * length. Only a regular file of at most CONFIG_MAX_BYTES is read: a directory, a FIFO
 * or a device is refused before anything waits on it. */
static char *read_config(const char *path, size_t *len, struct tl_err *err)
{
	int fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		tl_err_set(err, "%s: %s", path, strerror(errno));
		return NULL;
	}
	struct stat sb;
	char *buf = NULL;
	if (fstat(fd, &sb) < 0) {
		tl_err_set(err, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		tl_err_set(err, "%s: is %s, not a configuration file", path,
			   S_ISDIR(sb.st_mode) ? "a directory" : "not a regular file");
		goto out;
	}
	buf = malloc(CONFIG_MAX_BYTES + 2);
	if (!buf) {
		tl_err_set(err, "%s: out of memory", path);
		goto out;
	}
	size_t n = 0;
	for (;;) { /* one byte more than allowed tells a file that is too long */
		ssize_t got = read(fd, buf + n, CONFIG_MAX_BYTES + 1 - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			tl_err_set(err, "%s: %s", path, strerror(errno));
			goto fail;
		}
		n += (size_t)got;
		if (got == 0 || n > CONFIG_MAX_BYTES)
			break;
	}
	if (n > CONFIG_MAX_BYTES) {
		tl_err_set(err, "%s: longer than %d bytes, not a configuration file", path,
			   CONFIG_MAX_BYTES);
		goto fail;
	}
	buf[n] = '\0';
	*len = n;
	goto out;
fail:
	free(buf);
	buf = NULL;
out:
	close(fd);
	return buf;
}

int tl_config_load(struct tl_config *c, const char *path, struct tl_err *err)
{
	size_t len;
	char *text = read_config(path, &len, err);
	if (!text)
		return -1;
	/* A NUL would end the value (and the line) early without a word; say where it is. */
	const char *nul = memchr(text, '\0', len);
	if (nul) {
		tl_err_set(err, "%s:%d: a NUL byte in the file (is it text?)", path,
			   line_of(text, (size_t)(nul - text)));
		free(text);
		return -1;
	}
	/* inih reads a longer line in pieces, the rest as a line of its own: a value cut. */
	for (size_t start = 0, i = 0; i <= len; i++) {
		if (i < len && text[i] != '\n')
			continue;
		if (i - start > INI_MAX_LINE - 2) {
			tl_err_set(err, "%s:%d: a line longer than %d characters", path,
				   line_of(text, start), INI_MAX_LINE - 2);
			free(text);
			return -1;
		}
		start = i + 1;
	}
	struct loader *l = calloc(1, sizeof *l);
	if (!l) {
		free(text);
		tl_err_set(err, "%s: out of memory", path);
		return -1;
	}
	l->c = c;
	struct first_pass fp = {0};
	ini_parse_string(text, find_driver, &fp); /* its errors are the second pass's */
	l->drv = fp.found ? tl_treadmill_find(fp.name) : c->drv;
	if (l->drv && l->drv != c->drv) { /* another driver: its own defaults */
		c->drv = l->drv;
		snprintf(c->driver, sizeof c->driver, "%s", c->drv->name);
		tl_driver_opts_defaults(c->drv, &c->drv_opts);
	}
	l->cuff = fp.cuff_found ? tl_cuff_find(fp.cuff) : c->cuff_ops;
	if (l->cuff != c->cuff_ops) { /* another source: its own defaults */
		c->cuff_ops = l->cuff;
		if (l->cuff)
			tl_cuff_opts_defaults(l->cuff, &c->cuff_opts);
	}
	int line = ini_parse_string(text, handler, l);
	free(text);
	int rc = 0;
	if (line < 0) {
		tl_err_set(err, "%s: cannot read", path);
		rc = -1;
	} else if (line > 0) {
		tl_err_set(err, "%s:%d: %s", path, line, l->msg[0] ? l->msg : "syntax error (expected 'key = value' or '[section]')");
		rc = -1;
	}
	free(l);
	return rc;
}

int tl_listen_parse(const char *listen, char *host, size_t cap, int *port, bool *is_loopback)
{
	const char *colon = strrchr(listen, ':');
	if (!colon || colon == listen || (size_t)(colon - listen) >= cap)
		return -1;
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	char *end;
	errno = 0;
	long p = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end || errno || p < 0 || p > 65535)
		return -1;
	*port = (int)p;
	struct in_addr a;
	if (!strcmp(host, "localhost")) {
		*is_loopback = true;
		return 0;
	}
	if (inet_pton(AF_INET, host, &a) != 1)
		return -1;
	*is_loopback = (ntohl(a.s_addr) >> 24) == 127;
	return 0;
}

int tl_config_validate(const struct tl_config *c, const char *path, struct tl_err *err)
{
	bool simulator = (c->drv->flags & TL_DRV_SIMULATED) || c->simulated;
	if (c->time_scale != 1.0 && !simulator) {
		tl_err_set(err, "%s: [sim] time_scale %g is refused with the '%s' treadmill: only a "
			   "simulated treadmill may run faster than real time", path, c->time_scale, c->driver);
		return -1;
	}
	char why[200];
	if (tl_driver_opts_check(c->drv, &c->drv_opts, why, sizeof why)) {
		tl_err_set(err, "%s: [treadmill] driver = %s %s", path, c->driver, why);
		return -1;
	}
	if (c->listen[0]) {
		char host[64];
		int port;
		bool lo;
		if (tl_listen_parse(c->listen, host, sizeof host, &port, &lo)) {
			tl_err_set(err, "%s: [api] listen '%s' is not IPV4-ADDRESS:PORT", path, c->listen);
			return -1;
		}
		if (!lo && !(c->tls_cert[0] && c->tls_key[0] && c->token_file[0])) {
			tl_err_set(err, "%s: [api] listen '%s' is beyond loopback: it needs TLS and "
				   "authentication (set tls_cert, tls_key and token_file)", path, c->listen);
			return -1;
		}
	}
	if (!c->tls_cert[0] != !c->tls_key[0]) {
		tl_err_set(err, "%s: [api] tls_cert and tls_key go together", path);
		return -1;
	}
	if ((c->tls_cert[0] || c->token_file[0]) && !c->listen[0]) {
		tl_err_set(err, "%s: [api] tls_cert/token_file apply to 'listen', which is not set", path);
		return -1;
	}
	if (c->modbus_button && !(c->drv->flags & TL_DRV_BUTTON_REGISTER)) {
		char names[160] = "";
		size_t n = 0;
		for (size_t i = 0; tl_treadmill_drivers[i] && n < sizeof names; i++)
			if (tl_treadmill_drivers[i]->flags & TL_DRV_BUTTON_REGISTER) {
				int w = snprintf(names + n, sizeof names - n, "%s%s", n ? " or " : "",
						 tl_treadmill_drivers[i]->name);
				n += w > 0 ? (size_t)w : 0;
			}
		tl_err_set(err, "%s: [buttons] modbus = true needs a driver with a button register "
			   "(driver = %s)", path, names);
		return -1;
	}
	/* the cuff's safety limits are refused even with no source set (a file that names
	 * one later must not carry a ceiling above 300 mmHg unnoticed) */
	struct tl_err e;
	if (tl_cuff_cycle_cfg_check(&c->cuff_cycle, &e)) {
		tl_err_set(err, "%s: [cuff] %s", path, e.msg);
		return -1;
	}
	if (c->cuff_source[0]) {
		if (tl_cuff_opts_check(c->cuff_ops, &c->cuff_opts, why, sizeof why)) {
			tl_err_set(err, "%s: [cuff] source = %s %s", path, c->cuff_source, why);
			return -1;
		}
		if (c->cuff_max_gap_ms < 2 * c->cuff_sample_ms) {
			tl_err_set(err, "%s: [cuff] max_gap_ms %d is less than two samples (sample_ms %d)",
				   path, c->cuff_max_gap_ms, c->cuff_sample_ms);
			return -1;
		}
	}
	if (!c->socket[0] && !c->listen[0]) {
		tl_err_set(err, "%s: [api] neither socket nor listen is set: nothing could control the daemon", path);
		return -1;
	}
	if (!c->database[0]) {
		tl_err_set(err, "%s: [store] database is empty", path);
		return -1;
	}
	if (c->fhir.token_file[0] && access(c->fhir.token_file, R_OK) != 0) {
		tl_err_set(err, "%s: [fhir] token_file %s cannot be read: %s", path, c->fhir.token_file,
			   strerror(errno));
		return -1;
	}
	if ((c->fhir.token_file[0] || c->fhir.ca_file[0]) && !c->fhir.url[0]) {
		tl_err_set(err, "%s: [fhir] token_file/ca_file apply to 'url', which is not set", path);
		return -1;
	}
	return 0;
}
