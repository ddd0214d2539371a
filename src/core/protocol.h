/* protocol.h - standardized treadmill test protocols and their strict loader.
 *
 * A protocol is a list of stages, each a walk or a rest (belt stopped) with a duration,
 * a belt speed and a grade. Files in protocols/ are written in the units they were
 * published in; the loader converts speeds to km/h exactly and expands graded protocols
 * written compactly (start, step, interval, cap) into stages. The loader does no I/O:
 * the caller reads the file and passes its text. */
#ifndef TL_PROTOCOL_H
#define TL_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#include "tl_err.h"

#define TL_PROTOCOL_MAX_STAGES 64
#define TL_PROTOCOL_NAME_MAX 64

enum tl_stage_kind {
	TL_STAGE_WALK,
	TL_STAGE_REST, /* belt stopped, patient seated */
};

enum tl_units {
	TL_UNITS_MPH,
	TL_UNITS_KMH,
};

/* How walking ends when the patient does not press max. */
enum tl_endpoint {
	TL_ENDPOINT_SYMPTOM_LIMITED, /* walk until max press (or the maximum duration) */
	TL_ENDPOINT_FIXED_DURATION,  /* walk the protocol's length unless symptoms stop it */
	TL_ENDPOINT_EACH_WALK,       /* each walk stage to its end or the max press, which
	                                ends that walk only (two-stage test) */
};

struct tl_stage {
	enum tl_stage_kind kind;
	int64_t start_ms;    /* from protocol start */
	int64_t duration_ms; /* > 0 */
	double speed_kmh;    /* 0 for rest stages */
	double grade_pct;
};

struct tl_protocol {
	char name[TL_PROTOCOL_NAME_MAX]; /* short name: the file name without extension */
	char title[128];
	char reference[512];
	enum tl_units units;
	enum tl_endpoint endpoint;
	int64_t max_duration_ms; /* walking never goes beyond this */
	size_t n_stages;
	struct tl_stage stages[TL_PROTOCOL_MAX_STAGES];
};

/* What the treadmill that will run the protocol can do; stages beyond it are refused,
 * never clamped (docs/clinical.md, Protocols). A NULL device means the generic limits
 * below. */
struct tl_device_caps {
	double max_speed_kmh;
	double max_grade_pct;
};

/* Absolute sanity bounds, whatever the device: no clinical treadmill test walks faster
 * than this or steeper. */
#define TL_ABSURD_SPEED_KMH 25.0
#define TL_ABSURD_GRADE_PCT 40.0
#define TL_ABSURD_DURATION_MS (4LL * 3600 * 1000)

/* Parses protocol text. file is used only in messages ("file:line: reason"); name is
 * the protocol's short name. Returns 0, or -1 with err set. */
int tl_protocol_parse(const char *text, size_t len, const char *file, const char *name,
		      const struct tl_device_caps *device, struct tl_protocol *out,
		      struct tl_err *err);

/* Total length of the stage table in ms (the last stage's end). */
int64_t tl_protocol_length_ms(const struct tl_protocol *p);

/* Index of the first walk stage after stage i, or -1. */
int tl_protocol_next_walk(const struct tl_protocol *p, size_t i);

const char *tl_units_name(enum tl_units u);
const char *tl_endpoint_name(enum tl_endpoint e);
const char *tl_stage_kind_name(enum tl_stage_kind k);

/* True if name is a valid protocol short name: [a-z0-9-], 1..63 chars. */
int tl_protocol_name_valid(const char *name);

#endif
