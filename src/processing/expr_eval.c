/*
 * expr_eval.c: vectorized evaluation of a bound expression tree.
 *
 * Every node evaluates to an ex_val: a whole column over the batch, or a
 * scalar that stands for every row (a literal). The tree is walked once per
 * batch; all per-row work happens in tight type-specialised loops over
 * value arrays and validity bitmaps, chosen once per node and batch (no
 * per-row dispatch on node kind or type). Operators get column-column and
 * column-scalar loops, so `x * 2` never materialises the 2.
 *
 * Null handling follows one pattern: the loops compute values for every
 * row (null slots hold zero, so the arithmetic there is harmless), the
 * result's validity is the AND of the operands' bitmaps (bytewise), rows
 * that become null (int64 overflow, division by zero) are detected with a
 * flag accumulated in the main loop and fixed in a second pass only when
 * the flag is set, and finally the value slots of null rows are zeroed
 * (the batch.h invariant).
 *
 * Owned here: the driver (ex_eval_node, sl_expr_eval), column helpers,
 * constant folding (ex_fold), casts, arithmetic, comparison, and/or/not,
 * is [not] null. Functions are in expr_func.c.
 */
#include <math.h>
#include <string.h>

#include "sluice/mem.h"
#include "expr_internal.h"

/* ---- column helpers ---- */

static size_t nbytes(int64_t rows) { return (size_t)((rows + 7) / 8); }

static size_t width(sl_type t)
{
    switch (t) {
    case SL_INT64:
    case SL_TIMESTAMP:
    case SL_FLOAT64: return 8;
    case SL_DATE: return 4;
    case SL_BOOL: return 1; /* a bitmap: only reused for bool */
    default: return 0;
    }
}

sl_column *ex_col_new(ex_ctx *cx, sl_type t, int64_t n)
{
    sl_column *c = NULL;
    sl_expr *e = cx->e;
    for (int k = 0; e && k < e->npool; k++) {
        sl_column *p = e->pool[k];
        if (p->cap >= n && width(p->type) == width(t)) {
            c = p;
            e->pool[k] = e->pool[--e->npool];
            break;
        }
    }
    if (c) {
        sl_free(c->validity); /* a stale bitmap would mark rows null */
        c->validity = NULL;
        c->type = t;
        c->null_count = 0;
    } else if (!(c = sl_column_new(t, n))) {
        return NULL;
    }
    c->length = n;
    if (t == SL_BOOL)
        memset(c->values, 0, nbytes(c->cap));
    return c;
}

void ex_pool_free(sl_expr *e)
{
    for (int k = 0; k < e->npool; k++)
        sl_column_unref(e->pool[k]);
    e->npool = 0;
}

sl_rc ex_col_ensure_validity(sl_column *c)
{
    if (c->validity)
        return SL_OK;
    size_t nb = nbytes(c->cap);
    c->validity = sl_calloc(nb ? nb : 1, 1);
    if (!c->validity)
        return SL_ENOMEM;
    memset(c->validity, 0xff, nbytes(c->length));
    if (c->length % 8)
        c->validity[c->length / 8] = (uint8_t)((1u << (c->length % 8)) - 1);
    return SL_OK;
}

sl_rc ex_col_null_at(sl_column *c, int64_t i)
{
    sl_rc rc = ex_col_ensure_validity(c);
    if (rc)
        return rc;
    if (!sl_bit_get(c->validity, i))
        return SL_OK;
    sl_bit_clear(c->validity, i);
    c->null_count++;
    switch (c->type) {
    case SL_BOOL: sl_bit_clear(c->values, i); break;
    case SL_INT64:
    case SL_TIMESTAMP: ((int64_t *)c->values)[i] = 0; break;
    case SL_FLOAT64: ((double *)c->values)[i] = 0; break;
    case SL_DATE: ((int32_t *)c->values)[i] = 0; break;
    default: break;
    }
    return SL_OK;
}

void ex_col_recount(sl_column *c)
{
    if (!c->validity) {
        c->null_count = 0;
        return;
    }
    int64_t n = c->length, valid = 0, k = 0;
    for (; k + 8 <= n / 8; k += 8) {
        uint64_t w;
        memcpy(&w, c->validity + k, 8);
        valid += __builtin_popcountll(w);
    }
    for (; k < n / 8; k++)
        valid += __builtin_popcount(c->validity[k]);
    if (n % 8)
        valid += __builtin_popcount(c->validity[n / 8] &
                                    ((1u << (n % 8)) - 1));
    c->null_count = n - valid;
}

void ex_col_zero_nulls(sl_column *c)
{
    if (c->null_count == 0 || !c->validity)
        return;
    const uint8_t *v = c->validity;
    int64_t n = c->length;
    switch (c->type) {
    case SL_BOOL: {
        uint8_t *b = c->values;
        for (size_t k = 0; k < nbytes(n); k++)
            b[k] &= v[k];
        break;
    }
    case SL_INT64:
    case SL_TIMESTAMP:
    case SL_FLOAT64: {
        /* doubles too: clearing all 64 bits gives +0.0 */
        uint64_t *x = c->values;
        for (int64_t i = 0; i < n; i++)
            x[i] &= (uint64_t)0 - (uint64_t)((v[i >> 3] >> (i & 7)) & 1);
        break;
    }
    case SL_DATE: {
        uint32_t *x = c->values;
        for (int64_t i = 0; i < n; i++)
            x[i] &= (uint32_t)0 - (uint32_t)((v[i >> 3] >> (i & 7)) & 1);
        break;
    }
    default: break;
    }
}

sl_rc ex_validity_and(sl_column *out, const sl_column *a, const sl_column *b)
{
    /* A bitmap with no nulls counts as absent. */
    const uint8_t *va = a && a->null_count ? a->validity : NULL;
    const uint8_t *vb = b && b->null_count ? b->validity : NULL;
    if (!va && !vb) {
        if (out->validity && out->validity != (a ? a->validity : NULL))
            memset(out->validity, 0xff, nbytes(out->length));
        out->null_count = 0;
        return SL_OK;
    }
    if (!out->validity) {
        size_t nb = nbytes(out->cap);
        if (!(out->validity = sl_malloc(nb ? nb : 1)))
            return SL_ENOMEM;
    }
    size_t nb = nbytes(out->length);
    uint8_t *o = out->validity;
    if (va && vb) {
        for (size_t k = 0; k < nb; k++)
            o[k] = va[k] & vb[k];
    } else if (o != (va ? va : vb)) {
        memcpy(o, va ? va : vb, nb);
    }
    if (out->length % 8)
        o[nb - 1] &= (uint8_t)((1u << (out->length % 8)) - 1);
    ex_col_recount(out);
    return SL_OK;
}

void ex_val_release(ex_ctx *cx, ex_val *v)
{
    sl_column *c = v->scalar ? NULL : v->col;
    sl_expr *e = cx->e;
    if (c && c->refcount == 1 && width(c->type) && e && e->npool < EX_POOL)
        e->pool[e->npool++] = c;
    else if (c)
        sl_column_unref(c);
    memset(v, 0, sizeof *v);
}

sl_rc ex_broadcast(ex_ctx *cx, const ex_scalar *s, sl_column **out)
{
    int64_t n = cx->n;
    sl_err *err = cx->err;
    sl_column *c = NULL;
    *out = NULL;
    if (s->null || s->type == SL_NULL) {
        c = sl_column_new_nulls(s->type, n);
        if (!c)
            return ex_oom(err);
        *out = c;
        return SL_OK;
    }
    if (s->type == SL_STRING) {
        if (s->slen && (uint64_t)n > (uint64_t)INT64_MAX / 2 / s->slen)
            return sl_err_set(err, SL_ELIMIT, "string column too large");
        c = sl_column_new(SL_STRING, n);
        if (!c || sl_column_reserve(c, n, (int64_t)s->slen * n) != SL_OK) {
            sl_column_unref(c);
            return ex_oom(err);
        }
        for (int64_t i = 0; i < n; i++) {
            if (s->slen)
                memcpy(c->data + (size_t)i * s->slen, s->s, s->slen);
            c->offsets[i + 1] = (int64_t)((size_t)(i + 1) * s->slen);
        }
        c->length = n;
        *out = c;
        return SL_OK;
    }
    if (!(c = ex_col_new(cx, s->type, n)))
        return ex_oom(err);
    switch (s->type) {
    case SL_BOOL:
        memset(c->values, s->i ? 0xff : 0, nbytes(n));
        if (n % 8)
            ((uint8_t *)c->values)[n / 8] &= (uint8_t)((1u << (n % 8)) - 1);
        break;
    case SL_INT64:
    case SL_TIMESTAMP:
        for (int64_t i = 0; i < n; i++)
            ((int64_t *)c->values)[i] = s->i;
        break;
    case SL_FLOAT64:
        for (int64_t i = 0; i < n; i++)
            ((double *)c->values)[i] = s->f;
        break;
    case SL_DATE:
        for (int64_t i = 0; i < n; i++)
            ((int32_t *)c->values)[i] = (int32_t)s->i;
        break;
    default: break;
    }
    *out = c;
    return SL_OK;
}

sl_rc ex_val_materialize(ex_ctx *cx, ex_val *v)
{
    if (!v->scalar)
        return SL_OK;
    sl_column *c = NULL;
    sl_rc rc = ex_broadcast(cx, &v->s, &c);
    if (rc)
        return rc;
    v->scalar = 0;
    v->col = c;
    return SL_OK;
}

static sl_rc oom_release(ex_ctx *cx, sl_column *c)
{
    sl_column_unref(c);
    return ex_oom(cx->err);
}

/* A result column of type t for n rows whose validity is the AND of the
 * column operands' (scalar operands are never null here: the binder folds
 * null constants). */
static sl_rc result_col(ex_ctx *cx, sl_type t, const ex_val *a,
                        const ex_val *b, sl_column **out)
{
    sl_column *c = ex_col_new(cx, t, cx->n);
    if (!c)
        return ex_oom(cx->err);
    if (ex_validity_and(c, a && !a->scalar ? a->col : NULL,
                        b && !b->scalar ? b->col : NULL) != SL_OK)
        return oom_release(cx, c);
    *out = c;
    return SL_OK;
}

/* ---- arithmetic ---- */

/* Overflow-checked int64 loop in three shapes; OVF is set when any row
 * overflowed, then the offending valid rows are made null. */
#define I64_OVF(F)                                                           \
    do {                                                                     \
        if (pa && pb)                                                        \
            for (int64_t i = 0; i < n; i++)                                  \
                ovf |= F(pa[i], pb[i], &r[i]);                               \
        else if (pa)                                                         \
            for (int64_t i = 0; i < n; i++)                                  \
                ovf |= F(pa[i], sb, &r[i]);                                  \
        else                                                                 \
            for (int64_t i = 0; i < n; i++)                                  \
                ovf |= F(sa, pb[i], &r[i]);                                  \
        for (int64_t i = 0; ovf && i < n; i++) {                             \
            int64_t t_;                                                      \
            if (sl_col_valid(out, i) &&                                      \
                F(pa ? pa[i] : sa, pb ? pb[i] : sb, &t_) &&                  \
                ex_col_null_at(out, i) != SL_OK)                             \
                return SL_ENOMEM;                                            \
        }                                                                    \
    } while (0)

/* Null the valid rows whose divisor (Y) is zero. */
#define NULL_ZERO_DIVISORS(Y)                                                \
    do {                                                                     \
        for (int64_t i = 0; zero && i < n; i++)                              \
            if (sl_col_valid(out, i) && (Y) == 0 &&                          \
                ex_col_null_at(out, i) != SL_OK)                             \
                return SL_ENOMEM;                                            \
    } while (0)

/* Wrapping add/sub whose overflow test is plain bit arithmetic (the sign
 * of (x ^ r) & (y ^ r) for add), cheaper in a loop than the flag that
 * __builtin_add_overflow materialises; same results. */
static inline int add_ovf(int64_t x, int64_t y, int64_t *r)
{
    uint64_t s = (uint64_t)x + (uint64_t)y;
    *r = (int64_t)s;
    return (int)((((uint64_t)x ^ s) & ((uint64_t)y ^ s)) >> 63);
}

static inline int sub_ovf(int64_t x, int64_t y, int64_t *r)
{
    uint64_t s = (uint64_t)x - (uint64_t)y;
    *r = (int64_t)s;
    return (int)((((uint64_t)x ^ (uint64_t)y) & ((uint64_t)x ^ s)) >> 63);
}

static sl_rc arith_i64(int op, const ex_val *a, const ex_val *b,
                       sl_column *out, int64_t n)
{
    const int64_t *pa = a->scalar ? NULL : a->col->values;
    const int64_t *pb = b->scalar ? NULL : b->col->values;
    int64_t sa = a->s.i, sb = b->s.i;
    int64_t *r = out->values;
    int ovf = 0, zero = 0;
    switch (op) {
    case AR_ADD: I64_OVF(add_ovf); break;
    case AR_SUB: I64_OVF(sub_ovf); break;
    case AR_MUL: I64_OVF(__builtin_mul_overflow); break;
    case AR_MOD:
        /* x % 0 is null; x % -1 is 0 (INT64_MIN % -1 traps in C). */
        for (int64_t i = 0; i < n; i++) {
            int64_t x = pa ? pa[i] : sa, y = pb ? pb[i] : sb;
            int bad = y == 0 || y == -1;
            zero |= y == 0;
            r[i] = bad ? 0 : x % y;
        }
        NULL_ZERO_DIVISORS(pb ? pb[i] : sb);
        break;
    default: break; /* AR_DIV is float64 only (the binder casts) */
    }
    return SL_OK;
}

#define F64_LOOP(EXPR)                                                       \
    do {                                                                     \
        if (pa && pb)                                                        \
            for (int64_t i = 0; i < n; i++) {                                \
                double x = pa[i], y = pb[i];                                 \
                r[i] = (EXPR);                                               \
            }                                                                \
        else if (pa)                                                         \
            for (int64_t i = 0; i < n; i++) {                                \
                double x = pa[i], y = sb;                                    \
                r[i] = (EXPR);                                               \
            }                                                                \
        else                                                                 \
            for (int64_t i = 0; i < n; i++) {                                \
                double x = sa, y = pb[i];                                    \
                r[i] = (EXPR);                                               \
            }                                                                \
    } while (0)

static sl_rc arith_f64(int op, const ex_val *a, const ex_val *b,
                       sl_column *out, int64_t n)
{
    const double *pa = a->scalar ? NULL : a->col->values;
    const double *pb = b->scalar ? NULL : b->col->values;
    double sa = a->s.f, sb = b->s.f;
    double *r = out->values;
    int zero = 0;
    switch (op) {
    case AR_ADD: F64_LOOP(x + y); break;
    case AR_SUB: F64_LOOP(x - y); break;
    case AR_MUL: F64_LOOP(x * y); break;
    case AR_DIV:
    case AR_MOD:
        if (op == AR_DIV)
            F64_LOOP(x / y);
        else
            F64_LOOP(y == 0 ? 0 : fmod(x, y));
        if (pb) {
            for (int64_t i = 0; i < n; i++)
                zero |= pb[i] == 0;
        } else {
            zero = sb == 0;
        }
        NULL_ZERO_DIVISORS(pb ? pb[i] : sb);
        break;
    default: break;
    }
    return SL_OK;
}

static sl_rc eval_arith(ex_ctx *cx, const ex_node *nd, ex_val *a, ex_val *b,
                        ex_val *out)
{
    sl_column *c = NULL;
    sl_rc rc;
    if (a->scalar && b->scalar && (rc = ex_val_materialize(cx, a)) != SL_OK)
        return rc;
    if ((rc = result_col(cx, nd->type, a, b, &c)) != SL_OK)
        return rc;
    rc = nd->type == SL_INT64 ? arith_i64(nd->op, a, b, c, cx->n)
                              : arith_f64(nd->op, a, b, c, cx->n);
    if (rc) {
        sl_column_unref(c);
        return ex_oom(cx->err);
    }
    ex_col_zero_nulls(c);
    out->col = c;
    return SL_OK;
}

static sl_rc eval_neg(ex_ctx *cx, const ex_node *nd, const ex_val *a,
                      ex_val *out)
{
    sl_column *c = NULL;
    sl_rc rc = result_col(cx, nd->type, a, NULL, &c);
    int64_t n = cx->n;
    if (rc)
        return rc;
    if (nd->type == SL_INT64) {
        const int64_t *pa = a->col->values;
        int64_t *r = c->values;
        int ovf = 0;
        for (int64_t i = 0; i < n; i++)
            ovf |= __builtin_sub_overflow((int64_t)0, pa[i], &r[i]);
        for (int64_t i = 0; ovf && i < n; i++)
            if (pa[i] == INT64_MIN && ex_col_null_at(c, i) != SL_OK)
                return oom_release(cx, c);
    } else {
        const double *pa = a->col->values;
        double *r = c->values;
        for (int64_t i = 0; i < n; i++)
            r[i] = -pa[i];
        ex_col_zero_nulls(c); /* -0.0 is not the zero slot */
    }
    out->col = c;
    return SL_OK;
}

/* ---- casts (int64 -> float64, date -> timestamp) ---- */

static sl_rc eval_cast(ex_ctx *cx, const ex_node *nd, ex_val *a, ex_val *out)
{
    sl_rc rc = ex_val_materialize(cx, a);
    sl_column *c = NULL;
    if (rc || (rc = result_col(cx, nd->type, a, NULL, &c)) != SL_OK)
        return rc;
    int64_t n = cx->n;
    if (nd->type == SL_FLOAT64) {
        const int64_t *pa = a->col->values;
        double *r = c->values;
        for (int64_t i = 0; i < n; i++)
            r[i] = (double)pa[i];
    } else {
        const int32_t *pa = a->col->values;
        int64_t *r = c->values;
        for (int64_t i = 0; i < n; i++)
            r[i] = (int64_t)pa[i] * 86400000000LL;
    }
    out->col = c;
    return SL_OK;
}

/* ---- comparison ---- */

/* Pack a per-row predicate EXPR (using i) into the bitmap OUT, 8 rows per
 * byte. The 8 rows of a byte are spelled out so each is a compare, a setcc
 * and a shift by a constant, with no inner loop. */
#define PACK_ONE(J, EXPR)                                                    \
    {                                                                        \
        int64_t i = base_ + (J);                                             \
        m_ |= (unsigned)(EXPR) << (J);                                       \
    }
#define PACK_BITS(OUT, N, EXPR)                                              \
    do {                                                                     \
        int64_t full_ = (N) / 8, base_;                                      \
        for (int64_t k_ = 0; k_ < full_; k_++) {                             \
            unsigned m_ = 0;                                                 \
            base_ = k_ * 8;                                                  \
            PACK_ONE(0, EXPR) PACK_ONE(1, EXPR) PACK_ONE(2, EXPR)            \
            PACK_ONE(3, EXPR) PACK_ONE(4, EXPR) PACK_ONE(5, EXPR)            \
            PACK_ONE(6, EXPR) PACK_ONE(7, EXPR)                              \
            (OUT)[k_] = (uint8_t)m_;                                         \
        }                                                                    \
        if ((N) % 8) {                                                       \
            unsigned m_ = 0;                                                 \
            base_ = full_ * 8;                                               \
            for (int j_ = 0; j_ < (int)((N) % 8); j_++)                      \
                PACK_ONE(j_, EXPR)                                           \
            (OUT)[full_] = (uint8_t)m_;                                      \
        }                                                                    \
    } while (0)

#define CMP_SHAPES(T, SYM)                                                   \
    do {                                                                     \
        const T *x = a->col->values;                                         \
        if (!b->scalar) {                                                    \
            const T *y = b->col->values;                                     \
            PACK_BITS(r, n, x[i] SYM y[i]);                                  \
        } else {                                                             \
            const T y = (T)sv;                                               \
            PACK_BITS(r, n, x[i] SYM y);                                     \
        }                                                                    \
    } while (0)

#define CMP_OPS(T)                                                           \
    do {                                                                     \
        switch (op) {                                                        \
        case CM_EQ: CMP_SHAPES(T, ==); break;                                \
        case CM_NE: CMP_SHAPES(T, !=); break;                                \
        case CM_LT: CMP_SHAPES(T, <); break;                                 \
        case CM_LE: CMP_SHAPES(T, <=); break;                                \
        case CM_GT: CMP_SHAPES(T, >); break;                                 \
        case CM_GE: CMP_SHAPES(T, >=); break;                                \
        }                                                                    \
    } while (0)

/* Truth of each operator for memcmp-style results <0, 0, >0 (bits 0-2). */
static const unsigned cmp_truth[] = {
    [CM_EQ] = 2, [CM_NE] = 5, [CM_LT] = 1, [CM_LE] = 3, [CM_GT] = 4,
    [CM_GE] = 6};

static inline int str_cmp(const char *p, size_t pn, const char *q, size_t qn)
{
    int c = memcmp(p, q, pn < qn ? pn : qn);
    if (c == 0)
        return (pn > qn) - (pn < qn);
    return (c > 0) - (c < 0);
}

/* Branch-free in the lengths: with lengths that vary row to row, an early
 * length test mispredicts more than the memcmp it saves. */
static inline int str_eq(const char *p, size_t pn, const char *q, size_t qn)
{
    return (memcmp(p, q, pn < qn ? pn : qn) == 0) & (pn == qn);
}

static void cmp_str(int op, const ex_val *a, const ex_val *b, uint8_t *r,
                    int64_t n)
{
    const sl_column *ca = a->col;
    const int64_t *oa = ca->offsets;
    unsigned truth = cmp_truth[op];
    /* A scalar is a one-row string read at index 0 (index mask 0). */
    int64_t soff[2] = {0, (int64_t)b->s.slen};
    const int64_t *ob = b->scalar ? soff : b->col->offsets;
    const char *db = b->scalar ? b->s.s : ex_sdata(b->col);
    const char *da = ex_sdata(ca);
    int64_t mb = b->scalar ? 0 : -1;
#define A_STR da + oa[i], (size_t)(oa[i + 1] - oa[i])
#define B_STR db + ob[i & mb], (size_t)(ob[(i & mb) + 1] - ob[i & mb])
    if (op == CM_EQ || op == CM_NE) {
        unsigned ne = op == CM_NE;
        PACK_BITS(r, n, (unsigned)str_eq(A_STR, B_STR) ^ ne);
    } else {
        PACK_BITS(r, n, (truth >> (1 + str_cmp(A_STR, B_STR))) & 1);
    }
#undef A_STR
#undef B_STR
}

static void cmp_bool(int op, const ex_val *a, const ex_val *b, uint8_t *r,
                     int64_t n)
{
    const uint8_t *x = a->col->values;
    uint8_t sy = b->s.i ? 0xff : 0;
    const uint8_t *y = b->scalar ? &sy : b->col->values;
    size_t my = b->scalar ? 0 : (size_t)-1;
    for (size_t k = 0; k < nbytes(n); k++) {
        uint8_t p = x[k], q = y[k & my], v;
        switch (op) {
        case CM_EQ: v = (uint8_t)~(p ^ q); break;
        case CM_NE: v = p ^ q; break;
        case CM_LT: v = (uint8_t)(~p & q); break;
        case CM_LE: v = (uint8_t)(~p | q); break;
        case CM_GT: v = (uint8_t)(p & ~q); break;
        default: v = (uint8_t)(p | ~q); break;
        }
        r[k] = v;
    }
    if (n % 8)
        r[n / 8] &= (uint8_t)((1u << (n % 8)) - 1);
}

static const int cmp_mirror[] = {[CM_EQ] = CM_EQ, [CM_NE] = CM_NE,
                                 [CM_LT] = CM_GT, [CM_LE] = CM_GE,
                                 [CM_GT] = CM_LT, [CM_GE] = CM_LE};

static sl_rc eval_cmp(ex_ctx *cx, const ex_node *nd, ex_val *a, ex_val *b,
                      ex_val *out)
{
    int op = nd->op;
    int64_t n = cx->n;
    sl_rc rc;
    sl_column *c = NULL;
    if (a->scalar && b->scalar && (rc = ex_val_materialize(cx, a)) != SL_OK)
        return rc;
    if (a->scalar) { /* 5 < x  is  x > 5 */
        ex_val *t = a;
        a = b;
        b = t;
        op = cmp_mirror[op];
    }
    if ((rc = result_col(cx, SL_BOOL, a, b, &c)) != SL_OK)
        return rc;
    uint8_t *r = c->values;
    sl_type t = a->col->type;
    if (t == SL_INT64 || t == SL_TIMESTAMP) {
        int64_t sv = b->s.i;
        CMP_OPS(int64_t);
    } else if (t == SL_DATE) {
        int64_t sv = b->s.i;
        CMP_OPS(int32_t);
    } else if (t == SL_FLOAT64) {
        double sv = b->s.f;
        CMP_OPS(double);
    } else if (t == SL_STRING) {
        cmp_str(op, a, b, r, n);
    } else {
        cmp_bool(op, a, b, r, n);
    }
    ex_col_zero_nulls(c);
    out->col = c;
    return SL_OK;
}

/* ---- and / or / not / is null ---- */

/* SQL three-valued logic on bitmaps, 8 rows per byte. Per operand, T =
 * known true (value bit; null slots hold 0) and F = known false (valid and
 * not true). and: T = Ta & Tb, F = Fa | Fb; or: T = Ta | Tb, F = Fa & Fb;
 * not: T = Fa, F = Ta. Result value = T, validity = T | F. A scalar is read
 * through an index mask of 0. */
typedef struct bits3 {
    const uint8_t *val, *valid;
    size_t vmask, mmask; /* index masks: 0 = the same byte for every k */
    uint8_t sval, svalid;
} bits3;

static void bits3_init(bits3 *o, const ex_val *v)
{
    static const uint8_t all = 0xff;
    if (v->scalar) {
        o->sval = !v->s.null && v->s.i ? 0xff : 0;
        o->svalid = v->s.null ? 0 : 0xff;
        o->val = &o->sval;
        o->valid = &o->svalid;
        o->vmask = o->mmask = 0;
        return;
    }
    o->val = v->col->values;
    o->vmask = (size_t)-1;
    if (v->col->null_count) {
        o->valid = v->col->validity;
        o->mmask = (size_t)-1;
    } else {
        o->valid = &all;
        o->mmask = 0;
    }
}

static sl_rc eval_logic(ex_ctx *cx, ex_kind kind, const ex_val *a,
                        const ex_val *b, ex_val *out)
{
    int64_t n = cx->n;
    sl_column *c = ex_col_new(cx, SL_BOOL, n);
    if (!c || ex_col_ensure_validity(c) != SL_OK)
        return oom_release(cx, c);
    bits3 x, y;
    bits3_init(&x, a);
    bits3_init(&y, b ? b : a);
    uint8_t *rv = c->values, *rm = c->validity;
    size_t nb = nbytes(n);
    for (size_t k = 0; k < nb; k++) {
        uint8_t ta = x.val[k & x.vmask];
        uint8_t fa = (uint8_t)(x.valid[k & x.mmask] & ~ta);
        uint8_t tb = y.val[k & y.vmask];
        uint8_t fb = (uint8_t)(y.valid[k & y.mmask] & ~tb);
        uint8_t t, f;
        if (kind == EX_AND) {
            t = ta & tb;
            f = fa | fb;
        } else if (kind == EX_OR) {
            t = ta | tb;
            f = fa & fb;
        } else {
            t = fa;
            f = ta;
        }
        rv[k] = t;
        rm[k] = t | f;
    }
    if (n % 8) {
        rv[nb - 1] &= (uint8_t)((1u << (n % 8)) - 1);
        rm[nb - 1] &= (uint8_t)((1u << (n % 8)) - 1);
    }
    ex_col_recount(c);
    out->col = c;
    return SL_OK;
}

static sl_rc eval_isnull(ex_ctx *cx, int negate, const ex_val *a,
                         ex_val *out)
{
    int64_t n = cx->n;
    sl_column *c = ex_col_new(cx, SL_BOOL, n);
    if (!c)
        return ex_oom(cx->err);
    uint8_t *r = c->values;
    const uint8_t *v = a->col->null_count ? a->col->validity : NULL;
    size_t nb = nbytes(n);
    for (size_t k = 0; k < nb; k++) {
        uint8_t valid = v ? v[k] : 0xff;
        r[k] = negate ? valid : (uint8_t)~valid;
    }
    if (n % 8)
        r[nb - 1] &= (uint8_t)((1u << (n % 8)) - 1);
    out->col = c;
    return SL_OK;
}

/* ---- driver ---- */

static sl_rc eval_column(ex_ctx *cx, const ex_node *nd, ex_val *out)
{
    const sl_batch *b = cx->b;
    int idx = nd->colidx;
    if (!b)
        return sl_err_set(cx->err, SL_EINTERNAL,
                          "expression: column in a constant");
    /* The bound index is a hint: batches normally have the bound schema,
     * but a name lookup keeps a reordered batch working. */
    if (idx < 0 || idx >= b->schema->n ||
        strcmp(b->schema->fields[idx].name, nd->name) != 0)
        idx = sl_batch_find(b, nd->name);
    if (idx < 0)
        return sl_err_setloc(cx->err, SL_ESCHEMA, NULL, 0, nd->col,
                             "column '%s' (col %lld) is not in the batch",
                             nd->name, (long long)nd->col);
    sl_column *c = b->cols[idx];
    if (c->type != nd->type)
        return sl_err_setloc(cx->err, SL_ESCHEMA, NULL, 0, nd->col,
                             "column '%s' (col %lld) is %s in the batch but "
                             "the expression was checked against %s",
                             nd->name, (long long)nd->col,
                             sl_type_name(c->type), sl_type_name(nd->type));
    if (c->length != cx->n)
        return sl_err_set(cx->err, SL_EINTERNAL,
                          "column '%s' has %lld rows, batch has %lld",
                          nd->name, (long long)c->length, (long long)cx->n);
    out->col = sl_column_ref(c);
    return SL_OK;
}

sl_rc ex_eval_node(ex_ctx *cx, const ex_node *nd, ex_val *out)
{
    ex_val a = {0}, b = {0};
    sl_rc rc = SL_OK;
    memset(out, 0, sizeof *out);
    switch (nd->kind) {
    case EX_LIT:
        out->scalar = 1;
        out->s = nd->lit;
        /* While folding, operators get one-row columns, never scalars. */
        if (cx->fold)
            rc = ex_val_materialize(cx, out);
        return rc;
    case EX_COL: return eval_column(cx, nd, out);
    case EX_CALL: return ex_eval_call(cx, nd, out);
    default: break;
    }
    if ((rc = ex_eval_node(cx, nd->args[0], &a)) != SL_OK)
        goto out;
    if (nd->nargs > 1 && (rc = ex_eval_node(cx, nd->args[1], &b)) != SL_OK)
        goto out;
    switch (nd->kind) {
    case EX_CAST: rc = eval_cast(cx, nd, &a, out); break;
    case EX_NEG:
        if ((rc = ex_val_materialize(cx, &a)) == SL_OK)
            rc = eval_neg(cx, nd, &a, out);
        break;
    case EX_ARITH: rc = eval_arith(cx, nd, &a, &b, out); break;
    case EX_CMP: rc = eval_cmp(cx, nd, &a, &b, out); break;
    case EX_AND:
    case EX_OR: rc = eval_logic(cx, nd->kind, &a, &b, out); break;
    case EX_NOT: rc = eval_logic(cx, EX_NOT, &a, NULL, out); break;
    case EX_ISNULL:
        if ((rc = ex_val_materialize(cx, &a)) == SL_OK)
            rc = eval_isnull(cx, nd->op, &a, out);
        break;
    default:
        rc = sl_err_set(cx->err, SL_EINTERNAL, "expression: bad node");
        break;
    }
out:
    ex_val_release(cx, &a);
    ex_val_release(cx, &b);
    return rc;
}

sl_rc ex_fold(const ex_node *nd, sl_arena *arena, ex_scalar *out,
              sl_err *err)
{
    ex_ctx cx = {.e = NULL, .b = NULL, .n = 1, .err = err, .fold = 1};
    ex_val v;
    sl_rc rc = ex_eval_node(&cx, nd, &v);
    if (rc)
        return rc;
    memset(out, 0, sizeof *out);
    out->type = nd->type;
    if (v.scalar) {
        *out = v.s;
    } else {
        const sl_column *c = v.col;
        out->type = c->type;
        out->null = !sl_col_valid(c, 0) || c->type == SL_NULL;
        switch (out->null ? SL_NULL : c->type) {
        case SL_BOOL: out->i = sl_col_bool(c, 0); break;
        case SL_INT64:
        case SL_TIMESTAMP: out->i = sl_col_i64(c, 0); break;
        case SL_DATE: out->i = sl_col_i32(c, 0); break;
        case SL_FLOAT64: out->f = sl_col_f64(c, 0); break;
        case SL_STRING: {
            size_t len = (size_t)(c->offsets[1] - c->offsets[0]);
            const char *s = ex_sdata(c) + c->offsets[0];
            char *copy = sl_arena_alloc(arena, len + 1);
            if (!copy)
                rc = ex_oom(err);
            else {
                /* exact bytes: strings may hold NUL */
                memcpy(copy, s, len);
                copy[len] = '\0';
                out->s = copy;
                out->slen = len;
            }
            break;
        }
        default: break;
        }
    }
    ex_val_release(&cx, &v);
    return rc;
}

sl_rc sl_expr_eval(sl_expr *e, const sl_batch *b, sl_column **out,
                   sl_err *err)
{
    if (!e || !b || !out)
        return sl_err_set(err, SL_EINVAL, "sl_expr_eval: NULL argument");
    *out = NULL;
    if (!e->bound)
        return sl_err_set(err, SL_EINVAL,
                          "sl_expr_eval: expression is not bound");
    ex_ctx cx = {.e = e, .b = b, .n = b->nrows, .err = err, .fold = 0};
    ex_val v;
    sl_rc rc = ex_eval_node(&cx, e->bound, &v);
    if (rc == SL_OK)
        rc = ex_val_materialize(&cx, &v);
    if (rc == SL_OK) {
        *out = v.col;
        v.col = NULL;
    }
    ex_val_release(&cx, &v);
    return rc;
}
