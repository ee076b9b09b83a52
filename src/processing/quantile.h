/*
 * quantile.h: exact quantiles and medians of a column's training values,
 * with a stated memory bound.
 *
 * Values (non-null, non-NaN) are collected as doubles. Up to exact_max
 * values (default SL_QUANTILE_EXACT_MAX = 2^24, i.e. 128 MiB per column)
 * the results are exact and equal to numpy's: np.quantile / np.percentile
 * with the default method='linear', and np.median (mean of the two middle
 * values). Beyond that bound the collector switches to a uniform reservoir
 * sample of sample_size values (default SL_QUANTILE_SAMPLE = 2^20, 8 MiB):
 * Vitter's Algorithm R driven by a splitmix64 generator with a fixed seed,
 * so the same value sequence always gives the same sample and the same
 * result, whatever the batch sizes. The caller (a transform) logs a
 * warning when sl_quantile_sampled() says the result is approximate.
 */
#ifndef SL_QUANTILE_H
#define SL_QUANTILE_H

#include <stdint.h>

#include "sluice/batch.h"
#include "sluice/error.h"

#define SL_QUANTILE_EXACT_MAX ((int64_t)1 << 24)
#define SL_QUANTILE_SAMPLE ((int64_t)1 << 20)
#define SL_QUANTILE_SEED UINT64_C(0x9e3779b97f4a7c15)

typedef struct sl_quantile {
    double *v;           /* collected values (sorted after finish) */
    int64_t n, cap;      /* values held, capacity */
    int64_t seen;        /* values offered (n == seen until sampling) */
    int64_t exact_max;   /* switch to sampling beyond this many values */
    int64_t sample_size; /* reservoir size once sampling */
    uint64_t rng;
    int sampled; /* 1 once the reservoir replaced the exact values */
    int sorted;  /* 1 after sl_quantile_finish */
} sl_quantile;

/* Default bounds. */
void sl_quantile_init(sl_quantile *q);
/* Custom bounds (tests); 1 <= sample_size <= exact_max. */
void sl_quantile_init_bounds(sl_quantile *q, int64_t exact_max,
                             int64_t sample_size);
void sl_quantile_free(sl_quantile *q);

/* Offers one value (NaN is ignored). SL_ENOMEM. */
sl_rc sl_quantile_add(sl_quantile *q, double x);
/* Offers every non-null, non-NaN value of a bool/int64/float64 column. */
sl_rc sl_quantile_add_column(sl_quantile *q, const sl_column *c);
/* Sorts the values; call once after the last add. */
void sl_quantile_finish(sl_quantile *q);

static inline int sl_quantile_sampled(const sl_quantile *q)
{
    return q->sampled;
}

/* After finish, with q->n > 0: numpy's linear quantile, p in [0, 1]. */
double sl_quantile_at(const sl_quantile *q, double p);
/* After finish, with q->n > 0: numpy's median. */
double sl_quantile_median(const sl_quantile *q);

/* The same on an ascending array of n > 0 values without NaN. */
double sl_quantile_sorted(const double *x, int64_t n, double p);
double sl_median_sorted(const double *x, int64_t n);

#endif
