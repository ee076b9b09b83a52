"""Kafka Avro values (Confluent framing) between sluice and fastavro, through
the CLI: `sluice broker --dev` (in-process broker), kcat to produce and
consume raw message bytes, and a fake Confluent Schema Registry (Python
http.server on loopback: GET /schemas/ids/<id>, POST
/subjects/<subject>/versions).

fastavro's schemaless_writer with the 5-byte header produces the input
topic (two writer schema versions, plus a message without the header and
one with an unknown schema id); `sluice run --stream` with `format: avro`
on both ends decodes, dead-letters the bad two with their reasons, and
writes Avro values registered under `<topic>-value`, which fastavro's
schemaless_reader decodes against the registered schema with the same
values. A second run resolves both writer versions to an Avro reader
schema (`schema:` .avsc, defaults for the field v1 lacks) and writes with
only a schema directory, whose <id>.avsc fastavro reads the values with.
Run with tests/interop/run.sh.
"""
import datetime as dt
import http.server
import io
import json
import os
import shutil
import struct
import subprocess
import threading
import time
from pathlib import Path

import pytest

fastavro = pytest.importorskip("fastavro")

ROOT = Path(__file__).resolve().parents[2]
UTC = dt.timezone.utc


@pytest.fixture(scope="module")
def sluice():
    exe = Path(os.environ.get("SLUICE_BIN", ROOT / "build" / "sluice"))
    if not exe.exists():
        pytest.fail(f"{exe} is missing: tests/interop/run.sh builds it")
    return exe


@pytest.fixture(scope="module")
def kcat():
    exe = shutil.which("kcat") or shutil.which("kafkacat")
    if not exe:
        pytest.skip("kcat is not installed (scripts/setup.sh installs it)")
    return exe


@pytest.fixture(scope="module")
def broker(sluice, tmp_path_factory):
    bf = tmp_path_factory.mktemp("broker") / "bootstrap"
    p = subprocess.Popen([str(sluice), "broker", "--dev", "--partitions", "1", "--bootstrap-file",
                          str(bf), "av-in", "av-out", "av-in2", "av-out2"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    deadline = time.time() + 30
    while not (bf.exists() and bf.read_text().strip()):
        if p.poll() is not None or time.time() > deadline:
            p.kill()
            pytest.fail("dev broker did not start: " + p.stderr.read().decode())
        time.sleep(0.05)
    yield bf.read_text().strip()
    p.terminate()
    p.wait(timeout=30)


class Registry(http.server.BaseHTTPRequestHandler):
    """Just enough of a Confluent Schema Registry."""
    schemas = {}      # id -> schema JSON text
    subjects = {}     # subject -> [ids]
    gets = []

    def reply(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802 (http.server's naming)
        parts = self.path.strip("/").split("/")
        self.gets.append(parts[-1])
        if len(parts) == 3 and parts[:2] == ["schemas", "ids"] and int(parts[2]) in self.schemas:
            return self.reply(200, {"schema": self.schemas[int(parts[2])]})
        self.reply(404, {"error_code": 40403, "message": "Schema not found"})

    def do_POST(self):  # noqa: N802
        parts = self.path.strip("/").split("/")
        if len(parts) != 3 or parts[0] != "subjects" or parts[2] != "versions":
            return self.reply(404, {"error_code": 404, "message": "no such endpoint"})
        assert self.headers["Content-Type"] == "application/vnd.schemaregistry.v1+json"
        text = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["schema"]
        fastavro.parse_schema(json.loads(text))  # what a real registry checks
        sid = next((i for i, t in self.schemas.items() if t == text), None)
        if sid is None:
            sid = max(self.schemas, default=0) + 1
            self.schemas[sid] = text
        self.subjects.setdefault(parts[1], []).append(sid)
        self.reply(200, {"id": sid})

    def log_message(self, *args):
        pass


@pytest.fixture()
def registry():
    Registry.schemas, Registry.subjects, Registry.gets = {}, {}, []
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Registry)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    yield "http://127.0.0.1:%d" % srv.server_address[1]
    srv.shutdown()


V1 = {"type": "record", "name": "Reading", "namespace": "iot", "fields": [
    {"name": "id", "type": "long"},
    {"name": "sensor", "type": ["null", "string"]},
    {"name": "temp", "type": "float"},
    {"name": "ok", "type": "boolean"},
    {"name": "level", "type": {"type": "enum", "name": "Level", "symbols": ["LOW", "HIGH"]}},
    {"name": "day", "type": {"type": "int", "logicalType": "date"}},
    {"name": "at", "type": ["null", {"type": "long", "logicalType": "timestamp-millis"}]},
]}
# v2: a new field with a default (backward compatible); read as v1's columns
V2 = dict(V1, fields=V1["fields"] + [{"name": "note", "type": "string", "default": ""}])


def frame(schema_id, parsed, rec):
    b = io.BytesIO()
    b.write(b"\x00" + struct.pack(">i", schema_id))
    fastavro.schemaless_writer(b, parsed, rec)
    return b.getvalue()


def record(i):
    return {"id": i, "sensor": None if i % 3 == 0 else "s%d" % i, "temp": i * 0.5,
            "ok": i % 2 == 0, "level": "HIGH" if i % 4 == 0 else "LOW",
            "day": dt.date(2024, 1, 1) + dt.timedelta(days=i),
            "at": None if i % 5 == 0 else dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
            + dt.timedelta(milliseconds=i)}


def produce(kcat, bootstrap, topic, values, tmp_path):
    """One message per value, in order (kcat sends each file as a message)."""
    files = []
    for i, v in enumerate(values):
        f = tmp_path / ("m%03d.bin" % i)
        f.write_bytes(v)
        files.append(str(f))
    subprocess.run([kcat, "-P", "-b", bootstrap, "-t", topic, "-p", "0"] + files, check=True,
                   timeout=60, capture_output=True)


def consume(kcat, bootstrap, topic, n):
    """The raw values of the first n messages of partition 0."""
    p = subprocess.run([kcat, "-C", "-b", bootstrap, "-t", topic, "-p", "0", "-o", "beginning",
                        "-c", str(n), "-e", "-f", "%S:%s"], check=True, timeout=60,
                       capture_output=True)
    out, pos, values = p.stdout, 0, []
    while pos < len(out):
        colon = out.index(b":", pos)
        n = int(out[pos:colon])
        values.append(out[colon + 1:colon + 1 + n])
        pos = colon + 1 + n
    return values


def run_stream(sluice, spec, records, cwd):
    p = subprocess.run([str(sluice), "run", str(spec), "--stream", "--max-records", str(records),
                        "--max-seconds", "60"], capture_output=True, timeout=120, cwd=cwd)
    assert p.returncode == 0, p.stderr.decode()


def input_messages():
    """Records 0..19 (even ones written with v1 as id 1, odd ones with v2 as
    id 2), a JSON value after record 5 and an unknown id after record 9."""
    p1, p2 = fastavro.parse_schema(V1), fastavro.parse_schema(V2)
    msgs = []
    for i in range(20):
        msgs.append(frame(1, p1, record(i)) if i % 2 == 0 else
                    frame(2, p2, dict(record(i), note="n%d" % i)))
        if i == 5:
            msgs.append(b'{"id": 5}')                      # JSON, not Confluent Avro
        if i == 9:
            msgs.append(frame(42, p1, record(i)))          # an id the registry lacks
    return msgs


def check_value(got, i):
    want = record(i)
    assert got["id"] == i
    assert got["sensor"] == want["sensor"]
    assert got["temp"] == pytest.approx(want["temp"])
    assert got["ok"] == want["ok"]
    assert got["level"] == want["level"]                   # enum symbol -> string
    assert got["day"] == want["day"]                       # date stays a date
    assert got["at"] == want["at"]                         # millis -> micros, same instant


def test_fastavro_through_sluice_and_back(sluice, kcat, broker, registry, tmp_path):
    Registry.schemas = {1: json.dumps(V1), 2: json.dumps(V2)}
    good = list(range(20))
    msgs = input_messages()
    produce(kcat, broker, "av-in", msgs, tmp_path)

    rejects = tmp_path / "rejects.jsonl"
    spec = tmp_path / "stream.yaml"
    spec.write_text(f"""
name: avro-interop
source:
  type: kafka
  brokers: {broker}
  topics: [av-in]
  group: avro-interop
  format: avro
  schema_registry: {registry}
  rejects: {rejects}
  properties: {{session.timeout.ms: 6000}}
sink:
  type: kafka
  brokers: {broker}
  topic: av-out
  format: avro
  schema_registry: {registry}
""")
    run_stream(sluice, spec, len(msgs), tmp_path)

    # dead letters, with the reason
    dead = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [d["offset"] for d in dead] == [6, 11]
    assert "magic byte 0" in dead[0]["reason"]
    assert "schema id 42 is not in the schema registry at " + registry in dead[1]["reason"]
    assert sorted(Registry.gets) == ["1", "2", "42"]  # each id looked up once

    # the output: registered under av-out-value, decoded by fastavro
    assert list(Registry.subjects) == ["av-out-value"]
    out_id = Registry.subjects["av-out-value"][0]
    ws = json.loads(Registry.schemas[out_id])
    assert [f["name"] for f in ws["fields"]] == [f["name"] for f in V1["fields"]]
    parsed = fastavro.parse_schema(ws)
    values = consume(kcat, broker, "av-out", len(good))
    assert len(values) == len(good)
    for v, i in zip(values, good):
        assert v[0] == 0 and struct.unpack(">i", v[1:5])[0] == out_id
        check_value(fastavro.schemaless_reader(io.BytesIO(v[5:]), parsed), i)


def test_reader_schema_and_schema_dir(sluice, kcat, broker, registry, tmp_path):
    Registry.schemas = {1: json.dumps(V1), 2: json.dumps(V2)}
    msgs = input_messages()
    produce(kcat, broker, "av-in2", msgs, tmp_path)
    reader = tmp_path / "reader.avsc"
    reader.write_text(json.dumps(V2))
    out_dir = tmp_path / "schemas"
    out_dir.mkdir()
    spec = tmp_path / "stream.yaml"
    spec.write_text(f"""
name: avro-interop-reader
source:
  type: kafka
  brokers: {broker}
  topics: [av-in2]
  group: avro-interop-2
  format: avro
  schema: {reader}
  schema_registry: {registry}
  on_error: skip
  properties: {{session.timeout.ms: 6000}}
sink:
  type: kafka
  brokers: {broker}
  topic: av-out2
  format: avro
  schema_dir: {out_dir}
""")
    run_stream(sluice, spec, len(msgs), tmp_path)
    assert Registry.subjects == {}                         # nothing registered
    assert sorted(p.name for p in out_dir.iterdir()) == ["1.avsc"]
    parsed = fastavro.parse_schema(json.loads((out_dir / "1.avsc").read_text()))
    values = consume(kcat, broker, "av-out2", 20)
    assert len(values) == 20
    for i, v in enumerate(values):
        assert v[:5] == b"\x00\x00\x00\x00\x01"
        got = fastavro.schemaless_reader(io.BytesIO(v[5:]), parsed)
        check_value(got, i)
        assert got["note"] == ("" if i % 2 == 0 else "n%d" % i)  # the reader's default for v1
