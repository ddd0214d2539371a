/* cuff_pattern.c - the text cuff source's line patterns (cuff_pattern.h). */
#include "cuff_pattern.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 1 kPa in mmHg: 1000 Pa / 133.322 Pa (the conventional millimetre of mercury). */
#define MMHG_PER_KPA 7.50062

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

static bool site_char(char ch)
{
	return isalnum((unsigned char)ch) || ch == '_' || ch == '-';
}

static bool number_char(char ch)
{
	return isdigit((unsigned char)ch) || ch == '.';
}

/* Whether a field of this kind would swallow ch, the first character after it. */
static bool field_takes(enum tl_cuff_tok k, char ch)
{
	switch (k) {
	case TL_CTOK_MMHG:
	case TL_CTOK_KPA:
		return number_char(ch);
	case TL_CTOK_SITE:
		return site_char(ch);
	case TL_CTOK_SKIP:
		return !is_blank(ch);
	default:
		return false;
	}
}

static bool is_field(enum tl_cuff_tok k)
{
	return k != TL_CTOK_LIT && k != TL_CTOK_BLANK;
}

static int refuse(char *why, size_t cap, size_t col, const char *msg, const char *arg)
{
	snprintf(why, cap, "pattern column %zu: %s%s", col + 1, msg, arg ? arg : "");
	return -1;
}

int tl_cuff_pattern_compile(const char *text, struct tl_cuff_pattern *p, char *why, size_t cap)
{
	memset(p, 0, sizeof *p);
	size_t len = strlen(text);
	if (len == 0)
		return refuse(why, cap, 0, "the pattern is empty", NULL);
	if (len > TL_CUFF_PATTERN_MAX) {
		snprintf(why, cap, "pattern: longer than %d characters", TL_CUFF_PATTERN_MAX);
		return -1;
	}
	int pressure = 0;
	for (size_t i = 0; i < len;) {
		if (p->n == TL_CUFF_PATTERN_TOKENS)
			return refuse(why, cap, i, "too many parts", NULL);
		enum tl_cuff_tok kind = TL_CTOK_LIT;
		size_t start = i;
		char ch = text[i];
		if (is_blank(ch)) {
			while (i < len && is_blank(text[i]))
				i++;
			kind = TL_CTOK_BLANK;
		} else if (ch == '{' && text[i + 1] != '{') {
			const char *end = strchr(text + i, '}');
			if (!end)
				return refuse(why, cap, i, "'{' without a closing '}'", NULL);
			size_t n = (size_t)(end - text) - i - 1;
			char name[16] = "";
			if (n >= sizeof name)
				return refuse(why, cap, i, "unknown field (mmhg, kpa, site, skip)", NULL);
			memcpy(name, text + i + 1, n);
			name[n] = '\0';
			if (!strcmp(name, "mmhg"))
				kind = TL_CTOK_MMHG;
			else if (!strcmp(name, "kpa"))
				kind = TL_CTOK_KPA;
			else if (!strcmp(name, "site"))
				kind = TL_CTOK_SITE;
			else if (!strcmp(name, "skip"))
				kind = TL_CTOK_SKIP;
			else {
				char q[24];
				snprintf(q, sizeof q, "'{%s}'", name);
				return refuse(why, cap, i, "unknown field ", q);
			}
			i += n + 2;
		} else {
			/* A literal run, up to a blank or a field; "{{" and "}}" are braces. */
			size_t k = 0;
			int at = p->n;
			while (i < len && !is_blank(text[i]) && !(text[i] == '{' && text[i + 1] != '{')) {
				if (text[i] == '{' || text[i] == '}') {
					if (text[i + 1] != text[i])
						return refuse(why, cap, i, "a lone '}' (write '}}' for a brace)", NULL);
					i++;
				}
				p->tok[at].lit[k++] = text[i++];
			}
			p->tok[at].lit[k] = '\0';
		}
		if (kind == TL_CTOK_MMHG || kind == TL_CTOK_KPA) {
			if (pressure++)
				return refuse(why, cap, start, "a second pressure field", NULL);
		}
		if (kind == TL_CTOK_SITE) {
			if (p->has_site)
				return refuse(why, cap, start, "a second {site}", NULL);
			p->has_site = true;
		}
		/* The part before must end where this one begins. */
		if (p->n > 0) {
			enum tl_cuff_tok prev = p->tok[p->n - 1].kind;
			if (is_field(prev) && is_field(kind))
				return refuse(why, cap, start, "two fields need text or a space between them",
					      NULL);
			if (is_field(prev) && kind == TL_CTOK_LIT && field_takes(prev, p->tok[p->n].lit[0]))
				return refuse(why, cap, start, "this text could be read as part of the field "
					      "before it", NULL);
		}
		p->tok[p->n++].kind = kind;
	}
	if (!pressure)
		return refuse(why, cap, 0, "no pressure field ({mmhg} or {kpa})", NULL);
	return 0;
}

int tl_cuff_pattern_match(const struct tl_cuff_pattern *p, const char *line, double *mmhg,
			  char *site, size_t site_cap, char *why, size_t cap)
{
	size_t i = 0, len = strlen(line);
	if (site_cap)
		site[0] = '\0';
	if (len > TL_CUFF_PATTERN_MAX) {
		snprintf(why, cap, "longer than %d characters", TL_CUFF_PATTERN_MAX);
		return -1;
	}
	for (int t = 0; t < p->n; t++) {
		size_t start = i;
		switch (p->tok[t].kind) {
		case TL_CTOK_LIT: {
			size_t n = strlen(p->tok[t].lit);
			if (strncmp(line + i, p->tok[t].lit, n)) {
				snprintf(why, cap, "column %zu: expected '%s'", i + 1, p->tok[t].lit);
				return -1;
			}
			i += n;
			break;
		}
		case TL_CTOK_BLANK:
			while (i < len && is_blank(line[i]))
				i++;
			if (i == start) {
				snprintf(why, cap, "column %zu: expected a space", i + 1);
				return -1;
			}
			break;
		case TL_CTOK_MMHG:
		case TL_CTOK_KPA: {
			size_t digits = 0, points = 0, frac = 0;
			while (i < len && number_char(line[i])) {
				if (line[i] == '.')
					points++;
				else if (points)
					frac++;
				else
					digits++;
				i++;
			}
			if (!digits || points > 1 || (points && !frac) || i - start > 8) {
				snprintf(why, cap, "column %zu: expected a pressure (digits, optionally a "
					 "point and digits)", start + 1);
				return -1;
			}
			char num[16];
			memcpy(num, line + start, i - start);
			num[i - start] = '\0';
			double v = strtod(num, NULL);
			*mmhg = p->tok[t].kind == TL_CTOK_KPA ? v * MMHG_PER_KPA : v;
			break;
		}
		case TL_CTOK_SITE:
			while (i < len && site_char(line[i]))
				i++;
			if (i == start || i - start >= site_cap || i - start > 15) {
				snprintf(why, cap, "column %zu: expected a site (1 to 15 letters, digits, "
					 "'_' or '-')", start + 1);
				return -1;
			}
			memcpy(site, line + start, i - start);
			site[i - start] = '\0';
			break;
		case TL_CTOK_SKIP:
			while (i < len && !is_blank(line[i]))
				i++;
			if (i == start) {
				snprintf(why, cap, "column %zu: expected a field to skip", start + 1);
				return -1;
			}
			break;
		}
	}
	if (i != len) {
		snprintf(why, cap, "column %zu: unexpected text after the pattern", i + 1);
		return -1;
	}
	return 0;
}
