/* modbus_profile.c - the strict parser of Modbus device profiles. */
#include "modbus_profile.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static const char *const kind_names[] = {"holding", "input", "coil", "discrete"};

const char *tl_reg_key_name(enum tl_reg_key k)
{
	return (unsigned)k < TL_REG_N ? key_info[k].name : "?";
}

const char *tl_reg_kind_name(enum tl_reg_kind k)
{
	return (unsigned)k < 4 ? kind_names[k] : "?";
}

int tl_reg_key_find(const char *name)
{
	for (int k = 0; k < TL_REG_N; k++)
		if (!strcmp(name, key_info[k].name))
			return k;
	return -1;
}

static bool units_fit(enum unit_class c, const char *u)
{
	switch (c) {
	case U_SPEED:
		return !strcmp(u, "km/h") || !strcmp(u, "mph") || !strcmp(u, "Hz");
	case U_GRADE:
		return !strcmp(u, "%");
	case U_TIME:
		return !strcmp(u, "ms") || !strcmp(u, "s");
	case U_PLAIN:
		return !strcmp(u, "bits") || !strcmp(u, "code") || !strcmp(u, "count");
	}
	return false;
}

static const char *units_expected(enum unit_class c)
{
	static const char *const s[] = {"km/h, mph or Hz", "%", "ms or s", "bits, code or count"};
	return s[c];
}

/* ---- lexical helpers ---------------------------------------------------------- */

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

static int parse_pos_double(const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || *end || errno || !isfinite(v) || v <= 0)
		return -1;
	*out = v;
	return 0;
}

/* Splits s (modified) into at most max whitespace-separated words; returns the count,
 * or max + 1 when there are more. */
static int split_words(char *s, char **w, int max)
{
	int n = 0;
	for (char *tok = strtok(s, " \t"); tok; tok = strtok(NULL, " \t")) {
		if (n == max)
			return max + 1;
		w[n++] = tok;
	}
	return n;
}

/* ---- sections ------------------------------------------------------------------ */

enum section { S_NONE, S_DEVICE, S_REGISTERS, S_COMMAND, S_STATUS };

struct parser {
	const char *file;
	int line;
	struct tl_err *err;
	struct tl_modbus_profile *p;
	unsigned seen_device;  /* bits of [device] keys seen */
	unsigned seen_command; /* start, stop, estop */
	unsigned seen_status;
	int registers_line;
	bool have_registers, have_command, have_status;
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

static int copy_text(struct parser *ps, char *dst, size_t n, const char *key, const char *v)
{
	if (strlen(v) >= n)
		return fail(ps, "%s is longer than %zu characters", key, n - 1);
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

static int device_key(struct parser *ps, const char *key, char *v)
{
	static const char *const keys[] = {"name", "source", "unverified", "simulated",
					   "min_gap_ms", "kmh_per_hz"};
	int i = 0;
	while (i < 6 && strcmp(key, keys[i]))
		i++;
	if (i == 6)
		return fail(ps, "unknown key '%s' in [device] (name, source, unverified, simulated, "
			    "min_gap_ms, kmh_per_hz)", key);
	if (ps->seen_device & (1u << i))
		return fail(ps, "duplicate key '%s'", key);
	ps->seen_device |= 1u << i;
	struct tl_modbus_profile *p = ps->p;
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
	case 4:
		if (parse_u16(v, &u) || u > 1000)
			return fail(ps, "min_gap_ms must be 0..1000, not '%s'", v);
		p->min_gap_ms = u;
		return 0;
	default:
		if (parse_pos_double(v, &p->kmh_per_hz))
			return fail(ps, "kmh_per_hz must be a positive number, not '%s'", v);
		return 0;
	}
}

static int register_key(struct parser *ps, const char *key, char *v)
{
	int k = tl_reg_key_find(key);
	if (k < 0)
		return fail(ps, "unknown register '%s'", key);
	struct tl_reg *r = &ps->p->reg[k];
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
	if (key_info[k].writable && kind != TL_REG_HOLDING && kind != TL_REG_COIL)
		return fail(ps, "%s must be writable (holding or coil), not %s", key, w[0]);
	if (parse_u16(w[1], &r->address))
		return fail(ps, "%s: bad address '%s' (0..65535, decimal or 0x hex)", key, w[1]);
	if (parse_pos_double(w[2], &r->scale))
		return fail(ps, "%s: bad scale '%s' (a positive number)", key, w[2]);
	if (!units_fit(key_info[k].units, w[3]))
		return fail(ps, "%s: units '%s' do not fit (expected %s)", key, w[3],
			    units_expected(key_info[k].units));
	snprintf(r->units, sizeof r->units, "%s", w[3]);
	r->kind = (enum tl_reg_kind)kind;
	r->present = true;
	r->line = ps->line;
	return 0;
}

static int command_key(struct parser *ps, const char *key, char *v)
{
	static const char *const keys[] = {"start", "stop", "estop"};
	struct tl_cmd_seq *seqs[] = {&ps->p->cmd_start, &ps->p->cmd_stop, &ps->p->cmd_estop};
	int i = 0;
	while (i < 3 && strcmp(key, keys[i]))
		i++;
	if (i == 3)
		return fail(ps, "unknown key '%s' in [command] (start, stop, estop)", key);
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

static int status_key(struct parser *ps, const char *key, const char *v)
{
	static const char *const keys[] = {"running", "estop", "key_pulled", "watchdog_tripped",
					   "drive_fault", "homing"};
	struct tl_modbus_profile *p = ps->p;
	uint16_t *dst[] = {&p->st_running, &p->st_estop, &p->st_key_pulled, &p->st_watchdog,
			   &p->st_fault, &p->st_homing};
	int i = 0;
	while (i < 6 && strcmp(key, keys[i]))
		i++;
	if (i == 6)
		return fail(ps, "unknown key '%s' in [status] (running, estop, key_pulled, "
			    "watchdog_tripped, drive_fault, homing)", key);
	if (ps->seen_status & (1u << i))
		return fail(ps, "duplicate key '%s'", key);
	ps->seen_status |= 1u << i;
	if (parse_u16(v, dst[i]) || *dst[i] == 0)
		return fail(ps, "%s: bad bit mask '%s' (1..0xffff)", key, v);
	return 0;
}

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
		static const char *const names[] = {"device", "registers", "command", "status"};
		int i = 0;
		while (i < 4 && strcmp(s + 1, names[i]))
			i++;
		if (i == 4)
			return fail(ps, "unknown section [%s]", s + 1);
		bool *have[] = {NULL, &ps->have_registers, &ps->have_command, &ps->have_status};
		if ((i == 0 && ps->seen_device) || (i > 0 && *have[i]))
			return fail(ps, "duplicate section [%s]", s + 1);
		if (i > 0)
			*have[i] = true;
		if (i == 1)
			ps->registers_line = ps->line;
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
	case S_STATUS:
		return status_key(ps, key, v);
	default:
		return fail(ps, "'%s' outside a section", key);
	}
}

static int check_complete(struct parser *ps)
{
	struct tl_modbus_profile *p = ps->p;
	if (!(ps->seen_device & 1u))
		return fail(ps, "[device] lacks 'name'");
	if (!(ps->seen_device & 2u))
		return fail(ps, "[device] lacks 'source' (where the register facts come from)");
	if (!ps->have_registers)
		return fail(ps, "no [registers] section");
	for (int k = 0; k < TL_REG_N; k++)
		if (key_info[k].required && !p->reg[k].present) {
			ps->line = ps->registers_line;
			return fail(ps, "[registers] lacks required '%s'", key_info[k].name);
		}
	for (int k = 0; k < TL_REG_N; k++)
		if (p->reg[k].present && !strcmp(p->reg[k].units, "Hz") && p->kmh_per_hz <= 0) {
			ps->line = p->reg[k].line;
			return fail(ps, "%s is in Hz: [device] needs kmh_per_hz", key_info[k].name);
		}
	if (!p->cmd_start.n || !p->cmd_stop.n)
		return fail(ps, "[command] needs 'start' and 'stop'");
	if (!p->st_running)
		return fail(ps, "[status] needs 'running'");
	return 0;
}

int tl_modbus_profile_parse(const char *text, const char *name, struct tl_modbus_profile *p,
			    struct tl_err *err)
{
	*p = (struct tl_modbus_profile){0};
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
		if (memchr(line, '\0', len))
			return fail(&ps, "NUL byte in line");
		if (parse_line(&ps, &sec, line))
			return -1;
		s += len + (nl ? 1 : 0);
	}
	return check_complete(&ps);
}

int tl_modbus_profile_load(const char *path, struct tl_modbus_profile *p, struct tl_err *err)
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
		rc = tl_modbus_profile_parse(buf, path, p, err);
	}
	free(buf);
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
