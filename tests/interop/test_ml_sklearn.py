"""sluice's models against scikit-learn on the same data (tests/data/ml/).

Trains each sluice model through the bench/ml/sl_ml_bench.c driver (built
here against $SL_BUILD_DIR/libsluice.a, default build/) and the matching
scikit-learn estimator in-process, on the same train/test CSVs, and checks
the test scores agree within a few test rows. Skips cleanly when the venv
has no scikit-learn or sluice is not built.
  .venv/bin/python -m pytest -q tests/interop/test_ml_sklearn.py
"""
import csv
import json
import os
import subprocess
from pathlib import Path

import pytest

np = pytest.importorskip("numpy")
pytest.importorskip("sklearn")

from sklearn.ensemble import (HistGradientBoostingClassifier,  # noqa: E402
                              RandomForestClassifier, RandomForestRegressor)
from sklearn.linear_model import LinearRegression, LogisticRegression  # noqa: E402
from sklearn.metrics import accuracy_score, r2_score  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests/data/ml"


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    build = Path(os.environ.get("SL_BUILD_DIR", ROOT / "build"))
    lib = build / "libsluice.a"
    if not lib.exists():
        pytest.skip(f"{lib} missing: build sluice first")
    exe = tmp_path_factory.mktemp("ml") / "sl_ml_bench"
    libs = subprocess.run(["pkg-config", "--libs", "yaml-0.1", "jansson", "libzstd",
                           "zlib", "liblz4", "openblas", "rdkafka"], capture_output=True,
                          text=True, check=True).stdout.split()
    subprocess.run(["cc", "-O2", f"-I{ROOT}/include", str(ROOT / "bench/ml/sl_ml_bench.c"),
                    str(lib), *libs, "-lsnappy", "-lpthread", "-lm", "-o", str(exe)],
                   check=True)
    return exe


def sluice(exe, model, task, ds, *params):
    p = subprocess.run([str(exe), model, task, str(DATA / f"{ds}_train.csv"),
                        str(DATA / f"{ds}_test.csv"), *params],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout.strip().splitlines()[-1])


def load(ds, regression=False):
    def rd(part):
        with open(DATA / f"{ds}_{part}.csv") as f:
            rows = list(csv.reader(f))[1:]
        X = np.array([[float(v) for v in r[:-1]] for r in rows], dtype=np.float32)
        y = [float(r[-1]) if regression else r[-1] for r in rows]
        return X, np.array(y)
    return rd("train") + rd("test")


# Tolerance: 2 test rows of the smallest set (iris: 38 rows).
TOL = 0.055


@pytest.mark.parametrize("ds", ["iris", "breast_cancer", "wine"])
def test_random_forest(driver, ds):
    X, y, Xt, yt = load(ds)
    ref = accuracy_score(yt, RandomForestClassifier(random_state=42).fit(X, y).predict(Xt))
    got = sluice(driver, "random_forest", "classification", ds)["accuracy"]
    assert abs(got - ref) <= TOL, (got, ref)


@pytest.mark.parametrize("ds", ["iris", "breast_cancer", "wine"])
def test_gbdt(driver, ds):
    X, y, Xt, yt = load(ds)
    hgb = HistGradientBoostingClassifier(max_iter=100, max_leaf_nodes=31,
                                         min_samples_leaf=20, early_stopping=False)
    ref = accuracy_score(yt, hgb.fit(X, y).predict(Xt))
    got = sluice(driver, "gbdt", "classification", ds)["accuracy"]
    assert abs(got - ref) <= TOL, (got, ref)


@pytest.mark.parametrize("ds", ["iris", "wine"])
def test_logistic_regression(driver, ds):
    X, y, Xt, yt = load(ds)
    ref = accuracy_score(yt, LogisticRegression(max_iter=100000, tol=1e-9)
                         .fit(X, y).predict(Xt))
    got = sluice(driver, "logistic_regression", "classification", ds,
                 "max_iter=20000", "tol=1e-9")["accuracy"]
    assert abs(got - ref) < 1e-5, (got, ref)  # same predictions (6 printed digits)


def test_regression(driver):
    X, y, Xt, yt = load("diabetes", regression=True)
    ref = r2_score(yt, LinearRegression().fit(X, y).predict(Xt))
    got = sluice(driver, "linear_regression", "regression", "diabetes")["r2"]
    assert abs(got - ref) < 1e-4, (got, ref)
    ref = r2_score(yt, RandomForestRegressor(random_state=42).fit(X, y).predict(Xt))
    got = sluice(driver, "random_forest", "regression", "diabetes")["r2"]
    assert abs(got - ref) < 0.06, (got, ref)
