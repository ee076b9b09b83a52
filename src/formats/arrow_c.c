/*
 * arrow_c.c: Arrow C Data Interface export (zero-copy) and import (copy).
 *
 * Export ownership: one private block per exported array node holds the
 * buffer pointer table and a reference to the batch (top level) or to the
 * column (children). Each node's release frees its own block and releases
 * children that have not been moved out, as the spec requires, so a
 * consumer may move a child and release it independently.
 */
#include <stdlib.h>
#include <string.h>

#include "sluice/arrow.h"
#include "sluice/mem.h"
#include "sluice/value.h"

static const char empty_data[8];

typedef struct col_priv {
    sl_column *col;
    const void *buffers[3];
} col_priv;

typedef struct batch_priv {
    sl_batch *batch;
    struct ArrowArray **children;
    int64_t n;
} batch_priv;

static void release_col_array(struct ArrowArray *a)
{
    col_priv *p = a->private_data;
    sl_column_unref(p->col);
    sl_free(p);
    a->release = NULL;
}

static void release_batch_array(struct ArrowArray *a)
{
    batch_priv *p = a->private_data;
    for (int64_t i = 0; i < p->n; i++) {
        if (p->children[i]) {
            if (p->children[i]->release)
                p->children[i]->release(p->children[i]);
            sl_free(p->children[i]);
        }
    }
    sl_free(p->children);
    sl_batch_unref(p->batch);
    sl_free(p);
    a->release = NULL;
}

static void release_schema(struct ArrowSchema *s)
{
    for (int64_t i = 0; i < s->n_children; i++) {
        if (s->children[i]) {
            if (s->children[i]->release)
                s->children[i]->release(s->children[i]);
            sl_free(s->children[i]);
        }
    }
    sl_free(s->children);
    sl_free((void *)s->name);
    s->release = NULL;
}

static sl_rc export_column(sl_column *c, struct ArrowArray *a)
{
    col_priv *p = sl_calloc(1, sizeof *p);
    if (!p)
        return SL_ENOMEM;
    p->col = sl_column_ref(c);
    memset(a, 0, sizeof *a);
    a->length = c->length;
    a->null_count = c->null_count;
    a->buffers = p->buffers;
    p->buffers[0] = c->null_count ? c->validity : NULL;
    switch (c->type) {
    case SL_NULL:
        a->n_buffers = 0;
        a->null_count = c->length;
        break;
    case SL_STRING:
        a->n_buffers = 3;
        p->buffers[1] = c->offsets;
        p->buffers[2] = c->data ? (const void *)c->data : empty_data;
        break;
    default:
        a->n_buffers = 2;
        p->buffers[1] = c->values ? c->values : (const void *)empty_data;
    }
    a->release = release_col_array;
    a->private_data = p;
    return SL_OK;
}

sl_rc sl_arrow_export(sl_batch *b, struct ArrowSchema *schema,
                      struct ArrowArray *array, sl_err *err)
{
    int64_t n = b->schema->n;
    memset(schema, 0, sizeof *schema);
    memset(array, 0, sizeof *array);
    batch_priv *bp = sl_calloc(1, sizeof *bp);
    struct ArrowSchema **sch = sl_calloc((size_t)(n ? n : 1), sizeof *sch);
    if (!bp || !sch)
        goto nomem;
    bp->children = sl_calloc((size_t)(n ? n : 1), sizeof *bp->children);
    if (!bp->children)
        goto nomem;
    bp->batch = sl_batch_ref(b);
    bp->n = n;
    /* The array tree first: on failure only bp needs undoing. */
    for (int64_t i = 0; i < n; i++) {
        bp->children[i] = sl_calloc(1, sizeof(struct ArrowArray));
        if (!bp->children[i] || export_column(b->cols[i], bp->children[i]) != SL_OK)
            goto nomem_arrays;
    }
    for (int64_t i = 0; i < n; i++) {
        struct ArrowSchema *cs = sch[i] = sl_calloc(1, sizeof *cs);
        if (!cs || !(cs->name = sl_strdup(b->schema->fields[i].name))) {
            schema->n_children = i + 1;
            schema->children = sch;
            schema->release = release_schema;
            for (int64_t j = 0; j <= i; j++)
                if (sch[j] && sch[j]->name)
                    sch[j]->release = release_schema;
            goto nomem_both;
        }
        cs->format = sl_type_arrow_format(b->schema->fields[i].type);
        cs->flags = ARROW_FLAG_NULLABLE;
        cs->release = release_schema;
    }
    schema->format = "+s";
    schema->name = sl_strdup("");
    schema->n_children = n;
    schema->children = sch;
    schema->release = release_schema;
    if (!schema->name)
        goto nomem_both;
    array->length = b->nrows;
    array->null_count = 0;
    array->n_buffers = 1;
    static const void *no_validity[1] = {NULL};
    array->buffers = no_validity;
    array->n_children = n;
    array->children = bp->children;
    array->release = release_batch_array;
    array->private_data = bp;
    return SL_OK;

nomem_both:
    schema->release(schema);
    sch = NULL;
nomem_arrays:
    {
        struct ArrowArray tmp = {.private_data = bp};
        release_batch_array(&tmp);
        bp = NULL;
    }
nomem:
    if (bp) {
        sl_free(bp->children);
        sl_free(bp);
    }
    sl_free(sch);
    memset(schema, 0, sizeof *schema);
    memset(array, 0, sizeof *array);
    return sl_err_set(err, SL_ENOMEM, "out of memory");
}

/* ---- import ---- */

typedef enum {
    IN_BOOL, IN_I8, IN_I16, IN_I32, IN_I64, IN_U8, IN_U16, IN_U32, IN_F32,
    IN_F64, IN_UTF8, IN_LUTF8, IN_DATE32, IN_TS, IN_NULL
} in_kind;

static int parse_format(const char *f, in_kind *k, sl_type *t, int64_t *ts_div,
                        int64_t *ts_mul)
{
    *ts_div = *ts_mul = 1;
    static const struct {
        const char *f;
        in_kind k;
        sl_type t;
    } simple[] = {
        {"b", IN_BOOL, SL_BOOL},    {"c", IN_I8, SL_INT64},
        {"s", IN_I16, SL_INT64},    {"i", IN_I32, SL_INT64},
        {"l", IN_I64, SL_INT64},    {"C", IN_U8, SL_INT64},
        {"S", IN_U16, SL_INT64},    {"I", IN_U32, SL_INT64},
        {"f", IN_F32, SL_FLOAT64},  {"g", IN_F64, SL_FLOAT64},
        {"u", IN_UTF8, SL_STRING},  {"U", IN_LUTF8, SL_STRING},
        {"tdD", IN_DATE32, SL_DATE}, {"n", IN_NULL, SL_NULL},
    };
    for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++)
        if (strcmp(f, simple[i].f) == 0) {
            *k = simple[i].k;
            *t = simple[i].t;
            return 0;
        }
    if (strncmp(f, "ts", 2) == 0 && f[2] && f[3] == ':') {
        *k = IN_TS;
        *t = SL_TIMESTAMP;
        switch (f[2]) {
        case 's': *ts_mul = 1000000; return 0;
        case 'm': *ts_mul = 1000; return 0;
        case 'u': return 0;
        case 'n': *ts_div = 1000; return 0;
        }
    }
    return -1;
}

static sl_rc import_column(const struct ArrowSchema *s, const struct ArrowArray *a,
                           int64_t rows, sl_column **out, sl_err *err)
{
    in_kind k;
    sl_type t;
    int64_t div, mul;
    *out = NULL;
    if (parse_format(s->format, &k, &t, &div, &mul) != 0)
        return sl_err_set(err, SL_EUNSUPPORTED,
                          "column '%s': Arrow format '%s' is not supported",
                          s->name ? s->name : "?", s->format);
    if (a->length < rows || a->offset < 0 ||
        a->n_buffers < (k == IN_NULL ? 0 : (k == IN_UTF8 || k == IN_LUTF8) ? 3 : 2))
        return sl_err_set(err, SL_EINVAL, "column '%s': malformed Arrow array",
                          s->name ? s->name : "?");
    sl_column *c = sl_column_new(t, rows);
    if (!c)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    const uint8_t *valid = a->n_buffers > 0 && a->null_count != 0 ? a->buffers[0] : NULL;
    const void *v = a->n_buffers > 1 ? a->buffers[1] : NULL;
    sl_rc rc = SL_OK;
    for (int64_t r = 0; r < rows && rc == SL_OK; r++) {
        int64_t i = r + a->offset;
        if (k == IN_NULL || (valid && !sl_bit_get(valid, i))) {
            rc = sl_column_append_null(c);
            continue;
        }
        switch (k) {
        case IN_BOOL: rc = sl_column_append_bool(c, sl_bit_get(v, i)); break;
        case IN_I8: rc = sl_column_append_int64(c, ((const int8_t *)v)[i]); break;
        case IN_I16: rc = sl_column_append_int64(c, ((const int16_t *)v)[i]); break;
        case IN_I32: rc = sl_column_append_int64(c, ((const int32_t *)v)[i]); break;
        case IN_I64: rc = sl_column_append_int64(c, ((const int64_t *)v)[i]); break;
        case IN_U8: rc = sl_column_append_int64(c, ((const uint8_t *)v)[i]); break;
        case IN_U16: rc = sl_column_append_int64(c, ((const uint16_t *)v)[i]); break;
        case IN_U32: rc = sl_column_append_int64(c, ((const uint32_t *)v)[i]); break;
        case IN_F32: rc = sl_column_append_float64(c, ((const float *)v)[i]); break;
        case IN_F64: rc = sl_column_append_float64(c, ((const double *)v)[i]); break;
        case IN_DATE32: rc = sl_column_append_int32(c, ((const int32_t *)v)[i]); break;
        case IN_TS: {
            int64_t x = ((const int64_t *)v)[i], y;
            if (div > 1)
                y = x / div - (x % div < 0); /* floor, so times before 1970 stay ordered */
            else if (__builtin_mul_overflow(x, mul, &y)) {
                rc = sl_err_set(err, SL_ESCHEMA, "column '%s': timestamp out of range",
                                s->name ? s->name : "?");
                break;
            }
            rc = sl_column_append_int64(c, y);
            break;
        }
        case IN_UTF8: {
            const int32_t *o = v;
            const char *d = a->buffers[2];
            rc = sl_column_append_str(c, d + o[i], (size_t)(o[i + 1] - o[i]));
            break;
        }
        case IN_LUTF8: {
            const int64_t *o = v;
            const char *d = a->buffers[2];
            rc = sl_column_append_str(c, d + o[i], (size_t)(o[i + 1] - o[i]));
            break;
        }
        case IN_NULL: break;
        }
    }
    if (rc != SL_OK) {
        sl_column_unref(c);
        if (err && err->code == SL_OK)
            sl_err_set(err, rc, "out of memory");
        return err ? err->code : rc;
    }
    *out = c;
    return SL_OK;
}

sl_rc sl_arrow_import(const struct ArrowSchema *schema,
                      const struct ArrowArray *array, sl_batch **out,
                      sl_err *err)
{
    *out = NULL;
    if (!schema || !array || !schema->format || strcmp(schema->format, "+s") != 0)
        return sl_err_set(err, SL_EUNSUPPORTED,
                          "expected a struct array (format \"+s\"), got \"%s\"",
                          schema && schema->format ? schema->format : "(none)");
    if (schema->n_children != array->n_children || array->offset != 0)
        return sl_err_set(err, SL_EINVAL, "malformed Arrow struct array");
    sl_batch *b = sl_batch_new(NULL, 0);
    if (!b)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    for (int64_t i = 0; i < schema->n_children; i++) {
        sl_column *c;
        sl_rc rc = import_column(schema->children[i], array->children[i],
                                 array->length, &c, err);
        if (rc == SL_OK)
            rc = sl_batch_add_column(b, schema->children[i]->name ? schema->children[i]->name : "",
                                     c, err);
        if (rc != SL_OK) {
            sl_batch_unref(b);
            return rc;
        }
    }
    b->nrows = array->length;
    *out = b;
    return SL_OK;
}
