#!/usr/bin/env bash
# Round trip through a filter + derive: every kept record comes out once,
# with the derived columns; the run stops at --max-records and commits.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
N=20000
IN=$(topic rt-in); OUT=$(topic rt-out)
produce_ids "$IN" 1 "$N"
spec "$WORK/spec.yaml" "$IN" "$OUT" "g-$IN"
timeout 120 "$SLUICE" run "$WORK/spec.yaml" --stream --max-records "$N" > "$WORK/out.txt" 2> "$WORK/err.txt" ||
  { cat "$WORK/err.txt" >&2; fail "sluice exited $?"; }
grep -q "it: $N records in, $((N - N / 3)) out, 0 dead letters" "$WORK/out.txt" ||
  fail "summary: $(cat "$WORK/out.txt")"
[ "$(count "$OUT")" -eq $((N - N / 3)) ] || fail "output has $(count "$OUT") messages"
diff <(ids "$OUT") <(expected_ids "$N") > /dev/null || fail "output ids differ from the expected ones"
values "$OUT" > "$WORK/values.txt"
grep -q '^{"id":1001,"v":1001.5,"s":"x1001","w":2003.0,"big":true}$' "$WORK/values.txt" ||
  fail "record 1001 not transformed as expected: $(grep '"id":1001,' "$WORK/values.txt")"
# a second run of the group finds nothing left: everything was committed
timeout 60 "$SLUICE" run "$WORK/spec.yaml" --stream --max-seconds 8 > "$WORK/out2.txt" 2>/dev/null
grep -q "it: 0 records in" "$WORK/out2.txt" || fail "second run: $(cat "$WORK/out2.txt")"
