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

/* A section of a profile and what takes its `key = value` lines. */
struct tl_profile_section {
	const char *name;
	int (*key)(struct tl_profile_reader *r, const char *key, char *value, void *ctx);
};

/* A profile's shape: its sections (at most TL_PROFILE_MAX_SECTIONS), the first one
 * [device], ended by a NULL name. */
struct tl_profile_spec {
	const struct tl_profile_section *sections;
	bool list_sections; /* name the sections in "unknown section [x]" */
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

/* Reads text line by line, handing each `key = value` to its section. Returns 0 (the
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

/* Where a profile keeps one register (struct tl_reg, struct tl_cuff_reg_def). */
struct tl_profile_reg_ref {
	bool *present;
	enum tl_reg_kind *kind;
	uint16_t *address;
	double *scale;
	char *units;
	size_t units_size;
	int *line;
};
#define TL_PROFILE_REG_OF(reg)                                                                \
	((struct tl_profile_reg_ref){&(reg)->present, &(reg)->kind, &(reg)->address,          \
				     &(reg)->scale, (reg)->units, sizeof (reg)->units, &(reg)->line})

/* The kinds a profile's registers may be, as bits 1 << kind: any register (the others
 * refused with "key: why (kinds), not kind") and a writable one. */
struct tl_profile_kinds {
	unsigned any;
	const char *why;
	unsigned writable;
};

/* A register line, "kind address scale units", once per register; units one of `units`
 * (NULL-terminated). */
int tl_profile_register(struct tl_profile_reader *r, const char *key, char *v,
			const struct tl_profile_kinds *kinds, bool writable,
			const char *const *units, const struct tl_profile_reg_ref *reg);

/* A command key, one of keys[0..n) once each: 1 to TL_PROFILE_MAX_SEQ words of 0..65535
 * into *seqs[i]. */
int tl_profile_command(struct tl_profile_reader *r, const char *const *keys,
		       struct tl_cmd_seq *const *seqs, int n, const char *key, char *v);

/* 0..65535, decimal or 0x hex, no sign: 0 or -1. */
int tl_profile_u16(const char *s, uint16_t *out);
/* A finite number above 0: 0 or -1. */
int tl_profile_positive(const char *s, double *out);

#endif
