/*
 * bins.c: histogram binning for the tree learners.
 *
 * Edges are computed once per training matrix, from a seeded sample of at
 * most `sample` rows (like LightGBM's bin_construct_sample_cnt): a feature
 * with at most max_bins distinct sampled values gets one bin per value,
 * cut halfway between neighbours; otherwise the cuts are the distinct
 * values at evenly spaced quantiles. Then every row is coded as a byte, in
 * row-major order (all features of a row in one cache line), which is what
 * both the forest (a few random features per node) and the boosted trees
 * (row-wise histograms) read.
 *
 * Invariant tying binning to prediction: row i is in bin b of feature f
 * exactly when x <= edges[f][b] and (b == 0 or x > edges[f][b-1]), with the
 * same float comparisons prediction uses, so a split "code <= b" on the
 * training codes is the split "x <= edges[f][b]" on raw values.
 */
#include <stdlib.h>
#include <string.h>

#include "ml_internal.h"
#include "sluice/mem.h"

typedef struct bins_job {
    const sl_matrix *m;
    sl_bins *b;
    const int64_t *sample; /* NULL = all rows */
    int64_t ns;
    int max_bins;
} bins_job;

/* LSD radix sort of n floats (no NaN) by their order-preserving bit
 * patterns, 3 passes of 11 bits; tmp holds n floats. */
static void sort_floats(float *v, float *tmp, int64_t n)
{
    uint32_t *a = (uint32_t *)v, *b = (uint32_t *)tmp;
    for (int64_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &v[i], 4);
        a[i] = u ^ ((u >> 31) ? 0xFFFFFFFFu : 0x80000000u);
    }
    for (int shift = 0; shift < 33; shift += 11) {
        int64_t cnt[2048] = {0};
        for (int64_t i = 0; i < n; i++)
            cnt[(a[i] >> shift) & 2047]++;
        int64_t sum = 0;
        for (int k = 0; k < 2048; k++) {
            int64_t c = cnt[k];
            cnt[k] = sum;
            sum += c;
        }
        for (int64_t i = 0; i < n; i++)
            b[cnt[(a[i] >> shift) & 2047]++] = a[i];
        uint32_t *t = a;
        a = b;
        b = t;
    }
    /* 3 passes: the sorted keys are in tmp */
    for (int64_t i = 0; i < n; i++) {
        uint32_t u = a[i];
        u ^= (u >> 31) ? 0x80000000u : 0xFFFFFFFFu;
        memcpy(&v[i], &u, 4);
    }
}

static sl_rc edges_task(void *ctx, int64_t f, sl_err *err)
{
    bins_job *job = ctx;
    const sl_matrix *m = job->m;
    sl_bins *b = job->b;
    int64_t ns = job->ns;
    const float *col = m->x + (size_t)f * (size_t)m->nrows;
    float *v = sl_malloc((size_t)ns * sizeof *v);
    float *tmp = sl_malloc((size_t)ns * sizeof *tmp);
    float *edges = sl_malloc((size_t)job->max_bins * sizeof *edges);
    sl_rc rc = SL_ENOMEM;
    if (!v || !tmp || !edges)
        goto out;
    for (int64_t i = 0; i < ns; i++)
        v[i] = col[job->sample ? job->sample[i] : i];
    sort_floats(v, tmp, ns);
    /* distinct values, in place */
    int64_t nd = 0;
    for (int64_t i = 0; i < ns; i++)
        if (nd == 0 || v[i] != v[nd - 1])
            v[nd++] = v[i];
    int ne = 0;
    if (nd <= job->max_bins) {
        for (int64_t k = 0; k + 1 < nd; k++) {
            float e = (float)((double)v[k] + ((double)v[k + 1] - v[k]) / 2);
            if (!(e >= v[k] && e < v[k + 1]))
                e = v[k]; /* rounding: keep v[k] left of v[k+1] */
            edges[ne++] = e;
        }
    } else {
        for (int q = 1; q < job->max_bins; q++) {
            float e = v[(int64_t)((double)q * (double)nd / job->max_bins)];
            if (ne == 0 || e > edges[ne - 1])
                edges[ne++] = e;
        }
        if (ne > 0 && edges[ne - 1] >= v[nd - 1])
            ne--; /* the maximum alone in an empty last bin is useless */
    }
    b->nbins[f] = (uint16_t)(ne + 1);
    b->edges[f] = edges;
    edges = NULL;
    rc = SL_OK;
out:
    sl_free(v);
    sl_free(tmp);
    sl_free(edges);
    if (rc != SL_OK)
        sl_err_set(err, rc, "out of memory while binning features");
    return rc;
}

#define CODE_CHUNK 8192

static sl_rc codes_task(void *ctx, int64_t chunk, sl_err *err)
{
    bins_job *job = ctx;
    const sl_matrix *m = job->m;
    sl_bins *b = job->b;
    int F = b->nfeatures;
    int64_t lo = chunk * CODE_CHUNK;
    int64_t hi = lo + CODE_CHUNK < m->nrows ? lo + CODE_CHUNK : m->nrows;
    for (int f = 0; f < F; f++) {
        const float *col = m->x + (size_t)f * (size_t)m->nrows;
        const float *e = b->edges[f];
        int ne = b->nbins[f] - 1;
        uint8_t *dst = b->codes + (size_t)f;
        for (int64_t i = lo; i < hi; i++) {
            /* branch-free lower bound: the number of edges < x, i.e. the
             * first k with x <= e[k] (or ne) */
            float x = col[i];
            const float *base = e;
            int len = ne;
            while (len > 1) {
                int half = len >> 1;
                base = base[half - 1] < x ? base + half : base;
                len -= half;
            }
            int l = (int)(base - e) + (ne > 0 && *base < x);
            dst[(size_t)i * (size_t)F] = (uint8_t)l;
        }
    }
    (void)err;
    return SL_OK;
}

void sl_bins_free(sl_bins *b)
{
    if (!b)
        return;
    for (int f = 0; b->edges && f < b->nfeatures; f++)
        sl_free(b->edges[f]);
    sl_free(b->edges);
    sl_free(b->nbins);
    sl_free(b->codes);
    sl_free(b);
}

sl_rc sl_bins_build(const sl_matrix *m, int max_bins, int64_t sample,
                    uint64_t seed, int threads, sl_bins **out, sl_err *err)
{
    sl_rc rc = SL_ENOMEM;
    int64_t *rows = NULL;
    sl_bins *b = sl_calloc(1, sizeof *b);
    *out = NULL;
    if (max_bins < 2 || max_bins > SL_MAX_BINS)
        max_bins = SL_MAX_BINS;
    if (!b)
        goto out;
    b->nfeatures = m->ncols;
    b->nrows = m->nrows;
    b->nbins = sl_calloc((size_t)m->ncols + 1, sizeof *b->nbins);
    b->edges = sl_calloc((size_t)m->ncols + 1, sizeof *b->edges);
    b->codes = sl_malloc((size_t)m->nrows * (size_t)m->ncols + 1);
    if (!b->nbins || !b->edges || !b->codes)
        goto out;
    bins_job job = {.m = m, .b = b, .ns = m->nrows, .max_bins = max_bins};
    if (sample > 0 && m->nrows > sample) {
        /* selection sampling: a sorted sample of exactly `sample` rows */
        sl_rng rng;
        sl_rng_seed(&rng, seed, 0xb1);
        if (!(rows = sl_malloc((size_t)sample * sizeof *rows)))
            goto out;
        int64_t need = sample, k = 0;
        for (int64_t i = 0; i < m->nrows && need > 0; i++) {
            if ((int64_t)sl_rng_below(&rng, (uint64_t)(m->nrows - i)) < need) {
                rows[k++] = i;
                need--;
            }
        }
        job.sample = rows;
        job.ns = sample;
    }
    if ((rc = sl_par_for(threads, m->ncols, edges_task, &job, err)) != SL_OK)
        goto out;
    rc = sl_par_for(threads, (m->nrows + CODE_CHUNK - 1) / CODE_CHUNK,
                    codes_task, &job, err);
out:
    if (rc == SL_ENOMEM)
        sl_err_set(err, rc, "out of memory while binning features");
    sl_free(rows);
    if (rc != SL_OK)
        sl_bins_free(b);
    else
        *out = b;
    return rc;
}
