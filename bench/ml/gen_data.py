"""Generates the benchmark dataset: binary classification, 30 features
(sklearn's make_classification: 12 informative, 6 redundant, 1% label
noise), shuffled, first 80% train / last 20% test, written as CSV with a
"target" column. usage: gen_data.py ROWS OUTDIR [SEED]"""
import os
import sys

import numpy as np
from sklearn.datasets import make_classification


def main():
    rows = int(sys.argv[1])
    out = sys.argv[2]
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 42
    X, y = make_classification(n_samples=rows, n_features=30, n_informative=12,
                               n_redundant=6, flip_y=0.01, class_sep=0.8,
                               random_state=seed)
    X = X.astype(np.float32)
    ntr = int(rows * 0.8)
    os.makedirs(out, exist_ok=True)
    header = ",".join([f"f{i}" for i in range(30)] + ["target"])
    for name, a, b in (("train", 0, ntr), ("test", ntr, rows)):
        data = np.column_stack([X[a:b], y[a:b]])
        fmt = ["%.7g"] * 30 + ["%d"]
        np.savetxt(os.path.join(out, name + ".csv"), data, fmt=fmt,
                   delimiter=",", header=header, comments="")


if __name__ == "__main__":
    main()
