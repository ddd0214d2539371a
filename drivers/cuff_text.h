/* cuff_text.h - the "cuff-text" pressure source: a gauge or ABI device that prints its
 * readings as text lines on a serial port (libserialport; a pty through termios), one
 * reading a line, in the shape of a configured pattern (cuff_pattern.h).
 *
 * A line that does not match, is too long, or holds a pressure outside 0..400 mmHg is an
 * error (counted in c->bad_lines, reported with its text and the column), never a value.
 * A pressure that stays exactly the same for longer than stuck_ms while deflating (it
 * fell before, and is above venous pressure) is an error too: a stuck valve or sensor.
 * The source cannot inflate. */
#ifndef TL_CUFF_TEXT_H
#define TL_CUFF_TEXT_H

#include "cuff_pattern.h"
#include "cuff_source.h"

extern const struct tl_cuff_ops tl_cuff_text_ops;

struct tl_cuff_text_opts {
	char device[256];
	int baud;
	char pattern[TL_CUFF_PATTERN_MAX + 1];
	int stuck_ms;
};
extern const struct tl_driver_option tl_cuff_text_options[];

#endif
