/*
 * serial.c: the byte-level encoding of model files (docs/design/ml.md):
 * little-endian integers, IEEE 754 floats by their bits, strings as a u32
 * length and bytes, and CRC-32 (the zlib/PNG polynomial) over the file.
 *
 * The writer has a sticky failure flag so payload writers can emit many
 * fields and check once; the reader checks every read against the buffer
 * and reports the byte offset of the problem.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "ml_internal.h"
#include "sluice/mem.h"

static void wbuf_put(sl_wbuf *w, const void *p, size_t n)
{
    if (w->failed || n == 0)
        return;
    if (w->n + n < w->n) {
        w->failed = 1;
        return;
    }
    if (w->n + n > w->cap) {
        void *b = w->p;
        if (sl_grow(&b, &w->cap, w->n + n, 1) != 0) {
            w->failed = 1;
            return;
        }
        w->p = b;
    }
    memcpy(w->p + w->n, p, n);
    w->n += n;
}

void sl_wbuf_bytes(sl_wbuf *w, const void *p, size_t n)
{
    wbuf_put(w, p, n);
}

void sl_wbuf_u8(sl_wbuf *w, uint8_t v)
{
    wbuf_put(w, &v, 1);
}

void sl_wbuf_u32(sl_wbuf *w, uint32_t v)
{
    uint8_t b[4];
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    wbuf_put(w, b, 4);
}

void sl_wbuf_u64(sl_wbuf *w, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    wbuf_put(w, b, 8);
}

void sl_wbuf_i32(sl_wbuf *w, int32_t v)
{
    sl_wbuf_u32(w, (uint32_t)v);
}

void sl_wbuf_f32(sl_wbuf *w, float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    sl_wbuf_u32(w, u);
}

void sl_wbuf_f64(sl_wbuf *w, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    sl_wbuf_u64(w, u);
}

void sl_wbuf_str(sl_wbuf *w, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    sl_wbuf_u32(w, (uint32_t)n);
    wbuf_put(w, s, n);
}

void sl_wbuf_f32s(sl_wbuf *w, const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sl_wbuf_f32(w, v[i]);
}

void sl_wbuf_f64s(sl_wbuf *w, const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sl_wbuf_f64(w, v[i]);
}

sl_rc sl_wbuf_status(const sl_wbuf *w, sl_err *err)
{
    if (w->failed)
        return sl_err_set(err, SL_ENOMEM,
                          "out of memory while encoding the model");
    return SL_OK;
}

sl_rc sl_rbuf_fail(sl_rbuf *r, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return sl_err_set(r->err, SL_EPARSE, "%s: corrupt model file: %s at byte %zu",
                      r->what ? r->what : "model", msg, r->pos);
}

static sl_rc rbuf_take(sl_rbuf *r, size_t n, const uint8_t **p)
{
    if (n > r->n - r->pos)
        return sl_rbuf_fail(r, "truncated (need %zu more bytes, %zu left)",
                            n, r->n - r->pos);
    *p = r->p + r->pos;
    r->pos += n;
    return SL_OK;
}

sl_rc sl_rbuf_u8(sl_rbuf *r, uint8_t *v)
{
    const uint8_t *p = NULL;
    sl_rc rc = rbuf_take(r, 1, &p);
    if (rc == SL_OK)
        *v = p[0];
    return rc;
}

sl_rc sl_rbuf_u32(sl_rbuf *r, uint32_t *v)
{
    const uint8_t *p = NULL;
    sl_rc rc = rbuf_take(r, 4, &p);
    if (rc != SL_OK)
        return rc;
    uint32_t x = 0;
    for (int i = 0; i < 4; i++)
        x |= (uint32_t)p[i] << (8 * i);
    *v = x;
    return SL_OK;
}

sl_rc sl_rbuf_u64(sl_rbuf *r, uint64_t *v)
{
    const uint8_t *p = NULL;
    sl_rc rc = rbuf_take(r, 8, &p);
    if (rc != SL_OK)
        return rc;
    uint64_t x = 0;
    for (int i = 0; i < 8; i++)
        x |= (uint64_t)p[i] << (8 * i);
    *v = x;
    return SL_OK;
}

sl_rc sl_rbuf_i32(sl_rbuf *r, int32_t *v)
{
    uint32_t u;
    sl_rc rc = sl_rbuf_u32(r, &u);
    if (rc == SL_OK)
        *v = (int32_t)u;
    return rc;
}

sl_rc sl_rbuf_f32(sl_rbuf *r, float *v)
{
    uint32_t u;
    sl_rc rc = sl_rbuf_u32(r, &u);
    if (rc == SL_OK)
        memcpy(v, &u, 4);
    return rc;
}

sl_rc sl_rbuf_f64(sl_rbuf *r, double *v)
{
    uint64_t u;
    sl_rc rc = sl_rbuf_u64(r, &u);
    if (rc == SL_OK)
        memcpy(v, &u, 8);
    return rc;
}

sl_rc sl_rbuf_count(sl_rbuf *r, const char *name, uint64_t max, size_t elem,
                    uint64_t *v)
{
    uint64_t c;
    sl_rc rc = sl_rbuf_u64(r, &c);
    if (rc != SL_OK)
        return rc;
    if (c > max)
        return sl_rbuf_fail(r, "%s %llu exceeds the limit %llu", name,
                            (unsigned long long)c, (unsigned long long)max);
    if (elem && c > (r->n - r->pos) / elem)
        return sl_rbuf_fail(r, "%s %llu does not fit in the %zu bytes left",
                            name, (unsigned long long)c, r->n - r->pos);
    *v = c;
    return SL_OK;
}

sl_rc sl_rbuf_str(sl_rbuf *r, char **s)
{
    uint32_t n;
    const uint8_t *p = NULL;
    sl_rc rc = sl_rbuf_u32(r, &n);
    if (rc == SL_OK)
        rc = rbuf_take(r, n, &p);
    if (rc != SL_OK)
        return rc;
    if (memchr(p, 0, n))
        return sl_rbuf_fail(r, "string with a NUL byte");
    *s = sl_strndup((const char *)p, n);
    if (!*s)
        return sl_err_set(r->err, SL_ENOMEM, "out of memory");
    return SL_OK;
}

sl_rc sl_rbuf_f32s(sl_rbuf *r, float *v, size_t n)
{
    if (n > (r->n - r->pos) / 4)
        return sl_rbuf_fail(r, "truncated (%zu floats expected)", n);
    for (size_t i = 0; i < n; i++)
        sl_rbuf_f32(r, &v[i]);
    return SL_OK;
}

sl_rc sl_rbuf_f64s(sl_rbuf *r, double *v, size_t n)
{
    if (n > (r->n - r->pos) / 8)
        return sl_rbuf_fail(r, "truncated (%zu doubles expected)", n);
    for (size_t i = 0; i < n; i++)
        sl_rbuf_f64(r, &v[i]);
    return SL_OK;
}

/* CRC-32 with the zlib/PNG polynomial, from zlib (already linked). */
uint32_t sl_crc32(uint32_t crc, const void *p, size_t n)
{
    const Bytef *b = p;
    while (n > 0) {
        uInt chunk = n > 0x40000000u ? 0x40000000u : (uInt)n;
        crc = (uint32_t)crc32(crc, b, chunk);
        b += chunk;
        n -= chunk;
    }
    return crc;
}
