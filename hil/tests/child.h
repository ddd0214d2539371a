/* child.h - starting treadsim from a test: spawn, wait for its "ready" line, talk to its
 * control socket, stop it by pid. No sleeps: every wait is on a file descriptor. */
#ifndef TL_HIL_CHILD_H
#define TL_HIL_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct sim_proc {
	pid_t pid;
	int out_fd;          /* treadsim's stdout */
	char dir[64];        /* a private temporary directory */
	char link[128];      /* the pty symlink (RTU / Trackmaster) */
	char link2[128];     /* the button-box pty symlink */
	char ctl[128];       /* the control socket */
	char log[128];       /* the frame log */
	char tcp_addr[64];   /* "127.0.0.1:PORT" for TCP */
};

enum sim_mode { SIM_RTU, SIM_TCP, SIM_TM, SIM_TM_BOX, SIM_RTU_BOX };

/* Starts treadsim in mode with extra arguments (NULL-terminated, may be NULL) and waits
 * for "ready". Returns 0 or -1. */
int sim_start(struct sim_proc *p, enum sim_mode mode, const char *const *extra);
/* SIGTERM, then waits for the pid; returns its exit status (0 expected). */
int sim_stop(struct sim_proc *p);
/* Sends one control line and reads the one-line reply. Returns 0 or -1. */
int sim_control(struct sim_proc *p, const char *cmd, char *reply, size_t n);
/* Asks "state" until the reply contains needle or timeout_ms passes. */
bool sim_wait_state(struct sim_proc *p, const char *needle, int timeout_ms);
/* Counts lines of the frame log that contain needle. */
int sim_log_count(const struct sim_proc *p, const char *needle);
long long hil_now_ms(void);

#endif
