/*
 * batch.c: Arrow-layout columns and batches.
 *
 * Invariants kept by every function here:
 *  - validity == NULL implies null_count == 0; once allocated it covers cap
 *    rows and bit i is meaningful for i < length.
 *  - bits of bool values and validity are written explicitly on every
 *    append, so stale bits past `length` never leak into results.
 *  - strings: offsets has cap + 1 entries, offsets[0] == 0, and
 *    offsets[length] == bytes used in data.
 *  - a null row's value slot is zero (string: zero length).
 */
#include <stdint.h>
#include <string.h>

#include "sluice/batch.h"
#include "sluice/mem.h"

static size_t value_width(sl_type t)
{
    switch (t) {
    case SL_INT64:
    case SL_TIMESTAMP:
    case SL_FLOAT64:
        return 8;
    case SL_DATE:
        return 4;
    default:
        return 0; /* bool is bit-packed, string/null have no values */
    }
}

static size_t bitmap_bytes(int64_t rows)
{
    return (size_t)((rows + 7) / 8);
}

/* Resize every fixed-width buffer to hold ncap rows. */
static sl_rc column_set_cap(sl_column *c, int64_t ncap)
{
    if (ncap <= c->cap)
        return SL_OK;
    if (ncap > (INT64_MAX / 16))
        return SL_ELIMIT;
    size_t ob = bitmap_bytes(c->cap), nb = bitmap_bytes(ncap);
    if (c->validity) {
        uint8_t *v = sl_realloc(c->validity, nb);
        if (!v)
            return SL_ENOMEM;
        memset(v + ob, 0, nb - ob);
        c->validity = v;
    }
    if (c->type == SL_BOOL) {
        uint8_t *v = sl_realloc(c->values, nb);
        if (!v)
            return SL_ENOMEM;
        memset(v + ob, 0, nb - ob);
        c->values = v;
    } else if (value_width(c->type)) {
        void *v = sl_realloc(c->values, (size_t)ncap * value_width(c->type));
        if (!v)
            return SL_ENOMEM;
        c->values = v;
    } else if (c->type == SL_STRING) {
        int64_t *o = sl_realloc(c->offsets, (size_t)(ncap + 1) * sizeof(int64_t));
        if (!o)
            return SL_ENOMEM;
        c->offsets = o;
    }
    c->cap = ncap;
    return SL_OK;
}

sl_column *sl_column_new(sl_type t, int64_t capacity)
{
    sl_column *c = sl_calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->type = t;
    c->refcount = 1;
    if (capacity < 8)
        capacity = 8;
    if (t == SL_STRING) {
        c->offsets = sl_malloc(sizeof(int64_t));
        if (!c->offsets)
            goto fail;
        c->offsets[0] = 0;
    }
    if (column_set_cap(c, capacity) != SL_OK)
        goto fail;
    return c;
fail:
    sl_column_unref(c);
    return NULL;
}

sl_column *sl_column_ref(sl_column *c)
{
    if (c)
        c->refcount++;
    return c;
}

void sl_column_unref(sl_column *c)
{
    if (!c || --c->refcount > 0)
        return;
    sl_free(c->validity);
    sl_free(c->values);
    sl_free(c->offsets);
    sl_free(c->data);
    sl_free(c);
}

sl_rc sl_column_reserve(sl_column *c, int64_t rows, int64_t bytes)
{
    if (rows < 0 || bytes < 0)
        return SL_EINVAL;
    int64_t need = c->length + rows;
    if (need > c->cap) {
        int64_t ncap = c->cap * 2;
        if (ncap < need)
            ncap = need;
        sl_rc rc = column_set_cap(c, ncap);
        if (rc != SL_OK)
            return rc;
    }
    if (c->type == SL_STRING) {
        int64_t used = c->offsets[c->length];
        if (bytes > INT64_MAX - used)
            return SL_ELIMIT;
        int64_t needb = used + bytes;
        if (needb > c->data_cap) {
            int64_t ncap = c->data_cap ? c->data_cap * 2 : 256;
            while (ncap < needb)
                ncap *= 2;
            char *d = sl_realloc(c->data, (size_t)ncap);
            if (!d)
                return SL_ENOMEM;
            c->data = d;
            c->data_cap = ncap;
        }
    }
    return SL_OK;
}

/* Allocate the validity bitmap with rows [0, length) valid. */
static sl_rc ensure_validity(sl_column *c)
{
    if (c->validity)
        return SL_OK;
    size_t nb = bitmap_bytes(c->cap);
    c->validity = sl_calloc(nb ? nb : 1, 1);
    if (!c->validity)
        return SL_ENOMEM;
    int64_t full = c->length / 8;
    memset(c->validity, 0xff, (size_t)full);
    for (int64_t i = full * 8; i < c->length; i++)
        sl_bit_set(c->validity, i);
    return SL_OK;
}

static inline void mark_valid(sl_column *c)
{
    if (c->validity)
        sl_bit_set(c->validity, c->length);
}

sl_rc sl_column_append_null(sl_column *c)
{
    sl_rc rc = sl_column_reserve(c, 1, 0);
    if (rc == SL_OK)
        rc = ensure_validity(c);
    if (rc != SL_OK)
        return rc;
    sl_bit_clear(c->validity, c->length);
    switch (c->type) {
    case SL_BOOL:
        sl_bit_clear(c->values, c->length);
        break;
    case SL_STRING:
        c->offsets[c->length + 1] = c->offsets[c->length];
        break;
    case SL_NULL:
        break;
    default:
        memset((char *)c->values + (size_t)c->length * value_width(c->type), 0,
               value_width(c->type));
    }
    c->length++;
    c->null_count++;
    return SL_OK;
}

sl_rc sl_column_append_bool(sl_column *c, int v)
{
    sl_rc rc = sl_column_reserve(c, 1, 0);
    if (rc != SL_OK)
        return rc;
    mark_valid(c);
    if (v)
        sl_bit_set(c->values, c->length);
    else
        sl_bit_clear(c->values, c->length);
    c->length++;
    return SL_OK;
}

sl_rc sl_column_append_int64(sl_column *c, int64_t v)
{
    sl_rc rc = sl_column_reserve(c, 1, 0);
    if (rc != SL_OK)
        return rc;
    mark_valid(c);
    ((int64_t *)c->values)[c->length++] = v;
    return SL_OK;
}

sl_rc sl_column_append_int32(sl_column *c, int32_t v)
{
    sl_rc rc = sl_column_reserve(c, 1, 0);
    if (rc != SL_OK)
        return rc;
    mark_valid(c);
    ((int32_t *)c->values)[c->length++] = v;
    return SL_OK;
}

sl_rc sl_column_append_float64(sl_column *c, double v)
{
    sl_rc rc = sl_column_reserve(c, 1, 0);
    if (rc != SL_OK)
        return rc;
    mark_valid(c);
    ((double *)c->values)[c->length++] = v;
    return SL_OK;
}

sl_rc sl_column_append_str(sl_column *c, const char *s, size_t n)
{
    if (n > (size_t)INT64_MAX / 2)
        return SL_ELIMIT;
    sl_rc rc = sl_column_reserve(c, 1, (int64_t)n);
    if (rc != SL_OK)
        return rc;
    mark_valid(c);
    int64_t off = c->offsets[c->length];
    if (n)
        memcpy(c->data + off, s, n);
    c->offsets[++c->length] = off + (int64_t)n;
    return SL_OK;
}

sl_rc sl_column_append_from(sl_column *c, const sl_column *src, int64_t i)
{
    if (c->type != src->type)
        return SL_EINVAL;
    if (!sl_col_valid(src, i))
        return sl_column_append_null(c);
    switch (src->type) {
    case SL_BOOL:
        return sl_column_append_bool(c, sl_col_bool(src, i));
    case SL_INT64:
    case SL_TIMESTAMP:
        return sl_column_append_int64(c, sl_col_i64(src, i));
    case SL_FLOAT64:
        return sl_column_append_float64(c, sl_col_f64(src, i));
    case SL_DATE:
        return sl_column_append_int32(c, sl_col_i32(src, i));
    case SL_STRING: {
        size_t n;
        const char *s = sl_col_str(src, i, &n);
        return sl_column_append_str(c, s, n);
    }
    default:
        return sl_column_append_null(c);
    }
}

void sl_column_truncate(sl_column *c, int64_t length)
{
    if (length >= c->length || length < 0)
        return;
    if (c->validity) {
        int64_t nulls = 0;
        for (int64_t i = length; i < c->length; i++)
            nulls += !sl_bit_get(c->validity, i);
        c->null_count -= nulls;
    }
    c->length = length;
}

sl_rc sl_column_set_null(sl_column *c, int64_t i)
{
    if (i < 0 || i >= c->length)
        return SL_EINVAL;
    if (c->type == SL_STRING && i != c->length - 1)
        return SL_EINVAL; /* would need to move bytes; only the last row */
    sl_rc rc = ensure_validity(c);
    if (rc != SL_OK)
        return rc;
    if (!sl_bit_get(c->validity, i))
        return SL_OK;
    sl_bit_clear(c->validity, i);
    c->null_count++;
    switch (c->type) {
    case SL_BOOL:
        sl_bit_clear(c->values, i);
        break;
    case SL_STRING:
        c->offsets[i + 1] = c->offsets[i];
        break;
    case SL_NULL:
        break;
    default:
        memset((char *)c->values + (size_t)i * value_width(c->type), 0,
               value_width(c->type));
    }
    return SL_OK;
}

sl_column *sl_column_new_nulls(sl_type t, int64_t length)
{
    sl_column *c = sl_column_new(t, length);
    if (!c)
        return NULL;
    if (ensure_validity(c) != SL_OK)
        goto fail;
    /* Fresh buffers: zero everything so the null slots hold zero. */
    if (t == SL_BOOL)
        memset(c->values, 0, bitmap_bytes(c->cap));
    else if (value_width(t))
        memset(c->values, 0, (size_t)c->cap * value_width(t));
    else if (t == SL_STRING)
        memset(c->offsets, 0, (size_t)(c->cap + 1) * sizeof(int64_t));
    c->length = length;
    c->null_count = length;
    return c;
fail:
    sl_column_unref(c);
    return NULL;
}

/* Copy the kept rows of a bitmap (validity or bool values) into dst. */
static int64_t filter_bits(const uint8_t *src, const uint8_t *keep, int64_t n,
                           uint8_t *dst)
{
    int64_t j = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!keep[i])
            continue;
        if (sl_bit_get(src, i))
            sl_bit_set(dst, j);
        else
            sl_bit_clear(dst, j);
        j++;
    }
    return j;
}

/* Fixed-width values: one tight loop per width, no per-row type switch. */
#define FILTER_FIXED(T)                                                     \
    do {                                                                    \
        const T *in = c->values;                                            \
        T *out = o->values;                                                 \
        int64_t j = 0;                                                      \
        for (int64_t i = 0; i < n; i++) {                                   \
            out[j] = in[i];                                                 \
            j += keep[i] != 0;                                              \
        }                                                                   \
    } while (0)

sl_column *sl_column_filter(const sl_column *c, const uint8_t *keep,
                            int64_t kept)
{
    /* +1 row of slack: the branch-free loops store one past the last kept */
    sl_column *o = sl_column_new(c->type, kept + 1);
    if (!o)
        return NULL;
    int64_t n = c->length;
    if (c->null_count > 0) {
        if (ensure_validity(o) != SL_OK)
            goto fail;
        filter_bits(c->validity, keep, n, o->validity);
        for (int64_t j = 0; j < kept; j++)
            o->null_count += !sl_bit_get(o->validity, j);
    }
    switch (c->type) {
    case SL_BOOL:
        filter_bits(c->values, keep, n, o->values);
        break;
    case SL_INT64:
    case SL_TIMESTAMP:
        FILTER_FIXED(int64_t);
        break;
    case SL_FLOAT64:
        FILTER_FIXED(double);
        break;
    case SL_DATE:
        FILTER_FIXED(int32_t);
        break;
    case SL_STRING: {
        int64_t bytes = 0;
        for (int64_t i = 0; i < n; i++)
            if (keep[i])
                bytes += c->offsets[i + 1] - c->offsets[i];
        if (sl_column_reserve(o, kept, bytes) != SL_OK)
            goto fail;
        int64_t j = 0, off = 0;
        for (int64_t i = 0; i < n; i++) {
            if (!keep[i])
                continue;
            int64_t len = c->offsets[i + 1] - c->offsets[i];
            if (len)
                memcpy(o->data + off, c->data + c->offsets[i], (size_t)len);
            off += len;
            o->offsets[++j] = off;
        }
        break;
    }
    default:
        break;
    }
    o->length = kept;
    return o;
fail:
    sl_column_unref(o);
    return NULL;
}

sl_column *sl_column_copy(const sl_column *c)
{
    sl_column *o = sl_column_new(c->type, c->length);
    if (!o)
        return NULL;
    if (c->null_count > 0 && ensure_validity(o) != SL_OK)
        goto fail;
    if (c->validity && o->validity)
        memcpy(o->validity, c->validity, bitmap_bytes(c->length));
    if (c->type == SL_BOOL)
        memcpy(o->values, c->values, bitmap_bytes(c->length));
    else if (value_width(c->type))
        memcpy(o->values, c->values, (size_t)c->length * value_width(c->type));
    else if (c->type == SL_STRING) {
        if (sl_column_reserve(o, 0, c->offsets[c->length]) != SL_OK)
            goto fail;
        memcpy(o->offsets, c->offsets, (size_t)(c->length + 1) * sizeof(int64_t));
        if (c->offsets[c->length])
            memcpy(o->data, c->data, (size_t)c->offsets[c->length]);
    }
    o->length = c->length;
    o->null_count = c->null_count;
    return o;
fail:
    sl_column_unref(o);
    return NULL;
}

/* ---- batches ---- */

static sl_batch *batch_alloc(void)
{
    sl_batch *b = sl_calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->refcount = 1;
    b->schema = sl_schema_new();
    b->arena = sl_arena_new(0);
    if (!b->schema || !b->arena) {
        sl_schema_free(b->schema);
        sl_arena_free(b->arena);
        sl_free(b);
        return NULL;
    }
    return b;
}

sl_batch *sl_batch_new(const sl_schema *s, int64_t capacity)
{
    sl_batch *b = batch_alloc();
    if (!b)
        return NULL;
    for (int i = 0; s && i < s->n; i++) {
        sl_column *c = sl_column_new(s->fields[i].type, capacity);
        if (!c || sl_batch_add_column(b, s->fields[i].name, c, NULL) != SL_OK) {
            sl_batch_unref(b);
            return NULL;
        }
        b->schema->fields[i].nullable = s->fields[i].nullable;
    }
    return b;
}

sl_batch *sl_batch_ref(sl_batch *b)
{
    if (b)
        b->refcount++;
    return b;
}

void sl_batch_unref(sl_batch *b)
{
    if (!b || --b->refcount > 0)
        return;
    for (int i = 0; i < b->schema->n; i++)
        sl_column_unref(b->cols[i]);
    sl_free(b->cols);
    sl_schema_free(b->schema);
    sl_arena_free(b->arena);
    sl_free(b);
}

sl_rc sl_batch_add_column(sl_batch *b, const char *name, sl_column *col,
                          sl_err *err)
{
    sl_rc rc;
    if (b->schema->n > 0 && col->length != b->nrows) {
        rc = sl_err_set(err, SL_EINVAL,
                        "column '%s' has %lld rows, batch has %lld", name,
                        (long long)col->length, (long long)b->nrows);
        goto fail;
    }
    if (b->schema->n == b->cols_cap) {
        int ncap = b->cols_cap ? b->cols_cap * 2 : 8;
        sl_column **nc = sl_realloc(b->cols, (size_t)ncap * sizeof *nc);
        if (!nc) {
            rc = sl_err_set(err, SL_ENOMEM, "out of memory");
            goto fail;
        }
        b->cols = nc;
        b->cols_cap = ncap;
    }
    rc = sl_schema_add(b->schema, name, col->type, 1, err);
    if (rc != SL_OK)
        goto fail;
    b->cols[b->schema->n - 1] = col;
    if (b->schema->n == 1)
        b->nrows = col->length;
    return SL_OK;
fail:
    sl_column_unref(col);
    return rc;
}

sl_rc sl_batch_set_column(sl_batch *b, int idx, sl_column *col)
{
    if (idx < 0 || idx >= b->schema->n || (b->schema->n > 1 && col->length != b->nrows)) {
        sl_column_unref(col);
        return SL_EINVAL;
    }
    sl_column_unref(b->cols[idx]);
    b->cols[idx] = col;
    b->schema->fields[idx].type = col->type;
    b->nrows = col->length;
    return SL_OK;
}

sl_rc sl_batch_drop_column(sl_batch *b, int idx)
{
    if (idx < 0 || idx >= b->schema->n)
        return SL_EINVAL;
    sl_column_unref(b->cols[idx]);
    memmove(&b->cols[idx], &b->cols[idx + 1],
            (size_t)(b->schema->n - idx - 1) * sizeof(sl_column *));
    return sl_schema_remove(b->schema, idx);
}

int sl_batch_find(const sl_batch *b, const char *name)
{
    return sl_schema_find(b->schema, name);
}

sl_rc sl_batch_filter(const sl_batch *in, const uint8_t *keep, sl_batch **out)
{
    *out = NULL;
    int64_t kept = 0;
    for (int64_t i = 0; i < in->nrows; i++)
        kept += keep[i] != 0;
    sl_batch *b = batch_alloc();
    if (!b)
        return SL_ENOMEM;
    for (int i = 0; i < in->schema->n; i++) {
        sl_column *c = kept == in->nrows ? sl_column_ref(in->cols[i])
                                         : sl_column_filter(in->cols[i], keep, kept);
        if (!c || sl_batch_add_column(b, in->schema->fields[i].name, c, NULL) != SL_OK) {
            sl_batch_unref(b);
            return SL_ENOMEM;
        }
        b->schema->fields[i].nullable = in->schema->fields[i].nullable;
    }
    b->nrows = kept;
    *out = b;
    return SL_OK;
}

sl_rc sl_batch_project(const sl_batch *in, const int *idx, int n,
                       sl_batch **out)
{
    *out = NULL;
    sl_batch *b = batch_alloc();
    if (!b)
        return SL_ENOMEM;
    for (int i = 0; i < n; i++) {
        if (idx[i] < 0 || idx[i] >= in->schema->n) {
            sl_batch_unref(b);
            return SL_EINVAL;
        }
        sl_rc rc = sl_batch_add_column(b, in->schema->fields[idx[i]].name,
                                       sl_column_ref(in->cols[idx[i]]), NULL);
        if (rc != SL_OK) {
            sl_batch_unref(b);
            return rc;
        }
        b->schema->fields[i].nullable = in->schema->fields[idx[i]].nullable;
    }
    b->nrows = in->nrows;
    *out = b;
    return SL_OK;
}

sl_rc sl_batch_seal(sl_batch *b, sl_err *err)
{
    if (b->schema->n == 0)
        return SL_OK;
    int64_t n = b->cols[0]->length;
    for (int i = 1; i < b->schema->n; i++)
        if (b->cols[i]->length != n)
            return sl_err_set(err, SL_EINTERNAL,
                              "column '%s' has %lld rows, column '%s' has %lld",
                              b->schema->fields[i].name,
                              (long long)b->cols[i]->length,
                              b->schema->fields[0].name, (long long)n);
    b->nrows = n;
    return SL_OK;
}

size_t sl_batch_bytes(const sl_batch *b)
{
    size_t total = 0;
    for (int i = 0; i < b->schema->n; i++) {
        const sl_column *c = b->cols[i];
        total += c->validity ? bitmap_bytes(c->cap) : 0;
        if (c->type == SL_BOOL)
            total += bitmap_bytes(c->cap);
        else
            total += (size_t)c->cap * value_width(c->type);
        if (c->type == SL_STRING)
            total += (size_t)(c->cap + 1) * 8 + (size_t)c->data_cap;
    }
    return total;
}
