#!/usr/bin/env python3
"""Deterministic CSV generator for bench/batch_csv.sh.

    gen_csv.py OUT.csv [--size-mb N | --rows N] [--seed S]

Writes a header and rows until the file reaches N MiB (the last chunk is
cut at the row where the size is reached) or exactly --rows rows. The output
depends only on (seed, size/rows) and the pinned numpy/polars versions in
bench/requirements.txt: numpy's PCG64 draws the values, polars formats them.

Columns (nulls are empty unquoted fields, about 2% where noted):
    id        int64, 1..N, unique (the verifier sorts by it)
    ts        timestamp "YYYY-MM-DD HH:MM:SS" within 2024
    category  string, 50 values "cat_00".."cat_49", skewed;      2% null
    amount    float, log-normal, 2 decimals (~84% are > 10);   2% null
    price     float, normal(100, 25), 2 decimals;               2% null
    score     float, uniform [0, 1), 6 decimals;                2% null
    qty       int64, 1..50 (never 0: no division by zero)
    weight    float, gamma, 3 decimals
    note      free text, 2-9 words; ~5% contain a comma and ~1% a double
              quote, so the writer must quote them (RFC 4180);  2% null
"""
import argparse
import os
import sys

import numpy as np
import polars as pl

CHUNK_ROWS = 200_000
NULL_FRACTION = 0.02
TS_BASE_US = 1_704_067_200_000_000  # 2024-01-01T00:00:00Z in microseconds

# Word list for the free-text column. No word may read as a null marker in
# any engine ("NA", "null", "nan", "none", "n/a", ...), so none is short.
WORDS = (
    "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima "
    "mike november oscar papa quebec romeo sierra tango uniform victor whiskey "
    "xray yankee zulu amber basil cedar dune ember fjord grove harbor island "
    "jasper kettle lantern meadow nectar orchard pebble quartz river saffron "
    "timber umber valley willow yarrow zephyr shipment return refund invoice "
    "delivery warehouse customer order payment pending approved rejected "
    "express standard priority bulk sample fragile oversized"
).split()


def make_phrases(rng, count, min_words, max_words):
    """count distinct-ish phrases; some with a comma or a double quote."""
    out = []
    for _ in range(count):
        n = int(rng.integers(min_words, max_words + 1))
        words = [WORDS[int(i)] for i in rng.integers(0, len(WORDS), n)]
        r = rng.random()
        if r < 0.05 and n > 1:
            words[0] = words[0] + ","
        elif r < 0.06:
            words[-1] = '"' + words[-1] + '"'
        out.append(" ".join(words))
    return out


def chunk(rng, start_id, n, prefixes, suffixes, cat_p):
    ids = np.arange(start_id, start_id + n, dtype=np.int64)
    ts_us = TS_BASE_US + rng.integers(0, 366 * 86400, n, dtype=np.int64) * 1_000_000
    cat_idx = rng.choice(len(cat_p), size=n, p=cat_p)
    amount = np.round(rng.lognormal(3.5, 1.2, n), 2)
    price = np.round(rng.normal(100.0, 25.0, n), 2)
    score = np.round(rng.random(n), 6)
    qty = rng.integers(1, 51, n, dtype=np.int64)
    weight = np.round(rng.gamma(2.0, 1.5, n), 3)
    pre = rng.integers(0, len(prefixes), n)
    suf = rng.integers(0, len(suffixes), n)

    cats = pl.Series("category", [f"cat_{i:02d}" for i in range(len(cat_p))])
    pres = pl.Series("p", prefixes)
    sufs = pl.Series("s", suffixes)
    df = pl.DataFrame({
        "id": ids,
        "ts": pl.Series("ts", ts_us).cast(pl.Datetime("us")),
        "category": cats.gather(cat_idx),
        "amount": amount,
        "price": price,
        "score": score,
        "qty": qty,
        "weight": weight,
        "note": pl.select(pl.concat_str([pres.gather(pre), sufs.gather(suf)],
                                        separator=" ")).to_series(),
    })
    # Null masks are drawn after the values so that the value stream of a
    # column does not depend on which columns get nulls.
    nulls = {}
    for col in ("category", "amount", "price", "score", "note"):
        nulls[col] = rng.random(n) < NULL_FRACTION
    df = df.with_columns([
        pl.when(pl.Series(m)).then(None).otherwise(pl.col(c)).alias(c)
        for c, m in nulls.items()
    ])
    return df


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--size-mb", type=float, default=1024.0,
                    help="target size in MiB (default 1024)")
    ap.add_argument("--rows", type=int, default=0,
                    help="exact row count (overrides --size-mb)")
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args(argv)

    rng = np.random.Generator(np.random.PCG64(a.seed))
    prefixes = make_phrases(rng, 2000, 1, 5)
    suffixes = make_phrases(rng, 2000, 1, 4)
    w = 1.0 / np.arange(1, 51) ** 0.8  # mildly skewed categories
    cat_p = w / w.sum()

    target = int(a.size_mb * 1024 * 1024)
    tmp = a.out + ".part"
    rows = 0
    with open(tmp, "wb") as f:
        first = True
        while True:
            n = CHUNK_ROWS
            if a.rows:
                n = min(n, a.rows - rows)
                if n <= 0:
                    break
            df = chunk(rng, rows + 1, n, prefixes, suffixes, cat_p)
            data = df.write_csv(include_header=first,
                                datetime_format="%Y-%m-%d %H:%M:%S",
                                null_value="", quote_style="necessary").encode()
            header_lines = 1 if first else 0
            first = False
            if not a.rows and f.tell() + len(data) >= target:
                # Cut at the first line end at or past the target (notes
                # hold no newline, so every b"\n" ends a record).
                cut = data.find(b"\n", max(0, target - f.tell() - 1))
                data = data[:cut + 1] if cut >= 0 else data
                f.write(data)
                rows += data.count(b"\n") - header_lines
                break
            f.write(data)
            rows += n
    os.replace(tmp, a.out)
    size = os.path.getsize(a.out)
    print(f"gen_csv: {a.out}: {rows} rows, {size / 1048576:.1f} MiB, seed {a.seed}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
