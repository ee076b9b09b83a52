#!/usr/bin/env bash
# Streaming benchmark on a real Apache Kafka 3.9 (scripts/kafka.sh):
# sluice consume -> filter + derive -> produce.
#
#   bench/stream/run.sh [--events N] [--rate R] [--seconds S]
#
# 1. throughput: N JSON events (default 2,000,000) are produced to a 4-partition
#    topic first; `sluice run --stream --max-records N` then consumes,
#    filters (keeps ~2/3), derives two columns and produces the result.
#    Reports events/s (wall clock) and events/s per CPU-second (user+sys of
#    the sluice process, i.e. per core), and peak RSS.
# 2. latency: sluice runs while events are produced at R events/s
#    (default 20000) for S seconds (default 20); the latency of an event is
#    its output message's CreateTime (set by sluice's producer) minus its
#    input message's CreateTime (carried through as `_timestamp`):
#    p50 / p99 / max in ms.
# SLUICE_BIN picks the binary (default build/sluice); KAFKA_BOOTSTRAP an
# already running broker (else one is started and stopped).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
SLUICE="${SLUICE_BIN:-$ROOT/build/sluice}"
N=2000000 RATE=20000 SECS=20
while [ $# -gt 0 ]; do
  case "$1" in
    --events) N="$2"; shift 2 ;;
    --rate) RATE="$2"; shift 2 ;;
    --seconds) SECS="$2"; shift 2 ;;
    *) echo "usage: $0 [--events N] [--rate R] [--seconds S]" >&2; exit 2 ;;
  esac
done
started=0
if [ -z "${KAFKA_BOOTSTRAP:-}" ]; then
  "$ROOT/scripts/kafka.sh" start
  started=1
  KAFKA_BOOTSTRAP="$("$ROOT/scripts/kafka.sh" bootstrap)"
fi
BS="$KAFKA_BOOTSTRAP"
W=$(mktemp -d /tmp/sluice-bench-stream-XXXXXX)
trap '[ $started = 1 ] && "$ROOT/scripts/kafka.sh" stop; rm -rf "$W"' EXIT
tag="$$-$RANDOM"

# events: {"id":..,"user":"u<id%1000>","amount":..,"qty":..,"kind":"click|view|buy"}
gen() { # FIRST LAST
  awk -v a="$1" -v b="$2" 'BEGIN { split("click view buy", k, " ");
    for (i = a; i <= b; i++)
      printf "{\"id\": %d, \"user\": \"u%d\", \"amount\": %.2f, \"qty\": %d, \"kind\": \"%s\"}\n",
             i, i % 1000, (i * 7919 % 10000) / 100.0, 1 + i % 5, k[1 + i % 3] }'
}

spec() { # IN OUT GROUP START METADATA
  cat > "$W/spec.yaml" <<YAML
name: bench
source:
  type: kafka
  brokers: "$BS"
  topics: [$1]
  group: $3
  start: $4
  metadata: $5
  schema: $W/schema.json
sink: { type: kafka, brokers: "$BS", topic: $2, compression: lz4 }
transforms:
  - filter: "amount > 10 and kind != 'view'"
  - derive: { unit_price: "amount / qty", big: "amount > 50" }
YAML
  cat > "$W/schema.json" <<'JSON'
{"fields": [{"name": "id", "type": "int64"}, {"name": "user", "type": "string"},
 {"name": "amount", "type": "float64"}, {"name": "qty", "type": "int64"},
 {"name": "kind", "type": "string"}]}
JSON
}

echo "== throughput: $N events"
IN="bench-in-$tag"; OUT="bench-out-$tag"
t0=$(date +%s.%N)
gen 1 "$N" | kcat -P -b "$BS" -t "$IN" -z lz4 -X queue.buffering.max.messages=1000000 -X linger.ms=50
t1=$(date +%s.%N)
echo "produced in $(echo "$t1 - $t0" | bc) s"
spec "$IN" "$OUT" "bench-$tag" earliest false
/usr/bin/time -f "%e %U %S %M" -o "$W/time.txt" \
  "$SLUICE" run "$W/spec.yaml" --stream --max-records "$N" --log-level warn > "$W/out.txt"
cat "$W/out.txt"
read -r wall usr sys rss < "$W/time.txt"
awk -v n="$N" -v w="$wall" -v u="$usr" -v s="$sys" -v r="$rss" 'BEGIN {
  printf "throughput: %.0f events/s wall (%.2f s), %.0f events/s per core (cpu %.2f s = user %.2f + sys %.2f), peak RSS %.0f MB\n",
         n / w, w, n / (u + s), u + s, u, s, r / 1024 }'

echo "== latency: $RATE events/s for $SECS s"
IN="bench-lin-$tag"; OUT="bench-lout-$tag"
gen 0 0 | kcat -P -b "$BS" -t "$IN"   # create the topic
spec "$IN" "$OUT" "bench-l-$tag" latest true
"$SLUICE" run "$W/spec.yaml" --stream --log-level warn > "$W/lout.txt" &
pid=$!
sleep 5 # join the group before the first event
per=$((RATE / 10))
for ((t = 0; t < SECS * 10; t++)); do
  a=$((t * per + 1))
  gen "$a" $((a + per - 1)) | kcat -P -b "$BS" -t "$IN" -X linger.ms=1 &
  sleep 0.1
done
wait $(jobs -p | grep -v "^$pid$") 2>/dev/null || true
sleep 3
kill -TERM $pid; wait $pid || true
cat "$W/lout.txt"
timeout 120 kcat -C -b "$BS" -t "$OUT" -e -q -f '%T %s\n' > "$W/lat.txt"
python3 - "$W/lat.txt" <<'PY'
import sys, json, datetime
lat = []
for line in open(sys.argv[1]):
    t, _, js = line.partition(" ")
    ts = json.loads(js)["_timestamp"]
    tin = datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
    lat.append(int(t) - tin.timestamp() * 1000)
lat.sort()
if not lat:
    sys.exit("no output")
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
print(f"latency over {len(lat)} events: p50 {q(0.5):.1f} ms, p99 {q(0.99):.1f} ms, max {lat[-1]:.1f} ms")
PY
