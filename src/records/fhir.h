/* fhir.h - a test's record as a FHIR R4 transaction Bundle (docs/records.md, FHIR), and
 * its delivery to a FHIR server over HTTP(S).
 *
 * The Bundle holds a Patient (conditional create on its identifier), a Procedure (the
 * treadmill test), one Observation per result and a DiagnosticReport whose
 * presentedForm is the PDF; entries refer to each other by urn:uuid fullUrls. Every
 * resource but the Patient carries its urn:uuid as an identifier and is created on
 * condition of that identifier too, so a Bundle sent twice (the outbox delivers at least
 * once) makes each resource once. */
#ifndef TL_FHIR_H
#define TL_FHIR_H

#include <jansson.h>
#include <stddef.h>

#include "records.h"
#include "tl_err.h"

/* The transaction Bundle of a test's record (tl_store_test_json's shape); pdf (may be
 * NULL) becomes the DiagnosticReport's presentedForm. seed names this message (the
 * outbox passes its control id): the urn:uuid of every entry is derived from it and the
 * entry's role, so the same message sent again is the same Bundle. now_utc: issued time.
 * Returns a new JSON object, or NULL with err naming every missing field.
 *
 * Besides the store's keys the record needs "demographics" {"mrn",
 * "assigning_authority","family","birth_date","sex"} and "order" {"accession"}
 * ("given" and "ordering_physician" are optional). An optional "signature" {"signed_by",
 * "signed_at"} says the PDF is a physician's signed version: the report is then final,
 * else preliminary (partial while the test is still in progress). */
json_t *tl_fhir_bundle(const json_t *record, const unsigned char *pdf, size_t pdf_len,
		       const char *seed, const char *now_utc, struct tl_err *err);

/* The Bundle as the text to send: compact, numbers as the record holds them (10
 * significant digits, so 0.7 is not sent as 0.69999999999999996). NULL if out of memory;
 * free() it. */
char *tl_fhir_dump(const json_t *bundle);

/* The Patient identifier's system for an assigning authority: "urn:oid:<oid>" for an
 * OID, the authority itself when it is already a URI (http:, https:, urn:), else
 * "urn:treadlab:authority:<name, percent-encoded>". -1 if out does not hold it. */
int tl_fhir_authority_system(const char *authority, char *out, size_t cap);

/* POSTs body (a Bundle) to conf->url with Content-Type application/fhir+json, the bearer
 * token when token is not NULL, TLS verification on (conf->ca_file when set), the whole
 * exchange within conf->d.timeout_ms. 2xx: DELIVERED (detail: the response's first
 * entry location if any); 4xx: REJECTED with the OperationOutcome's issue texts (or the
 * status line) in detail; 5xx, timeouts, connection errors: RETRY with the reason. */
enum tl_send_result tl_fhir_post(const struct tl_fhir_conf *conf, const char *token,
				 const char *body, size_t len, char *detail, size_t cap);

/* Reads the bearer token of [fhir] token_file: one line (a final newline is dropped) of
 * 1 to cap-1 characters, none of them a space or a control character (RFC 6750's token
 * syntax has neither). 0, or -1 with err naming the file and what is wrong. */
int tl_fhir_token_load(const char *path, char *out, size_t cap, struct tl_err *err);

#endif
