/* The emergency stop on every real driver (Modbus RTU, Modbus TCP, Trackmaster) against
 * treadsim, in five situations: while walking; while a poll is on the wire; during the
 * retry after a missed reply; between the speed and the grade write; with the line silent
 * (the device gone). Each case asserts that the stop frame reached treadsim, that the
 * belt came to 0, and that nothing sent afterwards moves the treadmill again: no start, and
 * the driver refuses speed and grade writes until a new start().
 *
 * One thread drives the treadmill, as the daemon's control thread does, and sends the
 * stop through the actuator (drivers/motion.c), the daemon's only path to a driver. A
 * stop pressed while a driver call is on the wire is carried out as soon as that call
 * returns, as the daemon's service_estops() does between the slow parts of a tick. The
 * press comes from a second thread, the operator, at a moment treadsim reports: it holds
 * the reply to the request under test (`hold`), says so (`await-held`), and sends it once
 * the operator has pressed (`release`). So "on the wire" is a fact, not a timing guess.
 *
 * Run one case: hil_test_estop DRIVER.SITUATION (ctest: hil.estop.DRIVER.SITUATION). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "child.h"
#include "driver_fixture.h"
#include "modbus_treadmill.h"
#include "motion.h"
#include "trackmaster.h"

#define PROFILE TL_DEVICES_DIR "/treadsim.profile"

/* ---- the three wires ------------------------------------------------------------------ */

/* A driver on its wire, and how its requests show in treadsim's frame log (the bytes after
 * the channel name; Modbus TCP's begin with a transaction id, so these are substrings). */
struct wire {
	const char *name;        /* the first part of the case's name */
	enum sim_mode mode;
	const struct tl_treadmill_ops *ops;
	const char *chan;        /* treadsim's name for the channel */
	const char *stop_frame;  /* what the driver's emergency stop sends */
	const char *plain_stop;  /* its fallback when that was not taken; NULL: none */
	const char *start_frame; /* a start: must never follow the stop */
	const char *poll_frame;  /* the first request of a poll */
	const char *speed_frame; /* a speed write */
	const char *grade_frame; /* a grade write */
	int watchdog_ms;         /* the device's own: silence this long stops the belt */
	const char *baud;        /* treadsim paces the line at this rate; NULL: unpaced */
};

/* treadsim.profile, unit 1: command (holding 2) = 2 is the quick stop, 1 the start. */
static const struct wire modbus_rtu = {
	"modbus_rtu", SIM_RTU, &tl_modbus_treadmill_ops, "modbus-rtu",
	"01 06 00 02 00 02", "01 06 00 02 00 00", "01 06 00 02 00 01", "01 04 00 00 00 05", "01 06 00 00",
	"01 06 00 01", 1000, "19200",
};

static const struct wire modbus_tcp = {
	"modbus_tcp", SIM_TCP, &tl_modbus_treadmill_ops, "modbus-tcp",
	"00 00 00 06 01 06 00 02 00 02", "00 00 00 06 01 06 00 02 00 00",
	"00 00 00 06 01 06 00 02 00 01",
	"00 00 00 06 01 04 00 00 00 05", "00 00 00 06 01 06 00 00", "00 00 00 06 01 06 00 01",
	1000, NULL,
};

/* Trackmaster has no quick stop on the wire: A2 is the fastest stop it offers. */
static const struct wire trackmaster = {
	"trackmaster", SIM_TM, &tl_trackmaster_treadmill_ops, "trackmaster",
	"A2", NULL, "A0", "C0", "A3", "A4", 500, "4800",
};

/* ---- treadsim's frame log ------------------------------------------------------------- */

/* Whether a log line says dir (rx, rx-lost, held, tx-dropped, event ...) on chan and
 * carries frame. */
static bool log_line_is(const char *line, const char *dir, const char *chan, const char *frame)
{
	char d[32], c[32];
	int at = 0;
	if (sscanf(line, "%*s %31s %31s %n", d, c, &at) < 2 || strcmp(d, dir) || strcmp(c, chan))
		return false;
	return strstr(line + at, frame) != NULL;
}

/* The number (from 1) of the first log line after line `after` that log_line_is(); 0 if
 * there is none. */
static int log_find(const char *dir, const char *chan, const char *frame, int after)
{
	FILE *f = fopen(fx.sim.log, "r");
	assert_non_null(f);
	char line[2048];
	int n = 0, found = 0;
	while (!found && fgets(line, sizeof line, f))
		if (++n > after && log_line_is(line, dir, chan, frame))
			found = n;
	fclose(f);
	return found;
}

/* How many log lines after `after` and before `before` log_line_is(). */
static int log_count(const char *dir, const char *chan, const char *frame, int after, int before)
{
	int n = 0;
	for (int at = log_find(dir, chan, frame, after); at && at < before;
	     at = log_find(dir, chan, frame, at))
		n++;
	return n;
}

static int log_lines(void)
{
	FILE *f = fopen(fx.sim.log, "r");
	assert_non_null(f);
	int n = 0, ch;
	while ((ch = fgetc(f)) != EOF)
		n += ch == '\n';
	fclose(f);
	return n;
}

/* ---- the control thread's side ------------------------------------------------------ */

static const struct wire *w;    /* the case's wire */
static struct tl_actuator act;  /* the daemon's path to the driver */
static atomic_bool pressed;     /* the operator pressed the emergency stop */
static bool stopped;            /* ... and the control thread carried it out */
static int stop_rc;             /* what the actuator said */

static void sim_ok(const char *cmd)
{
	char reply[200];
	if (sim_control(&fx.sim, cmd, reply, sizeof reply))
		fail_msg("treadsim %s: %s", cmd, reply);
}

/* The driver's bounded retries in every case here. */
#define ESTOP_RETRIES 2
#define ESTOP_RETRIES_TEXT "2"

/* Starts treadsim and opens the case's driver on it, with this response timeout. */
static void up(int timeout_ms, const char *const *extra)
{
	const char *args[16];
	int n = 0;
	for (int i = 0; extra[i] && n < 12; i++)
		args[n++] = extra[i];
	if (w->baud) {
		args[n++] = "--baud";
		args[n++] = w->baud;
	}
	args[n] = NULL;
	assert_int_equal(sim_start(&fx.sim, w->mode, args), 0);
	bool modbus = w->ops == &tl_modbus_treadmill_ops;
	char tmo[16];
	snprintf(tmo, sizeof tmo, "%d", timeout_ms);
	fx_driver(w->ops);
	fx_opt(w->mode == SIM_TCP ? "tcp" : "device", w->mode == SIM_TCP ? fx.sim.tcp_addr : fx.sim.link);
	fx_opt("response_timeout_ms", tmo);
	fx_opt("retries", ESTOP_RETRIES_TEXT);
	if (modbus) {
		if (w->mode == SIM_RTU)
			fx_opt("baud", "19200");
		fx_opt("framing", "8N1"); /* a pty has no parity */
		fx_opt("profile", PROFILE);
		fx_opt("unit_id", "1");
		fx_opt("watchdog_max_ms", "2000");
	}
	if (fx.tm.ops->open(&fx.tm, &fx.opts))
		fail_msg("open: %s", fx.tm.err);
	fx.open = true;
	tl_actuator_init(&act, &fx.tm);
	atomic_store(&pressed, false);
	stopped = false;
	stop_rc = 1;
}

static bool walking(const struct tl_feedback *fb)
{
	return fb->valid && fb->belt_running && fb->speed_kmh > 2.9;
}

/* The belt walking at 3 km/h on a 2 % grade, as the guard would have it. */
static void walk(void)
{
	const struct tl_motion m = {.belt_on = true, .speed_kmh = 3.0, .grade_pct = 2.0};
	if (tl_actuate(&act, hil_now_ms(), &m))
		fail_msg("walk: %s", fx.tm.err);
	struct tl_feedback fb = poll_until(walking, 5000);
	if (!walking(&fb))
		fail_msg("the belt did not reach 3 km/h: %.2f (%s)", fb.speed_kmh, fb.detail);
	assert_true(sim_wait_state(&fx.sim, "running=1", 1000));
	/* the lift at rest at 2 %: after the stop it must stay there */
	assert_true(sim_wait_state(&fx.sim, "grade_pct=2.00 ", 5000));
}

/* The control thread between two driver calls (the daemon's service_estops()): a press
 * waiting is carried out now, through the actuator. */
static void service_estop(void)
{
	if (stopped || !atomic_load(&pressed))
		return;
	stopped = true;
	stop_rc = tl_actuate(&act, hil_now_ms(), &(struct tl_motion){.estop = true});
}

/* ---- the operator's side ------------------------------------------------------------- */

/* When the operator acts, in replies held by treadsim (requests on the wire). */
struct press_plan {
	int press_at;   /* presses the emergency stop once this many have been held */
	int release_at; /* lets every held reply go once this many have been held */
	int spacing_ms; /* ... this far apart (a device sending a backlog) */
};

static struct press_plan plan;

static void await_held(int n)
{
	char cmd[32], reply[1000];
	snprintf(cmd, sizeof cmd, "await-held=%d", n);
	if (sim_control(&fx.sim, cmd, reply, sizeof reply))
		fprintf(stderr, "operator: treadsim held no %d replies: %s\n", n, reply);
}

/* Presses the emergency stop while a request is on the wire, then lets the replies go. */
static void *operator(void *arg)
{
	(void)arg;
	char cmd[32], reply[200];
	await_held(plan.press_at);
	atomic_store(&pressed, true);
	if (plan.release_at > plan.press_at)
		await_held(plan.release_at);
	snprintf(cmd, sizeof cmd, "release=%d", plan.spacing_ms);
	sim_control(&fx.sim, cmd, reply, sizeof reply);
	return NULL;
}

/* ---- what every case checks -------------------------------------------------------- */

/* The stop frame reached treadsim after line `mark`, as dir (rx; rx-lost when the device
 * hears nothing); returns its line. */
static int assert_stop_frame(const char *dir, int mark)
{
	int at = log_find(dir, w->chan, w->stop_frame, mark);
	if (!at)
		fail_msg("no stop frame (%s %s %s) at treadsim after the press", dir, w->chan,
			 w->stop_frame);
	return at;
}

static void assert_belt_at_zero(int timeout_ms)
{
	if (!sim_wait_state(&fx.sim, "running=0 speed_kmh=0.000 ", timeout_ms)) {
		char reply[400];
		sim_control(&fx.sim, "state", reply, sizeof reply);
		fail_msg("the belt is not at 0: %s", reply);
	}
}

static bool read_ok(const struct tl_feedback *fb)
{
	return fb->valid;
}

/* A speed or grade write after the emergency stop is refused by the driver, saying why,
 * and nothing reaches the wire: only a new start() moves the treadmill again. */
static void assert_refused(int rc, const char *what)
{
	if (rc == 0)
		fail_msg("%s after the emergency stop was taken", what);
	if (!strstr(fx.tm.err, "emergency stop"))
		fail_msg("%s refused without naming the emergency stop: %s", what, fx.tm.err);
}

/* What a control thread could still send once the stop is out: the motion it was carrying
 * out (speed, grade), keep-alives, readings. None of it may move the treadmill again: the
 * driver refuses the setpoints, no start, speed or grade write follows the stop on the
 * wire, no belt-start at treadsim, the lift stays at 2 %, and the driver reads the belt
 * standing. */
static void assert_later_commands_do_not_restart(int stop_line)
{
	double sent;
	assert_refused(fx.tm.ops->set_speed(&fx.tm, 4.0, hil_now_ms(), &sent), "a speed write");
	assert_refused(fx.tm.ops->set_grade(&fx.tm, 3.0, hil_now_ms(), &sent), "a grade write");
	struct tl_feedback fb = {0};
	for (int i = 0; i < 5; i++) {
		fx.tm.ops->keepalive(&fx.tm, hil_now_ms());
		fb = poll_until(read_ok, 1000);
	}
	assert_true(fb.valid);
	assert_false(fb.belt_running);
	assert_float_equal(fb.speed_kmh, 0.0, 1e-9);
	assert_belt_at_zero(100);
	const char *const moves[] = {w->start_frame, w->speed_frame, w->grade_frame};
	for (size_t i = 0; i < sizeof moves / sizeof moves[0]; i++)
		if (log_find("rx", w->chan, moves[i], stop_line))
			fail_msg("a frame %s followed the stop", moves[i]);
	assert_true(sim_wait_state(&fx.sim, "grade_pct=2.00 ", 100));
	if (log_find("event", "belt-start", "", stop_line))
		fail_msg("the belt started again after the stop");
}

/* The stop went out whole and was taken: its frame at treadsim, the driver saw it taken
 * (it did not fall back on the plain stop), the belt at 0. */
static int assert_stopped(int mark)
{
	assert_true(stopped);
	if (stop_rc)
		fail_msg("the emergency stop failed: %s", fx.tm.err);
	int at = assert_stop_frame("rx", mark);
	if (w->plain_stop && log_find("rx", w->chan, w->plain_stop, mark))
		fail_msg("the quick stop was taken for failed: the plain stop followed it");
	assert_belt_at_zero(3000);
	return at;
}

/* ---- the five situations ---------------------------------------------------------- */

static const char *const fast[] = {"--time-scale", "20", NULL};
/* A reply held or dropped keeps the line quiet for a while: long response timeouts (the
 * operator releases a held reply well within them) and, on Modbus, a device watchdog
 * longer than the silence after a dropped reply. Trackmaster's is fixed at 0.5 s. */
static const char *const patient[] = {"--time-scale", "20", "--watchdog-ms", "2000", NULL};
#define HOLD_TIMEOUT_MS 300

static void walking_stop(void)
{
	up(100, fast);
	walk();
	int mark = log_lines();
	atomic_store(&pressed, true);
	service_estop();
	int at = assert_stopped(mark);
	assert_later_commands_do_not_restart(at);
}

/* Runs one driver call with the operator pressing as planned while it is on the wire,
 * then the control thread's check for a press, as the daemon's loop does after every slow
 * step. stop_fate (NULL: none) is what treadsim does with the stop's acknowledgement. */
static void press_during(void (*call)(void), struct press_plan p, const char *stop_fate)
{
	plan = p;
	pthread_t op;
	assert_int_equal(pthread_create(&op, NULL, operator, NULL), 0);
	call();
	if (stop_fate)
		sim_ok(stop_fate);
	/* the press came while the call was on the wire: it could not return before treadsim
	 * had held a reply and the operator pressed (or, when the replies stay held, before
	 * its own timeouts, far longer than the operator takes) */
	bool in_time = atomic_load(&pressed);
	service_estop();
	pthread_join(op, NULL);
	if (!in_time)
		fail_msg("the operator pressed only after the driver call had returned");
}

static struct tl_feedback polled;
static int poll_rc;

static void one_poll(void)
{
	poll_rc = fx.tm.ops->poll(&fx.tm, hil_now_ms(), &polled);
}

/* The stop is pressed while a poll's request is unanswered on the wire, and the poll's
 * replies are still on the wire when the stop goes out: the device answers every try of
 * the poll only after the driver gave up on it, a backlog sent 5 ms apart right ahead of
 * the stop's own acknowledgement (treadsim holds the three tries' replies and the stop's,
 * then lets them go). Stale replies must not cost the stop, nor leave the driver reading
 * each answer one request late (Modbus TCP did: the stop, taken by the device, failed
 * three times over, then so did every poll). */
static void poll_on_the_wire(void)
{
	up(HOLD_TIMEOUT_MS, patient);
	walk();
	int mark = log_lines();
	const int tries = 1 + ESTOP_RETRIES;
	for (int i = 0; i < tries; i++)
		sim_ok("hold");
	press_during(one_poll, (struct press_plan){.press_at = 1, .release_at = tries + 1,
						   .spacing_ms = 5}, "hold");
	assert_int_equal(poll_rc, -1); /* not answered within its tries */
	int held = log_find("held", w->chan, "", mark);
	assert_true(held > 0);
	int at = assert_stopped(mark);
	assert_true(at > held);
	/* the poll's tries, then the stop, all unanswered until the stop was there */
	assert_int_equal(log_count("rx", w->chan, w->poll_frame, mark, at), tries);
	assert_int_equal(log_count("held", w->chan, "", mark, at), tries);
	assert_true(log_find("control", "release=5", "", at) > at);
	assert_later_commands_do_not_restart(at);
}

/* A poll's reply is lost; the stop is pressed while the driver's retry of it is on the
 * wire. Then the stop's own acknowledgement is lost too: the driver sends it again. */
static void retry_after_missed_reply(void)
{
	up(HOLD_TIMEOUT_MS, patient);
	walk();
	int mark = log_lines();
	sim_ok("drop");
	sim_ok("hold");
	press_during(one_poll, (struct press_plan){.press_at = 1, .release_at = 1}, "drop");
	if (poll_rc)
		fail_msg("the retried poll failed: %s", fx.tm.err);
	int dropped = log_find("tx-dropped", w->chan, "", mark);
	int held = log_find("held", w->chan, "", mark);
	assert_true(dropped > 0 && held > dropped);
	int at = assert_stopped(mark);
	assert_true(at > held);
	/* the poll's request, then its retry, then the stop ... */
	assert_int_equal(log_count("rx", w->chan, w->poll_frame, mark, at), 2);
	/* ... whose acknowledgement was lost, and the stop again */
	int lost = log_find("tx-dropped", w->chan, "", held);
	assert_true(lost > at);
	assert_true(log_find("rx", w->chan, w->stop_frame, lost) > lost);
	assert_later_commands_do_not_restart(at);
}

static int speed_rc;

static void speed_write(void)
{
	double sent;
	speed_rc = fx.tm.ops->set_speed(&fx.tm, 4.0, hil_now_ms(), &sent);
}

/* A new target (4 km/h, 3 %) goes out as the actuator sends it, speed then grade; the
 * stop is pressed while the speed write is on the wire and carried out before the grade
 * write, which the control thread then still tries: the driver refuses it. */
static void between_speed_and_grade(void)
{
	up(HOLD_TIMEOUT_MS, patient);
	walk();
	int mark = log_lines();
	sim_ok("hold");
	press_during(speed_write, (struct press_plan){.press_at = 1, .release_at = 1}, NULL);
	if (speed_rc)
		fail_msg("the held speed write failed: %s", fx.tm.err);
	double sent;
	assert_refused(fx.tm.ops->set_grade(&fx.tm, 3.0, hil_now_ms(), &sent),
		       "the grade write of the motion the stop cut short");
	int speed = log_find("rx", w->chan, w->speed_frame, mark);
	int at = assert_stopped(mark);
	assert_true(speed > 0 && at > speed);
	assert_later_commands_do_not_restart(at);
}

/* The line goes silent while the belt walks (treadsim's `disconnect`: on a pty nothing in
 * or out, as a cable cut between adapter and treadmill; on TCP the device's connections
 * dropped and refused). The driver tries the stop, says it was not taken, and holds the
 * treadmill still from then on; the device's own watchdog stops the belt. When the line
 * comes back the actuator sends the stop again (a stop not taken is never marked sent):
 * it reaches treadsim, and nothing restarts the belt. */
static void line_silent(void)
{
	up(100, fast);
	walk();
	int mark = log_lines();
	sim_ok("disconnect");
	atomic_store(&pressed, true);
	service_estop();
	assert_true(stopped);
	if (stop_rc != -1)
		fail_msg("a stop on a silent line was reported taken");
	/* on a pty the stop went onto the wire, every try of it, and died there */
	if (w->mode != SIM_TCP)
		assert_int_equal(log_count("rx-unplugged", w->chan, w->stop_frame, mark,
					   log_lines() + 1), 1 + ESTOP_RETRIES);
	assert_belt_at_zero(w->watchdog_ms + 3000);
	assert_true(log_find("event", "belt-stop", "watchdog", mark) > 0);
	int back = log_lines();
	sim_ok("clear");
	stop_rc = tl_actuate(&act, hil_now_ms(), &(struct tl_motion){.estop = true});
	if (stop_rc)
		fail_msg("the stop, sent again once the line is back, failed: %s", fx.tm.err);
	int at = assert_stop_frame("rx", back);
	assert_later_commands_do_not_restart(at);
	/* and nothing moved in between either */
	assert_int_equal(log_find("event", "belt-start", "", mark), 0);
}

/* ---- the cases: driver x situation ---------------------------------------------------- */

#define CASE(wire, situation)                                       \
	static void wire##_##situation(void **state)                \
	{                                                           \
		(void)state;                                        \
		w = &wire;                                          \
		situation();                                        \
	}

#define CASES(wire)                              \
	CASE(wire, walking_stop)                 \
	CASE(wire, poll_on_the_wire)             \
	CASE(wire, retry_after_missed_reply)     \
	CASE(wire, between_speed_and_grade)      \
	CASE(wire, line_silent)

CASES(modbus_rtu)
CASES(modbus_tcp)
CASES(trackmaster)

#define ENTRY(wire, situation, name)                                           \
	{                                                                     \
		#wire "." name, wire##_##situation, NULL, teardown, NULL      \
	}

#define ENTRIES(wire)                                                   \
	ENTRY(wire, walking_stop, "walking"),                           \
	ENTRY(wire, poll_on_the_wire, "poll_on_the_wire"),              \
	ENTRY(wire, retry_after_missed_reply, "retry_after_missed_reply"), \
	ENTRY(wire, between_speed_and_grade, "between_speed_and_grade"), \
	ENTRY(wire, line_silent, "line_silent")

int main(int argc, char **argv)
{
	static const struct CMUnitTest cases[] = {
		ENTRIES(modbus_rtu),
		ENTRIES(modbus_tcp),
		ENTRIES(trackmaster),
	};
	const size_t n = sizeof cases / sizeof cases[0];
	if (argc < 2)
		return _cmocka_run_group_tests("estop", cases, n, NULL, NULL);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(cases[i].name, argv[1]))
			return _cmocka_run_group_tests("estop", &cases[i], 1, NULL, NULL);
	fprintf(stderr, "hil_test_estop: no case '%s'; they are:\n", argv[1]);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "  %s\n", cases[i].name);
	return 2;
}
