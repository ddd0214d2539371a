/* test_api_oom.c - the API's JSON with no memory at the Nth allocation, N = 1, 2, ...
 * (jansson's allocator through a counter; src/daemon/api_query.c and api_text.c compiled
 * in). The live status, which nearly every answer and the event stream are made of,
 * is either whole (the same as with memory enough) or NULL, which the API answers 500:
 * never an object with fields silently missing. A request body that cannot be parsed
 * for want of memory is refused, never half read; as a 500 saying so where jansson says
 * it ran out of memory (its lexer reports some such failures as a syntax error: a 400).
 * Nothing leaks (run under valgrind and ASan). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "cuffd.h"

/* The status answers here have no cuff (daemon_.cuffd is NULL): the cuff thread, which
 * brings the whole daemon with it, is not linked; this is never called. */
json_t *tl_cuffd_json(struct tl_cuffd *k)
{
	(void)k;
	fail_msg("tl_cuffd_json called without a cuff");
	return NULL;
}

static int countdown; /* 0: off */
static int fired;

static void *oom_malloc(size_t n)
{
	if (countdown > 0 && --countdown == 0) {
		fired++;
		return NULL;
	}
	return malloc(n);
}

static void oom_free(void *p)
{
	free(p);
}

static int install(void **state)
{
	(void)state;
	json_set_alloc_funcs(oom_malloc, oom_free);
	return 0;
}

/* Runs fn with the nth allocation failing, for n = 1, 2, ... until one run reaches no
 * failure; returns how many runs failed an allocation. */
typedef void (*run_fn)(bool expect_whole);
static int each_failure(run_fn fn)
{
	int n;
	for (n = 1; n < 10000; n++) {
		countdown = n;
		fired = 0;
		fn(false);
		countdown = 0;
		if (!fired)
			break;
	}
	assert_true(n < 10000);
	return n - 1;
}

static struct tl_daemon daemon_;
static struct tl_status status_;

static void fill(void)
{
	snprintf(daemon_.cfg.driver, sizeof daemon_.cfg.driver, "sim");
	daemon_.cfg.time_scale = 1.0;
	daemon_.cfg.session.n_reminders = 2;
	daemon_.cfg.session.reminder_min[0] = 2;
	daemon_.cfg.session.reminder_min[1] = 4;
	status_.state = TL_STATE_RUNNING;
	status_.end_reason = TL_END_NONE;
	status_.test_id = 12;
	snprintf(status_.patient, sizeof status_.patient, "P1");
	snprintf(status_.protocol, sizeof status_.protocol, "gardner-skinner");
	status_.t_ms = 61234;
	status_.stage = 1;
	snprintf(status_.alarm, sizeof status_.alarm, "grade_deviation");
	snprintf(status_.device_error, sizeof status_.device_error, "no answer");
}

static char *reference;

static void status_once(bool expect_whole)
{
	json_t *o = tl_api_status_json(&status_, &daemon_);
	if (!o) {
		assert_false(expect_whole);
		return;
	}
	/* Whole: compared with memory back, as text. */
	int saved = countdown;
	countdown = 0;
	char *text = json_dumps(o, JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	countdown = saved;
	json_decref(o);
	assert_non_null(text);
	assert_string_equal(text, reference);
	free(text);
}

static void test_status(void **state)
{
	(void)state;
	fill();
	json_t *o = tl_api_status_json(&status_, &daemon_);
	assert_non_null(o);
	/* the fields an answer must have */
	assert_string_equal(json_string_value(json_object_get(o, "state")), "running");
	assert_int_equal(json_object_size(json_object_get(o, "endpoints")), 9);
	assert_non_null(json_object_get(json_object_get(o, "treadmill"), "error"));
	/* the configured reminder minutes, which the page counts down to */
	json_t *rm = json_object_get(o, "reminder_minutes");
	assert_int_equal(json_array_size(rm), 2);
	assert_int_equal(json_integer_value(json_array_get(rm, 1)), 4);
	reference = json_dumps(o, JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	json_decref(o);
	assert_non_null(reference);
	int failed = each_failure(status_once);
	print_message("status: %d allocations, each failed once\n", failed);
	assert_true(failed > 20);
	status_once(true);
	free(reference);
	reference = NULL;
}

static const char *const allowed[] = {"symptoms", "operator", NULL};
static const char body_text[] =
	"{\"operator\": \"alice\", \"symptoms\": {\"location\": [\"calf\", \"thigh\"], "
	"\"side\": \"left\"}}";

static int body_oom; /* runs answered as out of memory */

static void body_once(bool expect_whole)
{
	char msg[512] = "";
	bool oom = false;
	json_t *j = tl_api_body_parse(body_text, strlen(body_text), allowed, msg, sizeof msg, &oom);
	if (j) {
		assert_false(oom);
		assert_string_equal(json_string_value(json_object_get(j, "operator")), "alice");
		json_decref(j);
		return;
	}
	assert_false(expect_whole);
	if (oom) {
		assert_string_equal(msg, "out of memory parsing the request body");
		body_oom++;
	} else {
		/* jansson's lexer reports some failed allocations as a syntax error: a 400
		 * then, whose message still says what jansson saw. */
		assert_non_null(strstr(msg, "malformed JSON"));
	}
}

static void empty_once(bool expect_whole)
{
	char msg[512] = "";
	bool oom = false;
	json_t *j = tl_api_body_parse(NULL, 0, allowed, msg, sizeof msg, &oom);
	if (j) {
		assert_int_equal(json_object_size(j), 0);
		json_decref(j);
		return;
	}
	assert_false(expect_whole);
	assert_true(oom);
	assert_string_equal(msg, "out of memory parsing the request body");
}

static void test_body(void **state)
{
	(void)state;
	int failed = each_failure(body_once);
	print_message("body: %d allocations, %d answered as out of memory\n", failed, body_oom);
	assert_true(failed > 5);
	assert_true(body_oom >= 1);
	body_once(true);
	assert_true(each_failure(empty_once) >= 1);
	empty_once(true);
	/* Still a 400 when the body is wrong and memory is there. */
	char msg[512];
	bool oom = true;
	assert_null(tl_api_body_parse("{\"x\":", 5, allowed, msg, sizeof msg, &oom));
	assert_false(oom);
	assert_non_null(strstr(msg, "malformed JSON"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_body),
	};
	return cmocka_run_group_tests(tests, install, NULL);
}
