#!/usr/bin/env bash
# The test command: installs what is missing, builds, and runs every test (unit, pg, integration).
# The PostgreSQL servers the tests need are started by the tests themselves (ctest fixtures).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
ctest --test-dir "${SKYD_BUILD_DIR:-build}" --output-on-failure -j"$(nproc)" "$@"
