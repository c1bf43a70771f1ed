#!/usr/bin/env bash
# Installs what is missing, then runs every test of the project:
#   1. format and lint checks (clang-format, clang-tidy),
#   2. the dev build: unit tests, black-box tests of the real binary and the jose interop test
#      (CTest),
#   3. the same under AddressSanitizer + UndefinedBehaviorSanitizer,
#   4. the browser SDK: unit tests, bundle size, end-to-end in Debian's chromium (sdk/),
#   5. the benchmark harness in smoke mode (a few seconds a scenario) so it never rots.
# Set SESSIOND_SKIP_BENCH=1 or SESSIOND_SKIP_SDK=1 to leave out step 5 or 4 locally.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh test
jobs=$(nproc)
started=$SECONDS
step() { echo; echo "== $* (at $((SECONDS - started)) s)"; }

step "format and lint"
bash scripts/lint.sh

for preset in dev asan; do
  step "build and test: $preset"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j"$jobs"
  ctest --preset "$preset" -j"$jobs"
done

if [[ "${SESSIOND_SKIP_SDK:-0}" != 1 && -f sdk/scripts/test.sh ]]; then
  step "browser SDK"
  SESSIOND_E2E_STRICT=1 SESSIOND_BIN=$PWD/build/dev/sessiond bash sdk/scripts/test.sh
fi

if [[ "${SESSIOND_SKIP_BENCH:-0}" != 1 && -x bench/run.sh ]]; then
  step "benchmark smoke run"
  SESSIOND_BIN=$PWD/build/dev/sessiond bench/run.sh --smoke
  step "benchmark smoke run on PostgreSQL"
  SESSIOND_BIN=$PWD/build/dev/sessiond bench/run.sh --smoke --database postgres
fi
step "all tests passed"
