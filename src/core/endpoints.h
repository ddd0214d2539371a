/* endpoints.h - COT, PWT, ICD, ACD, walking time and distance, recovery time.
 *
 * Definitions (docs/clinical.md, Walking endpoints): COT and ICD at the first onset press;
 * PWT and ACD at the max press, or at the end of walking if there was none, and then
 * CENSORED: walking ended other than by maximal claudication, so the patient could have
 * walked further (docs/clinical.md, Censored endpoints); distance is the integral of the
 * MEASURED belt speed (trapezoids between feedback samples); recovery time runs from belt
 * stop to the relief event. Times are test time in ms (start = 0). Per walk segment
 * figures serve the two-stage test. Pure. */
#ifndef TL_ENDPOINTS_H
#define TL_ENDPOINTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TL_MAX_WALKS 4

struct tl_walk_segment {
	int64_t start_ms;
	int64_t end_ms;        /* -1 while walking */
	int64_t onset_ms;      /* first onset in this walk, -1 if none */
	int64_t max_ms;        /* max press that ended this walk, -1 if none */
	int64_t belt_stop_ms;  /* belt seen stopped after this walk, -1 if not yet */
	int64_t relief_ms;     /* relief after this walk, -1 if none */
	double end_distance_m; /* belt travel when this walk ended */
};

struct tl_endpoints {
	int64_t cot_ms, pwt_ms; /* -1 when not reached */
	bool pwt_censored;      /* PWT and ACD are lower bounds: no max press ended walking */
	double icd_m, acd_m;
	int64_t walking_ms;     /* time in walk segments */
	double distance_m;      /* belt travel, measured */
	int64_t recovery_ms;    /* belt stop to relief, -1 if none */
	int64_t belt_stop_ms;   /* final belt stop, -1 if not yet */
	size_t n_walks;
	struct tl_walk_segment walks[TL_MAX_WALKS];
	/* integration state */
	bool have_sample;
	int64_t last_ms;
	double last_speed_kmh;
};

void tl_endpoints_init(struct tl_endpoints *e);
/* A measured belt speed at t_ms; integrates distance since the previous sample. */
void tl_endpoints_sample(struct tl_endpoints *e, int64_t t_ms, double speed_kmh);
/* Distance at t_ms: the integral so far, extended at the last measured speed. */
double tl_endpoints_distance_at(const struct tl_endpoints *e, int64_t t_ms);
void tl_endpoints_walk_start(struct tl_endpoints *e, int64_t t_ms);
/* Returns true if this is the test's first onset (COT set). */
bool tl_endpoints_onset(struct tl_endpoints *e, int64_t t_ms);
/* Ends the current walk; is_max: ended by the max press. final: walking is over. */
void tl_endpoints_walk_end(struct tl_endpoints *e, int64_t t_ms, bool is_max, bool final);
void tl_endpoints_belt_stopped(struct tl_endpoints *e, int64_t t_ms, bool final);
/* Returns false if there was no stopped belt to recover from. */
bool tl_endpoints_relief(struct tl_endpoints *e, int64_t t_ms);
/* Walking time up to t_ms (counting the walk in progress). */
int64_t tl_endpoints_walking_ms(const struct tl_endpoints *e, int64_t t_ms);

#endif
