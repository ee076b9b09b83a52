#!/usr/bin/env bash
# ML benchmark: sluice's models against scikit-learn, LightGBM, XGBoost and
# PyTorch on the same generated data (binary, 30 features, 80/20 split),
# the same number of threads, in one run. Prints fit / predict times,
# accuracy / AUC and the ratios; writes bench/results/ml_<time>.md.
#
#   bench/ml/run_ml.sh [--rows N] [--threads T] [--only rf|gbdt|mlp]
#                      [--repeat R]
#
# The machine may be shared: each boosting run (seconds long) is repeated
# R times (default 3) and the table keeps the fastest fit of each model;
# the forests and networks run once unless --repeat is given for them too
# (--repeat-all).
# Default 200000 rows (scikit-learn's forest on 1M rows x 100 trees takes
# many minutes on 2 cores). Peers come from bench/ml/requirements.txt,
# installed into .venv when missing. The sluice side is bench/ml/
# sl_ml_bench.c, compiled here against build/libsluice.a (SL_BUILD=dir for
# another build directory, SL_LIB=file for a prebuilt archive).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
ROWS=200000
THREADS=2
ONLY=all
REPEAT=3
REPEAT_ALL=0
while [ $# -gt 0 ]; do
  case "$1" in
    --rows) ROWS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --repeat) REPEAT=$2; shift 2 ;;
    --repeat-all) REPEAT_ALL=1; shift ;;
    *) echo "usage: $0 [--rows N] [--threads T] [--only rf|gbdt|mlp] [--repeat R] [--repeat-all]" >&2; exit 2 ;;
  esac
done

PY=$ROOT/.venv/bin/python
if [ ! -x "$PY" ]; then python3 -m venv "$ROOT/.venv"; fi
if ! "$PY" -c "import sklearn, lightgbm, xgboost, torch, pandas" 2>/dev/null; then
  "$PY" -m pip install -q -r bench/ml/requirements.txt
fi

BUILD=${SL_BUILD:-build}   # another build directory: SL_BUILD=build-x
LIB=${SL_LIB:-}            # or a prebuilt archive: SL_LIB=path/libsluice.a
if [ -z "$LIB" ]; then
  if [ ! -f "$BUILD/build.ninja" ] && [ ! -f "$BUILD/Makefile" ]; then
    cmake -S . -B "$BUILD" -G Ninja >/dev/null
  fi
  cmake --build "$BUILD" --target sluice_static -j2 >/dev/null
  LIB=$BUILD/libsluice.a
fi
BIN=$(dirname "$LIB")/sl_ml_bench
# shellcheck disable=SC2046
cc -O2 -Iinclude bench/ml/sl_ml_bench.c "$LIB" \
  $(pkg-config --libs yaml-0.1 jansson libzstd zlib liblz4 openblas) -lsnappy \
  -lpthread -lm -o "$BIN"

DATA=bench/data/ml/$ROWS
if [ ! -f "$DATA/test.csv" ]; then
  "$PY" bench/ml/gen_data.py "$ROWS" "$DATA"
fi
TR=$DATA/train.csv
TE=$DATA/test.csv
OUT=$(mktemp)
export OPENBLAS_NUM_THREADS=$THREADS OMP_NUM_THREADS=$THREADS

SLOW_REPEAT=1
if [ "$REPEAT_ALL" = 1 ]; then SLOW_REPEAT=$REPEAT; fi
# each line gets the name the summary uses as its first key
tag() { sed "s/^{/{\"key\": \"$1\", /"; }
run_sl() { # key repeat args...
  local key=$1 n=$2; shift 2
  for _ in $(seq "$n"); do "$BIN" "$@" 2>&1 | tail -1 | tag "$key" | tee -a "$OUT"; done
}
run_peer() { # key repeat
  for _ in $(seq "$2"); do
    "$PY" bench/ml/peers.py "$1" "$TR" "$TE" "$THREADS" 2>/dev/null | tag "$1" | tee -a "$OUT"
  done
}

echo "== $ROWS rows ($(wc -l < "$TR") train), $THREADS threads, $(nproc) cores"
if [ "$ONLY" = all ] || [ "$ONLY" = rf ]; then
  run_sl random_forest "$SLOW_REPEAT" random_forest classification "$TR" "$TE" "n_jobs=$THREADS"
  run_peer sklearn_rf "$SLOW_REPEAT"
  run_peer lgbm_rf "$SLOW_REPEAT"
fi
if [ "$ONLY" = all ] || [ "$ONLY" = gbdt ]; then
  for _ in $(seq "$REPEAT"); do # interleaved, so load spikes hit both sides
    run_sl gbdt 1 gbdt classification "$TR" "$TE" "n_jobs=$THREADS"
    run_peer lgbm_gbdt 1
    run_sl gbdt_depthwise 1 gbdt classification "$TR" "$TE" "n_jobs=$THREADS" \
      growth=depthwise max_depth=6
    run_peer xgb_hist 1
  done
fi
if [ "$ONLY" = all ] || [ "$ONLY" = mlp ]; then
  run_sl mlp "$SLOW_REPEAT" mlp classification "$TR" "$TE"
  run_peer torch_mlp "$SLOW_REPEAT"
  run_peer sklearn_mlp "$SLOW_REPEAT"
fi

mkdir -p bench/results
RES=bench/results/ml_$(date -u +%Y%m%dT%H%M%SZ).md
"$PY" - "$OUT" "$ROWS" "$THREADS" > "$RES" <<'PYEOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
by = {}
for r in rows:  # keep the fastest fit of each model
    k = r["key"]
    if k not in by or r["fit_s"] < by[k]["fit_s"]:
        by[k] = r
print(f"# ML benchmark: {sys.argv[2]} rows, {sys.argv[3]} threads\n")
print("Fastest fit of each model over its runs (see run_ml.sh --repeat).\n")
print("| model | fit s | predict s | accuracy | AUC |")
print("| --- | --- | --- | --- | --- |")
for k, r in by.items():
    print(f"| {k} | {r['fit_s']:.3f} | {r['predict_s']:.3f} | {r['accuracy']:.4f} | {r['auc']:.4f} |")
def ratio(a, b, what):
    if a in by and b in by:
        x, y = by[a], by[b]
        print(f"| {what} | {y['fit_s'] / x['fit_s']:.2f}x | "
              f"{(x['accuracy'] - y['accuracy']) * 100:+.2f} pt | {x['auc'] - y['auc']:+.4f} |")
print("\n| comparison (ratio = peer time / sluice time) | fit ratio | accuracy diff | AUC diff |")
print("| --- | --- | --- | --- |")
ratio("random_forest", "sklearn_rf", "RF vs scikit-learn (goal >= 10x, within 0.5 pt)")
ratio("random_forest", "lgbm_rf", "RF vs LightGBM rf")
ratio("gbdt", "lgbm_gbdt", "GBDT vs LightGBM, per iteration (goal >= 1x, AUC within 0.002)")
ratio("gbdt_depthwise", "xgb_hist", "GBDT depth-wise vs XGBoost hist")
ratio("mlp", "torch_mlp", "MLP vs PyTorch, per epoch (goal >= 3x, within 1 pt)")
ratio("mlp", "sklearn_mlp", "MLP vs scikit-learn MLP (no dropout)")
PYEOF
cat "$RES"
echo "results: $RES"
rm -f "$OUT"
