/*
 * csv_writer.c: the CSV writer (csv.h).
 *
 * Rows are formatted into one large buffer and written with write(2) when
 * it fills: no stdio, no per-value printf. Quoting is minimal but safe for
 * a round trip through our reader: a string is quoted when it contains the
 * delimiter, the quote, CR or LF, starts or ends with a space or tab, or
 * equals a null marker (quoted fields are never null, so "" and "NA" come
 * back as strings); nulls are empty and unquoted.
 *
 * Commit protocol: everything goes to a temporary file in the target's
 * directory (same filesystem, so rename is atomic), which close() fsyncs,
 * renames over the target and follows with an fsync of the directory. A
 * reader of the target therefore sees the old file or the complete new
 * one, never a torn one; abort() or any failure removes the temporary.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "csv_internal.h"
#include "sluice/mem.h"
#include "sluice/value.h"

#define WRITE_BUF_BYTES ((size_t)1 << 20)

struct sl_csv_writer {
    int fd;
    char *path, *tmp;
    sl_schema *schema;
    char delim, quote;
    int header;
    csv_nulls nulls;
    uint8_t special[256]; /* bytes that force quoting */
    char *buf;
    size_t cap, len;
    int64_t rows;
    int broken; /* a write failed: close() must not commit */
};

static atomic_uint tmp_counter;

static sl_rc sys_error(sl_csv_writer *w, sl_err *err, const char *what,
                       const char *file)
{
    int e = errno;
    sl_err_clear(err);
    w->broken = 1;
    return sl_err_setloc(err, SL_EIO, w->path, 0, 0, "cannot %s '%s': %s",
                         what, file, strerror(e));
}

static sl_rc flush_buf(sl_csv_writer *w, sl_err *err)
{
    size_t done = 0;
    while (done < w->len) {
        ssize_t n = write(w->fd, w->buf + done, w->len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            return sys_error(w, err, "write", w->tmp);
        }
        done += (size_t)n;
    }
    w->len = 0;
    return SL_OK;
}

/* Room for `need` more bytes in the buffer. */
static sl_rc reserve(sl_csv_writer *w, size_t need, sl_err *err)
{
    if (w->cap - w->len >= need)
        return SL_OK;
    sl_rc rc = flush_buf(w, err);
    if (rc != SL_OK || w->cap >= need)
        return rc;
    char *nb = sl_realloc(w->buf, need);
    if (!nb)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    w->buf = nb;
    w->cap = need;
    return SL_OK;
}

static int needs_quotes(const sl_csv_writer *w, const char *s, size_t n)
{
    if (csv_is_null(&w->nulls, s, n))
        return 1;
    if (n == 0)
        return 0;
    if (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t')
        return 1;
    for (size_t i = 0; i < n; i++)
        if (w->special[(uint8_t)s[i]])
            return 1;
    return 0;
}

/* Appends s, quoted when needed; the caller reserved 2n + 2 bytes. */
static void put_str(sl_csv_writer *w, const char *s, size_t n)
{
    char *p = w->buf + w->len;
    if (!needs_quotes(w, s, n)) {
        memcpy(p, s, n);
        w->len += n;
        return;
    }
    *p++ = w->quote;
    const char *q = memchr(s, w->quote, n);
    if (!q) {
        memcpy(p, s, n);
        p += n;
    } else {
        for (size_t i = 0; i < n; i++) {
            if (s[i] == w->quote)
                *p++ = w->quote;
            *p++ = s[i];
        }
    }
    *p++ = w->quote;
    w->len = (size_t)(p - w->buf);
}

static sl_rc write_str(sl_csv_writer *w, const char *s, size_t n, sl_err *err)
{
    if (n > (SIZE_MAX - 8) / 2)
        return sl_err_set(err, SL_ELIMIT, "string too long");
    sl_rc rc = reserve(w, 2 * n + 3, err);
    if (rc == SL_OK)
        put_str(w, s, n);
    return rc;
}

static sl_rc write_header(sl_csv_writer *w, sl_err *err)
{
    for (int j = 0; j < w->schema->n; j++) {
        const char *name = w->schema->fields[j].name;
        sl_rc rc = write_str(w, name, strlen(name), err);
        if (rc != SL_OK)
            return rc;
        w->buf[w->len++] = j + 1 < w->schema->n ? w->delim : '\n';
    }
    return SL_OK;
}

/* Formats one non-string value; returns its length. */
static int format_value(const sl_column *c, int64_t i, char *p)
{
    switch (c->type) {
    case SL_BOOL:
        if (sl_col_bool(c, i)) {
            memcpy(p, "true", 4);
            return 4;
        }
        memcpy(p, "false", 5);
        return 5;
    case SL_INT64:
        return sl_format_int64(sl_col_i64(c, i), p);
    case SL_FLOAT64:
        return sl_format_float64(sl_col_f64(c, i), p);
    case SL_DATE:
        return sl_format_date(sl_col_i32(c, i), p);
    case SL_TIMESTAMP:
        return sl_format_timestamp(sl_col_i64(c, i), p);
    default:
        return 0; /* SL_NULL */
    }
}

static sl_rc check_batch(const sl_csv_writer *w, const sl_batch *b,
                         sl_err *err)
{
    const sl_schema *s = b->schema;
    if (s->n != w->schema->n)
        return sl_err_set(err, SL_ESCHEMA,
                          "csv writer for '%s': batch has %d columns, the "
                          "file has %d",
                          w->path, s->n, w->schema->n);
    for (int j = 0; j < s->n; j++) {
        const sl_field *a = &s->fields[j], *e = &w->schema->fields[j];
        if (strcmp(a->name, e->name) != 0 || b->cols[j]->type != e->type) {
            sl_err_set(err, SL_ESCHEMA,
                       "csv writer for '%s': column %d is '%s' (%s), "
                       "expected '%s' (%s)",
                       w->path, j + 1, a->name, sl_type_name(b->cols[j]->type),
                       e->name, sl_type_name(e->type));
            sl_err_field(err, a->name);
            return SL_ESCHEMA;
        }
    }
    return SL_OK;
}

sl_rc sl_csv_writer_write(sl_csv_writer *w, const sl_batch *b, sl_err *err)
{
    sl_rc rc;
    const int ncols = w->schema->n;
    if (w->broken)
        return sl_err_set(err, SL_EIO, "csv writer for '%s' already failed",
                          w->path);
    if ((rc = check_batch(w, b, err)) != SL_OK)
        return rc;
    for (int64_t i = 0; i < b->nrows; i++) {
        for (int j = 0; j < ncols; j++) {
            const sl_column *c = b->cols[j];
            if (sl_col_valid(c, i) && c->type == SL_STRING) {
                size_t n;
                const char *s = sl_col_str(c, i, &n);
                if ((rc = write_str(w, s, n, err)) != SL_OK)
                    return rc;
            } else {
                if ((rc = reserve(w, SL_FMT_MAX + 1, err)) != SL_OK)
                    return rc;
                if (sl_col_valid(c, i))
                    w->len += (size_t)format_value(c, i, w->buf + w->len);
            }
            /* reserve() always leaves the one byte for the separator */
            if (w->len == w->cap && (rc = reserve(w, 1, err)) != SL_OK)
                return rc;
            w->buf[w->len++] = j + 1 < ncols ? w->delim : '\n';
        }
    }
    w->rows += b->nrows;
    return SL_OK;
}

sl_rc sl_csv_writer_flush(sl_csv_writer *w, sl_err *err)
{
    if (w->broken)
        return sl_err_set(err, SL_EIO, "csv writer for '%s' already failed",
                          w->path);
    return flush_buf(w, err);
}

static void writer_free(sl_csv_writer *w)
{
    if (w->fd >= 0)
        close(w->fd);
    if (w->tmp)
        unlink(w->tmp);
    csv_nulls_free(&w->nulls);
    sl_schema_free(w->schema);
    sl_free(w->buf);
    sl_free(w->path);
    sl_free(w->tmp);
    sl_free(w);
}

void sl_csv_writer_abort(sl_csv_writer *w)
{
    if (w)
        writer_free(w);
}

/* The directory part of path ("." when there is none). */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return sl_strdup(".");
    if (slash == path)
        return sl_strdup("/");
    return sl_strndup(path, (size_t)(slash - path));
}

sl_rc sl_csv_writer_close(sl_csv_writer *w, sl_err *err)
{
    sl_rc rc = SL_OK;
    char *dir = NULL;
    if (!w)
        return SL_OK;
    if (w->broken) {
        rc = sl_err_set(err, SL_EIO, "csv writer for '%s' failed earlier; "
                        "'%s' was not written", w->path, w->path);
        goto out;
    }
    if ((rc = flush_buf(w, err)) != SL_OK)
        goto out;
    if (fsync(w->fd) != 0) {
        rc = sys_error(w, err, "fsync", w->tmp);
        goto out;
    }
    if (close(w->fd) != 0) {
        w->fd = -1;
        rc = sys_error(w, err, "close", w->tmp);
        goto out;
    }
    w->fd = -1;
    if (rename(w->tmp, w->path) != 0) {
        rc = sys_error(w, err, "rename to", w->path);
        goto out;
    }
    sl_free(w->tmp);
    w->tmp = NULL; /* committed: nothing to remove */
    /* Make the rename itself durable; failure here loses nothing the
     * caller could act on, so it is not an error. */
    if ((dir = dir_of(w->path)) != NULL) {
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            (void)fsync(dfd);
            close(dfd);
        }
    }
out:
    sl_free(dir);
    writer_free(w);
    return rc;
}

/* Create "<dir>/.<base>.tmp-<pid>-<n>" exclusively. Mode 0666 lets the
 * umask decide, as it would for the target itself. */
static sl_rc open_tmp(sl_csv_writer *w, sl_err *err)
{
    const char *slash = strrchr(w->path, '/');
    size_t dlen = slash ? (size_t)(slash - w->path) + 1 : 0;
    const char *base = w->path + dlen;
    size_t n = strlen(w->path) + 64;
    if (!(w->tmp = sl_malloc(n)))
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    for (int attempt = 0; attempt < 100; attempt++) {
        snprintf(w->tmp, n, "%.*s.%s.tmp-%ld-%u", (int)dlen, w->path, base,
                 (long)getpid(), atomic_fetch_add(&tmp_counter, 1));
        w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (w->fd >= 0)
            return SL_OK;
        if (errno != EEXIST)
            break;
    }
    sl_rc rc = sys_error(w, err, "create", w->tmp);
    sl_free(w->tmp);
    w->tmp = NULL;
    return rc;
}

sl_rc sl_csv_writer_open(const char *path, const sl_csv_options *opts,
                         const sl_schema *schema, sl_csv_writer **out,
                         sl_err *err)
{
    sl_rc rc;
    sl_csv_options def;
    sl_csv_writer *w = NULL;

    *out = NULL;
    if (!opts) {
        sl_csv_options_init(&def);
        opts = &def;
    }
    if (!path || !*path || !schema)
        return sl_err_set(err, SL_EINVAL, "csv writer needs a path and a schema");
    if ((rc = csv_options_check(opts, 0, err)) != SL_OK)
        return rc;
    if (!(w = sl_calloc(1, sizeof *w)))
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    w->fd = -1;
    w->delim = opts->delimiter;
    w->quote = opts->quote;
    w->header = opts->header;
    w->special[(uint8_t)w->delim] = 1;
    w->special[(uint8_t)w->quote] = 1;
    w->special['\r'] = 1;
    w->special['\n'] = 1;
    w->cap = WRITE_BUF_BYTES;
    if (!(w->path = sl_strdup(path)) || !(w->schema = sl_schema_copy(schema)) ||
        !(w->buf = sl_malloc(w->cap))) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto fail;
    }
    if ((rc = csv_nulls_init(&w->nulls, opts->null_values,
                             opts->n_null_values, err)) != SL_OK)
        goto fail;
    if ((rc = open_tmp(w, err)) != SL_OK)
        goto fail;
    if (w->header && (rc = write_header(w, err)) != SL_OK)
        goto fail;
    *out = w;
    return SL_OK;
fail:
    writer_free(w);
    return rc;
}

int64_t sl_csv_writer_rows(const sl_csv_writer *w)
{
    return w->rows;
}
