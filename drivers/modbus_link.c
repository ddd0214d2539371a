/* modbus_link.c - a libmodbus connection as the Modbus drivers open it (modbus_link.h). */
#include "modbus_link.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <time.h>

#include "tl_log.h"

#define DEFAULT_BAUD 19200

int64_t tl_modbus_link_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The silence a master keeps before its next request: on RTU at least 3.5 characters
 * of 11 bits (fixed 1.75 ms above 19200 baud), which is how a device finds where a
 * frame ends (Modbus over serial line V1.02, 2.5.1.1; docs/hardware.md, Modbus RTU timing);
 * and at least the profile's min_gap_ms (some devices need more). */
static int64_t frame_gap_ns(int min_gap_ms, bool rtu, int baud)
{
	int64_t t35 = 0;
	if (rtu)
		t35 = baud > 19200 ? 1750000 : (int64_t)(3.5 * 11 * 1e9 / baud + 0.5);
	int64_t min_gap = (int64_t)min_gap_ms * 1000000;
	return t35 > min_gap ? t35 : min_gap;
}

static int new_tcp(struct tl_modbus_link *l, const struct tl_modbus_link_opts *o,
		   struct tl_err *err)
{
	char host[128];
	const char *colon = strrchr(o->tcp, ':');
	const char *h = o->tcp;
	size_t hlen = colon ? (size_t)(colon - h) : 0;
	if (hlen && h[0] == '[' && h[hlen - 1] == ']')
		h++, hlen -= 2;
	if (!colon || !hlen || hlen >= sizeof host || !colon[1]) {
		tl_err_set(err, "%s: tcp address '%s' is not host:port", o->who, o->tcp);
		return -1;
	}
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	l->tcp = true;
	snprintf(l->where, sizeof l->where, "%s", o->tcp);
	l->ctx = modbus_new_tcp_pi(host, colon + 1);
	l->gap_ns = frame_gap_ns(o->min_gap_ms, false, 0);
	return 0;
}

static int new_rtu(struct tl_modbus_link *l, const struct tl_modbus_link_opts *o,
		   struct tl_err *err)
{
	int baud = o->baud > 0 ? o->baud : DEFAULT_BAUD;
	/* Modbus over serial line V1.02, 2.5.1: 11-bit characters, even parity the default,
	 * two stop bits when there is no parity; 8N1 is common in practice. */
	const char *fr = o->framing && o->framing[0] ? o->framing : "8E1";
	if (strlen(fr) != 3 || fr[0] != '8' || !strchr("ENO", fr[1]) || !strchr("12", fr[2])) {
		tl_err_set(err, "%s: framing '%s' is not 8E1, 8O1, 8N2 or 8N1", o->who, fr);
		return -1;
	}
	l->parity = fr[1];
	snprintf(l->where, sizeof l->where, "%s", o->device);
	l->ctx = modbus_new_rtu(o->device, baud, fr[1], 8, fr[2] - '0');
	l->gap_ns = frame_gap_ns(o->min_gap_ms, true, baud);
	return 0;
}

static int connect_link(struct tl_modbus_link *l, const struct tl_modbus_link_opts *o,
			struct tl_err *err)
{
	int unit = o->unit_id > 0 ? o->unit_id : 1;
	int tmo = o->timeout_ms > 0 ? o->timeout_ms : o->default_timeout_ms;
	if (unit > 247 || modbus_set_slave(l->ctx, unit)) {
		tl_err_set(err, "%s: unit id %d is not 1..247", o->who, o->unit_id);
		return -1;
	}
	l->timeout_ms = tmo;
	modbus_set_response_timeout(l->ctx, (uint32_t)(tmo / 1000), (uint32_t)(tmo % 1000) * 1000);
	modbus_set_byte_timeout(l->ctx, (uint32_t)(tmo / 1000), (uint32_t)(tmo % 1000) * 1000);
	if (modbus_connect(l->ctx)) {
		int e = errno;
		/* Linux ptys (treadsim) force 8 data bits without parity: a parity setting
		 * does not take there, and the connect fails with EINVAL. */
		bool parity = l->parity == 'E' || l->parity == 'O';
		tl_err_set(err, "%s: cannot connect to %s: %s%s", o->who, l->where, modbus_strerror(e),
			   parity && e == EINVAL ? " (the port refused the parity setting; a "
						   "pseudo-terminal has none: use framing = 8N1)"
			   : !l->tcp && e == ENOENT ? " (unplugged? check the adapter and the device name)"
			   : "");
		return -1;
	}
	if (!l->tcp) {
		int fd = modbus_get_socket(l->ctx);
		if (flock(fd, LOCK_EX | LOCK_NB) || ioctl(fd, TIOCEXCL)) {
			tl_err_set(err, "%s: %s is in use by another program", o->who, l->where);
			return -1;
		}
	}
	return 0;
}

int tl_modbus_link_open(struct tl_modbus_link *l, const struct tl_modbus_link_opts *o,
			struct tl_err *err)
{
	*l = (struct tl_modbus_link){0};
	int rc;
	if (o->tcp && o->tcp[0])
		rc = new_tcp(l, o, err);
	else if (o->device && o->device[0])
		rc = new_rtu(l, o, err);
	else {
		tl_err_set(err, "%s: neither a serial device nor a tcp address is configured", o->who);
		rc = -1;
	}
	if (rc == 0 && !l->ctx) {
		tl_err_set(err, "%s: %s", o->who, modbus_strerror(errno));
		rc = -1;
	}
	if (rc == 0)
		rc = connect_link(l, o, err);
	if (rc)
		tl_modbus_link_close(l);
	return rc;
}

void tl_modbus_link_close(struct tl_modbus_link *l)
{
	if (!l->ctx)
		return;
	if (!l->tcp) {
		int fd = modbus_get_socket(l->ctx);
		if (fd >= 0) {
			ioctl(fd, TIOCNXCL);
			flock(fd, LOCK_UN);
		}
	}
	modbus_close(l->ctx);
	modbus_free(l->ctx);
	l->ctx = NULL;
}

void tl_modbus_link_begin(struct tl_modbus_link *l)
{
	if (l->gap_ns > 0 && l->last_io_ns) {
		int64_t until = l->last_io_ns + l->gap_ns;
		struct timespec ts = {.tv_sec = until / 1000000000LL, .tv_nsec = until % 1000000000LL};
		while (tl_modbus_link_now_ns() < until &&
		       clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
	}
	if (!l->tcp)
		modbus_flush(l->ctx);
}

void tl_modbus_link_end(struct tl_modbus_link *l)
{
	l->last_io_ns = tl_modbus_link_now_ns();
}

void tl_modbus_link_reconnect(struct tl_modbus_link *l)
{
	modbus_close(l->ctx);
	int rc = modbus_connect(l->ctx);
	TL_DEBUG("modbus-tcp: reconnect%s%s", rc ? " failed: " : "ed", rc ? modbus_strerror(errno) : "");
}
