"""Writes the seed corpus of tests/fuzz/fuzz_avro.c into
tests/fuzz/corpus/avro/: small valid container files for every codec (every
Avro type, several blocks), truncated and corrupted variants, Confluent
wire messages and schema texts. Run with the interop venv (fastavro):
    .venv/bin/python tests/interop/make_avro_corpus.py
"""
import datetime as dt
import decimal
import io
import os
import struct

import fastavro

OUT = os.path.join(os.path.dirname(__file__), "..", "fuzz", "corpus", "avro")

SCHEMA = {"type": "record", "name": "r", "fields": [
    {"name": "l", "type": ["null", "long"]},
    {"name": "i", "type": "int"},
    {"name": "b", "type": "boolean"},
    {"name": "f", "type": "float"},
    {"name": "d", "type": ["double", "null"]},
    {"name": "s", "type": ["null", "string"]},
    {"name": "by", "type": "bytes"},
    {"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["A", "B", "C"]}},
    {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-micros"}},
    {"name": "tm", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    {"name": "dt", "type": {"type": "int", "logicalType": "date"}},
    {"name": "dec", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}},
    {"name": "fx", "type": {"type": "fixed", "name": "F", "size": 2}},
    {"name": "arr", "type": {"type": "array", "items": ["null", "long"]}},
    {"name": "m", "type": {"type": "map", "values": "string"}},
    {"name": "rec", "type": ["null", {"type": "record", "name": "R", "fields": [
        {"name": "a", "type": "long"}, {"name": "u", "type": ["int", "string"]}]}]},
]}


def records(n=12):
    out = []
    for k in range(n):
        out.append({
            "l": None if k % 3 == 0 else k * 1000, "i": -k, "b": k % 2 == 0, "f": k / 4,
            "d": None if k == 2 else k * 0.1, "s": None if k == 1 else "s%dé" % k, "by": b"\x01\x02" * k,
            "e": "ABC"[k % 3], "ts": dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
            "tm": dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc), "dt": dt.date(2020, 2, 29),
            "dec": decimal.Decimal("-1.%02d" % k), "fx": b"ab", "arr": [None, k],
            "m": {"k%d" % k: "v"}, "rec": None if k == 0 else {"a": k, "u": k if k % 2 else "x"},
        })
    return out


def container(codec, n=12, interval=200):
    b = io.BytesIO()
    fastavro.writer(b, SCHEMA, records(n), codec=codec, sync_interval=interval)
    return b.getvalue()


def main():
    os.makedirs(OUT, exist_ok=True)
    files = {}
    for codec in ["null", "deflate", "snappy", "zstandard"]:
        files["fastavro-%s.avro" % codec] = container(codec)
    plain = files["fastavro-null.avro"]
    files["truncated-header.avro"] = plain[:40]
    files["truncated-block.avro"] = plain[:len(plain) - 30]
    bad_sync = bytearray(plain)
    bad_sync[-1] ^= 0xff
    files["bad-sync.avro"] = bytes(bad_sync)
    flipped = bytearray(files["fastavro-deflate.avro"])
    flipped[len(flipped) // 2] ^= 0x55
    files["flipped-deflate.avro"] = bytes(flipped)
    flipped = bytearray(files["fastavro-snappy.avro"])
    flipped[-20] ^= 0x01  # inside the snappy CRC or data
    files["bad-crc-snappy.avro"] = bytes(flipped)
    files["empty.avro"] = container("null", n=0)
    # a recursive schema and a non-record top level
    ll = {"type": "record", "name": "L", "fields": [{"name": "v", "type": "int"},
                                                      {"name": "next", "type": ["null", "L"]}]}
    b = io.BytesIO()
    fastavro.writer(b, ll, [{"v": 1, "next": {"v": 2, "next": {"v": 3, "next": None}}}])
    files["recursive.avro"] = b.getvalue()
    b = io.BytesIO()
    fastavro.writer(b, "long", [1, -2, 3])
    files["top-long.avro"] = b.getvalue()
    # Confluent wire messages (schema id 1 = the fuzzer's first reader schema; 2 = L)
    w1 = fastavro.parse_schema({"type": "record", "name": "r", "fields": [
        {"name": "l", "type": ["null", "double"]}, {"name": "s", "type": ["null", "bytes"], "default": None},
        {"name": "x", "type": {"type": "map", "values": "long"}, "default": {"a": 1}}]})
    msgs = []
    for k in range(3):
        b = io.BytesIO()
        fastavro.schemaless_writer(b, w1, {"l": k * 1.5, "s": b"q" * k, "x": {"a": k}})
        msgs.append(b"\x00" + struct.pack(">i", 1) + b.getvalue())
    b = io.BytesIO()
    fastavro.schemaless_writer(b, fastavro.parse_schema(ll), {"v": 7, "next": {"v": 8, "next": None}})
    msgs.append(b"\x00" + struct.pack(">i", 2) + b.getvalue())
    files["wire-messages.bin"] = b"\n".join(msgs)
    files["wire-bad-magic.bin"] = b"\x01" + msgs[0][1:]
    files["wire-unknown-id.bin"] = b"\x00\x00\x00\x00\x09" + msgs[0][5:]
    files["schema-record.json"] = fastavro.json_dumps(SCHEMA).encode() if hasattr(fastavro, "json_dumps") \
        else __import__("json").dumps(SCHEMA).encode()
    files["schema-union.json"] = b'["null", {"type": "array", "items": "L"}, "string"]'
    for name, data in files.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    print("wrote %d seeds to %s" % (len(files), os.path.normpath(OUT)))


if __name__ == "__main__":
    main()
