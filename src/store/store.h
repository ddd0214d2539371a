/* store.h - the record of every test, in one SQLite file.
 *
 * What the store promises:
 * - One file, WAL journal, synchronous=FULL: a write that returned 0 survives a crash or a
 *   power cut. Every write is one transaction (a batch of samples is one transaction), so a
 *   failed write leaves nothing half done and everything committed before it intact.
 * - The schema is versioned (PRAGMA user_version) and migrated forward at open, in one
 *   transaction. A file written by a newer treadlab, a SQLite file of another program and a
 *   file that is not a database are refused with a message saying which.
 * - Threads: a struct tl_store belongs to one thread at a time. Open one per thread on the
 *   same path: the writer thread with tl_store_open, the HTTP thread with
 *   tl_store_open_readonly. WAL lets the reader see every committed write without blocking
 *   the writer, and each query reads one consistent snapshot.
 * - Errors: functions return -1 (or NULL) and fill err with one line starting "store: " that
 *   names the operation, the test and the reason, e.g.
 *   "store: adding event 'onset' to test 12: database is locked".
 *
 * Conventions for arguments:
 * - Times of day are UTC ISO 8601 with milliseconds, exactly "2026-11-25T19:20:00.123Z"
 *   (one fixed format, so text order is time order). Anything else is refused.
 * - Times within a test are milliseconds since the test started (t_ms); JSON gives them
 *   as seconds (t_s = t_ms / 1000.0).
 * - A double that is NAN means "unknown" and is stored as SQL NULL (JSON null); infinities
 *   are refused.
 * - Identifiers (MRN, operator, event kind, source, state, end reason, site, command) are
 *   1..64 bytes of printable UTF-8 (no control characters); free text (detail, protocol
 *   text, audit result) must be valid UTF-8; JSON arguments must parse as JSON.
 * - A write that returns -1 left the file as it was, with one exception no database can
 *   avoid: when the disk fails during the commit itself, the whole write may still be on
 *   disk. It is never there in part.
 */
#ifndef TL_STORE_H
#define TL_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tl_err.h"

struct tl_store;

/* The schema version this code writes. */
#define TL_STORE_SCHEMA_VERSION 10

/* Opens (creating it if needed, mode 0640, and its -wal and -shm alike) the store at path
 * for reading and writing, checks it (PRAGMA quick_check) and migrates it to the current
 * schema. NULL + err if the file cannot be opened, is read-only (then nothing, not even a
 * -wal or -shm file, is left behind), is damaged, is not a database, belongs to another
 * program or was written by a newer treadlab. */
struct tl_store *tl_store_open(const char *path, struct tl_err *err);

/* Opens an existing store for queries only (writes fail). The schema must already be
 * current: open it with tl_store_open first (the daemon's writer does at start-up). */
struct tl_store *tl_store_open_readonly(const char *path, struct tl_err *err);

/* One daemon per database: a lock on "<path>.lock" (created 0640 if missing), held until
 * released or the process ends. NULL + err if another process holds it; the message names
 * the holder's pid when it can be known. Take it before tl_store_open. */
struct tl_store_lock;
struct tl_store_lock *tl_store_lock_take(const char *path, struct tl_err *err);
void tl_store_lock_release(struct tl_store_lock *lock); /* safe with NULL */

/* Finalizes everything and closes. Safe with NULL. */
void tl_store_close(struct tl_store *st);

/* After a call that returned -1: true if it failed on the storage itself (disk or file
 * system full, I/O error, read-only or locked file, damaged file, no memory), so that the
 * same call may succeed later; false if the store refused what it was given (a bad
 * argument, a limit, a missing test), which no retry changes. Only meaningful after
 * tl_store_fault_clear before that call. */
bool tl_store_fault(const struct tl_store *st);
void tl_store_fault_clear(struct tl_store *st);

/* How long a statement waits for another connection's lock before failing with
 * "database is locked" (default 5000 ms). */
int tl_store_busy_timeout_set(struct tl_store *st, int timeout_ms, struct tl_err *err);

/* ---- writes (each one committed and durable when it returns 0) ---- */

/* Closes every test left in state starting, running, resting, stopping or recovery (by a daemon that
 * died) as state "interrupted", keeping everything recorded. ended_at becomes now_utc unless
 * it was already set; end_reason becomes "interrupted" unless one was already recorded.
 * Each gets an event kind "interrupted", source "system", at the last recorded t_ms.
 * All in one transaction. Returns how many tests were closed, -1 on error (then none was,
 * except that an I/O error during the commit itself may leave all of them closed, never some). */
int tl_store_recover_interrupted(struct tl_store *st, const char *now_utc, struct tl_err *err);

struct tl_store_test_new {
	const char *patient_mrn;   /* created if new; no leading or trailing space */
	const char *protocol_name; /* short name, e.g. "gardner-skinner" */
	const char *protocol_text; /* the protocol file as run */
	const char *protocol_json; /* the expanded protocol as run (JSON) */
	const char *operator_id;   /* who started the test */
	const char *started_at;    /* UTC */
	const char *state;         /* initial state; NULL = "running" */
	double time_scale;         /* 1 for patients; > 0 */
};

/* Creates a test (and its patient if new). Returns the test id, or -1. */
int64_t tl_store_test_create(struct tl_store *st, const struct tl_store_test_new *t,
			     struct tl_err *err);

struct tl_store_event {
	int64_t t_ms;            /* since test start, >= 0 */
	const char *kind;        /* "onset", "max", "stage", "stop", ... */
	const char *source;      /* "button-cts", "operator", "system", ... */
	const char *operator_id; /* NULL if no operator was involved */
	const char *detail;      /* free text, NULL for none */
	double value;            /* NAN = none */
	const char *recorded_at; /* UTC */
};

/* Records one event; committed and durable when it returns 0. */
int tl_store_event_add(struct tl_store *st, int64_t test_id, const struct tl_store_event *ev,
		       struct tl_err *err);

struct tl_store_sample {
	int64_t t_ms;
	double target_speed_kmh, target_grade_pct; /* finite */
	double actual_speed_kmh, actual_grade_pct; /* NAN = no feedback */
	double distance_m;                         /* finite */
};

/* Records n samples in one transaction: all of them or none. n == 0 does nothing. */
int tl_store_samples_add(struct tl_store *st, int64_t test_id, const struct tl_store_sample *s,
			 size_t n, struct tl_err *err);

/* Sets the state; end_reason and ended_at are kept when NULL. */
int tl_store_test_set_state(struct tl_store *st, int64_t test_id, const char *state,
			    const char *end_reason, const char *ended_at, struct tl_err *err);

struct tl_store_endpoints {
	double cot_s, pwt_s, icd_m, acd_m, walking_time_s, distance_m, recovery_s; /* NAN = unknown */
};

/* Replaces all seven endpoint columns. */
int tl_store_test_set_endpoints(struct tl_store *st, int64_t test_id,
				const struct tl_store_endpoints *e, struct tl_err *err);

/* At most this many pressures are kept per test: 8 sites at rest and at a handful of
 * post-exercise minutes, with repeats, is well under 100; more is a runaway client, and
 * every record answer carries them all. */
#define TL_STORE_PRESSURES_MAX 200

/* Records one pressure. phase "rest" (minute NAN) or "post" (minute >= 0 after exercise);
 * mmhg 0..400; operator_id NULL for a device reading. Refused once the test has
 * TL_STORE_PRESSURES_MAX. */
int tl_store_pressure_add(struct tl_store *st, int64_t test_id, const char *phase, double minute,
			  const char *site, double mmhg, const char *operator_id,
			  const char *source, const char *at_utc, struct tl_err *err);

/* What a pressure reading is, beyond its number (docs/clinical.md, Values the lab
 * records). */
enum tl_store_pressure_flag {
	/* The artery did not compress at the cuff's maximum: mmhg is the cuff pressure
	 * reached, not a systolic pressure. */
	TL_STORE_PRESSURE_NONCOMPRESSIBLE = 1u << 0,
	/* The operator confirmed a value outside the plausible range (an arm below 50). */
	TL_STORE_PRESSURE_CONFIRMED = 1u << 1,
};

/* tl_store_pressure_add with flags (enum tl_store_pressure_flag bits), kept in the record
 * as the pressure's "noncompressible" and "confirmed" fields. */
int tl_store_pressure_add_flags(struct tl_store *st, int64_t test_id, const char *phase,
				double minute, const char *site, double mmhg, unsigned flags,
				const char *operator_id, const char *source, const char *at_utc,
				struct tl_err *err);

/* Replaces the findings (symptoms the technician recorded, JSON) and who entered them when. */
int tl_store_findings_set(struct tl_store *st, int64_t test_id, const char *findings_json,
			  const char *operator_id, const char *at_utc, struct tl_err *err);

/* ---- changes after the fact, and who made them ----
 * A pressure added or the findings recorded is also kept in the test's history (the
 * record_changes table, written by triggers in the same statement): when, what, the
 * operator named, the peer, the test's state then, the value and the values replaced.
 * The _by forms name the peer (printable, NULL if unknown): "uid 1000 pid 4242" (the
 * Unix socket's credentials) or "127.0.0.1:53122" (TCP). */
int tl_store_pressure_add_by(struct tl_store *st, int64_t test_id, const char *phase,
			     double minute, const char *site, double mmhg, unsigned flags,
			     const char *operator_id, const char *peer, const char *source,
			     const char *at_utc, struct tl_err *err);
int tl_store_findings_set_by(struct tl_store *st, int64_t test_id, const char *findings_json,
			     const char *operator_id, const char *peer, const char *at_utc,
			     struct tl_err *err);
/* How a cuff reading was measured (schema 10): the gap between the two samples around the
 * foot switch press and the deflation rate there, kept beside the value. */
struct tl_store_cuff_meta {
	int interval_ms;
	double deflation_mmhg_s;
};
/* tl_store_pressure_add_by for a cuff's reading; source names the device ("cuff-modbus"). */
int tl_store_pressure_add_cuff(struct tl_store *st, int64_t test_id, const char *phase,
			       double minute, const char *site, double mmhg,
			       const struct tl_store_cuff_meta *m, const char *operator_id,
			       const char *peer, const char *source, const char *at_utc,
			       struct tl_err *err);
/* The history of test_id, oldest first: [{"at","what":"pressure"|"findings","operator",
 * "peer","test_state","previous":<JSON or null>,"value":<JSON>}]; [] if none (also for a
 * test that does not exist). */
json_t *tl_store_history_json(struct tl_store *st, int64_t test_id, struct tl_err *err);

/* Replaces the computed results; either may be NULL (stored as NULL). */
int tl_store_results_set(struct tl_store *st, int64_t test_id, const char *abi_json,
			 const char *classification_json, struct tl_err *err);

/* Appends to the audit trail. operator_id NULL for the system; detail_json NULL or JSON. */
int tl_store_audit(struct tl_store *st, const char *at_utc, const char *operator_id,
		   const char *command, const char *detail_json, const char *result,
		   struct tl_err *err);
/* The same, naming the peer the command came from (printable text, NULL for the system or
 * unknown): "uid 1000 pid 4242" (the Unix socket's credentials) or "127.0.0.1:53122". */
int tl_store_audit_by(struct tl_store *st, const char *at_utc, const char *operator_id,
		      const char *peer, const char *command, const char *detail_json,
		      const char *result, struct tl_err *err);

/* ---- queries ---- */

/* 1 if the test exists, 0 if not, -1 on error. Tests are never deleted, so a query that
 * failed for a test that exists failed for another reason (HTTP 500, not 404). */
int tl_store_test_exists(struct tl_store *st, int64_t test_id, struct tl_err *err);

/* The whole record of one test, a new object (json_decref it); NULL + err if there is no
 * such test ("store: no test 12") or on failure:
 * {"id","patient","protocol","operator","state","end_reason","started_at","ended_at",
 *  "time_scale","cot_s","pwt_s","icd_m","acd_m","walking_time_s","distance_m","recovery_s",
 *  "protocol_as_run":<parsed protocol JSON>,
 *  "events":[{"t_s","kind","source","operator","detail","value","recorded_at"}] in time order,
 *  "pressures":[...as tl_store_pressures_json...],
 *  "findings":<parsed or null>,"findings_operator","findings_at",
 *  "abi":<parsed or null>,"classification":<parsed or null>,
 *  "software_version":<the treadlab version that created the test, null if not recorded>,
 *  "demographics":{"mrn","assigning_authority","family","given","birth_date","sex"},
 *  "order":{"accession","ordering_physician":{"id","family","given"}}}
 * Unknown values are JSON null. */
json_t *tl_store_test_json(struct tl_store *st, int64_t test_id, struct tl_err *err);

/* Summaries of tests, newest first, of one patient (or of all when patient_mrn is NULL):
 * [{"id","patient","protocol","operator","state","end_reason","started_at","ended_at",
 *   "time_scale","cot_s","pwt_s","icd_m","acd_m","walking_time_s","distance_m","recovery_s"}].
 * An unknown patient gives an empty array. */
json_t *tl_store_tests_json(struct tl_store *st, const char *patient_mrn, struct tl_err *err);

/* [{"t_s","target_speed_kmh","actual_speed_kmh","target_grade_pct","actual_grade_pct",
 *   "distance_m"}] in time order; NULL + err if there is no such test. */
json_t *tl_store_samples_json(struct tl_store *st, int64_t test_id, struct tl_err *err);

/* [{"phase","minute","site","mmhg","operator","source","recorded_at"}], rest first, then
 * post by minute, each in the order entered; NULL + err if there is no such test. */
json_t *tl_store_pressures_json(struct tl_store *st, int64_t test_id, struct tl_err *err);

/* The protocol file as run (a new string, free() it); NULL + err if no such test. */
char *tl_store_test_protocol_text(struct tl_store *st, int64_t test_id, struct tl_err *err);

/* The last `limit` audit rows, newest first:
 * [{"id","at","operator","command","detail":<parsed or null>,"result","peer"}]. */
json_t *tl_store_audit_json(struct tl_store *st, size_t limit, struct tl_err *err);

/* ---- operator accounts (schema version 6, issue 11) ----
 * A name is 1 to TL_STORE_USER_NAME_MAX of a-z 0-9 . _ - starting with a letter or a
 * digit (one spelling per person: no case, no look-alike letters); the role is
 * technician, physician or admin; pwhash an Argon2id string (src/common/password.h),
 * never a password. Times are UTC as elsewhere. */
#define TL_STORE_USER_NAME_MAX 32

bool tl_store_user_name_ok(const char *name);
bool tl_store_user_role_ok(const char *role);

struct tl_store_user {
	int64_t id;
	char name[TL_STORE_USER_NAME_MAX + 1];
	char role[16];
	char pwhash[128];
	bool disabled;
	char created_at[32], updated_at[32];
};

/* Opens an existing store, already at the current schema, for reading and writing
 * without tl_store_open's whole-file check (the daemon's writer made that at start): the
 * API's account changes, rare and answered at once, use one for a request. NULL + err. */
struct tl_store *tl_store_open_current(const char *path, struct tl_err *err);

/* Adds an account (enabled). Returns its id, 0 if the name is taken (err says so), -1. */
int64_t tl_store_user_add(struct tl_store *st, const char *name, const char *role,
			  const char *pwhash, const char *at_utc, struct tl_err *err);
/* Reads an account: 1 and *out, 0 if there is none by that name, -1 + err. */
int tl_store_user_get(struct tl_store *st, const char *name, struct tl_store_user *out,
		      struct tl_err *err);
/* Replace the hash / set or clear disabled (updated_at becomes at_utc): 1, 0 if there is
 * no such account, -1 + err. */
int tl_store_user_set_password(struct tl_store *st, const char *name, const char *pwhash,
			       const char *at_utc, struct tl_err *err);
int tl_store_user_set_disabled(struct tl_store *st, const char *name, bool disabled,
			       const char *at_utc, struct tl_err *err);
/* Every account by name, without its hash:
 * [{"name","role","disabled","created_at","updated_at"}]. */
json_t *tl_store_users_json(struct tl_store *st, struct tl_err *err);

/* ---- signed reports (issue 12) ----
 * A signature keeps the PDF bytes as signed with their SHA-256 and the hash of the record
 * they were rendered from, as version 1, 2, ... of the test's report; a signed version is
 * never changed or deleted (the database refuses it). */

/* SHA-256 of len bytes as 64 lowercase hex digits; 0, or -1. */
int tl_store_sha256_hex(const void *data, size_t len, char out[65]);

/* The hash of a test's record as the report is rendered from it: tl_store_test_json and
 * tl_store_samples_json, keys sorted, compact. 0, or -1 + err (no such test too).
 * Of "demographics" and "order" (schema 8) only what the report shows counts: the
 * patient's family and given names, birth date and sex, and only once one is known. A
 * record without them hashes exactly as before schema 8, so a report signed then does
 * not look amended; an accession, an authority or a physician entered after signing is
 * no amendment. */
int tl_store_record_hash(struct tl_store *st, int64_t test_id, char out[65], struct tl_err *err);
/* The same hash of a record and its samples already read (tl_store_test_json,
 * tl_store_samples_json): 0, or -1 (out of memory). */
int tl_store_record_hash_of(const json_t *rec, const json_t *samples, char out[65]);

/* Stores a signed report as the test's next version: the PDF bytes (a PDF, at most
 * 64 MiB), the signer (an identifier), when (UTC) and the record hash (64 lowercase hex
 * digits). Returns the version (1 for the first), or -1 + err. */
int tl_store_report_sign(struct tl_store *st, int64_t test_id, const char *signer,
			 const char *signed_at, const unsigned char *pdf, size_t len,
			 const char *record_hash, struct tl_err *err);

/* ---- the outbox (issue 13; docs/records.md, The outbox) ---- */

/* Builds one message inside the transaction that stores it: for kind ("hl7" or "fhir")
 * with its control id (MSH-10, or the Bundle's id) and the report version it carries.
 * Returns 1 with *payload (malloc'd, taken) and *len, 0 to queue nothing of this kind
 * (err says why), -1 + err to undo the whole transaction. */
typedef int (*tl_store_outbox_build_fn)(void *arg, const char *kind, const char *control_id,
					int report_version, unsigned char **payload, size_t *len,
					struct tl_err *err);

/* The messages a signature (or a completion) queues in its own transaction. */
struct tl_store_outbox_plan {
	const char *kinds[2];
	size_t n;
	tl_store_outbox_build_fn build;
	void *arg;
};

/* tl_store_report_sign that also queues plan's messages (plan NULL: none) in the same
 * transaction, each carrying the new version: both are committed, or neither. */
int tl_store_report_sign_send(struct tl_store *st, int64_t test_id, const char *signer,
			      const char *signed_at, const unsigned char *pdf, size_t len,
			      const char *record_hash, const struct tl_store_outbox_plan *plan,
			      struct tl_err *err);

bool tl_store_outbox_kind_ok(const char *kind);

/* Queues plan's messages for a test's report version in one transaction (an operator's
 * `treadlab outbox send` once the data a message needs is recorded). Returns how many were
 * queued (0: err says why the last was not: built with missing data, or already queued),
 * or -1 + err. */
int tl_store_outbox_queue(struct tl_store *st, int64_t test_id, int version,
			  const struct tl_store_outbox_plan *plan, const char *now,
			  struct tl_err *err);

/* Queues a message already built (tests, and a message queued again on purpose:
 * resend_of names the earlier one, 0 if none). The control id is the store's: read it
 * back with tl_store_outbox_msg_json. Returns the id, 0 if the test already has a message
 * of this kind and version (and resend_of is 0), -1 + err. */
int64_t tl_store_outbox_add(struct tl_store *st, int64_t test_id, const char *kind, int version,
			    int64_t resend_of, const unsigned char *payload, size_t len,
			    const char *now, struct tl_err *err);

/* At start: messages left 'sending' by a daemon that died go back to 'queued' (due now),
 * each with a history line "resumed". Returns how many, or -1 + err. */
int tl_store_outbox_resume(struct tl_store *st, const char *now, struct tl_err *err);

struct tl_store_outbox_msg {
	int64_t id, test_id;
	char kind[8];
	char control_id[64];
	char state[16];
	int attempts;
	char next_at[32];
	unsigned char *payload; /* malloc'd, NUL-terminated after len bytes */
	size_t len;
};
void tl_store_outbox_msg_free(struct tl_store_outbox_msg *m);

/* The oldest queued message of kind due at now: 1 and *out (free it with
 * tl_store_outbox_msg_free); 0 if none is due (next_at: when the earliest queued one is,
 * empty if none is queued); -1 + err. */
int tl_store_outbox_next(struct tl_store *st, const char *kind, const char *now,
			 struct tl_store_outbox_msg *out, char next_at[32], struct tl_err *err);

/* queued -> sending, attempts + 1, history "attempt". 1, 0 if it is no longer queued
 * (cancelled meanwhile), -1 + err. */
int tl_store_outbox_attempt(struct tl_store *st, int64_t id, const char *now, struct tl_err *err);

/* The answer to an attempt: history event (e.g. "ack AA", "timeout") with detail, and the
 * new state: "delivered", "failed", or "queued" again due at next_at (history "retry").
 * 1, 0 if the message was not being sent, -1 + err. */
int tl_store_outbox_outcome(struct tl_store *st, int64_t id, const char *event, const char *detail,
			    const char *state, const char *next_at, const char *now,
			    struct tl_err *err);

/* An operator's act (who: the account or operator, NULL: unknown): retry queues a failed or
 * cancelled message again, due now, with a new round of attempts and the same control id;
 * cancel stops a queued or failed one. 1 done, 0 no such message, -2 not in a state it
 * applies to (err says which), -1 + err. */
int tl_store_outbox_retry(struct tl_store *st, int64_t id, const char *who, const char *now,
			  struct tl_err *err);
int tl_store_outbox_cancel(struct tl_store *st, int64_t id, const char *who, const char *now,
			   struct tl_err *err);

/* Every message, oldest first, without its bytes: [{"id","test","kind","report_version",
 * "resend_of","control_id","created_at","state","attempts","next_at","last_error",
 * "delivered_at","bytes"}]. */
json_t *tl_store_outbox_json(struct tl_store *st, struct tl_err *err);
/* One message as above with "history":[{"at","event","detail"}] (and "payload", the
 * message as text, when asked); NULL + err ("store: no outbox message 3") if none. */
json_t *tl_store_outbox_msg_json(struct tl_store *st, int64_t id, bool with_payload,
				 struct tl_err *err);
/* Messages not delivered (queued, sending or failed) and of these the failed ones. */
int tl_store_outbox_counts(struct tl_store *st, int *undelivered, int *failed, struct tl_err *err);

struct tl_store_signed_report {
	int version;
	char signed_by[65];
	char signed_at[32];
	char pdf_sha256[65];
	char record_sha256[65];
	unsigned char *pdf; /* malloc'd: free() it */
	size_t len;
};

/* The latest signed version of a test's report: 1 and *out filled, 0 if none was signed
 * (or no such test), -1 + err (also when the stored bytes no longer match their hash). */
int tl_store_report_latest(struct tl_store *st, int64_t test_id, struct tl_store_signed_report *out,
			   struct tl_err *err);

/* ---- patient demographics and order data (schema version 8, issue 13) ----
 * Per patient (by MRN): what an HL7 PID or a FHIR Patient needs. Per test: its order.
 * Every field may be unknown (NULL, JSON null). A change names the fields it writes; the
 * others keep their value. Each change is one transaction with its audit row, whose
 * detail keeps the values it replaced: {"mrn"|"test", "previous":{...}|null, "value":{...}}
 * (command "patient" or "order"), so nothing entered is ever lost.
 * Values: assigning_authority, accession and physician id are identifiers (1..64
 * printable bytes); family and given names 1..TL_STORE_NAME_MAX printable bytes; no
 * leading or trailing space in any; birth_date a real date YYYY-MM-DD, not after the
 * day of the change, not before 1880; sex female|male|other|unknown (FHIR
 * administrative-gender; HL7 maps it to F|M|O|U). */
#define TL_STORE_NAME_MAX 100

enum tl_store_demo_field {
	TL_STORE_DEMO_AUTHORITY,
	TL_STORE_DEMO_FAMILY,
	TL_STORE_DEMO_GIVEN,
	TL_STORE_DEMO_BIRTH_DATE,
	TL_STORE_DEMO_SEX,
	TL_STORE_DEMO_N
};
enum tl_store_order_field {
	TL_STORE_ORDER_ACCESSION,
	TL_STORE_ORDER_PHYSICIAN_ID,
	TL_STORE_ORDER_PHYSICIAN_FAMILY,
	TL_STORE_ORDER_PHYSICIAN_GIVEN,
	TL_STORE_ORDER_N
};

/* A change: field i is written when set[i], with value[i] (NULL clears it). */
struct tl_store_fields {
	const char *value[TL_STORE_DEMO_N];
	bool set[TL_STORE_DEMO_N];
};

/* The JSON key of a field: "assigning_authority", ..., and for the order "accession",
 * "physician_id", "physician_family", "physician_given". */
const char *tl_store_demo_key(enum tl_store_demo_field f);
const char *tl_store_order_key(enum tl_store_order_field f);

/* Checks the values a change sets (today_utc: a UTC time, the day a birth date may not
 * be after). 0, or -1 + err naming the field ("birth_date '2099-01-01' is after today
 * (2026-11-26)"), without the "store: " prefix: the API answers it as it is. */
int tl_store_demographics_check(const struct tl_store_fields *f, const char *today_utc,
				struct tl_err *err);
int tl_store_order_check(const struct tl_store_fields *f, struct tl_err *err);

/* Writes a patient's demographics, creating the patient if the MRN is new (a lab
 * registers the patient before the walk). at_utc is when (and the day birth_date is
 * checked against); operator_id and peer as for tl_store_audit_by. Returns 1 if the
 * patient was created, 0 if changed, -1 + err. */
int tl_store_patient_set(struct tl_store *st, const char *mrn, const struct tl_store_fields *f,
			 const char *at_utc, const char *operator_id, const char *peer,
			 struct tl_err *err);
/* The demographics of a patient: 1 and *out = {"mrn","assigning_authority","family",
 * "given","birth_date","sex"} (unknown: null), 0 if there is no such patient, -1 + err. */
int tl_store_patient_get(struct tl_store *st, const char *mrn, json_t **out, struct tl_err *err);
/* Writes a test's order (fields TL_STORE_ORDER_*). 0, or -1 + err ("no test 12"). */
int tl_store_order_set(struct tl_store *st, int64_t test_id, const struct tl_store_fields *f,
		       const char *at_utc, const char *operator_id, const char *peer,
		       struct tl_err *err);

/* Calls fn for each test started in [from, to) (UTC times; NULL: no bound), oldest first,
 * with {"id","patient","protocol","operator","state","end_reason","started_at","ended_at",
 * "time_scale","cot_s","pwt_s","icd_m","acd_m","walking_time_s","distance_m","recovery_s",
 * "classification":{"category","abi":{"right"|"left":{"rest","rest_category","post",
 * "criteria"}},"tbi":{"right"|"left":{"value"}},"red_flags","severity":{"rutherford"|
 * "fontaine":{"grade"}}} or null} (the classification's fields the export uses; fn must not
 * keep it). One snapshot. Returns how many tests, or -1 + err (also when fn returned < 0). */
int tl_store_export_each(struct tl_store *st, const char *from, const char *to,
			 int (*fn)(const json_t *test, void *arg), void *arg, struct tl_err *err);

#endif
