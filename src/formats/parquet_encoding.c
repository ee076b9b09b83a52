/*
 * parquet_encoding.c: Parquet encodings (see parquet_encoding.h).
 *
 * Hot loops (bit unpacking, RLE runs, PLAIN byte arrays) work on whole
 * arrays; nothing here allocates except the encoders' output buffers and
 * DELTA_BYTE_ARRAY's rebuilt values. Every read is checked against the
 * input length before it happens; loads of 8 bytes near the end of the
 * input go through a zero-padded copy.
 */
#include "parquet_encoding.h"

#include <string.h>

int pq_bit_width(uint64_t v)
{
    int w = 0;
    while (v) {
        w++;
        v >>= 1;
    }
    return w;
}

static inline uint64_t load64(const uint8_t *p, size_t avail)
{
    uint64_t v = 0;
    if (avail >= 8) {
        memcpy(&v, p, 8);
    } else {
        uint8_t tmp[8] = {0};
        memcpy(tmp, p, avail);
        memcpy(&v, tmp, 8);
    }
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static int uvarint(const uint8_t *p, size_t len, size_t *pos, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*pos >= len)
            return -1;
        uint8_t b = p[(*pos)++];
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

/* Unpacks count values of bw (<= 32) bits from p (bytes available: avail,
 * which the caller checked covers count * bw bits). */
#define DEFINE_UNPACK(NAME, T)                                                \
    static void NAME(const uint8_t *p, size_t avail, int bw, T *out,          \
                     int64_t count)                                           \
    {                                                                         \
        if (bw == 0) {                                                        \
            memset(out, 0, (size_t)count * sizeof *out);                      \
            return;                                                           \
        }                                                                     \
        const uint64_t mask = bw == 32 ? 0xffffffffu : ((uint64_t)1 << bw) - 1; \
        uint64_t bit = 0;                                                     \
        for (int64_t i = 0; i < count; i++, bit += (uint64_t)bw) {            \
            size_t byte = (size_t)(bit >> 3);                                 \
            out[i] = (T)((load64(p + byte, avail - byte) >> (bit & 7)) & mask); \
        }                                                                     \
    }

DEFINE_UNPACK(unpack32, uint32_t)
DEFINE_UNPACK(unpack8, uint8_t)

/* The hybrid decoder, for uint32 (indices) and uint8 (levels, bit width
 * <= 8) outputs. */
#define DEFINE_RLE_DEC(NAME, T, UNPACK, MAXW)                                 \
    int NAME(const uint8_t *p, size_t len, int bit_width, T *out, int64_t n,  \
             size_t *used, const char **why)                                  \
    {                                                                         \
        size_t pos = 0;                                                       \
        int64_t got = 0;                                                      \
        if (bit_width < 0 || bit_width > MAXW) {                              \
            *why = "RLE bit width out of range";                              \
            return -1;                                                        \
        }                                                                     \
        size_t vbytes = (size_t)(bit_width + 7) / 8;                          \
        while (got < n) {                                                     \
            uint64_t h;                                                       \
            if (uvarint(p, len, &pos, &h) < 0) {                              \
                *why = "RLE data ends before all values were decoded";        \
                return -1;                                                    \
            }                                                                 \
            if (h & 1) {                                                      \
                uint64_t groups = h >> 1;                                     \
                if (groups > ((uint64_t)1 << 40)) {                           \
                    *why = "bit-packed run too long";                         \
                    return -1;                                                \
                }                                                             \
                uint64_t bytes = groups * (uint64_t)bit_width;                \
                /* The last run may lack padding it does not need. */         \
                int64_t take = groups * 8 < (uint64_t)(n - got) ? (int64_t)(groups * 8) \
                                                                : n - got;    \
                uint64_t need = ((uint64_t)take * (uint64_t)bit_width + 7) / 8; \
                if (need > len - pos) {                                       \
                    *why = "bit-packed run longer than the data";             \
                    return -1;                                                \
                }                                                             \
                UNPACK(p + pos, len - pos, bit_width, out + got, take);       \
                got += take;                                                  \
                pos += bytes < len - pos ? (size_t)bytes : len - pos;         \
            } else {                                                          \
                uint64_t run = h >> 1;                                        \
                if (vbytes > len - pos) {                                     \
                    *why = "RLE run value beyond the end of the data";        \
                    return -1;                                                \
                }                                                             \
                uint32_t v = 0;                                               \
                for (size_t k = 0; k < vbytes; k++)                           \
                    v |= (uint32_t)p[pos + k] << (8 * k);                     \
                pos += vbytes;                                                \
                if (bit_width < 32 && v >> bit_width) {                       \
                    *why = "RLE run value wider than the bit width";          \
                    return -1;                                                \
                }                                                             \
                int64_t take = run < (uint64_t)(n - got) ? (int64_t)run : n - got; \
                for (int64_t i = 0; i < take; i++)                            \
                    out[got + i] = (T)v;                                      \
                got += take;                                                  \
            }                                                                 \
        }                                                                     \
        if (used)                                                             \
            *used = pos;                                                      \
        return 0;                                                             \
    }

DEFINE_RLE_DEC(pq_rle_decode, uint32_t, unpack32, 32)
DEFINE_RLE_DEC(pq_rle_decode_u8, uint8_t, unpack8, 8)

/* ---- RLE encoder ---- */

static int put_uvarint(pq_buf *b, uint64_t v)
{
    uint8_t tmp[10];
    int k = 0;
    while (v >= 0x80) {
        tmp[k++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[k++] = (uint8_t)v;
    return pq_buf_append(b, tmp, (size_t)k);
}

/* Packs count (a multiple of 8) values of bw bits, LSB first. */
#define DEFINE_PACK(NAME, T)                                                  \
    static int NAME(pq_buf *b, const T *v, int64_t count, int bw)             \
    {                                                                         \
        size_t bytes = (size_t)count * (size_t)bw / 8;                        \
        if (pq_buf_reserve(b, bytes + 8) != 0)                                \
            return -1;                                                        \
        uint8_t *d = b->p + b->len;                                           \
        uint64_t acc = 0;                                                     \
        int nb = 0;                                                           \
        for (int64_t i = 0; i < count; i++) {                                 \
            acc |= (uint64_t)v[i] << nb;                                      \
            nb += bw;                                                         \
            while (nb >= 8) {                                                 \
                *d++ = (uint8_t)acc;                                          \
                acc >>= 8;                                                    \
                nb -= 8;                                                      \
            }                                                                 \
        }                                                                     \
        b->len += bytes;                                                      \
        return 0;                                                             \
    }

DEFINE_PACK(pack_u32, uint32_t)
DEFINE_PACK(pack_u8, uint8_t)

/* Runs of >= 8 equal values become RLE runs; everything else goes into
 * bit-packed runs of up to 63 groups of 8. The last group is padded with
 * zeros (readers stop at the value count). */
#define DEFINE_RLE_ENC(NAME, T, PACK)                                         \
    int NAME(pq_buf *b, const T *v, int64_t n, int bw)                        \
    {                                                                         \
        int64_t i = 0, lit_start = 0, lit_n = 0;                              \
        size_t vbytes = (size_t)(bw + 7) / 8;                                 \
        T pad[8];                                                             \
        while (i < n || lit_n > 0) {                                          \
            int64_t run = 0;                                                  \
            if (i < n) {                                                      \
                run = 1;                                                      \
                while (i + run < n && v[i + run] == v[i])                     \
                    run++;                                                    \
            }                                                                 \
            int flush = lit_n > 0 && (i >= n || run >= 8 || lit_n == 63 * 8); \
            if (flush) {                                                      \
                int64_t full = lit_n / 8 * 8;                                 \
                if (put_uvarint(b, (uint64_t)((lit_n + 7) / 8) << 1 | 1) ||   \
                    PACK(b, v + lit_start, full, bw))                         \
                    return -1;                                                \
                if (lit_n > full) {                                           \
                    memset(pad, 0, sizeof pad);                               \
                    for (int64_t k = full; k < lit_n; k++)                    \
                        pad[k - full] = v[lit_start + k];                     \
                    if (PACK(b, pad, 8, bw))                                  \
                        return -1;                                            \
                }                                                             \
                lit_n = 0;                                                    \
                continue;                                                     \
            }                                                                 \
            if (i >= n)                                                       \
                break;                                                        \
            if (run >= 8) {                                                   \
                uint8_t val[4];                                               \
                for (size_t k = 0; k < vbytes; k++)                           \
                    val[k] = (uint8_t)((uint32_t)v[i] >> (8 * k));            \
                if (put_uvarint(b, (uint64_t)run << 1) ||                     \
                    pq_buf_append(b, val, vbytes))                            \
                    return -1;                                                \
                i += run;                                                     \
                continue;                                                     \
            }                                                                 \
            /* Literal: take a group of 8 (or what is left). */               \
            int64_t take = n - i < 8 ? n - i : 8;                             \
            if (lit_n == 0)                                                   \
                lit_start = i;                                                \
            lit_n += take;                                                    \
            i += take;                                                        \
            if (take < 8) {                                                   \
                continue;                                                     \
            }                                                                 \
        }                                                                     \
        return 0;                                                             \
    }

DEFINE_RLE_ENC(pq_rle_encode_u32, uint32_t, pack_u32)
DEFINE_RLE_ENC(pq_rle_encode_u8, uint8_t, pack_u8)

/* ---- PLAIN ---- */

int pq_plain_ba_decode(const uint8_t *p, size_t len, int64_t n, pq_view *out,
                       size_t *used, const char **why)
{
    size_t pos = 0;
    for (int64_t i = 0; i < n; i++) {
        if (len - pos < 4) {
            *why = "PLAIN byte array data ends early";
            return -1;
        }
        uint32_t l = (uint32_t)p[pos] | (uint32_t)p[pos + 1] << 8 |
                     (uint32_t)p[pos + 2] << 16 | (uint32_t)p[pos + 3] << 24;
        pos += 4;
        if (l > len - pos) {
            *why = "PLAIN byte array length beyond the end of the page";
            return -1;
        }
        out[i].off = pos;
        out[i].len = l;
        pos += l;
    }
    if (used)
        *used = pos;
    return 0;
}

int pq_plain_bool_decode(const uint8_t *p, size_t len, int64_t n, uint8_t *out,
                         const char **why)
{
    if ((uint64_t)(n + 7) / 8 > len) {
        *why = "PLAIN boolean data ends early";
        return -1;
    }
    for (int64_t i = 0; i < n; i++)
        out[i] = (p[i >> 3] >> (i & 7)) & 1;
    return 0;
}

/* ---- DELTA_BINARY_PACKED ---- */

typedef struct delta_hdr {
    uint64_t block, minis, count;
    int64_t first;
    size_t pos;
} delta_hdr;

static int delta_header(const uint8_t *p, size_t len, delta_hdr *h,
                        const char **why)
{
    uint64_t first;
    h->pos = 0;
    if (uvarint(p, len, &h->pos, &h->block) || uvarint(p, len, &h->pos, &h->minis) ||
        uvarint(p, len, &h->pos, &h->count) || uvarint(p, len, &h->pos, &first)) {
        *why = "DELTA_BINARY_PACKED header ends early";
        return -1;
    }
    h->first = (int64_t)(first >> 1) ^ -(int64_t)(first & 1);
    if (h->block == 0 || h->block > (1u << 20) || h->minis == 0 ||
        h->block % h->minis != 0 || (h->block / h->minis) % 8 != 0) {
        *why = "DELTA_BINARY_PACKED block layout is invalid";
        return -1;
    }
    return 0;
}

int pq_delta_count(const uint8_t *p, size_t len, int64_t *count,
                   const char **why)
{
    delta_hdr h;
    if (delta_header(p, len, &h, why) < 0)
        return -1;
    if (h.count > INT64_MAX / 2) {
        *why = "DELTA_BINARY_PACKED value count out of range";
        return -1;
    }
    *count = (int64_t)h.count;
    return 0;
}

/* Reads value i (bw <= 64 bits) of a bit-packed miniblock at p. */
static inline uint64_t unpack_one(const uint8_t *p, size_t avail, int bw, uint64_t i)
{
    uint64_t bit = i * (uint64_t)bw;
    size_t byte = (size_t)(bit >> 3);
    int sh = (int)(bit & 7);
    uint64_t v = load64(p + byte, avail - byte) >> sh;
    if (sh + bw > 64)
        v |= (uint64_t)(avail - byte > 8 ? p[byte + 8] : 0) << (64 - sh);
    return bw == 64 ? v : v & (((uint64_t)1 << bw) - 1);
}

int pq_delta_decode(const uint8_t *p, size_t len, int64_t n, int64_t *out,
                    size_t *used, const char **why)
{
    delta_hdr h;
    if (delta_header(p, len, &h, why) < 0)
        return -1;
    if (h.count < (uint64_t)n) {
        *why = "DELTA_BINARY_PACKED has fewer values than the page";
        return -1;
    }
    size_t pos = h.pos;
    uint64_t per_mini = h.block / h.minis;
    uint64_t last = (uint64_t)h.first;
    uint64_t total = h.count; /* decode all to find the end of the run */
    uint64_t got = 0;
    if (total > 0) {
        if (n > 0)
            out[0] = h.first;
        got = 1;
    }
    while (got < total) {
        uint64_t md;
        if (uvarint(p, len, &pos, &md)) {
            *why = "DELTA_BINARY_PACKED block header ends early";
            return -1;
        }
        uint64_t min_delta = (uint64_t)((int64_t)(md >> 1) ^ -(int64_t)(md & 1));
        if (h.minis > len - pos) {
            *why = "DELTA_BINARY_PACKED bit widths end early";
            return -1;
        }
        const uint8_t *widths = p + pos;
        pos += h.minis;
        for (uint64_t m = 0; m < h.minis && got < total; m++) {
            int bw = widths[m];
            if (bw > 64) {
                *why = "DELTA_BINARY_PACKED bit width above 64";
                return -1;
            }
            uint64_t bytes = per_mini * (uint64_t)bw / 8;
            uint64_t take = total - got < per_mini ? total - got : per_mini;
            /* The last miniblock may be stored without its padding. */
            uint64_t need = (take * (uint64_t)bw + 7) / 8;
            if (need > len - pos) {
                *why = "DELTA_BINARY_PACKED miniblock ends early";
                return -1;
            }
            /* Past the values the caller wants, only find the end. */
            for (uint64_t k = 0; k < take && got + k < (uint64_t)n; k++) {
                uint64_t d = bw ? unpack_one(p + pos, len - pos, bw, k) : 0;
                last += min_delta + d;
                out[got + k] = (int64_t)last;
            }
            got += take;
            pos += bytes < len - pos ? (size_t)bytes : len - pos;
        }
    }
    if (used)
        *used = pos;
    return 0;
}

static int pack_u64(pq_buf *b, const uint64_t *v, int64_t count, int bw)
{
    size_t bytes = (size_t)count * (size_t)bw / 8;
    if (pq_buf_reserve(b, bytes + 16) != 0)
        return -1;
    uint8_t *d = b->p + b->len;
    memset(d, 0, bytes);
    for (int64_t i = 0; i < count; i++)
        for (int k = 0; k < bw; k++)
            if ((v[i] >> k) & 1) {
                uint64_t bit = (uint64_t)i * (uint64_t)bw + (uint64_t)k;
                d[bit >> 3] |= (uint8_t)(1u << (bit & 7));
            }
    b->len += bytes;
    return 0;
}

/* Block of 128 values in 4 miniblocks of 32 (what other writers use). */
int pq_delta_encode(pq_buf *b, const int64_t *v, int64_t n)
{
    enum { BLOCK = 128, MINIS = 4, PER = 32 };
    uint64_t deltas[BLOCK];
    if (put_uvarint(b, BLOCK) || put_uvarint(b, MINIS) || put_uvarint(b, (uint64_t)n) ||
        put_uvarint(b, n ? ((uint64_t)v[0] << 1) ^ (uint64_t)(v[0] >> 63) : 0))
        return -1;
    for (int64_t i = 1; i < n; i += BLOCK) {
        int64_t k = n - i < BLOCK ? n - i : BLOCK;
        int64_t min = INT64_MAX;
        for (int64_t j = 0; j < k; j++) {
            int64_t d = (int64_t)((uint64_t)v[i + j] - (uint64_t)v[i + j - 1]);
            deltas[j] = (uint64_t)d;
            if (d < min)
                min = d;
        }
        for (int64_t j = 0; j < k; j++)
            deltas[j] -= (uint64_t)min;
        for (int64_t j = k; j < BLOCK; j++)
            deltas[j] = 0;
        uint8_t widths[MINIS];
        int used_minis = (int)((k + PER - 1) / PER);
        for (int m = 0; m < MINIS; m++) {
            uint64_t mx = 0;
            for (int j = 0; j < PER && m < used_minis; j++)
                mx |= deltas[m * PER + j];
            widths[m] = (uint8_t)pq_bit_width(mx);
        }
        if (put_uvarint(b, ((uint64_t)min << 1) ^ (uint64_t)(min >> 63)) ||
            pq_buf_append(b, widths, MINIS))
            return -1;
        for (int m = 0; m < used_minis; m++)
            if (pack_u64(b, deltas + m * PER, PER, widths[m]))
                return -1;
    }
    return 0;
}

/* ---- DELTA_LENGTH_BYTE_ARRAY / DELTA_BYTE_ARRAY ---- */

int pq_dlba_decode(const uint8_t *p, size_t len, int64_t n, int64_t *lens,
                   pq_view *out, const char **why)
{
    size_t pos;
    if (pq_delta_decode(p, len, n, lens, &pos, why) < 0)
        return -1;
    for (int64_t i = 0; i < n; i++) {
        if (lens[i] < 0 || (uint64_t)lens[i] > len - pos) {
            *why = "DELTA_LENGTH_BYTE_ARRAY length beyond the end of the page";
            return -1;
        }
        out[i].off = pos;
        out[i].len = (uint32_t)lens[i];
        pos += (size_t)lens[i];
    }
    return 0;
}

int pq_dba_decode(const uint8_t *p, size_t len, int64_t n, int64_t *scratch,
                  pq_buf *data, pq_view *out, const char **why)
{
    size_t pos;
    int64_t *prefix = scratch, *slen = scratch + n;
    data->len = 0;
    if (pq_delta_decode(p, len, n, prefix, &pos, why) < 0)
        return -1;
    if (pq_dlba_decode(p + pos, len - pos, n, slen, out, why) < 0)
        return -1;
    uint64_t prev_off = 0, prev_len = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t pl = prefix[i];
        if (pl < 0 || (uint64_t)pl > prev_len) {
            *why = "DELTA_BYTE_ARRAY prefix longer than the previous value";
            return -1;
        }
        uint64_t total = (uint64_t)pl + out[i].len;
        if (total > UINT32_MAX || pq_buf_reserve(data, (size_t)total) != 0) {
            *why = total > UINT32_MAX ? "DELTA_BYTE_ARRAY value too long" : "out of memory";
            return -1;
        }
        uint8_t *d = data->p + data->len;
        if (pl)
            memmove(d, data->p + prev_off, (size_t)pl);
        if (out[i].len)
            memcpy(d + pl, p + pos + out[i].off, out[i].len);
        prev_off = data->len;
        prev_len = total;
        out[i].off = data->len;
        out[i].len = (uint32_t)total;
        data->len += (size_t)total;
    }
    return 0;
}

int pq_dlba_encode(pq_buf *b, const uint8_t *base, const pq_view *v, int64_t n)
{
    pq_buf lens = {0};
    int rc = -1;
    if (pq_buf_reserve(&lens, (size_t)n * sizeof(int64_t) + 1) != 0)
        return -1;
    int64_t *l = (int64_t *)(void *)lens.p;
    for (int64_t i = 0; i < n; i++)
        l[i] = v[i].len;
    if (pq_delta_encode(b, l, n) != 0)
        goto out;
    for (int64_t i = 0; i < n; i++)
        if (pq_buf_append(b, base + v[i].off, v[i].len) != 0)
            goto out;
    rc = 0;
out:
    pq_buf_free(&lens);
    return rc;
}

/* ---- BYTE_STREAM_SPLIT ---- */

int pq_bss_decode(const uint8_t *p, size_t len, int64_t n, int w, uint8_t *out,
                  const char **why)
{
    if (w <= 0 || (uint64_t)n * (uint64_t)w > len) {
        *why = "BYTE_STREAM_SPLIT data ends early";
        return -1;
    }
    /* Stream k holds byte k of every value. */
    size_t stride = (size_t)n;
    for (int k = 0; k < w; k++) {
        const uint8_t *s = p + (size_t)k * stride;
        for (int64_t i = 0; i < n; i++)
            out[(size_t)i * (size_t)w + (size_t)k] = s[i];
    }
    return 0;
}

int pq_bss_encode(pq_buf *b, const uint8_t *v, int64_t n, int w)
{
    size_t total = (size_t)n * (size_t)w;
    if (pq_buf_reserve(b, total) != 0)
        return -1;
    uint8_t *d = b->p + b->len;
    for (int k = 0; k < w; k++)
        for (int64_t i = 0; i < n; i++)
            d[(size_t)k * (size_t)n + (size_t)i] = v[(size_t)i * (size_t)w + (size_t)k];
    b->len += total;
    return 0;
}
