/* registry.c - the treadmill drivers this build has, and their option tables read
 * generically (treadmill.h). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
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

void tl_treadmill_names(char *buf, size_t cap)
{
	size_t n = 0;
	buf[0] = '\0';
	for (size_t i = 0; tl_treadmill_drivers[i] && n < cap; i++) {
		int w = snprintf(buf + n, cap - n, "%s%s", i ? ", " : "", tl_treadmill_drivers[i]->name);
		if (w < 0)
			break;
		n += (size_t)w;
	}
}

void tl_treadmill_set_err(struct tl_treadmill *tm, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tm->err, sizeof tm->err, fmt, ap);
	va_end(ap);
}

/* ---- option tables ------------------------------------------------------------------- */

static int why_set(char *why, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int why_set(char *why, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, cap, fmt, ap);
	va_end(ap);
	return -1;
}

const struct tl_driver_option *tl_driver_option_find(const struct tl_treadmill_ops *ops,
						     const char *section, const char *key)
{
	for (const struct tl_driver_option *o = ops->options; o && o->key; o++)
		if (!strcmp(o->section, section) && !strcmp(o->key, key))
			return o;
	return NULL;
}

bool tl_driver_option_known(const char *section, const char *key)
{
	for (size_t i = 0; tl_treadmill_drivers[i]; i++)
		if (tl_driver_option_find(tl_treadmill_drivers[i], section, key))
			return true;
	return false;
}

bool tl_driver_section_known(const char *section)
{
	for (size_t i = 0; tl_treadmill_drivers[i]; i++)
		for (const struct tl_driver_option *o = tl_treadmill_drivers[i]->options; o && o->key; o++)
			if (!strcmp(o->section, section))
				return true;
	return false;
}

/* Parses val as row o's kind into the field at dst. 0, or -1 with why. */
static int parse_value(const struct tl_driver_option *o, const char *val, void *dst, char *why,
		       size_t cap)
{
	char *end;
	switch (o->kind) {
	case TL_OPT_ENUM:
		for (size_t i = 0; o->values && o->values[i]; i++)
			if (!strcmp(val, o->values[i]))
				goto text;
		{
			char list[160] = "";
			size_t n = 0;
			for (size_t i = 0; o->values && o->values[i] && n < sizeof list; i++) {
				int w = snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "", o->values[i]);
				n += w > 0 ? (size_t)w : 0;
			}
			return why_set(why, cap, "[%s] %s: '%s' is not one of %s", o->section, o->key, val,
				       list);
		}
	case TL_OPT_TEXT:
	text:
		if (strlen(val) >= o->size)
			return why_set(why, cap, "[%s] %s: longer than %zu characters", o->section, o->key,
				       o->size - 1);
		memcpy(dst, val, strlen(val) + 1);
		return 0;
	case TL_OPT_INT: {
		errno = 0;
		long v = strtol(val, &end, 10);
		if (end == val || *end || errno)
			return why_set(why, cap, "[%s] %s: '%s' is not an integer", o->section, o->key, val);
		if ((double)v < o->min || (double)v > o->max)
			return why_set(why, cap, "[%s] %s: %s is out of range (%g to %g)", o->section, o->key,
				       val, o->min, o->max);
		int i = (int)v;
		memcpy(dst, &i, sizeof i);
		return 0;
	}
	case TL_OPT_REAL: {
		errno = 0;
		double v = strtod(val, &end);
		if (end == val || *end || errno || !isfinite(v))
			return why_set(why, cap, "[%s] %s: '%s' is not a number", o->section, o->key, val);
		if (v < o->min || v > o->max)
			return why_set(why, cap, "[%s] %s: %s is out of range (%g to %g)", o->section, o->key,
				       val, o->min, o->max);
		memcpy(dst, &v, sizeof v);
		return 0;
	}
	case TL_OPT_BOOL: {
		bool b;
		if (!strcmp(val, "true") || !strcmp(val, "yes") || !strcmp(val, "1"))
			b = true;
		else if (!strcmp(val, "false") || !strcmp(val, "no") || !strcmp(val, "0"))
			b = false;
		else
			return why_set(why, cap, "[%s] %s: '%s' is not true or false", o->section, o->key, val);
		memcpy(dst, &b, sizeof b);
		return 0;
	}
	}
	return why_set(why, cap, "[%s] %s: the driver's table has a bad kind", o->section, o->key);
}

void tl_driver_opts_defaults(const struct tl_treadmill_ops *ops, void *opts)
{
	memset(opts, 0, ops->opts_size);
	char why[200];
	for (const struct tl_driver_option *o = ops->options; o && o->key; o++) {
		unsigned char *dst = (unsigned char *)opts + o->offset;
		if (o->def) {
			/* The tables' defaults are parsed by their unit test; one that failed
			 * here would leave the field zero. */
			(void)parse_value(o, o->def, dst, why, sizeof why);
		} else if (o->kind == TL_OPT_INT) {
			int v = (int)o->none;
			memcpy(dst, &v, sizeof v);
		} else if (o->kind == TL_OPT_REAL) {
			memcpy(dst, &o->none, sizeof o->none);
		}
	}
}

/* The keys ops takes, "a, b, [sim] c": the section named where it is not `section`. */
static void list_keys(const struct tl_treadmill_ops *ops, const char *section, char *buf,
		      size_t cap)
{
	size_t n = 0;
	buf[0] = '\0';
	for (const struct tl_driver_option *o = ops->options; o && o->key && n < cap; o++) {
		bool here = !strcmp(o->section, section);
		int w = snprintf(buf + n, cap - n, "%s%s%s%s%s", n ? ", " : "", here ? "" : "[",
				 here ? "" : o->section, here ? "" : "] ", o->key);
		n += w > 0 ? (size_t)w : 0;
	}
	if (!buf[0])
		snprintf(buf, cap, "none");
}

int tl_driver_opts_set(const struct tl_treadmill_ops *ops, void *opts, const char *section,
		       const char *key, const char *val, char *why, size_t cap)
{
	const struct tl_driver_option *o = tl_driver_option_find(ops, section, key);
	if (!o) {
		char keys[200];
		list_keys(ops, section, keys, sizeof keys);
		why_set(why, cap, "[%s] %s: the %s driver has no such option (it takes: %s)", section,
			key, ops->name, keys);
		return -2;
	}
	/* Parsed into a scratch field first: a refused value leaves opts as it was. */
	unsigned char tmp[TL_DRIVER_OPTS_MAX];
	if (o->size > sizeof tmp)
		return why_set(why, cap, "[%s] %s: the driver's field is too large", section, key);
	if (parse_value(o, val, tmp, why, cap))
		return -1;
	size_t n = o->kind == TL_OPT_INT    ? sizeof(int)
		   : o->kind == TL_OPT_REAL ? sizeof(double)
		   : o->kind == TL_OPT_BOOL ? sizeof(bool)
					    : strlen((char *)tmp) + 1;
	memcpy((unsigned char *)opts + o->offset, tmp, n);
	return 0;
}

int tl_driver_opts_check(const struct tl_treadmill_ops *ops, const void *opts, char *why,
			 size_t cap)
{
	if (!ops->validate)
		return 0;
	why[0] = '\0';
	return ops->validate(opts, why, cap) ? -1 : 0;
}
