/*
 * parquet_writer.c: the Parquet file writer (API in sluice/parquet.h).
 *
 * Owns the file layout: "PAR1", then row groups, each the column chunks in
 * schema order (dictionary page first, then data pages, see
 * parquet_wcol.c), then the Thrift FileMetaData, its length and "PAR1".
 * Pages are buffered per column until the row group closes (column chunks
 * must be contiguous), which bounds memory by row_group_bytes plus one
 * page and one dictionary per column.
 *
 * What peers check, and how it is kept true here:
 *  - ColumnChunk.file_offset and ColumnMetaData.dictionary_page_offset /
 *    data_page_offset are the file positions of the first page / the
 *    dictionary page / the first data page (they differ when a dictionary
 *    exists); RowGroup.file_offset is the first page of its first column.
 *  - total_compressed_size / total_uncompressed_size include page headers;
 *    num_values counts nulls (it is the number of rows for flat columns).
 *  - nothing appears at the target path until close succeeded: a temporary
 *    file beside it is fsynced and renamed, then the directory fsynced.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <strings.h>
#include <unistd.h>

#include "parquet_par.h"
#include "parquet_wcol.h"
#include "sluice/mem.h"

#define SL_PQ_CREATED_BY "sluice version 0.1.0"
#define SL_PQ_SCHEMA_KEY "sluice.schema"

struct sl_parquet_writer {
    char *path, *tmp;
    int fd;
    int64_t pos;            /* bytes written to the file */
    sl_schema *schema;
    sl_parquet_write_options o;
    int ncols;
    pq_wcol *cols;
    pq_wscratch s, s2;      /* page scratch of the caller / of the worker */
    pq_par *par;            /* NULL: single-threaded */
    pq_buf dict;            /* one column's dictionary page */
    int64_t rg_rows, rows;
    pq_row_group *rgs;
    int nrg;
    size_t rg_cap;
    sl_arena *arena;        /* footer data: chunk arrays, statistics */
};

void sl_parquet_write_options_init(sl_parquet_write_options *o)
{
    memset(o, 0, sizeof *o);
    o->codec = SL_PQ_ZSTD;
    o->row_group_bytes = SL_PQ_ROW_GROUP_BYTES_DEFAULT;
    o->page_bytes = SL_PQ_PAGE_BYTES_DEFAULT;
    o->dictionary = 1;
    o->dictionary_bytes = SL_PQ_DICT_BYTES_DEFAULT;
    o->data_page_version = 1;
    o->statistics = 1;
    o->threads = 2;
}

sl_rc sl_parquet_codec_parse(const char *name, sl_parquet_codec *out)
{
    static const struct { const char *n; sl_parquet_codec c; } names[] = {
        {"uncompressed", SL_PQ_UNCOMPRESSED}, {"none", SL_PQ_UNCOMPRESSED},
        {"snappy", SL_PQ_SNAPPY}, {"gzip", SL_PQ_GZIP}, {"zstd", SL_PQ_ZSTD},
        {"lz4_raw", SL_PQ_LZ4_RAW}, {"lz4", SL_PQ_LZ4_RAW}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(name, names[i].n) == 0) {
            *out = names[i].c;
            return SL_OK;
        }
    return SL_ENOTFOUND;
}

static sl_rc sys_err(const sl_parquet_writer *w, sl_err *err, const char *what)
{
    return sl_err_setloc(err, SL_EIO, w->path, 0, 0, "%s: %s", what, strerror(errno));
}

static sl_rc write_all(sl_parquet_writer *w, const void *p, size_t n, sl_err *err)
{
    const char *c = p;
    while (n > 0) {
        ssize_t k = write(w->fd, c, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return sys_err(w, err, "write failed");
        c += k;
        n -= (size_t)k;
        w->pos += k;
    }
    return SL_OK;
}

static void writer_free(sl_parquet_writer *w)
{
    if (w->fd >= 0) {
        close(w->fd);
        unlink(w->tmp);
    }
    pq_par_free(w->par);
    for (int i = 0; w->cols && i < w->ncols; i++)
        pq_wcol_free(&w->cols[i]);
    sl_free(w->cols);
    for (pq_wscratch *sc = &w->s; sc; sc = sc == &w->s ? &w->s2 : NULL) {
        pq_codec_free(&sc->codec);
        pq_buf_free(&sc->body);
        pq_buf_free(&sc->comp);
        tc_writer_free(&sc->tw);
    }
    pq_buf_free(&w->dict);
    sl_free(w->rgs);
    sl_arena_free(w->arena);
    sl_schema_free(w->schema);
    sl_free(w->path);
    sl_free(w->tmp);
    sl_free(w);
}

static sl_rc check_options(const sl_parquet_write_options *o, sl_err *err)
{
    if (!pq_codec_can_write((int)o->codec))
        return sl_err_set(err, SL_ECONFIG, "unsupported Parquet codec %d", (int)o->codec);
    if (o->data_page_version != 1 && o->data_page_version != 2)
        return sl_err_set(err, SL_ECONFIG, "data_page_version must be 1 or 2, not %d",
                          o->data_page_version);
    if (o->row_group_bytes < 1 || o->page_bytes < 1 || o->row_group_rows < 0 ||
        o->dictionary_bytes < 0)
        return sl_err_set(err, SL_ECONFIG,
                          "row_group_bytes and page_bytes must be >= 1, "
                          "row_group_rows and dictionary size >= 0");
    if (o->page_bytes > (INT64_C(1) << 30))
        return sl_err_set(err, SL_ECONFIG, "page_bytes must be at most 1 GiB");
    return SL_OK;
}

static sl_rc open_tmp(sl_parquet_writer *w, sl_err *err)
{
    static atomic_uint seq;
    size_t tlen = strlen(w->path) + 48;
    if (!(w->tmp = sl_malloc(tlen)))
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    /* O_EXCL with a fresh name per attempt never clobbers a file. */
    for (int attempt = 0; attempt < 100 && w->fd < 0; attempt++) {
        snprintf(w->tmp, tlen, "%s.tmp.%ld.%u", w->path, (long)getpid(),
                 atomic_fetch_add(&seq, 1));
        w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (w->fd < 0 && errno != EEXIST)
            break;
    }
    if (w->fd < 0)
        return sl_err_setloc(err, errno == ENOENT ? SL_ENOTFOUND : SL_EIO, w->path, 0, 0,
                             "cannot create: %s", strerror(errno));
    return write_all(w, "PAR1", 4, err);
}

sl_rc sl_parquet_writer_open(const char *path, const sl_schema *schema,
                             const sl_parquet_write_options *opts,
                             sl_parquet_writer **out, sl_err *err)
{
    sl_rc rc;
    *out = NULL;
    sl_parquet_writer *w = sl_calloc(1, sizeof *w);
    if (!w)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    w->fd = -1;
    if (opts)
        w->o = *opts;
    else
        sl_parquet_write_options_init(&w->o);
    w->s.o = w->s2.o = &w->o;
    tc_writer_init(&w->s.tw);
    tc_writer_init(&w->s2.tw);
    if ((rc = check_options(&w->o, err)) != SL_OK)
        goto out;
    if (schema->n > SL_PQ_MAX_COLUMNS) {
        rc = sl_err_set(err, SL_ELIMIT, "too many columns (%d, at most %d)", schema->n,
                        SL_PQ_MAX_COLUMNS);
        goto out;
    }
    w->path = sl_strdup(path);
    w->schema = sl_schema_copy(schema);
    w->arena = sl_arena_new(0);
    w->ncols = schema->n;
    w->cols = sl_calloc((size_t)w->ncols + 1, sizeof *w->cols);
    if (!w->path || !w->schema || !w->arena || !w->cols) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < w->ncols; i++)
        if ((rc = pq_wcol_init(&w->cols[i], &w->schema->fields[i], w->o.dictionary, err)) !=
            SL_OK)
            goto out;
    rc = open_tmp(w, err);
    /* A second thread pays off with several columns; without one (or if
     * it cannot start) everything runs on the caller. */
    if (rc == SL_OK && w->o.threads >= 2 && w->ncols >= 2)
        w->par = pq_par_new();
out:
    if (rc != SL_OK)
        writer_free(w);
    else
        *out = w;
    return rc;
}

static sl_rc check_batch(const sl_parquet_writer *w, const sl_batch *b, sl_err *err)
{
    const sl_schema *s = w->schema, *t = b->schema;
    if (t->n != s->n)
        return sl_err_setloc(err, SL_ESCHEMA, w->path, 0, 0,
                             "batch has %d columns, the output schema has %d", t->n, s->n);
    for (int i = 0; i < s->n; i++)
        if (t->fields[i].type != s->fields[i].type ||
            strcmp(t->fields[i].name, s->fields[i].name) != 0)
            return sl_err_setloc(err, SL_ESCHEMA, w->path, 0, 0,
                                 "batch column %d is '%s' (%s), the output schema has "
                                 "'%s' (%s)",
                                 i + 1, t->fields[i].name, sl_type_name(t->fields[i].type),
                                 s->fields[i].name, sl_type_name(s->fields[i].type));
    return SL_OK;
}

/* Work shared by the two threads: columns are taken from `next`. */
typedef struct col_job {
    sl_parquet_writer *w;
    const sl_batch *b; /* NULL: finish the current pages */
    int64_t off, n;
    atomic_int next;
    sl_rc rc[2];
    int failed_col[2];
    sl_err err[2];
} col_job;

static void col_work(void *arg, int t)
{
    col_job *j = arg;
    pq_wscratch *sc = t ? &j->w->s2 : &j->w->s;
    for (int i; (i = atomic_fetch_add(&j->next, 1)) < j->w->ncols;) {
        pq_wcol *c = &j->w->cols[i];
        sl_rc rc = j->b ? pq_wcol_append(c, sc, j->b->cols[i], j->off, j->n, &j->err[t])
                        : pq_wcol_finish_page(c, sc, &j->err[t]);
        if (rc != SL_OK) {
            j->rc[t] = rc;
            j->failed_col[t] = i;
            break;
        }
    }
}

/* Appends rows [off, off + n) of b to every column (b NULL: finishes the
 * current pages), on both threads when there are two. */
static sl_rc all_columns(sl_parquet_writer *w, const sl_batch *b, int64_t off, int64_t n,
                         sl_err *err)
{
    col_job j;
    j.w = w;
    j.b = b;
    j.off = off;
    j.n = n;
    atomic_init(&j.next, 0);
    j.rc[0] = j.rc[1] = SL_OK;
    sl_err_clear(&j.err[0]);
    sl_err_clear(&j.err[1]);
    pq_par_run(w->par, col_work, &j);
    /* The error of the first failing column, whichever thread had it. */
    int t = j.rc[0] == SL_OK ? 1 : j.rc[1] == SL_OK ? 0 : j.failed_col[0] < j.failed_col[1] ? 0 : 1;
    if (j.rc[t] != SL_OK && err)
        *err = j.err[t];
    return j.rc[t];
}

static int64_t buffered(const sl_parquet_writer *w)
{
    int64_t n = 0;
    for (int i = 0; i < w->ncols; i++)
        n += pq_wcol_buffered(&w->cols[i]);
    return n;
}

/* Writes one column chunk and fills its footer entry. */
static sl_rc flush_column(sl_parquet_writer *w, pq_wcol *c, pq_column_chunk *cc,
                          int64_t *unc, int64_t *comp, sl_err *err)
{
    int64_t dict_unc;
    sl_rc rc = pq_wcol_finish_page(c, &w->s, err);
    if (rc == SL_OK)
        rc = pq_wcol_dict_page(c, &w->s, &w->dict, &dict_unc, err);
    if (rc != SL_OK)
        return rc;
    pq_column_meta *m = &cc->meta;
    cc->has_meta = 1;
    m->type = c->ptype;
    m->n_path = 1;
    m->path = c->path;
    m->codec = (int)w->o.codec;
    m->num_values = c->chunk_values;
    if (w->dict.len > 0) {
        m->has_dictionary_page_offset = 1;
        m->dictionary_page_offset = w->pos;
        if ((rc = write_all(w, w->dict.p, w->dict.len, err)) != SL_OK)
            return rc;
    }
    m->data_page_offset = w->pos;
    cc->file_offset = m->has_dictionary_page_offset ? m->dictionary_page_offset
                                                    : m->data_page_offset;
    if ((rc = write_all(w, c->chunk.p, c->chunk.len, err)) != SL_OK)
        return rc;
    m->encodings = c->enc;
    m->total_uncompressed_size = c->chunk_unc + dict_unc;
    m->total_compressed_size = (int64_t)(c->chunk.len + w->dict.len);
    if (w->o.statistics) {
        if (pq_wcol_stats(c, w->arena, &m->stats) != 0)
            return sl_err_set(err, SL_ENOMEM, "out of memory");
        m->has_stats = 1;
    }
    *unc += m->total_uncompressed_size;
    *comp += m->total_compressed_size;
    pq_wcol_reset_chunk(c, w->o.dictionary);
    return SL_OK;
}

static sl_rc flush_row_group(sl_parquet_writer *w, sl_err *err)
{
    if (w->rg_rows == 0)
        return SL_OK;
    if ((size_t)w->nrg == w->rg_cap) {
        void *p = w->rgs;
        if (w->nrg >= INT16_MAX ||
            sl_grow(&p, &w->rg_cap, (size_t)w->nrg + 1, sizeof *w->rgs) != 0)
            return w->nrg >= INT16_MAX
                       ? sl_err_set(err, SL_ELIMIT, "too many row groups (at most %d)",
                                    INT16_MAX)
                       : sl_err_set(err, SL_ENOMEM, "out of memory");
        w->rgs = p;
    }
    pq_row_group *rg = &w->rgs[w->nrg];
    memset(rg, 0, sizeof *rg);
    rg->cols = sl_arena_calloc(w->arena, (size_t)w->ncols * sizeof *rg->cols + 1);
    if (!rg->cols)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    rg->ncols = w->ncols;
    rg->file_offset = w->pos;
    rg->has_file_offset = 1;
    int64_t unc = 0, comp = 0;
    sl_rc frc = all_columns(w, NULL, 0, 0, err); /* last pages, in parallel */
    if (frc != SL_OK)
        return frc;
    for (int i = 0; i < w->ncols; i++) {
        sl_rc rc = flush_column(w, &w->cols[i], &rg->cols[i], &unc, &comp, err);
        if (rc != SL_OK)
            return rc;
    }
    rg->num_rows = w->rg_rows;
    rg->total_byte_size = unc;
    rg->total_compressed_size = comp;
    rg->has_total_compressed_size = 1;
    rg->ordinal = w->nrg;
    w->nrg++;
    w->rg_rows = 0;
    return SL_OK;
}

sl_rc sl_parquet_writer_write(sl_parquet_writer *w, const sl_batch *b, sl_err *err)
{
    sl_rc rc = check_batch(w, b, err);
    int64_t off = 0;
    while (rc == SL_OK && off < b->nrows) {
        int64_t take = b->nrows - off;
        if (w->o.row_group_rows > 0 && take > w->o.row_group_rows - w->rg_rows)
            take = w->o.row_group_rows - w->rg_rows;
        /* Bounded slices so row_group_bytes is checked often enough. */
        if (take > 16384)
            take = 16384;
        if ((rc = all_columns(w, b, off, take, err)) != SL_OK)
            break;
        w->rg_rows += take;
        w->rows += take;
        off += take;
        if ((w->o.row_group_rows > 0 && w->rg_rows >= w->o.row_group_rows) ||
            buffered(w) >= w->o.row_group_bytes)
            rc = flush_row_group(w, err);
    }
    if (rc != SL_OK)
        sl_err_at(err, w->path, 0, 0);
    return rc;
}

/* Fills the schema element of one field. */
static void leaf_elem(const sl_field *f, const pq_wcol *c, pq_schema_elem *e)
{
    memset(e, 0, sizeof *e);
    e->name = f->name;
    e->type = c->ptype;
    e->repetition = c->optional ? PQ_OPTIONAL : PQ_REQUIRED;
    e->converted = -1;
    switch (f->type) {
    case SL_INT64:
        e->logical.kind = PQ_LT_INTEGER;
        e->logical.bit_width = 64;
        e->logical.is_signed = 1;
        e->converted = PQ_CT_INT_64;
        break;
    case SL_STRING:
        e->logical.kind = PQ_LT_STRING;
        e->converted = PQ_CT_UTF8;
        break;
    case SL_TIMESTAMP:
        e->logical.kind = PQ_LT_TIMESTAMP;
        e->logical.unit = PQ_UNIT_MICROS;
        e->logical.utc = 1;
        e->converted = PQ_CT_TIMESTAMP_MICROS;
        break;
    case SL_DATE:
        e->logical.kind = PQ_LT_DATE;
        e->converted = PQ_CT_DATE;
        break;
    case SL_NULL:
        e->logical.kind = PQ_LT_UNKNOWN;
        break;
    default:
        break;
    }
}

static sl_rc write_footer(sl_parquet_writer *w, sl_err *err)
{
    sl_rc rc = SL_OK;
    pq_file_meta m;
    pq_kv kv;
    char *json = NULL;
    tc_writer *tw = &w->s.tw;
    memset(&m, 0, sizeof m);
    m.version = 2;
    m.nschema = w->ncols + 1;
    m.schema = sl_calloc((size_t)m.nschema, sizeof *m.schema);
    m.orders = sl_calloc((size_t)w->ncols + 1, 1);
    json_t *j = sl_schema_to_json(w->schema, NULL);
    if (j)
        json = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(j);
    if (!m.schema || !m.orders || !json) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    m.schema[0].name = "schema";
    m.schema[0].type = -1;
    m.schema[0].repetition = -1;
    m.schema[0].converted = -1;
    m.schema[0].num_children = w->ncols;
    for (int i = 0; i < w->ncols; i++) {
        leaf_elem(&w->schema->fields[i], &w->cols[i], &m.schema[i + 1]);
        m.orders[i] = 1;
    }
    m.n_orders = w->ncols;
    m.num_rows = w->rows;
    m.nrg = w->nrg;
    m.rgs = w->rgs;
    kv.key = SL_PQ_SCHEMA_KEY;
    kv.value = json;
    m.kv = &kv;
    m.nkv = 1;
    m.created_by = SL_PQ_CREATED_BY;
    tc_writer_reset(tw);
    pq_meta_encode(tw, &m);
    if (tw->failed) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    uint8_t tail[8] = {(uint8_t)tw->len, (uint8_t)(tw->len >> 8), (uint8_t)(tw->len >> 16),
                       (uint8_t)(tw->len >> 24), 'P', 'A', 'R', '1'};
    if ((rc = write_all(w, tw->buf, tw->len, err)) == SL_OK)
        rc = write_all(w, tail, 8, err);
out:
    sl_free(m.schema);
    sl_free(m.orders);
    free(json); /* allocated by jansson */
    return rc;
}

/* Makes the rename durable; a filesystem that cannot fsync a directory
 * (EINVAL) is not an error. */
static sl_rc sync_dir(const sl_parquet_writer *w, sl_err *err)
{
    char *dir = sl_strdup(w->path);
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
            rc = sys_err(w, err, "fsync of directory failed");
        close(fd);
    }
    sl_free(dir);
    return rc;
}

sl_rc sl_parquet_writer_close(sl_parquet_writer *w, sl_err *err)
{
    if (!w)
        return SL_OK;
    sl_rc rc = flush_row_group(w, err);
    if (rc == SL_OK)
        rc = write_footer(w, err);
    if (rc == SL_OK && fsync(w->fd) != 0)
        rc = sys_err(w, err, "fsync failed");
    if (rc == SL_OK) {
        int fd = w->fd;
        w->fd = -1;
        if (close(fd) != 0)
            rc = sys_err(w, err, "close failed");
        else if (rename(w->tmp, w->path) != 0)
            rc = sys_err(w, err, "rename failed");
        if (rc != SL_OK)
            unlink(w->tmp);
        else
            rc = sync_dir(w, err);
    }
    if (rc != SL_OK)
        sl_err_at(err, w->path, 0, 0);
    writer_free(w);
    return rc;
}

void sl_parquet_writer_abort(sl_parquet_writer *w)
{
    if (w)
        writer_free(w);
}

int64_t sl_parquet_writer_rows(const sl_parquet_writer *w)
{
    return w->rows;
}
