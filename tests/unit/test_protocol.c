#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "protocol_files.h"

static void shipped_gardner_skinner_loads(void **state)
{
	(void)state;
	struct tl_protocol p;
	struct tl_err err;
	assert_int_equal(tl_protocol_load_name(TL_PROTOCOL_DIR, "gardner-skinner", NULL, &p, &err), 0);
	assert_int_equal(p.stages[1].grade_pct, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(shipped_gardner_skinner_loads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
