/* cuff_profile.c - the strict parser of Modbus cuff profiles (cuff_profile.h). */
#include "cuff_profile.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static const char *const kind_names[] = {"holding", "input", "coil", "discrete"};

struct parser {
	const char *file;
	int line;
	struct tl_err *err;
	struct tl_cuff_profile *p;
	unsigned seen_device, seen_command;
	bool have_registers, have_command;
};

static int fail(struct parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct parser *ps, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	tl_err_set(ps->err, "%s:%d: %s", ps->file, ps->line, msg);
	return -1;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int parse_u16(const char *s, uint16_t *out)
{
	if (!*s || *s == '-' || *s == '+')
		return -1;
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 0);
	if (*end || errno || v > 0xffff)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

static int split_words(char *s, char **w, int max)
{
	int n = 0;
	char *save = NULL;
	for (char *tok = strtok_r(s, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		if (n == max)
			return max + 1;
		w[n++] = tok;
	}
	return n;
}

static bool units_fit(enum unit_class c, const char *u)
{
	switch (c) {
	case U_PRESSURE:
		return !strcmp(u, "mmHg") || !strcmp(u, "kPa");
	case U_RATE:
		return !strcmp(u, "mmHg/s");
	case U_CODE:
		return !strcmp(u, "code");
	case U_BITS:
		return !strcmp(u, "bits");
	}
	return false;
}

static const char *const units_expected[] = {"mmHg or kPa", "mmHg/s", "code", "bits"};

static int copy_text(struct parser *ps, char *dst, size_t n, const char *key, const char *v)
{
	if (strlen(v) >= n)
		return fail(ps, "%s is longer than %zu characters", key, n - 1);
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

static int device_key(struct parser *ps, const char *key, const char *v)
{
	static const char *const keys[] = {"name", "source", "unverified", "simulated", "min_gap_ms"};
	int i = 0;
	while (i < 5 && strcmp(key, keys[i]))
		i++;
	if (i == 5)
		return fail(ps, "unknown key '%s' in [device] (name, source, unverified, simulated, "
			    "min_gap_ms)", key);
	if (ps->seen_device & (1u << i))
		return fail(ps, "duplicate key '%s'", key);
	ps->seen_device |= 1u << i;
	struct tl_cuff_profile *p = ps->p;
	uint16_t u;
	switch (i) {
	case 0:
		return copy_text(ps, p->name, sizeof p->name, key, v);
	case 1:
		return copy_text(ps, p->source, sizeof p->source, key, v);
	case 2:
		return copy_text(ps, p->unverified, sizeof p->unverified, key, v);
	case 3:
		if (strcmp(v, "yes") && strcmp(v, "no"))
			return fail(ps, "simulated must be yes or no, not '%s'", v);
		p->simulated = !strcmp(v, "yes");
		return 0;
	default:
		if (parse_u16(v, &u) || u > 1000)
			return fail(ps, "min_gap_ms must be 0..1000, not '%s'", v);
		p->min_gap_ms = u;
		return 0;
	}
}

static int register_key(struct parser *ps, const char *key, char *v)
{
	int k = 0;
	while (k < TL_CREG_N && strcmp(key, reg_info[k].name))
		k++;
	if (k == TL_CREG_N)
		return fail(ps, "unknown register '%s' (pressure, setpoint, rate, command, status)", key);
	struct tl_cuff_reg_def *r = &ps->p->reg[k];
	if (r->present)
		return fail(ps, "duplicate register '%s' (first on line %d)", key, r->line);
	char *w[4];
	int n = split_words(v, w, 4);
	if (n != 4)
		return fail(ps, "%s: expected 'kind address scale units', got %d words", key, n);
	int kind = 0;
	while (kind < 4 && strcmp(w[0], kind_names[kind]))
		kind++;
	if (kind == 4)
		return fail(ps, "%s: unknown kind '%s' (holding, input, coil, discrete)", key, w[0]);
	if (kind == TL_REG_COIL || kind == TL_REG_DISCRETE)
		return fail(ps, "%s: a cuff register is a 16-bit register (holding or input), not %s",
			    key, w[0]);
	if (reg_info[k].writable && kind != TL_REG_HOLDING)
		return fail(ps, "%s must be writable (holding), not %s", key, w[0]);
	if (parse_u16(w[1], &r->address))
		return fail(ps, "%s: bad address '%s' (0..65535, decimal or 0x hex)", key, w[1]);
	char *end;
	errno = 0;
	r->scale = strtod(w[2], &end);
	if (end == w[2] || *end || errno || !isfinite(r->scale) || r->scale <= 0)
		return fail(ps, "%s: bad scale '%s' (a positive number)", key, w[2]);
	if (!units_fit(reg_info[k].units, w[3]))
		return fail(ps, "%s: units '%s' do not fit (expected %s)", key, w[3],
			    units_expected[reg_info[k].units]);
	snprintf(r->units, sizeof r->units, "%s", w[3]);
	r->kind = (enum tl_reg_kind)kind;
	r->present = true;
	r->line = ps->line;
	return 0;
}

static int command_key(struct parser *ps, const char *key, char *v)
{
	static const char *const keys[] = {"inflate", "deflate", "vent"};
	struct tl_cmd_seq *seqs[] = {&ps->p->cmd_inflate, &ps->p->cmd_deflate, &ps->p->cmd_vent};
	int i = 0;
	while (i < 3 && strcmp(key, keys[i]))
		i++;
	if (i == 3)
		return fail(ps, "unknown key '%s' in [command] (inflate, deflate, vent)", key);
	if (ps->seen_command & (1u << i))
		return fail(ps, "duplicate key '%s'", key);
	ps->seen_command |= 1u << i;
	char *w[TL_PROFILE_MAX_SEQ];
	int n = split_words(v, w, TL_PROFILE_MAX_SEQ);
	if (n == 0 || n > TL_PROFILE_MAX_SEQ)
		return fail(ps, "%s: expected 1 to %d values", key, TL_PROFILE_MAX_SEQ);
	for (int j = 0; j < n; j++)
		if (parse_u16(w[j], &seqs[i]->value[j]))
			return fail(ps, "%s: bad value '%s' (0..65535)", key, w[j]);
	seqs[i]->n = n;
	return 0;
}

enum section { S_NONE, S_DEVICE, S_REGISTERS, S_COMMAND };

static int parse_line(struct parser *ps, enum section *sec, char *s)
{
	s = trim(s);
	if (!*s || *s == '#' || *s == ';')
		return 0;
	if (*s == '[') {
		char *e = strchr(s, ']');
		if (!e || e[1])
			return fail(ps, "malformed section header");
		*e = '\0';
		static const char *const names[] = {"device", "registers", "command"};
		int i = 0;
		while (i < 3 && strcmp(s + 1, names[i]))
			i++;
		if (i == 3)
			return fail(ps, "unknown section [%s] (device, registers, command)", s + 1);
		bool dup = i == 0 ? ps->seen_device != 0 : i == 1 ? ps->have_registers : ps->have_command;
		if (dup)
			return fail(ps, "duplicate section [%s]", s + 1);
		if (i == 1)
			ps->have_registers = true;
		if (i == 2)
			ps->have_command = true;
		*sec = (enum section)(i + 1);
		return 0;
	}
	char *eq = strchr(s, '=');
	if (!eq)
		return fail(ps, "expected 'key = value'");
	*eq = '\0';
	char *key = trim(s), *v = trim(eq + 1);
	char *hash = strstr(v, " #");
	if (hash) {
		*hash = '\0';
		v = trim(v);
	}
	if (!*key)
		return fail(ps, "missing key before '='");
	if (!*v)
		return fail(ps, "%s: missing value", key);
	switch (*sec) {
	case S_DEVICE:
		return device_key(ps, key, v);
	case S_REGISTERS:
		return register_key(ps, key, v);
	case S_COMMAND:
		return command_key(ps, key, v);
	default:
		return fail(ps, "'%s' outside a section", key);
	}
}

static int check_complete(struct parser *ps)
{
	struct tl_cuff_profile *p = ps->p;
	if (!(ps->seen_device & 1u))
		return fail(ps, "[device] lacks 'name'");
	if (!(ps->seen_device & 2u))
		return fail(ps, "[device] lacks 'source' (where the register facts come from)");
	if (!p->reg[TL_CREG_PRESSURE].present)
		return fail(ps, "[registers] lacks required 'pressure'");
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
				return fail(ps, "an inflator needs %s (or leave out setpoint, rate, "
					    "command and [command] for a manometer)", part_names[i]);
	p->inflator = have == 6;
	return 0;
}

int tl_cuff_profile_parse(const char *text, const char *name, struct tl_cuff_profile *p,
			  struct tl_err *err)
{
	*p = (struct tl_cuff_profile){0};
	snprintf(p->path, sizeof p->path, "%s", name);
	struct parser ps = {.file = name, .err = err, .p = p};
	enum section sec = S_NONE;
	char line[512];
	const char *s = text;
	while (*s) {
		ps.line++;
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);
		if (len >= sizeof line)
			return fail(&ps, "line longer than %zu characters", sizeof line - 1);
		memcpy(line, s, len);
		line[len] = '\0';
		if (parse_line(&ps, &sec, line))
			return -1;
		s += len + (nl ? 1 : 0);
	}
	return check_complete(&ps);
}

int tl_cuff_profile_load(const char *path, struct tl_cuff_profile *p, struct tl_err *err)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		tl_err_set(err, "%s: %s", path, strerror(errno));
		return -1;
	}
	char *buf = malloc(65536);
	if (!buf) {
		fclose(f);
		tl_err_set(err, "%s: out of memory", path);
		return -1;
	}
	size_t n = fread(buf, 1, 65535, f);
	bool too_big = !feof(f);
	fclose(f);
	buf[n] = '\0';
	int rc;
	if (too_big) {
		tl_err_set(err, "%s: larger than 64 KiB", path);
		rc = -1;
	} else if (strlen(buf) != n) {
		tl_err_set(err, "%s: contains a NUL byte", path);
		rc = -1;
	} else {
		rc = tl_cuff_profile_parse(buf, path, p, err);
	}
	free(buf);
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
