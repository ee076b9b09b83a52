/*
 * forest.c: random forest classifier and regressor ("random_forest").
 *
 * Semantics follow scikit-learn's RandomForestClassifier/Regressor (same
 * parameters and defaults, bootstrap counts as sample weights, max_features
 * drawn per node and extended past constant features, leaves until pure,
 * predict_proba = mean of the trees' normalized leaf distributions, MDI
 * feature importances, out-of-bag score); the split search differs: it
 * runs over histogram bins (bins.c, <= 255 per feature, edges computed once
 * per fit) instead of sorted values, so a split threshold is a bin edge.
 *
 * Parallelism and determinism: trees are independent tasks on n_jobs
 * threads; tree t draws every random number from its own stream
 * (random_state, t), and everything that sums over trees (prediction,
 * importances, OOB) does so in tree order or in fixed tree chunks, so the
 * fitted model and its file are identical for any n_jobs.
 *
 * Per-node work is O(node rows x features tried) for the histograms plus
 * O(bins touched) for the scan: small nodes keep a list of the bins they
 * touched, so deep levels do not pay for 255 empty bins.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "forest.h"
#include "ml_internal.h"
#include "sluice/mem.h"

#define P(f) offsetof(rf_params, f)
static const sl_model_param_def rf_defs[] = {
    {"n_estimators", "trees", SL_MP_INT, "100", 1, 100000, NULL, 0,
     P(n_estimators), "Number of trees."},
    {"criterion", NULL, SL_MP_ENUM, "auto", 0, 0,
     "auto|gini|entropy|log_loss|squared_error", 0, P(criterion),
     "Split quality: gini or entropy (= log_loss) for classification, "
     "squared_error for regression; auto picks gini / squared_error."},
    {"max_depth", NULL, SL_MP_INT, "none", 1, 1000, NULL, SL_MP_NONE,
     P(max_depth), "Maximum tree depth; none grows until leaves are pure or "
     "smaller than min_samples_split."},
    {"min_samples_split", NULL, SL_MP_INT, "2", 2, 1e9, NULL, 0,
     P(min_samples_split), "Fewest rows a node needs to be split."},
    {"min_samples_leaf", NULL, SL_MP_INT, "1", 1, 1e9, NULL, 0,
     P(min_samples_leaf), "Fewest rows in each leaf."},
    {"max_features", NULL, SL_MP_STR, "auto", 0, 0, NULL, 0,
     P(max_features), "Features tried per split: sqrt, log2, an integer "
     "count, a fraction in (0, 1] (1.0 = all); auto is sqrt for "
     "classification and 1.0 for regression (sklearn's defaults)."},
    {"bootstrap", NULL, SL_MP_BOOL, "true", 0, 0, NULL, 0, P(bootstrap),
     "Fit each tree on a bootstrap sample (with replacement) of the rows."},
    {"oob_score", NULL, SL_MP_BOOL, "false", 0, 0, NULL, 0, P(oob_score),
     "Compute the out-of-bag score (accuracy or R^2) on the rows each tree "
     "did not see; needs bootstrap."},
    {"class_weight", NULL, SL_MP_ENUM, "none", 0, 0, "none|balanced", 0,
     P(class_weight), "balanced weights each class by n / (classes x "
     "count) (classification only)."},
    {"random_state", "seed", SL_MP_INT, "42", 0, 9.2e18, NULL, 0,
     P(random_state), "Seed of every random choice; same seed and data give "
     "the same model whatever n_jobs."},
    {"n_jobs", NULL, SL_MP_INT, "2", 1, 256, NULL, SL_MP_RUNTIME, P(n_jobs),
     "Threads used to fit and predict (does not change the model)."},
    {"max_bins", NULL, SL_MP_INT, "255", 2, 255, NULL, 0, P(max_bins),
     "Histogram bins per feature."},
    {"min_impurity_decrease", NULL, SL_MP_FLOAT, "0", 0, 0, NULL, 0,
     P(min_impurity_decrease), "Split only when the weighted impurity "
     "decrease is at least this."},
    {0}};
#undef P

typedef struct rf_state {
    int64_t ntrees;
    sl_tree *trees;
    int width;          /* values per leaf: classes, or 1 */
    double *importance; /* nfeatures, sums to 1 (or all 0) */
    int has_oob;
    double oob;
} rf_state;

static sl_rc bad_param(const char *key, const char *msg, sl_err *err)
{
    sl_err_set(err, SL_ECONFIG, "model 'random_forest': parameter '%s' %s",
               key, msg);
    sl_err_field(err, key);
    return SL_ECONFIG;
}

/* max_features text -> features per split, given F features. Returns 0
 * for a bad value. */
static int64_t mtry_of(const char *s, int64_t F)
{
    char *end;
    if (strcmp(s, "sqrt") == 0)
        return (int64_t)fmax(1, floor(sqrt((double)F)));
    if (strcmp(s, "log2") == 0)
        return (int64_t)fmax(1, floor(log2((double)F)));
    if (strcasecmp(s, "all") == 0 || strcasecmp(s, "none") == 0)
        return F;
    if (strchr(s, '.') || strchr(s, 'e')) {
        double f = strtod(s, &end);
        if (end == s || *end || !(f > 0 && f <= 1))
            return 0;
        return (int64_t)fmax(1, floor(f * (double)F));
    }
    long long v = strtoll(s, &end, 10);
    if (end == s || *end || v < 1)
        return 0;
    return v > F ? F : v;
}

static sl_rc rf_check(void *params, sl_task task, sl_err *err)
{
    rf_params *p = params;
    int cls = task == SL_TASK_CLASSIFICATION;
    if (p->criterion == CRIT_AUTO)
        p->criterion = cls ? CRIT_GINI : CRIT_SQUARED;
    if (cls && p->criterion == CRIT_SQUARED)
        return bad_param("criterion", "squared_error is for regression; use "
                         "gini or entropy", err);
    if (!cls && p->criterion != CRIT_SQUARED)
        return bad_param("criterion", "must be squared_error for regression",
                         err);
    if (p->criterion == CRIT_LOG_LOSS)
        p->criterion = CRIT_ENTROPY;
    if (strcmp(p->max_features, "auto") == 0)
        strcpy(p->max_features, cls ? "sqrt" : "1.0");
    if (mtry_of(p->max_features, 1000) == 0)
        return bad_param("max_features", "must be sqrt, log2, an integer >= "
                         "1 or a fraction in (0, 1]", err);
    if (p->oob_score && !p->bootstrap)
        return bad_param("oob_score", "needs bootstrap: true", err);
    if (!cls && p->class_weight != CW_NONE)
        return bad_param("class_weight", "is for classification only", err);
    return SL_OK;
}

static sl_rc tree_task(void *ctx, int64_t ti, sl_err *err)
{
    sl_rc rc = sl_rf_build_tree(ctx, ti);
    if (rc != SL_OK)
        sl_err_set(err, rc, "out of memory while building tree %lld",
                   (long long)ti);
    return rc;
}

/* ---- out-of-bag score ---- */
#define OOB_CHUNKS 4

typedef struct rf_oob {
    const rf_fit *f;
    int64_t chunks;
    double *acc;   /* chunks * n * width */
    int32_t *cnt;  /* chunks * n */
} rf_oob;

static sl_rc oob_task(void *ctx, int64_t c, sl_err *err)
{
    rf_oob *o = ctx;
    const rf_fit *f = o->f;
    int64_t n = f->m->nrows, T = f->p->n_estimators;
    int width = f->K ? f->K : 1;
    double *acc = o->acc + (size_t)c * (size_t)n * (size_t)width;
    int32_t *cnt = o->cnt + (size_t)c * (size_t)n;
    uint32_t *counts = sl_malloc((size_t)n * sizeof *counts);
    if (!counts)
        return sl_err_set(err, SL_ENOMEM, "out of memory (oob)");
    for (int64_t ti = c * T / o->chunks; ti < (c + 1) * T / o->chunks; ti++) {
        sl_rng rng;
        sl_rng_seed(&rng, (uint64_t)f->p->random_state, (uint64_t)ti + 1);
        sl_rf_bootstrap(&rng, n, counts);
        for (int64_t i = 0; i < n; i++) {
            if (counts[i])
                continue;
            const float *v = sl_tree_leaf(&f->trees[ti], f->m, i);
            for (int k = 0; k < width; k++)
                acc[(size_t)i * (size_t)width + (size_t)k] += v[k];
            cnt[i]++;
        }
    }
    sl_free(counts);
    return SL_OK;
}

/* Accuracy (classification) or R^2 (regression) over the rows that were
 * out of bag for at least one tree. */
static sl_rc compute_oob(const rf_fit *f, int threads, double *out,
                         sl_err *err)
{
    int64_t n = f->m->nrows, T = f->p->n_estimators;
    int width = f->K ? f->K : 1;
    rf_oob o = {.f = f, .chunks = T < OOB_CHUNKS ? T : OOB_CHUNKS};
    o.acc = sl_calloc((size_t)o.chunks * (size_t)n * (size_t)width,
                      sizeof *o.acc);
    o.cnt = sl_calloc((size_t)o.chunks * (size_t)n, sizeof *o.cnt);
    sl_rc rc = SL_ENOMEM;
    if (!o.acc || !o.cnt) {
        sl_err_set(err, rc, "out of memory (oob)");
        goto out;
    }
    if ((rc = sl_par_for(threads, o.chunks, oob_task, &o, err)) != SL_OK)
        goto out;
    /* fold the chunks into chunk 0, in chunk order */
    for (int64_t c = 1; c < o.chunks; c++) {
        for (size_t i = 0; i < (size_t)n * (size_t)width; i++)
            o.acc[i] += o.acc[(size_t)c * (size_t)n * (size_t)width + i];
        for (int64_t i = 0; i < n; i++)
            o.cnt[i] += o.cnt[c * n + i];
    }
    int64_t used = 0, ok = 0;
    double mean = 0, ss_res = 0, ss_tot = 0;
    for (int64_t i = 0; i < n; i++)
        if (o.cnt[i] && !f->K) {
            mean += f->m->yv[i];
            used++;
        }
    if (!f->K && used)
        mean /= (double)used;
    used = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!o.cnt[i])
            continue;
        used++;
        const double *a = o.acc + (size_t)i * (size_t)width;
        if (f->K) {
            int best = 0;
            for (int k = 1; k < f->K; k++)
                if (a[k] > a[best])
                    best = k;
            ok += best == f->m->y[i];
        } else {
            double pr = a[0] / o.cnt[i], y = f->m->yv[i];
            ss_res += (y - pr) * (y - pr);
            ss_tot += (y - mean) * (y - mean);
        }
    }
    if (!used)
        *out = NAN;
    else if (f->K)
        *out = (double)ok / (double)used;
    else
        *out = ss_tot > 0 ? 1 - ss_res / ss_tot : (ss_res == 0 ? 1 : 0);
    rc = SL_OK;
out:
    sl_free(o.acc);
    sl_free(o.cnt);
    return rc;
}

static void rf_free_state(void *state)
{
    rf_state *s = state;
    if (!s)
        return;
    for (int64_t t = 0; s->trees && t < s->ntrees; t++)
        sl_tree_clear(&s->trees[t]);
    sl_free(s->trees);
    sl_free(s->importance);
    sl_free(s);
}

static sl_rc rf_fit_model(const void *params, const sl_model_info *info,
                          const sl_matrix *m, void **state, sl_err *err)
{
    const rf_params *p = params;
    rf_fit f = {.p = p, .m = m, .F = m->ncols,
                .K = info->task == SL_TASK_CLASSIFICATION ? info->nclasses : 0};
    double *cw = NULL;
    sl_bins *bins = NULL;
    rf_state *s = sl_calloc(1, sizeof *s);
    sl_rc rc = SL_ENOMEM;
    int threads = (int)p->n_jobs;
    if (!s)
        goto out;
    if (m->nrows > UINT32_MAX) {
        rc = sl_err_set(err, SL_ELIMIT, "more than 2^32 training rows");
        goto out;
    }
    f.mtry = mtry_of(p->max_features, f.F);
    s->width = f.K ? f.K : 1;
    s->ntrees = p->n_estimators;
    s->trees = sl_calloc((size_t)s->ntrees, sizeof *s->trees);
    s->importance = sl_calloc((size_t)f.F, sizeof *s->importance);
    f.imp = sl_calloc((size_t)s->ntrees * (size_t)f.F, sizeof *f.imp);
    cw = sl_malloc((size_t)s->width * sizeof *cw);
    if (!s->trees || !s->importance || !f.imp || !cw)
        goto out;
    for (int k = 0; k < s->width; k++)
        cw[k] = 1;
    if (f.K && p->class_weight == CW_BALANCED) {
        for (int k = 0; k < f.K; k++)
            cw[k] = 0;
        for (int64_t i = 0; i < m->nrows; i++)
            cw[m->y[i]]++;
        for (int k = 0; k < f.K; k++)
            cw[k] = cw[k] > 0 ? (double)m->nrows / (f.K * cw[k]) : 1;
    }
    f.cw = cw;
    if ((rc = sl_bins_build(m, (int)p->max_bins, 200000,
                            (uint64_t)p->random_state, threads, &bins, err)))
        goto out;
    f.bins = bins;
    f.trees = s->trees;
    if ((rc = sl_par_for(threads, s->ntrees, tree_task, &f, err)) != SL_OK)
        goto out;
    /* mean of the per-tree importances over trees that split, normalized */
    for (int64_t t = 0; t < s->ntrees; t++) {
        if (s->trees[t].nnodes <= 1)
            continue;
        for (int q = 0; q < f.F; q++)
            s->importance[q] += f.imp[(size_t)t * (size_t)f.F + (size_t)q];
    }
    double tot = 0;
    for (int q = 0; q < f.F; q++)
        tot += s->importance[q];
    for (int q = 0; q < f.F && tot > 0; q++)
        s->importance[q] /= tot;
    if (p->oob_score) {
        if ((rc = compute_oob(&f, threads, &s->oob, err)) != SL_OK)
            goto out;
        s->has_oob = 1;
    }
    rc = SL_OK;
out:
    if (rc == SL_ENOMEM)
        sl_err_set(err, rc, "out of memory");
    sl_bins_free(bins);
    sl_free(cw);
    sl_free(f.imp);
    if (rc != SL_OK)
        rf_free_state(s);
    else
        *state = s;
    return rc;
}

/* ---- prediction ---- */
#define PRED_CHUNK 1024

typedef struct rf_pred {
    const rf_state *s;
    const sl_matrix *x;
    sl_prediction *out;
} rf_pred;

static sl_rc pred_task(void *ctx, int64_t c, sl_err *err)
{
    rf_pred *q = ctx;
    const rf_state *s = q->s;
    int64_t lo = c * PRED_CHUNK;
    int64_t hi = lo + PRED_CHUNK < q->x->nrows ? lo + PRED_CHUNK : q->x->nrows;
    int K = q->out->nclasses, w = s->width;
    double *dst = K ? q->out->proba : q->out->value;
    for (int64_t t = 0; t < s->ntrees; t++)
        for (int64_t i = lo; i < hi; i++) {
            const float *v = sl_tree_leaf(&s->trees[t], q->x, i);
            for (int k = 0; k < w; k++)
                dst[(size_t)i * (size_t)w + (size_t)k] += v[k];
        }
    for (int64_t i = lo * w; i < hi * w; i++)
        dst[i] /= (double)s->ntrees;
    (void)err;
    return SL_OK;
}

static sl_rc rf_predict(const void *params, const sl_model_info *info,
                        const void *state, const sl_matrix *x,
                        sl_prediction *out, sl_err *err)
{
    const rf_params *p = params;
    rf_pred q = {.s = state, .x = x, .out = out};
    (void)info;
    return sl_par_for((int)p->n_jobs, (x->nrows + PRED_CHUNK - 1) / PRED_CHUNK,
                      pred_task, &q, err);
}

/* ---- payload: u64 ntrees, trees, f64 importance[F], u8 has_oob, f64 oob */
static sl_rc rf_save(const void *params, const sl_model_info *info,
                     const void *state, sl_wbuf *w)
{
    const rf_state *s = state;
    (void)params;
    sl_wbuf_u64(w, (uint64_t)s->ntrees);
    for (int64_t t = 0; t < s->ntrees; t++)
        sl_tree_save(&s->trees[t], w);
    sl_wbuf_f64s(w, s->importance, (size_t)info->nfeatures);
    sl_wbuf_u8(w, (uint8_t)s->has_oob);
    sl_wbuf_f64(w, s->oob);
    return SL_OK;
}

static sl_rc rf_load(const void *params, const sl_model_info *info,
                     uint32_t version, sl_rbuf *r, void **state, sl_err *err)
{
    rf_state *s = sl_calloc(1, sizeof *s);
    uint64_t nt;
    uint8_t has_oob = 0;
    sl_rc rc = SL_ENOMEM;
    (void)params;
    (void)version;
    if (!s)
        goto out;
    s->width = info->task == SL_TASK_CLASSIFICATION ? info->nclasses : 1;
    if ((rc = sl_rbuf_count(r, "tree count", 100000, 24, &nt)) != SL_OK)
        goto out;
    if (nt == 0) {
        rc = sl_rbuf_fail(r, "forest without trees");
        goto out;
    }
    rc = SL_ENOMEM;
    s->trees = sl_calloc((size_t)nt, sizeof *s->trees);
    s->importance = sl_calloc((size_t)info->nfeatures, sizeof *s->importance);
    if (!s->trees || !s->importance)
        goto out;
    s->ntrees = (int64_t)nt;
    for (uint64_t t = 0; t < nt; t++)
        if ((rc = sl_tree_load(r, info->nfeatures, s->width, &s->trees[t])))
            goto out;
    if ((rc = sl_rbuf_f64s(r, s->importance, (size_t)info->nfeatures)) ||
        (rc = sl_rbuf_u8(r, &has_oob)) || (rc = sl_rbuf_f64(r, &s->oob)))
        goto out;
    s->has_oob = has_oob != 0;
    rc = SL_OK;
out:
    if (rc == SL_ENOMEM)
        sl_err_set(err, rc, "out of memory");
    if (rc != SL_OK)
        rf_free_state(s);
    else
        *state = s;
    return rc;
}

static sl_rc rf_describe(const void *params, const sl_model_info *info,
                         const void *state, json_t *o)
{
    const rf_state *s = state;
    int64_t nodes = 0;
    (void)params;
    for (int64_t t = 0; t < s->ntrees; t++)
        nodes += s->trees[t].nnodes;
    json_t *imp = sl_json_doubles(s->importance, info->nfeatures);
    int ok = imp && json_object_set_new(o, "feature_importances", imp) == 0 &&
             json_object_set_new(o, "n_trees", json_integer(s->ntrees)) == 0 &&
             json_object_set_new(o, "n_nodes", json_integer(nodes)) == 0;
    if (ok && s->has_oob)
        ok = json_object_set_new(o, "oob_score", json_real(s->oob)) == 0;
    return ok ? SL_OK : SL_ENOMEM;
}

const sl_model_type sl_model_random_forest = {
    .abi_version = SL_MODEL_ABI_VERSION,
    .name = "random_forest",
    .doc = "Random forest (scikit-learn RandomForestClassifier / "
           "RandomForestRegressor semantics) over histogram-binned features.",
    .tasks = (1u << SL_TASK_CLASSIFICATION) | (1u << SL_TASK_REGRESSION),
    .payload_version = 1,
    .params = rf_defs,
    .params_size = sizeof(rf_params),
    .check = rf_check,
    .fit = rf_fit_model,
    .predict_batch = rf_predict,
    .save = rf_save,
    .load = rf_load,
    .describe = rf_describe,
    .free_state = rf_free_state,
};
