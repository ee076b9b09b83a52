# lib.sh: helpers for the integration tests (sourced by run.sh's tests).
# Expects SLUICE (the binary), BS (bootstrap host:port) and WORK (a scratch
# directory of this test) in the environment. Every wait is bounded.

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "  $*" >&2; }

# A fresh topic name for this test (auto-created with the broker's
# num.partitions, 4).
topic() { echo "it-$1-$$-$RANDOM"; }

# produce_ids TOPIC FIRST LAST: JSON records {"id": i, "v": i.5, "s": "x<i>"} keyed by id
produce_ids() {
  seq "$2" "$3" | awk '{printf "%d\t{\"id\": %d, \"v\": %d.5, \"s\": \"x%d\"}\n", $1, $1, $1, $1}' |
    kcat -P -b "$BS" -t "$1" -K '\t' -z lz4 || fail "produce to $1"
}

# Messages in a topic so far (sum of end offsets).
count() {
  local t="$1" parts args=()
  parts=$(kcat -L -b "$BS" -t "$t" 2>/dev/null | grep -c "partition [0-9]*,") || true
  [ "${parts:-0}" -gt 0 ] || { echo 0; return; }
  for ((p = 0; p < parts; p++)); do args+=(-t "$t:$p:-1"); done
  kcat -Q -b "$BS" "${args[@]}" 2>/dev/null | awk '{s += $NF} END {print s + 0}'
}

# wait_count TOPIC N SECONDS: until the topic holds at least N messages.
wait_count() {
  local end=$((SECONDS + $3))
  while [ "$(count "$1")" -lt "$2" ]; do
    [ $SECONDS -lt $end ] || return 1
    sleep 0.2
  done
}

# All message values of a topic (read to its end).
values() { timeout 60 kcat -C -b "$BS" -t "$1" -e -q -o beginning; }

# The sorted distinct "id" values of a topic's JSON messages.
ids() { values "$1" > "$WORK/.ids" && sed -n 's/.*"id":\([0-9]*\).*/\1/p' "$WORK/.ids" | sort -n -u; }

# spec FILE IN OUT GROUP [extra source settings]: the filter+derive spec.
spec() {
  cat > "$1" <<YAML
name: it
schema: $WORK/schema.json
source:
  type: kafka
  brokers: "$BS"
  topics: [$2]
  group: $4
  ${5:-}
  properties: {session.timeout.ms: 10000, heartbeat.interval.ms: 1000}
transforms:
  - filter: "id % 3 != 0"
  - derive: { w: "v * 2", big: "id > 1000" }
sink: { type: kafka, brokers: "$BS", topic: $3, key: id, compression: lz4 }
YAML
  cat > "$WORK/schema.json" <<'JSON'
{"name": "it", "fields": [{"name": "id", "type": "int64", "nullable": false},
 {"name": "v", "type": "float64"}, {"name": "s", "type": "string"}]}
JSON
}

# The ids a filter keeps among 1..N.
expected_ids() { seq 1 "$1" | awk '$1 % 3 != 0'; }

# ---- exactly-once tests (t07, t08) ----

# eos_spec FILE IN OUT GROUP ID_PREFIX BATCH_ROWS: the filter+derive spec
# with a transactional sink whose id is ID_PREFIX-$WORKER.
eos_spec() {
  spec "$1" "$2" "$3" "$4" "batch_rows: $6"
  sed -i "s|^sink: { type: kafka, \(.*\) }|sink: { type: kafka, \1, transactional_id: \"$5-\${WORKER}\" }|" "$1"
  grep -q transactional_id "$1" || fail "could not make the sink transactional"
}

# Records in OUT a read_committed consumer sees (kcat's default
# isolation); their values are left in $WORK/.vals.
committed() { values "$OUT" > "$WORK/.vals"; wc -l < "$WORK/.vals"; }

# stop_when_committed PID LOG WANT: wait (120 s at most) until WANT
# records are committed, then SIGTERM the worker: it must exit 0.
stop_when_committed() {
  local end=$((SECONDS + 120))
  while [ "$(committed)" -lt "$3" ]; do
    [ $SECONDS -lt $end ] || { kill -9 "$1"; cat "$2" >&2; fail "only $(committed) of $3 committed"; }
    sleep 1
  done
  kill -TERM "$1"
  wait "$1" || { cat "$2" >&2; fail "the worker did not stop cleanly on SIGTERM"; }
}

# exactly_once WANT N: the committed output holds exactly the WANT
# records the filter keeps of ids 1..N, each once.
exactly_once() {
  local n
  n=$(committed)
  sed -n 's/.*"id":\([0-9]*\).*/\1/p' "$WORK/.vals" | sort -n > "$WORK/.ids"
  [ "$n" -eq "$1" ] ||
    fail "read_committed output has $n records, want exactly $1 ($(sort -u "$WORK/.ids" | wc -l) distinct)"
  diff "$WORK/.ids" <(expected_ids "$2") > /dev/null ||
    fail "the committed output is not exactly the expected records"
}
