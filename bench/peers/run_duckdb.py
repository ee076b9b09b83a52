#!/usr/bin/env python3
"""DuckDB peer of bench/specs/batch_csv.yaml: run_duckdb.py IN.csv OUT.csv [--threads N]

Same job as every engine (see bench/README.md): read the CSV with type
inference; keep rows with amount > 10 and category not null; derive
amount_per_unit = amount / qty and amount_log = ln(amount + 1) (from the
raw amount); z-score amount, price, score with the mean and population std
(stddev_pop, ddof=0) of the filtered rows, nulls ignored and kept null;
write every row as CSV with a header.
"""
import argparse

import duckdb

SCALED = ("amount", "price", "score")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("inp")
    ap.add_argument("out")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()

    con = duckdb.connect()
    con.execute(f"SET threads={a.threads}")
    # The filtered, derived rows; the stats and the output both read it.
    con.execute(f"""
        CREATE TEMP VIEW f AS
        SELECT *, amount / qty AS amount_per_unit, ln(amount + 1) AS amount_log
        FROM read_csv('{a.inp}', header = true)
        WHERE amount > 10 AND category IS NOT NULL""")
    cols = [r[0] for r in con.execute("DESCRIBE f").fetchall()]
    stats = ", ".join(f"avg({c}) AS m_{c}, stddev_pop({c}) AS s_{c}" for c in SCALED)
    select = ", ".join(
        f"({c} - s.m_{c}) / s.s_{c} AS {c}" if c in SCALED else f"f.{c}" for c in cols)
    con.execute(f"""
        COPY (
          WITH s AS MATERIALIZED (SELECT {stats} FROM f)
          SELECT {select} FROM f, s
        ) TO '{a.out}' (FORMAT csv, HEADER true)""")


if __name__ == "__main__":
    main()
