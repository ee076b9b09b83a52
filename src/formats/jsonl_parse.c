/*
 * jsonl_parse.c: the JSON scanning primitives of the JSON Lines reader
 * (strings, numbers, literals, skipping whole values) and its name table.
 *
 * Everything here works on one line under the sentinel contract of
 * jsonl_internal.h (NUL at end, JL_PAD readable bytes after it), so the
 * inner loops need no bounds checks: every loop stops at a byte the NUL
 * sentinel cannot match, and multi-byte reads past a stop byte stay inside
 * the padding. Nothing here allocates except the name table.
 *
 * Strings are validated completely (RFC 8259 plus well-formed UTF-8 as in
 * Unicode table 3-7: no overlongs, no surrogates, nothing above U+10FFFF)
 * because string columns must only ever hold valid UTF-8.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "jsonl_internal.h"
#include "sluice/jsonl.h"
#include "sluice/mem.h"
#include "sluice/value.h"

const char *jl_fail(jl_perr *e, const char *pos, sl_rc code, const char *fmt,
                    ...)
{
    va_list ap;
    e->pos = pos;
    e->code = code;
    e->field[0] = '\0';
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return NULL;
}

void jl_excerpt(const char *p, const char *end, char *buf, size_t cap)
{
    size_t n = (size_t)(end - p), i;
    size_t lim = cap > 4 ? cap - 4 : 0;
    if (lim > 40)
        lim = 40;
    for (i = 0; i < n && i < lim; i++) {
        unsigned char c = (unsigned char)p[i];
        buf[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    if (i < n && i >= 3) {
        memcpy(buf + i, "...", 3);
        i += 3;
    }
    buf[i] = '\0';
}

/* ---- strings ---- */

#define ONES 0x0101010101010101ULL
#define HIGH 0x8080808080808080ULL

/* Nonzero when one of the 8 bytes of w needs attention in a string:
 * '"', '\\', a control character (< 0x20, incl. the NUL sentinel) or a
 * non-ASCII byte. Exact as a yes/no answer (the usual has-zero-byte trick
 * can only add false positives above a true one). */
static inline uint64_t special8(uint64_t w)
{
    uint64_t q = w ^ (ONES * '"');
    uint64_t b = w ^ (ONES * '\\');
    uint64_t zq = (q - ONES) & ~q;
    uint64_t zb = (b - ONES) & ~b;
    uint64_t lt = (w - ONES * 0x20) & ~w;
    return (zq | zb | lt | w) & HIGH;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Four hex digits at p, or -1. Stops at the first non-hex byte, so the
 * sentinel is never passed. */
static long hex4(const char *p)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(p[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

static char *put_utf8(char *d, unsigned long cp)
{
    if (cp < 0x80) {
        *d++ = (char)cp;
    } else if (cp < 0x800) {
        *d++ = (char)(0xC0 | (cp >> 6));
        *d++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *d++ = (char)(0xE0 | (cp >> 12));
        *d++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *d++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *d++ = (char)(0xF0 | (cp >> 18));
        *d++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *d++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *d++ = (char)(0x80 | (cp & 0x3F));
    }
    return d;
}

int jl_utf8_len(const unsigned char *s, size_t avail)
{
    unsigned char c = s[0];
    unsigned char lo = 0x80, hi = 0xBF;
    size_t len;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c == 0xED)
            hi = 0x9F; /* would encode a surrogate */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90; /* overlong */
        else if (c == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else {
        return 0;
    }
    if (len > avail || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return (int)len;
}

/* Handles the escape at p (p[0] == '\\'); returns the position after it. */
static const char *scan_escape(const char *p, const char *end, char **dp,
                               jl_perr *e)
{
    char *d = *dp;
    char c = p[1];
    switch (c) {
    case '"': *d++ = '"'; break;
    case '\\': *d++ = '\\'; break;
    case '/': *d++ = '/'; break;
    case 'b': *d++ = '\b'; break;
    case 'f': *d++ = '\f'; break;
    case 'n': *d++ = '\n'; break;
    case 'r': *d++ = '\r'; break;
    case 't': *d++ = '\t'; break;
    case 'u': {
        long cp = hex4(p + 2);
        if (cp < 0)
            return jl_fail(e, p, SL_EPARSE,
                           "invalid \\u escape (4 hex digits expected)");
        if (cp >= 0xDC00 && cp <= 0xDFFF)
            return jl_fail(e, p, SL_EPARSE,
                           "lone low surrogate \\u%04lX in string", cp);
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            long lo = p[6] == '\\' && p[7] == 'u' ? hex4(p + 8) : -1;
            if (lo < 0xDC00 || lo > 0xDFFF)
                return jl_fail(e, p, SL_EPARSE,
                               "lone high surrogate \\u%04lX in string "
                               "(a \\uDC00-\\uDFFF escape must follow)",
                               cp);
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            p += 6;
        }
        *dp = put_utf8(d, (unsigned long)cp);
        return p + 6;
    }
    default:
        if (p + 1 == end)
            return jl_fail(e, p, SL_EPARSE, "unterminated string");
        if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f)
            return jl_fail(e, p, SL_EPARSE, "invalid escape '\\%c' in string",
                           c);
        return jl_fail(e, p, SL_EPARSE,
                       "invalid escape (byte 0x%02X after '\\') in string",
                       (unsigned char)c);
    }
    *dp = d;
    return p + 2;
}

const char *jl_scan_string(const char *p, const char *end, char *dst,
                           size_t *n, jl_perr *e)
{
    char *d = dst;
    for (;;) {
        uint64_t w;
        memcpy(&w, p, 8);
        if (!special8(w)) {
            memcpy(d, &w, 8);
            d += 8;
            p += 8;
            continue;
        }
        unsigned char c = (unsigned char)*p;
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            *d++ = (char)c;
            p++;
        } else if (c == '"') {
            *n = (size_t)(d - dst);
            return p + 1;
        } else if (c == '\\') {
            p = scan_escape(p, end, &d, e);
            if (!p)
                return NULL;
        } else if (c >= 0x80) {
            int len = jl_utf8_len((const unsigned char *)p, (size_t)(end - p));
            if (!len)
                return jl_fail(e, p, SL_EPARSE,
                               "invalid UTF-8 (byte 0x%02X) in string", c);
            memcpy(d, p, (size_t)len);
            d += len;
            p += len;
        } else if (p == end) {
            return jl_fail(e, p, SL_EPARSE, "unterminated string");
        } else {
            return jl_fail(e, p, SL_EPARSE,
                           "control character 0x%02X in string must be "
                           "escaped",
                           c);
        }
    }
}

/* ---- numbers and literals ---- */

static inline int is_digit(char c)
{
    return (unsigned)((unsigned char)c - '0') < 10u;
}

const char *jl_scan_number(const char *p, const char *end, jl_num *num,
                           jl_perr *e)
{
    const char *s = p;
    uint64_t m = 0;
    int nd = 0, neg = 0;
    (void)end;
    if (*p == '-') {
        neg = 1;
        p++;
    }
    if (*p == '0') {
        p++;
        if (is_digit(*p))
            return jl_fail(e, s, SL_EPARSE,
                           "invalid number: leading zeros are not allowed");
    } else if (is_digit(*p)) {
        /* At most 19 digits accumulate: 19 nines still fit in uint64; a
         * longer integer is out of int64 range anyway. */
        for (; is_digit(*p); p++, nd++)
            if (nd < 19)
                m = m * 10 + (uint64_t)(*p - '0');
    } else {
        return jl_fail(e, s, SL_EPARSE, "invalid number");
    }
    num->is_int = 1;
    if (*p == '.') {
        num->is_int = 0;
        p++;
        if (!is_digit(*p))
            return jl_fail(e, s, SL_EPARSE,
                           "invalid number: digit expected after '.'");
        while (is_digit(*p))
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        num->is_int = 0;
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!is_digit(*p))
            return jl_fail(e, s, SL_EPARSE,
                           "invalid number: digit expected in exponent");
        while (is_digit(*p))
            p++;
    }
    if (!jl_is_delim(*p))
        return jl_fail(e, s, SL_EPARSE, "invalid number");
    num->s = s;
    num->len = (size_t)(p - s);
    num->fits = 0;
    if (num->is_int && nd <= 19) {
        /* INT64_MIN's magnitude is one more than INT64_MAX. */
        if (!neg && m <= (uint64_t)INT64_MAX) {
            num->i = (int64_t)m;
            num->fits = 1;
        } else if (neg && m <= (uint64_t)INT64_MAX + 1) {
            num->i = m == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)m;
            num->fits = 1;
        }
    }
    return p;
}

int jl_num_double(const jl_num *num, double *out, jl_perr *e)
{
    /* Integers below 2^53 convert exactly; -0 must stay negative zero. */
    if (num->fits && num->i > -(1LL << 53) && num->i < (1LL << 53) &&
        !(num->i == 0 && num->s[0] == '-')) {
        *out = (double)num->i;
        return 0;
    }
    /* The token passed the JSON grammar, a subset of what
     * sl_parse_float64 accepts, so it only fails when the long-number
     * path cannot allocate. */
    if (sl_parse_float64(num->s, num->len, out) != 0) {
        jl_fail(e, num->s, SL_ENOMEM, "out of memory");
        return -1;
    }
    return 0;
}

const char *jl_scan_literal(const char *p, const char *end, int *v,
                            jl_perr *e)
{
    (void)end;
    /* Reading 5 bytes is safe: a shorter line ends in the padded sentinel. */
    if (memcmp(p, "true", 4) == 0 && jl_is_delim(p[4])) {
        *v = 1;
        return p + 4;
    }
    if (memcmp(p, "null", 4) == 0 && jl_is_delim(p[4])) {
        *v = -1;
        return p + 4;
    }
    if (memcmp(p, "false", 5) == 0 && jl_is_delim(p[5])) {
        *v = 0;
        return p + 5;
    }
    return jl_fail(e, p, SL_EPARSE, "invalid literal (true, false or null expected)");
}

/* ---- skipping whole values ---- */

const char *jl_unexpected(jl_perr *e, const char *p, const char *end,
                          const char *what)
{
    if (p == end)
        return jl_fail(e, p, SL_EPARSE, "unexpected end of line, %s expected",
                       what);
    if ((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f)
        return jl_fail(e, p, SL_EPARSE, "unexpected '%c', %s expected", *p,
                       what);
    return jl_fail(e, p, SL_EPARSE, "unexpected byte 0x%02X, %s expected",
                   (unsigned char)*p, what);
}

/* A value that is not an object or array. */
static const char *scalar(const char *p, const char *end, char *scratch,
                          jl_perr *e)
{
    size_t n;
    int v;
    jl_num num;
    switch (*p) {
    case '"':
        return jl_scan_string(p + 1, end, scratch, &n, e);
    case 't':
    case 'f':
    case 'n':
        return jl_scan_literal(p, end, &v, e);
    default:
        if (*p == '-' || is_digit(*p))
            return jl_scan_number(p, end, &num, e);
        return jl_unexpected(e, p, end, "a value");
    }
}

const char *jl_skip_value(const char *p, const char *end, char *scratch,
                          jl_perr *e)
{
    /* Iterative, with one bit per open container (1 = object), so hostile
     * nesting costs no stack. */
    uint8_t stack[SL_JSONL_MAX_DEPTH / 8];
    int depth = 0;
    size_t n;
value:
    if (*p == '{' || *p == '[') {
        if (depth == SL_JSONL_MAX_DEPTH)
            return jl_fail(e, p, SL_EPARSE,
                           "nesting deeper than %d levels", SL_JSONL_MAX_DEPTH);
        int obj = *p == '{';
        if (obj)
            stack[depth >> 3] |= (uint8_t)(1u << (depth & 7));
        else
            stack[depth >> 3] &= (uint8_t) ~(1u << (depth & 7));
        depth++;
        p = jl_ws(p + 1);
        if (*p == (obj ? '}' : ']')) {
            depth--;
            p++;
            goto after;
        }
        if (obj)
            goto key;
        goto value;
    }
    p = scalar(p, end, scratch, e);
    if (!p)
        return NULL;
after:
    if (depth == 0)
        return p;
    p = jl_ws(p);
    {
        int obj = (stack[(depth - 1) >> 3] >> ((depth - 1) & 7)) & 1;
        if (*p == ',') {
            p = jl_ws(p + 1);
            if (obj)
                goto key;
            goto value;
        }
        if (*p == (obj ? '}' : ']')) {
            depth--;
            p++;
            goto after;
        }
        return jl_unexpected(e, p, end, obj ? "',' or '}'" : "',' or ']'");
    }
key:
    if (*p != '"')
        return jl_unexpected(e, p, end, "a key string");
    p = jl_scan_string(p + 1, end, scratch, &n, e);
    if (!p)
        return NULL;
    p = jl_ws(p);
    if (*p != ':')
        return jl_unexpected(e, p, end, "':'");
    p = jl_ws(p + 1);
    goto value;
}

/* ---- name table ---- */

uint32_t jl_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

int jl_names_find(const jl_names *t, const char *s, size_t n)
{
    if (!t->slots)
        return -1;
    for (size_t i = jl_hash(s, n) & t->mask;; i = (i + 1) & t->mask) {
        int32_t v = t->slots[i];
        if (v == 0)
            return -1;
        if (t->lens[v - 1] == n && memcmp(t->names[v - 1], s, n) == 0)
            return v - 1;
    }
}

/* Keeps the load factor at or below 1/2, so probes end at an empty slot. */
static int rehash(jl_names *t, size_t nslots)
{
    int32_t *slots = sl_calloc(nslots, sizeof *slots);
    if (!slots)
        return -1;
    for (int k = 0; k < t->n; k++) {
        size_t i = jl_hash(t->names[k], t->lens[k]) & (nslots - 1);
        while (slots[i])
            i = (i + 1) & (nslots - 1);
        slots[i] = k + 1;
    }
    sl_free(t->slots);
    t->slots = slots;
    t->mask = nslots - 1;
    return 0;
}

int jl_names_add(jl_names *t, const char *s, size_t n)
{
    if (t->n == t->cap) {
        int ncap = t->cap ? t->cap * 2 : 16;
        char **nn = sl_realloc(t->names, (size_t)ncap * sizeof *nn);
        if (!nn)
            return -1;
        t->names = nn;
        size_t *nl = sl_realloc(t->lens, (size_t)ncap * sizeof *nl);
        if (!nl)
            return -1;
        t->lens = nl;
        t->cap = ncap;
    }
    if (!t->slots || (size_t)(t->n + 1) * 2 > t->mask + 1) {
        if (rehash(t, t->slots ? (t->mask + 1) * 2 : 32) != 0)
            return -1;
    }
    char *copy = sl_strndup(s, n);
    if (!copy)
        return -1;
    t->names[t->n] = copy;
    t->lens[t->n] = n;
    size_t i = jl_hash(s, n) & t->mask;
    while (t->slots[i])
        i = (i + 1) & t->mask;
    t->slots[i] = t->n + 1;
    return t->n++;
}

void jl_names_free(jl_names *t)
{
    for (int i = 0; i < t->n; i++)
        sl_free(t->names[i]);
    sl_free(t->names);
    sl_free(t->lens);
    sl_free(t->slots);
    memset(t, 0, sizeof *t);
}
