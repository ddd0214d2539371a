/* Patient buttons: pure debounce in virtual time, the line map parser, the modem-line
 * source over a fake link (a pty has no modem lines) and the button box over a pty. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <poll.h>
#include <pty.h>
#include <string.h>
#include <unistd.h>

#include "buttons.h"

/* One row: samples (time, level) fed in order, starting from the level at time -1;
 * presses expected: the time of each press, and the time of the sample that accepts it
 * (a sample stands for the interval since the one before it). */
static const struct debounce_row {
	const char *legend;
	int debounce_ms;
	bool start_level;
	int n;
	struct { int64_t t; bool level; } s[12];
	int presses;
	int64_t press_t[3];
	int64_t at_t[3];
} debounce_rows[] = {
	{"clean press held", 50, false, 3, {{0, false}, {10, true}, {60, true}}, 1, {10}, {60}},
	{"too short", 50, false, 4, {{0, false}, {10, true}, {40, false}, {200, false}}, 0, {0}, {0}},
	{"bounce then hold: counted once the held samples span 50 ms", 50, false, 7,
	 {{0, true}, {5, false}, {10, true}, {15, false}, {20, true}, {69, true}, {70, true}}, 1, {20},
	 {69}},
	{"held at start is not a press", 50, true, 3, {{0, true}, {100, true}, {500, true}}, 0, {0},
	 {0}},
	{"held at start, release, press", 50, true, 5,
	 {{0, false}, {60, false}, {100, true}, {149, true}, {150, true}}, 1, {100}, {149}},
	{"two presses", 20, false, 6,
	 {{0, true}, {20, true}, {30, false}, {60, false}, {70, true}, {95, true}}, 2, {0, 70},
	 {20, 95}},
	{"release glitch does not double count", 50, false, 5,
	 {{0, true}, {50, true}, {55, false}, {60, true}, {200, true}}, 1, {0}, {50}},
	{"zero debounce is immediate", 0, false, 2, {{0, false}, {1, true}}, 1, {1}, {1}},
	{"10 ms samples: accepted on the sample that completes 50 ms, not one later", 50, false, 7,
	 {{0, false}, {10, true}, {20, true}, {30, true}, {40, true}, {50, true}, {60, true}}, 1,
	 {10}, {50}},
	{"sampling interval >= debounce: a single active sample counts", 50, false, 2,
	 {{0, false}, {100, true}}, 1, {100}, {100}},
	{"slow sampling: released before the next sample, still one press", 50, false, 4,
	 {{0, false}, {100, true}, {200, false}, {300, false}}, 1, {100}, {100}},
	{"interval shorter than debounce: the second sample completes it", 50, false, 3,
	 {{0, false}, {30, true}, {60, true}}, 1, {30}, {60}},
	{"the span runs from the last inactive sample, at any rate", 50, false, 5,
	 {{0, false}, {10, false}, {20, true}, {25, true}, {61, true}}, 1, {20}, {61}},
	{"first sample after start spans from the start", 50, false, 1, {{60, true}}, 1, {60}, {60}},
	{"zero debounce: every first active sample at 10 ms polling", 0, false, 6,
	 {{0, false}, {10, false}, {20, true}, {30, true}, {40, false}, {50, true}}, 2, {20, 50},
	 {20, 50}},
	{"slow sampling: a release seen once ends the press, the next press counts", 50, false, 4,
	 {{0, true}, {60, true}, {160, false}, {260, true}}, 2, {0, 260}, {60, 260}},
};

static void debounce_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof debounce_rows / sizeof debounce_rows[0]; i++) {
		const struct debounce_row *r = &debounce_rows[i];
		struct tl_debounce d;
		tl_debounce_init(&d, r->debounce_ms, r->start_level, -1);
		int presses = 0;
		for (int j = 0; j < r->n; j++) {
			int64_t t;
			if (tl_debounce_update(&d, r->s[j].level, r->s[j].t, &t)) {
				if (presses >= r->presses)
					fail_msg("%s: unexpected press at %lld", r->legend, (long long)t);
				if (t != r->press_t[presses])
					fail_msg("%s: press %d at %lld, want %lld", r->legend, presses,
						 (long long)t, (long long)r->press_t[presses]);
				if (r->s[j].t != r->at_t[presses])
					fail_msg("%s: press %d accepted at %lld, want %lld", r->legend,
						 presses, (long long)r->s[j].t,
						 (long long)r->at_t[presses]);
				presses++;
			}
		}
		if (presses != r->presses)
			fail_msg("%s: %d presses, want %d", r->legend, presses, r->presses);
	}
}

static void holdoff_drops_repeats_of_the_same_kind(void **state)
{
	(void)state;
	struct tl_holdoff h = {.hold_ms = 100};
	assert_true(tl_holdoff_accept(&h, TL_PRESS_ONSET, 0));
	assert_false(tl_holdoff_accept(&h, TL_PRESS_ONSET, 99));
	assert_true(tl_holdoff_accept(&h, TL_PRESS_MAX, 99));
	assert_true(tl_holdoff_accept(&h, TL_PRESS_ONSET, 100));
}

static void line_map_parses_and_refuses(void **state)
{
	(void)state;
	struct tl_button_config c;
	char err[200];
	tl_button_config_default(&c);
	assert_int_equal(tl_button_parse_lines("DCD=onset,CTS=max", &c, err, sizeof err), 0);
	assert_int_equal(c.onset_line, TL_LINE_DCD);
	assert_int_equal(c.max_line, TL_LINE_CTS);
	assert_int_equal(tl_button_parse_lines("DSR=max", &c, err, sizeof err), 0);
	assert_int_equal(c.onset_line, 0);
	/* the technician's foot switch on a line of its own */
	assert_int_equal(tl_button_parse_lines("CTS=onset,DSR=max,DCD=foot", &c, err, sizeof err), 0);
	assert_int_equal(c.foot_line, TL_LINE_DCD);
	assert_int_equal(tl_button_parse_lines("RI=foot", &c, err, sizeof err), 0);
	assert_int_equal(c.foot_line, TL_LINE_RI);
	assert_int_equal(c.onset_line, 0);
	const char *bad[] = {"", "CTS", "XYZ=onset", "CTS=start", "CTS=onset,CTS=max",
			     "CTS=onset,DSR=onset", "CTS=onset,", ",CTS=onset", "CTS=foot,DSR=foot",
			     "CTS=onset,CTS=foot"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (tl_button_parse_lines(bad[i], &c, err, sizeof err) != -1)
			fail_msg("'%s' accepted", bad[i]);
}

/* A fake link whose modem lines the test sets. */
struct fake {
	unsigned lines;
	bool closed;
};

static int fake_read(struct tl_serial_link *l, void *buf, size_t len, int timeout_ms)
{
	(void)l, (void)buf, (void)len, (void)timeout_ms;
	return 0;
}

static int fake_write(struct tl_serial_link *l, const void *buf, size_t len, int timeout_ms)
{
	(void)l, (void)buf, (void)len, (void)timeout_ms;
	return 0;
}

static int fake_flush(struct tl_serial_link *l)
{
	(void)l;
	return 0;
}

static int fake_lines(struct tl_serial_link *l, unsigned *lines)
{
	*lines = ((struct fake *)l->priv)->lines;
	return 0;
}

static void fake_close(struct tl_serial_link *l)
{
	((struct fake *)l->priv)->closed = true;
}

static const struct tl_serial_link_ops fake_ops = {
	.name = "fake",
	.read = fake_read,
	.write_all = fake_write,
	.flush_input = fake_flush,
	.get_lines = fake_lines,
	.close = fake_close,
};

static void modem_button_reports_kind_time_and_source(void **state)
{
	(void)state;
	struct fake f = {.lines = TL_LINE_DCD};
	struct tl_serial_link link = {.ops = &fake_ops, .priv = &f};
	struct tl_button_config c;
	tl_button_config_default(&c); /* CTS = onset, DSR = max, 50 ms */
	struct tl_button b;
	assert_int_equal(tl_button_modem_open(&b, &link, &c, 0), 0);
	struct tl_press p[4];
	assert_int_equal(tl_button_poll(&b, 10, p, 4), 0);
	assert_int_equal(tl_button_poll(&b, 90, p, 4), 0);
	/* polled every 10 ms: the press counts on the sample that completes 50 ms */
	f.lines |= TL_LINE_CTS;
	assert_int_equal(tl_button_poll(&b, 100, p, 4), 0);
	assert_int_equal(tl_button_poll(&b, 139, p, 4), 0);
	assert_int_equal(tl_button_poll(&b, 140, p, 4), 1);
	assert_int_equal(p[0].kind, TL_PRESS_ONSET);
	assert_int_equal(p[0].t_ms, 100);
	assert_string_equal(p[0].source, "button-modem");
	/* 60 ms since the last poll: the one sample that sees it is debounce enough */
	f.lines = TL_LINE_DSR;
	assert_int_equal(tl_button_poll(&b, 200, p, 4), 1);
	assert_int_equal(p[0].kind, TL_PRESS_MAX);
	assert_int_equal(p[0].t_ms, 200);
	assert_int_equal(tl_button_poll(&b, 260, p, 4), 0);
	tl_button_close(&b);
	assert_true(f.closed);
}

static void modem_button_needs_modem_lines(void **state)
{
	(void)state;
	int m, s;
	char name[64];
	assert_int_equal(openpty(&m, &s, name, NULL, NULL), 0);
	struct tl_serial_link link;
	assert_int_equal(tl_serial_open(&link, name, 9600, TL_SERIAL_TERMIOS), 0);
	struct tl_button_config c;
	tl_button_config_default(&c);
	struct tl_button b;
	assert_int_equal(tl_button_modem_open(&b, &link, &c, 0), -1);
	assert_non_null(strstr(b.err, "button-modem"));
	close(m);
	close(s);
}

/* Waits until the pty's slave side has bytes to read (the box reads without waiting). */
static void wait_readable(int fd)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	assert_int_equal(poll(&pfd, 1, 5000), 1);
}

static void button_box_maps_bytes_and_drops_repeats(void **state)
{
	(void)state;
	int m, s;
	char name[64];
	assert_int_equal(openpty(&m, &s, name, NULL, NULL), 0);
	struct tl_serial_link link;
	assert_int_equal(tl_serial_open(&link, name, 9600, TL_SERIAL_TERMIOS), 0);
	struct tl_button_config c;
	tl_button_config_default(&c);
	c.debounce_ms = 100;
	struct tl_button b;
	assert_int_equal(tl_button_box_open(&b, &link, &c, 0), 0);
	assert_int_equal(write(m, "1\r\n1x", 5), 5);
	struct tl_press p[4];
	wait_readable(s);
	int n = tl_button_poll(&b, 1000, p, 4);
	assert_int_equal(n, 1);
	assert_int_equal(p[0].kind, TL_PRESS_ONSET);
	assert_int_equal(p[0].t_ms, 1000);
	assert_string_equal(p[0].source, "button-box");
	assert_int_equal(write(m, "2", 1), 1);
	wait_readable(s);
	n = tl_button_poll(&b, 1050, p, 4);
	assert_int_equal(n, 1);
	assert_int_equal(p[0].kind, TL_PRESS_MAX);
	/* '3' is the technician's foot switch (the Doppler signal is back) */
	assert_int_equal(write(m, "3", 1), 1);
	wait_readable(s);
	n = tl_button_poll(&b, 1100, p, 4);
	assert_int_equal(n, 1);
	assert_int_equal(p[0].kind, TL_PRESS_FOOT);
	assert_int_equal(p[0].t_ms, 1100);
	assert_string_equal(tl_press_kind_name(p[0].kind), "foot");
	tl_button_close(&b);
	/* a byte may mean one press only */
	assert_int_equal(tl_serial_open(&link, name, 9600, TL_SERIAL_TERMIOS), 0);
	c.foot_byte = '1';
	assert_int_equal(tl_button_box_open(&b, &link, &c, 0), -1);
	assert_non_null(strstr(b.err, "need different bytes"));
	close(m);
	close(s);
}

/* The modem source's foot line is debounced like the others. */
static void modem_foot_line(void **state)
{
	(void)state;
	struct fake f = {.lines = 0};
	struct tl_serial_link link = {.ops = &fake_ops, .priv = &f};
	struct tl_button_config c;
	tl_button_config_default(&c);
	c.foot_line = TL_LINE_RI;
	struct tl_button b;
	assert_int_equal(tl_button_modem_open(&b, &link, &c, 0), 0);
	struct tl_press p[4];
	f.lines = TL_LINE_RI;
	assert_int_equal(tl_button_poll(&b, 100, p, 4), 1);
	assert_int_equal(p[0].kind, TL_PRESS_FOOT);
	assert_int_equal(p[0].t_ms, 100);
	tl_button_close(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(debounce_table),
		cmocka_unit_test(holdoff_drops_repeats_of_the_same_kind),
		cmocka_unit_test(line_map_parses_and_refuses),
		cmocka_unit_test(modem_button_reports_kind_time_and_source),
		cmocka_unit_test(modem_button_needs_modem_lines),
		cmocka_unit_test(button_box_maps_bytes_and_drops_repeats),
		cmocka_unit_test(modem_foot_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
