/* The profile reader both device profiles share (drivers/profile_reader.h): its own
 * contract on a small profile of the test's, and the whole messages the drive and cuff
 * profiles build from its lists. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cuff_profile.h"
#include "modbus_profile.h"
#include "profile_reader.h"

/* A profile of the test's: [device] with the shared keys, [things] with any key, each
 * recorded with its section and line. */
struct seen {
	struct {
		char name[64], source[256], unverified[256];
		bool simulated;
		int min_gap_ms;
	} dev;
	int n;
	char keys[8][32];
	int lines[8];
};

static int device_key(struct tl_profile_reader *r, const char *key, char *v, void *ctx)
{
	static const char *const keys[] = {TL_PROFILE_DEVICE_KEYS};
	struct seen *s = ctx;
	int i = tl_profile_key(r, keys, TL_PROFILE_DEVICE_NKEYS, key);
	return i < 0 ? -1 : tl_profile_device_key(r, i, key, v, &TL_PROFILE_DEVICE_OF(&s->dev));
}

static int thing_key(struct tl_profile_reader *r, const char *key, char *v, void *ctx)
{
	struct seen *s = ctx;
	if (s->n == 8)
		return tl_profile_fail(r, "too many things");
	snprintf(s->keys[s->n], sizeof s->keys[0], "%s=%s", key, v);
	s->lines[s->n++] = r->line;
	return 0;
}

static const struct tl_profile_section sections[] = {
	{"device", device_key}, {"things", thing_key}, {0}};

static int parse(const char *text, bool list, struct seen *s, struct tl_profile_reader *r,
		 struct tl_err *err)
{
	const struct tl_profile_spec spec = {.sections = sections, .list_sections = list};
	*s = (struct seen){0};
	return tl_profile_parse(r, text, "p", &spec, s, err);
}

static void lines_comments_and_sections(void **state)
{
	(void)state;
	struct seen s;
	struct tl_profile_reader r;
	struct tl_err err = {{0}};
	int rc = parse("# a comment\n; another\n\n[device]\n  name =  d  # trailing\n"
		       "source = here#not a comment\nsimulated = yes\nmin_gap_ms = 0x14\n"
		       "[things]\na = 1 2 3\n\tb=x", false, &s, &r, &err);
	if (rc)
		fail_msg("%s", err.msg);
	assert_string_equal(s.dev.name, "d");
	assert_string_equal(s.dev.source, "here#not a comment");
	assert_true(s.dev.simulated);
	assert_int_equal(s.dev.min_gap_ms, 20);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.keys[0], "a=1 2 3");
	assert_int_equal(s.lines[0], 10);
	assert_string_equal(s.keys[1], "b=x");
	assert_int_equal(s.lines[1], 11);
	assert_int_equal(r.line, 11);
	assert_int_equal(r.section_line[0], 4);
	assert_int_equal(r.section_line[1], 9);
	assert_int_equal(tl_profile_device_complete(&r), 0);
}

static void refused(const char *text, bool list, const char *expect)
{
	struct seen s;
	struct tl_profile_reader r;
	struct tl_err err = {{0}};
	int rc = parse(text, list, &s, &r, &err);
	if (rc == 0)
		rc = tl_profile_device_complete(&r);
	if (rc != -1 || strcmp(err.msg, expect))
		fail_msg("rc %d, '%s', want '%s'", rc, err.msg, expect);
}

static void bad_lines_say_file_line_and_reason(void **state)
{
	(void)state;
	refused("", false, "p:0: [device] lacks 'name'");
	refused("[device]\nname = n\n", false,
		"p:2: [device] lacks 'source' (where the register facts come from)");
	refused("a = 1\n", false, "p:1: 'a' outside a section");
	refused("[device]\nx\n", false, "p:2: expected 'key = value'");
	refused("[device]\n = 1\n", false, "p:2: missing key before '='");
	refused("[device]\nname =   \n", false, "p:2: name: missing value");
	refused("[device\n", false, "p:1: malformed section header");
	refused("[device] #\n", false, "p:1: malformed section header");
	refused("[valves]\n", false, "p:1: unknown section [valves]");
	refused("[valves]\n", true, "p:1: unknown section [valves] (device, things)");
	refused("[things]\n[device]\n[things]\n", false, "p:3: duplicate section [things]");
	/* A repeated [device] is refused even when the first one was empty. */
	refused("[device]\n[device]\n", false, "p:2: duplicate section [device]");
	refused("[device]\ncolour = red\n", false,
		"p:2: unknown key 'colour' in [device] (name, source, unverified, simulated, "
		"min_gap_ms)");
	refused("[device]\nname = a\nname = b\n", false, "p:3: duplicate key 'name'");
	refused("[device]\nsimulated = maybe\n", false, "p:2: simulated must be yes or no, not 'maybe'");
	refused("[device]\nmin_gap_ms = 1001\n", false, "p:2: min_gap_ms must be 0..1000, not '1001'");
	refused("[device]\nmin_gap_ms = -1\n", false, "p:2: min_gap_ms must be 0..1000, not '-1'");
	refused("[device]\nname = 0123456789012345678901234567890123456789012345678901234567890123\n",
		false, "p:2: name is longer than 63 characters");
}

static void a_line_holds_511_characters(void **state)
{
	(void)state;
	char text[600] = "[things]\nk = ";
	size_t head = strlen("k = ");
	memset(text + strlen(text), 'v', 511 - head);
	struct seen s;
	struct tl_profile_reader r;
	struct tl_err err = {{0}};
	if (parse(text, false, &s, &r, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(s.n, 1);
	strcat(text, "v");
	assert_int_equal(parse(text, false, &s, &r, &err), -1);
	assert_string_equal(err.msg, "p:2: line longer than 511 characters");
}

/* The lists in the drive and cuff profiles' messages are built from their tables: the
 * whole message, as each profile said it before they shared a reader. */
static void profile_messages_are_whole(void **state)
{
	(void)state;
	struct tl_modbus_profile mp;
	struct tl_cuff_profile cp;
	struct tl_err err = {{0}};
	static const struct {
		bool cuff;
		const char *text, *expect;
	} cases[] = {
		{false, "[bogus]\n", "m:1: unknown section [bogus]"},
		{false, "[device]\ncolour = red\n",
		 "m:2: unknown key 'colour' in [device] (name, source, unverified, simulated, "
		 "min_gap_ms, kmh_per_hz)"},
		{false, "[status]\nsparkles = 1\n",
		 "m:2: unknown key 'sparkles' in [status] (running, estop, key_pulled, "
		 "watchdog_tripped, drive_fault, homing)"},
		{false, "[command]\nreverse = 1\n",
		 "m:2: unknown key 'reverse' in [command] (start, stop, estop)"},
		{false, "[registers]\nspeed_actual = input 1 1 %\n",
		 "m:2: speed_actual: units '%' do not fit (expected km/h, mph or Hz)"},
		{false, "[registers]\nstatus = input 1 1 ms\n",
		 "m:2: status: units 'ms' do not fit (expected bits, code or count)"},
		{false, "[registers]\nwatchdog_ms = input 1 1 bits\n",
		 "m:2: watchdog_ms: units 'bits' do not fit (expected ms or s)"},
		{false, "[registers]\nspeed_setpoint = discrete 1 1 km/h\n",
		 "m:2: speed_setpoint must be writable (holding or coil), not discrete"},
		{false, "[registers]\nstatus = input 1 1\n",
		 "m:2: status: expected 'kind address scale units', got 3 words"},
		{false, "[command]\nstart = 1 2 3 4 5\n", "m:2: start: expected 1 to 4 values"},
		{true, "[valves]\n", "m:1: unknown section [valves] (device, registers, command)"},
		{true, "[device]\nkmh_per_hz = 1\n",
		 "m:2: unknown key 'kmh_per_hz' in [device] (name, source, unverified, simulated, "
		 "min_gap_ms)"},
		{true, "[registers]\nflow = input 0 1 mmHg\n",
		 "m:2: unknown register 'flow' (pressure, setpoint, rate, command, status)"},
		{true, "[registers]\npressure = discrete 0 1 mmHg\n",
		 "m:2: pressure: a cuff register is a 16-bit register (holding or input), not discrete"},
		{true, "[registers]\nsetpoint = input 0 1 mmHg\n",
		 "m:2: setpoint must be writable (holding), not input"},
		{true, "[registers]\nrate = holding 0 1 mmHg\n",
		 "m:2: rate: units 'mmHg' do not fit (expected mmHg/s)"},
		{true, "[registers]\npressure = input 0 1 psi\n",
		 "m:2: pressure: units 'psi' do not fit (expected mmHg or kPa)"},
		{true, "[command]\nvent = 0x10000\n", "m:2: vent: bad value '0x10000' (0..65535)"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int rc = cases[i].cuff ? tl_cuff_profile_parse(cases[i].text, "m", &cp, &err)
				       : tl_modbus_profile_parse(cases[i].text, "m", &mp, &err);
		if (rc != -1 || strcmp(err.msg, cases[i].expect))
			fail_msg("case %zu: rc %d, '%s', want '%s'", i, rc, err.msg, cases[i].expect);
	}
}

static char *write_temp(const char *body, size_t len, size_t repeat)
{
	static char path[64];
	snprintf(path, sizeof path, "/tmp/tl-profile-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	for (size_t i = 0; i < repeat; i++)
		assert_int_equal(write(fd, body, len), (ssize_t)len);
	close(fd);
	return path;
}

static void files_are_capped_and_text(void **state)
{
	(void)state;
	struct tl_err err = {{0}};
	assert_null(tl_profile_read_file("/nonexistent/x.profile", &err));
	assert_string_equal(err.msg, "/nonexistent/x.profile: No such file or directory");

	char *path = write_temp("# 16 characters\n", 16, 65535 / 16);
	char *text = tl_profile_read_file(path, &err);
	if (!text)
		fail_msg("%s", err.msg);
	assert_int_equal(strlen(text), 65535 / 16 * 16);
	free(text);
	unlink(path);

	path = write_temp("# 16 characters\n", 16, 4096); /* 64 KiB: one byte too many */
	assert_null(tl_profile_read_file(path, &err));
	char want[128];
	snprintf(want, sizeof want, "%s: larger than 64 KiB", path);
	assert_string_equal(err.msg, want);
	unlink(path);

	path = write_temp("[device]\n\0name = x\n", 19, 1);
	assert_null(tl_profile_read_file(path, &err));
	snprintf(want, sizeof want, "%s: contains a NUL byte", path);
	assert_string_equal(err.msg, want);
	struct tl_cuff_profile cp;
	assert_int_equal(tl_cuff_profile_load(path, &cp, &err), -1);
	assert_string_equal(err.msg, want);
	unlink(path);
}

static void numbers(void **state)
{
	(void)state;
	uint16_t u;
	double d;
	assert_int_equal(tl_profile_u16("0xffff", &u), 0);
	assert_int_equal(u, 65535);
	assert_int_equal(tl_profile_u16("010", &u), 0);
	assert_int_equal(u, 8); /* strtoul's base 0: a leading 0 is octal, as before */
	assert_int_equal(tl_profile_u16("65536", &u), -1);
	assert_int_equal(tl_profile_u16("+1", &u), -1);
	assert_int_equal(tl_profile_u16("", &u), -1);
	assert_int_equal(tl_profile_u16("1 ", &u), -1);
	assert_int_equal(tl_profile_positive("0.25", &d), 0);
	assert_true(d == 0.25);
	assert_int_equal(tl_profile_positive("0", &d), -1);
	assert_int_equal(tl_profile_positive("inf", &d), -1);
	assert_int_equal(tl_profile_positive("1e999", &d), -1);
	assert_int_equal(tl_profile_positive("2x", &d), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lines_comments_and_sections),
		cmocka_unit_test(bad_lines_say_file_line_and_reason),
		cmocka_unit_test(a_line_holds_511_characters),
		cmocka_unit_test(profile_messages_are_whole),
		cmocka_unit_test(files_are_capped_and_text),
		cmocka_unit_test(numbers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
