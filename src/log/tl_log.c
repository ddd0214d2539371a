/* tl_log.c - levelled logging to the journal or stderr (see tl_log.h). */
#include "tl_log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <systemd/sd-journal.h>
#include <time.h>
#include <unistd.h>

atomic_int tl_log_level_now = TL_LOG_INFO;

/* Set once at start-up, before other threads exist (tl_log_setup). */
static char ident[32] = "treadlab";
/* TL_LOG_OUT_*, AUTO until resolved; and the descriptor of stderr-style lines. */
static atomic_int output = TL_LOG_OUT_AUTO;
static atomic_int out_fd = STDERR_FILENO;

static const char *const names[] = {"error", "warning", "info", "debug", "wire"};
/* syslog priorities; wire frames are debugging output too. */
static const int priorities[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG, LOG_DEBUG};

void tl_log_set_level(enum tl_log_level l)
{
	atomic_store_explicit(&tl_log_level_now, (int)l, memory_order_relaxed);
}

enum tl_log_level tl_log_level(void)
{
	return (enum tl_log_level)atomic_load_explicit(&tl_log_level_now, memory_order_relaxed);
}

const char *tl_log_level_name(enum tl_log_level l)
{
	return (unsigned)l < sizeof names / sizeof names[0] ? names[l] : "?";
}

int tl_log_level_parse(const char *name, enum tl_log_level *out)
{
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (!strcmp(name, names[i])) {
			*out = (enum tl_log_level)i;
			return 0;
		}
	if (!strcmp(name, "notice")) {
		*out = TL_LOG_INFO;
		return 0;
	}
	return -1;
}

/* systemd sets JOURNAL_STREAM to "DEVICE:INODE" of the stream it connected stderr to;
 * stderr is the journal only while it still is that file (systemd.exec(5),
 * $JOURNAL_STREAM): a child whose stderr was redirected inherits the variable too. */
static bool stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st))
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

static int resolved_output(void)
{
	int o = atomic_load_explicit(&output, memory_order_relaxed);
	if (o == TL_LOG_OUT_AUTO) {
		o = stderr_is_journal() ? TL_LOG_OUT_JOURNAL : TL_LOG_OUT_STDERR;
		atomic_store_explicit(&output, o, memory_order_relaxed);
	}
	return o;
}

void tl_log_setup(const char *name, enum tl_log_output out)
{
	snprintf(ident, sizeof ident, "%s", name);
	atomic_store(&output, (int)out);
	resolved_output();
}

void tl_log_to_fd(int fd)
{
	atomic_store(&out_fd, fd);
	atomic_store(&output, TL_LOG_OUT_STDERR);
}

long long tl_log_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* One line, one write(2): lines of several threads never interleave. */
static void write_line(enum tl_log_level l, const char *msg)
{
	char line[1280];
	long long us = tl_log_now_us();
	int n = snprintf(line, sizeof line, "%s: %lld.%06lld %s: %s\n", ident, us / 1000000,
			 us % 1000000, tl_log_level_name(l), msg);
	if (n < 0)
		return;
	size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
	if ((size_t)n >= sizeof line)
		line[len - 1] = '\n';
	int fd = atomic_load(&out_fd);
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, line + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* nowhere to say it */
		off += (size_t)w;
	}
}

void tl_log_write(enum tl_log_level l, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* A line the journal refuses goes to stderr (sd_journal_send itself reports
	 * success when there is no journal at all). */
	if (resolved_output() != TL_LOG_OUT_JOURNAL ||
	    sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", priorities[l],
			    "SYSLOG_IDENTIFIER=%s", ident, "TREADLAB_LEVEL=%s", names[l], NULL) < 0)
		write_line(l, msg);
}

/* "A3 30 30 32 30": cut with "..." when the bytes do not fit in cap. */
static size_t hex_bytes(char *buf, size_t cap, const unsigned char *b, size_t n)
{
	static const char digits[] = "0123456789ABCDEF";
	size_t len = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (len + 3 + 4 >= cap) { /* room for " XX" and "...\0" */
			memcpy(buf + len, "...", 4);
			return len + 3;
		}
		if (i)
			buf[len++] = ' ';
		buf[len++] = digits[b[i] >> 4];
		buf[len++] = digits[b[i] & 15];
		buf[len] = '\0';
	}
	return len;
}

char *tl_log_format_frame(char *buf, size_t cap, const char *link, const char *dir,
			  const void *bytes, size_t n, long long latency_us, const char *note)
{
	char hex[800];
	hex_bytes(hex, sizeof hex, bytes, n);
	char lat[32] = "";
	if (latency_us >= 0)
		snprintf(lat, sizeof lat, " +%lldus", latency_us);
	snprintf(buf, cap, "%s %s %s%s%s%s", link, dir, n ? hex : "(no bytes)", lat,
		 note ? " " : "", note ? note : "");
	return buf;
}

void tl_log_frame(const char *link, const char *dir, const void *bytes, size_t n,
		  long long latency_us, const char *note)
{
	char msg[1024];
	tl_log_format_frame(msg, sizeof msg, link, dir, bytes, n, latency_us, note);
	if (resolved_output() != TL_LOG_OUT_JOURNAL) {
		write_line(TL_LOG_WIRE, msg);
		return;
	}
	char hex[800];
	hex_bytes(hex, sizeof hex, bytes, n);
	int rc;
	if (latency_us >= 0)
		rc = sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", LOG_DEBUG, "SYSLOG_IDENTIFIER=%s",
				     ident, "TREADLAB_LEVEL=wire", "TREADLAB_LINK=%s", link,
				     "TREADLAB_DIR=%s", dir, "TREADLAB_FRAME=%s", hex,
				     "TREADLAB_LATENCY_US=%lld", latency_us, NULL);
	else
		rc = sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", LOG_DEBUG, "SYSLOG_IDENTIFIER=%s",
				     ident, "TREADLAB_LEVEL=wire", "TREADLAB_LINK=%s", link,
				     "TREADLAB_DIR=%s", dir, "TREADLAB_FRAME=%s", hex, NULL);
	if (rc < 0)
		write_line(TL_LOG_WIRE, msg);
}
