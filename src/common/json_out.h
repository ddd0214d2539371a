/* json_out.h - JSON shapes shared by the command line and the daemon's API. */
#ifndef TL_JSON_OUT_H
#define TL_JSON_OUT_H

#include <jansson.h>

#include "protocol.h"
#include "session.h"

/* Prints j on stdout, indented, with a newline. */
void tl_json_print(const json_t *j);

/* {"name","title","reference","units","endpoint","max_duration_s","stages":[...]} */
json_t *tl_json_protocol(const struct tl_protocol *p);

/* A number rounded to `decimals` places (JSON keeps 0.1 s as 0.1, not 0.10000000001). */
json_t *tl_json_round(double v, int decimals);

/* {"t_s","kind","source","detail","value"}; value null when the event has none. */
json_t *tl_json_event(const struct tl_event *ev);

/* A time in ms as seconds to 0.1 s, or null when negative (not reached). */
json_t *tl_json_time_s(int64_t ms);

/* The endpoints as {"cot_s","pwt_s","icd_m","acd_m","pwt_censored","acd_censored",
 * "walking_time_s","distance_m","recovery_s"} added to obj; distances to 0.1 m; the
 * censored flags are null until PWT is reached, then true when walking ended other than
 * by the max press. now_ms: test time for walking time. 0, or -1 if out of memory (then
 * some keys are missing). */
int tl_json_add_endpoints(json_t *obj, const struct tl_endpoints *ep, int64_t now_ms);

#endif
