/* registry.c - the treadmill drivers this build has. */
#include <string.h>

#include "sim.h"
#include "treadmill.h"

const struct tl_treadmill_ops *const tl_treadmill_drivers[] = {
	&tl_sim_treadmill_ops,
	NULL,
};

const struct tl_treadmill_ops *tl_treadmill_find(const char *name)
{
	for (size_t i = 0; tl_treadmill_drivers[i]; i++)
		if (!strcmp(tl_treadmill_drivers[i]->name, name))
			return tl_treadmill_drivers[i];
	return NULL;
}
