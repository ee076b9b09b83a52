"""Prints the scikit-learn reference numbers pasted into tests/unit/test_ml_*.c
(run in a throwaway venv: /tmp/skl/bin/python tests/data/ml/sklearn_reference.py
tests/data/ml). scikit-learn 1.9.1, numpy 2.4.6."""
import sys

import numpy as np
from sklearn.ensemble import (HistGradientBoostingClassifier,
                              HistGradientBoostingRegressor,
                              RandomForestClassifier, RandomForestRegressor)
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, r2_score, roc_auc_score
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler
import csv

d = sys.argv[1] if len(sys.argv) > 1 else "."


def load(name):
    def rd(part):
        with open(f"{d}/{name}_{part}.csv") as f:
            rows = list(csv.reader(f))
        X = np.array([[float(v) for v in r[:-1]] for r in rows[1:]])
        y = [r[-1] for r in rows[1:]]
        return X, y
    return rd("train"), rd("test")


for name in ["iris", "breast_cancer", "wine"]:
    (Xtr, ytr), (Xte, yte) = load(name)
    rf = RandomForestClassifier(n_estimators=100, random_state=42, n_jobs=2,
                                oob_score=True).fit(Xtr, ytr)
    p = rf.predict_proba(Xte)
    auc = roc_auc_score(yte, p[:, 1] if p.shape[1] == 2 else p,
                        multi_class="ovr")
    print(f"{name} rf acc={accuracy_score(yte, rf.predict(Xte)):.4f} "
          f"auc={auc:.4f} oob={rf.oob_score_:.4f}")
    top = np.argsort(-rf.feature_importances_)[:3]
    print(f"  rf top features {list(top)} {rf.feature_importances_[top]}")
    lr = LogisticRegression(C=1.0, max_iter=100000, tol=1e-10).fit(Xtr, ytr)
    print(f"{name} logreg acc={accuracy_score(yte, lr.predict(Xte)):.4f} "
          f"proba[0]={lr.predict_proba(Xte)[0]}")
    print(f"  coef[0][:3]={lr.coef_[0][:3]} intercept={lr.intercept_}")
    sc = StandardScaler().fit(Xtr)
    lr2 = LogisticRegression(C=1.0, max_iter=100000, tol=1e-10).fit(sc.transform(Xtr), ytr)
    print(f"  scaled logreg acc={accuracy_score(yte, lr2.predict(sc.transform(Xte))):.4f}")
    gb = HistGradientBoostingClassifier(max_iter=100, learning_rate=0.1,
                                        max_leaf_nodes=31, min_samples_leaf=20,
                                        l2_regularization=0.0,
                                        early_stopping=False,
                                        random_state=42).fit(Xtr, ytr)
    print(f"{name} hgb acc={accuracy_score(yte, gb.predict(Xte)):.4f}")
    mlp = MLPClassifier(hidden_layer_sizes=(64, 32), batch_size=32,
                        learning_rate_init=0.001, max_iter=10,
                        random_state=42).fit(sc.transform(Xtr), ytr)
    print(f"{name} mlp(scaled, 10 epochs) acc="
          f"{accuracy_score(yte, mlp.predict(sc.transform(Xte))):.4f}")

(Xtr, ytr), (Xte, yte) = load("diabetes")
ytr = np.array([float(v) for v in ytr]); yte = np.array([float(v) for v in yte])
rf = RandomForestRegressor(n_estimators=100, random_state=42, n_jobs=2,
                           oob_score=True).fit(Xtr, ytr)
print(f"diabetes rf r2={r2_score(yte, rf.predict(Xte)):.4f} oob={rf.oob_score_:.4f}")
lin = LinearRegression().fit(Xtr, ytr)
print(f"diabetes linreg r2={r2_score(yte, lin.predict(Xte)):.6f} "
      f"coef={lin.coef_} intercept={lin.intercept_:.6f} pred0={lin.predict(Xte[:1])[0]:.6f}")
rg = Ridge(alpha=1.0).fit(Xtr, ytr)
print(f"diabetes ridge(1.0) r2={r2_score(yte, rg.predict(Xte)):.6f} "
      f"pred0={rg.predict(Xte[:1])[0]:.6f}")
gb = HistGradientBoostingRegressor(max_iter=100, learning_rate=0.1,
                                   max_leaf_nodes=31, min_samples_leaf=20,
                                   early_stopping=False,
                                   random_state=42).fit(Xtr, ytr)
print(f"diabetes hgb r2={r2_score(yte, gb.predict(Xte)):.4f}")

# MLP accuracy spread over random_state 0..9 (test_ml_mlp.c compares means)
for name in ["iris", "breast_cancer", "wine"]:
    (Xtr, ytr), (Xte, yte) = load(name)
    sc = StandardScaler().fit(Xtr)
    accs = [MLPClassifier(hidden_layer_sizes=(64, 32), batch_size=32,
                          learning_rate_init=0.001, max_iter=10,
                          random_state=s).fit(sc.transform(Xtr), ytr)
            .score(sc.transform(Xte), yte) for s in range(10)]
    print(f"{name} mlp seeds 0-9: min {min(accs):.4f} max {max(accs):.4f} "
          f"mean {np.mean(accs):.4f}")
