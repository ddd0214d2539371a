/* treadmill.h - the one interface every treadmill driver implements.
 *
 * A new driver provides (sim.c is the smallest example):
 *   1. drivers/NAME.c and NAME.h: a const struct tl_treadmill_ops with every required
 *      operation below, NULL where one is optional; per-instance state in tm->priv only.
 *   2. Its own options struct and a const table of struct tl_driver_option rows, one per
 *      configuration key it takes (key, kind, default, range or allowed words, one line
 *      of help, where the value lands), named in ops.options with ops.opts_size; a
 *      validate() hook for rules between its keys (e.g. "needs 'device'").
 *   3. The capability flags the daemon needs (TL_DRV_*); the daemon never names a driver.
 *   4. A row in tl_treadmill_drivers[] (registry.c).
 *   5. Tests: tests/unit/test_registry.c and test_driver_options.c check every table
 *      row mechanically; a hil test (hil/tests) drives it against treadsim or hardware.
 *   6. Docs: the wire protocol's facts in docs/hardware.md; every key of its table in
 *      docs/man/treadlabd.conf.5.scd under "## driver = NAME" of its section (the
 *      default and range as the table has them: integration.man_config_keys compares
 *      them with `treadlabd --list-options`), and commented out in config/treadlabd.conf.
 *
 * A driver is a const table of operations (designated initializers, NULL where an
 * operation is optional) plus per-instance private data: no statics in drivers. Every
 * call gets the caller's monotonic time in ms; drivers may read the clock only for I/O
 * timeouts. Calls return 0 on success or -1 with tm->err set to one printable line.
 *
 * Safety contract (docs/hardware.md, "Safety standards"): a driver never starts or restarts
 * the belt by itself; start() is only ever called by the daemon at the operator's
 * command through the safety guard. When the device stops the belt on its own (stop
 * button, safety key, watchdog, reboot, drive trip) the driver reports
 * feedback.device_stopped and keeps reporting it until closed. */
#ifndef TL_TREADMILL_H
#define TL_TREADMILL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "feedback.h" /* struct tl_feedback and the TL_FAULT_* bits (src/core) */

/* ---- driver options ------------------------------------------------------------------
 * Each driver declares the configuration keys it takes in a const table; the daemon's
 * configuration reader, `treadlabd --check-config` and `--list-options` read only the
 * tables. A value is parsed and range-checked by the table and lands in the driver's own
 * options struct, which open() gets. */

enum tl_opt_kind {
	TL_OPT_TEXT, /* a char[size] field; longer values are refused */
	TL_OPT_INT,  /* an int field, min..max */
	TL_OPT_REAL, /* a double field, min..max, finite */
	TL_OPT_BOOL, /* a bool field: true/yes/1 or false/no/0 */
	TL_OPT_ENUM, /* a char[size] field holding one of values[] */
};

struct tl_driver_option {
	const char *section;       /* "treadmill", or a section of the driver's own */
	const char *key;
	enum tl_opt_kind kind;
	const char *def;           /* the default as written in a file; NULL: none */
	double min, max;           /* INT, REAL: the range, both ends accepted */
	double none;               /* INT, REAL without a default: the field's value when the
				    * key is absent, outside min..max so the driver can tell */
	const char *const *values; /* ENUM: the accepted words, NULL-terminated */
	const char *help;          /* one line, for --list-options */
	size_t offset, size;       /* the field in the driver's options struct */
};

/* offset and size of a field of the driver's options struct, for a table row. */
#define TL_OPT_AT(type, member) .offset = offsetof(type, member), .size = sizeof(((type *)0)->member)

/* Rows several drivers share; each driver still lists the ones it takes. */
#define TL_OPT_ROW_DEVICE(type, helptext)                                                       \
	{.section = "treadmill", .key = "device", .kind = TL_OPT_TEXT, .help = helptext,          \
	 TL_OPT_AT(type, device)}
#define TL_OPT_ROW_RESPONSE_TIMEOUT(type)                                                       \
	{.section = "treadmill", .key = "response_timeout_ms", .kind = TL_OPT_INT, .def = "100",  \
	 .min = 5, .max = 5000, .help = "how long a request waits for its reply (ms)",             \
	 TL_OPT_AT(type, response_timeout_ms)}

/* Room for any driver's options struct (tests/unit/test_registry.c checks opts_size). */
#define TL_DRIVER_OPTS_MAX 1024
struct tl_driver_optbuf {
	_Alignas(max_align_t) unsigned char bytes[TL_DRIVER_OPTS_MAX];
};

/* Capabilities (tl_treadmill_ops.flags): what the daemon may do with a driver, so that
 * it never compares driver names. */
enum {
	TL_DRV_SIMULATED = 1u << 0,       /* a simulator: [sim] time_scale other than 1 allowed */
	TL_DRV_BUTTON_REGISTER = 1u << 1, /* reads a patient button register ([buttons] modbus) */
};

struct tl_treadmill;
struct tl_button;

struct tl_treadmill_ops {
	const char *name; /* as written in the configuration's [treadmill] driver */
	unsigned flags;   /* TL_DRV_* */
	const struct tl_driver_option *options; /* the keys it takes, ended by a row without key */
	size_t opts_size; /* sizeof its options struct, at most TL_DRIVER_OPTS_MAX */
	/* Rules between its keys, after the whole file was read: 0, or -1 with why (one line,
	 * e.g. "needs 'device'"). NULL: none. */
	int (*validate)(const void *opts, char *why, size_t cap);
	/* Connects and checks the device (e.g. reads its watchdog back); opts is the
	 * driver's own options struct, filled by tl_driver_opts_defaults/_set. Required. */
	int (*open)(struct tl_treadmill *tm, const void *opts);
	/* Releases everything; the belt is left stopped if the device allows. Required. */
	void (*close)(struct tl_treadmill *tm);
	/* Starts the belt at the lowest speed, the device's watchdog armed. Required. */
	int (*start)(struct tl_treadmill *tm, int64_t now_ms);
	/* Controlled stop (belt decelerates). Required. */
	int (*stop)(struct tl_treadmill *tm, int64_t now_ms);
	/* Fastest stop the device offers; must not wait behind other traffic. Required. */
	int (*emergency_stop)(struct tl_treadmill *tm, int64_t now_ms);
	/* Sets the belt speed; *sent (may be NULL) gets the value actually sent. Required. */
	int (*set_speed)(struct tl_treadmill *tm, double kmh, int64_t now_ms, double *sent);
	/* Sets the grade; *sent gets the value actually sent (e.g. 0.5 % steps). Required. */
	int (*set_grade)(struct tl_treadmill *tm, double pct, int64_t now_ms, double *sent);
	/* Reads speed, grade, status and faults. Required. */
	int (*poll)(struct tl_treadmill *tm, int64_t now_ms, struct tl_feedback *fb);
	/* Feeds the device watchdog when nothing else was sent. NULL: poll() suffices. */
	int (*keepalive)(struct tl_treadmill *tm, int64_t now_ms);
	/* A patient simulated by the driver, as a patient-button source on the open tm:
	 * returns 1 with b opened, 0 when its options set no presses, -1 with b->err.
	 * NULL: the driver has none. */
	int (*patient_button)(struct tl_button *b, struct tl_treadmill *tm);
};

struct tl_treadmill {
	const struct tl_treadmill_ops *ops;
	void *priv;     /* the driver's per-instance state */
	/* Set before open(): the caller's clock runs this many times slower than a
	 * TL_DRV_SIMULATED driver's model ([sim] time_scale); 0 or 1: real time. */
	double time_scale;
	char err[256];  /* the last error, one line */
};

/* The drivers this build has; NULL-terminated. */
extern const struct tl_treadmill_ops *const tl_treadmill_drivers[];

/* Finds a driver by its configured name, NULL if none. */
const struct tl_treadmill_ops *tl_treadmill_find(const char *name);

/* Fills opts (a driver's options struct, ops->opts_size bytes) with the table's defaults. */
void tl_driver_opts_defaults(const struct tl_treadmill_ops *ops, void *opts);

/* Parses val for [section] key through ops' table into opts. Returns 0; -1 for a bad
 * value; -2 when the driver takes no such key. why gets one line: "[section] key: ...". */
int tl_driver_opts_set(const struct tl_treadmill_ops *ops, void *opts, const char *section,
		       const char *key, const char *val, char *why, size_t cap);

/* ops' rules between keys (its validate hook): 0, or -1 with why. */
int tl_driver_opts_check(const struct tl_treadmill_ops *ops, const void *opts, char *why,
			 size_t cap);

/* ops' row for [section] key, NULL if none. */
const struct tl_driver_option *tl_driver_option_find(const struct tl_treadmill_ops *ops,
						     const char *section, const char *key);

/* Whether any driver of this build takes [section] key, or any key in section. */
bool tl_driver_option_known(const char *section, const char *key);
bool tl_driver_section_known(const char *section);

/* Writes the registry's driver names, comma-separated, into buf. */
void tl_treadmill_names(char *buf, size_t cap);

/* Sets tm->err, printf-style, cut to fit: the drivers' one way to say what failed. */
void tl_treadmill_set_err(struct tl_treadmill *tm, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
