/* cuff_pattern.h - the line pattern of a text cuff source: what a line the device prints
 * looks like, and where the pressure (and the site) are in it. Pure: no I/O.
 *
 * The language (docs/hardware.md, "Cuff line patterns") is deliberately small, not a
 * regular expression: a pattern is matched against the whole line, left to right, with no
 * backtracking, so a line either matches in one pass or is refused.
 *   {mmhg}   the pressure in mmHg: digits, optionally a point and more digits
 *   {kpa}    the pressure in kPa (converted to mmHg); a pattern has exactly one of the two
 *   {site}   the site the device names: letters, digits, '_' or '-' (at most 15); optional
 *   {skip}   any run of non-blank characters (a time stamp, a counter); any number
 *   a space  one or more blanks (spaces or tabs)
 *   {{ }}    a literal brace
 *   anything else matches itself exactly (case matters)
 * Fields need a separator the field itself cannot take: {site}{mmhg}, {mmhg}5 or
 * {skip}: are refused when the pattern is compiled, so a match never has to guess. */
#ifndef TL_CUFF_PATTERN_H
#define TL_CUFF_PATTERN_H

#include <stdbool.h>
#include <stddef.h>

#define TL_CUFF_PATTERN_MAX 128 /* characters of a pattern, and of a line */
#define TL_CUFF_PATTERN_TOKENS 32

enum tl_cuff_tok { TL_CTOK_LIT, TL_CTOK_BLANK, TL_CTOK_MMHG, TL_CTOK_KPA, TL_CTOK_SITE, TL_CTOK_SKIP };

struct tl_cuff_pattern {
	int n;
	struct {
		enum tl_cuff_tok kind;
		char lit[TL_CUFF_PATTERN_MAX + 1]; /* TL_CTOK_LIT */
	} tok[TL_CUFF_PATTERN_TOKENS];
	bool has_site;
};

/* Compiles text. Returns 0, or -1 with why = "pattern column N: reason". */
int tl_cuff_pattern_compile(const char *text, struct tl_cuff_pattern *p, char *why, size_t cap);

/* Matches one line (without its line end). Returns 0 with *mmhg (and site, "" when the
 * pattern has none), or -1 with why = "column N: reason". */
int tl_cuff_pattern_match(const struct tl_cuff_pattern *p, const char *line, double *mmhg,
			  char *site, size_t site_cap, char *why, size_t cap);

#endif
