/* modbus_link.h - a libmodbus connection as the Modbus drivers (modbus_treadmill.h,
 * cuff_modbus.h) open it: RTU on a serial device, locked for this program alone, or TCP;
 * the framing, unit id and timeouts; and the silence kept between transactions. */
#ifndef TL_MODBUS_LINK_H
#define TL_MODBUS_LINK_H

#include <modbus.h>
#include <stdbool.h>
#include <stdint.h>

#include "tl_err.h"

struct tl_modbus_link {
	modbus_t *ctx;      /* NULL when not open */
	bool tcp;
	char parity;        /* RTU: 'E', 'O' or 'N' */
	char where[256];    /* the device or host:port, for messages */
	int timeout_ms;     /* per request */
	int64_t gap_ns;     /* silence kept between the end of a reply and a request */
	int64_t last_io_ns; /* CLOCK_MONOTONIC ns the last transaction ended, 0: none yet */
};

struct tl_modbus_link_opts {
	const char *who;        /* the driver, heading its messages ("modbus") */
	const char *device;     /* RTU: the serial device, or "" */
	int baud;               /* 0: 19200 */
	const char *framing;    /* RTU: 8E1, 8O1, 8N2, 8N1; "": 8E1 */
	const char *tcp;        /* "host:port" or "[v6 address]:port" instead of RTU, or "" */
	int unit_id;            /* 0: 1 */
	int timeout_ms;         /* 0: default_timeout_ms */
	int default_timeout_ms;
	int min_gap_ms;         /* the profile's least gap between messages */
};

/* Opens the link (tcp when set, else device). Returns 0, or -1 with err set ("who:
 * reason") and what was opened closed again. */
int tl_modbus_link_open(struct tl_modbus_link *l, const struct tl_modbus_link_opts *o,
			struct tl_err *err);
/* Releases the device's lock and frees the connection; safe when it never opened. */
void tl_modbus_link_close(struct tl_modbus_link *l);

/* Before a request: waits out the gap since the last transaction and, on RTU (which has
 * no transaction ids), drops any late reply so it is not read as this one's. */
void tl_modbus_link_begin(struct tl_modbus_link *l);
/* After a transaction, whatever its result: the gap counts from now. */
void tl_modbus_link_end(struct tl_modbus_link *l);
/* TCP: connects afresh after a failure (a dropped peer, or late replies on the socket). */
void tl_modbus_link_reconnect(struct tl_modbus_link *l);

/* CLOCK_MONOTONIC in ns. */
int64_t tl_modbus_link_now_ns(void);

#endif
