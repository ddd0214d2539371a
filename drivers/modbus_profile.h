/* modbus_profile.h - a Modbus device profile: the register map of one drive, as data.
 *
 * A profile is an INI-style file in config/devices/ (see config/devices/README.md):
 *
 *   [device]     name, source, simulated, unverified, min_gap_ms, kmh_per_hz
 *   [registers]  key = kind address scale units     (one register per line)
 *   [command]    start / stop / estop = value [value ...]   (words written to `command`)
 *   [status]     running / estop / key_pulled / watchdog_tripped / drive_fault / homing
 *                = bit mask in the `status` register
 *
 * Loading is strict: unknown sections or keys, duplicates, bad numbers, units that do not
 * fit the key and missing required keys are refused with "file:line: reason". */
#ifndef TL_MODBUS_PROFILE_H
#define TL_MODBUS_PROFILE_H

#include <stdbool.h>
#include <stdint.h>

#include "tl_err.h"

enum tl_reg_kind { TL_REG_HOLDING, TL_REG_INPUT, TL_REG_COIL, TL_REG_DISCRETE };

enum tl_reg_key {
	TL_REG_SPEED_SETPOINT, /* required, writable */
	TL_REG_SPEED_ACTUAL,   /* required */
	TL_REG_GRADE_SETPOINT, /* optional: drives without a lift on Modbus lack it */
	TL_REG_GRADE_ACTUAL,   /* optional */
	TL_REG_COMMAND,        /* required, writable: the control word */
	TL_REG_STATUS,         /* required: bits per [status] */
	TL_REG_WATCHDOG,       /* required: the communication-loss timeout, read back at open */
	TL_REG_FAULT_CODE,     /* optional: the drive's fault code, 0 = none */
	TL_REG_BOOT_COUNT,     /* optional: changes when the device restarts */
	TL_REG_BUTTON,         /* optional: patient button bits / discrete input */
	TL_REG_N
};

struct tl_reg {
	bool present;
	enum tl_reg_kind kind;
	uint16_t address; /* protocol address, from 0 (mbpoll -0 numbering) */
	double scale;     /* physical value = raw * scale, in `units` */
	char units[12];   /* km/h, mph, Hz, %, ms, s, bits, code, count */
	int line;         /* where it was defined */
};

#define TL_PROFILE_MAX_SEQ 4

struct tl_cmd_seq {
	int n;                           /* 0: not defined */
	uint16_t value[TL_PROFILE_MAX_SEQ]; /* written in order to the command register */
};

struct tl_modbus_profile {
	char path[256];
	char name[64];
	char source[256];     /* where the register facts come from */
	char unverified[256]; /* what no source confirmed; empty if everything is verified */
	bool simulated;       /* a simulator (allows a time scale other than 1) */
	int min_gap_ms;       /* minimum gap between messages (Delta >= 10 ms) */
	double kmh_per_hz;    /* belt km/h per drive Hz, when speed is in Hz (site-specific) */
	struct tl_reg reg[TL_REG_N];
	struct tl_cmd_seq cmd_start, cmd_stop, cmd_estop;
	uint16_t st_running, st_estop, st_key_pulled, st_watchdog, st_fault, st_homing;
};

/* Loads a profile file. Returns 0, or -1 with err = "file:line: reason". */
int tl_modbus_profile_load(const char *path, struct tl_modbus_profile *p, struct tl_err *err);
/* Parses profile text; `name` is used as the file name in messages. */
int tl_modbus_profile_parse(const char *text, const char *name, struct tl_modbus_profile *p,
			    struct tl_err *err);

const char *tl_reg_key_name(enum tl_reg_key k);
const char *tl_reg_kind_name(enum tl_reg_kind k);
/* Looks a key up by its profile name; returns -1 if unknown. */
int tl_reg_key_find(const char *name);

/* Raw register value <-> physical value in the project's units (km/h, %, ms). The
 * encoders round to the register's resolution, give the value that resolution allows in
 * *sent, and return -1 when it does not fit 0..65535. */
double tl_profile_raw_to_kmh(const struct tl_modbus_profile *p, enum tl_reg_key k, uint16_t raw);
int tl_profile_kmh_to_raw(const struct tl_modbus_profile *p, double kmh, uint16_t *raw,
			  double *sent);
double tl_profile_raw_to_pct(const struct tl_modbus_profile *p, enum tl_reg_key k, uint16_t raw);
int tl_profile_pct_to_raw(const struct tl_modbus_profile *p, double pct, uint16_t *raw,
			  double *sent);
double tl_profile_raw_to_ms(const struct tl_modbus_profile *p, enum tl_reg_key k, uint16_t raw);

#endif
