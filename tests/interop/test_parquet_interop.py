"""Parquet interop: sluice's writer read by pyarrow and DuckDB, and files
written by pyarrow (every codec, dictionary on/off, page V1/V2, delta and
byte-stream-split encodings, nulls, all primitive types) and by DuckDB read
by sluice. Run with tests/interop/run.sh (creates .venv and builds pq_dump).
"""
import datetime as dt
from decimal import Decimal
import math
import random

import pytest

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
duckdb = pytest.importorskip("duckdb")

from parquet_helpers import (compare_with_arrow, flat_arrow, pq_dump, run_dump,  # noqa: E402,F401
                             same_value, write_sluice)

N = 3000
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def sluice_rows(n=N, seed=1):
    rnd = random.Random(seed)
    words = ["alpha", "beta", "gamma", "délta", "", "x" * 40, "日本語"]
    rows = []
    for i in range(n):
        def maybe(v):
            return None if rnd.random() < 0.15 else v
        rows.append([
            maybe(rnd.random() < 0.5),
            maybe(rnd.randint(-2**63, 2**63 - 1) if i % 7 == 0 else rnd.randint(-50, 50)),
            maybe(rnd.choice([rnd.uniform(-1e6, 1e6), 0.5, -0.0, float("inf"), float("nan")])),
            maybe(rnd.choice(words) + (str(i) if i % 3 == 0 else "")),
            maybe(rnd.randint(-2**55, 2**55)),
            maybe(rnd.randint(-100000, 100000)),
            i,
        ])
    return rows


SLUICE_SCHEMA = [
    {"name": "b", "type": "bool"}, {"name": "i", "type": "int64"}, {"name": "f", "type": "float64"},
    {"name": "s", "type": "string"}, {"name": "ts", "type": "timestamp"}, {"name": "d", "type": "date"},
    {"name": "req", "type": "int64", "nullable": False},
]

WRITE_OPTS = [
    ("zstd",), ("snappy",), ("gzip",), ("uncompressed",), ("lz4_raw",),
    ("zstd", "--v2"), ("snappy", "--v2", "--no-dict"), ("uncompressed", "--no-dict"),
    ("gzip", "--v2"),
]


def expected_arrow_value(col, v):
    if v is None:
        return None
    if col == "ts":
        return EPOCH + dt.timedelta(microseconds=v)
    if col == "d":
        return dt.date(1970, 1, 1) + dt.timedelta(days=v)
    return v


@pytest.mark.parametrize("opts", WRITE_OPTS, ids=["-".join(o) for o in WRITE_OPTS])
def test_sluice_file_read_by_pyarrow_and_duckdb(pq_dump, tmp_path, opts):
    rows = sluice_rows()
    path = tmp_path / "out.parquet"
    codec, *rest = opts
    # small pages and row groups: many pages, several row groups
    write_sluice(pq_dump, path, SLUICE_SCHEMA, rows, "--codec", codec, "--page-bytes", "2000",
                 "--rg-rows", "1100", *rest)
    t = pq.read_table(path)
    types = {f.name: str(f.type) for f in t.schema}
    assert types == {"b": "bool", "i": "int64", "f": "double", "s": "string", "ts": "timestamp[us, tz=UTC]",
                     "d": "date32[day]", "req": "int64"}
    assert not t.schema.field("req").nullable and t.schema.field("i").nullable
    md = pq.ParquetFile(path).metadata
    assert md.num_row_groups == 3
    got = t.to_pylist()
    for i, r in enumerate(rows):
        for j, f in enumerate(SLUICE_SCHEMA):
            want = expected_arrow_value(f["name"], r[j])
            assert same_value(got[i][f["name"]], want), (f["name"], i, got[i][f["name"]], want)
    # DuckDB: values, types, and that it agrees with pyarrow on the metadata.
    con = duckdb.connect()
    desc = {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM '{path}'").fetchall()}
    assert desc == {"b": "BOOLEAN", "i": "BIGINT", "f": "DOUBLE", "s": "VARCHAR",
                    "ts": "TIMESTAMP WITH TIME ZONE", "d": "DATE", "req": "BIGINT"}
    drows = con.execute(f"SELECT b, i, f, s, epoch_us(ts), d, req FROM '{path}'").fetchall()
    assert len(drows) == len(rows)
    for i, (r, d) in enumerate(zip(rows, drows)):
        for j in range(7):
            want = r[j]
            if j == 5 and want is not None:
                want = dt.date(1970, 1, 1) + dt.timedelta(days=want)
            assert same_value(d[j], want), (SLUICE_SCHEMA[j]["name"], i, d[j], want)
    # Statistics a filter can use: DuckDB and pyarrow read them.
    st = md.row_group(0).column(6).statistics
    assert st.has_min_max and st.min == 0 and st.max == 1099 and st.null_count == 0
    assert con.execute(f"SELECT count(*) FROM '{path}' WHERE req BETWEEN 1000 AND 1200").fetchone()[0] == 201
    # sluice reads its own file back.
    schema, back, _ = run_dump(pq_dump, path, "--batch", "333")
    assert [f["type"] for f in schema] == [f["type"] for f in SLUICE_SCHEMA]
    for i, (a, b) in enumerate(zip(back, rows)):
        assert all(same_value(x, y) for x, y in zip(a, b)), (i, a, b)


def test_sluice_metadata_offsets_and_sizes(pq_dump, tmp_path):
    """The fields peers are strict about, checked against the bytes."""
    rows = sluice_rows(2000)
    path = tmp_path / "m.parquet"
    write_sluice(pq_dump, path, SLUICE_SCHEMA, rows, "--codec", "zstd", "--page-bytes", "1000")
    md = pq.ParquetFile(path).metadata
    size = path.stat().st_size
    for g in range(md.num_row_groups):
        rg = md.row_group(g)
        first = None
        total = 0
        for c in range(rg.num_columns):
            col = rg.column(c)
            assert col.num_values == rg.num_rows  # counts nulls
            start = col.dictionary_page_offset if col.has_dictionary_page else col.data_page_offset
            if col.has_dictionary_page:
                assert col.dictionary_page_offset < col.data_page_offset
            assert col.file_offset == start
            first = start if first is None else first
            assert start + col.total_compressed_size <= size
            total += col.total_compressed_size
        # chunks are contiguous: compressed sizes (with headers) add up
        last = rg.column(rg.num_columns - 1)
        last_start = last.dictionary_page_offset if last.has_dictionary_page else last.data_page_offset
        assert first + total == last_start + last.total_compressed_size
    # pyarrow's full validation of pages
    pq.ParquetFile(path).read()


def test_sluice_dictionary_fallback(pq_dump, tmp_path):
    rows = [[f"value-{i:08d}-" + "y" * (i % 50)] for i in range(40000)]
    path = tmp_path / "fb.parquet"
    write_sluice(pq_dump, path, [{"name": "s", "type": "string"}], rows, "--dict-bytes", "65536")
    col = pq.ParquetFile(path).metadata.row_group(0).column(0)
    assert col.has_dictionary_page and "PLAIN" in col.encodings and "RLE_DICTIONARY" in col.encodings
    assert pq.read_table(path).column(0).to_pylist() == [r[0] for r in rows]
    con = duckdb.connect()
    assert con.execute(f"SELECT count(DISTINCT s) FROM '{path}'").fetchone()[0] == 40000


# ---- files written by pyarrow, read by sluice ----

def arrow_table(n=2500, seed=7):
    rnd = random.Random(seed)

    def col(gen, null=0.1):
        return [None if rnd.random() < null else gen(i) for i in range(n)]
    ts = col(lambda i: rnd.randint(-2**50, 2**50))
    data = {
        "bool": pa.array(col(lambda i: rnd.random() < 0.3), pa.bool_()),
        "i8": pa.array(col(lambda i: rnd.randint(-128, 127)), pa.int8()),
        "i16": pa.array(col(lambda i: rnd.randint(-2**15, 2**15 - 1)), pa.int16()),
        "i32": pa.array(col(lambda i: rnd.randint(-2**31, 2**31 - 1)), pa.int32()),
        "i64": pa.array(col(lambda i: rnd.randint(-2**63, 2**63 - 1)), pa.int64()),
        "u8": pa.array(col(lambda i: rnd.randint(0, 255)), pa.uint8()),
        "u16": pa.array(col(lambda i: rnd.randint(0, 2**16 - 1)), pa.uint16()),
        "u32": pa.array(col(lambda i: rnd.randint(0, 2**32 - 1)), pa.uint32()),
        "u64": pa.array(col(lambda i: rnd.randint(0, 2**62)), pa.uint64()),
        "f32": pa.array(col(lambda i: rnd.uniform(-1e3, 1e3)), pa.float32()),
        "f64": pa.array(col(lambda i: rnd.choice([rnd.gauss(0, 1e9), float("nan"), -0.0, 1.0])), pa.float64()),
        "str": pa.array(col(lambda i: rnd.choice(["a", "bb", "ccc", "日本", ""]) * rnd.randint(0, 3)), pa.string()),
        "lstr": pa.array(col(lambda i: f"row{i}"), pa.large_string()),
        "bin": pa.array(col(lambda i: f"b{i % 17}".encode()), pa.binary()),
        "date": pa.array(col(lambda i: rnd.randint(-10000, 30000)), pa.int32()).cast(pa.date32()),
        "ts_s": pa.array(col(lambda i: rnd.randint(-2**33, 2**33)), pa.timestamp("s")),
        "ts_ms": pa.array(col(lambda i: rnd.randint(-2**43, 2**43)), pa.timestamp("ms", tz="UTC")),
        "ts_us": pa.array(ts, pa.timestamp("us", tz="UTC")),
        "ts_ns": pa.array(col(lambda i: rnd.randint(-2**62, 2**62)), pa.timestamp("ns")),
        "dec": pa.array(col(lambda i: Decimal(rnd.randint(-10**15, 10**15)).scaleb(-2)), pa.decimal128(18, 2)),
        "dec38": pa.array(col(lambda i: Decimal(rnd.randint(-10**30, 10**30)).scaleb(-4)),
                          pa.decimal128(38, 4)),
        "nulls": pa.nulls(n),
        "req": pa.array(list(range(n)), pa.int64()),
    }
    schema = pa.schema([pa.field(k, v.type, nullable=(k != "req")) for k, v in data.items()])
    return pa.table(data, schema=schema)


CODECS = ["NONE", "SNAPPY", "GZIP", "ZSTD", "LZ4"]


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("dictionary", [True, False])
@pytest.mark.parametrize("version", ["1.0", "2.0"])
def test_pyarrow_file_read_by_sluice(pq_dump, tmp_path, codec, dictionary, version):
    t = arrow_table()
    path = tmp_path / "pa.parquet"
    pq.write_table(t, path, compression=codec, use_dictionary=dictionary, data_page_version=version,
                   data_page_size=4096, row_group_size=1000, coerce_timestamps=None,
                   allow_truncated_timestamps=False, store_schema=False)
    schema, rows, _ = run_dump(pq_dump, path, "--batch", "777")
    compare_with_arrow(pq.read_table(path), schema, rows, f"{codec}/{dictionary}/{version}")


@pytest.mark.parametrize("encoding,columns", [
    ("DELTA_BINARY_PACKED", ["i32", "i64", "u8", "u32", "date", "ts_us", "ts_ns", "req"]),
    ("DELTA_LENGTH_BYTE_ARRAY", ["str", "lstr", "bin"]),
    ("DELTA_BYTE_ARRAY", ["str", "lstr", "bin"]),
    ("BYTE_STREAM_SPLIT", ["f32", "f64", "i32", "i64"]),
])
@pytest.mark.parametrize("version", ["1.0", "2.0"])
def test_pyarrow_encodings_read_by_sluice(pq_dump, tmp_path, encoding, columns, version):
    t = arrow_table().select(columns)
    path = tmp_path / "enc.parquet"
    pq.write_table(t, path, use_dictionary=False, column_encoding={c: encoding for c in columns},
                   data_page_version=version, data_page_size=3000, compression="ZSTD")
    encs = pq.ParquetFile(path).metadata.row_group(0).column(0).encodings
    assert encoding in encs
    schema, rows, _ = run_dump(pq_dump, path, "--batch", "1000")
    compare_with_arrow(pq.read_table(path), schema, rows, encoding)


def test_pyarrow_projection_and_parts(pq_dump, tmp_path):
    t = arrow_table()
    d = tmp_path / "parts"
    d.mkdir()
    pq.write_table(t.slice(0, 1000), d / "part-0.parquet")
    pq.write_table(t.slice(1000, 1500), d / "part-1.parquet", compression="GZIP")
    (d / "_SUCCESS").write_text("")
    schema, rows, _ = run_dump(pq_dump, d, "--columns", "req,str,ts_ns")
    compare_with_arrow(t.select(["req", "str", "ts_ns"]), schema, rows, "parts")


def test_pyarrow_nested_read_as_json(pq_dump, tmp_path):
    """Structs of primitives flatten to parent.child columns; lists, maps
    and structs holding them read as JSON text, like pyarrow's values."""
    t = pa.table({
        "id": [1, 2, 3, 4],
        "tags": [["a"], ["b", None], None, []],
        "pt": pa.array([{"x": 1.5, "y": None}, None, {"x": -2.0, "y": 7}, {"x": 0.0, "y": 1}]),
        "m": pa.array([[("k", 1)], [], None, [("a", None), ("b", 2)]], pa.map_(pa.string(), pa.int64())),
        "ls": [[{"q": 1, "r": ["z"]}], None, [{"q": None, "r": []}], [None]],
        "when": pa.array([[dt.datetime(2020, 1, 2, 3, 4, 5, 6)], [], None, [None]], pa.list_(pa.timestamp("us"))),
    })
    for version in ["1.0", "2.0"]:
        path = tmp_path / f"nested-{version}.parquet"
        pq.write_table(t, path, data_page_version=version)
        schema, rows, _ = run_dump(pq_dump, path, "--batch", "3")
        assert [f["name"] for f in schema] == ["id", "tags", "pt.x", "pt.y", "m", "ls", "when"]
        compare_with_arrow(flat_arrow(path), schema, rows, f"nested {version}")
    schema, rows, _ = run_dump(pq_dump, path, "--columns", "tags")
    assert rows == [['["a"]'], ['["b",null]'], [None], ["[]"]]


# ---- files written by DuckDB ----

@pytest.mark.parametrize("codec", ["uncompressed", "snappy", "zstd", "gzip", "lz4"])
def test_duckdb_file_read_by_sluice(pq_dump, tmp_path, codec):
    path = tmp_path / "duck.parquet"
    con = duckdb.connect()
    con.execute(f"""
        COPY (SELECT i AS id,
                     CASE WHEN i % 5 = 0 THEN NULL ELSE i * 3 - 7000 END AS n,
                     (i % 13)::INTEGER AS small,
                     i::DOUBLE / 7 AS f,
                     (i::FLOAT / 3)::FLOAT AS f32,
                     CASE WHEN i % 4 = 0 THEN NULL ELSE 'name_' || (i % 50)::VARCHAR END AS s,
                     i % 3 = 0 AS b,
                     DATE '2020-01-01' + (i % 1000)::INTEGER AS d,
                     TIMESTAMP '2021-06-01 12:00:00' + INTERVAL (i) SECOND AS ts,
                     TIMESTAMPTZ '2021-06-01 12:00:00+00' + INTERVAL (i) MILLISECOND AS tstz,
                     (i / 100)::DECIMAL(10, 2) AS dec,
                     (i % 200)::UTINYINT AS u8
              FROM range(0, 30000) t(i))
        TO '{path}' (FORMAT parquet, COMPRESSION {codec}, ROW_GROUP_SIZE 7000)""")
    schema, rows, _ = run_dump(pq_dump, path, "--batch", "4096")
    compare_with_arrow(pq.read_table(path), schema, rows, f"duckdb {codec}")


def test_duckdb_nested_read_by_sluice(pq_dump, tmp_path):
    path = tmp_path / "duck-nested.parquet"
    duckdb.connect().execute(f"""
        COPY (SELECT i AS id,
                     CASE WHEN i % 3 = 0 THEN NULL ELSE [i, i + 1, NULL] END AS l,
                     {{'a': i, 'b': 'x' || i::VARCHAR}} AS st,
                     MAP {{'k': i}} AS m,
                     [[i], []] AS ll
              FROM range(0, 500) t(i))
        TO '{path}' (FORMAT parquet)""")
    schema, rows, _ = run_dump(pq_dump, path, "--batch", "64")
    assert [f["name"] for f in schema] == ["id", "l", "st.a", "st.b", "m", "ll"]
    compare_with_arrow(flat_arrow(path), schema, rows, "duckdb nested")
