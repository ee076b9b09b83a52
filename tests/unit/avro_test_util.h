/*
 * avro_test_util.h: a tiny Avro binary encoder for the unit tests' hand-
 * built files (what our writer never writes: int, float, bytes, enums,
 * fixed, decimals, nested values, odd schemas, corrupt blocks). Include
 * after cmocka.h.
 */
#ifndef SL_AVRO_TEST_UTIL_H
#define SL_AVRO_TEST_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static inline void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

typedef struct buf {
    uint8_t b[1 << 16];
    size_t n;
} buf;

static inline void b_raw(buf *o, const void *p, size_t n)
{
    assert_true(o->n + n <= sizeof o->b);
    memcpy(o->b + o->n, p, n);
    o->n += n;
}

static inline void b_long(buf *o, int64_t v)
{
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    while (z >= 0x80) {
        uint8_t c = (uint8_t)(z | 0x80);
        b_raw(o, &c, 1);
        z >>= 7;
    }
    uint8_t c = (uint8_t)z;
    b_raw(o, &c, 1);
}

static inline void b_bytes(buf *o, const void *p, size_t n)
{
    b_long(o, (int64_t)n);
    b_raw(o, p, n);
}

static inline void b_str(buf *o, const char *s)
{
    b_bytes(o, s, strlen(s));
}

static inline void b_double(buf *o, double v)
{
    b_raw(o, &v, 8);
}

static const uint8_t SYNC[16] = "0123456789abcdef";

/* An uncompressed container: header with `schema`, then one block of
 * `count` records already encoded in data (no block when count is 0). */
static inline void container(buf *out, const char *schema, const buf *data, int64_t count)
{
    out->n = 0;
    b_raw(out, "Obj\x01", 4);
    b_long(out, 1);
    b_str(out, "avro.schema");
    b_str(out, schema);
    b_long(out, 0);
    b_raw(out, SYNC, 16);
    if (count > 0) {
        b_long(out, count);
        b_long(out, (int64_t)data->n);
        b_raw(out, data->b, data->n);
        b_raw(out, SYNC, 16);
    }
}

#endif
