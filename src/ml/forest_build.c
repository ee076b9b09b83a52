/*
 * forest_build.c: grows one random-forest tree over binned features.
 *
 * Depth-first over a stack of nodes, each a range [start, end) of the
 * in-bag samples array and its statistics (class weights, or weight / sum
 * / sum of squares of the target), which the parent's partition pass
 * computed, so a node is read only twice: once to build the histograms of
 * all the features it tries (one pass for the whole batch of max_features
 * features: a row's codes share a cache line), once to partition.
 *
 * Histograms are sparse for small nodes: each feature keeps the list of
 * bins it touched, sorted only when short, and only those are scanned and
 * cleared, so a deep node costs O(rows), not O(255).
 *
 * sklearn semantics kept: features are drawn without replacement, the
 * first max_features are tried, and more are drawn one by one while every
 * feature tried so far was constant in the node; a node is a leaf when it
 * is pure, at max_depth, smaller than min_samples_split or
 * 2 x min_samples_leaf, or when no split leaves min_samples_leaf rows on
 * both sides; ties keep the first feature drawn and the lowest threshold.
 */
#include <math.h>
#include <string.h>

#include "forest.h"
#include "sluice/mem.h"

#define NB (SL_MAX_BINS + 1)
#define EPS 2.220446049250313e-16
#define PREFETCH 16

typedef struct sample {
    uint32_t row;
    float w; /* bootstrap count x class weight */
    union {
        int32_t y; /* class */
        float v;   /* regression target */
    } t;
} sample;

typedef struct job {
    int64_t start, end;
    int32_t node, depth;
} job;

typedef struct ws {
    const rf_fit *f;
    int K, S;        /* classes; doubles of node statistics */
    sample *s, *tmp;
    uint32_t *counts;
    /* per tried feature q: histograms and touched-bin lists */
    double *hw;      /* q * NB * max(K,1) weights */
    double *hs;      /* q * NB target sums (regression) */
    int32_t *hn;     /* q * NB rows */
    uint16_t *touched; /* q * NB */
    int *nt;         /* q */
    int *perm;       /* F */
    int *tried;      /* features of the current batch */
    double *left, *right, *cur; /* S-sized stats scratch */
    float *leafv;
    job *stack;
    double *stats;   /* S doubles per stack entry */
    size_t cap;
} ws;

void sl_rf_bootstrap(sl_rng *rng, int64_t n, uint32_t *counts)
{
    memset(counts, 0, (size_t)n * sizeof *counts);
    for (int64_t i = 0; i < n; i++)
        counts[sl_rng_below(rng, (uint64_t)n)]++;
}

static void ws_free(ws *w)
{
    sl_free(w->s);
    sl_free(w->tmp);
    sl_free(w->counts);
    sl_free(w->hw);
    sl_free(w->hs);
    sl_free(w->hn);
    sl_free(w->touched);
    sl_free(w->nt);
    sl_free(w->perm);
    sl_free(w->tried);
    sl_free(w->left);
    sl_free(w->right);
    sl_free(w->cur);
    sl_free(w->leafv);
    sl_free(w->stack);
    sl_free(w->stats);
}

static sl_rc ws_init(ws *w, const rf_fit *f)
{
    size_t n = (size_t)f->m->nrows, F = (size_t)f->F;
    size_t K1 = (size_t)(f->K ? f->K : 1);
    memset(w, 0, sizeof *w);
    w->f = f;
    w->K = f->K;
    w->S = f->K ? f->K : 3;
    w->s = sl_malloc(n * sizeof *w->s);
    w->tmp = sl_malloc(n * sizeof *w->tmp);
    w->counts = sl_malloc(n * sizeof *w->counts);
    w->hw = sl_calloc(F * NB * K1, sizeof *w->hw);
    w->hs = f->K ? NULL : sl_calloc(F * NB, sizeof *w->hs);
    w->hn = sl_calloc(F * NB, sizeof *w->hn);
    w->touched = sl_malloc(F * NB * sizeof *w->touched);
    w->nt = sl_calloc(F, sizeof *w->nt);
    w->perm = sl_malloc(F * sizeof *w->perm);
    w->tried = sl_malloc(F * sizeof *w->tried);
    w->left = sl_malloc((size_t)w->S * sizeof *w->left);
    w->right = sl_malloc((size_t)w->S * sizeof *w->right);
    w->cur = sl_malloc((size_t)w->S * sizeof *w->cur);
    w->leafv = sl_malloc(K1 * sizeof *w->leafv);
    if (!w->s || !w->tmp || !w->counts || !w->hw || (!f->K && !w->hs) ||
        !w->hn || !w->touched || !w->nt || !w->perm || !w->tried ||
        !w->left || !w->right || !w->cur || !w->leafv)
        return SL_ENOMEM;
    return SL_OK;
}

static sl_rc push(ws *w, size_t *top, job j, const double *stats)
{
    if (*top == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 64;
        job *st = sl_realloc(w->stack, cap * sizeof *st);
        if (!st)
            return SL_ENOMEM;
        w->stack = st;
        double *sv = sl_realloc(w->stats, cap * (size_t)w->S * sizeof *sv);
        if (!sv)
            return SL_ENOMEM;
        w->stats = sv;
        w->cap = cap;
    }
    w->stack[*top] = j;
    memcpy(w->stats + *top * (size_t)w->S, stats, (size_t)w->S * sizeof *stats);
    (*top)++;
    return SL_OK;
}

/* Weight and impurity of node statistics st. */
static double impurity(const ws *w, const double *st, double *W)
{
    if (w->K) {
        double t = 0, imp = 0;
        for (int k = 0; k < w->K; k++)
            t += st[k];
        *W = t;
        if (w->f->p->criterion == CRIT_GINI) {
            double g = 0;
            for (int k = 0; k < w->K; k++)
                g += (st[k] / t) * (st[k] / t);
            imp = 1 - g;
        } else {
            for (int k = 0; k < w->K; k++)
                if (st[k] > 0)
                    imp -= (st[k] / t) * log2(st[k] / t);
        }
        return imp;
    }
    *W = st[0];
    double mean = st[1] / st[0], v = st[2] / st[0] - mean * mean;
    return v > 0 ? v : 0;
}

/* Histograms of features tried[0..nq) over the node. */
static void build_hists(ws *w, const job *j, int nq)
{
    const rf_fit *f = w->f;
    const uint8_t *codes = f->bins->codes;
    const size_t F = (size_t)f->F;
    const int K = w->K, K1 = K ? K : 1;
    for (int q = 0; q < nq; q++)
        w->nt[q] = 0;
    for (int64_t i = j->start; i < j->end; i++) {
        const sample *sm = &w->s[i];
        const uint8_t *row = codes + (size_t)sm->row * F;
        /* rows are scattered: fetch ahead to overlap the cache misses */
        if (i + PREFETCH < j->end)
            __builtin_prefetch(codes + (size_t)w->s[i + PREFETCH].row * F);
        for (int q = 0; q < nq; q++) {
            int b = row[w->tried[q]];
            size_t hb = (size_t)q * NB + (size_t)b;
            if (w->hn[hb]++ == 0)
                w->touched[(size_t)q * NB + (size_t)w->nt[q]++] = (uint16_t)b;
            if (K) {
                w->hw[hb * (size_t)K1 + (size_t)sm->t.y] += sm->w;
            } else {
                w->hw[hb] += sm->w;
                w->hs[hb] += (double)sm->w * sm->t.v;
            }
        }
    }
}

/* Sorts feature q's touched list (or rebuilds it in bin order when most
 * bins are touched); returns the number of non-empty bins. */
static int order_touched(ws *w, int q, int nbins)
{
    uint16_t *t = w->touched + (size_t)q * NB;
    int nt = w->nt[q];
    if (nt * 8 < nbins) {
        for (int a = 1; a < nt; a++) {
            uint16_t v = t[a];
            int c = a - 1;
            while (c >= 0 && t[c] > v) {
                t[c + 1] = t[c];
                c--;
            }
            t[c + 1] = v;
        }
    } else {
        const int32_t *hn = w->hn + (size_t)q * NB;
        nt = 0;
        for (int b = 0; b < nbins; b++)
            if (hn[b])
                t[nt++] = (uint16_t)b;
    }
    w->nt[q] = nt;
    return nt;
}

static void clear_hist(ws *w, int q)
{
    const int K1 = w->K ? w->K : 1;
    const uint16_t *t = w->touched + (size_t)q * NB;
    for (int i = 0; i < w->nt[q]; i++) {
        size_t hb = (size_t)q * NB + t[i];
        w->hn[hb] = 0;
        memset(w->hw + hb * (size_t)K1, 0, (size_t)K1 * sizeof *w->hw);
        if (!w->K)
            w->hs[hb] = 0;
    }
}

/* Best threshold of feature q: returns 1 and sets *proxy / *bin when a
 * split leaves min_samples_leaf rows on both sides. Larger proxy is
 * better; it orders splits like the impurity decrease (sklearn's
 * proxy_impurity_improvement). */
static int scan(ws *w, int q, int64_t n, const double *st, double W,
                double *proxy, int *bin)
{
    const int K = w->K, K1 = K ? K : 1;
    const int64_t msl = w->f->p->min_samples_leaf;
    const uint16_t *t = w->touched + (size_t)q * NB;
    const int32_t *hn = w->hn + (size_t)q * NB;
    const double *hw = w->hw + (size_t)q * NB * (size_t)K1;
    const double *hs = K ? NULL : w->hs + (size_t)q * NB;
    double *L = w->left;
    int64_t nl = 0;
    double wl = 0, sl = 0;
    int found = 0;
    if (K)
        memset(L, 0, (size_t)K * sizeof *L);
    for (int i = 0; i + 1 < w->nt[q]; i++) {
        int b = t[i];
        nl += hn[b];
        if (K) {
            wl = 0;
            for (int k = 0; k < K; k++) {
                L[k] += hw[(size_t)b * (size_t)K + (size_t)k];
                wl += L[k];
            }
        } else {
            wl += hw[b];
            sl += hs[b];
        }
        if (nl < msl)
            continue;
        if (n - nl < msl)
            break;
        double wr = W - wl, p;
        if (wl <= 0 || wr <= 0)
            continue;
        if (!K) {
            double sr = st[1] - sl;
            p = sl * sl / wl + sr * sr / wr;
        } else if (w->f->p->criterion == CRIT_GINI) {
            double gl = 0, gr = 0;
            for (int k = 0; k < K; k++) {
                double r = st[k] - L[k];
                gl += L[k] * L[k];
                gr += r * r;
            }
            p = gl / wl + gr / wr;
        } else {
            double h = 0;
            for (int k = 0; k < K; k++) {
                double r = st[k] - L[k];
                if (L[k] > 0)
                    h += L[k] * log2(L[k] / wl);
                if (r > 0)
                    h += r * log2(r / wr);
            }
            p = h; /* -(WL HL + WR HR) */
        }
        if (!found || p > *proxy) {
            *proxy = p;
            *bin = b;
            found = 1;
        }
    }
    return found;
}

/* Stable partition of the node by code <= bin; fills left/right stats. */
static int64_t partition(ws *w, const job *j, int ft, int bin)
{
    const uint8_t *codes = w->f->bins->codes;
    const size_t F = (size_t)w->f->F;
    const int K = w->K, S = w->S;
    double *L = w->left, *R = w->right;
    memset(L, 0, (size_t)S * sizeof *L);
    memset(R, 0, (size_t)S * sizeof *R);
    int64_t a = j->start, nr = 0;
    for (int64_t i = j->start; i < j->end; i++) {
        sample sm = w->s[i];
        if (i + PREFETCH < j->end)
            __builtin_prefetch(codes + (size_t)w->s[i + PREFETCH].row * F +
                               (size_t)ft);
        int go_left = codes[(size_t)sm.row * F + (size_t)ft] <= bin;
        double *st = go_left ? L : R;
        if (K) {
            st[sm.t.y] += sm.w;
        } else {
            st[0] += sm.w;
            st[1] += (double)sm.w * sm.t.v;
            st[2] += (double)sm.w * sm.t.v * sm.t.v;
        }
        if (go_left)
            w->s[a++] = sm;
        else
            w->tmp[nr++] = sm;
    }
    memcpy(w->s + a, w->tmp, (size_t)nr * sizeof *w->s);
    return a;
}

static sl_rc make_leaf(ws *w, sl_tree *t, int32_t node, const double *st,
                       double W)
{
    if (w->K) {
        for (int k = 0; k < w->K; k++)
            w->leafv[k] = (float)(st[k] / W);
        return sl_tree_set_leaf(t, node, w->leafv, w->K);
    }
    w->leafv[0] = (float)(st[1] / W);
    return sl_tree_set_leaf(t, node, w->leafv, 1);
}

/* Draws features and finds the node's best split; returns the feature or
 * -1. Consumes the same random numbers whatever the outcome. */
static int best_split(ws *w, sl_rng *rng, const job *j, const double *st,
                      double W, int *best_bin)
{
    const rf_fit *f = w->f;
    const int F = f->F;
    int64_t n = j->end - j->start;
    int best_f = -1, drawn = 0, nconst = 0;
    double best = 0;
    for (int q = 0; q < F; q++)
        w->perm[q] = q;
    while (drawn < F && (drawn < f->mtry || drawn <= nconst)) {
        /* the first batch is max_features features, then one at a time */
        int want = drawn < f->mtry ? (int)f->mtry - drawn : 1;
        if (want > F - drawn)
            want = F - drawn;
        for (int q = 0; q < want; q++) {
            int d = drawn + q;
            int r = d + (int)sl_rng_below(rng, (uint64_t)(F - d));
            int ft = w->perm[r];
            w->perm[r] = w->perm[d];
            w->perm[d] = ft;
            w->tried[q] = ft;
        }
        drawn += want;
        build_hists(w, j, want);
        for (int q = 0; q < want; q++) {
            int ft = w->tried[q];
            double p;
            int b;
            if (order_touched(w, q, f->bins->nbins[ft]) <= 1)
                nconst++;
            else if (scan(w, q, n, st, W, &p, &b) && (best_f < 0 || p > best)) {
                best = p;
                best_f = ft;
                *best_bin = b;
            }
            clear_hist(w, q);
        }
    }
    return best_f;
}

static sl_rc grow(ws *w, int64_t ti, int64_t ns, sl_rng *rng)
{
    const rf_fit *f = w->f;
    const rf_params *p = f->p;
    const int S = w->S;
    sl_tree *t = &f->trees[ti];
    double *imp = f->imp + (size_t)ti * (size_t)f->F;
    double root_w = 0;
    size_t top = 0;
    /* root statistics */
    memset(w->cur, 0, (size_t)S * sizeof *w->cur);
    for (int64_t i = 0; i < ns; i++) {
        const sample *sm = &w->s[i];
        if (w->K) {
            w->cur[sm->t.y] += sm->w;
        } else {
            w->cur[0] += sm->w;
            w->cur[1] += (double)sm->w * sm->t.v;
            w->cur[2] += (double)sm->w * sm->t.v * sm->t.v;
        }
    }
    int32_t root = sl_tree_add_node(t);
    if (root < 0 || push(w, &top, (job){0, ns, root, 0}, w->cur) != SL_OK)
        return SL_ENOMEM;
    while (top > 0) {
        top--;
        job j = w->stack[top];
        memcpy(w->cur, w->stats + top * (size_t)S, (size_t)S * sizeof *w->cur);
        int64_t n = j.end - j.start;
        double W, imp_node = impurity(w, w->cur, &W);
        if (j.node == 0)
            root_w = W;
        int leaf = (p->max_depth > 0 && j.depth >= p->max_depth) ||
                   n < p->min_samples_split || n < 2 * p->min_samples_leaf ||
                   imp_node <= EPS;
        int bin = 0;
        int ft = leaf ? -1 : best_split(w, rng, &j, w->cur, W, &bin);
        if (ft >= 0) {
            int64_t mid = partition(w, &j, ft, bin);
            double wl, wr;
            double il = impurity(w, w->left, &wl), ir = impurity(w, w->right, &wr);
            double dec = W * imp_node - wl * il - wr * ir;
            if (p->min_impurity_decrease > 0 &&
                dec / root_w + EPS < p->min_impurity_decrease) {
                ft = -1;
            } else {
                int32_t l = sl_tree_add_node(t), r = sl_tree_add_node(t);
                if (l < 0 || r < 0)
                    return SL_ENOMEM;
                sl_tree_node *nd = &t->nodes[j.node];
                nd->feature = ft;
                nd->threshold = f->bins->edges[ft][bin];
                nd->left = l;
                nd->right = r;
                t->tbin[j.node] = (uint8_t)bin;
                imp[ft] += dec;
                /* right first so the left subtree is built next */
                if (push(w, &top, (job){mid, j.end, r, j.depth + 1},
                         w->right) != SL_OK ||
                    push(w, &top, (job){j.start, mid, l, j.depth + 1},
                         w->left) != SL_OK)
                    return SL_ENOMEM;
                continue;
            }
        }
        if (make_leaf(w, t, j.node, w->cur, W) != SL_OK)
            return SL_ENOMEM;
    }
    /* sklearn: decreases relative to the root weight, then normalized */
    double s = 0;
    for (int q = 0; q < f->F; q++) {
        imp[q] /= root_w;
        s += imp[q];
    }
    for (int q = 0; q < f->F && s > 0; q++)
        imp[q] /= s;
    sl_tree_finish(t);
    return SL_OK;
}

sl_rc sl_rf_build_tree(rf_fit *f, int64_t ti)
{
    ws w;
    sl_rc rc = ws_init(&w, f);
    if (rc == SL_OK) {
        const rf_params *p = f->p;
        const sl_matrix *m = f->m;
        sl_rng rng;
        int64_t ns = 0;
        sl_rng_seed(&rng, (uint64_t)p->random_state, (uint64_t)ti + 1);
        if (p->bootstrap)
            sl_rf_bootstrap(&rng, m->nrows, w.counts);
        for (int64_t i = 0; i < m->nrows; i++) {
            uint32_t c = p->bootstrap ? w.counts[i] : 1;
            if (!c)
                continue;
            sample *sm = &w.s[ns++];
            sm->row = (uint32_t)i;
            if (f->K) {
                sm->t.y = m->y[i];
                sm->w = (float)((double)c * f->cw[m->y[i]]);
            } else {
                sm->t.v = (float)m->yv[i];
                sm->w = (float)c;
            }
        }
        rc = grow(&w, ti, ns, &rng);
    }
    ws_free(&w);
    return rc;
}
