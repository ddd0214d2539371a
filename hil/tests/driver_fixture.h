/* driver_fixture.h - what the cmocka driver tests share: one driver open on one treadsim,
 * closed and stopped by the teardown even after a failed assertion, and polling until
 * the reading says what a test waits for. Included once, by each test file, after
 * cmocka.h; the test picks the driver (fx_driver), sets its keys (fx_opt) and opens it
 * itself. */
#ifndef TL_HIL_DRIVER_FIXTURE_H
#define TL_HIL_DRIVER_FIXTURE_H

#include <stdbool.h>

#include "buttons.h"
#include "child.h"
#include "treadmill.h"

struct fixture {
	struct sim_proc sim;
	struct tl_treadmill tm;
	struct tl_driver_optbuf opts; /* the driver's own options, through its table */
	bool open;
};

static struct fixture fx;

/* Points the fixture at a driver with its table's defaults. */
static inline void fx_driver(const struct tl_treadmill_ops *ops)
{
	fx.tm = (struct tl_treadmill){.ops = ops};
	tl_driver_opts_defaults(ops, &fx.opts);
}

/* Sets one [treadmill] key of the fixture's driver, as the configuration would. */
static inline void fx_opt(const char *key, const char *val)
{
	char why[300];
	if (tl_driver_opts_set(fx.tm.ops, &fx.opts, "treadmill", key, val, why, sizeof why))
		fail_msg("%s", why);
}

static inline int teardown(void **state)
{
	(void)state;
	if (fx.open)
		fx.tm.ops->close(&fx.tm);
	fx.open = false;
	assert_int_equal(sim_stop(&fx.sim), 0);
	return 0;
}

/* Polls until the reading satisfies pred or timeout_ms passes; returns the last one. */
static inline struct tl_feedback poll_until(bool (*pred)(const struct tl_feedback *),
					    int timeout_ms)
{
	struct tl_feedback fb = {0};
	long long deadline = hil_now_ms() + timeout_ms;
	do {
		fx.tm.ops->poll(&fx.tm, hil_now_ms(), &fb);
		if (pred(&fb))
			break;
	} while (hil_now_ms() < deadline);
	return fb;
}

static inline bool stopped_by_device(const struct tl_feedback *fb)
{
	return fb->device_stopped;
}

/* Polls the treadmill and the button b together, as the daemon's tick does, until want
 * presses came or timeout_ms passed; returns how many came (into got[0..want)). */
static inline int presses_while_polling(struct tl_button *b, struct tl_press *got, int want,
					int timeout_ms)
{
	int n = 0;
	long long deadline = hil_now_ms() + timeout_ms;
	while (n < want && hil_now_ms() < deadline) {
		struct tl_feedback fb;
		long long now = hil_now_ms();
		fx.tm.ops->poll(&fx.tm, now, &fb);
		int k = tl_button_poll(b, now, got + n, want - n);
		assert_true(k >= 0);
		n += k;
	}
	return n;
}

#endif
