/* report.c - the test report as PDF, drawn with cairo and laid out with pango.
 *
 * The layout is a column of blocks (docs/report.md). Each block measures itself before it
 * is drawn; one that would cross the bottom margin starts a new page, so long findings or
 * a long address push the rest on rather than overprinting it. Text from the record or the
 * configuration goes through pango_layout_set_text (never markup) into a box of fixed width
 * and a bounded number of lines, ellipsized past that. */
#include "report.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MARGIN 40.0
#define GAP 8.0
#define SANS "DejaVu Sans, Noto Sans, Noto Sans CJK JP, sans"

/* Colours: ink, grey rules, red for red flags, two series. */
#define INK 0.10, 0.10, 0.10
#define GREY 0.55, 0.55, 0.55
#define LIGHT 0.85, 0.85, 0.85
#define RED 0.75, 0.05, 0.05
#define BLUE 0.10, 0.30, 0.75
#define ORANGE 0.85, 0.45, 0.05

struct buf {
	unsigned char *p;
	size_t n, cap;
	bool oom;
};

struct ctx {
	cairo_surface_t *surf;
	cairo_t *cr;
	PangoLayout *lay;
	double pw, ph;       /* page size, points */
	double y;            /* next free line */
	int page;
	const json_t *rec;
	const struct tl_report_opts *opts;
	char test_label[64]; /* "Test 12" on every page's foot */
};

static cairo_status_t buf_write(void *closure, const unsigned char *data, unsigned int length)
{
	struct buf *b = closure;
	if (b->n + length > b->cap) {
		size_t cap = b->cap ? b->cap : 65536;
		while (cap < b->n + length)
			cap *= 2;
		unsigned char *p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return CAIRO_STATUS_WRITE_ERROR;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, data, length);
	b->n += length;
	return CAIRO_STATUS_SUCCESS;
}

/* ---- reading the record ---- */

static const char *str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static bool num(const json_t *o, const char *key, double *out)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_number(v))
		return false;
	*out = json_number_value(v);
	return isfinite(*out);
}

static void fmt(char *b, size_t n, const char *f, ...) __attribute__((format(printf, 3, 4)));
static void fmt(char *b, size_t n, const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	vsnprintf(b, n, f, ap);
	va_end(ap);
	/* A cut may split a character: end at the last whole one (pango takes UTF-8 only). */
	const char *end;
	if (!g_utf8_validate(b, -1, &end))
		b[end - b] = 0;
}

/* "2026-11-26T15:33:31.671Z" -> "2026-11-26 15:33 UTC"; anything else as given. */
static void when(const char *iso, char *b, size_t n)
{
	if (iso && strlen(iso) >= 16 && iso[10] == 'T')
		fmt(b, n, "%.10s %.5s UTC", iso, iso + 11);
	else
		fmt(b, n, "%s", iso ? iso : "unknown");
}

/* The end of walking in plain words (docs/clinical.md, Censored endpoints). */
static const char *end_text(const char *er)
{
	static const struct {
		const char *name, *text;
	} t[] = {
		{"max_claudication", "the patient reached maximal claudication pain"},
		{"protocol_end", "the protocol ended (the patient completed every stage)"},
		{"max_duration", "the protocol's maximum duration was reached"},
		{"operator_stop", "the operator stopped the test"},
		{"emergency_stop", "emergency stop"},
		{"fault", "the treadmill reported a fault"},
		{"shutdown", "the controller was shut down during the test"},
		{"interrupted", "the test was interrupted (the controller stopped)"},
		{"store_failure", "the record could not be written; the test was stopped"},
	};
	if (!er)
		return "not recorded";
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		if (!strcmp(er, t[i].name))
			return t[i].text;
	return er;
}

static const char *category_text(const char *c)
{
	if (!c)
		return "not classified (no classification in the record)";
	if (!strcmp(c, "vascular"))
		return "vascular: the findings point to peripheral artery disease";
	if (!strcmp(c, "neurogenic"))
		return "neurogenic: the findings point to lumbar spinal stenosis";
	if (!strcmp(c, "mixed"))
		return "mixed: strong vascular and neurogenic evidence";
	if (!strcmp(c, "muscular"))
		return "muscular: the findings point to exercise-associated muscle cramp";
	if (!strcmp(c, "indeterminate"))
		return "indeterminate: the data do not support one cause";
	return c;
}

static const char *red_flag_text(const char *code)
{
	static const struct {
		const char *code, *text;
	} t[] = {
		{"critical_limb_ischemia", "Chronic limb-threatening ischemia"},
		{"acute_limb_ischemia", "Acute limb ischemia"},
		{"skin_changes", "Skin changes"},
		{"persistent_neuro_deficit", "Persistent neurological deficit"},
		{"cauda_equina", "Cauda equina syndrome"},
	};
	for (size_t i = 0; code && i < sizeof t / sizeof t[0]; i++)
		if (!strcmp(code, t[i].code))
			return t[i].text;
	return code ? code : "red flag";
}

/* The first event of a kind, its time in s. */
static bool event_t(const json_t *rec, const char *kind, double *t)
{
	size_t i;
	json_t *ev;
	json_array_foreach(json_object_get(rec, "events"), i, ev) {
		const char *k = str(ev, "kind");
		if (k && !strcmp(k, kind) && num(ev, "t_s", t))
			return true;
	}
	return false;
}

/* ---- text ---- */

enum { LEFT = 0, CENTER = 1, RIGHT_AL = 2 };

static void font(struct ctx *c, double size, bool bold)
{
	PangoFontDescription *fd = pango_font_description_from_string(SANS);
	pango_font_description_set_size(fd, (gint)(size * PANGO_SCALE));
	pango_font_description_set_weight(fd, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
	pango_layout_set_font_description(c->lay, fd);
	pango_font_description_free(fd);
}

/* Lays out s in width w, at most max_lines lines (ellipsized past that); returns the
 * height. Drawn at (x, y) when draw. */
static double text_at(struct ctx *c, double x, double y, double w, int max_lines, double size,
		      bool bold, int align, const char *s, bool draw)
{
	font(c, size, bold);
	pango_layout_set_width(c->lay, (int)(w * PANGO_SCALE));
	pango_layout_set_wrap(c->lay, PANGO_WRAP_WORD_CHAR);
	pango_layout_set_ellipsize(c->lay, PANGO_ELLIPSIZE_END);
	/* A negative height bounds the lines of each paragraph only: text with newlines is
	 * bounded by a height in points (1.3 lines of the size each), so no text leaves its
	 * box whatever it holds. */
	pango_layout_set_height(c->lay, max_lines == 1 ? -1
				: (int)((double)max_lines * size * 1.3 * PANGO_SCALE));
	pango_layout_set_single_paragraph_mode(c->lay, max_lines == 1);
	pango_layout_set_alignment(c->lay, align == CENTER ? PANGO_ALIGN_CENTER
				   : align == RIGHT_AL ? PANGO_ALIGN_RIGHT : PANGO_ALIGN_LEFT);
	pango_layout_set_text(c->lay, s ? s : "", -1);
	int lw, lh;
	pango_layout_get_size(c->lay, &lw, &lh);
	if (draw) {
		cairo_save(c->cr);
		/* Clip to the box: a glyph that pango places past the width stays inside. */
		cairo_rectangle(c->cr, x - 1, y - 1, w + 2, (double)lh / PANGO_SCALE + 2);
		cairo_clip(c->cr);
		cairo_move_to(c->cr, x, y);
		pango_cairo_show_layout(c->cr, c->lay);
		cairo_restore(c->cr);
	}
	return (double)lh / PANGO_SCALE;
}

static double text(struct ctx *c, double x, double y, double w, int max_lines, double size,
		   bool bold, const char *s)
{
	return text_at(c, x, y, w, max_lines, size, bold, LEFT, s, true);
}

static void rgb(struct ctx *c, double r, double g, double b)
{
	cairo_set_source_rgb(c->cr, r, g, b);
}

static void line(struct ctx *c, double x0, double y0, double x1, double y1, double w)
{
	cairo_set_line_width(c->cr, w);
	cairo_move_to(c->cr, x0, y0);
	cairo_line_to(c->cr, x1, y1);
	cairo_stroke(c->cr);
}

static double content_w(const struct ctx *c)
{
	return c->pw - 2 * MARGIN;
}

/* ---- pages ---- */

static void footer(struct ctx *c)
{
	char b[160];
	fmt(b, sizeof b, "%s - treadlab %s - page %d", c->test_label,
	    str(c->rec, "software_version") ? str(c->rec, "software_version") : "?", c->page);
	rgb(c, GREY);
	text_at(c, MARGIN, c->ph - MARGIN + 12, content_w(c), 1, 7, false, RIGHT_AL, b, true);
	rgb(c, INK);
}

static void new_page(struct ctx *c)
{
	footer(c);
	cairo_show_page(c->cr);
	c->page++;
	c->y = MARGIN;
	char b[160];
	fmt(b, sizeof b, "%s (continued)", c->test_label);
	rgb(c, GREY);
	c->y += text(c, MARGIN, c->y, content_w(c), 1, 8, false, b) + GAP;
	rgb(c, INK);
}

/* Starts a new page unless h more points fit. */
static void need(struct ctx *c, double h)
{
	if (c->y + h > c->ph - MARGIN)
		new_page(c);
}

static void heading(struct ctx *c, const char *s)
{
	need(c, 40);
	c->y += 4;
	c->y += text(c, MARGIN, c->y, content_w(c), 1, 10.5, true, s) + 2;
	rgb(c, LIGHT);
	line(c, MARGIN, c->y, c->pw - MARGIN, c->y, 0.8);
	rgb(c, INK);
	c->y += 4;
}

/* A label and its value on one row; returns the row's height. */
static void field(struct ctx *c, double x, double w, double lw, const char *label,
		  const char *value, int lines, double *h)
{
	double a = text(c, x, c->y, lw, 1, 8, true, label);
	double b = text(c, x + lw, c->y, w - lw, lines, 8.5, false, value);
	double m = a > b ? a : b;
	if (m > *h)
		*h = m;
}

/* ---- blocks ---- */

static int header(struct ctx *c, struct tl_err *err)
{
	const struct tl_report_opts *o = c->opts;
	double x = MARGIN, w = content_w(c), logo_w = 0;
	if (o->logo_png && *o->logo_png) {
		cairo_surface_t *img = cairo_image_surface_create_from_png(o->logo_png);
		if (cairo_surface_status(img) != CAIRO_STATUS_SUCCESS) {
			tl_err_set(err, "report: logo %s: %s (a PNG file is needed)", o->logo_png,
				   cairo_status_to_string(cairo_surface_status(img)));
			cairo_surface_destroy(img);
			return -1;
		}
		double iw = cairo_image_surface_get_width(img), ih = cairo_image_surface_get_height(img);
		double s = fmin(48.0 / ih, 110.0 / iw);
		cairo_save(c->cr);
		cairo_translate(c->cr, x, c->y);
		cairo_scale(c->cr, s, s);
		cairo_set_source_surface(c->cr, img, 0, 0);
		cairo_paint(c->cr);
		cairo_restore(c->cr);
		cairo_surface_destroy(img);
		logo_w = iw * s + 10;
	}
	double tw = w - logo_w - 170, h = 0;
	h += text(c, x + logo_w, c->y, tw, 2, 13, true,
		  o->lab_name && *o->lab_name ? o->lab_name : "Vascular laboratory");
	if (o->lab_address && *o->lab_address)
		h += text(c, x + logo_w, c->y + h, tw, 3, 8, false, o->lab_address);
	double rh = text_at(c, MARGIN + w - 165, c->y, 165, 1, 12, true, RIGHT_AL,
			    "Treadmill test report", true);
	char b[128], t[64];
	when(str(c->rec, "started_at"), t, sizeof t);
	json_int_t id = json_integer_value(json_object_get(c->rec, "id"));
	fmt(b, sizeof b, "Test %lld\n%s", (long long)id, t);
	rh += text_at(c, MARGIN + w - 165, c->y + rh, 165, 2, 8.5, false, RIGHT_AL, b, true);
	c->y += fmax(fmax(h, rh), logo_w ? 48 : 0) + 4;
	rgb(c, INK);
	line(c, MARGIN, c->y, c->pw - MARGIN, c->y, 1.2);
	c->y += GAP;
	return 0;
}

static void patient(struct ctx *c)
{
	const json_t *r = c->rec;
	double w = content_w(c), half = w / 2 - 6, h = 0;
	char t[64];
	/* Name, birth date, sex and referrer are shown where the record has them. */
	field(c, MARGIN, half, 72, "Patient ID", str(r, "patient"), 2, &h);
	when(str(r, "started_at"), t, sizeof t);
	field(c, MARGIN + half + 12, half, 72, "Test date", t, 1, &h);
	c->y += h + 3;
	h = 0;
	/* The patient's demographics (schema 8: "demographics"), "Family, Given"; a record
	 * of another source may carry patient_name, birth_date and sex at its top. */
	const json_t *d = json_object_get(r, "demographics");
	const char *fam = str(d, "family"), *giv = str(d, "given");
	const char *birth = str(d, "birth_date") ? str(d, "birth_date") : str(r, "birth_date");
	const char *sex = str(d, "sex") ? str(d, "sex") : str(r, "sex");
	char full[256];
	fmt(full, sizeof full, "%s%s%s", fam ? fam : "", fam && giv ? ", " : "", giv ? giv : "");
	const char *name = full[0] ? full : str(r, "patient_name");
	if (name || birth || sex) {
		field(c, MARGIN, half, 72, "Name", name ? name : "-", 2, &h);
		char bs[160];
		fmt(bs, sizeof bs, "%s%s%s", birth ? birth : "-", sex ? ", " : "", sex ? sex : "");
		field(c, MARGIN + half + 12, half, 72, "Born, sex", bs, 1, &h);
		c->y += h + 3;
		h = 0;
	}
	field(c, MARGIN, half, 72, "Operator", str(r, "operator"), 2, &h);
	if (str(r, "referring_physician"))
		field(c, MARGIN + half + 12, half, 72, "Referred by", str(r, "referring_physician"), 2, &h);
	else if (str(r, "findings_operator"))
		field(c, MARGIN + half + 12, half, 72, "Symptoms by", str(r, "findings_operator"), 1, &h);
	c->y += h + 3;
	h = 0;
	json_t *p = json_object_get(r, "protocol_as_run");
	const char *title = str(p, "title") ? str(p, "title") : str(r, "protocol");
	field(c, MARGIN, w, 72, "Protocol", title, 2, &h);
	c->y += h + 1;
	if (str(p, "reference")) {
		rgb(c, GREY);
		c->y += text(c, MARGIN + 72, c->y, w - 72, 3, 7, false, str(p, "reference")) + 2;
		rgb(c, INK);
	}
	h = 0;
	/* the operator's stated reason, when the stop event carries one */
	char ended[640];
	const char *why = NULL;
	size_t i;
	json_t *ev;
	json_array_foreach(json_object_get(r, "events"), i, ev)
		if (str(ev, "kind") && !strcmp(str(ev, "kind"), "stop") && str(ev, "detail"))
			why = str(ev, "detail");
	fmt(ended, sizeof ended, "%s%s%s", end_text(str(r, "end_reason")), why ? ": " : "",
	    why ? why : "");
	field(c, MARGIN, w, 72, "Test ended", ended, 2, &h);
	c->y += h + GAP;
}

static void red_flags(struct ctx *c)
{
	json_t *flags = json_object_get(json_object_get(c->rec, "classification"), "red_flags");
	if (!json_array_size(flags))
		return;
	double w = content_w(c) - 16, h = 0;
	size_t i;
	json_t *f;
	/* Measured first: the box is drawn around what it holds. */
	h += text_at(c, 0, 0, w, 1, 10, true, LEFT, "RED FLAGS - urgent attention", false) + 4;
	json_array_foreach(flags, i, f) {
		char b[1024];
		fmt(b, sizeof b, "%s: %s", red_flag_text(str(f, "code")), str(f, "reason") ? str(f, "reason") : "");
		h += text_at(c, 0, 0, w, 4, 8.5, false, LEFT, b, false) + 3;
	}
	need(c, h + 16);
	double y0 = c->y;
	cairo_set_source_rgb(c->cr, 1.0, 0.93, 0.93);
	cairo_rectangle(c->cr, MARGIN, y0, content_w(c), h + 12);
	cairo_fill(c->cr);
	rgb(c, RED);
	cairo_set_line_width(c->cr, 2);
	cairo_rectangle(c->cr, MARGIN, y0, content_w(c), h + 12);
	cairo_stroke(c->cr);
	double y = y0 + 6;
	y += text(c, MARGIN + 8, y, w, 1, 10, true, "RED FLAGS - urgent attention") + 4;
	rgb(c, INK);
	json_array_foreach(flags, i, f) {
		char b[1024];
		fmt(b, sizeof b, "%s: %s", red_flag_text(str(f, "code")), str(f, "reason") ? str(f, "reason") : "");
		y += text(c, MARGIN + 8, y, w, 4, 8.5, false, b) + 3;
	}
	c->y = y0 + h + 12 + GAP;
}

/* One endpoint: value with unit, the censored form, or "not reached". */
static void endpoint_text(const json_t *r, const char *key, const char *unit, bool censorable,
			  char *b, size_t n)
{
	double v;
	const char *er = str(r, "end_reason");
	if (!num(r, key, &v))
		fmt(b, n, "not reached");
	else if (censorable && er && strcmp(er, "max_claudication"))
		fmt(b, n, "more than %.1f %s (censored: %s)", v, unit, end_text(er));
	else
		fmt(b, n, "%.1f %s", v, unit);
}

static void endpoints(struct ctx *c)
{
	heading(c, "Walking endpoints");
	static const struct {
		const char *label, *key, *unit, *what;
		bool censorable;
	} e[] = {
		{"COT", "cot_s", "s", "claudication onset time", false},
		{"PWT", "pwt_s", "s", "peak walking time", true},
		{"ICD", "icd_m", "m", "initial claudication distance", false},
		{"ACD", "acd_m", "m", "absolute claudication distance", true},
		{"Recovery", "recovery_s", "s", "belt stop to symptom relief", false},
	};
	double w = content_w(c);
	need(c, 5 * 13);
	for (size_t i = 0; i < sizeof e / sizeof e[0]; i++) {
		char v[160];
		endpoint_text(c->rec, e[i].key, e[i].unit, e[i].censorable, v, sizeof v);
		text(c, MARGIN, c->y, 60, 1, 9, true, e[i].label);
		double h = text(c, MARGIN + 60, c->y, w * 0.55 - 60, 2, 9, false, v);
		rgb(c, GREY);
		text(c, MARGIN + w * 0.55, c->y, w * 0.45, 1, 8, false, e[i].what);
		rgb(c, INK);
		c->y += fmax(h, 11) + 2;
	}
	double wt, d;
	if (num(c->rec, "walking_time_s", &wt) && num(c->rec, "distance_m", &d)) {
		char b[128];
		fmt(b, sizeof b, "Walked %.1f s, %.1f m in all.", wt, d);
		rgb(c, GREY);
		c->y += text(c, MARGIN, c->y, w, 1, 8, false, b);
		rgb(c, INK);
	}
	c->y += GAP;
}

/* ---- plots ---- */

struct axes {
	double x, y, w, h;          /* the plot area */
	double x0, x1, y0, y1, y2;  /* x range; left y range; right y max (0: none) */
};

static double px(const struct axes *a, double v)
{
	return a->x + (v - a->x0) / (a->x1 - a->x0) * a->w;
}

static double py(const struct axes *a, double v, double top)
{
	return a->y + a->h - (v - a->y0) / (top - a->y0) * a->h;
}

/* A tick step near range/5 from 1, 2, 5 x 10^k. */
static double step(double range)
{
	double raw = range / 5, p = pow(10, floor(log10(raw))), m = raw / p;
	return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

static void frame(struct ctx *c, const struct axes *a, const char *xl, const char *yl,
		  const char *y2l)
{
	char b[32];
	rgb(c, LIGHT);
	double s = step(a->y1 - a->y0);
	for (double v = a->y0; v <= a->y1 + 1e-9; v += s)
		line(c, a->x, py(a, v, a->y1), a->x + a->w, py(a, v, a->y1), 0.4);
	rgb(c, INK);
	cairo_set_line_width(c->cr, 0.8);
	cairo_rectangle(c->cr, a->x, a->y, a->w, a->h);
	cairo_stroke(c->cr);
	for (double v = a->y0; v <= a->y1 + 1e-9; v += s) {
		fmt(b, sizeof b, "%g", round(v * 100) / 100);
		text_at(c, a->x - 32, py(a, v, a->y1) - 5, 29, 1, 6.5, false, RIGHT_AL, b, true);
	}
	if (a->y2 > 0) {
		double s2 = step(a->y2);
		for (double v = 0; v <= a->y2 + 1e-9; v += s2) {
			fmt(b, sizeof b, "%g", v);
			text(c, a->x + a->w + 3, py(a, v, a->y2) - 5, 28, 1, 6.5, false, b);
		}
	}
	double sx = step(a->x1 - a->x0);
	for (double v = ceil(a->x0 / sx) * sx; v <= a->x1 + 1e-9; v += sx) {
		fmt(b, sizeof b, "%g", v);
		text_at(c, px(a, v) - 20, a->y + a->h + 2, 40, 1, 6.5, false, CENTER, b, true);
	}
	text_at(c, a->x, a->y + a->h + 11, a->w, 1, 7, false, CENTER, xl, true);
	text(c, a->x - 32, a->y - 11, 120, 1, 7, false, yl);
	if (y2l)
		text_at(c, a->x + a->w - 90, a->y - 11, 120, 1, 7, false, RIGHT_AL, y2l, true);
}

static void series(struct ctx *c, const json_t *samples, const struct axes *a, const char *key,
		   double top, bool dashed)
{
	size_t i;
	json_t *s;
	bool pen = false;
	cairo_save(c->cr);
	cairo_rectangle(c->cr, a->x, a->y, a->w, a->h);
	cairo_clip(c->cr);
	cairo_set_line_width(c->cr, dashed ? 0.9 : 1.2);
	double dash[] = {3, 2};
	cairo_set_dash(c->cr, dash, dashed ? 2 : 0, 0);
	json_array_foreach(samples, i, s) {
		double t, v;
		if (!num(s, "t_s", &t) || !num(s, key, &v)) {
			pen = false;
			continue;
		}
		if (pen)
			cairo_line_to(c->cr, px(a, t), py(a, v, top));
		else
			cairo_move_to(c->cr, px(a, t), py(a, v, top));
		pen = true;
	}
	cairo_stroke(c->cr);
	cairo_restore(c->cr);
}

static void speed_plot(struct ctx *c, const json_t *samples, double x, double y, double w, double h)
{
	struct axes a = {x + 34, y + 14, w - 34 - 28, h - 14 - 22, 0, 60, 0, 4, 10};
	size_t i;
	json_t *s;
	json_array_foreach(samples, i, s) {
		double v;
		if (num(s, "t_s", &v) && v > a.x1)
			a.x1 = v;
		if (num(s, "target_speed_kmh", &v) && v > a.y1)
			a.y1 = v;
		if (num(s, "actual_speed_kmh", &v) && v > a.y1)
			a.y1 = v;
		if (num(s, "target_grade_pct", &v) && v > a.y2)
			a.y2 = v;
		if (num(s, "actual_grade_pct", &v) && v > a.y2)
			a.y2 = v;
	}
	a.y1 = ceil(a.y1 * 1.15);
	a.y2 = ceil(a.y2 * 1.15);
	frame(c, &a, "time (s)", "speed (km/h)", "grade (%)");
	rgb(c, BLUE);
	series(c, samples, &a, "target_speed_kmh", a.y1, true);
	series(c, samples, &a, "actual_speed_kmh", a.y1, false);
	rgb(c, ORANGE);
	series(c, samples, &a, "target_grade_pct", a.y2, true);
	series(c, samples, &a, "actual_grade_pct", a.y2, false);
	static const struct {
		const char *kind, *label;
	} marks[] = {{"onset", "onset"}, {"max", "max"}, {"walk_end", "stop"}, {"relief", "relief"}};
	double dash[] = {2, 2};
	for (size_t k = 0; k < sizeof marks / sizeof marks[0]; k++) {
		double t;
		if (!event_t(c->rec, marks[k].kind, &t) || t < a.x0 || t > a.x1)
			continue;
		rgb(c, k == 2 ? 0.6 : 0.2, 0.2, 0.2);
		cairo_save(c->cr);
		cairo_set_dash(c->cr, dash, 2, 0);
		line(c, px(&a, t), a.y, px(&a, t), a.y + a.h, 0.7);
		cairo_restore(c->cr);
		/* near the right edge the label goes left of its line */
		bool left = px(&a, t) > a.x + a.w - 30;
		text_at(c, left ? px(&a, t) - 31.5 : px(&a, t) + 1.5, a.y + 1 + 8 * (double)k, 30, 1,
			6, false, left ? RIGHT_AL : LEFT, marks[k].label, true);
	}
	/* legend */
	rgb(c, BLUE);
	text(c, a.x + 2, a.y + a.h - 18, 180, 1, 6, false, "speed: commanded (dashed), measured");
	rgb(c, ORANGE);
	text(c, a.x + 2, a.y + a.h - 10, 180, 1, 6, false, "grade: commanded (dashed), measured");
	rgb(c, INK);
}

/* The ABI per side at rest (baseline) and at each post-exercise minute. */
static void abi_plot(struct ctx *c, const json_t *abi, double x, double y, double w, double h)
{
	struct axes a = {x + 34, y + 14, w - 34 - 10, h - 14 - 22, 0, 5, 0, 1.4, 0};
	static const char *const side[2] = {"right", "left"};
	for (int s = 0; s < 2; s++) {
		size_t i;
		json_t *p;
		double v;
		json_t *leg = json_object_get(abi, side[s]);
		if (num(leg, "rest", &v) && v > a.y1)
			a.y1 = v;
		json_array_foreach(json_object_get(leg, "post"), i, p) {
			double m;
			if (num(p, "minute", &m) && m + 1 > a.x1)
				a.x1 = ceil(m + 1);
			if (num(p, "abi", &v) && v > a.y1)
				a.y1 = v;
		}
	}
	a.y1 = ceil(a.y1 * 5) / 5;
	frame(c, &a, "minutes after exercise", "ABI", NULL);
	double dash[] = {4, 2};
	/* 0.90: the resting ABI's upper limit of abnormal (docs/clinical.md, ABI). */
	rgb(c, GREY);
	line(c, a.x, py(&a, 0.9, a.y1), a.x + a.w, py(&a, 0.9, a.y1), 0.4);
	text(c, a.x + a.w - 28, py(&a, 0.9, a.y1) - 8, 28, 1, 5.5, false, "0.90");
	bool any = false;
	for (int s = 0; s < 2; s++) {
		json_t *leg = json_object_get(abi, side[s]);
		if (s == 0)
			rgb(c, BLUE);
		else
			rgb(c, ORANGE);
		double rest;
		if (num(leg, "rest", &rest)) {
			cairo_save(c->cr);
			cairo_set_dash(c->cr, dash, 2, 0);
			line(c, a.x, py(&a, rest, a.y1), a.x + a.w, py(&a, rest, a.y1), 0.9);
			cairo_restore(c->cr);
			any = true;
		}
		size_t i;
		json_t *p;
		bool pen = false;
		cairo_set_line_width(c->cr, 1.2);
		json_array_foreach(json_object_get(leg, "post"), i, p) {
			double m, v;
			if (!num(p, "minute", &m) || !num(p, "abi", &v))
				continue;
			if (pen)
				cairo_line_to(c->cr, px(&a, m), py(&a, v, a.y1));
			else
				cairo_move_to(c->cr, px(&a, m), py(&a, v, a.y1));
			pen = true;
		}
		cairo_stroke(c->cr);
		json_array_foreach(json_object_get(leg, "post"), i, p) {
			double m, v;
			if (!num(p, "minute", &m) || !num(p, "abi", &v))
				continue;
			cairo_arc(c->cr, px(&a, m), py(&a, v, a.y1), 2.2, 0, 2 * M_PI);
			cairo_fill(c->cr);
			any = true;
		}
	}
	rgb(c, BLUE);
	text(c, a.x + 2, a.y + a.h - 18, 150, 1, 6, false, "right: post-exercise; rest (dashed)");
	rgb(c, ORANGE);
	text(c, a.x + 2, a.y + a.h - 10, 150, 1, 6, false, "left: post-exercise; rest (dashed)");
	if (!any) {
		rgb(c, GREY);
		text_at(c, a.x, a.y + a.h / 2 - 6, a.w, 1, 8, false, CENTER, "no pressures recorded", true);
	}
	rgb(c, INK);
}

static void plots(struct ctx *c, const json_t *samples)
{
	heading(c, "Treadmill and pressures");
	double w = content_w(c), h = 150;
	need(c, h);
	if (json_array_size(samples))
		speed_plot(c, samples, MARGIN, c->y, w * 0.56, h);
	else
		text(c, MARGIN + 20, c->y + h / 2, w * 0.5, 1, 8, false, "no treadmill samples recorded");
	json_t *abi = json_object_get(json_object_get(c->rec, "classification"), "abi");
	abi_plot(c, abi, MARGIN + w * 0.58, c->y, w * 0.42, h);
	c->y += h + GAP;
}

/* ---- ABI table ---- */

/* "PT 98, DP 92; arm 140" for one leg at a phase and minute (NAN: rest): the last reading
 * of each site wins, as in the classifier (a later entry corrects an earlier one). */
/* A reading the daemon took from the cuff at the foot switch (src/daemon/cuffd.h). */
static bool from_cuff(const json_t *p)
{
	const char *src = str(p, "source");
	return src && !strncmp(src, "cuff-", 5);
}

static void arteries(const json_t *rec, const char *leg, double minute, char *b, size_t n)
{
	static const char *const sites[] = {"pt", "dp", "toe", "brachial"};
	static const char *const label[] = {"PT", "DP", "toe", "arm"};
	double val[4];
	bool has[4] = {false, false, false, false}, nc[4] = {false, false, false, false};
	bool cuff[4] = {false, false, false, false};
	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(rec, "pressures"), i, p) {
		const char *ph = str(p, "phase"), *site = str(p, "site");
		double m = NAN, v;
		if (!ph || !site || !num(p, "mmhg", &v))
			continue;
		bool rest = !strcmp(ph, "rest");
		if (isnan(minute) ? !rest : (rest || !num(p, "minute", &m) || fabs(m - minute) > 1e-6))
			continue;
		for (int k = 0; k < 4; k++) {
			char want[32];
			fmt(want, sizeof want, "%s-%s", sites[k], leg);
			bool match = k == 3 ? !strncmp(site, "brachial-", 9) : !strcmp(site, want);
			if (!match)
				continue;
			/* the arm: the higher of the two (docs/clinical.md, ABI) */
			if (k == 3 && has[3] && v < val[3])
				continue;
			has[k] = true;
			val[k] = v;
			nc[k] = json_is_true(json_object_get(p, "noncompressible"));
			cuff[k] = from_cuff(p);
		}
	}
	size_t o = 0;
	b[0] = 0;
	for (int k = 0; k < 4 && o < n; k++)
		if (has[k])
			o += (size_t)snprintf(b + o, n - o, "%s%s %.0f%s%s", o ? ", " : "", label[k],
					      val[k], cuff[k] ? "c" : "", nc[k] ? " NC" : "");
}

static void abi_cell(const json_t *leg, const json_t *point, bool rest, char *b, size_t n)
{
	double v, f;
	const json_t *o = rest ? leg : point;
	if (num(o, rest ? "rest" : "abi", &v)) {
		if (!rest && num(point, "fall_pct", &f))
			fmt(b, n, "%.2f (fall %.0f %%)", v, f);
		else
			fmt(b, n, "%.2f", v);
	} else if (rest && str(leg, "rest_category")) {
		fmt(b, n, "%s", str(leg, "rest_category"));
	} else {
		fmt(b, n, "not measured");
	}
}

static void abi_table(struct ctx *c)
{
	json_t *cl = json_object_get(c->rec, "classification");
	json_t *abi = json_object_get(cl, "abi"), *tbi = json_object_get(cl, "tbi");
	heading(c, "Ankle-brachial index");
	if (!abi) {
		c->y += text(c, MARGIN, c->y, content_w(c), 2, 8.5, false,
			     "No ABI: no pressures were recorded for this test.") + GAP;
		return;
	}
	static const char *const side[2] = {"right", "left"};
	double w = content_w(c), c0 = 90, cw = (w - c0) / 2;
	double row = 11;
	need(c, row * 3);
	text(c, MARGIN, c->y, c0, 1, 8, true, "");
	text(c, MARGIN + c0, c->y, cw, 1, 8.5, true, "Right leg");
	text(c, MARGIN + c0 + cw, c->y, cw, 1, 8.5, true, "Left leg");
	c->y += row + 1;
	/* the post-exercise minutes: the union of both legs', in order */
	double mins[32];
	size_t nm = 0;
	for (int s = 0; s < 2; s++) {
		size_t i;
		json_t *p;
		json_array_foreach(json_object_get(json_object_get(abi, side[s]), "post"), i, p) {
			double m;
			if (!num(p, "minute", &m))
				continue;
			bool dup = false;
			for (size_t k = 0; k < nm; k++)
				dup |= fabs(mins[k] - m) < 1e-6;
			if (!dup && nm < 32)
				mins[nm++] = m;
		}
	}
	for (size_t i = 1; i < nm; i++)
		for (size_t k = i; k > 0 && mins[k - 1] > mins[k]; k--) {
			double t = mins[k];
			mins[k] = mins[k - 1];
			mins[k - 1] = t;
		}
	for (size_t r = 0; r <= nm; r++) {
		char lab[48];
		if (r == 0)
			fmt(lab, sizeof lab, "Rest");
		else
			fmt(lab, sizeof lab, "Post %g min", mins[r - 1]);
		double h = 0;
		for (int s = 0; s < 2; s++) {
			json_t *leg = json_object_get(abi, side[s]), *pt = NULL, *p;
			size_t i;
			json_array_foreach(json_object_get(leg, "post"), i, p) {
				double m;
				if (r && num(p, "minute", &m) && fabs(m - mins[r - 1]) < 1e-6)
					pt = p;
			}
			char v[64], art[160], cell[256];
			if (r && !pt)
				fmt(v, sizeof v, "not measured");
			else
				abi_cell(leg, pt, r == 0, v, sizeof v);
			arteries(c->rec, side[s], r ? mins[r - 1] : NAN, art, sizeof art);
			fmt(cell, sizeof cell, "%s%s%s%s", v, *art ? "  (" : "", art, *art ? ")" : "");
			double t = text(c, MARGIN + c0 + cw * s, c->y, cw - 6, 2, 8, false, cell);
			h = fmax(h, t);
		}
		text(c, MARGIN, c->y, c0, 1, 8, true, lab);
		c->y += fmax(h, row) + 1;
		need(c, row);
	}
	struct {
		const char *label;
		int kind;
	} rows[] = {{"Rest category", 0}, {"Criteria met", 1}, {"Recovery", 2}, {"TBI", 3}};
	for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
		double h = 0;
		bool any = false;
		for (int s = 0; s < 2; s++) {
			json_t *leg = json_object_get(abi, side[s]);
			char cell[512] = "";
			double v;
			if (rows[r].kind == 0) {
				fmt(cell, sizeof cell, "%s", str(leg, "rest_category") ? str(leg, "rest_category") : "-");
			} else if (rows[r].kind == 1) {
				size_t i, o = 0;
				json_t *k;
				json_array_foreach(json_object_get(leg, "criteria"), i, k)
					if (o < sizeof cell)
						o += (size_t)snprintf(cell + o, sizeof cell - o, "%s%s",
								      o ? ", " : "", json_string_value(k));
				if (!o)
					fmt(cell, sizeof cell, "none");
			} else if (rows[r].kind == 2) {
				if (num(leg, "recovery_min", &v))
					fmt(cell, sizeof cell, "ankle pressure back to rest at %g min", v);
				else if (num(leg, "rest", &v) && json_array_size(json_object_get(leg, "post")))
					fmt(cell, sizeof cell, "not back to rest at the last reading");
				else
					fmt(cell, sizeof cell, "-");
			} else {
				json_t *tl = json_object_get(tbi, side[s]);
				if (num(tl, "value", &v))
					fmt(cell, sizeof cell, "%.2f (%s)", v, str(tl, "category") ? str(tl, "category") : "");
				else
					fmt(cell, sizeof cell, "not measured");
			}
			any |= strcmp(cell, "not measured") != 0;
			h = fmax(h, text(c, MARGIN + c0 + cw * s, c->y, cw - 6, 3, 8, false, cell));
		}
		if (rows[r].kind == 3 && !any) {
			/* measured on neither side: the row is not shown (blank it) */
			cairo_save(c->cr);
			cairo_set_source_rgb(c->cr, 1, 1, 1);
			cairo_rectangle(c->cr, MARGIN + c0 - 1, c->y - 1, w - c0 + 2, h + 2);
			cairo_fill(c->cr);
			cairo_restore(c->cr);
			continue;
		}
		text(c, MARGIN, c->y, c0, 1, 8, true, rows[r].label);
		c->y += fmax(h, row) + 1;
		need(c, row);
	}
	rgb(c, GREY);
	bool any_cuff = false;
	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(c->rec, "pressures"), i, p)
		any_cuff |= from_cuff(p);
	c->y += text(c, MARGIN, c->y, w, 2, 6.5, false,
		     any_cuff ? "Pressures in mmHg; PT posterior tibial, DP dorsalis pedis, arm the "
				"higher brachial pressure, NC noncompressible artery, c read from the "
				"cuff at the technician's foot switch (not typed)."
			      : "Pressures in mmHg; PT posterior tibial, DP dorsalis pedis, arm the "
				"higher brachial pressure, NC noncompressible artery.") + GAP;
	rgb(c, INK);
}

/* ---- interpretation ---- */

static void interpretation(struct ctx *c)
{
	json_t *cl = json_object_get(c->rec, "classification");
	heading(c, "Interpretation");
	double w = content_w(c);
	if (!cl) {
		c->y += text(c, MARGIN, c->y, w, 2, 8.5, false,
			     "Not classified: the record has no classification.") + GAP;
		return;
	}
	need(c, 14);
	text(c, MARGIN, c->y, 72, 1, 8.5, true, "Category");
	c->y += text(c, MARGIN + 72, c->y, w - 72, 2, 9, true, category_text(str(cl, "category"))) + 3;
	json_t *sev = json_object_get(cl, "severity");
	static const char *const side[2] = {"right", "left"};
	for (int s = 0; s < 2; s++) {
		json_t *b = json_object_get(json_object_get(sev, "abi_band"), side[s]);
		if (!str(b, "band"))
			continue;
		char t[256];
		fmt(t, sizeof t, "%s leg ABI band: %s (%s)", s ? "Left" : "Right", str(b, "band"),
		    str(b, "criteria") ? str(b, "criteria") : "");
		need(c, 12);
		c->y += text(c, MARGIN + 72, c->y, w - 72, 2, 8, false, t) + 1;
	}
	static const char *const scales[2] = {"rutherford", "fontaine"};
	static const char *const names[2] = {"Rutherford category", "Fontaine stage"};
	for (int k = 0; k < 2; k++) {
		json_t *g = json_object_get(sev, scales[k]);
		if (!g)
			continue;
		char t[768];
		fmt(t, sizeof t, "%s %s: %s", names[k], str(g, "grade") ? str(g, "grade") : "not graded",
		    str(g, "criteria") ? str(g, "criteria") : "");
		need(c, 12);
		c->y += text(c, MARGIN + 72, c->y, w - 72, 3, 8, false, t) + 1;
	}
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(cl, "warnings"), i, f) {
		char t[1024];
		fmt(t, sizeof t, "Note: %s", str(f, "warning") ? str(f, "warning") : "");
		need(c, 12);
		c->y += text(c, MARGIN + 72, c->y, w - 72, 4, 8, false, t) + 1;
	}
	c->y += 3;
	if (json_array_size(json_object_get(cl, "findings"))) {
		need(c, 24);
		c->y += text(c, MARGIN, c->y, w, 1, 8.5, true, "Findings, each with its source") + 2;
	}
	json_array_foreach(json_object_get(cl, "findings"), i, f) {
		char t[1024];
		const char *to = str(f, "points_to");
		fmt(t, sizeof t, "%s (points to %s)", str(f, "finding") ? str(f, "finding") : "",
		    to ? to : "?");
		double h = text_at(c, 0, 0, w - 10, 3, 8, false, LEFT, t, false) +
			   text_at(c, 0, 0, w - 10, 2, 6.5, false, LEFT, str(f, "source"), false);
		need(c, h + 2);
		text(c, MARGIN, c->y, 10, 1, 8, false, "-");
		c->y += text(c, MARGIN + 10, c->y, w - 10, 3, 8, false, t);
		rgb(c, GREY);
		c->y += text(c, MARGIN + 10, c->y, w - 10, 2, 6.5, false, str(f, "source")) + 2;
		rgb(c, INK);
	}
	c->y += GAP;
}

/* ---- earlier tests ---- */

static void trend(struct ctx *c, const json_t *earlier)
{
	const char *started = str(c->rec, "started_at");
	json_int_t id = json_integer_value(json_object_get(c->rec, "id"));
	/* The 11 most recent tests before this one (the listing is newest first), shown
	 * oldest first, then this one. */
	const json_t *rows[12];
	size_t n = 0;
	for (size_t i = 0; i < json_array_size(earlier) && n < 11; i++) {
		json_t *t = json_array_get(earlier, i);
		const char *s = str(t, "started_at");
		if (json_integer_value(json_object_get(t, "id")) == id || !s || !started ||
		    strcmp(s, started) >= 0)
			continue;
		rows[n++] = t;
	}
	if (!n)
		return;
	for (size_t i = 0; i < n / 2; i++) {
		const json_t *t = rows[i];
		rows[i] = rows[n - 1 - i];
		rows[n - 1 - i] = t;
	}
	rows[n++] = c->rec;
	heading(c, "Earlier tests of this patient");
	double w = content_w(c), rh = 10.5;
	need(c, rh * (double)(n + 1));
	double cx[4] = {MARGIN, MARGIN + 90, MARGIN + 180, MARGIN + 270};
	text(c, cx[0], c->y, 88, 1, 8, true, "Date");
	text(c, cx[1], c->y, 88, 1, 8, true, "COT");
	text(c, cx[2], c->y, 88, 1, 8, true, "PWT");
	text(c, cx[3], c->y, 60, 1, 8, true, "Test");
	double y0 = c->y;
	c->y += rh;
	double maxv = 60;
	for (size_t i = 0; i < n; i++) {
		char d[64], a[96], b[96], t[32];
		when(str(rows[i], "started_at"), d, sizeof d);
		d[10] = 0;
		endpoint_text(rows[i], "cot_s", "s", false, a, sizeof a);
		double v;
		if (num(rows[i], "pwt_s", &v))
			fmt(b, sizeof b, "%.1f s%s", v,
			    str(rows[i], "end_reason") && strcmp(str(rows[i], "end_reason"), "max_claudication") ? " (censored)" : "");
		else
			fmt(b, sizeof b, "not reached");
		fmt(t, sizeof t, "%lld%s", (long long)json_integer_value(json_object_get(rows[i], "id")),
		    rows[i] == c->rec ? " (this)" : "");
		text(c, cx[0], c->y, 88, 1, 8, false, d);
		text(c, cx[1], c->y, 88, 1, 8, false, a);
		text(c, cx[2], c->y, 88, 1, 8, false, b);
		text(c, cx[3], c->y, 60, 1, 8, false, t);
		if (num(rows[i], "pwt_s", &v) && v > maxv)
			maxv = v;
		c->y += rh;
	}
	/* COT and PWT per visit as a small chart beside the table */
	struct axes a = {MARGIN + 370, y0 + 10, w - 370 - 4, fmax(c->y - y0 - 26, 40), 0,
			 (double)(n > 1 ? n - 1 : 1), 0, step(maxv) * ceil(maxv / step(maxv)), 0};
	rgb(c, INK);
	cairo_set_line_width(c->cr, 0.6);
	cairo_rectangle(c->cr, a.x, a.y, a.w, a.h);
	cairo_stroke(c->cr);
	static const char *const keys[2] = {"cot_s", "pwt_s"};
	for (int k = 0; k < 2; k++) {
		if (k == 0)
			rgb(c, ORANGE);
		else
			rgb(c, BLUE);
		bool pen = false;
		for (size_t i = 0; i < n; i++) {
			double v;
			if (!num(rows[i], keys[k], &v)) {
				pen = false;
				continue;
			}
			double X = px(&a, (double)i), Y = py(&a, v, a.y1);
			if (pen)
				cairo_line_to(c->cr, X, Y);
			else
				cairo_move_to(c->cr, X, Y);
			pen = true;
		}
		cairo_set_line_width(c->cr, 1.1);
		cairo_stroke(c->cr);
		for (size_t i = 0; i < n; i++) {
			double v;
			if (num(rows[i], keys[k], &v)) {
				cairo_arc(c->cr, px(&a, (double)i), py(&a, v, a.y1), 1.8, 0, 2 * M_PI);
				cairo_fill(c->cr);
			}
		}
	}
	rgb(c, INK);
	char lab[64];
	fmt(lab, sizeof lab, "0 - %g s", a.y1);
	text(c, a.x, a.y - 10, a.w, 1, 6, false, lab);
	rgb(c, ORANGE);
	text(c, a.x, a.y + a.h + 1, a.w / 2, 1, 6, false, "COT");
	rgb(c, BLUE);
	text(c, a.x + a.w / 2, a.y + a.h + 1, a.w / 2, 1, 6, false, "PWT");
	rgb(c, INK);
	c->y = fmax(c->y, a.y + a.h + 10) + GAP;
}

/* ---- signature ---- */

static void signature(struct ctx *c, const struct tl_report_signature *sig)
{
	double w = content_w(c), h = 44;
	const struct tl_report_opts *o = c->opts;
	char amend[512] = "";
	if (o->amended_version > 0) {
		char t[64];
		when(o->amended_at, t, sizeof t);
		fmt(amend, sizeof amend, "Amended after signed version %d (signed by %s at %s)",
		    o->amended_version, o->amended_by ? o->amended_by : "?", t);
		h += text_at(c, 0, 0, w - 16, 2, 8.5, true, LEFT, amend, false) + 2;
	}
	need(c, h + 4);
	double y0 = c->y;
	cairo_set_line_width(c->cr, 1);
	cairo_rectangle(c->cr, MARGIN, y0, w, h);
	cairo_stroke(c->cr);
	double y = y0 + 6;
	if (*amend) {
		rgb(c, RED);
		y += text(c, MARGIN + 8, y, w - 16, 2, 8.5, true, amend) + 2;
		rgb(c, INK);
	}
	if (sig && sig->name) {
		char t[64], b[512];
		when(sig->at, t, sizeof t);
		fmt(b, sizeof b, "Signed by %s", sig->name);
		y += text(c, MARGIN + 8, y, w - 16, 1, 10, true, b) + 2;
		fmt(b, sizeof b, "at %s", t);
		text(c, MARGIN + 8, y, w - 16, 1, 8.5, false, b);
	} else {
		rgb(c, RED);
		y += text(c, MARGIN + 8, y, w - 16, 1, 11, true, "Preliminary - not signed") + 2;
		rgb(c, INK);
		text(c, MARGIN + 8, y, w - 16, 1, 7.5, false,
		     "This report has not been reviewed and signed by a physician.");
	}
	c->y = y0 + h + GAP;
}

/* ---- the patient's page ---- */

static void patient_page(struct ctx *c)
{
	new_page(c);
	const json_t *r = c->rec;
	double w = content_w(c);
	c->y += text(c, MARGIN, c->y, w, 2, 14, true, "Your walking test: what it showed") + GAP;
	char b[1024], t[64];
	when(str(r, "started_at"), t, sizeof t);
	fmt(b, sizeof b, "Test of %s", t);
	c->y += text(c, MARGIN, c->y, w, 2, 9, false, b) + GAP;
	double v, d;
	if (num(r, "cot_s", &v) && num(r, "icd_m", &d))
		fmt(b, sizeof b, "Your leg pain started after %.0f seconds of walking (about %.0f metres).", v, d);
	else
		fmt(b, sizeof b, "You did not report leg pain starting during the walk.");
	c->y += text(c, MARGIN, c->y, w, 3, 10, false, b) + 4;
	const char *er = str(r, "end_reason");
	if (num(r, "pwt_s", &v) && num(r, "acd_m", &d)) {
		if (er && !strcmp(er, "max_claudication"))
			fmt(b, sizeof b, "You stopped because of the pain after %.0f seconds (about %.0f metres).", v, d);
		else
			fmt(b, sizeof b, "You walked %.0f seconds (about %.0f metres); the test ended because %s, "
				 "so this is not the furthest you can walk.", v, d, end_text(er));
		c->y += text(c, MARGIN, c->y, w, 3, 10, false, b) + 4;
	}
	const char *cat = str(json_object_get(r, "classification"), "category");
	const char *plain = "The results will be explained to you by your doctor.";
	if (cat && !strcmp(cat, "vascular"))
		plain = "The results suggest that narrowed arteries in the legs (peripheral artery "
			"disease) cause your leg pain. Your doctor will discuss this with you.";
	else if (cat && !strcmp(cat, "neurogenic"))
		plain = "The results suggest that your leg pain comes from the nerves in the lower "
			"back rather than from the arteries. Your doctor will discuss this with you.";
	else if (cat && !strcmp(cat, "mixed"))
		plain = "The results suggest that both the arteries and the nerves of the lower back "
			"may play a part in your leg pain. Your doctor will discuss this with you.";
	c->y += text(c, MARGIN, c->y, w, 4, 10, false, plain) + GAP;
	if (json_array_size(json_object_get(json_object_get(r, "classification"), "red_flags"))) {
		rgb(c, RED);
		c->y += text(c, MARGIN, c->y, w, 3, 10.5, true,
			     "Some findings need prompt attention: your doctor has been told and will "
			     "contact you.") + GAP;
		rgb(c, INK);
	}
	if (c->opts->patient_guidance && *c->opts->patient_guidance) {
		c->y += text(c, MARGIN, c->y, w, 1, 11, true, "Advice from the laboratory") + 4;
		double room = c->ph - MARGIN - c->y - 10;
		int lines = (int)(room / 13);
		c->y += text(c, MARGIN, c->y, w, lines > 1 ? lines : 1, 10, false,
			     c->opts->patient_guidance) + GAP;
	}
}

/* One font map for the process: pango's default one is per thread, and the daemon serves
 * each request on a thread of its own, which would load every font again (fontconfig's
 * scan) for each report. Renderings take turns on it: a font map is not for concurrent
 * use, and reports are rare. */
static pthread_once_t fontmap_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t fontmap_mu = PTHREAD_MUTEX_INITIALIZER;
static PangoFontMap *fontmap;

static void fontmap_init(void)
{
	fontmap = pango_cairo_font_map_new();
	/* Font sizes in points: one user unit of the PDF surface is one point (pango's
	 * default is 96 dpi). */
	if (fontmap)
		pango_cairo_font_map_set_resolution(PANGO_CAIRO_FONT_MAP(fontmap), 72);
}

int tl_report_paper_parse(const char *s, enum tl_report_paper *out)
{
	if (!strcasecmp(s, "a4"))
		*out = TL_REPORT_A4;
	else if (!strcasecmp(s, "letter"))
		*out = TL_REPORT_LETTER;
	else
		return -1;
	return 0;
}

static int render(const json_t *record, const json_t *samples, const json_t *earlier,
		  const struct tl_report_opts *opts, const struct tl_report_signature *sig,
		  unsigned char **pdf, size_t *len, struct tl_err *err)
{
	*pdf = NULL;
	*len = 0;
	if (!json_is_object(record) || !json_is_integer(json_object_get(record, "id"))) {
		tl_err_set(err, "report: the record is not a test record (no integer \"id\")");
		return -1;
	}
	if (samples && !json_is_array(samples)) {
		tl_err_set(err, "report: the samples are not an array");
		return -1;
	}
	/* Text from the configuration reaches pango, which takes UTF-8 only. */
	const char *const texts[][2] = {{"lab_name", opts->lab_name},
					{"lab_address", opts->lab_address},
					{"patient_guidance", opts->patient_guidance}};
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		const char *end;
		if (texts[i][1] && !g_utf8_validate(texts[i][1], -1, &end)) {
			tl_err_set(err, "report: %s is not UTF-8 text (byte %zu)", texts[i][0],
				   (size_t)(end - texts[i][1]));
			return -1;
		}
	}
	struct buf b = {0};
	struct ctx c = {0};
	c.rec = record;
	c.opts = opts;
	c.pw = opts->paper == TL_REPORT_LETTER ? 612 : 595.276;
	c.ph = opts->paper == TL_REPORT_LETTER ? 792 : 841.89;
	fmt(c.test_label, sizeof c.test_label, "Test %lld",
	    (long long)json_integer_value(json_object_get(record, "id")));
	c.surf = cairo_pdf_surface_create_for_stream(buf_write, &b, c.pw, c.ph);
	c.cr = cairo_create(c.surf);
	pthread_once(&fontmap_once, fontmap_init);
	if (fontmap) {
		PangoContext *pc = pango_font_map_create_context(fontmap);
		pango_cairo_update_context(c.cr, pc);
		c.lay = pango_layout_new(pc);
		g_object_unref(pc);
	}
	if (cairo_status(c.cr) != CAIRO_STATUS_SUCCESS || !c.lay) {
		tl_err_set(err, "report: cannot start the PDF: %s", cairo_status_to_string(cairo_status(c.cr)));
		goto fail;
	}
	/* The recorded start, not now: the same record gives the same bytes. */
	const char *started = str(record, "started_at");
	if (started && strlen(started) >= 19) {
		char iso[32];
		fmt(iso, sizeof iso, "%.19sZ", started);
		cairo_pdf_surface_set_metadata(c.surf, CAIRO_PDF_METADATA_CREATE_DATE, iso);
		cairo_pdf_surface_set_metadata(c.surf, CAIRO_PDF_METADATA_MOD_DATE, iso);
	}
	cairo_pdf_surface_set_metadata(c.surf, CAIRO_PDF_METADATA_TITLE, c.test_label);
	cairo_pdf_surface_set_metadata(c.surf, CAIRO_PDF_METADATA_CREATOR, "treadlab");
	c.page = 1;
	c.y = MARGIN;
	rgb(&c, INK);
	if (header(&c, err) < 0)
		goto fail;
	patient(&c);
	red_flags(&c);
	endpoints(&c);
	plots(&c, samples);
	abi_table(&c);
	interpretation(&c);
	trend(&c, earlier);
	signature(&c, sig);
	if (opts->patient_page)
		patient_page(&c);
	footer(&c);
	g_object_unref(c.lay);
	c.lay = NULL;
	cairo_destroy(c.cr);
	c.cr = NULL;
	cairo_surface_finish(c.surf);
	cairo_status_t s = cairo_surface_status(c.surf);
	cairo_surface_destroy(c.surf);
	c.surf = NULL;
	if (s != CAIRO_STATUS_SUCCESS || b.oom) {
		tl_err_set(err, "report: writing the PDF: %s", b.oom ? "out of memory" : cairo_status_to_string(s));
		goto fail;
	}
	*pdf = b.p;
	*len = b.n;
	return 0;
fail:
	if (c.lay)
		g_object_unref(c.lay);
	if (c.cr)
		cairo_destroy(c.cr);
	if (c.surf)
		cairo_surface_destroy(c.surf);
	free(b.p);
	return -1;
}

int tl_report_pdf(const json_t *record, const json_t *samples, const json_t *earlier,
		  const struct tl_report_opts *opts, const struct tl_report_signature *sig,
		  unsigned char **pdf, size_t *len, struct tl_err *err)
{
	pthread_mutex_lock(&fontmap_mu);
	int rc = render(record, samples, earlier, opts, sig, pdf, len, err);
	pthread_mutex_unlock(&fontmap_mu);
	return rc;
}
