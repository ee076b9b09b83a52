#!/usr/bin/env bash
# The broker dies (kill -9) under a running worker and comes back ~10 s
# later on the same port and data (scripts/kafka.sh kill / restart), while
# records keep arriving. The worker must ride it out: librdkafka reconnects
# with backoff, the group is rejoined, records after the last commit are
# read again, and in the end every input record the filter keeps is in the
# output at least once. The outage (~10 s + the broker's restart) is
# shorter than the sink's flush_timeout_ms, so the documented behaviour is
# that the worker keeps running (no exit); it then stops cleanly on SIGTERM.
# Only when this run owns the broker (run.sh started it): never bounce an
# external $KAFKA_BOOTSTRAP.
set -euo pipefail
export LC_ALL=C # sort and comm agree on the order
. "$(dirname "$0")/lib.sh"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
KAFKA="$ROOT/scripts/kafka.sh"
if [ -n "${KAFKA_BOOTSTRAP:-}" ] || [ "$("$KAFKA" bootstrap 2>/dev/null)" != "$BS" ] ||
  ! "$KAFKA" status; then
  note "SKIP: the broker at $BS is not one run.sh started (KAFKA_BOOTSTRAP is set or" \
    "scripts/kafka.sh does not manage it): not bouncing it"
  exit 0
fi

N=30000          # produced before the worker starts
OUTAGE=10        # seconds between kill -9 and the restart (the restart itself adds ~10-20 s)
IN=$(topic bb-in); OUT=$(topic bb-out)
produce_ids "$IN" 1 "$N"
spec "$WORK/spec.yaml" "$IN" "$OUT" "g-$IN" "batch_rows: 1000"
# a generous flush timeout: the outage must not be what ends the run
sed -i 's/compression: lz4 }/compression: lz4, flush_timeout_ms: 180000 }/' "$WORK/spec.yaml"
grep -q "flush_timeout_ms: 180000" "$WORK/spec.yaml" || fail "could not set flush_timeout_ms"

worker() { # worker N: start worker N in the background, its pid in $pid
  "$SLUICE" run "$WORK/spec.yaml" --stream --commit-ms 500 \
    --metrics-file "$WORK/metrics$1.prom" > "$WORK/out$1.txt" 2> "$WORK/err$1.txt" &
  pid=$!
}
pids=()
feeder=""
cleanup() {
  set +e
  [ -n "$feeder" ] && kill "$feeder" 2>/dev/null
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  # the broker must be up again for the tests after this one
  "$KAFKA" status || "$KAFKA" restart >/dev/null 2>&1 || true
}
trap cleanup EXIT

# feed FIRST: ids FIRST, FIRST+1, ... at ~500/s until $WORK/stop-feed
# exists; one kcat for the whole time, so what it cannot deliver while the
# broker is down it keeps and retries (-E: do not exit on broker errors)
feed() {
  local i=$1
  while [ ! -e "$WORK/stop-feed" ]; do
    seq "$i" $((i + 49)) | awk '{printf "%d\t{\"id\": %d, \"v\": %d.5, \"s\": \"x%d\"}\n", $1, $1, $1, $1}'
    i=$((i + 50))
    sleep 0.1
  done | timeout 150 kcat -P -E -b "$BS" -t "$IN" -K '\t' -z lz4 \
    -X message.timeout.ms=180000 -X enable.idempotence=true 2> "$WORK/feeder.err"
}

worker 1
w1=$pid
pids+=("$w1")
wait_count "$OUT" $((N - N / 3)) 60 || fail "the worker did not process the first $N records" \
  "(output has $(count "$OUT")): $(tail -n 5 "$WORK/err1.txt")"
feed $((N + 1)) &
feeder=$!
# the worker is processing the live feed when the broker dies
wait_count "$OUT" $((N - N / 3 + 500)) 30 || fail "the feed does not reach the output"
before=$(count "$OUT")
t_kill=$SECONDS
"$KAFKA" kill
note "broker killed with $before outputs written; restarting in $OUTAGE s"
sleep "$OUTAGE"
alive_at_restart=no
kill -0 "$w1" 2>/dev/null && alive_at_restart=yes
"$KAFKA" restart || fail "the broker did not come back"
note "broker back after $((SECONDS - t_kill)) s; worker alive during the outage: $alive_at_restart"
sleep 3
touch "$WORK/stop-feed"
wait "$feeder" || note "the feeder's kcat exited $? ($(tail -n 2 "$WORK/feeder.err" | tr '\n' ' '))"
feeder=""
LAST=$((N + 200000)) # after anything the feeder produced
produce_ids "$IN" $((LAST + 1)) $((LAST + 5000))

# What the worker has to deliver: every id in the input topic (the feeder's
# kcat may in theory have lost or duplicated some; the input is the truth).
# (sorted as text for comm)
values "$IN" | sed -n 's/.*"id": *\([0-9]*\).*/\1/p' | sort -u > "$WORK/in-ids.txt"
awk '$1 % 3 != 0' "$WORK/in-ids.txt" > "$WORK/want-ids.txt"
total=$(wc -l < "$WORK/in-ids.txt")
WANT=$(wc -l < "$WORK/want-ids.txt")
fed=$((total - N - 5000))
note "input: $total distinct ids ($fed from the feeder), $WANT kept by the filter"
[ "$fed" -gt 0 ] || fail "the feeder produced nothing"
# the feeder's ids are contiguous: a gap means kcat lost records, not sluice
gaps=$(sort -n "$WORK/in-ids.txt" |
  awk -v n="$N" -v l="$LAST" '$1 > n && $1 <= l { if (p && $1 != p + 1) g++; p = $1 } END { print g + 0 }')
[ "$gaps" -eq 0 ] || note "(the feeder's kcat lost records: $gaps gaps in the input ids)"

# the first worker, or (if it died) a restarted one, delivers everything
died=""
if ! kill -0 "$w1" 2>/dev/null; then
  wait "$w1" && rc=0 || rc=$?
  died="worker 1 exited $rc during/after the outage ($(grep -m 1 '^sluice: error' "$WORK/err1.txt" ||
    echo 'no error message'))"
  note "$died"
  note "starting worker 2 to finish the job"
  worker 2
  pids+=("$pid")
fi
live=${pids[-1]} liven=${#pids[@]}
have() { values "$OUT" | sed -n 's/.*"id":\([0-9]*\).*/\1/p' | sort -u > "$WORK/out-ids.txt"; }
end=$((SECONDS + 150))
while :; do
  have
  comm -23 "$WORK/want-ids.txt" "$WORK/out-ids.txt" > "$WORK/missing.txt"
  [ -s "$WORK/missing.txt" ] || break
  if [ $SECONDS -ge $end ] || ! kill -0 "$live" 2>/dev/null; then
    fail "$(wc -l < "$WORK/missing.txt") of $WANT expected ids are missing from the output" \
      "(first: $(head -n 3 "$WORK/missing.txt" | tr '\n' ' '); see $WORK/err*.txt)${died:+; $died}"
  fi
  sleep 2
done
note "every expected id is in the output ($(count "$OUT") messages for $WANT ids," \
  "$(( $(count "$OUT") - WANT )) duplicates) $((SECONDS - t_kill)) s after the kill"
# output has nothing the filter drops
comm -13 "$WORK/want-ids.txt" "$WORK/out-ids.txt" | head -n 3 > "$WORK/extra.txt"
[ ! -s "$WORK/extra.txt" ] || fail "unexpected ids in the output: $(tr '\n' ' ' < "$WORK/extra.txt")"

kill -TERM "$live"
rc=0
timeout 60 tail --pid="$live" -f /dev/null || { kill -9 "$live"; fail "the worker ignored SIGTERM for 60 s"; }
wait "$live" || rc=$?
pids=()
[ "$rc" -eq 0 ] || fail "worker $liven exited $rc on SIGTERM: $(tail -n 3 "$WORK/err$liven.txt")"
[ -z "$died" ] || fail "$died (the outage was shorter than flush_timeout_ms: it should have waited)"
summary=$(cat "$WORK/out$liven.txt")
note "worker: $summary"
grep -q "records in" "$WORK/out$liven.txt" || fail "no summary line: $summary"
grep -q "lost 4 partition\|revoked 4 partition\|Disconnected\|brokers are down" "$WORK/err1.txt" ||
  note "(the worker logged nothing about the outage)"
# the restarted group committed again: a new worker of the group starts
# near the end, not from the beginning
timeout 60 "$SLUICE" run "$WORK/spec.yaml" --stream --max-seconds 12 > "$WORK/out-last.txt" 2>/dev/null ||
  fail "a last worker of the group failed"
again=$(sed -n 's/^it: \([0-9]*\) records in.*/\1/p' "$WORK/out-last.txt")
[ "${again:-x}" = 0 ] || fail "after the clean stop a new worker re-read ${again:-?} records: $(cat "$WORK/out-last.txt")"
