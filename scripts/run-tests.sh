#!/usr/bin/env bash
# Quick start 2: install what is missing, build, and run the whole test suite
# (unit tests and end-to-end tests against real chatd processes).
# Extra arguments go to ctest, e.g. -R e2e.ordering.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
cd "${BUILD_DIR:-build}"
ctest --output-on-failure -j2 --timeout 600 "$@"
