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
spec "$WORK/spec.yaml" "$IN" "$OUT" "g-$IN" "batch_rows: 2000"
# the same spec with a transactional sink
sed -i "s|^sink: { type: kafka, \(.*\) }|sink: { type: kafka, \1, transactional_id: \"it-\${WORKER}\" }|" "$WORK/spec.yaml"
grep -q transactional_id "$WORK/spec.yaml" || fail "could not make the sink transactional"

# committed (read_committed) output records, and their distinct ids
committed() { values "$OUT" > "$WORK/.vals"; wc -l < "$WORK/.vals"; }

WORKER=a "$SLUICE" run "$WORK/spec.yaml" --stream --commit-ms 200 --quiet 2> "$WORK/err1.txt" &
pid=$!
wait_count "$OUT" 30000 60 || { kill -9 $pid; cat "$WORK/err1.txt" >&2; fail "the first worker wrote nothing"; }
kill -9 $pid
wait $pid 2>/dev/null || true
note "killed with $(count "$OUT") messages (committed or not) in the output log"

WORKER=a "$SLUICE" run "$WORK/spec.yaml" --stream --commit-ms 200 --quiet 2> "$WORK/err2.txt" &
pid=$!
end=$((SECONDS + 120))
while [ "$(committed)" -lt "$WANT" ]; do
  [ $SECONDS -lt $end ] || { kill -9 $pid; cat "$WORK/err2.txt" >&2; fail "after the restart only $(committed) of $WANT committed"; }
  sleep 1
done
kill -TERM $pid
wait $pid || { cat "$WORK/err2.txt" >&2; fail "the restarted worker did not stop cleanly on SIGTERM"; }
n=$(committed)
sed -n 's/.*"id":\([0-9]*\).*/\1/p' "$WORK/.vals" | sort -n > "$WORK/.ids"
[ "$n" -eq "$WANT" ] || fail "read_committed output has $n records, want exactly $WANT ($(sort -u "$WORK/.ids" | wc -l) distinct)"
diff "$WORK/.ids" <(expected_ids "$N") > /dev/null || fail "the committed output is not exactly the expected records"
note "read_committed output: exactly $WANT records, no duplicate, none missing"
