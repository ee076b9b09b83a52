/*
 * metrics.h: evaluation metrics with scikit-learn's definitions.
 *
 * Classification metrics take class indices 0..k-1 (matrix.h) and, for
 * AUC and log loss, row-major probabilities (n * k). Conventions follow
 * scikit-learn 1.x and are checked against it in tests/unit/test_ml_metrics.c:
 *   - precision/recall/F1 of a class with no predicted (true) samples are 0
 *     (zero_division=0 without the warning); the macro and weighted
 *     averages run over the classes present in y_true or y_pred, like
 *     sklearn's unique_labels;
 *   - ROC AUC is the area under the ROC curve with tied scores counted as
 *     one step (the trapezoid over distinct thresholds, equal to the
 *     Mann-Whitney statistic with ties counted one half); multiclass is
 *     one-vs-rest, macro-averaged (multi_class="ovr");
 *   - log loss clips probabilities to [eps, 1 - eps], eps = DBL_EPSILON,
 *     and does not renormalize rows;
 *   - R^2 of a constant target is 1 when predictions are exact, else 0
 *     (sklearn's force_finite).
 * Functions fail with SL_EINVAL (n == 0, a label out of range, AUC with a
 * single class present) and never print.
 */
#ifndef SLUICE_METRICS_H
#define SLUICE_METRICS_H

#include <stdint.h>

#include "error.h"
#include "matrix.h"
#include "model.h"

sl_rc sl_metric_accuracy(const int32_t *y_true, const int32_t *y_pred,
                         int64_t n, double *out, sl_err *err);

/* Confusion matrix: cm[t * k + p] counts rows with true class t predicted
 * as p (sklearn's confusion_matrix(y_true, y_pred, labels=range(k))). */
sl_rc sl_metric_confusion(const int32_t *y_true, const int32_t *y_pred,
                          int64_t n, int k, int64_t *cm, sl_err *err);

typedef struct sl_class_report {
    int k;
    int64_t *confusion; /* k * k */
    double *precision, *recall, *f1; /* per class */
    int64_t *support;   /* true count per class */
    double accuracy;
    double macro_precision, macro_recall, macro_f1;
    double weighted_precision, weighted_recall, weighted_f1;
} sl_class_report;

/* Precision/recall/F1 per class and averaged, plus the confusion matrix. */
sl_rc sl_metric_class_report(const int32_t *y_true, const int32_t *y_pred,
                             int64_t n, int k, sl_class_report *out,
                             sl_err *err);
void sl_class_report_free(sl_class_report *r);

/* Binary ROC AUC of scores against y_true (nonzero = positive). */
sl_rc sl_metric_roc_auc_binary(const int32_t *y_true, const double *score,
                               int64_t n, double *out, sl_err *err);
/* k == 2: AUC of proba[:, 1]; k > 2: one-vs-rest macro average. */
sl_rc sl_metric_roc_auc(const int32_t *y_true, const double *proba,
                        int64_t n, int k, double *out, sl_err *err);
sl_rc sl_metric_log_loss(const int32_t *y_true, const double *proba,
                         int64_t n, int k, double *out, sl_err *err);

sl_rc sl_metric_rmse(const double *y, const double *pred, int64_t n,
                     double *out, sl_err *err);
sl_rc sl_metric_mae(const double *y, const double *pred, int64_t n,
                    double *out, sl_err *err);
sl_rc sl_metric_r2(const double *y, const double *pred, int64_t n,
                   double *out, sl_err *err);

/* ---- everything at once, by name (metrics.json, evaluation gates) ---- */
#define SL_METRICS_MAX 16

typedef struct sl_metric_set {
    int n;
    const char *names[SL_METRICS_MAX]; /* static strings */
    double values[SL_METRICS_MAX];
} sl_metric_set;

/* Classification: accuracy, precision, recall, f1 (binary: of class 1,
 * like sklearn's default average="binary"; multiclass: macro),
 * precision_macro, recall_macro, f1_macro, f1_weighted, auc (roc_auc; left
 * out when y_true holds one class), log_loss. Regression: rmse, mae, r2,
 * mse. y_true is the matrix with labels; pred its predictions. */
sl_rc sl_metrics_compute(const sl_matrix *y_true, const sl_prediction *pred,
                         sl_metric_set *out, sl_err *err);
/* Value by name ("roc_auc" is accepted for "auc"); SL_ENOTFOUND if absent. */
sl_rc sl_metric_set_get(const sl_metric_set *s, const char *name,
                        double *out);

#endif
