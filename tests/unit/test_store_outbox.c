/* test_store_outbox.c - the outbox's states and history: queued, an attempt, the answers
 * (delivered, a retry due later, failed), one message per test/kind/version, retry and
 * cancel only where they apply, resume after 'sending', nothing ever deleted, and a
 * signature that queues its message in the same transaction (or neither). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "store_fixture.h"

#define T0 "2026-11-26T10:00:00.000Z"
#define T1 "2026-11-26T10:00:01.000Z"
#define T2 "2026-11-26T10:00:02.000Z"
#define T9 "2026-11-26T10:00:09.000Z"
#define MSG ((const unsigned char *)"MSH|^~\\&|x\r")

static json_t *msg_of(struct tl_store *st, int64_t id)
{
	struct tl_err err = {""};
	json_t *m = tl_store_outbox_msg_json(st, id, true, &err);
	assert_non_null(m);
	return m;
}

static const char *events(json_t *m, char *buf, size_t cap)
{
	buf[0] = 0;
	json_t *h = json_object_get(m, "history"), *e;
	size_t i;
	json_array_foreach(h, i, e) {
		size_t n = strlen(buf);
		snprintf(buf + n, cap - n, "%s%s", i ? "," : "", json_string_value(json_object_get(e, "event")));
	}
	return buf;
}

static void a_message_goes_through_its_states(void **state)
{
	struct fx *f = *state;
	struct tl_store *st = fx_open(f);
	struct tl_err err = {""};
	int64_t t = fx_create(st, "MRN1", T0);
	int64_t id = tl_store_outbox_add(st, t, "hl7", 1, 0, MSG, 11, T0, &err);
	assert_true(id > 0);
	/* the same test, kind and version again: refused */
	assert_int_equal(tl_store_outbox_add(st, t, "hl7", 1, 0, MSG, 11, T0, &err), 0);
	assert_non_null(strstr(err.msg, "already has its hl7 message of report version 1"));
	/* unless re-sent on purpose */
	int64_t again = tl_store_outbox_add(st, t, "hl7", 1, id, MSG, 11, T0, &err);
	assert_true(again > id);
	assert_int_equal(tl_store_outbox_cancel(st, again, "alice", T0, &err), 1);

	struct tl_store_outbox_msg m;
	char next[32], buf[256];
	assert_int_equal(tl_store_outbox_next(st, "fhir", T0, &m, next, &err), 0);
	assert_string_equal(next, "");
	assert_int_equal(tl_store_outbox_next(st, "hl7", T0, &m, next, &err), 1);
	assert_int_equal(m.id, id);
	assert_int_equal(m.len, 11);
	assert_memory_equal(m.payload, MSG, 11);
	json_t *j = msg_of(st, id);
	char control[64];
	snprintf(control, sizeof control, "%s", json_string_value(json_object_get(j, "control_id")));
	assert_string_equal(m.control_id, control);
	assert_int_equal(strncmp(control, "TL", 2), 0);
	json_decref(j);
	tl_store_outbox_msg_free(&m);

	assert_int_equal(tl_store_outbox_attempt(st, id, T0, &err), 1);
	/* being sent: neither cancelled nor picked again */
	assert_int_equal(tl_store_outbox_cancel(st, id, "alice", T0, &err), -2);
	assert_non_null(strstr(err.msg, "it is sending"));
	assert_int_equal(tl_store_outbox_next(st, "hl7", T0, &m, next, &err), 0);
	assert_int_equal(tl_store_outbox_outcome(st, id, "ack AR", "busy", "queued", T9, T1, &err), 1);
	assert_int_equal(tl_store_outbox_next(st, "hl7", T2, &m, next, &err), 0);
	assert_string_equal(next, T9);
	assert_int_equal(tl_store_outbox_next(st, "hl7", T9, &m, next, &err), 1);
	tl_store_outbox_msg_free(&m);
	assert_int_equal(tl_store_outbox_attempt(st, id, T9, &err), 1);
	assert_int_equal(tl_store_outbox_outcome(st, id, "ack AA", "", "delivered", NULL, T9, &err), 1);
	j = msg_of(st, id);
	assert_string_equal(json_string_value(json_object_get(j, "state")), "delivered");
	assert_int_equal(json_integer_value(json_object_get(j, "attempts")), 2);
	assert_string_equal(json_string_value(json_object_get(j, "delivered_at")), T9);
	assert_string_equal(json_string_value(json_object_get(j, "control_id")), control);
	assert_string_equal(events(j, buf, sizeof buf),
			    "queued,attempt,ack AR,retry,attempt,ack AA,delivered");
	json_decref(j);
	/* delivered: no retry, no cancel */
	assert_int_equal(tl_store_outbox_retry(st, id, "alice", T9, &err), -2);
	assert_int_equal(tl_store_outbox_cancel(st, id, "alice", T9, &err), -2);
	assert_int_equal(tl_store_outbox_retry(st, 999, "alice", T9, &err), 0);
	assert_non_null(strstr(err.msg, "no outbox message 999"));
	int u, fl;
	assert_int_equal(tl_store_outbox_counts(st, &u, &fl, &err), 0);
	assert_int_equal(u, 0);
	assert_int_equal(fl, 0);
	tl_store_close(st);
}

static void failed_is_retried_with_the_same_id(void **state)
{
	struct fx *f = *state;
	struct tl_store *st = fx_open(f);
	struct tl_err err = {""};
	int64_t t = fx_create(st, "MRN1", T0);
	int64_t id = tl_store_outbox_add(st, t, "hl7", 1, 0, MSG, 11, T0, &err);
	assert_int_equal(tl_store_outbox_attempt(st, id, T0, &err), 1);
	assert_int_equal(tl_store_outbox_outcome(st, id, "ack AE", "unknown patient", "failed", NULL,
						 T1, &err), 1);
	int u, fl;
	assert_int_equal(tl_store_outbox_counts(st, &u, &fl, &err), 0);
	assert_int_equal(u, 1);
	assert_int_equal(fl, 1);
	json_t *j = msg_of(st, id);
	assert_string_equal(json_string_value(json_object_get(j, "last_error")), "unknown patient");
	char control[64];
	snprintf(control, sizeof control, "%s", json_string_value(json_object_get(j, "control_id")));
	json_decref(j);
	assert_int_equal(tl_store_outbox_retry(st, id, "alice", T2, &err), 1);
	struct tl_store_outbox_msg m;
	char next[32], buf[256];
	assert_int_equal(tl_store_outbox_next(st, "hl7", T2, &m, next, &err), 1);
	assert_string_equal(m.control_id, control);
	assert_int_equal(m.attempts, 0);
	tl_store_outbox_msg_free(&m);
	j = msg_of(st, id);
	assert_string_equal(events(j, buf, sizeof buf), "queued,attempt,ack AE,failed,retry-requested");
	json_decref(j);
	tl_store_close(st);
}

static void sending_resumes_and_nothing_is_deleted(void **state)
{
	struct fx *f = *state;
	struct tl_store *st = fx_open(f);
	struct tl_err err = {""};
	int64_t t = fx_create(st, "MRN1", T0);
	int64_t id = tl_store_outbox_add(st, t, "hl7", 1, 0, MSG, 11, T0, &err);
	assert_int_equal(tl_store_outbox_attempt(st, id, T0, &err), 1);
	tl_store_close(st); /* the daemon died mid-attempt */
	st = fx_open(f);
	assert_int_equal(tl_store_outbox_resume(st, T1, &err), 1);
	assert_int_equal(tl_store_outbox_resume(st, T1, &err), 0);
	json_t *j = msg_of(st, id);
	char buf[256];
	assert_string_equal(json_string_value(json_object_get(j, "state")), "queued");
	assert_string_equal(events(j, buf, sizeof buf), "queued,attempt,resumed");
	json_decref(j);
	tl_store_close(st);
	sqlite3 *db = raw_open(f->path);
	assert_int_not_equal(sqlite3_exec(db, "DELETE FROM outbox", NULL, NULL, NULL), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db, "DELETE FROM outbox_history", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM outbox"), 1);
	sqlite3_close(db);
}

static int build_ok(void *arg, const char *kind, const char *control_id, int version,
		    unsigned char **payload, size_t *len, struct tl_err *err)
{
	int *mode = arg;
	if (*mode < 0) {
		tl_err_set(err, "build: refused");
		return -1;
	}
	if (*mode == 0) {
		tl_err_set(err, "build: missing family name");
		return 0;
	}
	char s[128];
	snprintf(s, sizeof s, "MSH|^~\\&|%s|%s|v%d\r", kind, control_id, version);
	*payload = (unsigned char *)strdup(s);
	*len = strlen(s);
	return *mode;
}

static void a_signature_queues_in_its_transaction(void **state)
{
	struct fx *f = *state;
	struct tl_store *st = fx_open(f);
	struct tl_err err = {""};
	int64_t t = fx_create(st, "MRN1", T0);
	static const unsigned char pdf[] = "%PDF-1.7 x";
	char hash[65];
	memset(hash, 'a', 64);
	hash[64] = 0;
	int mode = -1;
	struct tl_store_outbox_plan plan = {{"hl7"}, 1, build_ok, &mode};
	/* the builder fails: neither the signature nor the message */
	assert_int_equal(tl_store_report_sign_send(st, t, "doc", T1, pdf, sizeof pdf - 1, hash, &plan,
						   &err), -1);
	sqlite3 *db = raw_open(f->path);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM reports"), 0);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM outbox"), 0);
	mode = 1;
	assert_int_equal(tl_store_report_sign_send(st, t, "doc", T1, pdf, sizeof pdf - 1, hash, &plan,
						   &err), 1);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM reports"), 1);
	char *p = raw_text(db, "SELECT payload || '' FROM outbox");
	char *c = raw_text(db, "SELECT control_id FROM outbox");
	char want[128];
	snprintf(want, sizeof want, "MSH|^~\\&|hl7|%s|v1\r", c);
	assert_string_equal(p, want);
	free(p);
	free(c);
	/* the builder declines (missing data): the signature stands, nothing queued */
	mode = 0;
	assert_int_equal(tl_store_report_sign_send(st, t, "doc", T2, pdf, sizeof pdf - 1, hash, &plan,
						   &err), 2);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM outbox"), 1);
	sqlite3_close(db);
	tl_store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(a_message_goes_through_its_states, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(failed_is_retried_with_the_same_id, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(sending_resumes_and_nothing_is_deleted, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(a_signature_queues_in_its_transaction, fx_setup,
						fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
