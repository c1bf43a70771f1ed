#!/usr/bin/env bash
# Installs what is missing, then runs every test of the project:
#   1. format and lint checks (clang-format, clang-tidy),
#   2. the dev build: unit tests + black-box integration tests of the real binary (CTest),
#   3. the same under AddressSanitizer + UndefinedBehaviorSanitizer,
#   4. the benchmark harness in smoke mode (a few seconds a scenario) so it never rots.
# Set SESSIOND_SKIP_BENCH=1 to leave out step 4 locally.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh test
jobs=$(nproc)

echo "== format and lint"
bash scripts/lint.sh

for preset in dev asan; do
  echo "== build and test: $preset"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j"$jobs"
  ctest --preset "$preset" -j"$jobs"
done

if [[ "${SESSIOND_SKIP_BENCH:-0}" != 1 && -x bench/run.sh ]]; then
  echo "== benchmark smoke run"
  bench/run.sh --smoke
fi
echo "== all tests passed"
