/* test_mllp.c - MLLP framing, ACK parsing and one attempt against a peer in a thread:
 * an ACK in pieces, an ACK for another message first, garbage, silence (the deadline is
 * for the whole answer), a closed connection; and the backoff rule. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "mllp.h"
#include "records.h"

static void frames_are_found_whole(void **state)
{
	(void)state;
	const unsigned char buf[] = "junk\x0bMSH|^~\\&|A\rMSA|AA|1\r\x1c\x0d\x0bMSH";
	size_t s, e, used;
	assert_int_equal(tl_mllp_frame_find(buf, 10, &s, &e, &used), 0); /* no trailer yet */
	assert_int_equal(tl_mllp_frame_find(buf, sizeof buf - 1, &s, &e, &used), 1);
	assert_int_equal(s, 5);
	assert_memory_equal(buf + s, "MSH|^~\\&|A\rMSA|AA|1\r", e - s);
	assert_int_equal(used, 5 + 20 + 2);
	/* 0x1C alone is not the end */
	const unsigned char half[] = "\x0bMSH\x1c";
	assert_int_equal(tl_mllp_frame_find(half, sizeof half - 1, &s, &e, &used), 0);
}

static void acks_are_read(void **state)
{
	(void)state;
	enum tl_send_result r = TL_SEND_RETRY;
	char code[3], d[128];
#define ACK(s) s, strlen(s)
	assert_int_equal(tl_mllp_ack_parse(ACK("MSH|^~\\&|R|F|||20261126||ACK|9|P|2.5.1\rMSA|AA|TL1-7\r"),
					   "TL1-7", &r, code, d, sizeof d), 1);
	assert_int_equal(r, TL_SEND_DELIVERED);
	assert_string_equal(code, "AA");
	assert_int_equal(tl_mllp_ack_parse(ACK("MSH|^~\\&|R\rMSA|AE|TL1-7|unknown patient\r"), "TL1-7",
					   &r, code, d, sizeof d), 1);
	assert_int_equal(r, TL_SEND_REJECTED);
	assert_string_equal(d, "unknown patient");
	/* no MSA-3: the ERR segment is the text */
	assert_int_equal(tl_mllp_ack_parse(ACK("MSH|^~\\&|R\nMSA|CE|TL1-7\nERR|||207^Application error\n"),
					   "TL1-7", &r, code, d, sizeof d), 1);
	assert_int_equal(r, TL_SEND_REJECTED);
	assert_string_equal(d, "ERR|||207^Application error");
	assert_int_equal(tl_mllp_ack_parse(ACK("MSH|^~\\&|R\rMSA|AR|TL1-7\r"), "TL1-7", &r, code, d,
					   sizeof d), 1);
	assert_int_equal(r, TL_SEND_RETRY);
	/* another message's ACK, a prefix of ours, garbage */
	assert_int_equal(tl_mllp_ack_parse(ACK("MSH|^~\\&|R\rMSA|AA|TL1-8\r"), "TL1-7", &r, code, d,
					   sizeof d), 0);
	assert_int_equal(tl_mllp_ack_parse(ACK("MSH|^~\\&|R\rMSA|AA|TL1-\r"), "TL1-7", &r, code, d,
					   sizeof d), 0);
	assert_int_equal(tl_mllp_ack_parse(ACK("hello there"), "TL1-7", &r, code, d, sizeof d), -1);
	assert_int_equal(tl_mllp_ack_parse(ACK("MSH|^~\\&|R\rPID|1\r"), "TL1-7", &r, code, d, sizeof d), -1);
	assert_non_null(strstr(d, "no MSA"));
	assert_int_equal(tl_mllp_ack_parse(ACK("MSH|^~\\&|R\rMSA|OK|TL1-7\r"), "TL1-7", &r, code, d,
					   sizeof d), -1);
	assert_non_null(strstr(d, "MSA-1 'OK'"));
#undef ACK
}

/* The peer: accepts one connection, reads one frame, then plays its script. */
struct peer {
	int lfd, port;
	const char *script; /* "pieces", "other-first", "garbage", "silent", "close" */
	char got[256];
};

static void *peer_run(void *arg)
{
	struct peer *p = arg;
	int fd = accept(p->lfd, NULL, NULL);
	if (fd < 0)
		return NULL;
	size_t n = 0;
	while (n < sizeof p->got - 1) {
		ssize_t r = read(fd, p->got + n, sizeof p->got - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		if (n >= 2 && p->got[n - 2] == 0x1c && p->got[n - 1] == 0x0d)
			break;
	}
	p->got[n] = 0;
	static const char ours[] = "\x0bMSH|^~\\&|R\rMSA|AA|C1\r\x1c\x0d";
	static const char other[] = "\x0bMSH|^~\\&|R\rMSA|AE|C0|old\r\x1c\x0d";
	struct timespec ms20 = {0, 20000000};
	if (!strcmp(p->script, "pieces")) {
		for (size_t i = 0; i < sizeof ours - 1; i += 5) {
			size_t k = sizeof ours - 1 - i < 5 ? sizeof ours - 1 - i : 5;
			if (write(fd, ours + i, k) < 0)
				break;
			nanosleep(&ms20, NULL);
		}
	} else if (!strcmp(p->script, "other-first")) {
		if (write(fd, other, sizeof other - 1) < 0 || write(fd, ours, sizeof ours - 1) < 0)
			p->got[0] = 0;
	} else if (!strcmp(p->script, "garbage")) {
		if (write(fd, "\x0bnonsense\x1c\x0d", 12) < 0)
			p->got[0] = 0;
	} else if (!strcmp(p->script, "other-only")) {
		if (write(fd, other, sizeof other - 1) < 0)
			p->got[0] = 0;
	}
	if (!strcmp(p->script, "silent") || !strcmp(p->script, "garbage") ||
	    !strcmp(p->script, "other-only")) {
		char b[16];
		while (read(fd, b, sizeof b) > 0) /* until the sender gives up and closes */
			;
	}
	close(fd);
	return NULL;
}

static void one_attempt(const char *script, int timeout_ms, struct tl_mllp_answer *a,
			int64_t *took_ms)
{
	struct peer p = {.script = script};
	p.lfd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof sa;
	assert_int_equal(bind(p.lfd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(listen(p.lfd, 1), 0);
	getsockname(p.lfd, (struct sockaddr *)&sa, &sl);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, peer_run, &p), 0);
	struct tl_mllp m;
	tl_mllp_init(&m, "127.0.0.1", ntohs(sa.sin_port));
	static const char msg[] = "MSH|^~\\&|TL|LAB|R|F|20261126||ORU^R01|C1|P|2.5.1\r";
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	tl_mllp_send(&m, (const unsigned char *)msg, sizeof msg - 1, "C1", timeout_ms, -1, a);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	*took_ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	tl_mllp_close(&m);
	pthread_join(th, NULL);
	close(p.lfd);
	/* the peer got exactly one framed message */
	assert_int_equal(p.got[0], 0x0b);
	assert_memory_equal(p.got + 1, msg, sizeof msg - 1);
}

static void attempts_end_as_their_answer(void **state)
{
	(void)state;
	struct tl_mllp_answer a;
	int64_t ms;
	one_attempt("pieces", 5000, &a, &ms);
	assert_int_equal(a.result, TL_SEND_DELIVERED);
	assert_string_equal(a.event, "ack AA");
	one_attempt("other-first", 5000, &a, &ms);
	assert_int_equal(a.result, TL_SEND_DELIVERED); /* the other id's AE was not ours */
	one_attempt("other-only", 300, &a, &ms);
	assert_int_equal(a.result, TL_SEND_RETRY);
	assert_string_equal(a.event, "timeout");
	assert_non_null(strstr(a.detail, "another message"));
	one_attempt("garbage", 300, &a, &ms);
	assert_int_equal(a.result, TL_SEND_RETRY);
	assert_non_null(strstr(a.detail, "not an HL7 message"));
	one_attempt("silent", 400, &a, &ms);
	assert_int_equal(a.result, TL_SEND_RETRY);
	assert_string_equal(a.event, "timeout");
	assert_true(ms >= 390 && ms < 2000);
	one_attempt("close", 5000, &a, &ms);
	assert_int_equal(a.result, TL_SEND_RETRY);
	assert_string_equal(a.event, "broken");
	assert_true(ms < 2000);
}

static void refused_connection_is_a_retry(void **state)
{
	(void)state;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof sa;
	bind(fd, (struct sockaddr *)&sa, sizeof sa);
	getsockname(fd, (struct sockaddr *)&sa, &sl);
	close(fd); /* a port nobody listens on */
	struct tl_mllp m;
	tl_mllp_init(&m, "127.0.0.1", ntohs(sa.sin_port));
	struct tl_mllp_answer a;
	tl_mllp_send(&m, (const unsigned char *)"MSH|x\r", 6, "C1", 1000, -1, &a);
	assert_int_equal(a.result, TL_SEND_RETRY);
	assert_string_equal(a.event, "connect");
	assert_non_null(strstr(a.detail, "refused"));
	tl_mllp_close(&m);
}

static void backoff_doubles_up_to_the_bound(void **state)
{
	(void)state;
	struct tl_delivery_conf d = {.retry_min_ms = 100, .retry_max_ms = 1000};
	assert_int_equal(tl_delivery_backoff_ms(&d, 1), 100);
	assert_int_equal(tl_delivery_backoff_ms(&d, 2), 200);
	assert_int_equal(tl_delivery_backoff_ms(&d, 4), 800);
	assert_int_equal(tl_delivery_backoff_ms(&d, 5), 1000);
	assert_int_equal(tl_delivery_backoff_ms(&d, 60), 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(frames_are_found_whole),
		cmocka_unit_test(acks_are_read),
		cmocka_unit_test(attempts_end_as_their_answer),
		cmocka_unit_test(refused_connection_is_a_retry),
		cmocka_unit_test(backoff_doubles_up_to_the_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
