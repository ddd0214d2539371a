/* outbox_build.h - building the messages a signature queues (outbox_build.c). */
#ifndef TL_OUTBOX_BUILD_H
#define TL_OUTBOX_BUILD_H

#include <jansson.h>
#include <stddef.h>

#include "config.h"
#include "store.h"

struct tl_outbox_build {
	const struct tl_config *cfg;
	json_t *rec;              /* the record as signed (the FHIR build adds "signature") */
	const unsigned char *pdf; /* the PDF as signed */
	size_t len;
	const char *signer;
	char now[32];             /* the signature's time: the messages' time */
	char missing[2][300];     /* [0] hl7, [1] fhir: why it was not queued; empty if it was */
};

/* The plan of a signature: each destination configured with trigger = sign. */
void tl_outbox_plan_sign(const struct tl_config *cfg, struct tl_outbox_build *b,
			 struct tl_store_outbox_plan *plan);

#endif
