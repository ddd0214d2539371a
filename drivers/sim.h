/* sim.h - the in-process simulated treadmill (driver "sim"), the default.
 *
 * The belt and lift follow src/core/belt_model (the same model as the dry run and
 * treadsim). An optional virtual patient presses onset and max at given seconds after
 * the belt was started, through the patient-button path (tl_sim_button_open).
 * Callers pass their real clock; with tm->time_scale K the model (belt, lift, patient)
 * runs K times faster, as a simulator may and a treadmill may not. Its options are the
 * [sim] section's patient keys (tl_sim_options). */
#ifndef TL_SIM_H
#define TL_SIM_H

#include <stdbool.h>

#include "belt_model.h"
#include "buttons.h"
#include "treadmill.h"

extern const struct tl_treadmill_ops tl_sim_treadmill_ops;

/* The sim driver's options (its table: tl_sim_options). */
struct tl_sim_opts {
	double patient_onset_s; /* < 0: the virtual patient does not press onset */
	double patient_max_s;   /* < 0: nor max */
};
extern const struct tl_driver_option tl_sim_options[];

/* The virtual patient as a patient-button source ("virtual-patient") on an open sim
 * treadmill: each press once, at the first poll at or after its time. */
int tl_sim_button_open(struct tl_button *b, struct tl_treadmill *tm);

/* Fault injection for tests and rehearsal: the device stops the belt by itself. */
void tl_sim_device_stop(struct tl_treadmill *tm, int64_t now_ms, const char *why);

/* The model, for the dry run's checks (distance integral). */
const struct tl_belt *tl_sim_belt(const struct tl_treadmill *tm);

#endif
