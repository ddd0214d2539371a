/* sim_trackmaster.c - treadsim's Trackmaster protocol (docs/hardware.md): one command byte,
 * 4 ASCII digits for A3/A4, an acknowledgement for every command. */
#include "sim.h"

#include <math.h>

#include "units.h"

#define MAX_SPEED_TENTHS_MPH 120  /* 12.0 mph: a clinical treadmill's top speed */
#define MAX_ELEVATION_TENTHS 250  /* 25 % */

static size_t digits4(uint8_t code, int v, uint8_t *out)
{
	out[0] = code;
	for (int i = 4; i >= 1; i--) {
		out[i] = (uint8_t)('0' + v % 10);
		v /= 10;
	}
	return 5;
}

static int tenths_mph(double kmh)
{
	return (int)lround(tl_kmh_to_mph(kmh) * 10.0);
}

/* Parses the 4 digits after a command byte; -1 if one is not a digit. */
static int parse4(const uint8_t *b)
{
	int v = 0;
	for (int i = 0; i < 4; i++) {
		if (b[i] < '0' || b[i] > '9')
			return -1;
		v = v * 10 + (b[i] - '0');
	}
	return v;
}

static size_t with_echo(const struct sim_dev *d, uint8_t ack, const uint8_t *data, size_t n,
			uint8_t *resp)
{
	resp[0] = ack;
	if (!d->echo)
		return 1;
	for (size_t i = 0; i < n; i++)
		resp[1 + i] = data[i];
	return 1 + n;
}

size_t sim_trackmaster_handle(struct sim_dev *d, const uint8_t *buf, size_t len, uint8_t *resp,
			      size_t *resp_len, int64_t real_ms)
{
	int64_t sim_ms = sim_dev_sim_ms(d, real_ms);
	uint8_t c = buf[0];
	*resp_len = 0;
	if (c == 0xA3 || c == 0xA4) {
		if (len < 5)
			return 0;
		int v = parse4(buf + 1);
		bool ok = v >= 0 && (c == 0xA3 ? v <= MAX_SPEED_TENTHS_MPH
						: v <= MAX_ELEVATION_TENTHS && (v % 10 == 0 || v % 10 == 5));
		sim_dev_heard(d, real_ms);
		if (!ok) {
			resp[0] = 0xBE;
			*resp_len = 1;
			return 5;
		}
		if (c == 0xA3)
			sim_dev_set_speed(d, tl_mph_to_kmh(v / 10.0), real_ms);
		else
			tl_belt_set_grade(&d->belt, v / 10.0, sim_ms);
		*resp_len = with_echo(d, (uint8_t)(c + 0x10), buf + 1, 4, resp);
		return 5;
	}
	sim_dev_heard(d, real_ms);
	switch (c) {
	case 0xA0:
	case 0xA1:
		sim_dev_start(d, real_ms, c == 0xA0);
		break;
	case 0xA2:
		sim_dev_stop(d, real_ms);
		break;
	case 0xAA: /* auto stop: to minimum, then stop */
		sim_dev_set_speed(d, 0, real_ms);
		tl_belt_set_grade(&d->belt, 0, sim_ms);
		sim_dev_stop(d, real_ms);
		break;
	case 0xAB: /* auto cool-down: to minimum, keep running */
		sim_dev_set_speed(d, 0, real_ms);
		tl_belt_set_grade(&d->belt, 0, sim_ms);
		break;
	case 0xAC:
		d->echo = !d->echo;
		break;
	case 0xC0:
		resp[0] = 0xD0;
		resp[1] = !d->belt.running ? 0x31 : d->unarmed_start ? 0x33 : 0x32;
		*resp_len = 2;
		return 1;
	case 0xC1:
		*resp_len = digits4(0xD1, sim_dev_speed_failed(d) ? 9999 : tenths_mph(d->belt.speed_kmh),
				    resp);
		return 1;
	case 0xC2:
		*resp_len = digits4(0xD2, (int)lround(d->belt.grade_pct * 10.0), resp);
		return 1;
	case 0xC3:
		*resp_len = digits4(0xD3, tenths_mph(d->setpoint_kmh), resp);
		return 1;
	case 0xC4:
		*resp_len = digits4(0xD4, (int)lround(d->belt.target_grade_pct * 10.0), resp);
		return 1;
	default:
		resp[0] = 0xBF;
		*resp_len = 1;
		return 1;
	}
	resp[0] = (uint8_t)(c + 0x10);
	*resp_len = 1;
	return 1;
}
