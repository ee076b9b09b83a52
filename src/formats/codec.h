/*
 * codec.h: page compression for Parquet (internal to src/formats/):
 * UNCOMPRESSED, SNAPPY (snappy-c), GZIP (zlib, gzip framing; concatenated
 * members accepted on read), ZSTD, LZ4_RAW (lz4 block) and, on read only,
 * the deprecated LZ4 codec (Hadoop framing, falling back to a raw block as
 * other readers do). Codec numbers are Parquet's CompressionCodec values.
 *
 * Also pq_buf, the growable byte buffer the Parquet writer and reader use
 * for pages and chunks (reused between pages: no per-page allocation once
 * warm).
 *
 * Decompression is bounded: before the output buffer is grown to the size
 * a page header declares, the declared size must be plausible for the
 * codec and the compressed length (exact for UNCOMPRESSED and SNAPPY, the
 * frame content size for ZSTD when present, else the codec's maximum
 * expansion ratio), and the result must have exactly the declared size.
 */
#ifndef SL_PQ_CODEC_H
#define SL_PQ_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "sluice/error.h"

typedef struct pq_buf {
    uint8_t *p;
    size_t len, cap;
} pq_buf;

/* 0 on success, -1 when out of memory (the buffer is kept). */
int pq_buf_reserve(pq_buf *b, size_t extra);
int pq_buf_append(pq_buf *b, const void *p, size_t n);
void pq_buf_free(pq_buf *b);

/* Per-stream codec state (zstd/zlib contexts, created on first use). */
typedef struct pq_codec {
    void *zc;   /* ZSTD_CCtx */
    void *zd;   /* ZSTD_DCtx */
    int level;  /* compression level; 0 = the codec's default */
} pq_codec;

void pq_codec_free(pq_codec *c);
/* 1 if this build can decompress / compress the codec. */
int pq_codec_can_read(int codec);
int pq_codec_can_write(int codec);
/* Appends the compressed form of src[0..n) to out. */
sl_rc pq_compress(pq_codec *c, int codec, const uint8_t *src, size_t n,
                  pq_buf *out, sl_err *err);
/* Decompresses src[0..n) into out (out->len = out_n on success, old
 * contents discarded). Fails unless the result is exactly out_n bytes. */
sl_rc pq_decompress(pq_codec *c, int codec, const uint8_t *src, size_t n,
                    size_t out_n, pq_buf *out, sl_err *err);

#endif
