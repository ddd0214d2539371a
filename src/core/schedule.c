#include "schedule.h"

void tl_schedule_at(const struct tl_protocol *p, int64_t t_ms, struct tl_schedule_point *out)
{
	for (size_t i = 0; i < p->n_stages; i++) {
		const struct tl_stage *s = &p->stages[i];
		if (t_ms < s->start_ms + s->duration_ms) {
			out->stage = (int)i;
			out->stage_start_ms = s->start_ms;
			out->next_change_ms = s->start_ms + s->duration_ms;
			out->target.belt_on = s->kind == TL_STAGE_WALK;
			out->target.speed_kmh = s->kind == TL_STAGE_WALK ? s->speed_kmh : 0.0;
			out->target.grade_pct = s->grade_pct;
			return;
		}
	}
	int64_t end = tl_protocol_length_ms(p);
	*out = (struct tl_schedule_point){.stage = -1, .stage_start_ms = end, .next_change_ms = end};
}
