#!/usr/bin/env bash
# Bounded memory: a backlog of 1M JSON records (~150 MB) is read through a
# filter + derive with the default memory budget (256 MB): the peak RSS of
# the worker stays under 256 MB (measured: ~190-210 MB), and every kept
# record comes out. With --max-memory 64 the peak is well below that
# (~100 MB; asserted: under 160 MB). Memory, not time, is checked.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
N=1000000
IN=$(topic mem-in); OUT=$(topic mem-out); OUT2=$(topic mem-out2)
command -v /usr/bin/time > /dev/null || fail "/usr/bin/time is needed (apt install time)"
# ~150-byte records, like the streaming benchmark's events
seq 1 "$N" | awk '{printf "{\"id\": %d, \"v\": %d.5, \"s\": \"x%d\", \"pad\": \"%s\"}\n", $1, $1, $1,
  "................................................................................"}' |
  kcat -P -b "$BS" -t "$IN" -z lz4 || fail "produce to $IN"
spec "$WORK/spec.yaml" "$IN" "$OUT" "g-$IN"
# peak RSS in KB of: sluice run spec --stream --max-records N [options]
peak() {
  local out=$1
  shift
  timeout 300 /usr/bin/time -f "maxrss=%M" -o "$WORK/time.txt" \
    "$SLUICE" run "$WORK/spec.yaml" --stream --max-records "$N" -q "$@" 2> "$WORK/err.txt" ||
    { cat "$WORK/err.txt" >&2; fail "sluice exited $?"; }
  [ "$(count "$out")" -eq $((N - N / 3)) ] || fail "$out has $(count "$out") messages"
  sed -n 's/^maxrss=//p' "$WORK/time.txt"
}
kb=$(peak "$OUT")
note "default budget: peak RSS $((kb / 1024)) MB"
[ "$kb" -lt $((256 * 1024)) ] || fail "peak RSS $((kb / 1024)) MB with the default 256 MB budget"
sed -i -e "s/group: g-$IN/group: g2-$IN/" -e "s/topic: $OUT,/topic: $OUT2,/" "$WORK/spec.yaml"
kb=$(peak "$OUT2" --max-memory 64)
note "--max-memory 64: peak RSS $((kb / 1024)) MB"
[ "$kb" -lt $((160 * 1024)) ] || fail "peak RSS $((kb / 1024)) MB with --max-memory 64"
