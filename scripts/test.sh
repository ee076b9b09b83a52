#!/usr/bin/env bash
# Builds sluice and runs every test (unit, data-driven cases, fuzz corpus
# replays). Options:
#   --sanitize        build with ASan + UBSan (clang) in build-asan/
#   --fuzz SECONDS    also run each libFuzzer target for SECONDS (clang)
#   --no-setup        skip scripts/setup.sh
#   --no-interop      skip the interop tests against pyarrow/DuckDB (they
#                     need PyPI for the .venv on first use)
set -euo pipefail
cd "$(dirname "$0")/.."
sanitize=0 fuzz=0 setup=1 interop=1
while [ $# -gt 0 ]; do
  case "$1" in
    --sanitize) sanitize=1 ;;
    --fuzz) fuzz=$2; shift ;;
    --no-setup) setup=0 ;;
    --no-interop) interop=0 ;;
    *) echo "test.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
[ $setup = 1 ] && bash scripts/setup.sh >/dev/null

if [ $sanitize = 1 ]; then
  dir=build-asan
  cmake -S . -B $dir -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSL_SANITIZE=ON -DCMAKE_C_COMPILER=clang >/dev/null
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
else
  dir=build
  cmake -S . -B $dir -G Ninja >/dev/null
fi
cmake --build $dir -j2
ctest --test-dir $dir --output-on-failure -j2
# the HTTP server end to end: every route, promtool, hot reload, TLS
bash tests/integration/test_serving.sh $dir/sluice $dir/libsluice.a

if [ $interop = 1 ]; then
  SL_BUILD_DIR=$dir bash tests/interop/run.sh
fi

if [ "$fuzz" != 0 ]; then
  cmake -S . -B build-fuzz -G Ninja -DSL_FUZZ=ON -DCMAKE_C_COMPILER=clang >/dev/null
  cmake --build build-fuzz -j2
  for f in build-fuzz/fuzz_*; do
    case "$f" in *_replay) continue ;; esac
    name=$(basename "$f"); corpus=tests/fuzz/corpus/${name#fuzz_}
    work=$(mktemp -d); cp -r "$corpus"/. "$work"/ 2>/dev/null || true
    echo "fuzzing $name for ${fuzz}s"
    "$f" -max_total_time="$fuzz" -rss_limit_mb=2048 -timeout=10 -print_final_stats=0 \
         "$work" "$corpus" >"$work.log" 2>&1 || { tail -40 "$work.log"; exit 1; }
    rm -rf "$work" "$work.log"
  done
fi
