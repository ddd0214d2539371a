#include "json_out.h"

#include <math.h>
#include <stdio.h>

#include "units.h"

void tl_json_print(const json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	fputc('\n', stdout);
}

json_t *tl_json_round(double v, int decimals)
{
	double f = pow(10.0, decimals);
	return json_real(round(v * f) / f);
}

json_t *tl_json_protocol(const struct tl_protocol *p)
{
	json_t *stages = json_array();
	for (size_t i = 0; i < p->n_stages; i++) {
		const struct tl_stage *s = &p->stages[i];
		json_array_append_new(
			stages, json_pack("{s:I, s:s, s:o, s:o, s:o, s:o, s:o}", "index", (json_int_t)i,
					  "kind", tl_stage_kind_name(s->kind), "start_s",
					  tl_json_round(s->start_ms / 1000.0, 3), "duration_s",
					  tl_json_round(s->duration_ms / 1000.0, 3), "speed_kmh",
					  tl_json_round(s->speed_kmh, 6), "speed_mph",
					  tl_json_round(tl_kmh_to_mph(s->speed_kmh), 6), "grade_pct",
					  tl_json_round(s->grade_pct, 3)));
	}
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o}", "name", p->name, "title", p->title,
			 "reference", p->reference, "units", tl_units_name(p->units), "endpoint",
			 tl_endpoint_name(p->endpoint), "max_duration_s",
			 tl_json_round(p->max_duration_ms / 1000.0, 3), "stages", stages);
}

json_t *tl_json_time_s(int64_t ms)
{
	return ms < 0 ? json_null() : tl_json_round((double)ms / 1000.0, 1);
}

json_t *tl_json_event(const struct tl_event *ev)
{
	return json_pack("{s:o, s:s, s:s, s:s, s:o}", "t_s", tl_json_round((double)ev->t_ms / 1000.0, 3),
			 "kind", tl_event_kind_name(ev->kind), "source", ev->source, "detail",
			 ev->detail, "value", isnan(ev->value) ? json_null() : json_real(ev->value));
}

int tl_json_add_endpoints(json_t *obj, const struct tl_endpoints *ep, int64_t now_ms)
{
	int bad = json_object_set_new(obj, "cot_s", tl_json_time_s(ep->cot_ms));
	bad |= json_object_set_new(obj, "pwt_s", tl_json_time_s(ep->pwt_ms));
	bad |= json_object_set_new(obj, "icd_m", ep->cot_ms < 0 ? json_null() : tl_json_round(ep->icd_m, 1));
	bad |= json_object_set_new(obj, "acd_m", ep->pwt_ms < 0 ? json_null() : tl_json_round(ep->acd_m, 1));
	/* A PWT not ended by the max press is a lower bound (docs/clinical.md, Censored
	 * endpoints); the reason is the status's end_reason. */
	json_t *censored = ep->pwt_ms < 0 ? json_null() : json_boolean(ep->pwt_censored);
	bad |= json_object_set(obj, "pwt_censored", censored);
	bad |= json_object_set_new(obj, "acd_censored", censored);
	bad |= json_object_set_new(obj, "walking_time_s", tl_json_time_s(tl_endpoints_walking_ms(ep, now_ms)));
	bad |= json_object_set_new(obj, "distance_m", tl_json_round(ep->distance_m, 1));
	bad |= json_object_set_new(obj, "recovery_s", tl_json_time_s(ep->recovery_ms));
	return bad ? -1 : 0;
}
