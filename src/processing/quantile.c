/*
 * quantile.c: bounded exact quantiles (see quantile.h for the contract).
 *
 * Invariants: before sampling, v[0..n) are the values offered so far in
 * order and n == seen <= exact_max. After the switch, v[0..n) with
 * n == sample_size is a uniform sample of the `seen` values: Algorithm R
 * run from the first value on, so the result is what a reservoir kept from
 * the start would hold (the switch only avoids spending random numbers
 * while the exact values still fit).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "processing/quantile.h"
#include "sluice/mem.h"

void sl_quantile_init_bounds(sl_quantile *q, int64_t exact_max,
                             int64_t sample_size)
{
    memset(q, 0, sizeof *q);
    if (exact_max < 1)
        exact_max = 1;
    if (sample_size < 1)
        sample_size = 1;
    if (sample_size > exact_max)
        sample_size = exact_max;
    q->exact_max = exact_max;
    q->sample_size = sample_size;
    q->rng = SL_QUANTILE_SEED;
}

void sl_quantile_init(sl_quantile *q)
{
    sl_quantile_init_bounds(q, SL_QUANTILE_EXACT_MAX, SL_QUANTILE_SAMPLE);
}

void sl_quantile_free(sl_quantile *q)
{
    sl_free(q->v);
    q->v = NULL;
    q->n = q->cap = 0;
}

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Uniform-enough integer in [0, m): the modulo bias is below m / 2^64. */
static inline int64_t below(sl_quantile *q, int64_t m)
{
    return (int64_t)(splitmix64(&q->rng) % (uint64_t)m);
}

/* Replace the exact values by a reservoir sample of them. */
static void start_sampling(sl_quantile *q)
{
    int64_t s = q->sample_size;
    for (int64_t i = s; i < q->n; i++) {
        int64_t j = below(q, i + 1);
        if (j < s)
            q->v[j] = q->v[i];
    }
    q->n = s;
    double *nv = sl_realloc(q->v, (size_t)s * sizeof *nv);
    if (nv) { /* shrinking; keeping the larger block is harmless */
        q->v = nv;
        q->cap = s;
    }
    q->sampled = 1;
}

sl_rc sl_quantile_add(sl_quantile *q, double x)
{
    if (isnan(x))
        return SL_OK;
    if (!q->sampled && q->n == q->exact_max)
        start_sampling(q);
    if (q->sampled) {
        int64_t j = below(q, q->seen + 1);
        if (j < q->n)
            q->v[j] = x;
        q->seen++;
        return SL_OK;
    }
    if (q->n == q->cap) {
        size_t cap = (size_t)q->cap;
        size_t need = (size_t)q->n + 1;
        if (sl_grow((void **)&q->v, &cap, need, sizeof *q->v))
            return SL_ENOMEM;
        if ((int64_t)cap > q->exact_max) {
            /* Never hold more than the bound. */
            double *nv = sl_realloc(q->v, (size_t)q->exact_max * sizeof *nv);
            if (nv)
                q->v = nv;
            cap = (size_t)q->exact_max;
        }
        q->cap = (int64_t)cap;
    }
    q->v[q->n++] = x;
    q->seen++;
    q->sorted = 0;
    return SL_OK;
}

sl_rc sl_quantile_add_column(sl_quantile *q, const sl_column *c)
{
    int has_nulls = c->null_count > 0 && c->validity;
    for (int64_t i = 0; i < c->length; i++) {
        if (has_nulls && !sl_bit_get(c->validity, i))
            continue;
        double x;
        switch (c->type) {
        case SL_FLOAT64:
            x = sl_col_f64(c, i);
            break;
        case SL_INT64:
            x = (double)sl_col_i64(c, i);
            break;
        case SL_BOOL:
            x = sl_col_bool(c, i);
            break;
        default:
            return SL_OK;
        }
        sl_rc rc = sl_quantile_add(q, x);
        if (rc != SL_OK)
            return rc;
    }
    return SL_OK;
}

/* Total order on non-NaN doubles, -0.0 before 0.0, so the sorted array
 * (and every result) does not depend on the sort algorithm. */
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    if (x < y)
        return -1;
    if (x > y)
        return 1;
    return (signbit(y) != 0) - (signbit(x) != 0);
}

void sl_quantile_finish(sl_quantile *q)
{
    if (!q->sorted && q->n > 1)
        qsort(q->v, (size_t)q->n, sizeof *q->v, cmp_double);
    q->sorted = 1;
}

double sl_quantile_sorted(const double *x, int64_t n, double p)
{
    if (p <= 0.0 || n == 1)
        return x[0];
    if (p >= 1.0)
        return x[n - 1];
    /* numpy 'linear': virtual index (n - 1) * p, then _lerp, which for
     * gamma >= 0.5 interpolates from the upper neighbour (better
     * rounding near it). */
    double h = (double)(n - 1) * p;
    double lo = floor(h);
    int64_t i = (int64_t)lo;
    if (i >= n - 1)
        return x[n - 1];
    double g = h - lo, a = x[i], b = x[i + 1];
    if (g == 0.0 || (a == b && isinf(a)))
        return a; /* inf - inf would give NaN */
    double d = b - a;
    return g >= 0.5 ? b - d * (1.0 - g) : a + d * g;
}

double sl_median_sorted(const double *x, int64_t n)
{
    if (n % 2)
        return x[n / 2];
    double a = x[n / 2 - 1], b = x[n / 2];
    double s = a + b;
    if (isinf(s) && isfinite(a) && isfinite(b))
        return a / 2 + b / 2; /* the sum overflowed, the mean does not */
    return s / 2;
}

double sl_quantile_at(const sl_quantile *q, double p)
{
    return sl_quantile_sorted(q->v, q->n, p);
}

double sl_quantile_median(const sl_quantile *q)
{
    return sl_median_sorted(q->v, q->n);
}
