#!/usr/bin/env bash
# Installs the Debian 12 packages sessiond needs, only those missing. Sourced by run.sh and
# test.sh; `deps.sh build` for building and running, `deps.sh test` adds the test tools.
set -euo pipefail

build_packages=(g++ cmake make pkg-config python3 python3-yaml uap-core libboost1.81-dev
  libboost-json1.81-dev libboost-regex1.81-dev libssl-dev
  libsodium-dev libsqlite3-dev libpq-dev libhiredis-dev libspdlog-dev libtomlplusplus-dev
  libcli11-dev curl
  googletest libgtest-dev libgmock-dev libbenchmark-dev)  # every preset configures the tests
test_packages=(clang-format
  clang-tidy-16 sqlite3 postgresql-15 redis-server wrk nginx-light gnuplot-nox procps
  python3-nacl nodejs npm)  # postgresql-15: scripts/with-postgres.sh (CTest's throwaway server)

wanted=("${build_packages[@]}")
if [[ "${1:-build}" == "test" ]]; then wanted+=("${test_packages[@]}"); fi

missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node may come from outside Debian (e.g. a preinstalled Node 20): don't replace it.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs/}"); missing=("${missing[@]/npm/}")
fi
missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))
if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}" >&2
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi
