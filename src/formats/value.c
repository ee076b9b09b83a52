/*
 * value.c: the one place that decides what scalar text means (value.h).
 *
 * Every text format (CSV, JSON Lines, expression literals) parses and
 * prints scalars through these functions, so "1.5", "2024-01-31" or "nan"
 * mean the same thing everywhere and a value written by one sink reads
 * back identically through any source.
 *
 * Invariants:
 *  - Parsers look at exactly [s, s + n): no NUL termination, no locale, no
 *    leading/trailing space; 0 on success, -1 when the text is not of the
 *    type (the output is then untouched).
 *  - sl_parse_float64 returns the correctly rounded double (bit-identical
 *    to strtod) and sl_format_float64 prints the shortest text that reads
 *    back to the identical double, so float columns survive any number of
 *    write/read round trips.
 *  - Calendar math is proleptic Gregorian, UTC, and exact for every int32
 *    day count and every int64 microsecond count we print.
 *
 * The float parser takes Clinger's exact fast path (<= 19 significant
 * digits, mantissa <= 2^53, |power of ten| <= 22 (+15 for integers)) for
 * the numbers real data holds, and only copies the text for strtod in the
 * hard cases. That fast path needs IEEE double arithmetic without excess
 * precision (FLT_EVAL_METHOD == 0, true on x86-64 and AArch64); elsewhere
 * everything goes through strtod.
 */
#include "sluice/value.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/mem.h"

#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
#define SL_EXACT_FAST_PATH 1
#else
#define SL_EXACT_FAST_PATH 0
#endif

/* The x87 80-bit format gives an exact fallback for long mantissas. */
#if SL_EXACT_FAST_PATH && (defined(__x86_64__) || defined(__i386__)) && \
    LDBL_MANT_DIG == 64
#define SL_X87_PATH 1
#else
#define SL_X87_PATH 0
#endif

/* 10^k for k in [0, 22]: every one is exactly representable as a double. */
static const double pow10_exact[23] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

#define TWO_POW_53 9007199254740992.0
#define TWO_POW_50 1125899906842624.0
#define TWO_POW_52 4503599627370496.0

static inline int is_digit(char c)
{
    return (unsigned)((unsigned char)c - '0') < 10u;
}

/* Case-insensitive equality of s[0..n) with the lowercase literal lit. */
static int ieq(const char *s, size_t n, const char *lit)
{
    size_t i;
    for (i = 0; i < n; i++) {
        char c = s[i];
        if (lit[i] == '\0')
            return 0;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + ('a' - 'A'));
        if (c != lit[i])
            return 0;
    }
    return lit[n] == '\0';
}

/* ------------------------------------------------------------------ */
/* bool, int64                                                         */

int sl_parse_bool(const char *s, size_t n, int *out)
{
    if (n == 4 && ieq(s, n, "true")) {
        *out = 1;
        return 0;
    }
    if (n == 5 && ieq(s, n, "false")) {
        *out = 0;
        return 0;
    }
    return -1;
}

int sl_parse_int64(const char *s, size_t n, int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    uint64_t v = 0;

    if (n == 0)
        return -1;
    if (s[0] == '-' || s[0] == '+') {
        neg = s[0] == '-';
        i = 1;
        if (n == 1)
            return -1;
    }
    if (n - i <= 18) {
        /* 18 digits cannot overflow uint64: no per-digit range check. */
        for (; i < n; i++) {
            unsigned d = (unsigned)((unsigned char)s[i] - '0');
            if (d > 9)
                return -1;
            v = v * 10 + d;
        }
    } else {
        for (; i < n; i++) {
            unsigned d = (unsigned)((unsigned char)s[i] - '0');
            if (d > 9 || v > (UINT64_MAX - d) / 10)
                return -1;
            v = v * 10 + d;
        }
    }
    if (neg) {
        if (v > (uint64_t)INT64_MAX + 1)
            return -1;
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    } else {
        if (v > (uint64_t)INT64_MAX)
            return -1;
        *out = (int64_t)v;
    }
    return 0;
}

static const char digit_pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536"
    "37383940414243444546474849505152535455565758596061626364656667686970717273"
    "74757677787980818283848586878889909192939495969798"
    "99";

/* Decimal digits of v at buf (no sign, no NUL); returns the count. Eight
 * digits at a time in 32-bit arithmetic (divisions by constants become
 * multiplications, and 32-bit ones are cheaper), two per table lookup. */
static int utoa(uint64_t v, char *buf)
{
    char tmp[24];
    int p = 24;
    while (v >= 100000000) {
        uint32_t lo = (uint32_t)(v % 100000000);
        v /= 100000000;
        for (int i = 0; i < 4; i++) {
            uint32_t r = lo % 100;
            lo /= 100;
            tmp[--p] = digit_pairs[2 * r + 1];
            tmp[--p] = digit_pairs[2 * r];
        }
    }
    uint32_t w = (uint32_t)v;
    while (w >= 100) {
        uint32_t r = w % 100;
        w /= 100;
        tmp[--p] = digit_pairs[2 * r + 1];
        tmp[--p] = digit_pairs[2 * r];
    }
    if (w >= 10) {
        tmp[--p] = digit_pairs[2 * w + 1];
        tmp[--p] = digit_pairs[2 * w];
    } else {
        tmp[--p] = (char)('0' + w);
    }
    memcpy(buf, tmp + p, (size_t)(24 - p));
    return 24 - p;
}

int sl_format_int64(int64_t v, char *buf)
{
    int n = 0;
    uint64_t u = (uint64_t)v;
    if (v < 0) {
        buf[n++] = '-';
        u = 0 - u;
    }
    n += utoa(u, buf + n);
    buf[n] = '\0';
    return n;
}

/* ------------------------------------------------------------------ */
/* float64 parsing                                                     */

/* strtod on a private NUL-terminated copy; the grammar was checked by the
 * caller, so strtod must consume everything. */
static int float_slow(const char *s, size_t n, double *out)
{
    char stack[128];
    char *buf = stack;
    int rc = -1;
    if (n >= sizeof stack) {
        buf = sl_malloc(n + 1);
        if (!buf)
            return -1;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *end = NULL;
    double v = strtod(buf, &end);
    if (end == buf + n) {
        *out = v; /* overflow gives +-inf, underflow 0: what Python does */
        rc = 0;
    }
    if (buf != stack)
        sl_free(buf);
    return rc;
}

#if SL_X87_PATH
/* 10^k for k in [0, 27]: exact in the x87 64-bit significand (5^27 < 2^64). */
static const long double pow10_ld[28] = {
    1e0L,  1e1L,  1e2L,  1e3L,  1e4L,  1e5L,  1e6L,  1e7L,  1e8L,  1e9L,
    1e10L, 1e11L, 1e12L, 1e13L, 1e14L, 1e15L, 1e16L, 1e17L, 1e18L, 1e19L,
    1e20L, 1e21L, 1e22L, 1e23L, 1e24L, 1e25L, 1e26L, 1e27L};

/* 17-19 digit mantissas (real data printed with %.17g) without strtod:
 * w and 10^|e| are exact in long double, so one multiply or divide gives
 * the exact value rounded to 64 bits (error <= 1/2 unit of the 64-bit
 * significand). Rounding that to 53 bits could round twice the wrong way
 * only if the 11 dropped bits sit within one unit of the halfway pattern
 * 0x400; then we return 0 and strtod decides. Results are normal doubles
 * (1e-27 .. 1.8e46), so no subnormal or overflow case arises. */
static int float_x87(uint64_t w, int e, double *out)
{
    long double q = (long double)w;
    uint64_t sig;
    if (e < 0)
        q /= pow10_ld[-e];
    else
        q *= pow10_ld[e];
    memcpy(&sig, &q, sizeof sig); /* x87 layout: significand first */
    unsigned low = (unsigned)(sig & 0x7ff);
    if (low >= 0x3ff && low <= 0x401)
        return 0;
    *out = (double)q;
    return 1;
}
#endif

int sl_parse_float64(const char *s, size_t n, double *out)
{
    size_t i = 0;
    int neg = 0, truncated = 0;
    uint64_t mant = 0;
    int64_t exp10 = 0;

    if (n == 0)
        return -1;
    if (s[0] == '-' || s[0] == '+') {
        neg = s[0] == '-';
        i = 1;
        if (n == 1)
            return -1;
    }
    if (!is_digit(s[i]) && s[i] != '.') {
        const char *t = s + i;
        size_t m = n - i;
        if (ieq(t, m, "inf") || ieq(t, m, "infinity")) {
            *out = neg ? -INFINITY : INFINITY;
            return 0;
        }
        if (ieq(t, m, "nan")) {
            *out = NAN;
            return 0;
        }
        return -1;
    }
    /* Integer digits [ds, de), fraction digits [fs, fe). */
    const char *ds = s + i, *end = s + n, *p = ds;
    while (p < end && is_digit(*p))
        p++;
    const char *de = p, *fs = p, *fe = p;
    if (p < end && *p == '.') {
        fs = ++p;
        while (p < end && is_digit(*p))
            p++;
        fe = p;
    }
    if (de == ds && fe == fs)
        return -1;
    i = (size_t)(p - s);
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        int eneg = 0;
        int64_t e = 0;
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) {
            eneg = s[i] == '-';
            i++;
        }
        if (i == n || !is_digit(s[i]))
            return -1;
        for (; i < n && is_digit(s[i]); i++)
            if (e < 1000000) /* beyond this the result is 0 or inf anyway */
                e = e * 10 + (s[i] - '0');
        exp10 = eneg ? -e : e;
    }
    if ((size_t)(de - ds) + (size_t)(fe - fs) <= 19) {
        /* The usual case: every digit fits in the 64-bit mantissa. */
        for (p = ds; p < de; p++)
            mant = mant * 10 + (unsigned)(*p - '0');
        for (p = fs; p < fe; p++)
            mant = mant * 10 + (unsigned)(*p - '0');
        exp10 -= fe - fs;
    } else {
        /* Keep the first 19 significant digits; the decimal exponent
         * absorbs the point's position and the digits dropped. */
        int ndig = 0;
        for (p = ds; p < fe; p++) {
            if (p == de) {
                p = fs - 1; /* skip the point */
                continue;
            }
            unsigned d = (unsigned)(*p - '0');
            int in_frac = p >= fs;
            if (mant == 0 && d == 0) {
                exp10 -= in_frac;
            } else if (ndig < 19) {
                mant = mant * 10 + d;
                ndig++;
                exp10 -= in_frac;
            } else {
                exp10 += !in_frac;
                truncated |= d != 0;
            }
        }
    }
    if (i != n)
        return -1;

    if (mant == 0) {
        *out = neg ? -0.0 : 0.0;
        return 0;
    }
    if (SL_EXACT_FAST_PATH && !truncated && mant <= (uint64_t)1 << 53) {
        /* Clinger: both operands exact, one IEEE operation rounds once. */
        double v = (double)mant;
        int ok = 1;
        if (exp10 < 0 && exp10 >= -22) {
            v /= pow10_exact[-exp10];
        } else if (exp10 >= 0 && exp10 <= 22) {
            v *= pow10_exact[exp10];
        } else if (exp10 > 22 && exp10 <= 22 + 15) {
            /* mant * 10^(e-22) is still an exact integer below 2^53. */
            double t = v * pow10_exact[exp10 - 22];
            if (t <= TWO_POW_53)
                v = t * 1e22;
            else
                ok = 0;
        } else {
            ok = 0;
        }
        if (ok) {
            *out = neg ? -v : v;
            return 0;
        }
    }
#if SL_X87_PATH
    if (!truncated && exp10 >= -27 && exp10 <= 27 && float_x87(mant, (int)exp10, out)) {
        if (neg)
            *out = -*out;
        return 0;
    }
#endif
    return float_slow(s, n, out);
}

/* ------------------------------------------------------------------ */
/* float64 formatting                                                  */

/* Lay out digits dig[0..nd) (no trailing zeros, dig[0] != '0') with
 * decimal exponent e (value = 0.d1d2.. * 10^(e+1)) the way Python's repr
 * does: positional for -4 <= e < 16, scientific otherwise. Positional
 * integral values get ".0" so the text never reads back as an integer. */
static int layout(char *p, const char *dig, int nd, int e)
{
    char *start = p;
    if (e >= -4 && e < 16) {
        if (e < 0) {
            *p++ = '0';
            *p++ = '.';
            for (int z = 0; z < -e - 1; z++)
                *p++ = '0';
            memcpy(p, dig, (size_t)nd);
            p += nd;
        } else if (nd <= e + 1) {
            memcpy(p, dig, (size_t)nd);
            p += nd;
            for (int z = 0; z < e + 1 - nd; z++)
                *p++ = '0';
            *p++ = '.';
            *p++ = '0';
        } else {
            memcpy(p, dig, (size_t)(e + 1));
            p += e + 1;
            *p++ = '.';
            memcpy(p, dig + e + 1, (size_t)(nd - e - 1));
            p += nd - e - 1;
        }
    } else {
        *p++ = dig[0];
        if (nd > 1) {
            *p++ = '.';
            memcpy(p, dig + 1, (size_t)(nd - 1));
            p += nd - 1;
        }
        *p++ = 'e';
        *p++ = e < 0 ? '-' : '+';
        int ae = e < 0 ? -e : e;
        if (ae < 10)
            *p++ = '0';
        p += utoa((uint64_t)ae, p);
    }
    *p = '\0';
    return (int)(p - start);
}

/* Shortest digits for 1e-4 <= v < 1e16 (the positional range), exactly.
 *
 * A candidate m * 10^-k (m integer) is proven to read back as v when
 * (double)m / 10^k == v with m <= 2^53 and k <= 22: both operands are
 * exact, so that one IEEE division is the correctly rounded value of the
 * decimal, which is what every correct parser returns.
 *
 * 1. Short decimals (what real data mostly holds, up to SHORT_K places)
 *    take one test, see below. fma gives the exact residual of v * 10^k
 *    once the product is large enough for its rounding to pick the wrong
 *    neighbour.
 * 2. Otherwise (x86) we go downward from 17 significant digits, which
 *    always round-trip when correctly rounded: the L-digit candidate is the
 *    nearest one (long double product, see round_digits), and we shorten
 *    while the candidate still round-trips. If an L-digit decimal reads
 *    back as v, so does the nearest L-digit decimal, so the first failure
 *    ends the search. Anything that cannot be decided exactly returns 0
 *    and the printf path below takes over.
 * Returns the length written at p, or 0. */
#define SHORT_K 6

static uint64_t nearest_int(double v, int k, double t)
{
    uint64_t m = (uint64_t)t;
    double frac = t - (double)m; /* exact: t < 2^53 */
    if (t >= TWO_POW_50) {
        frac += fma(v, pow10_exact[k], -t);
        if (frac < 0) {
            m--;
            frac += 1;
        } else if (frac >= 1) {
            m++;
            frac -= 1;
        }
    }
    if (frac > 0.5 || (frac == 0.5 && (m & 1)))
        m++; /* exact ties go to even, as Python's repr does */
    return m;
}

static int emit_digits(char *p, uint64_t m, int k)
{
    char dig[24];
    int nd = utoa(m, dig);
    int e = nd - 1 - k; /* exponent of the leading digit */
    while (nd > 1 && dig[nd - 1] == '0')
        nd--;
    return layout(p, dig, nd, e);
}

#if SL_X87_PATH
/* m = v * 10^k rounded to the nearest integer (k in [0, 27], result below
 * 10^17 < 2^57). The long double product is within t * 2^-64 of the exact
 * one (v and 10^k are exact, one rounding to 64 bits), so the rounding is
 * right unless the fraction is within twice that of one half: then 0. */
static int round_digits(double v, int k, uint64_t *m)
{
    /* Adding 2^63 rounds t to an integer (the 64-bit significand of the
     * sum has unit 1) and leaves that integer in the significand's low
     * bits: no float-to-integer conversion, whose x87 form must switch the
     * rounding mode (fldcw) and costs more than everything else here. */
    long double t = (long double)v * pow10_ld[k];
    long double a = t + 0x1p63L;
    long double frac = t - (a - 0x1p63L); /* exact, in [-1/2, 1/2] */
    long double slack = 0.5L - t * 0x1p-63L; /* 0.5 minus twice the error */
    uint64_t sig;
    if (frac >= slack || frac <= -slack)
        return 0;
    memcpy(&sig, &a, sizeof sig);
    *m = sig - ((uint64_t)1 << 63);
    return 1;
}

/* 1 if m * 10^-k reads back as v, 0 if not, -1 if that cannot be decided
 * exactly here. */
static int roundtrips(uint64_t m, int k, double v)
{
    double d;
    if (m <= ((uint64_t)1 << 53) && k <= 22)
        return (double)m / pow10_exact[k] == v;
    if (k <= 27 && float_x87(m, -k, &d))
        return d == v;
    return -1;
}
#endif

static int format_fast(double v, char *p)
{
    if (!SL_EXACT_FAST_PATH || v < 1e-4 || v >= 1e16)
        return 0;
    /* One test covers every k <= SHORT_K: while v * 10^k < 2^52 the
     * rounding interval of v scaled by 10^k is narrower than 1, so if some
     * decimal with k' <= k decimals reads back as v, the nearest integer to
     * v * 10^k is that decimal times 10^(k-k'), and dropping its trailing
     * zeros gives it back. */
    int k = SHORT_K;
    double t = v * pow10_exact[k];
    while (k > 0 && t >= TWO_POW_52)
        t = v * pow10_exact[--k];
    if (t < TWO_POW_53) {
        uint64_t m = nearest_int(v, k, t);
        if ((double)m / pow10_exact[k] == v) {
            while (k > 0 && m % 10 == 0) {
                m /= 10;
                k--;
            }
            return emit_digits(p, m, k);
        }
    }
#if SL_X87_PATH
    int e = 0; /* decimal exponent of the leading digit (checked below) */
    if (v >= 1) {
        while (e < 15 && v >= pow10_exact[e + 1])
            e++;
    } else {
        e = -1;
        while (e > -4 && v < 1.0 / pow10_exact[-e])
            e--;
    }
    uint64_t best, m;
    int kbest = 16 - e;
    if (!round_digits(v, kbest, &best) || best < UINT64_C(10000000000000000) ||
        best >= UINT64_C(100000000000000000))
        return 0;
    for (int kd = kbest - 1; kd >= 0; kd--) {
        if (!round_digits(v, kd, &m))
            return 0;
        int rt = roundtrips(m, kd, v);
        if (rt < 0)
            return 0;
        if (!rt)
            break;
        best = m;
        kbest = kd;
    }
    return emit_digits(p, best, kbest);
#else
    return 0;
#endif
}

int sl_format_float64(double v, char *buf)
{
    char *p = buf;
    if (isnan(v)) {
        memcpy(buf, "nan", 4);
        return 3;
    }
    if (isinf(v)) {
        if (v < 0) {
            memcpy(buf, "-inf", 5);
            return 4;
        }
        memcpy(buf, "inf", 4);
        return 3;
    }
    if (signbit(v)) {
        *p++ = '-';
        v = -v;
    }
    if (v == 0) {
        memcpy(p, "0.0", 4);
        return (int)(p - buf) + 3;
    }
    int n = format_fast(v, p);
    if (n > 0)
        return (int)(p - buf) + n;
    int first = v < DBL_MIN ? 1 : 15;

    /* General path. For a normal double, if some decimal of <= 15
     * significant digits reads back as v, the 15-digit rounding of v is
     * that decimal padded with zeros (DBL_DIG), so trying 15, 16, 17
     * finds the shortest; 17 always round-trips. Subnormals carry fewer
     * digits, so the search starts at 1 there. %.*e gives
     * "d.ddd...e+XX". */
    char tmp[40];
    for (int prec = first; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, v);
        if (prec == 17 || strtod(tmp, NULL) == v)
            break;
    }
    char dig[24];
    int nd = 0;
    const char *q = tmp;
    for (; *q && *q != 'e'; q++)
        if (is_digit(*q))
            dig[nd++] = *q;
    int e = atoi(q + 1);
    while (nd > 1 && dig[nd - 1] == '0')
        nd--;
    return (int)(p - buf) + layout(p, dig, nd, e);
}

/* ------------------------------------------------------------------ */
/* calendar                                                            */

/* Howard Hinnant's days_from_civil / civil_from_days: exact for the whole
 * int64 range we use, no tables, no loops. */
int64_t sl_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void sl_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int days_in_month(int64_t y, unsigned m)
{
    static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30,
                                          31, 31, 30, 31, 30, 31};
    if (m == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
        return 29;
    return dim[m - 1];
}

/* n fixed digits at s; -1 if any is not a digit. */
static int fixed_digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* YYYY-MM-DD or YYYY/MM/DD at s (10 bytes available). */
static int parse_ymd(const char *s, int64_t *days)
{
    char sep = s[4];
    if ((sep != '-' && sep != '/') || s[7] != sep)
        return -1;
    int y = fixed_digits(s, 4), m = fixed_digits(s + 5, 2),
        d = fixed_digits(s + 8, 2);
    if (y < 0 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, (unsigned)m))
        return -1;
    *days = sl_days_from_civil(y, (unsigned)m, (unsigned)d);
    return 0;
}

int sl_parse_date(const char *s, size_t n, int32_t *days_out)
{
    int64_t days;
    if (n != 10 || parse_ymd(s, &days) != 0)
        return -1;
    *days_out = (int32_t)days;
    return 0;
}

/* Accepts every form value.h lists, and a bare date (midnight UTC) so that
 * a column inferred as timestamp after widening from date parses its date
 * values too. */
int sl_parse_timestamp(const char *s, size_t n, int64_t *micros_out)
{
    int64_t days, secs, frac = 0, offset = 0;
    size_t i;
    int hh, mm, ss = 0;

    if (n < 10 || parse_ymd(s, &days) != 0)
        return -1;
    if (n == 10) {
        *micros_out = days * 86400 * 1000000;
        return 0;
    }
    if ((s[10] != 'T' && s[10] != 't' && s[10] != ' ') || n < 16 || s[13] != ':')
        return -1;
    hh = fixed_digits(s + 11, 2);
    mm = fixed_digits(s + 14, 2);
    if (hh < 0 || hh > 23 || mm < 0 || mm > 59)
        return -1;
    i = 16;
    if (i < n && s[i] == ':') {
        if (n - i < 3 || (ss = fixed_digits(s + i + 1, 2)) < 0 || ss > 59)
            return -1;
        i += 3;
        if (i < n && s[i] == '.') {
            int nd = 0;
            for (i++; i < n && is_digit(s[i]); i++, nd++) {
                if (nd >= 9)
                    return -1;
                if (nd < 6) /* sub-microsecond digits are truncated */
                    frac = frac * 10 + (s[i] - '0');
            }
            if (nd == 0)
                return -1;
            for (; nd < 6; nd++)
                frac *= 10;
        }
    }
    if (i < n) {
        if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == n) {
            i++;
        } else if (s[i] == '+' || s[i] == '-') {
            int sign = s[i] == '-' ? -1 : 1, oh, om;
            size_t rest = n - i - 1;
            const char *z = s + i + 1;
            if (rest == 5 && z[2] == ':') {
                oh = fixed_digits(z, 2);
                om = fixed_digits(z + 3, 2);
            } else if (rest == 4) {
                oh = fixed_digits(z, 2);
                om = fixed_digits(z + 2, 2);
            } else {
                return -1;
            }
            if (oh < 0 || oh > 23 || om < 0 || om > 59)
                return -1;
            offset = sign * (int64_t)(oh * 3600 + om * 60);
            i = n;
        } else {
            return -1;
        }
    }
    /* Local time = UTC + offset, so UTC = local - offset. */
    secs = days * 86400 + hh * 3600 + mm * 60 + ss - offset;
    *micros_out = secs * 1000000 + frac;
    return 0;
}

/* Year as at least 4 digits, with a '-' before the year 1 BCE and before. */
static int format_ymd(int64_t days, char *p)
{
    int64_t y;
    unsigned m, d;
    int n = 0;
    sl_civil_from_days(days, &y, &m, &d);
    if (y < 0) {
        p[n++] = '-';
        y = -y;
    }
    if (y < 1000) {
        for (int64_t t = y < 10 ? 1000 : y < 100 ? 100 : 10; t > 1; t /= 10)
            p[n++] = '0';
    }
    n += utoa((uint64_t)y, p + n);
    p[n++] = '-';
    p[n++] = digit_pairs[2 * m];
    p[n++] = digit_pairs[2 * m + 1];
    p[n++] = '-';
    p[n++] = digit_pairs[2 * d];
    p[n++] = digit_pairs[2 * d + 1];
    return n;
}

int sl_format_date(int32_t days, char *buf)
{
    int n = format_ymd(days, buf);
    buf[n] = '\0';
    return n;
}

int sl_format_timestamp(int64_t micros, char *buf)
{
    const int64_t per_day = INT64_C(86400000000);
    int64_t days = micros / per_day, rem = micros % per_day;
    if (rem < 0) {
        rem += per_day;
        days--;
    }
    int64_t secs = rem / 1000000, frac = rem % 1000000;
    int n = format_ymd(days, buf);
    unsigned hh = (unsigned)(secs / 3600), mi = (unsigned)(secs / 60 % 60),
             ss = (unsigned)(secs % 60);
    buf[n++] = 'T';
    buf[n++] = digit_pairs[2 * hh];
    buf[n++] = digit_pairs[2 * hh + 1];
    buf[n++] = ':';
    buf[n++] = digit_pairs[2 * mi];
    buf[n++] = digit_pairs[2 * mi + 1];
    buf[n++] = ':';
    buf[n++] = digit_pairs[2 * ss];
    buf[n++] = digit_pairs[2 * ss + 1];
    if (frac) {
        buf[n++] = '.';
        for (int k = 5; k >= 0; k--) {
            buf[n + k] = (char)('0' + frac % 10);
            frac /= 10;
        }
        n += 6;
    }
    buf[n++] = 'Z';
    buf[n] = '\0';
    return n;
}

/* ------------------------------------------------------------------ */
/* inference                                                           */

void sl_infer_init(sl_infer *st)
{
    st->type = SL_NULL;
    st->seen = 0;
}

static int is_bool(const char *s, size_t n)
{
    int b;
    return sl_parse_bool(s, n, &b) == 0;
}
static int is_int(const char *s, size_t n)
{
    int64_t v;
    return sl_parse_int64(s, n, &v) == 0;
}
static int is_float(const char *s, size_t n)
{
    double v;
    return sl_parse_float64(s, n, &v) == 0;
}
static int is_date(const char *s, size_t n)
{
    int32_t v;
    return sl_parse_date(s, n, &v) == 0;
}
static int is_timestamp(const char *s, size_t n)
{
    int64_t v;
    return sl_parse_timestamp(s, n, &v) == 0;
}

/* The lattice: null -> bool | int64 -> float64 | date -> timestamp, and
 * anything that fits none of the current chain becomes string. A value
 * only ever widens the guess, so the order of samples does not matter. */
void sl_infer_feed(sl_infer *st, const char *s, size_t n)
{
    st->seen++;
    switch (st->type) {
    case SL_NULL:
        st->type = is_bool(s, n)        ? SL_BOOL
                   : is_int(s, n)       ? SL_INT64
                   : is_float(s, n)     ? SL_FLOAT64
                   : is_date(s, n)      ? SL_DATE
                   : is_timestamp(s, n) ? SL_TIMESTAMP
                                        : SL_STRING;
        break;
    case SL_BOOL:
        if (!is_bool(s, n))
            st->type = SL_STRING;
        break;
    case SL_INT64:
        if (!is_int(s, n))
            st->type = is_float(s, n) ? SL_FLOAT64 : SL_STRING;
        break;
    case SL_FLOAT64:
        if (!is_float(s, n))
            st->type = SL_STRING;
        break;
    case SL_DATE:
        if (!is_date(s, n))
            st->type = is_timestamp(s, n) ? SL_TIMESTAMP : SL_STRING;
        break;
    case SL_TIMESTAMP:
        if (!is_timestamp(s, n))
            st->type = SL_STRING;
        break;
    default:
        break;
    }
}

sl_type sl_infer_result(const sl_infer *st)
{
    return st->type == SL_NULL ? SL_STRING : st->type;
}
