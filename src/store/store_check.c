/* store_check.c - checks on what callers hand the store.
 *
 * The store is the last stop before the permanent record, so it refuses what would make
 * that record ambiguous: a patient number with a trailing space (a second patient), a time
 * in another format (breaks time order), infinities (no JSON for them), JSON that does
 * not parse (every query would fail on it later). */
#include "store_int.h"

#include <ctype.h>
#include <math.h>
#include <string.h>

#define TL_STORE_ID_MAX 64

static int digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

static int num(const char *s, size_t n)
{
	int v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

int tl_store_check_utc(const char *at, const char *name, const char *what, struct tl_err *err)
{
	/* 2026-11-25T19:20:00.123Z */
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
	if (!at) {
		tl_err_set(err, "store: %s: %s is missing", what, name);
		return -1;
	}
	int ok = strlen(at) == sizeof shape - 1;
	for (size_t i = 0; ok && i < sizeof shape - 1; i++)
		ok = shape[i] == 'd' ? isdigit((unsigned char)at[i]) != 0 : at[i] == shape[i];
	ok = ok && digits(at, 4) && num(at + 5, 2) >= 1 && num(at + 5, 2) <= 12 &&
	     num(at + 8, 2) >= 1 && num(at + 8, 2) <= 31 && num(at + 11, 2) <= 23 &&
	     num(at + 14, 2) <= 59 && num(at + 17, 2) <= 60; /* 60: a leap second */
	if (!ok) {
		tl_err_set(err,
			   "store: %s: %s '%.40s' is not UTC like 2026-11-25T19:20:00.123Z", what,
			   name, at);
		return -1;
	}
	return 0;
}

int tl_store_check_id(const char *s, const char *name, bool optional, const char *what,
		      struct tl_err *err)
{
	if (!s) {
		if (optional)
			return 0;
		tl_err_set(err, "store: %s: %s is missing", what, name);
		return -1;
	}
	size_t n = strlen(s);
	if (n == 0 || n > TL_STORE_ID_MAX) {
		tl_err_set(err, "store: %s: %s must be 1 to %d bytes (it has %zu)", what, name,
			   TL_STORE_ID_MAX, n);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f) {
			tl_err_set(err, "store: %s: %s has a control character (0x%02x) at %zu",
				   what, name, c, i + 1);
			return -1;
		}
	}
	if (tl_store_check_text(s, name, false, what, err) < 0)
		return -1;
	/* U+0080..U+009F (C1 controls) are control characters too. */
	for (size_t i = 0; i + 1 < n; i++) {
		if ((unsigned char)s[i] == 0xc2 && (unsigned char)s[i + 1] < 0xa0) {
			tl_err_set(err, "store: %s: %s has a control character (U+%04X) at %zu",
				   what, name, (unsigned char)s[i + 1], i + 1);
			return -1;
		}
	}
	return 0;
}

/* Valid UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t utf8_bad_at(const unsigned char *s)
{
	const unsigned char *p = s;
	while (*p) {
		unsigned c = *p;
		size_t len;
		unsigned min;
		if (c < 0x80) {
			p++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			len = 2, min = 0x80, c &= 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			len = 3, min = 0x800, c &= 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			len = 4, min = 0x10000, c &= 0x07;
		} else {
			return (size_t)(p - s) + 1;
		}
		for (size_t i = 1; i < len; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return (size_t)(p - s) + 1;
			c = (c << 6) | (p[i] & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return (size_t)(p - s) + 1;
		p += len;
	}
	return 0;
}

int tl_store_check_text(const char *s, const char *name, bool optional, const char *what,
			struct tl_err *err)
{
	if (!s) {
		if (optional)
			return 0;
		tl_err_set(err, "store: %s: %s is missing", what, name);
		return -1;
	}
	size_t bad = utf8_bad_at((const unsigned char *)s);
	if (bad) {
		tl_err_set(err, "store: %s: %s is not valid UTF-8 (byte %zu)", what, name, bad);
		return -1;
	}
	return 0;
}

/* Whether SQLite's own parser takes s as JSON: 1, 0, or -1 + err (out of memory). */
static int sqlite_json_valid(struct tl_store *st, const char *s, const char *what,
			     struct tl_err *err)
{
	sqlite3_stmt *stmt = tl_store_stmt(st, TL_ST_JSON_VALID, what, err);
	if (!stmt)
		return -1;
	int rc = tl_store_bind_text(stmt, 1, s);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(stmt);
	int valid = rc == SQLITE_ROW ? sqlite3_column_int(stmt, 0) : -1;
	if (valid < 0)
		tl_store_fail_db(st, what, err);
	tl_store_stmt_done(stmt);
	return valid;
}

int tl_store_json_explain(struct tl_store *st, const char *s, const json_error_t *jerr,
			  const char *name, const char *what, struct tl_err *err)
{
	/* jansson reports a failed allocation inside its lexer as a syntax error, so a second
	 * opinion tells a real syntax error from a parse that could not finish. */
	int valid = sqlite_json_valid(st, s, what, err);
	if (valid < 0)
		return -1;
	if (valid == 0)
		tl_err_set(err, "store: %s: %s is not JSON (line %d column %d: %s)", what, name,
			   jerr->line, jerr->column, jerr->text);
	else
		tl_err_set(err,
			   "store: %s: %s could not be read back (%s): out of memory, or a \\u0000 "
			   "or an integer beyond 64 bits in it",
			   what, name, jerr->text);
	return -1;
}

int tl_store_check_json(struct tl_store *st, const char *s, const char *name, bool optional,
			const char *what, struct tl_err *err)
{
	if (!s) {
		if (optional)
			return 0;
		tl_err_set(err, "store: %s: %s is missing", what, name);
		return -1;
	}
	json_error_t jerr;
	json_t *j = json_loads(s, JSON_DECODE_ANY, &jerr);
	if (!j)
		return tl_store_json_explain(st, s, &jerr, name, what, err);
	json_decref(j);
	return 0;
}

int tl_store_check_real(double v, const char *name, bool nan_ok, const char *what,
			struct tl_err *err)
{
	if (isfinite(v) || (nan_ok && isnan(v)))
		return 0;
	tl_err_set(err, "store: %s: %s must be a finite number%s", what, name,
		   nan_ok ? " or NAN for unknown" : "");
	return -1;
}

int tl_store_check_mrn(const char *mrn, const char *what, struct tl_err *err)
{
	if (tl_store_check_id(mrn, "patient MRN", false, what, err) < 0)
		return -1;
	/* "123" and "123 " would be two patients; nobody can see the difference on screen. */
	size_t n = strlen(mrn);
	if (mrn[0] == ' ' || mrn[n - 1] == ' ') {
		tl_err_set(err, "store: %s: patient MRN '%s' starts or ends with a space", what,
			   mrn);
		return -1;
	}
	return 0;
}
