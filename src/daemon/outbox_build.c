/* outbox_build.c - the messages a signature queues (docs/records.md, The outbox): built
 * inside the signature's own transaction (tl_store_report_sign_send), so the store holds
 * both or neither, each with the control id the store names (MSH-10, or the seed of the
 * Bundle's ids). A record that lacks what a message needs is signed all the same; that
 * message is not queued, and why is kept in missing[] for the answer and the audit. */
#include "outbox_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhir.h"
#include "hl7.h"
#include "writer.h"

static int build(void *arg, const char *kind, const char *control_id, int version,
		 unsigned char **payload, size_t *len, struct tl_err *err)
{
	struct tl_outbox_build *b = arg;
	struct tl_err e = {""};
	int k = !strcmp(kind, "fhir");
	if (k) {
		if (json_object_set_new(b->rec, "signature",
					json_pack("{s:s, s:s, s:i}", "signed_by", b->signer, "signed_at",
						  b->signed_at[0] ? b->signed_at : b->now, "version",
						  version))) {
			tl_err_set(err, "outbox: building the FHIR Bundle: out of memory");
			return -1;
		}
		json_t *bundle = tl_fhir_bundle(b->rec, b->pdf, b->len, control_id, b->now, &e);
		char *text = bundle ? tl_fhir_dump(bundle) : NULL;
		json_decref(bundle);
		if (text) {
			*payload = (unsigned char *)text;
			*len = strlen(text);
			return 1;
		}
		if (bundle)
			snprintf(e.msg, sizeof e.msg, "out of memory");
	} else {
		char *msg;
		if (tl_hl7_oru(b->rec, b->pdf, b->len, &b->cfg->hl7, control_id, b->now, &msg, len,
			       &e) == 0) {
			*payload = (unsigned char *)msg;
			return 1;
		}
	}
	if (strstr(e.msg, "out of memory")) {
		*err = e;
		return -1;
	}
	snprintf(b->missing[k], sizeof b->missing[k], "%s", e.msg);
	return 0;
}

void tl_outbox_plan(const struct tl_config *cfg, bool on_sign_only, struct tl_outbox_build *b,
		    struct tl_store_outbox_plan *plan)
{
	memset(plan, 0, sizeof *plan);
	b->cfg = cfg;
	b->missing[0][0] = b->missing[1][0] = 0;
	if (cfg->hl7.send_to[0] && (!on_sign_only || cfg->hl7.d.trigger == TL_SEND_ON_SIGN))
		plan->kinds[plan->n++] = "hl7";
	if (cfg->fhir.url[0] && (!on_sign_only || cfg->fhir.d.trigger == TL_SEND_ON_SIGN))
		plan->kinds[plan->n++] = "fhir";
	plan->build = build;
	plan->arg = b;
}

json_t *tl_outbox_plan_result(const struct tl_store_outbox_plan *plan,
			      const struct tl_outbox_build *b, int64_t test_id,
			      struct tl_writer *w, const char *who, const char *peer)
{
	json_t *sent = json_object();
	for (size_t i = 0; sent && i < plan->n; i++) {
		const char *m = b->missing[strcmp(plan->kinds[i], "hl7") ? 1 : 0];
		char note[sizeof b->missing[0] + 16];
		snprintf(note, sizeof note, "not sent: %s", m);
		if (json_object_set_new(sent, plan->kinds[i], json_string(m[0] ? note : "queued"))) {
			json_decref(sent);
			return NULL;
		}
		if (!m[0])
			continue;
		/* kept in the audit trail; `treadlab outbox send` once the data is there */
		json_t *d = json_pack("{s:I, s:s, s:s}", "test", (json_int_t)test_id, "kind",
				      plan->kinds[i], "why", m);
		char *detail = d ? json_dumps(d, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
		json_decref(d);
		tl_writer_audit_by(w, who, peer, "outbox queue", detail, "not sent");
		free(detail);
	}
	return sent;
}
