/* fhir.c - the FHIR R4 transaction Bundle of a test (fhir.h; docs/records.md, FHIR).
 * Pure: no I/O, no clock. Codes: LOINC and SNOMED CT only where docs/records.md names
 * their source; everything else is a local code (urn:treadlab:...) with its text. */
#include "fhir.h"

#include <math.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi.h"

#define UCUM "http://unitsofmeasure.org"
#define LOINC "http://loinc.org"
#define SNOMED "http://snomed.info/sct"
#define OBS_CATEGORY "http://terminology.hl7.org/CodeSystem/observation-category"
#define V3_INTERP "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
#define V2_0203 "http://terminology.hl7.org/CodeSystem/v2-0203"
#define RFC3986 "urn:ietf:rfc:3986"
/* Local code systems (docs/records.md lists every code). */
#define LOCAL_CODE "urn:treadlab:code"
#define LOCAL_SITE "urn:treadlab:site"
#define LOCAL_CATEGORY "urn:treadlab:category"
#define LOCAL_RED_FLAG "urn:treadlab:red-flag"
#define LOCAL_CRITERION "urn:treadlab:criterion"

#define URN_UUID_LEN 46 /* "urn:uuid:" + 36 + NUL */

struct fb {
	const json_t *rec;
	const char *seed;
	json_t *entries; /* the Bundle's entry array */
	json_t *results; /* the DiagnosticReport's result references */
	char patient[URN_UUID_LEN], procedure[URN_UUID_LEN], report[URN_UUID_LEN];
	const char *obs_status;
	bool oom;
};

/* A version-4-shaped UUID from SHA-256(seed, NUL, role): the same message and role give
 * the same id, another seed other ids (RFC 9562 section 5.4 layout, bits from the hash). */
static void urn_uuid(const char *seed, const char *role, char out[URN_UUID_LEN])
{
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_state s;
	crypto_hash_sha256_init(&s);
	crypto_hash_sha256_update(&s, (const unsigned char *)seed, strlen(seed) + 1);
	crypto_hash_sha256_update(&s, (const unsigned char *)role, strlen(role));
	crypto_hash_sha256_final(&s, h);
	h[6] = (unsigned char)((h[6] & 0x0f) | 0x40);
	h[8] = (unsigned char)((h[8] & 0x3f) | 0x80);
	char *p = out + sprintf(out, "urn:uuid:");
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*p++ = '-';
		p += sprintf(p, "%02x", h[i]);
	}
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s && *s ? s : NULL;
}

static bool num(const json_t *o, const char *key, double *v)
{
	json_t *j = json_object_get(o, key);
	if (!json_is_number(j))
		return false;
	*v = json_number_value(j);
	return isfinite(*v);
}

/* Percent-encodes s (everything but RFC 3986 unreserved characters and those in keep). */
static int pct(const char *s, const char *keep, char *out, size_t cap)
{
	size_t k = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		bool plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
			     (*p >= '0' && *p <= '9') || strchr("-._~", *p) ||
			     (keep && strchr(keep, *p));
		if (k + (plain ? 1 : 3) >= cap)
			return -1;
		k += (size_t)(plain ? snprintf(out + k, cap - k, "%c", *p)
				    : snprintf(out + k, cap - k, "%%%02X", *p));
	}
	out[k] = 0;
	return 0;
}

static bool is_oid(const char *s)
{
	/* 0, 1 or 2, then one or more .arcs of digits without leading zeros */
	if (!(s[0] >= '0' && s[0] <= '2') || s[1] != '.')
		return false;
	for (const char *p = s + 1; *p;) {
		if (*p++ != '.' || !(*p >= '0' && *p <= '9') || (p[0] == '0' && p[1] >= '0' && p[1] <= '9'))
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return true;
}

int tl_fhir_authority_system(const char *authority, char *out, size_t cap)
{
	int n;
	if (is_oid(authority))
		n = snprintf(out, cap, "urn:oid:%s", authority);
	else if (!strncmp(authority, "http://", 7) || !strncmp(authority, "https://", 8) ||
		 !strncmp(authority, "urn:", 4))
		n = snprintf(out, cap, "%s", authority);
	else {
		const char *pre = "urn:treadlab:authority:";
		size_t k = strlen(pre);
		if (cap <= k)
			return -1;
		memcpy(out, pre, k);
		return pct(authority, NULL, out + k, cap - k);
	}
	return n >= 0 && (size_t)n < cap ? 0 : -1;
}

/* Appends ", what" (or "what" first) to buf, never past its end. */
__attribute__((format(printf, 4, 5)))
static void missing(char *buf, size_t cap, size_t *k, const char *fmt, ...)
{
	if (*k && *k + 2 < cap)
		*k += (size_t)snprintf(buf + *k, cap - *k, ", ");
	if (*k + 1 >= cap)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf + *k, cap - *k, fmt, ap);
	va_end(ap);
	if (n > 0)
		*k = *k + (size_t)n < cap ? *k + (size_t)n : cap - 1;
}

/* Everything a Bundle needs that the record may lack: all of it named at once. */
static int check_required(const json_t *rec, struct tl_err *err)
{
	char miss[400] = "";
	size_t k = 0;
	const json_t *d = json_object_get(rec, "demographics");
	const json_t *o = json_object_get(rec, "order");
	if (!json_is_integer(json_object_get(rec, "id")))
		missing(miss, sizeof miss, &k, "id");
	if (!str(rec, "started_at"))
		missing(miss, sizeof miss, &k, "started_at");
	static const char *const dem[] = {"mrn", "assigning_authority", "family", "birth_date",
					  "sex"};
	for (size_t i = 0; i < sizeof dem / sizeof *dem; i++)
		if (!str(d, dem[i]))
			missing(miss, sizeof miss, &k, "demographics.%s", dem[i]);
	const char *bd = str(d, "birth_date"), *sex = str(d, "sex");
	if (bd && (strlen(bd) != 10 || strspn(bd, "0123456789-") != 10 || bd[4] != '-' ||
		   bd[7] != '-' || strchr(bd, '-') != bd + 4 || strrchr(bd, '-') != bd + 7))
		missing(miss, sizeof miss, &k, "demographics.birth_date as YYYY-MM-DD (not '%.10s')", bd);
	if (sex && strcmp(sex, "female") && strcmp(sex, "male") && strcmp(sex, "other") &&
	    strcmp(sex, "unknown"))
		missing(miss, sizeof miss, &k,
			"demographics.sex as female, male, other or unknown (not '%.16s')", sex);
	if (!str(o, "accession"))
		missing(miss, sizeof miss, &k, "order.accession");
	if (!k)
		return 0;
	json_t *id = json_object_get(rec, "id");
	if (json_is_integer(id))
		tl_err_set(err, "FHIR: test %lld cannot be sent: missing %s",
			   (long long)json_integer_value(id), miss);
	else
		tl_err_set(err, "FHIR: the test cannot be sent: missing %s", miss);
	return -1;
}

static json_t *coding(const char *system, const char *code, const char *display)
{
	return json_pack("{s:s, s:s, s:s*}", "system", system, "code", code, "display", display);
}

static json_t *concept(const char *system, const char *code, const char *display,
		       const char *text)
{
	return json_pack("{s:[o], s:s*}", "coding", coding(system, code, display), "text", text);
}

static json_t *quantity(double v, const char *ucum)
{
	return json_pack("{s:f, s:s, s:s, s:s}", "value", v, "unit", ucum, "system", UCUM, "code",
			 ucum);
}

static json_t *interpretation(const char *code, const char *text)
{
	static const struct {
		const char *code, *display;
	} v3[] = {{"N", "Normal"}, {"L", "Low"}, {"H", "High"}, {"AA", "Critical abnormal"}};
	const char *display = NULL;
	for (size_t i = 0; i < sizeof v3 / sizeof *v3; i++)
		if (!strcmp(v3[i].code, code))
			display = v3[i].display;
	return json_pack("[o]", concept(V3_INTERP, code, display, text));
}

/* Sets o[key] to v (taken, also when o is NULL: an earlier allocation failed). */
static void set(struct fb *b, json_t *o, const char *key, json_t *v)
{
	if (!o)
		json_decref(v);
	if (!o || !v || json_object_set_new(o, key, v))
		b->oom = true;
}

/* Adds resource (taken) as an entry POSTed to its type. Every resource but the Patient
 * carries its urn:uuid as identifier, which its conditional create tests (a resent
 * Bundle creates nothing twice). */
static void add_entry(struct fb *b, const char *full_url, json_t *res, const char *if_none)
{
	if (!res) {
		b->oom = true;
		return;
	}
	/* a copy: json_pack reads it after taking (and, failing, freeing) res */
	char type[32];
	snprintf(type, sizeof type, "%s", json_string_value(json_object_get(res, "resourceType")));
	char cond[128];
	if (!if_none) {
		json_t *ids = json_object_get(res, "identifier");
		if (!ids) {
			ids = json_array();
			set(b, res, "identifier", ids);
		}
		if (!ids || json_array_insert_new(ids, 0, json_pack("{s:s, s:s}", "system", RFC3986,
								    "value", full_url)))
			b->oom = true;
		snprintf(cond, sizeof cond, "identifier=%s|%s", RFC3986, full_url);
		if_none = cond;
	}
	json_t *e = json_pack("{s:s, s:o, s:{s:s, s:s, s:s}}", "fullUrl", full_url, "resource",
			      res, "request", "method", "POST", "url", type, "ifNoneExist", if_none);
	if (!e || json_array_append_new(b->entries, e))
		b->oom = true;
}

/* A new Observation of this test with its code (taken). */
static json_t *obs_new(struct fb *b, const char *category, json_t *code)
{
	if (!code)
		return NULL;
	return json_pack("{s:s, s:s, s:[{s:[o]}], s:o, s:{s:s}, s:[{s:s}]}", "resourceType",
			 "Observation", "status", b->obs_status, "category", "coding",
			 coding(OBS_CATEGORY, category, NULL), "code", code, "subject", "reference",
			 b->patient, "partOf", "reference", b->procedure);
}

/* Adds an Observation made by obs_new (taken) and lists it among the report's results. */
static void add_obs(struct fb *b, const char *role, json_t *obs)
{
	char url[URN_UUID_LEN], r[96];
	snprintf(r, sizeof r, "obs:%s", role);
	urn_uuid(b->seed, r, url);
	if (!obs) {
		b->oom = true;
		return;
	}
	add_entry(b, url, obs, NULL);
	json_t *ref = json_pack("{s:s}", "reference", url);
	if (!ref || json_array_append_new(b->results, ref))
		b->oom = true;
}

static void effective_period(struct fb *b, json_t *obs)
{
	const char *end = str(b->rec, "ended_at");
	set(b, obs, "effectivePeriod",
	    json_pack("{s:s, s:s*}", "start", str(b->rec, "started_at"), "end", end));
}

/* The time of a set of pressures: the last one recorded in that phase (and minute). */
static const char *pressures_at(const json_t *rec, const char *phase, double minute)
{
	const char *at = NULL;
	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(rec, "pressures"), i, p) {
		double m;
		const char *t = str(p, "recorded_at");
		if (!t || strcmp(str(p, "phase") ? str(p, "phase") : "", phase))
			continue;
		if (!strcmp(phase, "post") && (!num(p, "minute", &m) || fabs(m - minute) > 1e-9))
			continue;
		if (!at || strcmp(t, at) > 0)
			at = t;
	}
	return at ? at : str(rec, "started_at");
}

/* ---- endpoints ---- */

struct endpoint {
	const char *key, *code, *text, *ucum, *censor_key;
};

static const struct endpoint endpoints[] = {
	{"cot_s", "cot", "Claudication onset time (pain-free walking time)", "s", NULL},
	{"pwt_s", "pwt", "Peak walking time", "s", "pwt"},
	{"icd_m", "icd", "Initial claudication distance", "m", NULL},
	{"acd_m", "acd", "Absolute claudication distance", "m", "acd"},
	{"walking_time_s", "walking-time", "Walking time (exercise duration)", "s", NULL},
	{"distance_m", "distance", "Walking distance", "m", NULL},
	{"recovery_s", "recovery", "Recovery time (belt stop to symptom relief)", "s", NULL},
};

static void add_endpoints(struct fb *b)
{
	const json_t *eps = json_object_get(json_object_get(b->rec, "classification"), "endpoints");
	for (size_t i = 0; i < sizeof endpoints / sizeof *endpoints; i++) {
		const struct endpoint *e = &endpoints[i];
		double v;
		if (!num(b->rec, e->key, &v))
			continue;
		json_t *code = concept(LOCAL_CODE, e->code, e->text, e->text);
		/* LOINC 55411-3 exercise duration (docs/records.md, Codes) */
		if (code && !strcmp(e->code, "walking-time") &&
		    json_array_append_new(json_object_get(code, "coding"),
					  coding(LOINC, "55411-3", NULL)))
			b->oom = true;
		json_t *obs = obs_new(b, "procedure", code);
		effective_period(b, obs);
		json_t *q = quantity(v, e->ucum);
		const json_t *ep = e->censor_key ? json_object_get(eps, e->censor_key) : NULL;
		if (json_is_true(json_object_get(ep, "censored"))) {
			/* walking ended for another reason: the true value is above this */
			set(b, q, "comparator", json_string(">"));
			if (str(ep, "text"))
				set(b, obs, "note", json_pack("[{s:s}]", "text", str(ep, "text")));
		}
		set(b, obs, "valueQuantity", q);
		add_obs(b, e->code, obs);
	}
}

/* ---- pressures ---- */

struct site {
	const char *name, *snomed, *text;
};

/* SNOMED CT body structures as docs/records.md cites them; the toe has none there. */
static const struct site sites[] = {
	{"brachial-left", "17137000", "left brachial artery"},
	{"brachial-right", "17137000", "right brachial artery"},
	{"pt-left", "13363002", "left posterior tibial artery"},
	{"pt-right", "13363002", "right posterior tibial artery"},
	{"dp-left", "86547008", "left dorsalis pedis artery"},
	{"dp-right", "86547008", "right dorsalis pedis artery"},
	{"toe-left", NULL, "left toe"},
	{"toe-right", NULL, "right toe"},
};

/* The local site (it carries the side) and the SNOMED CT artery where there is one. */
static json_t *body_site(const char *site_name, const char *text)
{
	json_t *cc = concept(LOCAL_SITE, site_name, text, text);
	for (size_t i = 0; cc && i < sizeof sites / sizeof *sites; i++)
		if (!strcmp(sites[i].name, site_name) && sites[i].snomed &&
		    json_array_append_new(json_object_get(cc, "coding"),
					  coding(SNOMED, sites[i].snomed, NULL))) {
			json_decref(cc);
			return NULL;
		}
	return cc;
}

/* Whether a later reading of the same site, phase and minute corrects pressure i. */
static bool corrected_later(const json_t *pressures, size_t i)
{
	const json_t *p = json_array_get(pressures, i);
	const char *site = str(p, "site"), *phase = str(p, "phase");
	double m = -1, mq;
	num(p, "minute", &m);
	for (size_t k = i + 1; k < json_array_size(pressures); k++) {
		const json_t *q = json_array_get(pressures, k);
		mq = -1;
		num(q, "minute", &mq);
		if (site && phase && str(q, "site") && str(q, "phase") && !strcmp(site, str(q, "site")) &&
		    !strcmp(phase, str(q, "phase")) && fabs(m - mq) < 1e-9)
			return true;
	}
	return false;
}

static void add_pressures(struct fb *b)
{
	size_t i;
	json_t *p, *all = json_object_get(b->rec, "pressures");
	json_array_foreach(all, i, p) {
		const char *site = str(p, "site"), *phase = str(p, "phase");
		/* the last reading is the one the report shows (a correction replaces) */
		if (corrected_later(all, i))
			continue;
		double mmhg, minute = 0;
		const struct site *s = NULL;
		for (size_t k = 0; site && k < sizeof sites / sizeof *sites; k++)
			if (!strcmp(sites[k].name, site))
				s = &sites[k];
		if (!s || !phase || !num(p, "mmhg", &mmhg))
			continue;
		bool post = !strcmp(phase, "post");
		if (post && !num(p, "minute", &minute))
			continue;
		bool brachial = !strncmp(site, "brachial", 8);
		/* 8508-4 brachial systolic, 8480-6 systolic, 87741-5 systolic post exercise;
		 * no LOINC code by ankle artery: the body site says which */
		const char *loinc = post ? "87741-5" : brachial ? "8508-4" : "8480-6";
		char text[160];
		if (post)
			snprintf(text, sizeof text, "Systolic pressure, %s, %g min after exercise",
				 s->text, minute);
		else
			snprintf(text, sizeof text, "Systolic pressure, %s, at rest", s->text);
		json_t *obs = obs_new(b, post ? "procedure" : "exam",
				      concept(LOINC, loinc, NULL, text));
		set(b, obs, "effectiveDateTime", json_string(str(p, "recorded_at") ? str(p, "recorded_at")
									       : str(b->rec, "started_at")));
		json_t *q = quantity(mmhg, "mm[Hg]");
		if (json_is_true(json_object_get(p, "noncompressible"))) {
			/* the cuff's pressure reached, not a systolic pressure: above it */
			set(b, q, "comparator", json_string(">"));
			set(b, obs, "note", json_pack("[{s:s}]", "text",
						      "noncompressible: the artery did not close at "
						      "this cuff pressure"));
		}
		set(b, obs, "valueQuantity", q);
		set(b, obs, "bodySite", body_site(site, s->text));
		char role[32];
		snprintf(role, sizeof role, "pressure:%zu", i);
		add_obs(b, role, obs);
	}
}

/* ---- indices ---- */

/* LOINC 77194-9 and SNOMED CT 446841001, both the ankle-brachial index */
static json_t *abi_concept(const char *text)
{
	return json_pack("{s:[o, o], s:s}", "coding", coding(LOINC, "77194-9", NULL),
			 coding(SNOMED, "446841001", NULL), "text", text);
}

/* v3 interpretation of an ABI by its 2016 AHA/ACC category. */
static const char *abi_interp(enum tl_abi_category c)
{
	return c == TL_ABI_NORMAL ? "N" : c == TL_ABI_NONCOMPRESSIBLE ? "H" : "L";
}

static void add_leg(struct fb *b, const json_t *leg, const json_t *tbi, const char *side)
{
	char text[128], role[48], leg_site[16], leg_text[16];
	snprintf(leg_site, sizeof leg_site, "leg-%s", side);
	snprintf(leg_text, sizeof leg_text, "%s leg", side);
	double v;
	const char *cat = str(leg, "rest_category");
	if (num(leg, "rest", &v) || (cat && !strcmp(cat, "noncompressible"))) {
		snprintf(text, sizeof text, "Ankle-brachial index at rest, %s leg", side);
		json_t *obs = obs_new(b, "exam", abi_concept(text));
		set(b, obs, "effectiveDateTime", json_string(pressures_at(b->rec, "rest", 0)));
		json_t *q;
		enum tl_abi_category c;
		if (num(leg, "rest", &v)) {
			q = quantity(v, "{ratio}");
			c = tl_abi_categorize((int)lround(v * 100));
		} else {
			q = quantity(1.40, "{ratio}"); /* noncompressible: above 1.40 */
			set(b, q, "comparator", json_string(">"));
			c = TL_ABI_NONCOMPRESSIBLE;
		}
		set(b, obs, "valueQuantity", q);
		set(b, obs, "interpretation", interpretation(abi_interp(c), tl_abi_category_name(c)));
		set(b, obs, "referenceRange",
		    json_pack("[{s:o, s:o, s:s}]", "low", quantity(1.00, "{ratio}"), "high",
			      quantity(1.40, "{ratio}"), "text",
			      "1.00-1.40 normal; 0.91-0.99 borderline; <= 0.90 abnormal (2016 AHA/ACC)"));
		set(b, obs, "bodySite", concept(LOCAL_SITE, leg_site, leg_text, leg_text));
		snprintf(role, sizeof role, "abi:%s:rest", side);
		add_obs(b, role, obs);
	}
	size_t i;
	json_t *pt;
	json_array_foreach(json_object_get(leg, "post"), i, pt) {
		double minute, fall;
		if (!num(pt, "minute", &minute) || !num(pt, "abi", &v))
			continue;
		snprintf(text, sizeof text, "Ankle-brachial index %g min after exercise, %s leg",
			 minute, side);
		json_t *obs = obs_new(b, "procedure", abi_concept(text));
		set(b, obs, "effectiveDateTime", json_string(pressures_at(b->rec, "post", minute)));
		set(b, obs, "valueQuantity", quantity(v, "{ratio}"));
		enum tl_abi_category c = tl_abi_categorize((int)lround(v * 100));
		set(b, obs, "interpretation", interpretation(abi_interp(c), tl_abi_category_name(c)));
		set(b, obs, "bodySite", concept(LOCAL_SITE, leg_site, leg_text, leg_text));
		json_t *comps = json_array();
		if (num(pt, "fall_pct", &fall) &&
		    json_array_append_new(comps, json_pack("{s:o, s:o}", "code",
				concept(LOCAL_CODE, "abi-fall", "ABI fall from rest", "ABI fall from rest"),
				"valueQuantity", quantity(fall, "%"))))
			b->oom = true;
		if (num(pt, "ankle_fall_mmhg", &fall) &&
		    json_array_append_new(comps, json_pack("{s:o, s:o}", "code",
				concept(LOCAL_CODE, "ankle-fall", "Ankle pressure fall from rest",
					"Ankle pressure fall from rest"),
				"valueQuantity", quantity(fall, "mm[Hg]"))))
			b->oom = true;
		if (json_array_size(comps))
			set(b, obs, "component", comps);
		else
			json_decref(comps);
		snprintf(role, sizeof role, "abi:%s:post:%zu", side, i);
		add_obs(b, role, obs);
	}
	/* Which post-exercise criteria fired, each on its own (they often disagree). */
	if (json_array_size(json_object_get(leg, "post")) &&
	    !json_is_true(json_object_get(leg, "changes_not_interpreted"))) {
		static const struct {
			const char *code, *text;
		} crit[] = {
			{"post_abi_le_0_90", "post-exercise ABI <= 0.90"},
			{"abi_fall_gt_20pct", "ABI fall > 20 % from rest"},
			{"ankle_fall_gt_30mmhg", "ankle pressure fall > 30 mmHg"},
			{"delayed_recovery_gt_3min", "ankle pressure not back at rest by 3 min"},
		};
		snprintf(text, sizeof text, "Post-exercise criteria supporting PAD, %s leg", side);
		json_t *obs = obs_new(b, "procedure",
				      concept(LOCAL_CODE, "post-exercise-criteria",
					      "Post-exercise criteria supporting PAD", text));
		effective_period(b, obs);
		set(b, obs, "bodySite", concept(LOCAL_SITE, leg_site, leg_text, leg_text));
		json_t *comps = json_array();
		for (size_t k = 0; k < sizeof crit / sizeof *crit; k++) {
			bool fired = false;
			size_t j;
			json_t *c;
			json_array_foreach(json_object_get(leg, "criteria"), j, c)
				if (json_is_string(c) && !strcmp(json_string_value(c), crit[k].code))
					fired = true;
			if (json_array_append_new(comps, json_pack("{s:o, s:b}", "code",
					concept(LOCAL_CRITERION, crit[k].code, crit[k].text, crit[k].text),
					"valueBoolean", fired)))
				b->oom = true;
		}
		set(b, obs, "component", comps);
		snprintf(role, sizeof role, "criteria:%s", side);
		add_obs(b, role, obs);
	}
	if (num(tbi, "value", &v)) {
		snprintf(text, sizeof text, "Toe-brachial index at rest, %s", side);
		json_t *obs = obs_new(b, "exam", concept(LOCAL_CODE, "tbi", "Toe-brachial index", text));
		set(b, obs, "effectiveDateTime", json_string(pressures_at(b->rec, "rest", 0)));
		set(b, obs, "valueQuantity", quantity(v, "{ratio}"));
		enum tl_tbi_category c = tl_tbi_categorize((int)lround(v * 100));
		set(b, obs, "interpretation", interpretation(c == TL_TBI_NORMAL ? "N" : "L",
							     tl_tbi_category_name(c)));
		set(b, obs, "referenceRange",
		    json_pack("[{s:s}]", "text", "> 0.70 normal; <= 0.70 abnormal (2016 AHA/ACC)"));
		char toe[16], toe_text[16];
		snprintf(toe, sizeof toe, "toe-%s", side);
		snprintf(toe_text, sizeof toe_text, "%s toe", side);
		set(b, obs, "bodySite", concept(LOCAL_SITE, toe, toe_text, toe_text));
		snprintf(role, sizeof role, "tbi:%s", side);
		add_obs(b, role, obs);
	}
}

static void add_indices(struct fb *b)
{
	const json_t *abi = json_object_get(b->rec, "abi");
	static const char *const sides[] = {"right", "left"};
	for (size_t i = 0; i < 2; i++)
		add_leg(b, json_object_get(json_object_get(abi, "abi"), sides[i]),
			json_object_get(json_object_get(abi, "tbi"), sides[i]), sides[i]);
}

/* ---- interpretation ---- */

static void add_interpretation(struct fb *b, json_t *report, const char *report_status)
{
	const json_t *cl = json_object_get(b->rec, "classification");
	size_t i;
	json_t *rf;
	/* red flags first, in the Observations and in the conclusion */
	size_t cap = 1024, n = 0;
	char *text = malloc(cap);
	if (!text) {
		b->oom = true;
		return;
	}
	text[0] = 0;
#define APPEND(...)                                                                      \
	do {                                                                             \
		int m_ = snprintf(NULL, 0, __VA_ARGS__);                                 \
		if (m_ < 0)                                                              \
			break;                                                           \
		if (n + (size_t)m_ + 1 > cap) {                                          \
			size_t c_ = (n + (size_t)m_ + 1) * 2;                            \
			char *t_ = realloc(text, c_);                                    \
			if (!t_) {                                                       \
				b->oom = true;                                           \
				break;                                                   \
			}                                                                \
			text = t_;                                                       \
			cap = c_;                                                        \
		}                                                                        \
		n += (size_t)snprintf(text + n, cap - n, __VA_ARGS__);                   \
	} while (0)
	json_array_foreach(json_object_get(cl, "red_flags"), i, rf) {
		const char *code = str(rf, "code"), *reason = str(rf, "reason");
		if (!code)
			continue;
		json_t *obs = obs_new(b, "exam", concept(LOCAL_CODE, "red-flag", "Red flag", "Red flag"));
		effective_period(b, obs);
		set(b, obs, "valueCodeableConcept", concept(LOCAL_RED_FLAG, code, NULL,
							    reason ? reason : code));
		set(b, obs, "interpretation", interpretation("AA", "red flag"));
		char role[64];
		snprintf(role, sizeof role, "red-flag:%zu", i);
		add_obs(b, role, obs);
		APPEND("RED FLAG %s: %s\n", code, reason ? reason : "");
	}
	const char *cat = str(cl, "category");
	if (cat) {
		json_t *obs = obs_new(b, "procedure",
				      concept(LOCAL_CODE, "category", "Cause of exertional leg pain",
					      "Cause of exertional leg pain"));
		effective_period(b, obs);
		set(b, obs, "valueCodeableConcept", concept(LOCAL_CATEGORY, cat, NULL, cat));
		add_obs(b, "category", obs);
		set(b, report, "conclusionCode", json_pack("[o]", concept(LOCAL_CATEGORY, cat, NULL, cat)));
		APPEND("Category: %s\n", cat);
	}
	json_t *f;
	json_array_foreach(json_object_get(cl, "findings"), i, f)
		if (str(f, "finding"))
			APPEND("- %s (%s)\n", str(f, "finding"), str(f, "points_to") ? str(f, "points_to") : "");
	if (!n)
		APPEND("No classification recorded.\n");
	APPEND("Report status: %s.", report_status);
#undef APPEND
	set(b, report, "conclusion", json_string(text));
	free(text);
}

/* ---- the Bundle ---- */

static json_t *patient(struct fb *b, char *cond, size_t cap)
{
	const json_t *d = json_object_get(b->rec, "demographics");
	char system[512], esys[1024], emrn[256];
	if (tl_fhir_authority_system(str(d, "assigning_authority"), system, sizeof system) < 0 ||
	    pct(system, ":/", esys, sizeof esys) < 0 || pct(str(d, "mrn"), NULL, emrn, sizeof emrn) < 0 ||
	    (size_t)snprintf(cond, cap, "identifier=%s|%s", esys, emrn) >= cap)
		return NULL;
	json_t *name = json_pack("{s:s}", "family", str(d, "family"));
	if (str(d, "given"))
		set(b, name, "given", json_pack("[s]", str(d, "given")));
	return json_pack("{s:s, s:[{s:s, s:o, s:s, s:s}], s:[o], s:s, s:s}", "resourceType",
			 "Patient", "identifier", "use", "usual", "type",
			 concept(V2_0203, "MR", "Medical record number", NULL), "system", system,
			 "value", str(d, "mrn"), "name", name, "gender", str(d, "sex"), "birthDate",
			 str(d, "birth_date"));
}

/* The order, by its accession number, as a logical reference (no ServiceRequest here). */
static json_t *order_ref(const json_t *rec)
{
	const json_t *o = json_object_get(rec, "order");
	const json_t *ph = json_object_get(o, "ordering_physician");
	char display[256] = "";
	if (str(ph, "family") || str(ph, "id"))
		snprintf(display, sizeof display, "ordered by %s%s%s%s%s%s",
			 str(ph, "given") ? str(ph, "given") : "", str(ph, "given") ? " " : "",
			 str(ph, "family") ? str(ph, "family") : "",
			 str(ph, "id") ? " (" : "", str(ph, "id") ? str(ph, "id") : "",
			 str(ph, "id") ? ")" : "");
	return json_pack("[{s:s, s:{s:o, s:s}, s:s*}]", "type", "ServiceRequest", "identifier",
			 "type", concept(V2_0203, "ACSN", "Accession ID", NULL), "value",
			 str(o, "accession"), "display", display[0] ? display : NULL);
}

static bool in_progress(const char *state)
{
	static const char *const busy[] = {"starting", "running", "resting", "stopping",
					   "recovery", NULL};
	for (size_t i = 0; state && busy[i]; i++)
		if (!strcmp(state, busy[i]))
			return true;
	return false;
}

json_t *tl_fhir_bundle(const json_t *record, const unsigned char *pdf, size_t pdf_len,
		       const char *seed, const char *now_utc, struct tl_err *err)
{
	if (!seed || !*seed || !now_utc || !*now_utc) {
		tl_err_set(err, "FHIR: a Bundle needs a seed and the time it is made");
		return NULL;
	}
	if (!json_is_object(record)) {
		tl_err_set(err, "FHIR: the record is not a JSON object");
		return NULL;
	}
	if (check_required(record, err) < 0)
		return NULL;
	struct fb b = {.rec = record, .seed = seed, .entries = json_array(),
		       .results = json_array()};
	json_t *bundle = NULL, *report = NULL, *proc = NULL;
	char *b64 = NULL;
	if (!b.entries || !b.results)
		goto oom;
	urn_uuid(seed, "patient", b.patient);
	urn_uuid(seed, "procedure", b.procedure);
	urn_uuid(seed, "report", b.report);
	const char *state = str(record, "state"), *ended = str(record, "ended_at");
	bool running = in_progress(state) || !ended;
	const json_t *sig = json_object_get(record, "signature");
	bool is_signed = str(sig, "signed_by") && !running;
	const char *report_status = running ? "partial" : is_signed ? "final" : "preliminary";
	b.obs_status = is_signed ? "final" : "preliminary";

	char cond[1400];
	add_entry(&b, b.patient, patient(&b, cond, sizeof cond), cond);

	/* The test: stopped when it ended before its protocol's end (an emergency stop) */
	const char *proc_status = running ? "in-progress"
				  : state && strcmp(state, "complete") ? "stopped" : "completed";
	proc = json_pack("{s:s, s:s, s:o, s:{s:s}, s:{s:s, s:s*}, s:o, s:[{s:s}]}",
			 "resourceType", "Procedure", "status", proc_status, "code",
			 concept(LOCAL_CODE, "treadmill-abi-study",
				 "Treadmill exercise test with ankle-brachial indices",
				 "Treadmill exercise test with ankle-brachial indices"),
			 "subject", "reference", b.patient, "performedPeriod", "start",
			 str(record, "started_at"), "end", ended, "basedOn", order_ref(record),
			 "report", "reference", b.report);
	if (str(record, "operator"))
		set(&b, proc, "performer",
		    json_pack("[{s:{s:s}}]", "actor", "display", str(record, "operator")));
	const json_t *pr = json_object_get(record, "protocol_as_run");
	char note[600];
	snprintf(note, sizeof note, "Protocol: %s (%s); ended: %s",
		 str(pr, "title") ? str(pr, "title") : "?",
		 str(record, "protocol") ? str(record, "protocol") : "?",
		 str(record, "end_reason") ? str(record, "end_reason") : "not yet");
	set(&b, proc, "note", json_pack("[{s:s}]", "text", note));
	add_entry(&b, b.procedure, proc, NULL);

	report = json_pack("{s:s, s:[{s:o, s:s}], s:s, s:o, s:{s:s}, s:{s:s, s:s*}, s:s, s:o}",
			   "resourceType", "DiagnosticReport", "identifier", "type",
			   concept(V2_0203, "ACSN", "Accession ID", NULL), "value",
			   str(json_object_get(record, "order"), "accession"), "status", report_status,
			   "code",
			   concept(LOCAL_CODE, "treadmill-abi-report",
				   "Treadmill exercise test with ankle-brachial indices: report",
				   "Treadmill exercise test with ankle-brachial indices"),
			   "subject", "reference", b.patient, "effectivePeriod", "start",
			   str(record, "started_at"), "end", ended, "issued", now_utc, "basedOn",
			   order_ref(record));
	if (!report)
		goto oom;
	if (is_signed)
		set(&b, report, "resultsInterpreter",
		    json_pack("[{s:s}]", "display", str(sig, "signed_by")));

	add_endpoints(&b);
	add_pressures(&b);
	add_indices(&b);
	add_interpretation(&b, report, report_status);
	if (json_array_size(b.results)) {
		set(&b, report, "result", b.results);
		b.results = NULL;
	}
	if (pdf && pdf_len) {
		size_t n = sodium_base64_ENCODED_LEN(pdf_len, sodium_base64_VARIANT_ORIGINAL);
		b64 = malloc(n);
		if (!b64)
			goto oom;
		sodium_bin2base64(b64, n, pdf, pdf_len, sodium_base64_VARIANT_ORIGINAL);
		set(&b, report, "presentedForm",
		    json_pack("[{s:s, s:s, s:s}]", "contentType", "application/pdf", "data", b64,
			      "title", is_signed ? "Treadmill test report (signed)"
						 : "Treadmill test report (preliminary)"));
		free(b64);
		b64 = NULL;
	}
	add_entry(&b, b.report, report, NULL);
	report = NULL;

	char bundle_id[URN_UUID_LEN];
	urn_uuid(seed, "bundle", bundle_id);
	bundle = json_pack("{s:s, s:{s:s, s:s}, s:s, s:s, s:o}", "resourceType", "Bundle",
			   "identifier", "system", RFC3986, "value", bundle_id, "type",
			   "transaction", "timestamp", now_utc, "entry", b.entries);
	b.entries = NULL;
	if (!bundle || b.oom)
		goto oom;
	json_decref(b.results);
	return bundle;
oom:
	tl_err_set(err, "FHIR: out of memory building the Bundle");
	free(b64);
	json_decref(report);
	json_decref(bundle);
	json_decref(b.entries);
	json_decref(b.results);
	return NULL;
}

char *tl_fhir_dump(const json_t *bundle)
{
	return json_dumps(bundle, JSON_PRESERVE_ORDER | JSON_COMPACT | JSON_REAL_PRECISION(10));
}
