/* tl_clock.c - the programs' clocks (tl_clock.h). */
#include "tl_clock.h"

#include <math.h>
#include <stdio.h>
#include <time.h>

int64_t tl_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void tl_utc_now(char out[32])
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 32 - n, ".%03dZ", (int)(ts.tv_nsec / 1000000L) % 1000);
}

static int64_t mono(void *ctx)
{
	(void)ctx;
	return tl_mono_ns();
}

void tl_clock_init_mono(struct tl_clock *c, double time_scale)
{
	*c = (struct tl_clock){.mono_ns = mono, .base_ns = tl_mono_ns(), .time_scale = time_scale};
}

int64_t tl_clock_ns(const struct tl_clock *c)
{
	return c->mono_ns(c->ctx);
}

int64_t tl_clock_real_ms(const struct tl_clock *c)
{
	return (tl_clock_ns(c) - c->base_ns) / 1000000;
}

int64_t tl_clock_test_ms(const struct tl_clock *c)
{
	return (int64_t)floor((double)(tl_clock_ns(c) - c->base_ns) / 1e6 * c->time_scale);
}

int64_t tl_clock_test_of_real(const struct tl_clock *c, int64_t real_ms)
{
	return (int64_t)llround((double)real_ms * c->time_scale);
}

int64_t tl_clock_ns_of_test(const struct tl_clock *c, int64_t test_ms)
{
	if (test_ms == INT64_MAX)
		return INT64_MAX;
	return c->base_ns + (int64_t)ceil((double)test_ms * 1e6 / c->time_scale) + 1;
}
