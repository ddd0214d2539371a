/* hl7.c - the HL7 v2.5.1 ORU^R01 message of a test (issue 13).
 *
 * docs/records.md describes the message segment by segment with the source of every
 * code. The structure (MSH PID [PV1] ORC OBR {NTE} {OBX {NTE}}), the delimiters and the
 * escape sequences follow HL7 v2.5.1 chapters 2 (control) and 7 (observation reporting);
 * LOINC and SNOMED CT codes are only those docs/clinical.md and docs/records.md name,
 * everything else is a local code of the coding system 99TLB with its text. Numbers are
 * written digit by digit, never through the locale. */
#include "hl7.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi.h"

/* Local codes (HL7 v2.5.1 2.A.7: "99zzz" names a locally defined coding system). */
#define LOCAL "99TLB"

/* ---- a growing buffer that remembers running out of memory ---- */

struct buf {
	char *p;
	size_t n, cap;
	bool oom;
};

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		while (cap < b->n + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = 0;
}

static void puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void putc_(struct buf *b, char c)
{
	put(b, &c, 1);
}

/* Integers only: %d and %lld print no grouping or locale-dependent characters. */
__attribute__((format(printf, 2, 3))) static void putf(struct buf *b, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n > 0)
		put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* ---- escaping (HL7 v2.5.1 2.7) ---- */

/* One character at a time, so the escape character is escaped before anything else can
 * put one in. */
static void esc(struct buf *b, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
		static const char delim[] = "\\|^&~", name[] = "EFSTR";
		const char *d = strchr(delim, *p);
		if (d)
			putf(b, "\\%c\\", name[d - delim]);
		else if (*p < 0x20 || *p == 0x7f)
			putf(b, "\\X%02X\\", *p); /* CR, LF, MLLP's VT and FS among them */
		else
			putc_(b, (char)*p);
	}
}

char *tl_hl7_escape(const char *s)
{
	struct buf b = {0};
	esc(&b, s);
	put(&b, "", 0);
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

/* ---- numbers, dates, times ---- */

/* v rounded to `dec` decimals (0..4); trailing zeros dropped unless fixed. */
static void num(struct buf *b, double v, int dec, bool fixed)
{
	static const long long scale[] = {1, 10, 100, 1000, 10000};
	long long q = llround(fabs(v) * (double)scale[dec]);
	if (v < 0 && q)
		putc_(b, '-');
	putf(b, "%lld", q / scale[dec]);
	long long frac = q % scale[dec];
	int digits = dec;
	if (!fixed)
		while (digits > 0 && frac % 10 == 0) {
			frac /= 10;
			digits--;
		}
	if (digits)
		putf(b, ".%0*lld", digits, frac);
}

static bool digits_at(const char *s, size_t from, size_t n)
{
	for (size_t i = from; i < from + n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static bool date_ok(int y, int m, int d)
{
	static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (y < 1800 || m < 1 || m > 12 || d < 1 || d > days[m - 1])
		return false;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return !(m == 2 && d == 29 && !leap);
}

/* "YYYY-MM-DD" -> "YYYYMMDD" (DT). */
static bool hl7_date(const char *s, char out[9])
{
	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-' || !digits_at(s, 0, 4) ||
	    !digits_at(s, 5, 2) || !digits_at(s, 8, 2))
		return false;
	if (!date_ok(atoi(s), atoi(s + 5), atoi(s + 8)))
		return false;
	memcpy(out, s, 4);
	memcpy(out + 4, s + 5, 2);
	memcpy(out + 6, s + 8, 2);
	out[8] = 0;
	return true;
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" (the store's times) -> "YYYYMMDDHHMMSS.mmm+0000" (DTM). */
static bool hl7_time(const char *s, char out[24])
{
	char d[9];
	if (!s || strlen(s) != 24 || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
	    s[19] != '.' || s[23] != 'Z' || !digits_at(s, 11, 2) || !digits_at(s, 14, 2) ||
	    !digits_at(s, 17, 2) || !digits_at(s, 20, 3) || atoi(s + 11) > 23 ||
	    atoi(s + 14) > 59 || atoi(s + 17) > 60)
		return false;
	char day[11];
	memcpy(day, s, 10);
	day[10] = 0;
	if (!hl7_date(day, d))
		return false;
	snprintf(out, 24, "%s%.2s%.2s%.2s.%.3s+0000", d, s + 11, s + 14, s + 17, s + 20);
	return true;
}

/* ---- segments and fields ---- */

struct seg {
	struct buf *b;
	int field; /* the field being written */
};

static struct seg seg_begin(struct buf *b, const char *id)
{
	puts_(b, id);
	return (struct seg){b, 0};
}

/* Moves to field n (after the segment id, field 1 is the first). */
static void field(struct seg *s, int n)
{
	while (s->field < n) {
		putc_(s->b, '|');
		s->field++;
	}
}

static void seg_end(struct seg *s)
{
	putc_(s->b, '\r');
}

/* A coded element: code^text^system (CE/CWE), every part escaped. */
static void coded(struct buf *b, const char *code, const char *text, const char *system)
{
	esc(b, code);
	putc_(b, '^');
	esc(b, text);
	putc_(b, '^');
	esc(b, system);
}

/* ---- the record ---- */

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s && *s ? s : NULL;
}

static bool number(const json_t *o, const char *key, double *v)
{
	json_t *j = json_object_get(o, key);
	if (!json_is_number(j))
		return false;
	*v = json_number_value(j);
	return isfinite(*v) && fabs(*v) < 1e12; /* num() rounds through a long long */
}

/* What the message needs of the patient and the order. */
struct who {
	const char *mrn, *authority, *family, *given, *accession;
	char birth[9];
	const char *sex; /* F, M, O, U */
	const json_t *physician;
};

static void add_problem(char *list, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void add_problem(char *list, size_t cap, const char *fmt, ...)
{
	size_t n = strlen(list);
	if (n && n + 2 < cap) {
		memcpy(list + n, "; ", 3);
		n += 2;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(list + n, cap - n, fmt, ap);
	va_end(ap);
}

/* Every required field, checked at once: the error lists all that are missing or
 * malformed. (The demographics' own check, tl_records_check_required, may replace this.) */
static int check_required(const json_t *rec, long long id, struct who *w, struct tl_err *err)
{
	const json_t *d = json_object_get(rec, "demographics");
	const json_t *o = json_object_get(rec, "order");
	char missing[300] = "", bad[300] = "";
	memset(w, 0, sizeof *w);
	w->mrn = str(d, "mrn");
	w->authority = str(d, "assigning_authority");
	w->family = str(d, "family");
	w->given = str(d, "given");
	w->accession = str(o, "accession");
	w->physician = json_object_get(o, "ordering_physician");
	const char *birth = str(d, "birth_date"), *sex = str(d, "sex");
	if (!w->mrn)
		add_problem(missing, sizeof missing, "patient MRN");
	if (!w->authority)
		add_problem(missing, sizeof missing, "MRN assigning authority");
	if (!w->family)
		add_problem(missing, sizeof missing, "family name");
	if (!birth)
		add_problem(missing, sizeof missing, "birth date");
	else if (!hl7_date(birth, w->birth))
		add_problem(bad, sizeof bad, "birth date '%.32s' is not a date YYYY-MM-DD", birth);
	if (!sex) {
		add_problem(missing, sizeof missing, "sex");
	} else {
		static const char *const names[] = {"female", "male", "other", "unknown"};
		static const char *const codes[] = {"F", "M", "O", "U"};
		for (size_t i = 0; i < 4 && !w->sex; i++)
			if (!strcmp(sex, names[i]))
				w->sex = codes[i];
		if (!w->sex)
			add_problem(bad, sizeof bad,
				    "sex '%.32s' is not female, male, other or unknown", sex);
	}
	if (!w->accession)
		add_problem(missing, sizeof missing, "order accession number");
	if (!*missing && !*bad)
		return 0;
	tl_err_set(err, "hl7: test %lld cannot be sent%s%s%s%s", id,
		   *missing ? ": missing " : "", missing, *bad ? (*missing ? "; " : ": ") : "", bad);
	return -1;
}

/* ---- observations ---- */

struct oru {
	struct buf *b;
	int obx; /* OBX-1 of the last OBX */
	int nte; /* NTE-1 within the current parent */
};

struct code {
	const char *code, *text, *system;
};

static const struct code ABI_CODE = {"77194-9", "Ankle-brachial index", "LN"};
static const struct code BRACHIAL_CODE = {"8508-4", "Brachial artery Systolic blood pressure",
					  "LN"};
static const struct code WALK_TIME_CODE = {"55411-3", "Exercise duration", "LN"};

/* OBX-1..5 up to the value: the caller writes OBX-5, then obx_end. */
static struct seg obx_begin(struct oru *m, const char *type, struct code c, const char *subid)
{
	struct seg s = seg_begin(m->b, "OBX");
	field(&s, 1);
	putf(m->b, "%d", ++m->obx);
	field(&s, 2);
	puts_(m->b, type);
	field(&s, 3);
	coded(m->b, c.code, c.text, c.system);
	field(&s, 4);
	esc(m->b, subid);
	field(&s, 5);
	m->nte = 0;
	return s;
}

struct obx_tail {
	const char *units;     /* UCUM, or NULL */
	const char *range;     /* OBX-7, or NULL */
	const char *flag;      /* OBX-8 (table 0078), or NULL */
	const char *observed;  /* store time of OBX-14, or NULL */
	const struct code *site; /* OBX-20, or NULL */
	const char *site_text; /* OBX-20's original text */
};

static void obx_end(struct oru *m, struct seg *s, const struct obx_tail *t)
{
	char when[24];
	if (t->units) {
		field(s, 6);
		coded(m->b, t->units, t->units, "UCUM");
	}
	if (t->range) {
		field(s, 7);
		esc(m->b, t->range);
	}
	if (t->flag) {
		field(s, 8);
		puts_(m->b, t->flag);
	}
	field(s, 11);
	putc_(m->b, 'F');
	if (t->observed && hl7_time(t->observed, when)) {
		field(s, 14);
		puts_(m->b, when);
	}
	if (t->site || t->site_text) {
		field(s, 20);
		if (t->site)
			coded(m->b, t->site->code, t->site->text, t->site->system);
		if (t->site_text) {
			puts_(m->b, t->site ? "^^^^^^" : "^^^^^^^^"); /* CWE-9, original text */
			esc(m->b, t->site_text);
		}
	}
	seg_end(s);
}

/* A note after the segment it belongs to (NTE-2 L: from the filler, table 0105). */
static void nte(struct oru *m, const char *text)
{
	struct seg s = seg_begin(m->b, "NTE");
	field(&s, 1);
	putf(m->b, "%d", ++m->nte);
	field(&s, 2);
	putc_(m->b, 'L');
	field(&s, 3);
	esc(m->b, text);
	seg_end(&s);
}

/* Emits the note built in t and frees it. */
static void note(struct oru *m, struct buf *t)
{
	if (t->oom)
		m->b->oom = true;
	else
		nte(m, t->p ? t->p : "");
	free(t->p);
}

static void nte_join(struct oru *m, const char *a, const char *b, const char *c)
{
	struct buf t = {0};
	puts_(&t, a);
	puts_(&t, b ? b : "");
	puts_(&t, c ? c : "");
	note(m, &t);
}

static void obx_nm(struct oru *m, struct code c, const char *subid, double v, int dec, bool fixed,
		   const struct obx_tail *t)
{
	struct seg s = obx_begin(m, "NM", c, subid);
	num(m->b, v, dec, fixed);
	obx_end(m, &s, t);
}

static void obx_cwe(struct oru *m, struct code c, const char *subid, struct code value,
		    const char *flag)
{
	struct seg s = obx_begin(m, "CWE", c, subid);
	coded(m->b, value.code, value.text, value.system);
	obx_end(m, &s, &(struct obx_tail){.flag = flag});
}

/* A walking endpoint; PWT and ACD walked to a stop other than the patient's maximal
 * claudication are lower bounds: SN ">" with the reason as a note. */
static void endpoint(struct oru *m, const json_t *rec, const char *key, struct code c,
		     const char *units, const json_t *censor)
{
	double v;
	if (!number(rec, key, &v))
		return;
	if (json_is_true(json_object_get(censor, "censored"))) {
		struct seg s = obx_begin(m, "SN", c, "");
		puts_(m->b, ">^");
		num(m->b, v, 1, false);
		obx_end(m, &s, &(struct obx_tail){.units = units});
		nte_join(m, "censored: walking ended by ", str(censor, "censored_by"),
			 " before the patient's maximal claudication");
		return;
	}
	obx_nm(m, c, "", v, 1, false, &(struct obx_tail){.units = units});
}

static void endpoints(struct oru *m, const json_t *rec)
{
	const json_t *ep = json_object_get(json_object_get(rec, "classification"), "endpoints");
	endpoint(m, rec, "cot_s", (struct code){"COT", "Claudication onset time", LOCAL}, "s", NULL);
	endpoint(m, rec, "pwt_s", (struct code){"PWT", "Peak walking time", LOCAL}, "s",
		 json_object_get(ep, "pwt"));
	endpoint(m, rec, "icd_m", (struct code){"ICD", "Initial claudication distance", LOCAL},
		 "m", NULL);
	endpoint(m, rec, "acd_m", (struct code){"ACD", "Absolute claudication distance", LOCAL},
		 "m", json_object_get(ep, "acd"));
	endpoint(m, rec, "recovery_s",
		 (struct code){"RECOVERY", "Recovery time, belt stop to symptom relief", LOCAL}, "s",
		 NULL);
	endpoint(m, rec, "walking_time_s", WALK_TIME_CODE, "s", NULL);
	endpoint(m, rec, "distance_m", (struct code){"WALKDIST", "Walking distance", LOCAL}, "m",
		 NULL);
}

/* "post-1", "post-2.5" (OBX-4 sub-ids): the minute without trailing zeros. */
static void minute_id(char *out, size_t cap, const char *prefix, const char *phase, double minute)
{
	struct buf t = {0};
	puts_(&t, prefix);
	puts_(&t, phase);
	if (strcmp(phase, "-rest")) {
		putc_(&t, '-');
		num(&t, minute, 3, false);
	}
	snprintf(out, cap, "%s", t.oom ? "?" : t.p);
	free(t.p);
}

/* The sites of a pressure reading: its code, body site and words. */
struct site {
	const char *name; /* the store's site, e.g. "pt-left" */
	struct code code;
	struct code body; /* SNOMED CT body site; code NULL when none is cited */
	const char *words;
};

static const struct site SITES[] = {
	{"brachial-left", {0}, {"17137000", "Brachial artery", "SCT"}, "left brachial artery"},
	{"brachial-right", {0}, {"17137000", "Brachial artery", "SCT"}, "right brachial artery"},
	{"pt-left", {"ANKLE-PT-SBP", "Posterior tibial artery systolic pressure", LOCAL},
	 {"13363002", "Posterior tibial artery", "SCT"}, "left posterior tibial artery"},
	{"pt-right", {"ANKLE-PT-SBP", "Posterior tibial artery systolic pressure", LOCAL},
	 {"13363002", "Posterior tibial artery", "SCT"}, "right posterior tibial artery"},
	{"dp-left", {"ANKLE-DP-SBP", "Dorsalis pedis artery systolic pressure", LOCAL},
	 {"86547008", "Dorsalis pedis artery", "SCT"}, "left dorsalis pedis artery"},
	{"dp-right", {"ANKLE-DP-SBP", "Dorsalis pedis artery systolic pressure", LOCAL},
	 {"86547008", "Dorsalis pedis artery", "SCT"}, "right dorsalis pedis artery"},
	{"toe-left", {"TOE-SBP", "Toe systolic pressure", LOCAL}, {0}, "left toe"},
	{"toe-right", {"TOE-SBP", "Toe systolic pressure", LOCAL}, {0}, "right toe"},
};

static bool same_reading(const json_t *a, const json_t *b)
{
	const char *pa = str(a, "phase"), *pb = str(b, "phase"), *sa = str(a, "site"),
		   *sb = str(b, "site");
	if (!pa || !pb || !sa || !sb || strcmp(pa, pb) || strcmp(sa, sb))
		return false;
	double ma = 0, mb = 0;
	bool ha = number(a, "minute", &ma), hb = number(b, "minute", &mb);
	return ha == hb && ma == mb;
}

static int pressures(struct oru *m, const json_t *rec, struct tl_err *err)
{
	const json_t *all = json_object_get(rec, "pressures");
	size_t n = json_array_size(all);
	for (size_t i = 0; i < n; i++) {
		const json_t *p = json_array_get(all, i);
		bool replaced = false; /* the last reading of a site wins, as on the report */
		for (size_t j = i + 1; j < n && !replaced; j++)
			replaced = same_reading(p, json_array_get(all, j));
		if (replaced)
			continue;
		const char *site = str(p, "site"), *phase = str(p, "phase");
		const struct site *st = NULL;
		for (size_t k = 0; site && k < sizeof SITES / sizeof SITES[0]; k++)
			if (!strcmp(SITES[k].name, site))
				st = &SITES[k];
		double minute = 0, mmhg;
		bool post = phase && !strcmp(phase, "post");
		if (!st || !phase || (!post && strcmp(phase, "rest")) ||
		    (post && !number(p, "minute", &minute))) {
			tl_err_set(err, "hl7: pressures[%zu]: site '%.40s' phase '%.20s' is not one "
				   "the message knows", i, site ? site : "", phase ? phase : "");
			return -1;
		}
		char subid[64]; /* "pt-left-rest", "pt-left-post-1" */
		minute_id(subid, sizeof subid, site, post ? "-post" : "-rest", minute);
		struct code c = st->code.code ? st->code : BRACHIAL_CODE;
		struct obx_tail t = {.units = "mm[Hg]", .observed = str(p, "recorded_at"),
				     .site = st->body.code ? &st->body : NULL, .site_text = st->words};
		if (json_is_true(json_object_get(p, "noncompressible"))) {
			struct seg s = obx_begin(m, "CWE", c, subid);
			coded(m->b, "NC", "Noncompressible artery", LOCAL);
			t.units = NULL;
			t.flag = "A";
			obx_end(m, &s, &t);
		} else if (number(p, "mmhg", &mmhg)) {
			obx_nm(m, c, subid, mmhg, 1, false, &t);
		}
	}
	return 0;
}

/* OBX-8 of an ABI by its category (table 0078): below the normal range L, above H. */
static const char *abi_flag(const char *category)
{
	if (!category)
		return NULL;
	if (!strcmp(category, "normal"))
		return "N";
	if (!strcmp(category, "noncompressible"))
		return "H";
	return "L"; /* abnormal and borderline are both below 1.00 */
}

static struct code abi_category_code(const char *category)
{
	static const struct code cats[] = {
		{"abnormal", "Abnormal, 0.90 or less", LOCAL},
		{"borderline", "Borderline, 0.91 to 0.99", LOCAL},
		{"normal", "Normal, 1.00 to 1.40", LOCAL},
		{"noncompressible", "Noncompressible, above 1.40 (not interpretable)", LOCAL},
	};
	for (size_t i = 0; i < sizeof cats / sizeof cats[0]; i++)
		if (!strcmp(cats[i].code, category))
			return cats[i];
	return (struct code){category, category, LOCAL};
}

static struct code criterion_code(const char *name)
{
	static const struct code crit[] = {
		{"post_abi_le_0_90", "Post-exercise ABI 0.90 or less", LOCAL},
		{"abi_fall_gt_20pct", "ABI fall from rest more than 20 %", LOCAL},
		{"ankle_fall_gt_30mmhg", "Ankle pressure fall more than 30 mmHg", LOCAL},
		{"delayed_recovery_gt_3min", "Ankle pressure not recovered by 3 min", LOCAL},
	};
	for (size_t i = 0; i < sizeof crit / sizeof crit[0]; i++)
		if (!strcmp(crit[i].code, name))
			return crit[i];
	return (struct code){name, name, LOCAL};
}

static void abi_leg(struct oru *m, const json_t *leg, const json_t *tbi, const char *side)
{
	char subid[64];
	double v;
	const char *cat = str(leg, "rest_category");
	minute_id(subid, sizeof subid, side, "-rest", 0);
	if (number(leg, "rest", &v))
		obx_nm(m, ABI_CODE, subid, v, 2, true,
		       &(struct obx_tail){.units = "{ratio}", .range = "1.00-1.40",
					  .flag = abi_flag(cat)});
	if (cat)
		obx_cwe(m, (struct code){"ABI-CAT", "Resting ABI category", LOCAL}, subid,
			abi_category_code(cat), strcmp(cat, "normal") ? "A" : "N");
	const json_t *post = json_object_get(leg, "post");
	for (size_t i = 0; i < json_array_size(post); i++) {
		const json_t *p = json_array_get(post, i);
		double minute;
		if (!number(p, "abi", &v) || !number(p, "minute", &minute))
			continue;
		minute_id(subid, sizeof subid, side, "-post", minute);
		/* the same 2016 AHA/ACC bands as at rest, from the core */
		const char *pc = tl_abi_category_name(tl_abi_categorize((int)lround(v * 100)));
		obx_nm(m, ABI_CODE, subid, v, 2, true,
		       &(struct obx_tail){.units = "{ratio}", .range = "1.00-1.40",
					  .flag = abi_flag(pc)});
	}
	const json_t *crit = json_object_get(leg, "criteria");
	for (size_t i = 0; i < json_array_size(crit); i++) {
		const char *name = json_string_value(json_array_get(crit, i));
		if (!name)
			continue;
		snprintf(subid, sizeof subid, "%s-%zu", side, i + 1);
		obx_cwe(m, (struct code){"ABI-CRIT", "Post-exercise criterion met", LOCAL}, subid,
			criterion_code(name), "A");
	}
	if (number(leg, "recovery_min", &v)) {
		snprintf(subid, sizeof subid, "%s", side);
		obx_nm(m, (struct code){"ANKLE-RECOVERY", "Ankle pressure recovery time", LOCAL},
		       subid, v * 60, 1, false, &(struct obx_tail){.units = "s"});
	}
	if (number(tbi, "value", &v)) {
		const char *tc = str(tbi, "category");
		minute_id(subid, sizeof subid, side, "-rest", 0);
		obx_nm(m, (struct code){"TBI", "Toe-brachial index", LOCAL}, subid, v, 2, true,
		       &(struct obx_tail){.units = "{ratio}", .range = ">0.70",
					  .flag = !tc ? NULL : strcmp(tc, "normal") ? "L" : "N"});
	}
}

static void indices(struct oru *m, const json_t *rec)
{
	const json_t *src = json_object_get(rec, "abi");
	if (!json_is_object(src))
		src = json_object_get(rec, "classification");
	const json_t *abi = json_object_get(src, "abi"), *tbi = json_object_get(src, "tbi");
	abi_leg(m, json_object_get(abi, "right"), json_object_get(tbi, "right"), "right");
	abi_leg(m, json_object_get(abi, "left"), json_object_get(tbi, "left"), "left");
}

static struct code category_code(const char *name)
{
	static const struct code cats[] = {
		{"vascular", "Vascular (intermittent) claudication", LOCAL},
		{"neurogenic", "Neurogenic claudication (pseudoclaudication)", LOCAL},
		{"mixed", "Mixed vascular and neurogenic", LOCAL},
		{"muscular", "Exercise-associated muscle cramp", LOCAL},
		{"indeterminate", "Indeterminate", LOCAL},
	};
	for (size_t i = 0; i < sizeof cats / sizeof cats[0]; i++)
		if (!strcmp(cats[i].code, name))
			return cats[i];
	return (struct code){name, name, LOCAL};
}

static struct code red_flag_code(const char *name)
{
	static const struct code flags[] = {
		{"critical_limb_ischemia", "Critical limb ischemia", LOCAL},
		{"acute_limb_ischemia", "Acute limb ischemia", LOCAL},
		{"skin_changes", "Skin changes of ischemia", LOCAL},
		{"persistent_neuro_deficit", "Persistent neurological deficit", LOCAL},
		{"cauda_equina", "Cauda equina features", LOCAL},
	};
	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
		if (!strcmp(flags[i].code, name))
			return flags[i];
	return (struct code){name, name, LOCAL};
}

static void classification(struct oru *m, const json_t *rec)
{
	const json_t *c = json_object_get(rec, "classification");
	const char *cat = str(c, "category");
	if (cat)
		obx_cwe(m, (struct code){"CATEGORY", "Leg pain classification", LOCAL}, "",
			category_code(cat), NULL);
	const json_t *flags = json_object_get(c, "red_flags");
	for (size_t i = 0; i < json_array_size(flags); i++) {
		const json_t *f = json_array_get(flags, i);
		const char *code = str(f, "code");
		if (!code)
			continue;
		char subid[32];
		snprintf(subid, sizeof subid, "%zu", i + 1);
		obx_cwe(m, (struct code){"REDFLAG", "Red flag", LOCAL}, subid, red_flag_code(code),
			"A");
		if (str(f, "reason"))
			nte(m, str(f, "reason"));
	}
}

/* The interpretation as notes on the OBR: red flags first, warnings, severity, then each
 * finding with what it points to and its source, then the reasoning. */
static void interpretation(struct oru *m, const json_t *rec)
{
	const json_t *c = json_object_get(rec, "classification");
	if (!json_is_object(c))
		return;
	const json_t *a;
	size_t i;
	json_array_foreach(json_object_get(c, "red_flags"), i, a) {
		struct buf t = {0};
		puts_(&t, "Red flag: ");
		puts_(&t, red_flag_code(str(a, "code") ? str(a, "code") : "?").text);
		if (str(a, "reason")) {
			puts_(&t, ": ");
			puts_(&t, str(a, "reason"));
		}
		note(m, &t);
	}
	json_array_foreach(json_object_get(c, "warnings"), i, a)
		nte_join(m, "Warning: ", str(a, "warning"), NULL);
	const json_t *sev = json_object_get(c, "severity");
	static const char *const grades[][2] = {{"rutherford", "Rutherford category "},
						{"fontaine", "Fontaine stage "}};
	for (size_t k = 0; k < 2; k++) {
		const json_t *g = json_object_get(sev, grades[k][0]);
		if (str(g, "grade")) {
			struct buf t = {0};
			puts_(&t, grades[k][1]);
			puts_(&t, str(g, "grade"));
			puts_(&t, ": ");
			puts_(&t, str(g, "criteria") ? str(g, "criteria") : "");
			note(m, &t);
		}
	}
	json_array_foreach(json_object_get(c, "findings"), i, a) {
		struct buf t = {0};
		puts_(&t, "Finding: ");
		puts_(&t, str(a, "finding") ? str(a, "finding") : "");
		if (str(a, "points_to")) {
			puts_(&t, " (points to ");
			puts_(&t, str(a, "points_to"));
			puts_(&t, ")");
		}
		if (str(a, "source")) {
			puts_(&t, "; source: ");
			puts_(&t, str(a, "source"));
		}
		note(m, &t);
	}
	json_array_foreach(json_object_get(c, "rationale"), i, a)
		if (json_string_value(a))
			nte_join(m, "Reasoning: ", json_string_value(a), NULL);
}

static void base64(struct buf *b, const unsigned char *d, size_t n)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char q[4];
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)d[i] << 16 | (i + 1 < n ? (uint32_t)d[i + 1] << 8 : 0) |
			     (i + 2 < n ? d[i + 2] : 0);
		q[0] = abc[v >> 18 & 63];
		q[1] = abc[v >> 12 & 63];
		q[2] = i + 1 < n ? abc[v >> 6 & 63] : '=';
		q[3] = i + 2 < n ? abc[v & 63] : '=';
		put(b, q, 4);
	}
}

static bool has_person(const json_t *p)
{
	return str(p, "id") || str(p, "family") || str(p, "given");
}

/* The caller's name of a person: id^family^given (XCN); nothing when all are absent. */
static void person(struct buf *b, const json_t *p)
{
	if (!has_person(p))
		return;
	esc(b, str(p, "id"));
	putc_(b, '^');
	esc(b, str(p, "family"));
	putc_(b, '^');
	esc(b, str(p, "given"));
}

static bool in_progress(const char *state)
{
	static const char *const busy[] = {"starting", "running", "resting", "stopping", "recovery"};
	for (size_t i = 0; state && i < sizeof busy / sizeof busy[0]; i++)
		if (!strcmp(state, busy[i]))
			return true;
	return false;
}

static bool control_id_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n < 1 || n > 20)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e || strchr("|^~\\&", s[i]))
			return false;
	return true;
}

static bool non_ascii(const struct buf *b)
{
	for (size_t i = 0; i < b->n; i++)
		if ((unsigned char)b->p[i] >= 0x80)
			return true;
	return false;
}

int tl_hl7_oru(const json_t *record, const unsigned char *pdf, size_t pdf_len,
	       const struct tl_hl7_conf *conf, const char *control_id, const char *now_utc,
	       char **out, size_t *len, struct tl_err *err)
{
	*out = NULL;
	*len = 0;
	if (!json_is_object(record)) {
		tl_err_set(err, "hl7: the record is not a JSON object");
		return -1;
	}
	long long id = json_integer_value(json_object_get(record, "id"));
	const char *state = str(record, "state");
	char now[24], start[24], end[24];
	struct who w;
	if (!control_id_ok(control_id)) {
		tl_err_set(err, "hl7: control id '%.40s' is not 1 to 20 printable characters "
			   "without | ^ ~ \\ &", control_id ? control_id : "");
		return -1;
	}
	if (!hl7_time(now_utc, now)) {
		tl_err_set(err, "hl7: message time '%.40s' is not YYYY-MM-DDTHH:MM:SS.mmmZ",
			   now_utc ? now_utc : "");
		return -1;
	}
	if (in_progress(state)) {
		tl_err_set(err, "hl7: test %lld is still in progress (state %s): its results are "
			   "not final", id, state);
		return -1;
	}
	if (!hl7_time(str(record, "started_at"), start)) {
		tl_err_set(err, "hl7: test %lld: started_at '%.40s' is not a time "
			   "YYYY-MM-DDTHH:MM:SS.mmmZ", id,
			   str(record, "started_at") ? str(record, "started_at") : "");
		return -1;
	}
	bool has_end = hl7_time(str(record, "ended_at"), end);
	if (check_required(record, id, &w, err) < 0)
		return -1;

	struct buf body = {0}, msg = {0};
	struct oru m = {.b = &body};
	struct seg s = seg_begin(&body, "PID");
	field(&s, 1);
	putc_(&body, '1');
	field(&s, 3);
	esc(&body, w.mrn);
	puts_(&body, "^^^");
	esc(&body, w.authority);
	puts_(&body, "^MR");
	field(&s, 5);
	esc(&body, w.family);
	if (w.given) {
		putc_(&body, '^');
		esc(&body, w.given);
	}
	field(&s, 7);
	puts_(&body, w.birth);
	field(&s, 8);
	puts_(&body, w.sex);
	seg_end(&s);

	if (conf->patient_class[0]) {
		s = seg_begin(&body, "PV1");
		field(&s, 1);
		putc_(&body, '1');
		field(&s, 2);
		esc(&body, conf->patient_class);
		seg_end(&s);
	}

	s = seg_begin(&body, "ORC");
	field(&s, 1);
	puts_(&body, "RE");
	field(&s, 2);
	esc(&body, w.accession);
	field(&s, 3);
	esc(&body, w.accession);
	if (has_person(w.physician)) {
		field(&s, 12);
		person(&body, w.physician);
	}
	seg_end(&s);

	s = seg_begin(&body, "OBR");
	field(&s, 1);
	putc_(&body, '1');
	field(&s, 2);
	esc(&body, w.accession);
	field(&s, 3);
	esc(&body, w.accession);
	field(&s, 4);
	/* no LOINC code for the test in the sources: a local one, with CPT 93924 (the
	 * treadmill ABI study, docs/clinical.md) as the alternate identifier */
	coded(&body, "TREADMILL-ABI", "Treadmill exercise test with ankle-brachial indices",
	      LOCAL);
	puts_(&body, "^93924^Treadmill ABI study^C4");
	field(&s, 7);
	puts_(&body, start);
	if (has_end) {
		field(&s, 8);
		puts_(&body, end);
	}
	field(&s, 16);
	person(&body, w.physician);
	field(&s, 22);
	puts_(&body, now);
	field(&s, 25);
	putc_(&body, 'F'); /* a finished test's results, released by sign or completion */
	seg_end(&s);
	interpretation(&m, record);

	endpoints(&m, record);
	if (pressures(&m, record, err) < 0) {
		free(body.p);
		return -1;
	}
	indices(&m, record);
	classification(&m, record);
	if (pdf) {
		s = obx_begin(&m, "ED", (struct code){"REPORT", "Treadmill test report", LOCAL}, "");
		putc_(&body, '^');
		esc(&body, conf->ed_type);
		putc_(&body, '^');
		esc(&body, conf->ed_subtype);
		puts_(&body, "^Base64^");
		base64(&body, pdf, pdf_len);
		obx_end(&m, &s, &(struct obx_tail){0});
	}

	s = seg_begin(&msg, "MSH");
	puts_(&msg, "|^~\\&");
	s.field = 2;
	field(&s, 3);
	esc(&msg, conf->sending_application);
	field(&s, 4);
	esc(&msg, conf->sending_facility);
	field(&s, 5);
	esc(&msg, conf->receiving_application);
	field(&s, 6);
	esc(&msg, conf->receiving_facility);
	field(&s, 7);
	puts_(&msg, now);
	field(&s, 9);
	puts_(&msg, "ORU^R01^ORU_R01");
	field(&s, 10);
	puts_(&msg, control_id);
	field(&s, 11);
	putc_(&msg, 'P');
	field(&s, 12);
	puts_(&msg, "2.5.1");
	if (non_ascii(&body) || non_ascii(&msg)) {
		field(&s, 18);
		puts_(&msg, "UNICODE UTF-8");
	}
	seg_end(&s);
	if (!body.oom)
		put(&msg, body.p, body.n);
	free(body.p);
	if (body.oom || msg.oom) {
		free(msg.p);
		tl_err_set(err, "hl7: out of memory");
		return -1;
	}
	*out = msg.p;
	*len = msg.n;
	return 0;
}
