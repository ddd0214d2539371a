/* test_records_required.c - the fields a record needs before it is sent (issue 13): every
 * missing one named at once, in one message. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "required.h"

static json_t *full(void)
{
	json_t *r = json_loads("{\"id\": 12, \"patient\": \"MRN-1\","
			       " \"demographics\": {\"mrn\": \"MRN-1\", \"assigning_authority\": \"HOSP\","
			       "  \"family\": \"Doe\", \"given\": null, \"birth_date\": \"1950-01-01\","
			       "  \"sex\": \"female\"},"
			       " \"order\": {\"accession\": \"ACC-1\","
			       "  \"ordering_physician\": {\"id\": null, \"family\": null, \"given\": null}}}",
			       0, NULL);
	assert_non_null(r);
	return r;
}

static void a_complete_record_passes(void **state)
{
	(void)state;
	json_t *r = full();
	struct tl_err err = {""};
	assert_int_equal(tl_records_check_required(r, &err), 0);
	assert_string_equal(err.msg, "");
	json_decref(r);
}

static void every_missing_field_is_named_at_once(void **state)
{
	(void)state;
	json_t *r = full();
	json_t *d = json_object_get(r, "demographics");
	json_object_set_new(d, "assigning_authority", json_null());
	json_object_del(d, "birth_date");
	json_object_set_new(json_object_get(r, "order"), "accession", json_null());
	struct tl_err err = {""};
	assert_int_equal(tl_records_check_required(r, &err), -1);
	assert_string_equal(err.msg, "test 12 cannot be sent: missing patient assigning authority, "
				     "birth date; order accession");
	/* Only the order missing; only the patient. */
	json_object_set_new(d, "assigning_authority", json_string("HOSP"));
	json_object_set_new(d, "birth_date", json_string("1950-01-01"));
	assert_int_equal(tl_records_check_required(r, &err), -1);
	assert_string_equal(err.msg, "test 12 cannot be sent: missing order accession");
	json_object_set_new(json_object_get(r, "order"), "accession", json_string("A"));
	json_object_set_new(d, "sex", json_string(""));
	json_object_set_new(d, "family", json_integer(3));
	assert_int_equal(tl_records_check_required(r, &err), -1);
	assert_string_equal(err.msg, "test 12 cannot be sent: missing patient family name, sex");
	json_decref(r);
}

static void a_record_without_demographics_lacks_all(void **state)
{
	(void)state;
	json_t *r = json_pack("{s:i, s:s}", "id", 3, "patient", "MRN-3");
	struct tl_err err = {""};
	assert_int_equal(tl_records_check_required(r, &err), -1);
	assert_string_equal(err.msg, "test 3 cannot be sent: missing patient MRN, assigning "
				     "authority, family name, birth date, sex; order accession");
	json_decref(r);
	r = json_object();
	assert_int_equal(tl_records_check_required(r, &err), -1);
	assert_string_equal(err.msg, "the test cannot be sent: missing patient MRN, assigning "
				     "authority, family name, birth date, sex; order accession");
	json_decref(r);
	assert_int_equal(tl_records_check_required(NULL, &err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_complete_record_passes),
		cmocka_unit_test(every_missing_field_is_named_at_once),
		cmocka_unit_test(a_record_without_demographics_lacks_all),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
