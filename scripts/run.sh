#!/usr/bin/env bash
# Installs what is missing, builds the Release preset and starts sessiond on its embedded default:
# SQLite in ./data, a generated development secret beside it, http://127.0.0.1:3000.
# Extra arguments go to `sessiond serve`, e.g. scripts/run.sh --port 8080.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh build
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)" --target sessiond
exec ./build/release/sessiond serve "$@"
