/* bench_report - prints how long the report and the queries behind it take (issue 12).
 * Not a test: it asserts nothing.
 *
 * 1. tl_report_pdf on tests/data/report/typical.json, in process: p50/p99 of N renderings
 *    (goal: under 100 ms).
 * 2. A store of 100,000 tests (bench_report_db.py, direct SQL into a store treadlabd
 *    created), served by treadlabd: the wall time of `treadlab list --patient`,
 *    `treadlab show`, `treadlab report` and `treadlab export --csv` (goal: list --patient
 *    and show under 20 ms), each a whole command line run, process start included; then
 *    the same requests straight to the API (libcurl in process), the daemon's share.
 * Usage: bench_report [-n RENDERINGS] [-t TESTS] [-r RUNS] */
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"
#include "report.h"

static void print_series(const char *what, struct bu_series *s, const char *goal)
{
	double p50 = bu_pct(s, 50), p99 = bu_pct(s, 99), max = bu_pct(s, 100);
	printf("%-34s n=%-4zu p50 %8.2f ms  p99 %8.2f ms  max %8.2f ms%s%s\n", what, s->n, p50, p99,
	       max, goal ? "  goal " : "", goal ? goal : "");
}

static int render_bench(int n)
{
	json_error_t e;
	json_t *cs = json_load_file(TL_REPORT_CASE, 0, &e);
	if (!cs) {
		fprintf(stderr, "bench_report: %s: %s\n", TL_REPORT_CASE, e.text);
		return -1;
	}
	struct tl_report_opts o = {.lab_name = "Vascular Laboratory", .patient_page = true,
				   .patient_guidance = "Walk every day."};
	struct bu_series s = {0};
	size_t bytes = 0;
	for (int i = 0; i < n + 3; i++) {
		unsigned char *pdf;
		size_t len;
		struct tl_err err;
		double t0 = bu_mono_s();
		if (tl_report_pdf(json_object_get(cs, "record"), json_object_get(cs, "samples"),
				  json_object_get(cs, "earlier"), &o, NULL, &pdf, &len, &err) < 0) {
			fprintf(stderr, "bench_report: %s\n", err.msg);
			json_decref(cs);
			return -1;
		}
		double ms = (bu_mono_s() - t0) * 1e3;
		free(pdf);
		bytes = len;
		if (i >= 3) /* the first ones load fonts */
			bu_series_add(&s, ms);
	}
	print_series("report rendering (in process)", &s, "< 100 ms");
	printf("%-34s %zu bytes\n", "report size", bytes);
	bu_series_free(&s);
	json_decref(cs);
	return 0;
}

/* Runs the command line with args (stdout to /dev/null) runs times; adds each wall time. */
static int time_cli(const char *sock, const char *const *args, int runs, struct bu_series *s)
{
	for (int r = 0; r < runs; r++) {
		fflush(stdout); /* or the child prints our buffer again */
		double t0 = bu_mono_s();
		pid_t pid = fork();
		if (pid < 0)
			return -1;
		if (pid == 0) {
			if (!freopen("/dev/null", "w", stdout))
				_exit(127);
			setenv("TREADLAB_SOCKET", sock, 1);
			execv(TREADLAB_BIN, (char *const *)args);
			_exit(127);
		}
		int st;
		if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
			fprintf(stderr, "bench_report: %s %s failed\n", args[0], args[1]);
			return -1;
		}
		bu_series_add(s, (bu_mono_s() - t0) * 1e3);
	}
	return 0;
}

/* GETs path from the daemon over its socket runs times, in process: the daemon's answer
 * without a command line's start. */
static int time_api(const char *sock, const char *path, int runs, struct bu_series *s)
{
	char url[256];
	snprintf(url, sizeof url, "http://treadlabd%s", path);
	for (int r = 0; r < runs; r++) {
		CURL *h = curl_easy_init();
		if (!h)
			return -1;
		struct bu_buf b = {0};
		curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, sock);
		curl_easy_setopt(h, CURLOPT_URL, url);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, bu_collect);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
		double t0 = bu_mono_s();
		CURLcode rc = curl_easy_perform(h);
		double ms = (bu_mono_s() - t0) * 1e3;
		long status = 0;
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_cleanup(h);
		free(b.p);
		if (rc != CURLE_OK || status != 200) {
			fprintf(stderr, "bench_report: GET %s: %s, HTTP %ld\n", path,
				curl_easy_strerror(rc), status);
			return -1;
		}
		bu_series_add(s, ms);
	}
	return 0;
}

int main(int argc, char **argv)
{
	int n = 50, tests = 100000, runs = 20, opt;
	while ((opt = getopt(argc, argv, "n:t:r:")) != -1) {
		if (opt == 'n')
			n = atoi(optarg);
		else if (opt == 't')
			tests = atoi(optarg);
		else if (opt == 'r')
			runs = atoi(optarg);
		else {
			fprintf(stderr, "usage: bench_report [-n RENDERINGS] [-t TESTS] [-r RUNS]\n");
			return 2;
		}
	}
	if (n < 1 || tests < 5 || runs < 1) {
		fprintf(stderr, "bench_report: -n >= 1, -t >= 5, -r >= 1\n");
		return 2;
	}
	if (render_bench(n) < 0)
		return 1;

	char dir[] = "/tmp/bench_report.XXXXXX";
	if (!mkdtemp(dir)) {
		perror("bench_report: mkdtemp");
		return 1;
	}
	const char *ini = "[daemon]\ntick_hz = 10\n";
	struct bu_daemon d = {0};
	if (bu_daemon_start(&d, TREADLABD_BIN, dir, "big", ini) < 0)
		return 1;
	bu_daemon_stop(&d, true); /* the store is created and migrated: fill it */
	char cmd[1024], ntests[16];
	snprintf(ntests, sizeof ntests, "%d", tests);
	snprintf(cmd, sizeof cmd, "python3 '%s' '%s' %d '%s'", TL_REPORT_DB_SCRIPT, d.db, tests,
		 TL_REPORT_CASE);
	double t0 = bu_mono_s();
	if (system(cmd) != 0) {
		fprintf(stderr, "bench_report: %s failed\n", cmd);
		return 1;
	}
	printf("%-34s %.1f s\n", "generating the store", bu_mono_s() - t0);
	if (bu_daemon_start(&d, TREADLABD_BIN, dir, "big", ini) < 0)
		return 1;
	char last[32], mid_patient[32];
	snprintf(last, sizeof last, "%d", tests);
	snprintf(mid_patient, sizeof mid_patient, "MRN-%06d", (tests + 4) / 5 / 2);
	const char *list_patient[] = {TREADLAB_BIN, "list", "--patient", mid_patient, NULL};
	const char *show[] = {TREADLAB_BIN, "show", last, "--json", NULL};
	const char *report[] = {TREADLAB_BIN, "report", last, NULL};
	const char *export_day[] = {TREADLAB_BIN, "export", "--csv", "--from", "2026-01-02",
				    "--to", "2026-01-02", NULL};
	const char *export_all[] = {TREADLAB_BIN, "export", "--csv", NULL};
	const char *list_all[] = {TREADLAB_BIN, "list", NULL};
	struct {
		const char *what;
		const char *const *args;
		int runs;
		const char *goal;
	} cases[] = {
		{"treadlab list --patient", list_patient, runs, "< 20 ms"},
		{"treadlab show ID", show, runs, "< 20 ms"},
		{"treadlab report ID (rendered)", report, runs, "< 100 ms"},
		{"treadlab export --csv (one day)", export_day, runs, NULL},
		{"treadlab list (every test)", list_all, 3, NULL},
		{"treadlab export --csv (every test)", export_all, 3, NULL},
	};
	printf("store: %s tests, treadlabd on %s\n", ntests, d.db);
	int rc = 0;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct bu_series s = {0};
		if (time_cli(d.sock, cases[i].args, cases[i].runs, &s) < 0)
			rc = 1;
		else
			print_series(cases[i].what, &s, cases[i].goal);
		bu_series_free(&s);
	}
	char p_list[64], p_show[64], p_report[64];
	snprintf(p_list, sizeof p_list, "/v1/tests?patient=%s", mid_patient);
	snprintf(p_show, sizeof p_show, "/v1/tests/%s", last);
	snprintf(p_report, sizeof p_report, "/v1/tests/%s/report.pdf", last);
	struct {
		const char *what, *path, *goal;
	} api_cases[] = {
		{"API GET /v1/tests?patient=", p_list, "< 20 ms"},
		{"API GET /v1/tests/ID", p_show, "< 20 ms"},
		{"API GET /v1/tests/ID/report.pdf", p_report, "< 100 ms"},
	};
	for (size_t i = 0; i < sizeof api_cases / sizeof api_cases[0]; i++) {
		struct bu_series s = {0};
		if (time_api(d.sock, api_cases[i].path, runs, &s) < 0)
			rc = 1;
		else
			print_series(api_cases[i].what, &s, api_cases[i].goal);
		bu_series_free(&s);
	}
	bu_daemon_stop(&d, false);
	rmdir(dir);
	return rc;
}
