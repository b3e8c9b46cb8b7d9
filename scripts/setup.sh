#!/usr/bin/env bash
# Installs the Debian 12 packages the node, its tools and its tests need, and the pinned npm
# packages of the Socket.IO client tests (tests/sio, from its package-lock).
# Idempotent and quiet when everything is present; used by the README and .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build pkg-config
  libcaf-dev libboost1.81-dev libssl-dev
  libhiredis-dev libmongoc-dev libsodium-dev rapidjson-dev libsqlite3-dev
  catch2 libcli11-dev libncurses-dev libspdlog-dev libboost-url1.81-dev
  clang libclang-rt-14-dev lld
  redis-server redis-tools prometheus tmux sqlite3
  nginx openssl
)
# Node.js and npm run the Socket.IO client tests. A Node.js that brings its own npm (as
# NodeSource's does, which then conflicts with Debian's npm package) is used as it is.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >/dev/null
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm ci only when node_modules is missing or the lock changed since the last install.
sio_dir=tests/sio
stamp="$sio_dir/node_modules/.package-lock.sha256"
want="$(sha256sum "$sio_dir/package-lock.json" | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: npm ci in $sio_dir"
  (cd "$sio_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$want" >"$stamp"
fi
