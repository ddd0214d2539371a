/* store_write.c - everything that adds to the record.
 *
 * Arguments are checked before any transaction starts, so a bad argument never costs a
 * lock. Every function commits before it returns 0; with synchronous=FULL that commit is on
 * disk, which is what lets the daemon acknowledge a command only after its event is safe. */
#include "store_int.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A write to a test that does not exist fails on the foreign key; say which test. */
static int fail_step(struct tl_store *st, int64_t test_id, const char *what, struct tl_err *err)
{
	if (sqlite3_extended_errcode(st->db) == SQLITE_CONSTRAINT_FOREIGNKEY) {
		tl_err_set(err, "store: %s: no test %" PRId64, what, test_id);
		return -1;
	}
	return tl_store_fail_db(st, what, err);
}

/* Steps an INSERT or UPDATE naming test_id; an UPDATE that changed nothing found no test. */
static int step_write(struct tl_store *st, sqlite3_stmt *stmt, int64_t test_id, bool update,
		      const char *what, struct tl_err *err)
{
	int rc = sqlite3_step(stmt);
	if (rc != SQLITE_DONE) {
		fail_step(st, test_id, what, err);
		tl_store_stmt_done(stmt);
		return -1;
	}
	tl_store_stmt_done(stmt);
	if (update && sqlite3_changes(st->db) == 0) {
		tl_err_set(err, "store: %s: no test %" PRId64, what, test_id);
		return -1;
	}
	return 0;
}

static int bind_failed(struct tl_store *st, sqlite3_stmt *stmt, const char *what,
		       struct tl_err *err)
{
	tl_store_fail_db(st, what, err);
	tl_store_stmt_done(stmt);
	return -1;
}

/* One statement in autocommit mode is its own durable transaction; inside a transaction
 * left open by an earlier failure it would not be committed, so that is ended first. */
static int write_single(struct tl_store *st, sqlite3_stmt *stmt, int64_t test_id, bool update,
			const char *what, struct tl_err *err)
{
	if (tl_store_check_writable(st, what, err) < 0) {
		tl_store_stmt_done(stmt);
		return -1;
	}
	tl_store_rollback(st);
	if (!sqlite3_get_autocommit(st->db)) {
		tl_err_set(err, "store: %s: an earlier transaction could not be rolled back", what);
		tl_store_stmt_done(stmt);
		return -1;
	}
	return step_write(st, stmt, test_id, update, what, err);
}

static int64_t patient_id(struct tl_store *st, const char *mrn, const char *created_at,
			  const char *what, struct tl_err *err)
{
	sqlite3_stmt *find = tl_store_stmt(st, TL_ST_PATIENT_FIND, what, err);
	if (!find)
		return -1;
	if (tl_store_bind_text(find, 1, mrn) != SQLITE_OK)
		return bind_failed(st, find, what, err);
	int rc = sqlite3_step(find);
	if (rc == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(find, 0);
		tl_store_stmt_done(find);
		return id;
	}
	if (rc != SQLITE_DONE)
		return bind_failed(st, find, what, err);
	tl_store_stmt_done(find);

	sqlite3_stmt *add = tl_store_stmt(st, TL_ST_PATIENT_ADD, what, err);
	if (!add)
		return -1;
	if (tl_store_bind_text(add, 1, mrn) != SQLITE_OK ||
	    tl_store_bind_text(add, 2, created_at) != SQLITE_OK)
		return bind_failed(st, add, what, err);
	if (tl_store_exec_stmt(st, add, what, err) < 0)
		return -1;
	return sqlite3_last_insert_rowid(st->db);
}

static int check_test_new(struct tl_store *st, const struct tl_store_test_new *t,
			  const char *what, struct tl_err *err)
{
	if (tl_store_check_id(t->protocol_name, "protocol name", false, what, err) < 0 ||
	    tl_store_check_text(t->protocol_text, "protocol text", false, what, err) < 0 ||
	    tl_store_check_json(st, t->protocol_json, "protocol JSON", false, what, err) < 0 ||
	    tl_store_check_id(t->operator_id, "operator", false, what, err) < 0 ||
	    tl_store_check_utc(t->started_at, "started_at", what, err) < 0 ||
	    tl_store_check_id(t->state, "state", true, what, err) < 0)
		return -1;
	if (!(t->time_scale > 0) || !isfinite(t->time_scale)) {
		tl_err_set(err, "store: %s: time scale %g is not a positive number", what,
			   t->time_scale);
		return -1;
	}
	return 0;
}

int64_t tl_store_test_create(struct tl_store *st, const struct tl_store_test_new *t,
			     struct tl_err *err)
{
	char what[TL_STORE_WHAT_MAX] = "creating a test";
	if (tl_store_check_mrn(t->patient_mrn, what, err) < 0)
		return -1;
	snprintf(what, sizeof what, "creating a test for patient '%s'", t->patient_mrn);
	if (check_test_new(st, t, what, err) < 0 || tl_store_begin_write(st, what, err) < 0)
		return -1;
	int64_t pid = patient_id(st, t->patient_mrn, t->started_at, what, err);
	if (pid < 0)
		goto fail;
	sqlite3_stmt *stmt = tl_store_stmt(st, TL_ST_TEST_ADD, what, err);
	if (!stmt)
		goto fail;
	if (sqlite3_bind_int64(stmt, 1, pid) != SQLITE_OK ||
	    tl_store_bind_text(stmt, 2, t->protocol_name) != SQLITE_OK ||
	    tl_store_bind_text(stmt, 3, t->protocol_text) != SQLITE_OK ||
	    tl_store_bind_text(stmt, 4, t->protocol_json) != SQLITE_OK ||
	    tl_store_bind_text(stmt, 5, t->operator_id) != SQLITE_OK ||
	    tl_store_bind_text(stmt, 6, t->state ? t->state : "running") != SQLITE_OK ||
	    tl_store_bind_text(stmt, 7, t->started_at) != SQLITE_OK ||
	    sqlite3_bind_double(stmt, 8, t->time_scale) != SQLITE_OK ||
	    tl_store_bind_text(stmt, 9, TREADLAB_VERSION) != SQLITE_OK) {
		bind_failed(st, stmt, what, err);
		goto fail;
	}
	if (tl_store_exec_stmt(st, stmt, what, err) < 0)
		goto fail;
	int64_t id = sqlite3_last_insert_rowid(st->db);
	if (tl_store_commit(st, what, err) < 0)
		return -1;
	return id;
fail:
	tl_store_rollback(st);
	return -1;
}

static int check_event(const struct tl_store_event *ev, const char *what, struct tl_err *err)
{
	if (ev->t_ms < 0) {
		tl_err_set(err, "store: %s: t_ms %" PRId64 " is before the test started", what,
			   ev->t_ms);
		return -1;
	}
	if (tl_store_check_id(ev->source, "source", false, what, err) < 0 ||
	    tl_store_check_id(ev->operator_id, "operator", true, what, err) < 0 ||
	    tl_store_check_text(ev->detail, "detail", true, what, err) < 0 ||
	    tl_store_check_real(ev->value, "value", true, what, err) < 0 ||
	    tl_store_check_utc(ev->recorded_at, "recorded_at", what, err) < 0)
		return -1;
	return 0;
}

static int bind_event(sqlite3_stmt *stmt, int64_t test_id, const struct tl_store_event *ev)
{
	if (sqlite3_bind_int64(stmt, 1, test_id) != SQLITE_OK ||
	    sqlite3_bind_int64(stmt, 2, ev->t_ms) != SQLITE_OK ||
	    tl_store_bind_text(stmt, 3, ev->kind) != SQLITE_OK ||
	    tl_store_bind_text(stmt, 4, ev->source) != SQLITE_OK ||
	    tl_store_bind_text(stmt, 5, ev->operator_id) != SQLITE_OK ||
	    tl_store_bind_text(stmt, 6, ev->detail) != SQLITE_OK ||
	    tl_store_bind_real(stmt, 7, ev->value) != SQLITE_OK ||
	    tl_store_bind_text(stmt, 8, ev->recorded_at) != SQLITE_OK)
		return -1;
	return 0;
}

int tl_store_event_add(struct tl_store *st, int64_t test_id, const struct tl_store_event *ev,
		       struct tl_err *err)
{
	char what[TL_STORE_WHAT_MAX];
	snprintf(what, sizeof what, "adding an event to test %" PRId64, test_id);
	if (tl_store_check_id(ev->kind, "kind", false, what, err) < 0)
		return -1;
	snprintf(what, sizeof what, "adding event '%s' to test %" PRId64, ev->kind, test_id);
	if (check_event(ev, what, err) < 0)
		return -1;
	sqlite3_stmt *stmt = tl_store_stmt(st, TL_ST_EVENT_ADD, what, err);
	if (!stmt)
		return -1;
	if (bind_event(stmt, test_id, ev) < 0)
		return bind_failed(st, stmt, what, err);
	return write_single(st, stmt, test_id, false, what, err);
}

static int check_samples(const struct tl_store_sample *s, size_t n, const char *what,
			 struct tl_err *err)
{
	for (size_t i = 0; i < n; i++) {
		char which[TL_STORE_WHAT_MAX + 64];
		snprintf(which, sizeof which, "%s: sample %zu (t_ms %" PRId64 ")", what, i + 1,
			 s[i].t_ms);
		if (s[i].t_ms < 0) {
			tl_err_set(err, "store: %s: t_ms is before the test started", which);
			return -1;
		}
		if (tl_store_check_real(s[i].target_speed_kmh, "target_speed_kmh", false, which,
					err) < 0 ||
		    tl_store_check_real(s[i].actual_speed_kmh, "actual_speed_kmh", true, which,
					err) < 0 ||
		    tl_store_check_real(s[i].target_grade_pct, "target_grade_pct", false, which,
					err) < 0 ||
		    tl_store_check_real(s[i].actual_grade_pct, "actual_grade_pct", true, which,
					err) < 0 ||
		    tl_store_check_real(s[i].distance_m, "distance_m", false, which, err) < 0)
			return -1;
	}
	return 0;
}

static int sample_insert(struct tl_store *st, sqlite3_stmt *stmt, int64_t test_id,
			 const struct tl_store_sample *s, const char *what, struct tl_err *err)
{
	if (sqlite3_bind_int64(stmt, 1, test_id) != SQLITE_OK ||
	    sqlite3_bind_int64(stmt, 2, s->t_ms) != SQLITE_OK ||
	    sqlite3_bind_double(stmt, 3, s->target_speed_kmh) != SQLITE_OK ||
	    tl_store_bind_real(stmt, 4, s->actual_speed_kmh) != SQLITE_OK ||
	    sqlite3_bind_double(stmt, 5, s->target_grade_pct) != SQLITE_OK ||
	    tl_store_bind_real(stmt, 6, s->actual_grade_pct) != SQLITE_OK ||
	    sqlite3_bind_double(stmt, 7, s->distance_m) != SQLITE_OK)
		return bind_failed(st, stmt, what, err);
	return step_write(st, stmt, test_id, false, what, err);
}

int tl_store_samples_add(struct tl_store *st, int64_t test_id, const struct tl_store_sample *s,
			 size_t n, struct tl_err *err)
{
	char what[TL_STORE_WHAT_MAX];
	snprintf(what, sizeof what, "adding %zu samples to test %" PRId64, n, test_id);
	if (n == 0)
		return 0;
	if (check_samples(s, n, what, err) < 0 || tl_store_begin_write(st, what, err) < 0)
		return -1;
	sqlite3_stmt *stmt = tl_store_stmt(st, TL_ST_SAMPLE_ADD, what, err);
	if (!stmt)
		goto fail;
	for (size_t i = 0; i < n; i++)
		if (sample_insert(st, stmt, test_id, &s[i], what, err) < 0)
			goto fail;
	return tl_store_commit(st, what, err);
fail:
	tl_store_rollback(st);
	return -1;
}

int tl_store_test_set_state(struct tl_store *st, int64_t test_id, const char *state,
			    const char *end_reason, const char *ended_at, struct tl_err *err)
{
	char what[TL_STORE_WHAT_MAX];
	snprintf(what, sizeof what, "setting the state of test %" PRId64, test_id);
	if (tl_store_check_id(state, "state", false, what, err) < 0)
		return -1;
	snprintf(what, sizeof what, "setting test %" PRId64 " to state '%s'", test_id, state);
	if (tl_store_check_id(end_reason, "end_reason", true, what, err) < 0 ||
	    (ended_at && tl_store_check_utc(ended_at, "ended_at", what, err) < 0))
		return -1;
	sqlite3_stmt *stmt = tl_store_stmt(st, TL_ST_TEST_STATE, what, err);
	if (!stmt)
		return -1;
	if (sqlite3_bind_int64(stmt, 1, test_id) != SQLITE_OK ||
	    tl_store_bind_text(stmt, 2, state) != SQLITE_OK ||
	    tl_store_bind_text(stmt, 3, end_reason) != SQLITE_OK ||
	    tl_store_bind_text(stmt, 4, ended_at) != SQLITE_OK)
		return bind_failed(st, stmt, what, err);
	return write_single(st, stmt, test_id, true, what, err);
}

int tl_store_test_set_endpoints(struct tl_store *st, int64_t test_id,
				const struct tl_store_endpoints *e, struct tl_err *err)
{
	char what[TL_STORE_WHAT_MAX];
	snprintf(what, sizeof what, "setting the endpoints of test %" PRId64, test_id);
	const double v[] = {e->cot_s,	       e->pwt_s,      e->icd_m,	   e->acd_m,
			    e->walking_time_s, e->distance_m, e->recovery_s};
	static const char *const names[] = {"cot_s",	      "pwt_s",	    "icd_m",	 "acd_m",
					    "walking_time_s", "distance_m", "recovery_s"};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		if (tl_store_check_real(v[i], names[i], true, what, err) < 0)
			return -1;
	sqlite3_stmt *stmt = tl_store_stmt(st, TL_ST_TEST_ENDPOINTS, what, err);
	if (!stmt)
		return -1;
	if (sqlite3_bind_int64(stmt, 1, test_id) != SQLITE_OK)
		return bind_failed(st, stmt, what, err);
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		if (tl_store_bind_real(stmt, (int)i + 2, v[i]) != SQLITE_OK)
			return bind_failed(st, stmt, what, err);
	return write_single(st, stmt, test_id, true, what, err);
}

/* A cuff reads 0 (no signal) up to about 300 mmHg; 400 leaves room for a non-compressible
 * artery and still catches a typing slip like 1200. */
#define TL_STORE_MMHG_MAX 400.0

static int check_pressure(const char *phase, double minute, double mmhg, const char *what,
			  struct tl_err *err)
{
	bool rest = strcmp(phase, "rest") == 0;
	if (rest && !isnan(minute)) {
		tl_err_set(err, "store: %s: a rest pressure has no minute (give NAN)", what);
		return -1;
	}
	if (!rest && !(isfinite(minute) && minute >= 0)) {
		tl_err_set(err, "store: %s: a post-exercise pressure needs its minute (>= 0)",
			   what);
		return -1;
	}
	if (!(isfinite(mmhg) && mmhg >= 0 && mmhg <= TL_STORE_MMHG_MAX)) {
		tl_err_set(err, "store: %s: %g mmHg is outside 0..%g", what, mmhg,
			   TL_STORE_MMHG_MAX);
		return -1;
	}
	return 0;
}

/* The daemon has one writer, so the count cannot change between this and the insert. */
static int check_pressure_room(struct tl_store *st, int64_t test_id, const char *what,
			       struct tl_err *err)
{
	sqlite3_stmt *stmt = tl_store_stmt(st, TL_ST_PRESSURE_COUNT, what, err);
	if (!stmt)
		return -1;
	if (sqlite3_bind_int64(stmt, 1, test_id) != SQLITE_OK || sqlite3_step(stmt) != SQLITE_ROW)
		return bind_failed(st, stmt, what, err);
	int64_t n = sqlite3_column_int64(stmt, 0);
	tl_store_stmt_done(stmt);
	if (n >= TL_STORE_PRESSURES_MAX) {
		tl_err_set(err, "store: %s: the test already has %" PRId64 " pressures, the most one "
			   "test may have", what, n);
		return -1;
	}
	return 0;
}

int tl_store_pressure_add(struct tl_store *st, int64_t test_id, const char *phase, double minute,
			  const char *site, double mmhg, const char *operator_id,
			  const char *source, const char *at_utc, struct tl_err *err)
{
	return tl_store_pressure_add_by(st, test_id, phase, minute, site, mmhg, 0, operator_id,
					NULL, source, at_utc, err);
}

int tl_store_pressure_add_flags(struct tl_store *st, int64_t test_id, const char *phase,
				double minute, const char *site, double mmhg, unsigned flags,
				const char *operator_id, const char *source, const char *at_utc,
				struct tl_err *err)
{
	return tl_store_pressure_add_by(st, test_id, phase, minute, site, mmhg, flags,
					operator_id, NULL, source, at_utc, err);
}

static int pressure_add(struct tl_store *st, int64_t test_id, const char *phase, double minute,
			const char *site, double mmhg, unsigned flags,
			const struct tl_store_cuff_meta *m, const char *operator_id,
			const char *peer, const char *source, const char *at_utc,
			struct tl_err *err);

int tl_store_pressure_add_by(struct tl_store *st, int64_t test_id, const char *phase,
			     double minute, const char *site, double mmhg, unsigned flags,
			     const char *operator_id, const char *peer, const char *source,
			     const char *at_utc, struct tl_err *err)
{
	return pressure_add(st, test_id, phase, minute, site, mmhg, flags, NULL, operator_id, peer,
			    source, at_utc, err);
}

int tl_store_pressure_add_cuff(struct tl_store *st, int64_t test_id, const char *phase,
			       double minute, const char *site, double mmhg,
			       const struct tl_store_cuff_meta *m, const char *operator_id,
			       const char *peer, const char *source, const char *at_utc,
			       struct tl_err *err)
{
	return pressure_add(st, test_id, phase, minute, site, mmhg, 0, m, operator_id, peer,
			    source, at_utc, err);
}

static int pressure_add(struct tl_store *st, int64_t test_id, const char *phase, double minute,
			const char *site, double mmhg, unsigned flags,
			const struct tl_store_cuff_meta *m, const char *operator_id,
			const char *peer, const char *source, const char *at_utc,
			struct tl_err *err)
{
	char what[TL_STORE_WHAT_MAX];
	snprintf(what, sizeof what, "adding a pressure to test %" PRId64, test_id);
	if (!phase || (strcmp(phase, "rest") != 0 && strcmp(phase, "post") != 0)) {
		tl_err_set(err, "store: %s: phase must be 'rest' or 'post'", what);
		return -1;
	}
	if (tl_store_check_id(site, "site", false, what, err) < 0)
		return -1;
	snprintf(what, sizeof what, "adding a %s pressure at %s to test %" PRId64, phase, site,
		 test_id);
	if (flags & ~(unsigned)(TL_STORE_PRESSURE_NONCOMPRESSIBLE | TL_STORE_PRESSURE_CONFIRMED)) {
		tl_err_set(err, "store: %s: unknown pressure flags 0x%x", what, flags);
		return -1;
	}
	if (check_pressure(phase, minute, mmhg, what, err) < 0 ||
	    tl_store_check_id(operator_id, "operator", true, what, err) < 0 ||
	    tl_store_check_id(source, "source", false, what, err) < 0 ||
	    tl_store_check_id(peer, "peer", true, what, err) < 0 ||
	    tl_store_check_utc(at_utc, "recorded_at", what, err) < 0)
		return -1;
	if (m && !(m->interval_ms >= 0 && isfinite(m->deflation_mmhg_s))) {
		tl_err_set(err, "store: %s: sampling interval %d ms or deflation rate %g mmHg/s "
			   "is not a measurement", what, m->interval_ms, m->deflation_mmhg_s);
		return -1;
	}
	if (check_pressure_room(st, test_id, what, err) < 0)
		return -1;
	sqlite3_stmt *stmt = tl_store_stmt(st, TL_ST_PRESSURE_ADD, what, err);
	if (!stmt)
		return -1;
	if (sqlite3_bind_int64(stmt, 1, test_id) != SQLITE_OK ||
	    tl_store_bind_text(stmt, 2, phase) != SQLITE_OK ||
	    tl_store_bind_real(stmt, 3, minute) != SQLITE_OK ||
	    tl_store_bind_text(stmt, 4, site) != SQLITE_OK ||
	    sqlite3_bind_double(stmt, 5, mmhg) != SQLITE_OK ||
	    tl_store_bind_text(stmt, 6, operator_id) != SQLITE_OK ||
	    tl_store_bind_text(stmt, 7, source) != SQLITE_OK ||
	    tl_store_bind_text(stmt, 8, at_utc) != SQLITE_OK ||
	    sqlite3_bind_int(stmt, 9, (flags & TL_STORE_PRESSURE_NONCOMPRESSIBLE) != 0) != SQLITE_OK ||
	    sqlite3_bind_int(stmt, 10, (flags & TL_STORE_PRESSURE_CONFIRMED) != 0) != SQLITE_OK ||
	    tl_store_bind_text(stmt, 11, peer) != SQLITE_OK ||
	    (m ? sqlite3_bind_int(stmt, 12, m->interval_ms) : sqlite3_bind_null(stmt, 12)) != SQLITE_OK ||
	    (m ? sqlite3_bind_double(stmt, 13, m->deflation_mmhg_s) : sqlite3_bind_null(stmt, 13)) != SQLITE_OK)
		return bind_failed(st, stmt, what, err);
	return write_single(st, stmt, test_id, false, what, err);
}

int tl_store_findings_set(struct tl_store *st, int64_t test_id, const char *findings_json,
			  const char *operator_id, const char *at_utc, struct tl_err *err)
{
	return tl_store_findings_set_by(st, test_id, findings_json, operator_id, NULL, at_utc, err);
}

int tl_store_findings_set_by(struct tl_store *st, int64_t test_id, const char *findings_json,
			     const char *operator_id, const char *peer, const char *at_utc,
			     struct tl_err *err)
{
	char what[TL_STORE_WHAT_MAX];
	snprintf(what, sizeof what, "setting the findings of test %" PRId64, test_id);
	if (tl_store_check_json(st, findings_json, "findings", false, what, err) < 0 ||
	    tl_store_check_id(operator_id, "operator", false, what, err) < 0 ||
	    tl_store_check_id(peer, "peer", true, what, err) < 0 ||
	    tl_store_check_utc(at_utc, "at", what, err) < 0)
		return -1;
	sqlite3_stmt *stmt = tl_store_stmt(st, TL_ST_FINDINGS_SET, what, err);
	if (!stmt)
		return -1;
	if (sqlite3_bind_int64(stmt, 1, test_id) != SQLITE_OK ||
	    tl_store_bind_text(stmt, 2, findings_json) != SQLITE_OK ||
	    tl_store_bind_text(stmt, 3, operator_id) != SQLITE_OK ||
	    tl_store_bind_text(stmt, 4, at_utc) != SQLITE_OK ||
	    tl_store_bind_text(stmt, 5, peer) != SQLITE_OK)
		return bind_failed(st, stmt, what, err);
	return write_single(st, stmt, test_id, true, what, err);
}

int tl_store_results_set(struct tl_store *st, int64_t test_id, const char *abi_json,
			 const char *classification_json, struct tl_err *err)
{
	char what[TL_STORE_WHAT_MAX];
	snprintf(what, sizeof what, "setting the results of test %" PRId64, test_id);
	if (tl_store_check_json(st, abi_json, "ABI", true, what, err) < 0 ||
	    tl_store_check_json(st, classification_json, "classification", true, what, err) < 0)
		return -1;
	sqlite3_stmt *stmt = tl_store_stmt(st, TL_ST_RESULTS_SET, what, err);
	if (!stmt)
		return -1;
	if (sqlite3_bind_int64(stmt, 1, test_id) != SQLITE_OK ||
	    tl_store_bind_text(stmt, 2, abi_json) != SQLITE_OK ||
	    tl_store_bind_text(stmt, 3, classification_json) != SQLITE_OK)
		return bind_failed(st, stmt, what, err);
	return write_single(st, stmt, test_id, true, what, err);
}

int tl_store_audit(struct tl_store *st, const char *at_utc, const char *operator_id,
		   const char *command, const char *detail_json, const char *result,
		   struct tl_err *err)
{
	return tl_store_audit_by(st, at_utc, operator_id, NULL, command, detail_json, result, err);
}

int tl_store_audit_by(struct tl_store *st, const char *at_utc, const char *operator_id,
		      const char *peer, const char *command, const char *detail_json,
		      const char *result, struct tl_err *err)
{
	char what[TL_STORE_WHAT_MAX] = "auditing a command";
	if (tl_store_check_id(command, "command", false, what, err) < 0)
		return -1;
	snprintf(what, sizeof what, "auditing command '%s'", command);
	if (tl_store_check_utc(at_utc, "at", what, err) < 0 ||
	    tl_store_check_id(operator_id, "operator", true, what, err) < 0 ||
	    tl_store_check_json(st, detail_json, "detail", true, what, err) < 0 ||
	    tl_store_check_text(result, "result", false, what, err) < 0 ||
	    tl_store_check_id(peer, "peer", true, what, err) < 0)
		return -1;
	sqlite3_stmt *stmt = tl_store_stmt(st, TL_ST_AUDIT_ADD, what, err);
	if (!stmt)
		return -1;
	if (tl_store_bind_text(stmt, 1, at_utc) != SQLITE_OK ||
	    tl_store_bind_text(stmt, 2, operator_id) != SQLITE_OK ||
	    tl_store_bind_text(stmt, 3, command) != SQLITE_OK ||
	    tl_store_bind_text(stmt, 4, detail_json) != SQLITE_OK ||
	    tl_store_bind_text(stmt, 5, result) != SQLITE_OK ||
	    tl_store_bind_text(stmt, 6, peer) != SQLITE_OK)
		return bind_failed(st, stmt, what, err);
	return write_single(st, stmt, 0, false, what, err);
}
