#!/usr/bin/env bash
# Integration tests against a real Apache Kafka 3.9 (scripts/kafka.sh):
#   tests/integration/run.sh [path/to/sluice] [test-name-filter]
# Uses $KAFKA_BOOTSTRAP when set (a broker already running), else starts
# one for the run and stops it at the end. Needs kcat (scripts/setup.sh).
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
SLUICE="$(realpath "${1:-$ROOT/build/sluice}")"
FILTER="${2:-}"
[ -x "$SLUICE" ] || { echo "run.sh: no sluice binary at $SLUICE" >&2; exit 2; }
command -v kcat >/dev/null || { echo "run.sh: kcat is missing (scripts/setup.sh)" >&2; exit 2; }
started=0
if [ -z "${KAFKA_BOOTSTRAP:-}" ]; then
  "$ROOT/scripts/kafka.sh" start || exit 1
  started=1
  KAFKA_BOOTSTRAP="$("$ROOT/scripts/kafka.sh" bootstrap)"
fi
trap '[ $started = 1 ] && "$ROOT/scripts/kafka.sh" stop' EXIT
export SLUICE BS="$KAFKA_BOOTSTRAP"
pass=0 failed=0
for t in "$ROOT"/tests/integration/t[0-9]*.sh; do
  name=$(basename "$t" .sh)
  [ -n "$FILTER" ] && [[ "$name" != *"$FILTER"* ]] && continue
  WORK=$(mktemp -d /tmp/sluice-it-XXXXXX)
  export WORK
  start=$SECONDS
  if (cd "$WORK" && timeout 300 bash "$t"); then
    echo "PASS $name ($((SECONDS - start)) s)"
    pass=$((pass + 1))
    rm -rf "$WORK"
  else
    echo "FAIL $name ($((SECONDS - start)) s; scratch kept in $WORK)"
    failed=$((failed + 1))
  fi
done
echo "integration: $pass passed, $failed failed"
[ $failed -eq 0 ]
