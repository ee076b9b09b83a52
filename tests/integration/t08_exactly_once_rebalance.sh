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
spec "$WORK/spec.yaml" "$IN" "$OUT" "g-$IN" "batch_rows: 1000"
sed -i "s|^sink: { type: kafka, \(.*\) }|sink: { type: kafka, \1, transactional_id: \"itr-\${WORKER}\" }|" "$WORK/spec.yaml"
grep -q transactional_id "$WORK/spec.yaml" || fail "could not make the sink transactional"
committed() { values "$OUT" > "$WORK/.vals"; wc -l < "$WORK/.vals"; }
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
end=$((SECONDS + 120))
while [ "$(committed)" -lt "$WANT" ]; do
  [ $SECONDS -lt $end ] || { kill -9 $pb; cat "$WORK/b.txt" >&2; fail "only $(committed) of $WANT committed"; }
  sleep 1
done
kill -TERM $pb
wait $pb || { cat "$WORK/b.txt" >&2; fail "worker b did not stop cleanly"; }
n=$(committed)
sed -n 's/.*"id":\([0-9]*\).*/\1/p' "$WORK/.vals" | sort -n > "$WORK/.ids"
aborts=$(grep -c "aborting the open transaction" "$WORK/a.txt" "$WORK/b.txt" | awk -F: '{s += $2} END {print s}')
note "transactions aborted by rebalances: $aborts"
[ "$n" -eq "$WANT" ] || fail "read_committed output has $n records, want exactly $WANT ($(sort -u "$WORK/.ids" | wc -l) distinct)"
diff "$WORK/.ids" <(expected_ids "$N") > /dev/null || fail "the committed output is not exactly the expected records"
note "read_committed output: exactly $WANT records through two rebalances"
