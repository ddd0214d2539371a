/* devices.c - the treadmill driver and the patient buttons: opened at start-up, closed
 * at shutdown, and reopened on the operator's "reconnect" (after the treadmill stopped
 * itself, a driver latches that stop until it is reopened). Control thread or start-up
 * only. */
#include <stdio.h>
#include <string.h>

#include "daemon.h"

static int open_driver(struct tl_daemon *d, struct tl_err *err)
{
	const struct tl_config *c = &d->cfg;
	/* The configuration found the driver and filled its options through its table. */
	d->tm = (struct tl_treadmill){.ops = c->drv, .time_scale = c->time_scale};
	if (d->tm.ops->open(&d->tm, &c->drv_opts)) {
		tl_err_set(err, "treadmill (%s): %s", c->driver, d->tm.err);
		return -1;
	}
	tl_actuator_init(&d->act, &d->tm);
	return 0;
}

/* Opens the patient buttons the configuration names. */
static int open_buttons(struct tl_daemon *d, struct tl_err *err)
{
	const struct tl_config *c = &d->cfg;
	struct tl_button_config bc;
	tl_button_config_default(&bc);
	bc.debounce_ms = c->debounce_ms;
	bc.onset_byte = (uint8_t)c->box_onset[0];
	bc.max_byte = (uint8_t)c->box_max[0];
	bc.foot_byte = (uint8_t)c->box_foot[0];
	char why[160];
	if (tl_button_parse_lines(c->modem_lines, &bc, why, sizeof why)) {
		tl_err_set(err, "[buttons] modem_lines: %s", why);
		return -1;
	}
	/* The open is the sources' first sample: at the control thread's real ms. */
	int64_t now_ms = tl_clock_real_ms(&d->clock);
	struct tl_button *b;
	if (d->tm.ops->patient_button) { /* a simulated patient, when its options set one */
		b = &d->buttons[d->n_buttons];
		int rc = d->tm.ops->patient_button(b, &d->tm);
		if (rc < 0)
			goto fail;
		d->n_buttons += rc;
	}
	if (c->modem_device[0]) {
		struct tl_serial_link link;
		b = &d->buttons[d->n_buttons];
		if (tl_serial_open(&link, c->modem_device, 9600, TL_SERIAL_AUTO)) {
			tl_err_set(err, "[buttons] modem_device: %s", link.err); /* names the device */
			return -1;
		}
		if (tl_button_modem_open(b, &link, &bc, now_ms))
			goto fail;
		d->n_buttons++;
	}
	if (c->box_device[0]) {
		struct tl_serial_link link;
		b = &d->buttons[d->n_buttons];
		if (tl_serial_open(&link, c->box_device, c->box_baud, TL_SERIAL_AUTO)) {
			tl_err_set(err, "[buttons] box_device: %s", link.err); /* names the device */
			return -1;
		}
		if (tl_button_box_open(b, &link, &bc, now_ms))
			goto fail;
		d->n_buttons++;
	}
	if (c->modbus_button) {
		b = &d->buttons[d->n_buttons];
		if (tl_button_modbus_open(b, &d->tm, &bc, now_ms))
			goto fail;
		d->n_buttons++;
	}
	return 0;
fail:
	tl_err_set(err, "patient button: %s", b->err);
	return -1;
}

static void close_buttons(struct tl_daemon *d)
{
	for (int i = 0; i < d->n_buttons; i++)
		tl_button_close(&d->buttons[i]);
	d->n_buttons = 0;
}

int tl_devices_open(struct tl_daemon *d, struct tl_err *err)
{
	if (open_driver(d, err))
		return -1;
	if (open_buttons(d, err)) {
		close_buttons(d);
		d->tm.ops->close(&d->tm);
		return -1;
	}
	d->devices_open = true;
	return 0;
}

void tl_devices_close(struct tl_daemon *d)
{
	if (!d->devices_open)
		return;
	close_buttons(d);
	d->tm.ops->close(&d->tm);
	d->devices_open = false;
}
