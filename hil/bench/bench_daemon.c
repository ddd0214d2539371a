/* bench_daemon - what treadlabd costs and how fast it stops the belt (sim treadmill).
 *
 * Prints figures; asserts nothing (performance is measured, not asserted: hil/README.md). It starts treadlabd itself, in a
 * temporary directory with its own database and socket, waits on --ready-fd, talks to it
 * over the Unix socket with libcurl, and stops it by pid at the end of each part:
 *
 *  1. e-stop (10 Hz): N times, start a test, wait until the belt runs, emergency stop,
 *     wait until the belt is at rest. Latency client side (HTTP request start to the
 *     response, which the daemon sends once the driver has the stop; its record is
 *     written after) and the daemon's own figure (command queued by the API thread to the driver's emergency
 *     stop returning; GET /v1/metrics estop_us). Idle RSS and CPU before any client.
 *  2. control loop at 10 Hz and at 100 Hz: a test walks for T ticks; deadline jitter
 *     (tick wake-up lateness, jitter_us) over those ticks, overruns, CPU (utime+stime
 *     over the wall interval) and RSS while the test runs.
 *
 * Live state comes from the daemon's event stream (GET /v1/events), read by a thread;
 * the benchmark waits on it, never on sleeps. The only sleeps are the measured idle and
 * walking intervals themselves.
 *
 * Run: build/hil/bench_daemon [-n STOPS] [-t TICKS] [-d TREADLABD] [-k]
 *   -n  emergency stops (default 200)       -t  ticks per loop run (default 3000, max 4000)
 *   -d  the treadlabd binary                -k  keep the temporary directory */
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_live.h"
#include "bench_util.h"

#define PROTOCOL "gardner-skinner"
#define METRICS_RING 4096 /* the daemon keeps the last 4096 jitter figures */

static void sleep_s(double s)
{
	struct timespec ts = {.tv_sec = (time_t)s, .tv_nsec = (long)((s - floor(s)) * 1e9)};
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ---------- statistics ---------- */

/* One line of figures; an empty series prints as zeros. */
static void print_stats(const char *what, const char *unit, struct bu_series *s, double goal_p99)
{
	double p50 = 0, p99 = 0, max = 0;
	if (s->n) {
		p50 = bu_pct(s, 50);
		p99 = bu_pct(s, 99);
		max = bu_pct(s, 100);
	}
	printf("  %-44s n=%-5zu p50 %8.3f  p99 %8.3f  max %8.3f %s", what, s->n, p50, p99, max, unit);
	if (goal_p99 > 0)
		printf("   (goal p99 < %g %s: %s)", goal_p99, unit, p99 < goal_p99 ? "met" : "MISSED");
	printf("\n");
}

/* ---------- the daemon ---------- */

/* treadlabd on the sim treadmill at tick_hz, in a temporary directory of its own. */
static int daemon_start(struct bu_daemon *p, const char *bin, int tick_hz, const char *tag)
{
	char dir[] = "/tmp/bench-daemon.XXXXXX", ini[128];
	if (!mkdtemp(dir)) {
		perror("bench_daemon: mkdtemp");
		return -1;
	}
	snprintf(ini, sizeof ini, "[treadmill]\ndriver = sim\n[daemon]\ntick_hz = %d\n", tick_hz);
	return bu_daemon_start(p, bin, dir, tag, ini);
}

static void daemon_stop(struct bu_daemon *p, bool keep)
{
	bu_daemon_stop(p, keep);
	if (keep) {
		printf("  (kept %s)\n", p->dir);
		return;
	}
	rmdir(p->dir);
}

/* ---------- HTTP ---------- */

/* One keep-alive connection for commands and queries. */
struct client {
	CURL *h;
	struct curl_slist *hdr;
};

static int client_init(struct client *c, const char *sock)
{
	c->h = curl_easy_init();
	if (!c->h)
		return -1;
	c->hdr = curl_slist_append(NULL, "Content-Type: application/json");
	curl_easy_setopt(c->h, CURLOPT_UNIX_SOCKET_PATH, sock);
	curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->h, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, bu_collect);
	return 0;
}

static void client_free(struct client *c)
{
	curl_easy_cleanup(c->h);
	curl_slist_free_all(c->hdr);
}

/* Returns the HTTP status (0 if unreachable); *out the parsed body if wanted; *ms the
 * time from the request's start to the whole response. */
static long call(struct client *c, const char *method, const char *path, const char *body,
		 json_t **out, double *ms)
{
	char url[256];
	snprintf(url, sizeof url, "http://treadlabd%s", path);
	struct bu_buf b = {0};
	curl_easy_setopt(c->h, CURLOPT_URL, url);
	curl_easy_setopt(c->h, CURLOPT_WRITEDATA, &b);
	if (!strcmp(method, "GET")) {
		curl_easy_setopt(c->h, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, NULL);
	} else {
		curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, body ? body : "");
		curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, c->hdr);
	}
	double t0 = bu_mono_s();
	CURLcode rc = curl_easy_perform(c->h);
	double t1 = bu_mono_s();
	if (ms)
		*ms = (t1 - t0) * 1e3;
	long status = 0;
	if (rc == CURLE_OK)
		curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status);
	else
		fprintf(stderr, "bench_daemon: %s %s: %s\n", method, path, curl_easy_strerror(rc));
	if (out)
		*out = b.p ? json_loads(b.p, 0, NULL) : NULL;
	if (status >= 300)
		fprintf(stderr, "bench_daemon: %s %s: HTTP %ld %s", method, path, status, b.p ? b.p : "\n");
	free(b.p);
	return status;
}

/* ---------- the parts ---------- */

/* Starts a test and waits until its belt runs. A start the engine refuses because the
 * belt is still coasting from the last e-stop is retried on the next status. */
static int start_walking(struct client *c, struct bu_live *l)
{
	static const char body[] = "{\"protocol\":\"" PROTOCOL "\",\"patient\":\"BENCH01\",\"operator\":\"bench\"}";
	for (int attempt = 0; attempt < 50; attempt++) {
		uint64_t seen = bu_live_seen(l);
		long st = call(c, "POST", "/v1/tests", body, NULL, NULL);
		if (st == 201)
			return bu_live_wait(l, BU_BELT_RUNNING, 0, 10);
		if (st != 409 || bu_live_wait(l, BU_BELT_AT_REST, seen, 10))
			return -1;
	}
	return -1;
}

/* Adds a metrics array to s, in ms; `from` skips the first entries (earlier ticks). */
static void metric_ms(json_t *m, const char *key, size_t from, struct bu_series *s)
{
	json_t *a = json_object_get(m, key);
	size_t len = json_array_size(a);
	for (size_t i = from; i < len; i++)
		bu_series_add(s, (double)json_integer_value(json_array_get(a, i)) / 1000.0);
}

static int bench_estop(const char *bin, int stops, bool keep)
{
	struct bu_daemon p;
	printf("emergency stop, %d times (tick 10 Hz, sim treadmill, protocol %s)\n", stops, PROTOCOL);
	if (daemon_start(&p, bin, 10, "estop"))
		return -1;
	/* Idle: no client has connected yet. */
	double c0 = bu_proc_cpu_s(p.pid), w0 = bu_mono_s();
	sleep_s(5);
	double c1 = bu_proc_cpu_s(p.pid), w1 = bu_mono_s();
	long idle_rss = bu_proc_status_kb(p.pid, "VmRSS");
	printf("  idle RSS (no client) %ld kB = %.2f MB, %ld threads   (goal < 10 MB: %s)\n", idle_rss,
	       (double)idle_rss / 1024.0, bu_proc_status_kb(p.pid, "Threads"),
	       idle_rss < 10 * 1024 ? "met" : "MISSED");
	printf("  idle CPU %.2f %% over %.1f s\n", 100.0 * (c1 - c0) / (w1 - w0), w1 - w0);

	int rc = -1;
	struct client c;
	struct bu_live l;
	struct bu_series client_ms = {0}, daemon_ms = {0};
	if (client_init(&c, p.sock))
		goto out;
	if (bu_live_start(&l, p.sock))
		goto out_client;
	double t_start = bu_mono_s();
	int done = 0;
	for (; done < stops; done++) {
		if (start_walking(&c, &l)) {
			fprintf(stderr, "bench_daemon: stop %d: the belt did not start\n", done + 1);
			break;
		}
		uint64_t seen = bu_live_seen(&l);
		double ms;
		long st = call(&c, "POST", "/v1/estop", NULL, NULL, &ms);
		if (st != 200 || bu_live_wait(&l, BU_BELT_AT_REST, seen, 10)) {
			fprintf(stderr, "bench_daemon: stop %d: the belt did not stop\n", done + 1);
			break;
		}
		bu_series_add(&client_ms, ms);
	}
	double elapsed = bu_mono_s() - t_start;
	json_t *m = NULL;
	call(&c, "GET", "/v1/metrics", NULL, &m, NULL);
	metric_ms(m, "estop_us", 0, &daemon_ms);
	printf("  %d stops in %.1f s\n", done, elapsed);
	print_stats("e-stop, daemon (queued -> driver stop)", "ms", &daemon_ms, 20);
	print_stats("e-stop, client (HTTP request -> response)", "ms", &client_ms, 20);
	long rss = bu_proc_status_kb(p.pid, "VmRSS");
	printf("  RSS after %d tests %ld kB = %.2f MB (peak %ld kB), %ld threads\n", done, rss,
	       (double)rss / 1024.0, bu_proc_status_kb(p.pid, "VmHWM"), bu_proc_status_kb(p.pid, "Threads"));
	json_decref(m);
	rc = done == stops ? 0 : -1;
	bu_live_stop(&l);
out_client:
	client_free(&c);
out:
	bu_series_free(&client_ms);
	bu_series_free(&daemon_ms);
	daemon_stop(&p, keep);
	return rc;
}

static int bench_loop(const char *bin, int tick_hz, int ticks, bool keep)
{
	struct bu_daemon p;
	double walk_s = (double)ticks / tick_hz;
	printf("control loop at %d Hz: a test walks for %d ticks (%.1f s)\n", tick_hz, ticks, walk_s);
	if (daemon_start(&p, bin, tick_hz, "loop"))
		return -1;
	int rc = -1;
	struct client c;
	struct bu_live l;
	if (client_init(&c, p.sock))
		goto out;
	if (bu_live_start(&l, p.sock))
		goto out_client;
	if (start_walking(&c, &l)) {
		fprintf(stderr, "bench_daemon: the belt did not start\n");
		goto out_live;
	}
	json_t *m0 = NULL;
	call(&c, "GET", "/v1/metrics", NULL, &m0, NULL);
	size_t from = json_array_size(json_object_get(m0, "jitter_us"));
	long overruns0 = (long)json_integer_value(json_object_get(m0, "overruns"));
	json_decref(m0);
	double c0 = bu_proc_cpu_s(p.pid), w0 = bu_mono_s();
	long rss_max = 0;
	/* The measured interval; RSS sampled once a second. */
	while (bu_mono_s() - w0 < walk_s) {
		double left = walk_s - (bu_mono_s() - w0);
		sleep_s(left < 1 ? left : 1);
		long rss = bu_proc_status_kb(p.pid, "VmRSS");
		if (rss > rss_max)
			rss_max = rss;
	}
	double c1 = bu_proc_cpu_s(p.pid), w1 = bu_mono_s();
	json_t *m = NULL, *status = NULL;
	call(&c, "GET", "/v1/metrics", NULL, &m, NULL);
	call(&c, "GET", "/v1/status", NULL, &status, NULL);
	struct bu_series jit = {0};
	metric_ms(m, "jitter_us", from, &jit);
	long overruns = (long)json_integer_value(json_object_get(m, "overruns")) - overruns0;
	const char *state = json_string_value(json_object_get(status, "state"));
	if (!state || strcmp(state, "running"))
		fprintf(stderr, "bench_daemon: the test was no longer running (state %s)\n", state ? state : "?");
	print_stats("deadline jitter (wake-up lateness)", "ms", &jit, 2);
	printf("  %zu ticks measured, %ld overruns (%lld ticks since the daemon started)\n", jit.n, overruns,
	       (long long)json_integer_value(json_object_get(m, "ticks")));
	printf("  CPU during the test %.2f %% of one core (%.2f s over %.1f s, one event-stream client)\n",
	       100.0 * (c1 - c0) / (w1 - w0), c1 - c0, w1 - w0);
	printf("  RSS during the test max %ld kB = %.2f MB, %ld threads\n", rss_max, (double)rss_max / 1024.0,
	       bu_proc_status_kb(p.pid, "Threads"));
	rc = jit.n > 0 ? 0 : -1;
	bu_series_free(&jit);
	json_decref(m);
	json_decref(status);
	call(&c, "POST", "/v1/stop", "{\"reason\":\"benchmark done\"}", NULL, NULL);
out_live:
	bu_live_stop(&l);
out_client:
	client_free(&c);
out:
	daemon_stop(&p, keep);
	return rc;
}

int main(int argc, char **argv)
{
	const char *bin = TREADLABD_BIN;
	int stops = 200, ticks = 3000;
	bool keep = false;
	int opt;
	while ((opt = getopt(argc, argv, "n:t:d:k")) != -1) {
		switch (opt) {
		case 'n': stops = atoi(optarg); break;
		case 't': ticks = atoi(optarg); break;
		case 'd': bin = optarg; break;
		case 'k': keep = true; break;
		default:
			fprintf(stderr, "usage: bench_daemon [-n STOPS] [-t TICKS (max %d)] [-d TREADLABD] [-k]\n",
				METRICS_RING - 96);
			return 2;
		}
	}
	/* The jitter ring holds 4096 ticks; leave room for the ticks before the test walks. */
	if (stops < 1 || ticks < 10 || ticks > METRICS_RING - 96) {
		fprintf(stderr, "bench_daemon: -n at least 1, -t from 10 to %d\n", METRICS_RING - 96);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	printf("bench_daemon: %s\n", bin);
	int rc = 0;
	rc |= bench_estop(bin, stops, keep);
	rc |= bench_loop(bin, 10, ticks, keep);
	rc |= bench_loop(bin, 100, ticks, keep);
	curl_global_cleanup();
	return rc ? 1 : 0;
}
