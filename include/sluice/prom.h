/*
 * prom.h: the process-wide Prometheus metrics registry.
 *
 * Any module registers its metric families once (typically at start-up)
 * and updates series from any thread; `sluice serve` renders everything on
 * GET /metrics in the text exposition format 0.0.4 (# HELP / # TYPE,
 * escaped label values, histograms as cumulative _bucket{le=...} lines
 * with +Inf, _sum and _count).
 *
 *     static const char *const labels[] = {"pipeline", NULL};
 *     sl_prom_family *f;
 *     sl_prom_register(SL_PROM_COUNTER, "sluice_records_in_total",
 *                      "Records read.", labels, NULL, 0, &f, err);
 *     sl_prom_series *s = sl_prom_with(f, "churn");  // look up once...
 *     sl_prom_add(s, (double)batch->nrows);          // ...update often
 *
 * Families: a name ([a-zA-Z_:][a-zA-Z0-9_:]*), help text, a type and up
 * to SL_PROM_MAX_LABELS label names. Registering a name again with the
 * same type, labels and buckets returns the existing family, so two
 * components (or two servers in one test process) can share it; any
 * difference is SL_ECONFIG.
 *
 * Series: one per combination of label values, created on first use and
 * never freed before sl_prom_reset(), so a series pointer can be cached
 * and updated without locks (values are C11 atomics). A family holds at
 * most SL_PROM_MAX_SERIES series; beyond that (and on allocation failure,
 * or when given a NULL family) updates go to a sink series that is never
 * rendered: metrics never fail or crash the caller, and a label fed from
 * untrusted input cannot grow memory without bound.
 *
 * Thread safety: every function may be called from any thread at any
 * time, except sl_prom_reset() (no concurrent use).
 */
#ifndef SLUICE_PROM_H
#define SLUICE_PROM_H

#include <stddef.h>

#include "error.h"

#define SL_PROM_MAX_LABELS 8
#define SL_PROM_MAX_SERIES 10000
#define SL_PROM_MAX_BUCKETS 64

typedef enum sl_prom_type {
    SL_PROM_COUNTER = 1, /* only goes up; name should end in _total */
    SL_PROM_GAUGE,       /* set / add freely */
    SL_PROM_HISTOGRAM    /* observations counted in fixed buckets */
} sl_prom_type;

typedef struct sl_prom_family sl_prom_family;
typedef struct sl_prom_series sl_prom_series;

/* Register (or find) a family. labels: NULL-terminated label names, or
 * NULL for none ("le" is reserved for histograms, "__" prefixes for
 * Prometheus). Histograms: buckets are the finite upper bounds, strictly
 * increasing (+Inf is implicit); buckets == NULL selects
 * sl_prom_latency_buckets. A family without labels gets its single series
 * at once, so it renders as 0 before the first update. */
sl_rc sl_prom_register(sl_prom_type type, const char *name, const char *help,
                       const char *const *labels, const double *buckets,
                       int nbuckets, sl_prom_family **out, sl_err *err);

/* Default histogram buckets: latencies in seconds, 50 us .. 10 s. */
#define SL_PROM_LATENCY_BUCKETS_N 16
extern const double sl_prom_latency_buckets[SL_PROM_LATENCY_BUCKETS_N];

/* The series with these label values (one per label of f, in order;
 * NULL values are taken as ""). Never NULL (see the sink above). */
sl_prom_series *sl_prom_series_get(sl_prom_family *f,
                                   const char *const *values);
/* Same with the values as arguments: exactly as many as f has labels. */
sl_prom_series *sl_prom_with(sl_prom_family *f, ...);

void sl_prom_inc(sl_prom_series *s);             /* counter or gauge +1 */
void sl_prom_add(sl_prom_series *s, double v);   /* counters ignore v < 0 */
void sl_prom_set(sl_prom_series *s, double v);   /* gauges only */
void sl_prom_observe(sl_prom_series *s, double v); /* histograms only */
/* Counter/gauge value, or a histogram's observation count. */
double sl_prom_value(const sl_prom_series *s);
/* Histogram: observations <= bucket bound i (cumulative); i == nbuckets is
 * +Inf. 0 for other types or i out of range. */
double sl_prom_bucket(const sl_prom_series *s, int i);

/* Hide a series from the output (e.g. a version-info gauge for a model
 * version no longer served). The pointer stays valid; looking the series
 * up again shows it again with its value reset to zero. */
void sl_prom_series_remove(sl_prom_series *s);

/* The whole registry in the text format, families sorted by name, series
 * in creation order. *text is NUL-terminated, sl_malloc'ed (caller
 * sl_frees it); *len excludes the NUL. */
sl_rc sl_prom_render(char **text, size_t *len, sl_err *err);

/* Content-Type of the rendered text. */
#define SL_PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Drop every family and series (tests; no concurrent use, and every
 * family/series pointer obtained before is invalid afterwards). */
void sl_prom_reset(void);

#endif
