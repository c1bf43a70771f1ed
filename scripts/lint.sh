#!/usr/bin/env bash
# clang-format (must be clean) and clang-tidy (.clang-tidy, warnings are errors) over server/.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t sources < <(git ls-files 'server/*.cc' 'server/*.h')
clang-format --dry-run -Werror "${sources[@]}"
cmake --preset dev >/dev/null
mapfile -t units < <(git ls-files 'server/src/*.cc' | grep -v '_test.cc$' | grep -v '_benchmark.cc$')
printf '%s\n' "${units[@]}" | xargs -P "$(nproc)" -n 4 clang-tidy -p build/dev --quiet 2>/dev/null
