/* records.h - delivery of a test's record to the medical record: the destinations'
 * settings ([hl7] and [fhir] in treadlabd.conf) and what one attempt at sending answers.
 *
 * The message builders (hl7.h, fhir.h) are pure: they take the record as the store gives
 * it (tl_store_test_json) and these settings, read no clock and do no I/O. The transports
 * (MLLP, HTTP) make one attempt and say how it went; the outbox (the store's table of
 * messages, and the daemon's sender) decides what happens next. */
#ifndef TL_RECORDS_H
#define TL_RECORDS_H

#include <stdbool.h>

/* When a test's messages are made and queued. */
enum tl_send_trigger {
	TL_SEND_ON_SIGN,     /* a physician signed the report (the default) */
	TL_SEND_ON_COMPLETE, /* the test ended with its record complete (no signature) */
};

/* Retry rules shared by both destinations. */
struct tl_delivery_conf {
	enum tl_send_trigger trigger;
	int timeout_ms;     /* the whole answer (an ACK, an HTTP response) within this */
	int max_attempts;   /* then the message is failed, with an alert */
	int retry_min_ms;   /* the first wait after a failed attempt; doubled each time */
	int retry_max_ms;   /* up to this */
};

struct tl_hl7_conf {
	char send_to[300];            /* HOST:PORT of the interface engine; empty: no HL7 */
	char host[256];               /* send_to split (tl_config_load fills them) */
	int port;
	struct tl_delivery_conf d;
	char sending_application[64]; /* MSH-3 */
	char sending_facility[64];    /* MSH-4 */
	char receiving_application[64]; /* MSH-5 */
	char receiving_facility[64];  /* MSH-6 */
	char patient_class[4];        /* PV1-2 (e.g. O); empty: no PV1 segment */
	char ed_type[32];             /* the embedded PDF's OBX-5 type, e.g. Application */
	char ed_subtype[32];          /* and subtype, e.g. PDF */
};

struct tl_fhir_conf {
	char url[512];        /* the server's base URL; empty: no FHIR */
	char token_file[256]; /* a file holding the bearer token; empty: none */
	char ca_file[256];    /* CA certificates for TLS; empty: the system's */
	struct tl_delivery_conf d;
};

/* What one attempt at sending a message came to. */
enum tl_send_result {
	TL_SEND_DELIVERED, /* AA; HTTP 2xx */
	TL_SEND_REJECTED,  /* AE; HTTP 4xx: the receiver refused this message; sending it
			    * again unchanged would be refused again (failed, alert) */
	TL_SEND_RETRY,     /* AR, no answer by the deadline, a broken connection, HTTP 5xx:
			    * the same message again, after the backoff */
};

/* "sign" or "complete"; returns 0, or -1 for anything else. */
int tl_send_trigger_parse(const char *s, enum tl_send_trigger *out);
const char *tl_send_trigger_name(enum tl_send_trigger t);

/* How long to wait before the next attempt after failed_attempts (>= 1) failed ones:
 * retry_min_ms, doubled for each further failure, never more than retry_max_ms. */
long tl_delivery_backoff_ms(const struct tl_delivery_conf *d, int failed_attempts);

#endif
