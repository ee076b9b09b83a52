#!/usr/bin/env python3
"""pandas peer of bench/specs/batch_csv.yaml: run_pandas.py IN.csv OUT.csv [--threads N]

Same job as every engine (see bench/README.md), written as a pandas user
would: the default C parser, ts parsed as a timestamp (every other engine
parses it too), vectorised column arithmetic, std(ddof=0). pandas runs on
one thread; --threads is accepted for a uniform command line.
"""
import argparse

import numpy as np
import pandas as pd

SCALED = ("amount", "price", "score")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("inp")
    ap.add_argument("out")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()

    df = pd.read_csv(a.inp, parse_dates=["ts"], date_format="%Y-%m-%d %H:%M:%S")
    df = df[(df["amount"] > 10) & df["category"].notna()]
    df = df.assign(amount_per_unit=df["amount"] / df["qty"],
                   amount_log=np.log(df["amount"] + 1))
    for c in SCALED:
        col = df[c]
        df[c] = (col - col.mean()) / col.std(ddof=0)
    df.to_csv(a.out, index=False)


if __name__ == "__main__":
    main()
