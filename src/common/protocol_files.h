/* protocol_files.h - finding and reading protocol files (the I/O around the core loader). */
#ifndef TL_PROTOCOL_FILES_H
#define TL_PROTOCOL_FILES_H

#include <stdbool.h>
#include <stddef.h>

#include "protocol.h"

/* The protocol directory: $TREADLAB_PROTOCOLS if set; else, for an installed program,
 * the installed protocols (TREADLAB_PROTOCOLS_FROM_BIN from the running executable's
 * directory, e.g. /usr/bin/../share/treadlab/protocols) if that directory exists; else
 * the build's (TREADLAB_PROTOCOL_DIR, the source tree's protocols/). */
const char *tl_protocol_dir(void);

/* Reads and parses a protocol file; its short name is the file name without
 * ".protocol". Returns 0 or -1 with err set (file:line: reason). */
int tl_protocol_load_file(const char *path, const struct tl_device_caps *device,
			  struct tl_protocol *out, struct tl_err *err);

/* Loads protocol NAME from dir (NULL: tl_protocol_dir()). */
int tl_protocol_load_name(const char *dir, const char *name, const struct tl_device_caps *device,
			  struct tl_protocol *out, struct tl_err *err);

/* Lists the protocol names in dir, sorted. Returns the count, -1 on error. The caller
 * frees each name and the array with tl_protocol_names_free(). */
int tl_protocol_list(const char *dir, char ***names, struct tl_err *err);
void tl_protocol_names_free(char **names, int n);

/* Reads a whole file into a NUL-terminated buffer (max 1 MiB). Caller frees. */
char *tl_read_file(const char *path, size_t *len, struct tl_err *err);

/* out = <the running executable's directory>/rel; true if that is a directory. */
bool tl_dir_beside_exe(const char *rel, char *out, size_t cap);

#endif
