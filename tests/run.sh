#!/usr/bin/env bash
# The whole test suite, as CI runs it (works from any directory):
#
#   build/        -DSITEGATE_WERROR=ON                         ctest (everything)
#   build-asan/   -DSITEGATE_WERROR=ON -DSITEGATE_SANITIZE=ON  ctest (everything, ASan+UBSan)
#   build-fuzz/   CC=clang -DSITEGATE_FUZZ=ON                  ctest -L fuzz (short fuzz runs)
#
# Exits non-zero if any configure, build or test fails; every tree is tried
# even after a failure, and a summary says which failed.
# Run tests/setup.sh first on a fresh machine.
set -uo pipefail

root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
cd "$root" || exit 1
jobs="${SITEGATE_JOBS:-2}"
failed=()

step() {  # step NAME COMMAND...: runs it, remembers a failure
  local name="$1"; shift
  echo "=== $name: $*"
  if ! "$@"; then
    echo "=== $name: FAILED"
    failed+=("$name")
    return 1
  fi
}

if [ ! -f tests/node_modules/ocpp-rpc/lib/schemas/ocpp1_6.json ]; then
  echo "run: the OCPP JSON schemas are not installed (tests that check frames will fail):" \
       "run tests/setup.sh" >&2
fi

tree() {  # tree DIR [ENV...] -- CMAKE-ARGS... -- CTEST-ARGS...
  local dir="$1"; shift
  local envs=() cmake_args=() ctest_args=()
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done; shift
  while [ "$1" != "--" ]; do cmake_args+=("$1"); shift; done; shift
  ctest_args=("$@")
  step "$dir: configure" env "${envs[@]}" cmake -S . -B "$dir" "${cmake_args[@]}" || return
  step "$dir: build" cmake --build "$dir" -j "$jobs" || return
  step "$dir: test" env "${envs[@]}" ctest --test-dir "$dir" --output-on-failure "${ctest_args[@]}"
}

tree build -- -DSITEGATE_WERROR=ON -- -j "$jobs"
tree build-asan \
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  -- -DSITEGATE_WERROR=ON -DSITEGATE_SANITIZE=ON -- -j "$jobs"
tree build-fuzz CC=clang -- -DSITEGATE_FUZZ=ON -- -L fuzz -j "$jobs"

echo
if ((${#failed[@]})); then
  echo "run: FAILED: ${failed[*]}"
  exit 1
fi
echo "run: all passed (build, build-asan, build-fuzz)"
