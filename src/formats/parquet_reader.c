/*
 * parquet_reader.c: the Parquet reader (API in sluice/parquet.h): files,
 * directories of parts, the footer, schema mapping and projection,
 * row-group iteration and skipping by statistics, batches. Page decoding
 * is parquet_rcol.c's job.
 *
 * All footers are read at open, so a directory whose parts disagree on the
 * schema fails before any batch is produced, and the totals for progress
 * are known. Column chunks are read one row group at a time (pread into a
 * per-column buffer that is reused), or used in place for in-memory input.
 *
 * Bounds: a chunk's [start, start + total_compressed_size) must lie after
 * the leading magic and before the footer; a footer is at most
 * SL_PQ_MAX_FOOTER_BYTES; chunk num_values must equal the row group's rows
 * (flat columns). After a failure every later next() fails the same way.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parquet_nested.h"
#include "parquet_par.h"
#include "parquet_rcol.h"
#include "sluice/mem.h"
#include "sluice/parquet.h"

typedef struct part {
    char *path;          /* file name (messages); the reader's name for mem */
    int64_t size;
    int64_t data_end;    /* footer start */
    pq_file_meta *meta;
} part;

/* A readable field of one part's schema: a top-level primitive, a leaf
 * of a top-level struct (flattened as "parent.child"), or a top-level
 * field that cannot be read flat (nested != NULL). */
typedef struct tfield {
    char *name;          /* owned */
    const pq_schema_elem *el;
    int leaf;            /* index of its column chunk in each row group */
    int max_def;         /* OPTIONAL elements on its path */
    const char *nested;  /* non-NULL: a nested field (what kind), read as
                            JSON text by parquet_nested.c */
    int at;              /* nested: its schema element index */
} tfield;

struct sl_parquet_reader {
    char *name;
    int64_t batch_rows;
    char **proj;         /* projection (copies), NULL = all */
    int nproj;
    sl_parquet_pred *preds; /* copies (column and string literal owned) */
    int npreds;
    part *parts;
    int nparts;
    const uint8_t *mem;  /* in-memory input */
    int cur;             /* current part, -1 before the first */
    int fd;
    int rg;              /* next row group of the current part */
    int rg_index;        /* the row group being read (messages) */
    int64_t rg_left;
    sl_schema *schema;
    int ncols;
    pq_rcol *rcols;
    int *leaf;           /* per output column: chunk index in current part */
    int64_t *chunk_at;   /* per output column: file offset of the chunk */
    pq_nested **nested;  /* per output column: NULL for a flat column */
    pq_codec codec, codec2; /* decompression contexts of the caller / worker */
    pq_par *par;            /* NULL: single-threaded */
    int threads;
    int64_t skipped, done_bytes, total_bytes, total_rows;
    sl_rc failed;
    sl_err saved;
};

void sl_parquet_read_options_init(sl_parquet_read_options *o)
{
    memset(o, 0, sizeof *o);
    o->batch_rows = SL_BATCH_ROWS_DEFAULT;
    o->threads = 2;
}

/* ---- footer ---- */

static sl_rc read_at(int fd, const uint8_t *mem, int64_t off, void *dst, size_t n,
                     sl_err *err)
{
    if (mem) {
        memcpy(dst, mem + off, n);
        return SL_OK;
    }
    size_t got = 0;
    while (got < n) {
        ssize_t k = pread(fd, (char *)dst + got, n - got, (off_t)(off + (int64_t)got));
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return sl_err_set(err, SL_EIO, "read failed: %s", strerror(errno));
        if (k == 0)
            return sl_err_set(err, SL_EPARSE, "file is shorter than its metadata says "
                                              "(truncated while reading?)");
        got += (size_t)k;
    }
    return SL_OK;
}

sl_rc pq_footer_read(int fd, const uint8_t *mem, int64_t size, const char *name,
                     pq_file_meta **out, int64_t *data_end, sl_err *err)
{
    uint8_t head[4], tail[8];
    uint8_t *buf = NULL;
    sl_rc rc;
    *out = NULL;
    if (size < 12) {
        rc = sl_err_set(err, SL_EPARSE,
                        "not a Parquet file: %lld bytes is too small (truncated?)",
                        (long long)size);
        goto out;
    }
    if ((rc = read_at(fd, mem, 0, head, 4, err)) != SL_OK ||
        (rc = read_at(fd, mem, size - 8, tail, 8, err)) != SL_OK)
        goto out;
    if (memcmp(tail + 4, "PARE", 4) == 0) {
        rc = sl_err_set(err, SL_EUNSUPPORTED,
                        "encrypted Parquet file (encrypted footer) is not supported");
        goto out;
    }
    if (memcmp(head, "PAR1", 4) != 0 || memcmp(tail + 4, "PAR1", 4) != 0) {
        rc = sl_err_set(err, SL_EPARSE,
                        "not a Parquet file: missing PAR1 magic at the %s (truncated?)",
                        memcmp(head, "PAR1", 4) != 0 ? "start" : "end");
        goto out;
    }
    uint32_t len = (uint32_t)tail[0] | (uint32_t)tail[1] << 8 | (uint32_t)tail[2] << 16 |
                   (uint32_t)tail[3] << 24;
    if ((int64_t)len > size - 12) {
        rc = sl_err_set(err, SL_EPARSE,
                        "corrupt Parquet file: footer length %u exceeds the file size %lld",
                        len, (long long)size);
        goto out;
    }
    if (len > SL_PQ_MAX_FOOTER_BYTES) {
        rc = sl_err_set(err, SL_ELIMIT, "Parquet footer of %u bytes exceeds the limit of %d",
                        len, SL_PQ_MAX_FOOTER_BYTES);
        goto out;
    }
    *data_end = size - 8 - len;
    if (mem) {
        rc = pq_meta_decode(mem + *data_end, len, out, err);
    } else if (!(buf = sl_malloc(len ? len : 1))) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
    } else if ((rc = read_at(fd, NULL, *data_end, buf, len, err)) == SL_OK) {
        rc = pq_meta_decode(buf, len, out, err);
    }
    if (rc == SL_OK && (*out)->encrypted) {
        pq_meta_free(*out);
        *out = NULL;
        rc = sl_err_set(err, SL_EUNSUPPORTED,
                        "encrypted Parquet file (plaintext footer, encrypted columns) is "
                        "not supported");
    }
out:
    sl_free(buf);
    if (rc != SL_OK)
        sl_err_at(err, name, 0, 0);
    return rc;
}

/* ---- schema ---- */

typedef struct walk {
    const pq_file_meta *m;
    int i;               /* next schema element */
    int leaf;            /* next leaf index */
    tfield *f;
    int n, cap;
    int nomem;
} walk;

static void tfields_free(tfield *f, int n)
{
    for (int i = 0; f && i < n; i++)
        sl_free(f[i].name);
    sl_free(f);
}

static tfield *add_field(walk *w, const char *prefix, const pq_schema_elem *e)
{
    if (w->n == w->cap) {
        void *p = w->f;
        size_t cap = (size_t)w->cap;
        if (sl_grow(&p, &cap, (size_t)w->n + 1, sizeof *w->f) != 0) {
            w->nomem = 1;
            return NULL;
        }
        w->f = p;
        w->cap = (int)cap;
    }
    tfield *t = &w->f[w->n];
    memset(t, 0, sizeof *t);
    size_t len = strlen(prefix) + strlen(e->name) + 2;
    if (!(t->name = sl_malloc(len))) {
        w->nomem = 1;
        return NULL;
    }
    snprintf(t->name, len, "%s%s%s", prefix, *prefix ? "." : "", e->name);
    t->el = e;
    t->leaf = w->leaf;
    w->n++;
    return t;
}

/* Skips the subtree at w->i, counting its leaves; 1 if it holds a
 * repeated element or a LIST/MAP annotation. */
static int skip_subtree(walk *w)
{
    int pending = 1, nested = 0;
    while (pending > 0 && w->i < w->m->nschema) {
        const pq_schema_elem *e = &w->m->schema[w->i++];
        pending += e->num_children - 1;
        nested |= e->repetition == PQ_REPEATED || e->logical.kind == PQ_LT_LIST ||
                  e->logical.kind == PQ_LT_MAP || e->converted == PQ_CT_LIST ||
                  e->converted == PQ_CT_MAP || e->converted == PQ_CT_MAP_KEY_VALUE;
        if (e->num_children == 0)
            w->leaf++;
    }
    return nested;
}

/* Adds the leaves of the struct at w->i (known to hold no repetition). */
static void add_struct(walk *w, const char *prefix, int max_def, int depth)
{
    const pq_schema_elem *e = &w->m->schema[w->i++];
    int def = max_def + (e->repetition == PQ_OPTIONAL);
    if (e->num_children == 0) {
        tfield *t = add_field(w, prefix, e);
        if (t)
            t->max_def = def;
        w->leaf++;
        return;
    }
    char *name = sl_malloc(strlen(prefix) + strlen(e->name) + 2);
    if (!name) {
        w->nomem = 1;
        return;
    }
    sprintf(name, "%s%s%s", prefix, *prefix ? "." : "", e->name);
    for (int k = 0; k < e->num_children && !w->nomem && depth < 64; k++)
        add_struct(w, name, def, depth + 1);
    sl_free(name);
}

/* The readable fields of m, in schema order. The tree was validated by
 * pq_meta_decode, so walking it stays within m->schema. */
static sl_rc top_fields(const pq_file_meta *m, tfield **out, int *n, sl_err *err)
{
    walk w = {.m = m, .i = 1};
    for (int k = 0; k < m->schema[0].num_children && !w.nomem; k++) {
        const pq_schema_elem *e = &m->schema[w.i];
        int start = w.i, leaf = w.leaf;
        if (e->num_children == 0 && e->repetition != PQ_REPEATED) {
            tfield *t = add_field(&w, "", e);
            if (t)
                t->max_def = e->repetition == PQ_OPTIONAL;
            w.i++;
            w.leaf++;
            continue;
        }
        if (!skip_subtree(&w)) {
            /* A struct of structs and primitives: one field per leaf. */
            w.i = start;
            w.leaf = leaf;
            add_struct(&w, "", 0, 0);
            continue;
        }
        tfield *t = add_field(&w, "", e);
        if (t) {
            t->leaf = leaf;
            t->at = start;
        }
        if (t)
            t->nested = e->logical.kind == PQ_LT_LIST || e->converted == PQ_CT_LIST ? "a LIST"
                        : e->logical.kind == PQ_LT_MAP || e->converted == PQ_CT_MAP ||
                                e->converted == PQ_CT_MAP_KEY_VALUE
                            ? "a MAP"
                        : e->num_children == 0 ? "a repeated"
                                               : "a nested (repeated) group";
    }
    if (w.nomem) {
        tfields_free(w.f, w.n);
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    }
    *out = w.f;
    *n = w.n;
    return SL_OK;
}

static int find_field(const tfield *f, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(f[i].name, name) == 0)
            return i;
    return -1;
}

static sl_rc field_error(const tfield *f, const char *why, sl_rc code, sl_err *err)
{
    sl_err_set(err, code, "column '%s': %s; leave it out with the `columns` option", f->name,
               why);
    sl_err_field(err, f->name);
    return code;
}

/* Checks that field f of a part can be read; *lt its conversion (a
 * nested field reads as a string of JSON text). */
static sl_rc field_type(const tfield *f, pq_leaf_type *lt, sl_err *err)
{
    const char *why = NULL;
    if (f->nested) {
        memset(lt, 0, sizeof *lt);
        lt->type = SL_STRING;
        return SL_OK;
    }
    if (pq_classify(f->el, lt, &why) < 0)
        return field_error(f, why, SL_EUNSUPPORTED, err);
    return SL_OK;
}

/* Sets up output column i over field f of part p. */
static sl_rc setup_column(sl_parquet_reader *r, int p, int i, const tfield *f,
                          const pq_leaf_type *lt, sl_err *err)
{
    pq_nested_free(r->nested[i]);
    r->nested[i] = NULL;
    r->leaf[i] = f->leaf;
    if (f->nested)
        return pq_nested_new(r->parts[p].meta, f->at, f->leaf, r->schema->fields[i].name,
                             &r->codec, &r->nested[i], err);
    r->rcols[i].lt = *lt;
    r->rcols[i].max_def = f->max_def;
    r->rcols[i].optional = f->max_def > 0;
    return SL_OK;
}

/* Builds the output schema from the first part. */
static sl_rc build_schema(sl_parquet_reader *r, sl_err *err)
{
    tfield *f = NULL;
    int nf = 0;
    sl_rc rc = top_fields(r->parts[0].meta, &f, &nf, err);
    if (rc != SL_OK)
        return rc;
    r->ncols = r->proj ? r->nproj : nf;
    r->schema = sl_schema_new();
    r->rcols = sl_calloc((size_t)r->ncols + 1, sizeof *r->rcols);
    r->leaf = sl_calloc((size_t)r->ncols + 1, sizeof *r->leaf);
    r->chunk_at = sl_calloc((size_t)r->ncols + 1, sizeof *r->chunk_at);
    r->nested = sl_calloc((size_t)r->ncols + 1, sizeof *r->nested);
    if (!r->schema || !r->rcols || !r->leaf || !r->nested || !r->chunk_at) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < r->ncols; i++) {
        int k = i;
        if (r->proj && (k = find_field(f, nf, r->proj[i])) < 0) {
            rc = sl_err_set(err, SL_ENOTFOUND, "column '%s' not found", r->proj[i]);
            sl_err_field(err, r->proj[i]);
            goto out;
        }
        pq_leaf_type lt;
        if ((rc = field_type(&f[k], &lt, err)) != SL_OK)
            goto out;
        int nullable = f[k].nested || f[k].max_def > 0;
        if ((rc = sl_schema_add(r->schema, f[k].name, lt.type, nullable, err)) != SL_OK)
            goto out;
        pq_rcol_init(&r->rcols[i], r->schema->fields[i].name, &lt, f[k].max_def, &r->codec);
        if ((rc = setup_column(r, 0, i, &f[k], &lt, err)) != SL_OK)
            goto out;
    }
out:
    tfields_free(f, nf);
    return rc;
}

/* Maps the output columns onto part p (types must match the first part). */
static sl_rc map_part(sl_parquet_reader *r, int p, sl_err *err)
{
    tfield *f = NULL;
    int nf = 0;
    sl_rc rc = top_fields(r->parts[p].meta, &f, &nf, err);
    for (int i = 0; rc == SL_OK && i < r->ncols; i++) {
        const sl_field *sf = &r->schema->fields[i];
        int k = find_field(f, nf, sf->name);
        pq_leaf_type lt;
        if (k < 0) {
            rc = sl_err_set(err, SL_ESCHEMA, "column '%s' is missing from this part",
                            sf->name);
        } else if ((rc = field_type(&f[k], &lt, err)) != SL_OK) {
            break;
        } else if (lt.type != sf->type || (f[k].nested != NULL) != (r->nested[i] != NULL)) {
            rc = sl_err_set(err, SL_ESCHEMA,
                            "column '%s' is %s in this part but %s in the first part (%s)",
                            sf->name, f[k].nested ? "nested" : sl_type_name(lt.type),
                            r->nested[i] ? "nested" : sl_type_name(sf->type), r->parts[0].path);
        } else {
            rc = setup_column(r, p, i, &f[k], &lt, err);
        }
    }
    tfields_free(f, nf);
    if (rc != SL_OK)
        sl_err_at(err, r->parts[p].path, 0, 0);
    return rc;
}

/* ---- row-group skipping (statistics: parquet_stats.c) ---- */

static int skip_row_group(const sl_parquet_reader *r, const pq_row_group *g,
                          const tfield *f, int nf)
{
    const pq_file_meta *m = r->parts[r->cur].meta;
    for (int i = 0; i < r->npreds; i++) {
        int k = find_field(f, nf, r->preds[i].column);
        pq_leaf_type lt;
        const char *why;
        if (k < 0 || f[k].nested || pq_classify(f[k].el, &lt, &why) < 0)
            continue;
        int type_order = m->n_orders == 0 || (f[k].leaf < m->n_orders && m->orders[f[k].leaf]);
        if (pq_pred_excludes(&r->preds[i], &lt, &g->cols[f[k].leaf], g->num_rows, type_order))
            return 1;
    }
    return 0;
}

/* ---- row groups ---- */

static sl_rc open_part(sl_parquet_reader *r, int p, sl_err *err)
{
    if (r->fd >= 0) {
        close(r->fd);
        r->fd = -1;
    }
    sl_rc rc = map_part(r, p, err);
    if (rc != SL_OK)
        return rc;
    if (!r->mem && (r->fd = open(r->parts[p].path, O_RDONLY | O_CLOEXEC)) < 0)
        return sl_err_setloc(err, SL_EIO, r->parts[p].path, 0, 0, "cannot open: %s",
                             strerror(errno));
    r->cur = p;
    r->rg = 0;
    return SL_OK;
}

/* parquet-mr before 1.2.9 wrote total_compressed_size without the
 * dictionary page header (PARQUET-816); readers pad such chunks. */
static int old_parquet_mr(const char *created_by)
{
    int a = 0, b = 0, c = 0;
    if (!created_by || strncmp(created_by, "parquet-mr", 10) != 0)
        return 0;
    const char *v = strstr(created_by, "version ");
    if (!v || sscanf(v + 8, "%d.%d.%d", &a, &b, &c) < 1)
        return 1;
    return a < 1 || (a == 1 && (b < 2 || (b == 2 && c < 9)));
}

/* Checks column chunk `leaf` of row group g and hands its bytes to c.
 * flat: one value per row (num_values must equal the rows). */
static sl_rc start_leaf(sl_parquet_reader *r, const pq_row_group *g, int leaf, pq_rcol *c,
                        int flat, int64_t *at, sl_err *err)
{
    const part *pt = &r->parts[r->cur];
    const pq_column_chunk *cc = &g->cols[leaf];
    const pq_column_meta *m = &cc->meta;
    if (cc->file_path)
        return sl_err_set(err, SL_EUNSUPPORTED,
                          "column chunk stored in another file ('%s') is not supported",
                          cc->file_path);
    if (cc->encrypted)
        return sl_err_set(err, SL_EUNSUPPORTED, "encrypted column is not supported");
    if (!cc->has_meta)
        return sl_err_set(err, SL_EPARSE, "corrupt footer: column chunk without metadata");
    if (m->type != c->lt.ptype)
        return sl_err_set(err, SL_EPARSE,
                          "corrupt footer: column chunk type %s differs from the schema's %s",
                          pq_type_name(m->type), pq_type_name(c->lt.ptype));
    if (!pq_codec_can_read(m->codec))
        return sl_err_set(err, SL_EUNSUPPORTED, "%s compression is not supported",
                          pq_codec_name(m->codec));
    if (flat ? m->num_values != g->num_rows : m->num_values < g->num_rows)
        return sl_err_set(err, SL_EPARSE,
                          "corrupt footer: column chunk has %lld values, its row group "
                          "%lld rows",
                          (long long)m->num_values, (long long)g->num_rows);
    int64_t start = m->data_page_offset, len = m->total_compressed_size;
    if (m->has_dictionary_page_offset && m->dictionary_page_offset > 0 &&
        m->dictionary_page_offset < start)
        start = m->dictionary_page_offset;
    if (old_parquet_mr(pt->meta->created_by) && start >= 4 && start <= pt->data_end &&
        len >= 0 && len <= pt->data_end - start)
        len += pt->data_end - start - len < 100 ? pt->data_end - start - len : 100;
    if (start < 4 || start > pt->data_end || len < 0 || len > pt->data_end - start)
        return sl_err_set(err, SL_EPARSE,
                          "corrupt footer: column chunk at offset %lld (%lld bytes) lies "
                          "outside the file's data (which ends at %lld)",
                          (long long)start, (long long)len, (long long)pt->data_end);
    const uint8_t *bytes;
    if (r->mem) {
        bytes = r->mem + start;
    } else {
        pq_buf *b = &c->chunkbuf;
        b->len = 0;
        if (pq_buf_reserve(b, (size_t)len + 1) != 0)
            return sl_err_set(err, SL_ENOMEM, "out of memory");
        sl_rc rc = read_at(r->fd, NULL, start, b->p, (size_t)len, err);
        if (rc != SL_OK)
            return rc;
        bytes = b->p;
    }
    *at = start;
    r->done_bytes += len;
    pq_rcol_start(c, bytes, (size_t)len, m->codec, m->num_values);
    return SL_OK;
}

/* Starts output column i on row group g. */
static sl_rc start_chunk(sl_parquet_reader *r, const pq_row_group *g, int i, sl_err *err)
{
    pq_nested *n = r->nested[i];
    if (!n)
        return start_leaf(r, g, r->leaf[i], &r->rcols[i], 1, &r->chunk_at[i], err);
    for (int k = 0; k < pq_nested_nleaves(n); k++) {
        int64_t at;
        sl_rc rc = start_leaf(r, g, pq_nested_first_leaf(n) + k, pq_nested_leaf(n, k), 0, &at,
                              err);
        if (rc != SL_OK)
            return rc;
        if (k == 0)
            r->chunk_at[i] = at;
    }
    return SL_OK;
}

static sl_rc next_row_group(sl_parquet_reader *r, sl_err *err)
{
    tfield *f = NULL;
    int nf = 0;
    sl_rc rc = SL_OK;
    for (;;) {
        if (r->cur < 0 || r->rg >= r->parts[r->cur].meta->nrg) {
            if (r->cur + 1 >= r->nparts) {
                rc = SL_EEOF;
                break;
            }
            if ((rc = open_part(r, r->cur + 1, err)) != SL_OK)
                break;
            tfields_free(f, nf);
            f = NULL;
            nf = 0;
            continue;
        }
        const pq_file_meta *m = r->parts[r->cur].meta;
        const pq_row_group *g = &m->rgs[r->rg];
        r->rg_index = r->rg++;
        if (g->num_rows == 0)
            continue;
        if (r->npreds > 0) {
            if (!f && (rc = top_fields(m, &f, &nf, err)) != SL_OK)
                break;
            if (skip_row_group(r, g, f, nf)) {
                r->skipped++;
                continue;
            }
        }
        for (int i = 0; i < r->ncols && rc == SL_OK; i++)
            if ((rc = start_chunk(r, g, i, err)) != SL_OK) {
                sl_err_prefix(err, "row group %d, column '%s'", r->rg_index,
                              r->schema->fields[i].name);
                sl_err_field(err, r->schema->fields[i].name);
                sl_err_at(err, r->parts[r->cur].path, 0, 0);
            }
        if (rc == SL_OK)
            r->rg_left = g->num_rows;
        break;
    }
    tfields_free(f, nf);
    return rc;
}

/* Work shared by the two threads: columns are taken from `next`. */
typedef struct read_job {
    sl_parquet_reader *r;
    sl_batch *b;
    int64_t n;
    atomic_int next;
    sl_rc rc[2];
    int failed_col[2];
    sl_err err[2];
} read_job;

static void read_work(void *arg, int t)
{
    read_job *j = arg;
    sl_parquet_reader *r = j->r;
    pq_codec *codec = t ? &r->codec2 : &r->codec;
    for (int i; (i = atomic_fetch_add(&j->next, 1)) < r->ncols;) {
        sl_rc rc;
        if (r->nested[i]) {
            pq_nested_set_codec(r->nested[i], codec);
            rc = pq_nested_read(r->nested[i], j->b->cols[i], j->n, &j->err[t]);
        } else {
            r->rcols[i].codec = codec;
            rc = pq_rcol_read(&r->rcols[i], j->b->cols[i], j->n, &j->err[t]);
        }
        if (rc != SL_OK) {
            j->rc[t] = rc;
            j->failed_col[t] = i;
            break;
        }
    }
}

sl_rc sl_parquet_reader_next(sl_parquet_reader *r, sl_batch **out, sl_err *err)
{
    sl_rc rc = SL_OK;
    sl_batch *b = NULL;
    *out = NULL;
    if (r->failed) {
        if (err)
            *err = r->saved;
        return r->failed;
    }
    while (r->rg_left == 0)
        if ((rc = next_row_group(r, err)) != SL_OK)
            goto out;
    int64_t take = r->rg_left < r->batch_rows ? r->rg_left : r->batch_rows;
    if (!(b = sl_batch_new(r->schema, take))) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    read_job j;
    j.r = r;
    j.b = b;
    j.n = take;
    atomic_init(&j.next, 0);
    j.rc[0] = j.rc[1] = SL_OK;
    sl_err_clear(&j.err[0]);
    sl_err_clear(&j.err[1]);
    pq_par_run(r->par, read_work, &j);
    /* Report the first failing column, whichever thread read it. */
    int t = j.rc[0] == SL_OK ? 1 : j.rc[1] == SL_OK ? 0 : j.failed_col[0] < j.failed_col[1] ? 0 : 1;
    if ((rc = j.rc[t]) != SL_OK) {
        int i = j.failed_col[t];
        if (err)
            *err = j.err[t];
        sl_err_prefix(err, "row group %d, column '%s'", r->rg_index, r->rcols[i].name);
        sl_err_field(err, r->rcols[i].name);
        sl_err_at(err, r->parts[r->cur].path, 0, 0);
        if (err && err->offset < 0 && !r->nested[i])
            err->offset = r->chunk_at[i] + (int64_t)pq_rcol_pos(&r->rcols[i]);
        goto out;
    }
    if ((rc = sl_batch_seal(b, err)) != SL_OK)
        goto out;
    r->rg_left -= take;
out:
    if (rc != SL_OK) {
        sl_batch_unref(b);
        if (rc != SL_EEOF && rc != SL_ENOMEM) {
            r->failed = rc;
            if (err)
                r->saved = *err;
        }
    } else {
        *out = b;
    }
    return rc;
}

/* ---- open / close ---- */

void sl_parquet_reader_close(sl_parquet_reader *r)
{
    if (!r)
        return;
    if (r->fd >= 0)
        close(r->fd);
    for (int i = 0; i < r->nparts; i++) {
        pq_meta_free(r->parts[i].meta);
        sl_free(r->parts[i].path);
    }
    sl_free(r->parts);
    for (int i = 0; i < r->ncols; i++) {
        if (r->rcols)
            pq_rcol_free(&r->rcols[i]);
        if (r->nested)
            pq_nested_free(r->nested[i]);
    }
    sl_free(r->rcols);
    sl_free(r->nested);
    sl_free(r->leaf);
    sl_free(r->chunk_at);
    for (int i = 0; r->proj && i < r->nproj; i++)
        sl_free(r->proj[i]);
    sl_free(r->proj);
    for (int i = 0; r->preds && i < r->npreds; i++) {
        sl_free((char *)r->preds[i].column);
        sl_free((char *)r->preds[i].s);
    }
    sl_free(r->preds);
    pq_par_free(r->par);
    pq_codec_free(&r->codec);
    pq_codec_free(&r->codec2);
    sl_schema_free(r->schema);
    sl_free(r->name);
    sl_free(r);
}

static sl_rc copy_options(sl_parquet_reader *r, const sl_parquet_read_options *o,
                          sl_err *err)
{
    sl_parquet_read_options d;
    if (!o) {
        sl_parquet_read_options_init(&d);
        o = &d;
    }
    r->batch_rows = o->batch_rows;
    r->threads = o->threads;
    if (r->batch_rows < 1 || r->batch_rows > (INT64_C(1) << 30))
        return sl_err_set(err, SL_ECONFIG, "batch_rows must be between 1 and 2^30, not %lld",
                          (long long)r->batch_rows);
    if (o->columns && o->ncolumns > 0) {
        if (!(r->proj = sl_calloc((size_t)o->ncolumns, sizeof *r->proj)))
            return sl_err_set(err, SL_ENOMEM, "out of memory");
        r->nproj = o->ncolumns;
        for (int i = 0; i < o->ncolumns; i++)
            if (!(r->proj[i] = sl_strdup(o->columns[i])))
                return sl_err_set(err, SL_ENOMEM, "out of memory");
    }
    if (o->preds && o->npreds > 0) {
        if (!(r->preds = sl_calloc((size_t)o->npreds, sizeof *r->preds)))
            return sl_err_set(err, SL_ENOMEM, "out of memory");
        r->npreds = o->npreds;
        for (int i = 0; i < o->npreds; i++) {
            r->preds[i] = o->preds[i];
            r->preds[i].s = NULL;
            char *col = sl_strdup(o->preds[i].column ? o->preds[i].column : "");
            char *s = o->preds[i].s ? sl_strndup(o->preds[i].s, o->preds[i].slen) : NULL;
            r->preds[i].column = col;
            r->preds[i].s = s;
            if (!col || (o->preds[i].s && !s))
                return sl_err_set(err, SL_ENOMEM, "out of memory");
        }
    }
    return SL_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The part files of a directory, sorted. */
static sl_rc list_dir(sl_parquet_reader *r, const char *dir, sl_err *err)
{
    DIR *d = opendir(dir);
    sl_rc rc = SL_OK;
    size_t cap = 0;
    if (!d)
        return sl_err_setloc(err, SL_EIO, dir, 0, 0, "cannot open directory: %s",
                             strerror(errno));
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (e->d_name[0] == '.' || e->d_name[0] == '_' || n < 9 ||
            strcmp(e->d_name + n - 8, ".parquet") != 0)
            continue;
        void *p = r->parts;
        char *path = sl_malloc(strlen(dir) + n + 2);
        if (!path || sl_grow(&p, &cap, (size_t)r->nparts + 1, sizeof *r->parts) != 0) {
            sl_free(path);
            rc = sl_err_set(err, SL_ENOMEM, "out of memory");
            break;
        }
        r->parts = p;
        sprintf(path, "%s/%s", dir, e->d_name);
        memset(&r->parts[r->nparts], 0, sizeof *r->parts);
        r->parts[r->nparts++].path = path;
    }
    closedir(d);
    if (rc == SL_OK && r->nparts == 0)
        rc = sl_err_setloc(err, SL_ENOTFOUND, dir, 0, 0,
                           "directory has no .parquet files");
    if (rc == SL_OK) {
        /* Sort by path; the path is the first member of part. */
        char **names = sl_calloc((size_t)r->nparts, sizeof *names);
        if (!names)
            return sl_err_set(err, SL_ENOMEM, "out of memory");
        for (int i = 0; i < r->nparts; i++)
            names[i] = r->parts[i].path;
        qsort(names, (size_t)r->nparts, sizeof *names, cmp_str);
        for (int i = 0; i < r->nparts; i++)
            r->parts[i].path = names[i];
        sl_free(names);
    }
    return rc;
}

/* Reads every part's footer; sizes and totals. */
static sl_rc read_footers(sl_parquet_reader *r, size_t memlen, sl_err *err)
{
    for (int i = 0; i < r->nparts; i++) {
        part *pt = &r->parts[i];
        int fd = -1;
        sl_rc rc;
        if (r->mem) {
            pt->size = (int64_t)memlen;
        } else {
            struct stat st;
            if ((fd = open(pt->path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) != 0) {
                rc = sl_err_setloc(err, errno == ENOENT ? SL_ENOTFOUND : SL_EIO, pt->path, 0,
                                   0, "cannot open: %s", strerror(errno));
                if (fd >= 0)
                    close(fd);
                return rc;
            }
            pt->size = st.st_size;
        }
        rc = pq_footer_read(fd, r->mem, pt->size, pt->path, &pt->meta, &pt->data_end, err);
        if (fd >= 0)
            close(fd);
        if (rc != SL_OK)
            return rc;
        r->total_rows += pt->meta->num_rows;
        for (int g = 0; g < pt->meta->nrg; g++)
            for (int c = 0; c < pt->meta->rgs[g].ncols; c++)
                r->total_bytes += pt->meta->rgs[g].cols[c].meta.total_compressed_size;
    }
    return SL_OK;
}

static sl_rc reader_open(const char *path, const void *mem, size_t memlen,
                         const sl_parquet_read_options *o, sl_parquet_reader **out,
                         sl_err *err)
{
    sl_rc rc;
    struct stat st;
    *out = NULL;
    sl_parquet_reader *r = sl_calloc(1, sizeof *r);
    if (!r)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    r->fd = -1;
    r->cur = -1;
    r->mem = mem;
    if (!(r->name = sl_strdup(path))) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = copy_options(r, o, err)) != SL_OK)
        goto out;
    if (!mem && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        rc = list_dir(r, path, err);
    } else if (!(r->parts = sl_calloc(1, sizeof *r->parts)) ||
               !(r->parts[0].path = sl_strdup(path))) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
    } else {
        r->nparts = 1;
    }
    if (rc == SL_OK && (rc = read_footers(r, memlen, err)) == SL_OK &&
        (rc = build_schema(r, err)) != SL_OK)
        sl_err_at(err, r->parts[0].path, 0, 0);
    /* A second thread pays off with several columns; without one (or if it
     * cannot start) everything runs on the caller. */
    if (rc == SL_OK && r->threads >= 2 && r->ncols >= 2)
        r->par = pq_par_new();
out:
    if (rc != SL_OK)
        sl_parquet_reader_close(r);
    else
        *out = r;
    return rc;
}

sl_rc sl_parquet_reader_open(const char *path, const sl_parquet_read_options *opts,
                             sl_parquet_reader **out, sl_err *err)
{
    return reader_open(path, NULL, 0, opts, out, err);
}

sl_rc sl_parquet_reader_open_mem(const void *data, size_t n, const char *name,
                                 const sl_parquet_read_options *opts,
                                 sl_parquet_reader **out, sl_err *err)
{
    return reader_open(name ? name : "<memory>", data, n, opts, out, err);
}

const sl_schema *sl_parquet_reader_schema(const sl_parquet_reader *r)
{
    return r->schema;
}

void sl_parquet_reader_progress(const sl_parquet_reader *r, int64_t *done, int64_t *total)
{
    *done = r->done_bytes;
    *total = r->total_bytes;
}

int64_t sl_parquet_reader_skipped_row_groups(const sl_parquet_reader *r)
{
    return r->skipped;
}

int64_t sl_parquet_reader_total_rows(const sl_parquet_reader *r)
{
    return r->total_rows;
}
