/* api_gate.c - the door of both listeners, and the emergency stop's own path.
 *
 * Why a gate: libmicrohttpd gives each connection a thread and a slot. Left to accept by
 * itself, 200 clients that open a connection and send half a request, or 64 event
 * streams, took every slot, and an emergency stop waited for one (or never got one);
 * a busy daemon answered the stop only after the store had committed it.
 *
 * So libmicrohttpd no longer accepts (MHD_USE_NO_LISTEN_SOCKET). One gate thread accepts
 * on both listeners and
 *  - holds each new connection, without a thread, in one epoll set until its request
 *    head has come in. It reads with MSG_PEEK, so the bytes stay in the socket for
 *    libmicrohttpd. A head that is not complete within TL_API_IDLE_TIMEOUT_S is closed;
 *    when TL_API_PENDING_MAX connections wait, the one that waited longest is closed.
 *  - keeps POST /v1/estop for itself: as soon as that request's head is in (its body is
 *    not waited for: any size, any content; headers that stall stop it when the head's
 *    time is up, not never), the stop is queued to the control thread,
 *    which wakes at once and serves emergency stops before anything else. The control
 *    thread completes the reply as soon as the driver has the stop (not after the store
 *    commits it; the record is still written) and the reply's eventfd wakes the gate,
 *    which writes the answer, then reads and drops whatever body follows so the close
 *    does not reset the answer away.
 *  - passes every other complete head to libmicrohttpd (MHD_add_connection) while the
 *    listener and the client are under their limits (api_int.h), and otherwise answers
 *    503 itself.
 * Nothing here blocks: not on a client (non-blocking sockets), not on the control
 * thread (the eventfd), not on the store. So slow clients, event streams and busy
 * commands do not stand between an emergency stop and the belt.
 *
 * Connections carry one request each ("Connection: close" on every answer), so every
 * request comes through the gate and no e-stop waits behind a kept-alive connection's
 * earlier request.
 *
 * A TLS listener's heads cannot be read here: its connections pass at once, under the
 * same limits and timeouts; there the e-stop is served by api_cmd.c (tl_api_cmd_estop). */
#define _GNU_SOURCE /* accept4 */
#include "api_int.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#define HEAD_MAX 8192           /* a head longer than this is libmicrohttpd's to refuse */
#define DRAIN_NS 2000000000LL    /* how long a body after an answer is read and dropped */
#define TAG_UNIX 1
#define TAG_TCP 2
#define TAG_WAKE 3

enum gstate { G_HEAD, G_STOP, G_DRAIN };

struct gconn {
	int fd;                 /* -1 once closed or passed on; freed after the batch */
	struct listener *l;
	enum gstate state;
	int64_t deadline_ns;    /* INT64_MAX: none */
	struct tl_reply *reply; /* G_STOP */
	char warning[160];
	char peer[64], key[48];
	struct sockaddr_storage addr;
	socklen_t alen;
	struct gconn *prev, *next; /* in order of arrival */
};

struct tl_gate {
	struct tl_api *api;
	pthread_t th;
	int ep;   /* epoll */
	int wake; /* eventfd: a stop's reply is ready, or the gate is to stop */
	struct gconn *head, *tail;
	size_t n_pending; /* in G_HEAD */
	bool dead_any;    /* some gconn has fd -1 and waits to be freed */
};

/* ---------- the list of connections ---------- */

static void unlink_conn(struct tl_gate *g, struct gconn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		g->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		g->tail = c->prev;
	c->prev = c->next = NULL;
}

/* Forgets the connection's socket (closed, or libmicrohttpd's now); the struct is freed
 * after the current batch of epoll events, which may still name it. */
static void retire(struct tl_gate *g, struct gconn *c, bool close_fd)
{
	if (c->fd < 0)
		return;
	epoll_ctl(g->ep, EPOLL_CTL_DEL, c->fd, NULL);
	if (close_fd)
		close(c->fd);
	if (c->state == G_HEAD)
		g->n_pending--;
	c->fd = -1;
	g->dead_any = true;
}

static void free_retired(struct tl_gate *g)
{
	if (!g->dead_any)
		return;
	for (struct gconn *c = g->head, *next; c; c = next) {
		next = c->next;
		if (c->fd < 0 && c->state != G_STOP) {
			unlink_conn(g, c);
			free(c);
		}
	}
	g->dead_any = false;
}

/* ---------- reading the head ---------- */

/* Length of the head (through its empty line) in buf, 0 if not complete. */
static size_t head_len(const char *buf, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++) {
		if (buf[i] != '\n')
			continue;
		if (buf[i + 1] == '\n')
			return i + 2;
		if (buf[i + 1] == '\r' && i + 2 < n && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* 1: the request is POST /v1/estop; 0: it is not; -1: not known yet. */
static int is_estop(const char *buf, size_t n)
{
	static const char line[] = "POST /v1/estop";
	size_t k = sizeof line - 1;
	size_t m = n < k ? n : k;
	if (memcmp(buf, line, m))
		return 0;
	if (n <= k)
		return -1;
	return buf[k] == ' ' || buf[k] == '?' ? 1 : 0;
}

/* The value of header `name` in the head (not NUL-terminated: *len), or NULL. */
static const char *header(const char *head, size_t n, const char *name, size_t *len)
{
	size_t k = strlen(name);
	for (const char *p = memchr(head, '\n', n); p && (size_t)(p - head) + 1 + k < n;
	     p = memchr(p + 1, '\n', n - (size_t)(p + 1 - head))) {
		const char *h = p + 1;
		if (strncasecmp(h, name, k) || h[k] != ':')
			continue;
		const char *v = h + k + 1, *end = head + n;
		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		const char *e = v;
		while (e < end && *e != '\r' && *e != '\n')
			e++;
		*len = (size_t)(e - v);
		return v;
	}
	return NULL;
}

/* ---------- answers the gate writes itself ---------- */

/* Writes what fits now; the gate never waits for a client to read. */
static void send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void send_answer(int fd, int status, const char *reason, const char *body)
{
	char head[256];
	int n = snprintf(head, sizeof head,
			 "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n", status, reason, strlen(body));
	send_all(fd, head, (size_t)n);
	send_all(fd, body, strlen(body));
}

/* Reads and drops at most 256 KiB a turn, so that a client sending faster than the gate
 * reads cannot keep it from the others; a connection with more is armed again. */
static void drain(struct tl_gate *g, struct gconn *c)
{
	char scratch[16384];
	for (int i = 0; i < 16; i++) {
		ssize_t r = recv(c->fd, scratch, sizeof scratch, MSG_DONTWAIT);
		if (r > 0)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		retire(g, c, true); /* the client closed: done */
		return;
	}
	struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.ptr = c};
	epoll_ctl(g->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* After an answer: no more writing, and the rest of the request is read and dropped for
 * a while, so that closing with unread input does not reset the answer on its way. */
static void to_drain(struct tl_gate *g, struct gconn *c)
{
	if (c->state == G_HEAD)
		g->n_pending--;
	shutdown(c->fd, SHUT_WR);
	c->state = G_DRAIN;
	c->deadline_ns = tl_mono_ns() + DRAIN_NS;
	drain(g, c);
}

static void refuse(struct tl_gate *g, struct gconn *c, const char *msg)
{
	char body[256];
	snprintf(body, sizeof body, "{\"error\": \"%s\"}\n", msg);
	send_answer(c->fd, 503, "Service Unavailable", body);
	to_drain(g, c);
}

/* ---------- passing a connection to libmicrohttpd ---------- */

static struct tl_api_client *client_slot(struct listener *l, const char *key, bool add)
{
	struct tl_api_client *free_slot = NULL;
	for (int i = 0; i < TL_API_CLIENTS_MAX; i++) {
		if (!strcmp(l->clients[i].key, key))
			return &l->clients[i];
		if (!free_slot && !l->clients[i].key[0])
			free_slot = &l->clients[i];
	}
	if (add && free_slot)
		snprintf(free_slot->key, sizeof free_slot->key, "%s", key);
	return add ? free_slot : NULL;
}

/* NULL if the listener and the client may take one more connection, else why not. */
static const char *over_limit(struct tl_api *api, struct listener *l, const char *key)
{
	const char *why = NULL;
	pthread_mutex_lock(&api->gate_mu);
	struct tl_api_client *cl = client_slot(l, key, false);
	if (l->n_conn >= TL_API_CONN_MAX)
		why = "too many connections: try again shortly";
	else if (cl && cl->n >= TL_API_PER_CLIENT_MAX)
		why = "too many connections from this client: close some and try again";
	else if (!cl && !client_slot(l, key, true))
		why = "too many clients: try again shortly";
	else
		client_slot(l, key, true)->n++, l->n_conn++; /* counted now, before it starts */
	pthread_mutex_unlock(&api->gate_mu);
	return why;
}

static void release(struct tl_api *api, struct listener *l, struct tl_api_client *cl)
{
	pthread_mutex_lock(&api->gate_mu);
	if (cl && --cl->n == 0)
		cl->key[0] = '\0';
	l->n_conn--;
	pthread_mutex_unlock(&api->gate_mu);
}

static struct tl_api_client *find_client(struct tl_api *api, struct listener *l, const char *key)
{
	pthread_mutex_lock(&api->gate_mu);
	struct tl_api_client *cl = client_slot(l, key, false);
	pthread_mutex_unlock(&api->gate_mu);
	return cl;
}

/* The gate counted a connection when it passed it on; libmicrohttpd says when it ends.
 * The client's slot is found again from the socket (the same peer gives the same key)
 * and kept as the connection's context until then. */
void tl_gate_notify(void *cls, struct MHD_Connection *c, void **socket_context,
		    enum MHD_ConnectionNotificationCode toe)
{
	struct listener *l = cls;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		char peer[64], key[48];
		if (ci) {
			tl_api_peer_of_fd(ci->connect_fd, peer, sizeof peer, key, sizeof key);
			*socket_context = find_client(l->api, l, key);
		}
	} else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		release(l->api, l, *socket_context);
		*socket_context = NULL;
	}
}

static void pass(struct tl_gate *g, struct gconn *c)
{
	struct tl_api *api = g->api;
	struct listener *l = c->l;
	const char *why = over_limit(api, l, c->key);
	if (why && l->tls) {
		retire(g, c, true); /* no plain-text answer on a TLS connection */
		return;
	}
	if (why) {
		refuse(g, c, why);
		return;
	}
	int fd = c->fd;
	retire(g, c, false);
	if (MHD_add_connection(l->mhd, fd, (struct sockaddr *)&c->addr, c->alen) != MHD_YES)
		release(api, l, find_client(api, l, c->key)); /* libmicrohttpd closed it */
}

/* ---------- the emergency stop ---------- */

/* account: the login session's account the head's cookie names, or NULL. */
static void stop(struct tl_gate *g, struct gconn *c, const char *buf, size_t n, size_t hlen,
		 const char *account)
{
	struct tl_daemon *d = g->api->d;
	struct tl_cmd *cmd = calloc(1, sizeof *cmd);
	struct tl_reply *r = malloc(sizeof *r);
	if (!cmd || !r) {
		free(cmd);
		free(r);
		pass(g, c); /* libmicrohttpd's path stops the belt too */
		return;
	}
	/* The body is used only if all of it came with the head: the stop waits for nothing. */
	size_t cl_len = 0, te_len = 0, body_len = 0;
	const char *cl = hlen ? header(buf, hlen, "Content-Length", &cl_len) : NULL;
	const char *te = hlen ? header(buf, hlen, "Transfer-Encoding", &te_len) : NULL;
	if (cl)
		body_len = (size_t)strtoull(cl, NULL, 10);
	cmd->kind = CMD_ESTOP;
	if (hlen && !te && body_len <= n - hlen)
		tl_api_estop_body(buf + hlen, body_len, d->cfg.operator_default, cmd->operator_id,
				  sizeof cmd->operator_id, c->warning, sizeof c->warning);
	else {
		snprintf(cmd->operator_id, sizeof cmd->operator_id, "%s", d->cfg.operator_default);
		snprintf(c->warning, sizeof c->warning, "the request body was not used: the stop "
			 "acts on the request head and does not wait for a body");
	}
	if (account) /* the account stops, whoever the body names */
		snprintf(cmd->operator_id, sizeof cmd->operator_id, "%s", account);
	snprintf(cmd->source, sizeof cmd->source, "technician");
	snprintf(cmd->peer, sizeof cmd->peer, "%s", c->peer);
	tl_reply_init(r);
	r->wake_fd = g->wake;
	cmd->reply = r;
	g->n_pending--;
	c->state = G_STOP;
	c->reply = r;
	c->deadline_ns = INT64_MAX;
	tl_control_submit(d, cmd);
}

static void answer_stop(struct tl_gate *g, struct gconn *c)
{
	struct tl_daemon *d = g->api->d;
	struct tl_reply *r = c->reply;
	struct tl_status st;
	tl_api_snapshot(d, &st);
	json_t *o = tl_api_status_json(&st, d);
	if (c->warning[0])
		json_object_set_new(o, "warning", json_string(c->warning));
	if (r->http_status >= 300)
		json_object_set_new(o, "error", json_string(r->msg));
	char *text = json_dumps(o, JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	json_decref(o);
	int status = r->http_status >= 300 ? r->http_status : 200;
	if (text) {
		size_t n = strlen(text);
		char *t = realloc(text, n + 2);
		if (t) {
			text = t;
			memcpy(text + n, "\n", 2);
		}
	}
	send_answer(c->fd, status, status == 200 ? "OK" : "Error",
		    text            ? text
		    : status == 200 ? "{\"error\": \"the stop was carried out; out of memory for the rest "
				      "of the answer\"}\n"
				    : "{\"error\": \"out of memory\"}\n");
	free(text);
	tl_reply_destroy(r);
	free(r);
	c->reply = NULL;
	to_drain(g, c);
}

static bool reply_done(struct tl_reply *r)
{
	pthread_mutex_lock(&r->mu);
	bool done = r->done;
	pthread_mutex_unlock(&r->mu);
	return done;
}

static void answer_stops(struct tl_gate *g)
{
	uint64_t v;
	while (read(g->wake, &v, sizeof v) == (ssize_t)sizeof v)
		;
	for (struct gconn *c = g->head; c; c = c->next)
		if (c->state == G_STOP && c->reply && reply_done(c->reply))
			answer_stop(g, c);
}

/* ---------- the head of a new connection ---------- */

static bool token_ok(struct tl_api *api, const char *head, size_t hlen)
{
	size_t n;
	const char *v = header(head, hlen, "Authorization", &n);
	char value[300];
	if (!v || n >= sizeof value)
		return false;
	memcpy(value, v, n);
	value[n] = '\0';
	return tl_api_token_ok(api, value);
}

static void on_head(struct tl_gate *g, struct gconn *c, uint32_t events)
{
	char buf[HEAD_MAX];
	ssize_t r = recv(c->fd, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		retire(g, c, true); /* gone before a whole request, or an error */
		return;
	}
	size_t n = (size_t)r;
	bool ended = events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR);
	size_t hlen = head_len(buf, n);
	bool whole = hlen || n == sizeof buf; /* a head too long is libmicrohttpd's to refuse */
	int e = is_estop(buf, n);
	/* A login session's cookie passes as the token does: a lookup in memory, no hash. */
	struct tl_login_who who;
	bool by_session = e == 1 && whole && !c->l->is_unix &&
			  tl_api_session_in_head(g->api, buf, hlen ? hlen : n, &who);
	if (e == 1 && c->l->need_token && !by_session) {
		/* Only a client with the token may stop over TCP with a token set; libmicrohttpd
		 * answers the others 401. The token is in the head: a head cut short has none. */
		if (!whole) {
			if (ended)
				retire(g, c, true);
			return;
		}
		if (!token_ok(g->api, buf, hlen ? hlen : n))
			e = 0;
	}
	if (e == 1 && (whole || ended)) {
		stop(g, c, buf, n, hlen, by_session ? who.user : NULL);
		return;
	}
	if (e == 0 && whole) {
		pass(g, c);
		return;
	}
	if (ended)
		retire(g, c, true); /* half a request, and the client stopped sending */
}

/* A head not complete in time is closed; but a stop whose request line came stops all the
 * same (without the token a listener needs, it cannot be told from anyone's). */
static void head_timeout(struct tl_gate *g, struct gconn *c)
{
	char buf[HEAD_MAX];
	ssize_t r = recv(c->fd, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT);
	if (r > 0 && !c->l->need_token && is_estop(buf, (size_t)r) == 1)
		stop(g, c, buf, (size_t)r, 0, NULL);
	else
		retire(g, c, true);
}

/* ---------- accepting ---------- */

static void add_conn(struct tl_gate *g, struct gconn *c)
{
	c->prev = g->tail;
	if (g->tail)
		g->tail->next = c;
	else
		g->head = c;
	g->tail = c;
}

/* The connection that has waited longest for its head goes, to make room; false if
 * there is none. */
static bool evict_oldest(struct tl_gate *g)
{
	for (struct gconn *c = g->head; c; c = c->next) {
		if (c->fd >= 0 && c->state == G_HEAD) {
			retire(g, c, true);
			return true;
		}
	}
	return false;
}

/* Accepts up to 64 connections a turn (the listener stays readable for the rest), and
 * reads each one's head at once if it is already there: a flood of new connections must
 * not push out a stop that came just before it. */
static void accept_all(struct tl_gate *g, struct listener *l)
{
	for (int k = 0; k < 64; k++) {
		struct gconn *c = calloc(1, sizeof *c);
		if (!c)
			return; /* the listener stays readable: tried again on the next wake-up */
		c->alen = sizeof c->addr;
		c->fd = accept4(l->fd, (struct sockaddr *)&c->addr, &c->alen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (c->fd < 0) {
			int e = errno;
			free(c);
			/* Out of descriptors: the connection that has waited longest for its head
			 * makes room, as when the gate is full. */
			if ((e == EMFILE || e == ENFILE) && evict_oldest(g))
				continue;
			if (e != EAGAIN && e != EINTR && e != ECONNABORTED)
				syslog(LOG_WARNING, "api: accept: %s", strerror(e));
			return;
		}
		c->l = l;
		c->state = G_HEAD;
		c->deadline_ns = tl_mono_ns() + (int64_t)g->api->idle_timeout_s * 1000000000LL;
		tl_api_peer_of_fd(c->fd, c->peer, sizeof c->peer, c->key, sizeof c->key);
		add_conn(g, c);
		g->n_pending++;
		if (l->tls) {
			pass(g, c);
			continue;
		}
		if (g->n_pending > TL_API_PENDING_MAX)
			evict_oldest(g);
		struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.ptr = c};
		if (epoll_ctl(g->ep, EPOLL_CTL_ADD, c->fd, &ev))
			retire(g, c, true);
		else
			on_head(g, c, 0);
	}
}

/* ---------- the thread ---------- */

/* Closes what has waited too long; returns the ms until the next deadline (-1: none). */
static int expire(struct tl_gate *g)
{
	int64_t now = tl_mono_ns(), next = INT64_MAX;
	for (struct gconn *c = g->head; c; c = c->next) {
		if (c->fd < 0 || c->deadline_ns == INT64_MAX)
			continue;
		if (c->deadline_ns <= now) {
			if (c->state == G_HEAD)
				head_timeout(g, c);
			else
				retire(g, c, true);
			continue;
		}
		if (c->deadline_ns < next)
			next = c->deadline_ns;
	}
	if (next == INT64_MAX)
		return -1;
	return (int)((next - now) / 1000000 + 1);
}

static void *gate_main(void *arg)
{
	struct tl_gate *g = arg;
	struct tl_api *api = g->api;
	while (!atomic_load(&api->stopping)) {
		int timeout = expire(g);
		free_retired(g);
		struct epoll_event evs[64];
		int n = epoll_wait(g->ep, evs, 64, timeout);
		for (int i = 0; i < n; i++) {
			uint64_t tag = evs[i].data.u64;
			if (tag == TAG_UNIX)
				accept_all(g, &api->unix_l);
			else if (tag == TAG_TCP)
				accept_all(g, &api->tcp_l);
			else if (tag == TAG_WAKE)
				answer_stops(g);
			else {
				struct gconn *c = evs[i].data.ptr;
				if (c->fd < 0)
					continue;
				if (c->state == G_HEAD)
					on_head(g, c, evs[i].events);
				else if (c->state == G_DRAIN)
					drain(g, c);
			}
		}
	}
	return NULL;
}

static int watch(struct tl_gate *g, int fd, uint64_t tag)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = tag};
	return epoll_ctl(g->ep, EPOLL_CTL_ADD, fd, &ev);
}

int tl_gate_start(struct tl_api *api, struct tl_err *err)
{
	struct tl_gate *g = calloc(1, sizeof *g);
	if (!g) {
		tl_err_set(err, "out of memory");
		return -1;
	}
	g->api = api;
	g->ep = epoll_create1(EPOLL_CLOEXEC);
	g->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (g->ep < 0 || g->wake < 0 || watch(g, g->wake, TAG_WAKE) ||
	    (api->have_unix && watch(g, api->unix_l.fd, TAG_UNIX)) ||
	    (api->have_tcp && watch(g, api->tcp_l.fd, TAG_TCP)) ||
	    pthread_create(&g->th, NULL, gate_main, g)) {
		tl_err_set(err, "cannot start the API's gate: %s", strerror(errno));
		if (g->ep >= 0)
			close(g->ep);
		if (g->wake >= 0)
			close(g->wake);
		free(g);
		return -1;
	}
	api->gate = g;
	return 0;
}

void tl_gate_stop(struct tl_api *api)
{
	struct tl_gate *g = api->gate;
	if (!g)
		return;
	uint64_t one = 1;
	if (write(g->wake, &one, sizeof one) != (ssize_t)sizeof one)
		syslog(LOG_ERR, "api: waking the gate: %m");
	pthread_join(g->th, NULL);
	for (struct gconn *c = g->head, *next; c; c = next) {
		next = c->next;
		if (c->reply) {
			/* The control thread answers every command it was given, even at its end. */
			tl_reply_wait(c->reply);
			tl_reply_destroy(c->reply);
			free(c->reply);
		}
		if (c->fd >= 0)
			close(c->fd);
		free(c);
	}
	close(g->ep);
	close(g->wake);
	free(g);
	api->gate = NULL;
}
