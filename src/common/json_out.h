/* json_out.h - JSON shapes shared by the command line and the daemon's API. */
#ifndef TL_JSON_OUT_H
#define TL_JSON_OUT_H

#include <jansson.h>

#include "protocol.h"

/* Prints j on stdout, indented, with a newline. */
void tl_json_print(const json_t *j);

/* {"name","title","reference","units","endpoint","max_duration_s","stages":[...]} */
json_t *tl_json_protocol(const struct tl_protocol *p);

/* A number rounded to `decimals` places (JSON keeps 0.1 s as 0.1, not 0.10000000001). */
json_t *tl_json_round(double v, int decimals);

#endif
