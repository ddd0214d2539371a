/* sim.h - treadsim's parts: the device model, the wire, and the two protocols.
 *
 * treadsim is one process with one poll loop. The device model (sim_device.c) owns the
 * belt and lift (src/core/belt_model), the device's communication watchdog, the safety
 * key, drive faults, restarts and the virtual patient. The protocols (sim_modbus.c,
 * sim_trackmaster.c) turn received bytes into device calls and replies; the wire
 * (treadsim.c) carries replies out with fault injection, baud pacing and a frame log. */
#ifndef TL_SIM_H
#define TL_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "belt_model.h"
#include "modbus_profile.h"

/* Faults that can be injected (--fault NAME, or NAME on the control socket). */
enum {
	SIM_F_NO_REPLY = 1u << 0,   /* requests are lost: no processing, no reply */
	SIM_F_BAD_CRC = 1u << 1,    /* replies are corrupted (Modbus: CRC; Trackmaster: digits) */
	SIM_F_LATE_REPLY = 1u << 2, /* replies leave late_ms late */
	SIM_F_DISCONNECT = 1u << 3, /* a silent line: nothing in or out; TCP drops connections */
};
/* `unplug` / `plug` (the USB-serial adapter pulled out and back) act on treadsim's pty
 * channels, not on the device: they are handled in treadsim.c. */

enum sim_proto { SIM_MODBUS, SIM_TRACKMASTER };

struct sim_dev {
	enum sim_proto proto;
	struct tl_belt belt;
	double time_scale;
	int64_t real0_ms;          /* CLOCK_MONOTONIC ms at start */
	/* communication watchdog */
	uint16_t watchdog_power_on_ms; /* the register's value after a (re)start; 0 = off */
	uint16_t watchdog_ms;          /* Modbus: current setting; Trackmaster: 500 when armed */
	bool watchdog_armed;           /* Trackmaster: started with A0 */
	bool watchdog_tripped;
	int64_t last_rx_real_ms;       /* last request addressed to us */
	/* state */
	bool key_pulled;
	int drive_fault_code;          /* 0: none */
	uint16_t boot_count;
	int64_t homing_until_real_ms;  /* after a restart the lift homes; starts are ignored */
	bool ignore_starts;            /* Trackmaster: a start arrived while homing */
	bool unarmed_start;            /* Trackmaster: started with A1 */
	bool echo;                     /* Trackmaster AC */
	uint16_t command_word;         /* Modbus: last word written to `command` */
	double setpoint_kmh;           /* the speed setpoint as written (the belt model
					* forgets its target while stopped) */
	/* the virtual patient: presses at these sim seconds after the belt first started */
	double onset_s, max_s;         /* < 0: never */
	bool belt_started;
	int64_t belt_start_sim_ms;
	bool pressed[2];               /* onset, max already pressed */
	int64_t button_until_real_ms[2];
	int box_pending[2];            /* bytes the button box still has to send */
	/* wire faults */
	unsigned wire_faults;
	int late_ms;
};

/* sim_device.c */
void sim_dev_init(struct sim_dev *d, enum sim_proto proto, int64_t real_ms, double time_scale);
int64_t sim_dev_sim_ms(const struct sim_dev *d, int64_t real_ms);
/* Advances the model to real_ms: belt, watchdog, homing, patient. */
void sim_dev_advance(struct sim_dev *d, int64_t real_ms);
/* A request reached the device (feeds its watchdog). */
void sim_dev_heard(struct sim_dev *d, int64_t real_ms);
bool sim_dev_start(struct sim_dev *d, int64_t real_ms, bool armed);
void sim_dev_set_speed(struct sim_dev *d, double kmh, int64_t real_ms);
void sim_dev_stop(struct sim_dev *d, int64_t real_ms);
void sim_dev_estop(struct sim_dev *d, int64_t real_ms);
void sim_dev_restart(struct sim_dev *d, int64_t real_ms);
/* Applies a control / --fault command; returns 0 or -1 with msg set. */
int sim_dev_control(struct sim_dev *d, const char *line, int64_t real_ms, char *msg, size_t n);
/* Button bits now held: bit 0 onset, bit 1 max. */
uint16_t sim_dev_button_bits(const struct sim_dev *d, int64_t real_ms);
bool sim_dev_homing(const struct sim_dev *d, int64_t real_ms);
/* The belt is stopped by a power loss / drive trip: Trackmaster reports 999.9. */
bool sim_dev_speed_failed(const struct sim_dev *d);

/* sim_modbus.c: handles one PDU (function code first); writes the reply PDU (a normal
 * reply or an exception) into resp and returns its length. */
size_t sim_modbus_pdu(struct sim_dev *d, const struct tl_modbus_profile *p, const uint8_t *req,
		      size_t len, uint8_t *resp, int64_t real_ms);
uint16_t sim_modbus_crc16(const uint8_t *buf, size_t len);
/* RTU: the length of the request frame at the start of buf, 0 if more bytes are needed,
 * -1 if the function code is unknown (the caller waits for silence). */
int sim_rtu_request_len(const uint8_t *buf, size_t len);

/* sim_trackmaster.c: consumes bytes of one command from buf; writes the reply. Returns
 * the bytes used (0: need more), the reply length in *resp_len. */
size_t sim_trackmaster_handle(struct sim_dev *d, const uint8_t *buf, size_t len, uint8_t *resp,
			      size_t *resp_len, int64_t real_ms);

/* ---- the cuff (sim_cuff.c): an inflator on its own wire, a virtual patient's systolic
 * pressures and a Doppler "signal back" that presses the foot switch ---------------- */

#include "cuff_profile.h"

#define SIM_CUFF_SITES 12
#define SIM_CUFF_MINUTES 8

struct sim_cuff_site {
	char name[16];
	double rest;
	double post[SIM_CUFF_MINUTES]; /* at the scenario's minutes */
};

struct sim_cuff_scenario {
	unsigned seed;
	int reaction_ms, jitter_ms;
	int nminutes;
	int minutes[SIM_CUFF_MINUTES];
	int nsites;
	struct sim_cuff_site site[SIM_CUFF_SITES];
};

enum sim_cuff_mode { CUFF_IDLE, CUFF_INFLATE, CUFF_HOLD, CUFF_DEFLATE, CUFF_VENT };

struct sim_cuff {
	struct tl_cuff_profile prof;
	struct sim_cuff_scenario sc;
	FILE *log;
	bool commanded;          /* a Modbus wire: the watchdog applies */
	int watchdog_ms;         /* vent when nothing was heard this long while inflated */
	enum sim_cuff_mode mode;
	double mmhg;
	double setpoint, rate;   /* as written */
	uint16_t command;
	int64_t last_us;         /* the model's time */
	int64_t heard_us;        /* last request */
	int64_t above_since_us;  /* above venous pressure since; -1: not */
	bool manual;             /* a technician's cycle (`cuff-cycle`): vents after the press */
	double manual_ceiling;   /* what the technician inflates to (the last cuff-cycle) */
	double inflate_rate;     /* the pump, mmHg/s */
	bool stall;              /* the deflation valve is stuck: a deflation holds */
	bool doppler_off;        /* no signal back: nobody presses */
	/* follow mode (--cuff-follow): the technician walks the scenario's sites and phases */
	bool follow;
	bool follow_marked;      /* pressed in this cycle: move on once the cuff is down */
	bool follow_done;        /* past the last phase */
	int64_t follow_due_us;   /* the next site's press (Modbus) or cycle (text); -1: none */
	int site;                /* where the cuff is */
	int phase;               /* -1 rest, else the index into minutes */
	bool occluded;           /* the cuff was above the true pressure: no Doppler signal */
	int64_t press_due_us;    /* -1: none */
	double press_true;
	int box_pending;         /* foot switch presses the button box still has to send */
	int presses, vents;
	uint64_t rng;
	/* text output */
	int text_period_ms;
	char text_format[64];
	int64_t next_line_us;
	int garble;              /* lines still to garble */
	bool stuck;              /* the printed value is frozen */
	double stuck_mmhg;
	unsigned status_vented;  /* bits of why the device vented by itself (status register) */
};

/* Loads a scenario file; 0, or -1 with why = "file:line: reason". Site names are the
 * daemon's pressure sites (brachial-left, brachial-right, pt-left, dp-left, pt-right,
 * dp-right, toe-left, toe-right), so both speak of the same site. */
int sim_cuff_scenario_load(const char *path, struct sim_cuff_scenario *sc, char *why, size_t n);
void sim_cuff_init(struct sim_cuff *k, int64_t t_us);
/* A request reached the cuff (feeds its watchdog). */
void sim_cuff_heard(struct sim_cuff *k, int64_t t_us);
/* Advances the pressure, the Doppler and the watchdogs to t_us; fills line (cap bytes) with
 * a text line to send when one is due (returns its length, 0: none). */
size_t sim_cuff_advance(struct sim_cuff *k, int64_t t_us, bool text, char *line, size_t cap);
/* The cuff's Modbus PDU, as sim_modbus_pdu. */
size_t sim_cuff_pdu(struct sim_cuff *k, const uint8_t *req, size_t len, uint8_t *resp, int64_t t_us);
/* `cuff-...` control commands: 1 with the reply in msg (rc 0 or -1 in *rc), 0: not one. */
int sim_cuff_control(struct sim_cuff *k, const char *line, int64_t t_us, char *msg, size_t n, int *rc);
/* The next time the cuff needs the loop (a press or a follow step due), INT64_MAX if none. */
int64_t sim_cuff_next_due(const struct sim_cuff *k);

#endif
