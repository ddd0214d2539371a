/* cuff_modbus.c - the "cuff-modbus" pressure source (cuff_modbus.h). */
#include "cuff_modbus.h"

#include <errno.h>
#include <modbus.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modbus_link.h"
#include "tl_log.h"

#define MAX_RETRIES 10
#define DEFAULT_TIMEOUT_MS 100

struct cm {
	struct tl_modbus_link link;
	struct tl_cuff_profile prof;
	int retries;
};

#define set_err tl_cuff_set_err

enum op { OP_READ, OP_WRITE, OP_SEQ };

/* One transfer with bounded retries: after a failure a TCP connection is made afresh and
 * an RTU line flushed, so a late reply is never read as the next one's. */
static int transact(struct tl_cuff *c, enum op op, const struct tl_cuff_reg_def *r,
		    uint16_t *vals, int n, const char *what)
{
	struct cm *m = c->priv;
	int e = 0, tries = 0;
	for (int attempt = 0; attempt <= m->retries; attempt++) {
		tries++;
		tl_modbus_link_begin(&m->link);
		int rc = 0;
		modbus_t *ctx = m->link.ctx;
		if (op == OP_READ)
			rc = r->kind == TL_REG_INPUT ? modbus_read_input_registers(ctx, r->address, 1, vals)
						     : modbus_read_registers(ctx, r->address, 1, vals);
		else
			for (int i = 0; i < n && rc >= 0; i++)
				rc = modbus_write_register(ctx, r->address, vals[i]);
		tl_modbus_link_end(&m->link);
		if (rc >= 0)
			return 0;
		e = errno;
		TL_DEBUG("cuff-modbus %s: %s: %s (try %d)", m->prof.name, what, modbus_strerror(e), tries);
		if (e >= EMBXILFUN && e <= EMBXGTAR && e != EMBXSBUSY)
			break; /* the device answered: asking again gets the same answer */
		if (m->link.tcp)
			tl_modbus_link_reconnect(&m->link);
	}
	set_err(c, "cuff-modbus %s: %s %s %u at %s: %s (after %d %s)", m->prof.name, what,
		tl_reg_kind_name(r->kind), (unsigned)r->address, m->link.where, modbus_strerror(e),
		tries, tries > 1 ? "tries" : "try");
	return -1;
}

static int cm_vent(struct tl_cuff *c, int64_t now_ms);

static void cm_close(struct tl_cuff *c)
{
	struct cm *m = c->priv;
	if (!m)
		return;
	/* Whatever state the cuff is in, it is left open to the air. */
	if (m->link.ctx && m->prof.inflator && cm_vent(c, 0))
		TL_WARNING("cuff-modbus %s: vent at close failed: %s", m->prof.name, c->err);
	tl_modbus_link_close(&m->link);
	free(m);
	c->priv = NULL;
}

static int cm_read(struct tl_cuff *c, int64_t now_ms, struct tl_cuff_reading *r)
{
	struct cm *m = c->priv;
	uint16_t raw;
	if (transact(c, OP_READ, &m->prof.reg[TL_CREG_PRESSURE], &raw, 1, "read pressure"))
		return -1;
	*r = (struct tl_cuff_reading){.mmhg = tl_cuff_profile_to_mmhg(&m->prof, TL_CREG_PRESSURE, raw),
				      .t_ms = now_ms};
	return 1;
}

static int cm_open(struct tl_cuff *c, const void *opts)
{
	const struct tl_cuff_modbus_opts *o = opts;
	struct cm *m = calloc(1, sizeof *m);
	if (!m) {
		set_err(c, "cuff-modbus: out of memory");
		return -1;
	}
	c->priv = m;
	struct tl_err err;
	struct tl_cuff_reading r;
	if (!o->profile[0]) {
		set_err(c, "cuff-modbus: no cuff profile configured (config/devices/*cuff*.profile)");
		goto fail;
	}
	if (tl_cuff_profile_load(o->profile, &m->prof, &err)) {
		set_err(c, "%s", err.msg);
		goto fail;
	}
	if (m->prof.unverified[0]) {
		set_err(c, "cuff-modbus: profile %s lists unverified facts (%s): check them against "
			"the device's manual and empty 'unverified' first", o->profile,
			m->prof.unverified);
		goto fail;
	}
	m->retries = o->retries < 0 ? 0 : o->retries > MAX_RETRIES ? MAX_RETRIES : o->retries;
	struct tl_modbus_link_opts lo = {
		.who = "cuff-modbus", .device = o->device, .baud = o->baud, .framing = o->framing,
		.tcp = o->tcp, .unit_id = o->unit_id, .timeout_ms = o->response_timeout_ms,
		.default_timeout_ms = DEFAULT_TIMEOUT_MS, .min_gap_ms = m->prof.min_gap_ms,
	};
	if (tl_modbus_link_open(&m->link, &lo, &err)) {
		set_err(c, "%s", err.msg);
		goto fail;
	}
	if (cm_read(c, 0, &r) < 0)
		goto fail;
	return 0;
fail:
	/* Nothing was commanded yet: no vent needed, and a dead line would only delay. */
	tl_modbus_link_close(&m->link);
	free(m);
	c->priv = NULL;
	return -1;
}

static int need_inflator(struct tl_cuff *c, const char *what)
{
	struct cm *m = c->priv;
	if (m->prof.inflator)
		return 0;
	set_err(c, "cuff-modbus %s: cannot %s: the profile is a manometer (no setpoint, rate or "
		"commands)", m->prof.name, what);
	return -1;
}

static int command(struct tl_cuff *c, const struct tl_cmd_seq *seq, const char *what)
{
	struct cm *m = c->priv;
	uint16_t v[TL_PROFILE_MAX_SEQ];
	memcpy(v, seq->value, sizeof v);
	return transact(c, OP_SEQ, &m->prof.reg[TL_CREG_COMMAND], v, seq->n, what);
}

static int write_value(struct tl_cuff *c, enum tl_cuff_reg k, double v, const char *what)
{
	struct cm *m = c->priv;
	uint16_t raw;
	if (tl_cuff_profile_from_mmhg(&m->prof, k, v, &raw)) {
		set_err(c, "cuff-modbus %s: %s %g does not fit the register", m->prof.name, what, v);
		return -1;
	}
	return transact(c, OP_WRITE, &m->prof.reg[k], &raw, 1, what);
}

static int cm_inflate_to(struct tl_cuff *c, double mmhg, int64_t now_ms)
{
	(void)now_ms;
	struct cm *m = c->priv;
	if (need_inflator(c, "inflate"))
		return -1;
	return write_value(c, TL_CREG_SETPOINT, mmhg, "write setpoint") ||
	       command(c, &m->prof.cmd_inflate, "command inflate") ? -1 : 0;
}

static int cm_deflate_at(struct tl_cuff *c, double mmhg_s, int64_t now_ms)
{
	(void)now_ms;
	struct cm *m = c->priv;
	if (need_inflator(c, "deflate"))
		return -1;
	return write_value(c, TL_CREG_RATE, mmhg_s, "write rate") ||
	       command(c, &m->prof.cmd_deflate, "command deflate") ? -1 : 0;
}

static int cm_vent(struct tl_cuff *c, int64_t now_ms)
{
	(void)now_ms;
	struct cm *m = c->priv;
	if (need_inflator(c, "vent"))
		return -1;
	return command(c, &m->prof.cmd_vent, "command vent");
}

bool tl_cuff_modbus_can_inflate(const struct tl_cuff *c)
{
	const struct cm *m = c->priv;
	return m && m->prof.inflator;
}

const struct tl_cuff_profile *tl_cuff_modbus_profile(const struct tl_cuff *c)
{
	const struct cm *m = c->priv;
	return m ? &m->prof : NULL;
}

static const char *const framings[] = {"8E1", "8O1", "8N2", "8N1", NULL};

#define ROW(k, kind_, def_, lo, hi, help_, field)                                             \
	{.section = "cuff", .key = k, .kind = kind_, .def = def_, .min = lo, .max = hi,       \
	 .none = -1, .help = help_, TL_OPT_AT(struct tl_cuff_modbus_opts, field)}

const struct tl_driver_option tl_cuff_modbus_options[] = {
	ROW("device", TL_OPT_TEXT, NULL, 0, 0, "RTU: the serial device (or treadsim's cuff pty)",
	    device),
	ROW("baud", TL_OPT_INT, "19200", 1200, 115200, "RTU: bits per second", baud),
	{.section = "cuff", .key = "framing", .kind = TL_OPT_ENUM, .def = "8E1", .values = framings,
	 .help = "RTU: 8 data bits, parity (E, O, N), stop bits",
	 TL_OPT_AT(struct tl_cuff_modbus_opts, framing)},
	ROW("tcp", TL_OPT_TEXT, NULL, 0, 0, "Modbus TCP host:port instead of RTU", tcp),
	ROW("profile", TL_OPT_TEXT, NULL, 0, 0,
	    "the cuff's register map (config/devices/*cuff*.profile)", profile),
	ROW("unit_id", TL_OPT_INT, "1", 1, 247, "the Modbus unit (slave) id", unit_id),
	ROW("response_timeout_ms", TL_OPT_INT, "100", 5, 5000,
	    "how long a request waits for its reply (ms)", response_timeout_ms),
	ROW("retries", TL_OPT_INT, "2", 0, MAX_RETRIES,
	    "retries after a timeout or a bad reply before an error", retries),
	{0},
};
#undef ROW

static int cm_validate(const void *opts, char *why, size_t cap)
{
	const struct tl_cuff_modbus_opts *o = opts;
	if (!o->profile[0]) {
		snprintf(why, cap, "needs 'profile' (a cuff register map in config/devices/)");
		return -1;
	}
	if (!o->device[0] == !o->tcp[0]) {
		snprintf(why, cap, "needs one of 'device' (RTU) or 'tcp'");
		return -1;
	}
	return 0;
}

const struct tl_cuff_ops tl_cuff_modbus_ops = {
	.name = "cuff-modbus",
	.flags = TL_CUFF_CAN_INFLATE,
	.options = tl_cuff_modbus_options,
	.opts_size = sizeof(struct tl_cuff_modbus_opts),
	.validate = cm_validate,
	.open = cm_open,
	.close = cm_close,
	.read = cm_read,
	.inflate_to = cm_inflate_to,
	.deflate_at = cm_deflate_at,
	.vent = cm_vent,
};
