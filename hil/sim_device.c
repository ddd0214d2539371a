/* sim_device.c - the simulated treadmill itself: belt, lift, watchdog, key, faults,
 * restarts and the virtual patient. Protocol-neutral. */
#include "sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TM_WATCHDOG_MS 500    /* Trackmaster: belt stops 0.5 s after the last command */
#define HOMING_MS 3000        /* lift homing after power-up (GE T2100: starts refused 3 s) */
#define PRESS_HOLD_MS 400     /* a patient holds the button this long (real time) */
#define DEFAULT_FAULT_CODE 7  /* what a drive-fault reports when none is given */

void sim_dev_init(struct sim_dev *d, enum sim_proto proto, int64_t real_ms, double time_scale)
{
	*d = (struct sim_dev){
		.proto = proto,
		.time_scale = time_scale > 0 ? time_scale : 1.0,
		.real0_ms = real_ms,
		.watchdog_power_on_ms = 1000,
		.watchdog_ms = 1000,
		.boot_count = 1,
		.onset_s = -1,
		.max_s = -1,
		.late_ms = 800,
		.last_rx_real_ms = real_ms,
	};
	tl_belt_init(&d->belt, &tl_belt_default_params, 0);
}

int64_t sim_dev_sim_ms(const struct sim_dev *d, int64_t real_ms)
{
	return (int64_t)((double)(real_ms - d->real0_ms) * d->time_scale);
}

bool sim_dev_homing(const struct sim_dev *d, int64_t real_ms)
{
	return real_ms < d->homing_until_real_ms;
}

bool sim_dev_speed_failed(const struct sim_dev *d)
{
	return d->key_pulled || d->drive_fault_code != 0;
}

static int watchdog_timeout_ms(const struct sim_dev *d)
{
	if (d->proto == SIM_TRACKMASTER)
		return d->watchdog_armed ? TM_WATCHDOG_MS : 0;
	return d->watchdog_ms;
}

static void patient(struct sim_dev *d, int64_t real_ms, int64_t sim_ms)
{
	if (!d->belt_started)
		return;
	double since_s = (double)(sim_ms - d->belt_start_sim_ms) / 1000.0;
	const double at[2] = {d->onset_s, d->max_s};
	for (int k = 0; k < 2; k++)
		if (!d->pressed[k] && at[k] >= 0 && since_s >= at[k]) {
			d->pressed[k] = true;
			d->button_until_real_ms[k] = real_ms + PRESS_HOLD_MS;
			d->box_pending[k]++;
		}
}

void sim_dev_advance(struct sim_dev *d, int64_t real_ms)
{
	int64_t sim_ms = sim_dev_sim_ms(d, real_ms);
	tl_belt_advance(&d->belt, sim_ms);
	int wd = watchdog_timeout_ms(d);
	if (d->belt.running && wd > 0 && real_ms - d->last_rx_real_ms > wd) {
		tl_belt_stop(&d->belt, sim_ms);
		d->watchdog_tripped = true;
		d->watchdog_armed = false;
		d->ignore_starts = false; /* a communication timeout ends the start lock-out */
	}
	if (d->ignore_starts && real_ms - d->last_rx_real_ms > TM_WATCHDOG_MS)
		d->ignore_starts = false;
	patient(d, real_ms, sim_ms);
}

void sim_dev_heard(struct sim_dev *d, int64_t real_ms)
{
	d->last_rx_real_ms = real_ms;
}

bool sim_dev_start(struct sim_dev *d, int64_t real_ms, bool armed)
{
	int64_t sim_ms = sim_dev_sim_ms(d, real_ms);
	if (sim_dev_homing(d, real_ms)) {
		d->ignore_starts = true;
		return false;
	}
	if (d->ignore_starts || d->key_pulled || d->drive_fault_code || d->belt.estopped)
		return false;
	tl_belt_start(&d->belt, sim_ms);
	tl_belt_set_speed(&d->belt, d->setpoint_kmh, sim_ms);
	d->watchdog_tripped = false;
	d->watchdog_armed = armed;
	d->unarmed_start = !armed;
	if (!d->belt_started) {
		d->belt_started = true;
		d->belt_start_sim_ms = sim_ms;
	}
	return true;
}

void sim_dev_set_speed(struct sim_dev *d, double kmh, int64_t real_ms)
{
	d->setpoint_kmh = kmh < 0 ? 0 : kmh > d->belt.p.max_speed_kmh ? d->belt.p.max_speed_kmh : kmh;
	tl_belt_set_speed(&d->belt, d->setpoint_kmh, sim_dev_sim_ms(d, real_ms));
}

void sim_dev_stop(struct sim_dev *d, int64_t real_ms)
{
	tl_belt_stop(&d->belt, sim_dev_sim_ms(d, real_ms));
	d->watchdog_armed = false;
	d->ignore_starts = false;
}

void sim_dev_estop(struct sim_dev *d, int64_t real_ms)
{
	tl_belt_estop(&d->belt, sim_dev_sim_ms(d, real_ms));
	d->watchdog_armed = false;
}

/* Power comes back: everything volatile resets, the lift homes, the boot counter moves. */
void sim_dev_restart(struct sim_dev *d, int64_t real_ms)
{
	int64_t sim_ms = sim_dev_sim_ms(d, real_ms);
	tl_belt_estop(&d->belt, sim_ms);
	tl_belt_reset(&d->belt, sim_ms);
	tl_belt_set_speed(&d->belt, 0, sim_ms);
	tl_belt_set_grade(&d->belt, 0, sim_ms);
	d->setpoint_kmh = 0;
	d->watchdog_ms = d->watchdog_power_on_ms;
	d->watchdog_armed = false;
	d->watchdog_tripped = false;
	d->unarmed_start = false;
	d->echo = false;
	d->command_word = 0;
	d->boot_count++;
	d->homing_until_real_ms = real_ms + HOMING_MS;
}

uint16_t sim_dev_button_bits(const struct sim_dev *d, int64_t real_ms)
{
	uint16_t bits = 0;
	for (int k = 0; k < 2; k++)
		if (real_ms < d->button_until_real_ms[k])
			bits |= (uint16_t)(1u << k);
	return bits;
}

int sim_dev_control(struct sim_dev *d, const char *line, int64_t real_ms, char *msg, size_t n)
{
	int64_t sim_ms = sim_dev_sim_ms(d, real_ms);
	char name[32];
	int arg = -1;
	if (sscanf(line, "%31[a-z-]=%d", name, &arg) < 1 && sscanf(line, "%31[a-z-]", name) < 1) {
		snprintf(msg, n, "unreadable command '%s'", line);
		return -1;
	}
	static const struct {
		const char *name;
		unsigned bit;
	} wire[] = {{"no-reply", SIM_F_NO_REPLY}, {"bad-crc", SIM_F_BAD_CRC},
		    {"late-reply", SIM_F_LATE_REPLY}, {"disconnect", SIM_F_DISCONNECT}};
	for (size_t i = 0; i < sizeof wire / sizeof wire[0]; i++)
		if (!strcmp(name, wire[i].name)) {
			d->wire_faults |= wire[i].bit;
			if (wire[i].bit == SIM_F_LATE_REPLY && arg > 0)
				d->late_ms = arg;
			snprintf(msg, n, "ok %s", name);
			return 0;
		}
	if (!strcmp(name, "belt-stall")) {
		d->belt.stall = true;
	} else if (!strcmp(name, "lift-stuck")) {
		d->belt.lift_stuck = true;
	} else if (!strcmp(name, "key-pulled")) {
		/* The key cuts power to belt and lift, whatever software says. */
		d->key_pulled = true;
		tl_belt_estop(&d->belt, sim_ms);
	} else if (!strcmp(name, "drive-fault")) {
		d->drive_fault_code = arg > 0 ? arg : DEFAULT_FAULT_CODE;
		tl_belt_estop(&d->belt, sim_ms); /* a tripped drive lets the belt coast */
	} else if (!strcmp(name, "stop-button")) {
		sim_dev_stop(d, real_ms); /* someone pressed stop on the treadmill's console */
	} else if (!strcmp(name, "reboot")) {
		sim_dev_restart(d, real_ms);
	} else if (!strcmp(name, "press-onset") || !strcmp(name, "press-max")) {
		int k = !strcmp(name, "press-max");
		d->button_until_real_ms[k] = real_ms + PRESS_HOLD_MS;
		d->box_pending[k]++;
	} else if (!strcmp(name, "clear")) {
		/* Faults cleared; a key put back or a drive reset powers the controller up
		 * again, as a restart. The reset also acknowledges a trip of the communication
		 * watchdog (its status bit). The belt is not restarted. */
		bool power_cycle = d->key_pulled || d->drive_fault_code;
		d->wire_faults = 0;
		d->watchdog_tripped = false;
		d->belt.stall = false;
		d->belt.lift_stuck = false;
		d->key_pulled = false;
		d->drive_fault_code = 0;
		if (power_cycle)
			sim_dev_restart(d, real_ms);
	} else {
		snprintf(msg, n, "unknown command '%s' (no-reply, bad-crc, late-reply[=MS], "
			 "disconnect, unplug[=CH], plug[=CH], belt-stall, lift-stuck, key-pulled, "
			 "drive-fault[=CODE], stop-button, reboot, press-onset, press-max, clear, state)",
			 name);
		return -1;
	}
	snprintf(msg, n, "ok %s", name);
	return 0;
}
