/* treadmill.h - the one interface every treadmill driver implements.
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
#include <stdint.h>

#include "feedback.h" /* struct tl_feedback and the TL_FAULT_* bits (src/core) */

/* Options from the daemon's [treadmill] configuration section. */
struct tl_driver_opts {
	const char *device;        /* serial device or pty path (RTU, Trackmaster) */
	int baud;                  /* 0: the driver's default */
	const char *framing;       /* Modbus RTU "8E1", "8O1", "8N2" or "8N1"; NULL: 8E1 */
	const char *tcp_addr;      /* Modbus TCP "host:port" */
	const char *profile;       /* Modbus device profile (register map) path */
	int unit_id;               /* Modbus slave / unit id */
	int watchdog_max_ms;       /* refuse a device whose watchdog is off or longer */
	int response_timeout_ms;   /* per transaction */
	int retries;               /* bounded retries before a fault */
	double time_scale;         /* simulator only: protocol runs this many times faster */
	double patient_onset_s;    /* simulator only: virtual patient's onset press, <0: none */
	double patient_max_s;      /* simulator only: virtual patient's max press, <0: none */
};

struct tl_treadmill;

struct tl_treadmill_ops {
	const char *name; /* as written in the configuration: "sim", "modbus", "trackmaster" */
	/* Connects and checks the device (e.g. reads its watchdog back). Required. */
	int (*open)(struct tl_treadmill *tm, const struct tl_driver_opts *opts);
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
};

struct tl_treadmill {
	const struct tl_treadmill_ops *ops;
	void *priv;     /* the driver's per-instance state */
	char err[256];  /* the last error, one line */
};

/* The drivers this build has; NULL-terminated. */
extern const struct tl_treadmill_ops *const tl_treadmill_drivers[];

/* Finds a driver by its configured name, NULL if none. */
const struct tl_treadmill_ops *tl_treadmill_find(const char *name);

/* Sets tm->err, printf-style, cut to fit: the drivers' one way to say what failed. */
void tl_treadmill_set_err(struct tl_treadmill *tm, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
