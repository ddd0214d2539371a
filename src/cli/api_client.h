/* api_client.h - the command line's connection to treadlabd's HTTP API.
 *
 * The daemon is found by --socket PATH, else $TREADLAB_SOCKET, else --url / $TREADLAB_URL
 * (loopback TCP), else the default socket /run/treadlab/api.sock. */
#ifndef TL_API_CLIENT_H
#define TL_API_CLIENT_H

#include <jansson.h>
#include <stdbool.h>

struct tl_client {
	char socket[256];
	char url[256];    /* base URL, e.g. http://127.0.0.1:8660 or https://... */
	char cacert[256]; /* --cacert / $TREADLAB_CACERT: the CA (or self-signed cert) to trust */
	char token[256];  /* --token-file / $TREADLAB_TOKEN_FILE: bearer token for TCP */
};

/* Takes --socket PATH, --url URL, --cacert FILE and --token-file FILE out of argv
 * (anywhere) and fills c. Returns 0, or -1 after printing why (an unreadable token). */
int tl_client_init(struct tl_client *c, int *argc, char **argv);

/* Makes a request; body may be NULL. On a 2xx returns the parsed JSON (caller decrefs).
 * Otherwise prints one line on stderr ("treadlab: <the daemon's message>" or why it could
 * not be reached) and returns NULL. */
json_t *tl_client_call(const struct tl_client *c, const char *method, const char *path,
		       json_t *body);

/* Streams Server-Sent Events from path, calling fn(kind, data) for each; returns when
 * the stream ends or fn returns false. Returns 0 on a clean end, 1 on error. */
int tl_client_stream(const struct tl_client *c, const char *path,
		     bool (*fn)(const char *kind, json_t *data, void *arg), void *arg);

/* GETs path and hands back the body's bytes (*out, malloc'd, *len bytes; NUL after them)
 * on a 2xx. Otherwise prints one line on stderr as tl_client_call and returns 1. */
int tl_client_get_bytes(const struct tl_client *c, const char *path, char **out, size_t *len);

#endif
