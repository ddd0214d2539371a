/* control.c - the control thread: the only thread that moves the belt.
 *
 * It runs the control sequence (src/control/tick.h, shared with the dry run) on absolute
 * CLOCK_MONOTONIC deadlines: each tick polls the driver, serves emergency stops that came
 * meanwhile, takes the patient buttons' presses, advances the engine, hands the guard's
 * motion to the driver; this file adds what only the daemon has: the command queue, the
 * store (events, samples, endpoints through the writer) and the status it publishes.
 * Between ticks it also wakes
 *  - at a stage boundary, so the new target goes out on time;
 *  - when a button box sends a byte (its descriptor is waited on with the command
 *    eventfd and the tick's timerfd), so that press is recorded at once;
 *  - while the patient walks, every [buttons] poll_ms to sample the buttons that cannot
 *    be waited on (modem lines, the Modbus register), so a press does not wait for the
 *    next tick. A sample already on the wire when the tick falls due delays the tick by
 *    that one transaction; skipping it would leave the button unread for longer.
 * Commands wake the thread at once; an emergency stop reaches the driver before anything
 * is written. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <syslog.h>
#include <sys/timerfd.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "cuffd.h"
#include "daemon.h"
#include "store.h"
#include "tick.h"
#include "tl_str.h"
#include "writer.h"
#include "tl_log.h"

#define SAMPLE_BATCH 10          /* samples per store transaction (1 s at 10 Hz) */
#define SHUTDOWN_WAIT_MS 30000   /* how long SIGTERM waits for the belt to stop */

struct control {
	struct tl_daemon *d;
	struct tl_tick t;             /* the control sequence (src/control/tick.h) */
	char operator_id[64];      /* who started the current test */
	struct tl_store_sample samples[SAMPLE_BATCH];
	size_t n_samples;
	int tfd;                      /* timerfd: the next deadline, boundary or sample */
	uint64_t reopened;            /* counts reconnects: the buttons are other ones after */
	struct tl_cmd *starting;      /* a start waiting for its record to be committed */
	bool start_cancelled;         /* an emergency stop came meanwhile */
	struct tl_engine trial;       /* a copy of the engine to try a start on */
	/* the writer's news, taken (take_news) */
	bool created;                 /* the answer to the waiting start */
	int64_t created_id;
	char created_err[256];
	bool unrecorded;              /* the current test's record failed: stop it */
	char store_error[512];        /* the store failure that stands */
};

/* Takes the writer's news and puts what status shows into it: the control thread is
 * status's one writer. */
static void take_news(struct control *c)
{
	struct tl_daemon *d = c->d;
	pthread_mutex_lock(&d->cmd_mu);
	struct tl_store_news n = d->news;
	d->news.created = d->news.error_changed = d->news.unrecorded = false;
	pthread_mutex_unlock(&d->cmd_mu);
	if (n.created) {
		c->created = true;
		c->created_id = n.created_id;
		tl_strcpy(c->created_err, sizeof c->created_err, n.created_err);
	}
	c->unrecorded = c->unrecorded || n.unrecorded;
	if (!n.error_changed && !n.created)
		return;
	if (n.error_changed)
		tl_strcpy(c->store_error, sizeof c->store_error, n.store_error);
	pthread_mutex_lock(&d->st_mu);
	if (n.created)
		d->st.test_id = n.created_id;
	if (n.error_changed)
		tl_strcpy(d->st.store_error, sizeof d->st.store_error, n.store_error);
	pthread_mutex_unlock(&d->st_mu);
}

/* Endpoint times are reported to 0.1 s (docs/clinical.md, Walking endpoints); NAN when not reached. */
static double nan_if_neg(int64_t ms)
{
	return ms < 0 ? NAN : round((double)ms / 100.0) / 10.0;
}

static void queue_endpoints(struct control *c)
{
	const struct tl_session *s = &c->d->engine.session;
	const struct tl_endpoints *ep = &s->ep;
	struct tl_store_endpoints e = {
		.cot_s = nan_if_neg(ep->cot_ms),
		.pwt_s = nan_if_neg(ep->pwt_ms),
		.icd_m = ep->cot_ms < 0 ? NAN : round(ep->icd_m * 10) / 10,
		.acd_m = ep->pwt_ms < 0 ? NAN : round(ep->acd_m * 10) / 10,
		.walking_time_s = nan_if_neg(tl_endpoints_walking_ms(ep, s->now_ms)),
		.distance_m = round(ep->distance_m * 10) / 10,
		.recovery_s = nan_if_neg(ep->recovery_ms),
	};
	tl_writer_endpoints(c->d->writer, &e);
}

static void flush_samples(struct control *c)
{
	tl_writer_samples(c->d->writer, c->samples, c->n_samples);
	c->n_samples = 0;
	queue_endpoints(c);
}

/* ---- the sequence's hooks: what the daemon does at its points ---- */

static void on_event(void *ctx, const struct tl_event *ev, const char *operator_id)
{
	struct control *c = ctx;
	struct tl_daemon *d = c->d;
	TL_DEBUG("event %s at %.1f s (%s) %s", tl_event_kind_name(ev->kind),
		 (double)ev->t_ms / 1e3, ev->source, ev->detail);
	tl_writer_event(d->writer, ev, operator_id);
	pthread_mutex_lock(&d->st_mu);
	d->st.recent[d->st.events_total % TL_RECENT_EVENTS] = *ev;
	d->st.events_total++;
	pthread_mutex_unlock(&d->st_mu);
}

/* The technician's foot switch: the cuff thread's (cuffd.h), in real time. */
static void on_foot(void *ctx, int64_t real_ms, const char *source)
{
	struct control *c = ctx;
	if (c->d->cuffd)
		tl_cuffd_foot(c->d->cuffd, real_ms, source);
	else
		TL_INFO("%s: foot switch ignored: no cuff is configured ([cuff] source)", source);
}

static void on_state(void *ctx, enum tl_state from, enum tl_state to)
{
	struct control *c = ctx;
	struct tl_daemon *d = c->d;
	const struct tl_session *s = &d->engine.session;
	(void)from;
	TL_DEBUG("state %s -> %s", tl_state_name(from), tl_state_name(to));
	char ended[32] = "";
	if (tl_state_terminal(to))
		tl_utc_now(ended);
	tl_writer_state(d->writer, tl_state_name(to),
			s->end_reason != TL_END_NONE ? tl_end_reason_name(s->end_reason) : NULL,
			ended[0] ? ended : NULL);
	if (tl_state_terminal(to)) {
		flush_samples(c);
		tl_writer_recompute(d->writer, -1);
	}
}

static void on_drained(void *ctx)
{
	queue_endpoints(ctx);
}

static void on_publish(void *ctx, int64_t now, const struct tl_motion *m)
{
	struct control *c = ctx;
	struct tl_daemon *d = c->d;
	const struct tl_engine *e = &d->engine;
	pthread_mutex_lock(&d->st_mu);
	d->st.seq++;
	d->st.state = e->session.state;
	d->st.end_reason = e->session.end_reason;
	d->st.t_ms = tl_session_test_ms(&e->session, now);
	d->st.stage = e->session.stage;
	d->st.command = *m;
	d->st.fb = e->last_fb;
	snprintf(d->st.alarm, sizeof d->st.alarm, "%s", e->alarm_detail);
	d->st.ep = e->session.ep;
	d->st.connected = d->devices_open && !c->t.link_lost;
	tl_strcpy(d->st.device_error, sizeof d->st.device_error, d->devices_err);
	tl_strcpy(d->st.button_error, sizeof d->st.button_error, tl_tick_button_error(&c->t));
	pthread_cond_broadcast(&d->st_cv);
	pthread_mutex_unlock(&d->st_mu);
}

static void on_sample(void *ctx, const struct tl_tick_sample *smp)
{
	struct control *c = ctx;
	c->samples[c->n_samples++] = (struct tl_store_sample){
		.t_ms = smp->t_ms,
		.target_speed_kmh = smp->target_speed_kmh,
		.target_grade_pct = smp->target_grade_pct,
		.actual_speed_kmh = smp->actual_speed_kmh,
		.actual_grade_pct = smp->actual_grade_pct,
		.distance_m = smp->distance_m,
	};
	if (c->n_samples == SAMPLE_BATCH)
		flush_samples(c);
}

static void on_log(void *ctx, int priority, const char *msg)
{
	(void)ctx;
	syslog(priority, "%s", msg);
}

static void service_estops(void *ctx);
static bool estop_waiting(void *ctx);
static void stop_if_unrecorded(void *ctx, int64_t now);

static const struct tl_tick_hooks daemon_hooks = {
	.serve_estops = service_estops,
	.estop_waiting = estop_waiting,
	.before_engine = stop_if_unrecorded,
	.event = on_event,
	.state_changed = on_state,
	.drained = on_drained,
	.publish = on_publish,
	.sample = on_sample,
	.log = on_log,
	.foot = on_foot,
};

/* Hands new events to the store and the status ring; records state changes. */
static void drain(struct control *c, const char *operator_id)
{
	tl_tick_drain(&c->t, operator_id);
}

static void publish(struct control *c, int64_t now)
{
	tl_tick_publish(&c->t, now);
}

/* Asked by the actuator between two driver commands (a speed write and a grade write
 * are a transaction each on the wire): is an emergency stop waiting in the queue? */
static bool estop_waiting(void *ctx)
{
	struct control *c = ctx;
	struct tl_daemon *d = c->d;
	bool waiting = false;
	pthread_mutex_lock(&d->cmd_mu);
	for (const struct tl_cmd *cmd = d->cmd_head; cmd && !waiting; cmd = cmd->next)
		waiting = cmd->kind == CMD_ESTOP;
	pthread_mutex_unlock(&d->cmd_mu);
	return waiting;
}

static void metric(struct tl_daemon *d, int64_t *arr, size_t *n, size_t cap, int64_t v)
{
	pthread_mutex_lock(&d->m_mu);
	arr[*n % cap] = v;
	(*n)++;
	pthread_mutex_unlock(&d->m_mu);
}

static int http_for(int rc)
{
	return rc ? 409 : 200;
}

/* Whether a start can go ahead: the same checks the engine makes when it starts, tried
 * on a copy of it, so that a start the treadmill refuses leaves no record behind. */
static int start_checks(struct control *c, const struct tl_cmd *cmd, int64_t now,
			struct tl_err *err)
{
	struct tl_daemon *d = c->d;
	if (!d->devices_open) {
		tl_err_set(err, "start: the treadmill is not connected (%s); fix it and reconnect",
			   d->devices_err);
		return -1;
	}
	if (c->starting) {
		tl_err_set(err, "start: another start is waiting for its record to be written");
		return -1;
	}
	struct tl_feedback fb;
	bool read = d->tm.ops->poll(&d->tm, tl_clock_real_ms(&d->clock), &fb) == 0;
	c->trial = d->engine;
	return tl_engine_start(&c->trial, now, &cmd->protocol, read ? &fb : NULL, cmd->source, err);
}

/* The test's record first: the belt starts only once the writer has committed it. */
static void begin_start(struct control *c, struct tl_cmd *cmd)
{
	struct tl_daemon *d = c->d;
	c->starting = cmd;
	c->start_cancelled = false;
	char started[32];
	tl_utc_now(started);
	tl_writer_create(d->writer, cmd->patient, cmd->protocol.name, cmd->protocol_text,
			 cmd->protocol_json, cmd->operator_id, started, d->cfg.time_scale);
	cmd->protocol_text = cmd->protocol_json = NULL;
}

static void finish_command(struct control *c, struct tl_cmd *cmd, const char *name,
			   int status, const char *msg);

/* The writer's answer to a waiting start: start the belt on a recorded test, or say why
 * not. A record made for a start that then did not happen is closed as aborted. */
static void start_when_recorded(struct control *c)
{
	struct tl_daemon *d = c->d;
	bool created = c->created;
	int64_t id = c->created_id;
	const char *why = c->created_err;
	c->created = false;
	struct tl_cmd *cmd = c->starting;
	if (!created || !cmd)
		return;
	c->starting = NULL;
	struct tl_engine *e = &d->engine;
	int64_t now = tl_clock_test_ms(&d->clock);
	struct tl_err err = {{0}};
	char ended[32];
	tl_utc_now(ended);
	int status = 201;
	if (id < 0) {
		tl_err_set(&err, "start: the test could not be recorded, so the belt was not "
			   "started: %s", why);
		status = 503;
	} else if (c->start_cancelled) {
		tl_err_set(&err, "start: cancelled by an emergency stop before the belt started");
		tl_writer_state(d->writer, "aborted", "emergency_stop", ended);
		status = 409;
	} else {
		struct tl_feedback fb;
		bool read = d->tm.ops->poll(&d->tm, tl_clock_real_ms(&d->clock), &fb) == 0;
		if (tl_engine_start(e, now, &cmd->protocol, read ? &fb : NULL, cmd->source, &err)) {
			tl_writer_state(d->writer, "aborted", "not_started", ended);
			status = 409;
		}
	}
	if (status == 201) {
		snprintf(c->operator_id, sizeof c->operator_id, "%s", cmd->operator_id);
		pthread_mutex_lock(&d->st_mu);
		snprintf(d->st.patient, sizeof d->st.patient, "%s", cmd->patient);
		snprintf(d->st.protocol, sizeof d->st.protocol, "%s", cmd->protocol.name);
		snprintf(d->st.operator_id, sizeof d->st.operator_id, "%s", cmd->operator_id);
		d->st.store_error[0] = '\0';
		pthread_mutex_unlock(&d->st_mu);
		c->unrecorded = false;
		c->store_error[0] = '\0';
		c->n_samples = 0;
		c->t.last_state = TL_STATE_IDLE; /* the row is "starting": drain records "running" */
	}
	drain(c, cmd->operator_id);
	publish(c, now);
	finish_command(c, cmd, "start", status, err.msg);
	/* The belt starts now, through the guard as at a stage boundary, not at the next
	 * tick: test time 0 is when the operator's start took effect. The answer (queued
	 * above) does not wait for these writes on the wire. */
	if (status == 201)
		tl_tick_step(&c->t);
}

static void handle(struct control *c, struct tl_cmd *cmd)
{
	struct tl_daemon *d = c->d;
	struct tl_engine *e = &d->engine;
	int64_t now = tl_clock_test_ms(&d->clock);
	struct tl_err err = {{0}};
	int status = 200;
	const char *name = "?";
	switch (cmd->kind) {
	case CMD_ESTOP: {
		name = "estop";
		c->start_cancelled = c->starting != NULL; /* a belt not yet started stays so */
		tl_tick_estop(&c->t, cmd->source);
		int64_t done = tl_mono_ns();
		tl_cuffd_abort(d->cuffd, "emergency stop"); /* after the belt: never before it */
		pthread_mutex_lock(&d->m_mu);
		d->estop_at_ns[d->n_estop % 1024] = done; /* the same slot as the next estop_us */
		pthread_mutex_unlock(&d->m_mu);
		metric(d, d->estop_us, &d->n_estop, sizeof d->estop_us / sizeof d->estop_us[0],
		       (done - cmd->queued_ns) / 1000);
		break; /* published below with every command, after its events */
	}
	case CMD_RECONNECT: {
		name = "reconnect";
		if (tl_session_active(&e->session)) {
			tl_err_set(&err, "reconnect: a test is in progress (state %s); stop it first",
				   tl_state_name(e->session.state));
			status = 409;
			break;
		}
		/* Close and reopen: the driver checks the device again (watchdog, belt at rest)
		 * and forgets the stop it latched. Nothing moves until an operator starts. */
		c->reopened++; /* the buttons are closed now, and maybe not open again */
		tl_devices_close(d);
		struct tl_err why = {{0}};
		int opened = tl_devices_open(d, &why);
		c->t.n_buttons = d->n_buttons;
		if (opened) {
			tl_strcpy(d->devices_err, sizeof d->devices_err, why.msg);
			tl_err_set(&err, "reconnect: %s", why.msg);
			status = 503;
			break;
		}
		d->devices_err[0] = '\0';
		tl_tick_devices_reopened(&c->t);
		tl_actuator_init(&d->act, &d->tm);
		struct tl_feedback fb;
		if (d->tm.ops->poll(&d->tm, tl_clock_real_ms(&d->clock), &fb) == 0)
			e->last_fb = fb;
		syslog(LOG_NOTICE, "treadmill reconnected by %s", cmd->operator_id);
		break;
	}
	case CMD_START:
		name = "start";
		if (start_checks(c, cmd, now, &err)) {
			status = 409;
			break;
		}
		begin_start(c, cmd);
		return; /* answered once its record is committed: start_when_recorded */
	case CMD_ONSET:
		name = "onset";
		status = http_for(tl_engine_onset(e, now, cmd->source, &err));
		break;
	case CMD_MAX:
		name = "max";
		status = http_for(tl_engine_max(e, now, cmd->source, &err));
		break;
	case CMD_RELIEF:
		name = "relief";
		status = http_for(tl_engine_relief(e, now, cmd->text, cmd->source, &err));
		break;
	case CMD_STOP:
		name = "stop";
		status = http_for(tl_engine_stop(e, now, cmd->text, cmd->source, &err));
		break;
	case CMD_FINISH:
		name = "finish";
		status = http_for(tl_engine_finish(e, now, cmd->source, &err));
		break;
	}
	drain(c, cmd->operator_id);
	publish(c, now);
	finish_command(c, cmd, name, status, err.msg);
}

/* Audits a command and answers it once what it caused is committed; frees it. The
 * emergency stop is answered at once, once the driver has it and the status shows it:
 * its record is queued above and written all the same, but the answer does not wait for
 * the store (a failure to record it shows in status as store_error). */
static void finish_command(struct control *c, struct tl_cmd *cmd, const char *name,
			   int status, const char *msg)
{
	struct tl_daemon *d = c->d;
	if (cmd->kind == CMD_ESTOP && cmd->reply) {
		tl_reply_complete(cmd->reply, status, "", -1);
		cmd->reply = NULL;
	}
	char detail[256];
	snprintf(detail, sizeof detail, "{\"source\":\"%s\"}", cmd->source);
	tl_writer_audit_by(d->writer, cmd->operator_id, cmd->peer[0] ? cmd->peer : NULL, name,
			   detail, status < 300 ? "ok" : "refused");
	if (cmd->reply)
		tl_writer_barrier(d->writer, cmd->reply, status, status < 300 ? "" : msg);
	free(cmd->protocol_text);
	free(cmd->protocol_json);
	free(cmd);
}


/* A test whose record cannot be written is brought to a controlled stop, never walked
 * unrecorded; the record gets the stop, with its own end reason, once the store takes
 * writes again. The operator sees why in status and in the answer to any command. */
static void stop_if_unrecorded(void *ctx, int64_t now)
{
	struct control *c = ctx;
	struct tl_daemon *d = c->d;
	take_news(c);
	bool unrecorded = c->unrecorded;
	c->unrecorded = false;
	char why[sizeof c->store_error];
	tl_strcpy(why, sizeof why, c->store_error);
	struct tl_engine *e = &d->engine;
	if (!unrecorded || (e->session.state != TL_STATE_RUNNING && e->session.state != TL_STATE_RESTING))
		return;
	syslog(LOG_ERR, "stopping the test: its record cannot be written: %s", why);
	struct tl_err err;
	/* The store's own words, without the note on held writes that status adds. */
	char *note = strstr(why, " (the record cannot be written;");
	if (note)
		*note = '\0';
	if (tl_session_store_failure(&e->session, now, why, &err) == 0)
		tl_guard_disarm(&e->guard, now);
}

static struct timespec ts_of(int64_t ns)
{
	return (struct timespec){.tv_sec = ns / 1000000000LL, .tv_nsec = ns % 1000000000LL};
}

/* Takes the queued commands (only emergency stops when estops_only) off the queue. */
static struct tl_cmd *take_commands(struct tl_daemon *d, bool estops_only)
{
	pthread_mutex_lock(&d->cmd_mu);
	struct tl_cmd *taken = NULL, **tail = &taken;
	for (struct tl_cmd **pp = &d->cmd_head; *pp;) {
		struct tl_cmd *cmd = *pp;
		if (estops_only && cmd->kind != CMD_ESTOP) {
			pp = &cmd->next;
			continue;
		}
		*pp = cmd->next;
		cmd->next = NULL;
		*tail = cmd;
		tail = &cmd->next;
	}
	d->cmd_tail = NULL;
	for (struct tl_cmd *cmd = d->cmd_head; cmd; cmd = cmd->next)
		d->cmd_tail = cmd;
	pthread_mutex_unlock(&d->cmd_mu);
	return taken;
}

/* Emergency stops first, whatever was queued before them; then the rest in order. */
static void run_commands(struct control *c, struct tl_cmd *cmds)
{
	for (struct tl_cmd **pp = &cmds; *pp;) {
		struct tl_cmd *cmd = *pp;
		if (cmd->kind == CMD_ESTOP) {
			*pp = cmd->next;
			handle(c, cmd);
		} else {
			pp = &cmd->next;
		}
	}
	while (cmds) {
		struct tl_cmd *next = cmds->next;
		handle(c, cmds);
		cmds = next;
	}
}

/* Between the slow parts of a tick (driver I/O), an emergency stop that arrived
 * meanwhile is carried out at once instead of at the end of the tick. */
static void service_estops(void *ctx)
{
	struct control *c = ctx;
	run_commands(c, take_commands(c->d, true));
}

static bool commands_queued(struct tl_daemon *d)
{
	pthread_mutex_lock(&d->cmd_mu);
	const struct tl_store_news *n = &d->news;
	bool any = d->cmd_head != NULL || n->created || n->error_changed || n->unrecorded;
	pthread_mutex_unlock(&d->cmd_mu);
	return any;
}

static void drain_fd(int fd)
{
	uint64_t v;
	while (read(fd, &v, sizeof v) == (ssize_t)sizeof v)
		;
}

/* Waits until CLOCK_MONOTONIC `wake`, a queued command, or a button box with input.
 * Marks the boxes to read in ready[] (and those that hung up, a USB adapter pulled out,
 * in hup[]) and returns true if there is one. */
static bool wait_until(struct control *c, int64_t wake, bool ready[4], bool hup[4])
{
	struct tl_daemon *d = c->d;
	struct itimerspec its = {.it_value = ts_of(wake)};
	timerfd_settime(c->tfd, TFD_TIMER_ABSTIME, &its, NULL);
	struct pollfd p[2 + 4];
	int who[2 + 4];
	int n = 0;
	p[n++] = (struct pollfd){.fd = d->cmd_efd, .events = POLLIN};
	p[n++] = (struct pollfd){.fd = c->tfd, .events = POLLIN};
	for (int i = 0; d->devices_open && i < d->n_buttons; i++) {
		int fd = tl_button_fd(&d->buttons[i]);
		if (fd >= 0 && !c->t.button_gone[i]) {
			who[n] = i;
			p[n++] = (struct pollfd){.fd = fd, .events = POLLIN};
		}
	}
	bool any = false;
	while (!any && !commands_queued(d) && tl_mono_ns() < wake) {
		if (poll(p, (nfds_t)n, -1) < 0)
			continue; /* EINTR */
		if (p[0].revents)
			drain_fd(d->cmd_efd);
		if (p[1].revents)
			drain_fd(c->tfd);
		for (int k = 2; k < n; k++) {
			if (!p[k].revents)
				continue;
			ready[who[k]] = any = true;
			if (p[k].revents & (POLLHUP | POLLERR | POLLNVAL))
				hup[who[k]] = true;
		}
	}
	return any;
}

static void *control_main(void *arg)
{
	struct control *c = arg;
	struct tl_daemon *d = c->d;
	int64_t shutdown_at = -1;
	uint64_t n = 0;
	for (;;) {
		int64_t wake;
		enum tl_tick_due due = tl_tick_plan(&c->t, &wake);
		bool ready[4] = {false}, hup[4] = {false};
		bool box = wait_until(c, wake, ready, hup);
		uint64_t opened = c->reopened;
		run_commands(c, take_commands(d, false));
		take_news(c);
		start_when_recorded(c);
		box = box && opened == c->reopened; /* a reconnect replaced what was ready */
		if (box)
			tl_tick_buttons(&c->t, ready);
		/* A box that hung up was read once more above, so its link could report the
		 * failure and let the device go; it is not waited on again until a reconnect. */
		for (int i = 0; box && i < 4; i++) {
			if (!hup[i])
				continue;
			c->t.button_gone[i] = true;
			tl_tick_button_failure(&c->t, i, "button-box: the line hung up (unplugged?); "
					       "press for the patient with treadlab onset/max, then reconnect");
		}

		if (tl_mono_ns() < wake)
			continue; /* woken by a command or a box; nothing is due yet */
		if (due != TL_DUE_TICK) {
			tl_tick_run_due(&c->t, due, wake);
			continue;
		}
		int64_t jitter_us = (tl_mono_ns() - wake) / 1000;
		tl_tick_run_due(&c->t, due, wake);
		pthread_mutex_lock(&d->m_mu);
		d->jitter_us[d->n_jitter++ % (sizeof d->jitter_us / sizeof d->jitter_us[0])] = jitter_us;
		d->ticks = c->t.ticks;
		d->overruns = c->t.overruns;
		pthread_mutex_unlock(&d->m_mu);
		if (++n % 5 == 0)
			sd_notify(0, "WATCHDOG=1");

		if (atomic_load(d->stop_flag)) {
			int64_t now = tl_clock_test_ms(&d->clock);
			if (shutdown_at < 0) {
				shutdown_at = tl_mono_ns();
				if (tl_engine_shutdown(&d->engine, now))
					syslog(LOG_WARNING, "stopping the belt for shutdown during a test");
				drain(c, NULL);
			}
			const struct tl_feedback *fb = &d->engine.last_fb;
			bool still = !fb->valid || fb->speed_kmh <= 0.05;
			if (still || tl_mono_ns() - shutdown_at > (int64_t)SHUTDOWN_WAIT_MS * 1000000) {
				if (!still) {
					(void)now;
					tl_tick_estop(&c->t, "system");
				}
				flush_samples(c);
				drain(c, NULL);
				break;
			}
		}
	}
	/* Refuse what is still queued: the daemon is going away. */
	pthread_mutex_lock(&d->cmd_mu);
	struct tl_cmd *rest = d->cmd_head;
	d->cmd_head = d->cmd_tail = NULL;
	d->control_done = true;
	pthread_mutex_unlock(&d->cmd_mu);
	if (c->starting) { /* its record, if made, is closed as interrupted at the next start */
		c->starting->next = rest;
		rest = c->starting;
		c->starting = NULL;
	}
	while (rest) {
		struct tl_cmd *next = rest->next;
		tl_reply_complete(rest->reply, 503, "treadlabd is shutting down", -1);
		free(rest->protocol_text);
		free(rest->protocol_json);
		free(rest);
		rest = next;
	}
	close(c->tfd);
	free(c);
	return NULL;
}

int tl_control_start(struct tl_daemon *d, pthread_t *th)
{
	struct control *c = calloc(1, sizeof *c);
	if (!c)
		return -1;
	c->d = d;
	c->t = (struct tl_tick){
		.engine = &d->engine,
		.tm = &d->tm,
		.act = &d->act,
		.buttons = d->buttons,
		.n_buttons = d->n_buttons, /* and again after every reconnect */
		.devices_open = &d->devices_open,
		.clock = &d->clock,
		.hooks = &daemon_hooks,
		.ctx = c,
		.period_ns = 1000000000LL / d->cfg.tick_hz,
		.button_poll_ns = (int64_t)d->cfg.button_poll_ms * 1000000,
	};
	tl_tick_init(&c->t);
	c->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (c->tfd < 0) {
		free(c);
		return -1;
	}
	if (pthread_create(th, NULL, control_main, c)) {
		close(c->tfd);
		free(c);
		return -1;
	}
	return 0;
}

void tl_control_submit(struct tl_daemon *d, struct tl_cmd *cmd)
{
	cmd->queued_ns = tl_mono_ns();
	cmd->next = NULL;
	pthread_mutex_lock(&d->cmd_mu);
	if (d->control_done) {
		pthread_mutex_unlock(&d->cmd_mu);
		tl_reply_complete(cmd->reply, 503, "treadlabd is shutting down", -1);
		free(cmd->protocol_text);
		free(cmd->protocol_json);
		free(cmd);
		return;
	}
	if (d->cmd_tail)
		d->cmd_tail->next = cmd;
	else
		d->cmd_head = cmd;
	d->cmd_tail = cmd;
	pthread_mutex_unlock(&d->cmd_mu);
	uint64_t one = 1;
	if (write(d->cmd_efd, &one, sizeof one) != (ssize_t)sizeof one)
		syslog(LOG_ERR, "waking the control thread: %m"); /* it still wakes by its tick */
}
