#!/usr/bin/env bash
# Integration test of `sluice serve` (see test_serving.py for the checks).
#   tests/integration/test_serving.sh BUILD/sluice [BUILD/libsluice.a]
# Needs: python3, promtool (Debian package prometheus), a C compiler;
# openssl for the TLS part (skipped without it). Loopback only; every
# server it starts is stopped (by PID) on exit.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SLUICE=$(realpath "${1:?usage: test_serving.sh BUILD/sluice [BUILD/libsluice.a]}")
LIB=$(realpath "${2:-$(dirname "$SLUICE")/libsluice.a}")
command -v promtool >/dev/null || { echo "test_serving: promtool missing (apt-get install prometheus)"; exit 1; }

WORK=$(mktemp -d /tmp/sluice_serving.XXXXXX)
cleanup() {
    # the python driver stops its servers; this catches an interrupted run
    for f in "$WORK"/*.pid; do [ -e "$f" ] && kill "$(cat "$f")" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

# 1. the fixture tool (registry builder + C API predictions); a sanitizer
#    build's library needs the sanitizer runtimes at link time
CC=cc SAN=""
if nm "$LIB" 2>/dev/null | grep __asan_report >/dev/null; then
    CC=clang SAN="-fsanitize=address,undefined"
fi
$CC $SAN -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -I"$ROOT/include" \
    "$ROOT/tests/integration/serving_fixture.c" "$LIB" \
    $(pkg-config --libs yaml-0.1 jansson libzstd zlib liblz4 openblas rdkafka libmicrohttpd) \
    -lsnappy -lpthread -lm -o "$WORK/serving_fixture"

# 2. quickstart features + transform.json (the spec with absolute paths)
sed -e "s#examples/quickstart/data#$ROOT/examples/quickstart/data#" \
    -e "s#models/data_models#$ROOT/models/data_models#" \
    -e "s#data/processed/quickstart#$WORK/processed#" \
    "$ROOT/examples/quickstart/pipeline.yaml" > "$WORK/spec.yaml"
(cd "$WORK" && "$SLUICE" run -q spec.yaml)

# 3. the observability config must stay valid too
promtool check config "$ROOT/config/prometheus/prometheus.yml" >/dev/null
promtool check rules "$ROOT/config/prometheus/alerts.yml" >/dev/null
promtool test rules "$ROOT/tests/integration/alerts_test.yml"
python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$ROOT/config/grafana/dashboards/sluice.json"

# 4. the server
timeout 600 python3 "$ROOT/tests/integration/test_serving.py" --sluice "$SLUICE" \
    --fixture "$WORK/serving_fixture" --work "$WORK" \
    --csv "$ROOT/examples/quickstart/data/seattle-weather.csv"
