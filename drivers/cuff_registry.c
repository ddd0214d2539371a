/* cuff_registry.c - the cuff pressure sources this build has (cuff.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cuff_source.h"
#include "cuff_modbus.h"
#include "cuff_text.h"

const struct tl_cuff_ops *const tl_cuff_sources[] = {
	&tl_cuff_modbus_ops,
	&tl_cuff_text_ops,
	NULL,
};

const struct tl_cuff_ops *tl_cuff_find(const char *name)
{
	for (size_t i = 0; name && tl_cuff_sources[i]; i++)
		if (!strcmp(tl_cuff_sources[i]->name, name))
			return tl_cuff_sources[i];
	return NULL;
}

bool tl_cuff_option_known(const char *key)
{
	for (size_t i = 0; tl_cuff_sources[i]; i++)
		for (const struct tl_driver_option *o = tl_cuff_sources[i]->options; o && o->key; o++)
			if (!strcmp(o->key, key))
				return true;
	return false;
}

void tl_cuff_names(char *buf, size_t cap)
{
	size_t n = 0;
	buf[0] = '\0';
	for (size_t i = 0; tl_cuff_sources[i] && n < cap; i++) {
		int w = snprintf(buf + n, cap - n, "%s%s", i ? ", " : "", tl_cuff_sources[i]->name);
		if (w < 0)
			break;
		n += (size_t)w;
	}
}

/* The treadmill drivers' generic option reader works on a table and a size: a source's
 * table is handed to it in an ops of that shape, so both parse values the same way. */
static struct tl_treadmill_ops as_table(const struct tl_cuff_ops *ops)
{
	return (struct tl_treadmill_ops){.name = ops->name, .options = ops->options,
					 .opts_size = ops->opts_size, .validate = ops->validate};
}

void tl_cuff_opts_defaults(const struct tl_cuff_ops *ops, void *opts)
{
	struct tl_treadmill_ops t = as_table(ops);
	tl_driver_opts_defaults(&t, opts);
}

int tl_cuff_opts_set(const struct tl_cuff_ops *ops, void *opts, const char *section,
		     const char *key, const char *val, char *why, size_t cap)
{
	struct tl_treadmill_ops t = as_table(ops);
	return tl_driver_opts_set(&t, opts, section, key, val, why, cap);
}

int tl_cuff_opts_check(const struct tl_cuff_ops *ops, const void *opts, char *why, size_t cap)
{
	struct tl_treadmill_ops t = as_table(ops);
	return tl_driver_opts_check(&t, opts, why, cap);
}

void tl_cuff_set_err(struct tl_cuff *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof c->err, fmt, ap);
	va_end(ap);
}

int tl_cuff_open(struct tl_cuff *c, const struct tl_cuff_ops *ops, const void *opts)
{
	*c = (struct tl_cuff){.ops = ops};
	if (ops->open(c, opts)) {
		c->ops = NULL; /* open() released what it took */
		return -1;
	}
	return 0;
}

void tl_cuff_close(struct tl_cuff *c)
{
	if (c->ops)
		c->ops->close(c);
	c->ops = NULL;
}
