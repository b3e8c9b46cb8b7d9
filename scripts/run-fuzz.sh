#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) into build-fuzz and runs each one for
# FUZZ_SECONDS (default 30), FUZZ_JOBS of them at a time (default: the core count), from
# its seed corpus in tests/fuzz/corpus/<name>/ (with the libFuzzer dictionary
# tests/fuzz/<name>.dict when there is one).
# New interesting inputs go to build-fuzz/corpus/<name>/ (not into the repository); a crash
# leaves its input in build-fuzz/artifacts/ and fails the script.
# Long runs: FUZZ_SECONDS=3600 scripts/run-fuzz.sh [name ...]
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${FUZZ_BUILD_DIR:-build-fuzz}"
seconds="${FUZZ_SECONDS:-30}"
if [ ! -f "$build_dir/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCHAT_FUZZ=ON >/dev/null
fi
cmake --build "$build_dir" --target fuzz_all -- -j"$(nproc)"

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for src in tests/fuzz/*_fuzz.cpp; do
    n=$(basename "$src" .cpp)
    targets+=("${n%_fuzz}")
  done
fi
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$PWD/tests/support/ubsan.supp"
mkdir -p "$build_dir/artifacts"
# Runs one target; its output goes to $build_dir/fuzz-<name>.log.
run_target() {
  local t=$1 work="$build_dir/corpus/$1" dict=()
  mkdir -p "$work" "tests/fuzz/corpus/$t"
  if [ -f "tests/fuzz/$t.dict" ]; then dict=(-dict="tests/fuzz/$t.dict"); fi
  "$build_dir/tests/fuzz/fuzz_$t" "$work" "tests/fuzz/corpus/$t" "${dict[@]}" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$build_dir/artifacts/$t-" >"$build_dir/fuzz-$t.log" 2>&1
}

# Each libFuzzer process uses one core: run up to FUZZ_JOBS (default: the core count) at once.
jobs_max="${FUZZ_JOBS:-$(nproc)}"
declare -A pid_of
for t in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n || true; done
  echo "fuzz: $t for ${seconds}s"
  run_target "$t" &
  pid_of[$t]=$!
done
failed=0
for t in "${targets[@]}"; do
  if ! wait "${pid_of[$t]}"; then
    echo "fuzz: $t FAILED (see $build_dir/fuzz-$t.log and $build_dir/artifacts/)"
    tail -40 "$build_dir/fuzz-$t.log"
    failed=1
  else
    echo "fuzz: $t passed: $(grep -E '^stat::number_of_executed_units' "$build_dir/fuzz-$t.log")"
  fi
done
exit $failed
