"""Avro interop: files written by fastavro (every codec, nullable unions,
logical types, enums, bytes, nested values) read by sluice with identical
values; files written by sluice read by fastavro with identical values and
types; schema evolution checked against fastavro's own resolution; the
Confluent wire format both ways; the Schema Registry resolver against a
Python http.server fake on loopback. Run with tests/interop/run.sh (creates
.venv and builds the avro_dump driver).
"""
import base64
import datetime as dt
import decimal
import http.server
import io
import json
import math
import os
import random
import struct
import subprocess
import threading
from pathlib import Path

import pytest

fastavro = pytest.importorskip("fastavro")

from parquet_helpers import run_dump, same_value, write_sluice  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
CODECS = ["null", "deflate", "snappy", "zstandard"]


@pytest.fixture(scope="session")
def avro_dump():
    exe = Path(os.environ.get("AVRO_DUMP", ROOT / "build" / "avro_dump"))
    if not exe.exists():
        pytest.fail(f"{exe} is missing: tests/interop/run.sh builds it")
    return exe


def micros(t):
    return (t - EPOCH) // dt.timedelta(microseconds=1)


def days(d):
    return (d - dt.date(1970, 1, 1)).days


# ---- fastavro -> sluice ----

PEER_SCHEMA = {"type": "record", "name": "Peer", "namespace": "t", "fields": [
    {"name": "b", "type": ["null", "boolean"]},
    {"name": "i", "type": "int"},
    {"name": "l", "type": ["null", "long"]},
    {"name": "f", "type": "float"},
    {"name": "d", "type": ["double", "null"]},
    {"name": "s", "type": ["null", "string"]},
    {"name": "by", "type": "bytes"},
    {"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["RED", "GREEN", "BLUE"]}},
    {"name": "ts", "type": ["null", {"type": "long", "logicalType": "timestamp-micros"}]},
    {"name": "tms", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    {"name": "dt", "type": ["null", {"type": "int", "logicalType": "date"}]},
    {"name": "dec", "type": {"type": "bytes", "logicalType": "decimal", "precision": 12, "scale": 3}},
    {"name": "fdec", "type": {"type": "fixed", "name": "FD", "size": 8, "logicalType": "decimal",
                              "precision": 18, "scale": 2}},
    {"name": "uid", "type": {"type": "string", "logicalType": "uuid"}},
    {"name": "arr", "type": {"type": "array", "items": "long"}},
    {"name": "m", "type": ["null", {"type": "map", "values": "double"}]},
    {"name": "rec", "type": {"type": "record", "name": "Inner", "fields": [
        {"name": "x", "type": "int"}, {"name": "tag", "type": "E"}]}},
]}


def peer_records(n, seed=1):
    rnd = random.Random(seed)
    words = ["alpha", "beta", "", "délta", "日本語", "x" * 50]
    out = []
    for k in range(n):
        def maybe(v):
            return None if rnd.random() < 0.2 else v
        out.append({
            "b": maybe(rnd.random() < 0.5),
            "i": rnd.randint(-2**31, 2**31 - 1),
            "l": maybe(rnd.randint(-2**63, 2**63 - 1)),
            "f": rnd.choice([0.5, -1.25, 3.0e10]),
            "d": maybe(rnd.choice([rnd.uniform(-1e9, 1e9), float("inf"), -0.0])),
            "s": maybe(rnd.choice(words) + str(k)),
            "by": rnd.choice(words).encode(),
            "e": rnd.choice(["RED", "GREEN", "BLUE"]),
            "ts": maybe(EPOCH + dt.timedelta(microseconds=rnd.randint(-2**50, 2**50))),
            "tms": EPOCH + dt.timedelta(milliseconds=rnd.randint(-2**40, 2**40)),
            "dt": maybe(dt.date(1970, 1, 1) + dt.timedelta(days=rnd.randint(-100000, 100000))),
            "dec": decimal.Decimal(rnd.randint(-10**11, 10**11)).scaleb(-3),
            "fdec": decimal.Decimal(rnd.randint(-10**15, 10**15)).scaleb(-2),
            "uid": "123e4567-e89b-12d3-a456-%012d" % k,
            "arr": [rnd.randint(-5, 5) for _ in range(k % 4)],
            "m": maybe({"k%d" % j: j * 0.5 for j in range(k % 3)}),
            "rec": {"x": k, "tag": "GREEN"},
        })
    return out


def expected_sluice(r):
    """What sluice reads for a peer record (pq_dump conventions)."""
    def num(v):
        return None if v is None else float(v)
    return [
        r["b"], r["i"], r["l"], struct.unpack("<f", struct.pack("<f", r["f"]))[0], r["d"], r["s"], r["by"].decode(), r["e"],
        None if r["ts"] is None else micros(r["ts"]),
        micros(r["tms"]),
        None if r["dt"] is None else days(r["dt"]),
        num(r["dec"]), num(r["fdec"]), r["uid"],
        json.dumps(r["arr"], separators=(",", ":")),
        None if r["m"] is None else r["m"],
        {"x": r["rec"]["x"], "tag": "GREEN"},
    ]


@pytest.mark.parametrize("codec", CODECS)
def test_fastavro_file_read_by_sluice(avro_dump, tmp_path, codec):
    recs = peer_records(2000)
    path = tmp_path / "peer.avro"
    with open(path, "wb") as fo:
        fastavro.writer(fo, PEER_SCHEMA, recs, codec=codec, sync_interval=4000)
    schema, rows, _ = run_dump(avro_dump, path, "--batch", "777")
    types = [(f["name"], f["type"], f["nullable"]) for f in schema]
    assert types == [
        ("b", "bool", True), ("i", "int64", False), ("l", "int64", True), ("f", "float64", False),
        ("d", "float64", True), ("s", "string", True), ("by", "string", False), ("e", "string", False),
        ("ts", "timestamp", True), ("tms", "timestamp", False), ("dt", "date", True),
        ("dec", "float64", False), ("fdec", "float64", False), ("uid", "string", False),
        ("arr", "string", False), ("m", "string", True), ("rec", "string", False)]
    assert len(rows) == len(recs)
    for got, r in zip(rows, recs):
        want = expected_sluice(r)
        for j, (g, w) in enumerate(zip(got, want)):
            name = types[j][0]
            if name in ("m", "rec"):
                assert (None if g is None else json.loads(g)) == w, (name, g, w)
            elif name in ("dec", "fdec"):
                assert math.isclose(g, w, rel_tol=1e-15), (name, g, w)
            else:
                assert same_value(g, w), (name, g, w)


def test_fastavro_blocks_and_projection(avro_dump, tmp_path):
    recs = peer_records(5000, seed=7)
    path = tmp_path / "p.avro"
    with open(path, "wb") as fo:
        fastavro.writer(fo, PEER_SCHEMA, recs, codec="deflate", sync_interval=1000)
    schema, rows, _ = run_dump(avro_dump, path, "--columns", "e,i", "--batch", "100")
    assert [f["name"] for f in schema] == ["e", "i"]
    assert rows == [[r["e"], r["i"]] for r in recs]


def test_evolution_matches_fastavro(avro_dump, tmp_path):
    """sluice resolves writer -> reader schema like fastavro does."""
    writer = {"type": "record", "name": "R", "fields": [
        {"name": "a", "type": "int"}, {"name": "gone", "type": "string"},
        {"name": "c", "type": ["null", "float"]},
        {"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["A", "B", "C"]}}]}
    reader = {"type": "record", "name": "R", "fields": [
        {"name": "c", "type": ["null", "double"]}, {"name": "a", "type": "long"},
        {"name": "new", "type": "string", "default": "dflt"},
        {"name": "opt", "type": ["null", "long"], "default": None},
        {"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["C", "A", "X"], "default": "X"}}]}
    recs = [{"a": k, "gone": "g", "c": None if k % 3 == 0 else k / 4, "e": "ABC"[k % 3]} for k in range(300)]
    path = tmp_path / "w.avro"
    with open(path, "wb") as fo:
        fastavro.writer(fo, writer, recs, codec="snappy")
    rs = tmp_path / "reader.avsc"
    rs.write_text(json.dumps(reader))
    with open(path, "rb") as fo:
        want = list(fastavro.reader(fo, reader_schema=reader))
    schema, rows, _ = run_dump(avro_dump, path, "--reader-schema", str(rs))
    assert [f["name"] for f in schema] == ["c", "a", "new", "opt", "e"]
    assert rows == [[w["c"], w["a"], w["new"], w["opt"], w["e"]] for w in want]
    # an incompatible reader is refused with the field named
    bad = tmp_path / "bad.avsc"
    bad.write_text(json.dumps({"type": "record", "name": "R", "fields": [{"name": "gone", "type": "long"}]}))
    _, err, rc = run_dump(avro_dump, path, "--reader-schema", str(bad), check=False)
    assert rc == 1 and "field 'gone': the writer's string cannot be read as the reader's long" in err


# ---- sluice -> fastavro ----

SLUICE_SCHEMA = [
    {"name": "b", "type": "bool"}, {"name": "i", "type": "int64"}, {"name": "f", "type": "float64"},
    {"name": "s", "type": "string"}, {"name": "ts", "type": "timestamp"}, {"name": "d", "type": "date"},
    {"name": "req", "type": "int64", "nullable": False}, {"name": "col with space", "type": "string"},
]


def sluice_rows(n=3000, seed=3):
    rnd = random.Random(seed)
    rows = []
    for k in range(n):
        def maybe(v):
            return None if rnd.random() < 0.15 else v
        rows.append([
            maybe(rnd.random() < 0.5), maybe(rnd.randint(-2**63, 2**63 - 1)),
            maybe(rnd.choice([rnd.uniform(-1e6, 1e6), 0.5, -0.0, float("inf"), float("nan")])),
            maybe(rnd.choice(["a", "", "é日本", "z" * 30]) + str(k)),
            maybe(rnd.randint(-2**55, 2**55)), maybe(rnd.randint(-100000, 100000)), k,
            maybe("v%d" % k),
        ])
    return rows


def peer_value(col, v):
    if v is None:
        return None
    if col == "ts":
        return EPOCH + dt.timedelta(microseconds=v)
    if col == "d":
        return dt.date(1970, 1, 1) + dt.timedelta(days=v)
    return v


@pytest.mark.parametrize("codec", CODECS)
def test_sluice_file_read_by_fastavro(avro_dump, tmp_path, codec):
    rows = sluice_rows()
    path = tmp_path / "s.avro"
    write_sluice(avro_dump, path, SLUICE_SCHEMA, rows, "--codec", codec, "--block-rows", "700")
    with open(path, "rb") as fo:
        rd = fastavro.reader(fo)
        assert rd.codec == codec
        ws = rd.writer_schema
        got = list(rd)
    types = {f["name"]: f["type"] for f in ws["fields"]}
    assert types["b"] == ["null", "boolean"] and types["i"] == ["null", "long"]
    assert types["f"] == ["null", "double"] and types["s"] == ["null", "string"]
    assert types["ts"] == ["null", {"type": "long", "logicalType": "timestamp-micros"}]
    assert types["d"] == ["null", {"type": "int", "logicalType": "date"}]
    assert types["req"] == "long" and types["col_with_space"] == ["null", "string"]
    assert len(got) == len(rows)
    names = [c["name"] for c in SLUICE_SCHEMA]
    for g, r in zip(got, rows):
        for name, v in zip(names, r):
            key = "col_with_space" if name == "col with space" else name
            assert same_value(g[key], peer_value(name, v)), (name, g[key], v)
    # and sluice reads its own file back under the original names
    schema, back, _ = run_dump(avro_dump, path)
    assert [f["name"] for f in schema] == names
    assert len(back) == len(rows)
    assert all(same_value(a, b) for ra, rb in zip(back, rows) for a, b in zip(ra, rb))


# ---- Confluent wire format ----

def hexlines(msgs):
    return "".join(m.hex() + "\n" for m in msgs).encode()


def frame(schema_id, parsed, rec):
    b = io.BytesIO()
    fastavro.schemaless_writer(b, parsed, rec)
    return b"\x00" + struct.pack(">i", schema_id) + b.getvalue()


def test_wire_fastavro_to_sluice(avro_dump, tmp_path):
    v1 = {"type": "record", "name": "Ev", "fields": [{"name": "id", "type": "long"},
                                                      {"name": "who", "type": ["null", "string"]}]}
    v2 = {"type": "record", "name": "Ev", "fields": [{"name": "id", "type": "long"},
                                                      {"name": "who", "type": ["null", "string"]},
                                                      {"name": "n", "type": "int", "default": 0}]}
    (tmp_path / "11.avsc").write_text(json.dumps(v1))
    (tmp_path / "12.avsc").write_text(json.dumps(v2))
    p1, p2 = fastavro.parse_schema(v1), fastavro.parse_schema(v2)
    msgs = [frame(11, p1, {"id": 1, "who": "a"}), frame(12, p2, {"id": 2, "who": None, "n": 5}),
            b"\x01garbage", frame(99, p1, {"id": 3, "who": "x"}), frame(11, p1, {"id": 4, "who": "b"})]
    p = subprocess.run([str(avro_dump), "wire-decode", "--dir", str(tmp_path)], input=hexlines(msgs),
                       capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr.decode()
    lines = p.stdout.decode().splitlines()
    assert json.loads(lines[0])["schema"][0]["name"] == "id"
    assert lines[1:] == ['[1, "a"]', '[2, null]', lines[3], lines[4], '[4, "b"]']
    assert lines[3].startswith("error: parse error:") and "magic byte 0" in lines[3]
    assert lines[4].startswith("error: ") and "schema id 99 not found" in lines[4]


def test_wire_sluice_to_fastavro(avro_dump):
    rows = sluice_rows(200)
    text = json.dumps({"schema": SLUICE_SCHEMA}) + "\n" + "".join(
        json.dumps([("nan" if isinstance(v, float) and math.isnan(v) else
                     "inf" if v == float("inf") else v) for v in r]) + "\n" for r in rows)
    p = subprocess.run([str(avro_dump), "wire-encode", "77"], input=text.encode(), capture_output=True,
                       timeout=60)
    assert p.returncode == 0, p.stderr.decode()
    out = p.stdout.decode().splitlines()
    ws = fastavro.parse_schema(json.loads(out[0]))
    names = [c["name"] for c in SLUICE_SCHEMA]
    for line, r in zip(out[1:], rows):
        m = bytes.fromhex(line)
        assert m[0] == 0 and struct.unpack(">i", m[1:5])[0] == 77
        rec = fastavro.schemaless_reader(io.BytesIO(m[5:]), ws)
        for name, v in zip(names, r):
            key = "col_with_space" if name == "col with space" else name
            assert same_value(rec[key], peer_value(name, v)), (name, rec[key], v)


class FakeRegistry(http.server.BaseHTTPRequestHandler):
    schemas = {}
    seen_auth = []

    def do_GET(self):  # noqa: N802 (http.server's naming)
        self.seen_auth.append(self.headers.get("Authorization"))
        parts = self.path.rstrip("/").split("/")
        if len(parts) >= 4 and parts[-3:-1] == ["schemas", "ids"] and int(parts[-1]) in self.schemas:
            body = json.dumps({"schema": json.dumps(self.schemas[int(parts[-1])])}).encode()
            self.send_response(200)
        else:
            body = b'{"error_code":40403,"message":"Schema not found"}'
            self.send_response(404)
        self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_wire_schema_registry_http(avro_dump):
    schema = {"type": "record", "name": "Ev", "namespace": "x", "fields": [
        {"name": "id", "type": "long"}, {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}}]}
    FakeRegistry.schemas = {3: schema}
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeRegistry)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    try:
        ps = fastavro.parse_schema(schema)
        at = dt.datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=dt.timezone.utc)
        msgs = [frame(3, ps, {"id": 1, "at": at}), frame(3, ps, {"id": 2, "at": at}), frame(4, ps, {"id": 3, "at": at})]
        url = "http://u:p@127.0.0.1:%d/" % srv.server_address[1]
        p = subprocess.run([str(avro_dump), "wire-decode", "--url", url], input=hexlines(msgs),
                           capture_output=True, timeout=60)
        assert p.returncode == 0, p.stderr.decode()
        lines = p.stdout.decode().splitlines()
        assert json.loads(lines[0])["schema"][1]["type"] == "timestamp"
        assert lines[1] == "[1, %d]" % micros(at) and lines[2] == "[2, %d]" % micros(at)
        assert "schema id 4 is not in the schema registry" in lines[3]
        assert FakeRegistry.seen_auth[0] == "Basic " + base64.b64encode(b"u:p").decode()
        assert len(FakeRegistry.seen_auth) == 2  # id 3 fetched once, then cached
    finally:
        srv.shutdown()
