/* Trackmaster frame encode/decode: pure functions, table-driven with adversarial input. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "trackmaster.h"

#define MAX_REPLIES 8

/* One row: a byte stream and the replies (kind, code, value) it must decode to, in
 * order, garbage bytes included; `pending` is how many bytes stay undecoded (a reply
 * cut short at the end of the stream). */
static const struct row {
	const char *legend;
	size_t len;
	const uint8_t bytes[24];
	int n;
	struct tl_tm_reply want[MAX_REPLIES];
	size_t pending;
} rows[] = {
	{"ack of start", 1, {0xB0}, 1, {{TL_TM_R_ACK, 0xB0, 0}}, 0},
	{"BE value out of range", 1, {0xBE}, 1, {{TL_TM_R_REFUSED, 0xBE, 0}}, 0},
	{"BF unknown command", 1, {0xBF}, 1, {{TL_TM_R_REFUSED, 0xBF, 0}}, 0},
	{"status running armed", 2, {0xD0, 0x32}, 1, {{TL_TM_R_STATUS, 0xD0, 0x32}}, 0},
	{"status not recognised", 1, {0xDF}, 1, {{TL_TM_R_NO_STATUS, 0xDF, 0}}, 0},
	{"speed 4.0 mph", 5, {0xD1, '0', '0', '4', '0'}, 1, {{TL_TM_R_VALUE, 0xD1, 40}}, 0},
	{"speed 999.9 (e-stop)", 5, {0xD1, '9', '9', '9', '9'}, 1,
	 {{TL_TM_R_VALUE, 0xD1, TL_TM_ESTOP_SPEED}}, 0},
	{"elevation 12.5 %", 5, {0xD2, '0', '1', '2', '5'}, 1, {{TL_TM_R_VALUE, 0xD2, 125}}, 0},
	{"garbage then ack", 3, {'x', 0x00, 0xB3}, 3,
	 {{TL_TM_R_GARBAGE, 'x', 0}, {TL_TM_R_GARBAGE, 0x00, 0}, {TL_TM_R_ACK, 0xB3, 0}}, 0},
	{"truncated value", 3, {0xD1, '0', '0'}, 0, {{0}}, 3},
	{"truncated status", 1, {0xD0}, 0, {{0}}, 1},
	{"bad status byte", 2, {0xD0, 0x39}, 2,
	 {{TL_TM_R_GARBAGE, 0xD0, 0}, {TL_TM_R_GARBAGE, 0x39, 0}}, 0},
	{"interleaved: value cut by an ack", 7, {0xD1, '0', '0', 0xB2, 0xD0, 0x31, '7'}, 6,
	 {{TL_TM_R_GARBAGE, 0xD1, 0}, {TL_TM_R_GARBAGE, '0', 0}, {TL_TM_R_GARBAGE, '0', 0},
	  {TL_TM_R_ACK, 0xB2, 0}, {TL_TM_R_STATUS, 0xD0, 0x31}, {TL_TM_R_GARBAGE, '7', 0}}, 0},
	{"oversize: five digits", 6, {0xD1, '0', '0', '4', '0', '5'}, 2,
	 {{TL_TM_R_VALUE, 0xD1, 40}, {TL_TM_R_GARBAGE, '5', 0}}, 0},
	{"echo after ack (AC mode)", 6, {0xB3, '0', '0', '4', '0', 0xB4}, 6,
	 {{TL_TM_R_ACK, 0xB3, 0}, {TL_TM_R_GARBAGE, '0', 0}, {TL_TM_R_GARBAGE, '0', 0},
	  {TL_TM_R_GARBAGE, '4', 0}, {TL_TM_R_GARBAGE, '0', 0}, {TL_TM_R_ACK, 0xB4, 0}}, 0},
	{"non-digit in value", 5, {0xD2, '0', 'x', '1', '0'}, 5,
	 {{TL_TM_R_GARBAGE, 0xD2, 0}, {TL_TM_R_GARBAGE, '0', 0}, {TL_TM_R_GARBAGE, 'x', 0},
	  {TL_TM_R_GARBAGE, '1', 0}, {TL_TM_R_GARBAGE, '0', 0}}, 0},
	{"high bytes are noise", 2, {0xFF, 0xA0}, 2,
	 {{TL_TM_R_GARBAGE, 0xFF, 0}, {TL_TM_R_GARBAGE, 0xA0, 0}}, 0},
	{"empty", 0, {0}, 0, {{0}}, 0},
};

static void decode_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const struct row *r = &rows[i];
		size_t off = 0;
		int n = 0;
		struct tl_tm_reply got;
		size_t used;
		while ((used = tl_tm_decode(r->bytes + off, r->len - off, &got)) > 0) {
			if (n >= r->n)
				fail_msg("%s: extra reply %d (code 0x%02X)", r->legend, n, got.code);
			const struct tl_tm_reply *w = &r->want[n];
			if (got.kind != w->kind || got.code != w->code || got.value != w->value)
				fail_msg("%s: reply %d: kind %d code 0x%02X value %d, want %d 0x%02X %d",
					 r->legend, n, got.kind, got.code, got.value, w->kind, w->code,
					 w->value);
			off += used;
			n++;
		}
		if (n != r->n || r->len - off != r->pending)
			fail_msg("%s: %d replies, %zu pending; want %d, %zu", r->legend, n,
				 r->len - off, r->n, r->pending);
	}
}

static void encode_commands(void **state)
{
	(void)state;
	uint8_t f[8];
	assert_int_equal(tl_tm_encode(TL_TM_START, -1, f, sizeof f), 1);
	assert_int_equal(f[0], 0xA0);
	assert_int_equal(tl_tm_encode(TL_TM_SET_SPEED, 40, f, sizeof f), 5);
	assert_memory_equal(f, "\xA3" "0040", 5);
	assert_int_equal(tl_tm_encode(TL_TM_SET_ELEVATION, 125, f, sizeof f), 5);
	assert_memory_equal(f, "\xA4" "0125", 5);
	assert_int_equal(tl_tm_encode(TL_TM_SET_SPEED, 10000, f, sizeof f), 0);
	assert_int_equal(tl_tm_encode(TL_TM_SET_SPEED, -2, f, sizeof f), 0);
	assert_int_equal(tl_tm_encode(TL_TM_SET_SPEED, 1, f, 4), 0);
}

static void setpoints_round_as_the_protocol_requires(void **state)
{
	(void)state;
	double s;
	/* 2.0 mph = 3.218688 km/h exactly */
	assert_int_equal(tl_tm_speed_value(3.218688, &s), 20);
	assert_float_equal(s, 3.218688, 1e-9);
	/* 3.0 km/h = 1.864 mph -> 1.9 mph */
	assert_int_equal(tl_tm_speed_value(3.0, &s), 19);
	assert_float_equal(s, 1.9 * 1.609344, 1e-9);
	assert_int_equal(tl_tm_speed_value(-0.5, &s), -1);
	assert_int_equal(tl_tm_speed_value(1609.3, &s), -1); /* 999.9 mph would read as an e-stop */
	assert_int_equal(tl_tm_grade_value(2.3, &s), 25);
	assert_float_equal(s, 2.5, 1e-9);
	assert_int_equal(tl_tm_grade_value(12.0, &s), 120);
	assert_int_equal(tl_tm_grade_value(3.74, &s), 35);
	assert_int_equal(tl_tm_grade_value(-1, &s), -1);
	assert_int_equal(tl_tm_grade_value(1000, &s), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(decode_table),
		cmocka_unit_test(encode_commands),
		cmocka_unit_test(setpoints_round_as_the_protocol_requires),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
