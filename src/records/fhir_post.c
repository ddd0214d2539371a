/* fhir_post.c - one attempt at delivering a Bundle to a FHIR server (fhir.h): an HTTP
 * POST of the transaction to the server's base URL (FHIR R4 RESTful API, "transaction":
 * POST [base]). The one part of the FHIR path that does I/O. */
#include "fhir.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol_files.h"

/* The answer is read for its OperationOutcome or its first location: a server that
 * sends more is not kept past this. */
#define RESPONSE_MAX (256 * 1024)

struct response {
	char *p;
	size_t n;
	bool truncated;
	char status[128]; /* the last status line ("HTTP/1.1 400 Bad Request") */
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct response *r = arg;
	size_t len = size * nmemb, room = RESPONSE_MAX - r->n;
	size_t take = len < room ? len : room;
	if (take) {
		char *p = realloc(r->p, r->n + take + 1);
		if (!p)
			return 0; /* curl ends the transfer: a write error */
		memcpy(p + r->n, data, take);
		r->p = p;
		r->n += take;
		r->p[r->n] = 0;
	}
	if (take < len)
		r->truncated = true;
	return len;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct response *r = arg;
	size_t len = size * nmemb;
	if (len > 5 && !memcmp(data, "HTTP/", 5)) {
		size_t k = len < sizeof r->status - 1 ? len : sizeof r->status - 1;
		memcpy(r->status, data, k);
		while (k && (r->status[k - 1] == '\r' || r->status[k - 1] == '\n'))
			k--;
		r->status[k] = 0;
	}
	return len;
}

/* "error: text; warning: text" from an OperationOutcome's issues; false if body is none. */
static bool outcome_text(const char *body, size_t n, char *out, size_t cap)
{
	json_t *j = body ? json_loadb(body, n, 0, NULL) : NULL;
	const char *type = json_string_value(json_object_get(j, "resourceType"));
	if (!type || strcmp(type, "OperationOutcome")) {
		json_decref(j);
		return false;
	}
	size_t i, k = 0;
	json_t *issue;
	out[0] = 0;
	json_array_foreach(json_object_get(j, "issue"), i, issue) {
		const char *sev = json_string_value(json_object_get(issue, "severity"));
		const char *text = json_string_value(
			json_object_get(json_object_get(issue, "details"), "text"));
		if (!text)
			text = json_string_value(json_object_get(issue, "diagnostics"));
		if (!text)
			text = json_string_value(json_object_get(issue, "code"));
		int m = snprintf(out + k, k < cap ? cap - k : 0, "%s%s: %s", k ? "; " : "",
				 sev ? sev : "issue", text ? text : "(no text)");
		if (m > 0)
			k += (size_t)m;
	}
	json_decref(j);
	return k > 0;
}

/* The first entry's response.location of a transaction-response Bundle. */
static bool first_location(const char *body, size_t n, char *out, size_t cap)
{
	json_t *j = body ? json_loadb(body, n, 0, NULL) : NULL;
	const char *loc = json_string_value(json_object_get(
		json_object_get(json_array_get(json_object_get(j, "entry"), 0), "response"),
		"location"));
	if (loc)
		snprintf(out, cap, "%s", loc);
	json_decref(j);
	return loc != NULL;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

enum tl_send_result tl_fhir_post(const struct tl_fhir_conf *conf, const char *token,
				 const char *body, size_t len, char *detail, size_t cap)
{
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK) {
		snprintf(detail, cap, "HTTP client: %s", curl_easy_strerror(curl_init_rc));
		return TL_SEND_RETRY;
	}
	char auth[1100] = "";
	if (token) {
		size_t n = strlen(token);
		while (n && strchr(" \t\r\n", token[n - 1]))
			n--; /* a token file's final newline */
		if (!n || memchr(token, '\r', n) || memchr(token, '\n', n) ||
		    n + sizeof "Authorization: Bearer " > sizeof auth) {
			snprintf(detail, cap, "the bearer token is empty, has a line break or is "
					      "longer than 1024 bytes");
			return TL_SEND_REJECTED;
		}
		snprintf(auth, sizeof auth, "Authorization: Bearer %.*s", (int)n, token);
	}
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL, *t;
	static const char *const fixed[] = {"Content-Type: application/fhir+json",
					    "Accept: application/fhir+json",
					    "Expect:", /* no 100-continue wait before a large body */
					    NULL};
	bool ok = c != NULL;
	for (size_t i = 0; ok && fixed[i]; i++) {
		ok = (t = curl_slist_append(h, fixed[i])) != NULL;
		h = ok ? t : h;
	}
	if (ok && auth[0]) {
		ok = (t = curl_slist_append(h, auth)) != NULL;
		h = ok ? t : h;
	}
	explicit_bzero(auth, sizeof auth);
	if (!ok) {
		curl_slist_free_all(h);
		curl_easy_cleanup(c);
		snprintf(detail, cap, "HTTP client: out of memory");
		return TL_SEND_RETRY;
	}
	struct response r = {0};
	char errbuf[CURL_ERROR_SIZE] = "";
	long timeout = conf->d.timeout_ms > 0 ? conf->d.timeout_ms : 1;
	/* Every option is checked: an option this libcurl lacks must not go unnoticed
	 * (TLS verification above all). */
	CURLcode rc = CURLE_OK;
#define OPT(o, v) (rc == CURLE_OK ? (rc = curl_easy_setopt(c, o, v)) : rc)
	OPT(CURLOPT_ERRORBUFFER, errbuf);
	OPT(CURLOPT_URL, conf->url);
	OPT(CURLOPT_PROTOCOLS_STR, "http,https");
	OPT(CURLOPT_FOLLOWLOCATION, 0L);
	OPT(CURLOPT_NOSIGNAL, 1L); /* called from the daemon's threads */
	OPT(CURLOPT_TIMEOUT_MS, timeout);
	OPT(CURLOPT_CONNECTTIMEOUT_MS, timeout);
	OPT(CURLOPT_SSL_VERIFYPEER, 1L);
	OPT(CURLOPT_SSL_VERIFYHOST, 2L);
	if (conf->ca_file[0])
		OPT(CURLOPT_CAINFO, conf->ca_file);
	OPT(CURLOPT_HTTPHEADER, h);
	OPT(CURLOPT_POST, 1L);
	OPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len); /* body need not end in NUL */
	OPT(CURLOPT_POSTFIELDS, body);
	OPT(CURLOPT_WRITEFUNCTION, on_body);
	OPT(CURLOPT_WRITEDATA, &r);
	OPT(CURLOPT_HEADERFUNCTION, on_header);
	OPT(CURLOPT_HEADERDATA, &r);
#undef OPT
	enum tl_send_result result;
	if (rc != CURLE_OK) {
		snprintf(detail, cap, "HTTP client: %s", curl_easy_strerror(rc));
		result = TL_SEND_REJECTED;
		goto out;
	}
	rc = curl_easy_perform(c);
	long status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (rc != CURLE_OK) {
		if (rc == CURLE_OPERATION_TIMEDOUT)
			snprintf(detail, cap, "no answer from %s within %ld ms", conf->url, timeout);
		else
			snprintf(detail, cap, "%s: %s", conf->url,
				 errbuf[0] ? errbuf : curl_easy_strerror(rc));
		/* a URL this client cannot use is the configuration's fault: sending again
		 * unchanged cannot work */
		result = rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_URL_MALFORMAT
				 ? TL_SEND_REJECTED
				 : TL_SEND_RETRY;
		goto out;
	}
	char text[1024];
	const char *line = r.status[0] ? r.status : "HTTP status";
	if (status >= 200 && status < 300) {
		if (!first_location(r.p, r.n, detail, cap))
			snprintf(detail, cap, "%s", line);
		result = TL_SEND_DELIVERED;
		goto out;
	}
	if (outcome_text(r.p, r.n, text, sizeof text))
		snprintf(detail, cap, "%ld: %s", status, text);
	else
		snprintf(detail, cap, "%s", line);
	/* 4xx: this Bundle is refused as it is, except 408 and 429, which ask to come back
	 * later; 3xx: no redirect is followed, the configured url must be the server's */
	if (status >= 500 || status == 408 || status == 429)
		result = TL_SEND_RETRY;
	else
		result = TL_SEND_REJECTED;
out:
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	free(r.p);
	return result;
}

int tl_fhir_token_load(const char *path, char *out, size_t cap, struct tl_err *err)
{
	size_t len;
	char *text = tl_read_file(path, &len, err);
	if (!text)
		return -1;
	while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	bool ok = len && len < cap;
	for (size_t i = 0; ok && i < len; i++)
		ok = (unsigned char)text[i] > ' ' && text[i] != 0x7f;
	if (ok) {
		memcpy(out, text, len);
		out[len] = 0;
	} else {
		tl_err_set(err, "[fhir] token_file %s: the token must be one line of 1 to %zu "
				"characters without spaces or control characters", path, cap - 1);
	}
	explicit_bzero(text, len);
	free(text);
	return ok ? 0 : -1;
}
