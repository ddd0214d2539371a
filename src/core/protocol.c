/* protocol.c - the strict protocol-file loader.
 *
 * File format (one protocol per file, UTF-8 text):
 *
 *     # comment lines start with '#'
 *     title = ...                 (required)
 *     reference = ...             (required: the literature reference)
 *     units = mph | kmh           (required: the units speeds are written in)
 *     endpoint = symptom-limited | fixed-duration | each-walk   (required)
 *     max_duration_s = N          (required: walking never goes beyond this)
 *
 *     [stage]                     (zero or more, in order)
 *     kind = walk | rest          (required)
 *     duration_s = N              (required, > 0)
 *     speed = N                   (walk: required, > 0; rest: not allowed)
 *     grade_pct = N               (walk: required; rest: not allowed)
 *
 *     [graded]                    (at most one, after every [stage])
 *     speed = N                   (required)
 *     grade_start_pct = N         (required)
 *     grade_step_pct = N          (required, > 0)
 *     interval_s = N              (required, > 0)
 *     grade_max_pct = N           (required: the cap; the grade holds there)
 *
 * A [graded] block expands to stages of interval_s each, the grade rising by the step
 * up to the cap, until the protocol's max_duration_s. */
#include "protocol.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "units.h"

#define LINE_MAX_LEN 1024

enum section { SEC_TOP, SEC_STAGE, SEC_GRADED };

/* Keys seen in the current section, to refuse duplicates and find missing ones. */
struct fields {
	bool have_kind, have_duration, have_speed, have_grade;
	bool have_gstart, have_gstep, have_interval, have_gmax;
	int line; /* where the section started, for "missing key" messages */
	enum tl_stage_kind kind;
	double duration_s, speed, grade, gstart, gstep, interval_s, gmax;
};

struct parser {
	const char *file;
	int line;
	struct tl_err *err;
	const struct tl_device_caps *device;
	struct tl_protocol *p;
	enum section sec;
	struct fields f;
	bool have_title, have_reference, have_units, have_endpoint, have_max_duration;
	bool seen_graded;
	double max_duration_s;
	int stage_line[TL_PROTOCOL_MAX_STAGES]; /* where each stage was written */
};

static int fail(struct parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct parser *ps, const char *fmt, ...)
{
	char reason[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	tl_err_set(ps->err, "%s:%d: %s", ps->file, ps->line, reason);
	return -1;
}

static int parse_number(struct parser *ps, const char *key, const char *val, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(val, &end);
	if (end == val || *end != '\0' || errno == ERANGE || !isfinite(v))
		return fail(ps, "%s: '%s' is not a number", key, val);
	/* strtod accepts hex and "inf"/"nan"; protocol files are decimal only. */
	for (const char *c = val; *c; c++)
		if (!(isdigit((unsigned char)*c) || *c == '.' || *c == '-' || *c == '+'))
			return fail(ps, "%s: '%s' is not a decimal number", key, val);
	*out = v;
	return 0;
}

static int parse_duration_s(struct parser *ps, const char *key, const char *val, double *out)
{
	if (parse_number(ps, key, val, out))
		return -1;
	if (*out <= 0)
		return fail(ps, "%s: must be greater than 0 (got %s)", key, val);
	if (*out * 1000.0 > (double)TL_ABSURD_DURATION_MS)
		return fail(ps, "%s: %s s is longer than any treadmill test (limit %lld s)", key,
			    val, TL_ABSURD_DURATION_MS / 1000);
	/* A stage shorter than a second cannot be walked, and would flood the event queue. */
	if (*out < 1.0)
		return fail(ps, "%s: %s s is shorter than the 1 s minimum", key, val);
	double ms = *out * 1000.0;
	if (fabs(ms - round(ms)) > 1e-6)
		return fail(ps, "%s: %s has a resolution finer than 1 ms", key, val);
	return 0;
}

/* Converts a speed in file units to km/h. */
static double to_kmh(const struct tl_protocol *p, double v)
{
	return p->units == TL_UNITS_MPH ? tl_mph_to_kmh(v) : v;
}

static int check_walk(struct parser *ps, const char *what, double speed_file, double grade_pct)
{
	double kmh = to_kmh(ps->p, speed_file);
	double max_speed = ps->device ? ps->device->max_speed_kmh : TL_ABSURD_SPEED_KMH;
	double max_grade = ps->device ? ps->device->max_grade_pct : TL_ABSURD_GRADE_PCT;
	if (speed_file <= 0)
		return fail(ps, "%s: walk speed must be greater than 0 (got %g)", what, speed_file);
	if (kmh > TL_ABSURD_SPEED_KMH)
		return fail(ps, "%s: speed %g %s is beyond any walking test (limit %g km/h)", what,
			    speed_file, tl_units_name(ps->p->units), TL_ABSURD_SPEED_KMH);
	if (kmh > max_speed + 1e-9)
		return fail(ps, "%s: speed %.2f km/h is above the treadmill's maximum %.2f km/h",
			    what, kmh, max_speed);
	if (grade_pct < 0)
		return fail(ps, "%s: grade must not be negative (got %g %%)", what, grade_pct);
	if (grade_pct > TL_ABSURD_GRADE_PCT)
		return fail(ps, "%s: grade %g %% is beyond any walking test (limit %g %%)", what,
			    grade_pct, TL_ABSURD_GRADE_PCT);
	if (grade_pct > max_grade + 1e-9)
		return fail(ps, "%s: grade %g %% is above the treadmill's maximum %g %%; "
			    "the protocol cannot be run on it (grades are never clamped)",
			    what, grade_pct, max_grade);
	return 0;
}

static int add_stage(struct parser *ps, enum tl_stage_kind kind, int64_t duration_ms,
		     double speed_kmh, double grade_pct)
{
	struct tl_protocol *p = ps->p;
	if (p->n_stages >= TL_PROTOCOL_MAX_STAGES)
		return fail(ps, "too many stages (at most %d)", TL_PROTOCOL_MAX_STAGES);
	struct tl_stage *s = &p->stages[p->n_stages];
	s->kind = kind;
	s->start_ms = p->n_stages ? p->stages[p->n_stages - 1].start_ms +
					    p->stages[p->n_stages - 1].duration_ms
				  : 0;
	s->duration_ms = duration_ms;
	s->speed_kmh = speed_kmh;
	s->grade_pct = grade_pct;
	ps->stage_line[p->n_stages] = ps->line;
	p->n_stages++;
	return 0;
}

/* Closes the current section: checks it is complete and turns it into stages. */
static int end_section(struct parser *ps)
{
	struct fields *f = &ps->f;
	int saved = ps->line;
	ps->line = f->line;
	int rc = 0;
	if (ps->sec == SEC_STAGE) {
		if (!f->have_kind)
			rc = fail(ps, "[stage]: missing key 'kind'");
		else if (!f->have_duration)
			rc = fail(ps, "[stage]: missing key 'duration_s' (every stage needs a duration)");
		else if (f->kind == TL_STAGE_WALK && !f->have_speed)
			rc = fail(ps, "[stage]: walk stage without 'speed'");
		else if (f->kind == TL_STAGE_WALK && !f->have_grade)
			rc = fail(ps, "[stage]: walk stage without 'grade_pct'");
		else if (f->kind == TL_STAGE_REST && (f->have_speed || f->have_grade))
			rc = fail(ps, "[stage]: a rest stage has the belt stopped; remove 'speed' and 'grade_pct'");
		else if (f->kind == TL_STAGE_WALK &&
			 check_walk(ps, "[stage]", f->speed, f->grade))
			rc = -1;
		else
			rc = add_stage(ps, f->kind, (int64_t)llround(f->duration_s * 1000.0),
				       f->kind == TL_STAGE_WALK ? to_kmh(ps->p, f->speed) : 0.0,
				       f->kind == TL_STAGE_WALK ? f->grade : 0.0);
	} else if (ps->sec == SEC_GRADED) {
		const char *missing = !f->have_speed      ? "speed"
				      : !f->have_gstart   ? "grade_start_pct"
				      : !f->have_gstep    ? "grade_step_pct"
				      : !f->have_interval ? "interval_s"
				      : !f->have_gmax     ? "grade_max_pct"
							  : NULL;
		if (missing)
			rc = fail(ps, "[graded]: missing key '%s'", missing);
		else if (f->gstep <= 0)
			rc = fail(ps, "[graded]: grade_step_pct must be greater than 0 (got %g)", f->gstep);
		else if (f->gmax < f->gstart)
			rc = fail(ps, "[graded]: grade_max_pct %g is below grade_start_pct %g", f->gmax,
				  f->gstart);
		else if (check_walk(ps, "[graded] start", f->speed, f->gstart) ||
			 check_walk(ps, "[graded] cap", f->speed, f->gmax))
			rc = -1;
		/* Expansion happens at the end, once max_duration_s is known. */
	}
	ps->line = saved;
	return rc;
}

static int expand_graded(struct parser *ps)
{
	struct fields *f = &ps->f;
	struct tl_protocol *p = ps->p;
	int64_t max_ms = p->max_duration_ms;
	int64_t t = tl_protocol_length_ms(p);
	int64_t interval_ms = (int64_t)llround(f->interval_s * 1000.0);
	ps->line = f->line;
	if (t >= max_ms)
		return fail(ps, "[graded]: the stages before it already fill max_duration_s");
	for (int k = 0; t < max_ms; k++) {
		double grade = f->gstart + k * f->gstep;
		if (grade >= f->gmax - 1e-9)
			grade = f->gmax; /* the grade holds at the cap; stages stay interval_s long */
		int64_t dur = interval_ms;
		if (t + dur > max_ms)
			dur = max_ms - t;
		if (add_stage(ps, TL_STAGE_WALK, dur, to_kmh(p, f->speed), grade))
			return -1;
		t += dur;
	}
	return 0;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	char *e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static int dup_key(struct parser *ps, bool *have, const char *key)
{
	if (*have)
		return fail(ps, "duplicate key '%s'", key);
	*have = true;
	return 0;
}

static int copy_text(struct parser *ps, const char *key, const char *val, char *dst, size_t cap)
{
	if (strlen(val) >= cap)
		return fail(ps, "%s: longer than %zu characters", key, cap - 1);
	memcpy(dst, val, strlen(val) + 1);
	return 0;
}

static int top_key(struct parser *ps, const char *key, const char *val)
{
	struct tl_protocol *p = ps->p;
	if (!strcmp(key, "title")) {
		if (dup_key(ps, &ps->have_title, key))
			return -1;
		return copy_text(ps, key, val, p->title, sizeof p->title);
	}
	if (!strcmp(key, "reference")) {
		if (dup_key(ps, &ps->have_reference, key))
			return -1;
		return copy_text(ps, key, val, p->reference, sizeof p->reference);
	}
	if (!strcmp(key, "units")) {
		if (dup_key(ps, &ps->have_units, key))
			return -1;
		if (!strcmp(val, "mph"))
			p->units = TL_UNITS_MPH;
		else if (!strcmp(val, "kmh"))
			p->units = TL_UNITS_KMH;
		else
			return fail(ps, "units: '%s' is not one of mph, kmh", val);
		return 0;
	}
	if (!strcmp(key, "endpoint")) {
		if (dup_key(ps, &ps->have_endpoint, key))
			return -1;
		if (!strcmp(val, "symptom-limited"))
			p->endpoint = TL_ENDPOINT_SYMPTOM_LIMITED;
		else if (!strcmp(val, "fixed-duration"))
			p->endpoint = TL_ENDPOINT_FIXED_DURATION;
		else if (!strcmp(val, "each-walk"))
			p->endpoint = TL_ENDPOINT_EACH_WALK;
		else
			return fail(ps, "endpoint: '%s' is not one of symptom-limited, fixed-duration, each-walk", val);
		return 0;
	}
	if (!strcmp(key, "max_duration_s")) {
		if (dup_key(ps, &ps->have_max_duration, key))
			return -1;
		if (parse_duration_s(ps, key, val, &ps->max_duration_s))
			return -1;
		p->max_duration_ms = (int64_t)llround(ps->max_duration_s * 1000.0);
		return 0;
	}
	return fail(ps, "unknown key '%s'", key);
}

static int stage_key(struct parser *ps, const char *key, const char *val)
{
	struct fields *f = &ps->f;
	if (!strcmp(key, "kind")) {
		if (dup_key(ps, &f->have_kind, key))
			return -1;
		if (!strcmp(val, "walk"))
			f->kind = TL_STAGE_WALK;
		else if (!strcmp(val, "rest"))
			f->kind = TL_STAGE_REST;
		else
			return fail(ps, "kind: '%s' is not one of walk, rest", val);
		return 0;
	}
	if (!strcmp(key, "duration_s"))
		return dup_key(ps, &f->have_duration, key) ||
		       parse_duration_s(ps, key, val, &f->duration_s) ? -1 : 0;
	if (!strcmp(key, "speed"))
		return dup_key(ps, &f->have_speed, key) || parse_number(ps, key, val, &f->speed) ? -1 : 0;
	if (!strcmp(key, "grade_pct"))
		return dup_key(ps, &f->have_grade, key) || parse_number(ps, key, val, &f->grade) ? -1 : 0;
	return fail(ps, "[stage]: unknown key '%s'", key);
}

static int graded_key(struct parser *ps, const char *key, const char *val)
{
	struct fields *f = &ps->f;
	struct {
		const char *name;
		bool *have;
		double *v;
	} keys[] = {
		{"speed", &f->have_speed, &f->speed},
		{"grade_start_pct", &f->have_gstart, &f->gstart},
		{"grade_step_pct", &f->have_gstep, &f->gstep},
		{"grade_max_pct", &f->have_gmax, &f->gmax},
	};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (!strcmp(key, keys[i].name))
			return dup_key(ps, keys[i].have, key) ||
			       parse_number(ps, key, val, keys[i].v) ? -1 : 0;
	if (!strcmp(key, "interval_s"))
		return dup_key(ps, &f->have_interval, key) ||
		       parse_duration_s(ps, key, val, &f->interval_s) ? -1 : 0;
	return fail(ps, "[graded]: unknown key '%s'", key);
}

static int begin_section(struct parser *ps, const char *name)
{
	if (end_section(ps))
		return -1;
	if (ps->sec == SEC_TOP) {
		/* Stage speeds need the units; require the header first. */
		if (!ps->have_units)
			return fail(ps, "'units' must be given before the first section");
	}
	enum section next;
	if (!strcmp(name, "stage")) {
		if (ps->seen_graded)
			return fail(ps, "[stage] after [graded]: the graded block must come last");
		next = SEC_STAGE;
	} else if (!strcmp(name, "graded")) {
		if (ps->seen_graded)
			return fail(ps, "a second [graded] block");
		ps->seen_graded = true;
		next = SEC_GRADED;
	} else {
		return fail(ps, "unknown section [%s] (expected [stage] or [graded])", name);
	}
	memset(&ps->f, 0, sizeof ps->f);
	ps->f.line = ps->line;
	ps->sec = next;
	return 0;
}

static int parse_line(struct parser *ps, char *line)
{
	char *s = trim(line);
	if (*s == '\0' || *s == '#')
		return 0;
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c < 0x20 && *c != '\t')
			return fail(ps, "control character 0x%02x in line", (unsigned char)*c);
	if (*s == '[') {
		char *close = strchr(s, ']');
		if (!close || close[1] != '\0')
			return fail(ps, "malformed section header '%s'", s);
		*close = '\0';
		return begin_section(ps, trim(s + 1));
	}
	char *eq = strchr(s, '=');
	if (!eq)
		return fail(ps, "expected 'key = value', got '%s'", s);
	*eq = '\0';
	char *key = trim(s);
	char *val = trim(eq + 1);
	if (*key == '\0')
		return fail(ps, "missing key before '='");
	for (const char *c = key; *c; c++)
		if (!(islower((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '_'))
			return fail(ps, "malformed key '%s'", key);
	if (*val == '\0')
		return fail(ps, "%s: empty value", key);
	switch (ps->sec) {
	case SEC_TOP:
		return top_key(ps, key, val);
	case SEC_STAGE:
		return stage_key(ps, key, val);
	case SEC_GRADED:
		return graded_key(ps, key, val);
	}
	return fail(ps, "internal: bad section");
}

int tl_protocol_parse(const char *text, size_t len, const char *file, const char *name,
		      const struct tl_device_caps *device, struct tl_protocol *out,
		      struct tl_err *err)
{
	struct parser ps = {.file = file, .line = 0, .err = err, .device = device, .p = out};
	memset(out, 0, sizeof *out);
	if (!tl_protocol_name_valid(name)) {
		tl_err_set(err, "%s: '%s' is not a valid protocol name (use a-z, 0-9 and '-')", file,
			   name);
		return -1;
	}
	memcpy(out->name, name, strlen(name) + 1);
	const char *nul = memchr(text, '\0', len);
	if (nul) {
		int line = 1;
		for (const char *c = text; c < nul; c++)
			line += *c == '\n';
		tl_err_set(err, "%s:%d: contains a NUL byte; a protocol file is text", file, line);
		return -1;
	}
	size_t pos = 0;
	while (pos < len) {
		ps.line++;
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		if (n >= LINE_MAX_LEN)
			return fail(&ps, "line longer than %d characters", LINE_MAX_LEN - 1);
		char line[LINE_MAX_LEN];
		memcpy(line, text + pos, n);
		line[n] = '\0';
		if (parse_line(&ps, line))
			return -1;
		pos += n + 1;
	}
	ps.line++;
	if (end_section(&ps))
		return -1;
	ps.line = 1;
	const char *missing = !ps.have_title          ? "title"
			      : !ps.have_reference    ? "reference"
			      : !ps.have_units        ? "units"
			      : !ps.have_endpoint     ? "endpoint"
			      : !ps.have_max_duration ? "max_duration_s"
						      : NULL;
	if (missing)
		return fail(&ps, "missing key '%s'", missing);
	if (ps.seen_graded && expand_graded(&ps))
		return -1;
	if (out->n_stages == 0)
		return fail(&ps, "no stages: add [stage] or [graded] sections");
	bool any_walk = false;
	for (size_t i = 0; i < out->n_stages; i++)
		any_walk |= out->stages[i].kind == TL_STAGE_WALK;
	if (!any_walk)
		return fail(&ps, "no walk stage");
	if (out->stages[0].kind != TL_STAGE_WALK) {
		ps.line = ps.stage_line[0];
		return fail(&ps, "the first stage must be a walk");
	}
	if (out->stages[out->n_stages - 1].kind != TL_STAGE_WALK) {
		ps.line = ps.stage_line[out->n_stages - 1];
		return fail(&ps, "the last stage must be a walk (a rest after walking is recovery)");
	}
	if (out->endpoint == TL_ENDPOINT_EACH_WALK && out->max_duration_ms < tl_protocol_length_ms(out))
		return fail(&ps, "each-walk protocol: max_duration_s %.1f is shorter than its stages (%.1f s)",
			    out->max_duration_ms / 1000.0, tl_protocol_length_ms(out) / 1000.0);
	return 0;
}

int64_t tl_protocol_length_ms(const struct tl_protocol *p)
{
	if (p->n_stages == 0)
		return 0;
	const struct tl_stage *s = &p->stages[p->n_stages - 1];
	return s->start_ms + s->duration_ms;
}

int tl_protocol_next_walk(const struct tl_protocol *p, size_t i)
{
	for (size_t j = i + 1; j < p->n_stages; j++)
		if (p->stages[j].kind == TL_STAGE_WALK)
			return (int)j;
	return -1;
}

const char *tl_units_name(enum tl_units u)
{
	return u == TL_UNITS_MPH ? "mph" : "kmh";
}

const char *tl_endpoint_name(enum tl_endpoint e)
{
	switch (e) {
	case TL_ENDPOINT_SYMPTOM_LIMITED:
		return "symptom-limited";
	case TL_ENDPOINT_FIXED_DURATION:
		return "fixed-duration";
	case TL_ENDPOINT_EACH_WALK:
		return "each-walk";
	}
	return "?";
}

const char *tl_stage_kind_name(enum tl_stage_kind k)
{
	return k == TL_STAGE_WALK ? "walk" : "rest";
}

int tl_protocol_name_valid(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n >= TL_PROTOCOL_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)name[i]) || isdigit((unsigned char)name[i]) || name[i] == '-'))
			return 0;
	return 1;
}
