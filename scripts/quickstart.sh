#!/usr/bin/env bash
# Builds sluice and runs the quickstart pipeline on the bundled data:
# writes data/processed/quickstart/{train.csv,test.csv,transform.json}.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
cmake -S . -B build -G Ninja >/dev/null
cmake --build build -j2 >/dev/null
./build/sluice run examples/quickstart/pipeline.yaml
