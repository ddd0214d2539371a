/* The driver registry: every driver is found by its configured name and fills the
 * operations the interface marks as required. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "modbus_treadmill.h"
#include "trackmaster.h"
#include "treadmill.h"

static void drivers_are_found_by_name(void **state)
{
	(void)state;
	assert_ptr_equal(tl_treadmill_find("modbus"), &tl_modbus_treadmill_ops);
	assert_ptr_equal(tl_treadmill_find("trackmaster"), &tl_trackmaster_treadmill_ops);
	assert_null(tl_treadmill_find("Modbus"));
	assert_null(tl_treadmill_find(""));
	assert_null(tl_treadmill_find(NULL));
}

static void every_driver_fills_the_required_operations(void **state)
{
	(void)state;
	size_t n = 0;
	for (size_t i = 0; tl_treadmill_drivers[i]; i++, n++) {
		const struct tl_treadmill_ops *o = tl_treadmill_drivers[i];
		assert_non_null(o->name);
		assert_non_null(o->open);
		assert_non_null(o->close);
		assert_non_null(o->start);
		assert_non_null(o->stop);
		assert_non_null(o->emergency_stop);
		assert_non_null(o->set_speed);
		assert_non_null(o->set_grade);
		assert_non_null(o->poll);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(tl_treadmill_drivers[j]->name, o->name);
	}
	assert_true(n >= 2);
}

static void open_failures_leave_no_state(void **state)
{
	(void)state;
	struct tl_driver_opts o = {.device = "/nonexistent/tty", .profile = "/nonexistent.profile"};
	for (size_t i = 0; tl_treadmill_drivers[i]; i++) {
		struct tl_treadmill tm = {.ops = tl_treadmill_drivers[i]};
		if (!strcmp(tm.ops->name, "modbus") || !strcmp(tm.ops->name, "trackmaster")) {
			assert_int_equal(tm.ops->open(&tm, &o), -1);
			assert_null(tm.priv);
			assert_true(strlen(tm.err) > 0);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(drivers_are_found_by_name),
		cmocka_unit_test(every_driver_fills_the_required_operations),
		cmocka_unit_test(open_failures_leave_no_state),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
