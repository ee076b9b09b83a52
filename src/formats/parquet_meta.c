/*
 * parquet_meta.c: FileMetaData / PageHeader <-> Thrift compact (see
 * parquet_meta.h). Field ids follow parquet.thrift; unknown fields and
 * fields of an unexpected type are skipped like generated Thrift code
 * does, so files from newer writers still open.
 *
 * Invariants after a successful pq_meta_decode: every count is >= 0 and
 * every array has that many entries; the schema is a consistent tree
 * (children counts add up, depth <= PQ_MAX_SCHEMA_DEPTH); each row group
 * has exactly one chunk per leaf column; strings are NUL-terminated copies.
 */
#include "parquet_meta.h"

#include <string.h>

#include "sluice/mem.h"

#define PQ_MAX_SCHEMA_DEPTH 64

typedef struct dec {
    tc_reader r;
    sl_arena *a;
    int nomem;
} dec;

/* Arena copy of a binary as a NUL-terminated string. */
static char *dec_str(dec *d)
{
    const uint8_t *p;
    uint32_t n;
    if (tc_binary(&d->r, &p, &n) < 0)
        return NULL;
    char *s = sl_arena_strndup(d->a, (const char *)p, n);
    if (!s)
        d->nomem = 1;
    return s;
}

static void *dec_array(dec *d, uint32_t n, size_t elem)
{
    void *p = sl_arena_calloc(d->a, (size_t)n * elem + 1);
    if (!p)
        d->nomem = 1;
    return p;
}

static int dec_i32(dec *d, int type, int32_t *v)
{
    return tc_int_any(&d->r, type, v);
}

/* Reads a list header and checks its element type. */
static int dec_list(dec *d, int type, int want, uint32_t *n)
{
    int et;
    if (type != TC_LIST && type != TC_SET)
        return tc_fail(&d->r, "expected a list");
    if (tc_list(&d->r, &et, n) < 0)
        return -1;
    if (*n > 0 && et != want)
        return tc_fail(&d->r, "list of the wrong element type");
    return 0;
}

/* Empty-struct union member: skip it and return its id. */
static int dec_union(dec *d, int type, int *which)
{
    int t, fid, more;
    *which = 0;
    if (type != TC_STRUCT)
        return tc_skip(&d->r, type);
    if (tc_struct_begin(&d->r) < 0)
        return -1;
    while ((more = tc_field(&d->r, &t, &fid)) > 0) {
        if (*which == 0)
            *which = fid;
        if (tc_skip(&d->r, t) < 0)
            return -1;
    }
    return more < 0 ? -1 : tc_struct_end(&d->r);
}

static int dec_logical(dec *d, pq_logical *l)
{
    int t, fid, more;
    if (tc_struct_begin(&d->r) < 0)
        return -1;
    while ((more = tc_field(&d->r, &t, &fid)) > 0) {
        if (t != TC_STRUCT) {
            if (tc_skip(&d->r, t) < 0)
                return -1;
            continue;
        }
        l->kind = fid;
        if (tc_struct_begin(&d->r) < 0)
            return -1;
        int t2, f2, m2;
        while ((m2 = tc_field(&d->r, &t2, &f2)) > 0) {
            int rc = 0, b;
            int8_t bw;
            int32_t v;
            if ((fid == PQ_LT_TIME || fid == PQ_LT_TIMESTAMP) && f2 == 1 &&
                (t2 == TC_TRUE || t2 == TC_FALSE)) {
                rc = tc_bool(&d->r, t2, &b);
                l->utc = b;
            } else if ((fid == PQ_LT_TIME || fid == PQ_LT_TIMESTAMP) && f2 == 2) {
                rc = dec_union(d, t2, &l->unit);
            } else if (fid == PQ_LT_INTEGER && f2 == 1 && t2 == TC_BYTE) {
                rc = tc_byte(&d->r, &bw);
                l->bit_width = bw;
            } else if (fid == PQ_LT_INTEGER && f2 == 2 && (t2 == TC_TRUE || t2 == TC_FALSE)) {
                rc = tc_bool(&d->r, t2, &b);
                l->is_signed = b;
            } else if (fid == PQ_LT_DECIMAL && (f2 == 1 || f2 == 2) &&
                       (t2 == TC_I32 || t2 == TC_I16 || t2 == TC_BYTE)) {
                rc = dec_i32(d, t2, &v);
                if (f2 == 1)
                    l->scale = v;
                else
                    l->precision = v;
            } else {
                rc = tc_skip(&d->r, t2);
            }
            if (rc < 0)
                return -1;
        }
        if (m2 < 0 || tc_struct_end(&d->r) < 0)
            return -1;
    }
    return more < 0 ? -1 : tc_struct_end(&d->r);
}

static int dec_schema_elem(dec *d, pq_schema_elem *e)
{
    int t, fid, more;
    e->type = -1;
    e->repetition = -1;
    e->converted = -1;
    if (tc_struct_begin(&d->r) < 0)
        return -1;
    while ((more = tc_field(&d->r, &t, &fid)) > 0) {
        int rc;
        int32_t v = 0;
        switch (fid) {
        case 1: rc = dec_i32(d, t, &v); e->type = v; break;
        case 2: rc = dec_i32(d, t, &e->type_length); break;
        case 3: rc = dec_i32(d, t, &v); e->repetition = v; break;
        case 4:
            rc = t == TC_BINARY ? ((e->name = dec_str(d)) ? 0 : -1) : tc_skip(&d->r, t);
            break;
        case 5: rc = dec_i32(d, t, &e->num_children); break;
        case 6: rc = dec_i32(d, t, &v); e->converted = v; break;
        case 7: rc = dec_i32(d, t, &e->scale); e->has_scale = 1; break;
        case 8: rc = dec_i32(d, t, &e->precision); e->has_precision = 1; break;
        case 9: rc = dec_i32(d, t, &e->field_id); e->has_field_id = 1; break;
        case 10:
            rc = t == TC_STRUCT ? dec_logical(d, &e->logical) : tc_skip(&d->r, t);
            break;
        default: rc = tc_skip(&d->r, t);
        }
        if (rc < 0)
            return -1;
    }
    if (more < 0 || tc_struct_end(&d->r) < 0)
        return -1;
    if (!e->name)
        return tc_fail(&d->r, "schema element without a name");
    if (e->num_children < 0)
        return tc_fail(&d->r, "negative num_children");
    if (e->type < -1 || e->type > PQ_FIXED_LEN_BYTE_ARRAY)
        return tc_fail(&d->r, "unknown physical type");
    if (e->repetition < -1 || e->repetition > PQ_REPEATED)
        return tc_fail(&d->r, "unknown repetition type");
    return 0;
}

static int dec_binary_copy(dec *d, const uint8_t **out, uint32_t *n)
{
    const uint8_t *p;
    if (tc_binary(&d->r, &p, n) < 0)
        return -1;
    uint8_t *c = sl_arena_alloc(d->a, *n + 1);
    if (!c) {
        d->nomem = 1;
        return -1;
    }
    memcpy(c, p, *n);
    *out = c;
    return 0;
}

static int dec_stats(dec *d, pq_stats *s)
{
    int t, fid, more;
    const uint8_t *lmin = NULL, *lmax = NULL;
    uint32_t lmin_n = 0, lmax_n = 0;
    int has_lmin = 0, has_lmax = 0;
    if (tc_struct_begin(&d->r) < 0)
        return -1;
    while ((more = tc_field(&d->r, &t, &fid)) > 0) {
        int rc;
        if (t == TC_BINARY && (fid == 1 || fid == 2 || fid == 5 || fid == 6)) {
            if (fid == 1) {
                rc = dec_binary_copy(d, &lmax, &lmax_n);
                has_lmax = 1;
            } else if (fid == 2) {
                rc = dec_binary_copy(d, &lmin, &lmin_n);
                has_lmin = 1;
            } else if (fid == 5) {
                rc = dec_binary_copy(d, &s->max, &s->max_len);
                s->has_max = 1;
            } else {
                rc = dec_binary_copy(d, &s->min, &s->min_len);
                s->has_min = 1;
            }
        } else if (fid == 3 && t == TC_I64) {
            rc = tc_i64(&d->r, &s->null_count);
            s->has_null_count = 1;
        } else {
            rc = tc_skip(&d->r, t);
        }
        if (rc < 0)
            return -1;
    }
    if (more < 0 || tc_struct_end(&d->r) < 0)
        return -1;
    /* The deprecated min/max used signed byte order for some types; the
     * reader only trusts them where that order is unambiguous. */
    if (!s->has_min && !s->has_max && (has_lmin || has_lmax)) {
        s->min = lmin;
        s->min_len = lmin_n;
        s->has_min = has_lmin;
        s->max = lmax;
        s->max_len = lmax_n;
        s->has_max = has_lmax;
        s->legacy = 1;
    }
    if (s->has_null_count && s->null_count < 0)
        s->has_null_count = 0;
    return 0;
}

static int dec_column_meta(dec *d, pq_column_meta *m)
{
    int t, fid, more;
    uint32_t seen = 0;
    m->type = -1;
    if (tc_struct_begin(&d->r) < 0)
        return -1;
    while ((more = tc_field(&d->r, &t, &fid)) > 0) {
        int rc = 0;
        int32_t v;
        uint32_t n;
        if (fid >= 1 && fid < 32)
            seen |= 1u << fid;
        if (((fid >= 5 && fid <= 7) || (fid >= 9 && fid <= 11)) && t != TC_I64 &&
            t != TC_I32)
            return tc_fail(&d->r, "column metadata field of the wrong type");
        switch (fid) {
        case 1: rc = dec_i32(d, t, &v); m->type = v; break;
        case 2:
            if ((rc = dec_list(d, t, TC_I32, &n)) < 0)
                break;
            for (uint32_t i = 0; i < n && rc == 0; i++) {
                rc = tc_i32(&d->r, &v);
                if (rc == 0 && v >= 0 && v < 32)
                    m->encodings |= 1u << v;
            }
            break;
        case 3:
            if ((rc = dec_list(d, t, TC_BINARY, &n)) < 0)
                break;
            if (!(m->path = dec_array(d, n, sizeof(char *))))
                return -1;
            m->n_path = (int)n;
            for (uint32_t i = 0; i < n; i++)
                if (!(m->path[i] = dec_str(d)))
                    return -1;
            break;
        case 4: rc = dec_i32(d, t, &v); m->codec = v; break;
        case 5: rc = tc_i64(&d->r, &m->num_values); break;
        case 6: rc = tc_i64(&d->r, &m->total_uncompressed_size); break;
        case 7: rc = tc_i64(&d->r, &m->total_compressed_size); break;
        case 9: rc = tc_i64(&d->r, &m->data_page_offset); break;
        case 10:
            rc = tc_i64(&d->r, &m->index_page_offset);
            m->has_index_page_offset = 1;
            break;
        case 11:
            rc = tc_i64(&d->r, &m->dictionary_page_offset);
            m->has_dictionary_page_offset = 1;
            break;
        case 12:
            if (t == TC_STRUCT) {
                rc = dec_stats(d, &m->stats);
                m->has_stats = 1;
            } else {
                rc = tc_skip(&d->r, t);
            }
            break;
        default: rc = tc_skip(&d->r, t);
        }
        if (rc < 0)
            return -1;
    }
    if (more < 0 || tc_struct_end(&d->r) < 0)
        return -1;
    const uint32_t required = (1u << 1) | (1u << 3) | (1u << 4) | (1u << 5) |
                              (1u << 7) | (1u << 9);
    if ((seen & required) != required)
        return tc_fail(&d->r, "column metadata lacks a required field");
    if (m->num_values < 0 || m->total_compressed_size < 0 ||
        m->total_uncompressed_size < 0)
        return tc_fail(&d->r, "negative count or size in column metadata");
    return 0;
}

static int dec_column_chunk(dec *d, pq_column_chunk *c)
{
    int t, fid, more;
    if (tc_struct_begin(&d->r) < 0)
        return -1;
    while ((more = tc_field(&d->r, &t, &fid)) > 0) {
        int rc;
        if (fid == 1 && t == TC_BINARY) {
            rc = (c->file_path = dec_str(d)) ? 0 : -1;
        } else if (fid == 2 && t == TC_I64) {
            rc = tc_i64(&d->r, &c->file_offset);
        } else if (fid == 3 && t == TC_STRUCT) {
            rc = dec_column_meta(d, &c->meta);
            c->has_meta = 1;
        } else {
            if (fid == 8 || fid == 9)
                c->encrypted = 1;
            rc = tc_skip(&d->r, t);
        }
        if (rc < 0)
            return -1;
    }
    return more < 0 ? -1 : tc_struct_end(&d->r);
}

static int dec_row_group(dec *d, pq_row_group *g)
{
    int t, fid, more, have_cols = 0, have_rows = 0;
    g->ordinal = -1;
    if (tc_struct_begin(&d->r) < 0)
        return -1;
    while ((more = tc_field(&d->r, &t, &fid)) > 0) {
        int rc = 0;
        uint32_t n;
        if (fid == 1) {
            if ((rc = dec_list(d, t, TC_STRUCT, &n)) < 0)
                return -1;
            if (!(g->cols = dec_array(d, n, sizeof *g->cols)))
                return -1;
            g->ncols = (int)n;
            for (uint32_t i = 0; i < n && rc == 0; i++)
                rc = dec_column_chunk(d, &g->cols[i]);
            have_cols = 1;
        } else if (fid == 2 && t == TC_I64) {
            rc = tc_i64(&d->r, &g->total_byte_size);
        } else if (fid == 3 && t == TC_I64) {
            rc = tc_i64(&d->r, &g->num_rows);
            have_rows = 1;
        } else if (fid == 5 && t == TC_I64) {
            rc = tc_i64(&d->r, &g->file_offset);
            g->has_file_offset = 1;
        } else if (fid == 6 && t == TC_I64) {
            rc = tc_i64(&d->r, &g->total_compressed_size);
            g->has_total_compressed_size = 1;
        } else if (fid == 7 && t == TC_I16) {
            int16_t o;
            rc = tc_i16(&d->r, &o);
            g->ordinal = o;
        } else {
            rc = tc_skip(&d->r, t);
        }
        if (rc < 0)
            return -1;
    }
    if (more < 0 || tc_struct_end(&d->r) < 0)
        return -1;
    if (!have_cols || !have_rows)
        return tc_fail(&d->r, "row group lacks columns or num_rows");
    if (g->num_rows < 0)
        return tc_fail(&d->r, "negative num_rows in a row group");
    return 0;
}

static int dec_kv(dec *d, pq_kv *kv)
{
    int t, fid, more;
    if (tc_struct_begin(&d->r) < 0)
        return -1;
    while ((more = tc_field(&d->r, &t, &fid)) > 0) {
        int rc;
        if (fid == 1 && t == TC_BINARY)
            rc = (kv->key = dec_str(d)) ? 0 : -1;
        else if (fid == 2 && t == TC_BINARY)
            rc = (kv->value = dec_str(d)) ? 0 : -1;
        else
            rc = tc_skip(&d->r, t);
        if (rc < 0)
            return -1;
    }
    if (more < 0 || tc_struct_end(&d->r) < 0)
        return -1;
    return kv->key ? 0 : tc_fail(&d->r, "key/value metadata without a key");
}

static int dec_file_meta(dec *d, pq_file_meta *m)
{
    int t, fid, more;
    int have_schema = 0, have_rows = 0, have_rgs = 0;
    if (tc_struct_begin(&d->r) < 0)
        return -1;
    while ((more = tc_field(&d->r, &t, &fid)) > 0) {
        int rc = 0;
        uint32_t n;
        switch (fid) {
        case 1: rc = dec_i32(d, t, &m->version); break;
        case 2:
            if ((rc = dec_list(d, t, TC_STRUCT, &n)) < 0)
                return -1;
            if (!(m->schema = dec_array(d, n, sizeof *m->schema)))
                return -1;
            m->nschema = (int)n;
            for (uint32_t i = 0; i < n && rc == 0; i++)
                rc = dec_schema_elem(d, &m->schema[i]);
            have_schema = 1;
            break;
        case 3:
            rc = t == TC_I64 || t == TC_I32 ? tc_i64(&d->r, &m->num_rows) : -1;
            if (rc < 0)
                tc_fail(&d->r, "num_rows is not an integer");
            have_rows = 1;
            break;
        case 4:
            if ((rc = dec_list(d, t, TC_STRUCT, &n)) < 0)
                return -1;
            if (!(m->rgs = dec_array(d, n, sizeof *m->rgs)))
                return -1;
            m->nrg = (int)n;
            for (uint32_t i = 0; i < n && rc == 0; i++)
                rc = dec_row_group(d, &m->rgs[i]);
            have_rgs = 1;
            break;
        case 5:
            if ((rc = dec_list(d, t, TC_STRUCT, &n)) < 0)
                return -1;
            if (!(m->kv = dec_array(d, n, sizeof *m->kv)))
                return -1;
            m->nkv = (int)n;
            for (uint32_t i = 0; i < n && rc == 0; i++)
                rc = dec_kv(d, &m->kv[i]);
            break;
        case 6:
            rc = t == TC_BINARY ? ((m->created_by = dec_str(d)) ? 0 : -1) : tc_skip(&d->r, t);
            break;
        case 7:
            if ((rc = dec_list(d, t, TC_STRUCT, &n)) < 0)
                return -1;
            if (!(m->orders = dec_array(d, n, 1)))
                return -1;
            m->n_orders = (int)n;
            for (uint32_t i = 0; i < n && rc == 0; i++) {
                int which;
                rc = dec_union(d, TC_STRUCT, &which);
                m->orders[i] = which == 1;
            }
            break;
        case 8:
            m->encrypted = 1;
            rc = tc_skip(&d->r, t);
            break;
        default: rc = tc_skip(&d->r, t);
        }
        if (rc < 0)
            return -1;
    }
    if (more < 0 || tc_struct_end(&d->r) < 0)
        return -1;
    if (!have_schema || !have_rows || !have_rgs)
        return tc_fail(&d->r, "file metadata lacks schema, num_rows or row_groups");
    if (m->nschema < 1)
        return tc_fail(&d->r, "empty schema");
    if (m->num_rows < 0)
        return tc_fail(&d->r, "negative num_rows");
    return 0;
}

/* Checks the depth-first schema tree; *leaves = number of leaf columns. */
static const char *check_tree(const pq_file_meta *m, int *leaves)
{
    int stack[PQ_MAX_SCHEMA_DEPTH + 1]; /* children still expected per level */
    int depth = 0, nleaf = 0;
    if (m->schema[0].num_children == 0 && m->nschema > 1)
        return "schema root has no children but more elements follow";
    stack[0] = m->schema[0].num_children;
    for (int i = 1; i < m->nschema; i++) {
        while (depth > 0 && stack[depth] == 0)
            depth--;
        if (stack[depth] == 0)
            return "schema has more elements than the tree declares";
        stack[depth]--;
        const pq_schema_elem *e = &m->schema[i];
        if (e->num_children > 0) {
            if (depth + 1 > PQ_MAX_SCHEMA_DEPTH)
                return "schema nested too deeply";
            if (e->num_children > m->nschema - i - 1)
                return "schema element declares more children than exist";
            stack[++depth] = e->num_children;
        } else {
            if (e->type < 0)
                return "schema leaf without a physical type";
            nleaf++;
        }
    }
    while (depth > 0 && stack[depth] == 0)
        depth--;
    if (stack[depth] != 0)
        return "schema declares more children than it has elements";
    *leaves = nleaf;
    return NULL;
}

sl_rc pq_meta_decode(const uint8_t *p, size_t n, pq_file_meta **out,
                     sl_err *err)
{
    sl_rc rc = SL_OK;
    *out = NULL;
    pq_file_meta *m = sl_calloc(1, sizeof *m);
    dec d;
    memset(&d, 0, sizeof d);
    if (!m || !(m->arena = sl_arena_new(0))) {
        sl_free(m);
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    }
    d.a = m->arena;
    tc_reader_init(&d.r, p, n);
    int leaves = 0;
    const char *why = NULL;
    if (dec_file_meta(&d, m) < 0 || d.r.error) {
        if (d.nomem)
            rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        else
            rc = sl_err_set(err, SL_EPARSE,
                            "corrupt Parquet footer: %s (at byte %zu of %zu)",
                            d.r.error ? d.r.error : "invalid metadata",
                            d.r.error_at, n);
        goto out;
    }
    if ((why = check_tree(m, &leaves)) != NULL) {
        rc = sl_err_set(err, SL_EPARSE, "corrupt Parquet footer: %s", why);
        goto out;
    }
    for (int g = 0; g < m->nrg; g++) {
        if (m->rgs[g].ncols != leaves) {
            rc = sl_err_set(err, SL_EPARSE,
                            "corrupt Parquet footer: row group %d has %d "
                            "column chunks, the schema has %d leaf columns",
                            g, m->rgs[g].ncols, leaves);
            goto out;
        }
    }
out:
    if (rc != SL_OK)
        pq_meta_free(m);
    else
        *out = m;
    return rc;
}

void pq_meta_free(pq_file_meta *m)
{
    if (!m)
        return;
    sl_arena_free(m->arena);
    sl_free(m);
}

/* ---- encoding ---- */

static void enc_logical(tc_writer *w, const pq_logical *l)
{
    tc_w_struct_field(w, 10);
    tc_w_struct_field(w, l->kind);
    switch (l->kind) {
    case PQ_LT_TIME:
    case PQ_LT_TIMESTAMP:
        tc_w_bool(w, 1, l->utc);
        tc_w_struct_field(w, 2);
        tc_w_struct_field(w, l->unit);
        tc_w_struct_end(w);
        tc_w_struct_end(w);
        break;
    case PQ_LT_INTEGER:
        tc_w_byte(w, 1, (int8_t)l->bit_width);
        tc_w_bool(w, 2, l->is_signed);
        break;
    case PQ_LT_DECIMAL:
        tc_w_i32(w, 1, l->scale);
        tc_w_i32(w, 2, l->precision);
        break;
    default:
        break;
    }
    tc_w_struct_end(w);
    tc_w_struct_end(w);
}

static void enc_schema_elem(tc_writer *w, const pq_schema_elem *e)
{
    tc_w_struct_begin(w);
    if (e->type >= 0)
        tc_w_i32(w, 1, e->type);
    if (e->type == PQ_FIXED_LEN_BYTE_ARRAY)
        tc_w_i32(w, 2, e->type_length);
    if (e->repetition >= 0)
        tc_w_i32(w, 3, e->repetition);
    tc_w_binary(w, 4, e->name, strlen(e->name));
    if (e->num_children > 0 || e->type < 0)
        tc_w_i32(w, 5, e->num_children);
    if (e->converted >= 0)
        tc_w_i32(w, 6, e->converted);
    if (e->has_scale)
        tc_w_i32(w, 7, e->scale);
    if (e->has_precision)
        tc_w_i32(w, 8, e->precision);
    if (e->has_field_id)
        tc_w_i32(w, 9, e->field_id);
    if (e->logical.kind != PQ_LT_NONE)
        enc_logical(w, &e->logical);
    tc_w_struct_end(w);
}

static void enc_stats(tc_writer *w, int fid, const pq_stats *s)
{
    tc_w_struct_field(w, fid);
    if (s->has_null_count)
        tc_w_i64(w, 3, s->null_count);
    if (s->has_max)
        tc_w_binary(w, 5, s->max, s->max_len);
    if (s->has_min)
        tc_w_binary(w, 6, s->min, s->min_len);
    tc_w_struct_end(w);
}

static void enc_column_meta(tc_writer *w, const pq_column_meta *m)
{
    int n = 0;
    for (int e = 0; e < 32; e++)
        n += (m->encodings >> e) & 1;
    tc_w_struct_field(w, 3);
    tc_w_i32(w, 1, m->type);
    tc_w_list_field(w, 2, TC_I32, (uint32_t)n);
    for (int e = 0; e < 32; e++)
        if ((m->encodings >> e) & 1)
            tc_w_raw_i32(w, e);
    tc_w_list_field(w, 3, TC_BINARY, (uint32_t)m->n_path);
    for (int i = 0; i < m->n_path; i++)
        tc_w_raw_binary(w, m->path[i], strlen(m->path[i]));
    tc_w_i32(w, 4, m->codec);
    tc_w_i64(w, 5, m->num_values);
    tc_w_i64(w, 6, m->total_uncompressed_size);
    tc_w_i64(w, 7, m->total_compressed_size);
    tc_w_i64(w, 9, m->data_page_offset);
    if (m->has_index_page_offset)
        tc_w_i64(w, 10, m->index_page_offset);
    if (m->has_dictionary_page_offset)
        tc_w_i64(w, 11, m->dictionary_page_offset);
    if (m->has_stats)
        enc_stats(w, 12, &m->stats);
    tc_w_struct_end(w);
}

void pq_meta_encode(tc_writer *w, const pq_file_meta *m)
{
    tc_w_struct_begin(w);
    tc_w_i32(w, 1, m->version);
    tc_w_list_field(w, 2, TC_STRUCT, (uint32_t)m->nschema);
    for (int i = 0; i < m->nschema; i++)
        enc_schema_elem(w, &m->schema[i]);
    tc_w_i64(w, 3, m->num_rows);
    tc_w_list_field(w, 4, TC_STRUCT, (uint32_t)m->nrg);
    for (int g = 0; g < m->nrg; g++) {
        const pq_row_group *rg = &m->rgs[g];
        tc_w_struct_begin(w);
        tc_w_list_field(w, 1, TC_STRUCT, (uint32_t)rg->ncols);
        for (int c = 0; c < rg->ncols; c++) {
            const pq_column_chunk *cc = &rg->cols[c];
            tc_w_struct_begin(w);
            if (cc->file_path)
                tc_w_binary(w, 1, cc->file_path, strlen(cc->file_path));
            tc_w_i64(w, 2, cc->file_offset);
            if (cc->has_meta)
                enc_column_meta(w, &cc->meta);
            tc_w_struct_end(w);
        }
        tc_w_i64(w, 2, rg->total_byte_size);
        tc_w_i64(w, 3, rg->num_rows);
        if (rg->has_file_offset)
            tc_w_i64(w, 5, rg->file_offset);
        if (rg->has_total_compressed_size)
            tc_w_i64(w, 6, rg->total_compressed_size);
        if (rg->ordinal >= 0)
            tc_w_i16(w, 7, (int16_t)rg->ordinal);
        tc_w_struct_end(w);
    }
    if (m->nkv > 0) {
        tc_w_list_field(w, 5, TC_STRUCT, (uint32_t)m->nkv);
        for (int i = 0; i < m->nkv; i++) {
            tc_w_struct_begin(w);
            tc_w_binary(w, 1, m->kv[i].key, strlen(m->kv[i].key));
            if (m->kv[i].value)
                tc_w_binary(w, 2, m->kv[i].value, strlen(m->kv[i].value));
            tc_w_struct_end(w);
        }
    }
    if (m->created_by)
        tc_w_binary(w, 6, m->created_by, strlen(m->created_by));
    if (m->n_orders > 0) {
        tc_w_list_field(w, 7, TC_STRUCT, (uint32_t)m->n_orders);
        for (int i = 0; i < m->n_orders; i++) {
            tc_w_struct_begin(w);
            if (m->orders[i]) {
                tc_w_struct_field(w, 1);
                tc_w_struct_end(w);
            }
            tc_w_struct_end(w);
        }
    }
    tc_w_struct_end(w);
}

/* ---- page headers ---- */

static int dec_page_sub(tc_reader *r, pq_page_header *h, int kind)
{
    int t, fid, more;
    if (tc_struct_begin(r) < 0)
        return -1;
    while ((more = tc_field(r, &t, &fid)) > 0) {
        int rc = 0, b;
        int32_t *dst = NULL;
        if (fid == 1)
            dst = &h->num_values;
        else if (kind == PQ_PAGE_DATA_V2) {
            if (fid == 2) dst = &h->num_nulls;
            else if (fid == 3) dst = &h->num_rows;
            else if (fid == 4) dst = &h->encoding;
            else if (fid == 5) dst = &h->def_bytes;
            else if (fid == 6) dst = &h->rep_bytes;
        } else {
            if (fid == 2) dst = &h->encoding;
            else if (fid == 3 && kind == PQ_PAGE_DATA) dst = &h->def_encoding;
            else if (fid == 4 && kind == PQ_PAGE_DATA) dst = &h->rep_encoding;
        }
        if (dst && (t == TC_I32 || t == TC_I16 || t == TC_BYTE))
            rc = tc_int_any(r, t, dst);
        else if (kind == PQ_PAGE_DATA_V2 && fid == 7 && (t == TC_TRUE || t == TC_FALSE)) {
            rc = tc_bool(r, t, &b);
            h->is_compressed = b;
        } else
            rc = tc_skip(r, t);
        if (rc < 0)
            return -1;
    }
    return more < 0 ? -1 : tc_struct_end(r);
}

sl_rc pq_page_header_decode(const uint8_t *p, size_t n, pq_page_header *h,
                            size_t *used, sl_err *err)
{
    tc_reader r;
    int t, fid, more;
    uint32_t seen = 0;
    memset(h, 0, sizeof *h);
    h->type = -1;
    h->is_compressed = 1;
    tc_reader_init(&r, p, n);
    tc_struct_begin(&r);
    while ((more = tc_field(&r, &t, &fid)) > 0) {
        int rc = 0;
        int32_t v;
        if (fid >= 1 && fid <= 8)
            seen |= 1u << fid;
        if (fid >= 1 && fid <= 4 && (t == TC_I32 || t == TC_I16 || t == TC_BYTE)) {
            rc = tc_int_any(&r, t, &v);
            if (fid == 1) h->type = v;
            else if (fid == 2) h->uncompressed_size = v;
            else if (fid == 3) h->compressed_size = v;
            else { h->crc = (uint32_t)v; h->has_crc = 1; }
        } else if (t == TC_STRUCT && (fid == 5 || fid == 7 || fid == 8) &&
                   h->type == (fid == 5 ? PQ_PAGE_DATA : fid == 7 ? PQ_PAGE_DICTIONARY
                                                                  : PQ_PAGE_DATA_V2)) {
            rc = dec_page_sub(&r, h, h->type);
            h->has_kind_header = 1;
        } else {
            rc = tc_skip(&r, t);
        }
        if (rc < 0)
            break;
    }
    if (more == 0)
        tc_struct_end(&r);
    if (r.error || more < 0)
        return sl_err_set(err, SL_EPARSE, "corrupt page header: %s (at byte %zu)",
                          r.error ? r.error : "invalid", r.error_at);
    if ((seen & 0xe) != 0xe)
        return sl_err_set(err, SL_EPARSE,
                          "corrupt page header: type or sizes missing");
    if (h->uncompressed_size < 0 || h->compressed_size < 0)
        return sl_err_set(err, SL_EPARSE, "corrupt page header: negative page size");
    *used = tc_pos(&r);
    return SL_OK;
}

void pq_page_header_encode(tc_writer *w, const pq_page_header *h)
{
    tc_w_struct_begin(w);
    tc_w_i32(w, 1, h->type);
    tc_w_i32(w, 2, h->uncompressed_size);
    tc_w_i32(w, 3, h->compressed_size);
    if (h->has_crc)
        tc_w_i32(w, 4, (int32_t)h->crc);
    if (h->type == PQ_PAGE_DATA) {
        tc_w_struct_field(w, 5);
        tc_w_i32(w, 1, h->num_values);
        tc_w_i32(w, 2, h->encoding);
        tc_w_i32(w, 3, h->def_encoding);
        tc_w_i32(w, 4, h->rep_encoding);
        tc_w_struct_end(w);
    } else if (h->type == PQ_PAGE_DICTIONARY) {
        tc_w_struct_field(w, 7);
        tc_w_i32(w, 1, h->num_values);
        tc_w_i32(w, 2, h->encoding);
        tc_w_struct_end(w);
    } else if (h->type == PQ_PAGE_DATA_V2) {
        tc_w_struct_field(w, 8);
        tc_w_i32(w, 1, h->num_values);
        tc_w_i32(w, 2, h->num_nulls);
        tc_w_i32(w, 3, h->num_rows);
        tc_w_i32(w, 4, h->encoding);
        tc_w_i32(w, 5, h->def_bytes);
        tc_w_i32(w, 6, h->rep_bytes);
        tc_w_bool(w, 7, h->is_compressed);
        tc_w_struct_end(w);
    }
    tc_w_struct_end(w);
}

/* ---- names ---- */

const char *pq_type_name(int t)
{
    static const char *const names[] = {"BOOLEAN", "INT32", "INT64", "INT96", "FLOAT",
                                        "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
    return t >= 0 && t < 8 ? names[t] : t == -1 ? "group" : "?";
}

const char *pq_encoding_name(int e)
{
    static const char *const names[] = {
        "PLAIN", "GROUP_VAR_INT", "PLAIN_DICTIONARY", "RLE", "BIT_PACKED",
        "DELTA_BINARY_PACKED", "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY",
        "RLE_DICTIONARY", "BYTE_STREAM_SPLIT"};
    return e >= 0 && e < 10 ? names[e] : "?";
}

const char *pq_codec_name(int c)
{
    static const char *const names[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO",
                                        "BROTLI", "LZ4", "ZSTD", "LZ4_RAW"};
    return c >= 0 && c < 8 ? names[c] : "?";
}

const char *pq_logical_name(const pq_logical *l)
{
    switch (l->kind) {
    case PQ_LT_NONE: return "";
    case PQ_LT_STRING: return "STRING";
    case PQ_LT_MAP: return "MAP";
    case PQ_LT_LIST: return "LIST";
    case PQ_LT_ENUM: return "ENUM";
    case PQ_LT_DECIMAL: return "DECIMAL";
    case PQ_LT_DATE: return "DATE";
    case PQ_LT_TIME: return "TIME";
    case PQ_LT_TIMESTAMP: return "TIMESTAMP";
    case PQ_LT_INTEGER: return "INTEGER";
    case PQ_LT_UNKNOWN: return "NULL";
    case PQ_LT_JSON: return "JSON";
    case PQ_LT_BSON: return "BSON";
    case PQ_LT_UUID: return "UUID";
    case PQ_LT_FLOAT16: return "FLOAT16";
    case PQ_LT_VARIANT: return "VARIANT";
    case PQ_LT_GEOMETRY: return "GEOMETRY";
    case PQ_LT_GEOGRAPHY: return "GEOGRAPHY";
    default: return "unknown";
    }
}
