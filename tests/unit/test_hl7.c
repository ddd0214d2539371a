/* The ORU^R01 of a test (src/records/hl7.c): segment content for a full record (a real
 * daemon run's record with demographics and order added: tests/data/hl7/record.json),
 * the escaper, required fields listed at once, PV1 only with a patient class, the ED OBX
 * only with a report, hostile text escaped.
 *
 * With TL_HL7_DUMP=DIR each message built here is also written to DIR/NAME.hl7 (and what
 * must read back from it to DIR/NAME.expect.json), for the npm hl7v2 check that
 * integration.daemon_hl7 runs over them (tests/records/check_hl7.mjs). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hl7.h"

#define NOW "2026-11-26T19:00:00.123Z"

static json_t *fixture(void)
{
	json_error_t e;
	json_t *j = json_load_file(TL_TEST_DATA_DIR "/hl7/record.json", 0, &e);
	if (!j)
		print_error("%s line %d: %s\n", TL_TEST_DATA_DIR "/hl7/record.json", e.line, e.text);
	assert_non_null(j);
	return j;
}

static struct tl_hl7_conf conf(void)
{
	struct tl_hl7_conf c = {0};
	strcpy(c.sending_application, "TREADLAB");
	strcpy(c.sending_facility, "VASCLAB");
	strcpy(c.receiving_application, "EHR");
	strcpy(c.receiving_facility, "HOSP");
	strcpy(c.ed_type, "Application");
	strcpy(c.ed_subtype, "PDF");
	return c;
}

static void dump(const char *name, const char *msg, size_t len, const json_t *expect)
{
	const char *dir = getenv("TL_HL7_DUMP");
	if (!dir || !*dir)
		return;
	char path[512];
	snprintf(path, sizeof path, "%s/%s.hl7", dir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(msg, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	if (expect) {
		snprintf(path, sizeof path, "%s/%s.expect.json", dir, name);
		assert_int_equal(json_dump_file(expect, path, 0), 0);
	}
}

/* Builds the message, checks its framing (CR after every segment, no LF, len), dumps it. */
static char *build(const char *name, const json_t *rec, const unsigned char *pdf, size_t pdf_len,
		   const struct tl_hl7_conf *c, const json_t *expect)
{
	char *out = NULL;
	size_t len = 0;
	struct tl_err err = {{0}};
	if (tl_hl7_oru(rec, pdf, pdf_len, c, "TL1-preview", NOW, &out, &len, &err) < 0)
		print_error("tl_hl7_oru: %s\n", err.msg);
	assert_non_null(out);
	assert_int_equal(strlen(out), len);
	assert_true(len > 0 && out[len - 1] == '\r');
	assert_null(strchr(out, '\n'));
	dump(name, out, len, expect);
	return out;
}

/* The segment starting with prefix (at the start of the message or after a CR). */
static const char *segment(const char *msg, const char *prefix)
{
	size_t n = strlen(prefix);
	for (const char *p = msg; p && *p; p = strchr(p, '\r'), p = p ? p + 1 : NULL)
		if (!strncmp(p, prefix, n))
			return p;
	return NULL;
}

#define assert_segment(msg, whole)                                                         \
	do {                                                                               \
		if (!strstr((msg), whole)) {                                               \
			print_error("no segment %s in\n%s\n", whole, (msg));               \
			fail();                                                            \
		}                                                                          \
	} while (0)

static int count(const char *msg, const char *what)
{
	int n = 0;
	for (const char *p = strstr(msg, what); p; p = strstr(p + 1, what))
		n++;
	return n;
}

static void full_record(void **state)
{
	(void)state;
	json_t *rec = fixture();
	struct tl_hl7_conf c = conf();
	char *m = build("full", rec, NULL, 0, &c, NULL);
	assert_true(!strncmp(m, "MSH|^~\\&|TREADLAB|VASCLAB|EHR|HOSP|20261126190000.123+0000||"
				"ORU^R01^ORU_R01|TL1-preview|P|2.5.1\r", 90));
	assert_segment(m, "\rPID|1||MRN-0042^^^TESTHOSP^MR||Doe^Jane||19500102|F\r");
	assert_null(segment(m, "PV1|"));
	assert_segment(m, "\rORC|RE|ACC-2026-0001|ACC-2026-0001|||||||||P123^House^Greg\r");
	assert_segment(m, "\rOBR|1|ACC-2026-0001|ACC-2026-0001|TREADMILL-ABI^Treadmill exercise "
			  "test with ankle-brachial indices^99TLB^93924^Treadmill ABI study^C4|||"
			  "20261126185206.368+0000|20261126185212.753+0000||||||||P123^House^Greg"
			  "||||||20261126190000.123+0000|||F\r");
	/* the endpoints: local codes, UCUM units; walking time as LOINC exercise duration */
	assert_segment(m, "\rOBX|1|NM|COT^Claudication onset time^99TLB||60|s^s^UCUM|||||F\r");
	assert_segment(m, "|NM|PWT^Peak walking time^99TLB||120|s^s^UCUM|||||F\r");
	assert_segment(m, "|NM|ICD^Initial claudication distance^99TLB||51.9|m^m^UCUM|||||F\r");
	assert_segment(m, "|NM|ACD^Absolute claudication distance^99TLB||105.6|m^m^UCUM|||||F\r");
	assert_segment(m, "|NM|RECOVERY^Recovery time, belt stop to symptom relief^99TLB||3.8|"
			  "s^s^UCUM|||||F\r");
	assert_segment(m, "|NM|55411-3^Exercise duration^LN||120|s^s^UCUM|||||F\r");
	assert_segment(m, "|NM|WALKDIST^Walking distance^99TLB||107.1|m^m^UCUM|||||F\r");
	/* each pressure: site and phase in the sub-id, when it was taken, the body site */
	assert_segment(m, "|NM|8508-4^Brachial artery Systolic blood pressure^LN|brachial-left-rest|"
			  "140|mm[Hg]^mm[Hg]^UCUM|||||F|||20261126185206.410+0000||||||17137000^"
			  "Brachial artery^SCT^^^^^^left brachial artery\r");
	assert_segment(m, "|NM|ANKLE-PT-SBP^Posterior tibial artery systolic pressure^99TLB|"
			  "pt-left-post-1|62|mm[Hg]^mm[Hg]^UCUM|||||F|||20261126185212.604+0000||||||"
			  "13363002^Posterior tibial artery^SCT^^^^^^left posterior tibial artery\r");
	assert_segment(m, "|NM|ANKLE-DP-SBP^Dorsalis pedis artery systolic pressure^99TLB|"
			  "dp-right-rest|96|mm[Hg]^mm[Hg]^UCUM|||||F|||20261126185206.633+0000||||||"
			  "86547008^Dorsalis pedis artery^SCT^^^^^^right dorsalis pedis artery\r");
	assert_segment(m, "|NM|TOE-SBP^Toe systolic pressure^99TLB|toe-left-rest|60|mm[Hg]^mm[Hg]^"
			  "UCUM|||||F|||20261126185206.660+0000||||||^^^^^^^^left toe\r");
	assert_int_equal(count(m, "mm[Hg]^mm[Hg]^UCUM"), 15);
	/* ABIs with range and flag; the resting category; criteria; TBI */
	assert_segment(m, "|NM|77194-9^Ankle-brachial index^LN|left-rest|0.70|{ratio}^{ratio}^UCUM|"
			  "1.00-1.40|L|||F\r");
	assert_segment(m, "|NM|77194-9^Ankle-brachial index^LN|right-post-3|0.62|{ratio}^{ratio}^"
			  "UCUM|1.00-1.40|L|||F\r");
	assert_segment(m, "|CWE|ABI-CAT^Resting ABI category^99TLB|right-rest|abnormal^Abnormal, "
			  "0.90 or less^99TLB|||A|||F\r");
	assert_segment(m, "|CWE|ABI-CRIT^Post-exercise criterion met^99TLB|left-3|"
			  "ankle_fall_gt_30mmhg^Ankle pressure fall more than 30 mmHg^99TLB|||A|||F\r");
	assert_segment(m, "|NM|ANKLE-RECOVERY^Ankle pressure recovery time^99TLB|right|180|s^s^UCUM"
			  "|||||F\r");
	assert_segment(m, "|NM|TBI^Toe-brachial index^99TLB|left-rest|0.43|{ratio}^{ratio}^UCUM|"
			  ">0.70|L|||F\r");
	assert_int_equal(count(m, "|77194-9^"), 6);
	assert_segment(m, "|CWE|CATEGORY^Leg pain classification^99TLB||vascular^Vascular "
			  "(intermittent) claudication^99TLB||||||F\r");
	/* the interpretation as notes on the OBR, before the first OBX */
	const char *obr = segment(m, "OBR|"), *obx = segment(m, "OBX|1|");
	const char *note = segment(m, "NTE|1|L|Rutherford category 2: moderate claudication");
	assert_true(obr && note && obx && obr < note && note < obx);
	assert_non_null(segment(m, "NTE|3|L|Finding: left resting ABI 0.70 (<= 0.90, abnormal) "
				   "(points to vascular); source: 2016 AHA/ACC PAD guideline"));
	/* OBX-1 counts up; no report, no ED; plain ASCII, no MSH-18 */
	assert_int_equal(count(m, "\rOBX|"), 39);
	assert_non_null(segment(m, "OBX|39|CWE|CATEGORY"));
	assert_null(strstr(m, "|ED|"));
	assert_null(strstr(m, "UNICODE"));
	free(m);
	json_decref(rec);
}

static void pv1_only_with_a_patient_class(void **state)
{
	(void)state;
	json_t *rec = fixture();
	struct tl_hl7_conf c = conf();
	strcpy(c.patient_class, "O");
	char *m = build("pv1", rec, NULL, 0, &c, NULL);
	assert_segment(m, "|F\rPV1|1|O\rORC|RE|");
	free(m);
	/* without an ordering physician ORC ends at the filler order number */
	json_object_del(json_object_get(rec, "order"), "ordering_physician");
	m = build("nophysician", rec, NULL, 0, &c, NULL);
	assert_segment(m, "\rORC|RE|ACC-2026-0001|ACC-2026-0001\rOBR|1|");
	assert_segment(m, "|20261126185212.753+0000||||||||||||||20261126190000.123+0000|||F\r");
	free(m);
	json_decref(rec);
}

static void ed_only_with_a_report(void **state)
{
	(void)state;
	json_t *rec = fixture();
	struct tl_hl7_conf c = conf();
	strcpy(c.ed_type, "application");
	strcpy(c.ed_subtype, "pdf");
	static const unsigned char pdf[] = "%PDF-1.4 hello";
	char *m = build("ed", rec, pdf, sizeof pdf - 1, &c, NULL);
	/* the last segment, base64 with its padding */
	const char *ed = segment(m, "OBX|40|ED|REPORT^Treadmill test report^99TLB||^application^pdf^"
				    "Base64^JVBERi0xLjQgaGVsbG8=||||||F\r");
	assert_non_null(ed);
	assert_int_equal(strlen(ed), strlen("OBX|40|ED|REPORT^Treadmill test report^99TLB||^"
					    "application^pdf^Base64^JVBERi0xLjQgaGVsbG8=||||||F\r"));
	free(m);
	m = build("ed6", rec, pdf, 6, &c, NULL);
	assert_non_null(strstr(m, "^Base64^JVBERi0x||||||F\r"));
	free(m);
	m = build("ed7", rec, pdf, 7, &c, NULL);
	assert_non_null(strstr(m, "^Base64^JVBERi0xLg==||||||F\r"));
	free(m);
	json_decref(rec);
}

static void escaper(void **state)
{
	(void)state;
	static const char *const cases[][2] = {
		{"|", "\\F\\"},   {"^", "\\S\\"},     {"&", "\\T\\"},     {"~", "\\R\\"},
		{"\\", "\\E\\"},  {"\r", "\\X0D\\"},  {"\n", "\\X0A\\"},  {"a\r\nb", "a\\X0D\\\\X0A\\b"},
		/* the escape character first: an escape sequence in the text stays text */
		{"\\F\\", "\\E\\F\\E\\"},
		{"O'Brien|^~\\&", "O'Brien\\F\\\\S\\\\R\\\\E\\\\T\\"},
		/* MLLP's framing bytes and other controls as hex; UTF-8 as it is */
		{"\x0b\x1c\t", "\\X0B\\\\X1C\\\\X09\\"}, {"Zo\xc3\xab", "Zo\xc3\xab"}, {"", ""},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *e = tl_hl7_escape(cases[i][0]);
		assert_non_null(e);
		assert_string_equal(e, cases[i][1]);
		free(e);
	}
}

static int build_err(const json_t *rec, struct tl_err *err)
{
	struct tl_hl7_conf c = conf();
	char *out = (char *)1;
	size_t len = 1;
	int rc = tl_hl7_oru(rec, NULL, 0, &c, "TL1", NOW, &out, &len, err);
	assert_null(out);
	assert_int_equal(len, 0);
	return rc;
}

static void missing_fields_listed_at_once(void **state)
{
	(void)state;
	json_t *rec = fixture();
	struct tl_err err = {{0}};
	json_object_del(rec, "demographics");
	json_object_del(rec, "order");
	assert_int_equal(build_err(rec, &err), -1);
	assert_string_equal(err.msg, "hl7: test 1 cannot be sent: missing patient MRN; MRN assigning "
				     "authority; family name; birth date; sex; order accession number");
	json_decref(rec);

	/* nulls and empty strings are missing too; malformed values said what they are */
	rec = fixture();
	json_t *d = json_object_get(rec, "demographics");
	json_object_set_new(d, "mrn", json_string(""));
	json_object_set_new(d, "birth_date", json_string("1950-02-30"));
	json_object_set_new(d, "sex", json_string("F"));
	json_object_set_new(json_object_get(rec, "order"), "accession", json_null());
	assert_int_equal(build_err(rec, &err), -1);
	assert_string_equal(err.msg, "hl7: test 1 cannot be sent: missing patient MRN; order "
				     "accession number; birth date '1950-02-30' is not a date "
				     "YYYY-MM-DD; sex 'F' is not female, male, other or unknown");
	json_decref(rec);
}

static void refused_inputs(void **state)
{
	(void)state;
	json_t *rec = fixture();
	struct tl_hl7_conf c = conf();
	struct tl_err err = {{0}};
	char *out;
	size_t len;
	assert_int_equal(tl_hl7_oru(rec, NULL, 0, &c, "TL|1", NOW, &out, &len, &err), -1);
	assert_non_null(strstr(err.msg, "control id 'TL|1' is not 1 to 20 printable"));
	assert_int_equal(tl_hl7_oru(rec, NULL, 0, &c, "", NOW, &out, &len, &err), -1);
	assert_int_equal(tl_hl7_oru(rec, NULL, 0, &c, "123456789012345678901", NOW, &out, &len, &err), -1);
	assert_int_equal(tl_hl7_oru(rec, NULL, 0, &c, "TL1", "2026-11-26 19:00:00", &out, &len, &err), -1);
	assert_non_null(strstr(err.msg, "message time '2026-11-26 19:00:00' is not"));
	json_object_set_new(rec, "state", json_string("recovery"));
	assert_int_equal(tl_hl7_oru(rec, NULL, 0, &c, "TL1", NOW, &out, &len, &err), -1);
	assert_string_equal(err.msg, "hl7: test 1 is still in progress (state recovery): its results "
				     "are not final");
	json_object_set_new(rec, "state", json_string("complete"));
	json_array_append_new(json_object_get(rec, "pressures"),
			      json_pack("{s:s, s:n, s:s, s:i}", "phase", "rest", "minute", "site",
					"knee-left", "mmhg", 100));
	assert_int_equal(tl_hl7_oru(rec, NULL, 0, &c, "TL1", NOW, &out, &len, &err), -1);
	assert_non_null(strstr(err.msg, "pressures[15]: site 'knee-left' phase 'rest' is not one"));
	json_decref(rec);
}

/* Names and notes with every delimiter, CR, LF and non-ASCII text: escaped in the
 * message, and the expectations say what must read back after unescaping. */
static void hostile_text(void **state)
{
	(void)state;
	static const char family[] = "O'Brien|^~\\&\r\nX", given[] = "Zo\xc3\xab \xe6\x9d\x8e",
			  accession[] = "A&B^C", finding[] = "calf \\F\\ pain\rnext | line ~ \xe2\x80\x94 ok";
	json_t *rec = fixture();
	json_t *d = json_object_get(rec, "demographics");
	json_object_set_new(d, "family", json_string(family));
	json_object_set_new(d, "given", json_string(given));
	json_object_set_new(d, "assigning_authority", json_string("HOSP&1"));
	json_object_set_new(json_object_get(rec, "order"), "accession", json_string(accession));
	json_t *findings = json_object_get(json_object_get(rec, "classification"), "findings");
	json_array_insert_new(findings, 0,
			      json_pack("{s:s, s:s, s:s}", "finding", finding, "points_to",
					"vascular", "source", "x"));
	struct tl_hl7_conf c = conf();
	json_t *expect = json_pack("{s:s, s:s, s:s, s:s}", "PID.5.1", family, "PID.5.2", given,
				   "ORC.2.1", accession, "OBR.3.1", accession);
	char note[160];
	snprintf(note, sizeof note, "Finding: %s (points to vascular); source: x", finding);
	json_object_set_new(expect, "NTE#3.3", json_string(note));
	char *m = build("hostile", rec, NULL, 0, &c, expect);
	assert_segment(m, "\rPID|1||MRN-0042^^^HOSP\\T\\1^MR||O'Brien\\F\\\\S\\\\R\\\\E\\\\T\\"
			  "\\X0D\\\\X0A\\X^Zo\xc3\xab \xe6\x9d\x8e||19500102|F\r");
	assert_segment(m, "\rORC|RE|A\\T\\B\\S\\C|A\\T\\B\\S\\C|");
	assert_segment(m, "\rNTE|3|L|Finding: calf \\E\\F\\E\\ pain\\X0D\\next \\F\\ line \\R\\ "
			  "\xe2\x80\x94 ok (points to vascular); source: x\r");
	/* non-ASCII text: MSH-18 says UTF-8 */
	assert_true(!strncmp(m + strcspn(m, "\r") - strlen("|2.5.1||||||UNICODE UTF-8"),
			     "|2.5.1||||||UNICODE UTF-8", strlen("|2.5.1||||||UNICODE UTF-8")));
	/* a CR only ends segments */
	int segments = 0;
	for (const char *p = m; *p; p++)
		segments += *p == '\r';
	assert_int_equal(segments, count(m, "\rOBX|") + count(m, "\rNTE|") + 4);
	free(m);
	json_decref(expect);
	json_decref(rec);
}

/* Red flags, a censored walk, a noncompressible artery, a noncompressible resting ABI. */
static void flags_censoring_noncompressible(void **state)
{
	(void)state;
	json_t *rec = fixture();
	json_t *cl = json_object_get(rec, "classification");
	json_array_append_new(json_object_get(cl, "red_flags"),
			      json_pack("{s:s, s:s}", "code", "critical_limb_ischemia", "reason",
					"ankle pressure 40 mmHg with rest pain"));
	json_t *pwt = json_object_get(json_object_get(cl, "endpoints"), "pwt");
	json_object_set_new(pwt, "censored", json_true());
	json_object_set_new(pwt, "censored_by", json_string("emergency_stop"));
	json_array_append_new(json_object_get(rec, "pressures"),
			      json_pack("{s:s, s:n, s:s, s:n, s:b}", "phase", "rest", "minute",
					"site", "dp-left", "mmhg", "noncompressible", 1));
	json_t *right = json_object_get(json_object_get(json_object_get(rec, "abi"), "abi"), "right");
	json_object_set_new(right, "rest", json_null());
	json_object_set_new(right, "rest_category", json_string("noncompressible"));
	struct tl_hl7_conf c = conf();
	char *m = build("flags", rec, NULL, 0, &c, NULL);
	assert_segment(m, "|SN|PWT^Peak walking time^99TLB||>^120|s^s^UCUM|||||F\rNTE|1|L|censored: "
			  "walking ended by emergency_stop before the patient's maximal claudication\r");
	assert_segment(m, "|CWE|REDFLAG^Red flag^99TLB|1|critical_limb_ischemia^Critical limb "
			  "ischemia^99TLB|||A|||F\rNTE|1|L|ankle pressure 40 mmHg with rest pain\r");
	assert_segment(m, "\rNTE|1|L|Red flag: Critical limb ischemia: ankle pressure 40 mmHg with "
			  "rest pain\rNTE|2|L|Rutherford");
	/* the later noncompressible reading replaces the earlier measured one */
	assert_segment(m, "|CWE|ANKLE-DP-SBP^Dorsalis pedis artery systolic pressure^99TLB|"
			  "dp-left-rest|NC^Noncompressible artery^99TLB|||A|||F|||||||||86547008^"
			  "Dorsalis pedis artery^SCT^^^^^^left dorsalis pedis artery\r");
	assert_int_equal(count(m, "|dp-left-rest|"), 1);
	assert_null(strstr(m, "|77194-9^Ankle-brachial index^LN|right-rest|"));
	assert_segment(m, "|CWE|ABI-CAT^Resting ABI category^99TLB|right-rest|noncompressible^"
			  "Noncompressible, above 1.40 (not interpretable)^99TLB|||A|||F\r");
	free(m);
	json_decref(rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(full_record),
		cmocka_unit_test(pv1_only_with_a_patient_class),
		cmocka_unit_test(ed_only_with_a_report),
		cmocka_unit_test(escaper),
		cmocka_unit_test(missing_fields_listed_at_once),
		cmocka_unit_test(refused_inputs),
		cmocka_unit_test(hostile_text),
		cmocka_unit_test(flags_censoring_noncompressible),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
