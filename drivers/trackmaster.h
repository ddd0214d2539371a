/* trackmaster.h - the "trackmaster" treadmill driver and its frame codec.
 *
 * The Trackmaster serial protocol (docs/hardware.md): 4800 8N1, one command byte (0xA0..,
 * 0xC0..) optionally followed by 4 ASCII digits; every command is acknowledged (0xBx for
 * 0xAx, 0xDx + data for 0xCx). The driver starts with A0 only (the belt stops when no
 * command arrives within 0.5 s), never A1; keeps one command outstanding; reports BE/BF
 * as TL_FAULT_REFUSED; reads speed 999.9 as the treadmill's emergency stop and a belt
 * that stops (or a start that is ignored) while we drive it as a restart. */
#ifndef TL_TRACKMASTER_H
#define TL_TRACKMASTER_H

#include <stddef.h>
#include <stdint.h>

#include "treadmill.h"

extern const struct tl_treadmill_ops tl_trackmaster_treadmill_ops;

/* The trackmaster driver's options ([treadmill] keys; its table: tl_trackmaster_options). */
struct tl_trackmaster_opts {
	char device[256];        /* serial device or pty */
	int baud;                /* the protocol's only rate */
	int response_timeout_ms; /* per command */
	int retries;             /* bounded retries before a fault */
};
extern const struct tl_driver_option tl_trackmaster_options[];

/* Command bytes. */
enum {
	TL_TM_START = 0xA0,          /* start, disconnect stop enabled */
	TL_TM_STOP = 0xA2,
	TL_TM_SET_SPEED = 0xA3,      /* + 4 digits, tenths of mph */
	TL_TM_SET_ELEVATION = 0xA4,  /* + 4 digits, tenths of percent, last digit 0 or 5 */
	TL_TM_STATUS = 0xC0,
	TL_TM_SPEED = 0xC1,
	TL_TM_ELEVATION = 0xC2,
};

/* Reply bytes and status values. */
enum {
	TL_TM_ACK_RANGE = 0xBE,   /* value out of range */
	TL_TM_ACK_UNKNOWN = 0xBF, /* unknown command */
	TL_TM_REPLY_STATUS = 0xD0,
	TL_TM_REPLY_BAD_STATUS = 0xDF,
	TL_TM_STOPPED = 0x31,
	TL_TM_RUNNING_ARMED = 0x32,   /* running, disconnect stop enabled */
	TL_TM_RUNNING_UNARMED = 0x33, /* running, disconnect stop disabled (A1) */
	TL_TM_ESTOP_SPEED = 9999,     /* 999.9: after an emergency stop or speed-loop failure */
};

enum tl_tm_reply_kind {
	TL_TM_R_GARBAGE,  /* a byte that starts no reply: skipped */
	TL_TM_R_ACK,      /* 0xB0..0xBD: the command with the low nibble was accepted */
	TL_TM_R_REFUSED,  /* 0xBE out of range, 0xBF unknown command */
	TL_TM_R_STATUS,   /* 0xD0 + status byte (value: 0x31..0x33) */
	TL_TM_R_VALUE,    /* 0xD1..0xD4 + 4 digits (value: tenths) */
	TL_TM_R_NO_STATUS /* 0xDF: status request not recognised */
};

struct tl_tm_reply {
	enum tl_tm_reply_kind kind;
	uint8_t code; /* the reply byte */
	int value;    /* status byte or the 4-digit number */
};

/* Encodes a command; value in 0..9999 is sent as 4 digits, -1 sends the byte alone.
 * Returns the frame length, or 0 when the value does not fit or cap is too small. */
size_t tl_tm_encode(uint8_t cmd, int value, uint8_t *out, size_t cap);

/* Decodes the first reply in buf. Returns the bytes it used (> 0; for garbage, 1) with
 * *out filled, or 0 when buf holds only the start of a reply (read more). */
size_t tl_tm_decode(const uint8_t *buf, size_t len, struct tl_tm_reply *out);

/* Setpoint encoders: the 4-digit value to send and the physical value it means. */
int tl_tm_speed_value(double kmh, double *sent_kmh);   /* -1 if out of 0..999.8 mph */
int tl_tm_grade_value(double pct, double *sent_pct);   /* 0.5 % steps; -1 if out of range */

#endif
