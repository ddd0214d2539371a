/* api_listen.c - the API's listeners (Unix socket, TCP, TLS), who may ask (token, Host,
 * Origin, Content-Type), a request's life in libmicrohttpd (head, body, answer, end),
 * and tl_api_start/stop. */
#include "api.h"
#include "api_int.h"
#include "api_pool.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "protocol_files.h"

/* Whether the request carries the token, where the listener asks for one. */
static bool authorised(const struct listener *l, struct MHD_Connection *c)
{
	if (!l->need_token)
		return true;
	return tl_api_token_ok(l->api, MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization"));
}

/* ---------- who may ask: Host, Origin, Content-Type ----------
 *
 * A web page on any site can make a browser send requests to a loopback listener: a
 * "simple" POST (text/plain, no preflight), or any request once its own host name
 * resolves to 127.0.0.1 (DNS rebinding). So every request must name this daemon in Host,
 * an Origin header (sent by browsers) must be this daemon's own, and a request that
 * changes anything must say Content-Type: application/json, which a page can send to
 * another site only after a CORS preflight this API never grants. The emergency stop is
 * exempt from all three: it can only stop the belt, and a stop refused over a header
 * would be the wrong way to fail. */

/* Whether host is one of the comma- or space-separated names of list (no case). */
static bool in_list(const char *list, const char *host)
{
	size_t n = strlen(host);
	for (const char *p = list; *p;) {
		p += strspn(p, ", ");
		size_t k = strcspn(p, ", ");
		if (k && k == n && !strncasecmp(p, host, n))
			return true;
		p += k;
	}
	return false;
}

/* The Host values this listener answers to: [api] allowed_hosts; on the socket,
 * treadlabd (what the command line sends), localhost, 127.0.0.1 and [::1]; on TCP, those
 * loopback names with the listener's port, the address bound, and the address the
 * connection came in on (a listener on 0.0.0.0 answers to each of its addresses). */
static bool host_allowed(const struct listener *l, struct MHD_Connection *c, const char *host)
{
	static const char *const loopback[] = {"localhost", "127.0.0.1", "[::1]"};
	const struct tl_api *api = l->api;
	if (in_list(api->d->cfg.allowed_hosts, host))
		return true;
	if (l->is_unix) {
		if (!strcasecmp(host, "treadlabd"))
			return true;
		for (size_t i = 0; i < sizeof loopback / sizeof loopback[0]; i++)
			if (!strcasecmp(host, loopback[i]))
				return true;
		return false;
	}
	const char *port = strrchr(api->bound, ':');
	char want[96];
	for (size_t i = 0; port && i < sizeof loopback / sizeof loopback[0]; i++) {
		snprintf(want, sizeof want, "%s%s", loopback[i], port);
		if (!strcasecmp(host, want))
			return true;
	}
	if (!strcmp(host, api->bound))
		return true;
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct sockaddr_in sa;
	socklen_t sl = sizeof sa;
	char ip[INET_ADDRSTRLEN];
	if (!ci || getsockname(ci->connect_fd, (struct sockaddr *)&sa, &sl) || sa.sin_family != AF_INET ||
	    !inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof ip))
		return false;
	snprintf(want, sizeof want, "%s:%u", ip, ntohs(sa.sin_port));
	return !strcmp(host, want);
}

/* An Origin is this daemon's own: http(s)://HOST with an allowed HOST and nothing after. */
static bool origin_allowed(const struct listener *l, struct MHD_Connection *c, const char *origin)
{
	const char *h = !strncasecmp(origin, "http://", 7)    ? origin + 7
			: !strncasecmp(origin, "https://", 8) ? origin + 8
							      : NULL;
	return h && *h && !strchr(h, '/') && host_allowed(l, c, h);
}

static bool is_json_type(const char *ct)
{
	static const char json[] = "application/json";
	if (!ct || strncasecmp(ct, json, sizeof json - 1))
		return false;
	ct += sizeof json - 1;
	ct += strspn(ct, " \t");
	return *ct == '\0' || *ct == ';';
}

/* Refuses what is not for this daemon (see above); false once it answered. */
static bool request_allowed(const struct listener *l, struct MHD_Connection *c, const char *method,
			    enum MHD_Result *ret)
{
	const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
	const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
	const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
	if (host && !host_allowed(l, c, host)) {
		*ret = tl_api_send_error(c, 403, "unknown Host '%.80s': this daemon answers to its own address "
					 "and localhost (more in [api] allowed_hosts)", host);
		return false;
	}
	if (origin && !origin_allowed(l, c, origin)) {
		*ret = tl_api_send_error(c, 403, "requests from another site are refused (Origin '%.80s')", origin);
		return false;
	}
	bool mutating = strcmp(method, "GET") && strcmp(method, "HEAD");
	if (mutating && !is_json_type(ct)) {
		*ret = tl_api_send_error(c, 415, "%s needs Content-Type: application/json (got %s%.60s%s)", method,
					 ct ? "'" : "", ct ? ct : "none", ct ? "'" : "");
		return false;
	}
	return true;
}

static enum MHD_Result send_unauthorised(struct MHD_Connection *c)
{
	static const char body[] = "{\"error\": \"a valid bearer token is required\"}\n";
	struct MHD_Response *r = MHD_create_response_from_buffer(sizeof body - 1, (void *)body,
								 MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO; /* no memory even for a static answer: the connection closes */
	enum MHD_Result ret = MHD_NO;
	if (tl_api_headers(r, "application/json") &&
	    MHD_add_response_header(r, "WWW-Authenticate", "Bearer") == MHD_YES)
		ret = MHD_queue_response(c, 401, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result count_length(void *cls, enum MHD_ValueKind kind, const char *key,
				   const char *value)
{
	(void)kind, (void)value;
	if (!strcasecmp(key, "Content-Length"))
		++*(int *)cls;
	return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	(void)version;
	const struct listener *l = cls;
	struct tl_api *api = l->api;
	struct tl_api_request *rq = *con_cls;
	if (!rq) {
		/* Each connection has its own thread, and carries one request (api_gate.c). Under
		 * load these threads (event streams above all) must not crowd out the gate and
		 * the control thread, which carry the emergency stop: they yield to them. */
		setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), TL_API_CONN_NICE);
		rq = calloc(1, sizeof *rq);
		if (!rq) {
			/* No memory to follow the request: an e-stop is carried out and answered
			 * now, its body unused; anything else is answered 500. (With an answer
			 * queued, libmicrohttpd calls no more for this request.) */
			if (!strcmp(method, "POST") && !strcmp(url, "/v1/estop") && authorised(l, c)) {
				struct tl_api_request now = {.l = l, .estop = true, .no_memory = true};
				tl_api_estop_now(api, c, &now);
				return tl_api_cmd_estop(api, c, &now);
			}
			return tl_api_send_oom(c);
		}
		rq->l = l;
		/* A login session's cookie stands in for the token, and logging in needs
		 * neither (api_session.c). */
		tl_api_session_of(api, c, rq);
		bool allowed = rq->has_session || authorised(l, c) || !strcmp(url, "/v1/session") ||
			       tl_api_static_path(url); /* the page itself holds no secret */
		rq->estop = !strcmp(method, "POST") && !strcmp(url, "/v1/estop") && allowed;
		*con_cls = rq;
		if (rq->estop)
			return MHD_YES;
		if (!allowed && !rq->stale_session) {
			/* Before anything else: without the token, nothing is said about the rest. */
			rq->refused = true;
			return send_unauthorised(c);
		}
		int n_length = 0;
		MHD_get_connection_values(c, MHD_HEADER_KIND, count_length, &n_length);
		if (n_length > 1) {
			/* Which one is the body's length? Two readers may disagree (request smuggling). */
			rq->refused = true;
			return tl_api_send_error(c, 400, "Content-Length given %d times: send it once", n_length);
		}
		enum MHD_Result ret;
		/* The page loads whatever its cookie: it is how a stale session logs in again. */
		if (!request_allowed(l, c, method, &ret) ||
		    (!tl_api_static_path(url) && !tl_api_session_allowed(c, rq, url, method, &ret))) {
			rq->refused = true;
			return ret;
		}
		return MHD_YES;
	}
	if (rq->refused) {
		*upload_size = 0; /* answered already */
		return MHD_YES;
	}
	if (*upload_size) {
		char *b = NULL;
		if (rq->too_big || rq->no_memory) {
			/* the rest is read and dropped before the answer */
		} else if (rq->len + *upload_size > TL_API_BODY_MAX) {
			rq->too_big = true;
		} else if (!(b = realloc(rq->body, rq->len + *upload_size + 1))) {
			rq->no_memory = true;
		} else {
			memcpy(b + rq->len, upload, *upload_size);
			rq->body = b;
			rq->len += *upload_size;
			rq->body[rq->len] = '\0';
		}
		if ((rq->too_big || rq->no_memory) && rq->estop && !rq->stopped)
			tl_api_estop_now(api, c, rq);
		*upload_size = 0;
		return MHD_YES;
	}
	if (rq->estop)
		return tl_api_cmd_estop(api, c, rq);
	if (rq->too_big)
		return tl_api_send_error(c, 413, "request body larger than %d bytes", TL_API_BODY_MAX);
	if (rq->no_memory)
		return tl_api_send_error(c, 500, "out of memory reading the request body");
	return tl_api_route(api, c, url, method, rq);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)toe;
	struct tl_api *api = cls;
	struct tl_api_request *rq = *con_cls;
	if (rq && rq->estop && !rq->stopped) {
		/* An e-stop whose body never came in whole (timed out, the client went): the
		 * belt stops all the same; there is no one to answer. */
		rq->too_big = true; /* the body is not used */
		tl_api_estop_now(api, c, rq);
	}
	if (rq) {
		free(rq->body);
		free(rq);
		*con_cls = NULL;
	}
}

/* libmicrohttpd serves what the gate (api_gate.c) passes it: it accepts nothing itself.
 * A thread per connection, because commands and event streams wait (for the control
 * thread, the store, the next status); a connection idle for idle_timeout_s (a client
 * that stalls in its body or stops reading) is closed. */
static struct MHD_Daemon *start_mhd(struct tl_api *api, struct listener *l, bool tls)
{
	/* No MHD error log: a client that closes a live stream is routine, not an error. */
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
			 MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC;
	/* Room above the gate's own limit: the gate counts first and answers 503 itself. */
	unsigned limit = TL_API_CONN_MAX + 8;
	if (tls)
		return MHD_start_daemon(flags | MHD_USE_TLS, 0, NULL, NULL, on_request, l,
					MHD_OPTION_HTTPS_MEM_CERT, api->cert_pem,
					MHD_OPTION_HTTPS_MEM_KEY, api->key_pem,
					MHD_OPTION_NOTIFY_COMPLETED, on_completed, api,
					MHD_OPTION_NOTIFY_CONNECTION, tl_gate_notify, l,
					MHD_OPTION_CONNECTION_TIMEOUT, api->idle_timeout_s,
					MHD_OPTION_CONNECTION_LIMIT, limit,
					MHD_OPTION_UNESCAPE_CALLBACK, tl_api_unescape, NULL, MHD_OPTION_END);
	return MHD_start_daemon(flags, 0, NULL, NULL, on_request, l,
				MHD_OPTION_NOTIFY_COMPLETED, on_completed, api,
				MHD_OPTION_NOTIFY_CONNECTION, tl_gate_notify, l,
				MHD_OPTION_CONNECTION_TIMEOUT, api->idle_timeout_s,
				MHD_OPTION_CONNECTION_LIMIT, limit,
				MHD_OPTION_UNESCAPE_CALLBACK, tl_api_unescape, NULL, MHD_OPTION_END);
}

/* Reads the bearer token: one line, at least 16 characters, no spaces. */
static int load_token(const char *path, char *out, size_t cap, struct tl_err *err)
{
	size_t len;
	char *text = tl_read_file(path, &len, err);
	if (!text)
		return -1;
	while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		text[--len] = '\0';
	int rc = 0;
	if (len < 16 || len >= cap || strpbrk(text, " \t\n\r")) {
		tl_err_set(err, "%s: the token must be one line of 16 to %zu characters without spaces",
			   path, cap - 1);
		rc = -1;
	} else {
		memcpy(out, text, len + 1);
	}
	memset(text, 0, len);
	free(text);
	return rc;
}

static int unix_listener(const char *path, struct tl_err *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof sa.sun_path) {
		tl_err_set(err, "api socket path '%s' is too long", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	struct stat sb;
	if (lstat(path, &sb) == 0) {
		if (!S_ISSOCK(sb.st_mode)) {
			tl_err_set(err, "api socket path '%s' exists and is not a socket", path);
			return -1;
		}
		/* A socket nobody answers on is a leftover of a dead daemon. */
		int probe = socket(AF_UNIX, SOCK_STREAM, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0) {
			close(probe);
			tl_err_set(err, "api socket '%s' is in use: is another treadlabd running?", path);
			return -1;
		}
		if (probe >= 0)
			close(probe);
		unlink(path);
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) || chmod(path, 0660) ||
	    listen(fd, 512)) {
		tl_err_set(err, "api socket '%s': %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int tcp_listener(const char *listen_addr, char *bound, size_t cap, struct tl_err *err)
{
	char host[64];
	int port;
	bool lo;
	if (tl_listen_parse(listen_addr, host, sizeof host, &port, &lo)) {
		tl_err_set(err, "api listen '%s' is not ADDR:PORT", listen_addr);
		return -1;
	}
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (!strcmp(host, "localhost"))
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		tl_err_set(err, "api listen '%s': bad address", listen_addr);
		return -1;
	}
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int one = 1;
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) || listen(fd, 512)) {
		tl_err_set(err, "api listen '%s': %s", listen_addr, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	socklen_t sl = sizeof sa;
	getsockname(fd, (struct sockaddr *)&sa, &sl);
	char ip[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof ip);
	snprintf(bound, cap, "%s:%u", ip, ntohs(sa.sin_port));
	return fd;
}

const char *tl_api_bound(const struct tl_api *api)
{
	return api->bound[0] ? api->bound : "-";
}

/* The gate holds up to TL_API_PENDING_MAX connections besides libmicrohttpd's: the soft
 * limit on descriptors goes up to what that needs, as far as the hard limit allows. If
 * it cannot, the gate makes room by closing the slowest waiting head. */
static void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= TL_API_NOFILE)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > TL_API_NOFILE ? TL_API_NOFILE
										  : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		syslog(LOG_WARNING, "api: raising the limit on open files: %m");
}

struct tl_api *tl_api_start(struct tl_daemon *d, struct tl_err *err)
{
	struct tl_api *api = calloc(1, sizeof *api);
	if (!api) {
		tl_err_set(err, "out of memory");
		return NULL;
	}
	api->d = d;
	api->pool = malloc(sizeof *api->pool);
	if (!api->pool || tl_api_pool_init(api->pool, d->cfg.database, TL_API_POOL_SIZE, err)) {
		if (!api->pool)
			tl_err_set(err, "out of memory");
		free(api->pool);
		free(api);
		return NULL;
	}
	api->idle_timeout_s = TL_API_IDLE_TIMEOUT_S;
	raise_nofile();
	api->unix_l.fd = api->tcp_l.fd = -1;
	pthread_mutex_init(&api->gate_mu, NULL);
	if (d->cfg.socket[0]) {
		struct listener *l = &api->unix_l;
		*l = (struct listener){.api = api, .is_unix = true};
		l->fd = unix_listener(d->cfg.socket, err);
		if (l->fd < 0)
			goto fail;
		snprintf(api->socket_path, sizeof api->socket_path, "%s", d->cfg.socket);
		api->have_unix = true;
		l->mhd = start_mhd(api, l, false);
		if (!l->mhd) {
			tl_err_set(err, "cannot start the HTTP server on '%s'", d->cfg.socket);
			goto fail;
		}
	}
	if (d->cfg.listen[0]) {
		const struct tl_config *cfg = &d->cfg;
		size_t len;
		bool tls = cfg->tls_cert[0];
		if (tls && (!(api->cert_pem = tl_read_file(cfg->tls_cert, &len, err)) ||
			    !(api->key_pem = tl_read_file(cfg->tls_key, &len, err))))
			goto fail;
		if (cfg->token_file[0] && load_token(cfg->token_file, api->token, sizeof api->token, err))
			goto fail;
		struct listener *l = &api->tcp_l;
		*l = (struct listener){.api = api, .tls = tls, .need_token = cfg->token_file[0] != '\0'};
		l->fd = tcp_listener(cfg->listen, api->bound, sizeof api->bound, err);
		if (l->fd < 0)
			goto fail;
		api->have_tcp = true;
		l->mhd = start_mhd(api, l, tls);
		if (!l->mhd) {
			tl_err_set(err, "cannot start the HTTP%s server on '%s'%s", tls ? "S" : "",
				   d->cfg.listen, tls ? " (is the certificate or key malformed?)" : "");
			goto fail;
		}
	}
	if (tl_api_sessions_start(api, err) || tl_gate_start(api, err))
		goto fail;
	return api;
fail:
	tl_api_stop(api);
	return NULL;
}

void tl_api_stop(struct tl_api *api)
{
	if (!api)
		return;
	atomic_store(&api->stopping, 1);
	/* The gate first: nothing new reaches libmicrohttpd after it. */
	tl_gate_stop(api);
	pthread_mutex_lock(&api->d->st_mu);
	pthread_cond_broadcast(&api->d->st_cv);
	pthread_mutex_unlock(&api->d->st_mu);
	struct listener *ls[2] = {&api->unix_l, &api->tcp_l};
	for (int i = 0; i < 2; i++) {
		if (ls[i]->mhd)
			MHD_stop_daemon(ls[i]->mhd);
		if (ls[i]->fd >= 0)
			close(ls[i]->fd);
	}
	if (api->socket_path[0])
		unlink(api->socket_path);
	/* No request thread is left to hold a connection. */
	tl_api_pool_destroy(api->pool);
	free(api->pool);
	free(api->cert_pem);
	free(api->key_pem);
	memset(api->token, 0, sizeof api->token);
	tl_api_sessions_stop(api);
	pthread_mutex_destroy(&api->gate_mu);
	free(api);
}
