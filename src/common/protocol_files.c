#include "protocol_files.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SUFFIX ".protocol"
#define FILE_MAX (1u << 20)

static char installed_dir[1024];
static pthread_once_t installed_once = PTHREAD_ONCE_INIT;

bool tl_dir_beside_exe(const char *rel, char *out, size_t cap)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		return false;
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (!slash)
		return false;
	*slash = '\0';
	struct stat sb;
	return (size_t)snprintf(out, cap, "%s/%s", exe, rel) < cap && stat(out, &sb) == 0 &&
	       S_ISDIR(sb.st_mode);
}

/* The installed protocols next to the running executable, or "" if there are none. */
static void find_installed(void)
{
	char dir[sizeof installed_dir];
	if (tl_dir_beside_exe(TREADLAB_PROTOCOLS_FROM_BIN, dir, sizeof dir))
		memcpy(installed_dir, dir, strlen(dir) + 1);
}

const char *tl_protocol_dir(void)
{
	const char *env = getenv("TREADLAB_PROTOCOLS");
	if (env && *env)
		return env;
	pthread_once(&installed_once, find_installed);
	return installed_dir[0] ? installed_dir : TREADLAB_PROTOCOL_DIR;
}

char *tl_read_file(const char *path, size_t *len, struct tl_err *err)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		tl_err_set(err, "%s: %s", path, strerror(errno));
		return NULL;
	}
	char *buf = malloc(FILE_MAX + 1);
	if (!buf) {
		fclose(f);
		tl_err_set(err, "%s: out of memory", path);
		return NULL;
	}
	size_t n = fread(buf, 1, FILE_MAX + 1, f);
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		tl_err_set(err, "%s: read error", path);
		free(buf);
		return NULL;
	}
	if (n > FILE_MAX) {
		tl_err_set(err, "%s: larger than %u bytes", path, FILE_MAX);
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

int tl_protocol_load_file(const char *path, const struct tl_device_caps *device,
			  struct tl_protocol *out, struct tl_err *err)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	char name[TL_PROTOCOL_NAME_MAX];
	size_t n = strlen(base);
	size_t sl = strlen(SUFFIX);
	if (n > sl && !strcmp(base + n - sl, SUFFIX))
		n -= sl;
	if (n >= sizeof name) {
		tl_err_set(err, "%s: file name too long for a protocol name", path);
		return -1;
	}
	memcpy(name, base, n);
	name[n] = '\0';
	size_t len;
	char *text = tl_read_file(path, &len, err);
	if (!text)
		return -1;
	int rc = tl_protocol_parse(text, len, path, name, device, out, err);
	free(text);
	return rc;
}

int tl_protocol_load_name(const char *dir, const char *name, const struct tl_device_caps *device,
			  struct tl_protocol *out, struct tl_err *err)
{
	if (!tl_protocol_name_valid(name)) {
		tl_err_set(err, "'%s' is not a protocol name (see 'treadlab protocols')", name);
		return -1;
	}
	char path[4096];
	snprintf(path, sizeof path, "%s/%s%s", dir ? dir : tl_protocol_dir(), name, SUFFIX);
	FILE *probe = fopen(path, "r");
	if (!probe) {
		tl_err_set(err, "unknown protocol '%s' (see 'treadlab protocols')", name);
		return -1;
	}
	fclose(probe);
	return tl_protocol_load_file(path, device, out, err);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int tl_protocol_list(const char *dir, char ***names, struct tl_err *err)
{
	dir = dir ? dir : tl_protocol_dir();
	DIR *d = opendir(dir);
	if (!d) {
		tl_err_set(err, "%s: %s", dir, strerror(errno));
		return -1;
	}
	char **v = NULL;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name), sl = strlen(SUFFIX);
		if (len <= sl || strcmp(e->d_name + len - sl, SUFFIX))
			continue;
		char **nv = realloc(v, sizeof *v * (size_t)(n + 1));
		if (!nv)
			break;
		v = nv;
		v[n] = strndup(e->d_name, len - sl);
		if (v[n])
			n++;
	}
	closedir(d);
	qsort(v, (size_t)n, sizeof *v, cmp_str);
	*names = v;
	return n;
}

void tl_protocol_names_free(char **names, int n)
{
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
}
