/*
 * ml_internal.h: helpers shared by the model types of src/ml/.
 *
 *   sl_wbuf / sl_rbuf  little-endian model-file payload writer and a
 *                      bounds-checked reader (serial.c). The reader never
 *                      reads past its buffer and refuses counts that the
 *                      remaining bytes cannot hold, so a corrupt file can
 *                      not make a model allocate more than the file's size
 *                      times a small factor.
 *   sl_rng             seeded xoshiro256** streams (deterministic, cheap to
 *                      derive one per tree / per epoch).
 *   sl_par_for         run n tasks on up to `threads` threads (pool.c); the
 *                      work split never depends on the thread count, so
 *                      results do not either.
 *   sl_bins            quantile histogram binning of a matrix (bins.c).
 *   sl_tree            binary decision trees shared by the forest and the
 *                      boosted trees (tree.c).
 */
#ifndef SLUICE_ML_INTERNAL_H
#define SLUICE_ML_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "sluice/error.h"
#include "sluice/matrix.h"
#include "sluice/model.h"

/* ---- payload writer / reader (serial.c) ---- */
typedef struct sl_wbuf {
    uint8_t *p;
    size_t n, cap;
    int failed; /* sticky: an allocation failed, contents are incomplete */
} sl_wbuf;

void sl_wbuf_u8(sl_wbuf *w, uint8_t v);
void sl_wbuf_u32(sl_wbuf *w, uint32_t v);
void sl_wbuf_u64(sl_wbuf *w, uint64_t v);
void sl_wbuf_i32(sl_wbuf *w, int32_t v);
void sl_wbuf_f32(sl_wbuf *w, float v);
void sl_wbuf_f64(sl_wbuf *w, double v);
void sl_wbuf_bytes(sl_wbuf *w, const void *p, size_t n);
void sl_wbuf_str(sl_wbuf *w, const char *s); /* u32 length + bytes */
void sl_wbuf_f32s(sl_wbuf *w, const float *v, size_t n);
void sl_wbuf_f64s(sl_wbuf *w, const double *v, size_t n);
/* SL_ENOMEM when any write failed, else SL_OK. */
sl_rc sl_wbuf_status(const sl_wbuf *w, sl_err *err);

typedef struct sl_rbuf {
    const uint8_t *p;
    size_t n, pos;
    sl_err *err;
    const char *what; /* names the file in messages */
} sl_rbuf;

/* Each returns SL_OK or SL_EPARSE ("<what>: truncated ... at byte N"). */
sl_rc sl_rbuf_u8(sl_rbuf *r, uint8_t *v);
sl_rc sl_rbuf_u32(sl_rbuf *r, uint32_t *v);
sl_rc sl_rbuf_u64(sl_rbuf *r, uint64_t *v);
sl_rc sl_rbuf_i32(sl_rbuf *r, int32_t *v);
sl_rc sl_rbuf_f32(sl_rbuf *r, float *v);
sl_rc sl_rbuf_f64(sl_rbuf *r, double *v);
/* A count that must be <= max and whose items (elem bytes each, at least)
 * must fit in the rest of the buffer. */
sl_rc sl_rbuf_count(sl_rbuf *r, const char *name, uint64_t max, size_t elem,
                    uint64_t *v);
/* Newly allocated NUL-terminated string (no embedded NUL allowed). */
sl_rc sl_rbuf_str(sl_rbuf *r, char **s);
sl_rc sl_rbuf_f32s(sl_rbuf *r, float *v, size_t n);
sl_rc sl_rbuf_f64s(sl_rbuf *r, double *v, size_t n);
/* SL_EPARSE "<what>: <msg> at byte N". */
sl_rc sl_rbuf_fail(sl_rbuf *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

uint32_t sl_crc32(uint32_t crc, const void *p, size_t n);

/* ---- random numbers ---- */
typedef struct sl_rng {
    uint64_t s[4];
} sl_rng;

static inline uint64_t sl_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Stream `stream` of seed: independent streams for trees, epochs, ... */
static inline void sl_rng_seed(sl_rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xd1342543de82ef95ULL + 0x632be59bd9b4e019ULL);
    for (int i = 0; i < 4; i++)
        r->s[i] = sl_splitmix64(&x);
}

static inline uint64_t sl_rng_next(sl_rng *r)
{
    uint64_t *s = r->s;
    uint64_t t = s[1] << 17;
    uint64_t res = s[1] * 5;
    res = ((res << 7) | (res >> 57)) * 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return res;
}

/* Uniform in [0, n) (Lemire's multiply-shift, unbiased). n >= 1. */
static inline uint64_t sl_rng_below(sl_rng *r, uint64_t n)
{
    uint64_t x = sl_rng_next(r);
    __uint128_t m = (__uint128_t)x * n;
    uint64_t l = (uint64_t)m;
    if (l < n) {
        uint64_t t = -n % n;
        while (l < t) {
            x = sl_rng_next(r);
            m = (__uint128_t)x * n;
            l = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

/* Uniform in [0, 1). */
static inline double sl_rng_double(sl_rng *r)
{
    return (double)(sl_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* ---- parallel loops (pool.c) ---- */
/* Calls fn(ctx, i) for i in [0, n) on up to `threads` threads (the caller
 * is one of them) and returns the first failing rc by index order. Tasks
 * must be independent. Falls back to running inline when threads <= 1 or
 * a thread cannot be started. */
typedef sl_rc (*sl_par_fn)(void *ctx, int64_t i, sl_err *err);
sl_rc sl_par_for(int threads, int64_t n, sl_par_fn fn, void *ctx,
                 sl_err *err);
/* A persistent pool for trainers that run many short parallel loops. A
 * NULL pool (allocation failure) runs jobs inline, so callers need not
 * check sl_pool_new. */
typedef struct sl_pool sl_pool;
sl_pool *sl_pool_new(int threads);
int sl_pool_threads(const sl_pool *p);
sl_rc sl_pool_run(sl_pool *p, int64_t n, sl_par_fn fn, void *ctx,
                  sl_err *err);
void sl_pool_free(sl_pool *p);

/* ---- histogram binning (bins.c) ---- */
#define SL_MAX_BINS 255

typedef struct sl_bins {
    int nfeatures;
    int64_t nrows;
    uint16_t *nbins;   /* per feature, 1..SL_MAX_BINS */
    float **edges;     /* per feature nbins-1 ascending upper edges: value v
                          is in the first bin b with v <= edges[b], else in
                          the last bin */
    uint8_t *codes;    /* row-major nrows * nfeatures bin codes */
} sl_bins;

/* Bin edges from (a seeded sample of at most `sample` rows of) m and the
 * codes of every row of m. A feature with <= max_bins distinct values gets
 * one bin per value, cut at the midpoints (like sklearn's
 * HistGradientBoosting); otherwise at quantiles of the distinct values. */
sl_rc sl_bins_build(const sl_matrix *m, int max_bins, int64_t sample,
                    uint64_t seed, int threads, sl_bins **out, sl_err *err);
void sl_bins_free(sl_bins *b);

/* ---- trees (tree.c) ---- */
typedef struct sl_tree_node {
    int32_t feature;   /* -1 for a leaf */
    float threshold;   /* go left when x <= threshold */
    int32_t left;      /* child index; leaf: index of its first value */
    int32_t right;     /* child index; leaf: unused (0) */
} sl_tree_node;

typedef struct sl_tree {
    int32_t nnodes, nodes_cap;
    sl_tree_node *nodes;
    int32_t nvalues, values_cap; /* floats in values */
    float *values;               /* per leaf: `width` floats */
    uint8_t *tbin;               /* training only: threshold bin per node */
} sl_tree;

void sl_tree_clear(sl_tree *t);
/* Appends a node; returns its index or -1 on allocation failure. */
int32_t sl_tree_add_node(sl_tree *t);
/* Makes node a leaf with `width` values (copied); SL_ENOMEM on failure. */
sl_rc sl_tree_set_leaf(sl_tree *t, int32_t node, const float *v, int width);
/* Leaf values reached by row i of m. */
static inline const float *sl_tree_leaf(const sl_tree *t, const sl_matrix *m,
                                        int64_t i)
{
    const sl_tree_node *nd = t->nodes;
    int32_t k = 0;
    while (nd[k].feature >= 0)
        k = sl_matrix_at(m, i, nd[k].feature) <= nd[k].threshold
                ? nd[k].left
                : nd[k].right;
    return t->values + nd[k].left;
}
/* Same over bin codes (training time; needs tbin). */
static inline const float *sl_tree_leaf_binned(const sl_tree *t,
                                               const uint8_t *row)
{
    const sl_tree_node *nd = t->nodes;
    int32_t k = 0;
    while (nd[k].feature >= 0)
        k = row[nd[k].feature] <= t->tbin[k] ? nd[k].left : nd[k].right;
    return t->values + nd[k].left;
}
/* Releases the training-only arrays and shrinks to fit. */
void sl_tree_finish(sl_tree *t);
void sl_tree_save(const sl_tree *t, sl_wbuf *w);
/* Validates structure: child indices in range and pointing forward (so
 * every path ends), leaf value ranges inside values, features < nfeatures,
 * thresholds not NaN. */
sl_rc sl_tree_load(sl_rbuf *r, int nfeatures, int width, sl_tree *t);

/* ---- parameter table helpers (params.c) ---- */
/* Fill a params struct (zeroed) from the table defaults, then from kv. */
sl_rc sl_mparams_apply(const sl_model_type *type, const sl_model_param *kv,
                       int n, void *params, sl_err *err);
/* Value of entry d in params as text. */
void sl_mparam_format(const sl_model_param_def *d, const void *params,
                      char *buf, size_t n);
/* Feature importances helper for describe(): a JSON array of doubles. */
struct json_t *sl_json_doubles(const double *v, int n);
/* Parses "64,32" into at most max ints in [1, limit]. */
sl_rc sl_parse_int_list(const char *key, const char *s, int *out, int max,
                        int limit, int *n, sl_err *err);

#define SL_PARAM(T, f) offsetof(T, f)

#endif
