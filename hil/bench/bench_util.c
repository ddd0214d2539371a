/* bench_util - helpers shared by bench_daemon and bench_hil (see bench_util.h). */
#define _GNU_SOURCE /* pipe2, program_invocation_short_name */
#include "bench_util.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

double bu_mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- sample series ---- */

int bu_series_add(struct bu_series *s, double x)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 256;
		double *v = realloc(s->v, cap * sizeof *v);
		if (!v)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = x;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

double bu_pct(struct bu_series *s, double p)
{
	if (!s->n)
		return NAN;
	qsort(s->v, s->n, sizeof s->v[0], cmp_double);
	size_t k = (size_t)ceil(p / 100.0 * (double)s->n);
	return s->v[k ? k - 1 : 0];
}

void bu_series_free(struct bu_series *s)
{
	free(s->v);
	*s = (struct bu_series){0};
}

/* ---- /proc ---- */

double bu_proc_cpu_s(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: fields count from the last ')'. */
	char *p = strrchr(buf, ')');
	if (!p)
		return -1;
	unsigned long long ut = 0, st = 0;
	/* after ')': state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime(14) stime(15) */
	if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

long bu_proc_status_kb(pid_t pid, const char *key)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	long v = -1;
	size_t kl = strlen(key);
	while (fgets(line, sizeof line, f))
		if (!strncmp(line, key, kl) && line[kl] == ':')
			v = strtol(line + kl + 1, NULL, 10);
	fclose(f);
	return v;
}

/* ---- libcurl ---- */

size_t bu_collect(char *data, size_t size, size_t nmemb, void *buf)
{
	struct bu_buf *b = buf;
	size_t add = size * nmemb;
	char *p = realloc(b->p, b->n + add + 1);
	if (!p)
		return 0;
	memcpy(p + b->n, data, add);
	b->p = p;
	b->n += add;
	b->p[b->n] = '\0';
	return add;
}

/* ---- treadlabd ---- */

static int fail(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, what, strerror(errno));
	return -1;
}

int bu_daemon_start(struct bu_daemon *d, const char *bin, const char *dir, const char *tag,
		    const char *ini)
{
	*d = (struct bu_daemon){0};
	snprintf(d->dir, sizeof d->dir, "%s", dir);
	snprintf(d->conf, sizeof d->conf, "%s/%s.conf", dir, tag);
	snprintf(d->db, sizeof d->db, "%s/%s.db", dir, tag);
	snprintf(d->log, sizeof d->log, "%s/%s.log", dir, tag);
	snprintf(d->sock, sizeof d->sock, "%s/api.sock", dir);
	FILE *f = fopen(d->conf, "w");
	if (!f)
		return fail("config");
	int bad = fputs(ini, f) < 0;
	if (fclose(f) || bad)
		return fail("config");
	/* The read end closes on exec; the write end is the daemon's --ready-fd only. */
	int fds[2];
	if (pipe2(fds, O_CLOEXEC))
		return fail("pipe");
	pid_t pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return fail("fork");
	}
	if (pid == 0) {
		int log = open(d->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (log >= 0) {
			dup2(log, STDERR_FILENO);
			dup2(log, STDOUT_FILENO);
		}
		fcntl(fds[1], F_SETFD, 0);
		char fd[16];
		snprintf(fd, sizeof fd, "%d", fds[1]);
		execl(bin, bin, "--config", d->conf, "--db", d->db, "--socket", d->sock, "--ready-fd", fd,
		      (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	d->pid = pid;
	/* Readiness: the daemon writes "ready\n" once it serves, or closes the pipe by dying. */
	char buf[16] = "";
	size_t got = 0;
	double until = bu_mono_s() + 30;
	while (got < 6 && bu_mono_s() < until) {
		struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
		if (poll(&pfd, 1, 1000) <= 0)
			continue;
		ssize_t n = read(fds[0], buf + got, sizeof buf - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fds[0]);
	buf[got] = '\0';
	if (strcmp(buf, "ready\n")) {
		fprintf(stderr, "%s: treadlabd did not become ready (log %s)\n", program_invocation_short_name,
			d->log);
		kill(d->pid, SIGKILL);
		while (waitpid(d->pid, NULL, 0) < 0 && errno == EINTR)
			;
		d->pid = 0;
		return -1;
	}
	return 0;
}

void bu_daemon_stop(struct bu_daemon *d, bool keep_files)
{
	if (d->pid > 0) {
		kill(d->pid, SIGTERM);
		int status = 0;
		while (waitpid(d->pid, &status, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			fprintf(stderr, "%s: treadlabd ended with status %d (log %s)\n",
				program_invocation_short_name, status, d->log);
		d->pid = 0;
	}
	if (keep_files || !d->conf[0])
		return;
	unlink(d->sock);
	unlink(d->conf);
	unlink(d->log);
	unlink(d->db);
	char p[200];
	snprintf(p, sizeof p, "%s-wal", d->db);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", d->db);
	unlink(p);
}
