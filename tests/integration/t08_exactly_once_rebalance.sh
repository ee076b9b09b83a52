#!/usr/bin/env bash
# Exactly-once through rebalances: worker a runs alone, worker b joins the
# group (partitions move: a aborts its open transaction and rewinds), then
# a stops with SIGTERM mid-run (its partitions move to b). A
# read_committed consumer of the output sees every kept record exactly
# once.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
N=300000
IN=$(topic eosr-in); OUT=$(topic eosr-out)
produce_ids "$IN" 1 $((N / 2))
WANT=$((N - N / 3))
eos_spec "$WORK/spec.yaml" "$IN" "$OUT" "g-$IN" itr 1000
run() { # WORKER LOG
  WORKER=$1 "$SLUICE" run "$WORK/spec.yaml" --stream --commit-ms 300 2> "$2" &
}
run a "$WORK/a.txt"; pa=$!
wait_count "$OUT" 20000 60 || { kill -9 $pa; cat "$WORK/a.txt" >&2; fail "worker a wrote nothing"; }
run b "$WORK/b.txt"; pb=$!
# wait until both own partitions (b logs its assignment), then stop a
end=$((SECONDS + 60))
until grep -q "assigned" "$WORK/b.txt"; do
  [ $SECONDS -lt $end ] || { kill -9 $pa $pb; fail "worker b was never assigned partitions"; }
  sleep 0.5
done
produce_ids "$IN" $((N / 2 + 1)) "$N"
sleep 1
kill -TERM $pa
wait $pa || { cat "$WORK/a.txt" >&2; kill -9 $pb; fail "worker a did not stop cleanly"; }
stop_when_committed $pb "$WORK/b.txt" "$WANT"
aborts=$(grep -c "aborting the open transaction" "$WORK/a.txt" "$WORK/b.txt" | awk -F: '{s += $2} END {print s}')
note "transactions aborted by rebalances: $aborts"
exactly_once "$WANT" "$N"
note "read_committed output: exactly $WANT records through two rebalances"
