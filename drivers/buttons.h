/* buttons.h - the patient's button (onset and maximal claudication presses) and the
 * technician's foot switch (the Doppler signal is back: issue 15, src/daemon/cuffd.h).
 *
 * A button source is a small ops table plus private data, like a treadmill driver.
 * Sources: a switch between an output and an input modem line of a serial port
 * ("button-modem"), a box that sends one byte per press ("button-box"), and a bit of the
 * treadmill controller's Modbus `button` register or discrete input ("button-modbus").
 * Every press carries its kind, the caller's time at which the input went active, and
 * the source's name. Inputs are debounced: a level must be seen on debounce_ms worth of
 * consecutive samples to count (each sample stands for the time since the one before). */
#ifndef TL_BUTTONS_H
#define TL_BUTTONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "serial_link.h"
#include "treadmill.h"

enum tl_press_kind { TL_PRESS_ONSET, TL_PRESS_MAX, TL_PRESS_FOOT };

struct tl_press {
	enum tl_press_kind kind;
	int64_t t_ms;       /* caller's monotonic time of the press */
	const char *source; /* "button-modem", "button-box", "button-modbus" */
};

struct tl_button;

struct tl_button_ops {
	const char *name; /* the source name every press carries */
	/* Samples the input at now_ms and stores up to max new presses in out. Returns the
	 * count, or -1 with b->err set. Required. */
	int (*poll)(struct tl_button *b, int64_t now_ms, struct tl_press *out, int max);
	/* A descriptor that poll() reports readable when a press may be waiting: such a
	 * source is read when it has something to say instead of being sampled. NULL or -1:
	 * the source must be sampled (modem lines cannot be waited on, docs/hardware.md). */
	int (*fd)(struct tl_button *b);
	/* Releases everything the source owns. Required. */
	void (*close)(struct tl_button *b);
};

struct tl_button {
	const struct tl_button_ops *ops;
	void *priv;
	char err[256];
};

struct tl_button_config {
	int debounce_ms;       /* a level must be seen this long (modem, Modbus; 0: on the first
				* sample); the box ignores a repeat of the same byte within it */
	unsigned onset_line;   /* TL_LINE_* bit for onset, 0: none (modem) */
	unsigned max_line;     /* TL_LINE_* bit for max, 0: none (modem) */
	unsigned foot_line;    /* TL_LINE_* bit for the foot switch, 0: none (modem) */
	uint8_t onset_byte;    /* byte meaning onset (box), default '1' */
	uint8_t max_byte;      /* byte meaning max (box), default '2' */
	uint8_t foot_byte;     /* byte meaning the foot switch (box), default '3' */
	uint16_t onset_mask;   /* bits of the Modbus `button` value meaning onset, default 1 */
	uint16_t max_mask;     /* bits meaning max, default 2 (0: none) */
	uint16_t foot_mask;    /* bits meaning the foot switch, default 0 (none) */
};

/* Defaults: 50 ms debounce, CTS = onset, DSR = max, no foot line, '1' / '2' / '3', bit 0 /
 * bit 1 / none. */
void tl_button_config_default(struct tl_button_config *c);

/* Parses a modem-line map such as "CTS=onset,DSR=max,DCD=foot" (lines CTS, DSR, DCD, RI;
 * each kind at most once) into c->onset_line / max_line / foot_line. Returns 0 or -1 with
 * err set. */
int tl_button_parse_lines(const char *spec, struct tl_button_config *c, char *err, size_t n);

const char *tl_press_kind_name(enum tl_press_kind k);

/* Opens a source. The modem and box sources take over *link (opened by the caller, a
 * real port or a test's fake) and close it. The Modbus source reads through an open
 * "modbus" treadmill and must be polled from the thread that polls that treadmill.
 * Each returns 0, or -1 with b->err set. */
int tl_button_modem_open(struct tl_button *b, struct tl_serial_link *link,
			 const struct tl_button_config *c, int64_t now_ms);
int tl_button_box_open(struct tl_button *b, struct tl_serial_link *link,
		       const struct tl_button_config *c, int64_t now_ms);
int tl_button_modbus_open(struct tl_button *b, struct tl_treadmill *tm,
			  const struct tl_button_config *c, int64_t now_ms);

int tl_button_poll(struct tl_button *b, int64_t now_ms, struct tl_press *out, int max);
/* The source's descriptor to wait on (see tl_button_ops.fd), or -1: sample it. */
int tl_button_fd(struct tl_button *b);
void tl_button_close(struct tl_button *b);

/* ---- debounce (pure; exposed for tests) ---------------------------------------------- */

/* A sample stands for the interval since the sample before it: a level counts once the
 * consecutive samples showing it span debounce_ms, i.e. once now - (the time of the last
 * sample of the other level) >= debounce_ms. A single sample therefore counts when the
 * sampling interval is at least debounce_ms, and no press waits for a sample more than
 * the debounce needs; debounce_ms 0 accepts the first sample of a new level. */
struct tl_debounce {
	int debounce_ms;
	bool stable;          /* the accepted level */
	bool raw;             /* the last sample */
	int64_t raw_since_ms; /* the first sample of the last sample's level (the press time) */
	int64_t span_from_ms; /* the sample before that one: where its span begins */
	int64_t last_ms;      /* the last sample */
};

/* Starts at `level` (a button already held at start does not count as a press); now_ms
 * counts as a sample of that level. */
void tl_debounce_init(struct tl_debounce *d, int debounce_ms, bool level, int64_t now_ms);
/* Feeds a sample. Returns true when a press is accepted (the level went active and was
 * seen on debounce_ms worth of samples); *press_ms then gets the time it was first seen
 * active. */
bool tl_debounce_update(struct tl_debounce *d, bool raw, int64_t now_ms, int64_t *press_ms);

/* Repeat filter for byte presses: accepts a press of `kind` unless the same kind was
 * accepted less than hold_ms before. */
struct tl_holdoff {
	int hold_ms;
	bool seen[3];
	int64_t last_ms[3];
};
bool tl_holdoff_accept(struct tl_holdoff *h, enum tl_press_kind kind, int64_t now_ms);

#endif
