#!/usr/bin/env bash
# Runs the data-driven cases: tests/cases/NNNN-name/
#   cmd        one line, e.g. `sluice convert in.csv out.jsonl` (run in a
#              scratch copy of the case directory; `sluice` is the binary
#              under test)
#   exit       expected exit code (default 0)
#   stderr     each non-empty line must appear as a substring of stderr
#   stdout     each non-empty line must appear as a substring of stdout
#   expected/  each file must equal the file of the same name produced
#   absent     each non-empty line names a file that must NOT exist after
# Usage: run.sh /path/to/sluice [case-name-filter]
set -u
bin=$(readlink -f "$1")
filter=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
pass=0 fail=0
failed=()
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

for dir in "$here"/[0-9][0-9][0-9][0-9]-*/; do
  name=$(basename "$dir")
  [ -n "$filter" ] && [[ "$name" != *"$filter"* ]] && continue
  [ -f "$dir/cmd" ] || continue
  work="$scratch/$name"
  cp -r "$dir" "$work"
  rm -rf "$work/expected"
  ok=1; why=""
  cmd=$(head -n 1 "$dir/cmd")
  # `sluice` -> the binary; $REPO -> the repository root (for bundled data)
  cmd=${cmd//\$REPO/$repo}
  (cd "$work" && SLUICE="$bin" bash -c "sluice() { \"\$SLUICE\" \"\$@\"; }; $cmd" \
     >"$work/.stdout" 2>"$work/.stderr" </dev/null)
  code=$?
  want=0; [ -f "$dir/exit" ] && want=$(tr -d '[:space:]' < "$dir/exit")
  if [ "$code" != "$want" ]; then ok=0; why="exit $code, expected $want"; fi
  for stream in stderr stdout; do
    [ -f "$dir/$stream" ] || continue
    while IFS= read -r line || [ -n "$line" ]; do
      [ -z "$line" ] && continue
      if ! grep -qF -- "$line" "$work/.$stream"; then ok=0; why="$why; $stream lacks: $line"; fi
    done < "$dir/$stream"
  done
  if [ -d "$dir/expected" ]; then
    while IFS= read -r -d '' f; do
      rel=${f#"$dir/expected/"}
      if [ ! -f "$work/$rel" ]; then ok=0; why="$why; missing output $rel"
      elif ! cmp -s "$f" "$work/$rel"; then
        ok=0; why="$why; $rel differs: $(diff "$f" "$work/$rel" | head -5 | tr '\n' ' ')"
      fi
    done < <(find "$dir/expected" -type f -print0)
  fi
  if [ -f "$dir/absent" ]; then
    while IFS= read -r line || [ -n "$line" ]; do
      [ -z "$line" ] && continue
      [ -e "$work/$line" ] && { ok=0; why="$why; $line should not exist"; }
    done < "$dir/absent"
  fi
  if [ $ok = 1 ]; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1)); failed+=("$name")
    echo "FAIL $name: ${why#; }"
    echo "  cmd: $cmd"
    sed 's/^/  stderr: /' "$work/.stderr" | head -5
  fi
done
echo "cases: $pass passed, $fail failed"
[ $fail = 0 ]
