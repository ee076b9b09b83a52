#!/usr/bin/env bash
# start_time: a new group starts at the first record at or after the
# time (offsets_for_times), on every partition; a group that has committed
# resumes from its commits instead; a time after the last record starts
# at the end.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
IN=$(topic st-in); OUT=$(topic st-out)
produce_ids "$IN" 1 300
sleep 1.5
T=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
sleep 0.5
produce_ids "$IN" 301 500
spec "$WORK/spec.yaml" "$IN" "$OUT" "g-$IN" "start_time: '$T'"
timeout 120 "$SLUICE" run "$WORK/spec.yaml" --stream --max-records 200 > "$WORK/out.txt" 2> "$WORK/err.txt" ||
  { cat "$WORK/err.txt" >&2; fail "sluice exited $?"; }
grep -q "it: 200 records in" "$WORK/out.txt" || fail "summary: $(cat "$WORK/out.txt")"
# exactly the records produced after T, minus the filtered ones
diff <(ids "$OUT") <(seq 301 500 | awk '$1 % 3 != 0') > /dev/null ||
  fail "read $(ids "$OUT" | head -3 | tr '\n' ' ')...; expected ids 301..500"
# the group has commits now: a later start_time does not move it back or on
produce_ids "$IN" 501 530
timeout 60 "$SLUICE" run "$WORK/spec.yaml" --stream --max-records 30 > "$WORK/out2.txt" 2>/dev/null ||
  fail "second run"
grep -q "it: 30 records in" "$WORK/out2.txt" || fail "second run: $(cat "$WORK/out2.txt")"
# a time in the future: a new group starts at the end and reads nothing old
FUT=$(( $(date +%s%3N) + 3600000 ))
spec "$WORK/spec2.yaml" "$IN" "$OUT" "g2-$IN" "start_time: '$FUT'"
timeout 60 "$SLUICE" run "$WORK/spec2.yaml" --stream --max-seconds 6 > "$WORK/out3.txt" 2>/dev/null ||
  fail "third run"
grep -q "it: 0 records in" "$WORK/out3.txt" || fail "future start_time: $(cat "$WORK/out3.txt")"
# and a bad time is a clear config error
spec "$WORK/bad.yaml" "$IN" "$OUT" "g3-$IN" "start_time: yesterday"
if "$SLUICE" run "$WORK/bad.yaml" --stream --max-seconds 1 > /dev/null 2> "$WORK/bad.txt"; then
  fail "start_time: yesterday was accepted"
fi
grep -q "start_time 'yesterday': expected an ISO 8601 time" "$WORK/bad.txt" || fail "error: $(cat "$WORK/bad.txt")"
