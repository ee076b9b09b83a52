/*
 * avro_decode.c: the Avro binary encoding read through a plan: into
 * batch columns (scalars), into JSON text (nested values), or skipped
 * (writer fields the reader does not want).
 *
 * Bounds: every length, count and index is checked against the bytes
 * left in the block before use; an array or map block may not declare
 * more items than its bytes can hold (items of zero-size types are capped
 * at AV_MAX_ZERO_SIZE_ITEMS per value); nesting is bounded by
 * AV_MAX_DEPTH; the JSON text of one value by AV_MAX_JSON_BYTES.
 *
 * Precondition of av_decode_row: every column has room for one more row
 * (cap > length); the fixed-width puts below write without growing.
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "avro_internal.h"
#include "sluice/mem.h"
#include "sluice/value.h"

static sl_rc corrupt(sl_err *err, const char *what)
{
    return sl_err_set(err, SL_EPARSE, "corrupt data: %s", what);
}

static sl_rc nomem(sl_err *err)
{
    return sl_err_set(err, SL_ENOMEM, "out of memory");
}

void av_dec_free(av_dec *d)
{
    pq_buf_free(&d->json);
}

static inline void put_i64(sl_column *c, int64_t v)
{
    if (c->validity)
        sl_bit_set(c->validity, c->length);
    ((int64_t *)c->values)[c->length++] = v;
}

static inline void put_f64(sl_column *c, double v)
{
    if (c->validity)
        sl_bit_set(c->validity, c->length);
    ((double *)c->values)[c->length++] = v;
}

static inline void put_i32(sl_column *c, int32_t v)
{
    if (c->validity)
        sl_bit_set(c->validity, c->length);
    ((int32_t *)c->values)[c->length++] = v;
}

static inline void put_bool(sl_column *c, int v)
{
    if (c->validity)
        sl_bit_set(c->validity, c->length);
    if (v)
        sl_bit_set(c->values, c->length);
    else
        sl_bit_clear(c->values, c->length);
    c->length++;
}

static inline sl_rc put_str(sl_column *c, const void *s, size_t n, sl_err *err)
{
    int64_t off = c->offsets[c->length];
    if (off + (int64_t)n > c->data_cap) {
        sl_rc rc = sl_column_reserve(c, 0, (int64_t)n);
        if (rc != SL_OK)
            return rc == SL_ENOMEM ? nomem(err) : sl_err_set(err, rc, "string column too large");
    }
    if (c->validity)
        sl_bit_set(c->validity, c->length);
    if (n)
        memcpy(c->data + off, s, n);
    c->offsets[++c->length] = off + (int64_t)n;
    return SL_OK;
}

static inline sl_rc put_null(sl_column *c, sl_err *err)
{
    return sl_column_append_null(c) == SL_OK ? SL_OK : nomem(err);
}

/* ---- primitives ---- */

static inline sl_rc rd_long(av_rd *rd, int64_t *v, sl_err *err)
{
    return av_read_long(rd, v) == 0 ? SL_OK : corrupt(err, "truncated or overlong varint");
}

/* Length-prefixed bytes: *p points into the block. */
static inline sl_rc rd_bytes(av_rd *rd, const uint8_t **p, size_t *n, sl_err *err)
{
    int64_t len;
    if (av_read_long(rd, &len) != 0)
        return corrupt(err, "truncated length");
    if (len < 0 || len > rd->end - rd->p) {
        char m[128];
        snprintf(m, sizeof m, "length %lld exceeds the %lld bytes left in the block", (long long)len,
                 (long long)(rd->end - rd->p));
        return corrupt(err, m);
    }
    *p = rd->p;
    *n = (size_t)len;
    rd->p += len;
    return SL_OK;
}

static inline sl_rc rd_fixed(av_rd *rd, int64_t size, const uint8_t **p, sl_err *err)
{
    if (size > rd->end - rd->p)
        return corrupt(err, "truncated fixed value");
    *p = rd->p;
    rd->p += size;
    return SL_OK;
}

static inline sl_rc rd_index(av_rd *rd, int n, int64_t *idx, const char *what, sl_err *err)
{
    if (av_read_long(rd, idx) != 0)
        return corrupt(err, "truncated index");
    if (*idx < 0 || *idx >= n) {
        char m[128];
        snprintf(m, sizeof m, "%s index %lld out of range [0, %d)", what, (long long)*idx, n);
        return corrupt(err, m);
    }
    return SL_OK;
}

/* Reads an array/map block header: *count items follow (0 = end). */
static sl_rc rd_block(av_rd *rd, int64_t item_min, av_dec *d, int64_t *count, sl_err *err)
{
    int64_t n, size;
    if (av_read_long(rd, &n) != 0)
        return corrupt(err, "truncated block count");
    if (n < 0) {
        if (n == INT64_MIN)
            return corrupt(err, "invalid block count");
        n = -n;
        if (av_read_long(rd, &size) != 0 || size < 0 || size > rd->end - rd->p)
            return corrupt(err, "invalid block size");
    }
    if (item_min > 0 ? n > (rd->end - rd->p) / item_min
                     : (d->zero_items += n) > AV_MAX_ZERO_SIZE_ITEMS || n > AV_MAX_ZERO_SIZE_ITEMS) {
        char m[160];
        snprintf(m, sizeof m, "an array or map block declares %lld items, more than its %lld bytes "
                              "can hold", (long long)n, (long long)(rd->end - rd->p));
        return corrupt(err, m);
    }
    *count = n;
    return SL_OK;
}

sl_rc av_skip(const av_node *w, av_rd *rd, int depth, av_dec *d, sl_err *err)
{
    sl_rc rc;
    const uint8_t *p = NULL;
    size_t n = 0;
    int64_t v = 0;
    if (depth > AV_MAX_DEPTH)
        return corrupt(err, "values nested too deeply");
    switch (w->t) {
    case AV_NULL: return SL_OK;
    case AV_BOOLEAN: return rd_fixed(rd, 1, &p, err);
    case AV_INT:
    case AV_LONG: return rd_long(rd, &v, err);
    case AV_FLOAT: return rd_fixed(rd, 4, &p, err);
    case AV_DOUBLE: return rd_fixed(rd, 8, &p, err);
    case AV_BYTES:
    case AV_STRING: return rd_bytes(rd, &p, &n, err);
    case AV_FIXED: return rd_fixed(rd, w->size, &p, err);
    case AV_ENUM: return rd_index(rd, w->n, &v, "enum", err);
    case AV_UNION:
        if ((rc = rd_index(rd, w->n, &v, "union", err)) != SL_OK)
            return rc;
        return av_skip(w->branches[v], rd, depth + 1, d, err);
    case AV_RECORD:
        for (int i = 0; i < w->n; i++)
            if ((rc = av_skip(w->fields[i].type, rd, depth + 1, d, err)) != SL_OK)
                return rc;
        return SL_OK;
    case AV_ARRAY:
    case AV_MAP: {
        int map = w->t == AV_MAP;
        for (;;) {
            int64_t cnt;
            if ((rc = rd_block(rd, w->items->min_size + map, d, &cnt, err)) != SL_OK)
                return rc;
            if (cnt == 0)
                return SL_OK;
            for (int64_t i = 0; i < cnt; i++) {
                if (map && (rc = rd_bytes(rd, &p, &n, err)) != SL_OK)
                    return rc;
                if ((rc = av_skip(w->items, rd, depth + 1, d, err)) != SL_OK)
                    return rc;
            }
        }
    }
    }
    return corrupt(err, "unknown type");
}

/* Two's complement big-endian -> double, divided by 10^scale. */
static double decimal_value(const uint8_t *p, size_t n, int scale)
{
    if (n == 0)
        return 0.0;
    double v = (double)(int8_t)p[0];
    for (size_t i = 1; i < n; i++)
        v = v * 256.0 + p[i];
    return scale ? v / pow(10.0, scale) : v;
}

/* int/long -> the column's representation; err on out-of-range. */
static inline sl_rc conv_long(const av_plan *p, int64_t v, int64_t *out, sl_err *err)
{
    switch (p->conv) {
    case CV_TS_MUL:
        if (v > INT64_MAX / 1000 || v < INT64_MIN / 1000)
            return sl_err_set(err, SL_EPARSE, "timestamp-millis value %lld is out of range",
                              (long long)v);
        *out = v * 1000;
        return SL_OK;
    case CV_TS_DIV:
        *out = v / 1000 - (v % 1000 < 0);
        return SL_OK;
    case CV_DATE:
        if (v > INT32_MAX || v < INT32_MIN)
            return corrupt(err, "date out of range");
        *out = v;
        return SL_OK;
    default:
        *out = v;
        return SL_OK;
    }
}

static sl_rc read_int(const av_plan *p, av_rd *rd, int64_t *v, sl_err *err)
{
    if (av_read_long(rd, v) != 0)
        return corrupt(err, "truncated or overlong varint");
    if (p->op == OP_INT && (*v > INT32_MAX || *v < INT32_MIN))
        return corrupt(err, "int value out of the 32-bit range");
    return conv_long(p, *v, v, err);
}

static sl_rc read_float(const av_plan *p, av_rd *rd, double *v, sl_err *err)
{
    const uint8_t *b = NULL;
    if (p->op == OP_FLOAT) {
        float f;
        if (rd_fixed(rd, 4, &b, err) != SL_OK)
            return SL_EPARSE;
        memcpy(&f, b, 4); /* little-endian host assumed (x86-64, aarch64) */
        *v = f;
        return SL_OK;
    }
    if (rd_fixed(rd, 8, &b, err) != SL_OK)
        return SL_EPARSE;
    memcpy(v, b, 8);
    return SL_OK;
}

static sl_rc read_bytes(const av_plan *p, av_rd *rd, const uint8_t **b, size_t *n, sl_err *err)
{
    if (p->op == OP_FIXED) {
        *n = (size_t)p->w->size;
        return rd_fixed(rd, p->w->size, b, err);
    }
    return rd_bytes(rd, b, n, err);
}

static sl_rc plan_error(const av_plan *p, sl_err *err)
{
    if (p->w->t == AV_NULL)
        return sl_err_set(err, SL_ESCHEMA, "null value, but the reader's type is not nullable");
    return sl_err_set(err, SL_ESCHEMA, "%s", p->msg);
}

static sl_rc bad_utf8(const av_plan *p, sl_err *err)
{
    if (p->w->t == AV_STRING)
        return sl_err_set(err, SL_EPARSE, "string value is not valid UTF-8");
    return sl_err_set(err, SL_EPARSE, "%s value is not valid UTF-8 (binary data cannot be read "
                                      "as a string column; leave the field out with `columns`)",
                      p->w->t == AV_FIXED ? "fixed" : "bytes");
}

static sl_rc dec_json(const av_plan *p, av_rd *rd, av_dec *d, int depth, sl_err *err);

static sl_rc dec_col(const av_plan *p, av_rd *rd, sl_column *c, av_dec *d, sl_err *err)
{
    sl_rc rc;
    int64_t v = 0;
    double f = 0;
    const uint8_t *b = NULL;
    size_t n = 0;
    while (p->op == OP_UNION) {
        if ((rc = rd_index(rd, p->w->n, &v, "union", err)) != SL_OK)
            return rc;
        p = p->branch[v];
    }
    switch (p->op) {
    case OP_NULL: return put_null(c, err);
    case OP_ERROR: return plan_error(p, err);
    case OP_BOOL:
        if (rd->p >= rd->end || *rd->p > 1)
            return corrupt(err, rd->p >= rd->end ? "truncated boolean" : "boolean byte is not 0 or 1");
        put_bool(c, *rd->p++);
        return SL_OK;
    case OP_INT:
    case OP_LONG:
        if ((rc = read_int(p, rd, &v, err)) != SL_OK)
            return rc;
        if (p->conv == CV_F64)
            put_f64(c, (double)v);
        else if (p->conv == CV_DATE)
            put_i32(c, (int32_t)v);
        else
            put_i64(c, v);
        return SL_OK;
    case OP_FLOAT:
    case OP_DOUBLE:
        if ((rc = read_float(p, rd, &f, err)) != SL_OK)
            return rc;
        put_f64(c, f);
        return SL_OK;
    case OP_BYTES:
    case OP_FIXED:
        if ((rc = read_bytes(p, rd, &b, &n, err)) != SL_OK)
            return rc;
        if (p->conv == CV_DEC) {
            put_f64(c, decimal_value(b, n, p->scale));
            return SL_OK;
        }
        if (!pq_utf8_valid(b, n))
            return bad_utf8(p, err);
        return put_str(c, b, n, err);
    case OP_ENUM:
        if ((rc = rd_index(rd, p->w->n, &v, "enum", err)) != SL_OK)
            return rc;
        if (!p->sym[v])
            return sl_err_set(err, SL_ESCHEMA, "enum symbol '%s' is not in the reader's enum '%s'",
                              p->w->symbols[v], p->r->name);
        return put_str(c, p->sym[v], p->symlen[v], err);
    default:
        d->json.len = 0;
        d->zero_items = 0;
        if ((rc = dec_json(p, rd, d, 0, err)) != SL_OK)
            return rc;
        return put_str(c, d->json.p, d->json.len, err);
    }
}

/* ---- JSON text ---- */

static inline sl_rc jput(av_dec *d, const char *s, size_t n, sl_err *err)
{
    if (d->json.len + n > AV_MAX_JSON_BYTES)
        return sl_err_set(err, SL_ELIMIT, "a nested value's JSON text exceeds %d bytes",
                          AV_MAX_JSON_BYTES);
    return pq_buf_append(&d->json, s, n) == 0 ? SL_OK : nomem(err);
}

int av_json_str(pq_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    if (pq_buf_reserve(b, n + 2) != 0)
        return -1;
    b->p[b->len++] = '"';
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        while (run < n && (unsigned char)s[run] >= 0x20 && (unsigned char)s[run] < 0x80 &&
               s[run] != '"' && s[run] != '\\')
            run++;
        if (run > i && pq_buf_append(b, s + i, run - i) != 0)
            return -1;
        i = run;
        if (i >= n)
            break;
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 0x80) {
            /* a valid UTF-8 sequence is copied, a stray byte escaped */
            int len = ch >= 0xf0 ? 4 : ch >= 0xe0 ? 3 : ch >= 0xc2 ? 2 : 0;
            if (len && n - i >= (size_t)len && pq_utf8_valid((const uint8_t *)s + i, (size_t)len)) {
                if (pq_buf_append(b, s + i, (size_t)len) != 0)
                    return -1;
                i += (size_t)len;
                continue;
            }
        }
        char e[6] = {'\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15]};
        const char *esc = ch == '"' ? "\\\"" : ch == '\\' ? "\\\\" : ch == '\n' ? "\\n"
                        : ch == '\t' ? "\\t" : ch == '\r' ? "\\r" : NULL;
        if (pq_buf_append(b, esc ? esc : e, esc ? 2 : 6) != 0)
            return -1;
        i++;
    }
    return pq_buf_append(b, "\"", 1);
}

static sl_rc jstr(av_dec *d, const void *s, size_t n, sl_err *err)
{
    if (d->json.len + n > AV_MAX_JSON_BYTES)
        return jput(d, "", AV_MAX_JSON_BYTES, err); /* reports the limit */
    return av_json_str(&d->json, s, n) == 0 ? SL_OK : nomem(err);
}

static sl_rc jnum(av_dec *d, double v, sl_err *err)
{
    char buf[SL_FMT_MAX + 4];
    if (!isfinite(v))
        return jput(d, "null", 4, err);
    return jput(d, buf, (size_t)sl_format_float64(v, buf), err);
}

static sl_rc json_long(const av_plan *p, int64_t v, av_dec *d, sl_err *err)
{
    char buf[SL_FMT_MAX + 4];
    int n;
    if (p->conv == CV_F64)
        return jnum(d, (double)v, err);
    if (p->conv == CV_DATE || p->ts_unit) {
        buf[0] = '"';
        n = 1 + (p->conv == CV_DATE ? sl_format_date((int32_t)v, buf + 1)
                                     : sl_format_timestamp(v, buf + 1));
        buf[n++] = '"';
    } else {
        n = sl_format_int64(v, buf);
    }
    return jput(d, buf, (size_t)n, err);
}

/* duration: three little-endian uint32 (months, days, milliseconds). */
static sl_rc json_duration(const uint8_t *b, av_dec *d, sl_err *err)
{
    uint32_t v[3];
    for (int k = 0; k < 3; k++)
        v[k] = (uint32_t)b[4 * k] | (uint32_t)b[4 * k + 1] << 8 | (uint32_t)b[4 * k + 2] << 16 |
               (uint32_t)b[4 * k + 3] << 24;
    char buf[96];
    int n = snprintf(buf, sizeof buf, "{\"months\":%u,\"days\":%u,\"millis\":%u}", v[0], v[1], v[2]);
    return jput(d, buf, (size_t)n, err);
}

static sl_rc json_record(const av_plan *p, av_rd *rd, av_dec *d, int depth, sl_err *err)
{
    sl_rc rc;
    int first = 1;
    if ((rc = jput(d, "{", 1, err)) != SL_OK)
        return rc;
    for (int i = 0; i < p->w->n; i++) {
        if (!p->wf[i]) {
            if ((rc = av_skip(p->w->fields[i].type, rd, depth + 1, d, err)) != SL_OK)
                return rc;
            continue;
        }
        const char *name = p->r->fields[p->wf_r[i]].name;
        if ((!first && (rc = jput(d, ",", 1, err)) != SL_OK) ||
            (rc = jstr(d, name, strlen(name), err)) != SL_OK || (rc = jput(d, ":", 1, err)) != SL_OK ||
            (rc = dec_json(p->wf[i], rd, d, depth + 1, err)) != SL_OK)
            return rc;
        first = 0;
    }
    for (int k = 0; k < p->nmissing; k++) {
        const av_field *f = p->missing[k];
        char *t = json_dumps(f->def, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
        if (!t)
            return nomem(err);
        rc = first ? SL_OK : jput(d, ",", 1, err);
        if (rc == SL_OK && (rc = jstr(d, f->name, strlen(f->name), err)) == SL_OK &&
            (rc = jput(d, ":", 1, err)) == SL_OK)
            rc = jput(d, t, strlen(t), err);
        free(t);
        if (rc != SL_OK)
            return rc;
        first = 0;
    }
    return jput(d, "}", 1, err);
}

static sl_rc json_items(const av_plan *p, av_rd *rd, av_dec *d, int depth, sl_err *err)
{
    int map = p->op == OP_MAP;
    int first = 1;
    sl_rc rc;
    if ((rc = jput(d, map ? "{" : "[", 1, err)) != SL_OK)
        return rc;
    for (;;) {
        int64_t cnt;
        if ((rc = rd_block(rd, p->w->items->min_size + map, d, &cnt, err)) != SL_OK)
            return rc;
        if (cnt == 0)
            break;
        for (int64_t i = 0; i < cnt; i++) {
            if (!first && (rc = jput(d, ",", 1, err)) != SL_OK)
                return rc;
            first = 0;
            if (map) {
                const uint8_t *k = NULL;
                size_t kn = 0;
                if ((rc = rd_bytes(rd, &k, &kn, err)) != SL_OK ||
                    (rc = jstr(d, k, kn, err)) != SL_OK || (rc = jput(d, ":", 1, err)) != SL_OK)
                    return rc;
            }
            if ((rc = dec_json(p->items, rd, d, depth + 1, err)) != SL_OK)
                return rc;
        }
    }
    return jput(d, map ? "}" : "]", 1, err);
}

static sl_rc dec_json(const av_plan *p, av_rd *rd, av_dec *d, int depth, sl_err *err)
{
    sl_rc rc;
    int64_t v = 0;
    double f = 0;
    const uint8_t *b = NULL;
    size_t n = 0;
    if (depth > AV_MAX_DEPTH)
        return corrupt(err, "values nested too deeply");
    while (p->op == OP_UNION) {
        if ((rc = rd_index(rd, p->w->n, &v, "union", err)) != SL_OK)
            return rc;
        p = p->branch[v];
    }
    switch (p->op) {
    case OP_NULL: return jput(d, "null", 4, err);
    case OP_ERROR: return plan_error(p, err);
    case OP_BOOL:
        if (rd->p >= rd->end || *rd->p > 1)
            return corrupt(err, "invalid boolean");
        return *rd->p++ ? jput(d, "true", 4, err) : jput(d, "false", 5, err);
    case OP_INT:
    case OP_LONG:
        if ((rc = read_int(p, rd, &v, err)) != SL_OK)
            return rc;
        return json_long(p, v, d, err);
    case OP_FLOAT:
    case OP_DOUBLE:
        if ((rc = read_float(p, rd, &f, err)) != SL_OK)
            return rc;
        return jnum(d, f, err);
    case OP_BYTES:
    case OP_FIXED:
        if ((rc = read_bytes(p, rd, &b, &n, err)) != SL_OK)
            return rc;
        if (p->conv == CV_DEC)
            return jnum(d, decimal_value(b, n, p->scale), err);
        if (p->w->lt == AV_LT_DURATION)
            return json_duration(b, d, err);
        return jstr(d, b, n, err);
    case OP_ENUM:
        if ((rc = rd_index(rd, p->w->n, &v, "enum", err)) != SL_OK)
            return rc;
        if (!p->sym[v])
            return sl_err_set(err, SL_ESCHEMA, "enum symbol '%s' is not in the reader's enum '%s'",
                              p->w->symbols[v], p->r->name);
        return jstr(d, p->sym[v], p->symlen[v], err);
    case OP_RECORD: return json_record(p, rd, d, depth, err);
    case OP_ARRAY:
    case OP_MAP: return json_items(p, rd, d, depth, err);
    default: return corrupt(err, "unknown type");
    }
}

/* ---- one row ---- */

static sl_rc put_default(const av_default *def, sl_column *c, sl_err *err)
{
    if (def->is_null || c->type == SL_NULL)
        return put_null(c, err);
    switch (c->type) {
    case SL_BOOL: put_bool(c, (int)def->i); return SL_OK;
    case SL_INT64:
    case SL_TIMESTAMP: put_i64(c, def->i); return SL_OK;
    case SL_DATE: put_i32(c, (int32_t)def->i); return SL_OK;
    case SL_FLOAT64: put_f64(c, def->f); return SL_OK;
    default: return put_str(c, def->s, def->slen, err);
    }
}

sl_rc av_decode_row(const av_prog *p, av_dec *d, av_rd *rd, sl_column **cols, sl_err *err)
{
    sl_rc rc = SL_OK;
    int i;
    for (i = 0; i < p->nsteps; i++) {
        const av_step *st = &p->steps[i];
        if (st->col < 0) {
            d->zero_items = 0;
            rc = av_skip(st->skip, rd, 1, d, err);
        } else if (st->json) {
            sl_column *c = cols[st->col];
            d->json.len = 0;
            d->zero_items = 0;
            /* a null of a nullable JSON column stays null */
            const av_plan *pl = st->plan;
            int64_t v = 0;
            if (pl->op == OP_UNION) {
                if ((rc = rd_index(rd, pl->w->n, &v, "union", err)) != SL_OK)
                    break;
                pl = pl->branch[v];
            }
            if (pl->op == OP_NULL)
                rc = put_null(c, err);
            else if ((rc = dec_json(pl, rd, d, 1, err)) == SL_OK)
                rc = put_str(c, d->json.p, d->json.len, err);
        } else {
            rc = dec_col(st->plan, rd, cols[st->col], d, err);
        }
        if (rc != SL_OK)
            break;
    }
    if (rc != SL_OK) {
        sl_err_prefix(err, "field '%s'", p->steps[i].field);
        sl_err_field(err, p->steps[i].field);
        return rc;
    }
    for (int k = 0; k < p->ndefs; k++)
        if ((rc = put_default(&p->defs[p->def_cols[k]], cols[p->def_cols[k]], err)) != SL_OK)
            return rc;
    return SL_OK;
}
