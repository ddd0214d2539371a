/* required.h - what a record must hold before it is sent to the medical record (issue 13):
 * what an HL7 v2 PID segment and a FHIR Patient need to name the patient, and the order
 * the result answers. Pure: no I/O, reads only the record JSON. */
#ifndef TL_RECORDS_REQUIRED_H
#define TL_RECORDS_REQUIRED_H

#include <jansson.h>

#include "tl_err.h"

/* record: a test's record as tl_store_test_json gives it ("id", "demographics":{"mrn",
 * "assigning_authority","family","given","birth_date","sex"}, "order":{"accession",...}).
 * 0 if it holds the patient's MRN, assigning authority, family name, birth date and sex,
 * and the order's accession; else -1 and err lists every missing field at once:
 * "test 12 cannot be sent: missing patient assigning authority, birth date; order
 * accession". A given name and the ordering physician are sent when known, not required. */
int tl_records_check_required(const json_t *record, struct tl_err *err);

#endif
