#!/usr/bin/env python3
"""Polars peer of bench/specs/batch_csv.yaml: run_polars.py IN.csv OUT.csv [--threads N]

Same job as every engine (see bench/README.md). The thread limit is
POLARS_MAX_THREADS, which polars reads once at import, so it is set here
before the import (the harness also exports it).
"""
import argparse
import os
import sys

SCALED = ("amount", "price", "score")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("inp")
    ap.add_argument("out")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    os.environ["POLARS_MAX_THREADS"] = str(a.threads)
    import polars as pl

    if pl.thread_pool_size() != a.threads:
        sys.exit(f"run_polars: thread pool is {pl.thread_pool_size()}, wanted {a.threads}")
    lf = (
        pl.scan_csv(a.inp, try_parse_dates=True)
        .filter((pl.col("amount") > 10) & pl.col("category").is_not_null())
        .with_columns(
            amount_per_unit=pl.col("amount") / pl.col("qty"),
            amount_log=(pl.col("amount") + 1).log(),
        )
        .with_columns(
            [((pl.col(c) - pl.col(c).mean()) / pl.col(c).std(ddof=0)).alias(c) for c in SCALED]
        )
    )
    lf.sink_csv(a.out, include_header=True)


if __name__ == "__main__":
    main()
