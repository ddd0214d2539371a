/* cuff_text.c - the "cuff-text" pressure source (cuff_text.h). */
#include "cuff_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serial_link.h"

#define MAX_READING_MMHG 400.0 /* beyond any cuff: a garbled line, not a pressure */
#define VENOUS_MMHG 15.0       /* src/core/cuff.h TL_CUFF_VENOUS_MMHG (IEC 80601-2-30) */

struct ct {
	struct tl_serial_link link;
	bool link_open;
	struct tl_cuff_pattern pat;
	char device[256];
	int stuck_ms;
	char buf[2 * TL_CUFF_PATTERN_MAX + 2];
	size_t len;
	bool overlong;        /* discarding the rest of a line that was too long */
	unsigned long lineno; /* lines received */
	bool have_last;
	double last_mmhg;
	int64_t same_since_ms;
	bool falling;         /* the last change was a fall: deflating */
};

#define set_err tl_cuff_set_err

static void ct_close(struct tl_cuff *c)
{
	struct ct *t = c->priv;
	if (!t)
		return;
	if (t->link_open)
		tl_serial_close(&t->link);
	free(t);
	c->priv = NULL;
}

static int ct_open(struct tl_cuff *c, const void *opts)
{
	const struct tl_cuff_text_opts *o = opts;
	struct ct *t = calloc(1, sizeof *t);
	if (!t) {
		set_err(c, "cuff-text: out of memory");
		return -1;
	}
	c->priv = t;
	char why[200];
	if (tl_cuff_pattern_compile(o->pattern, &t->pat, why, sizeof why)) {
		set_err(c, "cuff-text: [cuff] pattern '%s': %s", o->pattern, why);
		goto fail;
	}
	if (!o->device[0]) {
		set_err(c, "cuff-text: no serial device configured");
		goto fail;
	}
	snprintf(t->device, sizeof t->device, "%s", o->device);
	t->stuck_ms = o->stuck_ms;
	if (tl_serial_open(&t->link, o->device, o->baud, TL_SERIAL_AUTO)) {
		set_err(c, "cuff-text: %s", t->link.err);
		goto fail;
	}
	t->link_open = true;
	tl_serial_flush_input(&t->link); /* a half line from before is not a reading */
	t->overlong = true;              /* nor is the rest of it: start at the next line */
	return 0;
fail:
	ct_close(c);
	return -1;
}

static int ct_fd(struct tl_cuff *c)
{
	struct ct *t = c->priv;
	return t && t->link_open ? tl_serial_fd(&t->link) : -1;
}

/* One complete line of the buffer into line (without its end); false when none. */
static bool take_line(struct ct *t, char *line, size_t cap, bool *too_long)
{
	char *nl = memchr(t->buf, '\n', t->len);
	*too_long = false;
	if (!nl) {
		if (t->len > TL_CUFF_PATTERN_MAX + 1) {
			t->len = 0; /* no line end in sight: drop it, and the rest of it */
			t->overlong = true;
			*too_long = true;
			return true;
		}
		return false;
	}
	size_t n = (size_t)(nl - t->buf);
	bool skip = t->overlong;
	t->overlong = false;
	if (n >= cap)
		*too_long = true;
	else {
		memcpy(line, t->buf, n);
		line[n] = '\0';
		if (n && line[n - 1] == '\r')
			line[n - 1] = '\0';
	}
	memmove(t->buf, nl + 1, t->len - n - 1);
	t->len -= n + 1;
	if (skip) {
		line[0] = '\0';
		*too_long = false;
	}
	return true;
}

static int bad_line(struct tl_cuff *c, const char *line, const char *why)
{
	struct ct *t = c->priv;
	c->bad_lines++;
	char shown[48];
	size_t k = 0;
	for (size_t i = 0; line[i] && k + 5 < sizeof shown; i++) {
		unsigned char ch = (unsigned char)line[i];
		k += (size_t)snprintf(shown + k, sizeof shown - k, ch >= 0x20 && ch < 0x7f ? "%c" : "\\x%02x", ch);
	}
	shown[k] = '\0';
	set_err(c, "cuff-text %s: bad line %lu '%s%s': %s (%lu refused so far)", t->device, t->lineno,
		shown, line[k] && strlen(line) > k ? "..." : "", why, c->bad_lines);
	return -1;
}

static int judge(struct tl_cuff *c, const char *line, int64_t now_ms, struct tl_cuff_reading *r)
{
	struct ct *t = c->priv;
	char why[200];
	double v;
	char site[16];
	for (const char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t')
			return bad_line(c, line, "a control character in the line");
	if (tl_cuff_pattern_match(&t->pat, line, &v, site, sizeof site, why, sizeof why))
		return bad_line(c, line, why);
	if (v > MAX_READING_MMHG) {
		snprintf(why, sizeof why, "%.1f mmHg is outside 0 to %.0f mmHg", v, MAX_READING_MMHG);
		return bad_line(c, line, why);
	}
	if (!t->have_last || v != t->last_mmhg) {
		t->falling = t->have_last && v < t->last_mmhg;
		t->same_since_ms = now_ms;
		t->last_mmhg = v;
		t->have_last = true;
	} else if (t->falling && v > VENOUS_MMHG && now_ms - t->same_since_ms > t->stuck_ms) {
		set_err(c, "cuff-text %s: the pressure has stayed at %.1f mmHg for %lld ms while "
			"deflating (longer than %d ms): a stuck valve or sensor?", t->device, v,
			(long long)(now_ms - t->same_since_ms), t->stuck_ms);
		return -1;
	}
	*r = (struct tl_cuff_reading){.mmhg = v, .t_ms = now_ms};
	snprintf(r->site, sizeof r->site, "%s", site);
	return 1;
}

static int ct_read(struct tl_cuff *c, int64_t now_ms, struct tl_cuff_reading *r)
{
	struct ct *t = c->priv;
	char line[TL_CUFF_PATTERN_MAX + 2];
	for (int round = 0; round < 2; round++) {
		bool too_long;
		while (take_line(t, line, sizeof line, &too_long)) {
			t->lineno++;
			if (too_long)
				return bad_line(c, "", "longer than 128 characters");
			if (!line[0])
				continue; /* blank lines (and the rest of a cut one) carry nothing */
			return judge(c, line, now_ms, r);
		}
		if (round)
			break;
		int n = tl_serial_read(&t->link, t->buf + t->len, sizeof t->buf - t->len, 0);
		if (n < 0) {
			set_err(c, "cuff-text: %s", t->link.err);
			return -1;
		}
		if (n == 0)
			return 0;
		t->len += (size_t)n;
	}
	return 0;
}

#define ROW(k, kind_, def_, lo, hi, help_, field)                                             \
	{.section = "cuff", .key = k, .kind = kind_, .def = def_, .min = lo, .max = hi,       \
	 .none = -1, .help = help_, TL_OPT_AT(struct tl_cuff_text_opts, field)}

const struct tl_driver_option tl_cuff_text_options[] = {
	ROW("device", TL_OPT_TEXT, NULL, 0, 0, "the serial port the device prints on", device),
	ROW("baud", TL_OPT_INT, "9600", 1200, 115200, "bits per second", baud),
	ROW("pattern", TL_OPT_TEXT, "{mmhg}", 0, 0,
	    "what a line looks like: {mmhg} or {kpa}, {site}, {skip}, literal text", pattern),
	ROW("stuck_ms", TL_OPT_INT, "3000", 500, 60000,
	    "the same pressure this long while deflating is an error (ms)", stuck_ms),
	{0},
};
#undef ROW

static int ct_validate(const void *opts, char *why, size_t cap)
{
	const struct tl_cuff_text_opts *o = opts;
	if (!o->device[0]) {
		snprintf(why, cap, "needs 'device'");
		return -1;
	}
	struct tl_cuff_pattern p;
	char msg[200];
	if (tl_cuff_pattern_compile(o->pattern, &p, msg, sizeof msg)) {
		snprintf(why, cap, "[cuff] pattern: %s", msg);
		return -1;
	}
	return 0;
}

const struct tl_cuff_ops tl_cuff_text_ops = {
	.name = "cuff-text",
	.flags = 0,
	.options = tl_cuff_text_options,
	.opts_size = sizeof(struct tl_cuff_text_opts),
	.validate = ct_validate,
	.open = ct_open,
	.close = ct_close,
	.read = ct_read,
	.fd = ct_fd,
};
