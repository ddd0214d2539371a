/* api_report.c - the report of a test as PDF, and the research export as CSV (issue 12;
 * docs/report.md, docs/api.md).
 *
 * GET /v1/tests/{id}/report.pdf: the latest signed version's bytes, unchanged, while the
 * record is what was signed (its hash matches); otherwise a fresh preliminary rendering,
 * which says which signed version it amends. GET /v1/export.csv?from=DATE&to=DATE: one
 * row per test started in those days (README.md, Data dictionary).
 * POST /v1/tests/{id}/sign {"user","password"}: a physician signs the report of a finished
 * test; the password is asked at every signature, as a signature is the signer's own act
 * (a session alone does not sign). The signed PDF is kept as the test's next version. */
#include "api_int.h"
#include "api_pool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "outbox.h"
#include "outbox_build.h"
#include "report.h"
#include "store.h"
#include "writer.h"

/* The lab's guidance text is a page at most. */
#define GUIDANCE_MAX (16 * 1024)

static enum MHD_Result send_bytes(struct MHD_Connection *c, unsigned status, const char *type,
				  void *data, size_t len, const char *note)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(data);
		return tl_api_send_error(c, 500, "out of memory");
	}
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Connection", "close");
	if (note)
		MHD_add_response_header(r, "X-Treadlab-Report", note);
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* Reads the guidance file (UTF-8 text, at most GUIDANCE_MAX bytes). */
static char *read_guidance(const char *path, struct tl_err *err)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		tl_err_set(err, "report: patient_guidance %s: %s", path, strerror(errno));
		return NULL;
	}
	char *s = malloc(GUIDANCE_MAX + 1);
	size_t n = s ? fread(s, 1, GUIDANCE_MAX + 1, f) : 0;
	bool bad = ferror(f);
	fclose(f);
	if (!s || bad || n > GUIDANCE_MAX) {
		tl_err_set(err, "report: patient_guidance %s: %s", path,
			   !s ? "out of memory" : bad ? "read error" : "longer than 16 KiB");
		free(s);
		return NULL;
	}
	s[n] = 0;
	return s;
}

/* The [report] options; *guidance and addr hold what they point to. */
static int report_opts(const struct tl_config *cfg, struct tl_report_opts *o, char *addr,
		       size_t cap, char **guidance, struct tl_err *err)
{
	memset(o, 0, sizeof *o);
	*guidance = NULL;
	if (cfg->report_paper[0])
		tl_report_paper_parse(cfg->report_paper, &o->paper);
	o->lab_name = cfg->report_lab_name;
	/* "\n" in the configured address starts a line (treadlabd.conf(5)) */
	size_t k = 0;
	for (const char *p = cfg->report_lab_address; *p && k + 1 < cap; p++) {
		if (p[0] == '\\' && p[1] == 'n') {
			addr[k++] = '\n';
			p++;
		} else {
			addr[k++] = *p;
		}
	}
	addr[k] = 0;
	o->lab_address = addr;
	o->logo_png = cfg->report_logo;
	o->patient_page = cfg->report_patient_page;
	if (cfg->report_guidance[0]) {
		*guidance = read_guidance(cfg->report_guidance, err);
		if (!*guidance)
			return -1;
		o->patient_guidance = *guidance;
	}
	return 0;
}

bool tl_api_signed_read(struct tl_api *api, struct MHD_Connection *c, int64_t id,
			struct tl_api_signed *s, enum MHD_Result *ret)
{
	memset(s, 0, sizeof *s);
	struct tl_err err;
	struct tl_store *st = tl_api_pool_take(api->pool, &err);
	if (!st) {
		*ret = tl_api_send_error(c, 500, "%s", err.msg);
		return false;
	}
	struct tl_store_signed_report sr = {0};
	char hash[65];
	int has = 0;
	bool ok = (s->rec = tl_store_test_json(st, id, &err)) &&
		  tl_store_record_hash(st, id, hash, &err) == 0 &&
		  (has = tl_store_report_latest(st, id, &sr, &err)) >= 0;
	tl_api_pool_give(api->pool, st, !ok);
	if (!ok) {
		free(sr.pdf);
		tl_api_signed_free(s);
		*ret = tl_api_send_error(c, 500, "%s", err.msg);
		return false;
	}
	s->has = has == 1;
	s->current = s->has && !strcmp(sr.record_sha256, hash);
	s->version = sr.version;
	memcpy(s->signed_by, sr.signed_by, sizeof s->signed_by);
	memcpy(s->signed_at, sr.signed_at, sizeof s->signed_at);
	s->pdf = sr.pdf;
	s->len = sr.len;
	return true;
}

void tl_api_signed_free(struct tl_api_signed *s)
{
	json_decref(s->rec);
	free(s->pdf);
	s->rec = NULL;
	s->pdf = NULL;
}

enum MHD_Result tl_api_get_report(struct tl_api *api, struct MHD_Connection *c,
				  struct tl_api_request *rq)
{
	enum MHD_Result ret;
	if (!tl_api_test_exists(api, c, rq->id, &ret))
		return ret;
	struct tl_err err;
	struct tl_store *st = tl_api_pool_take(api->pool, &err);
	if (!st)
		return tl_api_send_error(c, 500, "%s", err.msg);
	json_t *rec = NULL, *samples = NULL, *earlier = NULL;
	char *guidance = NULL, hash[65];
	struct tl_store_signed_report signed_r = {0};
	int has_signed;
	if (tl_store_record_hash(st, rq->id, hash, &err) < 0 ||
	    (has_signed = tl_store_report_latest(st, rq->id, &signed_r, &err)) < 0)
		goto fail;
	if (has_signed && !strcmp(signed_r.record_sha256, hash)) {
		/* What the physician signed, byte for byte. */
		char note[64];
		snprintf(note, sizeof note, "signed version %d", signed_r.version);
		tl_api_pool_give(api->pool, st, false);
		return send_bytes(c, 200, "application/pdf", signed_r.pdf, signed_r.len, note);
	}
	if (!(rec = tl_store_test_json(st, rq->id, &err)) ||
	    !(samples = tl_store_samples_json(st, rq->id, &err)) ||
	    !(earlier = tl_store_tests_json(st, json_string_value(json_object_get(rec, "patient")),
					    &err)))
		goto fail;
	tl_api_pool_give(api->pool, st, false); /* rendering needs no connection */
	st = NULL;
	struct tl_report_opts o;
	char addr[sizeof api->d->cfg.report_lab_address];
	if (report_opts(&api->d->cfg, &o, addr, sizeof addr, &guidance, &err) < 0)
		goto fail;
	if (has_signed) {
		o.amended_version = signed_r.version;
		o.amended_by = signed_r.signed_by;
		o.amended_at = signed_r.signed_at;
	}
	unsigned char *pdf;
	size_t len;
	if (tl_report_pdf(rec, samples, earlier, &o, NULL, &pdf, &len, &err) < 0)
		goto fail;
	free(signed_r.pdf);
	free(guidance);
	json_decref(rec);
	json_decref(samples);
	json_decref(earlier);
	return send_bytes(c, 200, "application/pdf", pdf, len,
			  has_signed ? "preliminary, amended after a signed version" : "preliminary");
fail:
	if (st)
		tl_api_pool_give(api->pool, st, true);
	free(signed_r.pdf);
	free(guidance);
	json_decref(rec);
	json_decref(samples);
	json_decref(earlier);
	return tl_api_send_error(c, 500, "%s", err.msg);
}

/* Whether a test in this state is still being done (its record may still change). */
static bool in_progress(const char *state)
{
	static const char *const busy[] = {"starting", "running", "resting", "stopping",
					   "recovery", NULL};
	for (size_t i = 0; busy[i]; i++)
		if (state && !strcmp(state, busy[i]))
			return true;
	return false;
}

static void audit_sign(struct tl_api *api, struct MHD_Connection *c, const char *user,
		       int64_t id, const char *result)
{
	char peer[64], detail[64];
	tl_api_peer_of(c, peer, sizeof peer);
	snprintf(detail, sizeof detail, "{\"test\":%lld}", (long long)id);
	tl_writer_audit_by(api->d->writer, user, peer, "sign", detail, result);
}

enum MHD_Result tl_api_sign_report(struct tl_api *api, struct MHD_Connection *c,
				   struct tl_api_request *rq)
{
	enum MHD_Result ret;
	char name[64];
	const char *pw;
	json_t *body = tl_api_credentials(c, rq, name, &pw, &ret);
	if (!body)
		return ret;
	json_t *rec = NULL, *samples = NULL, *earlier = NULL;
	char *guidance = NULL;
	unsigned char *pdf = NULL;
	struct tl_store *st = NULL;
	if (rq->has_session && strcmp(name, rq->who.user)) {
		ret = tl_api_send_error(c, 403, "'%s' is logged in here: sign as that account, or "
					"log out first", rq->who.user);
		goto out;
	}
	if (!tl_api_test_exists(api, c, rq->id, &ret))
		goto out;
	struct tl_store_user u;
	if (!tl_api_password_ok(api, c, "sign", name, pw, &u, &ret))
		goto out;
	if (strcmp(u.role, "physician")) {
		audit_sign(api, c, u.name, rq->id, "refused: not a physician");
		ret = tl_api_send_error(c, 403, "only a physician signs a report; '%s' is %s %s",
					u.name, strchr("aeiou", u.role[0]) ? "an" : "a", u.role);
		goto out;
	}
	struct tl_err err;
	struct tl_store *rd = tl_api_pool_take(api->pool, &err);
	bool read = rd && (rec = tl_store_test_json(rd, rq->id, &err)) &&
		    (samples = tl_store_samples_json(rd, rq->id, &err)) &&
		    (earlier = tl_store_tests_json(rd, json_string_value(json_object_get(rec, "patient")),
						   &err));
	if (rd)
		tl_api_pool_give(api->pool, rd, !read);
	if (!read) {
		ret = tl_api_send_error(c, 500, "%s", err.msg);
		goto out;
	}
	const char *state = json_string_value(json_object_get(rec, "state"));
	if (in_progress(state)) {
		ret = tl_api_send_error(c, 409, "test %lld is still in progress (state %s): sign its "
					"report once it is finished", (long long)rq->id, state);
		goto out;
	}
	/* The hash of exactly what is rendered: a change after this read makes the signed
	 * version an amended one, never a silently different one. */
	char hash[65], at[32];
	if (tl_store_record_hash_of(rec, samples, hash) < 0) {
		ret = tl_api_send_error(c, 500, "signing: out of memory");
		goto out;
	}
	tl_utc_now(at);
	struct tl_report_opts o;
	char addr[sizeof api->d->cfg.report_lab_address];
	size_t len;
	struct tl_report_signature sig = {.name = u.name, .at = at};
	if (report_opts(&api->d->cfg, &o, addr, sizeof addr, &guidance, &err) < 0 ||
	    tl_report_pdf(rec, samples, earlier, &o, &sig, &pdf, &len, &err) < 0) {
		ret = tl_api_send_error(c, 500, "%s", err.msg);
		goto out;
	}
	/* The messages to the medical record are queued in the signature's transaction
	 * (outbox_build.c): a crash loses neither, and neither goes twice. */
	struct tl_outbox_build ob = {.rec = rec, .pdf = pdf, .len = len, .signer = u.name};
	struct tl_store_outbox_plan plan;
	snprintf(ob.now, sizeof ob.now, "%s", at);
	tl_outbox_plan(&api->d->cfg, true, &ob, &plan);
	st = tl_store_open_current(api->d->cfg.database, &err);
	int version = st ? tl_store_report_sign_send(st, rq->id, u.name, at, pdf, len, hash, &plan,
						     &err) : -1;
	char sha[65];
	if (version < 0 || tl_store_sha256_hex(pdf, len, sha) < 0) {
		ret = tl_api_send_error(c, 500, "%s", err.msg);
		goto out;
	}
	audit_sign(api, c, u.name, rq->id, "ok");
	char peer[64];
	tl_api_peer_of(c, peer, sizeof peer);
	json_t *sent = tl_outbox_plan_result(&plan, &ob, rq->id, api->d->writer, u.name, peer);
	tl_outbox_wake(api->d->outbox);
	json_t *j = json_pack("{s:I, s:i, s:s, s:s, s:s, s:o*}", "test", (json_int_t)rq->id, "version",
			      version, "signed_by", u.name, "signed_at", at, "pdf_sha256", sha,
			      "outbox", sent);
	ret = j ? tl_api_send_json(c, 201, j) : tl_api_send_error(c, 500, "signing: out of memory");
out:
	tl_store_close(st);
	free(pdf);
	free(guidance);
	json_decref(rec);
	json_decref(samples);
	json_decref(earlier);
	tl_api_credentials_free(body);
	return ret;
}

/* "YYYY-MM-DD" -> the UTC time of that day's start (next_day: of the day after) in the
 * store's format. false if s is not a real date. */
static bool day_bound(const char *s, bool next_day, char out[64])
{
	int y, m, d;
	char tail;
	if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || s[4] != '-' ||
	    s[7] != '-' || y < 1970 || y > 9998 || m < 1 || m > 12 || d < 1 || d > 31)
		return false;
	struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_hour = 12};
	time_t t = timegm(&tm);
	struct tm back;
	if (t == (time_t)-1 || !gmtime_r(&t, &back) || back.tm_mday != d || back.tm_mon != m - 1)
		return false; /* 2026-02-30 */
	t += next_day ? 86400 : 0;
	gmtime_r(&t, &back);
	snprintf(out, 64, "%04d-%02d-%02dT00:00:00.000Z", back.tm_year + 1900, back.tm_mon + 1,
		 back.tm_mday);
	return true;
}

static int csv_row(const json_t *test, void *arg)
{
	struct tl_csv *csv = arg;
	tl_report_csv_row(csv, test);
	return csv->oom ? -1 : 0;
}

enum MHD_Result tl_api_get_export(struct tl_api *api, struct MHD_Connection *c,
				  struct tl_api_request *rq)
{
	(void)rq;
	const char *from = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "from");
	const char *to = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "to");
	char lo[64], hi[64];
	if (from && *from && !day_bound(from, false, lo))
		return tl_api_send_error(c, 400, "from '%s' is not a date YYYY-MM-DD", from);
	if (to && *to && !day_bound(to, true, hi))
		return tl_api_send_error(c, 400, "to '%s' is not a date YYYY-MM-DD", to);
	bool has_lo = from && *from, has_hi = to && *to;
	if (has_lo && has_hi && strcmp(lo, hi) >= 0)
		return tl_api_send_error(c, 400, "from %s is after to %s", from, to);
	struct tl_err err;
	struct tl_store *st = tl_api_pool_take(api->pool, &err);
	if (!st)
		return tl_api_send_error(c, 500, "%s", err.msg);
	struct tl_csv csv = {0};
	tl_report_csv_header(&csv);
	int n = tl_store_export_each(st, has_lo ? lo : NULL, has_hi ? hi : NULL, csv_row, &csv, &err);
	tl_api_pool_give(api->pool, st, n < 0);
	if (n < 0 || csv.oom) {
		tl_csv_free(&csv);
		return tl_api_send_error(c, 500, "%s", n < 0 ? err.msg : "export: out of memory");
	}
	return send_bytes(c, 200, "text/csv; charset=utf-8; header=present", csv.p, csv.n, NULL);
}
