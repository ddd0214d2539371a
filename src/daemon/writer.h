/* writer.h - the store writer thread: commits, in order, what it is handed.
 *
 * The control thread and the API never touch the write connection; they queue items.
 * A barrier item completes a tl_reply once everything queued before it is committed,
 * which is how "an event is committed before its command is acknowledged" holds.
 *
 * When the store fails on its own account (disk full, I/O error, read-only file), the
 * write is held in memory, in order with everything after it, and tried again every
 * second and before every answer; once the store takes writes again the record gets
 * the real events and end. Meanwhile status names the store's error, a command is
 * answered 500 saying it is done but not yet recorded, and a walking test is stopped
 * (st.unrecorded). At shutdown what still cannot be written goes to the log. A write
 * the store refuses for what it was given is not retried: a pressure or findings
 * refusal is answered 409, anything else 500 and shown in status. */
#ifndef TL_WRITER_H
#define TL_WRITER_H

#include <stddef.h>

#include "daemon.h"
#include "store.h"

struct tl_writer;

struct tl_writer *tl_writer_start(struct tl_daemon *d, const char *db_path, struct tl_err *err);
/* Commits everything queued, stops the thread and closes the store. */
void tl_writer_stop(struct tl_writer *w);

/* Items. Strings are copied. "Current test" items apply to the test the last
 * tl_writer_create made. The create makes the row in state "starting" and answers the
 * control thread through d->created (then writes d->cmd_efd). */
void tl_writer_create(struct tl_writer *w, const char *patient, const char *protocol_name,
		      char *protocol_text /* taken */, char *protocol_json /* taken */,
		      const char *operator_id, const char *started_at, double time_scale);
void tl_writer_event(struct tl_writer *w, const struct tl_event *ev, const char *operator_id);
void tl_writer_samples(struct tl_writer *w, const struct tl_store_sample *s, size_t n);
void tl_writer_state(struct tl_writer *w, const char *state, const char *end_reason,
		     const char *ended_at);
void tl_writer_endpoints(struct tl_writer *w, const struct tl_store_endpoints *e);
void tl_writer_audit(struct tl_writer *w, const char *operator_id, const char *command,
		     const char *detail_json, const char *result);
/* The same, naming the peer the command came from (NULL: the system). */
void tl_writer_audit_by(struct tl_writer *w, const char *operator_id, const char *peer,
			const char *command, const char *detail_json, const char *result);
/* flags: enum tl_store_pressure_flag bits (noncompressible, confirmed). */
void tl_writer_pressure(struct tl_writer *w, int64_t test_id, const char *phase, double minute,
			const char *site, double mmhg, unsigned flags, const char *operator_id);
void tl_writer_findings(struct tl_writer *w, int64_t test_id, const char *json,
			const char *operator_id);
/* The same, naming the peer the change came from (kept in the test's history). */
void tl_writer_pressure_by(struct tl_writer *w, int64_t test_id, const char *phase, double minute,
			   const char *site, double mmhg, unsigned flags, const char *operator_id,
			   const char *peer);
/* A cuff's reading at the foot switch (src/daemon/cuffd.h): source names the device, meta
 * how it was measured; operator_id the series' operator, peer the switch ("button-box"). */
void tl_writer_pressure_cuff(struct tl_writer *w, int64_t test_id, const char *phase,
			     double minute, const char *site, double mmhg,
			     const struct tl_store_cuff_meta *meta, const char *source,
			     const char *operator_id, const char *peer);
void tl_writer_findings_by(struct tl_writer *w, int64_t test_id, const char *json,
			   const char *operator_id, const char *peer);
/* A patient's demographics (created if new) and a test's order, each one transaction with
 * its audit row (store.h); the caller checked the values (a refusal is answered 409). */
void tl_writer_patient(struct tl_writer *w, const char *mrn, const struct tl_store_fields *f,
		       const char *operator_id, const char *peer);
void tl_writer_order(struct tl_writer *w, int64_t test_id, const struct tl_store_fields *f,
		     const char *operator_id, const char *peer);
/* Recomputes ABI and classification of a test from what the store holds. */
void tl_writer_recompute(struct tl_writer *w, int64_t test_id);
/* Completes reply (with http_status, or 500 if a write failed since the last barrier). */
void tl_writer_barrier(struct tl_writer *w, struct tl_reply *reply, int http_status,
		       const char *msg);

#endif
