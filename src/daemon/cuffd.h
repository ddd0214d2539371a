/* cuffd.h - the cuff thread: ankle and arm pressures read from the cuff, not typed (issue 15).
 *
 * When [cuff] source is set, a thread of its own owns the source (drivers/cuff_source.h):
 * it reads the cuff pressure (every [cuff] sample_ms, or as a text device prints it),
 * keeps the last seconds of samples, runs the cycle of a source that can inflate
 * (src/core/cuff.h: inflate to the ceiling, deflate at the configured rate, vent after
 * the mark or at a limit) and turns the technician's foot switch into a recorded pressure:
 * the cuff pressure at the press, from the samples around it (src/core/cuff.h), written
 * with the source's name, the gap between those samples and the deflation rate there.
 *
 * A guided series walks the lab's order of sites ([cuff] sites) for one test and one
 * phase (rest, or a post-exercise minute): each mark records the current site and moves
 * to the next. With a source that can inflate, starting the series inflates the first
 * site, and the foot switch pressed while the cuff is down inflates the current one
 * (the technician has moved the cuff and the probe); while it deflates, the press marks.
 * With a source that cannot (a gauge printing its readings), the technician inflates and
 * deflates by hand and every press marks.
 *
 * The cuff is never left inflated: the cycle's limits vent it; so does every error of
 * the source, an emergency stop (tl_cuffd_abort, from the control thread), the end of a
 * series, and the daemon's exit (tl_cuffd_stop, whose close vents). A daemon killed with
 * SIGKILL cannot vent: the device's own watchdog does (treadsim's cuff, like a real
 * inflator's).
 *
 * The source is opened by the thread, and again every second after it failed, so a cuff
 * unplugged at start-up or later is an error in status, never a refusal to run the belt. */
#ifndef TL_CUFFD_H
#define TL_CUFFD_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "tl_err.h"

struct tl_daemon;
struct tl_cuffd;

/* Starts the thread when d->cfg names a cuff source; *out is NULL (and 0 returned) when
 * it names none. -1 with err when the thread cannot be made. */
int tl_cuffd_start(struct tl_daemon *d, struct tl_cuffd **out, struct tl_err *err);
/* Vents the cuff, closes the source and joins the thread. NULL is fine. */
void tl_cuffd_stop(struct tl_cuffd *k);

/* The foot switch, pressed at real_ms (tl_clock_real_ms: the samples' time base);
 * source names where it came from ("button-box", "page"). Never blocks. */
void tl_cuffd_foot(struct tl_cuffd *k, int64_t real_ms, const char *source);
/* Vents now, whatever the state (an emergency stop): why is kept in status. Never blocks. */
void tl_cuffd_abort(struct tl_cuffd *k, const char *why);

enum tl_cuffd_req_kind {
	TL_CUFFD_SERIES,  /* start a series: test_id, phase, minute (post) */
	TL_CUFFD_SITE,    /* go to site (skip one, or go back to one): vents a cycle under way */
	TL_CUFFD_INFLATE, /* inflate the current site (a source that can) */
	TL_CUFFD_VENT,    /* vent now; the series stays at its site */
	TL_CUFFD_MARK,    /* the page's or the command line's foot switch, at the request */
	TL_CUFFD_END,     /* end the series (vents) */
};

struct tl_cuffd_req {
	enum tl_cuffd_req_kind kind;
	int64_t test_id;     /* SERIES: the test (the caller checked it exists) */
	char phase[8];       /* SERIES: "rest" or "post" */
	double minute;       /* SERIES: post: minutes after exercise (>= 0); rest: NAN */
	char site[24];       /* SITE: a site of [cuff] sites */
	char operator_id[64]; /* who asked (the series' operator is the recorded operator) */
	char peer[64];        /* where from, as the audit names it */
};

/* Carries out a request in the cuff thread and waits for its answer: 0, or an HTTP status
 * (400: the request is wrong; 409: not now, e.g. no series or the cuff is not connected;
 * 503: the thread did not answer within 2 s) with msg saying why. */
int tl_cuffd_request(struct tl_cuffd *k, const struct tl_cuffd_req *r, char *msg, size_t n);

/* What status shows (GET /v1/cuff, and "cuff" in /v1/status and the live stream):
 * {"source": "cuff-modbus", "can_inflate": true, "connected": true,
 *  "error": "" (the standing error: unplugged, a bad line, a stuck pressure),
 *  "mmhg": 123.4 or null (the last sample, null when none came for a second),
 *  "state": "idle" | "inflating" | "deflating" | "marked" | "venting" (a source that
 *           can inflate) or "manual" (one that cannot),
 *  "series": null or {"test_id", "phase", "minute" (null at rest), "site" (the current
 *            one), "next" (the one after, or null), "sites" (the order), "done" (the
 *            sites recorded in this series, in order)},
 *  "last": null or the last recorded reading {"test_id", "phase", "minute", "site",
 *          "mmhg", "interval_ms", "deflation_mmhg_s", "recorded": N (counts them)},
 *  "message": what the cuff last said ("vented: emergency stop", "foot switch ignored:
 *             no series"), "" if nothing,
 *  "vents": N (vents ordered since start-up)}
 * A new reference; NULL when out of memory. */
json_t *tl_cuffd_json(struct tl_cuffd *k);

#endif
