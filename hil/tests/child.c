/* child.c - see child.h. */
#define _GNU_SOURCE /* pipe2 */
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

long long hil_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads one line from fd within timeout_ms. */
static int read_line(int fd, char *buf, size_t n, int timeout_ms)
{
	size_t len = 0;
	long long deadline = hil_now_ms() + timeout_ms;
	while (len + 1 < n) {
		long long left = deadline - hil_now_ms();
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			return -1;
		ssize_t r = read(fd, buf + len, 1);
		if (r <= 0)
			return -1;
		if (buf[len] == '\n') {
			buf[len] = '\0';
			return 0;
		}
		len++;
	}
	return -1;
}

int sim_start(struct sim_proc *p, enum sim_mode mode, const char *const *extra)
{
	*p = (struct sim_proc){.pid = -1, .out_fd = -1};
	snprintf(p->dir, sizeof p->dir, "/tmp/treadsim-test-XXXXXX");
	if (!mkdtemp(p->dir))
		return -1;
	snprintf(p->link, sizeof p->link, "%s/tty", p->dir);
	snprintf(p->link2, sizeof p->link2, "%s/box", p->dir);
	snprintf(p->ctl, sizeof p->ctl, "%s/ctl", p->dir);
	snprintf(p->log, sizeof p->log, "%s/log", p->dir);
	char port_file[160];
	snprintf(port_file, sizeof port_file, "%s/port", p->dir);
	const char *argv[48];
	int n = 0;
	argv[n++] = TREADSIM_BIN;
	switch (mode) {
	case SIM_RTU_BOX:
		argv[n++] = "--button-box";
		argv[n++] = p->link2;
		/* fall through */
	case SIM_RTU:
		argv[n++] = "--modbus-rtu";
		argv[n++] = p->link;
		break;
	case SIM_TCP:
		argv[n++] = "--modbus-tcp";
		argv[n++] = "127.0.0.1:0";
		argv[n++] = "--tcp-port-file";
		argv[n++] = port_file;
		break;
	case SIM_TM_BOX:
		argv[n++] = "--button-box";
		argv[n++] = p->link2;
		/* fall through */
	case SIM_TM:
		argv[n++] = "--trackmaster";
		argv[n++] = p->link;
		break;
	}
	argv[n++] = "--control";
	argv[n++] = p->ctl;
	argv[n++] = "--log";
	argv[n++] = p->log;
	for (int i = 0; extra && extra[i] && n < 46; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC))
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(pipefd[1], STDOUT_FILENO);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(pipefd[1]);
	p->pid = pid;
	p->out_fd = pipefd[0];
	char line[64];
	if (read_line(p->out_fd, line, sizeof line, 10000) || strcmp(line, "ready")) {
		sim_stop(p);
		return -1;
	}
	if (mode == SIM_TCP) {
		FILE *f = fopen(port_file, "r");
		unsigned port = 0;
		if (!f || fscanf(f, "%u", &port) != 1) {
			if (f)
				fclose(f);
			sim_stop(p);
			return -1;
		}
		fclose(f);
		snprintf(p->tcp_addr, sizeof p->tcp_addr, "127.0.0.1:%u", port);
	}
	return 0;
}

static void remove_dir(const char *dir)
{
	const char *names[] = {"tty", "box", "ctl", "log", "port"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		char path[160];
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

int sim_stop(struct sim_proc *p)
{
	int status = -1;
	if (p->pid > 0) {
		kill(p->pid, SIGTERM);
		int st;
		while (waitpid(p->pid, &st, 0) < 0 && errno == EINTR)
			;
		status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		p->pid = -1;
	}
	if (p->out_fd >= 0)
		close(p->out_fd);
	p->out_fd = -1;
	if (p->dir[0])
		remove_dir(p->dir);
	return status;
}

int sim_control(struct sim_proc *p, const char *cmd, char *reply, size_t n)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(p->ctl) >= sizeof sa.sun_path) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	memcpy(sa.sun_path, p->ctl, strlen(p->ctl) + 1);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	char line[128];
	snprintf(line, sizeof line, "%s\n", cmd);
	int rc = -1;
	if (write(fd, line, strlen(line)) == (ssize_t)strlen(line))
		rc = read_line(fd, reply, n, 5000);
	close(fd);
	return rc == 0 && !strncmp(reply, "ok", 2) ? 0 : -1;
}

bool sim_wait_state(struct sim_proc *p, const char *needle, int timeout_ms)
{
	long long deadline = hil_now_ms() + timeout_ms;
	char reply[400];
	do {
		if (sim_control(p, "state", reply, sizeof reply) == 0 && strstr(reply, needle))
			return true;
	} while (hil_now_ms() < deadline);
	return false;
}

int sim_log_count(const struct sim_proc *p, const char *needle)
{
	FILE *f = fopen(p->log, "r");
	if (!f)
		return -1;
	char line[2048];
	int n = 0;
	while (fgets(line, sizeof line, f))
		if (strstr(line, needle))
			n++;
	fclose(f);
	return n;
}
