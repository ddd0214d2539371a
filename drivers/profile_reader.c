/* profile_reader.c - the reading the device profiles share (profile_reader.h). */
#include "profile_reader.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The register kinds' names, as profiles spell them (here, not in modbus_profile.c: the
 * reader parses them, and the profiles call the reader, never the other way round). */
static const char *const kind_names[] = {"holding", "input", "coil", "discrete"};

const char *tl_reg_kind_name(enum tl_reg_kind k)
{
	return (unsigned)k < 4 ? kind_names[k] : "?";
}

#define MAX_FILE 65535 /* a profile is a page of text; "larger than 64 KiB" below */
#define MAX_LINE 512

char *tl_profile_read_file(const char *path, struct tl_err *err)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		tl_err_set(err, "%s: %s", path, strerror(errno));
		return NULL;
	}
	char *buf = malloc(MAX_FILE + 1);
	if (!buf) {
		fclose(f);
		tl_err_set(err, "%s: out of memory", path);
		return NULL;
	}
	size_t n = fread(buf, 1, MAX_FILE, f);
	bool too_big = !feof(f);
	fclose(f);
	buf[n] = '\0';
	if (too_big)
		tl_err_set(err, "%s: larger than 64 KiB", path);
	else if (strlen(buf) != n)
		tl_err_set(err, "%s: contains a NUL byte", path);
	else
		return buf;
	free(buf);
	return NULL;
}

int tl_profile_fail(struct tl_profile_reader *r, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	tl_err_set(r->err, "%s:%d: %s", r->file, r->line, msg);
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

/* Writes "a, b, c" (or "a, b or c" with last_or) of a NULL-terminated or n-long list. */
static void join(char *dst, size_t cap, const char *const *words, int n, bool last_or)
{
	size_t len = 0;
	dst[0] = '\0';
	for (int i = 0; (n < 0 || i < n) && words[i]; i++) {
		bool last = n < 0 ? !words[i + 1] : i == n - 1;
		const char *sep = i == 0 ? "" : last && last_or ? " or " : ", ";
		int w = snprintf(dst + len, cap - len, "%s%s", sep, words[i]);
		if (w < 0 || (size_t)w >= cap - len)
			return;
		len += (size_t)w;
	}
}

static int section_header(struct tl_profile_reader *r, char *s)
{
	char *e = strchr(s, ']');
	if (!e || e[1])
		return tl_profile_fail(r, "malformed section header");
	*e = '\0';
	const struct tl_profile_section *sec = r->spec->sections;
	int i = 0;
	while (sec[i].name && strcmp(s + 1, sec[i].name))
		i++;
	if (!sec[i].name) {
		if (!r->spec->list_sections)
			return tl_profile_fail(r, "unknown section [%s]", s + 1);
		const char *names[TL_PROFILE_MAX_SECTIONS];
		char list[200];
		for (int j = 0; j < i; j++)
			names[j] = sec[j].name;
		join(list, sizeof list, names, i, false);
		return tl_profile_fail(r, "unknown section [%s] (%s)", s + 1, list);
	}
	if (r->section_line[i])
		return tl_profile_fail(r, "duplicate section [%s]", s + 1);
	r->section_line[i] = r->line;
	r->section = i;
	return 0;
}

static int parse_line(struct tl_profile_reader *r, char *s, void *ctx)
{
	s = trim(s);
	if (!*s || *s == '#' || *s == ';')
		return 0;
	if (*s == '[')
		return section_header(r, s);
	char *eq = strchr(s, '=');
	if (!eq)
		return tl_profile_fail(r, "expected 'key = value'");
	*eq = '\0';
	char *key = trim(s), *v = trim(eq + 1);
	char *hash = strstr(v, " #");
	if (hash) {
		*hash = '\0';
		v = trim(v);
	}
	if (!*key)
		return tl_profile_fail(r, "missing key before '='");
	if (!*v)
		return tl_profile_fail(r, "%s: missing value", key);
	if (r->section < 0)
		return tl_profile_fail(r, "'%s' outside a section", key);
	return r->spec->sections[r->section].key(r, key, v, ctx);
}

int tl_profile_parse(struct tl_profile_reader *r, const char *text, const char *file,
		     const struct tl_profile_spec *spec, void *ctx, struct tl_err *err)
{
	*r = (struct tl_profile_reader){.file = file, .err = err, .spec = spec, .section = -1};
	char line[MAX_LINE];
	const char *s = text;
	while (*s) {
		r->line++;
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);
		if (len >= sizeof line)
			return tl_profile_fail(r, "line longer than %zu characters", sizeof line - 1);
		memcpy(line, s, len);
		line[len] = '\0';
		if (parse_line(r, line, ctx))
			return -1;
		s += len + (nl ? 1 : 0);
	}
	return 0;
}

int tl_profile_key(struct tl_profile_reader *r, const char *const *keys, int n, const char *key)
{
	int i = 0;
	while (i < n && strcmp(key, keys[i]))
		i++;
	if (i == n) {
		char list[200];
		join(list, sizeof list, keys, n, false);
		return tl_profile_fail(r, "unknown key '%s' in [%s] (%s)", key,
				       r->spec->sections[r->section].name, list);
	}
	unsigned *seen = &r->keys_seen[r->section];
	if (*seen & (1u << i))
		return tl_profile_fail(r, "duplicate key '%s'", key);
	*seen |= 1u << i;
	return i;
}

static int copy_text(struct tl_profile_reader *r, char *dst, size_t n, const char *key,
		     const char *v)
{
	if (strlen(v) >= n)
		return tl_profile_fail(r, "%s is longer than %zu characters", key, n - 1);
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

int tl_profile_device_key(struct tl_profile_reader *r, int i, const char *key, const char *v,
			  const struct tl_profile_device *d)
{
	uint16_t u;
	switch (i) {
	case 0:
		return copy_text(r, d->name, d->name_size, key, v);
	case 1:
		return copy_text(r, d->source, d->source_size, key, v);
	case 2:
		return copy_text(r, d->unverified, d->unverified_size, key, v);
	case 3:
		if (strcmp(v, "yes") && strcmp(v, "no"))
			return tl_profile_fail(r, "simulated must be yes or no, not '%s'", v);
		*d->simulated = !strcmp(v, "yes");
		return 0;
	default:
		if (tl_profile_u16(v, &u) || u > 1000)
			return tl_profile_fail(r, "min_gap_ms must be 0..1000, not '%s'", v);
		*d->min_gap_ms = u;
		return 0;
	}
}

int tl_profile_device_complete(struct tl_profile_reader *r)
{
	if (!(r->keys_seen[0] & 1u))
		return tl_profile_fail(r, "[device] lacks 'name'");
	if (!(r->keys_seen[0] & 2u))
		return tl_profile_fail(r, "[device] lacks 'source' (where the register facts come from)");
	return 0;
}

/* Splits s (modified) into at most max words; returns the count, or max + 1 when there
 * are more. */
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

/* The names of the kinds in mask, "a or b". */
static void kind_list(char *dst, size_t cap, unsigned mask)
{
	const char *names[4];
	int n = 0;
	for (int k = 0; k < 4; k++)
		if (mask & (1u << k))
			names[n++] = tl_reg_kind_name((enum tl_reg_kind)k);
	join(dst, cap, names, n, true);
}

int tl_profile_register(struct tl_profile_reader *r, const char *key, char *v,
			const struct tl_profile_kinds *kinds, bool writable,
			const char *const *units, const struct tl_profile_reg_ref *reg)
{
	if (*reg->present)
		return tl_profile_fail(r, "duplicate register '%s' (first on line %d)", key,
				       *reg->line);
	char *w[4], list[100];
	int n = split_words(v, w, 4);
	if (n != 4)
		return tl_profile_fail(r, "%s: expected 'kind address scale units', got %d words",
				       key, n);
	int kind = 0;
	while (kind < 4 && strcmp(w[0], tl_reg_kind_name((enum tl_reg_kind)kind)))
		kind++;
	if (kind == 4)
		return tl_profile_fail(r, "%s: unknown kind '%s' (holding, input, coil, discrete)",
				       key, w[0]);
	if (!(kinds->any & (1u << kind))) {
		kind_list(list, sizeof list, kinds->any);
		return tl_profile_fail(r, "%s: %s (%s), not %s", key, kinds->why, list, w[0]);
	}
	if (writable && !(kinds->writable & (1u << kind))) {
		kind_list(list, sizeof list, kinds->writable);
		return tl_profile_fail(r, "%s must be writable (%s), not %s", key, list, w[0]);
	}
	if (tl_profile_u16(w[1], reg->address))
		return tl_profile_fail(r, "%s: bad address '%s' (0..65535, decimal or 0x hex)", key,
				       w[1]);
	if (tl_profile_positive(w[2], reg->scale))
		return tl_profile_fail(r, "%s: bad scale '%s' (a positive number)", key, w[2]);
	int u = 0;
	while (units[u] && strcmp(w[3], units[u]))
		u++;
	if (!units[u]) {
		join(list, sizeof list, units, -1, true);
		return tl_profile_fail(r, "%s: units '%s' do not fit (expected %s)", key, w[3], list);
	}
	snprintf(reg->units, reg->units_size, "%s", w[3]);
	*reg->kind = (enum tl_reg_kind)kind;
	*reg->present = true;
	*reg->line = r->line;
	return 0;
}

int tl_profile_command(struct tl_profile_reader *r, const char *const *keys,
		       struct tl_cmd_seq *const *seqs, int n, const char *key, char *v)
{
	int i = tl_profile_key(r, keys, n, key);
	if (i < 0)
		return -1;
	char *w[TL_PROFILE_MAX_SEQ];
	int nw = split_words(v, w, TL_PROFILE_MAX_SEQ);
	if (nw == 0 || nw > TL_PROFILE_MAX_SEQ)
		return tl_profile_fail(r, "%s: expected 1 to %d values", key, TL_PROFILE_MAX_SEQ);
	for (int j = 0; j < nw; j++)
		if (tl_profile_u16(w[j], &seqs[i]->value[j]))
			return tl_profile_fail(r, "%s: bad value '%s' (0..65535)", key, w[j]);
	seqs[i]->n = nw;
	return 0;
}

int tl_profile_u16(const char *s, uint16_t *out)
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

int tl_profile_positive(const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || *end || errno || !isfinite(v) || v <= 0)
		return -1;
	*out = v;
	return 0;
}
