"""Peer side of bench/ml/run_ml.sh: fits one peer model on the benchmark
CSVs and prints one JSON line like sl_ml_bench does:
  {"model": ..., "fit_s": ..., "predict_s": ..., "accuracy": ..., "auc": ...}
usage: peers.py PEER TRAIN.csv TEST.csv THREADS
PEER: sklearn_rf | lgbm_rf | lgbm_gbdt | xgb_hist | sklearn_mlp | torch_mlp
"""
import json
import os
import sys
import time

import numpy as np
import pandas as pd


def load(path):
    d = pd.read_csv(path)
    y = d["target"].to_numpy()
    X = d.drop(columns="target").to_numpy(dtype=np.float32)
    return X, y


def report(name, fit_s, pred_s, y, proba, extra=None):
    from sklearn.metrics import accuracy_score, roc_auc_score
    out = {"model": name, "fit_s": round(fit_s, 4), "predict_s": round(pred_s, 4),
           "accuracy": accuracy_score(y, proba.argmax(axis=1)),
           "auc": roc_auc_score(y, proba[:, 1])}
    out.update(extra or {})
    print(json.dumps(out))


def timed(fit, predict):
    t0 = time.perf_counter()
    fit()
    t1 = time.perf_counter()
    p = predict()
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, p


def main():
    peer, train, test, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    X, y = load(train)
    Xt, yt = load(test)
    if peer == "sklearn_rf":
        from sklearn.ensemble import RandomForestClassifier
        m = RandomForestClassifier(n_estimators=100, n_jobs=threads, random_state=42)
        f, p, pr = timed(lambda: m.fit(X, y), lambda: m.predict_proba(Xt))
        report(peer, f, p, yt, pr)
    elif peer in ("lgbm_rf", "lgbm_gbdt"):
        import lightgbm as lgb
        common = dict(n_estimators=100, n_jobs=threads, random_state=42,
                      verbose=-1, max_bin=255)
        if peer == "lgbm_rf":
            m = lgb.LGBMClassifier(boosting_type="rf", num_leaves=4096,
                                   min_child_samples=1, subsample=0.632,
                                   subsample_freq=1, feature_fraction_bynode=0.183,
                                   **common)
        else:
            m = lgb.LGBMClassifier(learning_rate=0.1, num_leaves=31,
                                   min_child_samples=20, **common)
        f, p, pr = timed(lambda: m.fit(X, y), lambda: m.predict_proba(Xt))
        report(peer, f, p, yt, pr, {"iterations": 100})
    elif peer == "xgb_hist":
        import xgboost as xgb
        m = xgb.XGBClassifier(tree_method="hist", n_estimators=100, learning_rate=0.1,
                              max_depth=6, n_jobs=threads, random_state=42, max_bin=256)
        f, p, pr = timed(lambda: m.fit(X, y), lambda: m.predict_proba(Xt))
        report(peer, f, p, yt, pr, {"iterations": 100})
    elif peer == "sklearn_mlp":
        from sklearn.neural_network import MLPClassifier
        m = MLPClassifier(hidden_layer_sizes=(64, 32), batch_size=32,
                          learning_rate_init=0.001, max_iter=10, random_state=42)
        f, p, pr = timed(lambda: m.fit(X, y), lambda: m.predict_proba(Xt))
        report(peer, f, p, yt, pr, {"epochs": 10})
    elif peer == "torch_mlp":
        import torch
        torch.set_num_threads(threads)
        torch.manual_seed(42)
        k = int(y.max()) + 1
        net = torch.nn.Sequential(
            torch.nn.Linear(X.shape[1], 64), torch.nn.ReLU(), torch.nn.Dropout(0.5),
            torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Dropout(0.5),
            torch.nn.Linear(32, k))
        opt = torch.optim.Adam(net.parameters(), lr=0.001, eps=1e-7)
        loss_fn = torch.nn.CrossEntropyLoss()
        Xtr = torch.from_numpy(np.ascontiguousarray(X).copy())
        ytr = torch.from_numpy(y.astype(np.int64))

        def fit():
            net.train()
            g = torch.Generator().manual_seed(42)
            for _ in range(10):
                perm = torch.randperm(len(Xtr), generator=g)
                for a in range(0, len(Xtr), 32):
                    idx = perm[a:a + 32]
                    opt.zero_grad()
                    loss = loss_fn(net(Xtr[idx]), ytr[idx])
                    loss.backward()
                    opt.step()

        def predict():
            net.eval()
            with torch.no_grad():
                return torch.softmax(net(torch.from_numpy(Xt.copy())), dim=1).numpy()

        f, p, pr = timed(fit, predict)
        report(peer, f, p, yt, pr, {"epochs": 10})
    else:
        sys.exit(f"unknown peer {peer}")


if __name__ == "__main__":
    main()
