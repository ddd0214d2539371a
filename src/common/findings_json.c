#include "findings_json.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "json_out.h"
#include "protocol.h"

/* Longest path in a message: "post[15].brachial_right" and the like. */
#define PATH_MAX_LEN 96

/* Sanity bound for times in the document (a walk, a recovery): the protocol loader's
 * absurd duration. Not a clinical threshold. */
#define ABSURD_TIME_S (TL_ABSURD_DURATION_MS / 1000.0)

__attribute__((format(printf, 3, 4))) static int fail(struct tl_err *err, const char *path,
						      const char *fmt, ...)
{
	char reason[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	tl_err_set(err, "%s: %s", path, reason);
	return -1;
}

/* base.key into buf; an unknown key of absurd length is cut, which the message survives. */
static void join(char *buf, size_t n, const char *base, const char *key)
{
	if (snprintf(buf, n, "%s%s%s", base, base[0] ? "." : "", key) < 0)
		buf[0] = '\0';
}

static const char *type_name(const json_t *j)
{
	if (!j)
		return "nothing";
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "?";
}

static int expect_object(const json_t *j, const char *path, struct tl_err *err)
{
	if (!json_is_object(j))
		return fail(err, path, "expected an object, got %s", type_name(j));
	return 0;
}

/* Refuses any key of obj that is not in allowed (NULL-terminated). */
static int check_keys(const json_t *obj, const char *path, const char *const *allowed,
		      struct tl_err *err)
{
	const char *key;
	json_t *val;
	json_object_foreach ((json_t *)obj, key, val) {
		const char *const *a = allowed;
		while (*a && strcmp(*a, key))
			a++;
		if (!*a) {
			char p[PATH_MAX_LEN];
			join(p, sizeof p, path, key);
			return fail(err, p, "unknown key");
		}
	}
	return 0;
}

/* A number in [0, max] or null/missing. *has says which. */
static int get_number(const json_t *obj, const char *key, const char *path, double max,
		      const char *unit, bool *has, double *out, struct tl_err *err)
{
	const json_t *j = json_object_get(obj, key);
	*has = false;
	if (!j || json_is_null(j))
		return 0;
	char p[PATH_MAX_LEN];
	join(p, sizeof p, path, key);
	if (!json_is_number(j))
		return fail(err, p, "expected a number, got %s", type_name(j));
	double v = json_number_value(j);
	if (v < 0)
		return fail(err, p, "%g is negative", v);
	if (v > max)
		return fail(err, p, "%g is above %g %s", v, max, unit);
	*has = true;
	*out = v;
	return 0;
}

/* The word an ankle artery not compressible at the cuff's maximum is recorded as. */
#define NONCOMPRESSIBLE "noncompressible"

/* A pressure in mmHg, or for an ankle artery (pt_, dp_) the string "noncompressible". */
static int get_pressure(const json_t *obj, const char *key, const char *path,
			struct tl_mmhg *out, struct tl_err *err)
{
	const json_t *j = json_object_get(obj, key);
	if (json_is_string(j)) {
		char p[PATH_MAX_LEN];
		join(p, sizeof p, path, key);
		bool ankle = !strncmp(key, "pt_", 3) || !strncmp(key, "dp_", 3);
		if (!ankle || strcmp(json_string_value(j), NONCOMPRESSIBLE))
			return fail(err, p, "expected a number%s, got \"%s\"",
				    ankle ? " or \"" NONCOMPRESSIBLE "\"" : "", json_string_value(j));
		*out = (struct tl_mmhg){.has = true, .noncompressible = true};
		return 0;
	}
	return get_number(obj, key, path, TL_MMHG_MAX, "mmHg", &out->has, &out->mmhg, err);
}

static int get_seconds(const json_t *obj, const char *key, const char *path,
		       struct tl_opt_s *out, struct tl_err *err)
{
	return get_number(obj, key, path, ABSURD_TIME_S, "s", &out->has, &out->s, err);
}

/* A string naming one of names[1..n-1] (names[0] is the absent value), or null. */
static int get_enum(const json_t *obj, const char *key, const char *path,
		    const char *(*name_of)(int), int n, int *out, struct tl_err *err)
{
	const json_t *j = json_object_get(obj, key);
	*out = 0;
	if (!j || json_is_null(j))
		return 0;
	char p[PATH_MAX_LEN];
	join(p, sizeof p, path, key);
	if (!json_is_string(j))
		return fail(err, p, "expected a string, got %s", type_name(j));
	for (int i = 1; i < n; i++)
		if (!strcmp(json_string_value(j), name_of(i))) {
			*out = i;
			return 0;
		}
	return fail(err, p, "unknown value \"%s\"", json_string_value(j));
}

static int get_tri(const json_t *obj, const char *key, const char *path, enum tl_tri *out,
		   struct tl_err *err)
{
	const json_t *j = json_object_get(obj, key);
	*out = TL_TRI_ABSENT;
	if (!j || json_is_null(j))
		return 0;
	if (!json_is_boolean(j)) {
		char p[PATH_MAX_LEN];
		join(p, sizeof p, path, key);
		return fail(err, p, "expected a boolean, got %s", type_name(j));
	}
	*out = json_is_true(j) ? TL_TRI_YES : TL_TRI_NO;
	return 0;
}

/* ---- pressures ---- */

static const char *const PRESSURE_KEYS[] = {"brachial_left", "brachial_right", "pt_left",
					    "dp_left", "pt_right", "dp_right", "toe_left",
					    "toe_right", NULL};

static int parse_pressures(const json_t *obj, const char *path, struct tl_pressure_set *out,
			   struct tl_err *err)
{
	struct tl_mmhg *fields[] = {&out->brachial[TL_LEFT], &out->brachial[TL_RIGHT],
				    &out->pt[TL_LEFT],       &out->dp[TL_LEFT],
				    &out->pt[TL_RIGHT],      &out->dp[TL_RIGHT],
				    &out->toe[TL_LEFT],      &out->toe[TL_RIGHT]};
	for (size_t i = 0; PRESSURE_KEYS[i]; i++)
		if (get_pressure(obj, PRESSURE_KEYS[i], path, fields[i], err))
			return -1;
	return 0;
}

static int parse_rest(const json_t *j, struct tl_pressure_set *out, struct tl_err *err)
{
	if (expect_object(j, "rest", err) || check_keys(j, "rest", PRESSURE_KEYS, err))
		return -1;
	return parse_pressures(j, "rest", out, err);
}

static int parse_post_point(const json_t *j, const char *path, struct tl_post_set *out,
			    struct tl_err *err)
{
	static const char *const keys[] = {"minute", "brachial_left", "brachial_right",
					   "pt_left", "dp_left", "pt_right", "dp_right",
					   "toe_left", "toe_right", NULL};
	if (expect_object(j, path, err) || check_keys(j, path, keys, err))
		return -1;
	bool has;
	/* A point must say when it was taken; a day is far beyond any recovery. */
	if (get_number(j, "minute", path, 24 * 60, "min", &has, &out->minute, err))
		return -1;
	if (!has) {
		char p[PATH_MAX_LEN];
		join(p, sizeof p, path, "minute");
		return fail(err, p, "missing (every post-exercise point needs its minute)");
	}
	return parse_pressures(j, path, &out->p, err);
}

static int parse_post(const json_t *j, struct tl_findings *out, struct tl_err *err)
{
	if (!json_is_array(j))
		return fail(err, "post", "expected an array, got %s", type_name(j));
	if (json_array_size(j) > TL_ABI_MAX_POST)
		return fail(err, "post", "%zu time points, at most %d", json_array_size(j),
			    TL_ABI_MAX_POST);
	size_t i;
	const json_t *pt;
	json_array_foreach (j, i, pt) {
		char path[PATH_MAX_LEN];
		snprintf(path, sizeof path, "post[%zu]", i);
		if (parse_post_point(pt, path, &out->post[i], err))
			return -1;
		if (i > 0 && out->post[i].minute <= out->post[i - 1].minute) {
			char p[PATH_MAX_LEN];
			join(p, sizeof p, path, "minute");
			return fail(err, p, "%g is not after post[%zu] (%g)", out->post[i].minute,
				    i - 1, out->post[i - 1].minute);
		}
		out->n_post = i + 1;
	}
	return 0;
}

/* ---- walk and two-stage test ---- */

static const char *end_reason_name(int i)
{
	return tl_walk_end_name((enum tl_walk_end)i);
}

/* Sanity bound for a walking distance: a day's walk, far beyond any treadmill test. Not a
 * clinical threshold. */
#define ABSURD_DISTANCE_M 100000.0

static int get_metres(const json_t *obj, const char *key, const char *path, struct tl_opt_m *out,
		      struct tl_err *err)
{
	return get_number(obj, key, path, ABSURD_DISTANCE_M, "m", &out->has, &out->m, err);
}

static int parse_walk(const json_t *j, struct tl_walk *out, struct tl_err *err)
{
	static const char *const keys[] = {"cot_s", "pwt_s", "icd_m", "acd_m", "end_reason", NULL};
	int reason;
	if (expect_object(j, "walk", err) || check_keys(j, "walk", keys, err) ||
	    get_seconds(j, "cot_s", "walk", &out->cot_s, err) ||
	    get_seconds(j, "pwt_s", "walk", &out->pwt_s, err) ||
	    get_metres(j, "icd_m", "walk", &out->icd_m, err) ||
	    get_metres(j, "acd_m", "walk", &out->acd_m, err) ||
	    get_enum(j, "end_reason", "walk", end_reason_name, TL_WALK_END_LAST + 1, &reason,
		     err))
		return -1;
	out->end_reason = (enum tl_walk_end)reason;
	/* Onset is the first press, the peak is the max press or the end: onset first. */
	if (out->cot_s.has && out->pwt_s.has && out->cot_s.s > out->pwt_s.s)
		return fail(err, "walk.cot_s", "%g is after pwt_s (%g)", out->cot_s.s, out->pwt_s.s);
	if (out->icd_m.has && out->acd_m.has && out->icd_m.m > out->acd_m.m)
		return fail(err, "walk.icd_m", "%g is beyond acd_m (%g)", out->icd_m.m, out->acd_m.m);
	return 0;
}

static int parse_two_stage(const json_t *j, struct tl_two_stage *out, struct tl_err *err)
{
	static const char *const keys[] = {"level_onset_s", "incline_onset_s", "level_walk_s",
					   "incline_walk_s", "level_recovery_s",
					   "incline_recovery_s", NULL};
	struct tl_opt_s *fields[] = {&out->level_onset_s,    &out->incline_onset_s,
				     &out->level_walk_s,     &out->incline_walk_s,
				     &out->level_recovery_s, &out->incline_recovery_s};
	if (expect_object(j, "two_stage", err) || check_keys(j, "two_stage", keys, err))
		return -1;
	for (size_t i = 0; keys[i]; i++)
		if (get_seconds(j, keys[i], "two_stage", fields[i], err))
			return -1;
	return 0;
}

/* ---- symptoms ---- */

static const char *side_name(int i)
{
	return tl_symptom_side_name((enum tl_symptom_side)i);
}

static const char *relief_name(int i)
{
	return tl_relief_name((enum tl_relief)i);
}

static int parse_location(const json_t *j, const char *path, struct tl_symptoms *out,
			  struct tl_err *err)
{
	char p[PATH_MAX_LEN];
	join(p, sizeof p, path, "location");
	if (!json_is_array(j))
		return fail(err, p, "expected an array, got %s", type_name(j));
	size_t i;
	const json_t *v;
	json_array_foreach (j, i, v) {
		char pi[PATH_MAX_LEN + 16];
		if (snprintf(pi, sizeof pi, "%s[%zu]", p, i) < 0)
			pi[0] = '\0';
		if (!json_is_string(v))
			return fail(err, pi, "expected a string, got %s", type_name(v));
		unsigned bit = 0;
		for (int k = 0; k < TL_N_LOCATIONS; k++)
			if (!strcmp(json_string_value(v), tl_location_name((enum tl_location)(1u << k))))
				bit = 1u << k;
		if (!bit)
			return fail(err, pi, "unknown value \"%s\"", json_string_value(v));
		if (out->locations & bit)
			return fail(err, pi, "\"%s\" repeated", json_string_value(v));
		out->locations |= bit;
	}
	out->has_location = true;
	return 0;
}

int tl_symptoms_from_json(const json_t *obj, const char *path, struct tl_symptoms *out,
			  struct tl_err *err)
{
	const char *keys[TL_N_SYMPTOM_FLAGS + 5];
	size_t n = 0;
	keys[n++] = "location";
	keys[n++] = "side";
	keys[n++] = "relief";
	keys[n++] = "relief_time_s";
	for (int i = 0; i < TL_N_SYMPTOM_FLAGS; i++)
		keys[n++] = tl_symptom_flag_name((enum tl_symptom_flag)i);
	keys[n] = NULL;
	memset(out, 0, sizeof *out);
	if (expect_object(obj, path, err) || check_keys(obj, path, keys, err))
		return -1;
	const json_t *loc = json_object_get(obj, "location");
	if (loc && !json_is_null(loc) && parse_location(loc, path, out, err))
		return -1;
	int side, relief;
	if (get_enum(obj, "side", path, side_name, TL_SYM_SIDE_BILATERAL + 1, &side, err) ||
	    get_enum(obj, "relief", path, relief_name, TL_RELIEF_NONE + 1, &relief, err) ||
	    get_seconds(obj, "relief_time_s", path, &out->relief_time_s, err))
		return -1;
	out->side = (enum tl_symptom_side)side;
	out->relief = (enum tl_relief)relief;
	for (int i = 0; i < TL_N_SYMPTOM_FLAGS; i++)
		if (get_tri(obj, tl_symptom_flag_name((enum tl_symptom_flag)i), path, &out->flag[i],
			    err))
			return -1;
	return 0;
}

/* ---- the document ---- */

/* Runs parse on doc[key] unless it is missing or null. */
#define SECTION(key, call)                                                                 \
	do {                                                                               \
		const json_t *j = json_object_get(doc, key);                                \
		if (j && !json_is_null(j) && (call))                                        \
			return -1;                                                         \
	} while (0)

int tl_findings_from_json(const json_t *doc, struct tl_findings *out, struct tl_err *err)
{
	static const char *const keys[] = {"rest", "post", "walk", "two_stage", "symptoms", NULL};
	memset(out, 0, sizeof *out);
	if (expect_object(doc, "document", err) || check_keys(doc, "", keys, err))
		return -1;
	SECTION("rest", parse_rest(j, &out->rest, err));
	SECTION("post", parse_post(j, out, err));
	SECTION("walk", parse_walk(j, &out->walk, err));
	SECTION("two_stage", parse_two_stage(j, &out->two_stage, err));
	SECTION("symptoms", tl_symptoms_from_json(j, "symptoms", &out->symptoms, err));
	return 0;
}

int tl_findings_parse(const char *text, size_t len, struct tl_findings *out, struct tl_err *err)
{
	json_error_t jerr;
	json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc) {
		tl_err_set(err, "line %d column %d: %s", jerr.line, jerr.column, jerr.text);
		return -1;
	}
	int rc = tl_findings_from_json(doc, out, err);
	json_decref(doc);
	return rc;
}

/* ---- rendering ---- */

/* The index to 2 decimals; null when not computable or on a noncompressible artery (the
 * category then says "noncompressible"). */
static json_t *index_or_null(struct tl_index i)
{
	return i.has && !i.noncompressible ? tl_json_round(tl_index_value(i), 2) : json_null();
}

static json_t *post_json(const struct tl_abi_post *p)
{
	return json_pack("{s:o, s:o, s:o, s:o}", "minute", tl_json_round(p->minute, 3), "abi",
			 index_or_null(p->abi), "fall_pct",
			 p->has_fall_pct ? tl_json_round(p->fall_pct, 1) : json_null(),
			 "ankle_fall_mmhg",
			 p->has_ankle_fall ? tl_json_round(p->ankle_fall_mmhg, 1) : json_null());
}

static json_t *leg_json(const struct tl_abi_leg *leg)
{
	json_t *post = json_array();
	for (size_t i = 0; i < leg->n_post; i++)
		json_array_append_new(post, post_json(&leg->post[i]));
	json_t *criteria = json_array();
	for (int i = 0; i < TL_N_CRITERIA; i++)
		if (leg->criteria & tl_abi_criteria[i])
			json_array_append_new(criteria,
					      json_string(tl_abi_criterion_name(tl_abi_criteria[i])));
	return json_pack("{s:o, s:o, s:o, s:o, s:b, s:o, s:o}", "rest", index_or_null(leg->rest),
			 "rest_category",
			 leg->rest.has ? json_string(tl_abi_category_name(leg->rest_category))
				       : json_null(),
			 "post", post, "criteria", criteria, "changes_not_interpreted",
			 leg->changes_not_interpreted, "recovery_min",
			 leg->has_recovery ? tl_json_round(leg->recovery_min, 3) : json_null(),
			 "recovery_tolerance_mmhg",
			 leg->has_tolerance ? tl_json_round(leg->tolerance_mmhg, 1) : json_null());
}

static json_t *grade_json(const struct tl_grade *g)
{
	return json_pack("{s:o, s:s, s:s}", "grade", g->has ? json_string(g->grade) : json_null(),
			 "criteria", g->criteria, "source", g->source ? g->source : "");
}

static json_t *band_json(const struct tl_severity *sv, enum tl_side s)
{
	if (!sv->has_band[s])
		return json_null();
	return json_pack("{s:s, s:s}", "band", tl_abi_band_name(sv->band[s]), "criteria",
			 tl_abi_band_criteria(sv->band[s]));
}

static json_t *severity_json(const struct tl_severity *sv)
{
	return json_pack("{s:{s:o, s:o}, s:o, s:o}", "abi_band", "left", band_json(sv, TL_LEFT),
			 "right", band_json(sv, TL_RIGHT), "rutherford",
			 grade_json(&sv->rutherford), "fontaine", grade_json(&sv->fontaine));
}

/* {"value", "censored", "censored_by", "text"}, or null when not measured. */
static json_t *endpoint_json(const struct tl_endpoint_report *r)
{
	if (!r->has)
		return json_null();
	return json_pack("{s:o, s:b, s:o, s:s}", "value", tl_json_round(r->value, 1), "censored",
			 r->censored, "censored_by",
			 r->censored ? json_string(tl_walk_end_name(r->censored_by)) : json_null(),
			 "text", r->text);
}

static json_t *tbi_json(const struct tl_abi_leg *leg)
{
	return json_pack("{s:o, s:o}", "value", index_or_null(leg->tbi), "category",
			 leg->tbi.has ? json_string(tl_tbi_category_name(leg->tbi_category))
				      : json_null());
}

json_t *tl_classification_to_json(const struct tl_classification *c)
{
	const struct tl_abi_leg *l = &c->abi.leg[TL_LEFT], *r = &c->abi.leg[TL_RIGHT];
	json_t *flags = json_array(), *findings = json_array(), *rationale = json_array();
	for (size_t i = 0; i < c->n_red_flags; i++)
		json_array_append_new(flags, json_pack("{s:s, s:s}", "code",
						       tl_red_flag_name(c->red_flags[i].code),
						       "reason", c->red_flags[i].reason));
	for (size_t i = 0; i < c->n_findings; i++) {
		const struct tl_finding *f = &c->findings[i];
		json_array_append_new(findings,
				      json_pack("{s:s, s:s, s:s}", "finding", f->finding,
						"points_to", tl_points_to_name(f->points_to),
						"source", f->source));
	}
	for (size_t i = 0; i < c->n_rationale; i++)
		json_array_append_new(rationale, json_string(c->rationale[i]));
	json_t *warnings = json_array();
	for (size_t i = 0; i < c->n_warnings; i++)
		json_array_append_new(warnings, json_pack("{s:s, s:s}", "warning", c->warnings[i].text,
							  "source", c->warnings[i].source));
	return json_pack("{s:s, s:{s:o, s:o}, s:{s:o, s:o}, s:o, s:o, s:o, s:{s:o, s:o}, s:o, s:o}",
			 "category", tl_category_name(c->category), "abi", "left", leg_json(l),
			 "right", leg_json(r), "tbi", "left", tbi_json(l), "right", tbi_json(r),
			 "red_flags", flags, "warnings", warnings, "severity",
			 severity_json(&c->severity), "endpoints", "pwt", endpoint_json(&c->pwt),
			 "acd", endpoint_json(&c->acd), "findings", findings, "rationale",
			 rationale);
}
