/* serial_link.c - the libserialport and termios backends of the serial link. */
#include "serial_link.h"

#include <errno.h>
#include <fcntl.h>
#include <libserialport.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "tl_log.h"

static void link_err(struct tl_serial_link *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void link_err(struct tl_serial_link *l, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(l->err, sizeof l->err, fmt, ap);
	va_end(ap);
}

long long tl_serial_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Takes the device for ourselves: TIOCEXCL keeps other non-root openers out, flock
 * keeps out cooperating programs (and root ones) that also lock. */
static int lock_fd(struct tl_serial_link *l, int fd, const char *path)
{
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		link_err(l, "%s: in use by another program (%s)", path,
			 errno == EWOULDBLOCK ? "locked" : strerror(errno));
		return -1;
	}
	if (ioctl(fd, TIOCEXCL)) {
		link_err(l, "%s: cannot take exclusive access: %s", path, strerror(errno));
		flock(fd, LOCK_UN);
		return -1;
	}
	return 0;
}

static void unlock_fd(int fd)
{
	ioctl(fd, TIOCNXCL);
	flock(fd, LOCK_UN);
}

/* ---- termios backend ---------------------------------------------------------- */

struct termios_link {
	int fd;              /* -1 once the device hung up (released) */
	struct termios saved;
	char path[200];
};

static int baud_to_speed(int baud, speed_t *out)
{
	static const struct {
		int baud;
		speed_t speed;
	} table[] = {
		{1200, B1200},     {2400, B2400},     {4800, B4800},     {9600, B9600},
		{19200, B19200},   {38400, B38400},   {57600, B57600},   {115200, B115200},
		{230400, B230400}, {460800, B460800}, {921600, B921600},
	};
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
		if (table[i].baud == baud) {
			*out = table[i].speed;
			return 0;
		}
	return -1;
}

/* Polls fd for events; returns poll's count, revents in *revents. */
static int wait_fd(int fd, short events, int timeout_ms, short *revents)
{
	struct pollfd p = {.fd = fd, .events = events};
	for (;;) {
		int n = poll(&p, 1, timeout_ms);
		if (n >= 0 || errno != EINTR) {
			if (revents)
				*revents = n > 0 ? p.revents : 0;
			return n;
		}
	}
}

/* The errors of a tty whose device went away: hung up (EIO), or its driver gone. */
static bool gone_errno(int e)
{
	return e == EIO || e == ENXIO || e == ENODEV;
}

/* The device hung up: a USB-serial adapter pulled out (or a pty whose other end closed)
 * hangs up the tty: reads return 0 or EIO, poll reports POLLHUP, writes fail with EIO,
 * and it stays so. The descriptor is closed at once: a node still held open keeps its
 * name, so the adapter plugged back would come up under another one (ttyUSB1 for
 * ttyUSB0); released, it gets its old name and a reconnect finds it. Every later call
 * fails at once with the same line. */
static int termios_gone(struct tl_serial_link *l)
{
	struct termios_link *t = l->priv;
	if (t->fd >= 0) {
		close(t->fd); /* the lock goes with it; the settings went with the device */
		t->fd = -1;
		TL_DEBUG("%s: the device hung up; released", t->path);
	}
	link_err(l, "%s: the device hung up (unplugged?); reconnect once it is back", t->path);
	return -1;
}

static int termios_read(struct tl_serial_link *l, void *buf, size_t len, int timeout_ms)
{
	struct termios_link *t = l->priv;
	if (t->fd < 0)
		return termios_gone(l);
	short ev;
	int n = wait_fd(t->fd, POLLIN, timeout_ms, &ev);
	if (n < 0) {
		link_err(l, "%s: poll: %s", t->path, strerror(errno));
		return -1;
	}
	if (n == 0)
		return 0;
	if (ev & POLLNVAL)
		return termios_gone(l);
	ssize_t r = read(t->fd, buf, len);
	if (r < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		if (gone_errno(errno))
			return termios_gone(l);
		link_err(l, "%s: read: %s", t->path, strerror(errno));
		return -1;
	}
	if (r == 0)
		return termios_gone(l); /* readable with nothing to read: hung up */
	return (int)r;
}

static int termios_write_all(struct tl_serial_link *l, const void *buf, size_t len,
			     int timeout_ms)
{
	struct termios_link *t = l->priv;
	if (t->fd < 0)
		return termios_gone(l);
	const unsigned char *p = buf;
	long long deadline = tl_serial_now_ms() + timeout_ms;
	while (len) {
		ssize_t w = write(t->fd, p, len);
		if (w > 0) {
			p += w;
			len -= (size_t)w;
			continue;
		}
		if (w < 0 && gone_errno(errno))
			return termios_gone(l);
		if (w < 0 && errno != EAGAIN && errno != EINTR) {
			link_err(l, "%s: write: %s", t->path, strerror(errno));
			return -1;
		}
		long long left = deadline - tl_serial_now_ms();
		short ev = 0;
		if (left <= 0 || wait_fd(t->fd, POLLOUT, (int)left, &ev) <= 0) {
			link_err(l, "%s: write timed out", t->path);
			return -1;
		}
		if (ev & (POLLHUP | POLLNVAL))
			return termios_gone(l);
	}
	/* No tcdrain: a pty has no line to drain, and tcdrain blocks while nobody reads. */
	return 0;
}

static int termios_flush_input(struct tl_serial_link *l)
{
	struct termios_link *t = l->priv;
	if (t->fd < 0)
		return termios_gone(l);
	if (tcflush(t->fd, TCIFLUSH)) {
		if (gone_errno(errno))
			return termios_gone(l);
		link_err(l, "%s: flush: %s", t->path, strerror(errno));
		return -1;
	}
	return 0;
}

static int termios_get_lines(struct tl_serial_link *l, unsigned *lines)
{
	struct termios_link *t = l->priv;
	int m;
	if (t->fd < 0)
		return termios_gone(l);
	if (ioctl(t->fd, TIOCMGET, &m)) {
		if (gone_errno(errno))
			return termios_gone(l);
		link_err(l, "%s: no modem lines (%s)", t->path, strerror(errno));
		return -1;
	}
	*lines = (m & TIOCM_CTS ? TL_LINE_CTS : 0u) | (m & TIOCM_DSR ? TL_LINE_DSR : 0u) |
		 (m & TIOCM_CD ? TL_LINE_DCD : 0u) | (m & TIOCM_RI ? TL_LINE_RI : 0u);
	return 0;
}

static int termios_fd(struct tl_serial_link *l)
{
	return ((struct termios_link *)l->priv)->fd;
}

static void termios_close(struct tl_serial_link *l)
{
	struct termios_link *t = l->priv;
	if (t->fd >= 0) {
		tcsetattr(t->fd, TCSANOW, &t->saved);
		unlock_fd(t->fd);
		close(t->fd);
	}
	free(t);
	l->priv = NULL;
}

static const struct tl_serial_link_ops termios_ops = {
	.name = "termios",
	.read = termios_read,
	.write_all = termios_write_all,
	.flush_input = termios_flush_input,
	.get_lines = termios_get_lines,
	.fd = termios_fd,
	.close = termios_close,
};

int tl_serial_open_fd(struct tl_serial_link *l, int fd, const char *name, int baud)
{
	*l = (struct tl_serial_link){0};
	speed_t speed;
	if (baud_to_speed(baud, &speed)) {
		link_err(l, "%s: unsupported baud rate %d", name, baud);
		close(fd);
		return -1;
	}
	struct termios_link *t = calloc(1, sizeof *t);
	if (!t) {
		link_err(l, "%s: out of memory", name);
		close(fd);
		return -1;
	}
	t->fd = fd;
	snprintf(t->path, sizeof t->path, "%s", name);
	if (lock_fd(l, fd, name)) {
		close(fd);
		free(t);
		return -1;
	}
	if (tcgetattr(fd, &t->saved)) {
		link_err(l, "%s: not a terminal: %s", name, strerror(errno));
		unlock_fd(fd);
		close(fd);
		free(t);
		return -1;
	}
	struct termios raw = t->saved;
	cfmakeraw(&raw);
	raw.c_cflag &= ~(tcflag_t)(CSTOPB | PARENB | CSIZE | CRTSCTS);
	raw.c_cflag |= CS8 | CLOCAL | CREAD;
	raw.c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY);
	raw.c_cc[VMIN] = 0;
	raw.c_cc[VTIME] = 0;
	cfsetispeed(&raw, speed);
	cfsetospeed(&raw, speed);
	if (tcsetattr(fd, TCSANOW, &raw)) {
		link_err(l, "%s: cannot set 8N1 at %d baud: %s", name, baud, strerror(errno));
		unlock_fd(fd);
		close(fd);
		free(t);
		return -1;
	}
	tcflush(fd, TCIFLUSH);
	/* DTR and RTS up: they power a patient button wired to CTS/DSR/DCD. A pty has no
	 * modem lines, so failure here is not an error. */
	int out_lines = TIOCM_DTR | TIOCM_RTS;
	ioctl(fd, TIOCMBIS, &out_lines);
	l->ops = &termios_ops;
	l->priv = t;
	return 0;
}

static int termios_open(struct tl_serial_link *l, const char *path, int baud)
{
	int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		*l = (struct tl_serial_link){0};
		if (errno == ENOENT || gone_errno(errno))
			link_err(l, "%s: %s (unplugged? check the adapter and the device name)", path,
				 errno == ENOENT ? "not found" : "no device behind it");
		else
			link_err(l, "%s: %s", path, strerror(errno));
		return -1;
	}
	return tl_serial_open_fd(l, fd, path, baud);
}

/* ---- libserialport backend ---------------------------------------------------- */

struct sp_link {
	struct sp_port *port;
	struct sp_port_config *saved;
	int fd;
	char path[200];
};

static void sp_link_err(struct tl_serial_link *l, const char *path, const char *what)
{
	char *msg = sp_last_error_message();
	link_err(l, "%s: %s: %s", path, what, msg ? msg : "error");
	sp_free_error_message(msg);
}

static int splink_read(struct tl_serial_link *l, void *buf, size_t len, int timeout_ms)
{
	struct sp_link *s = l->priv;
	enum sp_return r = timeout_ms > 0
		? sp_blocking_read_next(s->port, buf, len, (unsigned)timeout_ms)
		: sp_nonblocking_read(s->port, buf, len);
	if (r < 0) {
		sp_link_err(l, s->path, "read");
		return -1;
	}
	return (int)r;
}

static int splink_write_all(struct tl_serial_link *l, const void *buf, size_t len,
			    int timeout_ms)
{
	struct sp_link *s = l->priv;
	enum sp_return r = sp_blocking_write(s->port, buf, len, (unsigned)(timeout_ms > 0 ? timeout_ms : 1));
	if (r < 0) {
		sp_link_err(l, s->path, "write");
		return -1;
	}
	if ((size_t)r != len) {
		link_err(l, "%s: write timed out (%d of %zu bytes)", s->path, (int)r, len);
		return -1;
	}
	if (sp_drain(s->port) != SP_OK) {
		sp_link_err(l, s->path, "drain");
		return -1;
	}
	return 0;
}

static int splink_flush_input(struct tl_serial_link *l)
{
	struct sp_link *s = l->priv;
	if (sp_flush(s->port, SP_BUF_INPUT) != SP_OK) {
		sp_link_err(l, s->path, "flush");
		return -1;
	}
	return 0;
}

static int splink_get_lines(struct tl_serial_link *l, unsigned *lines)
{
	struct sp_link *s = l->priv;
	enum sp_signal sig;
	if (sp_get_signals(s->port, &sig) != SP_OK) {
		sp_link_err(l, s->path, "modem lines");
		return -1;
	}
	*lines = (sig & SP_SIG_CTS ? TL_LINE_CTS : 0u) | (sig & SP_SIG_DSR ? TL_LINE_DSR : 0u) |
		 (sig & SP_SIG_DCD ? TL_LINE_DCD : 0u) | (sig & SP_SIG_RI ? TL_LINE_RI : 0u);
	return 0;
}

static int splink_fd(struct tl_serial_link *l)
{
	return ((struct sp_link *)l->priv)->fd;
}

static void splink_free(struct sp_link *s)
{
	if (s->saved)
		sp_free_config(s->saved);
	if (s->port)
		sp_free_port(s->port);
	free(s);
}

static void splink_close(struct tl_serial_link *l)
{
	struct sp_link *s = l->priv;
	sp_set_config(s->port, s->saved);
	unlock_fd(s->fd);
	sp_close(s->port);
	splink_free(s);
	l->priv = NULL;
}

static const struct tl_serial_link_ops splink_ops = {
	.name = "libserialport",
	.read = splink_read,
	.write_all = splink_write_all,
	.flush_input = splink_flush_input,
	.get_lines = splink_get_lines,
	.fd = splink_fd,
	.close = splink_close,
};

static int splink_configure(struct tl_serial_link *l, struct sp_link *s, int baud)
{
	if (sp_new_config(&s->saved) != SP_OK || sp_get_config(s->port, s->saved) != SP_OK) {
		sp_link_err(l, s->path, "read settings");
		return -1;
	}
	if (sp_set_baudrate(s->port, baud) != SP_OK || sp_set_bits(s->port, 8) != SP_OK ||
	    sp_set_parity(s->port, SP_PARITY_NONE) != SP_OK ||
	    sp_set_stopbits(s->port, 1) != SP_OK ||
	    sp_set_flowcontrol(s->port, SP_FLOWCONTROL_NONE) != SP_OK ||
	    sp_set_dtr(s->port, SP_DTR_ON) != SP_OK || sp_set_rts(s->port, SP_RTS_ON) != SP_OK) {
		sp_link_err(l, s->path, "set 8N1");
		sp_set_config(s->port, s->saved);
		return -1;
	}
	return 0;
}

/* Returns 0, -1 on a hard error, or 1 when libserialport does not handle this device
 * (the caller falls back to termios). */
static int splink_open(struct tl_serial_link *l, const char *path, int baud)
{
	struct sp_link *s = calloc(1, sizeof *s);
	if (!s) {
		link_err(l, "%s: out of memory", path);
		return -1;
	}
	snprintf(s->path, sizeof s->path, "%s", path);
	if (sp_get_port_by_name(path, &s->port) != SP_OK ||
	    sp_open(s->port, SP_MODE_READ_WRITE) != SP_OK) {
		sp_link_err(l, path, "libserialport cannot open it");
		splink_free(s);
		return 1;
	}
	if (sp_get_port_handle(s->port, &s->fd) != SP_OK || lock_fd(l, s->fd, path)) {
		sp_close(s->port);
		splink_free(s);
		return -1;
	}
	if (splink_configure(l, s, baud)) {
		unlock_fd(s->fd);
		sp_close(s->port);
		splink_free(s);
		return -1;
	}
	sp_flush(s->port, SP_BUF_INPUT);
	l->ops = &splink_ops;
	l->priv = s;
	return 0;
}

/* ---- public ------------------------------------------------------------------- */

int tl_serial_open(struct tl_serial_link *l, const char *path, int baud,
		   enum tl_serial_backend backend)
{
	*l = (struct tl_serial_link){0};
	if (!path || !*path) {
		link_err(l, "no serial device configured");
		return -1;
	}
	if (backend == TL_SERIAL_TERMIOS)
		return termios_open(l, path, baud);
	int r = splink_open(l, path, baud);
	if (r <= 0 || backend == TL_SERIAL_LIBSERIALPORT)
		return r ? -1 : 0;
	return termios_open(l, path, baud);
}

int tl_serial_read(struct tl_serial_link *l, void *buf, size_t len, int timeout_ms)
{
	return l->ops->read(l, buf, len, timeout_ms);
}

int tl_serial_write_all(struct tl_serial_link *l, const void *buf, size_t len, int timeout_ms)
{
	return l->ops->write_all(l, buf, len, timeout_ms);
}

/* Wire trace: how many received bytes a flush throws away unread (a late reply, noise);
 * counted, not read, so the trace changes nothing on the line. */
static void trace_flush(struct tl_serial_link *l)
{
	const char *name = l->ops == &termios_ops ? ((struct termios_link *)l->priv)->path
			   : l->ops == &splink_ops ? ((struct sp_link *)l->priv)->path
						   : l->ops->name;
	int fd = tl_serial_fd(l), queued = 0;
	if (fd >= 0 && ioctl(fd, FIONREAD, &queued) == 0 && queued > 0)
		tl_log_write(TL_LOG_WIRE, "%s: input flushed: %d unread byte%s discarded", name,
			     queued, queued == 1 ? "" : "s");
}

int tl_serial_flush_input(struct tl_serial_link *l)
{
	if (tl_log_on(TL_LOG_WIRE) && l->ops && l->priv)
		trace_flush(l);
	return l->ops->flush_input(l);
}

int tl_serial_fd(struct tl_serial_link *l)
{
	return l->ops && l->ops->fd ? l->ops->fd(l) : -1;
}

int tl_serial_get_lines(struct tl_serial_link *l, unsigned *lines)
{
	if (!l->ops->get_lines) {
		link_err(l, "this link has no modem lines");
		return -1;
	}
	return l->ops->get_lines(l, lines);
}

void tl_serial_close(struct tl_serial_link *l)
{
	if (l->ops && l->priv)
		l->ops->close(l);
	l->ops = NULL;
}

int tl_serial_read_full(struct tl_serial_link *l, void *buf, size_t len, long long deadline_ms)
{
	size_t got = 0;
	while (got < len) {
		long long left = deadline_ms - tl_serial_now_ms();
		if (left < 0)
			break;
		int n = tl_serial_read(l, (char *)buf + got, len - got, (int)left);
		if (n < 0)
			return -1;
		if (n == 0 && left == 0)
			break;
		got += (size_t)n;
	}
	return (int)got;
}
