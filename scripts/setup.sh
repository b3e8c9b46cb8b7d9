#!/usr/bin/env bash
# Installs the Debian 12 packages the node, its tools and its tests need.
# Idempotent and quiet when everything is present; used by the README and .ci/run.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libcaf-dev libboost1.81-dev libssl-dev
  libhiredis-dev libmongoc-dev libsodium-dev rapidjson-dev libsqlite3-dev
  catch2 libcli11-dev libncurses-dev libspdlog-dev libboost-url1.81-dev
  clang libclang-rt-14-dev
  redis-server redis-tools prometheus tmux sqlite3
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
