/* registry.c - the treadmill drivers this build has. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "modbus_treadmill.h"
#include "sim.h"
#include "trackmaster.h"
#include "treadmill.h"

/* One row per driver; the in-process simulator first: it is the default. */
const struct tl_treadmill_ops *const tl_treadmill_drivers[] = {
	&tl_sim_treadmill_ops,
	&tl_modbus_treadmill_ops,
	&tl_trackmaster_treadmill_ops,
	NULL,
};

const struct tl_treadmill_ops *tl_treadmill_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; tl_treadmill_drivers[i]; i++)
		if (!strcmp(tl_treadmill_drivers[i]->name, name))
			return tl_treadmill_drivers[i];
	return NULL;
}

void tl_treadmill_set_err(struct tl_treadmill *tm, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tm->err, sizeof tm->err, fmt, ap);
	va_end(ap);
}
