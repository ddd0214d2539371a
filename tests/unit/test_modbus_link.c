/* The libmodbus link the Modbus drivers share (drivers/modbus_link.h): its refusals and
 * their words, RTU over an openpty pair, TCP to a local socket, and the gap it keeps. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pty.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include "modbus_link.h"

static void refused(const struct tl_modbus_link_opts *o, const char *expect)
{
	struct tl_modbus_link l;
	struct tl_err err = {{0}};
	assert_int_equal(tl_modbus_link_open(&l, o, &err), -1);
	assert_null(l.ctx);
	if (strcmp(err.msg, expect))
		fail_msg("'%s', want '%s'", err.msg, expect);
}

static void bad_settings_are_refused_in_words(void **state)
{
	(void)state;
	refused(&(struct tl_modbus_link_opts){.who = "w", .device = "", .tcp = ""},
		"w: neither a serial device nor a tcp address is configured");
	refused(&(struct tl_modbus_link_opts){.who = "w", .tcp = "localhost"},
		"w: tcp address 'localhost' is not host:port");
	refused(&(struct tl_modbus_link_opts){.who = "w", .tcp = "localhost:"},
		"w: tcp address 'localhost:' is not host:port");
	refused(&(struct tl_modbus_link_opts){.who = "w", .tcp = "[]:502"},
		"w: tcp address '[]:502' is not host:port");
	refused(&(struct tl_modbus_link_opts){.who = "w", .device = "/dev/null", .framing = "7E1"},
		"w: framing '7E1' is not 8E1, 8O1, 8N2 or 8N1");
	refused(&(struct tl_modbus_link_opts){.who = "w", .device = "/dev/null", .framing = "8X1"},
		"w: framing '8X1' is not 8E1, 8O1, 8N2 or 8N1");
	/* The unit id is checked before anything is connected. */
	refused(&(struct tl_modbus_link_opts){.who = "w", .tcp = "127.0.0.1:1", .unit_id = 248},
		"w: unit id 248 is not 1..247");
	refused(&(struct tl_modbus_link_opts){.who = "w", .device = "/nonexistent/tty",
					      .framing = "8N1"},
		"w: cannot connect to /nonexistent/tty: No such file or directory (unplugged? "
		"check the adapter and the device name)");
}

/* A listening socket on 127.0.0.1; returns its port. */
static int listener(int *fd)
{
	*fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(*fd >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(bind(*fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(*fd, 4), 0);
	socklen_t len = sizeof a;
	assert_int_equal(getsockname(*fd, (struct sockaddr *)&a, &len), 0);
	return ntohs(a.sin_port);
}

static void tcp_takes_a_bracketed_host_and_keeps_min_gap(void **state)
{
	(void)state;
	int fd;
	int port = listener(&fd);
	char addr[64];
	snprintf(addr, sizeof addr, "[127.0.0.1]:%d", port);
	struct tl_modbus_link l;
	struct tl_err err = {{0}};
	struct tl_modbus_link_opts o = {.who = "w", .tcp = addr, .device = "/dev/null",
					.default_timeout_ms = 150, .min_gap_ms = 30};
	if (tl_modbus_link_open(&l, &o, &err))
		fail_msg("%s", err.msg);
	assert_true(l.tcp);
	assert_string_equal(l.where, addr);
	assert_int_equal(l.timeout_ms, 150);
	assert_int_equal(l.gap_ns, 30000000);
	assert_int_equal(modbus_get_slave(l.ctx), 1);
	/* The next request waits out the gap after the last transaction. */
	tl_modbus_link_end(&l);
	tl_modbus_link_begin(&l);
	assert_true(tl_modbus_link_now_ns() >= l.last_io_ns + 30000000);
	tl_modbus_link_close(&l);
	assert_null(l.ctx);
	tl_modbus_link_close(&l); /* again: nothing to do */
	close(fd);

	/* Nobody listening: the connect fails and says where. */
	port = listener(&fd);
	close(fd);
	snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
	o.tcp = addr;
	char want[128];
	snprintf(want, sizeof want, "w: cannot connect to %s: Connection refused", addr);
	refused(&o, want);
}

static void rtu_locks_the_device_and_keeps_the_frame_gap(void **state)
{
	(void)state;
	int master, slave;
	char name[64];
	assert_int_equal(openpty(&master, &slave, name, NULL, NULL), 0);
	struct tl_modbus_link l;
	struct tl_err err = {{0}};
	struct tl_modbus_link_opts o = {.who = "w", .device = name, .framing = "8N1",
					.unit_id = 7, .timeout_ms = 40, .default_timeout_ms = 150};
	if (tl_modbus_link_open(&l, &o, &err))
		fail_msg("%s", err.msg);
	assert_false(l.tcp);
	assert_int_equal(l.parity, 'N');
	assert_string_equal(l.where, name);
	assert_int_equal(l.timeout_ms, 40);
	assert_int_equal(modbus_get_slave(l.ctx), 7);
	/* 3.5 characters of 11 bits at 19200 baud */
	assert_int_equal(l.gap_ns, 2005208);

	/* Held: a second link to the same device is refused. */
	struct tl_modbus_link l2;
	assert_int_equal(tl_modbus_link_open(&l2, &o, &err), -1);
	assert_null(l2.ctx);
	assert_non_null(strstr(err.msg, name));
	tl_modbus_link_close(&l);

	/* Released at close: another program's lock is what is refused now. */
	int other = open(name, O_RDWR | O_NOCTTY);
	assert_true(other >= 0);
	assert_int_equal(flock(other, LOCK_EX | LOCK_NB), 0);
	char want[128];
	snprintf(want, sizeof want, "w: %s is in use by another program", name);
	refused(&o, want);
	close(other);

	/* A profile's min_gap_ms longer than 3.5 characters wins; above 19200 baud the gap is
	 * a fixed 1.75 ms. */
	o.min_gap_ms = 10;
	if (tl_modbus_link_open(&l, &o, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(l.gap_ns, 10000000);
	tl_modbus_link_close(&l);
	o.min_gap_ms = 0;
	o.baud = 38400;
	if (tl_modbus_link_open(&l, &o, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(l.gap_ns, 1750000);
	tl_modbus_link_close(&l);
	close(master);
	close(slave);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bad_settings_are_refused_in_words),
		cmocka_unit_test(tcp_takes_a_bracketed_host_and_keeps_min_gap),
		cmocka_unit_test(rtu_locks_the_device_and_keeps_the_frame_gap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
