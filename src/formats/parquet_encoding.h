/*
 * parquet_encoding.h: Parquet value and level encodings (internal to
 * src/formats/): PLAIN, the RLE/bit-packed hybrid (levels, dictionary
 * indices, RLE booleans), DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY,
 * DELTA_BYTE_ARRAY (decode), BYTE_STREAM_SPLIT.
 *
 * Decoders take (pointer, length) and never read outside it; each returns
 * 0 or -1 with *why set to a static message. Byte-array values come out as
 * pq_view entries (offset + length relative to a base pointer the decoder
 * reports) so PLAIN pages are decoded without copying the bytes.
 * Encoders append to a pq_buf and return 0 or -1 (out of memory).
 */
#ifndef SL_PQ_ENCODING_H
#define SL_PQ_ENCODING_H

#include <stddef.h>
#include <stdint.h>

#include "codec.h"

typedef struct pq_view {
    uint64_t off;
    uint32_t len;
} pq_view;

/* Bits needed to store v (0 for 0). */
int pq_bit_width(uint64_t v);

/* ---- RLE / bit-packed hybrid ---- */
/* Decodes exactly n values of bit_width (0..32) from p[0..len). *used =
 * bytes consumed (may be < len). */
int pq_rle_decode(const uint8_t *p, size_t len, int bit_width, uint32_t *out,
                  int64_t n, size_t *used, const char **why);
/* Same into bytes (levels; bit_width <= 8). */
int pq_rle_decode_u8(const uint8_t *p, size_t len, int bit_width, uint8_t *out,
                     int64_t n, size_t *used, const char **why);
/* Encodes n values (each < 2^bit_width, bit_width 0..32). */
int pq_rle_encode_u32(pq_buf *b, const uint32_t *v, int64_t n, int bit_width);
int pq_rle_encode_u8(pq_buf *b, const uint8_t *v, int64_t n, int bit_width);

/* ---- PLAIN ---- */
/* BYTE_ARRAY: n length-prefixed values; views are relative to p. */
int pq_plain_ba_decode(const uint8_t *p, size_t len, int64_t n, pq_view *out,
                       size_t *used, const char **why);
/* BOOLEAN: n bit-packed values (LSB first) into bytes 0/1. */
int pq_plain_bool_decode(const uint8_t *p, size_t len, int64_t n, uint8_t *out,
                         const char **why);

/* ---- DELTA_BINARY_PACKED ---- */
/* Decodes exactly n values (the header's count must be >= n; values are
 * computed modulo 2^64, so INT32 callers truncate). *used = bytes of the
 * whole encoded run, so the caller can find what follows it. */
int pq_delta_decode(const uint8_t *p, size_t len, int64_t n, int64_t *out,
                    size_t *used, const char **why);
/* Reads only the header's value count. */
int pq_delta_count(const uint8_t *p, size_t len, int64_t *count,
                   const char **why);
int pq_delta_encode(pq_buf *b, const int64_t *v, int64_t n);

/* ---- DELTA_LENGTH_BYTE_ARRAY / DELTA_BYTE_ARRAY ---- */
/* DLBA: views relative to p. lens is scratch of n entries. */
int pq_dlba_decode(const uint8_t *p, size_t len, int64_t n, int64_t *lens,
                   pq_view *out, const char **why);
/* DBA: values are rebuilt into data (reset first); views relative to
 * data->p. scratch must hold 2 * n entries. */
int pq_dba_decode(const uint8_t *p, size_t len, int64_t n, int64_t *scratch,
                  pq_buf *data, pq_view *out, const char **why);
int pq_dlba_encode(pq_buf *b, const uint8_t *base, const pq_view *v,
                   int64_t n);

/* ---- BYTE_STREAM_SPLIT ---- */
/* n values of width w bytes: out[i*w + k] = p[k*n + i]. */
int pq_bss_decode(const uint8_t *p, size_t len, int64_t n, int w, uint8_t *out,
                  const char **why);
int pq_bss_encode(pq_buf *b, const uint8_t *v, int64_t n, int w);

#endif
