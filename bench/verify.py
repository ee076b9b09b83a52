#!/usr/bin/env python3
"""Checks that every engine's output is the benchmark job's right answer.

    verify.py INPUT.csv ENGINE=OUT.csv [ENGINE=OUT.csv ...]

Computes the expected output of the job with the Python standard library
only (csv, math.fsum: an oracle that shares no code with any engine), then
compares each engine's file with it:
  - the header (same columns, same order);
  - the row count;
  - every cell, rows matched by id (engines may reorder rows): nulls must
    match, numbers within 1e-9 relative (absolute for |x| < 1, so z-scores
    near 0 compare sensibly), timestamps after normalising the text
    ("T"/" ", a trailing "Z", a zero fraction), strings exactly;
  - per numeric column, the non-null count and the sum, the sum within
    1e-9 of the column's sum of |x| (a z-scored column sums to ~0, so a
    plain relative test on the sum would be meaningless).
Prints one line per engine and exits 1 if any engine differs.
"""
import csv
import math
import sys

TOL = 1e-9
SCALED = ("amount", "price", "score")
INT_COLS = ("id", "qty")
FLOAT_COLS = ("amount", "price", "score", "weight")
TS_COLS = ("ts",)
OUT_COLS = ("id", "ts", "category", "amount", "price", "score", "qty", "weight",
            "note", "amount_per_unit", "amount_log")
NUM_OUT = ("id", "amount", "price", "score", "qty", "weight", "amount_per_unit",
           "amount_log")


def num(s):
    return None if s == "" else float(s)


def norm_ts(s):
    if s == "":
        return None
    s = s.replace("T", " ").rstrip("Z")
    if "." in s:
        head, frac = s.split(".", 1)
        if frac.strip("0") == "":
            s = head
    return s


def expected(path):
    rows = []
    with open(path, newline="") as f:
        r = csv.DictReader(f)
        for rec in r:
            amount = num(rec["amount"])
            cat = rec["category"]
            if amount is None or not amount > 10 or cat == "":
                continue
            qty = num(rec["qty"])
            row = {
                "id": num(rec["id"]), "ts": norm_ts(rec["ts"]), "category": cat,
                "amount": amount, "price": num(rec["price"]), "score": num(rec["score"]),
                "qty": qty, "weight": num(rec["weight"]),
                "note": None if rec["note"] == "" else rec["note"],
                "amount_per_unit": None if qty in (None, 0) else amount / qty,
                "amount_log": math.log(amount + 1),
            }
            rows.append(row)
    for c in SCALED:
        vals = [r[c] for r in rows if r[c] is not None]
        mean = math.fsum(vals) / len(vals)
        std = math.sqrt(math.fsum((v - mean) ** 2 for v in vals) / len(vals))
        for r in rows:
            if r[c] is not None:
                r[c] = (r[c] - mean) / std
    return rows


def read_output(path):
    with open(path, newline="") as f:
        r = csv.reader(f)
        header = next(r)
        rows = []
        for rec in r:
            d = dict(zip(header, rec))
            row = {}
            for c in header:
                v = d.get(c, "")
                if c in NUM_OUT:
                    row[c] = num(v)
                elif c in TS_COLS:
                    row[c] = norm_ts(v)
                else:
                    row[c] = None if v == "" else v
            rows.append(row)
    return header, rows


def close(a, b):
    return abs(a - b) <= TOL * max(1.0, abs(b))


def compare(exp, header, got):
    """Returns a list of problems (empty when the output is right)."""
    probs = []
    if tuple(header) != OUT_COLS:
        return [f"header {header} != {list(OUT_COLS)}"]
    if len(got) != len(exp):
        probs.append(f"{len(got)} rows, expected {len(exp)}")
    by_id = {r["id"]: r for r in got}
    if len(by_id) != len(got):
        probs.append("duplicate ids")
    bad = 0
    for e in exp:
        g = by_id.get(e["id"])
        if g is None:
            bad += 1
            if bad <= 5:
                probs.append(f"id {e['id']:.0f} missing")
            continue
        for c in OUT_COLS:
            ev, gv = e[c], g[c]
            ok = (ev is None and gv is None) or (
                ev is not None and gv is not None and
                (close(gv, ev) if c in NUM_OUT else gv == ev))
            if not ok:
                bad += 1
                if bad <= 5:
                    probs.append(f"id {e['id']:.0f} {c}: got {gv!r}, expected {ev!r}")
    if bad > 5:
        probs.append(f"... {bad} bad cells in all")
    for c in NUM_OUT:
        ev = [r[c] for r in exp if r[c] is not None]
        gv = [r[c] for r in got if r[c] is not None]
        if len(ev) != len(gv):
            probs.append(f"{c}: {len(gv)} non-null, expected {len(ev)}")
            continue
        es, gs = math.fsum(ev), math.fsum(gv)
        scale = max(1.0, math.fsum(abs(v) for v in ev))
        if abs(es - gs) > TOL * scale:
            probs.append(f"{c}: sum {gs!r}, expected {es!r}")
    return probs


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    exp = expected(argv[0])
    failed = 0
    print(f"verify: expected {len(exp)} rows from {argv[0]}")
    for spec in argv[1:]:
        engine, path = spec.split("=", 1)
        try:
            header, got = read_output(path)
            probs = compare(exp, header, got)
        except (OSError, ValueError, StopIteration) as e:
            probs = [f"cannot read {path}: {e}"]
        if probs:
            failed += 1
            print(f"verify: {engine:8s} FAIL")
            for p in probs:
                print(f"verify:   {p}")
        else:
            print(f"verify: {engine:8s} ok ({len(got)} rows, every cell and column sum "
                  f"within {TOL:g})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
