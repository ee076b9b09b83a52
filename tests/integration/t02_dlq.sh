#!/usr/bin/env bash
# Bad records go to the dead-letter topic with the reason and their
# topic/partition/offset as headers; good ones go on.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
IN=$(topic dlq-in); OUT=$(topic dlq-out); DLQ=$(topic dlq-dlq)
printf '%s\n' '{"id": 1, "v": 1}' 'not json at all' '{"id": "two"}' '{"v": 3}' '{"id": 4, "v": 4}' |
  kcat -P -b "$BS" -t "$IN" -p 0
spec "$WORK/spec.yaml" "$IN" "$OUT" "g-$IN" "dlq_topic: $DLQ"
timeout 120 "$SLUICE" run "$WORK/spec.yaml" --stream --max-records 5 > "$WORK/out.txt" 2> "$WORK/err.txt" ||
  { cat "$WORK/err.txt" >&2; fail "sluice exited"; }
grep -q "it: 2 records in, 2 out, 3 dead letters" "$WORK/out.txt" || fail "summary: $(cat "$WORK/out.txt")"
wait_count "$DLQ" 3 20 || fail "the dead-letter topic has $(count "$DLQ") records"
timeout 30 kcat -C -b "$BS" -t "$DLQ" -e -q -f '%s|%h\n' > "$WORK/dlq.txt"
grep -q "^not json at all|sluice.error=byte 1: unexpected 'n'.*,sluice.topic=$IN,sluice.partition=0,sluice.offset=1," "$WORK/dlq.txt" ||
  { cat "$WORK/dlq.txt" >&2; fail "dead letter 1"; }
grep -q "sluice.error=.*'id'.*sluice.offset=2," "$WORK/dlq.txt" || fail "dead letter 2"
grep -q "sluice.error=.*column 'id' is missing but the schema says it is not nullable.*sluice.offset=3," "$WORK/dlq.txt" ||
  fail "dead letter 3"
