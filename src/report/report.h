/* report.h - the test report a physician reads and signs, as PDF (docs/report.md).
 *
 * Drawn with cairo and pango from the record as the store gives it (tl_store_test_json,
 * tl_store_samples_json, tl_store_tests_json): no clock is read and nothing is looked up,
 * so the same inputs give the same bytes. Text from the record or the configuration is
 * set as plain text (never pango markup), wrapped or ellipsized inside its box. */
#ifndef TL_REPORT_H
#define TL_REPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "tl_err.h"

enum tl_report_paper { TL_REPORT_A4, TL_REPORT_LETTER };

struct tl_report_opts {
	enum tl_report_paper paper;
	const char *lab_name;         /* NULL or "": none */
	const char *lab_address;      /* may hold newlines */
	const char *logo_png;         /* path of a PNG; NULL or "": no logo */
	bool patient_page;            /* add a page for the patient in plain words */
	const char *patient_guidance; /* the lab's guidance text (UTF-8), NULL: none */
	/* A preliminary rendering of a record changed after it was signed: the version
	 * signed, by whom and when (0: not amended). */
	int amended_version;
	const char *amended_by, *amended_at;
};

/* Who signed, and when (UTC ISO 8601, as the store keeps times). */
struct tl_report_signature {
	const char *name;
	const char *at;
};

/* Parses "a4" or "letter" (no case); returns 0, or -1. */
int tl_report_paper_parse(const char *s, enum tl_report_paper *out);

/* Renders the report of record (tl_store_test_json's shape) with its samples (may be
 * NULL: no speed plot) and the patient's other tests (tl_store_tests_json's shape, may be
 * NULL: only those started before this one are shown). sig NULL: "Preliminary - not
 * signed". On success *pdf is a malloc'd buffer of *len bytes (free() it) and 0 is
 * returned; else -1 with err ("report: ..."). */
int tl_report_pdf(const json_t *record, const json_t *samples, const json_t *earlier,
		  const struct tl_report_opts *opts, const struct tl_report_signature *sig,
		  unsigned char **pdf, size_t *len, struct tl_err *err);

/* ---- the research export (CSV, RFC 4180) ----
 * Cells are quoted when they hold a comma, a quote, CR or LF (quotes doubled); rows end in
 * CRLF. A cell starting with =, +, -, @, a tab or CR gets a leading apostrophe, so a
 * spreadsheet shows it as text instead of running it as a formula. */
struct tl_csv {
	char *p;   /* the text so far (NUL-terminated once anything was written) */
	size_t n, cap;
	bool oom;  /* an allocation failed: the text is incomplete */
	int col;   /* cells in the current row */
};

void tl_csv_cell(struct tl_csv *c, const char *s);          /* NULL: an empty cell */
void tl_csv_num(struct tl_csv *c, double v, int decimals);  /* NAN: an empty cell */
void tl_csv_end_row(struct tl_csv *c);
void tl_csv_free(struct tl_csv *c);

/* The export's header row, and one row for a test as tl_store_export_each gives it
 * (README.md, Data dictionary, names every column). */
void tl_report_csv_header(struct tl_csv *c);
void tl_report_csv_row(struct tl_csv *c, const json_t *test);

#endif
