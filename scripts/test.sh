#!/usr/bin/env bash
# The whole test suite: installs what is missing (Debian 12), builds with
# warnings as errors, and runs every test under ctest.
#   scripts/test.sh [extra ctest args, e.g. -L fault]
# Environment: BUILD_DIR (default build-test), BUILD_TYPE (default Debug),
# RM_SANITIZE (e.g. address,undefined), CXX (compiler).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
BUILD_DIR=${BUILD_DIR:-build-test}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Debug}" \
  -DRM_WERROR=ON -DRM_SANITIZE="${RM_SANITIZE:-}" \
  ${CXX:+-DCMAKE_CXX_COMPILER="$CXX"}
cmake --build "$BUILD_DIR" -j2
ctest --test-dir "$BUILD_DIR" -j2 --output-on-failure --timeout 600 "$@"
