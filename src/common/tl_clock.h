/* tl_clock.h - the programs' clocks, in one place.
 *
 * Two clocks run a test. Drivers and buttons get real monotonic milliseconds (wire
 * timeouts, device watchdogs and debouncing are real time); the engine gets test time,
 * which the time scale of a simulated treadmill runs faster. A struct tl_clock holds both
 * and reads the monotonic clock through a function the caller chooses: the daemon gives
 * CLOCK_MONOTONIC, the dry run and the tests a virtual clock they move themselves. */
#ifndef TL_CLOCK_H
#define TL_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in ns. */
int64_t tl_mono_ns(void);
/* Current UTC as "YYYY-MM-DDTHH:MM:SS.mmmZ". */
void tl_utc_now(char out[32]);

struct tl_clock {
	int64_t (*mono_ns)(void *ctx); /* the monotonic clock, ns */
	void *ctx;
	int64_t base_ns;               /* the monotonic time of real and test time 0 */
	double time_scale;             /* test ms per real ms: 1 but on a simulator */
};

/* A clock on CLOCK_MONOTONIC, starting now. */
void tl_clock_init_mono(struct tl_clock *c, double time_scale);

int64_t tl_clock_ns(const struct tl_clock *c);
/* Real ms since base. */
int64_t tl_clock_real_ms(const struct tl_clock *c);
/* Test ms now; from the ns clock, not from whole real ms: at a time scale K a truncated
 * ms of real time would be K ms of test time. */
int64_t tl_clock_test_ms(const struct tl_clock *c);
/* The test time of a real ms (a button press's time). */
int64_t tl_clock_test_of_real(const struct tl_clock *c, int64_t real_ms);
/* The monotonic ns at which test time reaches test_ms, rounded up so that the test time
 * has reached it on waking. */
int64_t tl_clock_ns_of_test(const struct tl_clock *c, int64_t test_ms);

#endif
