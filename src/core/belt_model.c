#include "belt_model.h"

#include <math.h>

const struct tl_belt_params tl_belt_default_params = {
	.accel_kmh_per_s = 1.0,
	.estop_decel_kmh_per_s = 4.0,
	.lift_pct_per_s = 0.5,
	.max_speed_kmh = 20.0,
	.max_grade_pct = 30.0,
};

void tl_belt_init(struct tl_belt *b, const struct tl_belt_params *p, int64_t now_ms)
{
	*b = (struct tl_belt){.p = *p, .t_ms = now_ms};
}

static double approach(double from, double to, double step)
{
	if (fabs(to - from) <= step)
		return to;
	return from < to ? from + step : from - step;
}

double tl_belt_ramp_distance_m(double v0, double v1, double rate, double dt)
{
	if (dt <= 0)
		return 0;
	double dv = fabs(v1 - v0);
	double t_ramp = rate > 0 ? dv / rate : 0;
	double km;
	if (t_ramp >= dt) {
		double v_end = v0 + (v1 > v0 ? 1 : -1) * rate * dt;
		km = (v0 + v_end) / 2.0 * dt / 3600.0;
	} else {
		km = (v0 + v1) / 2.0 * t_ramp / 3600.0 + v1 * (dt - t_ramp) / 3600.0;
	}
	return km * 1000.0;
}

void tl_belt_advance(struct tl_belt *b, int64_t now_ms)
{
	if (now_ms <= b->t_ms)
		return;
	double dt = (double)(now_ms - b->t_ms) / 1000.0;
	b->t_ms = now_ms;
	double target = (b->running && !b->estopped) ? b->target_speed_kmh : 0.0;
	double rate = b->estopped ? b->p.estop_decel_kmh_per_s : b->p.accel_kmh_per_s;
	if (b->stall) {
		b->speed_kmh = 0; /* a stalled belt does not move, whatever the motor does */
	} else {
		b->distance_m += tl_belt_ramp_distance_m(b->speed_kmh, target, rate, dt);
		b->speed_kmh = approach(b->speed_kmh, target, rate * dt);
	}
	if (!b->lift_stuck) {
		double gtarget = b->estopped ? b->grade_pct : b->target_grade_pct;
		b->grade_pct = approach(b->grade_pct, gtarget, b->p.lift_pct_per_s * dt);
	}
	if (!b->running && b->speed_kmh == 0.0)
		b->target_speed_kmh = 0.0;
}

static double clamp(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

void tl_belt_start(struct tl_belt *b, int64_t now_ms)
{
	tl_belt_advance(b, now_ms);
	if (!b->estopped)
		b->running = true;
}

void tl_belt_stop(struct tl_belt *b, int64_t now_ms)
{
	tl_belt_advance(b, now_ms);
	b->running = false;
}

void tl_belt_estop(struct tl_belt *b, int64_t now_ms)
{
	tl_belt_advance(b, now_ms);
	b->running = false;
	b->estopped = true;
	b->target_speed_kmh = 0;
}

void tl_belt_reset(struct tl_belt *b, int64_t now_ms)
{
	tl_belt_advance(b, now_ms);
	b->estopped = false;
}

void tl_belt_set_speed(struct tl_belt *b, double kmh, int64_t now_ms)
{
	tl_belt_advance(b, now_ms);
	b->target_speed_kmh = clamp(kmh, 0, b->p.max_speed_kmh);
}

void tl_belt_set_grade(struct tl_belt *b, double pct, int64_t now_ms)
{
	tl_belt_advance(b, now_ms);
	b->target_grade_pct = clamp(pct, 0, b->p.max_grade_pct);
}
