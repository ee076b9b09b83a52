/*
 * dlq.h: the rejects ("dead-letter") file for bad records.
 *
 * One JSON object per line:
 *   {"source":"data.csv","line":17,"offset":1234,"reason":"...","record":"raw text"}
 * The file is created on the first rejected record only, so a clean run
 * leaves nothing behind. Writes are buffered; sl_dlq_close flushes and
 * fsyncs so a reported count matches what is on disk.
 */
#ifndef SLUICE_DLQ_H
#define SLUICE_DLQ_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef struct sl_dlq sl_dlq;

/* path NULL => rejected records are only counted (on_error: skip). */
sl_rc sl_dlq_open(const char *path, sl_dlq **out, sl_err *err);
sl_rc sl_dlq_write(sl_dlq *d, const char *source, int64_t line,
                   int64_t offset, const char *reason, const char *record,
                   size_t record_len, sl_err *err);
int64_t sl_dlq_count(const sl_dlq *d);
const char *sl_dlq_path(const sl_dlq *d);
sl_rc sl_dlq_close(sl_dlq *d, sl_err *err); /* NULL ok */

typedef enum sl_on_error {
    SL_ON_ERROR_FAIL = 0,
    SL_ON_ERROR_SKIP,
    SL_ON_ERROR_DLQ
} sl_on_error;
#define SL_ON_ERROR_CHOICES "fail|skip|dlq"

#endif
