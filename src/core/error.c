/*
 * error.c: sl_err helpers. Messages are truncated, never overflowed;
 * location fields are only filled when still unknown so the innermost
 * layer that knows a position wins.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sluice/error.h"

void sl_err_clear(sl_err *e)
{
    if (!e)
        return;
    e->code = SL_OK;
    e->file[0] = '\0';
    e->line = 0;
    e->col = 0;
    e->offset = -1;
    e->field[0] = '\0';
    e->msg[0] = '\0';
}

static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memmove(dst, src, n);
    dst[n] = '\0';
}

sl_rc sl_err_set(sl_err *e, sl_rc code, const char *fmt, ...)
{
    if (!e)
        return code;
    e->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return code;
}

sl_rc sl_err_setloc(sl_err *e, sl_rc code, const char *file, int64_t line,
                    int64_t col, const char *fmt, ...)
{
    if (!e)
        return code;
    e->code = code;
    if (file)
        copy_str(e->file, sizeof e->file, file);
    e->line = line;
    e->col = col;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return code;
}

void sl_err_at(sl_err *e, const char *file, int64_t line, int64_t col)
{
    if (!e)
        return;
    if (file && !e->file[0])
        copy_str(e->file, sizeof e->file, file);
    if (line > 0 && e->line == 0) {
        e->line = line;
        if (col > 0 && e->col == 0)
            e->col = col;
    }
}

void sl_err_field(sl_err *e, const char *field)
{
    if (e && field && !e->field[0])
        copy_str(e->field, sizeof e->field, field);
}

void sl_err_prefix(sl_err *e, const char *fmt, ...)
{
    if (!e)
        return;
    char pre[SL_ERR_MSG_MAX], old[SL_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    copy_str(old, sizeof old, e->msg);
    snprintf(e->msg, sizeof e->msg, "%s: %s", pre, old);
}

int sl_err_format(const sl_err *e, char *buf, size_t n)
{
    if (!e || !buf || n == 0)
        return 0;
    const char *msg = e->msg[0] ? e->msg : sl_rc_str(e->code);
    if (e->file[0] && e->line > 0 && e->col > 0)
        return snprintf(buf, n, "%s:%lld:%lld: %s", e->file, (long long)e->line,
                        (long long)e->col, msg);
    if (e->file[0] && e->line > 0)
        return snprintf(buf, n, "%s:%lld: %s", e->file, (long long)e->line, msg);
    if (e->file[0] && e->offset >= 0)
        return snprintf(buf, n, "%s: offset %lld: %s", e->file,
                        (long long)e->offset, msg);
    if (e->file[0])
        return snprintf(buf, n, "%s: %s", e->file, msg);
    return snprintf(buf, n, "%s", msg);
}

const char *sl_rc_str(sl_rc rc)
{
    switch (rc) {
    case SL_OK: return "ok";
    case SL_ENOMEM: return "out of memory";
    case SL_EIO: return "i/o error";
    case SL_EPARSE: return "parse error";
    case SL_ESCHEMA: return "schema error";
    case SL_ECONFIG: return "configuration error";
    case SL_EINVAL: return "invalid argument";
    case SL_ENOTFOUND: return "not found";
    case SL_EUNSUPPORTED: return "unsupported";
    case SL_EEOF: return "end of input";
    case SL_ELIMIT: return "limit exceeded";
    case SL_EINTERNAL: return "internal error";
    }
    return "unknown error";
}
