#include "endpoints.h"

#include <string.h>

#include "units.h"

void tl_endpoints_init(struct tl_endpoints *e)
{
	memset(e, 0, sizeof *e);
	e->cot_ms = e->pwt_ms = e->recovery_ms = e->belt_stop_ms = -1;
}

void tl_endpoints_sample(struct tl_endpoints *e, int64_t t_ms, double speed_kmh)
{
	if (speed_kmh < 0)
		speed_kmh = 0;
	if (e->have_sample && t_ms > e->last_ms)
		e->distance_m += (e->last_speed_kmh + speed_kmh) / 2.0 *
				 tl_kmh_to_m_per_ms(1.0) * (double)(t_ms - e->last_ms);
	if (!e->have_sample || t_ms >= e->last_ms) {
		e->last_ms = t_ms;
		e->last_speed_kmh = speed_kmh;
		e->have_sample = true;
	}
}

double tl_endpoints_distance_at(const struct tl_endpoints *e, int64_t t_ms)
{
	if (!e->have_sample || t_ms <= e->last_ms)
		return e->distance_m;
	return e->distance_m + e->last_speed_kmh * tl_kmh_to_m_per_ms(1.0) * (double)(t_ms - e->last_ms);
}

static struct tl_walk_segment *current(struct tl_endpoints *e)
{
	return e->n_walks ? &e->walks[e->n_walks - 1] : NULL;
}

void tl_endpoints_walk_start(struct tl_endpoints *e, int64_t t_ms)
{
	if (e->n_walks >= TL_MAX_WALKS)
		return;
	e->walks[e->n_walks++] = (struct tl_walk_segment){
		.start_ms = t_ms, .end_ms = -1, .onset_ms = -1, .max_ms = -1,
		.belt_stop_ms = -1, .relief_ms = -1};
}

bool tl_endpoints_onset(struct tl_endpoints *e, int64_t t_ms)
{
	struct tl_walk_segment *w = current(e);
	if (w && w->end_ms < 0 && w->onset_ms < 0)
		w->onset_ms = t_ms;
	if (e->cot_ms >= 0)
		return false;
	e->cot_ms = t_ms;
	e->icd_m = tl_endpoints_distance_at(e, t_ms);
	return true;
}

void tl_endpoints_walk_end(struct tl_endpoints *e, int64_t t_ms, bool is_max, bool final)
{
	struct tl_walk_segment *w = current(e);
	if (w && w->end_ms < 0) {
		w->end_ms = t_ms;
		w->end_distance_m = tl_endpoints_distance_at(e, t_ms);
		if (is_max)
			w->max_ms = t_ms;
		e->walking_ms += t_ms - w->start_ms;
	}
	/* Walking may end during a rest stage (operator stop): PWT is then the end of the
	 * last walk, not the moment of the stop. */
	if (final && e->pwt_ms < 0 && w) {
		e->pwt_ms = w->end_ms;
		e->acd_m = w->end_distance_m;
		e->pwt_censored = w->max_ms < 0;
	}
}

void tl_endpoints_belt_stopped(struct tl_endpoints *e, int64_t t_ms, bool final)
{
	struct tl_walk_segment *w = current(e);
	if (w && w->belt_stop_ms < 0)
		w->belt_stop_ms = t_ms;
	if (final && e->belt_stop_ms < 0)
		e->belt_stop_ms = t_ms;
}

bool tl_endpoints_relief(struct tl_endpoints *e, int64_t t_ms)
{
	struct tl_walk_segment *w = current(e);
	if (!w || w->belt_stop_ms < 0 || w->relief_ms >= 0)
		return false;
	w->relief_ms = t_ms;
	if (e->belt_stop_ms >= 0 && e->recovery_ms < 0)
		e->recovery_ms = t_ms - e->belt_stop_ms;
	return true;
}

int64_t tl_endpoints_walking_ms(const struct tl_endpoints *e, int64_t t_ms)
{
	int64_t ms = e->walking_ms;
	const struct tl_walk_segment *w = e->n_walks ? &e->walks[e->n_walks - 1] : NULL;
	if (w && w->end_ms < 0 && t_ms > w->start_ms)
		ms += t_ms - w->start_ms;
	return ms;
}
