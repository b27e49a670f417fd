#!/usr/bin/env bash
# Installs every Debian 12 package the build, the tests and the demo need.
# Idempotent; run as root (or with sudo available).
set -euo pipefail
pkgs=(build-essential cmake clang g++ pkg-config
      librocksdb-dev rocksdb-tools libabsl-dev libgoogle-glog-dev libgflags-dev
      nlohmann-json3-dev libssl-dev libgtest-dev libgmock-dev libbenchmark-dev
      libclang-rt-14-dev libsimdjson-dev libcli11-dev prometheus help2man)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
