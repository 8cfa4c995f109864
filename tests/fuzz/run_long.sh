#!/usr/bin/env bash
# The long fuzz run (issue 9): every libFuzzer target for RUNS executions
# (default 10 million, the project's bar), each over its seed corpus, with
# ASan, UBSan and LeakSanitizer; stops at the first crash, leak or report.
# CI runs the same targets for 20 s each (ctest -L fuzz in build-fuzz).
#
#   tests/fuzz/run_long.sh [RUNS] [TARGET...]    e.g. tests/fuzz/run_long.sh 10000000 fuzz_frame
#
# Build tree: build-fuzz-long (CC=clang -DSITEGATE_FUZZ=ON). New inputs go to
# build-fuzz-long/tests/fuzz/corpus-<target>; crashes to
# build-fuzz-long/tests/fuzz/<target>-crash-*.
set -euo pipefail

root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)"
runs="${1:-10000000}"
shift || true
dir="$root/build-fuzz-long"
CC=clang cmake -S "$root" -B "$dir" -DSITEGATE_FUZZ=ON >/dev/null
cmake --build "$dir" -j "${SITEGATE_JOBS:-2}"

targets=("$@")
if ((${#targets[@]} == 0)); then
  for f in "$root"/tests/fuzz/fuzz_*.c; do
    targets+=("$(basename "$f" .c)")
  done
fi
out="$dir/tests/fuzz"
for t in "${targets[@]}"; do
  mkdir -p "$out/corpus-$t"
  echo "=== $t: $runs runs"
  "$out/$t" -runs="$runs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$out/$t-" "$out/corpus-$t" "$root/tests/fuzz/corpus/$t"
done
echo "run_long: ${#targets[@]} target(s), $runs runs each, no crash, leak or sanitizer report"
