/* treadsim - a simulated treadmill behind a real wire (hil/README.md).
 *
 *   treadsim --modbus-rtu LINK | --modbus-tcp ADDR:PORT | --trackmaster LINK [options]
 *
 * Serves Modbus RTU on a pty (its slave published as the symlink LINK), Modbus TCP on
 * loopback, or the Trackmaster protocol on a pty. With --button-box LINK2, a second pty
 * on which the virtual patient's button box sends '1' and '2' (each press also shows in
 * the Modbus `button` register). Prints one line "ready" on stdout once it accepts
 * connections; exits cleanly on SIGTERM. See usage().
 *
 * A pty channel can be unplugged and plugged back, as a USB-serial adapter: unplugging
 * closes the pty (the host's open slave is hung up) and removes LINK; plugging creates a
 * fresh pty and points LINK at its slave, a new node, as udev re-points a by-id link. */
#define _GNU_SOURCE /* accept4, ppoll */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "sim.h"

#define MAX_CH 16
#define MAX_CTL 4
#define MAX_Q 8
#define TICK_MS 5            /* model and watchdog resolution */
#define SILENCE_US 20000     /* an RTU frame is over after this much silence (unpaced) */
#define PARTIAL_TM_US 100000 /* a Trackmaster command missing its digits this long is dropped */

enum chan_kind { CH_RTU, CH_TCP, CH_TM, CH_BOX, CH_CUFF_RTU, CH_CUFF_TCP, CH_CUFF_TEXT };

struct out_frame {
	int64_t due_us;
	size_t len;
	uint8_t b[300];
};

struct chan {
	enum chan_kind kind;
	int fd;                /* -1 while unplugged */
	int slave_fd;          /* ptys: kept open so the master never sees a hang-up */
	char link[256];        /* ptys: the published symlink, removed at exit */
	char pts[64];          /* ptys: the slave LINK points at */
	bool unplugged;        /* ptys: the adapter is out (`unplug`): no pty, no LINK */
	char name[32];
	uint8_t rx[600];
	size_t rx_len;
	int64_t rx_last_us;
	struct out_frame q[MAX_Q];
	int nq;
	int64_t line_free_us;  /* paced: when the line is free for the next reply */
	int64_t backlog_until_us; /* replies released (`release=MS`) leave until then: a reply
				   * to a later request waits behind them, as a device sends */
	/* paced RTU: a request whose bytes are still crossing the line. A device acts on a
	 * frame once all of it and the 3.5-character silence after it have arrived, so the
	 * registers it reads (the patient button) are sampled then, not at the first byte. */
	bool pending;
	int64_t pending_at_us;
	size_t pending_len;
	uint8_t pending_req[256];
	/* replies held back by a `hold` fate, sent on `release` */
	struct out_frame held[MAX_Q];
	int nheld;
};

/* The cuff's channels (sim_cuff.c): its own wire, never the treadmill's. */
static bool is_cuff(const struct chan *c)
{
	return c->kind >= CH_CUFF_RTU;
}

/* What becomes of the next replies the treadmill sends (`drop`, `hold` on the control
 * socket), one fate a reply, in order: a test puts exactly one request "on the wire" for
 * as long as it needs (held until `release`), or loses exactly one reply (dropped, the
 * request acted on), without any timing luck. */
enum reply_fate { FATE_DROP, FATE_HOLD };
#define MAX_FATES 8

struct sim {
	struct sim_dev dev;
	struct tl_modbus_profile prof;
	int unit_id;
	int baud;              /* 0: no pacing */
	struct chan ch[MAX_CH];
	int nch;
	int listen_fd;
	int ctl_fd;
	int ctl[MAX_CTL];
	char ctl_buf[MAX_CTL][256];
	size_t ctl_len[MAX_CTL];
	char ctl_path[108];
	FILE *log;
	bool logged_running;   /* the belt state last written to the log as an event */
	enum reply_fate fate[MAX_FATES];
	int nfates;
	int held_total;        /* replies held since the start, released or lost since or not */
	int ctl_awaiting[MAX_CTL]; /* `await-held=N`: answered once held_total >= N; 0: none */
	bool has_cuff;         /* --cuff-*: the simulated cuff (sim_cuff.c) */
	struct sim_cuff cuff;
	int cuff_listen_fd;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("treadsim: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

/* ---- the frame log ------------------------------------------------------------------ */

static void log_frame(struct sim *s, const char *dir, const struct chan *c, const uint8_t *b,
		      size_t n, int64_t t_us)
{
	if (!s->log)
		return;
	fprintf(s->log, "%lld.%06lld %s %s", (long long)(t_us / 1000000),
		(long long)(t_us % 1000000), dir, c->name);
	for (size_t i = 0; i < n; i++)
		fprintf(s->log, " %02X", b[i]);
	fputc('\n', s->log);
	fflush(s->log);
}

/* The belt starting and stopping, with why it stopped: tests measure from these lines
 * (e.g. the last request heard to the watchdog's stop) instead of polling `state`. */
static void log_belt(struct sim *s, int64_t t_us)
{
	const struct sim_dev *d = &s->dev;
	if (!s->log || d->belt.running == s->logged_running)
		return;
	s->logged_running = d->belt.running;
	const char *why = d->belt.running ? "" : d->watchdog_tripped ? " watchdog"
		: d->key_pulled ? " key-pulled" : d->drive_fault_code ? " drive-fault"
		: d->belt.estopped ? " estop" : " stop";
	fprintf(s->log, "%lld.%06lld event belt-%s%s last_rx=%lld.%06lld\n",
		(long long)(t_us / 1000000), (long long)(t_us % 1000000),
		d->belt.running ? "start" : "stop", why, (long long)(d->last_rx_real_ms / 1000),
		(long long)(d->last_rx_real_ms % 1000) * 1000);
	fflush(s->log);
}

/* ---- channels -------------------------------------------------------------------------- */

static struct chan *add_chan(struct sim *s, enum chan_kind kind, int fd, const char *name)
{
	if (s->nch == MAX_CH)
		return NULL;
	struct chan *c = &s->ch[s->nch++];
	*c = (struct chan){.kind = kind, .fd = fd, .slave_fd = -1};
	snprintf(c->name, sizeof c->name, "%s", name);
	return c;
}

static void drop_chan(struct sim *s, int i)
{
	struct chan *c = &s->ch[i];
	for (int k = 0; k < c->nheld; k++) /* held replies go with their connection */
		log_frame(s, "tx-lost", c, c->held[k].b, c->held[k].len, now_us());
	close(s->ch[i].fd);
	s->ch[i] = s->ch[--s->nch];
}

/* Creates a fresh pty for the channel and publishes its slave as c->link (replacing a
 * symlink left there, atomically). Returns 0, or -1 with why set. */
static int pty_attach(struct chan *c, char *why, size_t n)
{
	int m, sl;
	char path[64];
	if (openpty(&m, &sl, path, NULL, NULL)) {
		snprintf(why, n, "openpty: %s", strerror(errno));
		return -1;
	}
	/* Raw until the host sets its own mode: no echo of our replies back to us. */
	struct termios t;
	tcgetattr(sl, &t);
	cfmakeraw(&t);
	tcsetattr(sl, TCSANOW, &t);
	fcntl(m, F_SETFL, O_NONBLOCK);
	fcntl(m, F_SETFD, FD_CLOEXEC);
	fcntl(sl, F_SETFD, FD_CLOEXEC);
	struct stat st;
	char tmp[sizeof c->link + 16];
	snprintf(tmp, sizeof tmp, "%s.treadsim-new", c->link);
	unlink(tmp);
	if (lstat(c->link, &st) == 0 && !S_ISLNK(st.st_mode)) {
		snprintf(why, n, "%s exists and is not a symlink: not replacing it", c->link);
	} else if (symlink(path, tmp) || rename(tmp, c->link)) {
		snprintf(why, n, "cannot publish %s -> %s: %s", c->link, path, strerror(errno));
		unlink(tmp);
	} else {
		c->fd = m;
		c->slave_fd = sl;
		c->unplugged = false;
		c->rx_len = 0;
		c->nq = 0;
		c->nheld = 0;
		c->line_free_us = 0;
		c->backlog_until_us = 0;
		snprintf(c->pts, sizeof c->pts, "%s", path);
		return 0;
	}
	close(m);
	close(sl);
	return -1;
}

static void open_pty(struct sim *s, enum chan_kind kind, const char *link, const char *name)
{
	struct chan *c = add_chan(s, kind, -1, name);
	char why[400];
	if (strlen(link) >= sizeof c->link)
		die("%s: path too long", link);
	snprintf(c->link, sizeof c->link, "%s", link);
	if (pty_attach(c, why, sizeof why))
		die("%s", why);
}

/* Loopback only: a simulated treadmill must never be reachable from the ward network. */
static int open_tcp(const char *opt, const char *addr, const char *port_file)
{
	char host[64];
	const char *colon = strrchr(addr, ':');
	if (!colon || colon == addr || (size_t)(colon - addr) >= sizeof host)
		die("%s wants ADDR:PORT, not '%s'", opt, addr);
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = '\0';
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end || port < 0 || port > 65535)
		die("%s: bad port '%s'", opt, colon + 1);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (!strcmp(host, "localhost"))
		snprintf(host, sizeof host, "127.0.0.1");
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		die("%s: '%s' is not an IPv4 address", opt, host);
	if ((ntohl(sa.sin_addr.s_addr) >> 24) != 127)
		die("%s: refusing %s: treadsim listens on loopback (127.0.0.0/8) only", opt, host);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) || listen(fd, 8))
		die("%s %s: %s", opt, addr, strerror(errno));
	socklen_t sl = sizeof sa;
	getsockname(fd, (struct sockaddr *)&sa, &sl);
	if (port_file) {
		FILE *f = fopen(port_file, "w");
		if (!f || fprintf(f, "%u\n", ntohs(sa.sin_port)) < 0 || fclose(f))
			die("cannot write %s", port_file);
	}
	return fd;
}

static void open_control(struct sim *s, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof sa.sun_path)
		die("--control path too long");
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	unlink(path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) || listen(fd, 4))
		die("--control %s: %s", path, strerror(errno));
	s->ctl_fd = fd;
	snprintf(s->ctl_path, sizeof s->ctl_path, "%s", path);
}

/* ---- sending: queue, pacing, faults ---------------------------------------------------- */

/* The RTU silent interval: 3.5 characters of 11 bits, fixed 1.75 ms above 19200 baud
 * (docs/hardware.md, Modbus RTU timing). */
static int64_t rtu_gap_us(const struct sim *s, const struct chan *c)
{
	if ((c->kind != CH_RTU && c->kind != CH_CUFF_RTU) || s->baud <= 0)
		return 0;
	return s->baud > 19200 ? 1750 : 11000000 / s->baud * 7 / 2;
}

static void enqueue(struct sim *s, struct chan *c, const uint8_t *b, size_t n, size_t req_len,
		    int64_t t_us)
{
	if (c->nq == MAX_Q || n > sizeof c->q[0].b)
		return;
	int64_t due = t_us;
	if (s->baud > 0 && c->kind != CH_TCP) {
		/* The request's bytes took their line time, the RTU silent interval follows,
		 * then the reply's own bytes. req_len 0: t_us is already past both (a paced
		 * RTU request acted on when it had arrived). */
		int64_t char_us = 11000000 / s->baud;
		if (req_len)
			due += (int64_t)req_len * char_us + rtu_gap_us(s, c);
		if (due < c->line_free_us)
			due = c->line_free_us;
		due += (int64_t)n * char_us;
		c->line_free_us = due;
	}
	if (due < c->backlog_until_us)
		due = c->backlog_until_us;
	if (s->dev.wire_faults & SIM_F_LATE_REPLY)
		due += (int64_t)s->dev.late_ms * 1000;
	/* Kept in order of departure: a late reply does not hold up the ones after it. */
	int at = c->nq;
	while (at > 0 && c->q[at - 1].due_us > due)
		at--;
	memmove(&c->q[at + 1], &c->q[at], sizeof c->q[0] * (size_t)(c->nq - at));
	c->nq++;
	struct out_frame *f = &c->q[at];
	f->due_us = due;
	f->len = n;
	memcpy(f->b, b, n);
}

static void answer_awaiting(struct sim *s, const struct chan *c, const struct out_frame *f);

/* Holds a reply back until `release`: the request it answers stays on the wire. */
static void hold(struct sim *s, struct chan *c, const uint8_t *b, size_t n, int64_t t_us)
{
	if (c->nheld == MAX_Q || n > sizeof c->held[0].b)
		return;
	struct out_frame *f = &c->held[c->nheld++];
	*f = (struct out_frame){.due_us = t_us, .len = n};
	memcpy(f->b, b, n);
	s->held_total++;
	log_frame(s, "held", c, b, n, t_us);
	answer_awaiting(s, c, f);
}

/* Queues a reply, unless a fate set on the control socket drops or holds it. The button
 * box's bytes are not replies: they always go. */
static void queue(struct sim *s, struct chan *c, const uint8_t *b, size_t n, size_t req_len,
		  int64_t t_us)
{
	if (c->kind == CH_BOX || is_cuff(c) || s->nfates == 0) {
		enqueue(s, c, b, n, req_len, t_us);
		return;
	}
	enum reply_fate fate = s->fate[0];
	memmove(&s->fate[0], &s->fate[1], sizeof s->fate[0] * (size_t)--s->nfates);
	if (fate == FATE_DROP)
		log_frame(s, "tx-dropped", c, b, n, t_us);
	else
		hold(s, c, b, n, t_us);
}

/* `release[=MS]`: every held reply leaves, in the order it was held, the first now and
 * each next one MS later (default 0): a device sending a backlog of late replies. */
static int release_held(struct sim *s, int64_t t_us, int spacing_ms)
{
	int n = 0;
	for (int i = 0; i < s->nch; i++) {
		struct chan *c = &s->ch[i];
		for (int k = 0; k < c->nheld; k++, n++) {
			int64_t at_us = t_us + (int64_t)n * spacing_ms * 1000;
			enqueue(s, c, c->held[k].b, c->held[k].len, 0, at_us);
			c->backlog_until_us = at_us;
		}
		c->nheld = 0;
	}
	return n;
}

static void rtu_act(struct sim *s, struct chan *c, int64_t t_us);

static void send_due(struct sim *s, int64_t t_us)
{
	for (int i = 0; i < s->nch; i++) {
		struct chan *c = &s->ch[i];
		if (c->pending && c->pending_at_us <= t_us)
			rtu_act(s, c, c->pending_at_us);
		while (c->nq && c->q[0].due_us <= t_us) {
			struct out_frame *f = &c->q[0];
			/* Stamped before the write: whatever the peer does in answer comes later. */
			int64_t at = now_us();
			ssize_t w = (s->dev.wire_faults & SIM_F_DISCONNECT) || c->fd < 0
				? 0 : write(c->fd, f->b, f->len);
			log_frame(s, w == (ssize_t)f->len ? "tx" : c->fd < 0 ? "tx-unplugged" : "tx-lost",
				  c, f->b, f->len, at);
			memmove(&c->q[0], &c->q[1], sizeof c->q[0] * (size_t)(c->nq - 1));
			c->nq--;
		}
	}
}

static int64_t next_due(const struct sim *s)
{
	int64_t d = INT64_MAX;
	for (int i = 0; i < s->nch; i++) {
		if (s->ch[i].nq && s->ch[i].q[0].due_us < d)
			d = s->ch[i].q[0].due_us;
		if (s->ch[i].pending && s->ch[i].pending_at_us < d)
			d = s->ch[i].pending_at_us;
	}
	if (s->has_cuff && sim_cuff_next_due(&s->cuff) < d)
		d = sim_cuff_next_due(&s->cuff);
	return d;
}

/* ---- Modbus RTU and TCP ------------------------------------------------------------------ */

/* Acts on a request (read or write the device at ms) and queues the reply. */
static void rtu_reply(struct sim *s, struct chan *c, const uint8_t *f, size_t n, int64_t ms,
		      size_t req_len, int64_t t_us)
{
	uint8_t resp[260];
	size_t len;
	if (c->kind == CH_CUFF_RTU) {
		sim_cuff_heard(&s->cuff, t_us);
		len = sim_cuff_pdu(&s->cuff, f + 1, n - 3, resp + 1, t_us);
	} else {
		sim_dev_heard(&s->dev, ms);
		len = sim_modbus_pdu(&s->dev, &s->prof, f + 1, n - 3, resp + 1, ms);
	}
	if (f[0] == 0 || len == 0)
		return; /* broadcast: no reply */
	resp[0] = (uint8_t)s->unit_id;
	uint16_t rc = sim_modbus_crc16(resp, len + 1);
	resp[len + 1] = (uint8_t)(rc & 0xFF);
	resp[len + 2] = (uint8_t)(rc >> 8);
	if (s->dev.wire_faults & SIM_F_BAD_CRC)
		resp[len + 2] ^= 0x5A;
	queue(s, c, resp, len + 3, req_len, t_us);
}

/* A paced request has arrived whole: the device acts on it at t_us. */
static void rtu_act(struct sim *s, struct chan *c, int64_t t_us)
{
	c->pending = false;
	rtu_reply(s, c, c->pending_req, c->pending_len, t_us / 1000, 0, t_us);
}

static void rtu_frame(struct sim *s, struct chan *c, const uint8_t *f, size_t n, int64_t t_us)
{
	int64_t ms = t_us / 1000;
	uint16_t crc = sim_modbus_crc16(f, n - 2);
	if (f[n - 2] != (crc & 0xFF) || f[n - 1] != (crc >> 8)) {
		log_frame(s, "rx-bad-crc", c, f, n, t_us);
		return;
	}
	if (f[0] != s->unit_id && f[0] != 0) {
		log_frame(s, "rx-other-unit", c, f, n, t_us);
		return;
	}
	if (s->dev.wire_faults & SIM_F_NO_REPLY) {
		log_frame(s, "rx-lost", c, f, n, t_us);
		return;
	}
	log_frame(s, "rx", c, f, n, t_us); /* stamped when its first byte is on the line */
	if (s->baud > 0) {
		if (c->pending)
			rtu_act(s, c, c->pending_at_us); /* a master that did not wait: act now */
		int64_t char_us = 11000000 / s->baud;
		int64_t start = t_us > c->line_free_us ? t_us : c->line_free_us;
		c->pending = true;
		c->pending_at_us = start + (int64_t)n * char_us + rtu_gap_us(s, c);
		c->pending_len = n;
		memcpy(c->pending_req, f, n);
		return;
	}
	rtu_reply(s, c, f, n, ms, n, t_us);
}

static void rtu_input(struct sim *s, struct chan *c, int64_t t_us, bool silence)
{
	while (c->rx_len >= 2) {
		int need = sim_rtu_request_len(c->rx, c->rx_len);
		if (need == 0 || (need > 0 && c->rx_len < (size_t)need)) {
			if (!silence || need > 256)
				return;
			log_frame(s, "rx-partial", c, c->rx, c->rx_len, t_us);
			c->rx_len = 0;
			return;
		}
		if (need < 0) {
			/* Unknown function: the frame ends at the silence; answer it if its CRC
			 * holds (illegal function), else drop it. */
			if (!silence)
				return;
			need = (int)c->rx_len;
		}
		if (need < 4) {
			c->rx_len = 0;
			return;
		}
		uint16_t crc = sim_modbus_crc16(c->rx, (size_t)need - 2);
		bool crc_ok = c->rx[need - 2] == (crc & 0xFF) && c->rx[need - 1] == (crc >> 8);
		if (!crc_ok) {
			/* Lost sync: drop everything; the master retries after its timeout. */
			log_frame(s, "rx-bad-crc", c, c->rx, c->rx_len, t_us);
			c->rx_len = 0;
			return;
		}
		rtu_frame(s, c, c->rx, (size_t)need, t_us);
		memmove(c->rx, c->rx + need, c->rx_len - (size_t)need);
		c->rx_len -= (size_t)need;
	}
	if (silence)
		c->rx_len = 0;
}

static void tcp_input(struct sim *s, int i, int64_t t_us)
{
	struct chan *c = &s->ch[i];
	while (c->rx_len >= 7) {
		size_t len = (size_t)(c->rx[4] << 8 | c->rx[5]);
		if (len < 2 || len > 254 || c->rx[2] || c->rx[3]) {
			log_frame(s, "rx-bad-mbap", c, c->rx, c->rx_len, t_us);
			drop_chan(s, i);
			return;
		}
		if (c->rx_len < 6 + len)
			return;
		uint8_t *f = c->rx;
		int64_t ms = t_us / 1000;
		uint8_t uid = f[6];
		if (s->dev.wire_faults & SIM_F_NO_REPLY) {
			log_frame(s, "rx-lost", c, f, 6 + len, t_us);
		} else if (uid != s->unit_id && uid != 0 && uid != 0xFF) {
			log_frame(s, "rx-other-unit", c, f, 6 + len, t_us);
		} else {
			log_frame(s, "rx", c, f, 6 + len, t_us);
			uint8_t resp[270];
			size_t n;
			if (c->kind == CH_CUFF_TCP) {
				sim_cuff_heard(&s->cuff, t_us);
				n = sim_cuff_pdu(&s->cuff, f + 7, len - 1, resp + 7, t_us);
			} else {
				sim_dev_heard(&s->dev, ms);
				n = sim_modbus_pdu(&s->dev, &s->prof, f + 7, len - 1, resp + 7, ms);
			}
			memcpy(resp, f, 4);
			resp[4] = (uint8_t)((n + 1) >> 8);
			resp[5] = (uint8_t)(n + 1);
			resp[6] = uid;
			if (s->dev.wire_faults & SIM_F_BAD_CRC)
				resp[7] ^= 0x40; /* no CRC on TCP: corrupt the function code instead */
			queue(s, c, resp, n + 7, 6 + len, t_us);
		}
		memmove(c->rx, c->rx + 6 + len, c->rx_len - 6 - len);
		c->rx_len -= 6 + len;
	}
}

/* ---- Trackmaster and the button box ---------------------------------------------------------- */

static void tm_input(struct sim *s, struct chan *c, int64_t t_us, bool silence)
{
	if (s->dev.wire_faults & SIM_F_NO_REPLY) {
		log_frame(s, "rx-lost", c, c->rx, c->rx_len, t_us);
		c->rx_len = 0;
		return;
	}
	while (c->rx_len) {
		uint8_t resp[8];
		size_t rlen;
		size_t used = sim_trackmaster_handle(&s->dev, c->rx, c->rx_len, resp, &rlen, t_us / 1000);
		if (used == 0) {
			if (silence) {
				log_frame(s, "rx-partial", c, c->rx, c->rx_len, t_us);
				c->rx_len = 0;
			}
			return;
		}
		log_frame(s, "rx", c, c->rx, used, t_us);
		if (rlen && (s->dev.wire_faults & SIM_F_BAD_CRC))
			resp[rlen - 1] = rlen > 1 ? 'x' : 0x7F; /* a corrupted digit or ack */
		if (rlen)
			queue(s, c, resp, rlen, used, t_us);
		memmove(c->rx, c->rx + used, c->rx_len - used);
		c->rx_len -= used;
	}
}

static void log_event(struct sim *s, int64_t t_us, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void patient_box(struct sim *s, int64_t t_us)
{
	struct chan *box = NULL;
	for (int i = 0; i < s->nch; i++)
		if (s->ch[i].kind == CH_BOX)
			box = &s->ch[i];
	for (int k = 0; k < 2; k++)
		while (s->dev.box_pending[k] > 0) {
			s->dev.box_pending[k]--;
			uint8_t b = k ? '2' : '1';
			if (box)
				queue(s, box, &b, 1, 0, t_us);
		}
	/* The cuff's foot switch: a third key on the same box. */
	for (; s->cuff.box_pending > 0; s->cuff.box_pending--) {
		uint8_t b = '3';
		if (box)
			queue(s, box, &b, 1, 0, t_us);
		else
			log_event(s, t_us, "cuff-footswitch-lost no --button-box");
	}
}

/* ---- unplugging and plugging a pty channel -------------------------------------------------- */

static void log_event(struct sim *s, int64_t t_us, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void log_event(struct sim *s, int64_t t_us, const char *fmt, ...)
{
	if (!s->log)
		return;
	fprintf(s->log, "%lld.%06lld event ", (long long)(t_us / 1000000),
		(long long)(t_us % 1000000));
	va_list ap;
	va_start(ap, fmt);
	vfprintf(s->log, fmt, ap);
	va_end(ap);
	fputc('\n', s->log);
	fflush(s->log);
}

/* The adapter is pulled out: the pty goes (closing the master hangs up the host's open
 * slave: its reads return 0 or EIO, poll reports POLLHUP, writes fail), and so does the
 * node's name. Replies still queued are lost. The device model runs on: with nothing
 * heard, its own watchdog stops the belt. */
static void unplug(struct sim *s, struct chan *c, int64_t t_us)
{
	for (int k = 0; k < c->nq; k++)
		log_frame(s, "tx-unplugged", c, c->q[k].b, c->q[k].len, t_us);
	for (int k = 0; k < c->nheld; k++)
		log_frame(s, "tx-unplugged", c, c->held[k].b, c->held[k].len, t_us);
	c->nq = 0;
	c->nheld = 0;
	c->rx_len = 0;
	c->pending = false; /* a request still crossing the line is lost with it */
	close(c->fd);
	close(c->slave_fd);
	c->fd = c->slave_fd = -1;
	unlink(c->link);
	c->unplugged = true;
	log_event(s, t_us, "unplug %s %s link=%s", c->name, c->pts, c->link);
}

/* Plugged back: a new pty (a new node, as a re-enumerated adapter), LINK re-pointed at
 * it. Returns 0, or -1 with why set (the channel stays unplugged). */
static int plug(struct sim *s, struct chan *c, int64_t t_us, char *why, size_t n)
{
	if (pty_attach(c, why, n))
		return -1;
	log_event(s, t_us, "plug %s %s link=%s", c->name, c->pts, c->link);
	return 0;
}

/* Plugs back every unplugged channel; returns 0, or -1 with why set. */
static int plug_all(struct sim *s, int64_t t_us, char *why, size_t n)
{
	int rc = 0;
	for (int i = 0; i < s->nch; i++)
		if (s->ch[i].unplugged && plug(s, &s->ch[i], t_us, why, n))
			rc = -1;
	return rc;
}

static bool is_pty(const struct chan *c)
{
	return c->kind != CH_TCP && c->kind != CH_CUFF_TCP;
}

/* `unplug[=treadmill|box|all]` (default: the treadmill's channel) and `plug[=...]`
 * (default: every channel unplugged). Returns 1 if line is one of them (reply in msg,
 * *rc 0 or -1), 0 if it is not. */
static bool is_word(const char *line, const char *word)
{
	size_t n = strlen(word);
	return !strncmp(line, word, n) && (!line[n] || line[n] == '=');
}

static bool is_plug_command(const char *line)
{
	return is_word(line, "unplug") || is_word(line, "plug");
}

static int plug_command(struct sim *s, const char *line, int64_t t_us, char *msg, size_t n,
			int *rc)
{
	bool out = is_word(line, "unplug"), in = is_word(line, "plug");
	if (!out && !in)
		return 0;
	const char *cmd = out ? "unplug" : "plug";
	const char *arg = line + strlen(cmd);
	arg = *arg ? arg + 1 : out ? "treadmill" : "all";
	bool tread = !strcmp(arg, "treadmill"), box = !strcmp(arg, "box"), all = !strcmp(arg, "all");
	bool cuff = !strcmp(arg, "cuff");
	*rc = -1;
	if (!tread && !box && !all && !cuff) {
		snprintf(msg, n, "%s: unknown channel '%s' (treadmill, box, cuff, all)", cmd, arg);
		return 1;
	}
	int matched = 0, changed = 0;
	char why[400] = "";
	for (int i = 0; i < s->nch; i++) {
		struct chan *c = &s->ch[i];
		if (!is_pty(c) || (tread && (c->kind == CH_BOX || is_cuff(c))) ||
		    (box && c->kind != CH_BOX) || (cuff && !is_cuff(c)))
			continue;
		matched++;
		if (out && !c->unplugged) {
			unplug(s, c, t_us);
			changed++;
		} else if (in && c->unplugged) {
			if (plug(s, c, t_us, why, sizeof why)) {
				snprintf(msg, n, "plug: %s", why);
				return 1;
			}
			changed++;
		}
	}
	if (!matched) {
		snprintf(msg, n, "%s: no such pty channel (%s)%s", cmd, arg,
			 s->listen_fd >= 0 ? "; Modbus TCP has no cable to pull: use disconnect" : "");
		return 1;
	}
	*rc = 0;
	snprintf(msg, n, "ok %s%s", line, changed ? "" : out ? " (already unplugged)" : " (already plugged)");
	return 1;
}

/* "modbus-rtu,button-box" or "none": the channels unplugged now. */
static void unplugged_names(const struct sim *s, char *out, size_t n)
{
	size_t len = 0;
	out[0] = '\0';
	for (int i = 0; i < s->nch; i++)
		if (s->ch[i].unplugged && len < n)
			len += (size_t)snprintf(out + len, n - len, "%s%s", len ? "," : "", s->ch[i].name);
	if (!out[0])
		snprintf(out, n, "none");
}

/* ---- control socket ----------------------------------------------------------------------------- */

static void log_control(struct sim *s, int64_t t_us, const char *line, const char *msg)
{
	if (!s->log)
		return;
	fprintf(s->log, "%lld.%06lld control %s -> %s\n", (long long)(t_us / 1000000),
		(long long)(t_us % 1000000), line, msg);
	fflush(s->log); /* tests wait on these lines */
}

/* "ok held CHANNEL HEX...": what the reply held was. */
static void held_line(const struct chan *c, const struct out_frame *f, char *msg, size_t n)
{
	size_t len = (size_t)snprintf(msg, n, "ok held %s", c->name);
	for (size_t k = 0; k < f->len && len + 4 < n; k++)
		len += (size_t)snprintf(msg + len, n - len, " %02X", f->b[k]);
}

/* A reply was just held: the request it answers is on the wire. Tells whoever waits for
 * this many replies held. */
static void answer_awaiting(struct sim *s, const struct chan *c, const struct out_frame *f)
{
	char msg[1000];
	held_line(c, f, msg, sizeof msg);
	for (int i = 0; i < MAX_CTL; i++)
		if (s->ctl[i] >= 0 && s->ctl_awaiting[i] && s->held_total >= s->ctl_awaiting[i]) {
			s->ctl_awaiting[i] = 0;
			log_control(s, f->due_us, "await-held", msg);
			dprintf(s->ctl[i], "%s\n", msg);
		}
}

/* `drop`, `hold`, `release[=MS]`, `await-held[=N]`. Returns 0 if line is none of them, 1 with
 * the reply in msg, 2 when the reply waits (fewer than N replies held since the start,
 * default 1: a count that connections dropped with held replies do not lower). */
static int fate_command(struct sim *s, int i, const char *line, int64_t t_us, char *msg, size_t n)
{
	bool drop = !strcmp(line, "drop"), hold_next = !strcmp(line, "hold");
	if (drop || hold_next) {
		if (s->nfates == MAX_FATES) {
			snprintf(msg, n, "%s: %d reply fates already pending", line, MAX_FATES);
			return 1;
		}
		s->fate[s->nfates++] = drop ? FATE_DROP : FATE_HOLD;
		snprintf(msg, n, "ok %s (%d pending)", line, s->nfates);
		return 1;
	}
	int spacing_ms = 0;
	if (!strcmp(line, "release") || sscanf(line, "release=%d", &spacing_ms) == 1) {
		if (spacing_ms < 0 || spacing_ms > 10000) {
			snprintf(msg, n, "release=%d: spacing is 0..10000 ms", spacing_ms);
			return 1;
		}
		snprintf(msg, n, "ok release %d", release_held(s, t_us, spacing_ms));
		return 1;
	}
	int want = 1;
	if (strcmp(line, "await-held") && sscanf(line, "await-held=%d", &want) != 1)
		return 0;
	if (want < 1) {
		snprintf(msg, n, "await-held=%d: wants 1 or more", want);
		return 1;
	}
	if (s->held_total >= want) {
		snprintf(msg, n, "ok held %d so far", s->held_total);
		return 1;
	}
	s->ctl_awaiting[i] = want;
	return 2;
}

/* The console's emergency-stop reset: a latched stop released once the belt is at rest, as
 * an operator resets the treadmill's stop switch. Nothing restarts the belt: the host must
 * send a start. Lets a benchmark stop the same belt many times (hil/README.md). */
static void estop_reset(struct sim *s, int64_t real_ms, char *msg, size_t n)
{
	struct sim_dev *d = &s->dev;
	tl_belt_advance(&d->belt, sim_dev_sim_ms(d, real_ms));
	if (d->belt.speed_kmh > 0) {
		snprintf(msg, n, "estop-reset: the belt is still moving (%.3f km/h)", d->belt.speed_kmh);
		return;
	}
	bool was = d->belt.estopped;
	tl_belt_reset(&d->belt, sim_dev_sim_ms(d, real_ms));
	snprintf(msg, n, "ok estop-reset%s", was ? "" : " (none was latched)");
}

static void control_line(struct sim *s, int i, const char *line, int64_t t_us)
{
	char msg[1000];
	int64_t ms = t_us / 1000;
	int plug_rc, fate = fate_command(s, i, line, t_us, msg, sizeof msg);
	if (fate == 2)
		return; /* answered by answer_awaiting() */
	if (fate == 1) {
		/* answered below */
	} else if (!strcmp(line, "state")) {
		const struct sim_dev *d = &s->dev;
		char out[128];
		unplugged_names(s, out, sizeof out);
		snprintf(msg, sizeof msg, "ok running=%d speed_kmh=%.3f grade_pct=%.2f "
			 "watchdog_ms=%u watchdog_tripped=%d key_pulled=%d fault_code=%d boot=%u "
			 "homing=%d buttons=%u unplugged=%s", d->belt.running, d->belt.speed_kmh,
			 d->belt.grade_pct, d->watchdog_ms, d->watchdog_tripped, d->key_pulled,
			 d->drive_fault_code, d->boot_count, sim_dev_homing(d, ms),
			 sim_dev_button_bits(d, ms), out);
	} else if (!strcmp(line, "estop-reset")) {
		estop_reset(s, ms, msg, sizeof msg);
	} else if (s->has_cuff && sim_cuff_control(&s->cuff, line, t_us, msg, sizeof msg, &plug_rc)) {
		/* answered below */
	} else if (!plug_command(s, line, t_us, msg, sizeof msg, &plug_rc)) {
		/* `clear` also plugs back whatever is unplugged, as it ends every fault. */
		char why[400];
		if (sim_dev_control(&s->dev, line, ms, msg, sizeof msg) == 0 &&
		    !strcmp(line, "clear") && plug_all(s, t_us, why, sizeof why))
			snprintf(msg, sizeof msg, "clear: faults cleared, but plug: %s", why);
	}
	log_control(s, t_us, line, msg);
	dprintf(s->ctl[i], "%s\n", msg);
}

static void control_input(struct sim *s, int i, int64_t t_us)
{
	ssize_t r = read(s->ctl[i], s->ctl_buf[i] + s->ctl_len[i],
			 sizeof s->ctl_buf[i] - 1 - s->ctl_len[i]);
	if (r <= 0) {
		if (r < 0 && errno == EAGAIN)
			return;
		close(s->ctl[i]);
		s->ctl[i] = -1;
		s->ctl_len[i] = 0;
		s->ctl_awaiting[i] = 0;
		return;
	}
	s->ctl_len[i] += (size_t)r;
	s->ctl_buf[i][s->ctl_len[i]] = '\0';
	char *nl;
	while ((nl = strchr(s->ctl_buf[i], '\n'))) {
		*nl = '\0';
		if (nl > s->ctl_buf[i] && nl[-1] == '\r')
			nl[-1] = '\0';
		if (s->ctl_buf[i][0])
			control_line(s, i, s->ctl_buf[i], t_us);
		size_t used = (size_t)(nl + 1 - s->ctl_buf[i]);
		memmove(s->ctl_buf[i], nl + 1, s->ctl_len[i] - used + 1);
		s->ctl_len[i] -= used;
	}
	if (s->ctl_len[i] == sizeof s->ctl_buf[i] - 1)
		s->ctl_len[i] = 0; /* an overlong line: forget it */
}

/* ---- the loop --------------------------------------------------------------------------------------- */

static void accept_tcp(struct sim *s)
{
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if ((s->dev.wire_faults & SIM_F_DISCONNECT) || s->nch == MAX_CH) {
		close(fd);
		return;
	}
	add_chan(s, CH_TCP, fd, "modbus-tcp");
}

static void accept_cuff_tcp(struct sim *s)
{
	int fd = accept4(s->cuff_listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if ((s->dev.wire_faults & SIM_F_DISCONNECT) || s->nch == MAX_CH) {
		close(fd);
		return;
	}
	add_chan(s, CH_CUFF_TCP, fd, "cuff-modbus-tcp");
}

static void accept_control(struct sim *s)
{
	int fd = accept4(s->ctl_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	for (int i = 0; i < MAX_CTL; i++)
		if (s->ctl[i] < 0) {
			s->ctl[i] = fd;
			s->ctl_len[i] = 0;
			s->ctl_awaiting[i] = 0;
			return;
		}
	close(fd);
}

static void chan_input(struct sim *s, int i, int64_t t_us)
{
	struct chan *c = &s->ch[i];
	ssize_t r = read(c->fd, c->rx + c->rx_len, sizeof c->rx - c->rx_len);
	if (r <= 0) {
		if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
			if (c->kind == CH_TCP || c->kind == CH_CUFF_TCP)
				drop_chan(s, i);
		}
		return;
	}
	if (s->dev.wire_faults & SIM_F_DISCONNECT) {
		log_frame(s, "rx-unplugged", c, c->rx + c->rx_len, (size_t)r, t_us);
		return;
	}
	c->rx_len += (size_t)r;
	c->rx_last_us = t_us;
	switch (c->kind) {
	case CH_RTU:
	case CH_CUFF_RTU:
		rtu_input(s, c, t_us, false);
		break;
	case CH_TCP:
	case CH_CUFF_TCP:
		tcp_input(s, i, t_us); /* may drop the channel: c is stale after this */
		return;
	case CH_TM:
		tm_input(s, c, t_us, false);
		break;
	case CH_BOX:
	case CH_CUFF_TEXT:
		c->rx_len = 0; /* the box and the gauge only talk */
		break;
	}
	if (c->rx_len == sizeof c->rx)
		c->rx_len = 0;
}

static void silences(struct sim *s, int64_t t_us)
{
	int64_t rtu_silence = SILENCE_US;
	if (s->baud > 0)
		rtu_silence = s->baud > 19200 ? 1750 : 11000000 / s->baud * 7 / 2;
	for (int i = 0; i < s->nch; i++) {
		struct chan *c = &s->ch[i];
		if (!c->rx_len)
			continue;
		if ((c->kind == CH_RTU || c->kind == CH_CUFF_RTU) && t_us - c->rx_last_us >= rtu_silence)
			rtu_input(s, c, t_us, true);
		else if (c->kind == CH_TM && t_us - c->rx_last_us >= PARTIAL_TM_US)
			tm_input(s, c, t_us, true);
	}
}

static void disconnect_tcp(struct sim *s)
{
	for (int i = s->nch - 1; i >= 0; i--)
		if (s->ch[i].kind == CH_TCP || s->ch[i].kind == CH_CUFF_TCP)
			drop_chan(s, i);
}

/* The cuff's model, and the line its gauge prints when one is due. */
static void cuff_advance(struct sim *s, int64_t t)
{
	struct chan *text = NULL;
	for (int i = 0; i < s->nch; i++)
		if (s->ch[i].kind == CH_CUFF_TEXT)
			text = &s->ch[i];
	char line[200];
	size_t n = sim_cuff_advance(&s->cuff, t, text != NULL, line, sizeof line);
	if (n && text && text->fd >= 0)
		queue(s, text, (const uint8_t *)line, n, 0, t);
}

static void run(struct sim *s, const sigset_t *unblocked)
{
	while (!stop_requested) {
		int64_t t = now_us();
		sim_dev_advance(&s->dev, t / 1000);
		log_belt(s, t);
		if (s->has_cuff)
			cuff_advance(s, t);
		patient_box(s, t);
		if (s->dev.wire_faults & SIM_F_DISCONNECT)
			disconnect_tcp(s);
		send_due(s, t);
		silences(s, t);
		struct pollfd p[MAX_CH + MAX_CTL + 3];
		int n = 0;
		for (int i = 0; i < s->nch; i++)
			p[n++] = (struct pollfd){.fd = s->ch[i].fd, .events = POLLIN};
		int listen_at = n;
		p[n++] = (struct pollfd){.fd = s->listen_fd, .events = POLLIN};
		p[n++] = (struct pollfd){.fd = s->ctl_fd, .events = POLLIN};
		p[n++] = (struct pollfd){.fd = s->cuff_listen_fd, .events = POLLIN};
		int ctl_at = n;
		for (int i = 0; i < MAX_CTL; i++)
			p[n++] = (struct pollfd){.fd = s->ctl[i], .events = POLLIN};
		int64_t wait_us = TICK_MS * 1000;
		int64_t due = next_due(s);
		if (due != INT64_MAX && due - t < wait_us)
			wait_us = due - t > 0 ? due - t : 0;
		struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)wait_us * 1000};
		int r = ppoll(p, (nfds_t)n, &ts, unblocked);
		if (r <= 0)
			continue;
		t = now_us();
		int nch = s->nch;
		for (int i = nch - 1; i >= 0; i--)
			if (p[i].revents & (POLLIN | POLLHUP | POLLERR))
				chan_input(s, i, t);
		if (p[listen_at].revents & POLLIN)
			accept_tcp(s);
		if (p[listen_at + 1].revents & POLLIN)
			accept_control(s);
		if (p[listen_at + 2].revents & POLLIN)
			accept_cuff_tcp(s);
		for (int i = 0; i < MAX_CTL; i++)
			if (s->ctl[i] >= 0 && (p[ctl_at + i].revents & (POLLIN | POLLHUP)))
				control_input(s, i, t);
		log_belt(s, t);
	}
}

static void cleanup(struct sim *s)
{
	for (int i = 0; i < s->nch; i++) {
		if (s->ch[i].unplugged)
			continue; /* no pty, and LINK already removed */
		if (s->ch[i].link[0])
			unlink(s->ch[i].link);
		if (s->ch[i].slave_fd >= 0)
			close(s->ch[i].slave_fd);
		close(s->ch[i].fd);
	}
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	if (s->cuff_listen_fd >= 0)
		close(s->cuff_listen_fd);
	for (int i = 0; i < MAX_CTL; i++)
		if (s->ctl[i] >= 0)
			close(s->ctl[i]);
	if (s->ctl_fd >= 0) {
		close(s->ctl_fd);
		unlink(s->ctl_path);
	}
	if (s->log)
		fclose(s->log);
}

/* ---- options ------------------------------------------------------------------------------------- */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: treadsim (--modbus-rtu LINK | --modbus-tcp ADDR:PORT | --trackmaster LINK)\n"
		"                [options]\n"
		"  --modbus-rtu LINK      Modbus RTU slave on a pty; LINK becomes a symlink to it\n"
		"  --modbus-tcp ADDR:PORT Modbus TCP slave on loopback (port 0: any free port)\n"
		"  --tcp-port-file FILE   write the TCP port actually used to FILE before 'ready'\n"
		"  --trackmaster LINK     Trackmaster protocol on a pty\n"
		"  --button-box LINK2     a second pty on which the patient's button box sends\n"
		"                         '1' (onset) and '2' (max), with any treadmill channel\n"
		"  --profile FILE         Modbus register map (default: %s)\n"
		"  --unit-id N            Modbus unit id (default 1)\n"
		"  --watchdog-ms N        the Modbus watchdog register at power-up; 0 = off\n"
		"                         (default 1000)\n"
		"  --patient-onset S      the patient presses onset S seconds after the belt starts\n"
		"  --patient-max S        ... and max\n"
		"  --time-scale K         the belt and the patient run K times faster (watchdogs and\n"
		"                         wire timing stay in real time)\n"
		"  --fault NAME           inject a fault from the start (repeatable): no-reply,\n"
		"                         bad-crc, late-reply[=MS], disconnect, unplug[=CH],\n"
		"                         belt-stall, lift-stuck, key-pulled, drive-fault[=CODE],\n"
		"                         stop-button, reboot\n"
		"                         disconnect: a silent line (pty: nothing in or out; TCP:\n"
		"                         connections dropped and refused)\n"
		"                         unplug[=treadmill|box|all]: a USB-serial adapter pulled\n"
		"                         out (default: the treadmill's pty): the pty is closed, so\n"
		"                         the host's open slave hangs up, and LINK is removed; the\n"
		"                         belt runs on until the device's own watchdog stops it\n"
		"  --control PATH         Unix socket taking the same names, 'plug', 'clear',\n"
		"                         'state', 'press-onset', 'press-max', one per line;\n"
		"                         replies one line ('ok ...' or an error)\n"
		"                         plug[=treadmill|box|all]: plugged back (default: all\n"
		"                         that is unplugged): a fresh pty, LINK re-pointed at its\n"
		"                         new slave; the host must reopen it\n"
		"                         clear: every fault off, a watchdog trip reset, all\n"
		"                         plugged back (the belt is never restarted)\n"
		"                         estop-reset: a latched emergency stop released once\n"
		"                         the belt is at rest (the belt is not restarted)\n"
		"                         drop / hold: the next reply not yet given a fate is\n"
		"                         dropped (its request acted on) / held until\n"
		"                         'release[=MS]' (held replies leave MS apart);\n"
		"                         'await-held[=N]' answers 'ok held CHANNEL HEX...' once\n"
		"                         N (default 1) have been held (requests on the wire)\n"
		"  --baud N               pace replies as if bytes crossed a line at N baud\n"
		"  --log FILE             log every frame received and sent (CLOCK_MONOTONIC s),\n"
		"                         control commands and events: 'event belt-start',\n"
		"                         'event belt-stop WHY last_rx=S', 'event unplug CHANNEL\n"
		"                         PTS link=LINK', 'event plug CHANNEL NEW_PTS link=LINK'\n"
		"  --cuff-modbus-rtu LINK a simulated cuff inflator, Modbus RTU on its own pty\n"
		"  --cuff-modbus-tcp ADDR:PORT  ... or Modbus TCP on loopback (port 0: any)\n"
		"  --cuff-tcp-port-file FILE    write the cuff's TCP port to FILE before 'ready'\n"
		"  --cuff-text LINK       a cuff gauge printing a line every period on a pty\n"
		"  --cuff-scenario FILE   the virtual patient's true pressures per site (required\n"
		"                         with a cuff; format in hil/README.md)\n"
		"  --cuff-profile FILE    the cuff's register map (default: %s)\n"
		"  --cuff-watchdog-ms N   the cuff vents when no request came for N ms while it\n"
		"                         is inflated (default 1000)\n"
		"  --cuff-text-format F   the gauge's line, {site} and {mmhg} replaced\n"
		"                         (default '{site} {mmhg} mmHg')\n"
		"  --cuff-text-period-ms N  a line every N ms (default 50)\n"
		"  --cuff-inflate-mmhg-s R  the pump's (or the hand bulb's) rate (default 25)\n"
		"  --cuff-follow          the technician follows a guided series in the\n"
		"                         scenario's order: after a marked cycle is vented, the\n"
		"                         probe goes to the next site (then the next phase) and,\n"
		"                         reaction_ms later, the foot switch is pressed again\n"
		"                         (Modbus: the daemon inflates) or the gauge is inflated\n"
		"                         by hand again (text); 'event cuff-follow site=S phase=P'\n"
		"                         The foot switch (the Doppler's 'signal back') is key '3'\n"
		"                         of --button-box. Control: cuff-state, cuff-site=NAME,\n"
		"                         cuff-phase=rest|MIN, cuff-cycle[=MMHG] (a technician's\n"
		"                         inflation, deflated at cuff-rate=MMHG_S, vented after the\n"
		"                         press), cuff-garble=N (N bad lines), cuff-stuck=1|0,\n"
		"                         cuff-stall=1|0 (a deflation holds), cuff-doppler=1|0\n"
		"                         (0: no signal back, no press), unplug=cuff / plug=cuff. Log events: 'event cuff-inflate',\n"
		"                         'event cuff-deflate', 'event cuff-signal-back',\n"
		"                         'event cuff-footswitch', 'event cuff-vent WHY', 'event\n"
		"                         cuff-idle'\n"
		"  --version              print the version and exit\n",
		TREADSIM_PROFILE, TREADSIM_CUFF_PROFILE);
}

static double num_opt(const char *name, const char *v, double lo, double hi)
{
	char *end;
	double d = strtod(v, &end);
	if (end == v || *end || !(d >= lo && d <= hi))
		die("%s: '%s' is not a number in %g..%g", name, v, lo, hi);
	return d;
}

static struct sim s;

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"modbus-rtu", required_argument, 0, 'r'}, {"modbus-tcp", required_argument, 0, 't'},
		{"tcp-port-file", required_argument, 0, 'P'}, {"trackmaster", required_argument, 0, 'm'},
		{"button-box", required_argument, 0, 'b'}, {"profile", required_argument, 0, 'p'},
		{"unit-id", required_argument, 0, 'u'}, {"watchdog-ms", required_argument, 0, 'w'},
		{"patient-onset", required_argument, 0, 'o'}, {"patient-max", required_argument, 0, 'x'},
		{"time-scale", required_argument, 0, 'k'}, {"fault", required_argument, 0, 'f'},
		{"control", required_argument, 0, 'c'}, {"baud", required_argument, 0, 'B'},
		{"log", required_argument, 0, 'l'}, {"help", no_argument, 0, 'h'},
		{"version", no_argument, 0, 'V'},
		{"cuff-modbus-rtu", required_argument, 0, 1001}, {"cuff-modbus-tcp", required_argument, 0, 1002},
		{"cuff-tcp-port-file", required_argument, 0, 1003}, {"cuff-text", required_argument, 0, 1004},
		{"cuff-scenario", required_argument, 0, 1005}, {"cuff-profile", required_argument, 0, 1006},
		{"cuff-watchdog-ms", required_argument, 0, 1007},
		{"cuff-text-format", required_argument, 0, 1008},
		{"cuff-text-period-ms", required_argument, 0, 1009},
		{"cuff-inflate-mmhg-s", required_argument, 0, 1010}, {"cuff-follow", no_argument, 0, 1011},
		{0, 0, 0, 0},
	};
	const char *cuff_rtu = NULL, *cuff_tcp = NULL, *cuff_port_file = NULL, *cuff_text = NULL;
	const char *cuff_scenario = NULL, *cuff_profile = TREADSIM_CUFF_PROFILE, *cuff_format = NULL;
	int cuff_watchdog = 1000, cuff_period = 50;
	double cuff_inflate = 25;
	bool cuff_follow = false;
	const char *rtu = NULL, *tcp = NULL, *tm = NULL, *box = NULL, *profile = TREADSIM_PROFILE;
	const char *port_file = NULL, *control = NULL, *log_path = NULL;
	const char *faults[16];
	int nfaults = 0, unit = 1, watchdog = 1000, baud = 0;
	double onset = -1, max = -1, scale = 1;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'r': rtu = optarg; break;
		case 't': tcp = optarg; break;
		case 'P': port_file = optarg; break;
		case 'm': tm = optarg; break;
		case 'b': box = optarg; break;
		case 'p': profile = optarg; break;
		case 'u': unit = (int)num_opt("--unit-id", optarg, 1, 247); break;
		case 'w': watchdog = (int)num_opt("--watchdog-ms", optarg, 0, 65535); break;
		case 'o': onset = num_opt("--patient-onset", optarg, 0, 86400); break;
		case 'x': max = num_opt("--patient-max", optarg, 0, 86400); break;
		case 'k': scale = num_opt("--time-scale", optarg, 0.01, 1000); break;
		case 'B': baud = (int)num_opt("--baud", optarg, 300, 4000000); break;
		case 'c': control = optarg; break;
		case 'l': log_path = optarg; break;
		case 'f':
			if (nfaults == 16)
				die("too many --fault options");
			faults[nfaults++] = optarg;
			break;
		case 1001: cuff_rtu = optarg; break;
		case 1002: cuff_tcp = optarg; break;
		case 1003: cuff_port_file = optarg; break;
		case 1004: cuff_text = optarg; break;
		case 1005: cuff_scenario = optarg; break;
		case 1006: cuff_profile = optarg; break;
		case 1007: cuff_watchdog = (int)num_opt("--cuff-watchdog-ms", optarg, 50, 60000); break;
		case 1008: cuff_format = optarg; break;
		case 1009: cuff_period = (int)num_opt("--cuff-text-period-ms", optarg, 5, 10000); break;
		case 1010: cuff_inflate = num_opt("--cuff-inflate-mmhg-s", optarg, 1, 1000); break;
		case 1011: cuff_follow = true; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("treadsim %s\n", TREADLAB_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc)
		die("unexpected argument '%s'", argv[optind]);
	bool cuff = cuff_rtu || cuff_tcp || cuff_text;
	if (!rtu && !tcp && !tm && !cuff) {
		usage(stderr);
		return 2;
	}
	if (tm && (rtu || tcp))
		die("one treadmill at a time: --trackmaster or Modbus, not both");
	if (box && !tm && !rtu && !tcp && !cuff)
		die("--button-box needs a treadmill (--modbus-rtu, --modbus-tcp, --trackmaster) or a cuff");
	if (cuff && !cuff_scenario)
		die("a cuff needs --cuff-scenario FILE (the virtual patient's true pressures)");
	if (!cuff && (cuff_scenario || cuff_port_file || cuff_format || cuff_follow))
		die("--cuff-scenario, --cuff-tcp-port-file, --cuff-text-format and --cuff-follow need a cuff: "
		    "--cuff-modbus-rtu, --cuff-modbus-tcp or --cuff-text");
	if (cuff_format && !strstr(cuff_format, "{mmhg}"))
		die("--cuff-text-format '%s' has no {mmhg}", cuff_format);
	if (cuff_format && strlen(cuff_format) >= sizeof s.cuff.text_format)
		die("--cuff-text-format: longer than %zu characters", sizeof s.cuff.text_format - 1);

	s.listen_fd = -1;
	s.cuff_listen_fd = -1;
	s.ctl_fd = -1;
	for (int i = 0; i < MAX_CTL; i++)
		s.ctl[i] = -1;
	s.unit_id = unit;
	s.baud = baud;
	struct tl_err err;
	if (!tm && tl_modbus_profile_load(profile, &s.prof, &err))
		die("%s", err.msg);
	int64_t t0 = now_us() / 1000;
	sim_dev_init(&s.dev, tm ? SIM_TRACKMASTER : SIM_MODBUS, t0, scale);
	s.dev.watchdog_power_on_ms = (uint16_t)watchdog;
	s.dev.watchdog_ms = (uint16_t)watchdog;
	s.dev.onset_s = onset;
	s.dev.max_s = max;
	for (int i = 0; i < nfaults; i++) {
		char msg[300];
		if (is_plug_command(faults[i]))
			continue; /* once the channels exist, below */
		if (sim_dev_control(&s.dev, faults[i], t0, msg, sizeof msg))
			die("--fault: %s", msg);
	}
	if (log_path && !(s.log = fopen(log_path, "w")))
		die("--log %s: %s", log_path, strerror(errno));
	if (s.log)
		fprintf(s.log, "# treadsim frame log: CLOCK_MONOTONIC seconds, direction, channel, "
			"bytes in hex\n");
	if (cuff) {
		char why[600];
		if (sim_cuff_scenario_load(cuff_scenario, &s.cuff.sc, why, sizeof why))
			die("--cuff-scenario: %s", why);
		if (tl_cuff_profile_load(cuff_profile, &s.cuff.prof, &err))
			die("--cuff-profile: %s", err.msg);
		if (!s.cuff.prof.inflator && (cuff_rtu || cuff_tcp))
			die("--cuff-profile %s is a manometer: the simulated cuff is an inflator", cuff_profile);
		s.has_cuff = true;
		s.cuff.log = s.log;
		s.cuff.commanded = cuff_rtu || cuff_tcp;
		s.cuff.watchdog_ms = cuff_watchdog;
		s.cuff.text_period_ms = cuff_period;
		s.cuff.inflate_rate = cuff_inflate;
		s.cuff.follow = cuff_follow;
		if (cuff_format)
			snprintf(s.cuff.text_format, sizeof s.cuff.text_format, "%s", cuff_format);
		sim_cuff_init(&s.cuff, now_us());
	}

	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigset_t block, unblocked;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &unblocked);

	if (rtu)
		open_pty(&s, CH_RTU, rtu, "modbus-rtu");
	if (tm)
		open_pty(&s, CH_TM, tm, "trackmaster");
	if (box)
		open_pty(&s, CH_BOX, box, "button-box");
	if (tcp)
		s.listen_fd = open_tcp("--modbus-tcp", tcp, port_file);
	if (cuff_rtu)
		open_pty(&s, CH_CUFF_RTU, cuff_rtu, "cuff-modbus-rtu");
	if (cuff_text)
		open_pty(&s, CH_CUFF_TEXT, cuff_text, "cuff-text");
	if (cuff_tcp)
		s.cuff_listen_fd = open_tcp("--cuff-modbus-tcp", cuff_tcp, cuff_port_file);
	if (control)
		open_control(&s, control);
	for (int i = 0; i < nfaults; i++) {
		char msg[600];
		int rc = 0;
		if (plug_command(&s, faults[i], now_us(), msg, sizeof msg, &rc) && rc)
			die("--fault: %s", msg);
	}
	printf("ready\n");
	fflush(stdout);
	run(&s, &unblocked);
	cleanup(&s);
	return 0;
}
