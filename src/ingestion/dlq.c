/*
 * dlq.c: the rejects file. Created lazily on the first record so clean runs
 * leave no empty file; JSON-escaped by hand because records are arbitrary
 * bytes (invalid UTF-8 is written as \u00XX escapes of the bytes, so the
 * file stays valid JSON and nothing is lost).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sluice/dlq.h"
#include "sluice/mem.h"

struct sl_dlq {
    char *path; /* NULL: count only */
    FILE *f;
    int64_t count;
};

sl_rc sl_dlq_open(const char *path, sl_dlq **out, sl_err *err)
{
    *out = NULL;
    sl_dlq *d = sl_calloc(1, sizeof *d);
    if (!d)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    if (path && !(d->path = sl_strdup(path))) {
        sl_free(d);
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    }
    *out = d;
    return SL_OK;
}

/* Length of the valid UTF-8 sequence at s (max n bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    if (s[0] < 0x80)
        return 1;
    size_t len = s[0] >= 0xF0 && s[0] <= 0xF4 ? 4
               : s[0] >= 0xE0                 ? 3
               : s[0] >= 0xC2 && s[0] < 0xE0  ? 2
                                              : 0;
    if (len == 0 || len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return len;
}

static void write_json_str(FILE *f, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    fputc('"', f);
    for (size_t i = 0; i < n;) {
        unsigned char ch = p[i];
        if (ch == '"' || ch == '\\') {
            fputc('\\', f);
            fputc(ch, f);
            i++;
        } else if (ch == '\n') {
            fputs("\\n", f);
            i++;
        } else if (ch == '\r') {
            fputs("\\r", f);
            i++;
        } else if (ch == '\t') {
            fputs("\\t", f);
            i++;
        } else if (ch < 0x20) {
            fprintf(f, "\\u%04x", ch);
            i++;
        } else {
            size_t len = utf8_len(p + i, n - i);
            if (len == 0) {
                fprintf(f, "\\u%04x", ch); /* keep the byte value */
                i++;
            } else {
                fwrite(p + i, 1, len, f);
                i += len;
            }
        }
    }
    fputc('"', f);
}

sl_rc sl_dlq_write(sl_dlq *d, const char *source, int64_t line,
                   int64_t offset, const char *reason, const char *record,
                   size_t record_len, sl_err *err)
{
    d->count++;
    if (!d->path)
        return SL_OK;
    if (!d->f) {
        d->f = fopen(d->path, "w");
        if (!d->f)
            return sl_err_setloc(err, SL_EIO, d->path, 0, 0,
                                 "cannot create rejects file: %s", strerror(errno));
    }
    FILE *f = d->f;
    fputs("{\"source\":", f);
    write_json_str(f, source ? source : "", source ? strlen(source) : 0);
    fprintf(f, ",\"line\":%" PRId64 ",\"offset\":%" PRId64 ",\"reason\":", line,
            offset);
    write_json_str(f, reason ? reason : "", reason ? strlen(reason) : 0);
    fputs(",\"record\":", f);
    write_json_str(f, record ? record : "", record ? record_len : 0);
    fputs("}\n", f);
    if (ferror(f))
        return sl_err_setloc(err, SL_EIO, d->path, 0, 0,
                             "cannot write rejects file: %s", strerror(errno));
    return SL_OK;
}

int64_t sl_dlq_count(const sl_dlq *d)
{
    return d ? d->count : 0;
}

const char *sl_dlq_path(const sl_dlq *d)
{
    return d && d->f ? d->path : NULL;
}

sl_rc sl_dlq_close(sl_dlq *d, sl_err *err)
{
    sl_rc rc = SL_OK;
    if (!d)
        return SL_OK;
    if (d->f) {
        if (fflush(d->f) != 0 || fsync(fileno(d->f)) != 0)
            rc = sl_err_setloc(err, SL_EIO, d->path, 0, 0,
                               "cannot write rejects file: %s", strerror(errno));
        if (fclose(d->f) != 0 && rc == SL_OK)
            rc = sl_err_setloc(err, SL_EIO, d->path, 0, 0,
                               "cannot close rejects file: %s", strerror(errno));
    }
    sl_free(d->path);
    sl_free(d);
    return rc;
}
