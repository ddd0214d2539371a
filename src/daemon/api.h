/* api.h - the HTTP API (JSON; live state as Server-Sent Events), on a Unix socket and
 * on loopback TCP. docs/api.md documents every endpoint, body and error. */
#ifndef TL_API_H
#define TL_API_H

#include "daemon.h"

struct tl_api;

struct tl_api *tl_api_start(struct tl_daemon *d, struct tl_err *err);
void tl_api_stop(struct tl_api *api);
/* The TCP address actually bound ("127.0.0.1:8660"), "-" if none. */
const char *tl_api_bound(const struct tl_api *api);

#endif
