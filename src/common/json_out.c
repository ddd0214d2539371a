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
