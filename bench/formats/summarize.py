#!/usr/bin/env python3
"""Summarizes bench/formats/run.sh measurements (results.jsonl: one JSON
object per measurement with engine, op, file, run and the timing fields)
into a Markdown report with best and median times and peer/sluice ratios.

    summarize.py RESULTS.jsonl CSV_BYTES THREADS > report.md
"""
import json
import statistics
import sys
from collections import defaultdict


def main(path, csv_bytes, threads):
    m = defaultdict(list)
    sizes = {}
    for line in open(path):
        r = json.loads(line)
        key = (r["op"], r["engine"], r.get("file", ""))
        m[key].append(r.get("write_s") or r.get("read_s") or r.get("convert_s"))
        if "bytes" in r:
            sizes[(r["op"], r["engine"])] = r["bytes"]
    mb = csv_bytes / 2**20
    out = []
    engines = ["sluice", "pyarrow", "duckdb"]

    def row(label, key, base):
        ts = m.get(key)
        if not ts:
            return
        best, med = min(ts), statistics.median(ts)
        ratio = "" if key[1] == "sluice" or not base else "%.2f" % (best / base)
        out.append(f"| {label} | {best:.2f} | {med:.2f} | {mb / best:.0f} | {ratio} |")

    out.append(f"Input: {mb:.0f} MiB CSV (bench/gen_csv.py), {threads} threads per engine, "
               f"{max(len(v) for v in m.values())} runs; ratio = peer best / sluice best "
               "(> 1: sluice faster).\n")
    for op, title in (("write", "Write Parquet ZSTD from memory"), ("convert", "CSV -> Parquet ZSTD end to end")):
        out.append(f"**{title}**\n")
        out.append("| engine | best s | median s | CSV MiB/s | ratio |")
        out.append("| --- | --- | --- | --- | --- |")
        base = min(m.get((op, "sluice", ""), [0])) or None
        for e in engines:
            row(e, (op, e, ""), base)
        out.append("")
    out.append("**File sizes (write)**\n")
    out.append("| engine | bytes | MiB | vs sluice |")
    out.append("| --- | --- | --- | --- |")
    sb = sizes.get(("write", "sluice"))
    for e in engines:
        b = sizes.get(("write", e))
        if b:
            out.append(f"| {e} | {b} | {b / 2**20:.1f} | {b / sb:.3f} |" if sb else f"| {e} | {b} | | |")
    out.append("")
    out.append("**Read Parquet (every column decoded)**\n")
    out.append("| reader | file written by | best s | median s | ratio |")
    out.append("| --- | --- | --- | --- | --- |")
    for f in engines:
        base = min(m.get(("read", "sluice", f), [0])) or None
        for e in engines:
            ts = m.get(("read", e, f))
            if not ts:
                continue
            ratio = "" if e == "sluice" or not base else "%.2f" % (min(ts) / base)
            out.append(f"| {e} | {f} | {min(ts):.2f} | {statistics.median(ts):.2f} | {ratio} |")
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
