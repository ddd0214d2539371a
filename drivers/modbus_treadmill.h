/* modbus_treadmill.h - the "modbus" treadmill driver: a drive or treadmill controller
 * spoken to through libmodbus (RTU on opts->device, or TCP on opts->tcp_addr), its
 * register map read from the device profile opts->profile (config/devices/).
 *
 * open() refuses a device whose communication watchdog reads back off (0) or longer than
 * opts->watchdog_max_ms, a profile that lists unverified facts, and a belt that is
 * already running. Every transaction is retried at most opts->retries times; what still
 * fails is reported as TL_FAULT_COMM (timeouts, lost connection), TL_FAULT_CRC (corrupt
 * frames) or TL_FAULT_REFUSED (Modbus exceptions). A change of the device's boot counter
 * or of its watchdog setting (read back every poll, or every 10 s when the device has a
 * boot counter) is reported as a restart (TL_FAULT_REBOOT). On RTU a request is sent only after 3.5 characters of
 * silence since the last reply (and the profile's min_gap_ms), as the line requires. */
#ifndef TL_MODBUS_TREADMILL_H
#define TL_MODBUS_TREADMILL_H

#include <stdbool.h>
#include <stdint.h>

#include "modbus_profile.h"
#include "treadmill.h"

extern const struct tl_treadmill_ops tl_modbus_treadmill_ops;

/* The modbus driver's options ([treadmill] keys; its table: tl_modbus_options). */
struct tl_modbus_opts {
	char device[256];        /* RTU: serial device or pty; empty with tcp_addr */
	int baud;
	char framing[8];         /* RTU: 8E1, 8O1, 8N2, 8N1 */
	char tcp_addr[128];      /* TCP "host:port" instead of RTU */
	char profile[256];       /* the register map (config/devices/) */
	int unit_id;
	int watchdog_max_ms;     /* refuse a device whose watchdog is off or longer */
	int response_timeout_ms; /* per transaction */
	int retries;             /* bounded retries before a fault */
};
extern const struct tl_driver_option tl_modbus_options[];

/* Reads one profile key's raw value through the driver's connection, with the driver's
 * retries (used by the Modbus patient button). A coil or discrete input reads 0 or 1.
 * Must be called from the thread that polls the driver. Returns 0 or -1 (tm->err). */
int tl_modbus_treadmill_read_key(struct tl_treadmill *tm, enum tl_reg_key key, uint16_t *raw);

/* The Modbus patient button asks the driver to read the `button` register within its
 * own poll (one read with the neighbouring registers instead of a transaction of its
 * own). tl_modbus_treadmill_take_button then hands over, once, the value a successful
 * poll read at the same caller's time now_ms (the tick's): returns 1 with *raw set, or 0
 * when there is none, and the button reads the register itself. */
void tl_modbus_treadmill_share_button(struct tl_treadmill *tm);
int tl_modbus_treadmill_take_button(struct tl_treadmill *tm, int64_t now_ms, uint16_t *raw);

/* The profile the driver loaded at open, NULL before. */
const struct tl_modbus_profile *tl_modbus_treadmill_profile(const struct tl_treadmill *tm);

/* The device's watchdog as read back at open, in ms. */
int tl_modbus_treadmill_watchdog_ms(const struct tl_treadmill *tm);

/* What open() read from the device, against which a poll's registers are judged. */
struct tl_modbus_expect {
	int watchdog_ms;     /* the watchdog setting read back at open */
	bool have_boot;      /* the profile has a boot counter ... */
	uint16_t boot_count; /* ... which read this at open */
};

/* Decodes the registers one poll read, as poll() does (pure: no I/O, no state): vals[i]
 * is the raw value of keys[i], keys[0] the status and keys[1] speed_actual. Fills fb's
 * valid, speed_kmh, grade_pct, belt_running and fault_code, and returns the fault bits
 * the registers show (status bits, a fault code, a watchdog setting or boot counter that
 * changed: TL_FAULT_REBOOT). The latching of a device's own stop is poll()'s. */
uint32_t tl_modbus_decode(const struct tl_modbus_profile *p, const struct tl_modbus_expect *e,
			  const enum tl_reg_key *keys, const uint16_t *vals, int n,
			  struct tl_feedback *fb);

#endif
