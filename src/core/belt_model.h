/* belt_model.h - a model treadmill: belt acceleration and lift rate limits.
 *
 * Used by the dry run, the in-process simulated treadmill and treadsim, so all three
 * move alike. Pure: time is passed in; distance is integrated exactly over the
 * piecewise-linear speed profile. */
#ifndef TL_BELT_MODEL_H
#define TL_BELT_MODEL_H

#include <stdbool.h>
#include <stdint.h>

struct tl_belt_params {
	double accel_kmh_per_s;       /* belt speed change limit, both ways */
	double estop_decel_kmh_per_s; /* deceleration after an emergency stop */
	double lift_pct_per_s;        /* grade change rate */
	double max_speed_kmh;
	double max_grade_pct;
};

/* A typical clinical treadmill: 1.0 km/h per s belt, 0.5 %/s lift, 4 km/h/s e-stop.
 * These are model defaults for simulation, not device data. */
extern const struct tl_belt_params tl_belt_default_params;

struct tl_belt {
	struct tl_belt_params p;
	int64_t t_ms;        /* time of the state below */
	bool running;        /* motor energised */
	bool estopped;       /* latched by tl_belt_estop until tl_belt_reset */
	double speed_kmh;    /* actual */
	double grade_pct;    /* actual */
	double target_speed_kmh;
	double target_grade_pct;
	double distance_m;   /* belt travel since init */
	bool stall;          /* fault injection: the belt does not move */
	bool lift_stuck;     /* fault injection: the lift does not move */
};

void tl_belt_init(struct tl_belt *b, const struct tl_belt_params *p, int64_t now_ms);
/* Moves the model to now_ms (no-op if now_ms is not later). */
void tl_belt_advance(struct tl_belt *b, int64_t now_ms);
/* Commands (each advances to now_ms first). Targets are clamped to the model's limits. */
void tl_belt_start(struct tl_belt *b, int64_t now_ms);
void tl_belt_stop(struct tl_belt *b, int64_t now_ms);
void tl_belt_estop(struct tl_belt *b, int64_t now_ms);
void tl_belt_reset(struct tl_belt *b, int64_t now_ms); /* clears the e-stop latch */
void tl_belt_set_speed(struct tl_belt *b, double kmh, int64_t now_ms);
void tl_belt_set_grade(struct tl_belt *b, double pct, int64_t now_ms);

/* Distance covered while speed moves from v0 toward v1 at `rate` for dt s, then holds.
 * Exposed for tests. Speeds in km/h, result in metres. */
double tl_belt_ramp_distance_m(double v0_kmh, double v1_kmh, double rate_kmh_per_s, double dt_s);

#endif
