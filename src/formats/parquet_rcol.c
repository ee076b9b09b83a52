/*
 * parquet_rcol.c: one column chunk's pages -> sluice column values (see
 * parquet_rcol.h).
 *
 * A page is decoded whole on load: definition levels into defs (bytes),
 * values into a pq_vstore in sluice representation (int64 / double /
 * int32 days / bool bytes / string views) or, for dictionary pages,
 * indices into idx (checked < dictionary size once, at decode time). Rows
 * are then copied out into batch columns, bulk (memcpy or gather) when the
 * range has no nulls.
 *
 * Bounds: every page must lie inside the chunk; sizes from page headers go
 * through codec.c's plausibility checks; a page may not hold more values
 * than its chunk still owes (values_left), nor more than PAGE_ROWS_MAX rows,
 * which bounds the level and index buffers.
 */
#include "parquet_rcol.h"

#include <math.h>
#include <string.h>
#include <zlib.h>

#include "sluice/mem.h"
#include "sluice/parquet.h"
#include "sluice/value.h"

#define PAGE_ROWS_MAX (INT64_C(1) << 26)

/* ---- classification ---- */

static int reject(const char **why, const char *msg)
{
    *why = msg;
    return -1;
}

int pq_classify(const pq_schema_elem *e, pq_leaf_type *out, const char **why)
{
    const pq_logical *l = &e->logical;
    int lk = l->kind, ct = e->converted;
    int dec = lk == PQ_LT_DECIMAL || (lk == PQ_LT_NONE && ct == PQ_CT_DECIMAL);
    memset(out, 0, sizeof *out);
    out->ptype = e->type;
    out->type_length = e->type_length;
    out->scale = lk == PQ_LT_DECIMAL ? l->scale : e->scale;
    if (dec) {
        if (e->type == PQ_BOOLEAN || e->type == PQ_INT96 || e->type == PQ_FLOAT ||
            e->type == PQ_DOUBLE)
            return reject(why, "DECIMAL annotation on a type that cannot hold one");
        if (out->scale < 0 || out->scale > 76)
            return reject(why, "DECIMAL scale out of range");
        out->type = SL_FLOAT64;
        out->conv = CV_DEC;
        if (e->type == PQ_FIXED_LEN_BYTE_ARRAY && (e->type_length < 1 || e->type_length > 64))
            return reject(why, "DECIMAL width out of range");
        return 0;
    }
    if (lk == PQ_LT_TIME || ct == PQ_CT_TIME_MILLIS || ct == PQ_CT_TIME_MICROS)
        return reject(why, "TIME columns are not supported");
    if (ct == PQ_CT_INTERVAL)
        return reject(why, "INTERVAL columns are not supported");
    if (lk == PQ_LT_UNKNOWN) {
        out->type = SL_NULL;
        out->conv = CV_NULL;
        return 0;
    }
    int is_unsigned = (lk == PQ_LT_INTEGER && !l->is_signed) ||
                      (ct >= PQ_CT_UINT_8 && ct <= PQ_CT_UINT_64);
    switch (e->type) {
    case PQ_BOOLEAN:
        out->type = SL_BOOL;
        out->conv = CV_BOOL;
        return 0;
    case PQ_INT32:
        if (lk == PQ_LT_DATE || ct == PQ_CT_DATE) {
            out->type = SL_DATE;
            out->conv = CV_DATE;
        } else {
            out->type = SL_INT64;
            out->conv = is_unsigned ? CV_U32 : CV_I32;
        }
        return 0;
    case PQ_INT64:
        out->type = SL_INT64;
        out->conv = is_unsigned ? CV_U64 : CV_I64;
        if (lk == PQ_LT_TIMESTAMP || ct == PQ_CT_TIMESTAMP_MILLIS ||
            ct == PQ_CT_TIMESTAMP_MICROS) {
            int unit = lk == PQ_LT_TIMESTAMP ? l->unit
                       : ct == PQ_CT_TIMESTAMP_MILLIS ? PQ_UNIT_MILLIS : PQ_UNIT_MICROS;
            out->type = SL_TIMESTAMP;
            out->conv = unit == PQ_UNIT_MILLIS ? CV_TS_MS : unit == PQ_UNIT_NANOS ? CV_TS_NS
                                                                                 : CV_I64;
            if (unit < PQ_UNIT_MILLIS || unit > PQ_UNIT_NANOS)
                return reject(why, "TIMESTAMP with an unknown unit");
        }
        return 0;
    case PQ_INT96:
        out->type = SL_TIMESTAMP;
        out->conv = CV_INT96;
        return 0;
    case PQ_FLOAT:
        out->type = SL_FLOAT64;
        out->conv = CV_F32;
        return 0;
    case PQ_DOUBLE:
        out->type = SL_FLOAT64;
        out->conv = CV_F64;
        return 0;
    case PQ_BYTE_ARRAY:
        out->type = SL_STRING;
        if (lk == PQ_LT_STRING || lk == PQ_LT_ENUM || lk == PQ_LT_JSON || ct == PQ_CT_UTF8 ||
            ct == PQ_CT_ENUM || ct == PQ_CT_JSON) {
            out->conv = CV_STR;
            return 0;
        }
        if (lk == PQ_LT_BSON || ct == PQ_CT_BSON)
            return reject(why, "BSON columns are not supported");
        if (lk == PQ_LT_GEOMETRY || lk == PQ_LT_GEOGRAPHY)
            return reject(why, "GEOMETRY/GEOGRAPHY (WKB binary) columns are not supported");
        if (lk == PQ_LT_VARIANT)
            return reject(why, "VARIANT columns are not supported");
        out->conv = CV_STR_CHECK;
        return 0;
    case PQ_FIXED_LEN_BYTE_ARRAY:
        if (lk == PQ_LT_FLOAT16 && e->type_length == 2) {
            out->type = SL_FLOAT64;
            out->conv = CV_F16;
            return 0;
        }
        if (lk == PQ_LT_UUID)
            return reject(why, "UUID columns are not supported");
        return reject(why, "FIXED_LEN_BYTE_ARRAY columns are only read with a DECIMAL "
                           "or FLOAT16 annotation");
    default:
        return reject(why, "unknown physical type");
    }
}

/* ---- lifecycle ---- */

void pq_rcol_init(pq_rcol *c, const char *name, const pq_leaf_type *lt,
                  int max_def, pq_codec *codec)
{
    memset(c, 0, sizeof *c);
    c->name = name;
    c->lt = *lt;
    c->max_def = max_def;
    c->optional = max_def > 0;
    c->codec = codec;
}

static void vstore_free(pq_vstore *v)
{
    pq_buf_free(&v->fixed);
    sl_free(v->views);
}

void pq_rcol_free(pq_rcol *c)
{
    pq_buf_free(&c->dict_page);
    vstore_free(&c->dict);
    pq_buf_free(&c->page);
    pq_buf_free(&c->tmp);
    pq_buf_free(&c->tmp2);
    vstore_free(&c->vals);
    sl_free(c->defs);
    sl_free(c->reps);
    pq_buf_free(&c->chunkbuf);
    sl_free(c->idx);
}

void pq_rcol_start(pq_rcol *c, const uint8_t *cp, size_t n, int codec,
                   int64_t num_values)
{
    c->cp = cp;
    c->clen = n;
    c->cpos = 0;
    c->codec_id = codec;
    c->values_left = num_values;
    c->seen_data = 0;
    c->has_dict = 0;
    c->dict.n = 0;
    c->page_n = c->page_pos = c->nn_pos = 0;
}

/* ---- helpers ---- */

static sl_rc corrupt(pq_rcol *c, sl_err *err, const char *what)
{
    (void)c;
    return sl_err_set(err, SL_EPARSE, "corrupt page: %s", what);
}

static sl_rc nomem(sl_err *err)
{
    return sl_err_set(err, SL_ENOMEM, "out of memory");
}

static int grow_array(void **p, size_t *cap, size_t n, size_t elem)
{
    if (n <= *cap)
        return 0;
    return sl_grow(p, cap, n, elem);
}

static int out_width(sl_type t)
{
    return t == SL_DATE ? 4 : t == SL_BOOL ? 1 : 8;
}

static int phys_width(const pq_leaf_type *lt)
{
    switch (lt->ptype) {
    case PQ_INT32:
    case PQ_FLOAT: return 4;
    case PQ_INT64:
    case PQ_DOUBLE: return 8;
    case PQ_INT96: return 12;
    case PQ_FIXED_LEN_BYTE_ARRAY: return lt->type_length;
    default: return 0;
    }
}

int pq_utf8_valid(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (n - i >= 8) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            if (!(w & 0x8080808080808080ULL)) {
                i += 8;
                continue;
            }
        }
        uint8_t b = p[i];
        if (b < 0x80) {
            i++;
            continue;
        }
        int len = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc2 ? 2 : 0;
        if (len == 0 || b > 0xf4 || n - i < (size_t)len)
            return 0;
        for (int k = 1; k < len; k++)
            if ((p[i + k] & 0xc0) != 0x80)
                return 0;
        if ((b == 0xe0 && p[i + 1] < 0xa0) || (b == 0xed && p[i + 1] > 0x9f) ||
            (b == 0xf0 && p[i + 1] < 0x90) || (b == 0xf4 && p[i + 1] > 0x8f))
            return 0;
        i += (size_t)len;
    }
    return 1;
}

static double half_to_double(uint16_t h)
{
    int e = (h >> 10) & 0x1f, m = h & 0x3ff;
    double v = e == 0 ? ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexp(m + 1024, e - 25);
    return (h >> 15) ? -v : v;
}

/* Big-endian two's complement integer of n bytes, as a double. */
static double be_signed(const uint8_t *p, size_t n)
{
    if (n == 0)
        return 0;
    double v = (int8_t)p[0];
    for (size_t k = 1; k < n; k++)
        v = v * 256 + p[k];
    return v;
}

/* ---- conversions into a value store ---- */

/* nn raw little-endian physical values at raw -> store->fixed. */
static sl_rc convert_fixed(pq_rcol *c, const uint8_t *raw, int64_t nn, pq_vstore *st,
                           sl_err *err)
{
    const pq_leaf_type *lt = &c->lt;
    int ow = out_width(lt->type);
    st->n = nn;
    st->fixed.len = 0;
    if (pq_buf_reserve(&st->fixed, (size_t)nn * (size_t)ow + 8) != 0)
        return nomem(err);
    uint8_t *d = st->fixed.p;
    int64_t *o64 = (int64_t *)(void *)d;
    double *of = (double *)(void *)d;
    double div = lt->conv == CV_DEC ? pow(10.0, lt->scale) : 1;
    int pw = phys_width(lt);
    int direct = lt->conv == CV_I64 || lt->conv == CV_F64 || lt->conv == CV_DATE ||
                 lt->conv == CV_U64;
    if (direct) {
        if (nn)
            memcpy(d, raw, (size_t)nn * (size_t)ow);
        for (int64_t i = 0; lt->conv == CV_U64 && i < nn; i++)
            if (o64[i] < 0)
                return sl_err_set(err, SL_EPARSE,
                                  "unsigned 64-bit value %llu does not fit in int64",
                                  (unsigned long long)o64[i]);
    }
    for (int64_t i = 0; !direct && i < nn; i++) {
        const uint8_t *s = raw + (size_t)i * (size_t)pw;
        int32_t i32;
        int64_t i64;
        float f32;
        switch (lt->conv) {
        case CV_I32:
            memcpy(&i32, s, 4);
            o64[i] = i32;
            break;
        case CV_U32:
            memcpy(&i32, s, 4);
            o64[i] = (uint32_t)i32;
            break;
        case CV_TS_MS:
            memcpy(&i64, s, 8);
            if (__builtin_mul_overflow(i64, 1000, &o64[i]))
                return sl_err_set(err, SL_EPARSE, "timestamp in milliseconds out of range");
            break;
        case CV_TS_NS:
            memcpy(&i64, s, 8);
            o64[i] = i64 / 1000 - (i64 % 1000 < 0);
            break;
        case CV_INT96: {
            /* Julian day + nanoseconds of the day. Computed modulo 2^64
             * like Spark and arrow-rs, which is how Spark's microsecond
             * timestamps beyond the int32 day range round-trip. */
            int64_t nanos;
            int32_t jd;
            memcpy(&nanos, s, 8);
            memcpy(&jd, s + 8, 4);
            int64_t fl = nanos / 1000 - (nanos % 1000 < 0);
            uint64_t us = (uint64_t)((int64_t)jd - 2440588) * UINT64_C(86400000000) + (uint64_t)fl;
            o64[i] = (int64_t)us;
            break;
        }
        case CV_F32:
            memcpy(&f32, s, 4);
            of[i] = f32;
            break;
        case CV_F16:
            of[i] = half_to_double((uint16_t)(s[0] | s[1] << 8));
            break;
        case CV_DEC:
            if (lt->ptype == PQ_INT32) {
                memcpy(&i32, s, 4);
                of[i] = i32 / div;
            } else if (lt->ptype == PQ_INT64) {
                memcpy(&i64, s, 8);
                of[i] = (double)i64 / div;
            } else {
                of[i] = be_signed(s, (size_t)pw) / div;
            }
            break;
        default: /* CV_NULL: values are never read */
            break;
        }
    }
    st->fixed.len = (size_t)nn * (size_t)ow;
    return SL_OK;
}

/* Byte-array values in st->views (relative to st->base): checks or
 * converts them. */
static sl_rc convert_views(pq_rcol *c, pq_vstore *st, sl_err *err)
{
    if (c->lt.conv == CV_STR_CHECK) {
        for (int64_t i = 0; i < st->n; i++)
            if (!pq_utf8_valid(st->base + st->views[i].off, st->views[i].len))
                return sl_err_set(err, SL_EUNSUPPORTED,
                                  "BYTE_ARRAY column without a STRING annotation holds "
                                  "bytes that are not valid UTF-8 (binary columns are not "
                                  "supported)");
    } else if (c->lt.conv == CV_DEC) {
        double div = pow(10.0, c->lt.scale);
        st->fixed.len = 0;
        if (pq_buf_reserve(&st->fixed, (size_t)st->n * 8 + 8) != 0)
            return nomem(err);
        double *of = (double *)(void *)st->fixed.p;
        for (int64_t i = 0; i < st->n; i++)
            of[i] = be_signed(st->base + st->views[i].off, st->views[i].len) / div;
        st->fixed.len = (size_t)st->n * 8;
    }
    return SL_OK;
}

static int views_reserve(pq_vstore *st, int64_t n)
{
    void *p = st->views;
    if (grow_array(&p, &st->views_cap, (size_t)n + 1, sizeof(pq_view)) != 0)
        return -1;
    st->views = p;
    return 0;
}

/* PLAIN values (also the dictionary page) -> st. */
static sl_rc decode_plain(pq_rcol *c, const uint8_t *p, size_t len, int64_t nn,
                          pq_vstore *st, sl_err *err)
{
    const char *why = NULL;
    st->n = nn;
    if (c->lt.ptype == PQ_BOOLEAN) {
        st->fixed.len = 0;
        if (pq_buf_reserve(&st->fixed, (size_t)nn + 1) != 0)
            return nomem(err);
        if (pq_plain_bool_decode(p, len, nn, st->fixed.p, &why) < 0)
            return corrupt(c, err, why);
        st->fixed.len = (size_t)nn;
        return SL_OK;
    }
    if (c->lt.ptype == PQ_BYTE_ARRAY) {
        if (views_reserve(st, nn) != 0)
            return nomem(err);
        if (pq_plain_ba_decode(p, len, nn, st->views, NULL, &why) < 0)
            return corrupt(c, err, why);
        st->base = p;
        return convert_views(c, st, err);
    }
    int pw = phys_width(&c->lt);
    if ((uint64_t)nn * (uint64_t)pw > len)
        return corrupt(c, err, "PLAIN values end before the page's value count");
    return convert_fixed(c, p, nn, st, err);
}

/* Values of a data page in encoding enc -> c->vals or c->idx. */
static sl_rc decode_values(pq_rcol *c, int enc, const uint8_t *p, size_t len, int64_t nn,
                           sl_err *err)
{
    const char *why = NULL;
    int pt = c->lt.ptype, pw = phys_width(&c->lt);
    c->page_dict = 0;
    c->vals.n = nn;
    switch (enc) {
    case PQ_ENC_PLAIN:
        return decode_plain(c, p, len, nn, &c->vals, err);
    case PQ_ENC_PLAIN_DICTIONARY:
    case PQ_ENC_RLE_DICTIONARY: {
        if (!c->has_dict)
            return corrupt(c, err, "dictionary-encoded page without a dictionary page");
        c->page_dict = 1;
        if (nn == 0)
            return SL_OK;
        if (len < 1)
            return corrupt(c, err, "dictionary indices missing");
        void *ip = c->idx;
        if (grow_array(&ip, &c->idx_cap, (size_t)nn, sizeof(uint32_t)) != 0)
            return nomem(err);
        c->idx = ip;
        if (p[0] > 32)
            return corrupt(c, err, "dictionary index bit width above 32");
        if (pq_rle_decode(p + 1, len - 1, p[0], c->idx, nn, NULL, &why) < 0)
            return corrupt(c, err, why);
        uint32_t mx = 0;
        for (int64_t i = 0; i < nn; i++)
            mx = c->idx[i] > mx ? c->idx[i] : mx;
        if ((int64_t)mx >= c->dict.n)
            return corrupt(c, err, "dictionary index out of range");
        return SL_OK;
    }
    case PQ_ENC_RLE: {
        if (pt != PQ_BOOLEAN)
            break;
        if (len < 4)
            return corrupt(c, err, "RLE boolean values lack their length");
        uint32_t l = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                     (uint32_t)p[3] << 24;
        if (l > len - 4)
            return corrupt(c, err, "RLE boolean length beyond the page");
        c->vals.fixed.len = 0;
        if (pq_buf_reserve(&c->vals.fixed, (size_t)nn + 1) != 0)
            return nomem(err);
        if (pq_rle_decode_u8(p + 4, l, 1, c->vals.fixed.p, nn, NULL, &why) < 0)
            return corrupt(c, err, why);
        c->vals.fixed.len = (size_t)nn;
        return SL_OK;
    }
    case PQ_ENC_DELTA_BINARY_PACKED: {
        if (pt != PQ_INT32 && pt != PQ_INT64)
            break;
        c->tmp.len = 0;
        if (pq_buf_reserve(&c->tmp, (size_t)nn * 8 + 8) != 0)
            return nomem(err);
        int64_t *v = (int64_t *)(void *)c->tmp.p;
        if (pq_delta_decode(p, len, nn, v, NULL, &why) < 0)
            return corrupt(c, err, why);
        if (pt == PQ_INT32) /* narrow in place: raw little-endian int32 */
            for (int64_t i = 0; i < nn; i++) {
                int32_t x = (int32_t)(uint32_t)(uint64_t)v[i];
                memcpy(c->tmp.p + (size_t)i * 4, &x, 4);
            }
        return convert_fixed(c, c->tmp.p, nn, &c->vals, err);
    }
    case PQ_ENC_DELTA_LENGTH_BYTE_ARRAY:
    case PQ_ENC_DELTA_BYTE_ARRAY: {
        if (pt != PQ_BYTE_ARRAY)
            break;
        c->tmp.len = 0;
        if (pq_buf_reserve(&c->tmp, (size_t)nn * 16 + 16) != 0 || views_reserve(&c->vals, nn))
            return nomem(err);
        int64_t *scratch = (int64_t *)(void *)c->tmp.p;
        int r = enc == PQ_ENC_DELTA_LENGTH_BYTE_ARRAY
                    ? pq_dlba_decode(p, len, nn, scratch, c->vals.views, &why)
                    : pq_dba_decode(p, len, nn, scratch, &c->tmp2, c->vals.views, &why);
        if (r < 0)
            return why && strcmp(why, "out of memory") == 0 ? nomem(err) : corrupt(c, err, why);
        c->vals.base = enc == PQ_ENC_DELTA_LENGTH_BYTE_ARRAY ? p : c->tmp2.p;
        return convert_views(c, &c->vals, err);
    }
    case PQ_ENC_BYTE_STREAM_SPLIT: {
        if (pw == 0 || pt == PQ_INT96)
            break;
        c->tmp.len = 0;
        if (pq_buf_reserve(&c->tmp, (size_t)nn * (size_t)pw + 1) != 0)
            return nomem(err);
        if (pq_bss_decode(p, len, nn, pw, c->tmp.p, &why) < 0)
            return corrupt(c, err, why);
        return convert_fixed(c, c->tmp.p, nn, &c->vals, err);
    }
    default:
        break;
    }
    return sl_err_set(err, SL_EUNSUPPORTED, "%s encoding of %s values is not supported",
                      pq_encoding_name(enc), pq_type_name(pt));
}

/* ---- pages ---- */

/* Decompressed body of a page (points into the chunk when stored raw). */
static sl_rc page_body(pq_rcol *c, pq_buf *dst, const uint8_t *body, size_t n, size_t unc,
                       int compressed, const uint8_t **out, sl_err *err)
{
    if (!compressed || c->codec_id == PQ_CODEC_UNCOMPRESSED) {
        if (n != unc)
            return corrupt(c, err, "uncompressed page size differs from its stored size");
        *out = body;
        return SL_OK;
    }
    sl_rc rc = pq_decompress(c->codec, c->codec_id, body, n, unc, dst, err);
    *out = dst->p;
    return rc;
}

static sl_rc load_dict(pq_rcol *c, const pq_page_header *h, const uint8_t *body,
                       sl_err *err)
{
    const uint8_t *p = NULL;
    if (c->has_dict || c->seen_data)
        return corrupt(c, err, "dictionary page after the first page of the chunk");
    if (!h->has_kind_header || h->num_values < 0)
        return corrupt(c, err, "dictionary page header missing or negative value count");
    if (h->encoding != PQ_ENC_PLAIN && h->encoding != PQ_ENC_PLAIN_DICTIONARY)
        return sl_err_set(err, SL_EUNSUPPORTED, "dictionary page in %s encoding",
                          pq_encoding_name(h->encoding));
    if (c->lt.ptype == PQ_BOOLEAN)
        return corrupt(c, err, "dictionary page for a BOOLEAN column");
    sl_rc rc = page_body(c, &c->dict_page, body, (size_t)h->compressed_size,
                         (size_t)h->uncompressed_size, 1, &p, err);
    if (rc != SL_OK)
        return rc;
    if (p != c->dict_page.p) { /* keep our own copy: views point into it */
        c->dict_page.len = 0;
        if (pq_buf_append(&c->dict_page, p, (size_t)h->uncompressed_size) != 0)
            return nomem(err);
        p = c->dict_page.p;
    }
    if ((int64_t)h->num_values > (int64_t)h->uncompressed_size * 8 + 8)
        return corrupt(c, err, "dictionary holds more values than its bytes allow");
    if ((rc = decode_plain(c, p, (size_t)h->uncompressed_size, h->num_values, &c->dict,
                           err)) != SL_OK)
        return rc;
    c->has_dict = 1;
    return SL_OK;
}

/* Definition levels of an optional column's page -> c->defs as 1 (the row
 * has a value: level == max_def) or 0; *nn = rows with a value. */
static sl_rc load_levels(pq_rcol *c, const uint8_t *p, size_t len, int64_t n, int64_t *nn,
                         sl_err *err)
{
    const char *why = NULL;
    void *dp = c->defs;
    if (grow_array(&dp, &c->defs_cap, (size_t)n + 1, 1) != 0)
        return nomem(err);
    c->defs = dp;
    if (pq_rle_decode_u8(p, len, pq_bit_width((uint64_t)c->max_def), c->defs, n, NULL,
                         &why) < 0)
        return corrupt(c, err, why);
    int64_t k = 0;
    if (c->raw_levels) { /* nested leaf: keep the levels, count values */
        for (int64_t i = 0; i < n; i++) {
            if (c->defs[i] > c->max_def)
                return corrupt(c, err, "definition level above the column's maximum");
            k += c->defs[i] == c->max_def;
        }
    } else if (c->max_def == 1) {
        for (int64_t i = 0; i < n; i++)
            k += c->defs[i];
    } else {
        for (int64_t i = 0; i < n; i++) {
            if (c->defs[i] > c->max_def)
                return corrupt(c, err, "definition level above the column's maximum");
            c->defs[i] = c->defs[i] == c->max_def;
            k += c->defs[i];
        }
    }
    *nn = k;
    c->page_nulls = k != n;
    return SL_OK;
}

/* Repetition levels of a nested leaf's page -> c->reps. */
static sl_rc load_reps(pq_rcol *c, const uint8_t *p, size_t len, int64_t n, sl_err *err)
{
    const char *why = NULL;
    void *rp = c->reps;
    if (grow_array(&rp, &c->reps_cap, (size_t)n + 1, 1) != 0)
        return nomem(err);
    c->reps = rp;
    if (pq_rle_decode_u8(p, len, pq_bit_width((uint64_t)c->max_rep), c->reps, n, NULL, &why) < 0)
        return corrupt(c, err, why);
    for (int64_t i = 0; i < n; i++)
        if (c->reps[i] > c->max_rep)
            return corrupt(c, err, "repetition level above the column's maximum");
    if (n > 0 && c->reps[0] != 0 && !c->seen_data)
        return corrupt(c, err, "the first repetition level of a column chunk is not 0");
    return SL_OK;
}

/* A V1 level section: [u32 length][RLE levels]; *p and *len advance. */
static sl_rc v1_section(pq_rcol *c, const uint8_t **p, size_t *len, int enc, int64_t n,
                        int reps, int64_t *nn, sl_err *err)
{
    if (enc != PQ_ENC_RLE)
        return sl_err_set(err, SL_EUNSUPPORTED, "%s levels in %s encoding are not supported",
                          reps ? "repetition" : "definition", pq_encoding_name(enc));
    if (*len < 4)
        return corrupt(c, err, "levels lack their length");
    const uint8_t *q = *p;
    uint32_t l = (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 |
                 (uint32_t)q[3] << 24;
    if (l > *len - 4)
        return corrupt(c, err, "levels longer than the page");
    sl_rc rc = reps ? load_reps(c, q + 4, l, n, err) : load_levels(c, q + 4, l, n, nn, err);
    *p += 4 + (size_t)l;
    *len -= 4 + (size_t)l;
    return rc;
}

static sl_rc load_data(pq_rcol *c, const pq_page_header *h, const uint8_t *body,
                       sl_err *err)
{
    int64_t n = h->num_values, nn = n;
    int v2 = h->type == PQ_PAGE_DATA_V2;
    const uint8_t *p = NULL;
    size_t len, comp = (size_t)h->compressed_size, unc = (size_t)h->uncompressed_size;
    sl_rc rc;
    if (!h->has_kind_header)
        return corrupt(c, err, "data page without its data page header");
    if (n < 0 || n > c->values_left || n > PAGE_ROWS_MAX)
        return corrupt(c, err, "page holds more values than its column chunk declares");
    c->page_nulls = 0;
    if (!v2) {
        if ((rc = page_body(c, &c->page, body, comp, unc, 1, &p, err)) != SL_OK)
            return rc;
        len = unc;
        if (c->max_rep > 0 &&
            (rc = v1_section(c, &p, &len, h->rep_encoding, n, 1, NULL, err)) != SL_OK)
            return rc;
        if (c->optional &&
            (rc = v1_section(c, &p, &len, h->def_encoding, n, 0, &nn, err)) != SL_OK)
            return rc;
    } else {
        int64_t lev = (int64_t)h->def_bytes + h->rep_bytes;
        if (h->def_bytes < 0 || h->rep_bytes < 0 || lev > (int64_t)comp || lev > (int64_t)unc)
            return corrupt(c, err, "level sizes exceed the page");
        if (c->max_rep > 0 &&
            (rc = load_reps(c, body, (size_t)h->rep_bytes, n, err)) != SL_OK)
            return rc;
        if (c->optional) {
            if ((rc = load_levels(c, body + h->rep_bytes, (size_t)h->def_bytes, n, &nn,
                                  err)) != SL_OK)
                return rc;
        }
        if (h->num_nulls != n - nn)
            return corrupt(c, err, "page's null count disagrees with its levels");
        if ((rc = page_body(c, &c->page, body + lev, comp - (size_t)lev, unc - (size_t)lev,
                            h->is_compressed, &p, err)) != SL_OK)
            return rc;
        len = unc - (size_t)lev;
    }
    if ((rc = decode_values(c, h->encoding, p, len, nn, err)) != SL_OK)
        return rc;
    c->values_left -= n;
    c->page_n = n;
    c->page_pos = 0;
    c->nn_pos = 0;
    c->seen_data = 1;
    return SL_OK;
}

static sl_rc next_page(pq_rcol *c, sl_err *err)
{
    for (;;) {
        pq_page_header h;
        size_t used;
        c->page_at = c->cpos;
        if (c->cpos >= c->clen || c->values_left <= 0)
            return sl_err_set(err, SL_EPARSE,
                              "column chunk ends before the row group's rows were read");
        sl_rc rc = pq_page_header_decode(c->cp + c->cpos, c->clen - c->cpos, &h, &used, err);
        if (rc != SL_OK)
            return rc;
        size_t at = c->cpos + used;
        if ((size_t)h.compressed_size > c->clen - at)
            return corrupt(c, err, "page extends beyond its column chunk");
        if (h.uncompressed_size > SL_PQ_MAX_PAGE_BYTES)
            return sl_err_set(err, SL_ELIMIT, "page of %d bytes exceeds the limit of %d",
                              h.uncompressed_size, SL_PQ_MAX_PAGE_BYTES);
        const uint8_t *body = c->cp + at;
        c->cpos = at + (size_t)h.compressed_size;
        if (h.has_crc &&
            (uint32_t)crc32(0, body, (uInt)h.compressed_size) != h.crc)
            return corrupt(c, err, "page checksum (CRC) mismatch");
        if (h.type == PQ_PAGE_DICTIONARY) {
            if ((rc = load_dict(c, &h, body, err)) != SL_OK)
                return rc;
        } else if (h.type == PQ_PAGE_DATA || h.type == PQ_PAGE_DATA_V2) {
            if ((rc = load_data(c, &h, body, err)) != SL_OK)
                return rc;
            if (c->page_n > 0)
                return SL_OK;
        }
        /* index pages and unknown page types are skipped */
    }
}

/* ---- copying rows out ---- */

static sl_rc ensure_validity(sl_column *o)
{
    if (o->validity)
        return SL_OK;
    size_t nb = (size_t)(o->cap + 7) / 8;
    o->validity = sl_calloc(nb ? nb : 1, 1);
    if (!o->validity)
        return SL_ENOMEM;
    for (int64_t i = 0; i < o->length; i++)
        sl_bit_set(o->validity, i);
    return SL_OK;
}

static void copy_fixed(pq_rcol *c, sl_column *o, int64_t m, int ow)
{
    uint8_t *dst = (uint8_t *)o->values + (size_t)o->length * (size_t)ow;
    const uint8_t *src = c->page_dict ? c->dict.fixed.p : c->vals.fixed.p;
    const uint8_t *defs = c->optional ? c->defs + c->page_pos : NULL;
    int nulls = defs && c->page_nulls;
    int64_t nn = c->nn_pos;
    if (!nulls && !c->page_dict) {
        memcpy(dst, src + (size_t)nn * (size_t)ow, (size_t)m * (size_t)ow);
        nn += m;
    } else if (!nulls && ow == 8) {
        const uint32_t *ix = c->idx + nn;
        for (int64_t i = 0; i < m; i++)
            memcpy(dst + i * 8, src + (size_t)ix[i] * 8, 8);
        nn += m;
    } else {
        for (int64_t i = 0; i < m; i++) {
            if (nulls && !defs[i]) {
                memset(dst + i * ow, 0, (size_t)ow);
                continue;
            }
            size_t k = c->page_dict ? c->idx[nn] : (size_t)nn;
            memcpy(dst + i * ow, src + k * (size_t)ow, (size_t)ow);
            nn++;
        }
    }
    c->nn_pos = nn;
}

static void copy_bool(pq_rcol *c, sl_column *o, int64_t m)
{
    const uint8_t *defs = c->optional && c->page_nulls ? c->defs + c->page_pos : NULL;
    const uint8_t *src = c->vals.fixed.p;
    uint8_t *bits = o->values;
    for (int64_t i = 0; i < m; i++) {
        int64_t r = o->length + i;
        if ((defs && !defs[i]) || !src[c->nn_pos++]) /* a null consumes no value */
            sl_bit_clear(bits, r);
        else
            sl_bit_set(bits, r);
    }
}

static sl_rc copy_str(pq_rcol *c, sl_column *o, int64_t m)
{
    const uint8_t *defs = c->optional && c->page_nulls ? c->defs + c->page_pos : NULL;
    const pq_vstore *st = c->page_dict ? &c->dict : &c->vals;
    int64_t nn = c->nn_pos, bytes = 0;
    for (int64_t i = 0, k = nn; i < m; i++)
        if (!defs || defs[i])
            bytes += st->views[c->page_dict ? c->idx[k++] : (size_t)k++].len;
    sl_rc rc = sl_column_reserve(o, m, bytes);
    if (rc != SL_OK)
        return rc;
    int64_t *off = o->offsets + o->length;
    int64_t at = off[0];
    for (int64_t i = 0; i < m; i++) {
        if (!defs || defs[i]) {
            const pq_view *v = &st->views[c->page_dict ? c->idx[nn] : (size_t)nn];
            nn++;
            if (v->len)
                memcpy(o->data + at, st->base + v->off, v->len);
            at += v->len;
        }
        off[i + 1] = at;
    }
    c->nn_pos = nn;
    return SL_OK;
}

static sl_rc emit(pq_rcol *c, sl_column *o, int64_t m, sl_err *err)
{
    sl_rc rc = sl_column_reserve(o, m, 0);
    if (rc != SL_OK)
        return nomem(err);
    const uint8_t *defs = c->optional ? c->defs + c->page_pos : NULL;
    int64_t nulls = 0;
    if (c->lt.type == SL_NULL) {
        nulls = m;
    } else if (defs && c->page_nulls) {
        for (int64_t i = 0; i < m; i++)
            nulls += !defs[i];
    }
    if ((nulls || o->validity) && ensure_validity(o) != SL_OK)
        return nomem(err);
    switch (c->lt.type) {
    case SL_NULL:
        break;
    case SL_BOOL:
        copy_bool(c, o, m);
        break;
    case SL_STRING:
        if (copy_str(c, o, m) != SL_OK)
            return nomem(err);
        break;
    default:
        copy_fixed(c, o, m, out_width(c->lt.type));
    }
    if (o->validity) {
        for (int64_t i = 0; i < m; i++) {
            if (c->lt.type == SL_NULL || (defs && c->page_nulls && !defs[i]))
                sl_bit_clear(o->validity, o->length + i);
            else
                sl_bit_set(o->validity, o->length + i);
        }
    }
    o->length += m;
    o->null_count += nulls;
    c->page_pos += m;
    return SL_OK;
}

sl_rc pq_rcol_read(pq_rcol *c, sl_column *out, int64_t n, sl_err *err)
{
    while (n > 0) {
        if (c->page_pos >= c->page_n) {
            sl_rc rc = next_page(c, err);
            if (rc != SL_OK)
                return rc;
        }
        int64_t m = c->page_n - c->page_pos;
        if (m > n)
            m = n;
        sl_rc rc = emit(c, out, m, err);
        if (rc != SL_OK)
            return rc;
        n -= m;
    }
    return SL_OK;
}

/* ---- nested leaves: entries as JSON ---- */

int pq_rcol_peek(pq_rcol *c, int *rep, int *def, sl_err *err, sl_rc *rc)
{
    *rc = SL_OK;
    while (c->page_pos >= c->page_n) {
        if (c->values_left <= 0)
            return 0;
        if ((*rc = next_page(c, err)) != SL_OK)
            return -1;
    }
    *rep = c->reps ? c->reps[c->page_pos] : 0;
    *def = c->optional ? c->defs[c->page_pos] : 0;
    return 1;
}

static int json_str(pq_buf *out, const uint8_t *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    if (pq_buf_reserve(out, n * 6 + 2) != 0)
        return -1;
    uint8_t *d = out->p + out->len;
    *d++ = '"';
    for (size_t i = 0; i < n; i++) {
        uint8_t ch = s[i];
        if (ch == '"' || ch == '\\') {
            *d++ = '\\';
            *d++ = ch;
        } else if (ch < 0x20) {
            memcpy(d, "\\u00", 4);
            d[4] = (uint8_t)hex[ch >> 4];
            d[5] = (uint8_t)hex[ch & 15];
            d += 6;
        } else {
            *d++ = ch;
        }
    }
    *d++ = '"';
    out->len = (size_t)(d - out->p);
    return 0;
}

sl_rc pq_rcol_take_json(pq_rcol *c, pq_buf *out, sl_err *err)
{
    int has = !c->optional || c->defs[c->page_pos] == c->max_def;
    c->page_pos++;
    if (!has)
        return SL_OK;
    const pq_vstore *st = c->page_dict ? &c->dict : &c->vals;
    size_t k = c->page_dict ? c->idx[c->nn_pos] : (size_t)c->nn_pos;
    c->nn_pos++;
    char buf[SL_FMT_MAX + 4];
    int n = 0;
    const uint8_t *fx = st->fixed.p;
    switch (c->lt.type) {
    case SL_BOOL:
        n = snprintf(buf, sizeof buf, "%s", fx[k] ? "true" : "false");
        break;
    case SL_INT64: {
        int64_t v;
        memcpy(&v, fx + k * 8, 8);
        n = sl_format_int64(v, buf);
        break;
    }
    case SL_FLOAT64: {
        double v;
        memcpy(&v, fx + k * 8, 8);
        n = isfinite(v) ? sl_format_float64(v, buf) : snprintf(buf, sizeof buf, "null");
        break;
    }
    case SL_DATE: {
        int32_t v;
        memcpy(&v, fx + k * 4, 4);
        buf[0] = '"';
        n = 1 + sl_format_date(v, buf + 1);
        buf[n++] = '"';
        break;
    }
    case SL_TIMESTAMP: {
        int64_t v;
        memcpy(&v, fx + k * 8, 8);
        buf[0] = '"';
        n = 1 + sl_format_timestamp(v, buf + 1);
        buf[n++] = '"';
        break;
    }
    case SL_STRING:
        if (json_str(out, st->base + st->views[k].off, st->views[k].len) != 0)
            return nomem(err);
        return SL_OK;
    default:
        n = snprintf(buf, sizeof buf, "null");
    }
    return pq_buf_append(out, buf, (size_t)n) == 0 ? SL_OK : nomem(err);
}
