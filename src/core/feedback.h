/* feedback.h - what a treadmill reports back, as the core sees it.
 * Filled by drivers (drivers/treadmill.h), read by the safety guard and the session. */
#ifndef TL_FEEDBACK_H
#define TL_FEEDBACK_H

#include <stdbool.h>
#include <stdint.h>

/* Fault bits reported in tl_feedback.faults. */
enum {
	TL_FAULT_COMM = 1u << 0,       /* no reply / timeout after the bounded retries */
	TL_FAULT_CRC = 1u << 1,        /* corrupt frames after the bounded retries */
	TL_FAULT_DRIVE = 1u << 2,      /* the drive reports a fault code (fault_code) */
	TL_FAULT_SAFETY_KEY = 1u << 3, /* safety key / lanyard pulled */
	TL_FAULT_ESTOP = 1u << 4,      /* the treadmill's own emergency stop */
	TL_FAULT_REBOOT = 1u << 5,     /* the device restarted (power cycle, watchdog) */
	TL_FAULT_REFUSED = 1u << 6,    /* the device refused a command (e.g. Trackmaster BE/BF) */
	TL_FAULT_WATCHDOG = 1u << 7,   /* the device's communication watchdog stopped the belt */
};

/* The treadmill stopped the belt by itself (its safety chain, a person at it, its own
 * watchdog, a restart): only a person at the treadmill can clear these. */
#define TL_FAULT_OWN_STOP (TL_FAULT_SAFETY_KEY | TL_FAULT_ESTOP | TL_FAULT_REBOOT | TL_FAULT_WATCHDOG)

struct tl_feedback {
	bool valid;          /* false: no reading this time (see faults) */
	double speed_kmh;    /* measured belt speed */
	double grade_pct;    /* measured grade */
	bool belt_running;   /* the device says the belt runs */
	bool device_stopped; /* the device stopped the belt by itself (latched) */
	uint32_t faults;     /* TL_FAULT_* bits now present */
	int fault_code;      /* the drive's own fault code, 0 if none */
	char detail[128];    /* one line for the operator, empty if all is well */
	bool link_lost;      /* the connection itself is gone (an adapter unplugged): nothing
			      * comes back until a reconnect */
};

#endif
