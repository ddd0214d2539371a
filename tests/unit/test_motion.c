/* test_motion.c - the actuator: only what changed is sent, and an emergency stop that
 * arrives between two commands of one call preempts the rest of the call. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "motion.h"

/* A driver that records the order of the commands it is given. */
static char calls[256];

static void record(const char *what)
{
	snprintf(calls + strlen(calls), sizeof calls - strlen(calls), "%s%s", calls[0] ? " " : "",
		 what);
}

static int f_open(struct tl_treadmill *tm, const void *o)
{
	(void)tm, (void)o;
	return 0;
}
static void f_close(struct tl_treadmill *tm)
{
	(void)tm;
}
static int f_start(struct tl_treadmill *tm, int64_t now)
{
	(void)tm, (void)now;
	record("start");
	return 0;
}
static int f_stop(struct tl_treadmill *tm, int64_t now)
{
	(void)tm, (void)now;
	record("stop");
	return 0;
}
static int f_estop(struct tl_treadmill *tm, int64_t now)
{
	(void)tm, (void)now;
	record("estop");
	return 0;
}
static int f_speed(struct tl_treadmill *tm, double kmh, int64_t now, double *sent)
{
	(void)tm, (void)now;
	*sent = kmh;
	record("speed");
	return 0;
}
static int f_grade(struct tl_treadmill *tm, double pct, int64_t now, double *sent)
{
	(void)tm, (void)now;
	*sent = pct;
	record("grade");
	return 0;
}
static int f_poll(struct tl_treadmill *tm, int64_t now, struct tl_feedback *fb)
{
	(void)tm, (void)now, (void)fb;
	return 0;
}

static const struct tl_treadmill_ops fake_ops = {
	.name = "fake",
	.open = f_open,
	.close = f_close,
	.start = f_start,
	.stop = f_stop,
	.emergency_stop = f_estop,
	.set_speed = f_speed,
	.set_grade = f_grade,
	.poll = f_poll,
};

/* The stop "arrives" once the driver has been given this many commands. */
static size_t stop_after_commands;

static bool stop_waiting(void *ctx)
{
	(void)ctx;
	size_t n = 0;
	for (const char *p = calls; *p; p++)
		n += *p == ' ';
	return calls[0] && n + 1 >= stop_after_commands;
}

static struct tl_treadmill tm = {.ops = &fake_ops};
static const struct tl_motion walk = {.belt_on = true, .speed_kmh = 3.2, .grade_pct = 4.0};
static const struct tl_motion estop = {.estop = true};

static int setup(void **state)
{
	(void)state;
	calls[0] = '\0';
	stop_after_commands = 0;
	return 0;
}

static void without_a_hook_everything_goes_out(void **state)
{
	(void)state;
	struct tl_actuator a;
	tl_actuator_init(&a, &tm);
	assert_int_equal(tl_actuate(&a, 0, &walk), TL_ACTUATE_OK);
	assert_string_equal(calls, "start speed grade");
	/* nothing changed: nothing is sent */
	assert_int_equal(tl_actuate(&a, 100, &walk), TL_ACTUATE_OK);
	assert_string_equal(calls, "start speed grade");
}

/* The stop pressed while the speed write was on the wire: the grade write does not go
 * out ahead of it. */
static void a_stop_between_speed_and_grade_preempts_the_grade(void **state)
{
	(void)state;
	struct tl_actuator a;
	tl_actuator_init(&a, &tm);
	a.stop_waiting = stop_waiting;
	stop_after_commands = 2;
	assert_int_equal(tl_actuate(&a, 0, &walk), TL_ACTUATE_PREEMPTED);
	assert_string_equal(calls, "start speed");
	assert_int_equal(tl_actuate(&a, 0, &estop), TL_ACTUATE_OK);
	assert_string_equal(calls, "start speed estop");
}

static void a_stop_after_the_start_preempts_the_setpoints(void **state)
{
	(void)state;
	struct tl_actuator a;
	tl_actuator_init(&a, &tm);
	a.stop_waiting = stop_waiting;
	stop_after_commands = 1;
	assert_int_equal(tl_actuate(&a, 0, &walk), TL_ACTUATE_PREEMPTED);
	assert_string_equal(calls, "start");
	assert_int_equal(tl_actuate(&a, 0, &estop), TL_ACTUATE_OK);
	assert_string_equal(calls, "start estop");
}

/* A preempted call whose stop turned out not to need serving (the hook said yes, then
 * no) leaves nothing unsent: the next call sends the rest, and only the rest. */
static void what_a_preempted_call_left_goes_out_next(void **state)
{
	(void)state;
	struct tl_actuator a;
	tl_actuator_init(&a, &tm);
	a.stop_waiting = stop_waiting;
	stop_after_commands = 2;
	assert_int_equal(tl_actuate(&a, 0, &walk), TL_ACTUATE_PREEMPTED);
	a.stop_waiting = NULL;
	assert_int_equal(tl_actuate(&a, 100, &walk), TL_ACTUATE_OK);
	assert_string_equal(calls, "start speed grade");
}

/* The init clears the hook: a reconnect that re-initialises the actuator must be
 * followed by setting it again, never by calling a stale one. */
static void init_clears_the_hook(void **state)
{
	(void)state;
	struct tl_actuator a;
	memset(&a, 0xff, sizeof a);
	tl_actuator_init(&a, &tm);
	assert_null(a.stop_waiting);
	assert_null(a.stop_ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(without_a_hook_everything_goes_out, setup),
		cmocka_unit_test_setup(a_stop_between_speed_and_grade_preempts_the_grade, setup),
		cmocka_unit_test_setup(a_stop_after_the_start_preempts_the_setpoints, setup),
		cmocka_unit_test_setup(what_a_preempted_call_left_goes_out_next, setup),
		cmocka_unit_test_setup(init_clears_the_hook, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
