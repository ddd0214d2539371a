/* hl7.h - the HL7 v2.5.1 ORU^R01 message of a test (issue 13; docs/records.md).
 *
 * Pure: builds the message from the record as the store gives it, the PDF report and the
 * [hl7] settings; reads no clock (the caller gives the message time) and does no I/O. */
#ifndef TL_HL7_H
#define TL_HL7_H

#include <stddef.h>

#include <jansson.h>

#include "records.h"
#include "tl_err.h"

/* The ORU^R01 of a test's record (tl_store_test_json's shape). pdf (may be NULL: no ED
 * OBX) is the report to embed. control_id is MSH-10 (1..20 printable ASCII); now_utc the
 * message time "YYYY-MM-DDTHH:MM:SS.mmmZ" (MSH-7). On success *out is a malloc'd,
 * NUL-terminated message of *len bytes, segments each ending in CR, no MLLP framing;
 * else -1 with err naming what is missing or wrong. */
int tl_hl7_oru(const json_t *record, const unsigned char *pdf, size_t pdf_len,
	       const struct tl_hl7_conf *conf, const char *control_id, const char *now_utc,
	       char **out, size_t *len, struct tl_err *err);

/* The text escaper (| ^ ~ \ & and CR/LF, the escape character first): exposed for tests.
 * s escaped for an HL7 v2 field with the standard delimiters |^~\&: a malloc'd string,
 * or NULL when out of memory. Control characters (CR and LF among them) become hex
 * escapes (\X0D\), so no byte of the result ends a segment or frames MLLP. */
char *tl_hl7_escape(const char *s);

#endif
