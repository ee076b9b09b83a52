#!/usr/bin/env bash
# kill -9 of a worker mid-run, then a restart: every input record that the
# filter keeps is in the output at least once (at-least-once delivery).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
N=400000
IN=$(topic k9-in); OUT=$(topic k9-out)
produce_ids "$IN" 1 "$N"
WANT=$((N - N / 3))
spec "$WORK/spec.yaml" "$IN" "$OUT" "g-$IN" "batch_rows: 2000"
"$SLUICE" run "$WORK/spec.yaml" --stream --commit-ms 100 --quiet 2> "$WORK/err1.txt" &
pid=$!
# kill it once it has written something but (most likely) not everything
wait_count "$OUT" 20000 60 || { kill -9 $pid; fail "the first worker wrote nothing"; }
kill -9 $pid
wait $pid 2>/dev/null || true
before=$(count "$OUT")
note "killed after $before of $WANT outputs"
[ "$before" -lt "$WANT" ] || note "(the first worker had finished before the kill)"
"$SLUICE" run "$WORK/spec.yaml" --stream --commit-ms 100 --quiet 2> "$WORK/err2.txt" &
pid=$!
if ! wait_count "$OUT" "$WANT" 120; then
  kill -9 $pid; fail "after the restart the output has $(count "$OUT") of $WANT"
fi
# all distinct ids present (duplicates allowed)
for _ in $(seq 1 60); do
  [ "$(ids "$OUT" | wc -l)" -eq "$WANT" ] && break
  sleep 1
done
kill -TERM $pid
wait $pid || fail "the restarted worker did not stop cleanly on SIGTERM"
diff <(ids "$OUT") <(expected_ids "$N") > /dev/null || fail "some records are missing from the output"
note "output: $(count "$OUT") messages for $WANT distinct records ($(( $(count "$OUT") - WANT )) duplicates)"
