/* mllp.c - MLLP framing, ACK parsing and one attempt at sending (mllp.h). */
#include "mllp.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

void tl_mllp_init(struct tl_mllp *m, const char *host, int port)
{
	memset(m, 0, sizeof *m);
	m->fd = -1;
	snprintf(m->host, sizeof m->host, "%s", host);
	m->port = port;
}

void tl_mllp_close(struct tl_mllp *m)
{
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	m->n = 0;
}

int tl_mllp_frame_find(const unsigned char *buf, size_t n, size_t *start, size_t *end,
		       size_t *used)
{
	const unsigned char *sb = memchr(buf, TL_MLLP_SB, n);
	if (!sb)
		return 0;
	size_t s = (size_t)(sb - buf) + 1;
	for (size_t i = s; i + 1 < n; i++) {
		if (buf[i] == TL_MLLP_EB && buf[i + 1] == TL_MLLP_CR) {
			*start = s;
			*end = i;
			*used = i + 2;
			return 1;
		}
	}
	return 0;
}

/* Field k (0: the segment's name) of the segment seg[0..len), separated by sep. */
static size_t field(const char *seg, size_t len, char sep, int k, const char **out)
{
	const char *p = seg, *e = seg + len;
	for (int i = 0; i < k; i++) {
		const char *q = memchr(p, sep, (size_t)(e - p));
		if (!q) {
			*out = e;
			return 0;
		}
		p = q + 1;
	}
	const char *q = memchr(p, sep, (size_t)(e - p));
	*out = p;
	return (size_t)((q ? q : e) - p);
}

int tl_mllp_ack_parse(const char *ack, size_t len, const char *control_id,
		      enum tl_send_result *result, char code[3], char *detail, size_t cap)
{
	code[0] = 0;
	detail[0] = 0;
	if (len < 8 || memcmp(ack, "MSH", 3)) {
		snprintf(detail, cap, "the answer is not an HL7 message (no MSH)");
		return -1;
	}
	char sep = ack[3];
	const char *msa = NULL, *err = NULL;
	size_t msa_n = 0, err_n = 0;
	for (const char *p = ack, *e = ack + len; p < e;) {
		const char *q = p;
		while (q < e && *q != '\r' && *q != '\n')
			q++;
		size_t n = (size_t)(q - p);
		if (n >= 3 && !memcmp(p, "MSA", 3) && (n == 3 || p[3] == sep) && !msa) {
			msa = p;
			msa_n = n;
		} else if (n >= 3 && !memcmp(p, "ERR", 3) && (n == 3 || p[3] == sep) && !err) {
			err = p;
			err_n = n;
		}
		p = q + 1;
	}
	if (!msa) {
		snprintf(detail, cap, "the answer has no MSA segment (not an ACK)");
		return -1;
	}
	const char *f;
	size_t fn = field(msa, msa_n, sep, 1, &f);
	if (fn != 2 || !strchr("AC", f[0]) || !strchr("AER", f[1])) {
		snprintf(detail, cap, "MSA-1 '%.*s' is not AA, AE, AR, CA, CE or CR",
			 (int)(fn > 8 ? 8 : fn), f);
		return -1;
	}
	memcpy(code, f, 2);
	code[2] = 0;
	fn = field(msa, msa_n, sep, 2, &f);
	/* MSA-2 may carry components in a loose ACK; the id is the first */
	size_t idn = 0;
	while (idn < fn && f[idn] != '^')
		idn++;
	if (idn != strlen(control_id) || memcmp(f, control_id, idn))
		return 0;
	*result = code[1] == 'A' ? TL_SEND_DELIVERED : code[1] == 'E' ? TL_SEND_REJECTED
								      : TL_SEND_RETRY;
	fn = field(msa, msa_n, sep, 3, &f);
	if (fn)
		snprintf(detail, cap, "%.*s", (int)fn, f);
	else if (err)
		snprintf(detail, cap, "%.*s", (int)err_n, err);
	return 1;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for events on fd until deadline: 1 ready, 0 deadline, -1 cancelled or failed. */
static int wait_fd(int fd, short events, int64_t deadline, int cancel_fd)
{
	for (;;) {
		int64_t left = deadline - now_ms();
		if (left <= 0)
			return 0;
		struct pollfd p[2] = {{.fd = fd, .events = events}, {.fd = cancel_fd, .events = POLLIN}};
		int r = poll(p, cancel_fd >= 0 ? 2 : 1, (int)(left > INT32_MAX ? INT32_MAX : left));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || (cancel_fd >= 0 && p[1].revents))
			return -1;
		if (r > 0)
			return 1;
	}
}

static void answer(struct tl_mllp_answer *out, enum tl_send_result r, const char *event,
		   const char *detail)
{
	out->result = r;
	snprintf(out->event, sizeof out->event, "%s", event);
	snprintf(out->detail, sizeof out->detail, "%s", detail);
}

static int connect_to(struct tl_mllp *m, int64_t deadline, int cancel_fd, char *why, size_t cap)
{
	char port[16];
	snprintf(port, sizeof port, "%d", m->port);
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai = NULL;
	int g = getaddrinfo(m->host, port, &hints, &ai);
	if (g) {
		snprintf(why, cap, "%.100s:%d: %s", m->host, m->port, gai_strerror(g));
		return -1;
	}
	int fd = -1, e = 0;
	for (struct addrinfo *a = ai; a; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			e = errno;
			continue;
		}
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
			break;
		e = errno;
		if (e == EINPROGRESS) {
			int w = wait_fd(fd, POLLOUT, deadline, cancel_fd);
			socklen_t sl = sizeof e;
			if (w > 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &sl) == 0 && e == 0)
				break;
			if (w == 0)
				e = ETIMEDOUT;
			else if (w < 0)
				e = ECANCELED;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (fd < 0) {
		snprintf(why, cap, "connecting to %.100s:%d: %s", m->host, m->port, strerror(e));
		return -1;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	m->fd = fd;
	m->n = 0;
	return 0;
}

/* Whether a kept connection was closed by the receiver meanwhile (read what is there:
 * a late answer to an earlier message is not this one's). */
static bool still_open(struct tl_mllp *m)
{
	unsigned char junk[512];
	for (;;) {
		ssize_t r = recv(m->fd, junk, sizeof junk, MSG_DONTWAIT);
		if (r > 0)
			continue;
		return r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
	}
}

static int write_all(int fd, const unsigned char *p, size_t n, int64_t deadline, int cancel_fd)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int r = wait_fd(fd, POLLOUT, deadline, cancel_fd);
			if (r <= 0)
				return r == 0 ? 0 : -1;
			continue;
		}
		return -1;
	}
	return 1;
}

void tl_mllp_send(struct tl_mllp *m, const unsigned char *msg, size_t len, const char *control_id,
		  int timeout_ms, int cancel_fd, struct tl_mllp_answer *out)
{
	int64_t deadline = now_ms() + timeout_ms;
	char why[400];
	if (m->fd >= 0 && !still_open(m))
		tl_mllp_close(m);
	if (m->fd < 0 && connect_to(m, deadline, cancel_fd, why, sizeof why) < 0) {
		answer(out, TL_SEND_RETRY, "connect", why);
		return;
	}
	m->n = 0;
	static const unsigned char sb = TL_MLLP_SB, eb[2] = {TL_MLLP_EB, TL_MLLP_CR};
	int w = write_all(m->fd, &sb, 1, deadline, cancel_fd);
	if (w > 0)
		w = write_all(m->fd, msg, len, deadline, cancel_fd);
	if (w > 0)
		w = write_all(m->fd, eb, 2, deadline, cancel_fd);
	if (w <= 0) {
		snprintf(why, sizeof why, "sending to %.100s:%d: %.100s", m->host, m->port,
			 w == 0 ? "not written by the deadline" : strerror(errno));
		tl_mllp_close(m);
		answer(out, TL_SEND_RETRY, w == 0 ? "timeout" : "broken", why);
		return;
	}
	/* ack_timeout_ms counts from the message written (treadlabd.conf(5)) */
	deadline = now_ms() + timeout_ms;
	char other[160] = "";
	for (;;) {
		size_t s, e, used;
		while (tl_mllp_frame_find(m->buf, m->n, &s, &e, &used)) {
			enum tl_send_result res;
			char code[3], detail[sizeof out->detail];
			int ours = tl_mllp_ack_parse((const char *)m->buf + s, e - s, control_id, &res,
						     code, detail, sizeof detail);
			memmove(m->buf, m->buf + used, m->n - used);
			m->n -= used;
			if (ours > 0) {
				char ev[16];
				snprintf(ev, sizeof ev, "ack %s", code);
				answer(out, res, ev, detail);
				return;
			}
			/* not ours: an answer to another message, or not an ACK */
			if (ours == 0)
				snprintf(other, sizeof other, "an ACK (%s) for another message came", code);
			else
				snprintf(other, sizeof other, "%.150s", detail);
		}
		if (m->n == sizeof m->buf) {
			tl_mllp_close(m);
			answer(out, TL_SEND_RETRY, "broken", "the answer is longer than 8 KiB without a "
			       "frame's end");
			return;
		}
		int r = wait_fd(m->fd, POLLIN, deadline, cancel_fd);
		if (r <= 0) {
			snprintf(why, sizeof why, "%s within %d ms%s%.150s",
				 r == 0 ? "no ACK" : "cancelled: no ACK", timeout_ms, other[0] ? "; " : "",
				 other);
			tl_mllp_close(m);
			answer(out, TL_SEND_RETRY, r == 0 ? "timeout" : "cancelled", why);
			return;
		}
		ssize_t got = recv(m->fd, m->buf + m->n, sizeof m->buf - m->n, 0);
		if (got < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (got <= 0) {
			snprintf(why, sizeof why, "%.100s:%d %.80s before the ACK%s%.150s", m->host,
				 m->port, got == 0 ? "closed the connection" : strerror(errno),
				 other[0] ? "; " : "", other);
			tl_mllp_close(m);
			answer(out, TL_SEND_RETRY, "broken", why);
			return;
		}
		m->n += (size_t)got;
	}
}
