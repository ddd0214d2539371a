/* api_int.h - what the parts of the HTTP API share. Not for the rest of the daemon: that
 * is api.h. The parts, one job each:
 *   api_listen.c  listeners, TLS, token, Host/Origin/Content-Type checks, the request's
 *                 life (on_request, on_completed), tl_api_start/stop
 *   api_gate.c    the door of both listeners and the reserved emergency-stop path
 *   api_route.c   the route table: which handler serves which path and method
 *   api_resp.c    answers (JSON, errors) and request bodies' fields
 *   api_cmd.c     commands to the control thread (start, onset, ..., estop)
 *   api_query.c   reads: status, tests, protocols, metrics
 *   api_edit.c    changes to a recorded test (pressures, findings)
 *   api_patient.c patients' demographics and tests' orders (issue 13)
 *   api_events.c  the event stream (Server-Sent Events)
 *   api_text.c    checks of text, request bodies' parsing, the e-stop's body, peers
 *   api_pool.c    read-only store connections shared by the request threads
 *
 * Adding an endpoint:
 *  1. Write its handler, a tl_api_handler, in a file of its own (api_<job>.c; the daemon's
 *     CMake globs the daemon directory) and declare it below under "handlers". It answers
 *     through tl_api_send_json / tl_api_send_error (or queues a response of its own, with
 *     "Connection: close" as every answer: api_gate.c) and returns what
 *     MHD_queue_response returned. rq->body/len hold the body (already
 *     limited to TL_API_BODY_MAX; parse it with tl_api_parse_body), rq->id the {id} of
 *     the path, rq->arg the row's arg.
 *  2. Add one row to the table in api_route.c: {"/v1/tests/{id}/sign", "POST", handler,
 *     0}. "{id}" matches a test id in canonical decimal (tl_api_parse_id). A path that
 *     matches but with another method is answered 405 "<path> takes <methods>" from the
 *     rows of that path, in table order; no path matched is 404.
 *     A handler that reads the store borrows a connection (api_pool.h):
 *     tl_api_pool_take(api->pool), then tl_api_pool_give(api->pool, st, failed) before
 *     it waits on anything else (the control thread, the writer, a stream) and never
 *     two at once.
 *  3. Document it in docs/api.md and test it in tests/integration.
 * Token, Host, Origin and Content-Type have been checked before any handler runs. */
#ifndef TL_API_INT_H
#define TL_API_INT_H

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon.h"
#include "logins.h"

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
struct tl_api_pool;
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
	struct tl_api_pool *pool; /* read-only store connections (api_pool.h) */
	struct tl_logins *logins; /* login sessions, failed logins (api_session.c) */
};

/* One request, from its head to its end (api_listen.c allocates and frees it). */
struct tl_api_request {
	char *body;      /* NUL-terminated, len bytes; NULL if none */
	size_t len;
	bool too_big;
	bool no_memory;  /* the body could not be kept: answered 500 (an e-stop still stops) */
	bool estop;      /* POST /v1/estop (served here only on a TLS listener: api_gate.c) */
	bool stopped;    /* ... and the stop has been carried out: */
	int stop_status;
	char stop_msg[sizeof ((struct tl_reply *)0)->msg], warning[160];
	bool refused;    /* answered at its head */
	const struct listener *l;
	int64_t id;      /* the {id} of the route's path; 0 if none */
	int arg;         /* the route's arg */
	char name[65];   /* the {name} (an account) or {mrn} (a patient) of the route's path */
	/* api_session.c: the login session of the request's cookie (TCP only) */
	bool has_session;   /* a valid one: who */
	bool stale_session; /* a cookie that is no session (ended, expired, unknown) */
	struct tl_login_who who;
	char session[TL_LOGIN_TOKEN_TEXT];
};

typedef enum MHD_Result (*tl_api_handler)(struct tl_api *api, struct MHD_Connection *c,
					  struct tl_api_request *rq);

/* Who may call a route that changes something from a login session (api_session.c;
 * without a session the token or the socket is the whole check). */
enum tl_api_who {
	TL_WHO_RECORDER, /* a technician or an admin: runs tests and records what is measured */
	TL_WHO_ANYONE,   /* anyone logged in: it only lets something down (the cuff's vent) */
	TL_WHO_HANDLER,  /* the handler checks the role itself (signing, accounts, log in/out) */
};
/* api_route.c: who may call url with method (TL_WHO_RECORDER for a path no route has). */
enum tl_api_who tl_api_route_who(const char *url, const char *method);
/* api_route.c: finds the handler of url and method and runs it, or answers 404/405. */
enum MHD_Result tl_api_route(struct tl_api *api, struct MHD_Connection *c, const char *url,
			     const char *method, struct tl_api_request *rq);
/* A test id in canonical decimal only: 1-9 then digits, up to 18 of them ("+1", "0001",
 * " 1" and "1e0" name no test). Returns the digits' count (the id in *id), 0 if none. */
size_t tl_api_parse_id(const char *s, int64_t *id);

/* api_resp.c */
/* Sends j (taken; NULL: building it ran out of memory) with status; a 500 saying so if it
 * is NULL or cannot be made. */
enum MHD_Result tl_api_send_json(struct MHD_Connection *c, unsigned status, json_t *j);
/* The 500 of an answer that could not be made for want of memory (a static body). */
enum MHD_Result tl_api_send_oom(struct MHD_Connection *c);
/* Adds Content-Type and "Connection: close" (every answer has both: api_gate.c). False
 * if out of memory; the caller destroys r and answers no more. */
bool tl_api_headers(struct MHD_Response *r, const char *content_type);
/* Sends {"error": msg}. */
enum MHD_Result tl_api_send_error(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Parses rq's body as a JSON object whose keys are all in `allowed` (NULL-terminated). An
 * empty body is an empty object. On failure sends the 400 (500 when out of memory; in
 * *ret) and returns NULL. */
json_t *tl_api_parse_body(struct MHD_Connection *c, const struct tl_api_request *rq,
			  const char *const *allowed, enum MHD_Result *ret);
/* An optional string field (def if absent or null); false (and 400 sent, in *ret) if
 * present but not a string of 1..cap-1 printable characters. */
bool tl_api_opt_string(struct MHD_Connection *c, json_t *body, const char *key, char *dst,
		       size_t cap, const char *def, enum MHD_Result *ret);
/* A patient's MRN: 1-64 of A-Z a-z 0-9 . _ - */
bool tl_api_valid_mrn(const char *s);
/* Who sent the request on c (tl_api_peer_of_fd). */
void tl_api_peer_of(struct MHD_Connection *c, char *peer, size_t cap);

/* api_query.c */
/* The live status as every answer and the event stream show it; NULL if out of memory
 * (never an object with fields missing). */
json_t *tl_api_status_json(const struct tl_status *st, const struct tl_daemon *d);
void tl_api_snapshot(struct tl_daemon *d, struct tl_status *out);
/* Sends test id's record (200), 404 if there is none. */
enum MHD_Result tl_api_send_test(struct tl_api *api, struct MHD_Connection *c, int64_t id);
/* Whether test id exists; sends 404/500 (in *ret) and returns false if not. */
/* A test's record with its latest signed report (api_report.c): the messages to the
 * medical record (HL7, FHIR, the outbox) embed that report while it is the record's own,
 * i.e. signed since the record last changed (current). */
struct tl_api_signed {
	json_t *rec;
	bool has;            /* a version was signed: the fields below are its */
	bool current;        /* ... and the record is what was signed */
	int version;
	char signed_by[65], signed_at[32];
	unsigned char *pdf;  /* the PDF as signed (malloc'd), NULL if none */
	size_t len;
};
/* Fills s from the pool's connection: true, or false after answering (500) in *ret. */
bool tl_api_signed_read(struct tl_api *api, struct MHD_Connection *c, int64_t id,
			struct tl_api_signed *s, enum MHD_Result *ret);
void tl_api_signed_free(struct tl_api_signed *s);

bool tl_api_test_exists(struct tl_api *api, struct MHD_Connection *c, int64_t id,
			enum MHD_Result *ret);

/* api_cmd.c */
/* The emergency stop of a request libmicrohttpd serves (a TLS listener): carries it out
 * once (rq->stopped), whatever the body; tl_api_cmd_estop answers it. */
void tl_api_estop_now(struct tl_api *api, struct MHD_Connection *c, struct tl_api_request *rq);
enum MHD_Result tl_api_cmd_estop(struct tl_api *api, struct MHD_Connection *c,
				 struct tl_api_request *rq);

/* api_text.c */
/* Whether a bearer token in an Authorization value matches (time independent of where
 * it differs). */
bool tl_api_token_ok(const struct tl_api *api, const char *authorization);

/* handlers (tl_api_handler), by file; the route table in api_route.c names them */
/* api_cmd.c: POST /v1/tests; the commands without a body of their own (rq->arg: an enum
 * tl_cmd_kind) */
enum MHD_Result tl_api_cmd_start(struct tl_api *api, struct MHD_Connection *c, struct tl_api_request *rq);
enum MHD_Result tl_api_cmd_simple(struct tl_api *api, struct MHD_Connection *c, struct tl_api_request *rq);
/* api_query.c */
enum MHD_Result tl_api_get_status(struct tl_api *api, struct MHD_Connection *c, struct tl_api_request *rq);
/* api_outbox.c */
enum MHD_Result tl_api_get_outbox(struct tl_api *api, struct MHD_Connection *c, struct tl_api_request *rq);
enum MHD_Result tl_api_get_outbox_msg(struct tl_api *api, struct MHD_Connection *c, struct tl_api_request *rq);
enum MHD_Result tl_api_outbox_act(struct tl_api *api, struct MHD_Connection *c, struct tl_api_request *rq);
enum MHD_Result tl_api_outbox_send(struct tl_api *api, struct MHD_Connection *c, struct tl_api_request *rq);
enum MHD_Result tl_api_get_tests(struct tl_api *api, struct MHD_Connection *c, struct tl_api_request *rq);
enum MHD_Result tl_api_get_test(struct tl_api *api, struct MHD_Connection *c, struct tl_api_request *rq);
enum MHD_Result tl_api_get_protocols(struct tl_api *api, struct MHD_Connection *c, struct tl_api_request *rq);
enum MHD_Result tl_api_get_metrics(struct tl_api *api, struct MHD_Connection *c, struct tl_api_request *rq);
/* api_cuff.c: GET /v1/cuff; POST /v1/cuff/... (rq->arg: an enum tl_cuffd_req_kind) */
enum MHD_Result tl_api_get_cuff(struct tl_api *api, struct MHD_Connection *c, struct tl_api_request *rq);
enum MHD_Result tl_api_cuff_act(struct tl_api *api, struct MHD_Connection *c, struct tl_api_request *rq);
/* api_edit.c */
enum MHD_Result tl_api_add_pressure(struct tl_api *api, struct MHD_Connection *c, struct tl_api_request *rq);
enum MHD_Result tl_api_set_findings(struct tl_api *api, struct MHD_Connection *c, struct tl_api_request *rq);
/* api_events.c */
enum MHD_Result tl_api_events(struct tl_api *api, struct MHD_Connection *c, struct tl_api_request *rq);
/* api_report.c: GET /v1/tests/{id}/report.pdf, GET /v1/export.csv */
enum MHD_Result tl_api_get_report(struct tl_api *api, struct MHD_Connection *c, struct tl_api_request *rq);
enum MHD_Result tl_api_get_export(struct tl_api *api, struct MHD_Connection *c, struct tl_api_request *rq);
/* POST /v1/tests/{id}/sign {"user","password"}: a physician signs the report. */
enum MHD_Result tl_api_sign_report(struct tl_api *api, struct MHD_Connection *c, struct tl_api_request *rq);
/* api_hl7.c: GET /v1/tests/{id}/hl7, the ORU^R01 the test would send (not sent) */
enum MHD_Result tl_api_get_hl7(struct tl_api *api, struct MHD_Connection *c, struct tl_api_request *rq);

/* api_fhir.c: GET /v1/tests/{id}/fhir, the FHIR Bundle the test would be sent as */
enum MHD_Result tl_api_get_fhir(struct tl_api *api, struct MHD_Connection *c, struct tl_api_request *rq);

/* api_session.c: accounts' sessions (docs/api.md, Accounts and sessions) */
int tl_api_sessions_start(struct tl_api *api, struct tl_err *err);
void tl_api_sessions_stop(struct tl_api *api);
/* At a request's head: the session its cookie names, into rq (TCP listeners only). */
void tl_api_session_of(struct tl_api *api, struct MHD_Connection *c, struct tl_api_request *rq);
/* After the head's other checks: refuses a stale cookie (401) and a state-changing request
 * by cookie without its X-CSRF-Token (403); false once it answered. */
bool tl_api_session_allowed(struct MHD_Connection *c, const struct tl_api_request *rq,
			    const char *url, const char *method, enum MHD_Result *ret);
/* The gate's check of a raw head's cookie (no hash, no I/O): true and who if valid. */
bool tl_api_session_in_head(struct tl_api *api, const char *head, size_t n,
			    struct tl_login_who *who);
/* The operator of a command or record: the account for a session (an "operator" field
 * naming another is refused, 403), else the body's, else def. As tl_api_opt_string. */
bool tl_api_operator(struct MHD_Connection *c, const struct tl_api_request *rq, json_t *body,
		     char *dst, size_t cap, const char *def, enum MHD_Result *ret);
/* A body {"user","password"} (a login's, a signature's): the body, to be freed with
 * tl_api_credentials_free (which wipes the password), the user in name and the password
 * in *pw; NULL once a 400 is answered. The request's raw body is wiped here. */
json_t *tl_api_credentials(struct MHD_Connection *c, struct tl_api_request *rq,
			   char name[64], const char **pw, enum MHD_Result *ret);
void tl_api_credentials_free(json_t *body);
/* Checks name's password as a login does (the failed-login limit first, then the hash,
 * a dummy one for an unknown name, then disabled): true and *u when it is right, else the
 * answer is sent (*ret) and the attempt counted and audited under command. */
struct tl_store_user; /* store.h */
bool tl_api_password_ok(struct tl_api *api, struct MHD_Connection *c, const char *command,
			const char *name, const char *pw, struct tl_store_user *u,
			enum MHD_Result *ret);
/* At most TL_PASSWORD_CONCURRENT password hashes at once (64 MiB each): waits its turn. */
void tl_api_hash_begin(void);
void tl_api_hash_end(void);
enum MHD_Result tl_api_session_get(struct tl_api *api, struct MHD_Connection *c, struct tl_api_request *rq);
enum MHD_Result tl_api_session_login(struct tl_api *api, struct MHD_Connection *c, struct tl_api_request *rq);
enum MHD_Result tl_api_session_logout(struct tl_api *api, struct MHD_Connection *c, struct tl_api_request *rq);
/* api_users.c: the Unix socket's or an admin session's only */
enum MHD_Result tl_api_users_list(struct tl_api *api, struct MHD_Connection *c, struct tl_api_request *rq);
enum MHD_Result tl_api_users_add(struct tl_api *api, struct MHD_Connection *c, struct tl_api_request *rq);
enum MHD_Result tl_api_users_change(struct tl_api *api, struct MHD_Connection *c, struct tl_api_request *rq);

/* api_patient.c: GET and PUT /v1/patients/{mrn} (rq->name), PUT /v1/tests/{id}/order */
enum MHD_Result tl_api_get_patient(struct tl_api *api, struct MHD_Connection *c, struct tl_api_request *rq);
enum MHD_Result tl_api_put_patient(struct tl_api *api, struct MHD_Connection *c, struct tl_api_request *rq);
enum MHD_Result tl_api_put_order(struct tl_api *api, struct MHD_Connection *c, struct tl_api_request *rq);

/* api_protocol.c: GET /v1/protocols/{name} (rq->name) */
enum MHD_Result tl_api_get_protocol(struct tl_api *api, struct MHD_Connection *c, struct tl_api_request *rq);
/* api_static.c: the page's files ([api] web_root) at "/" and "/web/NAME" */
bool tl_api_static_path(const char *url);
/* libmicrohttpd's MHD_OPTION_UNESCAPE_CALLBACK: decodes %XX as its own does, except %00,
 * which stays as it is (decoded, it would cut the path short: "/web/a.html%00.png"). */
size_t tl_api_unescape(void *cls, struct MHD_Connection *c, char *s);
enum MHD_Result tl_api_static(struct tl_api *api, struct MHD_Connection *c, const char *url,
			      const char *method);

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
 * text in msg ("unknown field 'x' (expected: ...)", "field 'a.b[1]' has ..."); or, with
 * *oom set, a 500's ("out of memory parsing the request body"). */
json_t *tl_api_body_parse(const char *body, size_t len, const char *const *allowed, char *msg,
			  size_t cap, bool *oom);
/* Reads an e-stop body: the operator if it names a usable one (else def), and a warning
 * (empty if none) when the body was there but not used. Never fails. */
void tl_api_estop_body(const char *body, size_t len, const char *def, char *operator_id,
		       size_t cap, char *warning, size_t wcap);
/* Who is at the other end of a connected socket: "uid 1000 pid 4242" (Unix socket,
 * SO_PEERCRED) or "127.0.0.1:53122" (TCP). key gets the client for limits: "uid 1000" or
 * "127.0.0.1". */
void tl_api_peer_of_fd(int fd, char *peer, size_t cap, char *key, size_t kcap);

#endif
