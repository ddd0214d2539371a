/* tl_err.h - error reports the caller can print.
 *
 * The core never prints: a function that fails fills a tl_err with one line that says
 * what and where ("file:line: reason") and returns -1 (or NULL). */
#ifndef TL_ERR_H
#define TL_ERR_H

#include <stdarg.h>

struct tl_err {
	char msg[512];
};

/* Sets the message (printf-style). Safe with err == NULL. */
void tl_err_set(struct tl_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tl_err_vset(struct tl_err *err, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

#endif
