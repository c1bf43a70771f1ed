#!/usr/bin/env bash
# CTest entry point for the interop test: installs jose from package-lock.json when
# node_modules is missing, then runs test_interop.mjs against $SESSIOND_BIN.
# Exit 77 (reported by CTest as "skipped") when Node.js / npm are not installed.
set -euo pipefail
here="${BASH_SOURCE[0]%/*}"
[[ "$here" == "${BASH_SOURCE[0]}" ]] && here=.
cd "$here"

if [[ -z "${SESSIOND_BIN:-}" ]]; then
  echo "run.sh: set SESSIOND_BIN to the sessiond binary" >&2
  exit 2
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "run.sh: node and npm are needed for the interop test; skipping" >&2
  exit 77
fi
if [[ ! -d node_modules/jose ]]; then
  npm ci --no-audit --no-fund
fi
exec node --test test_interop.mjs
