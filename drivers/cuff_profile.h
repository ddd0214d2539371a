/* cuff_profile.h - the register map of a Modbus cuff manometer or inflator, as data
 * (config/devices/sim-cuff.profile; docs/hardware.md, "Cuff profiles"):
 *
 *   [device]     name, source, unverified, simulated, min_gap_ms   (as the drive profiles)
 *   [registers]  key = kind address scale units
 *                pressure  (required, read)      mmHg or kPa
 *                setpoint  (inflator, writable)  mmHg or kPa: inflate to
 *                rate      (inflator, writable)  mmHg/s: deflate at
 *                command   (inflator, writable)  code
 *                status    (optional, read)      bits
 *   [command]    inflate / deflate / vent = value [value ...]  (words written to command)
 *
 * A profile with no setpoint, rate, command or [command] is a manometer (read only); one
 * with any of them must have all of them (an inflator). Loading is strict: unknown
 * sections or keys, duplicates, bad numbers and units that do not fit are refused with
 * "file:line: reason". */
#ifndef TL_CUFF_PROFILE_H
#define TL_CUFF_PROFILE_H

#include <stdbool.h>
#include <stdint.h>

#include "modbus_profile.h" /* enum tl_reg_kind, struct tl_cmd_seq */
#include "tl_err.h"

enum tl_cuff_reg { TL_CREG_PRESSURE, TL_CREG_SETPOINT, TL_CREG_RATE, TL_CREG_COMMAND, TL_CREG_STATUS, TL_CREG_N };

struct tl_cuff_reg_def {
	bool present;
	enum tl_reg_kind kind;
	uint16_t address;
	double scale;     /* physical = raw * scale, in units */
	char units[12];   /* mmHg, kPa, mmHg/s, code, bits */
	int line;
};

struct tl_cuff_profile {
	char path[256];
	char name[64];
	char source[256];
	char unverified[256];
	bool simulated;
	int min_gap_ms;
	bool inflator;    /* setpoint, rate, command and the three commands are there */
	struct tl_cuff_reg_def reg[TL_CREG_N];
	struct tl_cmd_seq cmd_inflate, cmd_deflate, cmd_vent;
};

int tl_cuff_profile_parse(const char *text, const char *name, struct tl_cuff_profile *p,
			  struct tl_err *err);
int tl_cuff_profile_load(const char *path, struct tl_cuff_profile *p, struct tl_err *err);

/* Raw <-> mmHg (and mmHg/s for the rate). The encoder rounds to the register's
 * resolution and returns -1 when the value does not fit 0..65535. */
double tl_cuff_profile_to_mmhg(const struct tl_cuff_profile *p, enum tl_cuff_reg r, uint16_t raw);
int tl_cuff_profile_from_mmhg(const struct tl_cuff_profile *p, enum tl_cuff_reg r, double v,
			      uint16_t *raw);

#endif
