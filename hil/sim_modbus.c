/* sim_modbus.c - treadsim's Modbus slave: the PDU functions on the profile's registers.
 *
 * Written independently of libmodbus on purpose: the driver under test uses libmodbus,
 * so the simulator is a second implementation of the protocol, not a mirror of the
 * first. Functions 1, 2, 3, 4, 5, 6, 15 and 16. */
#include "sim.h"

#include <math.h>
#include <string.h>

#include "units.h"

enum {
	EX_ILLEGAL_FUNCTION = 1,
	EX_ILLEGAL_ADDRESS = 2,
	EX_ILLEGAL_VALUE = 3,
};

uint16_t sim_modbus_crc16(const uint8_t *buf, size_t len)
{
	uint16_t crc = 0xFFFF;
	for (size_t i = 0; i < len; i++) {
		crc ^= buf[i];
		for (int b = 0; b < 8; b++)
			crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0xA001) : (uint16_t)(crc >> 1);
	}
	return crc;
}

int sim_rtu_request_len(const uint8_t *buf, size_t len)
{
	if (len < 2)
		return 0;
	switch (buf[1]) {
	case 1: case 2: case 3: case 4: case 5: case 6:
		return 8;
	case 15: case 16:
		if (len < 7)
			return 0;
		return 9 + buf[6];
	default:
		return -1;
	}
}

/* Physical units of a register: km/h, %, ms, or the raw number. */
static double unit_factor(const struct tl_modbus_profile *p, const struct tl_reg *r)
{
	if (!strcmp(r->units, "mph"))
		return TL_KMH_PER_MPH;
	if (!strcmp(r->units, "Hz"))
		return p->kmh_per_hz;
	if (!strcmp(r->units, "s"))
		return 1000.0;
	return 1.0;
}

static uint16_t to_raw(const struct tl_modbus_profile *p, enum tl_reg_key k, double v)
{
	const struct tl_reg *r = &p->reg[k];
	double raw = round(v / (r->scale * unit_factor(p, r)));
	return raw < 0 ? 0 : raw > 65535 ? 65535 : (uint16_t)raw;
}

static double from_raw(const struct tl_modbus_profile *p, enum tl_reg_key k, uint16_t raw)
{
	const struct tl_reg *r = &p->reg[k];
	return raw * r->scale * unit_factor(p, r);
}

static int find_key(const struct tl_modbus_profile *p, enum tl_reg_kind kind, unsigned addr)
{
	for (int k = 0; k < TL_REG_N; k++)
		if (p->reg[k].present && p->reg[k].kind == kind && p->reg[k].address == addr)
			return k;
	return -1;
}

static uint16_t status_word(const struct sim_dev *d, const struct tl_modbus_profile *p,
			    int64_t real_ms)
{
	uint16_t s = 0;
	if (d->belt.running)
		s |= p->st_running;
	if (d->belt.estopped && !d->key_pulled && !d->drive_fault_code)
		s |= p->st_estop;
	if (d->key_pulled)
		s |= p->st_key_pulled;
	if (d->watchdog_tripped)
		s |= p->st_watchdog;
	if (d->drive_fault_code)
		s |= p->st_fault;
	if (sim_dev_homing(d, real_ms))
		s |= p->st_homing;
	return s;
}

static uint16_t read_value(const struct sim_dev *d, const struct tl_modbus_profile *p, int k,
			   int64_t real_ms)
{
	switch (k) {
	case TL_REG_SPEED_SETPOINT:
		return to_raw(p, k, d->setpoint_kmh);
	case TL_REG_SPEED_ACTUAL:
		return to_raw(p, k, d->belt.speed_kmh);
	case TL_REG_GRADE_SETPOINT:
		return to_raw(p, k, d->belt.target_grade_pct);
	case TL_REG_GRADE_ACTUAL:
		return to_raw(p, k, d->belt.grade_pct);
	case TL_REG_COMMAND:
		return d->command_word;
	case TL_REG_STATUS:
		return status_word(d, p, real_ms);
	case TL_REG_WATCHDOG:
		return to_raw(p, k, d->watchdog_ms);
	case TL_REG_FAULT_CODE:
		return (uint16_t)d->drive_fault_code;
	case TL_REG_BOOT_COUNT:
		return d->boot_count;
	case TL_REG_BUTTON:
		return sim_dev_button_bits(d, real_ms);
	default:
		return 0;
	}
}

static bool writable(int k)
{
	return k == TL_REG_SPEED_SETPOINT || k == TL_REG_GRADE_SETPOINT || k == TL_REG_COMMAND ||
	       k == TL_REG_WATCHDOG;
}

static void command(struct sim_dev *d, const struct tl_modbus_profile *p, uint16_t v,
		    int64_t real_ms)
{
	d->command_word = v;
	if (v == p->cmd_start.value[p->cmd_start.n - 1])
		sim_dev_start(d, real_ms, d->watchdog_ms > 0);
	else if (p->cmd_estop.n && v == p->cmd_estop.value[p->cmd_estop.n - 1])
		sim_dev_estop(d, real_ms);
	else if (v == p->cmd_stop.value[p->cmd_stop.n - 1])
		sim_dev_stop(d, real_ms);
}

static void write_value(struct sim_dev *d, const struct tl_modbus_profile *p, int k, uint16_t v,
			int64_t real_ms)
{
	int64_t sim_ms = sim_dev_sim_ms(d, real_ms);
	switch (k) {
	case TL_REG_SPEED_SETPOINT:
		sim_dev_set_speed(d, from_raw(p, k, v), real_ms);
		break;
	case TL_REG_GRADE_SETPOINT:
		tl_belt_set_grade(&d->belt, from_raw(p, k, v), sim_ms);
		break;
	case TL_REG_COMMAND:
		command(d, p, v, real_ms);
		break;
	case TL_REG_WATCHDOG: {
		double ms = from_raw(p, k, v);
		d->watchdog_ms = ms > 65535 ? 65535 : (uint16_t)ms;
		break;
	}
	default:
		break;
	}
}

static size_t exception(const uint8_t *req, int code, uint8_t *resp)
{
	resp[0] = (uint8_t)(req[0] | 0x80);
	resp[1] = (uint8_t)code;
	return 2;
}

static uint16_t be16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static size_t read_fn(struct sim_dev *d, const struct tl_modbus_profile *p, const uint8_t *req,
		      uint8_t *resp, int64_t real_ms)
{
	static const enum tl_reg_kind kinds[] = {TL_REG_COIL, TL_REG_DISCRETE, TL_REG_HOLDING,
						 TL_REG_INPUT};
	enum tl_reg_kind kind = kinds[req[0] - 1];
	bool bits = req[0] <= 2;
	unsigned addr = be16(req + 1), n = be16(req + 3);
	if (n < 1 || n > (bits ? 2000u : 125u))
		return exception(req, EX_ILLEGAL_VALUE, resp);
	if (addr + n > 65536)
		return exception(req, EX_ILLEGAL_ADDRESS, resp);
	for (unsigned i = 0; i < n; i++)
		if (find_key(p, kind, addr + i) < 0)
			return exception(req, EX_ILLEGAL_ADDRESS, resp);
	resp[0] = req[0];
	if (bits) {
		resp[1] = (uint8_t)((n + 7) / 8);
		memset(resp + 2, 0, resp[1]);
		for (unsigned i = 0; i < n; i++)
			if (read_value(d, p, find_key(p, kind, addr + i), real_ms) & 1)
				resp[2 + i / 8] |= (uint8_t)(1u << (i % 8));
		return 2u + resp[1];
	}
	resp[1] = (uint8_t)(2 * n);
	for (unsigned i = 0; i < n; i++) {
		uint16_t v = read_value(d, p, find_key(p, kind, addr + i), real_ms);
		resp[2 + 2 * i] = (uint8_t)(v >> 8);
		resp[3 + 2 * i] = (uint8_t)v;
	}
	return 2u + resp[1];
}

static size_t write_single(struct sim_dev *d, const struct tl_modbus_profile *p,
			   const uint8_t *req, uint8_t *resp, int64_t real_ms)
{
	bool coil = req[0] == 5;
	unsigned addr = be16(req + 1);
	uint16_t v = be16(req + 3);
	if (coil && v != 0xFF00 && v != 0x0000)
		return exception(req, EX_ILLEGAL_VALUE, resp);
	int k = find_key(p, coil ? TL_REG_COIL : TL_REG_HOLDING, addr);
	if (k < 0 || !writable(k))
		return exception(req, EX_ILLEGAL_ADDRESS, resp);
	write_value(d, p, k, coil ? (v ? 1 : 0) : v, real_ms);
	memcpy(resp, req, 5);
	return 5;
}

static size_t write_multiple(struct sim_dev *d, const struct tl_modbus_profile *p,
			     const uint8_t *req, size_t len, uint8_t *resp, int64_t real_ms)
{
	bool coils = req[0] == 15;
	unsigned addr = be16(req + 1), n = be16(req + 3), bytes = req[5];
	if (n < 1 || n > (coils ? 1968u : 123u) || bytes != (coils ? (n + 7) / 8 : 2 * n) ||
	    len != 6 + bytes)
		return exception(req, EX_ILLEGAL_VALUE, resp);
	for (unsigned i = 0; i < n; i++) {
		int k = find_key(p, coils ? TL_REG_COIL : TL_REG_HOLDING, addr + i);
		if (k < 0 || !writable(k))
			return exception(req, EX_ILLEGAL_ADDRESS, resp);
	}
	for (unsigned i = 0; i < n; i++) {
		int k = find_key(p, coils ? TL_REG_COIL : TL_REG_HOLDING, addr + i);
		uint16_t v = coils ? (uint16_t)((req[6 + i / 8] >> (i % 8)) & 1) : be16(req + 6 + 2 * i);
		write_value(d, p, k, v, real_ms);
	}
	memcpy(resp, req, 5);
	return 5;
}

size_t sim_modbus_pdu(struct sim_dev *d, const struct tl_modbus_profile *p, const uint8_t *req,
		      size_t len, uint8_t *resp, int64_t real_ms)
{
	if (len < 1)
		return 0;
	uint8_t fc = req[0];
	if (fc < 1 || (fc > 6 && fc != 15 && fc != 16))
		return exception(req, EX_ILLEGAL_FUNCTION, resp);
	if (len < 5 || ((fc == 15 || fc == 16) && len < 6))
		return exception(req, EX_ILLEGAL_VALUE, resp);
	if (fc <= 4)
		return len == 5 ? read_fn(d, p, req, resp, real_ms)
				: exception(req, EX_ILLEGAL_VALUE, resp);
	if (fc <= 6)
		return len == 5 ? write_single(d, p, req, resp, real_ms)
				: exception(req, EX_ILLEGAL_VALUE, resp);
	return write_multiple(d, p, req, len, resp, real_ms);
}
