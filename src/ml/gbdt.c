/*
 * gbdt.c: histogram gradient-boosted trees ("gbdt"): binary log loss,
 * multiclass softmax (one tree per class per iteration) and L2 regression.
 *
 * Per iteration: gradients and hessians from the current scores, then for
 * each tree a histogram learner over the binned features (bins.c): each
 * leaf keeps a histogram of (sum g, sum h, count) per feature bin; when a
 * leaf is split only the smaller child's histogram is built from its rows
 * and the larger one is the parent's minus it (the subtraction trick).
 * Growth is leaf-wise (split the leaf with the largest gain until
 * num_leaves, LightGBM's default) or depth-wise (level by level until
 * max_depth, XGBoost's). Gain, leaf values and constraints are LightGBM's:
 *   gain = GL^2/(HL+l2) + GR^2/(HR+l2) - G^2/(H+l2),
 *   leaf = -learning_rate * G/(H+l2),
 *   each child needs >= min_samples_leaf rows and >= min_child_weight
 *   hessian, and gain > min_split_gain.
 * Scores start from the prior (log-odds, log class frequencies, mean).
 *
 * Determinism: each feature's histogram is summed by one thread in row
 * order (rows stay sorted inside a leaf because partitions are stable), the
 * bagging and column sampling draw from per-iteration / per-tree streams of
 * the seed, and ties between splits go to the lowest feature and bin; so
 * the model does not depend on n_jobs.
 *
 * Early stopping (early_stopping_rounds > 0) holds out validation_fraction
 * of the rows (seeded), scores them after every iteration with the
 * training loss, and keeps the iterations up to the best one.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ml_internal.h"
#include "sluice/mem.h"

enum { GROW_LEAF, GROW_DEPTH };

typedef struct gb_params {
    int64_t n_estimators;
    double learning_rate;
    int64_t num_leaves;
    int64_t max_depth;
    int growth;
    double lambda_l2;
    double min_child_weight;
    int64_t min_samples_leaf;
    double min_split_gain;
    double subsample;
    double colsample_bytree;
    int64_t early_stopping_rounds;
    double validation_fraction;
    int64_t max_bins;
    int64_t random_state;
    int64_t n_jobs;
} gb_params;

#define P(f) offsetof(gb_params, f)
static const sl_model_param_def gb_defs[] = {
    {"n_estimators", "num_iterations", SL_MP_INT, "100", 1, 100000, NULL, 0,
     P(n_estimators), "Boosting iterations (trees per class)."},
    {"learning_rate", "eta", SL_MP_FLOAT, "0.1", 0, 10, NULL, SL_MP_MIN_OPEN,
     P(learning_rate), "Shrinkage applied to every leaf value."},
    {"num_leaves", NULL, SL_MP_INT, "31", 2, 131072, NULL, 0, P(num_leaves),
     "Leaves per tree at most (leaf-wise growth)."},
    {"max_depth", NULL, SL_MP_INT, "none", 1, 64, NULL, SL_MP_NONE,
     P(max_depth), "Depth limit; none = unlimited for leaf-wise growth, 6 "
     "for depth-wise growth."},
    {"growth", NULL, SL_MP_ENUM, "leafwise", 0, 0, "leafwise|depthwise", 0,
     P(growth), "leafwise splits the best leaf first (LightGBM); depthwise "
     "splits level by level (XGBoost)."},
    {"lambda_l2", "reg_lambda", SL_MP_FLOAT, "0", 0, 0, NULL, 0,
     P(lambda_l2), "L2 regularization of leaf values."},
    {"min_child_weight", "min_sum_hessian_in_leaf", SL_MP_FLOAT, "1e-3", 0, 0,
     NULL, 0, P(min_child_weight), "Smallest hessian sum in a leaf."},
    {"min_samples_leaf", "min_data_in_leaf", SL_MP_INT, "20", 1, 1e9, NULL, 0,
     P(min_samples_leaf), "Fewest rows in a leaf."},
    {"min_split_gain", NULL, SL_MP_FLOAT, "0", 0, 0, NULL, 0,
     P(min_split_gain), "Smallest gain worth a split."},
    {"subsample", "bagging_fraction", SL_MP_FLOAT, "1.0", 0, 1, NULL,
     SL_MP_MIN_OPEN, P(subsample),
     "Fraction of rows drawn (without replacement, seeded) per iteration."},
    {"colsample_bytree", "feature_fraction", SL_MP_FLOAT, "1.0", 0, 1, NULL,
     SL_MP_MIN_OPEN, P(colsample_bytree),
     "Fraction of features drawn (seeded) per tree."},
    {"early_stopping_rounds", NULL, SL_MP_INT, "0", 0, 1e9, NULL, 0,
     P(early_stopping_rounds), "Stop when the validation loss did not "
     "improve for this many iterations; 0 = off."},
    {"validation_fraction", NULL, SL_MP_FLOAT, "0.1", 0, 0.9, NULL,
     SL_MP_MIN_OPEN, P(validation_fraction),
     "Rows held out for early stopping."},
    {"max_bins", NULL, SL_MP_INT, "255", 2, 255, NULL, 0, P(max_bins),
     "Histogram bins per feature."},
    {"random_state", "seed", SL_MP_INT, "42", 0, 9.2e18, NULL, 0,
     P(random_state), "Seed of the bagging, column sampling and validation "
     "split."},
    {"n_jobs", NULL, SL_MP_INT, "2", 1, 256, NULL, SL_MP_RUNTIME, P(n_jobs),
     "Threads (does not change the model)."},
    {0}};
#undef P

typedef struct gb_state {
    int K;            /* trees per iteration: classes (> 2) or 1 */
    int64_t iters;
    double *init_k;   /* K initial scores */
    sl_tree *trees;   /* iters * K */
    double *gain;     /* split gain per feature */
    int64_t best_iter; /* -1 without early stopping */
} gb_state;

static void gb_free_state(void *state)
{
    gb_state *s = state;
    if (!s)
        return;
    for (int64_t t = 0; s->trees && t < s->iters * s->K; t++)
        sl_tree_clear(&s->trees[t]);
    sl_free(s->trees);
    sl_free(s->init_k);
    sl_free(s->gain);
    sl_free(s);
}

/* ---- histogram learner ---- */
typedef struct hbin {
    double g, h;
    int64_t n;
} hbin;

typedef struct split {
    int feature; /* -1: none */
    int bin;
    double gain;
    double gl, hl;
    int64_t nl;
} split;

typedef struct leaf {
    int64_t start, end; /* rows idx[start, end) */
    double g, h;
    int32_t node;
    int depth;
    hbin *hist;
    split best;
} leaf;

typedef struct gb_fit {
    const gb_params *p;
    const sl_bins *bins;
    int F;
    int64_t max_depth;  /* effective: 0 = none */
    int64_t max_leaves;
    int64_t *off;       /* bin offset of each feature in a histogram */
    int64_t B;          /* bins in a histogram */
    int *feats;         /* selected features of the current tree */
    int64_t *foff;      /* histogram offset of each selected feature */
    int nfeats;
    int ntasks;         /* tasks of the current reduce job */
    int nchunks;        /* row chunks of the current histogram job */
    int max_chunks;     /* chunk buffers in chunk_hist */
    hbin *chunk_hist;   /* max_chunks * B */
    const float *g, *h; /* current gradient / hessian (per row) */
    uint32_t *idx;      /* rows of the tree, grouped by leaf */
    uint32_t *tmp;
    leaf *leaves;
    int nleaves;
    hbin **free_hist;   /* spare histogram buffers */
    int nfree, nalloc;
    sl_pool *pool;
    double *gain;       /* per feature */
    /* current histogram job */
    hbin *job_hist;
    int64_t job_start, job_end;
} gb_fit;

static hbin *hist_get(gb_fit *f)
{
    if (f->nfree > 0)
        return f->free_hist[--f->nfree];
    hbin *h = sl_malloc((size_t)f->B * sizeof *h);
    if (h)
        f->nalloc++;
    return h;
}

static void hist_put(gb_fit *f, hbin *h)
{
    if (h)
        f->free_hist[f->nfree++] = h; /* capacity: every buffer ever made */
}

/* Histograms are built by row chunks: chunk c of the leaf's rows is summed
 * (all selected features, in row order) into its own buffer, then the
 * buffers are added in chunk order. The chunk boundaries depend only on
 * the leaf size, never on the thread count, so neither do the sums; and
 * each row's codes are read once, by one thread. */
#define HIST_CHUNK_ROWS 32768
#define HIST_MAX_CHUNKS 16

static void hist_rows(const gb_fit *f, hbin *H, int64_t lo, int64_t hi)
{
    const uint8_t *codes = f->bins->codes;
    const size_t F = (size_t)f->F;
    const int *feats = f->feats;
    const int64_t *foff = f->foff;
    const int nq = f->nfeats;
    for (int q = 0; q < nq; q++)
        memset(H + foff[q], 0, (size_t)f->bins->nbins[feats[q]] * sizeof(hbin));
    for (int64_t i = lo; i < hi; i++) {
        uint32_t r = f->idx[i];
        const uint8_t *row = codes + (size_t)r * F;
        if (i + 16 < hi) /* leaf rows are sorted but gapped */
            __builtin_prefetch(codes + (size_t)f->idx[i + 16] * F);
        double g = f->g[r], h = f->h[r];
        for (int q = 0; q < nq; q++) {
            hbin *b = &H[foff[q] + row[feats[q]]];
            b->g += g;
            b->h += h;
            b->n++;
        }
    }
}

static sl_rc chunk_task(void *ctx, int64_t c, sl_err *err)
{
    gb_fit *f = ctx;
    int64_t n = f->job_end - f->job_start;
    int64_t lo = f->job_start + c * n / f->nchunks;
    int64_t hi = f->job_start + (c + 1) * n / f->nchunks;
    (void)err;
    hist_rows(f, f->chunk_hist + (size_t)c * (size_t)f->B, lo, hi);
    return SL_OK;
}

/* Adds the chunk buffers, in chunk order, for a range of features. */
static sl_rc reduce_task(void *ctx, int64_t t, sl_err *err)
{
    gb_fit *f = ctx;
    int q0 = (int)(t * f->nfeats / f->ntasks);
    int q1 = (int)((t + 1) * f->nfeats / f->ntasks);
    (void)err;
    for (int q = q0; q < q1; q++) {
        int64_t o = f->foff[q];
        int nb = f->bins->nbins[f->feats[q]];
        hbin *dst = f->job_hist + o;
        memcpy(dst, f->chunk_hist + o, (size_t)nb * sizeof *dst);
        for (int c = 1; c < f->nchunks; c++) {
            const hbin *src = f->chunk_hist + (size_t)c * (size_t)f->B + o;
            for (int k = 0; k < nb; k++) {
                dst[k].g += src[k].g;
                dst[k].h += src[k].h;
                dst[k].n += src[k].n;
            }
        }
    }
    return SL_OK;
}

static void build_hist(gb_fit *f, hbin *hist, int64_t start, int64_t end)
{
    int64_t n = end - start;
    int64_t nc = (n + HIST_CHUNK_ROWS - 1) / HIST_CHUNK_ROWS;
    if (nc > f->max_chunks)
        nc = f->max_chunks;
    if (nc < 2) { /* same chunking whatever the thread count */
        hist_rows(f, hist, start, end);
        return;
    }
    f->job_hist = hist;
    f->job_start = start;
    f->job_end = end;
    f->nchunks = (int)nc;
    sl_pool_run(f->pool, nc, chunk_task, f, NULL);
    f->ntasks = sl_pool_threads(f->pool);
    if (f->ntasks > f->nfeats)
        f->ntasks = f->nfeats;
    sl_pool_run(f->pool, f->ntasks, reduce_task, f, NULL);
}

static double leaf_obj(double g, double h, double l2)
{
    return g * g / (h + l2);
}

static void find_split(const gb_fit *f, leaf *L)
{
    const gb_params *p = f->p;
    double l2 = p->lambda_l2;
    int64_t n = L->end - L->start;
    double parent = leaf_obj(L->g, L->h, l2);
    L->best = (split){.feature = -1};
    if (n < 2 * p->min_samples_leaf || L->h < 2 * p->min_child_weight ||
        (f->max_depth > 0 && L->depth >= f->max_depth))
        return;
    for (int q = 0; q < f->nfeats; q++) {
        int ft = f->feats[q];
        const hbin *H = L->hist + f->off[ft];
        int nb = f->bins->nbins[ft];
        double gl = 0, hl = 0;
        int64_t nl = 0;
        for (int b = 0; b + 1 < nb; b++) {
            gl += H[b].g;
            hl += H[b].h;
            nl += H[b].n;
            if (nl < p->min_samples_leaf || hl < p->min_child_weight)
                continue;
            int64_t nr = n - nl;
            double hr = L->h - hl;
            if (nr < p->min_samples_leaf || hr < p->min_child_weight)
                break;
            double gain = leaf_obj(gl, hl, l2) + leaf_obj(L->g - gl, hr, l2) -
                          parent;
            if (gain > p->min_split_gain &&
                (L->best.feature < 0 || gain > L->best.gain))
                L->best = (split){ft, b, gain, gl, hl, nl};
        }
    }
}

/* Stable partition of idx[start, end): left rows keep their order first. */
static int64_t partition(gb_fit *f, const leaf *L)
{
    const uint8_t *codes = f->bins->codes;
    int ft = L->best.feature, F = f->F;
    uint8_t b = (uint8_t)L->best.bin;
    int64_t w = L->start, nr = 0;
    for (int64_t i = L->start; i < L->end; i++) {
        /* branch-free: the side is a coin flip for the predictor */
        uint32_t r = f->idx[i];
        int left = codes[(size_t)r * (size_t)F + (size_t)ft] <= b;
        f->idx[w] = r;
        f->tmp[nr] = r;
        w += left;
        nr += !left;
    }
    memcpy(f->idx + w, f->tmp, (size_t)nr * sizeof *f->idx);
    return w;
}

/* Index of the next leaf to split, or -1. */
static int pick_leaf(const gb_fit *f)
{
    int best = -1;
    for (int i = 0; i < f->nleaves; i++) {
        const leaf *L = &f->leaves[i];
        if (L->best.feature < 0)
            continue;
        if (best < 0)
            best = i;
        else if (f->p->growth == GROW_DEPTH
                     ? L->depth < f->leaves[best].depth
                     : L->best.gain > f->leaves[best].best.gain)
            best = i;
    }
    return best;
}

/* Grows one tree over rows idx[0, n) with gradients f->g, f->h. */
static sl_rc grow_tree(gb_fit *f, int64_t n, sl_tree *t)
{
    const gb_params *p = f->p;
    int64_t max_leaves = f->max_leaves;
    sl_rc rc = SL_ENOMEM;
    f->nleaves = 0;
    int32_t root = sl_tree_add_node(t);
    hbin *hroot = hist_get(f);
    if (root < 0 || !hroot)
        goto out;
    leaf *L = &f->leaves[f->nleaves++];
    *L = (leaf){.start = 0, .end = n, .node = root, .hist = hroot};
    for (int64_t i = 0; i < n; i++) {
        L->g += f->g[f->idx[i]];
        L->h += f->h[f->idx[i]];
    }
    build_hist(f, hroot, 0, n);
    find_split(f, L);
    while (f->nleaves < max_leaves) {
        int li = pick_leaf(f);
        if (li < 0)
            break;
        leaf *P = &f->leaves[li];
        split s = P->best;
        int64_t mid = partition(f, P);
        int32_t l = sl_tree_add_node(t), r = sl_tree_add_node(t);
        hbin *hs = hist_get(f);
        if (l < 0 || r < 0 || !hs) {
            hist_put(f, hs);
            goto out;
        }
        P = &f->leaves[li]; /* (leaves never move, but keep it obvious) */
        t->nodes[P->node].feature = s.feature;
        t->nodes[P->node].threshold = f->bins->edges[s.feature][s.bin];
        t->nodes[P->node].left = l;
        t->nodes[P->node].right = r;
        t->tbin[P->node] = (uint8_t)s.bin;
        f->gain[s.feature] += s.gain;
        leaf left = {P->start, mid, s.gl, s.hl, l, P->depth + 1, NULL, {0}};
        leaf right = {mid, P->end, P->g - s.gl, P->h - s.hl, r, P->depth + 1,
                      NULL, {0}};
        int left_small = mid - P->start <= P->end - mid;
        leaf *small = left_small ? &left : &right;
        leaf *large = left_small ? &right : &left;
        build_hist(f, hs, small->start, small->end);
        hbin *hp = P->hist;
        for (int q = 0; q < f->nfeats; q++) {
            int ft = f->feats[q];
            hbin *a = hp + f->off[ft];
            const hbin *b = hs + f->off[ft];
            for (int k = 0; k < f->bins->nbins[ft]; k++) {
                a[k].g -= b[k].g;
                a[k].h -= b[k].h;
                a[k].n -= b[k].n;
            }
        }
        small->hist = hs;
        large->hist = hp;
        find_split(f, &left);
        find_split(f, &right);
        f->leaves[li] = left;
        f->leaves[f->nleaves++] = right;
    }
    rc = SL_OK;
    for (int i = 0; i < f->nleaves && rc == SL_OK; i++) {
        leaf *Q = &f->leaves[i];
        float v = (float)(-p->learning_rate * Q->g / (Q->h + p->lambda_l2));
        if (!(Q->h + p->lambda_l2 > 0))
            v = 0;
        rc = sl_tree_set_leaf(t, Q->node, &v, 1);
    }
out:
    for (int i = 0; i < f->nleaves; i++) {
        hist_put(f, f->leaves[i].hist);
        f->leaves[i].hist = NULL;
    }
    if (f->nleaves == 0)
        hist_put(f, hroot);
    return rc;
}

/* ---- boosting ---- */
typedef struct gb_train {
    const sl_matrix *m;
    int K;          /* score columns: classes (> 2) or 1 */
    int64_t n;
    double *F;      /* K * n scores */
    float *g, *h;   /* K * n */
    uint32_t *train, *valid;
    int64_t ntrain, nvalid;
} gb_train;

static double sigmoid(double z)
{
    return z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z));
}

/* Gradients of train rows [q0, q1) for every score column. */
static void gradients_range(gb_train *T, int nclasses, int64_t q0, int64_t q1)
{
    const sl_matrix *m = T->m;
    int64_t n = T->n;
    for (int64_t q = q0; q < q1; q++) {
        uint32_t i = T->train[q];
        if (nclasses == 0) {
            T->g[i] = (float)(T->F[i] - m->yv[i]);
            T->h[i] = 1;
        } else if (T->K == 1) {
            double pr = sigmoid(T->F[i]);
            T->g[i] = (float)(pr - (m->y[i] == 1));
            T->h[i] = (float)fmax(pr * (1 - pr), 1e-16);
        } else {
            double mx = -INFINITY, s = 0;
            for (int k = 0; k < T->K; k++)
                mx = fmax(mx, T->F[(size_t)k * (size_t)n + i]);
            for (int k = 0; k < T->K; k++)
                s += exp(T->F[(size_t)k * (size_t)n + i] - mx);
            double fac = (double)T->K / (T->K - 1);
            for (int k = 0; k < T->K; k++) {
                double pr = exp(T->F[(size_t)k * (size_t)n + i] - mx) / s;
                size_t at = (size_t)k * (size_t)n + i;
                T->g[at] = (float)(pr - (m->y[i] == k));
                T->h[at] = (float)fmax(fac * pr * (1 - pr), 1e-16);
            }
        }
    }
}

#define GRAD_CHUNK 16384

typedef struct grad_job {
    gb_train *T;
    int nclasses;
} grad_job;

static sl_rc grad_task(void *ctx, int64_t c, sl_err *err)
{
    grad_job *j = ctx;
    int64_t q0 = c * GRAD_CHUNK, q1 = q0 + GRAD_CHUNK;
    (void)err;
    gradients_range(j->T, j->nclasses, q0, q1 < j->T->ntrain ? q1 : j->T->ntrain);
    return SL_OK;
}

/* Gradients of every train row (rows are independent: any split of the
 * work gives the same values). */
static void gradients(gb_train *T, int nclasses, sl_pool *pool)
{
    grad_job j = {T, nclasses};
    sl_pool_run(pool, (T->ntrain + GRAD_CHUNK - 1) / GRAD_CHUNK, grad_task, &j,
                NULL);
}

/* Mean training loss of the validation rows. */
static double valid_loss(const gb_train *T, int nclasses)
{
    const sl_matrix *m = T->m;
    int64_t n = T->n;
    double s = 0;
    for (int64_t q = 0; q < T->nvalid; q++) {
        uint32_t i = T->valid[q];
        if (nclasses == 0) {
            double d = T->F[i] - m->yv[i];
            s += d * d;
        } else if (T->K == 1) {
            double z = T->F[i], y = m->y[i] == 1;
            s += (z > 0 ? z + log1p(exp(-z)) : log1p(exp(z))) - y * z;
        } else {
            double mx = -INFINITY, t = 0;
            for (int k = 0; k < T->K; k++)
                mx = fmax(mx, T->F[(size_t)k * (size_t)n + i]);
            for (int k = 0; k < T->K; k++)
                t += exp(T->F[(size_t)k * (size_t)n + i] - mx);
            s += mx + log(t) - T->F[(size_t)m->y[i] * (size_t)n + i];
        }
    }
    return s / (double)T->nvalid;
}

static void init_scores(gb_state *s, const sl_matrix *m, int nclasses)
{
    int64_t n = m->nrows;
    if (nclasses == 0) {
        double mean = 0;
        for (int64_t i = 0; i < n; i++)
            mean += m->yv[i];
        s->init_k[0] = mean / (double)n;
        return;
    }
    for (int k = 0; k < s->K; k++)
        s->init_k[k] = 0;
    double cnt[2] = {0, 0};
    if (s->K == 1) {
        for (int64_t i = 0; i < n; i++)
            cnt[m->y[i] == 1]++;
        double pr = fmin(fmax(cnt[1] / (double)n, 1e-15), 1 - 1e-15);
        s->init_k[0] = log(pr / (1 - pr));
        return;
    }
    for (int64_t i = 0; i < n; i++)
        s->init_k[m->y[i]] += 1;
    for (int k = 0; k < s->K; k++)
        s->init_k[k] = log(fmax(s->init_k[k] / (double)n, 1e-15));
}

/* Row split for early stopping: a seeded random nvalid rows. */
static sl_rc split_rows(gb_train *T, const gb_params *p)
{
    int64_t n = T->n;
    T->train = sl_malloc((size_t)n * sizeof *T->train);
    T->valid = sl_malloc((size_t)n * sizeof *T->valid);
    if (!T->train || !T->valid)
        return SL_ENOMEM;
    int64_t need = p->early_stopping_rounds > 0
                       ? (int64_t)ceil(p->validation_fraction * (double)n)
                       : 0;
    if (need >= n)
        need = n - 1;
    sl_rng rng;
    sl_rng_seed(&rng, (uint64_t)p->random_state, 7);
    for (int64_t i = 0; i < n; i++) {
        if (need > 0 &&
            (int64_t)sl_rng_below(&rng, (uint64_t)(n - i)) < need) {
            T->valid[T->nvalid++] = (uint32_t)i;
            need--;
        } else {
            T->train[T->ntrain++] = (uint32_t)i;
        }
    }
    return SL_OK;
}

/* Rows of the next tree (bagging) into f->idx; returns their count. */
static int64_t bag_rows(const gb_train *T, const gb_params *p, int64_t it,
                        uint32_t *idx)
{
    if (p->subsample >= 1) {
        memcpy(idx, T->train, (size_t)T->ntrain * sizeof *idx);
        return T->ntrain;
    }
    int64_t need = (int64_t)fmax(1, floor(p->subsample * (double)T->ntrain));
    int64_t k = 0;
    sl_rng rng;
    sl_rng_seed(&rng, (uint64_t)p->random_state, 1000 + (uint64_t)it);
    for (int64_t q = 0; q < T->ntrain && need > 0; q++) {
        if ((int64_t)sl_rng_below(&rng, (uint64_t)(T->ntrain - q)) < need) {
            idx[k++] = T->train[q];
            need--;
        }
    }
    return k;
}

static void pick_features(gb_fit *f, const gb_params *p, int64_t tree)
{
    int F = f->F;
    for (int q = 0; q < F; q++)
        f->feats[q] = q;
    f->nfeats = F;
    if (p->colsample_bytree >= 1)
        return;
    int want = (int)fmax(1, floor(p->colsample_bytree * F + 0.5));
    sl_rng rng;
    sl_rng_seed(&rng, (uint64_t)p->random_state, 2000000 + (uint64_t)tree);
    for (int q = 0; q < want; q++) {
        int r = q + (int)sl_rng_below(&rng, (uint64_t)(F - q));
        int t = f->feats[q];
        f->feats[q] = f->feats[r];
        f->feats[r] = t;
    }
    /* ascending, so ties between features break the same way always */
    for (int a = 1; a < want; a++) {
        int v = f->feats[a], c = a - 1;
        while (c >= 0 && f->feats[c] > v) {
            f->feats[c + 1] = f->feats[c];
            c--;
        }
        f->feats[c + 1] = v;
    }
    f->nfeats = want;
}

static void feature_offsets(gb_fit *f)
{
    for (int q = 0; q < f->nfeats; q++)
        f->foff[q] = f->off[f->feats[q]];
}

/* Adds tree t's values to score column k: in-bag rows through the leaf
 * ranges, every other train/valid row by walking the binned tree. */
static void update_scores(gb_fit *f, gb_train *T, const sl_tree *t, int k,
                          int64_t nbag, uint8_t *inbag)
{
    double *Fk = T->F + (size_t)k * (size_t)T->n;
    const uint8_t *codes = f->bins->codes;
    for (int i = 0; i < f->nleaves; i++) {
        const leaf *L = &f->leaves[i];
        double v = t->values[t->nodes[L->node].left];
        for (int64_t q = L->start; q < L->end; q++)
            Fk[f->idx[q]] += v;
    }
    int partial = nbag < T->ntrain;
    if (partial)
        for (int64_t q = 0; q < nbag; q++)
            inbag[f->idx[q]] = 1;
    for (int64_t q = 0; partial && q < T->ntrain; q++) {
        uint32_t r = T->train[q];
        if (!inbag[r])
            Fk[r] += *sl_tree_leaf_binned(t, codes + (size_t)r * (size_t)f->F);
    }
    if (partial)
        for (int64_t q = 0; q < nbag; q++)
            inbag[f->idx[q]] = 0;
    for (int64_t q = 0; q < T->nvalid; q++) {
        uint32_t r = T->valid[q];
        Fk[r] += *sl_tree_leaf_binned(t, codes + (size_t)r * (size_t)f->F);
    }
}

static sl_rc gb_fit_model(const void *params, const sl_model_info *info,
                          const sl_matrix *m, void **state, sl_err *err)
{
    const gb_params *p = params;
    int nclasses = info->task == SL_TASK_CLASSIFICATION ? info->nclasses : 0;
    int K = nclasses > 2 ? nclasses : 1;
    int64_t n = m->nrows;
    gb_train T = {.m = m, .K = K, .n = n};
    gb_fit f = {.p = p, .F = m->ncols};
    uint8_t *inbag = NULL;
    sl_bins *bins = NULL;
    sl_rc rc = SL_ENOMEM;
    gb_state *s = sl_calloc(1, sizeof *s);
    /* depth-wise: max_depth (6 when unset) bounds the leaves; leaf-wise:
     * num_leaves does */
    f.max_depth = p->growth == GROW_DEPTH && p->max_depth == 0 ? 6
                                                               : p->max_depth;
    int64_t max_leaves = p->growth == GROW_DEPTH
                             ? (int64_t)1 << (f.max_depth < 17 ? f.max_depth : 17)
                             : p->num_leaves;
    f.max_leaves = max_leaves;
    if (!s)
        goto out;
    if (n > UINT32_MAX) {
        rc = sl_err_set(err, SL_ELIMIT, "more than 2^32 training rows");
        goto out;
    }
    s->K = K;
    s->best_iter = -1;
    s->init_k = sl_calloc((size_t)K, sizeof *s->init_k);
    s->gain = sl_calloc((size_t)f.F, sizeof *s->gain);
    s->trees = sl_calloc((size_t)p->n_estimators * (size_t)K, sizeof *s->trees);
    T.F = sl_malloc((size_t)K * (size_t)n * sizeof *T.F);
    T.g = sl_calloc((size_t)K * (size_t)n, sizeof *T.g);
    T.h = sl_calloc((size_t)K * (size_t)n, sizeof *T.h);
    f.idx = sl_malloc((size_t)n * sizeof *f.idx);
    f.tmp = sl_malloc((size_t)n * sizeof *f.tmp);
    f.feats = sl_malloc((size_t)f.F * sizeof *f.feats);
    f.foff = sl_malloc((size_t)f.F * sizeof *f.foff);
    f.off = sl_malloc(((size_t)f.F + 1) * sizeof *f.off);
    f.leaves = sl_calloc((size_t)max_leaves + 1, sizeof *f.leaves);
    f.free_hist = sl_calloc((size_t)max_leaves + 2, sizeof *f.free_hist);
    inbag = sl_calloc((size_t)n, 1);
    if (!s->init_k || !s->gain || !s->trees || !T.F || !T.g || !T.h ||
        !f.idx || !f.tmp || !f.feats || !f.foff || !f.off || !f.leaves || !f.free_hist ||
        !inbag || split_rows(&T, p) != SL_OK)
        goto out;
    if ((rc = sl_bins_build(m, (int)p->max_bins, 200000,
                            (uint64_t)p->random_state, (int)p->n_jobs, &bins,
                            err)) != SL_OK)
        goto out;
    f.bins = bins;
    f.gain = s->gain;
    f.B = 0;
    for (int q = 0; q < f.F; q++) {
        f.off[q] = f.B;
        f.B += bins->nbins[q];
    }
    f.pool = sl_pool_new((int)p->n_jobs);
    /* chunk buffers: up to 16, at most ~64 MB in all */
    f.max_chunks = (int)fmin(HIST_MAX_CHUNKS,
                             fmax(2, (64 << 20) / ((double)f.B * sizeof(hbin))));
    f.chunk_hist = sl_malloc((size_t)f.max_chunks * (size_t)f.B *
                             sizeof(hbin));
    if (!f.chunk_hist) {
        rc = SL_ENOMEM;
        goto out;
    }
    init_scores(s, m, nclasses);
    for (int k = 0; k < K; k++)
        for (int64_t i = 0; i < n; i++)
            T.F[(size_t)k * (size_t)n + (size_t)i] = s->init_k[k];
    double best_loss = INFINITY;
    rc = SL_OK;
    for (int64_t it = 0; it < p->n_estimators && rc == SL_OK; it++) {
        gradients(&T, nclasses, f.pool);
        for (int k = 0; k < K && rc == SL_OK; k++) {
            int64_t ti = it * K + k;
            int64_t nbag = bag_rows(&T, p, it, f.idx);
            pick_features(&f, p, ti);
            feature_offsets(&f);
            f.g = T.g + (size_t)k * (size_t)n;
            f.h = T.h + (size_t)k * (size_t)n;
            if ((rc = grow_tree(&f, nbag, &s->trees[ti])) != SL_OK)
                break;
            update_scores(&f, &T, &s->trees[ti], k, nbag, inbag);
        }
        if (rc != SL_OK)
            break;
        s->iters = it + 1;
        if (p->early_stopping_rounds > 0 && T.nvalid > 0) {
            double l = valid_loss(&T, nclasses);
            if (l < best_loss) {
                best_loss = l;
                s->best_iter = it;
            } else if (it - s->best_iter >= p->early_stopping_rounds) {
                break;
            }
        }
    }
    if (rc == SL_OK && s->best_iter >= 0) {
        for (int64_t t = (s->best_iter + 1) * K; t < s->iters * K; t++)
            sl_tree_clear(&s->trees[t]);
        s->iters = s->best_iter + 1;
    }
    for (int64_t t = 0; rc == SL_OK && t < s->iters * K; t++)
        sl_tree_finish(&s->trees[t]);
out:
    if (rc == SL_ENOMEM)
        sl_err_set(err, rc, "out of memory");
    for (int i = 0; i < f.nfree; i++)
        sl_free(f.free_hist[i]);
    sl_pool_free(f.pool);
    sl_free(f.chunk_hist);
    sl_bins_free(bins);
    sl_free(f.free_hist);
    sl_free(f.leaves);
    sl_free(f.off);
    sl_free(f.feats);
    sl_free(f.foff);
    sl_free(f.tmp);
    sl_free(f.idx);
    sl_free(T.F);
    sl_free(T.g);
    sl_free(T.h);
    sl_free(T.train);
    sl_free(T.valid);
    sl_free(inbag);
    if (rc != SL_OK) {
        if (s)
            s->iters = p->n_estimators; /* free every tree started */
        gb_free_state(s);
    } else {
        *state = s;
    }
    return rc;
}

/* ---- prediction ---- */
#define PRED_CHUNK 1024

typedef struct gb_pred {
    const gb_state *s;
    const sl_matrix *x;
    sl_prediction *out;
    int nclasses;
} gb_pred;

static sl_rc pred_task(void *ctx, int64_t c, sl_err *err)
{
    gb_pred *q = ctx;
    const gb_state *s = q->s;
    int K = s->K;
    int64_t lo = c * PRED_CHUNK;
    int64_t hi = lo + PRED_CHUNK < q->x->nrows ? lo + PRED_CHUNK : q->x->nrows;
    double raw[PRED_CHUNK * 4];
    double *z = K <= 4 ? raw : sl_malloc((size_t)PRED_CHUNK * (size_t)K *
                                         sizeof *z);
    if (!z)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    for (int64_t i = lo; i < hi; i++)
        for (int k = 0; k < K; k++)
            z[(i - lo) * K + k] = s->init_k[k];
    for (int64_t it = 0; it < s->iters; it++)
        for (int k = 0; k < K; k++) {
            const sl_tree *t = &s->trees[it * K + k];
            for (int64_t i = lo; i < hi; i++)
                z[(i - lo) * K + k] += *sl_tree_leaf(t, q->x, i);
        }
    for (int64_t i = lo; i < hi; i++) {
        const double *zi = z + (i - lo) * K;
        if (q->nclasses == 0) {
            q->out->value[i] = zi[0];
        } else if (K == 1) {
            double p1 = sigmoid(zi[0]);
            q->out->proba[2 * i] = 1 - p1;
            q->out->proba[2 * i + 1] = p1;
        } else {
            double mx = -INFINITY, sum = 0;
            double *pr = q->out->proba + (size_t)i * (size_t)K;
            for (int k = 0; k < K; k++)
                mx = fmax(mx, zi[k]);
            for (int k = 0; k < K; k++)
                sum += pr[k] = exp(zi[k] - mx);
            for (int k = 0; k < K; k++)
                pr[k] /= sum;
        }
    }
    if (z != raw)
        sl_free(z);
    return SL_OK;
}

static sl_rc gb_predict(const void *params, const sl_model_info *info,
                        const void *state, const sl_matrix *x,
                        sl_prediction *out, sl_err *err)
{
    const gb_params *p = params;
    gb_pred q = {.s = state, .x = x, .out = out,
                 .nclasses = info->task == SL_TASK_CLASSIFICATION
                                 ? info->nclasses
                                 : 0};
    return sl_par_for((int)p->n_jobs, (x->nrows + PRED_CHUNK - 1) / PRED_CHUNK,
                      pred_task, &q, err);
}

/* ---- payload: u32 K, u64 iters, i64 best_iter, f64 init[K], trees
 * (iters * K), f64 gain[F] ---- */
static sl_rc gb_save(const void *params, const sl_model_info *info,
                     const void *state, sl_wbuf *w)
{
    const gb_state *s = state;
    (void)params;
    sl_wbuf_u32(w, (uint32_t)s->K);
    sl_wbuf_u64(w, (uint64_t)s->iters);
    sl_wbuf_u64(w, (uint64_t)s->best_iter);
    sl_wbuf_f64s(w, s->init_k, (size_t)s->K);
    for (int64_t t = 0; t < s->iters * s->K; t++)
        sl_tree_save(&s->trees[t], w);
    sl_wbuf_f64s(w, s->gain, (size_t)info->nfeatures);
    return SL_OK;
}

static sl_rc gb_load(const void *params, const sl_model_info *info,
                     uint32_t version, sl_rbuf *r, void **state, sl_err *err)
{
    uint32_t K;
    uint64_t iters, best;
    sl_rc rc;
    (void)params;
    (void)version;
    if ((rc = sl_rbuf_u32(r, &K)) != SL_OK)
        return rc;
    int want = info->task == SL_TASK_CLASSIFICATION && info->nclasses > 2
                   ? info->nclasses
                   : 1;
    if ((int64_t)K != want)
        return sl_rbuf_fail(r, "%u trees per iteration, expected %d", K, want);
    if ((rc = sl_rbuf_count(r, "iteration count", 100000, 24 * (size_t)K,
                            &iters)) ||
        (rc = sl_rbuf_u64(r, &best)))
        return rc;
    gb_state *s = sl_calloc(1, sizeof *s);
    if (!s)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    s->K = (int)K;
    s->best_iter = (int64_t)best;
    s->init_k = sl_calloc(K, sizeof *s->init_k);
    s->gain = sl_calloc((size_t)info->nfeatures, sizeof *s->gain);
    s->trees = sl_calloc((size_t)iters * K + 1, sizeof *s->trees);
    if (!s->init_k || !s->gain || !s->trees) {
        gb_free_state(s);
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    }
    s->iters = (int64_t)iters;
    if ((rc = sl_rbuf_f64s(r, s->init_k, K)) != SL_OK)
        goto fail;
    for (uint32_t k = 0; k < K; k++)
        if (!isfinite(s->init_k[k])) {
            rc = sl_rbuf_fail(r, "initial score is not finite");
            goto fail;
        }
    for (uint64_t t = 0; t < iters * K; t++)
        if ((rc = sl_tree_load(r, info->nfeatures, 1, &s->trees[t])) != SL_OK)
            goto fail;
    if ((rc = sl_rbuf_f64s(r, s->gain, (size_t)info->nfeatures)) != SL_OK)
        goto fail;
    *state = s;
    return SL_OK;
fail:
    gb_free_state(s);
    return rc;
}

static sl_rc gb_describe(const void *params, const sl_model_info *info,
                         const void *state, json_t *o)
{
    const gb_state *s = state;
    double tot = 0;
    (void)params;
    double *imp = sl_calloc((size_t)info->nfeatures + 1, sizeof *imp);
    if (!imp)
        return SL_ENOMEM;
    for (int q = 0; q < info->nfeatures; q++)
        tot += s->gain[q];
    for (int q = 0; q < info->nfeatures; q++)
        imp[q] = tot > 0 ? s->gain[q] / tot : 0;
    json_t *a = sl_json_doubles(imp, info->nfeatures);
    sl_free(imp);
    int ok = a && json_object_set_new(o, "feature_importances", a) == 0 &&
             json_object_set_new(o, "n_iterations", json_integer(s->iters)) == 0 &&
             json_object_set_new(o, "n_trees",
                                 json_integer(s->iters * s->K)) == 0;
    if (ok && s->best_iter >= 0)
        ok = json_object_set_new(o, "best_iteration",
                                 json_integer(s->best_iter + 1)) == 0;
    return ok ? SL_OK : SL_ENOMEM;
}

const sl_model_type sl_model_gbdt = {
    .abi_version = SL_MODEL_ABI_VERSION,
    .name = "gbdt",
    .doc = "Histogram gradient-boosted trees (LightGBM-style): binary log "
           "loss, multiclass softmax or L2 regression.",
    .tasks = (1u << SL_TASK_CLASSIFICATION) | (1u << SL_TASK_REGRESSION),
    .payload_version = 1,
    .params = gb_defs,
    .params_size = sizeof(gb_params),
    .fit = gb_fit_model,
    .predict_batch = gb_predict,
    .save = gb_save,
    .load = gb_load,
    .describe = gb_describe,
    .free_state = gb_free_state,
};
