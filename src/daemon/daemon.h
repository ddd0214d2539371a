/* daemon.h - treadlabd's parts and what they share.
 *
 * Three kinds of thread:
 *  - the control thread (control.c) owns the engine, the driver and the patient buttons.
 *    It runs at a fixed rate on absolute CLOCK_MONOTONIC deadlines and wakes at once
 *    when a command is queued (an eventfd) or a button box sends a byte, so neither an
 *    emergency stop nor a press waits for a tick.
 *  - the store writer (writer.c) owns the write connection to SQLite and commits what
 *    the control thread and the API hand it, in order. A command is acknowledged only
 *    after the writer committed the events it caused (a barrier in its queue); the
 *    emergency stop alone is acknowledged once the driver has it (its events follow).
 *  - the API (api_*.c, libmicrohttpd) parses requests, queues commands and reads the store
 *    through read-only connections of its own; its gate thread (api_gate.c) accepts on
 *    every listener and serves the emergency stop itself.
 * Signal handlers only set flags. */
#ifndef TL_DAEMON_H
#define TL_DAEMON_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "buttons.h"
#include "config.h"
#include "engine.h"
#include "motion.h"
#include "protocol.h"
#include "reply.h"
#include "tl_clock.h"
#include "treadmill.h"

enum tl_cmd_kind { CMD_START, CMD_ONSET, CMD_MAX, CMD_RELIEF, CMD_STOP, CMD_ESTOP, CMD_FINISH,
		   CMD_RECONNECT };

struct tl_cmd {
	enum tl_cmd_kind kind;
	char operator_id[64];
	char source[24];
	char peer[64];             /* who sent it: "uid 1000 pid 42" or "127.0.0.1:5312" */
	char text[128];            /* stop reason or relief posture */
	char patient[64];          /* start */
	struct tl_protocol protocol; /* start: loaded and checked against the treadmill */
	char *protocol_text;       /* start: the file as run (the writer frees it) */
	char *protocol_json;       /* start: the expanded protocol (the writer frees it) */
	struct tl_reply *reply;
	int64_t queued_ns;         /* CLOCK_MONOTONIC when queued, for latency figures */
	struct tl_cmd *next;
};

/* What the API shows of the live test; the control thread publishes it every tick. */
#define TL_RECENT_EVENTS 32
struct tl_status {
	uint64_t seq;              /* bumps on every publish */
	enum tl_state state;
	enum tl_end_reason end_reason;
	int64_t test_id;           /* -1: none yet (set by the writer once created) */
	char patient[64];
	char protocol[64];
	char operator_id[64];
	int64_t t_ms;              /* test time */
	int stage;
	struct tl_motion command;  /* what the guard let through */
	struct tl_feedback fb;
	char alarm[192];
	struct tl_endpoints ep;
	uint64_t events_total;     /* events published since start-up */
	struct tl_event recent[TL_RECENT_EVENTS]; /* ring: recent[(events_total-1) % N] newest */
	char store_error[512];     /* the store failure that stands, empty if none */
	bool connected;            /* the treadmill is open */
	char device_error[256];    /* why the last reconnect failed */
	char button_error[192];    /* a patient button that failed, empty while all work */
};

/* What the store writer tells the control thread (tl_daemon.news): the answer to a
 * start (the belt starts only once the test's record is committed) and the store's
 * failures, which status shows and which stop a test that cannot be recorded. */
struct tl_store_news {
	bool created;          /* the answer to a start is waiting */
	int64_t created_id;    /* the new test's id; -1: it could not be recorded */
	char created_err[256]; /* why not */
	bool error_changed;    /* store_error is new */
	char store_error[512]; /* the store failure that stands, empty once it passed */
	bool unrecorded;       /* a write of the current test's record failed: stop it */
};

/* The whole daemon. Who writes what: the control thread the engine, the devices and the
 * status (st, under st_mu); the writer only its news (under cmd_mu); the API queues
 * commands (under cmd_mu). The figures (m_mu) are the control thread's. */
struct tl_daemon {
	struct tl_config cfg;
	const char *config_path;
	struct tl_treadmill tm;
	struct tl_actuator act;
	struct tl_engine engine; /* control thread only */
	struct tl_button buttons[4]; /* patient buttons; the control thread's */
	int n_buttons;
	bool devices_open;       /* treadmill and buttons open (see devices.c) */
	char devices_err[256];   /* why the last reconnect failed, empty if it did not */

	/* real and test time (test time runs time_scale faster on a simulator) */
	struct tl_clock clock;

	/* command queue (API -> control) */
	pthread_mutex_t cmd_mu;
	int cmd_efd;           /* eventfd: written on every queued command */
	struct tl_cmd *cmd_head, *cmd_tail;
	/* The writer's news for the control thread, which alone writes status (under
	 * cmd_mu; the writer writes cmd_efd after posting). */
	struct tl_store_news news;

	/* status (control -> API) */
	pthread_mutex_t st_mu;
	pthread_cond_t st_cv;
	struct tl_status st;

	/* set by signal handlers / main; read by the threads */
	atomic_int *stop_flag;
	bool control_done;  /* the control thread has brought everything to rest */

	/* figures for the benchmark (GET /v1/metrics) */
	pthread_mutex_t m_mu;
	int64_t jitter_us[4096];
	size_t n_jitter;
	int64_t estop_us[1024];
	int64_t estop_at_ns[1024]; /* CLOCK_MONOTONIC when the driver had it, same index */
	size_t n_estop;
	uint64_t ticks, overruns;

	struct tl_writer *writer;
	struct tl_api *api;

	/* the cuff thread (cuffd.h); NULL when [cuff] names no source */
	struct tl_cuffd *cuffd;

	/* the outbox's sender (outbox.h) and what status shows of it (under ob_mu) */
	struct tl_outbox *outbox;
	pthread_mutex_t ob_mu;
	int ob_undelivered, ob_failed;
	char ob_alert[300];    /* the last message that failed, empty once none stands failed */
};

/* devices.c: the treadmill and the patient buttons of the configuration. */
int tl_devices_open(struct tl_daemon *d, struct tl_err *err);
void tl_devices_close(struct tl_daemon *d);

/* control.c */
int tl_control_start(struct tl_daemon *d, pthread_t *th);
/* Queues a command and wakes the control thread. Takes ownership of cmd. */
void tl_control_submit(struct tl_daemon *d, struct tl_cmd *cmd);

#endif
