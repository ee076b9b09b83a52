/*
 * parquet_wcol.c: column values -> Parquet pages (see parquet_wcol.h).
 *
 * Values arrive in slices of a batch column. Each slice appends definition
 * levels (one byte per row, optional columns only), updates the chunk
 * statistics, and appends non-null values either to the dictionary (open
 * addressing hash, the page keeps uint32 indices) or PLAIN-encoded to the
 * page buffer. A page is finished when its estimated encoded size reaches
 * page_bytes; the dictionary falls back to PLAIN for the rest of the column
 * chunk when its PLAIN size exceeds dictionary_bytes (pages already written
 * keep using it, which Parquet allows).
 *
 * Invariants: in dictionary mode every index in vals is < dn; dkeys/dhash
 * hold dn entries; slots has at least twice dn+1 entries so probing always
 * ends at an empty slot; pn <= pv; defs holds pv bytes when optional.
 */
#include "parquet_wcol.h"

#include <math.h>
#include <string.h>

#include "parquet_encoding.h"
#include "sluice/mem.h"

/* Rows per slice: bounds how far a page can overshoot page_bytes. */
#define SLICE_ROWS 4096
#define SLICE_ROWS_STR 512
/* Strings longer than this get no min/max (keeps footers small). */
#define STATS_MAX_BYTES 1024

static sl_rc nomem(sl_err *err)
{
    return sl_err_set(err, SL_ENOMEM, "out of memory");
}

static int physical(sl_type t)
{
    switch (t) {
    case SL_BOOL: return PQ_BOOLEAN;
    case SL_INT64:
    case SL_TIMESTAMP: return PQ_INT64;
    case SL_FLOAT64: return PQ_DOUBLE;
    case SL_STRING: return PQ_BYTE_ARRAY;
    default: return PQ_INT32; /* DATE, NULL */
    }
}

sl_rc pq_wcol_init(pq_wcol *c, const sl_field *f, int dictionary, sl_err *err)
{
    memset(c, 0, sizeof *c);
    c->name = f->name;
    c->path[0] = f->name;
    c->type = f->type;
    c->ptype = physical(f->type);
    c->optional = f->nullable || f->type == SL_NULL;
    c->can_dict = f->type != SL_BOOL && f->type != SL_NULL;
    pq_wcol_reset_chunk(c, dictionary);
    (void)err;
    return SL_OK;
}

void pq_wcol_free(pq_wcol *c)
{
    pq_buf_free(&c->vals);
    pq_buf_free(&c->defs);
    pq_buf_free(&c->dvals);
    pq_buf_free(&c->chunk);
    pq_buf_free(&c->smin);
    pq_buf_free(&c->smax);
    sl_free(c->dkeys);
    sl_free(c->dhash);
    sl_free(c->slots);
}

void pq_wcol_reset_chunk(pq_wcol *c, int dictionary)
{
    c->chunk.len = 0;
    c->chunk_unc = 0;
    c->chunk_values = 0;
    c->dict_pages = 0;
    c->enc = 0;
    c->nulls = 0;
    c->has_mm = 0;
    c->smin.len = c->smax.len = 0;
    c->dict_on = dictionary && c->can_dict;
    c->dvals.len = 0;
    c->dn = 0;
    if (c->slots)
        memset(c->slots, 0, (size_t)c->nslots * sizeof *c->slots);
}

int64_t pq_wcol_buffered(const pq_wcol *c)
{
    return (int64_t)(c->chunk.len + c->vals.len + c->dvals.len);
}

/* ---- dictionary ---- */

static inline uint32_t hash64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return (uint32_t)x;
}

static uint32_t hash_bytes(const uint8_t *p, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ n;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
        h ^= h >> 29;
        p += 8;
        n -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, p, n);
    return hash64(h ^ w);
}

/* Room for one more entry, slots at most half full. */
static int dict_reserve(pq_wcol *c)
{
    if (c->dn == c->dcap) {
        uint32_t ncap = c->dcap ? c->dcap * 2 : 1024;
        uint64_t *k = sl_realloc(c->dkeys, (size_t)ncap * sizeof *k);
        if (!k)
            return -1;
        c->dkeys = k;
        uint32_t *h = sl_realloc(c->dhash, (size_t)ncap * sizeof *h);
        if (!h)
            return -1;
        c->dhash = h;
        c->dcap = ncap;
    }
    if ((uint64_t)(c->dn + 1) * 2 > c->nslots) {
        uint32_t ns = c->nslots ? c->nslots * 2 : 2048;
        uint32_t *s = sl_calloc(ns, sizeof *s);
        if (!s)
            return -1;
        for (uint32_t e = 0; e < c->dn; e++) {
            uint32_t i = c->dhash[e] & (ns - 1);
            while (s[i])
                i = (i + 1) & (ns - 1);
            s[i] = e + 1;
        }
        sl_free(c->slots);
        c->slots = s;
        c->nslots = ns;
    }
    return 0;
}

/* Index of a fixed-width value (its bits in key, `width` bytes PLAIN). */
static int dict_fixed(pq_wcol *c, uint64_t key, int width, uint32_t *idx)
{
    if (dict_reserve(c) != 0)
        return -1;
    uint32_t h = hash64(key), mask = c->nslots - 1, i = h & mask;
    for (uint32_t e; (e = c->slots[i]) != 0; i = (i + 1) & mask)
        if (c->dkeys[e - 1] == key) {
            *idx = e - 1;
            return 0;
        }
    if (pq_buf_append(&c->dvals, &key, (size_t)width) != 0)
        return -1;
    c->dkeys[c->dn] = key;
    c->dhash[c->dn] = h;
    c->slots[i] = c->dn + 1;
    *idx = c->dn++;
    return 0;
}

static int dict_str(pq_wcol *c, const uint8_t *p, uint32_t n, uint32_t *idx)
{
    if (dict_reserve(c) != 0)
        return -1;
    uint32_t h = hash_bytes(p, n), mask = c->nslots - 1, i = h & mask;
    for (uint32_t e; (e = c->slots[i]) != 0; i = (i + 1) & mask) {
        if (c->dhash[e - 1] != h)
            continue;
        const uint8_t *q = c->dvals.p + c->dkeys[e - 1];
        uint32_t qn;
        memcpy(&qn, q, 4);
        if (qn == n && memcmp(q + 4, p, n) == 0) {
            *idx = e - 1;
            return 0;
        }
    }
    uint64_t off = c->dvals.len;
    if (pq_buf_reserve(&c->dvals, (size_t)n + 4) != 0)
        return -1;
    memcpy(c->dvals.p + off, &n, 4);
    if (n)
        memcpy(c->dvals.p + off + 4, p, n);
    c->dvals.len += (size_t)n + 4;
    c->dkeys[c->dn] = off;
    c->dhash[c->dn] = h;
    c->slots[i] = c->dn + 1;
    *idx = c->dn++;
    return 0;
}

/* ---- appending values ---- */

/* Fixed-width types: T is the batch's value type, STATS updates imin/imax
 * or fmin/fmax for a valid value v. Dictionary keys are the value bits. */
#define DEFINE_APPEND_FIXED(NAME, T, KEY, STATS)                              \
    static int NAME(pq_wcol *c, const sl_column *src, int64_t off, int64_t n) \
    {                                                                         \
        const T *v = (const T *)src->values + off;                            \
        const uint8_t *vb = src->validity;                                    \
        size_t w = sizeof(T);                                                 \
        if (pq_buf_reserve(&c->vals, (size_t)n * (w > 4 ? w : 4)) != 0)       \
            return -1;                                                        \
        for (int64_t i = 0; i < n; i++) {                                     \
            if (vb && !sl_bit_get(vb, off + i))                               \
                continue;                                                     \
            T x = v[i];                                                       \
            STATS;                                                            \
        }                                                                     \
        if (c->dict_on) {                                                     \
            uint32_t *out = (uint32_t *)(void *)(c->vals.p + c->vals.len);    \
            int64_t k = 0;                                                    \
            for (int64_t i = 0; i < n; i++) {                                 \
                if (vb && !sl_bit_get(vb, off + i))                           \
                    continue;                                                 \
                T x = v[i];                                                   \
                uint64_t key = KEY;                                           \
                if (dict_fixed(c, key, (int)w, &out[k++]) != 0)               \
                    return -1;                                                \
            }                                                                 \
            c->vals.len += (size_t)k * 4;                                     \
        } else if (!vb) {                                                     \
            memcpy(c->vals.p + c->vals.len, v, (size_t)n * w);                \
            c->vals.len += (size_t)n * w;                                     \
        } else {                                                              \
            uint8_t *d = c->vals.p + c->vals.len;                             \
            for (int64_t i = 0; i < n; i++)                                   \
                if (sl_bit_get(vb, off + i)) {                                \
                    memcpy(d, &v[i], w);                                      \
                    d += w;                                                   \
                }                                                             \
            c->vals.len = (size_t)(d - c->vals.p);                            \
        }                                                                     \
        return 0;                                                             \
    }

#define STATS_INT                                                             \
    if (!c->has_mm) {                                                         \
        c->imin = c->imax = x;                                                \
        c->has_mm = 1;                                                        \
    } else if (x < c->imin) {                                                 \
        c->imin = x;                                                          \
    } else if (x > c->imax) {                                                 \
        c->imax = x;                                                          \
    }

#define STATS_FLOAT                                                           \
    if (x != x) {                                                             \
    } else if (!c->has_mm) {                                                  \
        c->fmin = c->fmax = x;                                                \
        c->has_mm = 1;                                                        \
    } else if (x < c->fmin) {                                                 \
        c->fmin = x;                                                          \
    } else if (x > c->fmax) {                                                 \
        c->fmax = x;                                                          \
    }

static inline uint64_t f64_bits(double x)
{
    uint64_t u;
    memcpy(&u, &x, 8);
    return u;
}

DEFINE_APPEND_FIXED(append_i64, int64_t, (uint64_t)x, STATS_INT)
DEFINE_APPEND_FIXED(append_i32, int32_t, (uint64_t)(uint32_t)x, STATS_INT)
DEFINE_APPEND_FIXED(append_f64, double, f64_bits(x), STATS_FLOAT)

static int append_bool(pq_wcol *c, const sl_column *src, int64_t off, int64_t n)
{
    const uint8_t *vb = src->validity, *bits = src->values;
    if (pq_buf_reserve(&c->vals, (size_t)n) != 0)
        return -1;
    uint8_t *d = c->vals.p + c->vals.len;
    for (int64_t i = 0; i < n; i++) {
        if (vb && !sl_bit_get(vb, off + i))
            continue;
        int64_t x = sl_bit_get(bits, off + i);
        STATS_INT;
        *d++ = (uint8_t)x;
    }
    c->vals.len = (size_t)(d - c->vals.p);
    return 0;
}

static int set_buf(pq_buf *b, const char *p, size_t n)
{
    b->len = 0;
    return pq_buf_append(b, p, n);
}

/* Byte order of UTF-8 strings: unsigned lexicographic (memcmp). */
static int str_cmp(const pq_buf *b, const char *p, size_t n)
{
    size_t m = b->len < n ? b->len : n;
    int r = m ? memcmp(b->p, p, m) : 0;
    return r ? r : (b->len < n ? -1 : b->len > n);
}

static int append_str(pq_wcol *c, const sl_column *src, int64_t off, int64_t n)
{
    const uint8_t *vb = src->validity;
    const int64_t *o = src->offsets;
    int64_t bytes = o[off + n] - o[off];
    size_t need = c->dict_on ? (size_t)n * 4 : (size_t)bytes + (size_t)n * 4;
    if (pq_buf_reserve(&c->vals, need) != 0)
        return -1;
    uint8_t *d = c->vals.p + c->vals.len;
    for (int64_t i = off; i < off + n; i++) {
        if (vb && !sl_bit_get(vb, i))
            continue;
        const char *s = src->data + o[i];
        if (o[i + 1] - o[i] > INT32_MAX / 2)
            return -2; /* a page could not hold it */
        uint32_t len = (uint32_t)(o[i + 1] - o[i]);
        if (c->has_mm < 0) {
            /* a value was too long for statistics: none for this chunk */
        } else if (len > STATS_MAX_BYTES) {
            c->has_mm = -1;
        } else {
            if (!c->has_mm) {
                if (set_buf(&c->smin, s, len) || set_buf(&c->smax, s, len))
                    return -1;
                c->has_mm = 1;
            } else if (str_cmp(&c->smin, s, len) > 0) {
                if (set_buf(&c->smin, s, len))
                    return -1;
            } else if (str_cmp(&c->smax, s, len) < 0) {
                if (set_buf(&c->smax, s, len))
                    return -1;
            }
        }
        if (c->dict_on) {
            uint32_t idx;
            if (dict_str(c, (const uint8_t *)s, len, &idx) != 0)
                return -1;
            memcpy(d, &idx, 4);
            d += 4;
        } else {
            memcpy(d, &len, 4);
            if (len)
                memcpy(d + 4, s, len);
            d += 4 + len;
        }
    }
    c->vals.len = (size_t)(d - c->vals.p);
    return 0;
}

/* Estimated encoded size of the current page. */
static int64_t page_estimate(const pq_wcol *c)
{
    int64_t v = (int64_t)c->vals.len;
    if (c->dict_on)
        v = v / 4 * (pq_bit_width(c->dn) + 1) / 8;
    else if (c->type == SL_BOOL)
        v /= 8;
    return v + (int64_t)c->defs.len / 8;
}

static sl_rc append_slice(pq_wcol *c, const sl_column *src, int64_t off,
                          int64_t n, sl_err *err)
{
    int64_t nulls = 0;
    if (c->optional) {
        if (pq_buf_reserve(&c->defs, (size_t)n) != 0)
            return nomem(err);
        uint8_t *d = c->defs.p + c->defs.len;
        if (!src->validity || src->type == SL_NULL) {
            memset(d, src->type != SL_NULL, (size_t)n);
            nulls = src->type == SL_NULL ? n : 0;
        } else {
            for (int64_t i = 0; i < n; i++) {
                d[i] = (uint8_t)sl_bit_get(src->validity, off + i);
                nulls += !d[i];
            }
        }
        c->defs.len += (size_t)n;
    } else if (src->validity && src->null_count > 0) {
        for (int64_t i = 0; i < n; i++)
            if (!sl_bit_get(src->validity, off + i))
                return sl_err_set(err, SL_ESCHEMA,
                                  "column '%s' is not nullable but has a null value",
                                  c->name);
    }
    int rc = 0;
    switch (c->type) {
    case SL_INT64:
    case SL_TIMESTAMP: rc = append_i64(c, src, off, n); break;
    case SL_FLOAT64: rc = append_f64(c, src, off, n); break;
    case SL_DATE: rc = append_i32(c, src, off, n); break;
    case SL_BOOL: rc = append_bool(c, src, off, n); break;
    case SL_STRING: rc = append_str(c, src, off, n); break;
    default: break; /* SL_NULL: levels only */
    }
    if (rc == -2)
        return sl_err_set(err, SL_ELIMIT, "column '%s': a string of more than 1 GiB cannot be "
                                          "stored in a Parquet page", c->name);
    if (rc != 0)
        return nomem(err);
    c->pv += n;
    c->pn += nulls;
    c->nulls += nulls;
    return SL_OK;
}

sl_rc pq_wcol_append(pq_wcol *c, pq_wscratch *s, const sl_column *src,
                     int64_t off, int64_t n, sl_err *err)
{
    const int64_t step = c->type == SL_STRING ? SLICE_ROWS_STR : SLICE_ROWS;
    sl_rc rc = SL_OK;
    for (int64_t done = 0; done < n && rc == SL_OK;) {
        int64_t k = n - done < step ? n - done : step;
        if ((rc = append_slice(c, src, off + done, k, err)) != SL_OK)
            break;
        done += k;
        if (c->dict_on && (int64_t)c->dvals.len > s->o->dictionary_bytes) {
            /* Dictionary too large: this page keeps it, the rest of the
             * chunk is PLAIN. */
            rc = pq_wcol_finish_page(c, s, err);
            c->dict_on = 0;
        } else if (page_estimate(c) >= s->o->page_bytes || c->pv >= INT32_MAX / 2) {
            rc = pq_wcol_finish_page(c, s, err);
        }
    }
    return rc;
}

/* ---- pages ---- */

static void put_u32le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* Appends header (s->tw) + body (s->comp) to the chunk. */
static sl_rc emit_page(pq_wscratch *s, const pq_page_header *h, pq_buf *out, sl_err *err)
{
    tc_writer_reset(&s->tw);
    pq_page_header_encode(&s->tw, h);
    if (s->tw.failed || pq_buf_reserve(out, s->tw.len + s->comp.len) != 0)
        return nomem(err);
    pq_buf_append(out, s->tw.buf, s->tw.len);
    pq_buf_append(out, s->comp.p, s->comp.len);
    return SL_OK;
}

sl_rc pq_wcol_finish_page(pq_wcol *c, pq_wscratch *s, sl_err *err)
{
    if (c->pv == 0)
        return SL_OK;
    const sl_parquet_write_options *o = s->o;
    int v2 = o->data_page_version == 2;
    int64_t nvals = c->pv - c->pn;
    int dict = c->dict_on && nvals > 0;
    pq_buf *body = &s->body;
    size_t lev = 0;
    sl_rc rc = SL_OK;
    body->len = 0;
    if (c->optional) {
        if (!v2 && pq_buf_append(body, "\0\0\0\0", 4) != 0)
            return nomem(err);
        if (pq_rle_encode_u8(body, c->defs.p, c->pv, 1) != 0)
            return nomem(err);
        if (!v2)
            put_u32le(body->p, (uint32_t)(body->len - 4));
        lev = body->len;
    }
    if (dict) {
        uint8_t bw = (uint8_t)pq_bit_width(c->dn - 1);
        if (bw == 0)
            bw = 1; /* some readers reject bit width 0 */
        if (pq_buf_append(body, &bw, 1) != 0 ||
            pq_rle_encode_u32(body, (const uint32_t *)(void *)c->vals.p, nvals, bw) != 0)
            return nomem(err);
    } else if (c->type == SL_BOOL) {
        size_t nb = (size_t)(nvals + 7) / 8;
        if (pq_buf_reserve(body, nb) != 0)
            return nomem(err);
        uint8_t *d = body->p + body->len;
        memset(d, 0, nb);
        for (int64_t i = 0; i < nvals; i++)
            d[i >> 3] |= (uint8_t)(c->vals.p[i] << (i & 7));
        body->len += nb;
    } else if (pq_buf_append(body, c->vals.p, c->vals.len) != 0) {
        return nomem(err);
    }
    if (body->len > (size_t)INT32_MAX)
        return sl_err_set(err, SL_ELIMIT, "column '%s': page too large", c->name);
    pq_page_header h;
    memset(&h, 0, sizeof h);
    h.num_values = (int32_t)c->pv;
    h.encoding = dict ? PQ_ENC_RLE_DICTIONARY : PQ_ENC_PLAIN;
    h.uncompressed_size = (int32_t)body->len;
    s->comp.len = 0;
    if (v2) {
        h.type = PQ_PAGE_DATA_V2;
        h.num_nulls = (int32_t)c->pn;
        h.num_rows = (int32_t)c->pv;
        h.def_bytes = (int32_t)lev;
        h.is_compressed = o->codec != SL_PQ_UNCOMPRESSED;
        if (pq_buf_append(&s->comp, body->p, lev) != 0)
            return nomem(err);
        rc = pq_compress(&s->codec, (int)o->codec, body->p + lev, body->len - lev,
                         &s->comp, err);
    } else {
        h.type = PQ_PAGE_DATA;
        h.def_encoding = PQ_ENC_RLE;
        h.rep_encoding = PQ_ENC_RLE;
        rc = pq_compress(&s->codec, (int)o->codec, body->p, body->len, &s->comp, err);
    }
    if (rc != SL_OK)
        return rc;
    if (s->comp.len > (size_t)INT32_MAX)
        return sl_err_set(err, SL_ELIMIT, "column '%s': page too large", c->name);
    h.compressed_size = (int32_t)s->comp.len;
    size_t before = c->chunk.len;
    if ((rc = emit_page(s, &h, &c->chunk, err)) != SL_OK)
        return rc;
    c->chunk_unc += (int64_t)(c->chunk.len - before - s->comp.len + body->len);
    c->chunk_values += c->pv;
    c->enc |= 1u << h.encoding;
    if (c->optional)
        c->enc |= 1u << PQ_ENC_RLE;
    c->dict_pages += dict;
    c->pv = c->pn = 0;
    c->vals.len = c->defs.len = 0;
    return SL_OK;
}

sl_rc pq_wcol_dict_page(pq_wcol *c, pq_wscratch *s, pq_buf *out, int64_t *unc,
                        sl_err *err)
{
    out->len = 0;
    *unc = 0;
    if (c->dict_pages == 0)
        return SL_OK;
    if (c->dvals.len > (size_t)INT32_MAX)
        return sl_err_set(err, SL_ELIMIT, "column '%s': dictionary too large", c->name);
    s->comp.len = 0;
    sl_rc rc = pq_compress(&s->codec, (int)s->o->codec, c->dvals.p, c->dvals.len,
                           &s->comp, err);
    if (rc != SL_OK)
        return rc;
    pq_page_header h;
    memset(&h, 0, sizeof h);
    h.type = PQ_PAGE_DICTIONARY;
    h.num_values = (int32_t)c->dn;
    h.encoding = PQ_ENC_PLAIN;
    h.uncompressed_size = (int32_t)c->dvals.len;
    h.compressed_size = (int32_t)s->comp.len;
    if ((rc = emit_page(s, &h, out, err)) != SL_OK)
        return rc;
    *unc = (int64_t)(out->len - s->comp.len + c->dvals.len);
    c->enc |= 1u << PQ_ENC_PLAIN;
    return SL_OK;
}

static uint8_t *arena_copy(sl_arena *a, const void *p, size_t n)
{
    uint8_t *d = sl_arena_alloc(a, n ? n : 1);
    if (d && n)
        memcpy(d, p, n);
    return d;
}

int pq_wcol_stats(const pq_wcol *c, sl_arena *a, pq_stats *st)
{
    uint8_t mn[8], mx[8];
    size_t n = 0;
    memset(st, 0, sizeof *st);
    st->has_null_count = 1;
    st->null_count = c->nulls;
    if (c->has_mm != 1)
        return 0;
    switch (c->type) {
    case SL_INT64:
    case SL_TIMESTAMP:
        memcpy(mn, &c->imin, 8);
        memcpy(mx, &c->imax, 8);
        n = 8;
        break;
    case SL_DATE: {
        int32_t a32 = (int32_t)c->imin, b32 = (int32_t)c->imax;
        memcpy(mn, &a32, 4);
        memcpy(mx, &b32, 4);
        n = 4;
        break;
    }
    case SL_BOOL:
        mn[0] = (uint8_t)c->imin;
        mx[0] = (uint8_t)c->imax;
        n = 1;
        break;
    case SL_FLOAT64: {
        /* Zero bounds are written as -0.0 / +0.0 so readers that compare
         * with either sign stay correct (parquet.thrift's rule). */
        double lo = c->fmin == 0 ? -0.0 : c->fmin, hi = c->fmax == 0 ? 0.0 : c->fmax;
        memcpy(mn, &lo, 8);
        memcpy(mx, &hi, 8);
        n = 8;
        break;
    }
    case SL_STRING:
        st->min = arena_copy(a, c->smin.p, c->smin.len);
        st->max = arena_copy(a, c->smax.p, c->smax.len);
        if (!st->min || !st->max)
            return -1;
        st->min_len = (uint32_t)c->smin.len;
        st->max_len = (uint32_t)c->smax.len;
        st->has_min = st->has_max = 1;
        return 0;
    default:
        return 0;
    }
    st->min = arena_copy(a, mn, n);
    st->max = arena_copy(a, mx, n);
    if (!st->min || !st->max)
        return -1;
    st->min_len = st->max_len = (uint32_t)n;
    st->has_min = st->has_max = 1;
    return 0;
}
