/* cuffd.c - the cuff thread (cuffd.h).
 *
 * Everything the thread decides it decides alone; other threads hand it requests, foot
 * switch presses and an abort under mu and wake it through an eventfd. The state status
 * shows is written under mu by the thread only, in short sections: no device I/O is done
 * holding mu, so the live stream never waits for a Modbus timeout. */
#include "cuffd.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "cuff.h"
#include "cuff_source.h"
#include "daemon.h"
#include "tl_log.h"
#include "writer.h"

/* Samples kept for the mark: 20 s at the default 50 ms. */
#define RING 400
/* A reading older than this is not shown as the cuff's pressure. */
#define STALE_MS 1000
/* A source that failed is opened again this often. */
#define REOPEN_MS 1000
/* While deflating, a pressure that has not fallen 1 mmHg in this long is stuck. */
#define STUCK_MS 3000
/* A vent is sent again this often until the cuff is down (a lost write is repeated). */
#define VENT_REPEAT_MS 500
/* A press is a mark only while the cuff falls at least this fast (mmHg/s): a press on
 * a held or rising cuff is not a "signal back". */
#define MIN_FALL_MMHG_S 0.3
/* The most presses waiting for the thread. */
#define FEET 8

struct foot {
	int64_t t_ms;
	char source[32];
};

struct tl_cuffd {
	struct tl_daemon *d;
	const struct tl_config *cfg;
	pthread_t th;
	int efd;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* handed in (under mu) */
	bool stop;
	bool abort_pending;
	char abort_why[96];
	struct foot feet[FEET];
	int n_feet;
	bool req_waiting;              /* req holds a request not yet taken */
	struct tl_cuffd_req req;       /* a copy: the caller may give up waiting */
	uint64_t req_seq, done_seq;
	int req_status;
	char req_msg[256];

	/* the thread's; what status shows is written under mu */
	struct tl_cuff src;
	bool open, can_inflate;
	int64_t next_open_ms, next_sample_ms, last_vent_ms;
	struct tl_cuff_cycle cyc;
	struct tl_cuff_sample ring[RING];
	size_t n, head; /* ring[(head + i) % RING], i < n, oldest first */
	bool mark_pending;
	struct foot mark;
	int64_t fall_ms;     /* deflating: when the pressure last fell by 1 mmHg */
	double fall_mmhg;
	bool stop_seen;      /* the daemon is stopping: vented once */
	int64_t counted_ms;  /* the venting last counted (its cycle state_ms) */
	enum tl_cuff_state seen_state; /* the cycle's state status last showed */
	char said_why[160];  /* the vent reason last said */

	/* status (under mu) */
	bool connected;
	const char *state;   /* the cycle's state's name, or "manual" */
	char error[256];
	bool have_mmhg;
	double mmhg;
	int64_t mmhg_ms;
	bool series;
	int64_t test_id;
	char phase[8];
	double minute;
	int cur;              /* index in cfg->cuff_sites */
	bool done[TL_CUFF_SITES_MAX];
	int order[TL_CUFF_SITES_MAX], n_done;
	char operator_id[64];
	bool have_last;
	struct {
		int64_t test_id;
		char phase[8], site[24];
		double minute, mmhg, rate;
		int interval_ms;
	} last;
	unsigned long recorded, vents;
	char message[256];
};

static int64_t now_ms(const struct tl_cuffd *k)
{
	return tl_clock_real_ms(&k->d->clock);
}

static void say(struct tl_cuffd *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct tl_cuffd *k, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&k->mu);
	snprintf(k->message, sizeof k->message, "%s", msg);
	pthread_mutex_unlock(&k->mu);
	TL_INFO("cuff: %s", msg);
}

static void set_error(struct tl_cuffd *k, const char *msg)
{
	/* cut to what status holds (a source's message may be longer) */
	size_t n = strnlen(msg, sizeof k->error - 1);
	pthread_mutex_lock(&k->mu);
	bool changed = strncmp(k->error, msg, sizeof k->error) != 0;
	memcpy(k->error, msg, n);
	k->error[n] = '\0';
	pthread_mutex_unlock(&k->mu);
	if (changed && *msg)
		TL_WARNING("cuff: %s", msg);
}

static const char *site_name(const struct tl_cuffd *k, int i)
{
	return i >= 0 && i < k->cfg->cuff_n_sites ? k->cfg->cuff_sites[i] : NULL;
}

/* ---- the source ------------------------------------------------------------------------ */

static void do_vent(struct tl_cuffd *k, int64_t now)
{
	if (!k->open || !k->can_inflate)
		return;
	if (k->src.ops->vent(&k->src, now)) {
		char msg[300];
		snprintf(msg, sizeof msg, "cannot vent: %s", k->src.err);
		set_error(k, msg);
	}
	k->last_vent_ms = now;
	/* one vent counted per venting the cycle entered, however often it is sent */
	if (k->cyc.state == TL_CUFF_VENTING && k->cyc.state_ms != k->counted_ms) {
		k->counted_ms = k->cyc.state_ms;
		pthread_mutex_lock(&k->mu);
		k->vents++;
		pthread_mutex_unlock(&k->mu);
	}
}

/* Vents (a cycle under way or not) and says why. */
static void vent_because(struct tl_cuffd *k, int64_t now, const char *why)
{
	if (k->can_inflate) {
		tl_cuff_cycle_abort(&k->cyc, now, why);
		snprintf(k->said_why, sizeof k->said_why, "%s", k->cyc.why);
		do_vent(k, now);
	}
	if (k->mark_pending) {
		k->mark_pending = false;
		say(k, "vented (%s); the press before it is not recorded", why);
	} else {
		say(k, "vented: %s", why);
	}
}

/* The source failed: vent what can be vented, close it, open it again later. */
static void source_failed(struct tl_cuffd *k, int64_t now, const char *err)
{
	char msg[300];
	snprintf(msg, sizeof msg, "%s", err);
	if (k->can_inflate && k->cyc.state != TL_CUFF_IDLE)
		vent_because(k, now, "the cuff source failed");
	tl_cuff_close(&k->src); /* vents once more where it can */
	k->open = false;
	k->mark_pending = false;
	k->next_open_ms = now + REOPEN_MS;
	tl_cuff_cycle_init(&k->cyc, &k->cfg->cuff_cycle);
	pthread_mutex_lock(&k->mu);
	k->connected = false;
	k->have_mmhg = false;
	pthread_mutex_unlock(&k->mu);
	set_error(k, msg);
}

static void try_open(struct tl_cuffd *k, int64_t now)
{
	if (tl_cuff_open(&k->src, k->cfg->cuff_ops, &k->cfg->cuff_opts)) {
		char msg[300];
		snprintf(msg, sizeof msg, "%s", k->src.err);
		k->next_open_ms = now + REOPEN_MS;
		set_error(k, msg);
		return;
	}
	k->open = true;
	k->n = k->head = 0;
	k->next_sample_ms = now;
	tl_cuff_cycle_init(&k->cyc, &k->cfg->cuff_cycle);
	/* Whatever a crashed daemon or an earlier session left: down first. */
	if (k->can_inflate)
		do_vent(k, now);
	pthread_mutex_lock(&k->mu);
	k->connected = true;
	k->error[0] = '\0';
	pthread_mutex_unlock(&k->mu);
	TL_INFO("cuff: %s connected", k->cfg->cuff_source);
}

static void act(struct tl_cuffd *k, enum tl_cuff_action a, int64_t now)
{
	if (!k->open || !k->can_inflate)
		return;
	int rc = 0;
	switch (a) {
	case TL_CUFF_DO_NOTHING:
		return;
	case TL_CUFF_DO_INFLATE:
		rc = k->src.ops->inflate_to(&k->src, k->cfg->cuff_cycle.ceiling_mmhg, now);
		k->fall_ms = -1;
		break;
	case TL_CUFF_DO_DEFLATE:
		rc = k->src.ops->deflate_at(&k->src, k->cfg->cuff_cycle.rate_mmhg_s, now);
		k->fall_ms = now;
		k->fall_mmhg = k->cyc.last_mmhg;
		break;
	case TL_CUFF_DO_VENT:
		/* the cycle asks every step until the cuff is down; the wire hears it at once,
		 * then again every VENT_REPEAT_MS (a lost write is repeated) */
		if (k->cyc.state == TL_CUFF_VENTING && k->counted_ms == k->cyc.state_ms &&
		    now - k->last_vent_ms < VENT_REPEAT_MS)
			return;
		do_vent(k, now);
		return;
	}
	if (rc) {
		char msg[300];
		snprintf(msg, sizeof msg, "%s", k->src.err);
		source_failed(k, now, msg);
	}
}

/* ---- the mark ---------------------------------------------------------------------------- */

static void advance(struct tl_cuffd *k)
{
	/* the next site of the order not yet done, after the current one (wrapping) */
	int n = k->cfg->cuff_n_sites;
	for (int step = 1; step <= n; step++) {
		int i = (k->cur + step) % n;
		if (!k->done[i]) {
			k->cur = i;
			return;
		}
	}
	k->series = false; /* every site is done */
}

static void record(struct tl_cuffd *k, const struct tl_cuff_mark *m)
{
	const char *site = site_name(k, k->cur);
	struct tl_store_cuff_meta meta = {.interval_ms = m->interval_ms,
					  .deflation_mmhg_s = m->rate_mmhg_s};
	char peer[64];
	snprintf(peer, sizeof peer, "foot switch (%s)", k->mark.source);
	double mmhg = round(m->mmhg * 10.0) / 10.0;
	tl_writer_pressure_cuff(k->d->writer, k->test_id, k->phase, k->minute, site, mmhg, &meta,
				k->cfg->cuff_source, k->operator_id, peer);
	tl_writer_recompute(k->d->writer, k->test_id);
	pthread_mutex_lock(&k->mu);
	k->have_last = true;
	k->last.test_id = k->test_id;
	snprintf(k->last.phase, sizeof k->last.phase, "%s", k->phase);
	snprintf(k->last.site, sizeof k->last.site, "%s", site);
	k->last.minute = k->minute;
	k->last.mmhg = mmhg;
	k->last.rate = m->rate_mmhg_s;
	k->last.interval_ms = m->interval_ms;
	k->recorded++;
	if (!k->done[k->cur]) {
		k->done[k->cur] = true;
		k->order[k->n_done++] = k->cur;
	}
	advance(k);
	bool more = k->series;
	const char *next = more ? site_name(k, k->cur) : NULL;
	snprintf(k->message, sizeof k->message, "%s %.1f mmHg recorded (samples %d ms apart, "
		 "deflating %.1f mmHg/s)%s%s", site, mmhg, m->interval_ms, m->rate_mmhg_s,
		 more ? "; next " : "; the series is done", more ? next : "");
	pthread_mutex_unlock(&k->mu);
	TL_INFO("cuff: test %lld %s %s %.1f mmHg (interval %d ms, %.2f mmHg/s)",
		(long long)k->test_id, k->phase, site, mmhg, m->interval_ms, m->rate_mmhg_s);
}

/* A press waits for the first sample after it; then it is a reading or a clear refusal. */
static void resolve_mark(struct tl_cuffd *k, int64_t now)
{
	if (!k->mark_pending)
		return;
	const struct tl_cuff_sample *newest = k->n ? &k->ring[(k->head + k->n - 1) % RING] : NULL;
	if (!newest || newest->t_ms <= k->mark.t_ms) {
		if (now - k->mark.t_ms > k->cfg->cuff_max_gap_ms + STALE_MS) {
			k->mark_pending = false;
			say(k, "foot switch at %s not recorded: no cuff reading came after it",
			    site_name(k, k->cur));
		}
		return;
	}
	k->mark_pending = false;
	struct tl_cuff_sample s[RING];
	for (size_t i = 0; i < k->n; i++)
		s[i] = k->ring[(k->head + i) % RING];
	struct tl_cuff_mark m;
	struct tl_err err;
	if (tl_cuff_mark_at(s, k->n, k->mark.t_ms, k->cfg->cuff_max_gap_ms, &m, &err)) {
		say(k, "foot switch at %s not recorded: %s", site_name(k, k->cur), err.msg);
	} else if (!(m.rate_mmhg_s >= MIN_FALL_MMHG_S)) {
		say(k, "foot switch at %s not recorded: the cuff was not deflating (%.1f mmHg/s "
		    "at %.1f mmHg)", site_name(k, k->cur), m.rate_mmhg_s, m.mmhg);
	} else if (!(m.mmhg > k->cfg->cuff_cycle.venous_mmhg)) {
		say(k, "foot switch at %s not recorded: %.1f mmHg is the cuff deflated, not a "
		    "pressure", site_name(k, k->cur), m.mmhg);
	} else if (!(m.mmhg <= TL_CUFF_MAX_MMHG)) {
		say(k, "foot switch at %s not recorded: %.1f mmHg is above %g mmHg",
		    site_name(k, k->cur), m.mmhg, TL_CUFF_MAX_MMHG);
	} else {
		record(k, &m);
	}
	/* the reading is taken (or refused): the cuff goes down */
	if (k->can_inflate && k->cyc.state == TL_CUFF_DEFLATING)
		act(k, tl_cuff_cycle_mark(&k->cyc, now), now);
}

static void foot(struct tl_cuffd *k, const struct foot *f, int64_t now)
{
	if (!k->series) {
		say(k, "foot switch (%s) ignored: no series (start one on the page or with "
		    "treadlab cuff series)", f->source);
		return;
	}
	if (!k->open) {
		say(k, "foot switch (%s) ignored: the cuff is not connected", f->source);
		return;
	}
	if (k->can_inflate && k->cyc.state == TL_CUFF_IDLE) {
		act(k, tl_cuff_cycle_start(&k->cyc, now), now);
		say(k, "inflating %s to %g mmHg", site_name(k, k->cur), k->cfg->cuff_cycle.ceiling_mmhg);
		return;
	}
	if (k->can_inflate && k->cyc.state != TL_CUFF_DEFLATING) {
		say(k, "foot switch (%s) ignored: the cuff is %s, not deflating", f->source,
		    tl_cuff_state_name(k->cyc.state));
		return;
	}
	if (k->mark_pending) {
		say(k, "foot switch (%s) ignored: the press before is still being read", f->source);
		return;
	}
	k->mark = *f;
	k->mark_pending = true;
	resolve_mark(k, now);
}

/* ---- reading ------------------------------------------------------------------------------- */

static void sample(struct tl_cuffd *k, const struct tl_cuff_reading *r, int64_t now)
{
	if (k->n && r->t_ms <= k->ring[(k->head + k->n - 1) % RING].t_ms)
		return; /* two readings in one ms: the first stands */
	if (k->n == RING) {
		k->head = (k->head + 1) % RING;
		k->n--;
	}
	k->ring[(k->head + k->n++) % RING] = (struct tl_cuff_sample){.t_ms = r->t_ms, .mmhg = r->mmhg};
	pthread_mutex_lock(&k->mu);
	k->have_mmhg = true;
	k->mmhg = r->mmhg;
	k->mmhg_ms = r->t_ms;
	/* a reading clears a standing bad line or silence, not a stuck cuff's alarm */
	if (!strncmp(k->error, "cuff-text", 9) || !strncmp(k->error, "no reading", 10))
		k->error[0] = '\0';
	pthread_mutex_unlock(&k->mu);
	if (!k->can_inflate)
		return;
	enum tl_cuff_action a = tl_cuff_cycle_step(&k->cyc, now, r->mmhg);
	if (k->cyc.state == TL_CUFF_DEFLATING && k->fall_ms >= 0) {
		if (r->mmhg <= k->fall_mmhg - 1.0) {
			k->fall_ms = now;
			k->fall_mmhg = r->mmhg;
		} else if (now - k->fall_ms > STUCK_MS) {
			char msg[200];
			snprintf(msg, sizeof msg, "the cuff pressure has stayed at %.1f mmHg for %d s "
				 "while deflating: a stuck valve or sensor?", r->mmhg, STUCK_MS / 1000);
			set_error(k, msg);
			vent_because(k, now, "the pressure was stuck");
			return;
		}
	}
	act(k, a, now);
}

static void read_source(struct tl_cuffd *k, int64_t now)
{
	bool by_fd = k->src.ops->fd != NULL;
	if (!by_fd && now < k->next_sample_ms)
		return;
	k->next_sample_ms = now + k->cfg->cuff_sample_ms;
	for (int i = 0; i < 64 && k->open; i++) {
		struct tl_cuff_reading r;
		unsigned long bad = k->src.bad_lines;
		int rc = k->src.ops->read(&k->src, now, &r);
		if (rc == 1) {
			sample(k, &r, now);
		} else if (rc < 0 && k->src.bad_lines != bad) {
			char msg[300];
			snprintf(msg, sizeof msg, "%s", k->src.err); /* a bad line: never a reading */
			set_error(k, msg);
		} else if (rc < 0) {
			char msg[300];
			snprintf(msg, sizeof msg, "%s", k->src.err);
			source_failed(k, now, msg);
		}
		if (rc == 0 || !by_fd)
			break;
	}
	if (k->open && k->n && now - k->ring[(k->head + k->n - 1) % RING].t_ms > 2 * STALE_MS) {
		char msg[120];
		snprintf(msg, sizeof msg, "no reading from the cuff for %lld ms",
			 (long long)(now - k->ring[(k->head + k->n - 1) % RING].t_ms));
		set_error(k, msg);
	}
}

/* ---- requests ------------------------------------------------------------------------------ */

static int site_index(const struct tl_cuffd *k, const char *site)
{
	for (int i = 0; i < k->cfg->cuff_n_sites; i++)
		if (!strcmp(k->cfg->cuff_sites[i], site))
			return i;
	return -1;
}

static int refuse(char *msg, size_t n, int status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int refuse(char *msg, size_t n, int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, n, fmt, ap);
	va_end(ap);
	return status;
}

static int not_connected(struct tl_cuffd *k, char *msg, size_t n)
{
	pthread_mutex_lock(&k->mu);
	int rc = refuse(msg, n, 409, "the cuff is not connected%s%s", k->error[0] ? ": " : "",
			k->error);
	pthread_mutex_unlock(&k->mu);
	return rc;
}

static int carry_out(struct tl_cuffd *k, const struct tl_cuffd_req *r, int64_t now, char *msg,
		     size_t n)
{
	const char *src = k->cfg->cuff_source;
	bool busy = k->can_inflate && k->cyc.state != TL_CUFF_IDLE;
	switch (r->kind) {
	case TL_CUFFD_SERIES: {
		bool post = !strcmp(r->phase, "post");
		if (!post && strcmp(r->phase, "rest"))
			return refuse(msg, n, 400, "phase must be rest or post, not '%s'", r->phase);
		if (post && !(r->minute >= 0 && r->minute <= 60))
			return refuse(msg, n, 400, "a post-exercise series needs its minute (0 to 60)");
		if (!k->open)
			return not_connected(k, msg, n);
		if (busy && k->cyc.state == TL_CUFF_VENTING)
			return refuse(msg, n, 409, "the cuff is venting: start the series once it is down");
		if (busy)
			return refuse(msg, n, 409, "the cuff is %s: vent it or end the series first",
				      tl_cuff_state_name(k->cyc.state));
		k->mark_pending = false;
		pthread_mutex_lock(&k->mu);
		k->series = true;
		k->test_id = r->test_id;
		snprintf(k->phase, sizeof k->phase, "%s", r->phase);
		k->minute = post ? r->minute : NAN;
		k->cur = 0;
		memset(k->done, 0, sizeof k->done);
		k->n_done = 0;
		snprintf(k->operator_id, sizeof k->operator_id, "%s", r->operator_id);
		pthread_mutex_unlock(&k->mu);
		char what[48];
		if (post)
			snprintf(what, sizeof what, "post-exercise minute %g", r->minute);
		else
			snprintf(what, sizeof what, "rest");
		if (k->can_inflate) {
			act(k, tl_cuff_cycle_start(&k->cyc, now), now);
			say(k, "series for test %lld (%s): inflating %s", (long long)r->test_id, what,
			    site_name(k, 0));
		} else {
			say(k, "series for test %lld (%s): %s first; inflate by hand, press at the "
			    "signal back", (long long)r->test_id, what, site_name(k, 0));
		}
		return 0;
	}
	case TL_CUFFD_SITE: {
		int i = site_index(k, r->site);
		if (i < 0)
			return refuse(msg, n, 400, "site '%s' is not one of the series' sites ([cuff] "
				      "sites)", r->site);
		if (!k->series)
			return refuse(msg, n, 409, "no series: start one first");
		if (busy)
			vent_because(k, now, "the series moved to another site");
		k->mark_pending = false;
		pthread_mutex_lock(&k->mu);
		k->cur = i;
		pthread_mutex_unlock(&k->mu);
		say(k, "series at %s", r->site);
		return 0;
	}
	case TL_CUFFD_INFLATE:
		if (!k->can_inflate)
			return refuse(msg, n, 409, "the %s source cannot inflate: inflate the cuff by "
				      "hand", src);
		if (!k->series)
			return refuse(msg, n, 409, "no series: start one first");
		if (!k->open)
			return not_connected(k, msg, n);
		if (busy)
			return refuse(msg, n, 409, "the cuff is %s", tl_cuff_state_name(k->cyc.state));
		act(k, tl_cuff_cycle_start(&k->cyc, now), now);
		say(k, "inflating %s to %g mmHg", site_name(k, k->cur), k->cfg->cuff_cycle.ceiling_mmhg);
		return 0;
	case TL_CUFFD_VENT: {
		if (!k->can_inflate)
			return refuse(msg, n, 409, "the %s source cannot vent: open the cuff's valve "
				      "by hand", src);
		if (!k->open)
			return not_connected(k, msg, n);
		char why[128];
		snprintf(why, sizeof why, "on request of %s", r->operator_id[0] ? r->operator_id : "?");
		vent_because(k, now, why);
		return 0;
	}
	case TL_CUFFD_MARK: {
		if (!k->series)
			return refuse(msg, n, 409, "no series: start one first");
		if (!k->open)
			return not_connected(k, msg, n);
		if (k->can_inflate && k->cyc.state != TL_CUFF_DEFLATING && k->cyc.state != TL_CUFF_IDLE)
			return refuse(msg, n, 409, "the cuff is %s, not deflating",
				      tl_cuff_state_name(k->cyc.state));
		struct foot f = {.t_ms = now};
		snprintf(f.source, sizeof f.source, "%.31s", r->peer[0] ? r->peer : "request");
		foot(k, &f, now);
		return 0;
	}
	case TL_CUFFD_END:
		if (!k->series)
			return refuse(msg, n, 409, "no series to end");
		if (busy)
			vent_because(k, now, "the series ended");
		k->mark_pending = false;
		pthread_mutex_lock(&k->mu);
		k->series = false;
		pthread_mutex_unlock(&k->mu);
		say(k, "series ended by %s", r->operator_id[0] ? r->operator_id : "?");
		return 0;
	}
	return refuse(msg, n, 400, "unknown cuff request");
}

/* What status shows of the cycle; a vent the cycle ordered itself (a limit, an
 * over-pressure, a deflation without a mark) is counted and said. */
static void note_state(struct tl_cuffd *k)
{
	if (k->can_inflate && k->cyc.state == TL_CUFF_VENTING && k->seen_state != TL_CUFF_VENTING) {
		if (k->cyc.why[0] && strcmp(k->cyc.why, k->said_why)) {
			snprintf(k->said_why, sizeof k->said_why, "%s", k->cyc.why);
			say(k, "vented: %s", k->cyc.why);
		}
	}
	if (k->can_inflate && k->cyc.state == TL_CUFF_IDLE)
		k->said_why[0] = '\0';
	k->seen_state = k->can_inflate ? k->cyc.state : TL_CUFF_IDLE;
	pthread_mutex_lock(&k->mu);
	k->state = k->can_inflate ? tl_cuff_state_name(k->cyc.state) : "manual";
	pthread_mutex_unlock(&k->mu);
}

/* ---- the thread -------------------------------------------------------------------------- */

static void drain_efd(int fd)
{
	uint64_t v;
	while (read(fd, &v, sizeof v) == sizeof v)
		;
}

static void *run(void *arg)
{
	struct tl_cuffd *k = arg;
	for (;;) {
		int64_t now = now_ms(k);
		if (!k->open && now >= k->next_open_ms)
			try_open(k, now);

		pthread_mutex_lock(&k->mu);
		bool stop = k->stop;
		bool abort_now = k->abort_pending;
		char why[96];
		snprintf(why, sizeof why, "%s", k->abort_why);
		k->abort_pending = false;
		struct foot feet[FEET];
		int n_feet = k->n_feet;
		memcpy(feet, k->feet, sizeof feet);
		k->n_feet = 0;
		bool have_req = k->req_waiting;
		struct tl_cuffd_req req = k->req;
		k->req_waiting = false;
		pthread_mutex_unlock(&k->mu);
		if (stop)
			break;

		/* the daemon is stopping (SIGTERM): the cuff goes down at once */
		if (!k->stop_seen && k->d->stop_flag && atomic_load(k->d->stop_flag)) {
			k->stop_seen = true;
			if (k->open && k->can_inflate)
				vent_because(k, now, "the daemon is stopping");
		}
		if (abort_now && k->open)
			vent_because(k, now, why);
		if (have_req) {
			char msg[256] = "";
			int status = carry_out(k, &req, now, msg, sizeof msg);
			pthread_mutex_lock(&k->mu);
			k->req_status = status;
			snprintf(k->req_msg, sizeof k->req_msg, "%s", msg);
			k->done_seq++;
			pthread_cond_broadcast(&k->cv);
			pthread_mutex_unlock(&k->mu);
		}
		for (int i = 0; i < n_feet; i++)
			foot(k, &feet[i], now);
		if (k->open)
			read_source(k, now_ms(k)); /* a sample is stamped when it is read */
		if (k->open && k->can_inflate)
			act(k, tl_cuff_cycle_tick(&k->cyc, now), now);
		resolve_mark(k, now);
		note_state(k);

		pthread_mutex_lock(&k->mu);
		if (k->have_mmhg && now - k->mmhg_ms > STALE_MS)
			k->have_mmhg = false;
		pthread_mutex_unlock(&k->mu);

		/* wait for a request, a press, the source's next line or the next sample */
		int64_t wait = k->open ? k->next_sample_ms - now_ms(k) : k->next_open_ms - now_ms(k);
		if (k->open && k->src.ops->fd)
			wait = k->mark_pending ? 10 : 100;
		if (wait < 0)
			wait = 0;
		if (wait > 100)
			wait = 100; /* the stop flag, the limits, a stale reading */
		struct pollfd p[2] = {{.fd = k->efd, .events = POLLIN}, {.fd = -1, .events = POLLIN}};
		if (k->open && k->src.ops->fd)
			p[1].fd = k->src.ops->fd(&k->src);
		if (poll(p, 2, (int)wait) > 0 && (p[0].revents & POLLIN))
			drain_efd(k->efd);
	}
	/* exit: closed, and close() vents a source that can inflate (cuff_source.h) */
	if (k->open) {
		tl_cuff_close(&k->src);
		k->open = false;
	}
	return NULL;
}

int tl_cuffd_start(struct tl_daemon *d, struct tl_cuffd **out, struct tl_err *err)
{
	*out = NULL;
	if (!d->cfg.cuff_source[0])
		return 0;
	struct tl_cuffd *k = calloc(1, sizeof *k);
	if (!k) {
		tl_err_set(err, "cuff: out of memory");
		return -1;
	}
	k->d = d;
	k->cfg = &d->cfg;
	k->can_inflate = (d->cfg.cuff_ops->flags & TL_CUFF_CAN_INFLATE) != 0;
	tl_cuff_cycle_init(&k->cyc, &d->cfg.cuff_cycle);
	k->state = k->can_inflate ? "idle" : "manual";
	k->fall_ms = -1;
	k->last_vent_ms = INT64_MIN / 2;
	k->counted_ms = INT64_MIN / 2;
	k->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (k->efd < 0) {
		tl_err_set(err, "cuff: eventfd: %s", strerror(errno));
		free(k);
		return -1;
	}
	pthread_mutex_init(&k->mu, NULL);
	pthread_cond_init(&k->cv, NULL);
	/* opened here first, so a cuff plugged in is connected when the daemon says ready */
	try_open(k, now_ms(k));
	if (pthread_create(&k->th, NULL, run, k)) {
		tl_err_set(err, "cuff: cannot start its thread");
		if (k->open)
			tl_cuff_close(&k->src);
		close(k->efd);
		pthread_mutex_destroy(&k->mu);
		pthread_cond_destroy(&k->cv);
		free(k);
		return -1;
	}
	*out = k;
	return 0;
}

static void wake(struct tl_cuffd *k)
{
	uint64_t one = 1;
	if (write(k->efd, &one, sizeof one) < 0 && errno != EAGAIN)
		TL_WARNING("cuff: cannot wake the cuff thread: %s", strerror(errno));
}

void tl_cuffd_stop(struct tl_cuffd *k)
{
	if (!k)
		return;
	pthread_mutex_lock(&k->mu);
	k->stop = true;
	pthread_mutex_unlock(&k->mu);
	wake(k);
	pthread_join(k->th, NULL);
	close(k->efd);
	pthread_mutex_destroy(&k->mu);
	pthread_cond_destroy(&k->cv);
	free(k);
}

void tl_cuffd_foot(struct tl_cuffd *k, int64_t real_ms, const char *source)
{
	if (!k)
		return;
	pthread_mutex_lock(&k->mu);
	if (k->n_feet < FEET) {
		k->feet[k->n_feet].t_ms = real_ms;
		snprintf(k->feet[k->n_feet].source, sizeof k->feet[0].source, "%s", source);
		k->n_feet++;
	}
	pthread_mutex_unlock(&k->mu);
	wake(k);
}

void tl_cuffd_abort(struct tl_cuffd *k, const char *why)
{
	if (!k)
		return;
	pthread_mutex_lock(&k->mu);
	k->abort_pending = true;
	snprintf(k->abort_why, sizeof k->abort_why, "%s", why);
	pthread_mutex_unlock(&k->mu);
	wake(k);
}

int tl_cuffd_request(struct tl_cuffd *k, const struct tl_cuffd_req *r, char *msg, size_t n)
{
	pthread_mutex_lock(&k->mu);
	/* one request at a time: a second caller waits for the first's turn */
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 2;
	while (k->req_waiting && !k->stop)
		if (pthread_cond_timedwait(&k->cv, &k->mu, &dl) == ETIMEDOUT)
			break;
	if (k->req_waiting || k->stop) {
		pthread_mutex_unlock(&k->mu);
		snprintf(msg, n, "the cuff thread did not answer");
		return 503;
	}
	k->req = *r;
	k->req_waiting = true;
	uint64_t mine = ++k->req_seq;
	pthread_mutex_unlock(&k->mu);
	wake(k);
	pthread_mutex_lock(&k->mu);
	int status = 503;
	while (k->done_seq < mine && !k->stop)
		if (pthread_cond_timedwait(&k->cv, &k->mu, &dl) == ETIMEDOUT)
			break;
	if (k->done_seq >= mine) {
		status = k->req_status;
		snprintf(msg, n, "%s", k->req_msg);
	} else {
		snprintf(msg, n, "the cuff thread did not answer within 2 s");
	}
	pthread_mutex_unlock(&k->mu);
	return status;
}

json_t *tl_cuffd_json(struct tl_cuffd *k)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	pthread_mutex_lock(&k->mu);
	json_t *series = json_null(), *last = json_null();
	if (k->series) {
		json_t *sites = json_array(), *done = json_array();
		for (int i = 0; sites && i < k->cfg->cuff_n_sites; i++)
			json_array_append_new(sites, json_string(k->cfg->cuff_sites[i]));
		for (int i = 0; done && i < k->n_done; i++)
			json_array_append_new(done, json_string(k->cfg->cuff_sites[k->order[i]]));
		const char *next = NULL;
		for (int step = 1; step < k->cfg->cuff_n_sites && !next; step++) {
			int i = (k->cur + step) % k->cfg->cuff_n_sites;
			if (!k->done[i])
				next = k->cfg->cuff_sites[i];
		}
		series = json_pack("{s:I, s:s, s:o, s:s, s:o, s:o, s:o}", "test_id",
				   (json_int_t)k->test_id, "phase", k->phase, "minute",
				   isfinite(k->minute) ? json_real(k->minute) : json_null(), "site",
				   k->cfg->cuff_sites[k->cur], "next", next ? json_string(next) : json_null(),
				   "sites", sites ? sites : json_null(), "done", done ? done : json_null());
	}
	if (k->have_last)
		last = json_pack("{s:I, s:s, s:o, s:s, s:f, s:i, s:f, s:I}", "test_id",
				 (json_int_t)k->last.test_id, "phase", k->last.phase, "minute",
				 isfinite(k->last.minute) ? json_real(k->last.minute) : json_null(),
				 "site", k->last.site, "mmhg", k->last.mmhg, "interval_ms",
				 k->last.interval_ms, "deflation_mmhg_s", round(k->last.rate * 100) / 100,
				 "recorded", (json_int_t)k->recorded);
	const char *state = k->state ? k->state : "idle";
	int bad = 0;
	bad |= json_object_set_new(o, "source", json_string(k->cfg->cuff_source));
	bad |= json_object_set_new(o, "can_inflate", json_boolean(k->can_inflate));
	bad |= json_object_set_new(o, "connected", json_boolean(k->connected));
	bad |= json_object_set_new(o, "error", json_string(k->error));
	bad |= json_object_set_new(o, "mmhg", k->have_mmhg ? json_real(round(k->mmhg * 10) / 10)
							   : json_null());
	bad |= json_object_set_new(o, "state", json_string(state));
	bad |= json_object_set_new(o, "series", series ? series : json_null());
	bad |= json_object_set_new(o, "last", last ? last : json_null());
	bad |= json_object_set_new(o, "message", json_string(k->message));
	bad |= json_object_set_new(o, "vents", json_integer((json_int_t)k->vents));
	pthread_mutex_unlock(&k->mu);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}
