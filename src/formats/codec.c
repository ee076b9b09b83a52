/*
 * codec.c: Parquet page codecs over snappy, zlib, zstd and lz4 (see
 * codec.h), and the pq_buf growable buffer.
 *
 * Bounds: every decompressor writes into a buffer of exactly the declared
 * size and fails if the data would produce more or less. The declared size
 * is checked for plausibility first (see max_ratio), so a 100-byte page
 * cannot make the reader allocate gigabytes.
 */
#include "codec.h"

#include <lz4.h>
#include <snappy-c.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "sluice/mem.h"

int pq_buf_reserve(pq_buf *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len - 64)
        return -1;
    if (b->len + extra <= b->cap && b->p)
        return 0;
    if (extra < 64)
        extra = 64; /* b->p is never NULL after a successful reserve */
    void *p = b->p;
    size_t cap = b->cap;
    if (sl_grow(&p, &cap, b->len + extra, 1) != 0)
        return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

int pq_buf_append(pq_buf *b, const void *p, size_t n)
{
    if (pq_buf_reserve(b, n) != 0)
        return -1;
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
    return 0;
}

void pq_buf_free(pq_buf *b)
{
    sl_free(b->p);
    memset(b, 0, sizeof *b);
}

void pq_codec_free(pq_codec *c)
{
    ZSTD_freeCCtx(c->zc);
    ZSTD_freeDCtx(c->zd);
    c->zc = c->zd = NULL;
}

int pq_codec_can_read(int codec)
{
    return codec == 0 || codec == 1 || codec == 2 || codec == 5 || codec == 6 ||
           codec == 7;
}

int pq_codec_can_write(int codec)
{
    return codec == 0 || codec == 1 || codec == 2 || codec == 6 || codec == 7;
}

static sl_rc nomem(sl_err *err)
{
    return sl_err_set(err, SL_ENOMEM, "out of memory");
}

static sl_rc gzip_compress(pq_codec *c, const uint8_t *src, size_t n, pq_buf *out,
                           sl_err *err)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    /* 15 + 16: gzip framing, which Parquet's GZIP codec means. */
    if (deflateInit2(&z, c->level ? c->level : Z_DEFAULT_COMPRESSION, Z_DEFLATED,
                     15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return nomem(err);
    sl_rc rc = SL_OK;
    uLong bound = deflateBound(&z, (uLong)n);
    if (pq_buf_reserve(out, bound) != 0) {
        rc = nomem(err);
        goto out;
    }
    z.next_in = (Bytef *)src;
    z.avail_in = (uInt)n;
    z.next_out = out->p + out->len;
    z.avail_out = (uInt)bound;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
        rc = sl_err_set(err, SL_EINTERNAL, "gzip compression failed");
        goto out;
    }
    out->len += z.total_out;
out:
    deflateEnd(&z);
    return rc;
}

sl_rc pq_compress(pq_codec *c, int codec, const uint8_t *src, size_t n,
                  pq_buf *out, sl_err *err)
{
    if (n > (size_t)INT32_MAX)
        return sl_err_set(err, SL_ELIMIT, "page of %zu bytes is too large", n);
    switch (codec) {
    case 0:
        return pq_buf_append(out, src, n) == 0 ? SL_OK : nomem(err);
    case 1: {
        size_t cap = snappy_max_compressed_length(n);
        if (pq_buf_reserve(out, cap) != 0)
            return nomem(err);
        if (snappy_compress((const char *)src, n, (char *)out->p + out->len, &cap) != SNAPPY_OK)
            return sl_err_set(err, SL_EINTERNAL, "snappy compression failed");
        out->len += cap;
        return SL_OK;
    }
    case 2:
        return gzip_compress(c, src, n, out, err);
    case 6: {
        if (!c->zc && !(c->zc = ZSTD_createCCtx()))
            return nomem(err);
        size_t cap = ZSTD_compressBound(n);
        if (pq_buf_reserve(out, cap) != 0)
            return nomem(err);
        size_t k = ZSTD_compressCCtx(c->zc, out->p + out->len, cap, src, n,
                                     c->level ? c->level : 1);
        if (ZSTD_isError(k))
            return sl_err_set(err, SL_EINTERNAL, "zstd compression failed: %s",
                              ZSTD_getErrorName(k));
        out->len += k;
        return SL_OK;
    }
    case 7: {
        int cap = LZ4_compressBound((int)n);
        if (cap <= 0 || pq_buf_reserve(out, (size_t)cap) != 0)
            return nomem(err);
        int k = LZ4_compress_default((const char *)src, (char *)out->p + out->len,
                                     (int)n, cap);
        if (k <= 0)
            return sl_err_set(err, SL_EINTERNAL, "lz4 compression failed");
        out->len += (size_t)k;
        return SL_OK;
    }
    default:
        return sl_err_set(err, SL_EUNSUPPORTED, "cannot write codec %d", codec);
    }
}

/* Largest plausible expansion of n compressed bytes. */
static int plausible(int codec, const uint8_t *src, size_t n, size_t out_n)
{
    switch (codec) {
    case 0:
        return out_n == n;
    case 1: {
        size_t len;
        return snappy_uncompressed_length((const char *)src, n, &len) == SNAPPY_OK &&
               len == out_n;
    }
    case 2: /* deflate expands at most 1032:1 */
        return out_n / 1032 <= n + 64;
    case 5:
    case 7: /* lz4 at most ~255:1 */
        return out_n / 255 <= n + 64;
    case 6: {
        /* The first frame's declared size; more frames may follow. */
        unsigned long long fcs = ZSTD_getFrameContentSize(src, n);
        if (fcs == ZSTD_CONTENTSIZE_ERROR || (fcs != ZSTD_CONTENTSIZE_UNKNOWN && fcs > out_n))
            return 0;
        if (fcs == out_n)
            return 1;
        return out_n / 32768 <= n + 64; /* RLE blocks: 128 KiB per 4 bytes */
    }
    default:
        return 0;
    }
}

static sl_rc gzip_decompress(const uint8_t *src, size_t n, uint8_t *dst,
                             size_t out_n, sl_err *err)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    /* 15 + 32: accept zlib or gzip headers. */
    if (inflateInit2(&z, 15 + 32) != Z_OK)
        return nomem(err);
    sl_rc rc = SL_OK;
    z.next_in = (Bytef *)src;
    z.avail_in = (uInt)n;
    z.next_out = dst;
    z.avail_out = (uInt)out_n;
    for (;;) {
        int zr = inflate(&z, Z_FINISH);
        if (zr == Z_STREAM_END) {
            /* Concatenated gzip members: continue with the next one
             * (inflateReset keeps next_out / avail_out). */
            if (z.avail_in > 0 && z.avail_out > 0 && inflateReset(&z) == Z_OK)
                continue;
            break;
        }
        if (zr == Z_BUF_ERROR && z.avail_out == 0)
            rc = sl_err_set(err, SL_EPARSE, "gzip data is larger than the page declares");
        else
            rc = sl_err_set(err, SL_EPARSE, "corrupt gzip data: %s",
                            z.msg ? z.msg : "inflate failed");
        goto out;
    }
    if (z.avail_out != 0)
        rc = sl_err_set(err, SL_EPARSE, "gzip data has %zu bytes, the page declares %zu",
                        out_n - z.avail_out, out_n);
out:
    inflateEnd(&z);
    return rc;
}

/* Hadoop's LZ4 framing: blocks of [BE u32 raw size][BE u32 compressed
 * size][lz4 block]. Returns 0 if the whole input decoded to exactly out_n. */
static int lz4_hadoop(const uint8_t *src, size_t n, uint8_t *dst, size_t out_n)
{
    size_t ip = 0, op = 0;
    while (ip < n) {
        if (n - ip < 8)
            return -1;
        uint32_t raw = (uint32_t)src[ip] << 24 | (uint32_t)src[ip + 1] << 16 |
                       (uint32_t)src[ip + 2] << 8 | src[ip + 3];
        uint32_t comp = (uint32_t)src[ip + 4] << 24 | (uint32_t)src[ip + 5] << 16 |
                        (uint32_t)src[ip + 6] << 8 | src[ip + 7];
        ip += 8;
        if (comp > n - ip || raw > out_n - op || comp > INT32_MAX || raw > INT32_MAX)
            return -1;
        int k = LZ4_decompress_safe((const char *)src + ip, (char *)dst + op, (int)comp,
                                    (int)raw);
        if (k < 0 || (uint32_t)k != raw)
            return -1;
        ip += comp;
        op += raw;
    }
    return op == out_n ? 0 : -1;
}

sl_rc pq_decompress(pq_codec *c, int codec, const uint8_t *src, size_t n,
                    size_t out_n, pq_buf *out, sl_err *err)
{
    out->len = 0;
    if (!pq_codec_can_read(codec))
        return sl_err_set(err, SL_EUNSUPPORTED, "unsupported compression codec %d", codec);
    if (out_n > (size_t)INT32_MAX || n > (size_t)INT32_MAX)
        return sl_err_set(err, SL_EPARSE, "page size out of range");
    /* An empty page body is never handed to the codec: some writers store
     * zero bytes where the codec would need a header (e.g. snappy). */
    if (out_n == 0 && (n == 0 || codec != 0)) {
        if (pq_buf_reserve(out, 1) != 0)
            return nomem(err);
        return SL_OK;
    }
    if (!plausible(codec, src, n, out_n))
        return sl_err_set(err, SL_EPARSE,
                          "corrupt page: %zu compressed bytes cannot hold the "
                          "declared %zu bytes",
                          n, out_n);
    if (pq_buf_reserve(out, out_n ? out_n : 1) != 0)
        return nomem(err);
    uint8_t *dst = out->p;
    sl_rc rc = SL_OK;
    switch (codec) {
    case 0:
        if (n)
            memcpy(dst, src, n);
        break;
    case 1: {
        size_t len = out_n;
        if (snappy_uncompress((const char *)src, n, (char *)dst, &len) != SNAPPY_OK ||
            len != out_n)
            rc = sl_err_set(err, SL_EPARSE, "corrupt snappy data");
        break;
    }
    case 2:
        rc = gzip_decompress(src, n, dst, out_n, err);
        break;
    case 5:
    case 7: {
        /* LZ4 (deprecated) is Hadoop-framed, or a raw block for some
         * writers; LZ4_RAW is a raw block. */
        if (codec == 5 && lz4_hadoop(src, n, dst, out_n) == 0)
            break;
        int k = LZ4_decompress_safe((const char *)src, (char *)dst, (int)n, (int)out_n);
        if (k < 0 || (size_t)k != out_n)
            rc = sl_err_set(err, SL_EPARSE, "corrupt lz4 data");
        break;
    }
    case 6: {
        if (!c->zd && !(c->zd = ZSTD_createDCtx()))
            return nomem(err);
        size_t k = ZSTD_decompressDCtx(c->zd, dst, out_n, src, n);
        if (ZSTD_isError(k))
            rc = sl_err_set(err, SL_EPARSE, "corrupt zstd data: %s", ZSTD_getErrorName(k));
        else if (k != out_n)
            rc = sl_err_set(err, SL_EPARSE, "zstd data has %zu bytes, the page declares %zu",
                            k, out_n);
        break;
    }
    }
    if (rc == SL_OK)
        out->len = out_n;
    return rc;
}
