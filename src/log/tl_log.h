/* tl_log.h - levelled logging for treadlabd, the drivers, the command line and treadsim.
 *
 * Levels, most to least severe: error, warning, info (the default), debug (-v: connects,
 * retries, resyncs, emergency stops, stages) and wire (-vv: every frame on the wire).
 *
 * The level is one atomic int, read with relaxed ordering: a call below it costs a load
 * and a compare and evaluates none of its arguments (the macros test the level first),
 * so the control loop pays nothing for a trace that is off. Output goes to the journal
 * (sd_journal_send, with PRIORITY and TREADLAB_* fields) when stderr is connected to it
 * (systemd's JOURNAL_STREAM), else to stderr, one line a call, with CLOCK_MONOTONIC
 * seconds. Every call may come from any thread: a line is written by a single write(2)
 * or sd_journal_send, nothing is shared but the level. */
#ifndef TL_LOG_H
#define TL_LOG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

enum tl_log_level {
	TL_LOG_ERROR = 0,
	TL_LOG_WARNING = 1,
	TL_LOG_INFO = 2,
	TL_LOG_DEBUG = 3,
	TL_LOG_WIRE = 4,
};

enum tl_log_output {
	TL_LOG_OUT_AUTO,    /* the journal if stderr is connected to it, else stderr */
	TL_LOG_OUT_STDERR,
	TL_LOG_OUT_JOURNAL,
};

/* The current level; tl_log_set_level() writes it, tl_log_on() reads it. */
extern atomic_int tl_log_level_now;

static inline bool tl_log_on(enum tl_log_level l)
{
	return (int)l <= atomic_load_explicit(&tl_log_level_now, memory_order_relaxed);
}

void tl_log_set_level(enum tl_log_level l);
enum tl_log_level tl_log_level(void);
/* "error", "warning", "info", "debug" or "wire". */
const char *tl_log_level_name(enum tl_log_level l);
/* Parses a level name (those above, and "notice" for info). Returns 0 or -1. */
int tl_log_level_parse(const char *name, enum tl_log_level *out);

/* The program's name on every line and in SYSLOG_IDENTIFIER, and where lines go. Call
 * once at start-up, before other threads log; without it: "treadlab", AUTO. */
void tl_log_setup(const char *ident, enum tl_log_output out);
/* Sends stderr-style lines to fd instead of 2 (tests; the benchmark's /dev/null). */
void tl_log_to_fd(int fd);

/* Writes a line at level l (whatever the current level: the macros below check it). */
void tl_log_write(enum tl_log_level l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define TL_LOG(l, ...)                              \
	do {                                        \
		if (tl_log_on(l))                   \
			tl_log_write(l, __VA_ARGS__); \
	} while (0)
#define TL_ERROR(...) TL_LOG(TL_LOG_ERROR, __VA_ARGS__)
#define TL_WARNING(...) TL_LOG(TL_LOG_WARNING, __VA_ARGS__)
#define TL_INFO(...) TL_LOG(TL_LOG_INFO, __VA_ARGS__)
#define TL_DEBUG(...) TL_LOG(TL_LOG_DEBUG, __VA_ARGS__)

/* A frame on a wire, at the wire level: "LINK DIR HEX...", then latency_us (the time
 * since the request it answers, when >= 0) and note (NULL: none), e.g.
 *   trackmaster tx A3 30 30 32 30
 *   trackmaster rx B3 +2412us
 *   trackmaster rx 7F +95us garbage, skipped
 * dir is "tx" (sent) or "rx" (received). */
void tl_log_frame(const char *link, const char *dir, const void *bytes, size_t n,
		  long long latency_us, const char *note);

#define TL_LOG_FRAME(...)                            \
	do {                                         \
		if (tl_log_on(TL_LOG_WIRE))          \
			tl_log_frame(__VA_ARGS__);   \
	} while (0)

/* Formats what tl_log_frame writes as its message into buf (always terminated; cut
 * with "..." when it does not fit). Returns buf. */
char *tl_log_format_frame(char *buf, size_t cap, const char *link, const char *dir,
			  const void *bytes, size_t n, long long latency_us, const char *note);

/* CLOCK_MONOTONIC in microseconds: what the drivers time a reply with. */
long long tl_log_now_us(void);

#endif
