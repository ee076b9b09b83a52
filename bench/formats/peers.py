#!/usr/bin/env python3
"""pyarrow and DuckDB sides of bench/formats/run.sh (one measurement per
call, printed as one JSON line, the shape pq_bench prints).

    peers.py ENGINE write IN.csv OUT.parquet   load the CSV (untimed), time the
                                               Parquet ZSTD write
    peers.py ENGINE read FILE                  time reading every column
    peers.py ENGINE convert IN.csv OUT.parquet time CSV -> Parquet end to end
ENGINE: pyarrow | duckdb. --threads N (default 2) limits both.

The table written is typed like sluice's CSV inference (int64, float64,
string, timestamp[us, UTC]) so every engine writes the same logical data;
codecs and levels are each engine's default for ZSTD (pyarrow level 1,
DuckDB its default), row groups each engine's default.
"""
import argparse
import json
import os
import sys
import time

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq


def load(path):
    # empty fields are nulls for every type, as in sluice and DuckDB
    t = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(strings_can_be_null=True))
    cols = []
    for f, c in zip(t.schema, t.columns):
        if pa.types.is_timestamp(f.type):
            c = c.cast(pa.timestamp("us")).cast(pa.timestamp("us", tz="UTC"))
        cols.append(c)
    return pa.Table.from_arrays(cols, names=t.column_names)


def duck(threads):
    import duckdb
    con = duckdb.connect()
    con.execute(f"SET threads={threads}")
    con.execute("SET preserve_insertion_order=true")
    return con


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("engine", choices=["pyarrow", "duckdb"])
    ap.add_argument("op", choices=["write", "read", "convert"])
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args(argv)
    pa.set_cpu_count(a.threads)
    pa.set_io_thread_count(a.threads)
    out = {}
    if a.op == "write":
        t0 = time.perf_counter()
        table = load(a.paths[0])
        t1 = time.perf_counter()
        if a.engine == "pyarrow":
            pq.write_table(table, a.paths[1], compression="zstd")
        else:
            con = duck(a.threads)
            con.register("t", table)
            con.execute(f"COPY t TO '{a.paths[1]}' (FORMAT parquet, COMPRESSION zstd)")
        fd = os.open(a.paths[1], os.O_RDONLY)
        os.fsync(fd)  # sluice's writer fsyncs too
        os.close(fd)
        t2 = time.perf_counter()
        out = {"rows": table.num_rows, "load_s": round(t1 - t0, 3), "write_s": round(t2 - t1, 3),
               "bytes": os.path.getsize(a.paths[1])}
    elif a.op == "read":
        t0 = time.perf_counter()
        if a.engine == "pyarrow":
            rows = pq.read_table(a.paths[0]).num_rows
        else:
            con = duck(a.threads)
            con.execute(f"CREATE TEMP TABLE r AS SELECT * FROM read_parquet('{a.paths[0]}')")
            rows = con.execute("SELECT count(*) FROM r").fetchall()[0][0]
        out = {"rows": rows, "read_s": round(time.perf_counter() - t0, 3)}
    else:
        t0 = time.perf_counter()
        if a.engine == "pyarrow":
            pq.write_table(load(a.paths[0]), a.paths[1], compression="zstd")
        else:
            con = duck(a.threads)
            con.execute(f"COPY (SELECT * FROM read_csv('{a.paths[0]}')) TO '{a.paths[1]}' "
                        "(FORMAT parquet, COMPRESSION zstd)")
        fd = os.open(a.paths[1], os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
        out = {"convert_s": round(time.perf_counter() - t0, 3), "bytes": os.path.getsize(a.paths[1])}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
