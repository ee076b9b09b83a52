/*
 * avro_encode.c: batch rows -> Avro binary records of the schema that
 * sl_avro_schema_from_sluice builds (nullable columns are ["null", T]:
 * union index 0 for null, 1 for a value).
 */
#include <stdio.h>
#include <string.h>

#include "avro_internal.h"
#include "sluice/mem.h"

static sl_rc nomem(sl_err *err)
{
    return sl_err_set(err, SL_ENOMEM, "out of memory");
}

sl_rc av_enc_new(const sl_schema *s, const char *name, av_enc **out, sl_err *err)
{
    *out = NULL;
    av_enc *e = sl_calloc(1, sizeof *e);
    if (!e || !(e->schema = sl_schema_copy(s))) {
        sl_free(e);
        return nomem(err);
    }
    sl_rc rc = sl_avro_schema_from_sluice(s, name, &e->avro, err);
    if (rc != SL_OK) {
        av_enc_free(e);
        return rc;
    }
    *out = e;
    return SL_OK;
}

void av_enc_free(av_enc *e)
{
    if (!e)
        return;
    sl_schema_free(e->schema);
    sl_avro_schema_free(e->avro);
    sl_free(e);
}

sl_rc av_enc_check(const av_enc *e, const sl_batch *b, sl_err *err)
{
    const sl_schema *s = e->schema;
    if (b->schema->n != s->n)
        return sl_err_set(err, SL_ESCHEMA, "the batch has %d columns, the Avro file's schema %d",
                          b->schema->n, s->n);
    for (int j = 0; j < s->n; j++) {
        const sl_field *f = &s->fields[j], *g = &b->schema->fields[j];
        if (strcmp(f->name, g->name) != 0 || f->type != g->type) {
            sl_err_set(err, SL_ESCHEMA, "column %d is '%s' (%s), the Avro file's schema has '%s' (%s)",
                       j + 1, g->name, sl_type_name(g->type), f->name, sl_type_name(f->type));
            sl_err_field(err, g->name);
            return SL_ESCHEMA;
        }
    }
    return SL_OK;
}

sl_rc av_enc_rows(const av_enc *e, const sl_batch *b, int64_t from, int64_t to, size_t limit,
                  pq_buf *out, int64_t *next, sl_err *err)
{
    const sl_schema *s = e->schema;
    /* a value's fixed part: union index + up to 10 varint bytes */
    size_t fixed = (size_t)s->n * 12 + 16;
    int64_t i;
    for (i = from; i < to && out->len < limit; i++) {
        if (pq_buf_reserve(out, fixed) != 0)
            return nomem(err);
        for (int j = 0; j < s->n; j++) {
            const sl_column *c = b->cols[j];
            const sl_field *f = &s->fields[j];
            if (f->type == SL_NULL)
                continue; /* Avro null: no bytes */
            int valid = sl_col_valid(c, i);
            uint8_t *p = out->p + out->len;
            if (f->nullable) {
                *p++ = valid ? 2 : 0;
                out->len++;
            } else if (!valid) {
                sl_err_set(err, SL_ESCHEMA, "column '%s' is not nullable, but row %lld is null",
                           f->name, (long long)i + 1);
                sl_err_field(err, f->name);
                return SL_ESCHEMA;
            }
            if (!valid)
                continue;
            switch (f->type) {
            case SL_BOOL:
                *p = (uint8_t)sl_col_bool(c, i);
                out->len++;
                break;
            case SL_INT64:
            case SL_TIMESTAMP:
                out->len += av_put_long(p, sl_col_i64(c, i));
                break;
            case SL_DATE:
                out->len += av_put_long(p, sl_col_i32(c, i));
                break;
            case SL_FLOAT64: {
                double v = sl_col_f64(c, i);
                memcpy(p, &v, 8); /* little-endian host */
                out->len += 8;
                break;
            }
            case SL_STRING: {
                size_t n;
                const char *str = sl_col_str(c, i, &n);
                out->len += av_put_long(p, (int64_t)n);
                if (pq_buf_append(out, str, n) != 0 || pq_buf_reserve(out, fixed) != 0)
                    return nomem(err);
                break;
            }
            default:
                break;
            }
        }
    }
    *next = i;
    return SL_OK;
}
