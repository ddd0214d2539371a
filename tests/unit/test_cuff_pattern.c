/* The text cuff source's line patterns (drivers/cuff_pattern.c): what compiles, what is
 * refused and where, and lines that match or are refused with the column. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "cuff_pattern.h"
#include "tl_assert.h"

static struct tl_cuff_pattern compile_ok(const char *text)
{
	struct tl_cuff_pattern p;
	char why[200] = "";
	if (tl_cuff_pattern_compile(text, &p, why, sizeof why))
		fail_msg("'%s' refused: %s", text, why);
	return p;
}

static void refused(const char *text, const char *expect)
{
	struct tl_cuff_pattern p;
	char why[200] = "";
	assert_int_equal(tl_cuff_pattern_compile(text, &p, why, sizeof why), -1);
	if (!strstr(why, expect))
		fail_msg("'%s': '%s' does not say '%s'", text, why, expect);
}

static void compiles_the_usual_shapes(void **state)
{
	(void)state;
	struct tl_cuff_pattern p = compile_ok("{mmhg}");
	assert_int_equal(p.n, 1);
	assert_false(p.has_site);
	p = compile_ok("{site} {mmhg}");
	assert_int_equal(p.n, 3);
	assert_true(p.has_site);
	p = compile_ok("P={mmhg} mmHg");
	assert_int_equal(p.n, 4);
	assert_int_equal(p.tok[0].kind, TL_CTOK_LIT);
	assert_string_equal(p.tok[0].lit, "P=");
	p = compile_ok("{{ {skip} }} {kpa}kPa");
	assert_string_equal(p.tok[0].lit, "{");
	assert_int_equal(p.tok[2].kind, TL_CTOK_SKIP);
	assert_string_equal(p.tok[4].lit, "}");
}

static void refuses_bad_patterns_with_the_column(void **state)
{
	(void)state;
	refused("", "the pattern is empty");
	refused("site", "no pressure field");
	refused("{mmhg} {kpa}", "column 8: a second pressure field");
	refused("{site} {site} {mmhg}", "column 8: a second {site}");
	refused("{mmhg", "column 1: '{' without a closing '}'");
	refused("{pressure}", "column 1: unknown field '{pressure}'");
	refused("{site}{mmhg}", "column 7: two fields need text or a space");
	refused("{mmhg}5", "column 7: this text could be read as part of the field");
	refused("{skip}:{mmhg}", "could be read as part of the field");
	refused("{{{skip}}} {mmhg}", "column 9: this text could be read as part of the field");
	refused("a}b {mmhg}", "column 2: a lone '}'");
	char longer[200];
	memset(longer, 'x', sizeof longer - 1);
	longer[sizeof longer - 1] = '\0';
	refused(longer, "longer than 128 characters");
}

static void matches_lines(void **state)
{
	(void)state;
	struct tl_cuff_pattern p = compile_ok("{site} {mmhg} mmHg");
	double v = -1;
	char site[16], why[200];
	assert_int_equal(tl_cuff_pattern_match(&p, "L-PT  142.5 mmHg", &v, site, sizeof site, why,
					       sizeof why), 0);
	assert_near(v, 142.5, 1e-9);
	assert_string_equal(site, "L-PT");
	p = compile_ok("{skip} P={kpa}");
	assert_int_equal(tl_cuff_pattern_match(&p, "00:01:02 P=20.0", &v, site, sizeof site, why,
					       sizeof why), 0);
	assert_near(v, 150.0124, 1e-9);
	assert_string_equal(site, "");
}

static void refuses_bad_lines_with_the_column(void **state)
{
	(void)state;
	struct tl_cuff_pattern p = compile_ok("{site} {mmhg} mmHg");
	double v = -1;
	char site[16], why[200];
	static const struct {
		const char *line, *expect;
	} bad[] = {
		{"", "column 1: expected a site"},
		{"L 1x2 mmHg", "column 4: expected a space"},
		{"L 12.  mmHg", "column 3: expected a pressure"},
		{"L 1.2.3 mmHg", "column 3: expected a pressure"},
		{"L 120 kPa", "column 7: expected 'mmHg'"},
		{"L120 mmHg", "column 6: expected a pressure"},
		{"L 120 mmHg!", "column 11: unexpected text after the pattern"},
		{"L -120 mmHg", "column 3: expected a pressure"},
		{"L 123456789 mmHg", "column 3: expected a pressure"},
		{"LEFT-POSTERIOR-TIBIAL 120 mmHg", "column 1: expected a site"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		v = -1;
		assert_int_equal(tl_cuff_pattern_match(&p, bad[i].line, &v, site, sizeof site, why,
						       sizeof why), -1);
		if (!strstr(why, bad[i].expect))
			fail_msg("'%s': '%s' does not say '%s'", bad[i].line, why, bad[i].expect);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(compiles_the_usual_shapes),
		cmocka_unit_test(refuses_bad_patterns_with_the_column),
		cmocka_unit_test(matches_lines),
		cmocka_unit_test(refuses_bad_lines_with_the_column),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
