/* test_protocol.c - the strict protocol loader: bad files (table-driven, one legend per
 * row, each checked against its "file:line: reason" message), the shipped protocols
 * against their published numbers, and a seeded mutation loop over the shipped files.
 *
 * The mutation loop prints its seed; set TL_SEED=<seed> to replay a failure. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "protocol.h"
#include "protocol_files.h"
#include "schedule.h"
#include "units.h"

#include "tl_assert.h"

#define BAD_FILE "bad.protocol"
#define MPH (1.609344)

/* A valid five-line header (lines 1-5) and building blocks for the rows below. */
#define HDR_NO_MAX "title = T\nreference = R\nunits = mph\nendpoint = symptom-limited\n"
#define HDR HDR_NO_MAX "max_duration_s = 600\n"
/* A walk stage: five lines, the [stage] header first. */
#define WALK "[stage]\nkind = walk\nduration_s = 120\nspeed = 2.0\ngrade_pct = 0\n"
/* A rest stage: three lines. */
#define REST "[stage]\nkind = rest\nduration_s = 60\n"
/* A graded block: six lines. */
#define GRADED                                                                          \
	"[graded]\nspeed = 2.0\ngrade_start_pct = 0\ngrade_step_pct = 2\ninterval_s = 120\n" \
	"grade_max_pct = 10\n"
/* A walk stage whose value on the speed line (line 9 after HDR) is V. */
#define WALK_SPEED(v) "[stage]\nkind = walk\nduration_s = 120\nspeed = " v "\ngrade_pct = 0\n"
#define WALK_GRADE(v) "[stage]\nkind = walk\nduration_s = 120\nspeed = 2.0\ngrade_pct = " v "\n"
#define WALK_DUR(v) "[stage]\nkind = walk\nduration_s = " v "\nspeed = 2.0\ngrade_pct = 0\n"
#define TEN "0123456789"

/* A line of n characters (a comment) followed by a newline. */
static char *comment_line(size_t n)
{
	char *s = malloc(n + 2);
	assert_non_null(s);
	s[0] = '#';
	memset(s + 1, 'x', n - 1);
	s[n] = '\n';
	s[n + 1] = '\0';
	return s;
}

static const struct tl_device_caps caps_25pct = {.max_speed_kmh = 16.0, .max_grade_pct = 25.0};
static const struct tl_device_caps caps_10kmh = {.max_speed_kmh = 10.0, .max_grade_pct = 25.0};

struct bad_row {
	const char *legend;
	const char *text;
	size_t len; /* 0: strlen(text) */
	int line;   /* expected line in the message */
	const char *reason; /* expected substring of the reason */
	const struct tl_device_caps *caps;
};

#define NUL_TEXT "title = T\nreference = R\nunits = m\0ph\nendpoint = symptom-limited\n"

static const struct bad_row bad_rows[] = {
	/* unknown keys */
	{"unknown top-level key", HDR "colour = red\n" WALK, 0, 6, "unknown key 'colour'", NULL},
	{"unknown key in [stage]", HDR WALK "incline = 3\n", 0, 11, "unknown key 'incline'", NULL},
	{"unknown key in [graded]", HDR GRADED "grade_min_pct = 0\n", 0, 12, "unknown key 'grade_min_pct'", NULL},
	/* missing top-level keys, each required one */
	{"missing title", "reference = R\nunits = mph\nendpoint = symptom-limited\nmax_duration_s = 600\n" WALK,
	 0, 1, "missing key 'title'", NULL},
	{"missing reference", "title = T\nunits = mph\nendpoint = symptom-limited\nmax_duration_s = 600\n" WALK,
	 0, 1, "missing key 'reference'", NULL},
	{"missing units (sections need it first)",
	 "title = T\nreference = R\nendpoint = symptom-limited\nmax_duration_s = 600\n" WALK, 0, 5, "'units'", NULL},
	{"missing units (no sections)", "title = T\nreference = R\nendpoint = symptom-limited\nmax_duration_s = 600\n",
	 0, 1, "missing key 'units'", NULL},
	{"missing endpoint", "title = T\nreference = R\nunits = mph\nmax_duration_s = 600\n" WALK, 0, 1,
	 "missing key 'endpoint'", NULL},
	{"missing max_duration_s", HDR_NO_MAX WALK, 0, 1, "missing key 'max_duration_s'", NULL},
	{"units given after the first section", "title = T\nreference = R\nendpoint = symptom-limited\n"
	 "max_duration_s = 600\n" WALK "units = mph\n", 0, 5, "'units' must be given before", NULL},
	/* missing keys in sections */
	{"stage without kind", HDR "[stage]\nduration_s = 120\nspeed = 2.0\ngrade_pct = 0\n", 0, 6,
	 "missing key 'kind'", NULL},
	{"stage without duration", HDR "[stage]\nkind = walk\nspeed = 2.0\ngrade_pct = 0\n", 0, 6,
	 "missing key 'duration_s'", NULL},
	{"walk stage without speed", HDR "[stage]\nkind = walk\nduration_s = 120\ngrade_pct = 0\n", 0, 6,
	 "without 'speed'", NULL},
	{"walk stage without grade", HDR "[stage]\nkind = walk\nduration_s = 120\nspeed = 2.0\n", 0, 6,
	 "without 'grade_pct'", NULL},
	{"graded without speed", HDR "[graded]\ngrade_start_pct = 0\ngrade_step_pct = 2\ninterval_s = 120\n"
	 "grade_max_pct = 10\n", 0, 6, "missing key 'speed'", NULL},
	{"graded without grade_start_pct", HDR "[graded]\nspeed = 2\ngrade_step_pct = 2\ninterval_s = 120\n"
	 "grade_max_pct = 10\n", 0, 6, "missing key 'grade_start_pct'", NULL},
	{"graded without grade_step_pct", HDR "[graded]\nspeed = 2\ngrade_start_pct = 0\ninterval_s = 120\n"
	 "grade_max_pct = 10\n", 0, 6, "missing key 'grade_step_pct'", NULL},
	{"graded without interval_s", HDR "[graded]\nspeed = 2\ngrade_start_pct = 0\ngrade_step_pct = 2\n"
	 "grade_max_pct = 10\n", 0, 6, "missing key 'interval_s'", NULL},
	{"graded without grade_max_pct", HDR "[graded]\nspeed = 2\ngrade_start_pct = 0\ngrade_step_pct = 2\n"
	 "interval_s = 120\n", 0, 6, "missing key 'grade_max_pct'", NULL},
	/* numbers */
	{"bad number (word)", HDR WALK_SPEED("fast"), 0, 9, "'fast' is not a number", NULL},
	{"bad number (trailing unit)", HDR WALK_SPEED("2.0 mph"), 0, 9, "not a number", NULL},
	{"bad number (two points)", HDR WALK_SPEED("1.2.3"), 0, 9, "not a number", NULL},
	{"bad number (lone point)", HDR WALK_SPEED("."), 0, 9, "not a number", NULL},
	{"bad number (comma decimal)", HDR WALK_SPEED("2,0"), 0, 9, "not a number", NULL},
	{"hex number", HDR WALK_SPEED("0x2"), 0, 9, "not a decimal number", NULL},
	{"hex float", HDR WALK_SPEED("0x1p1"), 0, 9, "not a decimal number", NULL},
	{"exponent notation", HDR WALK_SPEED("2e0"), 0, 9, "not a decimal number", NULL},
	{"inf", HDR WALK_SPEED("inf"), 0, 9, "not a number", NULL},
	{"-infinity", HDR WALK_GRADE("-infinity"), 0, 10, "not a number", NULL},
	{"nan", HDR WALK_SPEED("nan"), 0, 9, "not a number", NULL},
	{"nan in a duration", HDR WALK_DUR("nan"), 0, 8, "not a number", NULL},
	{"overflowing number", HDR WALK_SPEED("1" TEN TEN TEN TEN TEN TEN TEN TEN TEN TEN TEN TEN TEN TEN TEN TEN TEN
					      TEN TEN TEN TEN TEN TEN TEN TEN TEN TEN TEN TEN TEN TEN TEN
					      TEN TEN), 0, 9, "not a number", NULL},
	/* ranges */
	{"negative speed", HDR WALK_SPEED("-2"), 0, 6, "speed must be greater than 0", NULL},
	{"zero walk speed", HDR WALK_SPEED("0"), 0, 6, "speed must be greater than 0", NULL},
	{"negative grade", HDR WALK_GRADE("-1"), 0, 6, "grade must not be negative", NULL},
	{"absurd speed (mph)", HDR WALK_SPEED("20"), 0, 6, "beyond any walking test", NULL},
	{"absurd speed (km/h)", "title = T\nreference = R\nunits = kmh\nendpoint = symptom-limited\n"
	 "max_duration_s = 600\n" WALK_SPEED("26"), 0, 6, "beyond any walking test", NULL},
	{"absurd grade", HDR WALK_GRADE("45"), 0, 6, "beyond any walking test", NULL},
	{"absurd stage duration", HDR WALK_DUR("20000"), 0, 8, "longer than any treadmill test", NULL},
	{"absurd max_duration_s", HDR_NO_MAX "max_duration_s = 100000\n" WALK, 0, 5,
	 "longer than any treadmill test", NULL},
	{"zero duration", HDR WALK_DUR("0"), 0, 8, "greater than 0", NULL},
	{"negative max_duration_s", HDR_NO_MAX "max_duration_s = -600\n" WALK, 0, 5, "greater than 0", NULL},
	{"duration finer than 1 ms", HDR WALK_DUR("120.0005"), 0, 8, "finer than 1 ms", NULL},
	{"speed above the device maximum", HDR WALK_SPEED("7"), 0, 6, "above the treadmill's maximum", &caps_10kmh},
	{"grade above the device maximum", HDR WALK_GRADE("26.8"), 0, 6, "above the treadmill's maximum",
	 &caps_25pct},
	{"graded cap above the device maximum", HDR "[graded]\nspeed = 2.0\ngrade_start_pct = 0\n"
	 "grade_step_pct = 2\ninterval_s = 120\ngrade_max_pct = 26\n", 0, 6, "above the treadmill's maximum",
	 &caps_25pct},
	/* stage kinds */
	{"rest stage with a speed", HDR WALK "[stage]\nkind = rest\nduration_s = 60\nspeed = 2.0\n" WALK, 0, 11,
	 "rest stage", NULL},
	{"rest stage with a grade", HDR WALK "[stage]\nkind = rest\nduration_s = 60\ngrade_pct = 0\n" WALK, 0, 11,
	 "rest stage", NULL},
	{"unknown stage kind", HDR "[stage]\nkind = jog\nduration_s = 120\nspeed = 2.0\ngrade_pct = 0\n", 0, 7,
	 "kind: 'jog'", NULL},
	{"first stage a rest", HDR REST WALK, 0, 6, "first stage must be a walk", NULL},
	{"last stage a rest", HDR WALK REST, 0, 11, "last stage must be a walk", NULL},
	{"no stages", HDR, 0, 1, "no stages", NULL},
	{"only comments after the header", HDR "# nothing\n\n", 0, 1, "no stages", NULL},
	/* duplicates and structure */
	{"duplicate top-level key", HDR "title = again\n" WALK, 0, 6, "duplicate key 'title'", NULL},
	{"duplicate key in [stage]", HDR "[stage]\nkind = walk\nduration_s = 120\nduration_s = 180\n", 0, 9,
	 "duplicate key 'duration_s'", NULL},
	{"duplicate key in [graded]", HDR GRADED "interval_s = 60\n", 0, 12, "duplicate key 'interval_s'", NULL},
	{"unknown section", HDR "[warmup]\n" WALK, 0, 6, "unknown section [warmup]", NULL},
	{"empty section name", HDR "[]\n" WALK, 0, 6, "unknown section", NULL},
	{"[stage] after [graded]", HDR GRADED WALK, 0, 12, "[stage] after [graded]", NULL},
	{"two [graded] blocks", HDR GRADED GRADED, 0, 12, "second [graded]", NULL},
	{"malformed section header (no ])", HDR "[stage\nkind = walk\n", 0, 6, "malformed section header", NULL},
	{"malformed section header (text after ])", HDR "[stage] walk\n", 0, 6, "malformed section header", NULL},
	{"line without '='", HDR "title T\n", 0, 6, "expected 'key = value'", NULL},
	{"'=' without key", HDR "= 3\n", 0, 6, "missing key before '='", NULL},
	{"upper-case key", "Title = T\n", 0, 1, "malformed key 'Title'", NULL},
	/* values */
	{"empty value", "title =\nreference = R\n", 0, 1, "title: empty value", NULL},
	{"blank value", HDR "[stage]\nkind = walk\nspeed =   \t\n", 0, 8, "speed: empty value", NULL},
	{"unknown units", "title = T\nreference = R\nunits = furlongs\n", 0, 3, "units: 'furlongs'", NULL},
	{"unknown endpoint", "title = T\nreference = R\nunits = mph\nendpoint = until-tired\n", 0, 4,
	 "endpoint: 'until-tired'", NULL},
	{"title too long", "title = " TEN TEN TEN TEN TEN TEN TEN TEN TEN TEN TEN TEN TEN "\n", 0, 1,
	 "longer than 127", NULL},
	{"NUL byte", NUL_TEXT, sizeof(NUL_TEXT) - 1, 3, "NUL", NULL},
	{"control character", "title = T\x01\n", 0, 1, "control character 0x01", NULL},
	{"escape character", HDR "\x1b[2J\n", 0, 6, "control character 0x1b", NULL},
	/* graded blocks */
	{"grade_max below start", HDR "[graded]\nspeed = 2.0\ngrade_start_pct = 10\ngrade_step_pct = 2\n"
	 "interval_s = 120\ngrade_max_pct = 5\n", 0, 6, "below grade_start_pct", NULL},
	{"zero grade step", HDR "[graded]\nspeed = 2.0\ngrade_start_pct = 0\ngrade_step_pct = 0\n"
	 "interval_s = 120\ngrade_max_pct = 10\n", 0, 6, "grade_step_pct must be greater than 0", NULL},
	{"negative grade step", HDR "[graded]\nspeed = 2.0\ngrade_start_pct = 10\ngrade_step_pct = -2\n"
	 "interval_s = 120\ngrade_max_pct = 10\n", 0, 6, "grade_step_pct must be greater than 0", NULL},
	{"zero interval", HDR "[graded]\nspeed = 2.0\ngrade_start_pct = 0\ngrade_step_pct = 2\n"
	 "interval_s = 0\ngrade_max_pct = 10\n", 0, 10, "interval_s: must be greater than 0", NULL},
	{"negative graded start", HDR "[graded]\nspeed = 2.0\ngrade_start_pct = -2\ngrade_step_pct = 2\n"
	 "interval_s = 120\ngrade_max_pct = 10\n", 0, 6, "must not be negative", NULL},
	{"graded too many stages", HDR "[graded]\nspeed = 2.0\ngrade_start_pct = 0\ngrade_step_pct = 0.01\n"
	 "interval_s = 1\ngrade_max_pct = 10\n", 0, 6, "too many stages", NULL},
	{"graded after stages that fill the maximum", HDR WALK_DUR("600") GRADED, 0, 11, "already fill", NULL},
	{"each-walk stages beyond max_duration_s", "title = T\nreference = R\nunits = mph\nendpoint = each-walk\n"
	 "max_duration_s = 600\n" WALK_DUR("700"), 0, 1, "shorter than its stages", NULL},
};

/* Checks one row; prints why it failed and returns 1, or 0 if it passed. */
static int check_bad(const char *legend, const char *text, size_t len, int line, const char *reason,
		     const struct tl_device_caps *caps)
{
	struct tl_protocol p;
	struct tl_err err = {{0}};
	int rc = tl_protocol_parse(text, len, BAD_FILE, "bad", caps, &p, &err);
	char want[64];
	snprintf(want, sizeof want, BAD_FILE ":%d: ", line);
	if (rc != -1) {
		print_error("row '%s': loaded (rc %d), expected %s... %s\n", legend, rc, want, reason);
		return 1;
	}
	if (strncmp(err.msg, want, strlen(want)) || !strstr(err.msg + strlen(want), reason)) {
		print_error("row '%s': got \"%s\", expected \"%s...%s...\"\n", legend, err.msg, want, reason);
		return 1;
	}
	return 0;
}

static void bad_files_table(void **state)
{
	(void)state;
	int failures = 0;
	for (size_t i = 0; i < sizeof bad_rows / sizeof bad_rows[0]; i++) {
		const struct bad_row *r = &bad_rows[i];
		failures += check_bad(r->legend, r->text, r->len ? r->len : strlen(r->text), r->line, r->reason,
				      r->caps);
	}
	assert_int_equal(failures, 0);
}

/* The base used by the rows is itself valid, so each row fails for its own reason. */
static void table_base_loads(void **state)
{
	(void)state;
	static const char *const good[] = {HDR WALK, HDR GRADED, HDR WALK REST WALK, HDR WALK GRADED};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		struct tl_protocol p;
		struct tl_err err = {{0}};
		int rc = tl_protocol_parse(good[i], strlen(good[i]), BAD_FILE, "good", NULL, &p, &err);
		if (rc)
			print_error("base %zu: %s\n", i, err.msg);
		assert_int_equal(rc, 0);
	}
}

static void overlong_line_refused(void **state)
{
	(void)state;
	char *line = comment_line(1024);
	size_t n = strlen(HDR) + strlen(line) + strlen(WALK) + 1;
	char *text = malloc(n);
	assert_non_null(text);
	snprintf(text, n, "%s%s%s", HDR, line, WALK);
	int failed = check_bad("overlong line (1024 characters)", text, strlen(text), 6, "line longer than", NULL);
	free(text);
	free(line);
	assert_int_equal(failed, 0);
}

static void longest_line_accepted(void **state)
{
	(void)state;
	char *line = comment_line(1023);
	size_t n = strlen(HDR) + strlen(line) + strlen(WALK) + 1;
	char *text = malloc(n);
	assert_non_null(text);
	snprintf(text, n, "%s%s%s", HDR, line, WALK);
	struct tl_protocol p;
	struct tl_err err = {{0}};
	int rc = tl_protocol_parse(text, strlen(text), BAD_FILE, "good", NULL, &p, &err);
	free(text);
	free(line);
	assert_int_equal(rc, 0);
}

static void crlf_and_missing_final_newline_accepted(void **state)
{
	(void)state;
	const char *text = "title = T\r\nreference = R\r\nunits = kmh\r\nendpoint = fixed-duration\r\n"
			   "max_duration_s = 60\r\n[stage]\r\nkind = walk\r\nduration_s = 60\r\n"
			   "speed = 3.0\r\ngrade_pct = 12";
	struct tl_protocol p;
	struct tl_err err = {{0}};
	assert_int_equal(tl_protocol_parse(text, strlen(text), BAD_FILE, "good", NULL, &p, &err), 0);
	assert_int_equal(p.n_stages, 1);
	assert_true(p.stages[0].speed_kmh == 3.0);
	assert_true(p.stages[0].grade_pct == 12.0);
	assert_string_equal(p.title, "T");
}

static void invalid_protocol_name_refused(void **state)
{
	(void)state;
	const char *text = HDR WALK;
	struct tl_protocol p;
	struct tl_err err = {{0}};
	assert_int_equal(tl_protocol_parse(text, strlen(text), "Bad Name.protocol", "Bad Name", NULL, &p, &err),
			 -1);
	assert_non_null(strstr(err.msg, "Bad Name"));
}

/* The fixture files under tests/data/protocols (also used by the command-line test) each
 * say on their first line "# expect: line N: reason". */
static void fixture_files_give_file_line_reason(void **state)
{
	(void)state;
	const char *dir = TL_TEST_DATA_DIR "/protocols";
	char **names;
	struct tl_err err = {{0}};
	int n = tl_protocol_list(dir, &names, &err);
	assert_true(n >= 8);
	int failures = 0;
	for (int i = 0; i < n; i++) {
		char path[1024];
		snprintf(path, sizeof path, "%s/%s.protocol", dir, names[i]);
		size_t len;
		char *text = tl_read_file(path, &len, &err);
		assert_non_null(text);
		int line = 0;
		char reason[256] = "";
		assert_int_equal(sscanf(text, "# expect: line %d: %255[^\n]", &line, reason), 2);
		free(text);
		struct tl_protocol p;
		int rc = tl_protocol_load_file(path, NULL, &p, &err);
		char want[1100];
		snprintf(want, sizeof want, "%s:%d: ", path, line);
		if (rc != -1 || strncmp(err.msg, want, strlen(want)) || !strstr(err.msg, reason)) {
			print_error("%s: rc %d, \"%s\", expected \"%s...%s\"\n", names[i], rc, err.msg, want,
				    reason);
			failures++;
		}
	}
	tl_protocol_names_free(names, n);
	assert_int_equal(failures, 0);
}

/* ---- the shipped protocols ---- */

static const char *const shipped[] = {
	"bruce", "constant-2mph-10pct", "constant-3kmh-12pct", "deen-level",
	"gardner-skinner", "hiatt", "modified-bruce", "two-stage",
};
#define N_SHIPPED (sizeof shipped / sizeof shipped[0])

static void load(const char *name, const struct tl_device_caps *caps, struct tl_protocol *p)
{
	struct tl_err err = {{0}};
	int rc = tl_protocol_load_name(TL_PROTOCOL_DIR, name, caps, p, &err);
	if (rc)
		print_error("%s: %s\n", name, err.msg);
	assert_int_equal(rc, 0);
}

static void every_shipped_protocol_loads(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_SHIPPED; i++) {
		struct tl_protocol p;
		load(shipped[i], NULL, &p);
		assert_string_equal(p.name, shipped[i]);
		assert_true(strlen(p.title) > 0);
		assert_true(strlen(p.reference) > 0);
		assert_true(p.n_stages > 0);
		assert_true(p.max_duration_ms > 0);
	}
}

static void shipped_list_is_exactly_eight(void **state)
{
	(void)state;
	char **names;
	struct tl_err err = {{0}};
	int n = tl_protocol_list(TL_PROTOCOL_DIR, &names, &err);
	assert_int_equal(n, (int)N_SHIPPED);
	for (int i = 0; i < n; i++)
		assert_string_equal(names[i], shipped[i]);
	tl_protocol_names_free(names, n);
}

/* Every shipped protocol except two-stage fits a 25 % treadmill. */
static void shipped_protocols_fit_a_25pct_treadmill(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_SHIPPED; i++) {
		if (!strcmp(shipped[i], "two-stage"))
			continue;
		struct tl_protocol p;
		load(shipped[i], &caps_25pct, &p);
	}
}

static int line_of_nth(const char *path, const char *needle, int nth)
{
	size_t len;
	struct tl_err err;
	char *text = tl_read_file(path, &len, &err);
	assert_non_null(text);
	int line = 1, seen = 0, found = -1;
	for (char *s = text; *s; ) {
		char *nl = strchr(s, '\n');
		if (!strncmp(s, needle, strlen(needle)) && ++seen == nth) {
			found = line;
			break;
		}
		if (!nl)
			break;
		s = nl + 1;
		line++;
	}
	free(text);
	return found;
}

static void two_stage_refused_on_25pct_treadmill_not_clamped(void **state)
{
	(void)state;
	struct tl_protocol p;
	struct tl_err err = {{0}};
	const char *path = TL_PROTOCOL_DIR "/two-stage.protocol";
	assert_int_equal(tl_protocol_load_file(path, &caps_25pct, &p, &err), -1);
	int line = line_of_nth(path, "[stage]", 3);
	assert_true(line > 0);
	char want[4200];
	snprintf(want, sizeof want, "%s:%d: ", path, line);
	assert_memory_equal(err.msg, want, strlen(want));
	assert_non_null(strstr(err.msg, "26.8"));
	assert_non_null(strstr(err.msg, "maximum"));
}

static void two_stage_table(void **state)
{
	(void)state;
	struct tl_protocol p;
	load("two-stage", NULL, &p);
	assert_int_equal(p.endpoint, TL_ENDPOINT_EACH_WALK);
	assert_int_equal(p.n_stages, 3);
	const enum tl_stage_kind kind[] = {TL_STAGE_WALK, TL_STAGE_REST, TL_STAGE_WALK};
	const double grade[] = {0.0, 0.0, 26.8};
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(p.stages[i].kind, kind[i]);
		assert_int_equal(p.stages[i].duration_ms, 600000);
		assert_int_equal(p.stages[i].start_ms, (int64_t)i * 600000);
		assert_true(p.stages[i].grade_pct == grade[i]);
	}
	assert_true(p.stages[1].speed_kmh == 0.0);
	assert_true(p.stages[0].speed_kmh > 0 && p.stages[2].speed_kmh == p.stages[0].speed_kmh);
	assert_int_equal(tl_protocol_length_ms(&p), 1800000);
	assert_int_equal(tl_protocol_next_walk(&p, 0), 2);
	assert_int_equal(tl_protocol_next_walk(&p, 2), -1);
}

static void constant_2mph_10pct_is_5_min(void **state)
{
	(void)state;
	struct tl_protocol p;
	load("constant-2mph-10pct", NULL, &p);
	assert_int_equal(p.endpoint, TL_ENDPOINT_FIXED_DURATION);
	assert_int_equal(p.n_stages, 1);
	assert_int_equal(p.stages[0].duration_ms, 300000);
	assert_int_equal(p.max_duration_ms, 300000);
	assert_exact(p.stages[0].speed_kmh, 3.218688);
	assert_true(p.stages[0].grade_pct == 10.0);
}

static void constant_3kmh_12pct_in_kmh(void **state)
{
	(void)state;
	struct tl_protocol p;
	load("constant-3kmh-12pct", NULL, &p);
	assert_int_equal(p.units, TL_UNITS_KMH);
	assert_int_equal(p.n_stages, 1);
	assert_true(p.stages[0].speed_kmh == 3.0);
	assert_true(p.stages[0].grade_pct == 12.0);
}

static void deen_level_is_1_2_mph_level_15_min(void **state)
{
	(void)state;
	struct tl_protocol p;
	load("deen-level", NULL, &p);
	assert_int_equal(p.n_stages, 1);
	assert_int_equal(p.stages[0].duration_ms, 900000);
	assert_near(p.stages[0].speed_kmh, 1.2 * MPH, 1e-12);
	assert_true(p.stages[0].grade_pct == 0.0);
}

static void mph_to_kmh_is_exact(void **state)
{
	(void)state;
	assert_true(tl_mph_to_kmh(1.0) == 1.609344);
	assert_true(tl_mph_to_kmh(2.0) == 3.218688);
	assert_near(tl_mph_to_kmh(1.7), 2.7358848, 1e-12);
	assert_near(tl_mph_to_kmh(6.0), 9.656064, 1e-12);
	assert_near(tl_kmh_to_mph(3.218688), 2.0, 1e-15);
}

/* Gardner-Skinner: 2.0 mph (3.218688 km/h exactly), 0 % then +2 % every 120 s to the cap,
 * the cap held to max_duration_s. Checked as the grade in force at every second. */
static void gardner_skinner_grade_profile(void **state)
{
	(void)state;
	struct tl_protocol p;
	load("gardner-skinner", NULL, &p);
	assert_int_equal(p.endpoint, TL_ENDPOINT_SYMPTOM_LIMITED);
	assert_int_equal(p.max_duration_ms, 1800000);
	assert_int_equal(tl_protocol_length_ms(&p), p.max_duration_ms);
	for (int64_t t = 0; t < p.max_duration_ms; t += 1000) {
		struct tl_schedule_point sp;
		tl_schedule_at(&p, t, &sp);
		double want = fmin(2.0 * (double)(t / 120000), 24.0);
		assert_true(sp.target.belt_on);
		assert_true(sp.target.speed_kmh == 3.218688);
		assert_true(sp.target.grade_pct == want);
	}
	for (size_t i = 0; i < p.n_stages; i++) {
		assert_int_equal(p.stages[i].kind, TL_STAGE_WALK);
		assert_true(p.stages[i].speed_kmh == 3.218688);
		assert_true(p.stages[i].grade_pct == fmin(2.0 * (double)i, 24.0));
	}
}

/* The documented format: "A [graded] block expands to stages of interval_s each ... until
 * the protocol's max_duration_s": the stages at the cap are 120 s stages too. */
static void gardner_skinner_stages_are_120_s(void **state)
{
	(void)state;
	struct tl_protocol p;
	load("gardner-skinner", NULL, &p);
	assert_int_equal(p.n_stages, 15);
	for (size_t i = 0; i < p.n_stages; i++) {
		assert_int_equal(p.stages[i].start_ms, (int64_t)i * 120000);
		assert_int_equal(p.stages[i].duration_ms, 120000);
	}
}

/* Hiatt: 2.0 mph, 0 % for 3 min, then +3.5 % every 3 min up to the 21 % cap. */
static void hiatt_grade_profile(void **state)
{
	(void)state;
	struct tl_protocol p;
	load("hiatt", NULL, &p);
	assert_true(p.stages[0].grade_pct == 0.0);
	assert_int_equal(p.stages[0].duration_ms, 180000);
	for (int64_t t = 0; t < p.max_duration_ms; t += 1000) {
		struct tl_schedule_point sp;
		tl_schedule_at(&p, t, &sp);
		double want = fmin(3.5 * (double)(t / 180000), 21.0);
		assert_true(sp.target.speed_kmh == 3.218688);
		assert_near(sp.target.grade_pct, want, 1e-12);
	}
	for (size_t i = 0; i + 1 < p.n_stages; i++)
		assert_int_equal(p.stages[i].duration_ms, 180000);
}

static const double bruce_mph[] = {1.7, 2.5, 3.4, 4.2, 5.0, 5.5, 6.0};
static const double bruce_grade[] = {10, 12, 14, 16, 18, 20, 22};

static void bruce_matches_published_table(void **state)
{
	(void)state;
	struct tl_protocol p;
	load("bruce", NULL, &p);
	assert_int_equal(p.n_stages, 7);
	for (size_t i = 0; i < 7; i++) {
		assert_int_equal(p.stages[i].kind, TL_STAGE_WALK);
		assert_int_equal(p.stages[i].duration_ms, 180000);
		assert_int_equal(p.stages[i].start_ms, (int64_t)i * 180000);
		assert_near(p.stages[i].speed_kmh, bruce_mph[i] * MPH, 1e-12);
		assert_true(p.stages[i].grade_pct == bruce_grade[i]);
	}
}

static void modified_bruce_matches_published_table(void **state)
{
	(void)state;
	struct tl_protocol p;
	load("modified-bruce", NULL, &p);
	assert_int_equal(p.n_stages, 9);
	assert_near(p.stages[0].speed_kmh, 1.7 * MPH, 1e-12);
	assert_true(p.stages[0].grade_pct == 0.0);
	assert_near(p.stages[1].speed_kmh, 1.7 * MPH, 1e-12);
	assert_true(p.stages[1].grade_pct == 5.0);
	for (size_t i = 0; i < 9; i++) {
		assert_int_equal(p.stages[i].duration_ms, 180000);
		assert_int_equal(p.stages[i].start_ms, (int64_t)i * 180000);
	}
	for (size_t i = 0; i < 7; i++) {
		assert_near(p.stages[i + 2].speed_kmh, bruce_mph[i] * MPH, 1e-12);
		assert_true(p.stages[i + 2].grade_pct == bruce_grade[i]);
	}
}

/* ---- seeded mutations of the shipped files ---- */

static uint64_t rng_state;

static uint64_t rng(void)
{
	/* xorshift64*: small, portable and replayable from the printed seed. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static size_t rnd(size_t n)
{
	return n ? (size_t)(rng() % n) : 0;
}

static uint64_t seed_from_env(void)
{
	const char *s = getenv("TL_SEED");
	if (s && *s)
		return strtoull(s, NULL, 0);
	return (uint64_t)time(NULL) ^ ((uint64_t)clock() << 32);
}

static const char *const fragments[] = {
	"\n", "=", "[", "]", "[stage]\n", "[graded]\n", "#", "-", ".", "0", "9", "1e9", "0x10", "inf",
	"nan", " ", "\t", "\r", "kind = rest\n", "speed = 99\n", "grade_pct = -5\n", "duration_s = 0\n",
	"units = kmh\n", "\xff\xfe", "\x01", "title = x\n", "interval_s = 0.0001\n",
};

/* Applies one random mutation to buf (len bytes, capacity cap); returns the new length. */
static size_t mutate(char *buf, size_t len, size_t cap)
{
	size_t pos = rnd(len + 1);
	switch (rnd(7)) {
	case 0: /* flip a byte */
		if (len)
			buf[rnd(len)] = (char)rnd(256);
		return len;
	case 1: /* delete a range */
		if (len) {
			size_t n = 1 + rnd(len - pos < 40 ? len - pos + 1 : 40);
			if (pos + n > len)
				n = len - pos;
			memmove(buf + pos, buf + pos + n, len - pos - n);
			len -= n;
		}
		return len;
	case 2: { /* insert a fragment */
		const char *f = fragments[rnd(sizeof fragments / sizeof fragments[0])];
		size_t n = strlen(f);
		if (len + n > cap)
			return len;
		memmove(buf + pos + n, buf + pos, len - pos);
		memcpy(buf + pos, f, n);
		return len + n;
	}
	case 3: /* truncate */
		return pos;
	case 4: /* duplicate a range */
	{
		size_t n = rnd(200);
		if (pos + n > len)
			n = len - pos;
		if (len + n > cap)
			return len;
		memmove(buf + pos + n, buf + pos, len - pos);
		return len + n;
	}
	case 5: /* a NUL byte */
		if (len)
			buf[rnd(len)] = '\0';
		return len;
	default: /* replace a digit with another */
		for (size_t i = 0; i < len; i++) {
			size_t k = (pos + i) % len;
			if (buf[k] >= '0' && buf[k] <= '9') {
				buf[k] = (char)('0' + rnd(10));
				break;
			}
		}
		return len;
	}
}

/* A loaded protocol must be one the loader promises: contiguous stages, walks first and
 * last, values within the absolute bounds. */
static int loaded_is_sane(const struct tl_protocol *p)
{
	if (p->n_stages == 0 || p->n_stages > TL_PROTOCOL_MAX_STAGES)
		return 0;
	if (p->stages[0].kind != TL_STAGE_WALK || p->stages[p->n_stages - 1].kind != TL_STAGE_WALK)
		return 0;
	int64_t t = 0;
	for (size_t i = 0; i < p->n_stages; i++) {
		const struct tl_stage *s = &p->stages[i];
		if (s->start_ms != t || s->duration_ms <= 0 || s->duration_ms > TL_ABSURD_DURATION_MS)
			return 0;
		if (!(s->grade_pct >= 0 && s->grade_pct <= TL_ABSURD_GRADE_PCT))
			return 0;
		if (s->kind == TL_STAGE_WALK && !(s->speed_kmh > 0 && s->speed_kmh <= TL_ABSURD_SPEED_KMH))
			return 0;
		if (s->kind == TL_STAGE_REST && s->speed_kmh != 0)
			return 0;
		t += s->duration_ms;
	}
	return p->max_duration_ms > 0;
}

static int has_file_line_prefix(const char *msg, const char *file)
{
	size_t n = strlen(file);
	if (strncmp(msg, file, n) || msg[n] != ':')
		return 0;
	const char *c = msg + n + 1;
	if (*c < '1' || *c > '9')
		return 0;
	while (*c >= '0' && *c <= '9')
		c++;
	return c[0] == ':' && c[1] == ' ' && c[2] != '\0';
}

#define FUZZ_ROUNDS 4000
#define FUZZ_CAP 16384

static void mutated_shipped_files_load_or_say_where(void **state)
{
	(void)state;
	uint64_t seed = seed_from_env();
	if (seed == 0)
		seed = 1;
	printf("test_protocol: mutation seed %" PRIu64 " (replay with TL_SEED=%" PRIu64 ")\n", seed, seed);
	fflush(stdout);
	rng_state = seed;
	char *orig[N_SHIPPED];
	size_t orig_len[N_SHIPPED];
	for (size_t i = 0; i < N_SHIPPED; i++) {
		char path[512];
		struct tl_err err;
		snprintf(path, sizeof path, "%s/%s.protocol", TL_PROTOCOL_DIR, shipped[i]);
		orig[i] = tl_read_file(path, &orig_len[i], &err);
		assert_non_null(orig[i]);
		assert_true(orig_len[i] < FUZZ_CAP / 2);
	}
	char *buf = malloc(FUZZ_CAP);
	assert_non_null(buf);
	int bad = 0;
	for (int round = 0; round < FUZZ_ROUNDS; round++) {
		size_t k = rnd(N_SHIPPED);
		size_t len = orig_len[k];
		memcpy(buf, orig[k], len);
		int n = 1 + (int)rnd(4);
		for (int m = 0; m < n; m++)
			len = mutate(buf, len, FUZZ_CAP);
		struct tl_protocol p;
		struct tl_err err = {{0}};
		int rc = tl_protocol_parse(buf, len, "fuzz.protocol", "fuzz", NULL, &p, &err);
		if (rc == 0 && !loaded_is_sane(&p)) {
			if (bad < 8)
				print_error("seed %" PRIu64 " round %d (%s): loaded an impossible protocol\n", seed, round,
					    shipped[k]);
			bad++;
		} else if (rc != 0 && (rc != -1 || !has_file_line_prefix(err.msg, "fuzz.protocol"))) {
			if (bad < 8)
				print_error("seed %" PRIu64 " round %d (%s): rc %d, message \"%s\" is not file:line: reason\n",
					    seed, round, shipped[k], rc, err.msg);
			bad++;
		}
	}
	free(buf);
	for (size_t i = 0; i < N_SHIPPED; i++)
		free(orig[i]);
	if (bad)
		print_error("%d of %d mutated files failed (seed %" PRIu64 ")\n", bad, FUZZ_ROUNDS, seed);
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bad_files_table),
		cmocka_unit_test(table_base_loads),
		cmocka_unit_test(overlong_line_refused),
		cmocka_unit_test(longest_line_accepted),
		cmocka_unit_test(crlf_and_missing_final_newline_accepted),
		cmocka_unit_test(invalid_protocol_name_refused),
		cmocka_unit_test(fixture_files_give_file_line_reason),
		cmocka_unit_test(every_shipped_protocol_loads),
		cmocka_unit_test(shipped_list_is_exactly_eight),
		cmocka_unit_test(shipped_protocols_fit_a_25pct_treadmill),
		cmocka_unit_test(two_stage_refused_on_25pct_treadmill_not_clamped),
		cmocka_unit_test(two_stage_table),
		cmocka_unit_test(constant_2mph_10pct_is_5_min),
		cmocka_unit_test(constant_3kmh_12pct_in_kmh),
		cmocka_unit_test(deen_level_is_1_2_mph_level_15_min),
		cmocka_unit_test(mph_to_kmh_is_exact),
		cmocka_unit_test(gardner_skinner_grade_profile),
		cmocka_unit_test(gardner_skinner_stages_are_120_s),
		cmocka_unit_test(hiatt_grade_profile),
		cmocka_unit_test(bruce_matches_published_table),
		cmocka_unit_test(modified_bruce_matches_published_table),
		cmocka_unit_test(mutated_shipped_files_load_or_say_where),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
