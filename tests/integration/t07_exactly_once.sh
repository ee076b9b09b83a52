#!/usr/bin/env bash
# Exactly-once (sink `transactional_id`): a worker is killed with -9
# mid-run and restarted with the same transactional id; a read_committed
# consumer of the output then sees every record the filter keeps exactly
# once: the killed worker's open transaction is aborted (fenced by the
# restart), and its input is read again from the offsets committed with
# the last committed transaction.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
N=200000
IN=$(topic eos-in); OUT=$(topic eos-out)
produce_ids "$IN" 1 "$N"
WANT=$((N - N / 3))
eos_spec "$WORK/spec.yaml" "$IN" "$OUT" "g-$IN" it 2000

WORKER=a "$SLUICE" run "$WORK/spec.yaml" --stream --commit-ms 200 --quiet 2> "$WORK/err1.txt" &
pid=$!
wait_count "$OUT" 30000 60 || { kill -9 $pid; cat "$WORK/err1.txt" >&2; fail "the first worker wrote nothing"; }
kill -9 $pid
wait $pid 2>/dev/null || true
note "killed with $(count "$OUT") messages (committed or not) in the output log"

WORKER=a "$SLUICE" run "$WORK/spec.yaml" --stream --commit-ms 200 --quiet 2> "$WORK/err2.txt" &
pid=$!
stop_when_committed $pid "$WORK/err2.txt" "$WANT"
exactly_once "$WANT" "$N"
note "read_committed output: exactly $WANT records, no duplicate, none missing"
