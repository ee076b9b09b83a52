/*
 * avro_reader.c: Avro object container files -> batches.
 *
 * Layout: "Obj\x01", a metadata map (avro.schema, avro.codec, others),
 * a 16-byte sync marker, then blocks: object count, byte size, the
 * (compressed) records, the sync marker again. Input comes from a file
 * through a reusable buffer (a block is read whole, then decoded in
 * place or decompressed) or from memory (used in place).
 *
 * A batch may span blocks; a block's cursor (av_rd) stays valid until
 * the next block is read, which happens only once its records are all
 * decoded. A directory is read part after part; every part is resolved
 * against the reader schema, or, without one, against the first part's
 * writer schema, so parts written with evolving schemas read as one.
 *
 * Bounds (untrusted input): the header at most SL_AVRO_MAX_HEADER_BYTES,
 * a block at most SL_AVRO_MAX_BLOCK_BYTES before and after decompression
 * and inside the file before anything is allocated for it; a block's
 * object count must fit in its bytes (records of a type that takes no
 * bytes: at most AV_MAX_ZERO_ROWS per block); the decoded records must
 * use the block's bytes exactly.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "avro_reader.h"
#include "sluice/mem.h"

#define AV_MAX_ZERO_ROWS (1 << 24)
#define READ_CHUNK (256 * 1024)

static sl_rc nomem(sl_err *err)
{
    return sl_err_set(err, SL_ENOMEM, "out of memory");
}

void sl_avro_read_options_init(sl_avro_read_options *o)
{
    memset(o, 0, sizeof *o);
    o->batch_rows = SL_BATCH_ROWS_DEFAULT;
}

/* ---- input ---- */

/* *p = the next n bytes (or fewer, *got, at the end of the input). */
static sl_rc in_need(sl_avro_reader *r, size_t n, const uint8_t **p, size_t *got, sl_err *err)
{
    if (r->mem) {
        size_t left = r->mem_n - r->pos;
        *p = r->mem + r->pos;
        *got = left < n ? left : n;
        return SL_OK;
    }
    if (r->in.len - r->pos < n && !r->eof) {
        /* keep the unread tail, then read at least n more */
        size_t tail = r->in.len - r->pos;
        if (r->pos > 0 && tail > 0)
            memmove(r->in.p, r->in.p + r->pos, tail);
        r->base += (int64_t)r->pos;
        r->pos = 0;
        r->in.len = tail;
        size_t want = n > READ_CHUNK ? n : READ_CHUNK;
        if (pq_buf_reserve(&r->in, want) != 0)
            return nomem(err);
        while (r->in.len < n || r->in.len - tail < READ_CHUNK / 2) {
            ssize_t k = read(r->fd, r->in.p + r->in.len, r->in.cap - r->in.len);
            if (k < 0 && errno == EINTR)
                continue;
            if (k < 0)
                return sl_err_setloc(err, SL_EIO, r->name, 0, 0, "read failed: %s", strerror(errno));
            if (k == 0) {
                r->eof = 1;
                break;
            }
            r->in.len += (size_t)k;
            if (r->in.len == r->in.cap)
                break;
        }
    }
    size_t left = r->in.len - r->pos;
    *p = r->in.p ? r->in.p + r->pos : (const uint8_t *)"";
    *got = left < n ? left : n;
    return SL_OK;
}

static int64_t in_offset(const sl_avro_reader *r)
{
    return r->base + (int64_t)r->pos;
}

static sl_rc corrupt_at(sl_avro_reader *r, sl_err *err, const char *what)
{
    sl_rc rc = sl_err_setloc(err, SL_EPARSE, r->name, 0, 0, "corrupt Avro file: %s", what);
    if (err)
        err->offset = in_offset(r);
    return rc;
}

static sl_rc in_long(sl_avro_reader *r, int64_t *v, sl_err *err)
{
    const uint8_t *p = NULL;
    size_t got = 0;
    sl_rc rc = in_need(r, 10, &p, &got, err);
    if (rc != SL_OK)
        return rc;
    av_rd rd = {p, p + got};
    if (av_read_long(&rd, v) != 0)
        return corrupt_at(r, err, got < 10 ? "truncated file" : "invalid varint");
    r->pos += (size_t)(rd.p - p);
    return SL_OK;
}

/* ---- header ---- */

static sl_rc read_header(sl_avro_reader *r, sl_err *err)
{
    const uint8_t *p = NULL;
    size_t got = 0;
    sl_rc rc;
    int64_t total = 0;
    if ((rc = in_need(r, 4, &p, &got, err)) != SL_OK)
        return rc;
    if (got < 4 || memcmp(p, "Obj\x01", 4) != 0)
        return sl_err_setloc(err, SL_EPARSE, r->name, 0, 0,
                             "not an Avro object container file (no \"Obj\\x01\" magic)");
    r->pos += 4;
    r->nmeta = 0;
    for (;;) {
        int64_t count, size;
        if ((rc = in_long(r, &count, err)) != SL_OK)
            return rc;
        if (count == 0)
            break;
        if (count < 0) {
            if (count == INT64_MIN || (rc = in_long(r, &size, err)) != SL_OK)
                return rc != SL_OK ? rc : corrupt_at(r, err, "invalid metadata block");
            count = -count;
        }
        if (count > SL_AVRO_MAX_HEADER_BYTES / 2)
            return corrupt_at(r, err, "metadata block count too large");
        for (int64_t i = 0; i < count; i++) {
            int64_t len[2];
            char *kv[2] = {NULL, NULL};
            for (int k = 0; k < 2; k++) {
                if ((rc = in_long(r, &len[k], err)) != SL_OK)
                    return rc;
                if (len[k] < 0 || len[k] > SL_AVRO_MAX_HEADER_BYTES - total)
                    return corrupt_at(r, err, "metadata longer than the header bound");
                total += len[k];
                if ((rc = in_need(r, (size_t)len[k], &p, &got, err)) != SL_OK)
                    return rc;
                if (got < (size_t)len[k])
                    return corrupt_at(r, err, "truncated header");
                if (!(kv[k] = sl_arena_alloc(r->arena, (size_t)len[k] + 1)))
                    return nomem(err);
                memcpy(kv[k], p, (size_t)len[k]);
                kv[k][len[k]] = '\0';
                r->pos += (size_t)len[k];
            }
            void *m = r->meta;
            size_t cap = r->meta_cap;
            if (sl_grow(&m, &cap, (size_t)r->nmeta + 1, sizeof *r->meta) != 0)
                return nomem(err);
            r->meta = m;
            r->meta_cap = cap;
            r->meta[r->nmeta].key = kv[0];
            r->meta[r->nmeta].val = kv[1];
            r->meta[r->nmeta++].vlen = (size_t)len[1];
        }
    }
    if ((rc = in_need(r, 16, &p, &got, err)) != SL_OK)
        return rc;
    if (got < 16)
        return corrupt_at(r, err, "truncated header (no sync marker)");
    memcpy(r->sync, p, 16);
    r->pos += 16;
    return SL_OK;
}

static const av_meta *find_meta(const sl_avro_reader *r, const char *key)
{
    for (int i = 0; i < r->nmeta; i++)
        if (!strcmp(r->meta[i].key, key))
            return &r->meta[i];
    return NULL;
}

/* Opens part r->part (header, schema, codec, program). */
static sl_rc open_part(sl_avro_reader *r, sl_err *err)
{
    sl_rc rc;
    struct stat st;
    if (!r->mem) {
        r->name = r->parts[r->part];
        if ((r->fd = open(r->name, O_RDONLY | O_CLOEXEC)) < 0)
            return sl_err_setloc(err, errno == ENOENT ? SL_ENOTFOUND : SL_EIO, r->name, 0, 0,
                                 "cannot open: %s", strerror(errno));
        r->file_size = fstat(r->fd, &st) == 0 ? (int64_t)st.st_size : 0;
    }
    if ((rc = read_header(r, err)) != SL_OK)
        return rc;
    const av_meta *sm = find_meta(r, "avro.schema"), *cm = find_meta(r, "avro.codec");
    if (!sm)
        return sl_err_setloc(err, SL_EPARSE, r->name, 0, 0, "corrupt Avro file: no avro.schema in "
                                                            "the header");
    r->codec = AV_CODEC_NULL;
    if (cm && (rc = av_codec_parse(cm->val, cm->vlen, &r->codec, err)) != SL_OK) {
        sl_err_at(err, r->name, 0, 0);
        return rc;
    }
    sl_avro_schema_free(r->writer);
    r->writer = NULL;
    if ((rc = sl_avro_schema_parse(sm->val, sm->vlen, r->name, &r->writer, err)) != SL_OK)
        return rc;
    const sl_avro_schema *reader = r->opts.reader_schema ? r->opts.reader_schema : r->first;
    av_prog_free(r->prog);
    r->prog = NULL;
    if ((rc = av_prog_build(r->writer, reader, r->opts.columns, r->opts.ncolumns, &r->prog, err)) !=
        SL_OK) {
        sl_err_at(err, r->name, 0, 0);
        return rc;
    }
    if (!r->schema) {
        if (!(r->schema = sl_schema_copy(r->prog->schema)))
            return nomem(err);
    } else if (!sl_schema_equal(r->schema, r->prog->schema)) {
        return sl_err_setloc(err, SL_ESCHEMA, r->name, 0, 0,
                             "this part's columns differ from the first part's");
    }
    if (!r->first && !r->opts.reader_schema && r->nparts > 1) {
        r->first = r->writer; /* later parts resolve against it */
        r->writer = NULL;
        if ((rc = sl_avro_schema_parse(sm->val, sm->vlen, r->name, &r->writer, err)) != SL_OK)
            return rc;
    }
    r->min_record = r->writer->root->min_size;
    r->block_no = 0;
    r->left = 0;
    r->rd.p = r->rd.end = NULL;
    return SL_OK;
}

static void close_part(sl_avro_reader *r)
{
    if (r->fd >= 0) {
        close(r->fd);
        r->fd = -1;
    }
    r->done_before += r->mem ? 0 : r->file_size;
    r->in.len = 0;
    r->pos = 0;
    r->base = 0;
    r->eof = 0;
    sl_arena_reset(r->arena); /* metadata strings */
    r->nmeta = 0;
}

/* Reads the next block header and data; SL_EEOF at the end of the part. */
sl_rc av_reader_block(sl_avro_reader *r, int decode, sl_err *err)
{
    const uint8_t *p = NULL;
    size_t got = 0;
    int64_t count, size;
    sl_rc rc;
    if ((rc = in_need(r, 1, &p, &got, err)) != SL_OK)
        return rc;
    if (got == 0)
        return SL_EEOF;
    r->block_off = in_offset(r);
    if ((rc = in_long(r, &count, err)) != SL_OK || (rc = in_long(r, &size, err)) != SL_OK)
        return rc;
    if (count < 0 || size < 0)
        return corrupt_at(r, err, "negative block count or size");
    if (size > SL_AVRO_MAX_BLOCK_BYTES)
        return corrupt_at(r, err, "block larger than 512 MiB");
    if ((rc = in_need(r, (size_t)size + 16, &p, &got, err)) != SL_OK)
        return rc;
    if (got < (size_t)size + 16)
        return corrupt_at(r, err, "truncated block");
    if (memcmp(p + size, r->sync, 16) != 0)
        return corrupt_at(r, err, "sync marker mismatch after a block");
    r->block_no++;
    r->block_rows = count;
    r->block_bytes = size;
    if (decode) {
        const uint8_t *data = p;
        size_t n = (size_t)size;
        if (r->codec != AV_CODEC_NULL) {
            if ((rc = av_decompress(&r->cs, r->codec, p, n, SL_AVRO_MAX_BLOCK_BYTES, &r->block,
                                    err)) != SL_OK) {
                sl_err_prefix(err, "block %lld at byte %lld", (long long)r->block_no,
                              (long long)r->block_off);
                sl_err_at(err, r->name, 0, 0);
                return rc;
            }
            data = r->block.p;
            n = r->block.len;
        }
        if (r->min_record > 0 ? count > (int64_t)n / r->min_record : count > AV_MAX_ZERO_ROWS)
            return corrupt_at(r, err, "block declares more records than its bytes can hold");
        r->rd.p = data;
        r->rd.end = data + n;
        r->left = count;
        r->rec = 0;
    }
    r->pos += (size_t)size + 16;
    return SL_OK;
}

/* ---- open / close ---- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static sl_rc list_parts(sl_avro_reader *r, const char *path, sl_err *err)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return sl_err_setloc(err, errno == ENOENT ? SL_ENOTFOUND : SL_EIO, path, 0, 0,
                             "cannot open: %s", strerror(errno));
    if (!S_ISDIR(st.st_mode)) {
        if (!(r->parts = sl_calloc(1, sizeof *r->parts)) || !(r->parts[0] = sl_strdup(path)))
            return nomem(err);
        r->nparts = 1;
        r->total_size = (int64_t)st.st_size;
        return SL_OK;
    }
    DIR *d = opendir(path);
    if (!d)
        return sl_err_setloc(err, SL_EIO, path, 0, 0, "cannot open directory: %s", strerror(errno));
    sl_rc rc = SL_OK;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (e->d_name[0] == '.' || e->d_name[0] == '_' || n < 6 ||
            strcmp(e->d_name + n - 5, ".avro") != 0)
            continue;
        void *pp = r->parts;
        char *full = sl_malloc(strlen(path) + n + 2);
        if (!full || sl_grow(&pp, &cap, (size_t)r->nparts + 1, sizeof *r->parts) != 0) {
            sl_free(full);
            rc = nomem(err);
            break;
        }
        r->parts = pp;
        sprintf(full, "%s/%s", path, e->d_name);
        r->parts[r->nparts++] = full;
        if (stat(full, &st) == 0)
            r->total_size += (int64_t)st.st_size;
    }
    closedir(d);
    if (rc == SL_OK && r->nparts == 0)
        rc = sl_err_setloc(err, SL_ENOTFOUND, path, 0, 0, "no *.avro files in this directory");
    if (rc == SL_OK)
        qsort(r->parts, (size_t)r->nparts, sizeof *r->parts, cmp_str);
    return rc;
}

static sl_rc reader_new(const sl_avro_read_options *opts, sl_avro_reader **out, sl_err *err)
{
    sl_avro_reader *r = sl_calloc(1, sizeof *r);
    *out = NULL;
    if (!r || !(r->arena = sl_arena_new(0))) {
        sl_free(r);
        return nomem(err);
    }
    r->fd = -1;
    if (opts)
        r->opts = *opts;
    else
        sl_avro_read_options_init(&r->opts);
    if (r->opts.batch_rows <= 0)
        r->opts.batch_rows = SL_BATCH_ROWS_DEFAULT;
    if (r->opts.batch_rows > (1 << 26)) {
        sl_avro_reader_close(r);
        return sl_err_set(err, SL_ECONFIG, "batch_rows must be at most %d", 1 << 26);
    }
    r->opts.columns = NULL; /* copied below by the caller's open */
    *out = r;
    return SL_OK;
}

static sl_rc copy_columns(sl_avro_reader *r, const sl_avro_read_options *opts, sl_err *err)
{
    if (!opts || !opts->columns)
        return SL_OK;
    if (!(r->cols = sl_calloc((size_t)(opts->ncolumns ? opts->ncolumns : 1), sizeof *r->cols)))
        return nomem(err);
    for (int i = 0; i < opts->ncolumns; i++)
        if (!(r->cols[i] = sl_strdup(opts->columns[i])))
            return nomem(err);
    r->ncols = opts->ncolumns;
    r->opts.columns = (const char *const *)r->cols;
    r->opts.ncolumns = opts->ncolumns;
    return SL_OK;
}

sl_rc sl_avro_reader_open(const char *path, const sl_avro_read_options *opts,
                          sl_avro_reader **out, sl_err *err)
{
    sl_avro_reader *r;
    sl_rc rc = reader_new(opts, &r, err);
    if (rc != SL_OK)
        return rc;
    if ((rc = copy_columns(r, opts, err)) == SL_OK && (rc = list_parts(r, path, err)) == SL_OK)
        rc = open_part(r, err);
    if (rc != SL_OK) {
        sl_avro_reader_close(r);
        return rc;
    }
    *out = r;
    return SL_OK;
}

sl_rc sl_avro_reader_open_mem(const void *data, size_t n, const char *name,
                              const sl_avro_read_options *opts, sl_avro_reader **out, sl_err *err)
{
    sl_avro_reader *r;
    sl_rc rc = reader_new(opts, &r, err);
    if (rc != SL_OK)
        return rc;
    r->mem = data ? data : (const uint8_t *)"";
    r->mem_n = n;
    r->nparts = 1;
    r->total_size = (int64_t)n;
    r->name = name ? name : "<memory>";
    if ((rc = copy_columns(r, opts, err)) == SL_OK)
        rc = open_part(r, err);
    if (rc != SL_OK) {
        sl_avro_reader_close(r);
        return rc;
    }
    *out = r;
    return SL_OK;
}

void sl_avro_reader_close(sl_avro_reader *r)
{
    if (!r)
        return;
    if (r->fd >= 0)
        close(r->fd);
    for (int i = 0; r->parts && i < r->nparts; i++)
        sl_free(r->parts[i]);
    sl_free(r->parts);
    for (int i = 0; r->cols && i < r->ncols; i++)
        sl_free(r->cols[i]);
    sl_free(r->cols);
    pq_buf_free(&r->in);
    pq_buf_free(&r->block);
    av_dec_free(&r->dec);
    av_codec_state_free(&r->cs);
    av_prog_free(r->prog);
    sl_avro_schema_free(r->writer);
    sl_avro_schema_free(r->first);
    sl_schema_free(r->schema);
    sl_free(r->meta);
    sl_arena_free(r->arena);
    sl_free(r);
}

const sl_schema *sl_avro_reader_schema(const sl_avro_reader *r)
{
    return r->schema;
}

const sl_avro_schema *sl_avro_reader_writer_schema(const sl_avro_reader *r)
{
    return r->writer ? r->writer : r->first;
}

const char *sl_avro_reader_codec(const sl_avro_reader *r)
{
    return av_codec_name(r->codec);
}

void sl_avro_reader_progress(const sl_avro_reader *r, int64_t *done, int64_t *total)
{
    *done = r->done_before + (r->fd >= 0 || r->mem ? in_offset(r) : 0);
    *total = r->total_size;
}

/* ---- batches ---- */

static sl_rc decode_rows(sl_avro_reader *r, sl_batch *b, int64_t n, sl_err *err)
{
    for (int64_t i = 0; i < n; i++) {
        sl_rc rc = av_decode_row(r->prog, &r->dec, &r->rd, b->cols, err);
        if (rc != SL_OK) {
            sl_err_prefix(err, "block %lld at byte %lld, record %lld", (long long)r->block_no,
                          (long long)r->block_off, (long long)r->rec);
            sl_err_at(err, r->name, 0, 0);
            if (err && err->offset < 0)
                err->offset = r->block_off;
            return rc;
        }
        r->rec++;
    }
    r->left -= n;
    return SL_OK;
}

/* Moves to the next block, or the next part; SL_EEOF at the very end. */
static sl_rc advance(sl_avro_reader *r, sl_err *err)
{
    for (;;) {
        if (r->rd.p != r->rd.end)
            return corrupt_at(r, err, "a block holds bytes after its last record");
        sl_rc rc = av_reader_block(r, 1, err);
        if (rc != SL_EEOF)
            return rc;
        if (r->part + 1 >= r->nparts)
            return SL_EEOF;
        close_part(r);
        r->part++;
        if ((rc = open_part(r, err)) != SL_OK)
            return rc;
    }
}

sl_rc sl_avro_reader_next(sl_avro_reader *r, sl_batch **out, sl_err *err)
{
    sl_rc rc = SL_OK;
    *out = NULL;
    if (r->failed)
        return sl_err_set(err, SL_EINVAL, "the Avro reader already failed");
    sl_batch *b = sl_batch_new(r->schema, r->opts.batch_rows);
    if (!b)
        return nomem(err);
    int64_t rows = 0;
    while (rows < r->opts.batch_rows) {
        if (r->left == 0 && (rc = advance(r, err)) != SL_OK)
            break;
        int64_t n = r->left < r->opts.batch_rows - rows ? r->left : r->opts.batch_rows - rows;
        if ((rc = decode_rows(r, b, n, err)) != SL_OK)
            break;
        rows += n;
    }
    if (rc == SL_EEOF && rows > 0)
        rc = SL_OK;
    if (rc == SL_OK)
        rc = sl_batch_seal(b, err);
    if (rc == SL_OK && r->schema->n == 0)
        b->nrows = rows; /* a projection to no columns still counts rows */
    if (rc != SL_OK) {
        if (rc != SL_EEOF)
            r->failed = 1;
        sl_batch_unref(b);
        return rc;
    }
    *out = b;
    return SL_OK;
}
