#!/usr/bin/env bash
# Reproduces the benchmark table of docs/BENCHMARKS.md with one command. Builds nothing: it
# uses build/tools/chatd and build/tools/chat-loadgen as they are.
#
#   tools/bench/run.sh            full run, markdown on stdout
#   tools/bench/run.sh --write    full run, also replaces the results in docs/BENCHMARKS.md
#   tools/bench/run.sh --quick    short smoke run (a minute or so)
#   tools/bench/run.sh --only 1,5 selected scenarios; --help for the rest
#
# 10,000 idle connections need 10k+ descriptors in the node and as many in the load
# generator: raise the soft limit as far as the hard limit allows (both inherit it).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
hard="$(ulimit -Hn)"
if [[ "$hard" == unlimited || "$hard" -ge 65536 ]]; then
  ulimit -n 65536
else
  ulimit -n "$hard"
fi
exec python3 "$here/bench.py" "$@"
