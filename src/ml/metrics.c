/*
 * metrics.c: classification and regression metrics (metrics.h), written
 * to reproduce scikit-learn's numbers; tests/unit/test_ml_metrics.c holds
 * the fixtures and the script that produced the expected values.
 *
 * Sums run in double in row order; AUC sorts (score, label) pairs once per
 * class, O(n log n).
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/mem.h"
#include "sluice/metrics.h"

static sl_rc check_labels(const int32_t *y, int64_t n, int k, const char *what,
                          sl_err *err)
{
    for (int64_t i = 0; i < n; i++)
        if (y[i] < 0 || y[i] >= k)
            return sl_err_set(err, SL_EINVAL,
                              "%s label %d at row %lld is outside 0..%d",
                              what, y[i], (long long)i, k - 1);
    return SL_OK;
}

static sl_rc check_n(int64_t n, sl_err *err)
{
    if (n <= 0)
        return sl_err_set(err, SL_EINVAL, "metric over no rows");
    return SL_OK;
}

sl_rc sl_metric_accuracy(const int32_t *y_true, const int32_t *y_pred,
                         int64_t n, double *out, sl_err *err)
{
    sl_rc rc = check_n(n, err);
    if (rc != SL_OK)
        return rc;
    int64_t ok = 0;
    for (int64_t i = 0; i < n; i++)
        ok += y_true[i] == y_pred[i];
    *out = (double)ok / (double)n;
    return SL_OK;
}

sl_rc sl_metric_confusion(const int32_t *y_true, const int32_t *y_pred,
                          int64_t n, int k, int64_t *cm, sl_err *err)
{
    sl_rc rc;
    if (k < 1)
        return sl_err_set(err, SL_EINVAL, "confusion matrix needs k >= 1");
    if ((rc = check_labels(y_true, n, k, "true", err)) != SL_OK ||
        (rc = check_labels(y_pred, n, k, "predicted", err)) != SL_OK)
        return rc;
    memset(cm, 0, (size_t)k * (size_t)k * sizeof *cm);
    for (int64_t i = 0; i < n; i++)
        cm[(size_t)y_true[i] * (size_t)k + (size_t)y_pred[i]]++;
    return SL_OK;
}

void sl_class_report_free(sl_class_report *r)
{
    if (!r)
        return;
    sl_free(r->confusion);
    sl_free(r->precision);
    sl_free(r->recall);
    sl_free(r->f1);
    sl_free(r->support);
    memset(r, 0, sizeof *r);
}

sl_rc sl_metric_class_report(const int32_t *y_true, const int32_t *y_pred,
                             int64_t n, int k, sl_class_report *out,
                             sl_err *err)
{
    sl_class_report r = {.k = k};
    sl_rc rc = check_n(n, err);
    memset(out, 0, sizeof *out);
    if (rc != SL_OK || k < 1) {
        if (rc == SL_OK)
            rc = sl_err_set(err, SL_EINVAL, "class report needs k >= 1");
        return rc;
    }
    size_t kk = (size_t)k;
    r.confusion = sl_calloc(kk * kk, sizeof *r.confusion);
    r.precision = sl_calloc(kk, sizeof(double));
    r.recall = sl_calloc(kk, sizeof(double));
    r.f1 = sl_calloc(kk, sizeof(double));
    r.support = sl_calloc(kk, sizeof *r.support);
    if (!r.confusion || !r.precision || !r.recall || !r.f1 || !r.support) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = sl_metric_confusion(y_true, y_pred, n, k, r.confusion, err)))
        goto out;
    int present = 0;
    int64_t total = 0, diag = 0;
    for (int c = 0; c < k; c++) {
        int64_t tp = r.confusion[(size_t)c * kk + (size_t)c], pred = 0,
                sup = 0;
        for (int q = 0; q < k; q++) {
            pred += r.confusion[(size_t)q * kk + (size_t)c];
            sup += r.confusion[(size_t)c * kk + (size_t)q];
        }
        r.support[c] = sup;
        r.precision[c] = pred ? (double)tp / (double)pred : 0.0;
        r.recall[c] = sup ? (double)tp / (double)sup : 0.0;
        /* sklearn: F = 2 tp / (2 tp + fp + fn), 0 when the denominator is 0 */
        double den = (double)(2 * tp + (pred - tp) + (sup - tp));
        r.f1[c] = den > 0 ? 2.0 * (double)tp / den : 0.0;
        diag += tp;
        total += sup;
        if (sup > 0 || pred > 0) {
            present++;
            r.macro_precision += r.precision[c];
            r.macro_recall += r.recall[c];
            r.macro_f1 += r.f1[c];
        }
        r.weighted_precision += r.precision[c] * (double)sup;
        r.weighted_recall += r.recall[c] * (double)sup;
        r.weighted_f1 += r.f1[c] * (double)sup;
    }
    r.macro_precision /= present;
    r.macro_recall /= present;
    r.macro_f1 /= present;
    r.weighted_precision /= (double)total;
    r.weighted_recall /= (double)total;
    r.weighted_f1 /= (double)total;
    r.accuracy = (double)diag / (double)total;
    *out = r;
    memset(&r, 0, sizeof r);
out:
    sl_class_report_free(&r);
    return rc;
}

typedef struct scored {
    double s;
    int pos;
} scored;

static int cmp_scored_desc(const void *a, const void *b)
{
    double x = ((const scored *)a)->s, y = ((const scored *)b)->s;
    return (x < y) - (x > y);
}

/* AUC of sorted (descending) pairs: trapezoids between distinct
 * thresholds, i.e. each tie group adds fp_g * (tp_before + tp_g / 2). */
static double auc_sorted(const scored *v, int64_t n, double P, double N)
{
    double tp = 0, area = 0;
    for (int64_t i = 0; i < n;) {
        double tpg = 0, fpg = 0;
        int64_t j = i;
        while (j < n && v[j].s == v[i].s) {
            if (v[j].pos)
                tpg++;
            else
                fpg++;
            j++;
        }
        area += fpg * (tp + tpg / 2);
        tp += tpg;
        i = j;
    }
    return area / (P * N);
}

/* AUC of score column `col` (stride k) for class `pos_class`. */
static sl_rc auc_one(const int32_t *y, const double *score, int64_t n,
                     int k, int col, int pos_class, double *out, sl_err *err)
{
    scored *v = sl_malloc((size_t)n * sizeof *v);
    if (!v)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    double P = 0;
    for (int64_t i = 0; i < n; i++) {
        double s = score[(size_t)i * (size_t)k + (size_t)col];
        v[i].s = s;
        v[i].pos = pos_class < 0 ? y[i] != 0 : y[i] == pos_class;
        P += v[i].pos;
        if (isnan(s)) {
            sl_free(v);
            return sl_err_set(err, SL_EINVAL, "NaN score at row %lld",
                              (long long)i);
        }
    }
    double N = (double)n - P;
    if (P == 0 || N == 0) {
        sl_free(v);
        return sl_err_set(err, SL_EINVAL,
                          "ROC AUC is undefined when y_true holds one class");
    }
    qsort(v, (size_t)n, sizeof *v, cmp_scored_desc);
    *out = auc_sorted(v, n, P, N);
    sl_free(v);
    return SL_OK;
}

sl_rc sl_metric_roc_auc_binary(const int32_t *y_true, const double *score,
                               int64_t n, double *out, sl_err *err)
{
    sl_rc rc = check_n(n, err);
    if (rc != SL_OK)
        return rc;
    return auc_one(y_true, score, n, 1, 0, -1, out, err);
}

sl_rc sl_metric_roc_auc(const int32_t *y_true, const double *proba,
                        int64_t n, int k, double *out, sl_err *err)
{
    sl_rc rc = check_n(n, err);
    if (rc == SL_OK && k < 2)
        rc = sl_err_set(err, SL_EINVAL, "ROC AUC needs at least 2 classes");
    if (rc == SL_OK)
        rc = check_labels(y_true, n, k, "true", err);
    if (rc != SL_OK)
        return rc;
    if (k == 2)
        return auc_one(y_true, proba, n, 2, 1, 1, out, err);
    /* one-vs-rest over the classes present in y_true */
    double sum = 0;
    int used = 0;
    int64_t *count = sl_calloc((size_t)k, sizeof *count);
    if (!count)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    for (int64_t i = 0; i < n; i++)
        count[y_true[i]]++;
    for (int c = 0; c < k && rc == SL_OK; c++) {
        double a = 0;
        if (count[c] == 0 || count[c] == n)
            continue;
        if ((rc = auc_one(y_true, proba, n, k, c, c, &a, err)) == SL_OK) {
            sum += a;
            used++;
        }
    }
    sl_free(count);
    if (rc == SL_OK && used < 2)
        rc = sl_err_set(err, SL_EINVAL,
                        "ROC AUC is undefined when y_true holds one class");
    if (rc == SL_OK)
        *out = sum / used;
    return rc;
}

sl_rc sl_metric_log_loss(const int32_t *y_true, const double *proba,
                         int64_t n, int k, double *out, sl_err *err)
{
    sl_rc rc = check_n(n, err);
    if (rc == SL_OK)
        rc = check_labels(y_true, n, k, "true", err);
    if (rc != SL_OK)
        return rc;
    const double eps = DBL_EPSILON;
    double s = 0;
    for (int64_t i = 0; i < n; i++) {
        double p = proba[(size_t)i * (size_t)k + (size_t)y_true[i]];
        p = p < eps ? eps : p > 1 - eps ? 1 - eps : p;
        s -= log(p);
    }
    *out = s / (double)n;
    return SL_OK;
}

sl_rc sl_metric_rmse(const double *y, const double *pred, int64_t n,
                     double *out, sl_err *err)
{
    sl_rc rc = check_n(n, err);
    if (rc != SL_OK)
        return rc;
    double s = 0;
    for (int64_t i = 0; i < n; i++)
        s += (y[i] - pred[i]) * (y[i] - pred[i]);
    *out = sqrt(s / (double)n);
    return SL_OK;
}

sl_rc sl_metric_mae(const double *y, const double *pred, int64_t n,
                    double *out, sl_err *err)
{
    sl_rc rc = check_n(n, err);
    if (rc != SL_OK)
        return rc;
    double s = 0;
    for (int64_t i = 0; i < n; i++)
        s += fabs(y[i] - pred[i]);
    *out = s / (double)n;
    return SL_OK;
}

sl_rc sl_metric_r2(const double *y, const double *pred, int64_t n,
                   double *out, sl_err *err)
{
    sl_rc rc = check_n(n, err);
    if (rc != SL_OK)
        return rc;
    double mean = 0, ss_res = 0, ss_tot = 0;
    for (int64_t i = 0; i < n; i++)
        mean += y[i];
    mean /= (double)n;
    for (int64_t i = 0; i < n; i++) {
        ss_res += (y[i] - pred[i]) * (y[i] - pred[i]);
        ss_tot += (y[i] - mean) * (y[i] - mean);
    }
    if (ss_tot == 0)
        *out = ss_res == 0 ? 1.0 : 0.0;
    else
        *out = 1.0 - ss_res / ss_tot;
    return SL_OK;
}

static void put(sl_metric_set *s, const char *name, double v)
{
    if (s->n < SL_METRICS_MAX) {
        s->names[s->n] = name;
        s->values[s->n++] = v;
    }
}

sl_rc sl_metrics_compute(const sl_matrix *y_true, const sl_prediction *pred,
                         sl_metric_set *out, sl_err *err)
{
    sl_rc rc;
    double v;
    memset(out, 0, sizeof *out);
    if (pred->n != y_true->nrows || pred->task != y_true->task)
        return sl_err_set(err, SL_EINVAL,
                          "predictions (%lld rows, %s) do not match the "
                          "labels (%lld rows, %s)",
                          (long long)pred->n, sl_task_name(pred->task),
                          (long long)y_true->nrows,
                          sl_task_name(y_true->task));
    int64_t n = pred->n;
    if (pred->task == SL_TASK_REGRESSION) {
        double rmse, mae, r2;
        if ((rc = sl_metric_rmse(y_true->yv, pred->value, n, &rmse, err)) ||
            (rc = sl_metric_mae(y_true->yv, pred->value, n, &mae, err)) ||
            (rc = sl_metric_r2(y_true->yv, pred->value, n, &r2, err)))
            return rc;
        put(out, "rmse", rmse);
        put(out, "mae", mae);
        put(out, "r2", r2);
        put(out, "mse", rmse * rmse);
        return SL_OK;
    }
    int k = pred->nclasses;
    if (y_true->classes.n != k)
        return sl_err_set(err, SL_EINVAL,
                          "labels have %d classes, predictions %d",
                          y_true->classes.n, k);
    sl_class_report r;
    if ((rc = sl_metric_class_report(y_true->y, pred->label, n, k, &r, err)))
        return rc;
    put(out, "accuracy", r.accuracy);
    put(out, "precision", k == 2 ? r.precision[1] : r.macro_precision);
    put(out, "recall", k == 2 ? r.recall[1] : r.macro_recall);
    put(out, "f1", k == 2 ? r.f1[1] : r.macro_f1);
    put(out, "precision_macro", r.macro_precision);
    put(out, "recall_macro", r.macro_recall);
    put(out, "f1_macro", r.macro_f1);
    put(out, "f1_weighted", r.weighted_f1);
    sl_class_report_free(&r);
    sl_err e2;
    if (sl_metric_roc_auc(y_true->y, pred->proba, n, k, &v, &e2) == SL_OK)
        put(out, "auc", v);
    if ((rc = sl_metric_log_loss(y_true->y, pred->proba, n, k, &v, err)))
        return rc;
    put(out, "log_loss", v);
    return SL_OK;
}

sl_rc sl_metric_set_get(const sl_metric_set *s, const char *name, double *out)
{
    if (name && strcmp(name, "roc_auc") == 0)
        name = "auc";
    for (int i = 0; name && i < s->n; i++) {
        if (strcmp(s->names[i], name) == 0) {
            *out = s->values[i];
            return SL_OK;
        }
    }
    return SL_ENOTFOUND;
}
