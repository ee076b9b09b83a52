/*
 * fsutil.h: the two filesystem operations every writer of results needs:
 * creating an output directory and replacing a file atomically, so a
 * reader (a server watching `blessed`, a user opening transform.json)
 * sees the old file or the new one, never a torn one.
 */
#ifndef SLUICE_FSUTIL_H
#define SLUICE_FSUTIL_H

#include <stddef.h>

#include "error.h"

/* mkdir -p: create dir and any missing parents. */
sl_rc sl_mkdirs(const char *dir, sl_err *err);

/* Write a whole buffer to path atomically: a unique temporary file beside
 * it, fsync, rename over path, fsync of the directory. On failure the
 * temporary is removed and path is untouched. */
sl_rc sl_write_file_atomic(const char *path, const char *data, size_t n,
                           sl_err *err);

#endif
