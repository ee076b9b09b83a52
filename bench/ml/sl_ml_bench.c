/*
 * sl_ml_bench.c: the sluice side of bench/ml/run_ml.sh and of
 * tests/interop/test_ml_sklearn.py. Reads train and test CSVs (target
 * column "target") through the CSV reader, fits a model, predicts the test
 * set and prints one JSON line:
 *   {"model": ..., "fit_s": ..., "predict_s": ..., "accuracy": ..., "auc": ...}
 * (r2 / rmse for regression).
 *
 * usage: sl_ml_bench MODEL TASK TRAIN.csv TEST.csv [key=value ...]
 *   TASK: classification | regression
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sluice/csv.h"
#include "sluice/matrix.h"
#include "sluice/metrics.h"
#include "sluice/model.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static sl_matrix *load(const char *path, sl_task task, const sl_labels *cls,
                       const char *const *feats, int nf)
{
    sl_csv_options o;
    sl_csv_options_init(&o);
    sl_csv_reader *r;
    sl_err e;
    sl_err_clear(&e);
    if (sl_csv_reader_open(path, &o, NULL, &r, &e) != SL_OK) {
        fprintf(stderr, "%s: %s\n", path, e.msg);
        return NULL;
    }
    sl_matrix_spec spec = {.target = "target", .task = task, .classes = cls,
                           .features = feats, .nfeatures = nf};
    sl_matrix_builder *b;
    sl_matrix *m = NULL;
    sl_batch *batch;
    sl_rc rc = sl_matrix_builder_new(&spec, &b, &e);
    while (rc == SL_OK && (rc = sl_csv_reader_next(r, &batch, &e)) == SL_OK) {
        rc = sl_matrix_builder_add(b, batch, &e);
        sl_batch_unref(batch);
    }
    if (rc == SL_EEOF)
        rc = sl_matrix_builder_finish(b, &m, &e);
    else
        sl_matrix_builder_free(b);
    sl_csv_reader_close(r, NULL);
    if (rc != SL_OK)
        fprintf(stderr, "%s: %s\n", path, e.msg);
    return m;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: %s MODEL TASK TRAIN.csv TEST.csv [k=v ...]\n",
                argv[0]);
        return 2;
    }
    sl_task task;
    sl_err e;
    sl_err_clear(&e);
    if (sl_task_parse(argv[2], &task, &e) != SL_OK) {
        fprintf(stderr, "%s\n", e.msg);
        return 2;
    }
    int np = argc - 5;
    sl_model_param *p = calloc((size_t)np + 1, sizeof *p);
    for (int i = 0; i < np; i++) {
        char *eq = strchr(argv[5 + i], '=');
        if (!eq) {
            fprintf(stderr, "parameter '%s' is not key=value\n", argv[5 + i]);
            return 2;
        }
        *eq = '\0';
        p[i].key = argv[5 + i];
        p[i].value = eq + 1;
    }
    sl_model *m;
    if (sl_model_new(argv[1], task, p, np, &m, &e) != SL_OK) {
        fprintf(stderr, "%s\n", e.msg);
        return 2;
    }
    double t0 = now();
    sl_matrix *tr = load(argv[3], task, NULL, NULL, 0);
    if (!tr)
        return 1;
    double t1 = now();
    if (sl_model_fit(m, tr, &e) != SL_OK) {
        fprintf(stderr, "fit: %s\n", e.msg);
        return 1;
    }
    double t2 = now();
    sl_matrix *te = load(argv[4], task, task == SL_TASK_CLASSIFICATION
                                            ? sl_model_classes(m)
                                            : NULL,
                         sl_model_features(m), sl_model_nfeatures(m));
    if (!te)
        return 1;
    double t3 = now();
    sl_prediction pr;
    if (sl_model_predict(m, te, &pr, &e) != SL_OK) {
        fprintf(stderr, "predict: %s\n", e.msg);
        return 1;
    }
    double t4 = now();
    sl_metric_set s;
    if (sl_metrics_compute(te, &pr, &s, &e) != SL_OK) {
        fprintf(stderr, "metrics: %s\n", e.msg);
        return 1;
    }
    printf("{\"model\": \"%s\", \"rows\": %lld, \"load_s\": %.4f, "
           "\"fit_s\": %.4f, \"predict_s\": %.4f",
           argv[1], (long long)tr->nrows, t1 - t0, t2 - t1, t4 - t3);
    for (int i = 0; i < s.n; i++)
        printf(", \"%s\": %.6f", s.names[i], s.values[i]);
    printf("}\n");
    sl_prediction_free(&pr);
    sl_matrix_free(tr);
    sl_matrix_free(te);
    sl_model_free(m);
    free(p);
    return 0;
}
