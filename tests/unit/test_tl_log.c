/* The logging module: level filtering (a call below the level evaluates no argument),
 * the frame line (hex, direction, latency, note), the stderr line, the journal stream
 * check, and several threads logging at once (every line whole, none lost). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tl_log.h"

static int evaluated;

static int counted(int v)
{
	evaluated++;
	return v;
}

/* A temporary file the log writes to; its text read back by slurp(). */
static int log_file(void)
{
	char path[] = "/tmp/tl_log_test.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(fcntl(fd, F_SETFL, O_APPEND), 0);
	tl_log_to_fd(fd);
	return fd;
}

static char *slurp(int fd)
{
	off_t n = lseek(fd, 0, SEEK_END);
	assert_true(n >= 0);
	char *s = malloc((size_t)n + 1);
	assert_non_null(s);
	assert_int_equal(pread(fd, s, (size_t)n, 0), n);
	s[n] = '\0';
	return s;
}

static int count_lines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void below_level_evaluates_nothing(void **state)
{
	(void)state;
	int fd = log_file();
	tl_log_set_level(TL_LOG_INFO);
	evaluated = 0;
	TL_DEBUG("debug %d", counted(1));
	uint8_t b[2] = {0xA0, (uint8_t)counted(2)};
	evaluated = 0;
	TL_LOG_FRAME("trackmaster", "tx", b, (size_t)counted(2), counted(-1), NULL);
	assert_int_equal(evaluated, 0);
	char *s = slurp(fd);
	assert_string_equal(s, "");
	free(s);

	TL_INFO("info %d", counted(3));
	TL_ERROR("error %d", counted(4));
	assert_int_equal(evaluated, 2);
	tl_log_set_level(TL_LOG_WIRE);
	TL_LOG_FRAME("trackmaster", "tx", b, (size_t)counted(2), counted(-1), NULL);
	TL_DEBUG("debug %d", counted(5));
	assert_int_equal(evaluated, 5);
	s = slurp(fd);
	assert_int_equal(count_lines(s), 4);
	assert_non_null(strstr(s, " info: info 3\n"));
	assert_non_null(strstr(s, " error: error 4\n"));
	assert_non_null(strstr(s, " wire: trackmaster tx A0 02\n"));
	assert_non_null(strstr(s, " debug: debug 5\n"));
	free(s);

	tl_log_set_level(TL_LOG_ERROR);
	TL_WARNING("warning %d", counted(6));
	assert_int_equal(evaluated, 5);
	assert_false(tl_log_on(TL_LOG_WARNING));
	assert_true(tl_log_on(TL_LOG_ERROR));
	close(fd);
}

static void frame_format(void **state)
{
	(void)state;
	char buf[1024];
	const uint8_t a3[] = {0xA3, '0', '0', '2', '0'};
	assert_string_equal(tl_log_format_frame(buf, sizeof buf, "trackmaster", "tx", a3, 5, -1, NULL),
			    "trackmaster tx A3 30 30 32 30");
	const uint8_t b3 = 0xB3;
	assert_string_equal(tl_log_format_frame(buf, sizeof buf, "trackmaster", "rx", &b3, 1, 2412,
						NULL),
			    "trackmaster rx B3 +2412us");
	const uint8_t junk = 0x7F;
	assert_string_equal(tl_log_format_frame(buf, sizeof buf, "trackmaster", "rx", &junk, 1, 0,
						"garbage, skipped"),
			    "trackmaster rx 7F +0us garbage, skipped");
	assert_string_equal(tl_log_format_frame(buf, sizeof buf, "modbus-tcp", "rx", NULL, 0, 150000,
						"timeout"),
			    "modbus-tcp rx (no bytes) +150000us timeout");
	/* A frame longer than the line: cut, and says so. */
	uint8_t big[400];
	memset(big, 0x5A, sizeof big);
	tl_log_format_frame(buf, sizeof buf, "modbus-rtu", "rx", big, sizeof big, 10, "end");
	assert_true(strlen(buf) < sizeof buf);
	assert_non_null(strstr(buf, "5A 5A..."));
	assert_non_null(strstr(buf, " +10us end"));
	/* A small buffer stays terminated. */
	char small[12];
	tl_log_format_frame(small, sizeof small, "trackmaster", "tx", a3, 5, -1, NULL);
	assert_int_equal(strlen(small), sizeof small - 1);
}

static void stderr_line_shape(void **state)
{
	(void)state;
	tl_log_setup("tltest", TL_LOG_OUT_STDERR);
	int fd = log_file();
	tl_log_set_level(TL_LOG_WIRE);
	const uint8_t b3 = 0xB3;
	tl_log_frame("trackmaster", "rx", &b3, 1, 812, NULL);
	char *s = slurp(fd);
	regex_t re;
	assert_int_equal(regcomp(&re, "^tltest: [0-9]+\\.[0-9]{6} wire: trackmaster rx B3 \\+812us\n$",
				 REG_EXTENDED),
			 0);
	assert_int_equal(regexec(&re, s, 0, NULL, 0), 0);
	regfree(&re);
	free(s);
	close(fd);
}

static void parses_level_names(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		int level;
	} rows[] = {{"error", TL_LOG_ERROR}, {"warning", TL_LOG_WARNING}, {"info", TL_LOG_INFO},
		    {"notice", TL_LOG_INFO}, {"debug", TL_LOG_DEBUG}, {"wire", TL_LOG_WIRE},
		    {"verbose", -1}, {"", -1}, {"WIRE", -1}};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		enum tl_log_level l = TL_LOG_ERROR;
		int rc = tl_log_level_parse(rows[i].name, &l);
		if (rows[i].level < 0) {
			assert_int_equal(rc, -1);
		} else {
			assert_int_equal(rc, 0);
			assert_int_equal(l, rows[i].level);
			assert_string_equal(tl_log_level_name(l),
					    rows[i].level == TL_LOG_INFO ? "info" : rows[i].name);
		}
	}
}

/* A stderr redirected away from the journal keeps JOURNAL_STREAM from its parent: the
 * lines must still land in the redirected file, not in the journal. */
static void journal_stream_of_another_file_is_not_the_journal(void **state)
{
	(void)state;
	char path[] = "/tmp/tl_log_err.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	int saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	struct stat st;
	assert_int_equal(fstat(saved, &st), 0);
	char js[64];
	snprintf(js, sizeof js, "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino + 1);
	setenv("JOURNAL_STREAM", js, 1);
	tl_log_to_fd(STDERR_FILENO);
	tl_log_setup("tltest", TL_LOG_OUT_AUTO);
	tl_log_set_level(TL_LOG_INFO);
	TL_INFO("to the file");
	dup2(saved, STDERR_FILENO);
	close(saved);
	unsetenv("JOURNAL_STREAM");
	char *s = slurp(fd);
	assert_non_null(strstr(s, "tltest: "));
	assert_non_null(strstr(s, " info: to the file\n"));
	free(s);
	close(fd);
}

#define THREADS 4
#define LINES 400

static atomic_int go;

static void *logger(void *arg)
{
	int id = (int)(intptr_t)arg;
	uint8_t frame[8];
	memset(frame, id, sizeof frame);
	while (!atomic_load(&go))
		;
	for (int i = 0; i < LINES; i++) {
		TL_ERROR("thread %d line %d of a few words, long enough to tear if split", id, i);
		TL_LOG_FRAME("modbus-tcp", i % 2 ? "rx" : "tx", frame, sizeof frame, i, "smoke");
	}
	return NULL;
}

static void *toggler(void *arg)
{
	(void)arg;
	while (!atomic_load(&go))
		;
	for (int i = 0; i < 2000; i++)
		tl_log_set_level(i % 2 ? TL_LOG_WIRE : TL_LOG_WARNING);
	return NULL;
}

static void threads_write_whole_lines(void **state)
{
	(void)state;
	tl_log_setup("tltest", TL_LOG_OUT_STDERR);
	int fd = log_file();
	pthread_t t[THREADS + 1];
	atomic_store(&go, 0);
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, logger, (void *)(intptr_t)(i + 1)), 0);
	assert_int_equal(pthread_create(&t[THREADS], NULL, toggler, NULL), 0);
	atomic_store(&go, 1);
	for (int i = 0; i <= THREADS; i++)
		pthread_join(t[i], NULL);
	char *s = slurp(fd);
	regex_t err_re, wire_re;
	assert_int_equal(regcomp(&err_re, "^tltest: [0-9]+\\.[0-9]{6} error: thread [1-4] line [0-9]+ "
					  "of a few words, long enough to tear if split$",
				 REG_EXTENDED | REG_NOSUB),
			 0);
	assert_int_equal(regcomp(&wire_re, "^tltest: [0-9]+\\.[0-9]{6} wire: modbus-tcp [rt]x "
					   "(0([1-4]) ){7}0[1-4] \\+[0-9]+us smoke$",
				 REG_EXTENDED | REG_NOSUB),
			 0);
	int errors = 0, frames = 0;
	for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n")) {
		if (regexec(&err_re, line, 0, NULL, 0) == 0)
			errors++;
		else if (regexec(&wire_re, line, 0, NULL, 0) == 0)
			frames++;
		else
			fail_msg("a torn or foreign line: '%s'", line);
	}
	assert_int_equal(errors, THREADS * LINES); /* error is on at every level set */
	assert_true(frames <= THREADS * LINES);
	regfree(&err_re);
	regfree(&wire_re);
	free(s);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(below_level_evaluates_nothing),
		cmocka_unit_test(frame_format),
		cmocka_unit_test(stderr_line_shape),
		cmocka_unit_test(parses_level_names),
		cmocka_unit_test(journal_stream_of_another_file_is_not_the_journal),
		cmocka_unit_test(threads_write_whole_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
