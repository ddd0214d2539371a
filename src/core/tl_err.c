#include "tl_err.h"

#include <stdio.h>

void tl_err_vset(struct tl_err *err, const char *fmt, va_list ap)
{
	if (!err)
		return;
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
}

void tl_err_set(struct tl_err *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	tl_err_vset(err, fmt, ap);
	va_end(ap);
}
