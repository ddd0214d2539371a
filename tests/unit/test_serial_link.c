/* The termios backend of the serial link over an openpty pair. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <pty.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "serial_link.h"

struct pair {
	int master;
	int slave; /* kept open so the pty stays alive between opens */
	char name[64];
};

static int setup(void **state)
{
	static struct pair p;
	assert_int_equal(openpty(&p.master, &p.slave, p.name, NULL, NULL), 0);
	*state = &p;
	return 0;
}

static int teardown(void **state)
{
	struct pair *p = *state;
	if (p->master >= 0)
		close(p->master);
	if (p->slave >= 0)
		close(p->slave);
	return 0;
}

/* The adapter is pulled out: the pty goes, and with it the node. */
static void unplug(struct pair *p)
{
	close(p->master);
	close(p->slave);
	p->master = p->slave = -1;
}

/* Descriptors of this process open on the node `name` (the kernel shows a node that is
 * gone as "NAME (deleted)"). */
static int fds_on(const char *name)
{
	DIR *d = opendir("/proc/self/fd");
	assert_non_null(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		char path[300], target[300];
		snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
		ssize_t len = readlink(path, target, sizeof target - 1);
		if (len <= 0)
			continue;
		target[len] = '\0';
		size_t nl = strlen(name);
		if (!strncmp(target, name, nl) && (!target[nl] || target[nl] == ' '))
			n++;
	}
	closedir(d);
	return n;
}

static void assert_hung_up(const struct tl_serial_link *l, const char *name)
{
	assert_non_null(strstr(l->err, name));
	assert_non_null(strstr(l->err, "hung up (unplugged?)"));
	assert_null(strstr(l->err, "Input/output error"));
}

/* A read of a hung-up tty says so in words, and the node is let go at once: a USB
 * adapter plugged back while its old node is held comes up under another name. */
static void hang_up_seen_by_a_read_releases_the_device(void **state)
{
	struct pair *p = *state;
	struct tl_serial_link l;
	assert_int_equal(tl_serial_open(&l, p->name, 4800, TL_SERIAL_TERMIOS), 0);
	assert_int_equal(fds_on(p->name), 2); /* the pair's slave and the link's own */
	unplug(p);
	assert_int_equal(fds_on(p->name), 1);
	char c;
	long long t0 = tl_serial_now_ms();
	assert_int_equal(tl_serial_read(&l, &c, 1, 1000), -1);
	assert_true(tl_serial_now_ms() - t0 < 500); /* at once, not at the deadline */
	assert_hung_up(&l, p->name);
	assert_int_equal(fds_on(p->name), 0);
	assert_int_equal(l.ops->fd(&l), -1);
	/* Every later call fails at once with the same words; none blocks or spins. */
	l.err[0] = '\0';
	assert_int_equal(tl_serial_read(&l, &c, 1, 0), -1);
	assert_hung_up(&l, p->name);
	l.err[0] = '\0';
	assert_int_equal(tl_serial_write_all(&l, "\xa2", 1, 1000), -1);
	assert_hung_up(&l, p->name);
	l.err[0] = '\0';
	assert_int_equal(tl_serial_flush_input(&l), -1);
	assert_hung_up(&l, p->name);
	assert_int_equal(tl_serial_read_full(&l, &c, 1, tl_serial_now_ms() + 1000), -1);
	tl_serial_close(&l); /* nothing left to restore; no double close */
}

/* The same when the first thing after the hang-up is a command written. */
static void hang_up_seen_by_a_write_releases_the_device(void **state)
{
	struct pair *p = *state;
	struct tl_serial_link l;
	assert_int_equal(tl_serial_open(&l, p->name, 4800, TL_SERIAL_TERMIOS), 0);
	unplug(p);
	assert_int_equal(tl_serial_write_all(&l, "\xc0", 1, 1000), -1);
	assert_hung_up(&l, p->name);
	assert_int_equal(fds_on(p->name), 0);
	tl_serial_close(&l);
}

/* Silence is not a hang-up: a read with nothing to read returns 0 and keeps the device. */
static void no_data_is_not_a_hang_up(void **state)
{
	struct pair *p = *state;
	struct tl_serial_link l;
	assert_int_equal(tl_serial_open(&l, p->name, 4800, TL_SERIAL_TERMIOS), 0);
	char c;
	assert_int_equal(tl_serial_read(&l, &c, 1, 20), 0);
	assert_int_equal(tl_serial_read(&l, &c, 1, 0), 0);
	assert_int_equal(write(p->master, "x", 1), 1);
	assert_int_equal(tl_serial_read(&l, &c, 1, 1000), 1);
	assert_int_equal(fds_on(p->name), 2);
	tl_serial_close(&l);
}

static void reads_and_writes_raw_bytes(void **state)
{
	struct pair *p = *state;
	struct tl_serial_link l;
	assert_int_equal(tl_serial_open(&l, p->name, 4800, TL_SERIAL_TERMIOS), 0);
	const unsigned char out[] = {0xa0, '\n', 0x03, 0x00, 0xff};
	assert_int_equal(write(p->master, out, sizeof out), (ssize_t)sizeof out);
	unsigned char in[8];
	int n = tl_serial_read_full(&l, in, sizeof out, tl_serial_now_ms() + 2000);
	assert_int_equal(n, (int)sizeof out);
	assert_memory_equal(in, out, sizeof out);
	assert_int_equal(tl_serial_write_all(&l, "\xb0\r", 2, 1000), 0);
	char back[2];
	assert_int_equal(read(p->master, back, 2), 2);
	assert_memory_equal(back, "\xb0\r", 2);
	tl_serial_close(&l);
}

static void read_returns_zero_at_deadline(void **state)
{
	struct pair *p = *state;
	struct tl_serial_link l;
	assert_int_equal(tl_serial_open(&l, p->name, 9600, TL_SERIAL_TERMIOS), 0);
	char c;
	long long t0 = tl_serial_now_ms();
	assert_int_equal(tl_serial_read(&l, &c, 1, 30), 0);
	assert_true(tl_serial_now_ms() - t0 >= 29);
	assert_int_equal(tl_serial_read(&l, &c, 1, 0), 0);
	tl_serial_close(&l);
}

static void flush_discards_pending_input(void **state)
{
	struct pair *p = *state;
	struct tl_serial_link l;
	assert_int_equal(tl_serial_open(&l, p->name, 9600, TL_SERIAL_TERMIOS), 0);
	assert_int_equal(write(p->master, "junk", 4), 4);
	/* wait until the bytes are readable, then flush them */
	char c;
	assert_int_equal(tl_serial_read(&l, &c, 1, 2000), 1);
	assert_int_equal(tl_serial_flush_input(&l), 0);
	assert_int_equal(tl_serial_read(&l, &c, 1, 0), 0);
	tl_serial_close(&l);
}

static void second_open_is_refused(void **state)
{
	struct pair *p = *state;
	struct tl_serial_link a, b;
	assert_int_equal(tl_serial_open(&a, p->name, 9600, TL_SERIAL_TERMIOS), 0);
	assert_int_equal(tl_serial_open(&b, p->name, 9600, TL_SERIAL_TERMIOS), -1);
	assert_non_null(strstr(b.err, p->name));
	tl_serial_close(&b); /* safe on a failed link */
	tl_serial_close(&a);
	assert_int_equal(tl_serial_open(&b, p->name, 9600, TL_SERIAL_TERMIOS), 0);
	tl_serial_close(&b);
}

static void settings_restored_on_close(void **state)
{
	struct pair *p = *state;
	struct termios before, during, after;
	assert_int_equal(tcgetattr(p->slave, &before), 0);
	assert_true(before.c_lflag & ICANON);
	struct tl_serial_link l;
	assert_int_equal(tl_serial_open(&l, p->name, 19200, TL_SERIAL_TERMIOS), 0);
	assert_int_equal(tcgetattr(p->slave, &during), 0);
	assert_false(during.c_lflag & ICANON);
	assert_int_equal(during.c_cflag & CSIZE, CS8);
	assert_int_equal(cfgetospeed(&during), B19200);
	tl_serial_close(&l);
	assert_int_equal(tcgetattr(p->slave, &after), 0);
	assert_int_equal(after.c_lflag, before.c_lflag);
	assert_int_equal(after.c_cflag, before.c_cflag);
}

static void auto_falls_back_to_termios_on_a_pty(void **state)
{
	struct pair *p = *state;
	struct tl_serial_link l;
	assert_int_equal(tl_serial_open(&l, p->name, 4800, TL_SERIAL_AUTO), 0);
	assert_string_equal(l.ops->name, "termios");
	unsigned lines;
	assert_int_equal(tl_serial_get_lines(&l, &lines), -1); /* a pty has no modem lines */
	tl_serial_close(&l);
}

static void bad_baud_and_missing_device_are_errors(void **state)
{
	struct pair *p = *state;
	struct tl_serial_link l;
	assert_int_equal(tl_serial_open(&l, p->name, 1234, TL_SERIAL_TERMIOS), -1);
	assert_non_null(strstr(l.err, "1234"));
	assert_int_equal(tl_serial_open(&l, "/nonexistent/ttyX", 4800, TL_SERIAL_AUTO), -1);
	assert_non_null(strstr(l.err, "/nonexistent/ttyX: not found (unplugged?"));
	assert_int_equal(tl_serial_open(&l, "", 4800, TL_SERIAL_AUTO), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(reads_and_writes_raw_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(read_returns_zero_at_deadline, setup, teardown),
		cmocka_unit_test_setup_teardown(flush_discards_pending_input, setup, teardown),
		cmocka_unit_test_setup_teardown(second_open_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(settings_restored_on_close, setup, teardown),
		cmocka_unit_test_setup_teardown(auto_falls_back_to_termios_on_a_pty, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_baud_and_missing_device_are_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(hang_up_seen_by_a_read_releases_the_device, setup, teardown),
		cmocka_unit_test_setup_teardown(hang_up_seen_by_a_write_releases_the_device, setup, teardown),
		cmocka_unit_test_setup_teardown(no_data_is_not_a_hang_up, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
