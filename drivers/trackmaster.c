/* trackmaster.c - the "trackmaster" treadmill driver (see trackmaster.h). */
#include "trackmaster.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serial_link.h"
#include "tl_log.h"
#include "units.h"

#define TM_BAUD 4800
#define TM_DEFAULT_TIMEOUT_MS 150
#define TM_DISCONNECT_MS 500  /* the treadmill stops when silent this long after A0 */
#define TM_KEEPALIVE_MS 200   /* docs/hardware.md: talk to it at least every 200-250 ms */
#define TM_MAX_RETRIES 5

/* ---- codec ------------------------------------------------------------------------- */

size_t tl_tm_encode(uint8_t cmd, int value, uint8_t *out, size_t cap)
{
	if (value < -1 || value > 9999 || cap < (value < 0 ? 1u : 5u))
		return 0;
	out[0] = cmd;
	if (value < 0)
		return 1;
	for (int i = 4; i >= 1; i--) {
		out[i] = (uint8_t)('0' + value % 10);
		value /= 10;
	}
	return 5;
}

size_t tl_tm_decode(const uint8_t *buf, size_t len, struct tl_tm_reply *out)
{
	if (len == 0)
		return 0;
	uint8_t b = buf[0];
	*out = (struct tl_tm_reply){.kind = TL_TM_R_GARBAGE, .code = b};
	if (b >= 0xB0 && b <= 0xBF) {
		out->kind = b >= TL_TM_ACK_RANGE ? TL_TM_R_REFUSED : TL_TM_R_ACK;
		return 1;
	}
	if (b == TL_TM_REPLY_BAD_STATUS) {
		out->kind = TL_TM_R_NO_STATUS;
		return 1;
	}
	if (b == TL_TM_REPLY_STATUS) {
		if (len < 2)
			return 0;
		if (buf[1] < TL_TM_STOPPED || buf[1] > TL_TM_RUNNING_UNARMED)
			return 1; /* not a status byte: the D0 was noise */
		out->kind = TL_TM_R_STATUS;
		out->value = buf[1];
		return 2;
	}
	if (b >= 0xD1 && b <= 0xD4) {
		int v = 0;
		for (size_t i = 1; i < 5; i++) {
			if (i >= len)
				return 0;
			if (buf[i] < '0' || buf[i] > '9')
				return 1; /* a reply cut short by another: resynchronise */
			v = v * 10 + (buf[i] - '0');
		}
		out->kind = TL_TM_R_VALUE;
		out->value = v;
		return 5;
	}
	return 1;
}

int tl_tm_speed_value(double kmh, double *sent_kmh)
{
	double tenths = round(tl_kmh_to_mph(kmh) * 10.0);
	if (!isfinite(tenths) || tenths < 0 || tenths >= TL_TM_ESTOP_SPEED)
		return -1;
	if (sent_kmh)
		*sent_kmh = tl_mph_to_kmh(tenths / 10.0);
	return (int)tenths;
}

int tl_tm_grade_value(double pct, double *sent_pct)
{
	double halves = round(pct * 2.0);
	if (!isfinite(halves) || halves < 0 || halves * 5 > 9995)
		return -1;
	if (sent_pct)
		*sent_pct = halves / 2.0;
	return (int)halves * 5;
}

/* ---- driver ---------------------------------------------------------------------- */

struct tm {
	struct tl_serial_link link;
	int timeout_ms;
	int retries;
	uint8_t rx[64];
	size_t rx_len;
	bool believe_running;
	bool estopped;       /* our emergency stop was pressed (taken or not): no setpoint
			      * moves the treadmill again until the next start() */
	bool device_stopped; /* latched */
	uint32_t latched;
	char stop_reason[96];
	uint32_t io_fault;
	int garbled;         /* bytes of the current command's replies that made no sense */
	int64_t last_tx_ms;  /* caller's time of the last acknowledged command */
	long long req_us;    /* wire trace: when the request went out, and the last bytes */
	long long rx_us;     /* came in (tl_log_now_us; set only while the trace is on) */
};

#define set_err tl_treadmill_set_err

/* The reply a command expects: Bx for Ax, Dx for Cx. */
static bool answers(uint8_t cmd, const struct tl_tm_reply *r)
{
	if (r->kind == TL_TM_R_REFUSED)
		return true;
	if ((cmd & 0xF0) == 0xA0)
		return r->kind == TL_TM_R_ACK && (r->code & 0x0F) == (cmd & 0x0F);
	if (cmd == TL_TM_STATUS)
		return r->kind == TL_TM_R_STATUS || r->kind == TL_TM_R_NO_STATUS;
	return r->kind == TL_TM_R_VALUE && (r->code & 0x0F) == (cmd & 0x0F);
}

/* Wire trace of one decoded reply (or skipped byte): its latency from the request, and
 * why it was skipped when it was. */
static void trace_rx(const struct tm *t, uint8_t cmd, const struct tl_tm_reply *r, size_t used)
{
	char note[64] = "";
	if (r->kind == TL_TM_R_GARBAGE)
		snprintf(note, sizeof note, "garbage, skipped");
	else if (!answers(cmd, r))
		snprintf(note, sizeof note, "not the reply to %02X, skipped", cmd);
	if (t->rx_us < t->req_us)
		snprintf(note + strlen(note), sizeof note - strlen(note), "%sleft from before the request",
			 note[0] ? "; " : "");
	long long lat = t->rx_us >= t->req_us ? t->rx_us - t->req_us : -1;
	tl_log_frame("trackmaster", "rx", t->rx, used, lat, note[0] ? note : NULL);
}

/* Waits for the reply to cmd until deadline; stale or noisy bytes are skipped.
 * Returns 0 with *r, -1 on timeout, -2 when the link failed (t->link.err says why: a
 * device that hung up, say, which no retry brings back). */
static int await_reply(struct tm *t, uint8_t cmd, long long deadline, struct tl_tm_reply *r)
{
	for (;;) {
		size_t used;
		while ((used = tl_tm_decode(t->rx, t->rx_len, r)) > 0) {
			if (tl_log_on(TL_LOG_WIRE))
				trace_rx(t, cmd, r, used);
			memmove(t->rx, t->rx + used, t->rx_len - used);
			t->rx_len -= used;
			if (answers(cmd, r))
				return 0;
			if (r->kind == TL_TM_R_GARBAGE)
				t->garbled++;
		}
		if (t->rx_len == sizeof t->rx)
			t->rx_len = 0; /* cannot happen with the codec above; never wedge */
		long long left = deadline - tl_serial_now_ms();
		if (left <= 0)
			return -1;
		int n = tl_serial_read(&t->link, t->rx + t->rx_len, sizeof t->rx - t->rx_len,
				       (int)left);
		if (n < 0)
			return -2;
		if (n > 0 && tl_log_on(TL_LOG_WIRE))
			t->rx_us = tl_log_now_us();
		t->rx_len += (size_t)n;
	}
}

/* Sends one command and waits for its reply (one outstanding at a time), retrying a
 * timed-out command at most t->retries times; a failed link is not retried. */
static int command(struct tl_treadmill *tm, uint8_t cmd, int value, int64_t now_ms,
		   struct tl_tm_reply *r)
{
	struct tm *t = tm->priv;
	uint8_t frame[5];
	size_t n = tl_tm_encode(cmd, value, frame, sizeof frame);
	t->garbled = 0;
	for (int attempt = 0; attempt <= t->retries; attempt++) {
		if (tl_serial_write_all(&t->link, frame, n, t->timeout_ms)) {
			t->io_fault = TL_FAULT_COMM;
			set_err(tm, "trackmaster: %s", t->link.err);
			return -1;
		}
		if (tl_log_on(TL_LOG_WIRE)) {
			t->req_us = tl_log_now_us();
			tl_log_frame("trackmaster", "tx", frame, n, -1, attempt ? "retry" : NULL);
		}
		int got = await_reply(t, cmd, tl_serial_now_ms() + t->timeout_ms, r);
		if (got == -2) {
			/* Not a lost reply: the link itself failed (unplugged?). Say so. */
			t->io_fault = TL_FAULT_COMM;
			set_err(tm, "trackmaster: %s", t->link.err);
			return -1;
		}
		if (got == 0) {
			t->io_fault = 0;
			t->last_tx_ms = now_ms;
			if (r->kind == TL_TM_R_REFUSED) {
				t->io_fault = TL_FAULT_REFUSED;
				set_err(tm, "trackmaster: command 0x%02X refused: %s", cmd,
					r->code == TL_TM_ACK_RANGE ? "value out of range (BE)"
								   : "unknown command (BF)");
				return -1;
			}
			return 0;
		}
		if (tl_log_on(TL_LOG_WIRE))
			tl_log_frame("trackmaster", "rx", t->rx, t->rx_len, tl_log_now_us() - t->req_us,
				     "timeout: no complete reply");
		TL_DEBUG("trackmaster: no reply to %02X within %d ms (try %d of %d)%s", cmd,
			 t->timeout_ms, attempt + 1, t->retries + 1,
			 attempt < t->retries ? "; input flushed, sending it again" : "");
		t->rx_len = 0;
		tl_serial_flush_input(&t->link);
	}
	/* Bytes came back but never a valid answer: the line corrupts them. */
	t->io_fault = t->garbled ? TL_FAULT_CRC : TL_FAULT_COMM;
	set_err(tm, "trackmaster: %s to command 0x%02X (after %d %s)",
		t->garbled ? "only corrupt replies" : "no reply", cmd, t->retries + 1,
		t->retries ? "tries" : "try");
	return -1;
}

static void copy_line(char *dst, size_t n, const char *src)
{
	size_t len = strnlen(src, n - 1);
	memcpy(dst, src, len);
	dst[len] = '\0';
}

static void latch_stop(struct tm *t, uint32_t why, const char *reason)
{
	t->latched |= why;
	if (!t->device_stopped)
		copy_line(t->stop_reason, sizeof t->stop_reason, reason);
	t->device_stopped = true;
	t->believe_running = false;
}

static void tm_close(struct tl_treadmill *tm)
{
	struct tm *t = tm->priv;
	if (!t)
		return;
	if (t->link.ops) {
		if (t->believe_running) {
			struct tl_tm_reply r;
			command(tm, TL_TM_STOP, -1, t->last_tx_ms, &r);
		}
		tl_serial_close(&t->link);
	}
	free(t);
	tm->priv = NULL;
}

static int tm_open(struct tl_treadmill *tm, const void *opts)
{
	const struct tl_trackmaster_opts *o = opts;
	struct tm *t = calloc(1, sizeof *t);
	if (!t) {
		set_err(tm, "trackmaster: out of memory");
		return -1;
	}
	tm->priv = t;
	t->timeout_ms = o->response_timeout_ms > 0 ? o->response_timeout_ms : TM_DEFAULT_TIMEOUT_MS;
	t->retries = o->retries < 0 ? 0 : o->retries > TM_MAX_RETRIES ? TM_MAX_RETRIES : o->retries;
	if (o->baud && o->baud != TM_BAUD) {
		set_err(tm, "trackmaster: the protocol runs at %d baud, not %d", TM_BAUD, o->baud);
		goto fail;
	}
	if (tl_serial_open(&t->link, o->device, TM_BAUD, TL_SERIAL_AUTO)) {
		set_err(tm, "trackmaster: %s", t->link.err);
		goto fail;
	}
	struct tl_tm_reply r;
	if (command(tm, TL_TM_STATUS, -1, 0, &r))
		goto fail;
	if (r.kind == TL_TM_R_STATUS && r.value != TL_TM_STOPPED) {
		set_err(tm, "trackmaster: refusing the treadmill: its belt is already running");
		goto fail;
	}
	return 0;
fail:
	tm_close(tm);
	return -1;
}

static int refuse_if_stopped(struct tl_treadmill *tm, const char *what)
{
	struct tm *t = tm->priv;
	if (!t->device_stopped)
		return 0;
	set_err(tm, "trackmaster: %s refused: the treadmill stopped the belt by itself (%s); "
		"check it and reconnect", what, t->stop_reason);
	return -1;
}

/* After an emergency stop, a setpoint still on its way (the rest of the motion the stop
 * cut short, a stale target) must not move the treadmill: A2 stops the belt, not the
 * lift, so an A4 after it drives the incline under a patient who has just been stopped.
 * Only an operator's new start() lifts this. */
static int refuse_if_estopped(struct tl_treadmill *tm, const char *what)
{
	struct tm *t = tm->priv;
	if (!t->estopped)
		return 0;
	set_err(tm, "trackmaster: %s refused: the belt is under an emergency stop; only a new "
		"start moves it", what);
	return -1;
}

static int tm_start(struct tl_treadmill *tm, int64_t now_ms)
{
	struct tm *t = tm->priv;
	struct tl_tm_reply r;
	if (refuse_if_stopped(tm, "start"))
		return -1;
	/* The lowest speed first; then A0, never A1: the disconnect stop stays armed. */
	if (command(tm, TL_TM_SET_SPEED, 0, now_ms, &r) || command(tm, TL_TM_START, -1, now_ms, &r))
		return -1;
	if (command(tm, TL_TM_STATUS, -1, now_ms, &r))
		return -1;
	if (r.kind == TL_TM_R_STATUS && r.value == TL_TM_STOPPED) {
		/* A unit homing its lift after power-up ignores starts: it has rebooted. */
		latch_stop(t, TL_FAULT_REBOOT, "the treadmill ignored the start (restarted?)");
		set_err(tm, "trackmaster: the treadmill ignored the start: it is probably homing "
			"after a restart; it will not be restarted automatically");
		return -1;
	}
	t->believe_running = true;
	t->estopped = false;
	return 0;
}

static int tm_stop(struct tl_treadmill *tm, int64_t now_ms)
{
	struct tm *t = tm->priv;
	struct tl_tm_reply r;
	t->believe_running = false;
	return command(tm, TL_TM_STOP, -1, now_ms, &r);
}

static int tm_emergency_stop(struct tl_treadmill *tm, int64_t now_ms)
{
	struct tm *t = tm->priv;
	t->estopped = true; /* before any I/O: held even if the treadmill never acknowledges */
	/* Nothing is outstanding (one thread, one command at a time); drop stale input so
	 * the stop's ack is the first thing read. */
	t->rx_len = 0;
	tl_serial_flush_input(&t->link);
	TL_DEBUG("trackmaster: emergency stop: sending A2");
	int rc = tm_stop(tm, now_ms);
	TL_DEBUG("trackmaster: emergency stop %s%s", rc ? "not acknowledged: " : "acknowledged (B2)",
		 rc ? tm->err : "");
	return rc;
}

static int tm_set_speed(struct tl_treadmill *tm, double kmh, int64_t now_ms, double *sent)
{
	double s;
	int v = tl_tm_speed_value(kmh, &s);
	if (v < 0) {
		set_err(tm, "trackmaster: speed %.2f km/h is out of range", kmh);
		return -1;
	}
	if (v > 0 && (refuse_if_stopped(tm, "set speed") || refuse_if_estopped(tm, "set speed")))
		return -1;
	struct tl_tm_reply r;
	if (command(tm, TL_TM_SET_SPEED, v, now_ms, &r))
		return -1;
	if (sent)
		*sent = s;
	return 0;
}

static int tm_set_grade(struct tl_treadmill *tm, double pct, int64_t now_ms, double *sent)
{
	double s;
	int v = tl_tm_grade_value(pct, &s);
	if (v < 0) {
		set_err(tm, "trackmaster: grade %.1f %% is out of range", pct);
		return -1;
	}
	if (refuse_if_estopped(tm, "set grade"))
		return -1;
	struct tl_tm_reply r;
	if (command(tm, TL_TM_SET_ELEVATION, v, now_ms, &r))
		return -1;
	if (sent)
		*sent = s;
	return 0;
}

static int tm_poll(struct tl_treadmill *tm, int64_t now_ms, struct tl_feedback *fb)
{
	struct tm *t = tm->priv;
	*fb = (struct tl_feedback){0};
	struct tl_tm_reply st, sp, el;
	int64_t silent_ms = now_ms - t->last_tx_ms;
	if (command(tm, TL_TM_STATUS, -1, now_ms, &st) ||
	    command(tm, TL_TM_SPEED, -1, now_ms, &sp) ||
	    command(tm, TL_TM_ELEVATION, -1, now_ms, &el)) {
		fb->faults = t->io_fault | t->latched;
		fb->device_stopped = t->device_stopped;
		fb->link_lost = tl_serial_fd(&t->link) < 0; /* the link let a hung-up tty go */
		copy_line(fb->detail, sizeof fb->detail, tm->err);
		return -1;
	}
	uint32_t f = 0;
	const char *why = NULL;
	fb->valid = true;
	fb->belt_running = st.kind == TL_TM_R_STATUS && st.value != TL_TM_STOPPED;
	fb->grade_pct = el.value / 10.0;
	if (sp.value == TL_TM_ESTOP_SPEED) {
		f |= TL_FAULT_ESTOP;
		why = "emergency stop or speed-loop failure (speed 999.9)";
		fb->speed_kmh = 0;
		fb->belt_running = false;
	} else {
		fb->speed_kmh = tl_mph_to_kmh(sp.value / 10.0);
	}
	if (st.kind == TL_TM_R_STATUS && st.value == TL_TM_RUNNING_UNARMED) {
		f |= TL_FAULT_WATCHDOG;
		why = "running with its disconnect stop disabled (A1)";
	}
	if (t->believe_running && !fb->belt_running && !f) {
		/* Silent for longer than the disconnect stop: its watchdog stopped the belt.
		 * Otherwise the unit stopped on its own: a power loss / e-stop and reboot. */
		if (silent_ms > TM_DISCONNECT_MS) {
			f |= TL_FAULT_WATCHDOG;
			why = "its disconnect stop tripped (no command within 0.5 s)";
		} else {
			f |= TL_FAULT_REBOOT;
			why = "the belt stopped while driven (stop button, emergency stop or restart)";
		}
	}
	if (f & (TL_FAULT_ESTOP | TL_FAULT_REBOOT) || (t->believe_running && f))
		latch_stop(t, f, why);
	fb->faults = f | t->latched;
	fb->device_stopped = t->device_stopped;
	if (t->device_stopped) {
		char line[sizeof fb->detail + sizeof t->stop_reason];
		snprintf(line, sizeof line, "the treadmill stopped the belt: %s", t->stop_reason);
		copy_line(fb->detail, sizeof fb->detail, line);
	} else if (why) {
		copy_line(fb->detail, sizeof fb->detail, why);
	}
	return 0;
}

static int tm_keepalive(struct tl_treadmill *tm, int64_t now_ms)
{
	struct tm *t = tm->priv;
	if (now_ms - t->last_tx_ms < TM_KEEPALIVE_MS)
		return 0;
	struct tl_tm_reply r;
	return command(tm, TL_TM_STATUS, -1, now_ms, &r);
}

/* ---- options ------------------------------------------------------------------------ */

const struct tl_driver_option tl_trackmaster_options[] = {
	TL_OPT_ROW_DEVICE(struct tl_trackmaster_opts, "the serial device (or treadsim's pty link)"),
	{.section = "treadmill", .key = "baud", .kind = TL_OPT_INT, .def = "4800", .min = TM_BAUD,
	 .max = TM_BAUD, .help = "the protocol runs at 4800 bits per second only",
	 TL_OPT_AT(struct tl_trackmaster_opts, baud)},
	TL_OPT_ROW_RESPONSE_TIMEOUT(struct tl_trackmaster_opts),
	{.section = "treadmill", .key = "retries", .kind = TL_OPT_INT, .def = "2", .min = 0,
	 .max = TM_MAX_RETRIES, .help = "retries after a timeout or a bad reply before a fault",
	 TL_OPT_AT(struct tl_trackmaster_opts, retries)},
	{0},
};

static int tm_validate(const void *opts, char *why, size_t cap)
{
	const struct tl_trackmaster_opts *o = opts;
	if (!o->device[0]) {
		snprintf(why, cap, "needs 'device'");
		return -1;
	}
	return 0;
}

const struct tl_treadmill_ops tl_trackmaster_treadmill_ops = {
	.name = "trackmaster",
	.options = tl_trackmaster_options,
	.opts_size = sizeof(struct tl_trackmaster_opts),
	.validate = tm_validate,
	.open = tm_open,
	.close = tm_close,
	.start = tm_start,
	.stop = tm_stop,
	.emergency_stop = tm_emergency_stop,
	.set_speed = tm_set_speed,
	.set_grade = tm_set_grade,
	.poll = tm_poll,
	.keepalive = tm_keepalive,
};
