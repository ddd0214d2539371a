/* bench_hil - treadlabd end to end against treadsim over a paced Modbus RTU pty.
 *
 * Starts treadsim and treadlabd itself (by pid, waiting on their readiness lines) and
 * prints figures; asserts nothing (performance is measured, not asserted: hil/README.md). Times come from one clock,
 * CLOCK_MONOTONIC: this program's stamps and treadsim's frame log.
 *
 *   stage   stage-change timing error: the first grade write treadsim receives after
 *           each Gardner-Skinner stage boundary, against the schedule from the daemon's
 *           test start (stamped just before the start request)
 *   estop   emergency-stop latency: just before the HTTP request to the stop frame
 *           received by treadsim, at 19200 baud, a fresh daemon per stop
 *   button  the patient's press (treadsim `press-onset`) to the event the daemon records
 *           (its recorded_at, CLOCK_REALTIME on both sides) and to the live stream: with
 *           the Modbus `button` register, sampled over the 19200-baud line, and with a
 *           button box on a line of its own, which the daemon waits on
 *   rate    Modbus transactions per second while the daemon polls, against the line
 *           rate of the same frames (11-bit characters, 3.5-character gaps), at 9600
 *           and 19200 baud, with the daemon's CPU and memory over the window
 *
 * Run: build/hil/bench_hil [--quick] [--seed N] [--only stage|estop|button|rate]
 *                          [--presses N] [--verbose] */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "child.h"

static double real_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Waits ms: only to spread requests over the phase of the daemon's tick, never to
 * synchronise with anything. */
static void pause_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* ---- statistics ------------------------------------------------------------------ */

/* One line of figures; an empty series prints nan. */
static void print_series(const char *what, struct bu_series *s, double goal_p99)
{
	double p99 = bu_pct(s, 99);
	printf("  %-44s n=%-4zu p50 %7.1f  p99 %7.1f  max %7.1f ms", what, s->n, bu_pct(s, 50), p99,
	       bu_pct(s, 100));
	if (goal_p99 > 0)
		printf("  (goal p99 <= %.0f: %s by %.1f ms)", goal_p99, p99 <= goal_p99 ? "met" : "MISSED",
		       fabs(p99 - goal_p99));
	printf("\n");
}

/* ---- treadsim's frame log, followed as it grows --------------------------------- */

struct follow {
	int fd, ino;
	char buf[65536];
	size_t len;
};

static int follow_open(struct follow *f, const char *path)
{
	f->len = 0;
	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	f->ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (f->fd < 0 || f->ino < 0 || inotify_add_watch(f->ino, path, IN_MODIFY) < 0)
		return -1;
	return 0;
}

static void follow_close(struct follow *f)
{
	close(f->fd);
	close(f->ino);
}

/* The next whole line of the log, waiting for it up to timeout_ms. */
static int follow_line(struct follow *f, char *line, size_t n, int timeout_ms)
{
	double deadline = bu_mono_s() + timeout_ms / 1000.0;
	for (;;) {
		char *nl = memchr(f->buf, '\n', f->len);
		if (nl) {
			size_t l = (size_t)(nl - f->buf);
			size_t c = l < n - 1 ? l : n - 1;
			memcpy(line, f->buf, c);
			line[c] = '\0';
			memmove(f->buf, nl + 1, f->len - l - 1);
			f->len -= l + 1;
			return 0;
		}
		if (f->len == sizeof f->buf)
			f->len = 0;
		ssize_t r = read(f->fd, f->buf + f->len, sizeof f->buf - f->len);
		if (r > 0) {
			f->len += (size_t)r;
			continue;
		}
		double left = deadline - bu_mono_s();
		if (left <= 0)
			return -1;
		struct pollfd p = {.fd = f->ino, .events = POLLIN};
		if (poll(&p, 1, (int)(left * 1000) + 1) > 0) {
			char ev[4096];
			while (read(f->ino, ev, sizeof ev) > 0)
				;
		}
	}
}

/* Reads lines until one contains needle; its time stamp, or -1. */
static double follow_until(struct follow *f, const char *needle, int timeout_ms)
{
	char line[1024];
	double deadline = bu_mono_s() + timeout_ms / 1000.0;
	while (follow_line(f, line, sizeof line, (int)((deadline - bu_mono_s()) * 1000)) == 0)
		if (strstr(line, needle))
			return atof(line);
	return -1;
}

/* The stamp of the first line stamped at or after t that contains needle, or -1. */
static double follow_first_after(struct follow *f, double t, const char *needle, int timeout_ms)
{
	char line[1024];
	double deadline = bu_mono_s() + timeout_ms / 1000.0;
	while (follow_line(f, line, sizeof line, (int)((deadline - bu_mono_s()) * 1000)) == 0)
		if (line[0] != '#' && atof(line) >= t && strstr(line, needle))
			return atof(line);
	return -1;
}

/* Reads lines until one is stamped at or after t; 0, or -1 on timeout. */
static int follow_to_time(struct follow *f, double t, int timeout_ms)
{
	char line[1024];
	double deadline = bu_mono_s() + timeout_ms / 1000.0;
	while (follow_line(f, line, sizeof line, (int)((deadline - bu_mono_s()) * 1000)) == 0)
		if (line[0] != '#' && atof(line) >= t)
			return 0;
	return -1;
}

/* ---- treadlabd ------------------------------------------------------------------ */

/* One API request; *t_sent is stamped just before it goes out. Returns the parsed JSON
 * body of a 2xx answer, or NULL. */
static json_t *api(const struct bu_daemon *d, const char *method, const char *path,
		   const char *body, double *t_sent)
{
	CURL *c = curl_easy_init();
	struct bu_buf b = {0};
	char url[256];
	snprintf(url, sizeof url, "http://treadlabd%s", path);
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, d->sock);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, bu_collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	if (t_sent)
		*t_sent = bu_mono_s();
	CURLcode rc = curl_easy_perform(c);
	long status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	json_t *j = NULL;
	if (rc == CURLE_OK && status >= 200 && status < 300 && b.p)
		j = json_loads(b.p, 0, NULL);
	else
		fprintf(stderr, "bench_hil: %s %s: HTTP %ld %s\n", method, path, status, b.p ? b.p : "");
	free(b.p);
	return j;
}

static bool api_ok(const struct bu_daemon *d, const char *method, const char *path, const char *body)
{
	json_t *j = api(d, method, path, body, NULL);
	json_decref(j);
	return j != NULL;
}

/* `treadlab watch --json` as a child: the live stream, one JSON object a line. */
struct watch {
	pid_t pid;
	int fd;
	char buf[65536];
	size_t len;
};

static int watch_start(struct watch *w, const struct bu_daemon *d)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC))
		return -1;
	w->len = 0;
	w->pid = fork();
	if (w->pid < 0)
		return -1;
	if (w->pid == 0) {
		dup2(pfd[1], STDOUT_FILENO);
		setenv("TREADLAB_SOCKET", d->sock, 1);
		execl(TREADLAB_BIN, TREADLAB_BIN, "watch", "--json", (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	w->fd = pfd[0];
	return 0;
}

static void watch_stop(struct watch *w)
{
	kill(w->pid, SIGTERM);
	while (waitpid(w->pid, NULL, 0) < 0 && errno == EINTR)
		;
	close(w->fd);
}

/* The next line of the stream containing needle (NULL: any), stamped on arrival. */
static double watch_until(struct watch *w, const char *needle, int timeout_ms)
{
	double deadline = bu_mono_s() + timeout_ms / 1000.0;
	for (;;) {
		char *nl;
		while ((nl = memchr(w->buf, '\n', w->len))) {
			*nl = '\0';
			bool hit = !needle || strstr(w->buf, needle);
			size_t used = (size_t)(nl + 1 - w->buf);
			memmove(w->buf, nl + 1, w->len - used);
			w->len -= used;
			if (hit)
				return bu_mono_s();
		}
		if (w->len == sizeof w->buf)
			w->len = 0;
		double left = deadline - bu_mono_s();
		struct pollfd p = {.fd = w->fd, .events = POLLIN};
		if (left <= 0 || poll(&p, 1, (int)(left * 1000) + 1) <= 0)
			return -1;
		ssize_t r = read(w->fd, w->buf + w->len, sizeof w->buf - w->len);
		if (r <= 0)
			return -1;
		w->len += (size_t)r;
	}
}

/* ---- set-ups ---------------------------------------------------------------------- */

struct rig {
	struct sim_proc sim;
	struct bu_daemon d;
	struct follow log;
};

enum button_path { BUTTON_NONE, BUTTON_REGISTER, BUTTON_BOX };

/* treadsim on an RTU pty paced at baud, and treadlabd on it at time scale k. */
static int rig_start(struct rig *r, int baud, double k, int tick_hz, enum button_path button)
{
	char b[16], ks[32];
	snprintf(b, sizeof b, "%d", baud);
	snprintf(ks, sizeof ks, "%g", k);
	const char *args[] = {"--baud", b, "--time-scale", ks, NULL};
	if (sim_start(&r->sim, button == BUTTON_BOX ? SIM_RTU_BOX : SIM_RTU, args))
		return -1;
	char buttons[300] = "";
	if (button == BUTTON_REGISTER)
		snprintf(buttons, sizeof buttons, "modbus = true\n");
	else if (button == BUTTON_BOX)
		snprintf(buttons, sizeof buttons, "box_device = %s\n", r->sim.link2);
	char ini[1024];
	/* Deviation timeouts are test time: at a large K a poll is many seconds of test
	 * time, so the bench widens them; nothing it measures depends on them. The button
	 * register is read as config/treadlabd-treadsim-rtu.conf recommends: debounce_ms = 0
	 * (the controller debounces its own input); for the box it is a repeat filter. */
	snprintf(ini, sizeof ini,
		 "[treadmill]\ndriver = modbus\ndevice = %s\nbaud = %d\nframing = 8N1\n"
		 "profile = %s/treadsim.profile\n"
		 "simulated = true\n[limits]\ndeviation_timeout_ms = 60000\n[buttons]\n%s"
		 "debounce_ms = 0\n"
		 "[daemon]\ntick_hz = %d\n[sim]\ntime_scale = %g\n",
		 r->sim.link, baud, TL_DEVICES_DIR, buttons, tick_hz, k);
	if (bu_daemon_start(&r->d, TREADLABD_BIN, r->sim.dir, "daemon", ini) ||
	    follow_open(&r->log, r->sim.log)) {
		bu_daemon_stop(&r->d, true); /* its log stays, and so does the directory */
		sim_stop(&r->sim);
		return -1;
	}
	return 0;
}

static void rig_stop(struct rig *r)
{
	bu_daemon_stop(&r->d, false);
	follow_close(&r->log);
	sim_stop(&r->sim);
}

static const char *START_GS = "{\"protocol\":\"gardner-skinner\",\"patient\":\"BENCH\"}";
/* How treadsim logs the frames of interest (unit 1, write single register). */
#define GRADE_WRITE "rx modbus-rtu 01 06 00 01 "
#define ESTOP_WRITE "rx modbus-rtu 01 06 00 02 00 02 "

/* ---- stage changes ---------------------------------------------------------------- */

static void bench_stage(int runs, int tick_hz)
{
	/* K = 173: a stage is 694 ms of real time, not a multiple of the tick, so the
	 * boundaries fall on every phase of it. Gardner-Skinner: +2 % every 120 s up to
	 * 24 % (stage 13), so 12 boundaries with a grade write each. */
	const double k = 173;
	struct bu_series err = {0}, rtt = {0};
	for (int run = 0; run < runs; run++) {
		struct rig r;
		if (rig_start(&r, 19200, k, tick_hz, BUTTON_NONE))
			goto out;
		double t0, t1;
		json_t *j = api(&r.d, "POST", "/v1/tests", START_GS, &t0);
		t1 = bu_mono_s();
		json_decref(j);
		if (j) {
			bu_series_add(&rtt, (t1 - t0) * 1000);
			for (int i = 1; i <= 12; i++) {
				double due = t0 + 120.0 * i / k;
				double t = follow_first_after(&r.log, due, GRADE_WRITE, 5000);
				if (t < 0)
					break;
				bu_series_add(&err, (t - due) * 1000);
			}
			api_ok(&r.d, "POST", "/v1/estop", "{}");
		}
		rig_stop(&r);
	}
	char what[96];
	snprintf(what, sizeof what, "stage change, first grade write (%d Hz tick)", tick_hz);
	print_series(what, &err, tick_hz == 10 ? 20 : 0);
	print_series("  start request round trip (bounds t0)", &rtt, 0);
out:
	bu_series_free(&err);
	bu_series_free(&rtt);
}

/* ---- emergency stop --------------------------------------------------------------- */

static void bench_estop(int n, enum button_path button)
{
	struct bu_series lat = {0}, rtt = {0}, queued = {0};
	for (int i = 0; i < n; i++) {
		struct rig r;
		if (rig_start(&r, 19200, 20, 10, button))
			goto out;
		json_t *j = api(&r.d, "POST", "/v1/tests", START_GS, NULL);
		json_decref(j);
		if (j && follow_until(&r.log, "event belt-start", 5000) > 0) {
			pause_ms(50 + rand() % 200); /* a random phase of the 100 ms tick */
			double t_call;
			j = api(&r.d, "POST", "/v1/estop", "{}", &t_call);
			double t_back = bu_mono_s();
			json_decref(j);
			double t_wire = follow_until(&r.log, ESTOP_WRITE, 5000);
			if (j && t_wire > 0) {
				bu_series_add(&lat, (t_wire - t_call) * 1000);
				bu_series_add(&rtt, (t_back - t_call) * 1000);
			}
			json_t *m = api(&r.d, "GET", "/v1/metrics", NULL, NULL);
			json_t *e = json_object_get(m, "estop_us");
			if (json_array_size(e))
				bu_series_add(&queued, json_integer_value(json_array_get(e, 0)) / 1000.0);
			json_decref(m);
		}
		rig_stop(&r);
	}
	print_series("e-stop: API call to the frame at treadsim", &lat, 30);
	print_series("  in the daemon: queued to stop acknowledged", &queued, 0);
	print_series("  API call to its answer", &rtt, 0);
out:
	bu_series_free(&lat);
	bu_series_free(&rtt);
	bu_series_free(&queued);
}

/* ---- patient button ---------------------------------------------------------------- */

static double parse_utc(const char *s)
{
	struct tm tm = {0};
	const char *rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!rest)
		return NAN;
	return (double)timegm(&tm) + (*rest == '.' ? atof(rest) : 0);
}

/* Prints the frame log's lines stamped in [t0, t1]: what the wire carried meanwhile. */
static void dump_log(const char *path, double t0, double t1)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	while (f && fgets(line, sizeof line, f)) {
		double t = atof(line);
		if (t >= t0 && t <= t1)
			printf("      %+8.1f ms  %s", (t - t0) * 1000, line);
	}
	if (f)
		fclose(f);
}

static void bench_button(int n, enum button_path path, bool verbose)
{
	struct rig r;
	if (rig_start(&r, 19200, 1, 10, path))
		return;
	struct bu_series to_record = {0}, to_stream = {0}, dated = {0};
	static double press_real[2048], press_mono[2048], seen_mono[2048];
	double t0 = 0;
	int pressed = 0;
	struct watch w;
	json_t *j = api(&r.d, "POST", "/v1/tests", START_GS, &t0);
	json_decref(j);
	if (!j || watch_start(&w, &r.d) || follow_until(&r.log, "event belt-start", 5000) < 0) {
		rig_stop(&r);
		return;
	}
	for (int i = 0; i < n && i < 2048; i++) {
		pause_ms(rand() % 100); /* a random phase of the tick */
		char reply[200];
		double t_mono = bu_mono_s();
		press_real[pressed] = real_s();
		press_mono[pressed] = t_mono;
		if (sim_control(&r.sim, "press-onset", reply, sizeof reply))
			break;
		double t_seen = watch_until(&w, "\"kind\":\"onset\"", 3000);
		if (t_seen < 0)
			break;
		seen_mono[pressed] = t_seen;
		bu_series_add(&to_stream, (t_seen - t_mono) * 1000);
		pressed++;
		/* Released 400 ms after the press; the daemon sees the release within two
		 * polls: wait for the wire to get past that. */
		double t_ctl = follow_until(&r.log, "control press-onset", 3000);
		if (t_ctl < 0 || follow_to_time(&r.log, t_ctl + 0.65, 3000))
			break;
	}
	watch_stop(&w);
	json_t *rec = api(&r.d, "GET", "/v1/tests/1", NULL, NULL);
	json_t *evs = json_object_get(rec, "events"), *ev;
	size_t idx;
	int k = 0;
	json_array_foreach(evs, idx, ev) {
		const char *kind = json_string_value(json_object_get(ev, "kind"));
		const char *at_s = json_string_value(json_object_get(ev, "recorded_at"));
		if (!kind || strcmp(kind, "onset") || !at_s || k >= pressed)
			continue;
		double at = parse_utc(at_s);
		double late = (at - press_real[k]) * 1000;
		/* K = 1: test time is real time since the start request */
		bu_series_add(&dated, json_number_value(json_object_get(ev, "t_s")) * 1000 - (press_mono[k] - t0) * 1000);
		bu_series_add(&to_record, late);
		if (verbose && late > 20) {
			printf("    press %d recorded %.1f ms after it; the wire meanwhile:\n", k, late);
			dump_log(r.sim.log, press_mono[k], seen_mono[k]);
		}
		k++;
	}
	json_decref(rec);
	api_ok(&r.d, "POST", "/v1/estop", "{}");
	rig_stop(&r);
	print_series("button: press to event recorded (recorded_at)", &to_record, 20);
	print_series("  press to event on the live stream", &to_stream, 0);
	print_series("  the press's time in the record, late by", &dated, 0);
	bu_series_free(&to_record);
	bu_series_free(&to_stream);
	bu_series_free(&dated);
}

/* ---- polling rate, CPU and memory ----------------------------------------------------- */

/* Bytes of an RTU frame in a log line "T dir chan HH HH ...". */
static int frame_bytes(const char *line)
{
	int n = 0;
	for (const char *p = line; (p = strchr(p, ' ')); p++)
		n++;
	return n - 2;
}

static void bench_rate(int baud, int tick_hz, double window_s)
{
	struct rig r;
	if (rig_start(&r, baud, 5, tick_hz, BUTTON_REGISTER))
		return;
	json_t *j = api(&r.d, "POST", "/v1/tests", START_GS, NULL);
	json_decref(j);
	double t_belt = j ? follow_until(&r.log, "event belt-start", 5000) : -1;
	/* From 1.5 s after the belt started (the ramp is over at K = 5), for window_s. */
	double w0 = t_belt + 1.5, w1 = w0 + window_s;
	double cpu0 = 0, cpu1 = 0, m0 = 0, m1 = 0;
	char line[1024];
	int n_tx = 0, req_len = 0;
	double line_s = 0, char_s = 11.0 / baud;
	if (t_belt > 0 && follow_to_time(&r.log, w0, 10000) == 0 && (cpu0 = bu_proc_cpu_s(r.d.pid)) >= 0) {
		m0 = bu_mono_s();
		while (follow_line(&r.log, line, sizeof line, 10000) == 0) {
			double t = atof(line);
			if (t >= w1)
				break;
			if (strstr(line, " rx modbus-rtu "))
				req_len = frame_bytes(line);
			else if (strstr(line, " tx modbus-rtu ") && req_len) {
				/* request, 3.5 characters of silence, reply, 3.5 characters */
				line_s += (req_len + frame_bytes(line) + 7) * char_s;
				n_tx++;
				req_len = 0;
			}
		}
		m1 = bu_mono_s();
		cpu1 = bu_proc_cpu_s(r.d.pid);
	}
	long rss = bu_proc_status_kb(r.d.pid, "VmRSS"), hwm = bu_proc_status_kb(r.d.pid, "VmHWM");
	api_ok(&r.d, "POST", "/v1/estop", "{}");
	rig_stop(&r);
	if (!n_tx) {
		printf("  rate %5d baud, %3d Hz tick: no transactions measured\n", baud, tick_hz);
		return;
	}
	double got = n_tx / window_s, limit = n_tx / line_s;
	printf("  rate %5d baud, %3d Hz tick: %6.1f transactions/s, line limit for these frames "
	       "%6.1f/s: %5.1f %%   daemon CPU %4.1f %%  RSS %ld kB (peak %ld kB)\n",
	       baud, tick_hz, got, limit, 100.0 * got / limit, 100.0 * (cpu1 - cpu0) / (m1 - m0),
	       rss, hwm);
}

static bool wanted(const char *only, const char *what)
{
	return !only || !strcmp(only, what);
}

int main(int argc, char **argv)
{
	bool quick = false, verbose = false;
	const char *only = NULL;
	int presses = 0;
	unsigned seed = (unsigned)time(NULL);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick"))
			quick = true;
		else if (!strcmp(argv[i], "--verbose"))
			verbose = true;
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			seed = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--presses") && i + 1 < argc)
			presses = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--only") && i + 1 < argc &&
			 strstr(" stage estop button rate ", argv[i + 1]) && argv[i + 1][0])
			only = argv[++i];
		else {
			fprintf(stderr, "usage: bench_hil [--quick] [--seed N] "
				"[--only stage|estop|button|rate] [--presses N] [--verbose]\n");
			return 2;
		}
	}
	if (presses <= 0 || presses > 2048)
		presses = quick ? 20 : 200;
	srand(seed);
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	printf("bench_hil: treadlabd against treadsim, Modbus RTU on a pty paced by treadsim "
	       "(seed %u)\n", seed);
	if (wanted(only, "stage")) {
		printf("stage changes (Gardner-Skinner at K = 173, 19200 baud):\n");
		bench_stage(quick ? 2 : 9, 10);
		bench_stage(quick ? 1 : 3, 100);
	}
	if (wanted(only, "estop")) {
		printf("emergency stop (19200 baud, 10 Hz tick, a fresh daemon per stop):\n");
		bench_estop(quick ? 10 : 60, BUTTON_NONE);
		printf("emergency stop, the line kept busy sampling the Modbus button register:\n");
		bench_estop(quick ? 10 : 60, BUTTON_REGISTER);
	}
	if (wanted(only, "button")) {
		printf("patient button, Modbus button register (19200 baud, 10 Hz tick, K = 1):\n");
		bench_button(presses, BUTTON_REGISTER, verbose);
		printf("patient button, button box on its own line (treadmill on Modbus RTU at "
		       "19200 baud, 10 Hz tick, K = 1):\n");
		bench_button(presses, BUTTON_BOX, verbose);
	}
	if (wanted(only, "rate")) {
		printf("polling (Gardner-Skinner stage 1, K = 5):\n");
		double win = quick ? 2 : 5;
		bench_rate(9600, 10, win);
		bench_rate(19200, 10, win);
		bench_rate(9600, 100, win);
		bench_rate(19200, 100, win);
	}
	curl_global_cleanup();
	return 0;
}
