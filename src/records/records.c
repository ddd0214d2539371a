/* records.c - the delivery rules the HL7 and FHIR outboxes share. */
#include "records.h"

#include <string.h>

int tl_send_trigger_parse(const char *s, enum tl_send_trigger *out)
{
	if (!strcmp(s, "sign"))
		*out = TL_SEND_ON_SIGN;
	else if (!strcmp(s, "complete"))
		*out = TL_SEND_ON_COMPLETE;
	else
		return -1;
	return 0;
}

const char *tl_send_trigger_name(enum tl_send_trigger t)
{
	return t == TL_SEND_ON_COMPLETE ? "complete" : "sign";
}

long tl_delivery_backoff_ms(const struct tl_delivery_conf *d, int failed_attempts)
{
	long wait = d->retry_min_ms;
	for (int i = 1; i < failed_attempts && wait < d->retry_max_ms; i++)
		wait *= 2;
	return wait < d->retry_max_ms ? wait : d->retry_max_ms;
}
