/* cuff_modbus.h - the "cuff-modbus" pressure source: a cuff manometer or inflator spoken
 * to through libmodbus (RTU on opts->device, or TCP on opts->tcp), its registers read from
 * a cuff profile (cuff_profile.h, config/devices/sim-cuff.profile and others).
 *
 * open() refuses a profile that lists unverified facts and reads the pressure once. A
 * profile that is an inflator makes the source TL_CUFF_CAN_INFLATE at run time (the ops
 * table says it may: tl_cuff_modbus_can_inflate() says whether this device does); on a
 * manometer inflate_to, deflate_at and vent fail with a clear line. close() vents an
 * inflator. Every transaction is retried at most opts->retries times. */
#ifndef TL_CUFF_MODBUS_H
#define TL_CUFF_MODBUS_H

#include <stdbool.h>

#include "cuff_source.h"
#include "cuff_profile.h"

extern const struct tl_cuff_ops tl_cuff_modbus_ops;

struct tl_cuff_modbus_opts {
	char device[256];        /* RTU: serial device or pty */
	int baud;
	char framing[8];         /* 8E1, 8O1, 8N2, 8N1 */
	char tcp[128];           /* TCP host:port instead of RTU */
	char profile[256];       /* the register map */
	int unit_id;
	int response_timeout_ms;
	int retries;
};
extern const struct tl_driver_option tl_cuff_modbus_options[];

/* Whether the open source's profile is an inflator. */
bool tl_cuff_modbus_can_inflate(const struct tl_cuff *c);
/* The profile loaded at open, NULL before. */
const struct tl_cuff_profile *tl_cuff_modbus_profile(const struct tl_cuff *c);

#endif
