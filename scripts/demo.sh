#!/usr/bin/env bash
# The first command of the README: builds rocksmigrate, creates a database of
# 1,000,000 version-1 task records and migrates it to version 2 with the
# admin tool; then a server (examples/online_server) that starts at once on
# 200,000 v1 records and serves while it migrates them online. Run from
# anywhere in a fresh clone; non-interactive.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "installing Debian packages (scripts/setup.sh)"
scripts/setup.sh

step "building (Release, build/)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DRM_BUILD_TESTS=OFF \
      -DRM_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build build -j2 --target rocksmigrate_cli_binary rocksmigrate_gen \
      online_server

RM=build/tools/rocksmigrate
step "creating demo-db/ with 1,000,000 v1 task records"
rm -rf demo-db
build/tools/rocksmigrate-gen --db demo-db --count 1000000

step "rocksmigrate --db demo-db status"
"$RM" --db demo-db status

step "rocksmigrate --db demo-db migrate"
"$RM" --db demo-db migrate

step "rocksmigrate --db demo-db status"
"$RM" --db demo-db status

step "rocksmigrate --db demo-db history"
"$RM" --db demo-db history

step "rocksmigrate --db demo-db validate"
"$RM" --db demo-db validate

step "online: a server that serves at once while it migrates (demo-online-db/)"
rm -rf demo-online-db
build/examples/online_server demo-online-db --seed 200000 --migrations migrations \
  --rate 50000 --serve-ms 200
"$RM" --db demo-online-db history

printf '\nDone. Try: %s --db demo-db rollback --to 1   (or --help)\n' "$RM"
