/* treadlab dry-run NAME [--onset-at S] [--max-at S] [--json]
 *
 * Runs the real engine (session, safety guard, endpoints) in virtual time at the
 * daemon's tick rate against the simulated treadmill (belt acceleration and lift rate
 * limits), with a virtual patient who presses onset and max at the given seconds after
 * the start, through the simulator's patient-button path. Prints the timeline and the
 * endpoints; with --json also the model's own distance integral for comparison. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "engine.h"
#include "json_out.h"
#include "motion.h"
#include "protocol_files.h"
#include "sim.h"
#include "tick.h"
#include "units.h"

/* The daemon's defaults ([daemon] tick_hz, [buttons] poll_ms): the dry run runs the
 * daemon's own control sequence (src/control/tick.h) at its rates. */
#define TICK_MS 100
#define BUTTON_POLL_MS 10
#define AFTER_WALK_MS (15 * 60 * 1000) /* virtual time allowed for the belt to stop */

struct dry_run {
	struct tl_engine engine;
	struct tl_treadmill tm;
	struct tl_button patient;
	struct tl_actuator act;
	struct tl_clock clock;
	int64_t now_ns;          /* the virtual clock */
	json_t *events;
	double model_icd_m, model_acd_m;
	bool json;
};

static int64_t virtual_ns(void *ctx)
{
	return ((struct dry_run *)ctx)->now_ns;
}

static void on_event(void *ctx, const struct tl_event *ev, const char *operator_id)
{
	struct dry_run *d = ctx;
	(void)operator_id;
	const struct tl_belt *b = tl_sim_belt(&d->tm);
	/* Presses are handled right after the model was read at the same time, so the
	 * model's distance now is its distance at the press. */
	if (ev->kind == TL_EV_ONSET && !strcmp(ev->detail, "first"))
		d->model_icd_m = b->distance_m;
	if (ev->kind == TL_EV_WALK_END && strcmp(ev->detail, "rest"))
		d->model_acd_m = b->distance_m;
	json_array_append_new(d->events, tl_json_event(ev));
	if (!d->json)
		printf("%9.1f s  %-13s %-16s %s\n", (double)ev->t_ms / 1000.0,
		       tl_event_kind_name(ev->kind), ev->source, ev->detail);
}

/* A press after walking ended is the patient's, not an error of the run; a driver
 * fault ends the run with its own end reason. */
static void on_log(void *ctx, int priority, const char *msg)
{
	struct dry_run *d = ctx;
	(void)priority;
	if (!d->json)
		printf("%9.1f s  (%s)\n", (double)tl_clock_test_ms(&d->clock) / 1000.0, msg);
}

static const struct tl_tick_hooks dry_run_hooks = {
	.event = on_event,
	.log = on_log,
};

int cmd_dry_run(int argc, char **argv)
{
	const char *name = NULL;
	double onset_s = -1, max_s = -1;
	struct dry_run d = {0};
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			d.json = true;
		} else if (!strcmp(argv[i], "--onset-at") || !strcmp(argv[i], "--max-at")) {
			double *dst = argv[i][2] == 'o' ? &onset_s : &max_s;
			if (i + 1 >= argc || cli_parse_double(argv[i + 1], 0, 4 * 3600, dst))
				return cli_usage("dry-run: %s needs seconds between 0 and 14400", argv[i]);
			i++;
		} else if (argv[i][0] == '-') {
			return cli_usage("dry-run: unknown option '%s'", argv[i]);
		} else if (!name) {
			name = argv[i];
		} else {
			return cli_usage("dry-run: unexpected argument '%s'", argv[i]);
		}
	}
	if (!name)
		return cli_usage("dry-run: expected a protocol name (see 'treadlab protocols')");

	struct tl_err err;
	struct tl_protocol p;
	const struct tl_device_caps caps = {.max_speed_kmh = tl_belt_default_params.max_speed_kmh,
					    .max_grade_pct = tl_belt_default_params.max_grade_pct};
	if (tl_protocol_load_name(NULL, name, &caps, &p, &err))
		return cli_fail("%s", err.msg);

	/* The dry run is the simulator by definition; its options through the sim table. */
	struct tl_driver_optbuf opts;
	d.tm.ops = &tl_sim_treadmill_ops;
	tl_driver_opts_defaults(d.tm.ops, &opts);
	const char *const keys[] = {"patient_onset_s", "patient_max_s"};
	const double at_s[] = {onset_s, max_s};
	for (int k = 0; k < 2; k++) {
		char v[32], why[300];
		snprintf(v, sizeof v, "%.17g", at_s[k]);
		if (at_s[k] >= 0 && tl_driver_opts_set(d.tm.ops, &opts, "sim", keys[k], v, why, sizeof why))
			return cli_fail("dry-run: %s", why);
	}
	if (d.tm.ops->open(&d.tm, &opts))
		return cli_fail("%s", d.tm.err);
	tl_actuator_init(&d.act, &d.tm);
	tl_sim_button_open(&d.patient, &d.tm);
	struct tl_limits lim = tl_limits_default;
	lim.max_speed_kmh = caps.max_speed_kmh;
	lim.max_grade_pct = caps.max_grade_pct;
	tl_engine_init(&d.engine, &lim, NULL, 0);
	d.clock = (struct tl_clock){.mono_ns = virtual_ns, .ctx = &d, .time_scale = 1.0};
	bool open = true;
	struct tl_tick t = {
		.engine = &d.engine, .tm = &d.tm, .act = &d.act, .buttons = &d.patient,
		.n_buttons = 1, .devices_open = &open, .clock = &d.clock, .hooks = &dry_run_hooks,
		.ctx = &d, .period_ns = TICK_MS * 1000000LL, .button_poll_ns = BUTTON_POLL_MS * 1000000LL,
	};
	d.events = json_array();
	if (!d.json)
		printf("dry run of %s (%s), virtual time, %d ms ticks\n", p.name, p.title, TICK_MS);

	int rc = 0;
	struct tl_feedback fb;
	d.tm.ops->poll(&d.tm, 0, &fb);
	if (tl_engine_start(&d.engine, 0, &p, &fb, "operator", &err)) {
		rc = cli_fail("%s", err.msg);
		goto out;
	}
	tl_tick_init(&t);
	t.deadline_ns = d.now_ns; /* the start falls on a tick, as the virtual patient assumes */
	tl_tick_drain(&t, NULL);
	int64_t limit_ns = (p.max_duration_ms + AFTER_WALK_MS) * 1000000LL;
	while (d.now_ns <= limit_ns) {
		int64_t wake;
		enum tl_tick_due due = tl_tick_plan(&t, &wake);
		d.now_ns = wake; /* nothing else happens in between: no commands, no box bytes */
		tl_tick_run_due(&t, due, wake);
		if (d.engine.session.state == TL_STATE_RECOVERY ||
		    tl_state_terminal(d.engine.session.state))
			break;
	}

	const struct tl_session *s = &d.engine.session;
	const struct tl_endpoints *ep = &s->ep;
	const struct tl_belt *belt = tl_sim_belt(&d.tm);
	if (d.json) {
		json_t *o = json_pack("{s:s, s:s, s:s}", "protocol", p.name, "state",
				      tl_state_name(s->state), "end_reason",
				      tl_end_reason_name(s->end_reason));
		tl_json_add_endpoints(o, ep, s->now_ms);
		json_object_set_new(o, "events", d.events);
		d.events = NULL;
		json_object_set_new(
			o, "model",
			json_pack("{s:o, s:o, s:o}", "icd_m",
				  ep->cot_ms < 0 ? json_null() : tl_json_round(d.model_icd_m, 2),
				  "acd_m", ep->pwt_ms < 0 ? json_null() : tl_json_round(d.model_acd_m, 2),
				  "distance_m", tl_json_round(belt->distance_m, 2)));
		tl_json_print(o);
		json_decref(o);
	} else {
		printf("\nend reason      %s\n", tl_end_reason_name(s->end_reason));
		if (ep->cot_ms >= 0)
			printf("COT             %.1f s   ICD %.1f m\n", ep->cot_ms / 1000.0, ep->icd_m);
		else
			printf("COT             not reached\n");
		printf("PWT             %.1f s   ACD %.1f m\n", ep->pwt_ms / 1000.0, ep->acd_m);
		printf("walking time    %.1f s\ndistance        %.1f m\n",
		       tl_endpoints_walking_ms(ep, s->now_ms) / 1000.0, ep->distance_m);
	}
out:
	json_decref(d.events);
	tl_button_close(&d.patient);
	d.tm.ops->close(&d.tm);
	return rc;
}
