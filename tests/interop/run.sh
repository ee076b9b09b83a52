#!/usr/bin/env bash
# Interop and conformance tests: Parquet against pyarrow and DuckDB and the
# Apache parquet-testing corpus (../shared/conformance/); Avro against fastavro
# (files, and Kafka values through the dev broker and kcat);
# the Arrow C Data Interface example (examples/arrow/) with pyarrow and DuckDB.
# Creates .venv from tests/interop/requirements.txt when missing, builds
# libsluice.a (in $SL_BUILD_DIR, default build/) and the pq_dump and avro_dump drivers,
# then runs pytest. Extra arguments go to pytest (e.g. -k conformance).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(realpath -m "${SL_BUILD_DIR:-$ROOT/build}")
VENV=$ROOT/.venv
REQ=$ROOT/tests/interop/requirements.txt

if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
# Reinstall only when the requirements changed.
STAMP=$VENV/.interop-requirements
if ! cmp -s "$REQ" "$STAMP"; then
    "$VENV/bin/pip" install -q -r "$REQ"
    cp "$REQ" "$STAMP"
fi

if [ ! -f "$BUILD/build.ninja" ] && [ ! -f "$BUILD/Makefile" ]; then
    cmake -S "$ROOT" -B "$BUILD" -G Ninja
fi
cmake --build "$BUILD" --target sluice sluice_static sluice_shared -j2
cc -O2 -std=c11 -D_DEFAULT_SOURCE -I"$ROOT/include" "$ROOT/tests/interop/pq_dump.c" \
    "$BUILD/libsluice.a" -lyaml -ljansson -lzstd -lz -llz4 -lsnappy $(pkg-config --libs openblas rdkafka) -lpthread -lm \
    -o "$BUILD/pq_dump"
cc -O2 -std=c11 -D_DEFAULT_SOURCE -I"$ROOT/include" "$ROOT/tests/interop/avro_dump.c" \
    "$BUILD/libsluice.a" -lyaml -ljansson -lzstd -lz -llz4 -lsnappy $(pkg-config --libs openblas rdkafka) -lpthread -lm \
    -o "$BUILD/avro_dump"

export PQ_DUMP=$BUILD/pq_dump
export AVRO_DUMP=$BUILD/avro_dump
export SLUICE_LIB=$BUILD/libsluice.so
export SLUICE_BIN=$BUILD/sluice
export SL_BUILD_DIR=$BUILD
cd "$ROOT/tests/interop"
exec "$VENV/bin/python" -m pytest -q -p no:cacheprovider test_parquet_interop.py test_parquet_conformance.py test_avro_interop.py test_kafka_avro_interop.py test_arrow_interop.py test_convert_roundtrip.py test_ml_sklearn.py "$@"
