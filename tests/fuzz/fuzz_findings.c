/* The findings document (tl_findings_parse), as `treadlab classify` and the store read
 * it: any bytes as the JSON text, copied to a buffer of exactly its length. A document
 * the parser accepts is classified (both ankle rules) and rendered back to JSON, which
 * must succeed: the parser's checks are what the classifier relies on. */
#include <jansson.h>

#include "classifier.h"
#include "findings_json.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size ? size : 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	struct tl_findings f;
	struct tl_err err = {{0}};
	int rc = tl_findings_parse(text, size, &f, &err);
	free(text);
	if (rc) {
		FUZZ_REQUIRE(rc == -1);
		FUZZ_TERMINATED(err.msg);
		FUZZ_REQUIRE(err.msg[0] != '\0');
		return 0;
	}
	static const enum tl_ankle_rule rules[] = {TL_ANKLE_HIGHER, TL_ANKLE_LOWER};
	for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
		struct tl_abi_options opt = {.ankle_rule = rules[i]};
		static struct tl_classification c; /* large: not on the stack */
		if (tl_classify(&f, &opt, &c, &err)) {
			/* The parser bounds every pressure, so the ABI cannot refuse them. */
			fprintf(stderr, "classify refused a parsed document: %s\n", err.msg);
			FUZZ_REQUIRE(0);
		}
		json_t *j = tl_classification_to_json(&c);
		FUZZ_REQUIRE(j != NULL);
		char *s = json_dumps(j, JSON_COMPACT);
		FUZZ_REQUIRE(s != NULL);
		free(s);
		json_decref(j);
	}
	return 0;
}
