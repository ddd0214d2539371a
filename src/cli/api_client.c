#include "api_client.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define DEFAULT_SOCKET "/run/treadlab/api.sock"

static void take(int *argc, char **argv, const char *flag, char *dst, size_t cap)
{
	for (int i = 0; i < *argc; i++) {
		if (strcmp(argv[i], flag) || i + 1 >= *argc)
			continue;
		snprintf(dst, cap, "%s", argv[i + 1]);
		memmove(&argv[i], &argv[i + 2], sizeof *argv * (size_t)(*argc - i - 2));
		*argc -= 2;
		return;
	}
}

static int read_token(const char *path, char *out, size_t cap)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return cli_fail("token file %s: %s", path, strerror(errno));
	bool ok = fgets(out, (int)cap, f) != NULL;
	fclose(f);
	out[strcspn(out, "\r\n")] = '\0';
	if (!ok || !out[0])
		return cli_fail("token file %s is empty", path);
	return 0;
}

int tl_client_init(struct tl_client *c, int *argc, char **argv)
{
	memset(c, 0, sizeof *c);
	char token_file[256] = "";
	take(argc, argv, "--socket", c->socket, sizeof c->socket);
	take(argc, argv, "--url", c->url, sizeof c->url);
	take(argc, argv, "--cacert", c->cacert, sizeof c->cacert);
	take(argc, argv, "--token-file", token_file, sizeof token_file);
	const char *env;
	if (!c->socket[0] && !c->url[0] && (env = getenv("TREADLAB_SOCKET")) && *env)
		snprintf(c->socket, sizeof c->socket, "%s", env);
	if (!c->socket[0] && !c->url[0] && (env = getenv("TREADLAB_URL")) && *env)
		snprintf(c->url, sizeof c->url, "%s", env);
	if (!c->socket[0] && !c->url[0])
		snprintf(c->socket, sizeof c->socket, "%s", DEFAULT_SOCKET);
	if (!c->cacert[0] && (env = getenv("TREADLAB_CACERT")) && *env)
		snprintf(c->cacert, sizeof c->cacert, "%s", env);
	if (!token_file[0] && (env = getenv("TREADLAB_TOKEN_FILE")) && *env)
		snprintf(token_file, sizeof token_file, "%s", env);
	if (token_file[0] && read_token(token_file, c->token, sizeof c->token))
		return -1;
	return 0;
}

struct buf {
	char *p;
	size_t n;
};

static size_t collect(char *data, size_t size, size_t nmemb, void *arg)
{
	struct buf *b = arg;
	size_t add = size * nmemb;
	char *p = realloc(b->p, b->n + add + 1);
	if (!p)
		return 0;
	memcpy(p + b->n, data, add);
	b->p = p;
	b->n += add;
	b->p[b->n] = '\0';
	return add;
}

static CURL *setup(const struct tl_client *c, const char *path, char *url, size_t cap)
{
	CURL *h = curl_easy_init();
	if (!h)
		return NULL;
	if (c->socket[0]) {
		curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, c->socket);
		snprintf(url, cap, "http://treadlabd%s", path);
	} else {
		snprintf(url, cap, "%s%s", c->url, path);
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (c->cacert[0])
		curl_easy_setopt(h, CURLOPT_CAINFO, c->cacert);
	if (c->token[0] && !c->socket[0]) {
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BEARER);
		curl_easy_setopt(h, CURLOPT_XOAUTH2_BEARER, c->token);
	}
	return h;
}

static const char *where(const struct tl_client *c)
{
	return c->socket[0] ? c->socket : c->url;
}

json_t *tl_client_call(const struct tl_client *c, const char *method, const char *path, json_t *body)
{
	char url[512];
	CURL *h = setup(c, path, url, sizeof url);
	if (!h) {
		cli_fail("cannot initialise libcurl");
		return NULL;
	}
	struct buf b = {0};
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	if (text || strcmp(method, "GET")) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, text ? text : "");
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	}
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	CURLcode rc = curl_easy_perform(h);
	long status = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(h);
	curl_slist_free_all(hdr);
	free(text);
	json_t *j = NULL;
	if (rc != CURLE_OK) {
		cli_fail("cannot reach treadlabd at %s: %s (is it running? --socket or "
			 "TREADLAB_SOCKET picks the daemon)", where(c), curl_easy_strerror(rc));
	} else {
		json_error_t e;
		j = b.p ? json_loads(b.p, 0, &e) : NULL;
		if (status < 200 || status > 299) {
			const char *msg = json_string_value(json_object_get(j, "error"));
			cli_fail("%s (HTTP %ld)", msg ? msg : (b.p ? b.p : "no answer"), status);
			json_decref(j);
			j = NULL;
		} else if (!j) {
			cli_fail("treadlabd sent an answer that is not JSON: %s", e.text);
		}
	}
	free(b.p);
	return j;
}

struct stream {
	struct buf line;
	char kind[32];
	bool (*fn)(const char *, json_t *, void *);
	void *arg;
	bool stop;
};

static size_t on_sse(char *data, size_t size, size_t nmemb, void *arg)
{
	struct stream *s = arg;
	size_t n = size * nmemb;
	for (size_t i = 0; i < n; i++) {
		if (data[i] != '\n') {
			collect(&data[i], 1, 1, &s->line);
			continue;
		}
		const char *l = s->line.p ? s->line.p : "";
		if (!strncmp(l, "event: ", 7)) {
			snprintf(s->kind, sizeof s->kind, "%s", l + 7);
		} else if (!strncmp(l, "data: ", 6)) {
			json_t *j = json_loads(l + 6, 0, NULL);
			if (j && !s->fn(s->kind, j, s->arg))
				s->stop = true;
			json_decref(j);
		}
		free(s->line.p);
		s->line.p = NULL;
		s->line.n = 0;
		if (s->stop)
			return 0; /* ends the transfer */
	}
	return n;
}

int tl_client_stream(const struct tl_client *c, const char *path,
		     bool (*fn)(const char *kind, json_t *data, void *arg), void *arg)
{
	char url[512];
	CURL *h = setup(c, path, url, sizeof url);
	if (!h)
		return cli_fail("cannot initialise libcurl");
	struct stream s = {.fn = fn, .arg = arg};
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_sse);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
	CURLcode rc = curl_easy_perform(h);
	curl_easy_cleanup(h);
	free(s.line.p);
	if (rc != CURLE_OK && !s.stop)
		return cli_fail("stream from treadlabd at %s: %s", where(c), curl_easy_strerror(rc));
	return 0;
}

int tl_client_get_bytes(const struct tl_client *c, const char *path, char **out, size_t *len)
{
	char url[512];
	*out = NULL;
	*len = 0;
	CURL *h = setup(c, path, url, sizeof url);
	if (!h)
		return cli_fail("cannot initialise libcurl");
	struct buf b = {0};
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	CURLcode rc = curl_easy_perform(h);
	long status = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(h);
	if (rc != CURLE_OK) {
		free(b.p);
		return cli_fail("cannot reach treadlabd at %s: %s (is it running? --socket or "
				"TREADLAB_SOCKET picks the daemon)", where(c), curl_easy_strerror(rc));
	}
	if (status < 200 || status > 299) {
		json_t *j = b.p ? json_loads(b.p, 0, NULL) : NULL;
		const char *msg = json_string_value(json_object_get(j, "error"));
		cli_fail("%s (HTTP %ld)", msg ? msg : "no answer", status);
		json_decref(j);
		free(b.p);
		return 1;
	}
	*out = b.p;
	*len = b.n;
	return 0;
}
