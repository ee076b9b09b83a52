/*
 * avro_codec.c: block codecs of Avro object container files: null,
 * deflate (raw RFC 1951, no zlib header), snappy (followed by the CRC32
 * of the uncompressed data, big-endian) and zstandard (frames).
 *
 * Bounds: a block never decompresses to more than `max` bytes, and the
 * output buffer grows with the data actually produced (it is never sized
 * from a length the input merely claims beyond what the compressed size
 * can plausibly expand to), so a small corrupt block cannot make the
 * reader allocate much. Snappy's claimed length must be within its
 * maximum expansion ratio and is validated before allocation.
 */
#include <snappy-c.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>
#include <zstd.h>

#include "avro_internal.h"
#include "sluice/mem.h"

static sl_rc nomem(sl_err *err)
{
    return sl_err_set(err, SL_ENOMEM, "out of memory");
}

static sl_rc corrupt(sl_err *err, const char *what)
{
    return sl_err_set(err, SL_EPARSE, "corrupt block: %s", what);
}

static sl_rc too_big(sl_err *err, size_t max)
{
    return sl_err_set(err, SL_ELIMIT, "a block decompresses to more than %zu bytes", max);
}

sl_rc av_codec_parse(const char *name, size_t n, av_codec *out, sl_err *err)
{
    static const struct {
        const char *name;
        av_codec c;
    } names[] = {{"null", AV_CODEC_NULL},     {"deflate", AV_CODEC_DEFLATE},
                 {"snappy", AV_CODEC_SNAPPY}, {"zstandard", AV_CODEC_ZSTD},
                 {"zstd", AV_CODEC_ZSTD}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i].name) == n && !memcmp(names[i].name, name, n)) {
            *out = names[i].c;
            return SL_OK;
        }
    return sl_err_set(err, SL_EUNSUPPORTED, "codec '%.*s' is not supported (this build reads null, "
                                            "deflate, snappy and zstandard)",
                      (int)(n > 64 ? 64 : n), name);
}

const char *av_codec_name(av_codec c)
{
    static const char *const n[] = {"null", "deflate", "snappy", "zstandard"};
    return n[c];
}

sl_rc sl_avro_codec_parse(const char *name, sl_avro_codec *out)
{
    if (!strcasecmp(name, "null") || !strcasecmp(name, "none") || !strcasecmp(name, "uncompressed"))
        *out = SL_AVRO_NULL;
    else if (!strcasecmp(name, "deflate"))
        *out = SL_AVRO_DEFLATE;
    else if (!strcasecmp(name, "snappy"))
        *out = SL_AVRO_SNAPPY;
    else if (!strcasecmp(name, "zstandard") || !strcasecmp(name, "zstd"))
        *out = SL_AVRO_ZSTANDARD;
    else
        return SL_ENOTFOUND;
    return SL_OK;
}

/* zlib allocates through sl_malloc so allocation-failure tests reach it. */
static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
    (void)opaque;
    return sl_malloc((size_t)items * size);
}

static void z_free(voidpf opaque, voidpf p)
{
    (void)opaque;
    sl_free(p);
}

void av_codec_state_free(av_codec_state *s)
{
    ZSTD_freeDCtx(s->zd);
    ZSTD_freeCCtx(s->zc);
    if (s->inf) {
        inflateEnd(s->inf);
        sl_free(s->inf);
    }
    if (s->def) {
        deflateEnd(s->def);
        sl_free(s->def);
    }
    memset(s, 0, sizeof *s);
}

/* Grows out to hold at least `want` more bytes, never past max + 1 (one
 * byte over max detects overflow). */
static sl_rc grow(pq_buf *out, size_t want, size_t max, sl_err *err)
{
    size_t room = out->cap - out->len;
    if (out->p && room >= want)
        return SL_OK;
    if (out->len >= max + 1)
        return too_big(err, max);
    size_t add = out->cap > want ? out->cap : want; /* doubling */
    if (add > max + 1 - out->len)
        add = max + 1 - out->len;
    return pq_buf_reserve(out, add) == 0 ? SL_OK : nomem(err);
}

static sl_rc inflate_block(av_codec_state *s, const uint8_t *src, size_t n, size_t max,
                           pq_buf *out, sl_err *err)
{
    z_stream *z = s->inf;
    if (!z) {
        if (!(z = sl_calloc(1, sizeof *z)))
            return nomem(err);
        z->zalloc = z_alloc;
        z->zfree = z_free;
        if (inflateInit2(z, -15) != Z_OK) {
            sl_free(z);
            return nomem(err);
        }
        s->inf = z;
    } else if (inflateReset(z) != Z_OK) {
        return corrupt(err, "inflate reset failed");
    }
    z->next_in = (Bytef *)src;
    z->avail_in = (uInt)n;
    for (;;) {
        sl_rc rc = grow(out, n < 65536 ? 65536 : n * 2, max, err);
        if (rc != SL_OK)
            return rc;
        size_t room = out->cap - out->len;
        if (room > UINT32_MAX)
            room = UINT32_MAX;
        z->next_out = out->p + out->len;
        z->avail_out = (uInt)room;
        int zr = inflate(z, Z_NO_FLUSH);
        out->len += room - z->avail_out;
        if (out->len > max)
            return too_big(err, max);
        if (zr == Z_STREAM_END)
            return SL_OK;
        if (zr == Z_MEM_ERROR)
            return nomem(err);
        if (zr == Z_BUF_ERROR && z->avail_in == 0)
            return corrupt(err, "truncated deflate data");
        if (zr != Z_OK && zr != Z_BUF_ERROR)
            return corrupt(err, "invalid deflate data");
        if (z->avail_in == 0 && z->avail_out != 0)
            return corrupt(err, "truncated deflate data");
    }
}

static sl_rc zstd_block(av_codec_state *s, const uint8_t *src, size_t n, size_t max, pq_buf *out,
                        sl_err *err)
{
    if (!s->zd && !(s->zd = ZSTD_createDCtx()))
        return nomem(err);
    ZSTD_DCtx_reset(s->zd, ZSTD_reset_session_only);
    unsigned long long cs = ZSTD_getFrameContentSize(src, n);
    size_t first = n < 65536 ? 65536 : n * 4;
    /* trust a declared size only as far as data could plausibly expand */
    if (cs != ZSTD_CONTENTSIZE_UNKNOWN && cs != ZSTD_CONTENTSIZE_ERROR && cs < first * 8)
        first = (size_t)cs + 1;
    ZSTD_inBuffer in = {src, n, 0};
    size_t zr = 1;
    while (in.pos < in.size || zr != 0) {
        sl_rc rc = grow(out, first, max, err);
        if (rc != SL_OK)
            return rc;
        ZSTD_outBuffer ob = {out->p + out->len, out->cap - out->len, 0};
        zr = ZSTD_decompressStream(s->zd, &ob, &in);
        out->len += ob.pos;
        if (ZSTD_isError(zr))
            return corrupt(err, ZSTD_getErrorName(zr));
        if (out->len > max)
            return too_big(err, max);
        if (in.pos == in.size && zr != 0 && ob.pos < ob.size)
            return corrupt(err, "truncated zstandard frame");
    }
    return SL_OK;
}

static sl_rc snappy_block(const uint8_t *src, size_t n, size_t max, pq_buf *out, sl_err *err)
{
    size_t len;
    if (n < 4)
        return corrupt(err, "snappy block shorter than its checksum");
    n -= 4;
    if (snappy_uncompressed_length((const char *)src, n, &len) != SNAPPY_OK)
        return corrupt(err, "invalid snappy header");
    if (len > max)
        return too_big(err, max);
    /* a snappy copy element of 3 bytes yields at most 64 */
    if (len > n / 3 * 64 + 64 ||
        snappy_validate_compressed_buffer((const char *)src, n) != SNAPPY_OK)
        return corrupt(err, "invalid snappy data");
    if (pq_buf_reserve(out, len + 1) != 0)
        return nomem(err);
    size_t got = len;
    if (snappy_uncompress((const char *)src, n, (char *)out->p, &got) != SNAPPY_OK || got != len)
        return corrupt(err, "invalid snappy data");
    out->len = len;
    uint32_t want = (uint32_t)src[n] << 24 | (uint32_t)src[n + 1] << 16 |
                    (uint32_t)src[n + 2] << 8 | src[n + 3];
    if ((uint32_t)crc32(0L, out->p, (uInt)len) != want)
        return corrupt(err, "snappy block checksum mismatch");
    return SL_OK;
}

sl_rc av_decompress(av_codec_state *s, av_codec c, const uint8_t *src, size_t n, size_t max,
                    pq_buf *out, sl_err *err)
{
    out->len = 0;
    switch (c) {
    case AV_CODEC_DEFLATE: return inflate_block(s, src, n, max, out, err);
    case AV_CODEC_SNAPPY: return snappy_block(src, n, max, out, err);
    case AV_CODEC_ZSTD: return zstd_block(s, src, n, max, out, err);
    default:
        if (n > max)
            return too_big(err, max);
        return pq_buf_append(out, src, n) == 0 ? SL_OK : nomem(err);
    }
}

static sl_rc deflate_block(av_codec_state *s, int level, const uint8_t *src, size_t n,
                           pq_buf *out, sl_err *err)
{
    z_stream *z = s->def;
    if (z && s->def_level != level) {
        deflateEnd(z);
        sl_free(z);
        s->def = z = NULL;
    }
    if (!z) {
        if (!(z = sl_calloc(1, sizeof *z)))
            return nomem(err);
        z->zalloc = z_alloc;
        z->zfree = z_free;
        if (deflateInit2(z, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
            sl_free(z);
            return nomem(err);
        }
        s->def = z;
        s->def_level = level;
    } else if (deflateReset(z) != Z_OK) {
        return nomem(err);
    }
    size_t bound = deflateBound(z, (uLong)n);
    if (pq_buf_reserve(out, bound) != 0)
        return nomem(err);
    z->next_in = (Bytef *)src;
    z->avail_in = (uInt)n;
    z->next_out = out->p + out->len;
    z->avail_out = (uInt)bound;
    int zr = deflate(z, Z_FINISH);
    if (zr != Z_STREAM_END)
        return zr == Z_MEM_ERROR ? nomem(err) : sl_err_set(err, SL_EINTERNAL, "deflate failed");
    out->len += bound - z->avail_out;
    return SL_OK;
}

sl_rc av_compress(av_codec_state *s, av_codec c, int level, const uint8_t *src, size_t n,
                  pq_buf *out, sl_err *err)
{
    switch (c) {
    case AV_CODEC_DEFLATE: return deflate_block(s, level ? level : 6, src, n, out, err);
    case AV_CODEC_SNAPPY: {
        size_t cap = snappy_max_compressed_length(n);
        if (pq_buf_reserve(out, cap + 4) != 0)
            return nomem(err);
        if (snappy_compress((const char *)src, n, (char *)out->p + out->len, &cap) != SNAPPY_OK)
            return sl_err_set(err, SL_EINTERNAL, "snappy compression failed");
        out->len += cap;
        uint32_t crc = (uint32_t)crc32(0L, src, (uInt)n);
        uint8_t t[4] = {(uint8_t)(crc >> 24), (uint8_t)(crc >> 16), (uint8_t)(crc >> 8),
                        (uint8_t)crc};
        return pq_buf_append(out, t, 4) == 0 ? SL_OK : nomem(err);
    }
    case AV_CODEC_ZSTD: {
        if (!s->zc && !(s->zc = ZSTD_createCCtx()))
            return nomem(err);
        size_t cap = ZSTD_compressBound(n);
        if (pq_buf_reserve(out, cap) != 0)
            return nomem(err);
        size_t r = ZSTD_compressCCtx(s->zc, out->p + out->len, cap, src, n, level ? level : 3);
        if (ZSTD_isError(r))
            return sl_err_set(err, SL_EINTERNAL, "zstd: %s", ZSTD_getErrorName(r));
        out->len += r;
        return SL_OK;
    }
    default: return pq_buf_append(out, src, n) == 0 ? SL_OK : nomem(err);
    }
}
