/* The daemon configuration (tl_config_load, then tl_config_validate): any bytes as the
 * INI file. The loader reads a path, so the bytes go to an in-memory file (memfd) that
 * is read back through /proc/self/fd: no disk, one file for the whole run. */
#define _GNU_SOURCE
#include <math.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "fuzz.h"

static int fd = -1;
static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (fd < 0) {
		fd = memfd_create("fuzz.conf", 0);
		FUZZ_REQUIRE(fd >= 0);
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	}
	FUZZ_REQUIRE(ftruncate(fd, 0) == 0);
	FUZZ_REQUIRE(pwrite(fd, data, size, 0) == (ssize_t)size);

	struct tl_config c;
	struct tl_err err = {{0}};
	tl_config_defaults(&c);
	if (tl_config_load(&c, path, &err)) {
		FUZZ_TERMINATED(err.msg);
		FUZZ_REQUIRE(strncmp(err.msg, path, strlen(path)) == 0); /* "path:line: reason" */
		return 0;
	}
	/* Every text field is terminated inside its buffer; numbers are numbers. */
	FUZZ_TERMINATED(c.driver);
	FUZZ_TERMINATED(c.database);
	FUZZ_TERMINATED(c.socket);
	FUZZ_TERMINATED(c.listen);
	FUZZ_TERMINATED(c.tls_cert);
	FUZZ_TERMINATED(c.tls_key);
	FUZZ_TERMINATED(c.token_file);
	FUZZ_TERMINATED(c.operator_default);
	FUZZ_TERMINATED(c.protocols);
	FUZZ_TERMINATED(c.modem_device);
	FUZZ_TERMINATED(c.modem_lines);
	FUZZ_TERMINATED(c.box_device);
	FUZZ_TERMINATED(c.box_onset);
	FUZZ_TERMINATED(c.box_max);
	FUZZ_REQUIRE(isfinite(c.max_speed_kmh) && isfinite(c.max_grade_pct));
	FUZZ_REQUIRE(isfinite(c.time_scale) && c.time_scale > 0);
	FUZZ_REQUIRE(c.tick_hz > 0);
	if (tl_config_validate(&c, "fuzz.conf", &err))
		FUZZ_TERMINATED(err.msg);
	return 0;
}
