/* The HL7 v2 message builder (tl_hl7_oru) on any bytes read as a test's record, the way
 * the preview and the outbox hand it a record from the store: with and without a report,
 * with and without PV1. A refused record says why; an accepted one must frame as HL7:
 * starts with MSH, every segment ends in CR, no other control byte (LF, MLLP's VT and
 * FS) anywhere, *len its length. */
#include <jansson.h>

#include "fuzz.h"
#include "hl7.h"

static void check(const char *m, size_t len)
{
	FUZZ_REQUIRE(strlen(m) == len);
	FUZZ_REQUIRE(!strncmp(m, "MSH|^~\\&|", 9));
	FUZZ_REQUIRE(len > 0 && m[len - 1] == '\r');
	for (size_t i = 0; i < len; i++)
		FUZZ_REQUIRE((unsigned char)m[i] >= 0x20 || m[i] == '\r');
	/* each segment: three upper-case letters or digits, then | */
	for (const char *s = m; s < m + len; s = strchr(s, '\r') + 1)
		FUZZ_REQUIRE(s + 4 <= m + len && s[3] == '|' &&
			     strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") >= 3);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t je;
	json_t *rec = json_loadb((const char *)data, size, 0, &je);
	if (!rec)
		return 0;
	struct tl_hl7_conf c = {0};
	strcpy(c.sending_application, "TREADLAB");
	strcpy(c.ed_type, "Application");
	strcpy(c.ed_subtype, "PDF");
	static const unsigned char pdf[] = "%PDF-1.4\n";
	for (int k = 0; k < 2; k++) {
		if (k)
			strcpy(c.patient_class, "O");
		char *out = NULL;
		size_t len = 0;
		struct tl_err err = {{0}};
		int rc = tl_hl7_oru(rec, k ? pdf : NULL, k ? sizeof pdf - 1 : 0, &c, "TL1",
				    "2026-11-26T19:00:00.000Z", &out, &len, &err);
		if (rc) {
			FUZZ_REQUIRE(rc == -1 && out == NULL);
			FUZZ_TERMINATED(err.msg);
			FUZZ_REQUIRE(err.msg[0] != '\0');
			continue;
		}
		check(out, len);
		FUZZ_REQUIRE((strstr(out, "\rPV1|") != NULL) == (k == 1));
		FUZZ_REQUIRE((strstr(out, "|ED|REPORT^") != NULL) == (k == 1));
		free(out);
	}
	json_decref(rec);
	return 0;
}
