/* Shared helpers for the tests/unit/test_ml_*.c tests: load the fixture
 * CSVs of tests/data/ml/ (via the CSV reader) into matrices, fit and score.
 * Header-only; every function is static. */
#ifndef SL_ML_TEST_UTIL_H
#define SL_ML_TEST_UTIL_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/batch.h"
#include "sluice/csv.h"
#include "sluice/matrix.h"
#include "sluice/mem.h"
#include "sluice/metrics.h"
#include "sluice/model.h"

static inline const char *ml_data_dir(void)
{
    const char *d = getenv("SL_TEST_DATA");
    return d && *d ? d : "tests/data";
}

/* Batches of tests/data/ml/<name>.csv (up to 64), small batches so the
 * matrix builder sees several. */
static inline int ml_read_csv(const char *name, sl_batch **batches, int max)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/ml/%s.csv", ml_data_dir(), name);
    sl_csv_options o;
    sl_csv_options_init(&o);
    o.batch_rows = 100;
    sl_csv_reader *r;
    sl_err e;
    sl_err_clear(&e);
    if (sl_csv_reader_open(path, &o, NULL, &r, &e) != SL_OK) {
        fprintf(stderr, "%s: %s\n", path, e.msg);
        return -1;
    }
    int n = 0;
    sl_batch *b;
    while (n < max && sl_csv_reader_next(r, &b, &e) == SL_OK)
        batches[n++] = b;
    sl_csv_reader_close(r, NULL);
    return n;
}

static inline void ml_unref_all(sl_batch **b, int n)
{
    for (int i = 0; i < n; i++)
        sl_batch_unref(b[i]);
}

/* Matrix of tests/data/ml/<name>.csv with target "target". classes: fixed
 * class list (test split) or NULL. features: NULL = all. */
static inline sl_matrix *ml_load(const char *name, sl_task task,
                          const sl_labels *classes,
                          const char *const *features, int nfeatures)
{
    sl_batch *b[64];
    int n = ml_read_csv(name, b, 64);
    if (n <= 0)
        return NULL;
    sl_matrix_spec spec = {.target = "target", .task = task,
                           .classes = classes, .features = features,
                           .nfeatures = nfeatures};
    sl_matrix *m = NULL;
    sl_err e;
    sl_err_clear(&e);
    if (sl_matrix_from_batches((const sl_batch *const *)b, n, &spec, &m, &e) !=
        SL_OK)
        fprintf(stderr, "%s: %s\n", name, e.msg);
    ml_unref_all(b, n);
    return m;
}

/* Train/test pair of a dataset; the test matrix uses the train classes. */
static inline int ml_load_pair(const char *ds, sl_task task, sl_matrix **tr,
                        sl_matrix **te)
{
    char a[128], b[128];
    *tr = *te = NULL;
    snprintf(a, sizeof a, "%s_train", ds);
    snprintf(b, sizeof b, "%s_test", ds);
    *tr = ml_load(a, task, NULL, NULL, 0);
    if (!*tr)
        return -1;
    *te = ml_load(b, task, task == SL_TASK_CLASSIFICATION ? &(*tr)->classes
                                                          : NULL,
                  (const char *const *)(*tr)->names, (*tr)->ncols);
    return *te ? 0 : -1;
}

/* Fit a model of `type` with params on ds, return the test metric set. */
static inline sl_model *ml_fit(const char *type, sl_task task,
                        const sl_model_param *p, int np, const sl_matrix *tr)
{
    sl_model *m = NULL;
    sl_err e;
    sl_err_clear(&e);
    if (sl_model_new(type, task, p, np, &m, &e) != SL_OK) {
        fprintf(stderr, "new %s: %s\n", type, e.msg);
        return NULL;
    }
    if (sl_model_fit(m, tr, &e) != SL_OK) {
        fprintf(stderr, "fit %s: %s\n", type, e.msg);
        sl_model_free(m);
        return NULL;
    }
    return m;
}

static inline double ml_score(const sl_model *m, const sl_matrix *te,
                       const char *metric)
{
    sl_prediction p;
    sl_metric_set s;
    sl_err e;
    double v = -1e9;
    sl_err_clear(&e);
    if (sl_model_predict(m, te, &p, &e) != SL_OK) {
        fprintf(stderr, "predict: %s\n", e.msg);
        return v;
    }
    if (sl_metrics_compute(te, &p, &s, &e) == SL_OK)
        sl_metric_set_get(&s, metric, &v);
    else
        fprintf(stderr, "metrics: %s\n", e.msg);
    sl_prediction_free(&p);
    return v;
}

/* z-score every feature of tr and te with tr's mean / std (what a scale
 * transform does in a pipeline). */
static inline void ml_standardize(sl_matrix *tr, sl_matrix *te)
{
    for (int j = 0; j < tr->ncols; j++) {
        float *a = tr->x + (size_t)j * (size_t)tr->nrows;
        float *b = te->x + (size_t)j * (size_t)te->nrows;
        double mean = 0, var = 0;
        for (int64_t i = 0; i < tr->nrows; i++)
            mean += a[i];
        mean /= (double)tr->nrows;
        for (int64_t i = 0; i < tr->nrows; i++)
            var += (a[i] - mean) * (a[i] - mean);
        double sd = var > 0 ? sqrt(var / (double)tr->nrows) : 1;
        for (int64_t i = 0; i < tr->nrows; i++)
            a[i] = (float)((a[i] - mean) / sd);
        for (int64_t i = 0; i < te->nrows; i++)
            b[i] = (float)((b[i] - mean) / sd);
    }
}

/* Bytes of the model's file form (caller sl_frees). */
static inline uint8_t *ml_bytes(const sl_model *m, size_t *len)
{
    uint8_t *buf = NULL;
    if (sl_model_save_mem(m, &buf, len, NULL) != SL_OK)
        return NULL;
    return buf;
}

#endif
