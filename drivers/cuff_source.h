/* cuff_source.h - the one interface every cuff pressure source implements (issue 15).
 *
 * A pressure source reads the pressure of an ankle or arm cuff; some can also inflate,
 * deflate at a set rate and vent it. It follows the treadmill drivers' pattern
 * (treadmill.h). (Named cuff_source.h, not cuff.h: src/core/cuff.h is the pure part, and
 * both directories are on the include path.) A new source provides:
 *   1. drivers/cuff_NAME.c (and .h): a const struct tl_cuff_ops with open, close and read,
 *      and inflate_to, deflate_at and vent when it sets TL_CUFF_CAN_INFLATE (NULL
 *      otherwise); per-instance state in c->priv only, no statics.
 *   2. Its own options struct and a const table of struct tl_driver_option rows (section
 *      "cuff"), named in ops.options with ops.opts_size, and a validate() hook for rules
 *      between its keys.
 *   3. A row in tl_cuff_sources[] (cuff_registry.c).
 *   4. Tests: a unit test of whatever it parses, a hil test against treadsim's cuff
 *      (hil/tests) or the device.
 *   5. Docs: its wire and keys in docs/hardware.md ("Cuff pressure sources").
 *
 * Every call gets the caller's monotonic time in ms; a source reads the clock only for
 * I/O timeouts. Calls return 0 (read: 1 or 0) on success or -1 with c->err set to one
 * printable line.
 *
 * Safety contract: a source never inflates by itself; close() vents a source that can
 * inflate (TL_CUFF_CAN_INFLATE), whatever state it is in, and is called on every exit
 * path. The limits of a cycle (src/core/cuff.h) are the caller's; the device's own
 * watchdog (treadsim's cuff vents when nothing is heard) is the second line. */
#ifndef TL_CUFF_SOURCE_H
#define TL_CUFF_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "treadmill.h" /* struct tl_driver_option and its kinds, shared with the drivers */

/* Capabilities (tl_cuff_ops.flags). */
enum {
	TL_CUFF_CAN_INFLATE = 1u << 0, /* inflate_to, deflate_at and vent are there */
	TL_CUFF_SIMULATED = 1u << 1,   /* a simulator (treadsim's cuff) */
};

struct tl_cuff_reading {
	double mmhg;
	int64_t t_ms;      /* the caller's now_ms of the read (the source's samples' time) */
	char site[16];     /* the site the device named, "" when it names none */
};

struct tl_cuff;

struct tl_cuff_ops {
	const char *name; /* as written in the configuration's [cuff] source */
	unsigned flags;   /* TL_CUFF_* */
	const struct tl_driver_option *options; /* ended by a row without key */
	size_t opts_size; /* at most TL_DRIVER_OPTS_MAX */
	int (*validate)(const void *opts, char *why, size_t cap); /* NULL: none */
	/* Connects and checks the device. Required. */
	int (*open)(struct tl_cuff *c, const void *opts);
	/* Vents (when it can) and releases everything. Required. */
	void (*close)(struct tl_cuff *c);
	/* One sample, stamped now_ms: 1 with *r filled, 0 when none is ready (never waits
	 * longer than an I/O timeout), -1 with c->err (a bad line, a stuck pressure, a lost
	 * device: never a value). Required. */
	int (*read)(struct tl_cuff *c, int64_t now_ms, struct tl_cuff_reading *r);
	/* A descriptor poll() reports readable when a sample may be waiting, or -1: the
	 * source is read when the caller wants a sample (Modbus). NULL: none. */
	int (*fd)(struct tl_cuff *c);
	/* Inflates to mmhg (the device holds it there). NULL unless TL_CUFF_CAN_INFLATE. */
	int (*inflate_to)(struct tl_cuff *c, double mmhg, int64_t now_ms);
	/* Deflates at mmhg_s. NULL unless TL_CUFF_CAN_INFLATE. */
	int (*deflate_at)(struct tl_cuff *c, double mmhg_s, int64_t now_ms);
	/* Opens the valve: the cuff goes to atmosphere. NULL unless TL_CUFF_CAN_INFLATE. */
	int (*vent)(struct tl_cuff *c, int64_t now_ms);
};

struct tl_cuff {
	const struct tl_cuff_ops *ops;
	void *priv;
	unsigned long bad_lines; /* readings refused (text lines that did not match) */
	char err[256];
};

/* The sources this build has; NULL-terminated. */
extern const struct tl_cuff_ops *const tl_cuff_sources[];

const struct tl_cuff_ops *tl_cuff_find(const char *name);
/* Whether any source has the [cuff] key (a key of another source is told apart from a
 * typo). */
bool tl_cuff_option_known(const char *key);
void tl_cuff_names(char *buf, size_t cap);

/* The option tables, read as the treadmill drivers' are (treadmill.h, registry.c). */
void tl_cuff_opts_defaults(const struct tl_cuff_ops *ops, void *opts);
int tl_cuff_opts_set(const struct tl_cuff_ops *ops, void *opts, const char *section,
		     const char *key, const char *val, char *why, size_t cap);
int tl_cuff_opts_check(const struct tl_cuff_ops *ops, const void *opts, char *why, size_t cap);

/* Opens a source: c->ops = ops, then ops->open. Returns 0 or -1 with c->err. */
int tl_cuff_open(struct tl_cuff *c, const struct tl_cuff_ops *ops, const void *opts);
/* Closes (venting what can be vented); safe on a source that failed to open. */
void tl_cuff_close(struct tl_cuff *c);

void tl_cuff_set_err(struct tl_cuff *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
