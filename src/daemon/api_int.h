/* api_int.h - what the parts of the HTTP API share (api.c: routes and bodies; api_gate.c:
 * the door of both listeners and the reserved emergency-stop path; api_text.c: checks of
 * text and of the e-stop's body). Not for the rest of the daemon: that is api.h. */
#ifndef TL_API_INT_H
#define TL_API_INT_H

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "daemon.h"

#define TL_API_BODY_MAX (64 * 1024)

/* Limits per listener (each listener has its own). Connections the gate has handed to
 * libmicrohttpd, each with a thread of its own: */
#define TL_API_CONN_MAX 128       /* at most this many at once */
#define TL_API_STREAMS_MAX 64     /* of which event streams: the rest stay for commands */
#define TL_API_PER_CLIENT_MAX 96  /* of which from one client (a uid, an IP address) */
/* Connections the gate holds while their request head comes in (no thread each). When
 * full, the one that has waited longest is closed: a slow client, since a real client
 * sends its head at once. */
#define TL_API_PENDING_MAX 1024
/* Descriptors the API may need: the waiting heads, both listeners' connections, and room
 * for the rest of the daemon. The soft limit is raised to this at start (systemd's
 * default is 1024). */
#define TL_API_NOFILE (TL_API_PENDING_MAX + 4 * TL_API_CONN_MAX + 256)
#define TL_API_CLIENTS_MAX 64     /* distinct clients with connections at libmicrohttpd */
/* A request head not complete, or a connection idle (a stalled body, a reader that reads
 * nothing), this long is closed. */
#define TL_API_IDLE_TIMEOUT_S 10
/* The nice value of libmicrohttpd's connection threads, above the gate's and the control
 * thread's (0): raising one's own nice value needs no privilege. */
#define TL_API_CONN_NICE 5
/* ... and of a connection thread once it carries an event stream: every status wakes all
 * of them at once (10 a second), and that crowd must not hold the gate back. */
#define TL_API_STREAM_NICE 15

struct tl_api;
struct tl_gate;

struct tl_api_client {
	char key[48]; /* "uid 1000" or "127.0.0.1"; empty: a free slot */
	int n;
};

/* One per listening socket. */
struct listener {
	struct tl_api *api;
	int fd;                   /* listening socket (the gate accepts on it) */
	bool is_unix;
	bool tls;                 /* the gate cannot read the head: it passes at once */
	bool need_token;
	struct MHD_Daemon *mhd;
	/* connections at libmicrohttpd, by client; guarded by api->gate_mu */
	int n_conn;
	struct tl_api_client clients[TL_API_CLIENTS_MAX];
	atomic_int n_streams;
};

struct tl_api {
	struct tl_daemon *d;
	struct listener unix_l, tcp_l;
	bool have_unix, have_tcp;
	char socket_path[256];
	char bound[64];           /* the TCP address actually bound, "127.0.0.1:8660" */
	char *cert_pem, *key_pem; /* kept for the daemon's life: MHD reads them in place */
	char token[256];
	unsigned idle_timeout_s;  /* head, idle and slow-client timeout */
	atomic_int stopping;  /* read by the gate and the event streams' threads */
	pthread_mutex_t gate_mu;
	struct tl_gate *gate;
};

/* api.c */
json_t *tl_api_status_json(const struct tl_status *st, const struct tl_daemon *d);
void tl_api_snapshot(struct tl_daemon *d, struct tl_status *out);
/* Whether a bearer token in an Authorization value matches (time independent of where
 * it differs). */
bool tl_api_token_ok(const struct tl_api *api, const char *authorization);

/* api_gate.c: accepts on every listener, passes complete request heads to
 * libmicrohttpd, answers POST /v1/estop itself. */
int tl_gate_start(struct tl_api *api, struct tl_err *err);
void tl_gate_stop(struct tl_api *api);
/* libmicrohttpd's MHD_OPTION_NOTIFY_CONNECTION: counts connections per client. */
void tl_gate_notify(void *cls, struct MHD_Connection *c, void **socket_context,
		    enum MHD_ConnectionNotificationCode toe);

/* api_text.c */
/* NULL if s is valid UTF-8 without control characters (C0, DEL, C1), else what is wrong
 * ("a control character (U+0085)") in why. */
const char *tl_api_text_bad(const char *s, size_t n, char *why, size_t cap);
/* Parses a request body (len bytes; empty: an empty object) as a JSON object whose keys
 * are all in allowed (NULL-terminated) and whose strings, keys and values at any depth,
 * pass tl_api_text_bad. Returns the object (the caller's), or NULL with the 400 answer's
 * text in msg ("unknown field 'x' (expected: ...)", "field 'a.b[1]' has ..."). */
json_t *tl_api_body_parse(const char *body, size_t len, const char *const *allowed, char *msg,
			  size_t cap);
/* Reads an e-stop body: the operator if it names a usable one (else def), and a warning
 * (empty if none) when the body was there but not used. Never fails. */
void tl_api_estop_body(const char *body, size_t len, const char *def, char *operator_id,
		       size_t cap, char *warning, size_t wcap);
/* Who is at the other end of a connected socket: "uid 1000 pid 4242" (Unix socket,
 * SO_PEERCRED) or "127.0.0.1:53122" (TCP). key gets the client for limits: "uid 1000" or
 * "127.0.0.1". */
void tl_api_peer_of_fd(int fd, char *peer, size_t cap, char *key, size_t kcap);

#endif
