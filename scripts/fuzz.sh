#!/usr/bin/env bash
# The bad-input campaign with its fuzzers: builds the campaign's tests and
# the fuzz targets with clang's libFuzzer under ASan+UBSan, and runs
# `ctest -L badinput` there: the corrupted-bookkeeping matrix, the edited
# migration files, the JSON edges, and each fuzz target for RM_FUZZ_SECONDS
# (default 60) from its committed seed corpus (tests/fuzz/corpus/). A fuzzer
# crash fails the run; the input is saved under
# BUILD_DIR/tests/fuzz_work/<target>/ (make it a regression: copy it into the
# target's corpus).
#   scripts/fuzz.sh [extra ctest args]
# Environment: BUILD_DIR (default build-fuzz), RM_FUZZ_SECONDS.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
BUILD_DIR=${BUILD_DIR:-build-fuzz}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++ -DRM_FUZZ=ON -DRM_SANITIZE=address,undefined \
  -DRM_BUILD_BENCHMARKS=OFF -DRM_FUZZ_SECONDS="${RM_FUZZ_SECONDS:-60}"
cmake --build "$BUILD_DIR" -j2 --target migration_file_fuzzer \
  json_patch_fuzzer bookkeeping_fuzzer record_json_fuzzer \
  bookkeeping_matrix_test record_edges_test cli_edges_test
ctest --test-dir "$BUILD_DIR" -L badinput -j2 --output-on-failure \
  --timeout 900 "$@"
