#!/usr/bin/env bash
# Side-by-side batch benchmark: the same CSV -> filter -> derive -> z-score
# -> CSV job in sluice, DuckDB, Polars and pandas. See bench/README.md.
#
#   bench/batch_csv.sh [--size-mb N] [--quick] [--runs N] [--engines LIST]
#                      [--threads N] [--seed N] [--verify-only] [--profile]
#
#   --size-mb N     input size in MiB (default 1024); --quick = --size-mb 50
#   --runs N        timed runs per engine (default 3); best and median shown
#   --engines LIST  comma list from sluice,duckdb,polars,pandas (default all)
#   --threads N     thread limit for every engine that has a knob (default 2)
#   --seed N        generator seed (default 42)
#   --verify-only   only the correctness check, no timing
#   --profile       no timing: one sluice run on the input under `perf record`
#                   (apt linux-perf if missing); prints its hottest functions
#
# Every run starts with the --verify step: each engine runs the job on a
# 10,000-row input and bench/verify.py compares every output cell with a
# standard-library reference, so a peer that computes something else (or
# drops rows) cannot produce a ratio. Nothing here asserts on timings.
#
# Environment: SLUICE_BIN (default build/sluice, which is configured and
# rebuilt with CMake first, RelWithDebInfo -O2 -g), PYTHON (default .venv/bin/python; the venv is made with
# scripts/setup.sh --peers when missing or when bench/requirements.txt
# changed).
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE_MB=1024
RUNS=3
ENGINES=sluice,duckdb,polars,pandas
THREADS=2
SEED=42
VERIFY_ONLY=0
PROFILE=0
VERIFY_ROWS=10000
ALL_ENGINES=" sluice duckdb polars pandas "

die() { echo "batch_csv: $*" >&2; exit 1; }
usage() { # code; the text goes to stderr unless asked for with --help
  local text; text=$(awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0")
  if [ "$1" = 0 ]; then echo "$text"; else echo "$text" >&2; fi
  exit "$1"
}

while [ $# -gt 0 ]; do
  case "$1" in
    --size-mb) SIZE_MB=${2:?}; shift 2 ;;
    --quick) SIZE_MB=50; shift ;;
    --runs) RUNS=${2:?}; shift 2 ;;
    --engines) ENGINES=${2:?}; shift 2 ;;
    --threads) THREADS=${2:?}; shift 2 ;;
    --seed) SEED=${2:?}; shift 2 ;;
    --verify-only|--verify) VERIFY_ONLY=1; shift ;;
    --profile) PROFILE=1; shift ;;
    -h|--help) usage 0 ;;
    *) echo "batch_csv: unknown option '$1'" >&2; usage 2 ;;
  esac
done
[[ $SIZE_MB =~ ^[0-9]+([.][0-9]+)?$ ]] || die "--size-mb: expected a number, got '$SIZE_MB'"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "--runs: expected a positive integer, got '$RUNS'"
[[ $THREADS =~ ^[1-9][0-9]*$ ]] || die "--threads: expected a positive integer, got '$THREADS'"
[[ $SEED =~ ^[0-9]+$ ]] || die "--seed: expected a non-negative integer, got '$SEED'"
IFS=, read -r -a ENG <<<"$ENGINES"
[ ${#ENG[@]} -gt 0 ] || die "--engines: empty list"
for e in "${ENG[@]}"; do
  [[ $ALL_ENGINES == *" $e "* ]] || die "--engines: unknown engine '$e' (sluice, duckdb, polars, pandas)"
done
has_engine() { [[ " ${ENG[*]} " == *" $1 "* ]]; }

DATA=bench/data
mkdir -p "$DATA"
SLUICE_BIN=${SLUICE_BIN:-build/sluice}
PYTHON=${PYTHON:-.venv/bin/python}

# ---- tools -----------------------------------------------------------------
if [ ! -x /usr/bin/time ]; then
  echo "batch_csv: installing GNU time (apt)" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends time
fi

# The venv is also the generator's (numpy + polars), so it is always needed.
# The stamp records which requirements.txt it was made from.
REQ_SUM=$(sha256sum bench/requirements.txt | cut -d' ' -f1)
STAMP=.venv/.bench-requirements.sha256
if [ "$PYTHON" = .venv/bin/python ] &&
   { [ ! -x .venv/bin/python ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$REQ_SUM" ]; }; then
  echo "batch_csv: setting up .venv (scripts/setup.sh --peers)" >&2
  bash scripts/setup.sh --peers >&2
  echo "$REQ_SUM" >"$STAMP"
fi
"$PYTHON" -c 'import numpy, polars' 2>/dev/null || die "$PYTHON lacks numpy/polars (pip install -r bench/requirements.txt)"

# The default binary is always brought up to date (a no-op when it is), so
# a stale build/sluice is never the one measured. An explicit SLUICE_BIN is
# used as it is.
if has_engine sluice; then
  if [ "$SLUICE_BIN" = build/sluice ]; then
    [ -f build/build.ninja ] || cmake -S . -B build -G Ninja >&2
    if ! cmake --build build -j2 --target sluice >"$DATA/build.log" 2>&1; then
      tail -n 20 "$DATA/build.log" >&2
      die "building sluice failed (cmake --build build; log: $DATA/build.log)"
    fi
  fi
  [ -x "$SLUICE_BIN" ] || die "SLUICE_BIN=$SLUICE_BIN is not an executable"
fi

export POLARS_MAX_THREADS=$THREADS OMP_NUM_THREADS=$THREADS

# Command line of engine $1 reading $2, writing $3; for sluice $4 is the spec.
engine_cmd() {
  case "$1" in
    sluice) echo "$SLUICE_BIN run $4 --quiet" ;;
    *) echo "$PYTHON bench/peers/run_$1.py $2 $3 --threads $THREADS" ;;
  esac
}

# A copy of the sluice spec with its input and output paths replaced.
spec_for() { # in out spec_out
  sed -e "s#bench/data/input.csv#$1#" -e "s#bench/data/out_sluice.csv#$2#" \
    bench/specs/batch_csv.yaml >"$3"
}

# Runs engine $1 once under /usr/bin/time -v; sets WALL (s), CPU_S (user +
# sys, all threads) and RSS_KB.
# Aborts the benchmark with the engine's stderr when it fails.
run_timed() { # engine in out spec log
  local cmd; cmd=$(engine_cmd "$1" "$2" "$3" "$4")
  rm -f "$3"
  if ! /usr/bin/time -v -o "$5.time" $cmd >"$5.out" 2>"$5.err"; then
    tail -n 20 "$5.err" >&2
    die "$1 failed: $cmd (log: $5.err)"
  fi
  [ -s "$3" ] || die "$1 wrote no output at $3: $cmd"
  WALL=$(awk -F': ' '/Elapsed \(wall clock\)/ {
           n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$5.time")
  RSS_KB=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$5.time")
  CPU_S=$(awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.2f", s }' "$5.time")
}

# ---- verify ------------------------------------------------------------------
VDIR=$DATA/verify
mkdir -p "$VDIR"
echo "== verify: ${ENG[*]} on $VERIFY_ROWS rows (seed $SEED)"
"$PYTHON" bench/gen_csv.py "$VDIR/input.csv" --rows "$VERIFY_ROWS" --seed "$SEED"
spec_for "$VDIR/input.csv" "$VDIR/out_sluice.csv" "$VDIR/spec.yaml"
vargs=()
for e in "${ENG[@]}"; do
  run_timed "$e" "$VDIR/input.csv" "$VDIR/out_$e.csv" "$VDIR/spec.yaml" "$VDIR/$e"
  vargs+=("$e=$VDIR/out_$e.csv")
done
"$PYTHON" bench/verify.py "$VDIR/input.csv" "${vargs[@]}" ||
  die "verify failed: an engine does not compute the benchmark's job; no timing"
if [ "$VERIFY_ONLY" = 1 ]; then exit 0; fi

# ---- input -------------------------------------------------------------------
# One cached file per (size, seed); input.csv points at the current one, so
# the spec and the peers always read bench/data/input.csv. The stamp makes a
# change to the generator or its pinned libraries regenerate the file.
INPUT=$DATA/input.csv
SIZED=$DATA/input_${SIZE_MB}mb_s${SEED}.csv
GEN_SUM=$(cat bench/gen_csv.py bench/requirements.txt | sha256sum | cut -d' ' -f1)
if [ ! -f "$SIZED" ] || [ "$(cat "$SIZED.stamp" 2>/dev/null)" != "$GEN_SUM" ]; then
  echo "== generating $SIZED ($SIZE_MB MiB, seed $SEED)"
  "$PYTHON" bench/gen_csv.py "$SIZED" --size-mb "$SIZE_MB" --seed "$SEED"
  echo "$GEN_SUM" >"$SIZED.stamp"
fi
ln -sfn "$(basename "$SIZED")" "$INPUT"
ROWS_IN=$(($(wc -l <"$INPUT") - 1))
BYTES_IN=$(stat -L -c %s "$INPUT")
# Every engine reads from the page cache, the first one included.
cat "$INPUT" >/dev/null

# ---- profile (instead of timing) ------------------------------------------------
if [ "$PROFILE" = 1 ]; then
  has_engine sluice || die "--profile profiles sluice: keep it in --engines"
  if ! command -v perf >/dev/null; then
    echo "batch_csv: installing perf (apt linux-perf)" >&2
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends linux-perf
  fi
  mkdir -p bench/results
  PDATA=$DATA/perf_sluice.data
  PREPORT=bench/results/perf_sluice_$(date -u +%Y%m%dT%H%M%SZ).txt
  echo "== perf record: sluice on $INPUT ($((BYTES_IN / 1048576)) MiB)"
  t0=$EPOCHREALTIME
  perf record -q -F 999 -o "$PDATA" -- $(engine_cmd sluice "$INPUT" "$DATA/out_sluice.csv" bench/specs/batch_csv.yaml)
  t1=$EPOCHREALTIME
  {
    echo "sluice on $INPUT ($((BYTES_IN / 1048576)) MiB): $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s under perf"
    perf report -i "$PDATA" --stdio --no-children --sort dso,sym 2>/dev/null | grep '^# Samples'
    perf report -i "$PDATA" --stdio --no-children --sort dso,sym \
      --percent-limit 0.3 2>/dev/null | grep -v '^#' | grep .
  } >"$PREPORT"
  echo "== hottest functions (self time; full list in $PREPORT)"
  head -n 30 "$PREPORT"
  exit 0
fi

# ---- timed runs --------------------------------------------------------------
# Rounds are interleaved (run 1 of every engine, then run 2, ...) so that a
# slow phase of the machine does not land on one engine only.
LOGS=$DATA/logs
mkdir -p "$LOGS"
declare -A TIMES CPUS RSS
for e in "${ENG[@]}"; do TIMES[$e]=""; CPUS[$e]=""; RSS[$e]=0; done
# Other processes skew every number; the report records the load around it.
LOAD_BEFORE=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$LOAD_BEFORE" 'BEGIN { exit !(l > 0.5) }'; then
  echo "batch_csv: warning: load average $LOAD_BEFORE before timing: the machine is busy, times will be noisy" >&2
fi
echo "== timing ${ENG[*]}: $RUNS runs each, $((BYTES_IN / 1048576)) MiB, $ROWS_IN rows, $THREADS threads"
for ((r = 1; r <= RUNS; r++)); do
  for e in "${ENG[@]}"; do
    run_timed "$e" "$INPUT" "$DATA/out_$e.csv" bench/specs/batch_csv.yaml "$LOGS/${e}_$r"
    printf '   run %d %-7s %8.2f s wall %8.2f s cpu %8d MB\n' "$r" "$e" "$WALL" "$CPU_S" "$((RSS_KB / 1024))"
    TIMES[$e]="${TIMES[$e]} $WALL"
    CPUS[$e]="${CPUS[$e]} $CPU_S"
    if [ "$RSS_KB" -gt "${RSS[$e]}" ]; then RSS[$e]=$RSS_KB; fi
  done
done

# Every engine must have written the same number of rows (verify checked the
# values on the small input; this catches a peer that drops rows at scale).
ROWS_OUT=""
for e in "${ENG[@]}"; do
  n=$(($(wc -l <"$DATA/out_$e.csv") - 1))
  if [ -z "$ROWS_OUT" ]; then ROWS_OUT=$n; fi
  [ "$n" = "$ROWS_OUT" ] || die "$e wrote $n rows, ${ENG[0]} wrote $ROWS_OUT"
done

# ---- report --------------------------------------------------------------------
stat_of() { # "t1 t2 ..." -> "best median"
  tr ' ' '\n' <<<"$1" | grep . | sort -g |
    awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
                              printf "%.2f %.2f\n", v[1], m }'
}
ratio() { # peer sluice -> "x.xx" or "n/a"
  if [ -z "$2" ]; then echo "n/a"; return; fi
  awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'
}
SL_BEST="" SL_MED=""
if has_engine sluice; then read -r SL_BEST SL_MED <<<"$(stat_of "${TIMES[sluice]}")"; fi
LOAD_AFTER=$(cut -d' ' -f1 /proc/loadavg)
CPU=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
HEADER="$(date -u +%Y-%m-%d) | $(nproc) cores, $CPU | $((BYTES_IN / 1048576)) MiB, $ROWS_IN rows in, $ROWS_OUT rows out | runs: $RUNS, threads: $THREADS | load avg $LOAD_BEFORE before, $LOAD_AFTER after"
mkdir -p bench/results
REPORT=bench/results/batch_csv_$(date -u +%Y%m%dT%H%M%SZ).md
{
  echo "$HEADER"
  echo
  echo "| engine | best s | median s | median CPU s | peak RSS MB | ratio (median) | ratio (best) |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
  for e in "${ENG[@]}"; do
    read -r best med <<<"$(stat_of "${TIMES[$e]}")"
    read -r _ cpu <<<"$(stat_of "${CPUS[$e]}")"
    printf '| %s | %.2f | %.2f | %.2f | %d | %s | %s |\n' "$e" "$best" "$med" "$cpu" \
      "$((${RSS[$e]} / 1024))" "$(ratio "$med" "$SL_MED")" "$(ratio "$best" "$SL_BEST")"
  done
} >"$REPORT"
echo "== results (also in $REPORT)"
cat "$REPORT"
