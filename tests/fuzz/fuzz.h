/* fuzz.h - what every libFuzzer target here shares.
 *
 * A target takes any bytes, hands them to one parser the way the program does, and on
 * success checks what the parser promises of its result; a broken promise aborts, which
 * libFuzzer reports as a crash like any sanitizer finding. */
#ifndef TL_FUZZ_H
#define TL_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A promise the parser broke: says which, then aborts (a crash with a stack trace). */
#define FUZZ_REQUIRE(cond)                                                                 \
	do {                                                                               \
		if (!(cond)) {                                                             \
			fprintf(stderr, "%s:%d: promise broken: %s\n", __FILE__, __LINE__, \
				#cond);                                                    \
			abort();                                                           \
		}                                                                          \
	} while (0)

/* A C string of at most cap bytes is terminated inside its buffer. */
#define FUZZ_TERMINATED(buf) FUZZ_REQUIRE(memchr((buf), '\0', sizeof(buf)) != NULL)

#endif
