/* profile_reader.h - what the drive and cuff profiles (modbus_profile.h, cuff_profile.h)
 * read the same way: the file with its size cap, lines, comments, [section] headers,
 * `key = value`, the [device] keys they share, register lines, command sequences and
 * numbers. Errors say "file:line: reason". Which keys a section has and what a whole
 * profile needs stay with each profile. */
#ifndef TL_PROFILE_READER_H
#define TL_PROFILE_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "modbus_profile.h" /* enum tl_reg_kind, struct tl_cmd_seq */
#include "tl_err.h"

#define TL_PROFILE_MAX_SECTIONS 8

struct tl_profile_reader;

/* A profile's shape: its sections (NULL-terminated, the first one "device") and what
 * takes a `key = value` line of the section r->section. */
struct tl_profile_spec {
	const char *const *sections;
	bool list_sections; /* name the sections in "unknown section [x]" */
	int (*key)(struct tl_profile_reader *r, const char *key, char *value, void *ctx);
};

struct tl_profile_reader {
	const char *file; /* the name in messages */
	int line;         /* the line being read; after the text, the number of lines */
	struct tl_err *err;
	const struct tl_profile_spec *spec;
	int section;      /* index in spec->sections, -1 before the first header */
	int section_line[TL_PROFILE_MAX_SECTIONS]; /* where each header stood, 0: absent */
	unsigned keys_seen[TL_PROFILE_MAX_SECTIONS]; /* bits by index in tl_profile_key's list */
};

/* Reads a profile file whole: a NUL-terminated copy to free(), or NULL with err set
 * ("path: reason"). */
char *tl_profile_read_file(const char *path, struct tl_err *err);

/* Reads text line by line, handing each `key = value` to spec->key. Returns 0 (the
 * profile then checks itself as a whole, r->line at the last line), or -1 with err. */
int tl_profile_parse(struct tl_profile_reader *r, const char *text, const char *file,
		     const struct tl_profile_spec *spec, void *ctx, struct tl_err *err);

/* Sets err to "file:line: " and the message for r->line (which the caller may point at
 * an earlier line first); returns -1. */
int tl_profile_fail(struct tl_profile_reader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The index of key in keys[0..n) for the current section, once per section: -1 with err
 * for a key not in the list or seen before. */
int tl_profile_key(struct tl_profile_reader *r, const char *const *keys, int n, const char *key);

/* The [device] keys every profile has, in this order at the head of its key list. */
#define TL_PROFILE_DEVICE_KEYS "name", "source", "unverified", "simulated", "min_gap_ms"
#define TL_PROFILE_DEVICE_NKEYS 5

struct tl_profile_device {
	char *name, *source, *unverified;
	size_t name_size, source_size, unverified_size;
	bool *simulated;
	int *min_gap_ms;
};
/* Where a profile struct p keeps them. */
#define TL_PROFILE_DEVICE_OF(p)                                                               \
	((struct tl_profile_device){(p)->name, (p)->source, (p)->unverified, sizeof (p)->name,  \
				    sizeof (p)->source, sizeof (p)->unverified, &(p)->simulated, \
				    &(p)->min_gap_ms})

/* Takes shared [device] key number i (0 .. TL_PROFILE_DEVICE_NKEYS - 1). */
int tl_profile_device_key(struct tl_profile_reader *r, int i, const char *key, const char *v,
			  const struct tl_profile_device *d);
/* At the end: the [device] section named the device and its source. */
int tl_profile_device_complete(struct tl_profile_reader *r);

/* A register line, "kind address scale units", in two steps so that each profile checks
 * the kind its own way in between: the words and the kind (-1 with err), then the rest,
 * the units one of `units` (NULL-terminated) and copied to units_out. */
int tl_profile_reg_kind(struct tl_profile_reader *r, const char *key, char *v, char *w[4]);
int tl_profile_reg_rest(struct tl_profile_reader *r, const char *key, char *const w[4],
			const char *const *units, uint16_t *address, double *scale,
			char *units_out, size_t units_size);

/* A command sequence: 1 to TL_PROFILE_MAX_SEQ words of 0..65535. */
int tl_profile_cmd_seq(struct tl_profile_reader *r, const char *key, char *v,
		       struct tl_cmd_seq *seq);

/* 0..65535, decimal or 0x hex, no sign: 0 or -1. */
int tl_profile_u16(const char *s, uint16_t *out);
/* A finite number above 0: 0 or -1. */
int tl_profile_positive(const char *s, double *out);

#endif
