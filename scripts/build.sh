#!/usr/bin/env bash
# Configures (once) and builds everything into ./build (CMake + Ninja, warnings are errors).
# BUILD_DIR and CMAKE_ARGS (and CC/CXX at the first configure) may override, e.g.
# CMAKE_ARGS=-DCHAT_SANITIZE=ON BUILD_DIR=build-asan.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${BUILD_DIR:-build}"
if [ ! -f "$build_dir/build.ninja" ]; then
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo ${CMAKE_ARGS:-} >/dev/null
fi
cmake --build "$build_dir" -- -j"$(nproc)"
