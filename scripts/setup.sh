#!/usr/bin/env bash
# Installs everything sluice needs to build and test on a fresh Debian machine.
# Idempotent: re-running it only installs what is missing.
#   scripts/setup.sh           build + test dependencies (apt)
#   scripts/setup.sh --peers   also a Python venv (.venv) with the interop/bench peers
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PKGS=(
  build-essential cmake ninja-build pkg-config clang llvm libclang-rt-14-dev
  libyaml-dev librdkafka-dev libzstd-dev libsnappy-dev zlib1g-dev liblz4-dev
  libopenblas-dev libmicrohttpd-dev libjansson-dev libcmocka-dev
  python3 python3-venv time kcat default-jre-headless maven
  prometheus wrk curl openssl
)

need=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

if [ "${1:-}" = "--peers" ]; then
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -r bench/requirements.txt
fi
echo "setup: ok"
