/*
 * strbuf.c: the growable text buffer (strbuf.h). Capacity doubles, so
 * appending n bytes in total costs O(n) copies.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sluice/mem.h"
#include "sluice/strbuf.h"
#include "sluice/value.h"

static int reserve(sl_strbuf *b, size_t more)
{
    if (b->failed)
        return -1;
    if (b->n + more + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + more + 1) {
        if (cap > ((size_t)-1) / 2) {
            b->failed = 1;
            return -1;
        }
        cap *= 2;
    }
    char *p = sl_realloc(b->p, cap);
    if (!p) {
        b->failed = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

void sl_sb_put(sl_strbuf *b, const char *s, size_t n)
{
    if (reserve(b, n) != 0)
        return;
    if (n)
        memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

void sl_sb_str(sl_strbuf *b, const char *s)
{
    sl_sb_put(b, s, strlen(s));
}

void sl_sb_char(sl_strbuf *b, char c)
{
    sl_sb_put(b, &c, 1);
}

void sl_sb_ensure(sl_strbuf *b)
{
    sl_sb_put(b, "", 0);
}

void sl_sb_printf(sl_strbuf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (k < 0) {
        b->failed = 1;
        return;
    }
    if ((size_t)k < sizeof small) {
        sl_sb_put(b, small, (size_t)k);
        return;
    }
    if (reserve(b, (size_t)k) != 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->n, (size_t)k + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)k;
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid
 * (bad lead byte, missing continuation, overlong, surrogate, > U+10FFFF). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t len;
    unsigned min;
    if (s[0] >= 0xC2 && s[0] <= 0xDF)
        len = 2, min = 0x80;
    else if (s[0] >= 0xE0 && s[0] <= 0xEF)
        len = 3, min = 0x800;
    else if (s[0] >= 0xF0 && s[0] <= 0xF4)
        len = 4, min = 0x10000;
    else
        return 0;
    if (len > n)
        return 0;
    unsigned cp = s[0] & (0x7F >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

void sl_sb_json_str(sl_strbuf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    /* worst case: every byte becomes \u00XX */
    if (reserve(b, n * 6 + 2) != 0)
        return;
    char *o = b->p + b->n;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
        } else if (c == '\n') {
            *o++ = '\\';
            *o++ = 'n';
        } else if (c == '\t') {
            *o++ = '\\';
            *o++ = 't';
        } else if (c == '\r') {
            *o++ = '\\';
            *o++ = 'r';
        } else if (c < 0x20) {
            memcpy(o, "\\u00", 4);
            o[4] = hex[c >> 4];
            o[5] = hex[c & 15];
            o += 6;
        } else if (c < 0x80) {
            *o++ = (char)c;
        } else {
            /* keep the output valid JSON: a byte that does not start a
             * valid UTF-8 sequence becomes U+FFFD */
            size_t k = utf8_len((const unsigned char *)s + i, n - i);
            if (k == 0) {
                memcpy(o, "\\ufffd", 6);
                o += 6;
            } else {
                memcpy(o, s + i, k);
                o += k;
                i += k - 1;
            }
        }
    }
    *o++ = '"';
    b->n = (size_t)(o - b->p);
    b->p[b->n] = '\0';
}

void sl_sb_json_double(sl_strbuf *b, double v)
{
    char buf[SL_FMT_MAX + 1];
    if (!isfinite(v)) {
        sl_sb_str(b, "null");
        return;
    }
    int k = sl_format_float64(v, buf);
    sl_sb_put(b, buf, (size_t)k);
}

char *sl_sb_take(sl_strbuf *b, size_t *len)
{
    char *p = b->failed ? NULL : b->p;
    if (len)
        *len = p ? b->n : 0;
    if (!p)
        sl_free(b->p);
    memset(b, 0, sizeof *b);
    return p;
}

void sl_sb_free(sl_strbuf *b)
{
    sl_free(b->p);
    memset(b, 0, sizeof *b);
}
