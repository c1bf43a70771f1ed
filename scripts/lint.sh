#!/usr/bin/env bash
# clang-format (must be clean) and clang-tidy (.clang-tidy; warnings are errors) over server/.
#
# clang-tidy is Debian 12's clang-tidy-16: clang-tidy-14 cannot parse libstdc++ 12's <expected>.
# Clang 16 implements everything <expected> uses but still reports __cpp_concepts as 201907L,
# which libstdc++ checks before declaring std::expected; the -D below states the level Clang 16
# actually supports (P0848 conditionally trivial special members included).
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t sources < <(git ls-files 'server/*.cc' 'server/*.h')
clang-format --dry-run -Werror "${sources[@]}"
cmake --preset dev >/dev/null
mapfile -t units < <(git ls-files 'server/src/*.cc' | grep -v '_test.cc$' | grep -v '_benchmark.cc$')
printf '%s\n' "${units[@]}" | xargs -P "$(nproc)" -n 4 clang-tidy-16 -p build/dev --quiet \
  --extra-arg=-std=c++2b --extra-arg=-D__cpp_concepts=202002L \
  --extra-arg=-Wno-error --extra-arg=-Wno-builtin-macro-redefined --extra-arg=-Wno-macro-redefined \
  --extra-arg=-Wno-unknown-warning-option 2>/dev/null
echo "lint: clean"
