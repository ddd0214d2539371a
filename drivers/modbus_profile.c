/* modbus_profile.c - the strict parser of Modbus device profiles. */
#include "modbus_profile.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile_reader.h"
#include "units.h"

enum unit_class { U_SPEED, U_GRADE, U_TIME, U_PLAIN };

static const struct {
	const char *name;
	bool required;
	bool writable;
	enum unit_class units;
} key_info[TL_REG_N] = {
	[TL_REG_SPEED_SETPOINT] = {"speed_setpoint", true, true, U_SPEED},
	[TL_REG_SPEED_ACTUAL] = {"speed_actual", true, false, U_SPEED},
	[TL_REG_GRADE_SETPOINT] = {"grade_setpoint", false, true, U_GRADE},
	[TL_REG_GRADE_ACTUAL] = {"grade_actual", false, false, U_GRADE},
	[TL_REG_COMMAND] = {"command", true, true, U_PLAIN},
	[TL_REG_STATUS] = {"status", true, false, U_PLAIN},
	[TL_REG_WATCHDOG] = {"watchdog_ms", true, false, U_TIME},
	[TL_REG_FAULT_CODE] = {"fault_code", false, false, U_PLAIN},
	[TL_REG_BOOT_COUNT] = {"boot_count", false, false, U_PLAIN},
	[TL_REG_BUTTON] = {"button", false, false, U_PLAIN},
};

const char *tl_reg_key_name(enum tl_reg_key k)
{
	return (unsigned)k < TL_REG_N ? key_info[k].name : "?";
}

int tl_reg_key_find(const char *name)
{
	for (int k = 0; k < TL_REG_N; k++)
		if (!strcmp(name, key_info[k].name))
			return k;
	return -1;
}

/* The units a register of each class may be in. */
static const char *const speed_units[] = {"km/h", "mph", "Hz", NULL};
static const char *const grade_units[] = {"%", NULL};
static const char *const time_units[] = {"ms", "s", NULL};
static const char *const plain_units[] = {"bits", "code", "count", NULL};
static const char *const *const class_units[] = {
	[U_SPEED] = speed_units, [U_GRADE] = grade_units, [U_TIME] = time_units,
	[U_PLAIN] = plain_units,
};

/* ---- sections ------------------------------------------------------------------ */

enum section { S_DEVICE, S_REGISTERS, S_COMMAND, S_STATUS };

static int device_key(struct tl_profile_reader *rd, const char *key, char *v, void *ctx)
{
	static const char *const keys[] = {TL_PROFILE_DEVICE_KEYS, "kmh_per_hz"};
	struct tl_modbus_profile *p = ctx;
	int i = tl_profile_key(rd, keys, TL_PROFILE_DEVICE_NKEYS + 1, key);
	if (i < 0)
		return -1;
	if (i < TL_PROFILE_DEVICE_NKEYS)
		return tl_profile_device_key(rd, i, key, v, &TL_PROFILE_DEVICE_OF(p));
	if (tl_profile_positive(v, &p->kmh_per_hz))
		return tl_profile_fail(rd, "kmh_per_hz must be a positive number, not '%s'", v);
	return 0;
}

static int register_key(struct tl_profile_reader *rd, const char *key, char *v, void *ctx)
{
	/* Any of the four kinds; a setpoint or control word one the master can write. */
	static const struct tl_profile_kinds kinds = {
		.any = 1u << TL_REG_HOLDING | 1u << TL_REG_INPUT | 1u << TL_REG_COIL |
		       1u << TL_REG_DISCRETE,
		.writable = 1u << TL_REG_HOLDING | 1u << TL_REG_COIL};
	struct tl_modbus_profile *p = ctx;
	int k = tl_reg_key_find(key);
	if (k < 0)
		return tl_profile_fail(rd, "unknown register '%s'", key);
	return tl_profile_register(rd, key, v, &kinds, key_info[k].writable,
				   class_units[key_info[k].units], &TL_PROFILE_REG_OF(&p->reg[k]));
}

static int command_key(struct tl_profile_reader *rd, const char *key, char *v, void *ctx)
{
	static const char *const keys[] = {"start", "stop", "estop"};
	struct tl_modbus_profile *p = ctx;
	struct tl_cmd_seq *const seqs[] = {&p->cmd_start, &p->cmd_stop, &p->cmd_estop};
	return tl_profile_command(rd, keys, seqs, 3, key, v);
}

static int status_key(struct tl_profile_reader *rd, const char *key, char *v, void *ctx)
{
	static const char *const keys[] = {"running", "estop", "key_pulled", "watchdog_tripped",
					   "drive_fault", "homing"};
	struct tl_modbus_profile *p = ctx;
	uint16_t *dst[] = {&p->st_running, &p->st_estop, &p->st_key_pulled, &p->st_watchdog,
			   &p->st_fault, &p->st_homing};
	int i = tl_profile_key(rd, keys, 6, key);
	if (i < 0)
		return -1;
	if (tl_profile_u16(v, dst[i]) || *dst[i] == 0)
		return tl_profile_fail(rd, "%s: bad bit mask '%s' (1..0xffff)", key, v);
	return 0;
}

static int check_complete(struct tl_profile_reader *rd, struct tl_modbus_profile *p)
{
	if (tl_profile_device_complete(rd))
		return -1;
	if (!rd->section_line[S_REGISTERS])
		return tl_profile_fail(rd, "no [registers] section");
	for (int k = 0; k < TL_REG_N; k++)
		if (key_info[k].required && !p->reg[k].present) {
			rd->line = rd->section_line[S_REGISTERS];
			return tl_profile_fail(rd, "[registers] lacks required '%s'", key_info[k].name);
		}
	for (int k = 0; k < TL_REG_N; k++)
		if (p->reg[k].present && !strcmp(p->reg[k].units, "Hz") && p->kmh_per_hz <= 0) {
			rd->line = p->reg[k].line;
			return tl_profile_fail(rd, "%s is in Hz: [device] needs kmh_per_hz",
					       key_info[k].name);
		}
	if (!p->cmd_start.n || !p->cmd_stop.n)
		return tl_profile_fail(rd, "[command] needs 'start' and 'stop'");
	if (!p->st_running)
		return tl_profile_fail(rd, "[status] needs 'running'");
	return 0;
}

int tl_modbus_profile_parse(const char *text, const char *name, struct tl_modbus_profile *p,
			    struct tl_err *err)
{
	static const struct tl_profile_section sections[] = {
		[S_DEVICE] = {"device", device_key}, [S_REGISTERS] = {"registers", register_key},
		[S_COMMAND] = {"command", command_key}, [S_STATUS] = {"status", status_key}, {0}};
	static const struct tl_profile_spec spec = {.sections = sections};
	*p = (struct tl_modbus_profile){0};
	snprintf(p->path, sizeof p->path, "%s", name);
	struct tl_profile_reader rd;
	return tl_profile_parse(&rd, text, name, &spec, p, err) ? -1 : check_complete(&rd, p);
}

int tl_modbus_profile_load(const char *path, struct tl_modbus_profile *p, struct tl_err *err)
{
	char *text = tl_profile_read_file(path, err);
	int rc = text ? tl_modbus_profile_parse(text, path, p, err) : -1;
	free(text);
	return rc;
}

/* ---- conversions ---------------------------------------------------------------- */

static double speed_unit_kmh(const struct tl_modbus_profile *p, const struct tl_reg *r)
{
	if (!strcmp(r->units, "mph"))
		return TL_KMH_PER_MPH;
	if (!strcmp(r->units, "Hz"))
		return p->kmh_per_hz;
	return 1.0;
}

double tl_profile_raw_to_kmh(const struct tl_modbus_profile *p, enum tl_reg_key k, uint16_t raw)
{
	const struct tl_reg *r = &p->reg[k];
	return raw * r->scale * speed_unit_kmh(p, r);
}

static int encode(double value, double unit, double *sent, uint16_t *raw)
{
	double steps = round(value / unit);
	if (!isfinite(steps) || steps < 0 || steps > 65535)
		return -1;
	*raw = (uint16_t)steps;
	if (sent)
		*sent = steps * unit;
	return 0;
}

int tl_profile_kmh_to_raw(const struct tl_modbus_profile *p, double kmh, uint16_t *raw,
			  double *sent)
{
	const struct tl_reg *r = &p->reg[TL_REG_SPEED_SETPOINT];
	return encode(kmh, r->scale * speed_unit_kmh(p, r), sent, raw);
}

double tl_profile_raw_to_pct(const struct tl_modbus_profile *p, enum tl_reg_key k, uint16_t raw)
{
	return raw * p->reg[k].scale;
}

int tl_profile_pct_to_raw(const struct tl_modbus_profile *p, double pct, uint16_t *raw,
			  double *sent)
{
	return encode(pct, p->reg[TL_REG_GRADE_SETPOINT].scale, sent, raw);
}

double tl_profile_raw_to_ms(const struct tl_modbus_profile *p, enum tl_reg_key k, uint16_t raw)
{
	const struct tl_reg *r = &p->reg[k];
	return raw * r->scale * (!strcmp(r->units, "s") ? 1000.0 : 1.0);
}
