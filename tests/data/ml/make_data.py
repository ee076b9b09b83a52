"""Writes the small ML fixture datasets of tests/data/ml/ from the copies
bundled with scikit-learn (run once, in a throwaway venv outside the repo:
python3 -m venv /tmp/skl && /tmp/skl/bin/pip install scikit-learn;
/tmp/skl/bin/python tests/data/ml/make_data.py tests/data/ml).

Each dataset is split once with train_test_split(test_size=0.25,
random_state=42, stratify=y for classification) and written as
<name>_train.csv / <name>_test.csv; the target is the last column.
Values are written with repr() so they round-trip exactly.
"""
import csv
import os
import sys

from sklearn import datasets
from sklearn.model_selection import train_test_split


def write(path, names, X, y):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(names)
        for row, t in zip(X, y):
            w.writerow([repr(float(v)) for v in row] + [t])


def main(out):
    specs = [
        # name, loader, classification?, label mapping
        ("iris", datasets.load_iris, True, "names"),  # string labels
        ("breast_cancer", datasets.load_breast_cancer, True, "int"),
        ("wine", datasets.load_wine, True, "int"),
        ("diabetes", datasets.load_diabetes, False, None),
    ]
    for name, loader, clf, lab in specs:
        d = loader()
        X, y = d.data, d.target
        cols = [str(c).replace(" ", "_").replace("(", "").replace(")", "")
                for c in d.feature_names]
        if clf and lab == "names":
            y = [str(d.target_names[v]) for v in y]
        elif clf:
            y = [int(v) for v in y]
        else:
            y = [repr(float(v)) for v in y]
        Xtr, Xte, ytr, yte = train_test_split(
            X, y, test_size=0.25, random_state=42,
            stratify=y if clf else None)
        write(os.path.join(out, name + "_train.csv"), cols + ["target"], Xtr, ytr)
        write(os.path.join(out, name + "_test.csv"), cols + ["target"], Xte, yte)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
