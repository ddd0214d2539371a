#include "sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sim {
	struct tl_belt belt;
	bool started_once;
	int64_t belt_start_ms;  /* first start: the virtual patient's time zero */
	double onset_s, max_s;  /* < 0: no press */
	bool onset_done, max_done;
	bool device_stopped;
	char why[96];
	double time_scale; /* the model runs this many times faster than the caller's clock */
};

/* The model's time for the caller's (real) time. */
static int64_t model_ms(const struct sim *s, int64_t now_ms)
{
	return (int64_t)llround((double)now_ms * s->time_scale);
}

#define NO_PRESS -1.0 /* a patient time not set: outside the keys' range */

const struct tl_driver_option tl_sim_options[] = {
	{.section = "sim", .key = "patient_onset_s", .kind = TL_OPT_REAL, .min = 0, .max = 14400,
	 .none = NO_PRESS, .help = "the virtual patient presses onset this long after the belt started (s)",
	 TL_OPT_AT(struct tl_sim_opts, patient_onset_s)},
	{.section = "sim", .key = "patient_max_s", .kind = TL_OPT_REAL, .min = 0, .max = 14400,
	 .none = NO_PRESS, .help = "the virtual patient presses max this long after the belt started (s)",
	 TL_OPT_AT(struct tl_sim_opts, patient_max_s)},
	{0},
};

static int sim_open(struct tl_treadmill *tm, const void *opts_)
{
	const struct tl_sim_opts *opts = opts_;
	struct sim *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(tm->err, sizeof tm->err, "sim: out of memory");
		return -1;
	}
	tl_belt_init(&s->belt, &tl_belt_default_params, 0);
	s->time_scale = tm->time_scale > 0 ? tm->time_scale : 1.0;
	s->onset_s = opts ? opts->patient_onset_s : NO_PRESS;
	s->max_s = opts ? opts->patient_max_s : NO_PRESS;
	tm->priv = s;
	return 0;
}

static void sim_close(struct tl_treadmill *tm)
{
	free(tm->priv);
	tm->priv = NULL;
}

static int sim_start(struct tl_treadmill *tm, int64_t now_ms)
{
	struct sim *s = tm->priv;
	if (s->device_stopped) {
		snprintf(tm->err, sizeof tm->err, "sim: start refused: %s", s->why);
		return -1;
	}
	if (s->belt.estopped)
		tl_belt_reset(&s->belt, model_ms(s, now_ms));
	tl_belt_start(&s->belt, model_ms(s, now_ms));
	if (!s->started_once) {
		s->started_once = true;
		s->belt_start_ms = model_ms(s, now_ms);
	}
	return 0;
}

static int sim_stop(struct tl_treadmill *tm, int64_t now_ms)
{
	struct sim *s = tm->priv;
	tl_belt_stop(&s->belt, model_ms(s, now_ms));
	return 0;
}

static int sim_estop(struct tl_treadmill *tm, int64_t now_ms)
{
	struct sim *s = tm->priv;
	/* The model decelerates at its e-stop rate; the next operator start clears it. */
	tl_belt_estop(&s->belt, model_ms(s, now_ms));
	return 0;
}

static int sim_set_speed(struct tl_treadmill *tm, double kmh, int64_t now_ms, double *sent)
{
	struct sim *s = tm->priv;
	tl_belt_set_speed(&s->belt, kmh, model_ms(s, now_ms));
	if (sent)
		*sent = s->belt.target_speed_kmh;
	return 0;
}

static int sim_set_grade(struct tl_treadmill *tm, double pct, int64_t now_ms, double *sent)
{
	struct sim *s = tm->priv;
	tl_belt_set_grade(&s->belt, pct, model_ms(s, now_ms));
	if (sent)
		*sent = s->belt.target_grade_pct;
	return 0;
}

static int sim_poll(struct tl_treadmill *tm, int64_t now_ms, struct tl_feedback *fb)
{
	struct sim *s = tm->priv;
	tl_belt_advance(&s->belt, model_ms(s, now_ms));
	memset(fb, 0, sizeof *fb);
	fb->valid = true;
	fb->speed_kmh = s->belt.speed_kmh;
	fb->grade_pct = s->belt.grade_pct;
	fb->belt_running = s->belt.running;
	fb->device_stopped = s->device_stopped;
	if (s->device_stopped) {
		fb->faults = TL_FAULT_ESTOP;
		snprintf(fb->detail, sizeof fb->detail, "%s", s->why);
	}
	return 0;
}

/* The caller's ms at which the belt had run at_s seconds of model time. */
static int64_t caller_ms(const struct sim *s, double at_s)
{
	return llround(((double)s->belt_start_ms + at_s * 1000.0) / s->time_scale);
}

static int patient_poll(struct tl_button *b, int64_t now_ms, struct tl_press *out, int max)
{
	struct sim *s = ((struct tl_treadmill *)b->priv)->priv;
	if (!s->started_once || max < 1)
		return 0;
	double t_s = (double)(model_ms(s, now_ms) - s->belt_start_ms) / 1000.0;
	int n = 0;
	/* The patient pressed at a known moment: the press carries it (in the caller's
	 * clock), however late the poll that finds it, as a button box's own timestamp
	 * would; a time-scaled run is then as exact as a real-time one. */
	if (s->onset_s >= 0 && !s->onset_done && t_s >= s->onset_s - 1e-9) {
		s->onset_done = true;
		out[n++] = (struct tl_press){.kind = TL_PRESS_ONSET, .t_ms = caller_ms(s, s->onset_s),
					     .source = b->ops->name};
	}
	if (n < max && s->max_s >= 0 && !s->max_done && t_s >= s->max_s - 1e-9) {
		s->max_done = true;
		out[n++] = (struct tl_press){.kind = TL_PRESS_MAX, .t_ms = caller_ms(s, s->max_s),
					     .source = b->ops->name};
	}
	return n;
}

static void patient_close(struct tl_button *b)
{
	b->priv = NULL; /* the treadmill owns the state */
}

static const struct tl_button_ops patient_ops = {
	.name = "virtual-patient",
	.poll = patient_poll,
	.close = patient_close,
};

int tl_sim_button_open(struct tl_button *b, struct tl_treadmill *tm)
{
	/* tm->priv must be a sim treadmill's (a test may wrap its ops table). */
	if (!tm->priv) {
		snprintf(b->err, sizeof b->err, "the virtual patient needs an open sim treadmill");
		return -1;
	}
	b->ops = &patient_ops;
	b->priv = tm;
	return 0;
}

/* The daemon's virtual patient: only when the options set a press. */
static int sim_patient_button(struct tl_button *b, struct tl_treadmill *tm)
{
	const struct sim *s = tm->priv;
	if (s && s->onset_s < 0 && s->max_s < 0)
		return 0;
	return tl_sim_button_open(b, tm) ? -1 : 1;
}

void tl_sim_device_stop(struct tl_treadmill *tm, int64_t now_ms, const char *why)
{
	struct sim *s = tm->priv;
	tl_belt_estop(&s->belt, model_ms(s, now_ms));
	s->device_stopped = true;
	snprintf(s->why, sizeof s->why, "%s", why);
}

const struct tl_belt *tl_sim_belt(const struct tl_treadmill *tm)
{
	return &((const struct sim *)tm->priv)->belt;
}

const struct tl_treadmill_ops tl_sim_treadmill_ops = {
	.name = "sim",
	.flags = TL_DRV_SIMULATED,
	.options = tl_sim_options,
	.opts_size = sizeof(struct tl_sim_opts),
	.open = sim_open,
	.close = sim_close,
	.start = sim_start,
	.stop = sim_stop,
	.emergency_stop = sim_estop,
	.set_speed = sim_set_speed,
	.set_grade = sim_set_grade,
	.poll = sim_poll,
	.keepalive = NULL, /* nothing to feed */
	.patient_button = sim_patient_button,
};
