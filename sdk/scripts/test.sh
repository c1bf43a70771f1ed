#!/usr/bin/env bash
# Every test of the SDK, in order, stopping at the first failure:
#   1. install what is missing (npm ci here and in examples/web; Debian's chromium, as root),
#   2. build @sessiond/client and @sessiond/react (tsc, strict) and type-check the tests,
#   3. unit tests (vitest, fake timers),
#   4. bundle-size budget of @sessiond/client (≤ 6 kB min+gzip),
#   5. build the example app (Vite),
#   6. end-to-end tests: the real sessiond + chromium (playwright-core), node's test runner.
# The server binary is $SESSIOND_BIN, else the newest of build/{release,dev}/sessiond, else it is
# built here (release preset, sessiond target only).
# Set SESSIOND_E2E_STRICT=1 to fail, instead of skip, scenarios whose server routes are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
SDK=$PWD
REPO=$(cd .. && pwd)
EXAMPLE=$REPO/examples/web
OUT=$SDK/test/output
mkdir -p "$OUT"

major=$(node -p 'process.versions.node.split(".")[0]')
if (( major < 20 )); then
  echo "sdk: Node.js >= 20 is required (found $(node --version))" >&2
  exit 1
fi

echo "== sdk: dependencies"
[[ -d node_modules ]] || npm ci --no-audit --no-fund
[[ -d "$EXAMPLE/node_modules" ]] || (cd "$EXAMPLE" && npm ci --no-audit --no-fund)
CHROMIUM=${CHROMIUM_PATH:-/usr/bin/chromium}
if [[ ! -x "$CHROMIUM" ]]; then
  if [[ $(id -u) -eq 0 ]]; then
    echo "installing Debian's chromium (apt)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "sdk: the e2e tests need Debian's chromium at $CHROMIUM." >&2
    echo "     Install it as root: apt-get update && apt-get install -y chromium" >&2
    echo "     (or point CHROMIUM_PATH at a Chromium binary). No browser is ever downloaded." >&2
    exit 1
  fi
fi

echo "== sdk: build and type-check"
npm run --silent build
npm run --silent typecheck

echo "== sdk: unit tests"
npx vitest run --reporter=default --reporter=json --outputFile.json="$OUT/unit.json"

echo "== sdk: bundle size"
node scripts/size-check.mjs

echo "== sdk: example app build"
(cd "$EXAMPLE" && npm run --silent build >"$OUT/example-build.log" 2>&1) || {
  cat "$OUT/example-build.log" >&2
  exit 1
}

echo "== sdk: server binary"
if [[ -z "${SESSIOND_BIN:-}" && ! -x "$REPO/build/release/sessiond" && ! -x "$REPO/build/dev/sessiond" ]]; then
  (cd "$REPO" && cmake --preset release >/dev/null && cmake --build --preset release -j2 --target sessiond)
fi

echo "== sdk: end-to-end tests (chromium + sessiond)"
set +e
node --test --test-concurrency=1 --test-reporter=tap test/e2e/ | tee "$OUT/e2e.tap"
e2e_status=${PIPESTATUS[0]}
set -e

# One closing line for the whole SDK: unit + e2e.
node - "$OUT/unit.json" "$OUT/e2e.tap" <<'EOF'
const fs = require('node:fs');
const unit = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const tap = fs.readFileSync(process.argv[3], 'utf8');
const count = (name) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(tap)?.[1] ?? 0);
const passed = unit.numPassedTests + count('pass');
const failed = unit.numFailedTests + count('fail') + count('cancelled');
const skipped = unit.numPendingTests + unit.numTodoTests + count('skipped');
console.log(`\nunit: ${unit.numPassedTests} passed, ${unit.numFailedTests} failed; ` +
  `e2e: ${count('pass')} passed, ${count('fail')} failed, ${count('skipped')} skipped`);
console.log(`sdk: ${passed} passed, ${failed} failed, ${skipped} skipped`);
EOF
exit "$e2e_status"
