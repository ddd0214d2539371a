/* modbus_treadmill.c - the "modbus" treadmill driver (see modbus_treadmill.h). */
#include "modbus_treadmill.h"

#include <errno.h>
#include <modbus.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "modbus_link.h"
#include "serial_link.h"
#include "tl_log.h"

#define DEFAULT_TIMEOUT_MS 200
#define DEFAULT_WATCHDOG_MAX_MS 1000
#define MAX_RETRIES 10
#define MAX_SPAN 32 /* registers merged into one read when close together */
/* How often poll() reads the watchdog register back when the device has a boot counter.
 * Without one, a setting that reverted is how a restart shows, and every poll reads it;
 * with one, the counter says that, and the read-back only catches a second master
 * changing the setting, which is not worth a transaction on the line every tick. */
#define WATCHDOG_CHECK_MS 10000
/* A drive may take a moment to report "running" after the run command: a belt that is
 * not running this soon after start() is not yet a stop by the device. */
#define START_GRACE_MS 1000
/* RTU, after a failed try: the line counts as quiet (no reply to an earlier try still
 * coming in) after this long without a byte; replies sent back to back have no gaps. */
#define RESYNC_QUIET_MS 20

struct mb {
	struct tl_modbus_link link;
	struct tl_modbus_profile prof;
	bool gone;              /* RTU: the tty hung up (adapter unplugged); released */
	int retries;
	int watchdog_ms;        /* read back at open */
	bool have_boot;
	uint16_t boot_count;    /* read at open */
	bool believe_running;   /* we started the belt and did not stop it */
	bool estopped;          /* our emergency stop was pressed (taken or not): no setpoint
				 * moves the treadmill again until the next start() */
	int64_t start_ms;       /* caller's time of start() */
	bool device_stopped;    /* latched: the device stopped the belt by itself */
	uint32_t latched;       /* fault bits that explain device_stopped (kept until close) */
	char stop_reason[120];
	uint32_t io_fault;      /* fault bits of the last failed transaction */
	int64_t last_tx_ms;     /* caller's time of the last transaction */
	bool wd_checked;        /* poll() has read the watchdog register back */
	int64_t wd_checked_ms;  /* caller's time it last did */
	bool share_button;      /* poll reads the `button` register for the patient button */
	bool button_fresh;      /* button holds a value the button has not taken yet */
	uint16_t button;
	int64_t button_ms;      /* caller's time of the poll that read it */
};

#define set_err tl_treadmill_set_err

/* ---- transactions with bounded retries -------------------------------------------- */

/* Copies a message, cut to fit. */
static void copy_line(char *dst, size_t n, const char *src)
{
	size_t len = strnlen(src, n - 1);
	memcpy(dst, src, len);
	dst[len] = '\0';
}

static uint32_t classify(int e)
{
	if (e >= EMBXILFUN && e <= EMBXGTAR)
		return TL_FAULT_REFUSED;
	if (e == EMBBADCRC || e == EMBBADDATA || e == EMBBADEXC || e == EMBUNKEXC ||
	    e == EMBMDATA || e == EMBBADSLAVE)
		return TL_FAULT_CRC;
	return TL_FAULT_COMM;
}

/* ---- wire trace -------------------------------------------------------------------- */

/* libmodbus frames and reads the replies itself, and its own debug output goes to stdout,
 * so the trace shows what this driver knows for certain: the request PDU (function code
 * and data, which libmodbus wraps in its ADU: unit id and CRC on RTU, the MBAP header on
 * TCP), and of the reply what libmodbus checked and handed back, with the latency. */
static const char *trace_link(const struct mb *m)
{
	return m->link.tcp ? "modbus-tcp" : "modbus-rtu";
}

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The request PDU of one libmodbus call; returns when it was handed over (us). */
static long long trace_tx(const struct mb *m, uint8_t fc, uint16_t addr, unsigned v)
{
	uint8_t pdu[5] = {fc};
	put16(pdu + 1, addr);
	put16(pdu + 3, v);
	char note[48];
	snprintf(note, sizeof note, "PDU to unit %d (%s framing by libmodbus)",
		 modbus_get_slave(m->link.ctx), m->link.tcp ? "MBAP" : "RTU");
	tl_log_frame(trace_link(m), "tx", pdu, sizeof pdu, -1, note);
	return tl_log_now_us();
}

/* The reply to it: rc and errno of the call, the values it read (n of them). A register
 * read's reply PDU is exactly function code, byte count and the values (libmodbus checks
 * the first two), so it is shown whole; bits are repacked as the PDU packs them; a
 * write's echo is not handed over, nor are the bytes of a reply libmodbus refused. */
static void trace_rx(const struct mb *m, uint8_t fc, int rc, int e, const uint16_t *vals, int n,
		     long long t0)
{
	uint8_t pdu[2 + 2 * MAX_SPAN] = {fc};
	size_t len = 1;
	char note[96];
	long long lat = tl_log_now_us() - t0;
	if (rc < 0 && e >= EMBXILFUN && e <= EMBXGTAR) {
		pdu[0] = fc | 0x80;
		pdu[len++] = (uint8_t)(e - EMBXILFUN + 1);
		snprintf(note, sizeof note, "exception: %s", modbus_strerror(e));
	} else if (rc < 0) {
		len = 0;
		snprintf(note, sizeof note, "no valid reply: %s", modbus_strerror(e));
	} else if (fc == 0x03 || fc == 0x04) {
		pdu[len++] = (uint8_t)(2 * n);
		for (int i = 0; i < n; i++, len += 2)
			put16(pdu + len, vals[i]);
		snprintf(note, sizeof note, "reply PDU (checked by libmodbus)");
	} else if (fc == 0x01 || fc == 0x02) {
		pdu[len++] = (uint8_t)((n + 7) / 8);
		memset(pdu + len, 0, (size_t)(n + 7) / 8);
		for (int i = 0; i < n; i++)
			pdu[len + i / 8] |= (uint8_t)((vals[i] ? 1u : 0u) << (i % 8));
		len += (size_t)(n + 7) / 8;
		snprintf(note, sizeof note, "reply PDU (bits as libmodbus decoded them)");
	} else {
		snprintf(note, sizeof note, "write acknowledged (libmodbus keeps the echo's bytes)");
	}
	tl_log_frame(trace_link(m), "rx", pdu, len, lat, note);
}

/* RTU: discards what arrives until the line has been quiet for quiet_ms, for at most
 * limit_ms. */
static void drain_quiet(struct mb *m, int quiet_ms, int limit_ms)
{
	int fd = modbus_get_socket(m->link.ctx);
	int64_t end_ns = tl_modbus_link_now_ns() + (int64_t)limit_ms * 1000000;
	uint8_t junk[256];
	while (fd >= 0 && tl_modbus_link_now_ns() < end_ns) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t r = 0;
		if (poll(&p, 1, quiet_ms) <= 0 || !(p.revents & POLLIN) ||
		    (r = read(fd, junk, sizeof junk)) <= 0)
			break;
		TL_LOG_FRAME("modbus-rtu", "rx", junk, (size_t)r, -1, "raw bytes discarded (resync)");
	}
	modbus_flush(m->link.ctx);
}

/* After a failed try, before the next request: replies to earlier tries may still be on
 * their way (late, or released together by a device that was busy). Read as the answer
 * to the next try, each puts the driver one reply behind for good: every try then reads
 * the reply to the one before, fails, and leaves its own reply for the next (an
 * emergency stop that the device took was reported failed three times over, then every
 * poll after it). TCP: a fresh connection carries none of them. RTU: let the line go
 * quiet, discarding what comes, before asking again. */
static void resync(struct mb *m)
{
	TL_DEBUG("%s: resync: %s", trace_link(m),
		 m->link.tcp ? "a fresh connection" : "waiting for a quiet line");
	if (m->link.tcp)
		tl_modbus_link_reconnect(&m->link);
	else
		drain_quiet(m, RESYNC_QUIET_MS, m->link.timeout_ms);
}

enum op { OP_READ, OP_WRITE_ONE, OP_WRITE_SEQ };

struct xfer {
	enum op op;
	enum tl_reg_kind kind;
	uint16_t addr;
	int n;             /* registers to read */
	uint16_t *buf;     /* read into / write from */
	const char *what;  /* for messages */
};

/* The function code do_once_untraced() uses for op on a register of kind k. */
static uint8_t function_code(enum op op, enum tl_reg_kind k)
{
	if (op == OP_WRITE_SEQ)
		return 0x06;
	if (op == OP_WRITE_ONE)
		return k == TL_REG_COIL ? 0x05 : 0x06;
	return k == TL_REG_HOLDING ? 0x03 : k == TL_REG_INPUT ? 0x04 : k == TL_REG_COIL ? 0x01 : 0x02;
}

static int do_once_untraced(struct mb *m, const struct xfer *x);

/* One try of a transfer; with the wire trace on, each request and reply on the line (a
 * command sequence is one per word). */
static int do_once(struct mb *m, const struct xfer *x)
{
	if (!tl_log_on(TL_LOG_WIRE))
		return do_once_untraced(m, x);
	uint8_t fc = function_code(x->op, x->kind);
	int n = x->op == OP_WRITE_SEQ ? x->n : 1;
	for (int i = 0; i < n; i++) {
		struct xfer one = *x;
		unsigned v = x->op == OP_READ ? (unsigned)x->n
			     : fc == 0x05 ? (x->buf[i] ? 0xFF00u : 0u) : x->buf[i];
		if (x->op == OP_WRITE_SEQ) {
			one.n = 1; /* one word of the sequence, written as the untraced loop does */
			one.buf = x->buf + i;
		}
		long long t0 = trace_tx(m, fc, x->addr, v);
		int rc = do_once_untraced(m, &one);
		int e = errno;
		trace_rx(m, fc, rc, e, x->buf, x->op == OP_READ ? x->n : 0, t0);
		errno = e;
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int do_once_untraced(struct mb *m, const struct xfer *x)
{
	int rc = -1;
	uint8_t bits[MAX_SPAN];
	switch (x->op) {
	case OP_READ:
		switch (x->kind) {
		case TL_REG_HOLDING:
			rc = modbus_read_registers(m->link.ctx, x->addr, x->n, x->buf);
			break;
		case TL_REG_INPUT:
			rc = modbus_read_input_registers(m->link.ctx, x->addr, x->n, x->buf);
			break;
		case TL_REG_COIL:
		case TL_REG_DISCRETE:
			rc = x->kind == TL_REG_COIL ? modbus_read_bits(m->link.ctx, x->addr, x->n, bits)
						    : modbus_read_input_bits(m->link.ctx, x->addr, x->n, bits);
			for (int i = 0; rc > 0 && i < x->n; i++)
				x->buf[i] = bits[i];
			break;
		}
		break;
	case OP_WRITE_ONE:
		rc = x->kind == TL_REG_COIL ? modbus_write_bit(m->link.ctx, x->addr, x->buf[0] != 0)
					    : modbus_write_register(m->link.ctx, x->addr, x->buf[0]);
		break;
	case OP_WRITE_SEQ:
		/* A handshake sequence: each word written in order to the same register. */
		for (int i = 0; i < x->n; i++) {
			rc = modbus_write_register(m->link.ctx, x->addr, x->buf[i]);
			if (rc < 0)
				break;
		}
		break;
	}
	return rc < 0 ? -1 : 0;
}

/* A tty whose device went away: the call failed as a hung-up tty fails (EIO, ENXIO,
 * ENODEV; libmodbus reports a read of nothing as ECONNRESET) and the descriptor says it
 * hung up. Both, so that one odd read never ends a test that a retry would carry on. */
static bool rtu_hung_up(struct mb *m, int e)
{
	if (e != EIO && e != ENXIO && e != ENODEV && e != ECONNRESET)
		return false;
	int fd = modbus_get_socket(m->link.ctx);
	struct pollfd p = {.fd = fd, .events = POLLIN};
	return fd < 0 || (poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR | POLLNVAL)));
}

/* The serial adapter was pulled out: asking again cannot help, and a node still held
 * open keeps its name, so the adapter plugged back would come up under another one
 * (ttyUSB1 for ttyUSB0). Release it at once; every later call fails with this line. */
static int rtu_gone(struct tl_treadmill *tm)
{
	struct mb *m = tm->priv;
	if (!m->gone) {
		int fd = modbus_get_socket(m->link.ctx);
		if (fd >= 0)
			flock(fd, LOCK_UN);
		modbus_close(m->link.ctx);
		m->gone = true;
		TL_DEBUG("modbus %s: %s hung up; released", m->prof.name, m->link.where);
	}
	m->io_fault = TL_FAULT_COMM;
	set_err(tm, "modbus %s: %s: the device hung up (unplugged?); reconnect once it is back",
		m->prof.name, m->link.where);
	return -1;
}

static int transact(struct tl_treadmill *tm, const struct xfer *x, int64_t now_ms)
{
	struct mb *m = tm->priv;
	int e = 0, tries = 0;
	if (m->gone)
		return rtu_gone(tm);
	for (int attempt = 0; attempt <= m->retries; attempt++) {
		tries++;
		tl_modbus_link_begin(&m->link);
		int rc = do_once(m, x);
		tl_modbus_link_end(&m->link);
		if (rc == 0) {
			m->io_fault = 0;
			m->last_tx_ms = now_ms;
			return 0;
		}
		e = errno;
		if (!m->link.tcp && rtu_hung_up(m, e))
			return rtu_gone(tm);
		uint32_t kind = classify(e);
		TL_DEBUG("%s: %s %s %u: %s (try %d of %d)", trace_link(m), x->what,
			 tl_reg_kind_name(x->kind), (unsigned)x->addr, modbus_strerror(e), tries,
			 m->retries + 1);
		if (kind == TL_FAULT_REFUSED && e != EMBXSBUSY && e != EMBXACK)
			break; /* the device answered; asking again gets the same answer */
		resync(m);
	}
	m->io_fault = classify(e);
	set_err(tm, "modbus %s: %s %s %u: %s (after %d %s)", m->prof.name, x->what,
		tl_reg_kind_name(x->kind), (unsigned)x->addr, modbus_strerror(e), tries,
		tries > 1 ? "tries" : "try");
	return -1;
}

static int read_key(struct tl_treadmill *tm, enum tl_reg_key k, uint16_t *raw, int64_t now_ms)
{
	struct mb *m = tm->priv;
	const struct tl_reg *r = &m->prof.reg[k];
	struct xfer x = {OP_READ, r->kind, r->address, 1, raw, tl_reg_key_name(k)};
	return transact(tm, &x, now_ms);
}

static int write_key(struct tl_treadmill *tm, enum tl_reg_key k, uint16_t raw, int64_t now_ms)
{
	struct mb *m = tm->priv;
	const struct tl_reg *r = &m->prof.reg[k];
	struct xfer x = {OP_WRITE_ONE, r->kind, r->address, 1, &raw, tl_reg_key_name(k)};
	return transact(tm, &x, now_ms);
}

static int write_command(struct tl_treadmill *tm, const struct tl_cmd_seq *seq, int64_t now_ms)
{
	struct mb *m = tm->priv;
	const struct tl_reg *r = &m->prof.reg[TL_REG_COMMAND];
	uint16_t v[TL_PROFILE_MAX_SEQ];
	memcpy(v, seq->value, sizeof v);
	struct xfer x = {OP_WRITE_SEQ, r->kind, r->address, seq->n, v, "command"};
	return transact(tm, &x, now_ms);
}

/* Reads the given keys, merging those of one kind that lie within MAX_SPAN registers. */
static int read_keys(struct tl_treadmill *tm, const enum tl_reg_key *keys, int n,
		     uint16_t *vals, int64_t now_ms)
{
	struct mb *m = tm->priv;
	bool done[TL_REG_N] = {false};
	for (int i = 0; i < n; i++) {
		if (done[i])
			continue;
		const struct tl_reg *ri = &m->prof.reg[keys[i]];
		unsigned lo = ri->address, hi = ri->address;
		for (int j = i + 1; j < n; j++) {
			const struct tl_reg *rj = &m->prof.reg[keys[j]];
			if (done[j] || rj->kind != ri->kind)
				continue;
			unsigned nlo = rj->address < lo ? rj->address : lo;
			unsigned nhi = rj->address > hi ? rj->address : hi;
			if (nhi - nlo < MAX_SPAN)
				lo = nlo, hi = nhi;
		}
		uint16_t buf[MAX_SPAN];
		struct xfer x = {OP_READ, ri->kind, (uint16_t)lo, (int)(hi - lo + 1), buf, "read"};
		if (transact(tm, &x, now_ms))
			return -1;
		for (int j = i; j < n; j++) {
			const struct tl_reg *rj = &m->prof.reg[keys[j]];
			if (!done[j] && rj->kind == ri->kind && rj->address >= lo && rj->address <= hi) {
				vals[j] = buf[rj->address - lo];
				done[j] = true;
			}
		}
	}
	return 0;
}

/* ---- open / close --------------------------------------------------------------- */

static void mb_close(struct tl_treadmill *tm)
{
	struct mb *m = tm->priv;
	if (!m)
		return;
	if (m->link.ctx && m->believe_running)
		write_command(tm, &m->prof.cmd_stop, m->last_tx_ms);
	tl_modbus_link_close(&m->link);
	free(m);
	tm->priv = NULL;
}

/* The checks that make a device fit to run a test: the watchdog read back, no restart
 * pending, the belt not already moving. */
static int check_device(struct tl_treadmill *tm, const struct tl_modbus_opts *o)
{
	struct mb *m = tm->priv;
	int max_ms = o->watchdog_max_ms > 0 ? o->watchdog_max_ms : DEFAULT_WATCHDOG_MAX_MS;
	uint16_t raw;
	if (read_key(tm, TL_REG_WATCHDOG, &raw, 0))
		return -1;
	double wd = tl_profile_raw_to_ms(&m->prof, TL_REG_WATCHDOG, raw);
	const struct tl_reg *r = &m->prof.reg[TL_REG_WATCHDOG];
	if (raw == 0) {
		set_err(tm, "modbus %s: refusing the device: its communication watchdog is off "
			"(watchdog_ms, %s %u, reads 0); set it to at most %d ms on the device",
			m->prof.name, tl_reg_kind_name(r->kind), (unsigned)r->address, max_ms);
		return -1;
	}
	if (wd > max_ms) {
		set_err(tm, "modbus %s: refusing the device: its communication watchdog is %.0f ms, "
			"longer than the configured bound of %d ms", m->prof.name, wd, max_ms);
		return -1;
	}
	m->watchdog_ms = (int)wd;
	if (m->prof.reg[TL_REG_BOOT_COUNT].present) {
		if (read_key(tm, TL_REG_BOOT_COUNT, &m->boot_count, 0))
			return -1;
		m->have_boot = true;
	}
	uint16_t st;
	if (read_key(tm, TL_REG_STATUS, &st, 0))
		return -1;
	if (st & m->prof.st_running) {
		set_err(tm, "modbus %s: refusing the device: its belt is already running "
			"(status 0x%04x)", m->prof.name, st);
		return -1;
	}
	return 0;
}

static int mb_open(struct tl_treadmill *tm, const void *opts)
{
	const struct tl_modbus_opts *o = opts;
	struct mb *m = calloc(1, sizeof *m);
	if (!m) {
		set_err(tm, "modbus: out of memory");
		return -1;
	}
	tm->priv = m;
	struct tl_err err;
	if (!o->profile[0]) {
		set_err(tm, "modbus: no device profile configured (config/devices/*.profile)");
		goto fail;
	}
	if (tl_modbus_profile_load(o->profile, &m->prof, &err)) {
		set_err(tm, "%s", err.msg);
		goto fail;
	}
	if (m->prof.unverified[0]) {
		set_err(tm, "modbus: profile %s lists unverified facts (%s): check them against "
			"the drive's manual and empty 'unverified' first", o->profile,
			m->prof.unverified);
		goto fail;
	}
	m->retries = o->retries < 0 ? 0 : o->retries > MAX_RETRIES ? MAX_RETRIES : o->retries;
	struct tl_modbus_link_opts lo = {
		.who = "modbus", .device = o->device, .baud = o->baud, .framing = o->framing,
		.tcp = o->tcp_addr, .unit_id = o->unit_id, .timeout_ms = o->response_timeout_ms,
		.default_timeout_ms = DEFAULT_TIMEOUT_MS, .min_gap_ms = m->prof.min_gap_ms,
	};
	if (tl_modbus_link_open(&m->link, &lo, &err)) {
		set_err(tm, "%s", err.msg);
		goto fail;
	}
	if (check_device(tm, o))
		goto fail;
	return 0;
fail:
	mb_close(tm);
	return -1;
}

/* ---- commands --------------------------------------------------------------------- */

static int refuse_if_stopped(struct tl_treadmill *tm, const char *what)
{
	struct mb *m = tm->priv;
	if (!m->device_stopped)
		return 0;
	set_err(tm, "modbus %s: %s refused: the device stopped the belt by itself (%s); "
		"check the treadmill and reconnect", m->prof.name, what, m->stop_reason);
	return -1;
}

/* After an emergency stop, a setpoint still on its way (the rest of the motion the stop
 * cut short, a stale target) must not move the treadmill: a belt speed set on a stopped
 * drive, or a lift driven up under a patient who has just been stopped. Only an
 * operator's new start() lifts this. */
static int refuse_if_estopped(struct tl_treadmill *tm, const char *what)
{
	struct mb *m = tm->priv;
	if (!m->estopped)
		return 0;
	set_err(tm, "modbus %s: %s refused: the belt is under an emergency stop; only a new "
		"start moves it", m->prof.name, what);
	return -1;
}

static int mb_start(struct tl_treadmill *tm, int64_t now_ms)
{
	struct mb *m = tm->priv;
	if (refuse_if_stopped(tm, "start"))
		return -1;
	/* The lowest speed first, so a setpoint left from before cannot jerk the belt. */
	if (write_key(tm, TL_REG_SPEED_SETPOINT, 0, now_ms) ||
	    write_command(tm, &m->prof.cmd_start, now_ms))
		return -1;
	m->believe_running = true;
	m->estopped = false;
	m->start_ms = now_ms;
	return 0;
}

static int mb_stop(struct tl_treadmill *tm, int64_t now_ms)
{
	struct mb *m = tm->priv;
	m->believe_running = false;
	return write_command(tm, &m->prof.cmd_stop, now_ms);
}

static int mb_emergency_stop(struct tl_treadmill *tm, int64_t now_ms)
{
	struct mb *m = tm->priv;
	m->believe_running = false;
	m->estopped = true; /* before any I/O: held even if the device never acknowledges */
	/* Nothing else is in flight (one thread); discard any stale reply first. */
	modbus_flush(m->link.ctx);
	const struct tl_cmd_seq *seq = m->prof.cmd_estop.n ? &m->prof.cmd_estop : &m->prof.cmd_stop;
	TL_DEBUG("modbus %s: emergency stop: sending the %s command", m->prof.name,
		 seq == &m->prof.cmd_stop ? "stop" : "quick stop");
	if (write_command(tm, seq, now_ms) == 0) {
		TL_DEBUG("modbus %s: emergency stop acknowledged", m->prof.name);
		return 0;
	}
	TL_DEBUG("modbus %s: emergency stop not acknowledged: %s", m->prof.name, tm->err);
	/* The quick stop failed: the plain stop is the next best thing. */
	return seq == &m->prof.cmd_stop ? -1 : write_command(tm, &m->prof.cmd_stop, now_ms);
}

static int mb_set_speed(struct tl_treadmill *tm, double kmh, int64_t now_ms, double *sent)
{
	struct mb *m = tm->priv;
	uint16_t raw;
	double s;
	if (kmh > 0 && (refuse_if_stopped(tm, "set speed") || refuse_if_estopped(tm, "set speed")))
		return -1;
	if (tl_profile_kmh_to_raw(&m->prof, kmh, &raw, &s)) {
		set_err(tm, "modbus %s: speed %.2f km/h does not fit the register", m->prof.name, kmh);
		return -1;
	}
	if (write_key(tm, TL_REG_SPEED_SETPOINT, raw, now_ms))
		return -1;
	if (sent)
		*sent = s;
	return 0;
}

static int mb_set_grade(struct tl_treadmill *tm, double pct, int64_t now_ms, double *sent)
{
	struct mb *m = tm->priv;
	if (refuse_if_estopped(tm, "set grade"))
		return -1;
	if (!m->prof.reg[TL_REG_GRADE_SETPOINT].present) {
		if (pct != 0) {
			set_err(tm, "modbus %s: this device has no grade register (the lift is not "
				"on this bus)", m->prof.name);
			return -1;
		}
		if (sent)
			*sent = 0;
		return 0;
	}
	uint16_t raw;
	double s;
	if (tl_profile_pct_to_raw(&m->prof, pct, &raw, &s)) {
		set_err(tm, "modbus %s: grade %.1f %% does not fit the register", m->prof.name, pct);
		return -1;
	}
	if (write_key(tm, TL_REG_GRADE_SETPOINT, raw, now_ms))
		return -1;
	if (sent)
		*sent = s;
	return 0;
}

/* ---- poll ------------------------------------------------------------------------- */

static void latch_stop(struct mb *m, uint32_t why, const char *reason)
{
	m->latched |= why;
	if (!m->device_stopped)
		copy_line(m->stop_reason, sizeof m->stop_reason, reason);
	m->device_stopped = true;
	m->believe_running = false;
}

static uint32_t status_faults(const struct tl_modbus_profile *p, uint16_t st, uint16_t fault_code)
{
	uint32_t f = 0;
	if (p->st_estop && (st & p->st_estop))
		f |= TL_FAULT_ESTOP;
	if (p->st_key_pulled && (st & p->st_key_pulled))
		f |= TL_FAULT_SAFETY_KEY;
	if (p->st_watchdog && (st & p->st_watchdog))
		f |= TL_FAULT_WATCHDOG;
	if ((p->st_fault && (st & p->st_fault)) || fault_code)
		f |= TL_FAULT_DRIVE;
	if (p->st_homing && (st & p->st_homing))
		f |= TL_FAULT_REBOOT; /* homing the lift: the controller has just powered up */
	return f;
}

static const char *fault_reason(uint32_t f)
{
	if (f & TL_FAULT_REBOOT)
		return "the device restarted";
	if (f & TL_FAULT_SAFETY_KEY)
		return "safety key pulled";
	if (f & TL_FAULT_ESTOP)
		return "emergency stop on the treadmill";
	if (f & TL_FAULT_WATCHDOG)
		return "its communication watchdog tripped";
	if (f & TL_FAULT_DRIVE)
		return "drive fault";
	return "stopped on the treadmill (stop button?)";
}

uint32_t tl_modbus_decode(const struct tl_modbus_profile *p, const struct tl_modbus_expect *e,
			  const enum tl_reg_key *keys, const uint16_t *vals, int n,
			  struct tl_feedback *fb)
{
	uint16_t st = vals[0], fault_code = 0;
	uint32_t f = 0;
	for (int i = 2; i < n; i++) {
		switch (keys[i]) {
		case TL_REG_WATCHDOG:
			/* the setting reverted: a restart or a reset */
			if ((int)tl_profile_raw_to_ms(p, TL_REG_WATCHDOG, vals[i]) != e->watchdog_ms)
				f |= TL_FAULT_REBOOT;
			break;
		case TL_REG_GRADE_ACTUAL:
			fb->grade_pct = tl_profile_raw_to_pct(p, TL_REG_GRADE_ACTUAL, vals[i]);
			break;
		case TL_REG_FAULT_CODE:
			fault_code = vals[i];
			break;
		case TL_REG_BOOT_COUNT:
			if (e->have_boot && vals[i] != e->boot_count)
				f |= TL_FAULT_REBOOT;
			break;
		default:
			break;
		}
	}
	f |= status_faults(p, st, fault_code);
	fb->valid = true;
	fb->speed_kmh = tl_profile_raw_to_kmh(p, TL_REG_SPEED_ACTUAL, vals[1]);
	fb->belt_running = (st & p->st_running) != 0;
	fb->fault_code = fault_code;
	return f;
}

static int mb_poll(struct tl_treadmill *tm, int64_t now_ms, struct tl_feedback *fb)
{
	struct mb *m = tm->priv;
	const struct tl_modbus_profile *p = &m->prof;
	*fb = (struct tl_feedback){0};
	enum tl_reg_key keys[TL_REG_N];
	int n = 0;
	keys[n++] = TL_REG_STATUS;
	keys[n++] = TL_REG_SPEED_ACTUAL;
	bool check_wd = !m->have_boot || !m->wd_checked ||
			now_ms - m->wd_checked_ms >= WATCHDOG_CHECK_MS;
	if (check_wd)
		keys[n++] = TL_REG_WATCHDOG;
	const enum tl_reg_key optional[] = {TL_REG_GRADE_ACTUAL, TL_REG_FAULT_CODE,
					    TL_REG_BOOT_COUNT};
	for (size_t i = 0; i < sizeof optional / sizeof optional[0]; i++)
		if (p->reg[optional[i]].present)
			keys[n++] = optional[i];
	if (m->share_button)
		keys[n++] = TL_REG_BUTTON;
	uint16_t v[TL_REG_N] = {0};
	m->button_fresh = false;
	if (read_keys(tm, keys, n, v, now_ms)) {
		fb->faults = m->io_fault | m->latched;
		fb->device_stopped = m->device_stopped;
		fb->link_lost = m->gone;
		copy_line(fb->detail, sizeof fb->detail, tm->err);
		return -1;
	}
	struct tl_modbus_expect e = {m->watchdog_ms, m->have_boot, m->boot_count};
	uint32_t f = tl_modbus_decode(p, &e, keys, v, n, fb);
	for (int i = 2; i < n; i++) {
		if (keys[i] == TL_REG_WATCHDOG) {
			m->wd_checked = true;
			m->wd_checked_ms = now_ms;
		} else if (keys[i] == TL_REG_BUTTON) {
			m->button = v[i];
			m->button_ms = now_ms;
			m->button_fresh = true;
		}
	}
	bool stopped_by_itself = m->believe_running && !fb->belt_running &&
				 now_ms - m->start_ms >= START_GRACE_MS;
	if (f & TL_FAULT_REBOOT)
		latch_stop(m, f, fault_reason(f));
	else if (stopped_by_itself || (m->believe_running && f))
		latch_stop(m, f, fault_reason(f));
	fb->faults = f | m->latched;
	fb->device_stopped = m->device_stopped;
	if (m->device_stopped) {
		char line[sizeof fb->detail + sizeof m->stop_reason];
		snprintf(line, sizeof line, "the treadmill stopped the belt: %s", m->stop_reason);
		copy_line(fb->detail, sizeof fb->detail, line);
	} else if (f) {
		copy_line(fb->detail, sizeof fb->detail, fault_reason(f));
	}
	return 0;
}

static int mb_keepalive(struct tl_treadmill *tm, int64_t now_ms)
{
	struct mb *m = tm->priv;
	if (now_ms - m->last_tx_ms < m->watchdog_ms / 4)
		return 0;
	uint16_t st;
	return read_key(tm, TL_REG_STATUS, &st, now_ms);
}

/* ---- accessors ---------------------------------------------------------------------- */

int tl_modbus_treadmill_read_key(struct tl_treadmill *tm, enum tl_reg_key key, uint16_t *raw)
{
	struct mb *m = tm->priv;
	if (!m || (unsigned)key >= TL_REG_N || !m->prof.reg[key].present) {
		set_err(tm, "modbus: the profile has no '%s' register", tl_reg_key_name(key));
		return -1;
	}
	return read_key(tm, key, raw, m->last_tx_ms);
}

void tl_modbus_treadmill_share_button(struct tl_treadmill *tm)
{
	struct mb *m = tm->priv;
	if (m && m->prof.reg[TL_REG_BUTTON].present)
		m->share_button = true;
}

int tl_modbus_treadmill_take_button(struct tl_treadmill *tm, int64_t now_ms, uint16_t *raw)
{
	struct mb *m = tm->priv;
	if (!m || !m->button_fresh || m->button_ms != now_ms)
		return 0;
	m->button_fresh = false;
	*raw = m->button;
	return 1;
}

const struct tl_modbus_profile *tl_modbus_treadmill_profile(const struct tl_treadmill *tm)
{
	const struct mb *m = tm->priv;
	return m ? &m->prof : NULL;
}

int tl_modbus_treadmill_watchdog_ms(const struct tl_treadmill *tm)
{
	const struct mb *m = tm->priv;
	return m ? m->watchdog_ms : 0;
}

/* ---- options ------------------------------------------------------------------------ */

/* Modbus over serial line V1.02, 2.5.1: even parity is the default, two stop bits
 * without parity; 8N1 is common in practice. */
static const char *const framings[] = {"8E1", "8O1", "8N2", "8N1", NULL};

#define ROW(k, kind_, def_, lo, hi, help_, field)                                               \
	{.section = "treadmill", .key = k, .kind = kind_, .def = def_, .min = lo, .max = hi,      \
	 .help = help_, TL_OPT_AT(struct tl_modbus_opts, field)}
const struct tl_driver_option tl_modbus_options[] = {
	TL_OPT_ROW_DEVICE(struct tl_modbus_opts, "RTU: the serial device (or treadsim's pty link)"),
	ROW("baud", TL_OPT_INT, "19200", 1200, 115200, "RTU: bits per second", baud),
	{.section = "treadmill", .key = "framing", .kind = TL_OPT_ENUM, .def = "8E1",
	 .values = framings, .help = "RTU: 8 data bits, parity (E, O, N), stop bits",
	 TL_OPT_AT(struct tl_modbus_opts, framing)},
	ROW("tcp", TL_OPT_TEXT, NULL, 0, 0, "Modbus TCP host:port instead of RTU", tcp_addr),
	ROW("profile", TL_OPT_TEXT, NULL, 0, 0, "the drive's register map (config/devices/*.profile)",
	    profile),
	ROW("unit_id", TL_OPT_INT, "1", 1, 247, "the Modbus unit (slave) id", unit_id),
	ROW("watchdog_max_ms", TL_OPT_INT, "1000", 50, 10000,
	    "refuse a device whose communication watchdog is off or longer (ms)", watchdog_max_ms),
	TL_OPT_ROW_RESPONSE_TIMEOUT(struct tl_modbus_opts),
	ROW("retries", TL_OPT_INT, "2", 0, MAX_RETRIES,
	    "retries after a timeout or a bad reply before a fault", retries),
	{0},
};
#undef ROW

static int mb_validate(const void *opts, char *why, size_t cap)
{
	const struct tl_modbus_opts *o = opts;
	if (!o->profile[0]) {
		snprintf(why, cap, "needs 'profile' (a register map in config/devices/)");
		return -1;
	}
	if (!o->device[0] && !o->tcp_addr[0]) {
		snprintf(why, cap, "needs 'device' (or 'tcp')");
		return -1;
	}
	return 0;
}

const struct tl_treadmill_ops tl_modbus_treadmill_ops = {
	.name = "modbus",
	.flags = TL_DRV_BUTTON_REGISTER,
	.options = tl_modbus_options,
	.opts_size = sizeof(struct tl_modbus_opts),
	.validate = mb_validate,
	.open = mb_open,
	.close = mb_close,
	.start = mb_start,
	.stop = mb_stop,
	.emergency_stop = mb_emergency_stop,
	.set_speed = mb_set_speed,
	.set_grade = mb_set_grade,
	.poll = mb_poll,
	.keepalive = mb_keepalive,
};
