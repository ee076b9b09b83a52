/*
 * jsonl_writer.c: the JSON Lines writer (API in sluice/jsonl.h).
 *
 * Rows are formatted straight into one large buffer (1 MiB) that is written
 * out when the next value might not fit; keys are escaped once at open as
 * `{"key":` / `,"key":` fragments. Numbers, dates and timestamps use the
 * formatters of value.h so every text format spells a value the same way.
 *
 * Invariants: every output line is one valid JSON object in valid UTF-8
 * (NaN/inf become null, invalid UTF-8 bytes become U+FFFD, both counted and
 * logged once); nothing appears at the target path until close succeeds
 * (temporary file beside it, fsync, rename, fsync of the directory).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "jsonl_internal.h"
#include "sluice/jsonl.h"
#include "sluice/log.h"
#include "sluice/mem.h"
#include "sluice/value.h"

#define WBUF_SIZE (1u << 20)

struct sl_jsonl_writer {
    char *path, *tmp;
    int fd;
    sl_schema *schema;
    char **keys; /* `{"name":` for the first column, `,"name":` after */
    size_t *klens;
    char *buf;
    size_t len, cap;
    int64_t rows, nonfinite, replaced;
    int mem; /* jl_writer_open_mem: the buffer grows, nothing is written */
};

static const char hexd[] = "0123456789abcdef";

/* Writes s as a JSON string at d (room: 6 * n + 2 bytes). Escapes '"',
 * '\\' and control characters; copies valid UTF-8 as is; replaces each
 * byte of an invalid sequence by U+FFFD (counted in *replaced). */
static char *put_str(char *d, const char *s, size_t n, int64_t *replaced)
{
    const unsigned char *p = (const unsigned char *)s, *e = p + n;
    *d++ = '"';
    while (p < e) {
        /* 8 plain ASCII bytes at a time (see special8 in jsonl_parse.c). */
        while (e - p >= 8) {
            uint64_t w, q, b, o = 0x0101010101010101ULL;
            memcpy(&w, p, 8);
            q = w ^ (o * '"');
            b = w ^ (o * '\\');
            if (((q - o) & ~q) & 0x8080808080808080ULL ||
                ((b - o) & ~b) & 0x8080808080808080ULL ||
                (((w - o * 0x20) & ~w) | w) & 0x8080808080808080ULL)
                break;
            memcpy(d, p, 8);
            d += 8;
            p += 8;
        }
        if (p == e)
            break;
        unsigned char c = *p;
        if (c >= 0x80) {
            int len = jl_utf8_len(p, (size_t)(e - p));
            if (len) {
                memcpy(d, p, (size_t)len);
                d += len;
                p += len;
            } else {
                memcpy(d, "\xEF\xBF\xBD", 3);
                d += 3;
                p++;
                (*replaced)++;
            }
            continue;
        }
        p++;
        if (c == '"' || c == '\\') {
            *d++ = '\\';
            *d++ = (char)c;
        } else if (c >= 0x20) {
            *d++ = (char)c;
        } else if (c == '\n') {
            memcpy(d, "\\n", 2);
            d += 2;
        } else if (c == '\t') {
            memcpy(d, "\\t", 2);
            d += 2;
        } else if (c == '\r') {
            memcpy(d, "\\r", 2);
            d += 2;
        } else {
            memcpy(d, "\\u00", 4);
            d[4] = hexd[c >> 4];
            d[5] = hexd[c & 15];
            d += 6;
        }
    }
    *d++ = '"';
    return d;
}

static sl_rc write_all(sl_jsonl_writer *w, const char *p, size_t n,
                       sl_err *err)
{
    while (n > 0) {
        ssize_t k = write(w->fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return sl_err_setloc(err, SL_EIO, w->path, 0, 0, "write failed: %s",
                                 strerror(errno));
        p += k;
        n -= (size_t)k;
    }
    return SL_OK;
}

sl_rc sl_jsonl_writer_flush(sl_jsonl_writer *w, sl_err *err)
{
    if (w->mem)
        return SL_OK;
    sl_rc rc = write_all(w, w->buf, w->len, err);
    if (rc == SL_OK)
        w->len = 0;
    return rc;
}

/* Room for need more bytes in the buffer. */
static sl_rc ensure(sl_jsonl_writer *w, size_t need, sl_err *err)
{
    if (w->len + need <= w->cap)
        return SL_OK;
    size_t ncap = need;
    if (w->mem) {
        ncap = w->cap * 2 > w->len + need ? w->cap * 2 : w->len + need;
    } else {
        sl_rc rc = sl_jsonl_writer_flush(w, err);
        if (rc != SL_OK || need <= w->cap)
            return rc;
    }
    char *nb = sl_realloc(w->buf, ncap);
    if (!nb)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    w->buf = nb;
    w->cap = ncap;
    return SL_OK;
}

static sl_rc render_keys(sl_jsonl_writer *w)
{
    int n = w->schema->n;
    int64_t dummy = 0;
    w->keys = sl_calloc((size_t)n + 1, sizeof *w->keys);
    w->klens = sl_calloc((size_t)n + 1, sizeof *w->klens);
    if (!w->keys || !w->klens)
        return SL_ENOMEM;
    for (int i = 0; i < n; i++) {
        const char *nm = w->schema->fields[i].name;
        size_t len = strlen(nm);
        char *k = sl_malloc(6 * len + 4);
        if (!k)
            return SL_ENOMEM;
        k[0] = i == 0 ? '{' : ',';
        char *e = put_str(k + 1, nm, len, &dummy);
        *e++ = ':';
        w->keys[i] = k;
        w->klens[i] = (size_t)(e - k);
    }
    return SL_OK;
}

static void writer_free(sl_jsonl_writer *w)
{
    if (w->fd >= 0) {
        close(w->fd);
        unlink(w->tmp);
    }
    for (int i = 0; w->keys && i < w->schema->n; i++)
        sl_free(w->keys[i]);
    sl_free(w->keys);
    sl_free(w->klens);
    sl_schema_free(w->schema);
    sl_free(w->buf);
    sl_free(w->path);
    sl_free(w->tmp);
    sl_free(w);
}

static sl_jsonl_writer *writer_new(const char *path, const sl_schema *schema,
                                   size_t cap)
{
    sl_jsonl_writer *w = sl_calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->fd = -1;
    w->path = sl_strdup(path);
    w->tmp = sl_malloc(strlen(path) + 48);
    w->schema = sl_schema_copy(schema);
    w->cap = cap;
    w->buf = sl_malloc(w->cap);
    if (!w->path || !w->tmp || !w->schema || !w->buf || render_keys(w) != SL_OK) {
        writer_free(w);
        return NULL;
    }
    return w;
}

sl_rc jl_writer_open_mem(const sl_schema *schema, sl_jsonl_writer **out)
{
    *out = writer_new("<memory>", schema, 4096);
    if (!*out)
        return SL_ENOMEM;
    (*out)->mem = 1;
    return SL_OK;
}

const char *jl_writer_text(const sl_jsonl_writer *w, size_t *len)
{
    *len = w->len;
    return w->buf;
}

sl_rc sl_jsonl_writer_open(const char *path, const sl_schema *schema,
                           sl_jsonl_writer **out, sl_err *err)
{
    static atomic_uint seq;
    sl_rc rc = SL_ENOMEM;
    *out = NULL;
    sl_jsonl_writer *w = writer_new(path, schema, WBUF_SIZE);
    if (!w)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    size_t tlen = strlen(path) + 48;
    /* O_EXCL with a fresh name per attempt: never clobbers a file, and the
     * mode follows the umask like any created file. */
    for (int attempt = 0; attempt < 100 && w->fd < 0; attempt++) {
        snprintf(w->tmp, tlen, "%s.tmp.%ld.%u", path, (long)getpid(),
                 atomic_fetch_add(&seq, 1));
        w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (w->fd < 0 && errno != EEXIST)
            break;
    }
    if (w->fd < 0) {
        rc = sl_err_setloc(err, errno == ENOENT ? SL_ENOTFOUND : SL_EIO, path, 0, 0,
                           "cannot create: %s", strerror(errno));
        goto out;
    }
    rc = SL_OK;
out:
    if (rc != SL_OK)
        writer_free(w);
    else
        *out = w;
    return rc;
}

static sl_rc check_batch(const sl_jsonl_writer *w, const sl_batch *b,
                         sl_err *err)
{
    const sl_schema *s = w->schema, *t = b->schema;
    if (t->n != s->n)
        return sl_err_setloc(err, SL_ESCHEMA, w->path, 0, 0,
                             "batch has %d columns, the output schema has %d",
                             t->n, s->n);
    for (int i = 0; i < s->n; i++)
        if (t->fields[i].type != s->fields[i].type ||
            strcmp(t->fields[i].name, s->fields[i].name) != 0)
            return sl_err_setloc(err, SL_ESCHEMA, w->path, 0, 0,
                                 "batch column %d is '%s' (%s), the output "
                                 "schema has '%s' (%s)",
                                 i + 1, t->fields[i].name,
                                 sl_type_name(t->fields[i].type),
                                 s->fields[i].name,
                                 sl_type_name(s->fields[i].type));
    return SL_OK;
}

/* Formats row i of column c at d (room: SL_FMT_MAX + 2 for non-strings,
 * 6 * length + 2 for strings). */
static char *put_value(sl_jsonl_writer *w, const sl_column *c, int64_t i,
                       const char *name, char *d)
{
    if (!sl_col_valid(c, i) || c->type == SL_NULL) {
        memcpy(d, "null", 4);
        return d + 4;
    }
    switch (c->type) {
    case SL_BOOL:
        if (sl_col_bool(c, i)) {
            memcpy(d, "true", 4);
            return d + 4;
        }
        memcpy(d, "false", 5);
        return d + 5;
    case SL_INT64:
        return d + sl_format_int64(sl_col_i64(c, i), d);
    case SL_FLOAT64: {
        double v = sl_col_f64(c, i);
        if (isfinite(v))
            return d + sl_format_float64(v, d);
        if (w->nonfinite++ == 0)
            sl_log(SL_LOG_WARN, "jsonl",
                   "%s: column '%s' has NaN or infinite values, which JSON "
                   "cannot represent; they are written as null (counted)",
                   w->path, name);
        memcpy(d, "null", 4);
        return d + 4;
    }
    case SL_DATE:
        *d = '"';
        d += 1 + sl_format_date(sl_col_i32(c, i), d + 1);
        *d = '"';
        return d + 1;
    case SL_TIMESTAMP:
        *d = '"';
        d += 1 + sl_format_timestamp(sl_col_i64(c, i), d + 1);
        *d = '"';
        return d + 1;
    case SL_STRING: {
        size_t n;
        const char *s = sl_col_str(c, i, &n);
        int64_t before = w->replaced;
        d = put_str(d, s, n, &w->replaced);
        if (before == 0 && w->replaced > 0)
            sl_log(SL_LOG_WARN, "jsonl",
                   "%s: column '%s' has invalid UTF-8; the bad bytes are "
                   "written as U+FFFD (counted)",
                   w->path, name);
        return d;
    }
    default:
        memcpy(d, "null", 4);
        return d + 4;
    }
}

sl_rc sl_jsonl_writer_write(sl_jsonl_writer *w, const sl_batch *b,
                            sl_err *err)
{
    sl_rc rc = check_batch(w, b, err);
    int n = w->schema->n;
    for (int64_t i = 0; rc == SL_OK && i < b->nrows; i++) {
        if (n == 0) {
            if ((rc = ensure(w, 3, err)) != SL_OK)
                break;
            memcpy(w->buf + w->len, "{}\n", 3);
            w->len += 3;
            continue;
        }
        for (int j = 0; j < n; j++) {
            const sl_column *c = b->cols[j];
            size_t need = w->klens[j] + SL_FMT_MAX + 4;
            if (c->type == SL_STRING)
                need += 6 * (size_t)(c->offsets[i + 1] - c->offsets[i]);
            if ((rc = ensure(w, need, err)) != SL_OK)
                break;
            char *d = w->buf + w->len;
            memcpy(d, w->keys[j], w->klens[j]);
            d = put_value(w, c, i, w->schema->fields[j].name, d + w->klens[j]);
            if (j == n - 1) {
                *d++ = '}';
                *d++ = '\n';
            }
            w->len = (size_t)(d - w->buf);
        }
    }
    if (rc == SL_OK)
        w->rows += b->nrows;
    return rc;
}

/* Makes the rename durable; a filesystem that cannot fsync a directory
 * (EINVAL) is not an error. */
static sl_rc sync_dir(const char *path, sl_err *err)
{
    char *dir = sl_strdup(path);
    if (!dir)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    char *slash = strrchr(dir, '/');
    const char *d = ".";
    if (slash == dir)
        d = "/";
    else if (slash) {
        *slash = '\0';
        d = dir;
    }
    sl_rc rc = SL_OK;
    int fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        if (fsync(fd) != 0 && errno != EINVAL)
            rc = sl_err_setloc(err, SL_EIO, path, 0, 0, "fsync of directory failed: %s",
                               strerror(errno));
        close(fd);
    }
    sl_free(dir);
    return rc;
}

sl_rc sl_jsonl_writer_close(sl_jsonl_writer *w, sl_err *err)
{
    if (!w)
        return SL_OK;
    sl_rc rc = sl_jsonl_writer_flush(w, err);
    if (rc == SL_OK && fsync(w->fd) != 0)
        rc = sl_err_setloc(err, SL_EIO, w->path, 0, 0, "fsync failed: %s",
                           strerror(errno));
    if (rc == SL_OK) {
        int fd = w->fd;
        w->fd = -1;
        if (close(fd) != 0)
            rc = sl_err_setloc(err, SL_EIO, w->path, 0, 0, "close failed: %s",
                               strerror(errno));
        else if (rename(w->tmp, w->path) != 0)
            rc = sl_err_setloc(err, SL_EIO, w->path, 0, 0, "rename failed: %s",
                               strerror(errno));
        if (rc != SL_OK)
            unlink(w->tmp);
        else
            rc = sync_dir(w->path, err);
    }
    writer_free(w);
    return rc;
}

void sl_jsonl_writer_abort(sl_jsonl_writer *w)
{
    if (w)
        writer_free(w);
}

int64_t sl_jsonl_writer_rows(const sl_jsonl_writer *w)
{
    return w->rows;
}

int64_t sl_jsonl_writer_nonfinite(const sl_jsonl_writer *w)
{
    return w->nonfinite;
}

int64_t sl_jsonl_writer_replaced(const sl_jsonl_writer *w)
{
    return w->replaced;
}
