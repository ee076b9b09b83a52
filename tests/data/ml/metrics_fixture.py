"""Prints the C fixture of tests/unit/test_ml_metrics.c: labels, scores
(with ties, rounded to 0.1) and scikit-learn's metric values.
/tmp/skl/bin/python tests/data/ml/metrics_fixture.py (sklearn 1.9.1)."""
import numpy as np
from sklearn import metrics as M

rng = np.random.RandomState(0)


def arr(name, a, fmt):
    body = ", ".join(fmt % v for v in a)
    print(f"static const {name} = {{{body}}};")


# binary, 24 rows, scores with ties
n = 24
yb = rng.randint(0, 2, n)
sb = np.round(np.clip(yb * 0.3 + rng.rand(n) * 0.7, 0, 1), 1)
pb = (sb >= 0.5).astype(int)
arr("int32_t YB[24]", yb, "%d")
arr("double SB[24]", sb, "%.1f")
arr("int32_t PB[24]", pb, "%d")
P = np.column_stack([1 - sb, sb])
print(f"#define B_ACC {M.accuracy_score(yb, pb):.17g}")
print(f"#define B_PREC {M.precision_score(yb, pb):.17g}")
print(f"#define B_REC {M.recall_score(yb, pb):.17g}")
print(f"#define B_F1 {M.f1_score(yb, pb):.17g}")
print(f"#define B_AUC {M.roc_auc_score(yb, sb):.17g}")
print(f"#define B_LOGLOSS {M.log_loss(yb, P):.17g}")

# multiclass, 30 rows, 4 classes (class 3 never predicted)
n = 30
ym = rng.randint(0, 4, n)
raw = rng.rand(n, 4) + np.eye(4)[ym] * 0.6
raw[:, 3] *= 0.2
pm = raw / raw.sum(axis=1, keepdims=True)
pm = np.round(pm, 2)
pm[:, 3] = 1 - pm[:, :3].sum(axis=1)
yp = pm.argmax(axis=1)
arr("int32_t YM[30]", ym, "%d")
arr("int32_t YP[30]", yp, "%d")
arr("double PM[120]", pm.ravel(), "%.17g")
print(f"#define M_ACC {M.accuracy_score(ym, yp):.17g}")
for avg in ["macro", "weighted"]:
    for f, nm in [(M.precision_score, "PREC"), (M.recall_score, "REC"),
                  (M.f1_score, "F1")]:
        v = f(ym, yp, average=avg, zero_division=0)
        print(f"#define M_{nm}_{avg.upper()} {v:.17g}")
arr("double M_F1_PER[4]", M.f1_score(ym, yp, average=None, zero_division=0), "%.17g")
arr("int64_t M_CM[16]", M.confusion_matrix(ym, yp, labels=range(4)).ravel(), "%d")
print(f"#define M_AUC_OVR {M.roc_auc_score(ym, pm, multi_class='ovr'):.17g}")
print(f"#define M_LOGLOSS {M.log_loss(ym, pm, labels=range(4)):.17g}")

# regression
yr = np.round(rng.randn(15) * 10, 2)
pr = np.round(yr + rng.randn(15) * 3, 2)
arr("double YR[15]", yr, "%.17g")
arr("double PR[15]", pr, "%.17g")
print(f"#define R_RMSE {np.sqrt(M.mean_squared_error(yr, pr)):.17g}")
print(f"#define R_MAE {M.mean_absolute_error(yr, pr):.17g}")
print(f"#define R_R2 {M.r2_score(yr, pr):.17g}")
