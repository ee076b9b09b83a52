/*
 * error.h: return codes and error details.
 *
 * Every library function that can fail returns an sl_rc (0 = ok, negative =
 * failure) and, when the caller passes a non-NULL sl_err, fills it with a
 * message and the location of the problem (file, line, column, field,
 * byte offset). The library never prints and never exits; the CLI turns an
 * sl_err into "file:line:col: message" and an exit code.
 */
#ifndef SLUICE_ERROR_H
#define SLUICE_ERROR_H

#include <stddef.h>
#include <stdint.h>

typedef enum sl_rc {
    SL_OK = 0,
    SL_ENOMEM = -1,       /* allocation failed */
    SL_EIO = -2,          /* read/write/open failed (errno text in message) */
    SL_EPARSE = -3,       /* malformed input data (CSV, JSON, YAML, expression) */
    SL_ESCHEMA = -4,      /* type or schema mismatch */
    SL_ECONFIG = -5,      /* invalid spec / configuration */
    SL_EINVAL = -6,       /* invalid argument from the caller */
    SL_ENOTFOUND = -7,    /* file, column, plugin or key not found */
    SL_EUNSUPPORTED = -8, /* valid input that this build does not handle */
    SL_EEOF = -9,         /* end of input (sources): not an error for callers */
    SL_ELIMIT = -10,      /* a stated bound was exceeded (row too long, ...) */
    SL_EINTERNAL = -11
} sl_rc;

#define SL_ERR_MSG_MAX 1024
#define SL_ERR_FILE_MAX 512
#define SL_ERR_FIELD_MAX 256

typedef struct sl_err {
    sl_rc code;
    char file[SL_ERR_FILE_MAX];   /* "" when unknown */
    int64_t line;                 /* 1-based, 0 when unknown */
    int64_t col;                  /* 1-based, 0 when unknown */
    int64_t offset;               /* byte offset in file, -1 when unknown */
    char field[SL_ERR_FIELD_MAX]; /* column / key name, "" when unknown */
    char msg[SL_ERR_MSG_MAX];
} sl_err;

/* Reset to "no error". */
void sl_err_clear(sl_err *e);

/* Set code and message (printf-style); returns code so callers can write
 * `return sl_err_set(err, SL_EPARSE, "...")`. e may be NULL. Location
 * fields are left as they are. */
sl_rc sl_err_set(sl_err *e, sl_rc code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Set code, location and message at once. file may be NULL. */
sl_rc sl_err_setloc(sl_err *e, sl_rc code, const char *file, int64_t line,
                    int64_t col, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Attach location details after the fact (only fills what is still unset). */
void sl_err_at(sl_err *e, const char *file, int64_t line, int64_t col);
void sl_err_field(sl_err *e, const char *field);

/* Prefix the message with more context: "ctx: old message". */
void sl_err_prefix(sl_err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* "file:line:col: message" (parts that are unknown are omitted). Returns
 * the number of bytes written like snprintf. */
int sl_err_format(const sl_err *e, char *buf, size_t n);

/* Static name of a return code, e.g. "parse error". */
const char *sl_rc_str(sl_rc rc);

#endif
