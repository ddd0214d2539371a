/* bench_util - what the benchmarks bench_daemon and bench_hil share: a monotonic clock,
 * sample series with nearest-rank percentiles, the /proc figures of a process, a libcurl
 * body buffer, and a treadlabd child started on a config and stopped by pid. Each
 * benchmark keeps its own printing: the lines it prints are its own. */
#ifndef TL_BENCH_UTIL_H
#define TL_BENCH_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Seconds on CLOCK_MONOTONIC (the clock of treadsim's frame log too). */
double bu_mono_s(void);

/* ---- sample series ---- */

/* Samples in the order added; zero-initialise, free with bu_series_free. */
struct bu_series {
	double *v;
	size_t n, cap;
};

/* Appends x; -1 (x dropped) if memory runs out. */
int bu_series_add(struct bu_series *s, double x);
/* The nearest-rank p-th percentile, 0 < p <= 100 (100: the largest); NAN if empty.
 * Sorts the samples. */
double bu_pct(struct bu_series *s, double p);
void bu_series_free(struct bu_series *s);

/* ---- /proc ---- */

/* utime + stime of the process, in seconds; -1 on failure. */
double bu_proc_cpu_s(pid_t pid);
/* The number of a "Key:  value kB" line of /proc/PID/status (key without the colon:
 * "VmRSS", "VmHWM", "Threads"), or -1. */
long bu_proc_status_kb(pid_t pid, const char *key);

/* ---- libcurl ---- */

/* A response body, kept NUL-terminated; zero-initialise, free p. */
struct bu_buf {
	char *p;
	size_t n;
};

/* CURLOPT_WRITEFUNCTION: appends to the struct bu_buf given as CURLOPT_WRITEDATA. */
size_t bu_collect(char *data, size_t size, size_t nmemb, void *buf);

/* ---- treadlabd ---- */

/* A treadlabd child and its files in a directory the caller owns: TAG.conf, TAG.db (with
 * its -wal and -shm), TAG.log (the daemon's stdout and stderr) and api.sock. */
struct bu_daemon {
	pid_t pid; /* 0: not running */
	char dir[64];
	char conf[160], db[160], log[160], sock[160];
};

/* Writes ini to the config, starts bin on it and waits up to 30 s for "ready" on
 * --ready-fd. Returns 0, or -1 with the reason on stderr (a daemon that did not become
 * ready is killed; its files are left for a look at the log). */
int bu_daemon_start(struct bu_daemon *d, const char *bin, const char *dir, const char *tag,
		    const char *ini);
/* SIGTERM and waits for the pid (an exit other than 0 is reported on stderr); then
 * removes the daemon's files unless keep_files. The directory stays. */
void bu_daemon_stop(struct bu_daemon *d, bool keep_files);

#endif
