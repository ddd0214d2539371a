/* Modbus device profiles (tl_modbus_profile_parse): any bytes as the profile's text (cut
 * at the first NUL, as the loader refuses a file that holds one). On success, what the
 * driver relies on: the required registers, start and stop sequences, a running bit, and
 * conversions that give numbers for every raw value a register can hold. */
#include <math.h>

#include "fuzz.h"
#include "modbus_profile.h"

static const enum tl_reg_key required[] = {TL_REG_SPEED_SETPOINT, TL_REG_SPEED_ACTUAL,
					   TL_REG_COMMAND, TL_REG_STATUS, TL_REG_WATCHDOG};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	struct tl_modbus_profile p;
	struct tl_err err = {{0}};
	int rc = tl_modbus_profile_parse(text, "fuzz.profile", &p, &err);
	free(text);
	if (rc) {
		FUZZ_REQUIRE(rc == -1);
		FUZZ_TERMINATED(err.msg);
		FUZZ_REQUIRE(strncmp(err.msg, "fuzz.profile", 12) == 0);
		return 0;
	}
	FUZZ_TERMINATED(p.name);
	FUZZ_TERMINATED(p.source);
	FUZZ_TERMINATED(p.unverified);
	for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
		FUZZ_REQUIRE(p.reg[required[i]].present);
	FUZZ_REQUIRE(p.cmd_start.n >= 1 && p.cmd_start.n <= TL_PROFILE_MAX_SEQ);
	FUZZ_REQUIRE(p.cmd_stop.n >= 1 && p.cmd_stop.n <= TL_PROFILE_MAX_SEQ);
	FUZZ_REQUIRE(p.cmd_estop.n >= 0 && p.cmd_estop.n <= TL_PROFILE_MAX_SEQ);
	FUZZ_REQUIRE(p.st_running != 0);
	for (int k = 0; k < TL_REG_N; k++) {
		if (!p.reg[k].present)
			continue;
		FUZZ_TERMINATED(p.reg[k].units);
		FUZZ_REQUIRE(isfinite(p.reg[k].scale) && p.reg[k].scale > 0);
	}
	const uint16_t raws[] = {0, 1, 0x8000, 0xFFFF};
	for (size_t i = 0; i < sizeof raws / sizeof raws[0]; i++) {
		FUZZ_REQUIRE(isfinite(tl_profile_raw_to_kmh(&p, TL_REG_SPEED_ACTUAL, raws[i])));
		FUZZ_REQUIRE(isfinite(tl_profile_raw_to_ms(&p, TL_REG_WATCHDOG, raws[i])));
		if (p.reg[TL_REG_GRADE_ACTUAL].present)
			FUZZ_REQUIRE(isfinite(tl_profile_raw_to_pct(&p, TL_REG_GRADE_ACTUAL, raws[i])));
	}
	/* The encoders either refuse or give a raw value that means what *sent says. */
	const double speeds[] = {0, 3.22, 25.0};
	for (size_t i = 0; i < sizeof speeds / sizeof speeds[0]; i++) {
		uint16_t raw;
		double sent;
		if (tl_profile_kmh_to_raw(&p, speeds[i], &raw, &sent) == 0)
			FUZZ_REQUIRE(isfinite(sent) && sent >= 0);
	}
	return 0;
}
