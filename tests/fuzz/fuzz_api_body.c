/* The API's request bodies as the daemon reads them (src/daemon/api_text.c): any bytes
 * as the body of each kind of request. A body the parser accepts must be an object whose
 * keys are all allowed and whose every string is text the store takes; a findings body's
 * "symptoms" then goes through the symptoms parser the PUT handler uses; and any body
 * as an e-stop's names a usable operator or falls back, never fails. */
#include <jansson.h>

#include "api_int.h"
#include "findings_json.h"
#include "fuzz.h"

/* The field lists of the request handlers (api_cmd.c, api_edit.c), one per kind of body. */
static const char *const start[] = {"protocol", "patient", "operator", NULL};
static const char *const stop[] = {"operator", "reason", NULL};
static const char *const relief[] = {"operator", "posture", NULL};
static const char *const pressure[] = {"phase",	 "minute", "site", "mmhg", "noncompressible",
				       "confirm_implausible", "operator", NULL};
static const char *const findings[] = {"symptoms", "operator", NULL};
static const char *const *const kinds[] = {start, stop, relief, pressure, findings};

/* Every string in j, keys and values at any depth, is text the API lets through. */
static bool all_text_ok(json_t *j)
{
	char why[64];
	if (json_is_string(j))
		return !tl_api_text_bad(json_string_value(j), json_string_length(j), why, sizeof why);
	size_t i;
	json_t *v;
	if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			if (!all_text_ok(v))
				return false;
		return true;
	}
	const char *key;
	json_object_foreach(j, key, v)
		if (tl_api_text_bad(key, strlen(key), why, sizeof why) || !all_text_ok(v))
			return false;
	return true;
}

static bool allowed_key(const char *const *allowed, const char *key)
{
	for (size_t i = 0; allowed[i]; i++)
		if (!strcmp(allowed[i], key))
			return true;
	return false;
}

static void as_body(const char *body, size_t len, const char *const *allowed)
{
	char msg[512];
	bool oom;
	json_t *j = tl_api_body_parse(body, len, allowed, msg, sizeof msg, &oom);
	if (!j) {
		FUZZ_TERMINATED(msg);
		FUZZ_REQUIRE(msg[0] != '\0');
		return;
	}
	FUZZ_REQUIRE(json_is_object(j));
	FUZZ_REQUIRE(all_text_ok(j));
	const char *key;
	json_t *v;
	json_object_foreach(j, key, v)
		FUZZ_REQUIRE(allowed_key(allowed, key));
	json_t *sym = json_object_get(j, "symptoms");
	if (allowed == findings && json_is_object(sym)) {
		struct tl_symptoms s;
		struct tl_err err = {{0}};
		if (tl_symptoms_from_json(sym, "symptoms", &s, &err))
			FUZZ_TERMINATED(err.msg);
	}
	json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A buffer of exactly the body's length: no terminator to lean on. */
	char *body = malloc(size ? size : 1);
	if (!body)
		return 0;
	memcpy(body, data, size);
	for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
		as_body(body, size, kinds[k]);

	char op[64], warning[160];
	tl_api_estop_body(body, size, "technician", op, sizeof op, warning, sizeof warning);
	FUZZ_TERMINATED(op);
	FUZZ_TERMINATED(warning);
	FUZZ_REQUIRE(op[0] != '\0');
	char why[64];
	FUZZ_REQUIRE(tl_api_text_bad(op, strlen(op), why, sizeof why) == NULL);
	free(body);
	return 0;
}
