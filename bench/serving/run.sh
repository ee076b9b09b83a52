#!/usr/bin/env bash
# Serving benchmark: `sluice serve` vs a FastAPI + uvicorn + scikit-learn
# peer, same model (random forest, 100 trees, quickstart features), same
# requests, wrk on loopback.
#
#   bench/serving/run.sh [BUILD_DIR]        (default: build)
#   DURATION=10 CONNS=16 SERVER_THREADS=2 bench/serving/run.sh build
#
# Both servers get 2 workers (sluice: --threads 2; uvicorn: --workers 2)
# and are measured one at a time with wrk -t2 on the same machine, so on a
# 2-core box the load generator competes with the server for the CPUs;
# the ratio is what matters. Requests: 1 raw row and 32 raw rows of the
# quickstart CSV; both servers apply the fitted transforms before the
# model. Prints req/s, p50, p99 and ratio = sluice / peer; writes
# bench/results/serving_<UTC time>.md.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(realpath "${1:-$ROOT/build}")
SLUICE=$(realpath "${SLUICE:-$BUILD/sluice}")
LIB=$BUILD/libsluice.a
DURATION=${DURATION:-10}
CONNS=${CONNS:-16}
SERVER_THREADS=${SERVER_THREADS:-2}
WORK=$ROOT/bench/data/serving
PY=$ROOT/.venv/bin/python
for tool in wrk python3 cc; do
    command -v $tool >/dev/null || { echo "serving bench: $tool missing (apt-get install wrk)"; exit 1; }
done
[ -x "$SLUICE" ] || { echo "serving bench: $SLUICE not built"; exit 1; }

# peer environment
[ -x "$PY" ] || python3 -m venv "$ROOT/.venv"
"$PY" -c "import fastapi, uvicorn, uvloop, httptools, sklearn" 2>/dev/null ||
    "$PY" -m pip install -q -r "$ROOT/bench/serving/requirements.txt"

rm -rf "$WORK"
mkdir -p "$WORK" "$ROOT/bench/results"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# 1. model: quickstart features, random forest with 100 trees, registered
cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -I"$ROOT/include" \
    "$ROOT/tests/integration/serving_fixture.c" "$LIB" \
    $(pkg-config --libs yaml-0.1 jansson libzstd zlib liblz4 openblas rdkafka libmicrohttpd) \
    -lsnappy -lpthread -lm -o "$WORK/serving_fixture"
sed -e "s#examples/quickstart/data#$ROOT/examples/quickstart/data#" \
    -e "s#models/data_models#$ROOT/models/data_models#" \
    -e "s#data/processed/quickstart#$WORK/processed#" \
    "$ROOT/examples/quickstart/pipeline.yaml" > "$WORK/spec.yaml"
(cd "$WORK" && "$SLUICE" run -q spec.yaml)
V=$("$WORK/serving_fixture" train "$WORK/reg" quickstart "$WORK/processed" weather \
    random_forest n_estimators=100 random_state=42)
"$WORK/serving_fixture" bless "$WORK/reg" quickstart "$V"

# 2. request bodies (raw rows, no target) and wrk scripts
python3 - "$ROOT/examples/quickstart/data/seattle-weather.csv" "$WORK" <<'PYEOF'
import csv, json, sys
rows = []
for r in csv.DictReader(open(sys.argv[1])):
    if r["weather"] and float(r["temp_max"]) >= float(r["temp_min"]):
        rows.append({"date": r["date"], "precipitation": float(r["precipitation"]),
                     "temp_max": float(r["temp_max"]), "temp_min": float(r["temp_min"]),
                     "wind": float(r["wind"])})
for n in (1, 32):
    body = json.dumps({"instances": rows[100:100 + n]})
    open("%s/body%d.json" % (sys.argv[2], n), "w").write(body)
    open("%s/post%d.lua" % (sys.argv[2], n), "w").write(
        'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
        'local f = io.open("%s/body%d.json")\nwrk.body = f:read("*a")\nf:close()\n'
        % (sys.argv[2], n))
PYEOF

wait_http() { # url
    for _ in $(seq 200); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done
    echo "serving bench: $1 did not come up"; exit 1
}

# wrk -> "req/s p50_ms p99_ms non2xx"
measure() { # url lua tag
    wrk -t2 -c"$CONNS" -d2s -s "$2" "$1" >/dev/null   # warm-up
    wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency -s "$2" "$1" | tee "$WORK/wrk_$3.txt" | python3 -c '
import re, sys
t = sys.stdin.read()
def ms(s):
    v, u = re.match(r"([\d.]+)(us|ms|s|m)$", s).groups()
    return float(v) * {"us": 1e-3, "ms": 1, "s": 1e3, "m": 6e4}[u]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
p50 = ms(re.search(r"^\s+50%\s+(\S+)", t, re.M).group(1))
p99 = ms(re.search(r"^\s+99%\s+(\S+)", t, re.M).group(1))
m = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
print("%.0f %.3f %.3f %s" % (rps, p50, p99, m.group(1) if m else 0))'
}

# 3. sluice
"$SLUICE" serve --registry "$WORK/reg" --port 0 --port-file "$WORK/sluice.port" \
    --threads "$SERVER_THREADS" --log-level warn --reload-interval 0 2>"$WORK/sluice.log" &
PIDS+=($!)
for _ in $(seq 100); do [ -s "$WORK/sluice.port" ] && break; sleep 0.05; done
SPORT=$(cat "$WORK/sluice.port")
wait_http "http://127.0.0.1:$SPORT/readyz"
S1=$(measure "http://127.0.0.1:$SPORT/v1/models/quickstart:predict" "$WORK/post1.lua" sluice1)
S32=$(measure "http://127.0.0.1:$SPORT/v1/models/quickstart:predict" "$WORK/post32.lua" sluice32)
kill "${PIDS[0]}"; wait "${PIDS[0]}" 2>/dev/null || true

# 4. the Python peer
PPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
(cd "$ROOT/bench/serving" && DATA_DIR="$WORK/processed" exec "$ROOT/.venv/bin/uvicorn" \
    peer_server:app --host 127.0.0.1 --port "$PPORT" --workers "$SERVER_THREADS" \
    --log-level warning --no-access-log --loop uvloop --http httptools) 2>"$WORK/peer.log" &
PIDS+=($!)
wait_http "http://127.0.0.1:$PPORT/healthz"
# same answers? (class agreement; the forests differ in binning and RNG)
curl -sf -X POST -H 'Content-Type: application/json' --data-binary @"$WORK/body32.json" \
    "http://127.0.0.1:$PPORT/v1/models/quickstart:predict" > "$WORK/peer32.json"
P1=$(measure "http://127.0.0.1:$PPORT/v1/models/quickstart:predict" "$WORK/post1.lua" peer1)
P32=$(measure "http://127.0.0.1:$PPORT/v1/models/quickstart:predict" "$WORK/post32.lua" peer32)

# 5. report
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
python3 - "$S1" "$S32" "$P1" "$P32" "$CONNS" "$DURATION" "$SERVER_THREADS" \
    "$ROOT/bench/results/serving_$STAMP.md" <<'PYEOF'
import os, sys
s1, s32, p1, p32 = (a.split() for a in sys.argv[1:5])
conns, dur, threads, out = sys.argv[5:9]
lines = ["# serving benchmark %s" % os.path.basename(out)[8:-3], "",
         "wrk -t2 -c%s -d%ss on loopback, %s server workers each, %d CPUs, load average %.1f "
         "at the end" % (conns, dur, threads, os.cpu_count(), os.getloadavg()[0]), "",
         "| request | server | req/s | p50 ms | p99 ms | non-2xx |",
         "| --- | --- | ---: | ---: | ---: | ---: |"]
for name, s, p in (("1 row", s1, p1), ("32 rows", s32, p32)):
    lines.append("| %s | sluice | %s | %s | %s | %s |" % (name, *s))
    lines.append("| %s | FastAPI + sklearn | %s | %s | %s | %s |" % (name, *p))
lines.append("")
for name, s, p in (("1 row", s1, p1), ("32 rows", s32, p32)):
    lines.append("ratio %s: sluice/peer = %.1fx req/s, p99 %.1fx lower" %
                 (name, float(s[0]) / max(float(p[0]), 1e-9),
                  float(p[2]) / max(float(s[2]), 1e-9)))
rps1, p99_1 = float(s1[0]), float(s1[2])
lines.append("goal single-row >= 50000 req/s with p99 <= 2 ms: %s (%.0f req/s, p99 %.2f ms)" %
             ("met" if rps1 >= 50000 and p99_1 <= 2 else "NOT met", rps1, p99_1))
text = "\n".join(lines) + "\n"
open(out, "w").write(text)
print(text)
PYEOF
