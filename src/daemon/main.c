/* treadlabd - the treadmill test daemon.
 *
 * Start-up, in order: configuration, the database's lock (one daemon per database),
 * store (closing tests a dead daemon left running), treadmill driver, control thread,
 * API; then READY=1. Shutdown in reverse. Signal
 * handlers only set a flag; SIGTERM during a test brings the belt to a controlled stop
 * and records why before the daemon exits. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <syslog.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "api.h"
#include "daemon.h"
#include "cuffd.h"
#include "outbox.h"
#include "tl_log.h"
#include "writer.h"

/* Written by the signal handler and main, read by the control thread: an atomic, which
 * is both safe in a handler (lock-free) and ordered between threads, as volatile is not. */
static atomic_int stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	atomic_store(&stop_requested, 1);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: treadlabd [--config FILE] [--db PATH] [--socket PATH] [--listen ADDR:PORT]\n"
		"                 [--check-config] [--list-options] [-v|-vv]\n"
		"  --config FILE      configuration (default /etc/treadlab/treadlabd.conf)\n"
		"  --db PATH          database file, overrides [store] database\n"
		"  --socket PATH      API Unix socket, overrides [api] socket ('' for none)\n"
		"  --listen ADDR:PORT API on loopback TCP, overrides [api] listen\n"
		"  --check-config     validate the configuration and exit\n"
		"  --list-options     print every driver's and cuff source's keys and exit\n"
		"  -v, --verbose      debug output (connects, retries, stages); twice (-vv): every\n"
		"                     frame on the wire; overrides [daemon] log_level\n"
		"  --ready-fd N       write \"ready\\n\" to file descriptor N once serving, then close it\n"
		"  --version          print the version and exit\n");
}

/* One option table's keys, a line each, tab-separated: owner (driver or cuff source),
 * section, key, kind, default ("none"), range ("LO to HI", the words "A|B", or "-"),
 * help. */
static void list_table(const char *owner, const struct tl_driver_option *o)
{
	static const char *const kinds[] = {"text", "int", "real", "bool", "enum"};
	for (; o && o->key; o++) {
		char range[160] = "-";
		if (o->kind == TL_OPT_INT || o->kind == TL_OPT_REAL) {
			snprintf(range, sizeof range, "%g to %g", o->min, o->max);
		} else if (o->kind == TL_OPT_ENUM) {
			size_t n = 0;
			for (size_t k = 0; o->values[k] && n < sizeof range; k++) {
				int w = snprintf(range + n, sizeof range - n, "%s%s", k ? "|" : "", o->values[k]);
				n += w > 0 ? (size_t)w : 0;
			}
		}
		printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\n", owner, o->section, o->key, kinds[o->kind],
		       o->def ? o->def : "none", range, o->help);
	}
}

/* Every treadmill driver's keys, then every cuff source's. The man page test reads them
 * (tests/integration/test_man_config_keys.sh). */
static void list_options(void)
{
	for (size_t i = 0; tl_treadmill_drivers[i]; i++)
		list_table(tl_treadmill_drivers[i]->name, tl_treadmill_drivers[i]->options);
	for (size_t i = 0; tl_cuff_sources[i]; i++)
		list_table(tl_cuff_sources[i]->name, tl_cuff_sources[i]->options);
}

static int fail(const char *msg)
{
	fprintf(stderr, "treadlabd: %s\n", msg);
	return 1;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'}, {"db", required_argument, NULL, 'd'},
		{"socket", required_argument, NULL, 's'}, {"listen", required_argument, NULL, 'l'},
		{"check-config", no_argument, NULL, 'k'}, {"help", no_argument, NULL, 'h'},
		{"ready-fd", required_argument, NULL, 'r'}, {"version", no_argument, NULL, 'V'},
		{"list-options", no_argument, NULL, 'L'}, {"verbose", no_argument, NULL, 'v'},
		{NULL, 0, NULL, 0}};
	static struct tl_daemon d; /* large; one per process */
	const char *config = "/etc/treadlab/treadlabd.conf";
	const char *db = NULL, *sock = NULL, *listen_addr = NULL;
	bool check_only = false;
	int ready_fd = -1;
	int verbose = 0;
	int opt;
	while ((opt = getopt_long(argc, argv, "c:hv", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': config = optarg; break;
		case 'd': db = optarg; break;
		case 's': sock = optarg; break;
		case 'l': listen_addr = optarg; break;
		case 'k': check_only = true; break;
		case 'r': ready_fd = atoi(optarg); break;
		case 'v': verbose++; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("treadlabd %s\n", TREADLAB_VERSION); return 0;
		case 'L': list_options(); return 0;
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
	/* Before any thread starts; the command line wins over the configuration. */
	enum tl_log_level level = TL_LOG_INFO;
	if (d.cfg.log_level[0])
		tl_log_level_parse(d.cfg.log_level, &level);
	if (verbose)
		level = verbose > 1 ? TL_LOG_WIRE : TL_LOG_DEBUG;
	tl_log_setup("treadlabd", TL_LOG_OUT_AUTO);
	tl_log_set_level(level);
	TL_DEBUG("log level %s", tl_log_level_name(level));
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	d.stop_flag = &stop_requested;

	pthread_mutex_init(&d.cmd_mu, NULL);
	d.cmd_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d.cmd_efd < 0) {
		fail("cannot create the command eventfd");
		return 1;
	}
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
	tl_clock_init_mono(&d.clock, d.cfg.time_scale);
	tl_engine_init(&d.engine, &lim, &d.cfg.session, 0);

	int rc = 1;
	pthread_t control;
	bool control_running = false;
	/* Before the store is touched: a second daemon would close the first one's live test
	 * as interrupted and then write beside it. Held until the process ends. */
	struct tl_store_lock *lock = tl_store_lock_take(d.cfg.database, &err);
	if (!lock) {
		fail(err.msg);
		goto out;
	}
	d.writer = tl_writer_start(&d, d.cfg.database, &err);
	if (!d.writer) {
		fail(err.msg);
		goto out_lock;
	}
	/* After the writer: the store is migrated. Messages a dead daemon left are resumed. */
	pthread_mutex_init(&d.ob_mu, NULL);
	d.outbox = tl_outbox_start(&d, &err);
	if (!d.outbox) {
		fail(err.msg);
		goto out_writer;
	}
	if (tl_devices_open(&d, &err)) {
		fail(err.msg);
		goto out_outbox;
	}
	d.st.connected = true;
	/* Before the control thread, which hands it the foot switch's presses. */
	if (tl_cuffd_start(&d, &d.cuffd, &err)) {
		fail(err.msg);
		goto out_driver;
	}
	if (tl_control_start(&d, &control)) {
		fail("cannot start the control thread");
		goto out_cuff;
	}
	control_running = true;
	d.api = tl_api_start(&d, &err);
	if (!d.api) {
		fail(err.msg);
		atomic_store(&stop_requested, 1);
		goto out_control;
	}
	syslog(LOG_INFO, "ready: driver %s, database %s, socket %s, listen %s, time scale %g",
	       d.cfg.driver, d.cfg.database, d.cfg.socket[0] ? d.cfg.socket : "-",
	       d.cfg.listen[0] ? d.cfg.listen : "-", d.cfg.time_scale);
	fprintf(stderr, "treadlabd: ready (driver %s, database %s, socket %s, listen %s%s)\n",
		d.cfg.driver, d.cfg.database, d.cfg.socket[0] ? d.cfg.socket : "-",
		tl_api_bound(d.api), d.cfg.tls_cert[0] ? " https" : "");
	/* The technician's page (api_static.c) is on the TCP listener. */
	if (d.cfg.listen[0])
		fprintf(stderr, "treadlabd: the page: open %s://%s/\n", d.cfg.tls_cert[0] ? "https" : "http",
			tl_api_bound(d.api));
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
out_cuff:
	tl_cuffd_stop(d.cuffd); /* vents; after the API, whose requests it answers */
out_driver:
	tl_devices_close(&d);
out_outbox:
	tl_outbox_stop(d.outbox);
out_writer:
	tl_writer_stop(d.writer);
out_lock:
	tl_store_lock_release(lock);
out:
	close(d.cmd_efd);
	closelog();
	return rc;
}
