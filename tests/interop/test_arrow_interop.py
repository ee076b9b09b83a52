"""The Arrow C Data Interface hand-off (examples/arrow/sluice_arrow.py):
libsluice.so reads CSV, Parquet and Avro files into a batch that pyarrow
imports without copying (pyarrow's memory pool stays untouched) and DuckDB
queries in place; values and types match the data written.
"""
import csv
import datetime as dt
import gc
import importlib.util
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
duckdb = pytest.importorskip("duckdb")
fastavro = pytest.importorskip("fastavro")

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "arrow" / "sluice_arrow.py"


@pytest.fixture(scope="module")
def example():
    lib = Path(os.environ.get("SLUICE_LIB", ROOT / "build" / "libsluice.so"))
    if not lib.exists():
        pytest.fail(f"{lib} is missing: tests/interop/run.sh builds it")
    spec = importlib.util.spec_from_file_location("sluice_arrow", EXAMPLE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod, mod.load_library(str(lib))


def rows(n=5000, seed=5):
    rnd = random.Random(seed)
    out = []
    for k in range(n):
        out.append({
            "id": k,
            "x": None if k % 7 == 3 else round(rnd.uniform(-1e3, 1e3), 3),
            "name": None if k % 11 == 5 else rnd.choice(["a", "bé", "日本", "long" * 5]),
            "flag": None if k % 13 == 0 else rnd.random() < 0.5,
            "day": dt.date(2020, 1, 1) + dt.timedelta(days=k % 1000),
        })
    return out


def check_batch(batch, data, day_type="date32[day]"):
    assert batch.num_rows == len(data)
    t = {f.name: str(f.type) for f in batch.schema}
    assert t["id"] == "int64" and t["x"] == "double" and t["name"] == "large_string"
    assert t["flag"] == "bool" and t["day"] == day_type
    got = batch.to_pylist()
    for g, r in zip(got, data):
        assert g == r, (g, r)


def test_csv_zero_copy_pyarrow_and_duckdb(example, tmp_path):
    mod, lib = example
    data = rows()
    path = tmp_path / "in.csv"
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "x", "name", "flag", "day"])
        for r in data:
            w.writerow(["" if v is None else ("true" if v is True else "false" if v is False else v)
                        for v in r.values()])
    before = pa.total_allocated_bytes()
    batch = mod.read_record_batch(lib, path)
    assert pa.total_allocated_bytes() == before  # imported, not copied
    check_batch(batch, data)
    con = duckdb.connect()
    con.register("t", batch)
    n, s, nn = con.sql("SELECT count(*), sum(id), count(name) FROM t").fetchall()[0]
    assert n == len(data) and s == sum(r["id"] for r in data)
    assert nn == sum(r["name"] is not None for r in data)
    del batch, con
    gc.collect()  # release callbacks run here; a double free would crash


def test_parquet_and_avro(example, tmp_path):
    mod, lib = example
    data = rows(3000, seed=9)
    table = pa.Table.from_pylist(data, schema=pa.schema([
        ("id", pa.int64()), ("x", pa.float64()), ("name", pa.string()), ("flag", pa.bool_()),
        ("day", pa.date32())]))
    pq.write_table(table, tmp_path / "in.parquet", row_group_size=1000)  # several batches
    check_batch(mod.read_record_batch(lib, tmp_path / "in.parquet"), data)
    schema = {"type": "record", "name": "R", "fields": [
        {"name": "id", "type": "long"}, {"name": "x", "type": ["null", "double"]},
        {"name": "name", "type": ["null", "string"]}, {"name": "flag", "type": ["null", "boolean"]},
        {"name": "day", "type": {"type": "int", "logicalType": "date"}}]}
    with open(tmp_path / "in.avro", "wb") as fo:
        fastavro.writer(fo, schema, data, codec="deflate")
    check_batch(mod.read_record_batch(lib, tmp_path / "in.avro"), data)


def test_errors(example, tmp_path):
    mod, lib = example
    with pytest.raises(RuntimeError, match="cannot open"):
        mod.read_record_batch(lib, tmp_path / "missing.csv")
    (tmp_path / "x.bin").write_bytes(b"1")
    with pytest.raises(RuntimeError, match="unknown file format"):
        mod.read_record_batch(lib, tmp_path / "x.bin")
    path = tmp_path / "big.csv"
    path.write_text("a\n" + "".join(f"{i}\n" for i in range(100)))
    with pytest.raises(RuntimeError, match="more than 10 rows"):
        mod.read_record_batch(lib, path, max_rows=10)


def test_example_script_runs(tmp_path):
    lib = os.environ.get("SLUICE_LIB", str(ROOT / "build" / "libsluice.so"))
    csv_path = ROOT / "examples" / "quickstart" / "data" / "seattle-weather.csv"
    p = subprocess.run([sys.executable, str(EXAMPLE), str(csv_path)], capture_output=True, timeout=120,
                       env={**os.environ, "SLUICE_LIB": lib})
    assert p.returncode == 0, p.stderr.decode()
    out = p.stdout.decode()
    assert "weather: large_string" in out and "[(1461,)]" in out
