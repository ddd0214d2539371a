/* treadlabd - the treadmill test daemon.
 *
 * Start-up, in order: configuration, store (closing tests a dead daemon left running),
 * treadmill driver, control thread, API; then READY=1. Shutdown in reverse. Signal
 * handlers only set a flag; SIGTERM during a test brings the belt to a controlled stop
 * and records why before the daemon exits. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "api.h"
#include "sim.h"
#include "daemon.h"
#include "writer.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: treadlabd [--config FILE] [--db PATH] [--socket PATH] [--listen ADDR:PORT]\n"
		"                 [--check-config]\n"
		"  --config FILE      configuration (default /etc/treadlab/treadlabd.conf)\n"
		"  --db PATH          database file, overrides [store] database\n"
		"  --socket PATH      API Unix socket, overrides [api] socket ('' for none)\n"
		"  --listen ADDR:PORT API on loopback TCP, overrides [api] listen\n"
		"  --check-config     validate the configuration and exit\n"
		"  --ready-fd N       write \"ready\\n\" to file descriptor N once serving, then close it\n");
}

static int fail(const char *msg)
{
	fprintf(stderr, "treadlabd: %s\n", msg);
	return 1;
}

static int open_driver(struct tl_daemon *d, struct tl_err *err)
{
	const struct tl_config *c = &d->cfg;
	d->tm.ops = tl_treadmill_find(c->driver);
	if (!d->tm.ops) {
		tl_err_set(err, "treadmill driver '%s' is not in this build", c->driver);
		return -1;
	}
	struct tl_driver_opts o = {
		.device = c->device[0] ? c->device : NULL,
		.baud = c->baud,
		.tcp_addr = c->tcp_addr[0] ? c->tcp_addr : NULL,
		.profile = c->profile[0] ? c->profile : NULL,
		.unit_id = c->unit_id,
		.watchdog_max_ms = c->watchdog_max_ms,
		.response_timeout_ms = c->response_timeout_ms,
		.retries = c->retries,
		.time_scale = c->time_scale,
		.patient_onset_s = c->patient_onset_s,
		.patient_max_s = c->patient_max_s,
	};
	if (d->tm.ops->open(&d->tm, &o)) {
		tl_err_set(err, "treadmill (%s): %s", c->driver, d->tm.err);
		return -1;
	}
	tl_actuator_init(&d->act, &d->tm);
	return 0;
}

/* Opens the patient buttons the configuration names. */
static int open_buttons(struct tl_daemon *d, struct tl_err *err)
{
	const struct tl_config *c = &d->cfg;
	struct tl_button_config bc;
	tl_button_config_default(&bc);
	bc.debounce_ms = c->debounce_ms;
	bc.onset_byte = (uint8_t)c->box_onset[0];
	bc.max_byte = (uint8_t)c->box_max[0];
	char why[160];
	if (tl_button_parse_lines(c->modem_lines, &bc, why, sizeof why)) {
		tl_err_set(err, "[buttons] modem_lines: %s", why);
		return -1;
	}
	struct tl_button *b;
	if (!strcmp(c->driver, "sim") && (c->patient_onset_s >= 0 || c->patient_max_s >= 0)) {
		b = &d->buttons[d->n_buttons];
		if (tl_sim_button_open(b, &d->tm))
			goto fail;
		d->n_buttons++;
	}
	if (c->modem_device[0]) {
		struct tl_serial_link link;
		b = &d->buttons[d->n_buttons];
		if (tl_serial_open(&link, c->modem_device, 9600, TL_SERIAL_AUTO)) {
			tl_err_set(err, "[buttons] modem_device %s: %s", c->modem_device, link.err);
			return -1;
		}
		if (tl_button_modem_open(b, &link, &bc, 0))
			goto fail;
		d->n_buttons++;
	}
	if (c->box_device[0]) {
		struct tl_serial_link link;
		b = &d->buttons[d->n_buttons];
		if (tl_serial_open(&link, c->box_device, c->box_baud, TL_SERIAL_AUTO)) {
			tl_err_set(err, "[buttons] box_device %s: %s", c->box_device, link.err);
			return -1;
		}
		if (tl_button_box_open(b, &link, &bc, 0))
			goto fail;
		d->n_buttons++;
	}
	if (c->modbus_button) {
		b = &d->buttons[d->n_buttons];
		if (tl_button_modbus_open(b, &d->tm, &bc, 0))
			goto fail;
		d->n_buttons++;
	}
	return 0;
fail:
	tl_err_set(err, "patient button: %s", b->err);
	return -1;
}

static void close_buttons(struct tl_daemon *d)
{
	for (int i = 0; i < d->n_buttons; i++)
		tl_button_close(&d->buttons[i]);
	d->n_buttons = 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'}, {"db", required_argument, NULL, 'd'},
		{"socket", required_argument, NULL, 's'}, {"listen", required_argument, NULL, 'l'},
		{"check-config", no_argument, NULL, 'k'}, {"help", no_argument, NULL, 'h'},
		{"ready-fd", required_argument, NULL, 'r'},
		{NULL, 0, NULL, 0}};
	static struct tl_daemon d; /* large; one per process */
	const char *config = "/etc/treadlab/treadlabd.conf";
	const char *db = NULL, *sock = NULL, *listen_addr = NULL;
	bool check_only = false;
	int ready_fd = -1;
	int opt;
	while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': config = optarg; break;
		case 'd': db = optarg; break;
		case 's': sock = optarg; break;
		case 'l': listen_addr = optarg; break;
		case 'k': check_only = true; break;
		case 'r': ready_fd = atoi(optarg); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}

	struct tl_err err = {{0}};
	tl_config_defaults(&d.cfg);
	d.config_path = config;
	if (tl_config_load(&d.cfg, config, &err))
		return fail(err.msg);
	if (db)
		snprintf(d.cfg.database, sizeof d.cfg.database, "%s", db);
	if (sock)
		snprintf(d.cfg.socket, sizeof d.cfg.socket, "%s", sock);
	if (listen_addr)
		snprintf(d.cfg.listen, sizeof d.cfg.listen, "%s", listen_addr);
	if (tl_config_validate(&d.cfg, config, &err))
		return fail(err.msg);
	if (check_only) {
		printf("%s: ok (driver %s, database %s)\n", config, d.cfg.driver, d.cfg.database);
		return 0;
	}

	openlog("treadlabd", LOG_PID, LOG_DAEMON);
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	d.stop_flag = &stop_requested;

	pthread_mutex_init(&d.cmd_mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&d.cmd_cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&d.st_mu, NULL);
	pthread_cond_init(&d.st_cv, NULL);
	pthread_mutex_init(&d.m_mu, NULL);
	d.st.test_id = -1;

	/* The guard's limits: the site's, never beyond the treadmill's. Feedback staleness
	 * is a property of the wire, so its timeout is real time, scaled to test time. */
	struct tl_limits lim = d.cfg.limits;
	if (lim.max_speed_kmh > d.cfg.max_speed_kmh)
		lim.max_speed_kmh = d.cfg.max_speed_kmh;
	if (lim.max_grade_pct > d.cfg.max_grade_pct)
		lim.max_grade_pct = d.cfg.max_grade_pct;
	lim.feedback_timeout_ms = (int64_t)((double)lim.feedback_timeout_ms * d.cfg.time_scale);
	d.base_ns = tl_mono_ns();
	tl_engine_init(&d.engine, &lim, &d.cfg.session, 0);

	int rc = 1;
	pthread_t control;
	bool control_running = false;
	d.writer = tl_writer_start(&d, d.cfg.database, &err);
	if (!d.writer) {
		fail(err.msg);
		goto out;
	}
	if (open_driver(&d, &err)) {
		fail(err.msg);
		goto out_writer;
	}
	if (open_buttons(&d, &err)) {
		fail(err.msg);
		goto out_driver;
	}
	if (tl_control_start(&d, &control)) {
		fail("cannot start the control thread");
		goto out_driver;
	}
	control_running = true;
	d.api = tl_api_start(&d, &err);
	if (!d.api) {
		fail(err.msg);
		stop_requested = 1;
		goto out_control;
	}
	syslog(LOG_INFO, "ready: driver %s, database %s, socket %s, listen %s, time scale %g",
	       d.cfg.driver, d.cfg.database, d.cfg.socket[0] ? d.cfg.socket : "-",
	       d.cfg.listen[0] ? d.cfg.listen : "-", d.cfg.time_scale);
	fprintf(stderr, "treadlabd: ready (driver %s, database %s, socket %s, listen %s%s)\n",
		d.cfg.driver, d.cfg.database, d.cfg.socket[0] ? d.cfg.socket : "-",
		tl_api_bound(d.api), d.cfg.tls_cert[0] ? " https" : "");
	sd_notify(0, "READY=1");
	if (ready_fd >= 0) {
		/* For tests and scripts that start the daemon themselves: readiness, no polling. */
		if (write(ready_fd, "ready\n", 6) != 6)
			syslog(LOG_WARNING, "--ready-fd %d: %s", ready_fd, strerror(errno));
		close(ready_fd);
	}
	rc = 0;

	/* The control thread watches the flag and winds down; main waits for it. */
out_control:
	if (control_running)
		pthread_join(control, NULL);
	sd_notify(0, "STOPPING=1");
	tl_api_stop(d.api);
out_driver:
	close_buttons(&d);
	d.tm.ops->close(&d.tm);
out_writer:
	tl_writer_stop(d.writer);
out:
	closelog();
	return rc;
}
