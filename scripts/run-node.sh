#!/usr/bin/env bash
# Quick start 1: install what is missing, build, and start a node on the embedded default
# store (SQLite under ./data, no Redis, no MongoDB) with ./caf-application.conf, accounts
# on (a token key made under ./data the first time).
# Extra arguments go to chatd, e.g. --net.port=9000.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
# Accounts need a token signing key: make one under ./data the first time, unless the
# arguments choose a key or anonymous access.
if [[ "$*" != *token-key* && "$*" != *allow-anonymous* ]]; then
  mkdir -p data
  if [ ! -s data/token.key ]; then
    (umask 077 && build/tools/chatd --gen-token-key > data/token.key)
  fi
  set -- --security.token-key=data/token.key "$@"
fi
exec build/tools/chatd "$@"
