/* required.c - the fields a record needs before it is sent (required.h).
 *
 * HL7 v2.5.1 PID-3 (patient identifier list) carries the MRN with its assigning authority
 * (CX.4), which a receiver needs to tell one hospital's number from another's; PID-5
 * (name, family part), PID-7 (date of birth) and PID-8 (administrative sex) are what an
 * interface engine matches a patient on. The filler order number (OBR-3, ORC-3) is the
 * accession the result answers. FHIR R4 Patient.identifier needs system and value alike.
 * docs/demographics.md says the same in full. */
#include "required.h"

#include <stdio.h>
#include <string.h>

/* A field is there when it is a string with something in it. */
static int present(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s && s[0];
}

int tl_records_check_required(const json_t *record, struct tl_err *err)
{
	static const struct {
		const char *key, *words;
	} patient[] = {
		{"mrn", "MRN"},
		{"assigning_authority", "assigning authority"},
		{"family", "family name"},
		{"birth_date", "birth date"},
		{"sex", "sex"},
	};
	const json_t *demo = json_object_get(record, "demographics");
	const json_t *order = json_object_get(record, "order");
	char pmiss[256] = "", omiss[64] = "";
	size_t n = 0;
	for (size_t i = 0; i < sizeof patient / sizeof patient[0]; i++) {
		if (present(demo, patient[i].key))
			continue;
		size_t len = strlen(pmiss);
		snprintf(pmiss + len, sizeof pmiss - len, "%s%s", n++ ? ", " : "", patient[i].words);
	}
	if (!present(order, "accession"))
		snprintf(omiss, sizeof omiss, "accession");
	if (!pmiss[0] && !omiss[0])
		return 0;
	json_t *id = json_object_get(record, "id");
	char who[32] = "the test";
	if (json_is_integer(id))
		snprintf(who, sizeof who, "test %lld", (long long)json_integer_value(id));
	tl_err_set(err, "%s cannot be sent: missing %s%s%s%s%s", who, pmiss[0] ? "patient " : "",
		   pmiss, pmiss[0] && omiss[0] ? "; " : "", omiss[0] ? "order " : "", omiss);
	return -1;
}
