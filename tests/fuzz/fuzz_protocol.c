/* Protocol files (tl_protocol_parse): any text, as the loader is handed it. The text is
 * copied to a buffer of exactly its length, so reading past len is an ASan finding. The
 * first byte picks the device limits (none, a 25 %/19 km/h treadmill, a level one). */
#include <math.h>

#include "fuzz.h"
#include "protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct tl_device_caps caps[] = {{19.0, 25.0}, {16.0, 0.0}};
	const struct tl_device_caps *device = NULL;
	if (size > 0 && data[0] < 2) {
		device = &caps[data[0]];
		data++, size--;
	}
	char *text = malloc(size ? size : 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	struct tl_protocol p;
	struct tl_err err = {{0}};
	int rc = tl_protocol_parse(text, size, "fuzz.protocol", "fuzz", device, &p, &err);
	free(text);
	if (rc != 0) {
		FUZZ_REQUIRE(rc == -1);
		FUZZ_TERMINATED(err.msg);
		FUZZ_REQUIRE(err.msg[0] != '\0');
		return 0;
	}
	/* What the loader promises of a protocol it accepts. */
	FUZZ_TERMINATED(p.name);
	FUZZ_TERMINATED(p.title);
	FUZZ_TERMINATED(p.reference);
	FUZZ_REQUIRE(p.n_stages >= 1 && p.n_stages <= TL_PROTOCOL_MAX_STAGES);
	FUZZ_REQUIRE(p.max_duration_ms > 0 && p.max_duration_ms <= TL_ABSURD_DURATION_MS);
	int64_t t = 0;
	for (size_t i = 0; i < p.n_stages; i++) {
		const struct tl_stage *s = &p.stages[i];
		FUZZ_REQUIRE(s->start_ms == t);
		FUZZ_REQUIRE(s->duration_ms > 0);
		FUZZ_REQUIRE(isfinite(s->speed_kmh) && s->speed_kmh >= 0 &&
			     s->speed_kmh <= TL_ABSURD_SPEED_KMH);
		FUZZ_REQUIRE(isfinite(s->grade_pct) && s->grade_pct >= 0 &&
			     s->grade_pct <= TL_ABSURD_GRADE_PCT);
		FUZZ_REQUIRE(s->kind != TL_STAGE_REST || s->speed_kmh == 0);
		if (device) {
			FUZZ_REQUIRE(s->speed_kmh <= device->max_speed_kmh + 1e-9);
			FUZZ_REQUIRE(s->grade_pct <= device->max_grade_pct + 1e-9);
		}
		t += s->duration_ms;
	}
	FUZZ_REQUIRE(tl_protocol_length_ms(&p) == t);
	return 0;
}
