/* api_static.c - the technician's page: the files under [api] web_root, served at "/"
 * (index.html) and "/web/NAME". Only regular files inside the root, named by a plain
 * relative path, are served; everything else is 404. Every answer carries the headers
 * that keep the page to itself (CSP, nosniff, no referrer, no framing): docs/security.md. */
#include "api_int.h"
#include "protocol_files.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATIC_FILE_MAX (4 * 1024 * 1024)

/* The page's policy: its own scripts, styles and requests only; no inline script or
 * style, no framing by another site (clickjacking the e-stop), no foreign form target.
 * (W3C Content Security Policy Level 3.) */
static const char csp[] = "default-src 'self'; script-src 'self'; style-src 'self'; "
			  "connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
			  "base-uri 'none'; form-action 'self'";

static const struct {
	const char *ext, *type;
} types[] = {
	{".html", "text/html; charset=utf-8"},
	{".css", "text/css; charset=utf-8"},
	/* module scripts are refused by browsers under any other type (HTML, "JavaScript
	 * MIME type") */
	{".js", "text/javascript; charset=utf-8"},
	{".json", "application/json"},
	{".svg", "image/svg+xml"},
	{".png", "image/png"},
	{".ico", "image/x-icon"},
	{".txt", "text/plain; charset=utf-8"},
};

static pthread_once_t root_once = PTHREAD_ONCE_INIT;
static char installed_root[PATH_MAX];

/* <the daemon's bin directory>/../share/treadlab/web, if it is there (as the protocols:
 * src/common/protocol_files.c). */
static void find_installed(void)
{
	char dir[sizeof installed_root];
	if (tl_dir_beside_exe(TREADLAB_WEB_FROM_BIN, dir, sizeof dir))
		memcpy(installed_root, dir, strlen(dir) + 1);
}

static const char *web_root(const struct tl_api *api)
{
	if (api->d->cfg.web_root[0])
		return api->d->cfg.web_root;
	pthread_once(&root_once, find_installed);
	return installed_root[0] ? installed_root : TREADLAB_WEB_DIR;
}

static int hex(char ch)
{
	return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
		: ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
}

size_t tl_api_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls, (void)c;
	char *w = s;
	for (const char *r = s; *r; r++) {
		int hi, lo;
		if (r[0] == '%' && (hi = hex(r[1])) >= 0 && (lo = hex(r[2])) >= 0 && (hi || lo)) {
			*w++ = (char)(hi * 16 + lo);
			r += 2;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
	return (size_t)(w - s);
}

bool tl_api_static_path(const char *url)
{
	return !strcmp(url, "/") || !strncmp(url, "/web/", 5);
}

/* A plain relative name: components of A-Z a-z 0-9 . _ -, none empty, none starting
 * with a dot (so no "..", no hidden file). */
static bool plain_name(const char *s)
{
	if (!*s || strlen(s) >= 200)
		return false;
	for (const char *p = s; *p;) {
		size_t n = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-");
		if (n == 0 || p[0] == '.')
			return false;
		p += n;
		if (*p == '/')
			p++;
		else if (*p)
			return false;
		else
			break;
		if (!*p)
			return false; /* a trailing slash: a directory */
	}
	return true;
}

static const char *type_of(const char *name)
{
	const char *dot = strrchr(name, '.');
	for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
		if (!strcmp(dot, types[i].ext))
			return types[i].type;
	return "application/octet-stream";
}

/* False if out of memory: a file without its policy is not sent. */
static bool add_headers(struct MHD_Response *r, const char *type, const char *etag)
{
	return tl_api_headers(r, type) && MHD_add_response_header(r, "ETag", etag) == MHD_YES &&
	       MHD_add_response_header(r, "Content-Security-Policy", csp) == MHD_YES &&
	       MHD_add_response_header(r, "X-Content-Type-Options", "nosniff") == MHD_YES &&
	       MHD_add_response_header(r, "Referrer-Policy", "no-referrer") == MHD_YES &&
	       MHD_add_response_header(r, "X-Frame-Options", "DENY") == MHD_YES &&
	       /* The page changes with the daemon: revalidate every time (the ETag makes
		* that cheap). */
	       MHD_add_response_header(r, "Cache-Control", "no-cache") == MHD_YES;
}

static enum MHD_Result not_found(struct MHD_Connection *c, const char *url)
{
	return tl_api_send_error(c, 404, "no such file: %.120s", url);
}

/* Reads the regular file path (already resolved inside the root) into memory; NULL if it
 * is none or unreadable (*oom: for want of memory). */
static char *read_regular(const char *path, size_t *len, struct stat *sb, bool *oom)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return NULL;
	char *buf = NULL;
	if (fstat(fd, sb) || !S_ISREG(sb->st_mode) || sb->st_size > STATIC_FILE_MAX)
		goto out;
	buf = malloc((size_t)sb->st_size + 1);
	if (!buf) {
		*oom = true;
		goto out;
	}
	size_t got = 0;
	while (got < (size_t)sb->st_size) {
		ssize_t n = read(fd, buf + got, (size_t)sb->st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			buf = NULL;
			goto out;
		}
		got += (size_t)n;
	}
	*len = got;
out:
	close(fd);
	return buf;
}

enum MHD_Result tl_api_static(struct tl_api *api, struct MHD_Connection *c, const char *url,
			      const char *method)
{
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return tl_api_send_error(c, 405, "%.120s takes GET", url);
	const char *name = !strcmp(url, "/") ? "index.html" : url + 5;
	if (!plain_name(name))
		return not_found(c, url);
	char root[PATH_MAX], want[PATH_MAX + 256], real[PATH_MAX];
	if (!realpath(web_root(api), root))
		return tl_api_send_error(c, 404, "the page is not installed ([api] web_root '%.200s': %s)",
					 web_root(api), strerror(errno));
	snprintf(want, sizeof want, "%s/%s", root, name);
	/* A symbolic link inside the root may lead out of it: where it leads must still be
	 * inside. */
	size_t rn = strlen(root);
	if (!realpath(want, real) || strncmp(real, root, rn) || real[rn] != '/')
		return not_found(c, url);
	struct stat sb;
	size_t len = 0;
	bool oom = false;
	char *body = read_regular(real, &len, &sb, &oom);
	if (!body)
		return oom ? tl_api_send_oom(c) : not_found(c, url);
	char etag[64];
	snprintf(etag, sizeof etag, "\"%llx-%llx-%lx\"", (unsigned long long)sb.st_size,
		 (unsigned long long)sb.st_mtim.tv_sec, (unsigned long)sb.st_mtim.tv_nsec);
	const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match");
	bool fresh = inm && !strcmp(inm, etag);
	struct MHD_Response *r;
	if (fresh) {
		free(body);
		r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	} else {
		r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
		if (!r)
			free(body);
	}
	if (!r)
		return tl_api_send_oom(c);
	enum MHD_Result ret = MHD_NO;
	if (add_headers(r, type_of(name), etag))
		ret = MHD_queue_response(c, fresh ? 304 : 200, r);
	MHD_destroy_response(r);
	return ret;
}
