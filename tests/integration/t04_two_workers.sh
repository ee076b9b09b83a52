#!/usr/bin/env bash
# Two workers in one group share the partitions: each partition is
# processed by one of them, so together they read every record once.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
N=40000
IN=$(topic tw-in); OUT=$(topic tw-out)
echo '0	{"id": 0}' | kcat -P -b "$BS" -t "$IN" -K '\t'   # creates the topic (4 partitions)
sleep 1
spec "$WORK/spec.yaml" "$IN" "$OUT" "g-$IN"
"$SLUICE" run "$WORK/spec.yaml" --stream --max-seconds 90 > "$WORK/out1.txt" 2> "$WORK/err1.txt" &
p1=$!
"$SLUICE" run "$WORK/spec.yaml" --stream --max-seconds 90 > "$WORK/out2.txt" 2> "$WORK/err2.txt" &
p2=$!
# both have partitions before any data arrives
for _ in $(seq 1 150); do
  grep -q "assigned" "$WORK/err1.txt" && grep -q "assigned" "$WORK/err2.txt" && break
  sleep 0.2
done
grep -q "assigned" "$WORK/err1.txt" && grep -q "assigned" "$WORK/err2.txt" ||
  { kill -9 $p1 $p2; fail "the two workers did not both get partitions"; }
sleep 2 # let a cooperative rebalance settle
produce_ids "$IN" 1 "$N"
WANT=$((N - N / 3))
wait_count "$OUT" "$WANT" 90 || { kill -9 $p1 $p2; fail "output has $(count "$OUT") of $WANT"; }
sleep 2
kill -TERM $p1 $p2
wait $p1 || fail "worker 1 exit status"
wait $p2 || fail "worker 2 exit status"
in1=$(sed -n 's/^it: \([0-9]*\) records in.*/\1/p' "$WORK/out1.txt")
in2=$(sed -n 's/^it: \([0-9]*\) records in.*/\1/p' "$WORK/out2.txt")
note "worker 1 read $in1, worker 2 read $in2"
[ "${in1:-0}" -gt 0 ] && [ "${in2:-0}" -gt 0 ] || fail "one worker did no work"
[ $((in1 + in2)) -eq $((N + 1)) ] || fail "records read $((in1 + in2)), expected $((N + 1)) (each once)"
[ "$(count "$OUT")" -eq "$WANT" ] || fail "output has $(count "$OUT"), expected $WANT"
diff <(ids "$OUT") <(expected_ids "$N") > /dev/null || fail "output ids differ"
