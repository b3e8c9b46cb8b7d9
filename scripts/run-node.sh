#!/usr/bin/env bash
# Quick start 1: install what is missing, build, and start a node on the embedded default
# store (SQLite under ./data, no Redis, no MongoDB) with ./caf-application.conf.
# Extra arguments go to chatd, e.g. --net.port=9000.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
exec build/tools/chatd "$@"
