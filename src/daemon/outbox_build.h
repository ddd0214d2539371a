/* outbox_build.h - building the messages a signature queues (outbox_build.c). */
#ifndef TL_OUTBOX_BUILD_H
#define TL_OUTBOX_BUILD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "store.h"

struct tl_outbox_build {
	const struct tl_config *cfg;
	json_t *rec;              /* the record as signed (the FHIR build adds "signature") */
	const unsigned char *pdf; /* the PDF as signed */
	size_t len;
	const char *signer;
	char now[32];             /* the messages' time */
	char signed_at[32];       /* the signature's time; empty: now */
	char missing[2][sizeof ((struct tl_err *)0)->msg]; /* [0] hl7, [1] fhir: why not queued */
};

/* The plan of every destination configured (on_sign_only: those with trigger = sign, for
 * a signature). */
void tl_outbox_plan(const struct tl_config *cfg, bool on_sign_only, struct tl_outbox_build *b,
		    struct tl_store_outbox_plan *plan);

/* {"hl7":"queued"|"not sent: <why>", ...} of a plan just carried out; NULL if out of
 * memory. Each kind not sent is audited (command "outbox queue", result "not sent"). */
struct tl_writer;
json_t *tl_outbox_plan_result(const struct tl_store_outbox_plan *plan,
			      const struct tl_outbox_build *b, int64_t test_id,
			      struct tl_writer *w, const char *who, const char *peer);

#endif
