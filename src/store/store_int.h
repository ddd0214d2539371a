/* store_int.h - what the store's files share: the connection, its statement cache,
 * transactions, error reporting and argument checks. Not for use outside src/store. */
#ifndef TL_STORE_INT_H
#define TL_STORE_INT_H

#include <sqlite3.h>
#include <stdbool.h>

#include "store.h"

/* Every statement the store runs more than once; prepared on first use and kept for the
 * life of the connection (store_db.c holds the SQL). */
enum tl_stmt_id {
	TL_ST_BEGIN_WRITE,
	TL_ST_BEGIN_READ,
	TL_ST_COMMIT,
	TL_ST_ROLLBACK,
	TL_ST_PATIENT_FIND,
	TL_ST_PATIENT_ADD,
	TL_ST_TEST_ADD,
	TL_ST_TEST_EXISTS,
	TL_ST_EVENT_ADD,
	TL_ST_SAMPLE_ADD,
	TL_ST_TEST_STATE,
	TL_ST_TEST_ENDPOINTS,
	TL_ST_PRESSURE_ADD,
	TL_ST_FINDINGS_SET,
	TL_ST_RESULTS_SET,
	TL_ST_AUDIT_ADD,
	TL_ST_OPEN_TESTS,
	TL_ST_LAST_T_MS,
	TL_ST_INTERRUPT,
	TL_ST_TEST_GET,
	TL_ST_EVENTS_GET,
	TL_ST_PRESSURES_GET,
	TL_ST_SAMPLES_GET,
	TL_ST_TESTS_ALL,
	TL_ST_TESTS_OF_PATIENT,
	TL_ST_PROTOCOL_TEXT,
	TL_ST_AUDIT_GET,
	TL_ST_JSON_VALID,
	TL_ST_PRESSURE_COUNT,
	TL_ST_COUNT
};

struct tl_store {
	sqlite3 *db;
	bool read_only;
	bool fault; /* the last SQLite failure was the storage's own (see tl_store_fault) */
	sqlite3_stmt *stmt[TL_ST_COUNT];
};

/* The longest "what" a function describes itself with ("adding event 'onset' to test 12"). */
#define TL_STORE_WHAT_MAX 200

/* ---- store_db.c ---- */

/* Fills err with "store: <what>: <SQLite's message>" and returns -1. */
int tl_store_fail_db(struct tl_store *st, const char *what, struct tl_err *err);

/* The cached statement, prepared on first use; NULL + err on failure. */
sqlite3_stmt *tl_store_stmt(struct tl_store *st, enum tl_stmt_id id, const char *what,
			    struct tl_err *err);

/* Steps stmt to completion (expecting no rows), resets it; 0 or -1 + err. */
int tl_store_exec_stmt(struct tl_store *st, sqlite3_stmt *stmt, const char *what,
		       struct tl_err *err);

/* Resets stmt and forgets its bindings, so the next user starts clean. */
void tl_store_stmt_done(sqlite3_stmt *stmt);

/* A write transaction takes the write lock at BEGIN (IMMEDIATE), so it never has to upgrade
 * a read lock half way and deadlock against another writer. */
int tl_store_begin_write(struct tl_store *st, const char *what, struct tl_err *err);
/* A read transaction gives a query with several statements one consistent snapshot. */
int tl_store_begin_read(struct tl_store *st, const char *what, struct tl_err *err);
int tl_store_commit(struct tl_store *st, const char *what, struct tl_err *err);
/* Rolls back if a transaction is open; keeps err (the first failure is the one to report). */
void tl_store_rollback(struct tl_store *st);
/* -1 + err on a connection opened read-only. */
int tl_store_check_writable(struct tl_store *st, const char *what, struct tl_err *err);

/* Binds NULL for NAN, the value otherwise. */
int tl_store_bind_real(sqlite3_stmt *stmt, int i, double v);
/* Binds NULL for a NULL pointer, the text otherwise (copied). */
int tl_store_bind_text(sqlite3_stmt *stmt, int i, const char *s);

/* ---- store_check.c: argument checks; each fills err with "store: <what>: ..." ---- */

int tl_store_check_utc(const char *at, const char *name, const char *what, struct tl_err *err);
/* An identifier: 1..64 printable characters; NULL refused unless optional. */
int tl_store_check_id(const char *s, const char *name, bool optional, const char *what,
		      struct tl_err *err);
/* Free text: valid UTF-8 without NUL; NULL refused unless optional. */
int tl_store_check_text(const char *s, const char *name, bool optional, const char *what,
			struct tl_err *err);
/* JSON text that parses; NULL refused unless optional. */
int tl_store_check_json(struct tl_store *st, const char *s, const char *name, bool optional,
			const char *what, struct tl_err *err);
/* Explains why jansson could not parse s (stored or about to be) in err; returns -1. */
int tl_store_json_explain(struct tl_store *st, const char *s, const json_error_t *jerr,
			  const char *name, const char *what, struct tl_err *err);
/* Finite, or NAN when unknown is allowed. */
int tl_store_check_real(double v, const char *name, bool nan_ok, const char *what,
			struct tl_err *err);
int tl_store_check_mrn(const char *mrn, const char *what, struct tl_err *err);

/* store_outbox.c: queues plan's messages for test_id inside the open write transaction.
 * Returns how many were queued, or -1 + err. */
struct tl_store_outbox_plan;
int tl_store_outbox_add_in(struct tl_store *st, int64_t test_id, int version,
			   const struct tl_store_outbox_plan *plan, const char *now,
			   struct tl_err *err);

/* ---- store_patient.c ---- */

/* Adds "demographics" and "order" to a test's record from the row's columns first..
 * first+8 (patients' five, then tests' four, as in TL_ST_TEST_GET); -1 if out of memory. */
int tl_store_demographics_into(json_t *rec, sqlite3_stmt *stmt, int first, const char *mrn);

/* ---- store_schema.c ---- */

/* Reads the header: 0 and the schema version (0 for a new file) if the file is empty or a
 * treadlab store not newer than this code; -1 + err otherwise. */
int tl_store_schema_identify(struct tl_store *st, const char *path, int *version,
			     struct tl_err *err);
/* Brings a read-write connection to TL_STORE_SCHEMA_VERSION (path for messages). */
int tl_store_migrate(struct tl_store *st, const char *path, struct tl_err *err);
/* Checks that a connection holds a current treadlab store without changing it. */
int tl_store_schema_check(struct tl_store *st, const char *path, struct tl_err *err);

#endif
