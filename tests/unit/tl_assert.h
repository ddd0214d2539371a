/* tl_assert.h - assertions the unit tests share beyond cmocka's own.
 *
 * cmocka 1.1.5 compares floating point only as float; these compare doubles and print
 * both values when they differ. Include after <cmocka.h>. */
#ifndef TL_ASSERT_H
#define TL_ASSERT_H

#include <math.h>

/* |a - b| <= eps, with NaN never near anything. */
#define assert_near(a, b, eps)                                                              \
	do {                                                                                \
		double tl_a_ = (a), tl_b_ = (b), tl_e_ = (eps);                             \
		if (!(fabs(tl_a_ - tl_b_) <= tl_e_)) {                                      \
			print_error("%s = %.17g, %s = %.17g, differ by more than %g\n", #a, \
				    tl_a_, #b, tl_b_, tl_e_);                               \
			fail();                                                             \
		}                                                                           \
	} while (0)

/* Exact equality of doubles, printing both. */
#define assert_exact(a, b) assert_near(a, b, 0.0)

#endif
