"""The Python peer of bench/serving/run.sh: the quickstart model served by
FastAPI + uvicorn + scikit-learn, doing the same work per request as
`sluice serve`: parse {"instances": [...]}, apply the fitted quickstart
transforms (read from the same transform.json: derive, median impute,
z-score scaling, one-hot months, drop date), predict with a
RandomForestClassifier(n_estimators=100) fitted on the same train.csv, and
answer {"predictions", "probabilities", "classes", "model_version"}.

The transforms are the quickstart chain written out in numpy (not a
general transform.json interpreter); they raise on any other chain.

  DATA_DIR=... uvicorn peer_server:app --workers 2 --port N
"""
import csv
import datetime
import json
import math
import os

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sklearn.ensemble import RandomForestClassifier

DATA = os.environ["DATA_DIR"]
TRANSFORM = json.load(open(os.path.join(DATA, "transform.json")))
STEPS = {t["type"]: t for t in TRANSFORM["transforms"]}
if [t["type"] for t in TRANSFORM["transforms"]] != ["filter", "derive", "impute", "scale",
                                                   "onehot", "drop"]:
    raise SystemExit("peer_server implements the quickstart transform chain only")
IMPUTE = {k: v["value"] for k, v in STEPS["impute"]["state"]["columns"].items()}
SCALE = {k: (v["mean"], v["scale"]) for k, v in STEPS["scale"]["state"]["columns"].items()}
MONTHS = STEPS["onehot"]["state"]["columns"]["month"]["categories"]


def load_train():
    with open(os.path.join(DATA, "train.csv")) as f:
        r = csv.reader(f)
        header = next(r)
        rows = list(r)
    y_col = header.index("weather")
    features = [h for h in header if h != "weather"]
    x = np.array([[float(v) for i, v in enumerate(row) if i != y_col] for row in rows])
    y = np.array([row[y_col] for row in rows])
    return features, x, y


FEATURES, X, Y = load_train()
MODEL = RandomForestClassifier(n_estimators=100, random_state=42, n_jobs=1).fit(X, Y)
CLASSES = [str(c) for c in MODEL.classes_]
COL = {name: j for j, name in enumerate(FEATURES)}

app = FastAPI()


def scaled(name, v):
    mean, scale = SCALE[name]
    return (v - mean) / scale


def features_of(inst):
    """One instance -> the model's feature row (the quickstart chain)."""
    row = np.zeros(len(FEATURES))
    p = inst.get("precipitation")
    tmax, tmin, wind = inst["temp_max"], inst["temp_min"], inst.get("wind")
    month = datetime.date.fromisoformat(inst["date"].replace("/", "-")).month
    logp = math.log(p + 1) if p is not None else None
    p = IMPUTE["precipitation"] if p is None else p
    logp = IMPUTE["log_precipitation"] if logp is None else logp
    wind = IMPUTE["wind"] if wind is None else wind
    vals = {"precipitation": p, "log_precipitation": logp, "temp_max": tmax,
            "temp_min": tmin, "temp_range": tmax - tmin, "wind": wind}
    for name, v in vals.items():
        row[COL[name]] = scaled(name, v) if name in SCALE else v
    for m in MONTHS:
        row[COL["month_%d" % m]] = 1.0 if month == m else 0.0
    return row


@app.post("/v1/models/quickstart:predict")
async def predict(request: Request):
    body = await request.json()
    try:
        x = np.array([features_of(i) for i in body["instances"]])
    except (KeyError, TypeError, ValueError) as e:
        return JSONResponse({"error": {"code": "invalid_argument", "message": str(e)}},
                            status_code=400)
    proba = MODEL.predict_proba(x)
    return {"predictions": [CLASSES[k] for k in proba.argmax(axis=1)],
            "probabilities": proba.tolist(), "classes": CLASSES, "model_version": 1}


@app.get("/healthz")
async def healthz():
    return {"status": "ok"}
