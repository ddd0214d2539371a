/* control.c - the control thread: the only thread that moves the belt.
 *
 * Each tick, on an absolute CLOCK_MONOTONIC deadline: poll the driver, serve emergency
 * stops that came meanwhile, take the patient buttons' presses, advance the engine, hand
 * the guard's motion to the driver, publish status, queue events and samples for the
 * store. Between ticks it also wakes
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

#include "daemon.h"
#include "store.h"
#include "tl_str.h"
#include "writer.h"
#include "tl_log.h"

#define SAMPLE_BATCH 10          /* samples per store transaction (1 s at 10 Hz) */
#define SHUTDOWN_WAIT_MS 30000   /* how long SIGTERM waits for the belt to stop */

struct control {
	struct tl_daemon *d;
	enum tl_state last_state;
	char operator_id[64];      /* who started the current test */
	struct tl_store_sample samples[SAMPLE_BATCH];
	size_t n_samples;
	int64_t period_ns;
	struct tl_motion last_motion; /* what the driver was last given */
	bool button_failed[4];        /* logged once per failure */
	bool button_gone[4];          /* a box that hung up: no longer waited on */
	char button_why[4][192];      /* each failed button's reason, for status */
	int64_t button_poll_ns;       /* [buttons] poll_ms */
	int64_t buttons_due;          /* CLOCK_MONOTONIC ns of the next sample between ticks */
	int tfd;                      /* timerfd: the next deadline, boundary or sample */
	uint64_t reopened;            /* counts reconnects: the buttons are other ones after */
	bool link_lost;               /* the last poll found the treadmill's link gone */
	struct tl_cmd *starting;      /* a start waiting for its record to be committed */
	bool start_cancelled;         /* an emergency stop came meanwhile */
	struct tl_engine trial;       /* a copy of the engine to try a start on */
};

int64_t tl_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void tl_utc_now(char out[32])
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 32 - n, ".%03dZ", (int)(ts.tv_nsec / 1000000L) % 1000);
}

/* Two clocks. Drivers and buttons get real monotonic ms (wire timeouts, device
 * watchdogs and debouncing are real time); the engine gets test time, which the time
 * scale of a simulated treadmill runs faster. */
static int64_t real_ms_of(const struct tl_daemon *d, int64_t ns)
{
	return (ns - d->base_ns) / 1000000;
}

static int64_t real_now_ms(const struct tl_daemon *d)
{
	return real_ms_of(d, tl_mono_ns());
}

static int64_t test_ms_of_real(const struct tl_daemon *d, int64_t real_ms)
{
	return (int64_t)llround((double)real_ms * d->cfg.time_scale);
}

/* From the nanosecond clock, not from whole real ms: at a time scale K a truncated ms
 * of real time would be K ms of test time. */
static int64_t test_now_ms(const struct tl_daemon *d)
{
	return (int64_t)floor((double)(tl_mono_ns() - d->base_ns) / 1e6 * d->cfg.time_scale);
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

/* Hands new events to the store and the status ring; records state changes. */
static void drain(struct control *c, const char *operator_id)
{
	struct tl_daemon *d = c->d;
	struct tl_session *s = &d->engine.session;
	struct tl_event ev;
	bool any = false;
	while (tl_session_next_event(s, &ev)) {
		any = true;
		/* Presses and commands carry the operator; the protocol's own events do not. */
		bool by_person = !strcmp(ev.source, "technician");
		TL_DEBUG("event %s at %.1f s (%s) %s", tl_event_kind_name(ev.kind),
			 (double)ev.t_ms / 1e3, ev.source, ev.detail);
		tl_writer_event(d->writer, &ev, by_person ? operator_id : NULL);
		pthread_mutex_lock(&d->st_mu);
		d->st.recent[d->st.events_total % TL_RECENT_EVENTS] = ev;
		d->st.events_total++;
		pthread_mutex_unlock(&d->st_mu);
	}
	if (s->state != c->last_state) {
		TL_DEBUG("state %s -> %s", tl_state_name(c->last_state), tl_state_name(s->state));
		char ended[32] = "";
		if (tl_state_terminal(s->state))
			tl_utc_now(ended);
		tl_writer_state(d->writer, tl_state_name(s->state),
				s->end_reason != TL_END_NONE ? tl_end_reason_name(s->end_reason) : NULL,
				ended[0] ? ended : NULL);
		if (tl_state_terminal(s->state)) {
			flush_samples(c);
			tl_writer_recompute(d->writer, -1);
		}
		c->last_state = s->state;
		any = true;
	}
	if (any)
		queue_endpoints(c);
}

static void publish(struct control *c, int64_t now, const struct tl_motion *m)
{
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
	d->st.connected = d->devices_open && !c->link_lost;
	tl_strcpy(d->st.device_error, sizeof d->st.device_error, d->devices_err);
	d->st.button_error[0] = '\0';
	for (int i = 0; i < 4; i++) {
		if (c->button_failed[i]) { /* the first that fails; the others are in syslog */
			tl_strcpy(d->st.button_error, sizeof d->st.button_error, c->button_why[i]);
			break;
		}
	}
	pthread_cond_broadcast(&d->st_cv);
	pthread_mutex_unlock(&d->st_mu);
}

static void service_estops(struct control *c);

/* Asked by the actuator between two driver commands (a speed write and a grade write
 * are a transaction each on the wire): is an emergency stop waiting in the queue? */
static bool estop_waiting(void *ctx)
{
	struct tl_daemon *d = ctx;
	bool waiting = false;
	pthread_mutex_lock(&d->cmd_mu);
	for (const struct tl_cmd *cmd = d->cmd_head; cmd && !waiting; cmd = cmd->next)
		waiting = cmd->kind == CMD_ESTOP;
	pthread_mutex_unlock(&d->cmd_mu);
	return waiting;
}

/* now: test time, for the engine; the driver gets real time. */
static void actuate(struct control *c, int64_t now, const struct tl_motion *m)
{
	struct tl_daemon *d = c->d;
	c->last_motion = *m;
	if (!d->devices_open)
		return; /* nothing to command; start is refused until a reconnect succeeds */
	/* Set on every call: a reconnect re-initialises the actuator. */
	d->act.stop_waiting = estop_waiting;
	d->act.stop_ctx = d;
	int rc = tl_actuate(&d->act, real_now_ms(d), m);
	if (rc == TL_ACTUATE_PREEMPTED) {
		/* The stop goes out now, not after the rest of this motion; whatever the
		 * motion left unsent is sent by the next actuation if it is still wanted. */
		service_estops(c);
		return;
	}
	if (rc == TL_ACTUATE_OK)
		return;
	/* A driver that cannot take a command is a fault: stop, latched, recorded. */
	syslog(LOG_ERR, "driver: %s", d->tm.err);
	tl_engine_driver_fault(&d->engine, now, d->tm.err);
	struct tl_motion stop = tl_engine_tick(&d->engine, now, NULL);
	c->last_motion = stop;
	tl_actuate(&d->act, real_now_ms(d), &stop);
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
	bool read = d->tm.ops->poll(&d->tm, real_now_ms(d), &fb) == 0;
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
	pthread_mutex_lock(&d->cmd_mu);
	bool created = d->created;
	int64_t id = d->created_id;
	char why[sizeof d->created_err];
	tl_strcpy(why, sizeof why, d->created_err);
	d->created = false;
	pthread_mutex_unlock(&d->cmd_mu);
	struct tl_cmd *cmd = c->starting;
	if (!created || !cmd)
		return;
	c->starting = NULL;
	struct tl_engine *e = &d->engine;
	int64_t now = test_now_ms(d);
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
		bool read = d->tm.ops->poll(&d->tm, real_now_ms(d), &fb) == 0;
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
		d->st.unrecorded = false;
		pthread_mutex_unlock(&d->st_mu);
		c->n_samples = 0;
		c->last_state = TL_STATE_IDLE; /* the row is "starting": drain records "running" */
	}
	drain(c, cmd->operator_id);
	publish(c, now, &c->last_motion);
	finish_command(c, cmd, "start", status, err.msg);
}

static void handle(struct control *c, struct tl_cmd *cmd)
{
	struct tl_daemon *d = c->d;
	struct tl_engine *e = &d->engine;
	int64_t now = test_now_ms(d);
	struct tl_err err = {{0}};
	int status = 200;
	const char *name = "?";
	switch (cmd->kind) {
	case CMD_ESTOP: {
		name = "estop";
		c->start_cancelled = c->starting != NULL; /* a belt not yet started stays so */
		struct tl_motion m = tl_engine_estop(e, now, cmd->source);
		actuate(c, now, &m);
		int64_t done = tl_mono_ns();
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
		if (tl_devices_open(d, &why)) {
			tl_strcpy(d->devices_err, sizeof d->devices_err, why.msg);
			tl_err_set(&err, "reconnect: %s", why.msg);
			status = 503;
			break;
		}
		d->devices_err[0] = '\0';
		c->link_lost = false;
		memset(c->button_failed, 0, sizeof c->button_failed);
		memset(c->button_gone, 0, sizeof c->button_gone);
		tl_actuator_init(&d->act, &d->tm);
		struct tl_feedback fb;
		if (d->tm.ops->poll(&d->tm, real_now_ms(d), &fb) == 0)
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
	publish(c, now, &c->last_motion);
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

static void stop_if_unrecorded(struct control *c, int64_t now);

static bool sampled(struct tl_daemon *d, int i)
{
	return tl_button_fd(&d->buttons[i]) < 0;
}

static void button_failure(struct control *c, int i, const char *why)
{
	if (!c->button_failed[i]) {
		syslog(LOG_ERR, "patient button: %s", why);
		tl_strcpy(c->button_why[i], sizeof c->button_why[i], why);
	}
	c->button_failed[i] = true;
}

/* The patient's buttons: all of them (only == NULL) or those marked in only[]. A press
 * counts at the time its input went active; a press while no test walks is the
 * patient's, and is only logged. Returns the presses seen. */
static int button_presses(struct control *c, int64_t real_ms, int64_t now, const bool *only)
{
	struct tl_daemon *d = c->d;
	int seen = 0;
	for (int i = 0; i < d->n_buttons; i++) {
		if ((only && !only[i]) || c->button_gone[i])
			continue;
		struct tl_press p[4];
		int n = tl_button_poll(&d->buttons[i], real_ms, p, 4);
		if (n < 0) {
			button_failure(c, i, d->buttons[i].err);
			continue;
		}
		c->button_failed[i] = false;
		seen += n;
		for (int k = 0; k < n; k++) {
			struct tl_err err;
			int64_t t = test_ms_of_real(d, p[k].t_ms);
			if (t > now)
				t = now;
			int rc = p[k].kind == TL_PRESS_ONSET ? tl_engine_onset(&d->engine, t, p[k].source, &err)
							     : tl_engine_max(&d->engine, t, p[k].source, &err);
			if (rc)
				syslog(LOG_INFO, "%s press ignored: %s", p[k].source, err.msg);
		}
	}
	return seen;
}

/* Reads the buttons marked in only[] (NULL: the sampled ones) between ticks, with no
 * treadmill reading and no motion: a press goes to the engine, the store and the status
 * at once, as a command's would. */
static void buttons_between_ticks(struct control *c, const bool *only)
{
	struct tl_daemon *d = c->d;
	bool which[4] = {false};
	if (!only) {
		for (int i = 0; i < d->n_buttons; i++)
			which[i] = sampled(d, i);
		only = which;
	}
	int64_t now = test_now_ms(d);
	if (button_presses(c, real_now_ms(d), now, only) > 0) {
		drain(c, NULL);
		publish(c, now, &c->last_motion);
	}
}

/* CLOCK_MONOTONIC ns of the next sample of the buttons between ticks, or INT64_MAX:
 * only while a test walks, and only for sources that cannot be waited on. */
static int64_t buttons_ns(const struct control *c)
{
	struct tl_daemon *d = c->d;
	if (!d->devices_open || !tl_session_walking(&d->engine.session))
		return INT64_MAX;
	for (int i = 0; i < d->n_buttons; i++)
		if (sampled(d, i))
			return c->buttons_due;
	return INT64_MAX;
}

static void tick(struct control *c)
{
	struct tl_daemon *d = c->d;
	int64_t real_ms = real_now_ms(d);
	int64_t now = test_now_ms(d);
	if (!d->devices_open) {
		/* No treadmill after a failed reconnect: no test can be active (start is
		 * refused), so there is nothing to move; keep status and the watchdog alive. */
		struct tl_motion m = tl_engine_tick(&d->engine, now, NULL);
		drain(c, NULL);
		publish(c, now, &m);
		return;
	}
	struct tl_feedback fb = {0};
	const struct tl_feedback *fbp = &fb;
	if (d->tm.ops->poll(&d->tm, real_ms, &fb)) {
		/* No reading this tick; the guard turns a lasting silence into a fault, whose
		 * alarm then carries the driver's message. */
		fbp = NULL;
		tl_engine_no_reading(&d->engine, fb.detail[0] ? fb.detail : d->tm.err);
	}
	c->link_lost = fbp == NULL && fb.link_lost;
	service_estops(c);
	button_presses(c, real_ms, now, NULL);
	stop_if_unrecorded(c, now);
	struct tl_motion m = tl_engine_tick(&d->engine, now, fbp);
	actuate(c, now, &m);
	if (d->tm.ops->keepalive)
		d->tm.ops->keepalive(&d->tm, real_now_ms(d));
	drain(c, NULL);
	publish(c, now, &m);
	const struct tl_session *s = &d->engine.session;
	if (s->state != TL_STATE_IDLE && !tl_state_terminal(s->state) && fbp) {
		c->samples[c->n_samples++] = (struct tl_store_sample){
			.t_ms = tl_session_test_ms(s, now),
			.target_speed_kmh = m.speed_kmh,
			.target_grade_pct = m.grade_pct,
			.actual_speed_kmh = fb.speed_kmh,
			.actual_grade_pct = fb.grade_pct,
			.distance_m = s->ep.distance_m,
		};
		if (c->n_samples == SAMPLE_BATCH)
			flush_samples(c);
	}
}

/* A test whose record cannot be written is brought to a controlled stop, never walked
 * unrecorded; the record gets the stop, with its own end reason, once the store takes
 * writes again. The operator sees why in status and in the answer to any command. */
static void stop_if_unrecorded(struct control *c, int64_t now)
{
	struct tl_daemon *d = c->d;
	pthread_mutex_lock(&d->st_mu);
	bool unrecorded = d->st.unrecorded;
	d->st.unrecorded = false;
	char why[sizeof d->st.store_error];
	tl_strcpy(why, sizeof why, d->st.store_error);
	pthread_mutex_unlock(&d->st_mu);
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
static void service_estops(struct control *c)
{
	run_commands(c, take_commands(c->d, true));
}

/* CLOCK_MONOTONIC ns at which the engine's next protocol change is due, or INT64_MAX;
 * rounded up, so that the test time has reached it on waking. */
static int64_t boundary_ns(const struct control *c)
{
	const struct tl_daemon *d = c->d;
	int64_t next = tl_engine_next_change_ms(&d->engine);
	if (next == INT64_MAX)
		return INT64_MAX;
	return d->base_ns + (int64_t)ceil((double)next * 1e6 / d->cfg.time_scale) + 1;
}

/* A stage boundary between two ticks: the new target goes out now, without waiting
 * for the next tick's poll (the guard still limits the rate of change). */
static void schedule_step(struct control *c)
{
	struct tl_daemon *d = c->d;
	int64_t now = test_now_ms(d);
	struct tl_motion m = tl_engine_step(&d->engine, now);
	actuate(c, now, &m);
	drain(c, NULL);
	publish(c, now, &m);
}

static bool commands_queued(struct tl_daemon *d)
{
	pthread_mutex_lock(&d->cmd_mu);
	bool any = d->cmd_head != NULL || d->created; /* or the answer to a start */
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
		if (fd >= 0 && !c->button_gone[i]) {
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
	int64_t deadline = tl_mono_ns() + c->period_ns;
	int64_t shutdown_at = -1;
	int64_t boundary_done = INT64_MIN;
	uint64_t n = 0;
	for (;;) {
		int64_t boundary = boundary_ns(c);
		bool at_boundary = boundary < deadline && boundary > boundary_done;
		int64_t wake = at_boundary ? boundary : deadline;
		int64_t buttons = buttons_ns(c);
		bool at_buttons = buttons < wake;
		if (at_buttons) {
			at_boundary = false; /* the boundary comes round again after the sample */
			wake = buttons;
		}
		bool ready[4] = {false}, hup[4] = {false};
		bool box = wait_until(c, wake, ready, hup);
		uint64_t opened = c->reopened;
		run_commands(c, take_commands(d, false));
		start_when_recorded(c);
		box = box && opened == c->reopened; /* a reconnect replaced what was ready */
		if (box)
			buttons_between_ticks(c, ready);
		/* A box that hung up was read once more above, so its link could report the
		 * failure and let the device go; it is not waited on again until a reconnect. */
		for (int i = 0; box && i < 4; i++) {
			if (!hup[i])
				continue;
			c->button_gone[i] = true;
			button_failure(c, i, "button-box: the line hung up (unplugged?); press for "
				       "the patient with treadlab onset/max, then reconnect");
		}

		if (tl_mono_ns() < wake)
			continue; /* woken by a command or a box; nothing is due yet */
		if (at_boundary) {
			boundary_done = boundary;
			schedule_step(c);
			continue;
		}
		if (at_buttons) {
			buttons_between_ticks(c, NULL);
			c->buttons_due += c->button_poll_ns;
			if (c->buttons_due < tl_mono_ns())
				c->buttons_due = tl_mono_ns(); /* a slow source: again at once, no backlog */
			continue;
		}
		int64_t woke = tl_mono_ns();
		metric(d, d->jitter_us, &d->n_jitter, sizeof d->jitter_us / sizeof d->jitter_us[0],
		       (woke - deadline) / 1000);
		tick(c);
		d->ticks++;
		c->buttons_due = woke + c->button_poll_ns; /* the tick polled them */
		deadline += c->period_ns;
		if (tl_mono_ns() > deadline) {
			/* The tick took longer than a period (a slow line at a high rate): count it
			 * and run the next one at once, re-anchored to now, so the wire is never
			 * left idle and no backlog of ticks builds up. */
			d->overruns++;
			deadline = tl_mono_ns();
		}
		if (++n % 5 == 0)
			sd_notify(0, "WATCHDOG=1");

		if (atomic_load(d->stop_flag)) {
			int64_t now = test_now_ms(d);
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
					struct tl_motion m = tl_engine_estop(&d->engine, now, "system");
					actuate(c, now, &m);
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
	c->last_state = TL_STATE_IDLE;
	c->period_ns = 1000000000LL / d->cfg.tick_hz;
	c->button_poll_ns = (int64_t)d->cfg.button_poll_ms * 1000000;
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

void tl_reply_init(struct tl_reply *r)
{
	memset(r, 0, sizeof *r);
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	r->test_id = -1;
	r->wake_fd = -1;
}

void tl_reply_destroy(struct tl_reply *r)
{
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
}

void tl_reply_complete(struct tl_reply *r, int http_status, const char *msg, int64_t test_id)
{
	pthread_mutex_lock(&r->mu);
	r->http_status = http_status;
	snprintf(r->msg, sizeof r->msg, "%s", msg ? msg : "");
	r->test_id = test_id;
	r->done = true;
	pthread_cond_signal(&r->cv);
	uint64_t one = 1;
	if (r->wake_fd >= 0 && write(r->wake_fd, &one, sizeof one) != (ssize_t)sizeof one)
		syslog(LOG_ERR, "waking the API for a reply: %m");
	pthread_mutex_unlock(&r->mu);
}

void tl_reply_wait(struct tl_reply *r)
{
	pthread_mutex_lock(&r->mu);
	while (!r->done)
		pthread_cond_wait(&r->cv, &r->mu);
	pthread_mutex_unlock(&r->mu);
}
