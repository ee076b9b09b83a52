#!/usr/bin/env bash
# Parquet ZSTD write and read: sluice vs pyarrow vs DuckDB side by side on
# the same generated data (bench/gen_csv.py: int64, timestamp, strings,
# floats with nulls, free text). See bench/README.md ("Formats").
#
#   bench/formats/run.sh [--size-mb N] [--quick] [--runs N] [--threads N] [--seed N]
#
#   --size-mb N   input CSV size in MiB (default 1024); --quick = 50
#   --runs N      timed runs per measurement (default 3); best and median shown
#   --threads N   thread limit for every engine (default 2)
#
# Measurements, each in a fresh process:
#   write    the CSV is loaded into memory untimed (sluice: batches from its
#            CSV reader, bench/formats/pq_bench.c; peers: a pyarrow Table typed
#            like sluice's inference), then writing one Parquet ZSTD file is
#            timed (fsync included for every engine)
#   read     each engine reads each engine's file, every column decoded
#            (sluice: all batches; pyarrow: read_table; DuckDB: CREATE TABLE AS)
#   convert  CSV -> Parquet end to end (`sluice convert in.csv out.parquet`,
#            pyarrow read_csv + write_table, DuckDB COPY ... FROM read_csv)
# Before timing, the three written files are checked to hold the same rows
# (count, sums, null counts, min/max per column, computed by DuckDB), so a
# peer that writes something else cannot produce a ratio. Nothing here
# asserts on timings. Report: stdout and bench/results/formats_<UTC>.md.
#
# Environment: SL_BUILD_DIR (default build/, configured with CMake when
# missing), PYTHON (default .venv/bin/python; made by scripts/setup.sh
# --peers when missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

SIZE_MB=1024
RUNS=3
THREADS=2
SEED=42
while [ $# -gt 0 ]; do
  case "$1" in
    --size-mb) SIZE_MB=${2:?}; shift 2 ;;
    --quick) SIZE_MB=50; shift ;;
    --runs) RUNS=${2:?}; shift 2 ;;
    --threads) THREADS=${2:?}; shift 2 ;;
    --seed) SEED=${2:?}; shift 2 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "formats: unknown option '$1'" >&2; exit 2 ;;
  esac
done

PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
if [ ! -x "$PYTHON" ]; then
  bash scripts/setup.sh --peers
fi
BUILD=$(realpath -m "${SL_BUILD_DIR:-$ROOT/build}")
if [ ! -f "$BUILD/build.ninja" ] && [ ! -f "$BUILD/Makefile" ]; then
  cmake -S "$ROOT" -B "$BUILD" -G Ninja
fi
cmake --build "$BUILD" --target sluice sluice_static -j2 >/dev/null
cc -O2 -std=c11 -D_DEFAULT_SOURCE -I"$ROOT/include" bench/formats/pq_bench.c "$BUILD/libsluice.a" \
  -lyaml -ljansson -lzstd -lz -llz4 -lsnappy $(pkg-config --libs openblas rdkafka) -lpthread -lm \
  -o "$BUILD/pq_bench"

DATA=bench/data
CSV=$DATA/input_${SIZE_MB%.*}mb_s${SEED}.csv
if [ ! -f "$CSV.stamp" ]; then
  echo "formats: generating $CSV" >&2
  "$PYTHON" bench/gen_csv.py "$CSV" --size-mb "$SIZE_MB" --seed "$SEED"
  date -u +%FT%TZ > "$CSV.stamp"
fi
OUT=$DATA/formats
mkdir -p "$OUT" bench/results
RES=$OUT/results.jsonl
: > "$RES"
PEERS="$PYTHON bench/formats/peers.py"

record() { # engine op file run json
  "$PYTHON" -c 'import json,sys; d=json.loads(sys.argv[5]); d.update(engine=sys.argv[1], op=sys.argv[2], file=sys.argv[3], run=int(sys.argv[4])); print(json.dumps(d))' "$@" >> "$RES"
}

write_all() { # run
  record sluice write "" "$1" "$("$BUILD/pq_bench" write "$CSV" "$OUT/sluice.parquet" --threads "$THREADS")"
  for e in pyarrow duckdb; do
    record "$e" write "" "$1" "$($PEERS "$e" write "$CSV" "$OUT/$e.parquet" --threads "$THREADS")"
  done
}

echo "formats: $CSV ($(du -m "$CSV" | cut -f1) MiB), $RUNS runs, $THREADS threads" >&2
write_all 0
# Same data in every file, or no ratio.
"$PYTHON" - "$OUT" <<'PY'
import sys, duckdb
out = sys.argv[1]
q = ("SELECT count(*), sum(id), count(category), sum(amount), count(price), sum(qty), "
     "min(ts), max(ts), count(note), sum(length(note)) FROM read_parquet('{}')")
con = duckdb.connect()
got = {e: con.execute(q.format(f"{out}/{e}.parquet")).fetchall()[0] for e in ("sluice", "pyarrow", "duckdb")}
ref = got["pyarrow"]
for e, v in got.items():
    same = all((abs(a - b) <= 1e-6 * max(1, abs(b))) if isinstance(a, float) else a == b for a, b in zip(v, ref))
    if not same:
        sys.exit(f"formats: {e}'s file differs from pyarrow's: {v} vs {ref}")
print("formats: the three files hold the same data", file=sys.stderr)
PY
for run in $(seq 1 "$RUNS"); do
  echo "formats: run $run/$RUNS" >&2
  write_all "$run"
  for f in sluice pyarrow duckdb; do
    record sluice read "$f" "$run" "$("$BUILD/pq_bench" read "$OUT/$f.parquet" --threads "$THREADS")"
    for e in pyarrow duckdb; do
      record "$e" read "$f" "$run" "$($PEERS "$e" read "$OUT/$f.parquet" --threads "$THREADS")"
    done
  done
  t0=$(date +%s.%N)
  "$BUILD/sluice" convert "$CSV" "$OUT/conv_sluice.parquet" --quiet
  t1=$(date +%s.%N)
  record sluice convert "" "$run" "{\"convert_s\": $(awk "BEGIN { printf \"%.3f\", $t1 - $t0 }"), \"bytes\": $(stat -c %s "$OUT/conv_sluice.parquet")}"
  for e in pyarrow duckdb; do
    record "$e" convert "" "$run" "$($PEERS "$e" convert "$CSV" "$OUT/conv_$e.parquet" --threads "$THREADS")"
  done
done
# the first (warm-up) write run is not reported
grep -v '"run": 0' "$RES" > "$RES.timed"
REPORT=bench/results/formats_$(date -u +%Y%m%dT%H%M%SZ).md
{
  echo "# Parquet ZSTD: sluice vs pyarrow vs DuckDB ($(date -u +%F), $(nproc) cores)"
  echo
  "$PYTHON" bench/formats/summarize.py "$RES.timed" "$(stat -c %s "$CSV")" "$THREADS"
} | tee "$REPORT"
echo "formats: report in $REPORT" >&2
