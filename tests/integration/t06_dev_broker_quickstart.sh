#!/usr/bin/env bash
# The streaming quickstart as a user does it (docs/user-guides/streaming.md,
# "Try it with the dev broker"): fit the quickstart in batch, start
# `sluice broker --dev`, produce the quickstart's rows as JSON with kcat,
# run examples/quickstart/stream.yaml with --stream --transform, and read
# the transformed records back from the output topic: they must be exactly
# the batch path's (`sluice apply` with the same transform.json on the same
# rows). With a model (`run --stream --model`), the output must carry the
# same predictions as `sluice predict`; that part is skipped until
# `sluice run --stream --help` lists --model.
# Needs no external broker: it starts its own dev broker on a free port
# ($BS is not used).
set -euo pipefail
export LC_ALL=C
. "$(dirname "$0")/lib.sh"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$WORK"

# The quickstart's files, so the batch run writes its outputs and model
# registry here and not into the repository.
mkdir -p examples models
cp -r "$ROOT/examples/quickstart" examples/
cp -r "$ROOT/models/data_models" models/
CSV=examples/quickstart/data/seattle-weather.csv
ROWS=$(($(wc -l < "$CSV") - 1))

# 1. the batch run: transform.json and a registered model
timeout 120 "$SLUICE" run examples/quickstart/pipeline.yaml > batch.txt 2>&1 ||
  { cat batch.txt >&2; fail "the batch quickstart failed"; }
TF=data/processed/quickstart/transform.json
[ -f "$TF" ] || fail "the batch run wrote no $TF: $(cat batch.txt)"
[ -f models/ml_models/quickstart/1/model_artifacts/model.slm ] ||
  fail "the batch run registered no model: $(cat batch.txt)"

# 2. the dev broker on a free port (retried: the port may be taken between
# choosing it and binding it)
broker=""
stop_broker() {
  [ -n "$broker" ] || return 0
  kill -TERM "$broker" 2>/dev/null
  timeout 20 tail --pid="$broker" -f /dev/null || kill -9 "$broker" 2>/dev/null
  wait "$broker" 2>/dev/null
  broker=""
}
trap 'stop_broker || true' EXIT
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
up() { [ -s bootstrap ] && grep -q "^sluice dev broker: bootstrap " broker.out; }
for attempt in 1 2 3; do
  PORT=$(free_port)
  rm -f bootstrap
  "$SLUICE" broker --dev --port "$PORT" --bootstrap-file bootstrap weather weather-features \
    > broker.out 2> broker.err &
  broker=$!
  # up once it wrote the bootstrap file and then its banner
  for _ in $(seq 1 100); do
    up && break
    kill -0 "$broker" 2>/dev/null || break
    sleep 0.1
  done
  up && break
  note "dev broker attempt $attempt on port $PORT failed: $(head -c 300 broker.err)"
  stop_broker || true
done
[ -s bootstrap ] || fail "the dev broker did not start"
DBS=$(cat bootstrap)
[ "$DBS" = "127.0.0.1:$PORT" ] || fail "the dev broker's bootstrap is '$DBS', expected 127.0.0.1:$PORT"
grep -q "sluice dev broker: bootstrap $DBS" broker.out || fail "broker banner: $(cat broker.out)"
timeout 20 kcat -L -b "$DBS" -t weather > meta.txt 2>&1 || fail "kcat -L on the dev broker: $(cat meta.txt)"
grep -q 'topic "weather" with 4 partitions' meta.txt || fail "topic weather: $(cat meta.txt)"

# 3. the quickstart rows as JSON messages, and one bad record
"$SLUICE" convert "$CSV" weather.jsonl > /dev/null || fail "sluice convert"
[ "$(wc -l < weather.jsonl)" -eq "$ROWS" ] || fail "convert wrote $(wc -l < weather.jsonl) rows"
timeout 30 kcat -P -b "$DBS" -t weather < weather.jsonl || fail "kcat could not produce"
echo '{"date": "yesterday", "weather": "sun"}' | timeout 30 kcat -P -b "$DBS" -t weather ||
  fail "kcat could not produce"

# compare_json A B: A and B hold the same JSON objects, as multisets
# (key order and line order do not matter; numbers must be the same
# doubles: the stream and the batch path run the same transforms on the
# same values, so there is no tolerance)
compare_json() {
  python3 - "$1" "$2" <<'PY'
import collections, json, sys
def load(p):
    with open(p) as f:
        return collections.Counter(json.dumps(json.loads(l), sort_keys=True)
                                   for l in f if l.strip())
a, b = load(sys.argv[1]), load(sys.argv[2])
if a == b:
    sys.exit(0)
only_a, only_b = a - b, b - a
print(f"{sum(only_a.values())} records only in {sys.argv[1]}, "
      f"{sum(only_b.values())} only in {sys.argv[2]}", file=sys.stderr)
for x in list(only_a)[:2]:
    print(f"  only in {sys.argv[1]}: {x}", file=sys.stderr)
for x in list(only_b)[:2]:
    print(f"  only in {sys.argv[2]}: {x}", file=sys.stderr)
sys.exit(1)
PY
}

# stream SPEC OUT_TOPIC [options]: run SPEC bounded to the produced
# records, then read OUT_TOPIC into OUT_TOPIC.jsonl
stream() {
  local spec=$1 topic=$2
  shift 2
  timeout 120 "$SLUICE" run "$spec" --stream --max-records $((ROWS + 1)) "$@" \
    > "$topic.out" 2> "$topic.err" || { cat "$topic.err" >&2; fail "sluice run $spec --stream $*"; }
  grep -q "^quickstart-stream: $ROWS records in, $ROWS out, 1 dead letters" "$topic.out" ||
    fail "summary: $(cat "$topic.out")"
  timeout 60 kcat -C -b "$DBS" -t "$topic" -e -q -o beginning > "$topic.jsonl" ||
    fail "kcat could not read $topic"
  [ "$(wc -l < "$topic.jsonl")" -eq "$ROWS" ] ||
    fail "$topic has $(wc -l < "$topic.jsonl") records, expected $ROWS"
}

# 4. the quickstart's stream spec, pointed at this broker
sed "s/127\.0\.0\.1:9092/$DBS/" examples/quickstart/stream.yaml > stream.yaml
grep -q "brokers: $DBS" stream.yaml || fail "stream.yaml has no 'brokers: 127.0.0.1:9092' to replace"
stream stream.yaml weather-features --transform "$TF"

# 5. the transformed records are the batch path's
"$SLUICE" apply "$TF" weather.jsonl batch.jsonl > /dev/null || fail "sluice apply"
compare_json weather-features.jsonl batch.jsonl ||
  fail "the streamed features differ from sluice apply's on the same rows"
# and the bad record is on the dead-letter topic with its reason
timeout 30 kcat -C -b "$DBS" -t weather-dlq -e -q -o beginning -f '%s|%h\n' > dlq.txt ||
  fail "kcat could not read weather-dlq"
[ "$(wc -l < dlq.txt)" -eq 1 ] || fail "weather-dlq: $(cat dlq.txt)"
grep -q '^{"date": "yesterday", "weather": "sun"}|sluice.error=.*yesterday.*,sluice.topic=weather,' dlq.txt ||
  fail "dead letter: $(cat dlq.txt)"

# 6. predictions on the output topic, once run --stream takes --model
help=$("$SLUICE" run --stream --help 2>&1 || true)
if ! awk '/^streaming options:/ { s = 1 } s && /--model/ { f = 1 } END { exit !f }' <<< "$help"; then
  note "SKIP predictions: 'sluice run --stream --help' does not list --model yet"
  exit 0
fi
# a new group and output topic: the same records scored
sed -e 's/^\(  *group:\) quickstart$/\1 quickstart-scored/' \
  -e 's/^\(  *topic:\) weather-features$/\1 weather-scored/' stream.yaml > scored.yaml
grep -q "group: quickstart-scored" scored.yaml && grep -q "topic: weather-scored" scored.yaml ||
  fail "could not derive scored.yaml from stream.yaml"
stream scored.yaml weather-scored --model models/ml_models/quickstart
"$SLUICE" predict --model models/ml_models/quickstart weather.jsonl predicted.jsonl > /dev/null ||
  fail "sluice predict"
python3 - weather-scored.jsonl <<'PY' || fail "the scored records lack prediction / proba_<class>"
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if "prediction" not in r or not any(k.startswith("proba_") for k in r):
        sys.exit(f"  for example: {l.strip()[:300]}")
PY
compare_json weather-scored.jsonl predicted.jsonl ||
  fail "the streamed predictions differ from sluice predict's on the same rows"
