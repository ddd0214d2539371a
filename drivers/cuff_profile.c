/* cuff_profile.c - the strict parser of Modbus cuff profiles (cuff_profile.h). */
#include "cuff_profile.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile_reader.h"

#define MMHG_PER_KPA 7.50062 /* 1000 Pa / 133.322 Pa */

enum unit_class { U_PRESSURE, U_RATE, U_CODE, U_BITS };

static const struct {
	const char *name;
	bool writable;
	enum unit_class units;
} reg_info[TL_CREG_N] = {
	[TL_CREG_PRESSURE] = {"pressure", false, U_PRESSURE},
	[TL_CREG_SETPOINT] = {"setpoint", true, U_PRESSURE},
	[TL_CREG_RATE] = {"rate", true, U_RATE},
	[TL_CREG_COMMAND] = {"command", true, U_CODE},
	[TL_CREG_STATUS] = {"status", false, U_BITS},
};

/* The units a register of each class may be in. */
static const char *const pressure_units[] = {"mmHg", "kPa", NULL};
static const char *const rate_units[] = {"mmHg/s", NULL};
static const char *const code_units[] = {"code", NULL};
static const char *const bits_units[] = {"bits", NULL};
static const char *const *const class_units[] = {
	[U_PRESSURE] = pressure_units, [U_RATE] = rate_units, [U_CODE] = code_units,
	[U_BITS] = bits_units,
};

enum section { S_DEVICE, S_REGISTERS, S_COMMAND };

static int device_key(struct tl_profile_reader *rd, const char *key, char *v, void *ctx)
{
	static const char *const keys[] = {TL_PROFILE_DEVICE_KEYS};
	struct tl_cuff_profile *p = ctx;
	int i = tl_profile_key(rd, keys, TL_PROFILE_DEVICE_NKEYS, key);
	return i < 0 ? -1 : tl_profile_device_key(rd, i, key, v, &TL_PROFILE_DEVICE_OF(p));
}

static int register_key(struct tl_profile_reader *rd, const char *key, char *v, void *ctx)
{
	/* Pressures, rates and control words are 16-bit registers, never bits. */
	static const struct tl_profile_kinds kinds = {
		.any = 1u << TL_REG_HOLDING | 1u << TL_REG_INPUT,
		.why = "a cuff register is a 16-bit register", .writable = 1u << TL_REG_HOLDING};
	struct tl_cuff_profile *p = ctx;
	int k = 0;
	while (k < TL_CREG_N && strcmp(key, reg_info[k].name))
		k++;
	if (k == TL_CREG_N)
		return tl_profile_fail(rd, "unknown register '%s' (pressure, setpoint, rate, command, "
				       "status)", key);
	return tl_profile_register(rd, key, v, &kinds, reg_info[k].writable,
				   class_units[reg_info[k].units], &TL_PROFILE_REG_OF(&p->reg[k]));
}

static int command_key(struct tl_profile_reader *rd, const char *key, char *v, void *ctx)
{
	static const char *const keys[] = {"inflate", "deflate", "vent"};
	struct tl_cuff_profile *p = ctx;
	struct tl_cmd_seq *const seqs[] = {&p->cmd_inflate, &p->cmd_deflate, &p->cmd_vent};
	return tl_profile_command(rd, keys, seqs, 3, key, v);
}

static int check_complete(struct tl_profile_reader *rd, struct tl_cuff_profile *p)
{
	if (tl_profile_device_complete(rd))
		return -1;
	if (!p->reg[TL_CREG_PRESSURE].present)
		return tl_profile_fail(rd, "[registers] lacks required 'pressure'");
	/* An inflator needs every part of the control path; a manometer none of it. */
	bool parts[6] = {p->reg[TL_CREG_SETPOINT].present, p->reg[TL_CREG_RATE].present,
			 p->reg[TL_CREG_COMMAND].present, p->cmd_inflate.n > 0,
			 p->cmd_deflate.n > 0, p->cmd_vent.n > 0};
	static const char *const part_names[] = {"register setpoint", "register rate",
						 "register command", "command inflate",
						 "command deflate", "command vent"};
	int have = 0;
	for (int i = 0; i < 6; i++)
		have += parts[i];
	if (have && have < 6)
		for (int i = 0; i < 6; i++)
			if (!parts[i])
				return tl_profile_fail(rd, "an inflator needs %s (or leave out setpoint, "
						       "rate, command and [command] for a manometer)",
						       part_names[i]);
	p->inflator = have == 6;
	return 0;
}

int tl_cuff_profile_parse(const char *text, const char *name, struct tl_cuff_profile *p,
			  struct tl_err *err)
{
	static const struct tl_profile_section sections[] = {
		[S_DEVICE] = {"device", device_key}, [S_REGISTERS] = {"registers", register_key},
		[S_COMMAND] = {"command", command_key}, {0}};
	static const struct tl_profile_spec spec = {.sections = sections, .list_sections = true};
	*p = (struct tl_cuff_profile){0};
	snprintf(p->path, sizeof p->path, "%s", name);
	struct tl_profile_reader rd;
	return tl_profile_parse(&rd, text, name, &spec, p, err) ? -1 : check_complete(&rd, p);
}

int tl_cuff_profile_load(const char *path, struct tl_cuff_profile *p, struct tl_err *err)
{
	char *text = tl_profile_read_file(path, err);
	int rc = text ? tl_cuff_profile_parse(text, path, p, err) : -1;
	free(text);
	return rc;
}

static double unit_mmhg(const struct tl_cuff_reg_def *r)
{
	return !strcmp(r->units, "kPa") ? MMHG_PER_KPA : 1.0;
}

double tl_cuff_profile_to_mmhg(const struct tl_cuff_profile *p, enum tl_cuff_reg r, uint16_t raw)
{
	const struct tl_cuff_reg_def *d = &p->reg[r];
	return raw * d->scale * unit_mmhg(d);
}

int tl_cuff_profile_from_mmhg(const struct tl_cuff_profile *p, enum tl_cuff_reg r, double v,
			      uint16_t *raw)
{
	const struct tl_cuff_reg_def *d = &p->reg[r];
	double steps = round(v / (d->scale * unit_mmhg(d)));
	if (!isfinite(steps) || steps < 0 || steps > 65535)
		return -1;
	*raw = (uint16_t)steps;
	return 0;
}
