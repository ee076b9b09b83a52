"""Helpers and the pq_dump fixture for the Parquet interop and conformance
tests (imported by them; kept out of conftest.py so other interop tests
are not affected).

The tests need pyarrow and duckdb (from the project's .venv, see
requirements.txt and run.sh) and the pq_dump driver (tests/interop/pq_dump.c,
built against build/libsluice.a by run.sh, or here when missing).
"""
import json
import math
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _find_pq_dump():
    env = os.environ.get("PQ_DUMP")
    if env:
        return Path(env)
    build = Path(os.environ.get("SL_BUILD_DIR", ROOT / "build"))
    exe = build / "pq_dump"
    lib = build / "libsluice.a"
    src = ROOT / "tests/interop/pq_dump.c"
    if lib.exists() and (not exe.exists() or exe.stat().st_mtime < max(lib.stat().st_mtime, src.stat().st_mtime)):
        libs = "-lyaml -ljansson -lzstd -lz -llz4 -lsnappy -lpthread -lm".split()
        subprocess.run(["cc", "-O2", "-std=c11", "-D_DEFAULT_SOURCE", f"-I{ROOT}/include", str(src), str(lib),
                        *libs, "-o", str(exe)], check=True)
    return exe


@pytest.fixture(scope="session")
def pq_dump():
    exe = _find_pq_dump()
    if not exe.exists():
        pytest.fail(f"{exe} is missing: build sluice first (tests/interop/run.sh does)")
    return exe


def run_dump(exe, path, *args, check=True):
    """Reads a Parquet file with sluice: (schema, rows) or raises."""
    p = subprocess.run([str(exe), "dump", str(path), *args], capture_output=True, timeout=120)
    if check and p.returncode != 0:
        raise AssertionError(f"sluice failed on {path}: {p.stderr.decode(errors='replace')}")
    if p.returncode != 0:
        return None, p.stderr.decode(errors="replace"), p.returncode
    lines = p.stdout.decode("utf-8", errors="surrogateescape").splitlines()
    schema = json.loads(lines[0])["schema"]
    rows = [json.loads(l) for l in lines[1:]]
    return schema, rows, 0


def write_sluice(exe, path, schema, rows, *opts):
    """Writes rows (lists of sluice values) with sluice's writer."""
    def enc(v):
        if isinstance(v, float) and not math.isfinite(v):
            return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
        return v
    text = json.dumps({"schema": schema}) + "\n" + "".join(
        json.dumps([enc(v) for v in r], ensure_ascii=False) + "\n" for r in rows)
    p = subprocess.run([str(exe), "write", str(path), *opts], input=text.encode(), capture_output=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr.decode()


def same_value(a, b):
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b or abs(a - b) <= 1e-12 * max(abs(a), abs(b))
    return a == b


def is_nested(t):
    import pyarrow as pa
    return pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_map(t) or \
        pa.types.is_struct(t) or pa.types.is_fixed_size_list(t)


def json_canonical(v, t):
    """A pyarrow nested value as the JSON sluice writes for it."""
    import pyarrow as pa
    if v is None:
        return None
    if pa.types.is_map(t):
        items = []
        for k, x in v:
            d = {t.key_field.name: json_canonical(k, t.key_type)}
            d[t.item_field.name] = json_canonical(x, t.item_type)
            items.append(d)
        return items
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return [json_canonical(x, t.value_type) for x in v]
    if pa.types.is_struct(t):
        return {t.field(i).name: json_canonical(v[t.field(i).name], t.field(i).type)
                for i in range(t.num_fields)}
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if pa.types.is_timestamp(t):
        import datetime as dtm
        return ("ts", (v.replace(tzinfo=None) - dtm.datetime(1970, 1, 1)) // dtm.timedelta(microseconds=1))
    if pa.types.is_date(t):
        return v.isoformat()
    if pa.types.is_decimal(t):
        return float(v)
    if isinstance(v, bytes):
        return v.decode("utf-8", errors="surrogateescape")
    return v


def parse_sluice_json(text):
    """sluice's JSON text with timestamps normalized like json_canonical."""
    import datetime as dtm

    def fix(x):
        if isinstance(x, list):
            return [fix(y) for y in x]
        if isinstance(x, dict):
            return {k: fix(y) for k, y in x.items()}
        if isinstance(x, str) and len(x) >= 20 and x.endswith("Z") and x[10] == "T":
            base = dtm.datetime.strptime(x[:19], "%Y-%m-%dT%H:%M:%S")
            frac = x[19:-1]
            us = (base - dtm.datetime(1970, 1, 1)) // dtm.timedelta(microseconds=1)
            if frac:
                us += int((frac[1:] + "000000")[:6])
            return ("ts", us)
        return x
    return None if text is None else fix(json.loads(text))


def arrow_column_values(col):
    """A pyarrow column as sluice values (what pq_dump prints)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    t = col.type
    if is_nested(t):
        return [json_canonical(v, t) for v in col.to_pylist()]
    if pa.types.is_dictionary(t):
        col = col.cast(t.value_type)
        t = t.value_type
    if pa.types.is_timestamp(t):
        raw = col.cast(pa.int64()).to_pylist()
        f = {"s": lambda v: v * 1_000_000, "ms": lambda v: v * 1000, "us": lambda v: v,
             "ns": lambda v: v // 1000}[t.unit]
        return [None if v is None else f(v) for v in raw]
    if pa.types.is_date32(t):
        return col.cast(pa.int32()).to_pylist()
    if pa.types.is_decimal(t):
        return [None if v is None else float(v) for v in col.to_pylist()]
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        return [None if v is None else v.decode("utf-8", errors="surrogateescape") for v in col.to_pylist()]
    if pa.types.is_float16(t):
        return [None if v is None else float(v) for v in pc.cast(col, pa.float32()).to_pylist()]
    return col.to_pylist()


def sluice_type_of(t):
    """The sluice type pyarrow type t reads as."""
    import pyarrow as pa

    if pa.types.is_dictionary(t):
        t = t.value_type
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_integer(t):
        return "int64"
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "float64"
    if pa.types.is_timestamp(t):
        return "timestamp"
    if pa.types.is_date32(t):
        return "date"
    if pa.types.is_null(t):
        return "null"
    return "string"  # strings, binary, and nested values as JSON text


def compare_with_arrow(table, schema, rows, where=""):
    assert len(rows) == table.num_rows, f"{where}: {len(rows)} rows, pyarrow has {table.num_rows}"
    assert [f["name"] for f in schema] == table.column_names, where
    for j, name in enumerate(table.column_names):
        want_type = sluice_type_of(table.schema.field(name).type)
        assert schema[j]["type"] == want_type, f"{where}: column {name} is {schema[j]['type']}, want {want_type}"
        want = arrow_column_values(table.column(name))
        got = [r[j] for r in rows]
        if is_nested(table.schema.field(name).type):
            got = [parse_sluice_json(g) for g in got]
        for i, (a, b) in enumerate(zip(got, want)):
            assert same_value(a, b), f"{where}: column {name} row {i}: sluice {a!r}, pyarrow {b!r}"


def flat_arrow(path):
    """pyarrow's reading with structs of primitives flattened to
    parent.child columns, as sluice reads them (structs holding lists or
    maps stay whole: sluice reads them as JSON text)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    def has_repeated(t):
        if pa.types.is_struct(t):
            return any(has_repeated(t.field(i).type) for i in range(t.num_fields))
        return pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_map(t)
    t = pq.read_table(path, coerce_int96_timestamp_unit="us")
    while True:
        cols, names, changed = [], [], False
        for name, col in zip(t.column_names, t.columns):
            if pa.types.is_struct(col.type) and not has_repeated(col.type):
                for i in range(col.type.num_fields):
                    cols.append(pa.chunked_array([c.field(i) for c in col.chunks], col.type.field(i).type))
                    names.append(f"{name}.{col.type.field(i).name}")
                changed = True
            else:
                cols.append(col)
                names.append(name)
        t = pa.table(cols, names=names)
        if not changed:
            return t
