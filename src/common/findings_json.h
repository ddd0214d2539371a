/* findings_json.h - the findings document and the classification in JSON.
 *
 * Parsing is strict: an unknown key at any level, a wrong type, an unknown enum string,
 * a negative pressure or one above 300 mmHg, a negative minute or time, and duplicate
 * keys are refused with one message that starts with the field's path:
 *   "post[2].pt_left: 412 is above 300 mmHg"
 * Every key is optional; a missing key and null both mean "not measured / not
 * reported", while a pressure 0 means "measured, no signal". Post-exercise points need
 * a "minute", strictly increasing. The classification is rendered with JSON null for
 * every value that is not known, never a made-up number.
 *
 * The core logic is in abi.h and classifier.h; this file only converts. */
#ifndef TL_FINDINGS_JSON_H
#define TL_FINDINGS_JSON_H

#include <jansson.h>
#include <stddef.h>

#include "classifier.h"
#include "tl_err.h"

/* Parses a whole findings document (a JSON object). out is zeroed first. Returns 0, or
 * -1 with err set to "<path>: <reason>". */
int tl_findings_from_json(const json_t *doc, struct tl_findings *out, struct tl_err *err);

/* Parses the findings document from text (syntax errors: "line L column C: reason"). */
int tl_findings_parse(const char *text, size_t len, struct tl_findings *out,
		      struct tl_err *err);

/* Parses only a "symptoms" object; path prefixes the messages (e.g. "symptoms"). out is
 * zeroed first. */
int tl_symptoms_from_json(const json_t *obj, const char *path, struct tl_symptoms *out,
			  struct tl_err *err);

/* {"category", "abi": {"left", "right"}, "tbi": {"left", "right"}, "red_flags",
 *  "findings", "rationale"}; a new reference, NULL only if out of memory. */
json_t *tl_classification_to_json(const struct tl_classification *c);

#endif
