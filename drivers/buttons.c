/* buttons.c - patient button sources and their debouncing (see buttons.h). */
#include "buttons.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modbus_treadmill.h"
#include "tl_log.h"

static void set_err(struct tl_button *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_err(struct tl_button *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b->err, sizeof b->err, fmt, ap);
	va_end(ap);
}

void tl_button_config_default(struct tl_button_config *c)
{
	*c = (struct tl_button_config){
		.debounce_ms = 50,
		.onset_line = TL_LINE_CTS,
		.max_line = TL_LINE_DSR,
		.onset_byte = '1',
		.max_byte = '2',
		.foot_byte = '3',
		.onset_mask = 0x1,
		.max_mask = 0x2,
	};
}

const char *tl_press_kind_name(enum tl_press_kind k)
{
	return k == TL_PRESS_MAX ? "max" : k == TL_PRESS_FOOT ? "foot" : "onset";
}

int tl_button_parse_lines(const char *spec, struct tl_button_config *c, char *err, size_t n)
{
	static const struct {
		const char *name;
		unsigned bit;
	} lines[] = {{"CTS", TL_LINE_CTS}, {"DSR", TL_LINE_DSR}, {"DCD", TL_LINE_DCD},
		     {"RI", TL_LINE_RI}};
	unsigned onset = 0, max = 0, foot = 0;
	const char *s = spec;
	while (*s) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		char item[32];
		if (len == 0 || len >= sizeof item || (comma && !comma[1])) {
			snprintf(err, n, "button lines '%s': empty or overlong item", spec);
			return -1;
		}
		memcpy(item, s, len);
		item[len] = '\0';
		char *eq = strchr(item, '=');
		if (!eq) {
			snprintf(err, n, "button lines: '%s' is not LINE=onset|max|foot", item);
			return -1;
		}
		*eq = '\0';
		unsigned bit = 0;
		for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
			if (!strcmp(item, lines[i].name))
				bit = lines[i].bit;
		if (!bit) {
			snprintf(err, n, "button lines: unknown line '%s' (CTS, DSR, DCD, RI)", item);
			return -1;
		}
		unsigned *dst = !strcmp(eq + 1, "onset") ? &onset : !strcmp(eq + 1, "max") ? &max
				: !strcmp(eq + 1, "foot") ? &foot : NULL;
		if (!dst) {
			snprintf(err, n, "button lines: unknown press '%s' (onset, max, foot)", eq + 1);
			return -1;
		}
		if (*dst || bit == onset || bit == max || bit == foot) {
			snprintf(err, n, "button lines '%s': a line or a press appears twice", spec);
			return -1;
		}
		*dst = bit;
		s += len + (comma ? 1 : 0);
	}
	if (!onset && !max && !foot) {
		snprintf(err, n, "button lines: nothing mapped");
		return -1;
	}
	c->onset_line = onset;
	c->max_line = max;
	c->foot_line = foot;
	return 0;
}

/* ---- debounce ---------------------------------------------------------------------- */

void tl_debounce_init(struct tl_debounce *d, int debounce_ms, bool level, int64_t now_ms)
{
	*d = (struct tl_debounce){.debounce_ms = debounce_ms < 0 ? 0 : debounce_ms,
				  .stable = level, .raw = level, .raw_since_ms = now_ms,
				  .span_from_ms = now_ms, .last_ms = now_ms};
}

bool tl_debounce_update(struct tl_debounce *d, bool raw, int64_t now_ms, int64_t *press_ms)
{
	if (raw != d->raw) {
		d->raw = raw;
		d->raw_since_ms = now_ms;
		d->span_from_ms = d->last_ms;
	}
	d->last_ms = now_ms;
	if (d->raw == d->stable || now_ms - d->span_from_ms < d->debounce_ms)
		return false;
	d->stable = d->raw;
	if (!d->stable)
		return false;
	if (press_ms)
		*press_ms = d->raw_since_ms;
	return true;
}

bool tl_holdoff_accept(struct tl_holdoff *h, enum tl_press_kind kind, int64_t now_ms)
{
	if (h->seen[kind] && now_ms - h->last_ms[kind] < h->hold_ms)
		return false;
	h->seen[kind] = true;
	h->last_ms[kind] = now_ms;
	return true;
}

/* ---- sources ----------------------------------------------------------------------- */

/* Two debounced inputs, one per press kind, shared by the modem and Modbus sources. */
struct levels {
	struct tl_button_config cfg;
	struct tl_debounce onset, max, foot;
	struct tl_serial_link link;    /* modem, box */
	struct tl_holdoff holdoff;     /* box */
	struct tl_treadmill *tm;       /* Modbus */
	bool traced;                   /* wire trace: modem lines seen, and what they were */
	unsigned traced_lines;
};

static int emit(const struct tl_button *b, struct tl_press *out, int max, int n,
		enum tl_press_kind kind, int64_t t_ms)
{
	if (n < max)
		out[n++] = (struct tl_press){.kind = kind, .t_ms = t_ms, .source = b->ops->name};
	return n;
}

static int feed_levels(struct tl_button *b, struct levels *s, bool onset, bool maxp, bool foot,
		       int64_t now_ms, struct tl_press *out, int max)
{
	int n = 0;
	int64_t t;
	if (tl_debounce_update(&s->onset, onset, now_ms, &t))
		n = emit(b, out, max, n, TL_PRESS_ONSET, t);
	if (tl_debounce_update(&s->max, maxp, now_ms, &t))
		n = emit(b, out, max, n, TL_PRESS_MAX, t);
	if (tl_debounce_update(&s->foot, foot, now_ms, &t))
		n = emit(b, out, max, n, TL_PRESS_FOOT, t);
	return n;
}

static void close_link_source(struct tl_button *b)
{
	struct levels *s = b->priv;
	if (!s)
		return;
	tl_serial_close(&s->link);
	free(s);
	b->priv = NULL;
}

static void close_modbus_source(struct tl_button *b)
{
	free(b->priv);
	b->priv = NULL;
}

static int modem_poll(struct tl_button *b, int64_t now_ms, struct tl_press *out, int max)
{
	struct levels *s = b->priv;
	unsigned lines;
	if (tl_serial_get_lines(&s->link, &lines)) {
		set_err(b, "button-modem: %s", s->link.err);
		return -1;
	}
	if (tl_log_on(TL_LOG_WIRE) && (!s->traced || lines != s->traced_lines)) {
		tl_log_write(TL_LOG_WIRE, "button-modem lines%s%s%s%s%s%s",
			     lines & TL_LINE_CTS ? " CTS" : "", lines & TL_LINE_DSR ? " DSR" : "",
			     lines & TL_LINE_DCD ? " DCD" : "", lines & TL_LINE_RI ? " RI" : "",
			     lines ? "" : " none",
			     s->traced ? "" : " (first look)");
		s->traced = true;
		s->traced_lines = lines;
	}
	return feed_levels(b, s, s->cfg.onset_line && (lines & s->cfg.onset_line),
			   s->cfg.max_line && (lines & s->cfg.max_line),
			   s->cfg.foot_line && (lines & s->cfg.foot_line), now_ms, out, max);
}

static int box_poll(struct tl_button *b, int64_t now_ms, struct tl_press *out, int max)
{
	struct levels *s = b->priv;
	int n = 0;
	uint8_t buf[16];
	int got;
	while ((got = tl_serial_read(&s->link, buf, sizeof buf, 0)) > 0) {
		TL_LOG_FRAME("button-box", "rx", buf, (size_t)got, -1, NULL);
		for (int i = 0; i < got; i++) {
			enum tl_press_kind kind;
			if (buf[i] == s->cfg.onset_byte)
				kind = TL_PRESS_ONSET;
			else if (buf[i] == s->cfg.max_byte)
				kind = TL_PRESS_MAX;
			else if (s->cfg.foot_byte && buf[i] == s->cfg.foot_byte)
				kind = TL_PRESS_FOOT;
			else
				continue; /* line noise, newlines */
			if (tl_holdoff_accept(&s->holdoff, kind, now_ms))
				n = emit(b, out, max, n, kind, now_ms);
		}
	}
	if (got < 0) {
		set_err(b, "button-box: %s", s->link.err);
		return -1;
	}
	return n;
}

static int modbus_poll(struct tl_button *b, int64_t now_ms, struct tl_press *out, int max)
{
	struct levels *s = b->priv;
	uint16_t v;
	/* Within a tick the driver's poll has just read the register with its neighbours;
	 * between ticks (or after a failed poll) it is read on its own. */
	if (!tl_modbus_treadmill_take_button(s->tm, now_ms, &v) &&
	    tl_modbus_treadmill_read_key(s->tm, TL_REG_BUTTON, &v)) {
		set_err(b, "button-modbus: %s", s->tm->err);
		return -1;
	}
	return feed_levels(b, s, s->cfg.onset_mask && (v & s->cfg.onset_mask),
			   s->cfg.max_mask && (v & s->cfg.max_mask),
			   s->cfg.foot_mask && (v & s->cfg.foot_mask), now_ms, out, max);
}

static const struct tl_button_ops modem_ops = {
	.name = "button-modem",
	.poll = modem_poll,
	.close = close_link_source,
};

static int box_fd(struct tl_button *b)
{
	struct levels *s = b->priv;
	return tl_serial_fd(&s->link);
}

static const struct tl_button_ops box_ops = {
	.name = "button-box",
	.poll = box_poll,
	.fd = box_fd,
	.close = close_link_source,
};

static const struct tl_button_ops modbus_ops = {
	.name = "button-modbus",
	.poll = modbus_poll,
	.close = close_modbus_source,
};

static struct levels *new_source(struct tl_button *b, const struct tl_button_ops *ops,
				 const struct tl_button_config *c)
{
	*b = (struct tl_button){.ops = ops};
	struct levels *s = calloc(1, sizeof *s);
	if (!s) {
		set_err(b, "%s: out of memory", ops->name);
		return NULL;
	}
	s->cfg = *c;
	b->priv = s;
	return s;
}

int tl_button_modem_open(struct tl_button *b, struct tl_serial_link *link,
			 const struct tl_button_config *c, int64_t now_ms)
{
	struct levels *s = new_source(b, &modem_ops, c);
	if (!s) {
		tl_serial_close(link);
		return -1;
	}
	s->link = *link;
	*link = (struct tl_serial_link){0};
	unsigned lines;
	if (!c->onset_line && !c->max_line && !c->foot_line) {
		set_err(b, "button-modem: no line is mapped to a press");
		tl_button_close(b);
		return -1;
	}
	if (tl_serial_get_lines(&s->link, &lines)) {
		set_err(b, "button-modem: %s (a pty has none: use a real port)", s->link.err);
		tl_button_close(b);
		return -1;
	}
	/* Whatever is held at start is the rest level, not a press. */
	tl_debounce_init(&s->onset, c->debounce_ms, c->onset_line && (lines & c->onset_line), now_ms);
	tl_debounce_init(&s->max, c->debounce_ms, c->max_line && (lines & c->max_line), now_ms);
	tl_debounce_init(&s->foot, c->debounce_ms, c->foot_line && (lines & c->foot_line), now_ms);
	return 0;
}

int tl_button_box_open(struct tl_button *b, struct tl_serial_link *link,
		       const struct tl_button_config *c, int64_t now_ms)
{
	(void)now_ms;
	struct levels *s = new_source(b, &box_ops, c);
	if (!s) {
		tl_serial_close(link);
		return -1;
	}
	s->link = *link;
	*link = (struct tl_serial_link){0};
	s->holdoff.hold_ms = c->debounce_ms;
	if (c->onset_byte == c->max_byte || c->foot_byte == c->onset_byte ||
	    c->foot_byte == c->max_byte) {
		set_err(b, "button-box: onset, max and the foot switch need different bytes");
		tl_button_close(b);
		return -1;
	}
	tl_serial_flush_input(&s->link); /* presses before the test do not count */
	return 0;
}

int tl_button_modbus_open(struct tl_button *b, struct tl_treadmill *tm,
			  const struct tl_button_config *c, int64_t now_ms)
{
	struct levels *s = new_source(b, &modbus_ops, c);
	if (!s)
		return -1;
	s->tm = tm;
	const struct tl_modbus_profile *p =
		tm->ops == &tl_modbus_treadmill_ops ? tl_modbus_treadmill_profile(tm) : NULL;
	if (!p || !p->reg[TL_REG_BUTTON].present) {
		set_err(b, "button-modbus: needs an open modbus treadmill whose profile has a "
			"'button' register");
		tl_button_close(b);
		return -1;
	}
	uint16_t v;
	if (tl_modbus_treadmill_read_key(tm, TL_REG_BUTTON, &v)) {
		set_err(b, "button-modbus: %s", tm->err);
		tl_button_close(b);
		return -1;
	}
	tl_debounce_init(&s->onset, c->debounce_ms, c->onset_mask && (v & c->onset_mask), now_ms);
	tl_debounce_init(&s->max, c->debounce_ms, c->max_mask && (v & c->max_mask), now_ms);
	tl_debounce_init(&s->foot, c->debounce_ms, c->foot_mask && (v & c->foot_mask), now_ms);
	tl_modbus_treadmill_share_button(tm);
	return 0;
}

int tl_button_poll(struct tl_button *b, int64_t now_ms, struct tl_press *out, int max)
{
	return b->ops->poll(b, now_ms, out, max);
}

int tl_button_fd(struct tl_button *b)
{
	return b->ops && b->priv && b->ops->fd ? b->ops->fd(b) : -1;
}

void tl_button_close(struct tl_button *b)
{
	if (b->ops && b->priv)
		b->ops->close(b);
	b->priv = NULL;
}
