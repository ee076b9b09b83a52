/*
 * expr_func.c: the function kernels of the expression language.
 *
 * Same conventions as expr_eval.c: one loop per function and type over
 * whole columns; result validity is the AND of the arguments', rows that
 * become null (log of 0, sqrt of -1, int64 overflow) are flagged in the
 * main loop and fixed afterwards; null slots are zeroed at the end.
 *
 * coalesce() and if() share one "gather": a per-row index says which
 * argument a row comes from (-1 = null), and a typed loop copies the
 * values. Their arguments are evaluated lazily: coalesce stops at the
 * first argument after which no row is null, if() evaluates only the
 * branch it needs when the condition is the same for every row.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/mem.h"
#include "sluice/value.h"
#include "expr_internal.h"

#define DAY_US 86400000000LL

/* Division rounding toward negative infinity (days before 1970). */
static int64_t floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static sl_rc oom(ex_ctx *cx, sl_column *c)
{
    sl_column_unref(c);
    return ex_oom(cx->err);
}

/* New column of type t with the validity of a (and b, if a column). */
static sl_rc like_col(ex_ctx *cx, sl_type t, const sl_column *a,
                      const ex_val *b, sl_column **out)
{
    sl_column *c = ex_col_new(cx, t, cx->n);
    if (!c)
        return ex_oom(cx->err);
    if (ex_validity_and(c, a, b && !b->scalar ? b->col : NULL) != SL_OK)
        return oom(cx, c);
    *out = c;
    return SL_OK;
}

/* ---- numbers ---- */

static const double pow10_tab[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,
                                   1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                   1e12, 1e13, 1e14, 1e15, 1e16, 1e17,
                                   1e18, 1e19, 1e20, 1e21, 1e22};

static double pow10i(int k)
{
    return k < 23 ? pow10_tab[k] : pow(10.0, k);
}

/* Decimal rounding of x at 10^-d, half away from zero, on the shortest
 * decimal text that reads back as x (what the user wrote and sees): so
 * round(2.675, 2) is 2.68 although the double is 2.67499999... This path
 * is slow (snprintf/strtod) and only taken near a tie. */
static double round_decimal(double x, int d)
{
    double ax = fabs(x);
    char buf[48], dig[24], txt[64];
    int p;
    for (p = 1; p <= 17; p++) {
        snprintf(buf, sizeof buf, "%.*e", p - 1, ax);
        if (strtod(buf, NULL) == ax)
            break;
    }
    int nd = 0;
    const char *s = buf;
    for (; *s && *s != 'e'; s++)
        if (*s >= '0' && *s <= '9' && nd < 20)
            dig[nd++] = *s;
    int e10 = *s == 'e' ? atoi(s + 1) : 0;
    int keep = e10 + 1 + d; /* digits left of the rounding position */
    if (keep >= nd)
        return x;
    if (keep < 0)
        return copysign(0.0, x);
    int up = dig[keep] >= '5';
    int mn = keep;
    if (up) {
        int i = mn - 1;
        while (i >= 0 && dig[i] == '9')
            dig[i--] = '0';
        if (i >= 0) {
            dig[i]++;
        } else {
            memmove(dig + 1, dig, (size_t)mn);
            dig[0] = '1';
            mn++;
        }
    }
    if (mn == 0)
        return copysign(0.0, x);
    snprintf(txt, sizeof txt, "%.*se%d", mn, dig, e10 + 1 - keep);
    return copysign(strtod(txt, NULL), x);
}

static double round_digits(double x, int d)
{
    if (!isfinite(x) || d > 340)
        return x;
    if (d < -340)
        return copysign(0.0, x);
    double p = pow10i(d >= 0 ? d : -d);
    double y = d >= 0 ? x * p : x / p;
    /* Beyond 2^52 every double is integral: nothing to round. */
    if (!isfinite(y) || fabs(y) >= 4503599627370496.0)
        return x;
    double fr = fabs(y - trunc(y));
    if (fabs(fr - 0.5) < 1e-6)
        return round_decimal(x, d);
    double r = round(y);
    return d >= 0 ? r / p : r * p;
}

/* round(x, d) for int64 with d < 0: to a multiple of 10^-d, half away from
 * zero. Returns 0 on success, -1 on overflow. */
static int round_int(int64_t x, int d, int64_t *r)
{
    int k = -d;
    if (k > 19) {
        *r = 0;
        return 0;
    }
    if (k == 19) { /* 10^19 is beyond int64: only 0 or overflow */
        *r = 0;
        return x >= 5000000000000000000LL || x <= -5000000000000000000LL
                   ? -1
                   : 0;
    }
    int64_t q = 1;
    for (int i = 0; i < k; i++)
        q *= 10;
    int64_t t = x / q * q, rem = x % q;
    if (rem < 0)
        rem = -rem;
    if (rem >= q - rem)
        return __builtin_add_overflow(t, x < 0 ? -q : q, r) ? -1 : 0;
    *r = t;
    return 0;
}

static sl_rc eval_math_int(ex_ctx *cx, int fn, int digits, ex_val *a,
                           ex_val *out)
{
    int64_t n = cx->n;
    /* floor/ceil/round to >= 0 digits leave an integer unchanged */
    if (fn == FN_FLOOR || fn == FN_CEIL || (fn == FN_ROUND && digits >= 0)) {
        *out = *a;
        memset(a, 0, sizeof *a);
        return SL_OK;
    }
    sl_column *c = NULL;
    sl_rc rc = like_col(cx, SL_INT64, a->col, NULL, &c);
    if (rc)
        return rc;
    const int64_t *x = a->col->values;
    int64_t *r = c->values;
    int bad = 0;
    if (fn == FN_ABS) {
        for (int64_t i = 0; i < n; i++) {
            bad |= x[i] == INT64_MIN;
            r[i] = x[i] < 0 ? (int64_t)(0 - (uint64_t)x[i]) : x[i];
        }
        for (int64_t i = 0; bad && i < n; i++)
            if (x[i] == INT64_MIN && ex_col_null_at(c, i) != SL_OK)
                return oom(cx, c);
    } else {
        for (int64_t i = 0; i < n; i++)
            if (round_int(x[i], digits, &r[i]) != 0 &&
                ex_col_null_at(c, i) != SL_OK)
                return oom(cx, c);
    }
    out->col = c;
    return SL_OK;
}

static sl_rc eval_math(ex_ctx *cx, const ex_node *nd, int digits, ex_val *a,
                       ex_val *out)
{
    int fn = nd->op;
    if (nd->type == SL_INT64)
        return eval_math_int(cx, fn, digits, a, out);
    int64_t n = cx->n;
    sl_column *c = NULL;
    sl_rc rc = like_col(cx, SL_FLOAT64, a->col, NULL, &c);
    if (rc)
        return rc;
    const double *x = a->col->values;
    double *r = c->values;
    int bad = 0;
    switch (fn) {
    case FN_ABS:
        for (int64_t i = 0; i < n; i++)
            r[i] = fabs(x[i]);
        break;
    case FN_EXP:
        for (int64_t i = 0; i < n; i++)
            r[i] = exp(x[i]);
        break;
    case FN_FLOOR:
        for (int64_t i = 0; i < n; i++)
            r[i] = floor(x[i]);
        break;
    case FN_CEIL:
        for (int64_t i = 0; i < n; i++)
            r[i] = ceil(x[i]);
        break;
    case FN_ROUND:
        for (int64_t i = 0; i < n; i++)
            r[i] = round_digits(x[i], digits);
        break;
    case FN_LOG:
        /* log(x <= 0) is null (NaN stays NaN) */
        for (int64_t i = 0; i < n; i++) {
            bad |= x[i] <= 0;
            r[i] = x[i] > 0 ? log(x[i]) : 0;
        }
        break;
    case FN_SQRT:
        for (int64_t i = 0; i < n; i++) {
            bad |= x[i] < 0;
            r[i] = x[i] >= 0 ? sqrt(x[i]) : 0;
        }
        break;
    default: break;
    }
    for (int64_t i = 0; bad && i < n; i++)
        if ((fn == FN_LOG ? x[i] <= 0 : x[i] < 0) && sl_col_valid(c, i) &&
            ex_col_null_at(c, i) != SL_OK)
            return oom(cx, c);
    ex_col_zero_nulls(c);
    out->col = c;
    return SL_OK;
}

/* ---- strings ---- */

/* lower/upper: ASCII letters only, so offsets are unchanged. */
static sl_rc eval_case(ex_ctx *cx, int upper, const ex_val *a, ex_val *out)
{
    const sl_column *x = a->col;
    int64_t n = cx->n, bytes = x->offsets[n] - x->offsets[0];
    sl_column *c = sl_column_new(SL_STRING, n);
    if (!c || sl_column_reserve(c, n, bytes) != SL_OK)
        return oom(cx, c);
    for (int64_t i = 0; i <= n; i++)
        c->offsets[i] = x->offsets[i] - x->offsets[0];
    c->length = n;
    const unsigned char *s = (const unsigned char *)ex_sdata(x) + x->offsets[0];
    char *d = c->data;
    unsigned char lo = upper ? 'a' : 'A';
    for (int64_t k = 0; k < bytes; k++) {
        unsigned char ch = s[k];
        d[k] = (char)((unsigned char)(ch - lo) < 26 ? ch ^ 0x20 : ch);
    }
    if (ex_validity_and(c, x, NULL) != SL_OK)
        return oom(cx, c);
    out->col = c;
    return SL_OK;
}

/* len(): characters (UTF-8 code points), not bytes. */
static sl_rc eval_len(ex_ctx *cx, const ex_val *a, ex_val *out)
{
    const sl_column *x = a->col;
    sl_column *c = NULL;
    sl_rc rc = like_col(cx, SL_INT64, x, NULL, &c);
    if (rc)
        return rc;
    int64_t *r = c->values;
    const unsigned char *s = (const unsigned char *)ex_sdata(x);
    for (int64_t i = 0; i < cx->n; i++) {
        int64_t cnt = 0;
        for (int64_t k = x->offsets[i]; k < x->offsets[i + 1]; k++)
            cnt += (s[k] & 0xC0) != 0x80;
        r[i] = cnt;
    }
    out->col = c;
    return SL_OK;
}

static int has_sub(const char *h, size_t hn, const char *nd, size_t nn)
{
    if (nn == 0)
        return 1;
    while (hn >= nn) {
        const char *p = memchr(h, nd[0], hn - nn + 1);
        if (!p)
            return 0;
        if (memcmp(p, nd, nn) == 0)
            return 1;
        hn -= (size_t)(p - h) + 1;
        h = p + 1;
    }
    return 0;
}

static int str_test(int fn, const char *h, size_t hn, const char *nd,
                    size_t nn)
{
    if (fn == FN_CONTAINS)
        return has_sub(h, hn, nd, nn);
    if (nn > hn)
        return 0;
    return memcmp(fn == FN_STARTS_WITH ? h : h + hn - nn, nd, nn) == 0;
}

/* contains / starts_with / ends_with; the pattern is usually a literal and
 * is read through an index mask (0 for a scalar). */
static sl_rc eval_match(ex_ctx *cx, int fn, const ex_val *a, const ex_val *b,
                        ex_val *out)
{
    const sl_column *x = a->col;
    sl_column *c = NULL;
    sl_rc rc = like_col(cx, SL_BOOL, x, b, &c);
    if (rc)
        return rc;
    int64_t soff[2] = {0, (int64_t)b->s.slen};
    const int64_t *ob = b->scalar ? soff : b->col->offsets;
    const char *db = b->scalar ? b->s.s : ex_sdata(b->col);
    const char *da = ex_sdata(x);
    int64_t mb = b->scalar ? 0 : -1;
    uint8_t *r = c->values;
    for (int64_t i = 0; i < cx->n; i++) {
        int64_t j = i & mb;
        if (str_test(fn, da + x->offsets[i],
                     (size_t)(x->offsets[i + 1] - x->offsets[i]),
                     db + ob[j], (size_t)(ob[j + 1] - ob[j])))
            sl_bit_set(r, i);
    }
    ex_col_zero_nulls(c);
    out->col = c;
    return SL_OK;
}

/* ---- dates and timestamps ---- */

static sl_rc eval_time(ex_ctx *cx, int fn, const ex_val *a, ex_val *out)
{
    const sl_column *x = a->col;
    sl_column *c = NULL;
    sl_rc rc = like_col(cx, SL_INT64, x, NULL, &c);
    if (rc)
        return rc;
    int64_t n = cx->n, *r = c->values;
    int ts = x->type == SL_TIMESTAMP;
    const int64_t *us = x->values;
    const int32_t *dd = x->values;
#define DAYS(i) (ts ? floordiv(us[i], DAY_US) : (int64_t)dd[i])
    if (fn == FN_HOUR || fn == FN_MINUTE || fn == FN_SECOND) {
        int64_t unit = fn == FN_HOUR     ? 3600000000LL
                       : fn == FN_MINUTE ? 60000000LL
                                         : 1000000LL;
        int64_t mod = fn == FN_HOUR ? 24 : 60;
        for (int64_t i = 0; i < n; i++)
            r[i] = ts ? (us[i] - floordiv(us[i], DAY_US) * DAY_US) /
                            unit % mod
                      : 0;
    } else if (fn == FN_DAYOFWEEK) {
        /* 1970-01-01 was a Thursday (3 with Monday = 0) */
        for (int64_t i = 0; i < n; i++) {
            int64_t d = DAYS(i) + 3;
            r[i] = d - floordiv(d, 7) * 7;
        }
    } else {
        int part = fn == FN_YEAR    ? 0
                   : fn == FN_MONTH ? 1
                   : fn == FN_DAY   ? 2
                                    : 3;
        for (int64_t i = 0; i < n; i++) {
            int64_t days = DAYS(i), y;
            unsigned m, d;
            sl_civil_from_days(days, &y, &m, &d);
            int64_t v[4] = {y, m, d, 0};
            if (part == 3)
                v[3] = days - sl_days_from_civil(y, 1, 1) + 1;
            r[i] = v[part];
        }
    }
#undef DAYS
    ex_col_zero_nulls(c);
    out->col = c;
    return SL_OK;
}

/* ---- coalesce / if ---- */

typedef struct gsrc {
    const uint8_t *valid;
    int64_t vm; /* index mask of valid: 0 = one byte for every row */
    const void *vals;
    int64_t m; /* index mask of vals/offsets */
    const int64_t *off;
    const char *data;
    int64_t soff[2];
    int32_t s32;
    uint8_t sbit;
} gsrc;

static void gsrc_init(gsrc *g, const ex_val *v)
{
    static const uint8_t ones = 0xff, zeros = 0;
    memset(g, 0, sizeof *g);
    if (!v->scalar) {
        const sl_column *c = v->col;
        g->valid = c->null_count ? c->validity : &ones;
        g->vm = c->null_count ? -1 : 0;
        g->vals = c->values;
        g->m = -1;
        g->off = c->offsets;
        g->data = c->type == SL_STRING ? ex_sdata(c) : NULL;
        return;
    }
    g->valid = v->s.null ? &zeros : &ones;
    g->s32 = (int32_t)v->s.i;
    g->sbit = v->s.i ? 1 : 0;
    g->soff[1] = (int64_t)v->s.slen;
    g->off = g->soff;
    g->data = v->s.s;
    g->vals = v->s.type == SL_FLOAT64 ? (const void *)&v->s.f
              : v->s.type == SL_DATE  ? (const void *)&g->s32
              : v->s.type == SL_BOOL  ? (const void *)&g->sbit
                                      : (const void *)&v->s.i;
    g->m = 0;
}

/* out[i] = value of src[pick[i]] at row i (null when pick[i] < 0 or that
 * value is null). All sources have type t. */
static sl_rc gather(ex_ctx *cx, sl_type t, const ex_val *v, int nv,
                    const int8_t *pick, sl_column **out)
{
    int64_t n = cx->n;
    gsrc g[EX_MAX_ARGS];
    sl_column *c = NULL;
    if (t == SL_NULL) {
        if (!(*out = sl_column_new_nulls(SL_NULL, n)))
            return ex_oom(cx->err);
        return SL_OK;
    }
    for (int j = 0; j < nv; j++)
        gsrc_init(&g[j], &v[j]);
#define OK_AT(i)                                                             \
    (pick[i] >= 0 && sl_bit_get(g[pick[i]].valid, (i) & g[pick[i]].vm))
    if (t == SL_STRING) {
        int64_t bytes = 0;
        for (int64_t i = 0; i < n; i++) {
            if (OK_AT(i)) {
                const gsrc *s = &g[pick[i]];
                int64_t k = i & s->m;
                bytes += s->off[k + 1] - s->off[k];
            }
        }
        c = sl_column_new(SL_STRING, n);
        if (!c || sl_column_reserve(c, n, bytes) != SL_OK)
            return oom(cx, c);
    } else if (!(c = ex_col_new(cx, t, n))) {
        return ex_oom(cx->err);
    }
    if (ex_col_ensure_validity(c) != SL_OK)
        return oom(cx, c);
    memset(c->validity, 0, (size_t)((n + 7) / 8));
    c->length = n;
    for (int64_t i = 0; i < n; i++) {
        int ok = OK_AT(i);
        const gsrc *s = &g[ok ? pick[i] : 0];
        int64_t k = i & s->m;
        if (ok)
            sl_bit_set(c->validity, i);
        switch (t) { /* hoisted by the compiler; t is loop-invariant */
        case SL_INT64:
        case SL_TIMESTAMP:
        case SL_FLOAT64:
            ((uint64_t *)c->values)[i] =
                ok ? ((const uint64_t *)s->vals)[k] : 0;
            break;
        case SL_DATE:
            ((int32_t *)c->values)[i] = ok ? ((const int32_t *)s->vals)[k] : 0;
            break;
        case SL_BOOL:
            if (ok && sl_bit_get(s->vals, k))
                sl_bit_set(c->values, i);
            break;
        case SL_STRING: {
            int64_t len = ok ? s->off[k + 1] - s->off[k] : 0;
            if (len)
                memcpy(c->data + c->offsets[i], s->data + s->off[k],
                       (size_t)len);
            c->offsets[i + 1] = c->offsets[i] + len;
            break;
        }
        default: break;
        }
    }
#undef OK_AT
    ex_col_recount(c);
    *out = c;
    return SL_OK;
}

static sl_rc eval_coalesce(ex_ctx *cx, const ex_node *nd, ex_val *out)
{
    int64_t n = cx->n;
    ex_val *v = sl_calloc((size_t)nd->nargs, sizeof *v);
    int8_t *pick = sl_malloc((size_t)n + 1);
    int used = 0;
    sl_rc rc = SL_OK;
    if (!v || !pick) {
        rc = ex_oom(cx->err);
        goto out;
    }
    memset(pick, -1, (size_t)n);
    int64_t remaining = n;
    for (int j = 0; j < nd->nargs && remaining > 0; j++) {
        if ((rc = ex_eval_node(cx, nd->args[j], &v[j])) != SL_OK)
            goto out;
        used = j + 1;
        if (v[j].scalar) {
            if (v[j].s.null)
                continue;
            for (int64_t i = 0; i < n; i++)
                if (pick[i] < 0)
                    pick[i] = (int8_t)j;
            remaining = 0;
            break;
        }
        const sl_column *c = v[j].col;
        if (j == 0 && c->null_count == 0) { /* common: nothing to fill */
            *out = v[0];
            memset(&v[0], 0, sizeof v[0]);
            goto out;
        }
        for (int64_t i = 0; i < n; i++) {
            if (pick[i] < 0 && sl_col_valid(c, i)) {
                pick[i] = (int8_t)j;
                remaining--;
            }
        }
    }
    rc = gather(cx, nd->type, v, used, pick, &out->col);
out:
    for (int j = 0; v && j < nd->nargs; j++)
        ex_val_release(cx, &v[j]);
    sl_free(v);
    sl_free(pick);
    return rc;
}

static sl_rc eval_if(ex_ctx *cx, const ex_node *nd, ex_val *out)
{
    int64_t n = cx->n, ntrue = 0;
    ex_val cond = {0}, v[2] = {{0}, {0}};
    int8_t *pick = NULL;
    sl_rc rc = ex_eval_node(cx, nd->args[0], &cond);
    if (rc || (rc = ex_val_materialize(cx, &cond)) != SL_OK)
        goto out;
    /* a value bit is set only for valid true rows (null slots are 0) */
    for (int64_t i = 0; i < n; i++)
        ntrue += sl_col_bool(cond.col, i);
    if (ntrue == n || ntrue == 0) {
        rc = ex_eval_node(cx, nd->args[ntrue == n ? 1 : 2], out);
        if (rc == SL_OK)
            rc = ex_val_materialize(cx, out);
        goto out;
    }
    if ((rc = ex_eval_node(cx, nd->args[1], &v[0])) != SL_OK ||
        (rc = ex_eval_node(cx, nd->args[2], &v[1])) != SL_OK)
        goto out;
    if (!(pick = sl_malloc((size_t)n + 1))) {
        rc = ex_oom(cx->err);
        goto out;
    }
    for (int64_t i = 0; i < n; i++)
        pick[i] = (int8_t)!sl_col_bool(cond.col, i);
    rc = gather(cx, nd->type, v, 2, pick, &out->col);
out:
    ex_val_release(cx, &cond);
    ex_val_release(cx, &v[0]);
    ex_val_release(cx, &v[1]);
    sl_free(pick);
    return rc;
}

/* ---- dispatch ---- */

sl_rc ex_eval_call(ex_ctx *cx, const ex_node *nd, ex_val *out)
{
    if (nd->op == FN_COALESCE)
        return eval_coalesce(cx, nd, out);
    if (nd->op == FN_IF)
        return eval_if(cx, nd, out);
    ex_val a = {0}, b = {0};
    int digits = 0;
    sl_rc rc = ex_eval_node(cx, nd->args[0], &a);
    if (rc || (rc = ex_val_materialize(cx, &a)) != SL_OK)
        goto out;
    if (nd->nargs > 1) {
        if (nd->op == FN_ROUND) {
            /* the binder guarantees an int64 constant; bound it so the
             * loops never see absurd exponents */
            int64_t d = nd->args[1]->lit.i;
            digits = d > 400 ? 400 : d < -400 ? -400 : (int)d;
        } else if ((rc = ex_eval_node(cx, nd->args[1], &b)) != SL_OK) {
            goto out;
        }
    }
    switch (nd->op) {
    case FN_ABS:
    case FN_LOG:
    case FN_EXP:
    case FN_SQRT:
    case FN_ROUND:
    case FN_FLOOR:
    case FN_CEIL: rc = eval_math(cx, nd, digits, &a, out); break;
    case FN_LOWER:
    case FN_UPPER: rc = eval_case(cx, nd->op == FN_UPPER, &a, out); break;
    case FN_LEN: rc = eval_len(cx, &a, out); break;
    case FN_CONTAINS:
    case FN_STARTS_WITH:
    case FN_ENDS_WITH: rc = eval_match(cx, nd->op, &a, &b, out); break;
    default: rc = eval_time(cx, nd->op, &a, out); break;
    }
out:
    ex_val_release(cx, &a);
    ex_val_release(cx, &b);
    return rc;
}
