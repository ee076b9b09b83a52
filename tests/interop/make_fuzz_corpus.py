"""Regenerates the seed corpora of tests/fuzz/fuzz_parquet.c and
fuzz_thrift.c: small files written by sluice (every codec, V1/V2,
dictionary on/off) and by pyarrow (delta, byte-stream-split, RLE booleans,
nested columns), truncated variants, and their footers for the Thrift
target. Run from the venv: .venv/bin/python tests/interop/make_fuzz_corpus.py
"""
import struct
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).parent))
from parquet_helpers import ROOT, _find_pq_dump, write_sluice  # noqa: E402

OUT = ROOT / "tests/fuzz/corpus/parquet"
THRIFT = ROOT / "tests/fuzz/corpus/thrift"


def main():
    exe = _find_pq_dump()
    OUT.mkdir(parents=True, exist_ok=True)
    THRIFT.mkdir(parents=True, exist_ok=True)
    schema = [{"name": "b", "type": "bool"}, {"name": "i", "type": "int64"}, {"name": "f", "type": "float64"},
              {"name": "s", "type": "string"}, {"name": "t", "type": "timestamp"}, {"name": "d", "type": "date"},
              {"name": "r", "type": "int64", "nullable": False}]
    rows = [[i % 2 == 0, i * 7 - 20, i / 4, ["x", "yy", "zzz"][i % 3], i * 1000, i, i] if i % 5 else
            [None, None, None, None, None, None, i] for i in range(40)]
    for opts in [("zstd",), ("snappy", "--v2"), ("gzip", "--no-dict"), ("uncompressed",),
                 ("lz4_raw", "--v2", "--no-dict"), ("uncompressed", "--v2")]:
        name = "sluice-" + "-".join(o.strip("-") for o in opts) + ".parquet"
        write_sluice(exe, OUT / name, schema, rows, "--codec", opts[0], "--page-bytes", "64",
                     "--rg-rows", "25", *opts[1:])
    t = pa.table({"i32": pa.array([None if i % 4 == 0 else i * 3 for i in range(30)], pa.int32()),
                  "s": pa.array([f"s{i % 6}" for i in range(30)]),
                  "f": pa.array([i * 0.5 for i in range(30)], pa.float32()),
                  "ts": pa.array(range(30), pa.timestamp("ns")),
                  "b": pa.array([i % 3 == 0 for i in range(30)])})
    pq.write_table(t, OUT / "pa-delta.parquet", use_dictionary=False, compression="NONE",
                   column_encoding={"i32": "DELTA_BINARY_PACKED", "s": "DELTA_BYTE_ARRAY",
                                    "f": "BYTE_STREAM_SPLIT", "ts": "DELTA_BINARY_PACKED", "b": "RLE"},
                   data_page_version="2.0")
    pq.write_table(t, OUT / "pa-dlba.parquet", use_dictionary=False, compression="SNAPPY",
                   column_encoding={"s": "DELTA_LENGTH_BYTE_ARRAY"})
    pq.write_table(t, OUT / "pa-dict-v1.parquet", compression="NONE", data_page_version="1.0")
    pq.write_table(pa.table({"l": [[1, 2], None, []], "st": [{"a": 1}, None, {"a": 3}]}),
                   OUT / "pa-nested.parquet", compression="NONE")
    pq.write_table(pa.table({"x": pa.array([1.5, None], pa.float64())}), OUT / "pa-int96.parquet",
                   use_deprecated_int96_timestamps=True, compression="NONE")
    for src in ["sluice-zstd.parquet", "pa-delta.parquet", "sluice-uncompressed-v2.parquet"]:
        data = (OUT / src).read_bytes()
        for cut in (len(data) // 3, len(data) - 9):
            (OUT / f"trunc-{cut}-{src}").write_bytes(data[:cut])
    for p in sorted(OUT.glob("*.parquet")):
        data = p.read_bytes()
        if len(data) > 12 and data[-4:] == b"PAR1":
            n = struct.unpack("<I", data[-8:-4])[0]
            if n <= len(data) - 12:
                (THRIFT / (p.stem + ".footer")).write_bytes(data[-8 - n:-8])
    (THRIFT / "page-header-v1").write_bytes((OUT / "sluice-uncompressed.parquet").read_bytes()[4:40])
    print(len(list(OUT.iterdir())), "parquet seeds,", len(list(THRIFT.iterdir())), "thrift seeds")


if __name__ == "__main__":
    main()
