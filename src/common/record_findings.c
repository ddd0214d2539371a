#include "record_findings.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "classifier.h"
#include "findings_json.h"

const char *const tl_pressure_sites[] = {
	"brachial-left", "brachial-right", "pt-left", "dp-left",
	"pt-right",      "dp-right",       "toe-left", "toe-right", NULL,
};

int tl_pressure_site_valid(const char *site)
{
	for (size_t i = 0; tl_pressure_sites[i]; i++)
		if (!strcmp(site, tl_pressure_sites[i]))
			return 1;
	return 0;
}

/* "brachial-left" -> "brachial_left" (the findings document's key). */
static void doc_key(const char *site, char *out, size_t cap)
{
	size_t n = strlen(site);
	if (n >= cap)
		n = cap - 1;
	for (size_t i = 0; i < n; i++)
		out[i] = site[i] == '-' ? '_' : site[i];
	out[n] = '\0';
}

static json_t *post_point(json_t *post, double minute)
{
	size_t i;
	json_t *p;
	json_array_foreach(post, i, p) {
		if (json_number_value(json_object_get(p, "minute")) == minute)
			return p;
	}
	/* Keep points in increasing minute order, as the document requires. */
	size_t at = json_array_size(post);
	json_array_foreach(post, i, p) {
		if (json_number_value(json_object_get(p, "minute")) > minute) {
			at = i;
			break;
		}
	}
	p = json_pack("{s:f}", "minute", minute);
	json_array_insert_new(post, at, p);
	return p;
}

/* Walk segments of a two-stage test, from its events: a walk begins at the first stage
 * and after a rest, ends at walk_end; onset and recovery are taken per walk. */
static json_t *two_stage_from_events(const json_t *events)
{
	struct seg {
		double start, end, onset, recovery;
	} seg[2];
	for (int k = 0; k < 2; k++)
		seg[k] = (struct seg){NAN, NAN, NAN, NAN};
	int n = -1;
	bool open = false;
	size_t i;
	json_t *e;
	json_array_foreach(events, i, e) {
		const char *kind = json_string_value(json_object_get(e, "kind"));
		const char *detail = json_string_value(json_object_get(e, "detail"));
		double t = json_number_value(json_object_get(e, "t_s"));
		if (!kind)
			continue;
		if (!strcmp(kind, "stage") && detail && strstr(detail, ": walk") && !open) {
			if (++n >= 2)
				break;
			seg[n].start = t;
			open = true;
		} else if (n >= 0 && n < 2 && !strcmp(kind, "onset") && open && isnan(seg[n].onset)) {
			seg[n].onset = t - seg[n].start;
		} else if (n >= 0 && n < 2 && !strcmp(kind, "walk_end") && open) {
			seg[n].end = t;
			open = false;
		} else if (n >= 0 && n < 2 && !strcmp(kind, "relief") && isnan(seg[n].recovery)) {
			json_t *v = json_object_get(e, "value");
			if (json_is_number(v))
				seg[n].recovery = json_number_value(v);
		}
	}
	json_t *o = json_object();
	const char *names[2] = {"level", "incline"};
	for (int k = 0; k < 2; k++) {
		char key[32];
		struct {
			const char *what;
			double v;
		} f[] = {{"onset_s", seg[k].onset},
			 {"walk_s", seg[k].end - seg[k].start},
			 {"recovery_s", seg[k].recovery}};
		for (size_t j = 0; j < 3; j++) {
			if (isnan(f[j].v))
				continue;
			snprintf(key, sizeof key, "%s_%s", names[k], f[j].what);
			json_object_set_new(o, key, json_real(round(f[j].v * 10) / 10));
		}
	}
	return o;
}

json_t *tl_record_findings(const json_t *record, int two_stage)
{
	json_t *doc = json_object();
	json_t *rest = json_object(), *post = json_array();
	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(record, "pressures"), i, p) {
		const char *site = json_string_value(json_object_get(p, "site"));
		const char *phase = json_string_value(json_object_get(p, "phase"));
		json_t *mmhg = json_object_get(p, "mmhg");
		if (!site || !phase || !json_is_number(mmhg))
			continue;
		/* An artery not compressible at the cuff's maximum: its mmhg is the cuff
		 * pressure reached, not a systolic pressure (docs/clinical.md, Noncompressible
		 * arteries). */
		json_t *nc = json_object_get(p, "noncompressible");
		json_t *value = json_is_true(nc) || (json_is_integer(nc) && json_integer_value(nc))
					? json_string("noncompressible")
					: json_incref(mmhg);
		char key[32];
		doc_key(site, key, sizeof key);
		/* The last reading of a site and time wins: it is the corrected one. */
		if (!strcmp(phase, "rest"))
			json_object_set_new(rest, key, value);
		else
			json_object_set_new(post_point(post, json_number_value(json_object_get(p, "minute"))),
					    key, value);
	}
	json_object_set_new(doc, "rest", rest);
	json_object_set_new(doc, "post", post);
	json_t *walk = json_object();
	static const char *const walk_keys[] = {"cot_s", "pwt_s", "icd_m", "acd_m"};
	for (size_t k = 0; k < sizeof walk_keys / sizeof walk_keys[0]; k++) {
		json_t *v = json_object_get(record, walk_keys[k]);
		if (json_is_number(v))
			json_object_set(walk, walk_keys[k], v);
	}
	const char *er = json_string_value(json_object_get(record, "end_reason"));
	for (int r = TL_WALK_END_MAX_CLAUDICATION; er && r <= TL_WALK_END_LAST; r++)
		if (!strcmp(er, tl_walk_end_name((enum tl_walk_end)r)))
			json_object_set_new(walk, "end_reason", json_string(er));
	json_object_set_new(doc, "walk", walk);
	if (two_stage)
		json_object_set_new(doc, "two_stage", two_stage_from_events(json_object_get(record, "events")));
	json_t *symptoms = json_object_get(record, "findings");
	if (json_is_object(symptoms))
		json_object_set(doc, "symptoms", symptoms);
	return doc;
}

int tl_record_classify(const json_t *record, int two_stage, char **abi_json,
		       char **classification_json, struct tl_err *err)
{
	json_t *doc = tl_record_findings(record, two_stage);
	struct tl_findings f;
	struct tl_classification c;
	int rc = -1;
	if (tl_findings_from_json(doc, &f, err) == 0 && tl_classify(&f, NULL, &c, err) == 0) {
		json_t *out = tl_classification_to_json(&c);
		json_t *abi = json_pack("{s:O, s:O}", "abi", json_object_get(out, "abi"), "tbi",
					json_object_get(out, "tbi"));
		*abi_json = json_dumps(abi, JSON_COMPACT | JSON_PRESERVE_ORDER);
		*classification_json = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(abi);
		json_decref(out);
		rc = *abi_json && *classification_json ? 0 : -1;
	}
	json_decref(doc);
	return rc;
}
