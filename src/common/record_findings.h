/* record_findings.h - a test record (as the store renders it) read as a findings document.
 *
 * The store keeps raw data: pressures by site, phase and minute; the symptoms the
 * technician entered; the events. The classifier reads a findings document. This turns
 * one into the other, so the result can always be recomputed from what was recorded. */
#ifndef TL_RECORD_FINDINGS_H
#define TL_RECORD_FINDINGS_H

#include <jansson.h>

#include "tl_err.h"

/* The pressure sites as the API and the command line name them. */
extern const char *const tl_pressure_sites[]; /* NULL-terminated: "brachial-left", ... */
int tl_pressure_site_valid(const char *site);

/* Builds the findings document {"rest","post","walk","two_stage","symptoms"} from a record
 * {"cot_s","pwt_s","end_reason","pressures":[...],"findings":{symptoms},"events":[...]}
 * (tl_store_test_json's shape). two_stage is filled when two_stage is true. Returns a
 * new object. Post-exercise points without a brachial pressure are kept (ankle falls and
 * recovery need none). */
json_t *tl_record_findings(const json_t *record, int two_stage);

/* Computes {"abi": ..., "classification": ...} for a record: two new JSON texts in
 * *abi_json and *classification_json (free() them). Returns 0, or -1 with err. */
int tl_record_classify(const json_t *record, int two_stage, char **abi_json,
		       char **classification_json, struct tl_err *err);

#endif
