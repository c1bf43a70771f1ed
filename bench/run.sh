#!/usr/bin/env bash
# The sessiond benchmark harness: sessiond, a stock Better Auth server (Node, same database:
# SQLite, and PostgreSQL with --database) and nginx (the ceiling), measured in one invocation on
# the same machine state, with wrk.
#
#   bench/run.sh            full run (~5–10 min): bench/results/<UTC stamp>.md, latest.md, latest.png
#   bench/run.sh --smoke    a few seconds per scenario (CI): bench/results/smoke-*.md (gitignored)
#
# Options:
#   --smoke               2 s per scenario, no warm-up, 1k vs 10k stored sessions
#   --servers LIST        comma list of nginx,sessiond,better-auth (default: all three)
#   --build               (re)build sessiond's release preset even if the binary exists
#   --keep                keep the temporary work dir (databases, server logs)
#   --database DB         sqlite, postgres or both (default: sqlite with --smoke, both for a full
#                         run). postgres: sessiond and Better Auth each in its own database on one
#                         throwaway PostgreSQL 15 (scripts/with-postgres.sh, bench/lib/postgres.sh)
# Environment:
#   SESSIOND_BIN          sessiond binary (default: build/release/sessiond)
#   SESSIOND_BENCH_ARGS   extra arguments for `sessiond serve`
#   BENCH_DURATION, BENCH_WARMUP, BENCH_CONNECTIONS, BENCH_SCALE_LARGE   override the mode's values
#   BENCH_RESULTS_DIR     where the report goes (default: bench/results)
#   SESSIOND_PG_BIN       PostgreSQL's bin dir (default: /usr/lib/postgresql/15/bin)
#
# Exit status: 0 when every server started and no scenario got only errors; 1 otherwise
# (a scenario whose route sessiond does not have yet is "n/a", not a failure); 2 bad usage or
# missing tools. The targets in docs/performance.md are reported, never asserted.
# All traffic goes to 127.0.0.1. Every server started here is stopped on exit.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
LIB=$BENCH_DIR/lib
# Debian's python3 (its python3-nacl is importable there), not a pyenv shim earlier on PATH.
PY=/usr/bin/python3
[[ -x $PY ]] || PY=$(command -v python3 || echo python3)
# shellcheck source-path=SCRIPTDIR source=lib/postgres.sh
source "$LIB/postgres.sh"

# Measure the configured password cost, never the tests' shortcut.
unset SESSIOND_INSECURE_FAST_HASH_FOR_TESTS

MODE=full
SERVERS=nginx,sessiond,better-auth
FORCE_BUILD=0
KEEP=0
DATABASE=
while (($#)); do
  case $1 in
    --smoke) MODE=smoke ;;
    --servers) SERVERS=${2:?--servers needs a list}; shift ;;
    --servers=*) SERVERS=${1#*=} ;;
    --build) FORCE_BUILD=1 ;;
    --keep) KEEP=1 ;;
    --database) DATABASE=${2:?--database needs sqlite, postgres or both}; shift ;;
    --database=*) DATABASE=${1#*=} ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument: $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
want() { [[ ",$SERVERS," == *",$1,"* ]]; }
[[ -n $DATABASE ]] || DATABASE=$([[ $MODE == smoke ]] && echo sqlite || echo both)
case $DATABASE in
  sqlite|postgres|both) ;;
  *) echo "run.sh: --database must be sqlite, postgres or both, not: $DATABASE" >&2; exit 2 ;;
esac
want_db() { [[ $DATABASE == both || $DATABASE == "$1" ]]; }
DB_TAG=  # "postgres" during the PostgreSQL pass: tags its records, failures and log lines

if [[ $MODE == smoke ]]; then
  DURATION=${BENCH_DURATION:-2}; WARMUP=${BENCH_WARMUP:-0}
  SCALE_SMALL=1000; SCALE_LARGE=${BENCH_SCALE_LARGE:-10000}; HASH_SAMPLES=3
else
  DURATION=${BENCH_DURATION:-10}; WARMUP=${BENCH_WARMUP:-2}
  SCALE_SMALL=1000; SCALE_LARGE=${BENCH_SCALE_LARGE:-1000000}; HASH_SAMPLES=5
fi
CONNECTIONS=${BENCH_CONNECTIONS:-32}
WRK_THREADS=1
CORES=$(nproc)
# sessiond's password cost, passed explicitly so the hash-time measurement matches it.
ARGON2_MEMORY_KIB=19456
ARGON2_ITERATIONS=2   # sessiond's default (password.argon2Iterations)
SECRET=sessiond-bench-secret-0123456789abcdef0123
PASSWORD=bench-password-123

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
T_START=$(date +%s)
RESULTS_DIR=${BENCH_RESULTS_DIR:-$BENCH_DIR/results}
mkdir -p "$RESULTS_DIR"
WORK=$(mktemp -d /tmp/sessiond-bench.XXXXXX)
JSONL=$WORK/results.jsonl
: >"$JSONL"
FAILURES=()
SERVER_PIDS=()

log() { printf '[bench %4ss] %s\n' "$(($(date +%s) - T_START))" "${DB_TAG:+[$DB_TAG] }$*" >&2; }
fail() { FAILURES+=("${DB_TAG:+$DB_TAG: }$*"); log "FAIL: $*"; }

# ---------------------------------------------------------------------------------------------
# Processes: every server is started through launch.py (which times start → ready) and recorded
# here; cleanup stops them all, whatever happens.

alive() { # PID → true while the process exists and is not a zombie
  [[ -r /proc/$1/stat ]] || return 1
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ $state != Z ]]
}

stop_pid() {
  local pid=$1 i
  alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do alive "$pid" || return 0; sleep 0.05; done
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 40; i++)); do alive "$pid" || return 0; sleep 0.05; done
}

cleanup() {
  local pid
  for pid in "${SERVER_PIDS[@]}"; do stop_pid "$pid"; done
  pg_cleanup
  if ((KEEP)); then log "work dir kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_server LOGFILE READY_URL CMD... → sets PID and READY_MS; returns 1 (with the log's tail
# on stderr) if the server exits or is not ready within 60 s. Readiness is polled, never slept.
start_server() {
  local logfile=$1 url=$2 out
  shift 2
  PID=; READY_MS=
  if ! out=$("$PY" "$LIB/launch.py" --ready-url "$url" --log "$logfile" --timeout 60 -- "$@"); then
    log "server did not become ready ($url): $out"
    tail -n 20 "$logfile" >&2 || true
    START_ERROR=$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1]).get("error","?"))' "$out" 2>/dev/null || echo "$out")
    START_ERROR="$START_ERROR; log: $(tail -n 3 "$logfile" | tr '\n' ' ' | cut -c1-300)"
    return 1
  fi
  PID=$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["pid"])' "$out")
  READY_MS=$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["ready_ms"])' "$out")
  SERVER_PIDS+=("$PID")
}

# rss_kb PID [VmRSS|VmHWM] → resident kB of the process and its children (nginx's worker).
rss_kb() {
  local pid=$1 field=${2:-VmRSS} total=0 p v
  for p in "$pid" $(ps -o pid= --ppid "$pid" 2>/dev/null); do
    v=$(awk -v f="$field:" '$1 == f {print $2}' "/proc/$p/status" 2>/dev/null || true)
    total=$((total + ${v:-0}))
  done
  echo "$total"
}

# emit key=value key:=json ... → one JSON object appended to the results file.
emit() {
  "$PY" - "$@" ${DB_TAG:+"database=$DB_TAG"} >>"$JSONL" <<'PY'
import json, sys
rec = {}
for arg in sys.argv[1:]:
    k, v = arg.split("=", 1)
    if k.endswith(":"):  # key:=JSON
        try:
            rec[k[:-1]] = json.loads(v)
        except ValueError:
            rec[k[:-1]] = v
    else:
        rec[k] = v
print(json.dumps(rec))
PY
}

jget() { # jget JSON KEY → value (empty if missing/null)
  "$PY" -c 'import json,sys; v=json.loads(sys.argv[1]).get(sys.argv[2]); print("" if v is None else (json.dumps(v) if isinstance(v,(dict,list,bool)) else v))' "$1" "$2"
}

# ---------------------------------------------------------------------------------------------
# Tools.

ensure_packages() {
  local need=() req_missing=()
  command -v wrk >/dev/null || need+=(wrk)
  command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || need+=(nginx-light)
  command -v gnuplot >/dev/null || need+=(gnuplot-nox)
  command -v sqlite3 >/dev/null || need+=(sqlite3)
  if want_db postgres && [[ ! -x $PG_BIN/initdb ]]; then need+=(postgresql-15); fi
  command -v ps >/dev/null || need+=(procps)
  [[ -x /usr/bin/python3 ]] || need+=(python3)
  "$PY" -c 'import nacl.pwhash' 2>/dev/null || need+=(python3-nacl)
  if ((${#need[@]})); then
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
      log "installing ${need[*]} (apt-get)"
      if ! compgen -G '/var/lib/apt/lists/*Packages*' >/dev/null; then
        apt-get update -qq >&2 || true
      fi
      DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y -qq --no-install-recommends \
        "${need[@]}" >&2 || {
        apt-get update -qq >&2 || true
        DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y -qq --no-install-recommends \
          "${need[@]}" >&2 || true
      }
    else
      log "missing packages (not root, so not installing): ${need[*]}"
    fi
  fi
  command -v wrk >/dev/null || req_missing+=(wrk)
  [[ -x /usr/bin/python3 ]] && PY=/usr/bin/python3
  command -v "$PY" >/dev/null || req_missing+=(python3)
  command -v sqlite3 >/dev/null || req_missing+=(sqlite3)
  if want nginx && ! command -v nginx >/dev/null && [[ ! -x /usr/sbin/nginx ]]; then
    req_missing+=(nginx)
  fi
  if want better-auth && ! command -v node >/dev/null; then req_missing+=(node); fi
  if want_db postgres && [[ ! -x $PG_BIN/initdb || ! -x $PG_BIN/psql ]]; then
    req_missing+=(postgresql-15)
  fi
  if ((${#req_missing[@]})); then
    echo "run.sh: required tools missing: ${req_missing[*]}" >&2
    exit 2
  fi
  NGINX=$(command -v nginx || echo /usr/sbin/nginx)
}

ensure_better_auth() {
  local dir=$BENCH_DIR/better-auth
  if [[ -f $dir/node_modules/better-sqlite3/build/Release/better_sqlite3.node &&
        -f $dir/node_modules/better-auth/package.json && -f $dir/node_modules/pg/package.json ]]; then
    return 0
  fi
  log "npm ci in bench/better-auth (first run: builds better-sqlite3 from source, ~2–3 min)"
  # node-gyp builds against the installed Node's headers instead of downloading them.
  if [[ -z ${npm_config_nodedir:-} && -f /usr/include/node/node.h ]]; then
    export npm_config_nodedir=/usr
  fi
  (cd "$dir" && npm ci --no-audit --no-fund >"$WORK/npm-ci.log" 2>&1) || {
    tail -n 30 "$WORK/npm-ci.log" >&2
    return 1
  }
  [[ -f $dir/node_modules/better-sqlite3/build/Release/better_sqlite3.node ]] || {
    log "better-sqlite3's native module was not built (install scripts not run?)"
    tail -n 30 "$WORK/npm-ci.log" >&2
    return 1
  }
}

SESSIOND_BIN=${SESSIOND_BIN:-$ROOT/build/release/sessiond}
ensure_sessiond() {
  if [[ -x $SESSIOND_BIN && $FORCE_BUILD == 0 ]]; then return 0; fi
  if [[ $SESSIOND_BIN != "$ROOT/build/release/sessiond" ]]; then
    SESSIOND_ERROR="SESSIOND_BIN=$SESSIOND_BIN is not executable"
    return 1
  fi
  log "building sessiond (cmake --preset release; log: build.log in the work dir)"
  if ! (cd "$ROOT" && cmake --preset release && cmake --build --preset release -j"$CORES" \
        --target sessiond) >"$WORK/build.log" 2>&1; then
    tail -n 30 "$WORK/build.log" >&2
    SESSIOND_ERROR="release build failed: $(grep -m1 -E 'error:|Error' "$WORK/build.log" | cut -c1-200)"
    return 1
  fi
  [[ -x $SESSIOND_BIN ]] || { SESSIOND_ERROR="build produced no $SESSIOND_BIN"; return 1; }
}

# ---------------------------------------------------------------------------------------------
# Measuring.

# run_wrk SCENARIO SERVER URL SCRIPT [LOAD_PID] → runs wrk (warm-up, then measured) and
# emits a row. Env for the Lua script must already be exported. Sets WRK_RPS.
run_wrk() {
  local scenario=$1 server=$2 url=$3 script=$4 load_pid=${5:-} out json sampler=
  export BENCH_WRK_DIR=$BENCH_DIR/wrk
  if ((WARMUP > 0)); then
    wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" --timeout 30s -s "$BENCH_DIR/wrk/$script" \
      "$url" >/dev/null 2>&1 || true
  fi
  if [[ -n $load_pid ]]; then
    # RSS under load: sampled half-way through the measured run.
    (sleep "$("$PY" -c "print($DURATION/2)")"; rss_kb "$load_pid" >"$WORK/load_rss") &
    sampler=$!
  fi
  out=$(wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 30s --latency \
          -s "$BENCH_DIR/wrk/$script" "$url" 2>&1) || true
  [[ -n $sampler ]] && wait "$sampler" 2>/dev/null || true
  json=$(grep -m1 '^BENCH_JSON ' <<<"$out" | cut -d' ' -f2- || true)
  if [[ -z $json ]]; then
    fail "$scenario / $server: wrk printed no summary"
    printf '%s\n' "$out" | tail -n 5 >&2
    emit kind=run scenario="$scenario" server="$server" status=failed note="wrk printed no summary"
    WRK_RPS=0
    return
  fi
  local requests errs status=ok
  requests=$(jget "$json" requests); errs=$(jget "$json" errors_total)
  if ((requests == 0 && errs == 0)) && [[ $MODE == smoke ]]; then
    # Nothing finished and nothing failed: a slow scenario (Better Auth's scrypt sign-in on a
    # loaded machine) that a 2-second smoke run is too short to measure. Not a failure.
    status=n/a
    log "$scenario / $server: no request finished within the smoke run (too slow to measure)"
  elif ((requests == 0 || errs >= requests)); then
    status=failed
    fail "$scenario / $server: only errors ($errs of $requests)"
  fi
  WRK_RPS=$(jget "$json" rps)
  log "$scenario / $server: $(printf '%.0f' "$WRK_RPS") req/s, p50 $(jget "$json" p50_ms) ms, p99 $(jget "$json" p99_ms) ms, errors $errs"
  emit kind=run scenario="$scenario" server="$server" status=$status wrk:="$json"
}

# scenario NAME SERVER_LABEL BASE PATH SCRIPT PROBE_ARGS... → pre-flight request with
# client.py, then wrk. A 404 (route not there yet) makes the row "n/a" for sessiond.
scenario() {
  local name=$1 server=$2 base=$3 path=$4 script=$5 load_pid=$6 probe status
  shift 6
  WRK_RPS=0
  probe=$("$PY" "$LIB/client.py" probe "$base" "$@") || probe='{"status": 0, "null": true, "head": "client.py failed"}'
  status=$(jget "$probe" status)
  local is_null
  is_null=$(jget "$probe" null)
  if [[ $server == sessiond* && $status == 404 ]]; then
    log "$name / $server: n/a (404: not implemented yet)"
    emit kind=run scenario="$name" server="$server" status=na note="not implemented yet (404)"
    return
  fi
  if [[ $server == sessiond* && $script == bearer.lua && $status == 200 && $is_null == true ]]; then
    log "$name / $server: n/a (answers null to a bearer token: not implemented yet)"
    emit kind=run scenario="$name" server="$server" status=na \
      note="not implemented yet (bearer token answered null)"
    return
  fi
  if [[ $status != 2?? || ($is_null == true && $script != signin.lua) ]]; then
    fail "$name / $server: pre-flight answered HTTP $status$([[ $is_null == true ]] && echo ' null')"
    emit kind=run scenario="$name" server="$server" status=failed \
      note="pre-flight answered HTTP $status$([[ $is_null == true ]] && echo ' null'): $(jget "$probe" head | cut -c1-120)"
    return
  fi
  run_wrk "$name" "$server" "$base$path" "$script" "$load_pid"
}

# The scenarios every auth server runs, given BENCH_COOKIE / BENCH_TOKEN exported.
auth_read_scenarios() {
  local label=$1 base=$2 pid=$3
  scenario "get-session (cookie)" "$label" "$base" /api/auth/get-session cookie.lua "$pid" \
    GET /api/auth/get-session --cookie "$BENCH_COOKIE"
  WRK_RPS_COOKIE=$WRK_RPS
  scenario "get-session (bearer)" "$label" "$base" /api/auth/get-session bearer.lua "" \
    GET /api/auth/get-session --bearer "$BENCH_TOKEN"
  scenario "JWT (GET /token)" "$label" "$base" /api/auth/token cookie.lua "" \
    GET /api/auth/token --cookie "$BENCH_COOKIE"
  scenario "list-sessions" "$label" "$base" /api/auth/list-sessions cookie.lua "" \
    GET /api/auth/list-sessions --cookie "$BENCH_COOKIE"
}

signin_scenario() {
  local label=$1 base=$2 email=$3 up
  up=$("$PY" "$LIB/client.py" auth "$base" sign-up "$email" "$PASSWORD" "Sign-in Bench") || {
    fail "sign-in / $label: sign-up of $email answered $(jget "$up" status)"
    emit kind=run scenario="sign-in (password)" server="$label" status=failed \
      note="sign-up answered $(jget "$up" status)"
    return
  }
  export BENCH_EMAIL=$email BENCH_PASSWORD=$PASSWORD BENCH_ORIGIN=$base
  scenario "sign-in (password)" "$label" "$base" /api/auth/sign-in/email signin.lua "" \
    POST /api/auth/sign-in/email --json "{\"email\":\"$email\",\"password\":\"$PASSWORD\"}"
}

# sign_up_bench_user BASE → exports BENCH_COOKIE, BENCH_TOKEN (signed), BENCH_USER_TOKEN (raw)
sign_up_bench_user() {
  local base=$1 out
  out=$("$PY" "$LIB/client.py" auth "$base" sign-up bench@example.com "$PASSWORD" Bench) || {
    log "sign-up failed: $out"
    return 1
  }
  BENCH_COOKIE=$(jget "$out" cookie)
  BENCH_TOKEN=$(jget "$out" bearer)
  export BENCH_COOKIE BENCH_TOKEN
  [[ -n $BENCH_COOKIE ]]
}

stale_check() {
  local label=$1 base=$2 out
  out=$("$PY" "$LIB/client.py" stale "$base" "$label") ||
    out="{\"server\": \"$label\", \"error\": \"client.py failed\", \"verdict\": \"error\"}"
  log "stale-cache check / $label: $(jget "$out" verdict) (after revocation: $(jget "$out" after))"
  emit kind=stale server="$label" result:="$out"
}

# ---------------------------------------------------------------------------------------------
# Seeding stored sessions with the sqlite3 CLI: one transaction, a recursive CTE, filler users
# (100 sessions each) so the benchmark user's own session list stays short.

seed_sql_sessiond() { # DB TOTAL
  local db=$1 total=$2
  sqlite3 -batch -bail "$db" <<SQL
PRAGMA busy_timeout = 10000;
PRAGMA cache_size = -262144;
CREATE TEMP TABLE bench_n AS SELECT max(0, $total - (SELECT count(*) FROM session)) AS k,
  CAST(strftime('%s','now') AS INTEGER) * 1000 AS now;
BEGIN;
INSERT OR IGNORE INTO user (id, email, name, image, email_verified, created_at, updated_at)
  WITH RECURSIVE u(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM u
                          WHERE i + 1 < ((SELECT k FROM bench_n) + 99) / 100)
  SELECT 'bench-filler-' || i, 'filler-' || i || '@bench.invalid', 'Filler ' || i, NULL, 0,
         (SELECT now FROM bench_n), (SELECT now FROM bench_n)
  FROM u WHERE (SELECT k FROM bench_n) > 0;
INSERT INTO session (id, user_id, token_hash, expires_at, ip_address, user_agent, remember_me,
                     created_at, updated_at)
  WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s
                          WHERE i + 1 < (SELECT k FROM bench_n))
  SELECT lower(hex(randomblob(16))), 'bench-filler-' || (i / 100), lower(hex(randomblob(32))),
         (SELECT now FROM bench_n) + 7 * 86400000, '127.0.0.1', 'bench-seed', 1,
         (SELECT now FROM bench_n), (SELECT now FROM bench_n)
  FROM s WHERE (SELECT k FROM bench_n) > 0;
COMMIT;
SELECT count(*) FROM session;
SQL
}

seed_sql_better_auth() { # DB TOTAL (Better Auth stores dates as ISO-8601 text, raw tokens)
  local db=$1 total=$2
  sqlite3 -batch -bail "$db" <<SQL
PRAGMA busy_timeout = 10000;
PRAGMA cache_size = -262144;
CREATE TEMP TABLE bench_n AS SELECT max(0, $total - (SELECT count(*) FROM session)) AS k,
  strftime('%Y-%m-%dT%H:%M:%fZ','now') AS now,
  strftime('%Y-%m-%dT%H:%M:%fZ','now','+7 days') AS exp;
BEGIN;
INSERT OR IGNORE INTO user (id, name, email, emailVerified, image, createdAt, updatedAt)
  WITH RECURSIVE u(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM u
                          WHERE i + 1 < ((SELECT k FROM bench_n) + 99) / 100)
  SELECT 'bench-filler-' || i, 'Filler ' || i, 'filler-' || i || '@bench.invalid', 0, NULL,
         (SELECT now FROM bench_n), (SELECT now FROM bench_n)
  FROM u WHERE (SELECT k FROM bench_n) > 0;
INSERT INTO session (id, expiresAt, token, createdAt, updatedAt, ipAddress, userAgent, userId)
  WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s
                          WHERE i + 1 < (SELECT k FROM bench_n))
  SELECT lower(hex(randomblob(16))), (SELECT exp FROM bench_n), lower(hex(randomblob(16))),
         (SELECT now FROM bench_n), (SELECT now FROM bench_n), '127.0.0.1', 'bench-seed',
         'bench-filler-' || (i / 100)
  FROM s WHERE (SELECT k FROM bench_n) > 0;
COMMIT;
SELECT count(*) FROM session;
SQL
}

seed() { # KIND DB TOTAL → SEEDED (row count now) or returns 1
  local kind=$1 db=$2 total=$3 t0 t1 out
  t0=$(date +%s%N)
  if ! out=$("seed_sql_$kind" "$db" "$total" 2>&1); then
    SEED_ERROR=$(tr '\n' ' ' <<<"$out" | cut -c1-300)
    log "seeding $kind to $total sessions failed: $SEED_ERROR"
    return 1
  fi
  t1=$(date +%s%N)
  SEEDED=$(tail -n1 <<<"$out")
  log "seeded $kind: $SEEDED sessions stored ($(((t1 - t0) / 1000000)) ms)"
}

# ---------------------------------------------------------------------------------------------
# Servers.

bench_nginx() {
  local prefix=$WORK/nginx port base
  mkdir -p "$prefix"
  port=$(free_port); base=http://127.0.0.1:$port
  sed -e "s#@PREFIX@#$prefix#g" -e "s#@PORT@#$port#g" "$BENCH_DIR/nginx/nginx.conf" >"$prefix/nginx.conf"
  log "nginx: starting on $base (1 worker)"
  if ! start_server "$WORK/nginx.log" "$base/" "$NGINX" -p "$prefix" -e "$prefix/error.log" \
        -c "$prefix/nginx.conf"; then
    fail "nginx did not start"
    emit kind=server_error server=nginx error="$START_ERROR"
    return
  fi
  local pid=$PID ready=$READY_MS idle
  idle=$(rss_kb "$pid")
  run_wrk "static JSON (ceiling)" nginx "$base/" plain.lua "$pid"
  emit kind=footprint server=nginx ready_ms:="$ready" idle_rss_kb:="$idle" \
    load_rss_kb:="$(cat "$WORK/load_rss" 2>/dev/null || echo null)" \
    peak_rss_kb:="$(rss_kb "$pid" VmHWM)" note="master + 1 worker"
  stop_pid "$pid"
}

sessiond_start() { # DATA_DIR THREADS [EXTRA ARGS...] → PID, READY_MS, BASE
  local data=$1 threads=$2 port
  shift 2
  port=$(free_port); BASE=http://127.0.0.1:$port
  mkdir -p "$data"
  # shellcheck disable=SC2086
  SESSIOND_PORT=$port SESSIOND_DATA_DIR=$data SESSIOND_SECRET=$SECRET SESSIOND_BASE_URL=$BASE \
  SESSIOND_RATE_LIMIT_ENABLED=false \
    start_server "$WORK/sessiond.log" "$BASE/readyz" "$SESSIOND_BIN" serve --port "$port" \
      --host 127.0.0.1 --data-dir "$data" --set "threads=$threads" --set log.level=warn \
      --set "password.argon2MemoryKib=$ARGON2_MEMORY_KIB" "$@" ${SESSIOND_BENCH_ARGS:-}
}

sessiond_failed() { # WHY → marks every sessiond row as failed
  local why=$1
  fail "sessiond: $why"
  emit kind=server_error server=sessiond error="$why"
}

bench_sessiond() {
  local data=$WORK/sessiond-data db pid ready idle load peak
  db=$data/sessiond.db
  if ! ensure_sessiond; then sessiond_failed "${SESSIOND_ERROR:-not built}"; return; fi
  log "sessiond: starting (threads=1)"
  if ! sessiond_start "$data" 1; then sessiond_failed "did not start: $START_ERROR"; return; fi
  pid=$PID; ready=$READY_MS
  idle=$(rss_kb "$pid")
  log "sessiond: ready in $ready ms, idle RSS $idle kB"
  if ! sign_up_bench_user "$BASE"; then
    sessiond_failed "sign-up of the benchmark user failed"
    stop_pid "$pid"; return
  fi
  local small_ok=1
  seed sessiond "$db" "$SCALE_SMALL" || small_ok=0
  : >"$WORK/load_rss"
  auth_read_scenarios sessiond "$BASE" "$pid"
  local rps_small=$WRK_RPS_COOKIE
  load=$(cat "$WORK/load_rss" 2>/dev/null || true)
  stale_check sessiond "$BASE"
  peak=$(rss_kb "$pid" VmHWM)
  emit kind=footprint server=sessiond ready_ms:="$ready" idle_rss_kb:="$idle" \
    load_rss_kb:="${load:-null}" peak_rss_kb:="$peak" note="threads=1"
  stop_pid "$pid"

  # Scale: the same get-session with SCALE_LARGE stored sessions (seeded while stopped).
  if ((small_ok)) && seed sessiond "$db" "$SCALE_LARGE"; then
    if sessiond_start "$data" 1; then
      pid=$PID
      log "sessiond: ready in $READY_MS ms with $SEEDED sessions stored"
      emit kind=footprint_large server=sessiond ready_ms:="$READY_MS" idle_rss_kb:="$(rss_kb "$pid")" \
        sessions:="$SEEDED"
      scenario "get-session (cookie) @ large" sessiond "$BASE" /api/auth/get-session cookie.lua "" \
        GET /api/auth/get-session --cookie "$BENCH_COOKIE"
      emit kind=scale server=sessiond small:="$SCALE_SMALL" large:="$SEEDED" \
        small_rps:="${rps_small:-0}" large_rps:="$WRK_RPS"
      stop_pid "$pid"
    else
      fail "sessiond did not start with $SCALE_LARGE sessions: $START_ERROR"
    fi
  else
    emit kind=scale server=sessiond error="seeding failed: ${SEED_ERROR:-?}"
  fi

  # Sign-in is bound by the password hash: give sessiond every core, as Node's scrypt gets
  # libuv's thread pool. Also get-session with every core, for reference.
  log "sessiond: starting (threads=$CORES) for sign-in"
  if sessiond_start "$data" "$CORES"; then
    pid=$PID
    signin_scenario "sessiond ($CORES threads)" "$BASE" "signin-$(date +%s%N)@bench.invalid"
    scenario "get-session (cookie)" "sessiond ($CORES threads)" "$BASE" /api/auth/get-session \
      cookie.lua "" GET /api/auth/get-session --cookie "$BENCH_COOKIE"
    stop_pid "$pid"
  else
    fail "sessiond did not start with threads=$CORES: $START_ERROR"
  fi

  # sessiond's own cookie cache (cookieCache.enabled): get-session from the signed
  # session_data cookie, and the stale check, which it must pass. Skipped (n/a) while the
  # binary does not know the key.
  local label="sessiond (1 thread, cache on)"
  log "sessiond: starting (threads=1, cookieCache.enabled=true)"
  if sessiond_start "$data" 1 --set cookieCache.enabled=true; then
    pid=$PID
    local out
    out=$("$PY" "$LIB/client.py" auth "$BASE" sign-in bench@example.com "$PASSWORD") || true
    if [[ $(jget "$out" cookie) == *session_data* ]]; then
      local plain_cookie=$BENCH_COOKIE
      BENCH_COOKIE=$(jget "$out" cookie)
      scenario "get-session (cookie)" "$label" "$BASE" /api/auth/get-session cookie.lua "" \
        GET /api/auth/get-session --cookie "$BENCH_COOKIE"
      BENCH_COOKIE=$plain_cookie
      stale_check "$label" "$BASE"
    else
      log "$label: n/a (sign-in set no session_data cookie: cache not implemented yet)"
      emit kind=run scenario="get-session (cookie)" server="$label" status=na \
        note="sign-in set no session_data cookie"
      emit kind=stale server="$label" \
        result:='{"na": "no session_data cookie yet (cookie cache not implemented)"}'
    fi
    stop_pid "$pid"
  elif grep -q 'cookieCache' "$WORK/sessiond.log"; then
    log "$label: n/a (this sessiond has no cookieCache.enabled key yet)"
    emit kind=run scenario="get-session (cookie)" server="$label" status=na \
      note="no cookieCache.enabled key yet"
    emit kind=stale server="$label" result:='{"na": "no cookieCache.enabled key yet"}'
  else
    fail "sessiond did not start with cookieCache.enabled=true: $START_ERROR"
  fi
}

better_auth_start() { # DB COOKIE_CACHE(0|1) → PID, READY_MS, BASE
  local db=$1 cache=$2 port
  port=$(free_port); BASE=http://127.0.0.1:$port
  PORT=$port BA_DB=$db BA_COOKIE_CACHE=$cache NODE_ENV=production \
    start_server "$WORK/better-auth.log" "$BASE/api/auth/ok" node "$BENCH_DIR/better-auth/server.mjs"
}

# One Better Auth pass on either database: START_FN TARGET CACHE starts it (TARGET: its SQLite
# file or PostgreSQL URL), `seed SEED_KIND TARGET N` stores N sessions; NOTE goes in the report.
better_auth_pass() { # COOKIE_CACHE(0|1) START_FN SEED_KIND TARGET NOTE
  local cache=$1 start_fn=$2 seed_kind=$3 target=$4 note=$5 label pid ready idle load peak
  label="Better Auth (cache $([[ $cache == 1 ]] && echo on || echo off))"
  log "$label: starting"
  if ! "$start_fn" "$target" "$cache"; then
    fail "$label did not start"
    emit kind=server_error server="$label" error="$START_ERROR"
    return
  fi
  pid=$PID; ready=$READY_MS; idle=$(rss_kb "$pid")
  log "$label: ready in $ready ms, idle RSS $idle kB"
  if ! sign_up_bench_user "$BASE"; then
    fail "$label: sign-up of the benchmark user failed"
    stop_pid "$pid"; return
  fi
  local small_ok=1
  seed "$seed_kind" "$target" "$SCALE_SMALL" || small_ok=0
  : >"$WORK/load_rss"
  auth_read_scenarios "$label" "$BASE" "$pid"
  local rps_small=$WRK_RPS_COOKIE
  load=$(cat "$WORK/load_rss" 2>/dev/null || true)
  stale_check "$label" "$BASE"
  if [[ $cache == 0 ]]; then
    signin_scenario "$label" "$BASE" "signin-$(date +%s%N)@bench.invalid"
  fi
  peak=$(rss_kb "$pid" VmHWM)
  emit kind=footprint server="$label" ready_ms:="$ready" idle_rss_kb:="$idle" \
    load_rss_kb:="${load:-null}" peak_rss_kb:="$peak" note="$note"
  stop_pid "$pid"

  # Scale, with the cache off (with it on, get-session does not read the table at all).
  if [[ $cache == 0 ]]; then
    if ((small_ok)) && seed "$seed_kind" "$target" "$SCALE_LARGE"; then
      if "$start_fn" "$target" 0; then
        pid=$PID
        emit kind=footprint_large server="$label" ready_ms:="$READY_MS" \
          idle_rss_kb:="$(rss_kb "$pid")" sessions:="$SEEDED"
        scenario "get-session (cookie) @ large" "$label" "$BASE" /api/auth/get-session cookie.lua "" \
          GET /api/auth/get-session --cookie "$BENCH_COOKIE"
        emit kind=scale server="$label" small:="$SCALE_SMALL" large:="$SEEDED" \
          small_rps:="${rps_small:-0}" large_rps:="$WRK_RPS"
        stop_pid "$pid"
      else
        fail "$label did not start with $SCALE_LARGE sessions: $START_ERROR"
      fi
    else
      emit kind=scale server="$label" error="seeding failed: ${SEED_ERROR:-?}"
    fi
  fi
}

bench_better_auth() { # COOKIE_CACHE(0|1)
  local cache=$1 db
  mkdir -p "$WORK/ba-$cache"; db=$WORK/ba-$cache/better-auth.db
  better_auth_pass "$cache" better_auth_start better_auth "$db" "node $(node -v)"
}

# ---------------------------------------------------------------------------------------------
# Hash cost: the median time of one password hash at each server's configured cost, on one
# core; "cores ÷ hash time" is the most sign-ins per second the machine can do.

hash_times() {
  local ba sd
  if want better-auth; then
    ba=$(node -e '
      const c = require("node:crypto"); const t = [];
      for (let i = 0; i < +process.argv[1]; i++) {
        const s = process.hrtime.bigint();
        c.scryptSync("bench-password-123", c.randomBytes(16).toString("hex"), 64,
                     {N: 16384, r: 16, p: 1, maxmem: 128 * 16384 * 16 * 2});
        t.push(Number(process.hrtime.bigint() - s) / 1e6);
      }
      t.sort((a, b) => a - b); console.log(t[t.length >> 1].toFixed(2));' "$HASH_SAMPLES")
    emit kind=hash server="Better Auth (cache off)" algorithm="scrypt N=16384 r=16 p=1 (node:crypto)" \
      ms:="$ba"
  fi
  if want sessiond; then
    # Also measured: hashes per second with one hashing process per core at once. Memory-hard
    # hashes side by side share the memory bus and last-level cache, so this is the machine's
    # real hashing ceiling, below cores ÷ the one-core time (the issue's yardstick).
    if sd=$("$PY" -c '
import multiprocessing, sys, time, nacl.pwhash
samples, mem_kib, ops, cores = (int(a) for a in sys.argv[1:5])
def one(_):
    s = time.perf_counter()
    nacl.pwhash.argon2id.str(b"bench-password-123", opslimit=ops, memlimit=mem_kib * 1024)
    return (time.perf_counter() - s) * 1000
t = sorted(one(i) for i in range(samples))
with multiprocessing.Pool(cores) as pool:
    pool.map(one, range(cores))  # Warm the workers.
    s = time.perf_counter()
    pool.map(one, range(cores * samples), chunksize=1)
    parallel = cores * samples / (time.perf_counter() - s)
print("%.2f %.1f" % (t[len(t) // 2], parallel))' "$HASH_SAMPLES" "$ARGON2_MEMORY_KIB" \
        "$ARGON2_ITERATIONS" "$CORES" 2>/dev/null); then
      emit kind=hash server="sessiond ($CORES threads)" \
        algorithm="argon2id m=${ARGON2_MEMORY_KIB} KiB t=$ARGON2_ITERATIONS p=1 (libsodium)" \
        ms:="${sd% *}" parallel_per_s:="${sd#* }"
    fi
  fi
}

machine_info() {
  local rev dirty="" ba_v bs_v sqlite_node=""
  rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
  if [[ -n $(git -C "$ROOT" status --porcelain -- server CMakeLists.txt 2>/dev/null) ]]; then
    dirty=" (+ uncommitted changes)"
  fi
  ba_v=$(node -p 'require(process.argv[1]).version' "$BENCH_DIR/better-auth/node_modules/better-auth/package.json" 2>/dev/null || echo "?")
  bs_v=$(node -p 'require(process.argv[1]).version' "$BENCH_DIR/better-auth/node_modules/better-sqlite3/package.json" 2>/dev/null || echo "?")
  sqlite_node=$(cd "$BENCH_DIR/better-auth" && node -e 'const D=require("better-sqlite3"); console.log(new D(":memory:").prepare("select sqlite_version() v").get().v)' 2>/dev/null || echo "?")
  emit kind=machine mode="$MODE" stamp="$STAMP" \
    cores:="$CORES" cpu="$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)" \
    mem_gib="$(awk '/^MemTotal/ {printf "%.1f", $2/1048576}' /proc/meminfo)" \
    loadavg="$(cut -d' ' -f1-3 /proc/loadavg)" kernel="$(uname -sr)" os="$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")" \
    sessiond="$rev$dirty" sessiond_bin="$SESSIOND_BIN" \
    sessiond_version="$("$SESSIOND_BIN" --version 2>/dev/null | head -n1 || true)" node="$(node -v 2>/dev/null || echo '?')" better_auth="$ba_v" \
    better_sqlite3="$bs_v ($sqlite_node)" sqlite3_cli="$(sqlite3 --version | cut -d' ' -f1)" \
    nginx="$("$NGINX" -v 2>&1 | sed 's/^nginx version: //')" \
    wrk="$(wrk -v 2>&1 | head -n1 | cut -d' ' -f1-2)" \
    gnuplot="$(gnuplot --version 2>/dev/null || echo none)" \
    duration_s:="$DURATION" warmup_s:="$WARMUP" connections:="$CONNECTIONS" \
    wrk_threads:="$WRK_THREADS" scale_small:="$SCALE_SMALL" scale_large:="$SCALE_LARGE"
}

# ---------------------------------------------------------------------------------------------

main() {
  log "mode $MODE: $DURATION s per scenario (+$WARMUP s warm-up), wrk $WRK_THREADS thread, $CONNECTIONS connections, $CORES cores; servers: $SERVERS; database: $DATABASE"
  ensure_packages
  if want better-auth && ! ensure_better_auth; then
    echo "run.sh: could not install bench/better-auth's dependencies" >&2
    exit 2
  fi
  machine_info
  hash_times
  want nginx && bench_nginx
  want_db sqlite && want sessiond && bench_sessiond
  if want_db sqlite && want better-auth; then
    bench_better_auth 0
    bench_better_auth 1
  fi
  want_db postgres && bench_postgres

  local md png latest_md latest_png
  if [[ $MODE == smoke ]]; then
    md=$RESULTS_DIR/smoke-$STAMP.md; latest_md=$RESULTS_DIR/smoke-latest.md
    png=$RESULTS_DIR/smoke-latest.png; latest_png=
  else
    md=$RESULTS_DIR/$STAMP.md; latest_md=$RESULTS_DIR/latest.md
    png=$RESULTS_DIR/$STAMP.png; latest_png=$RESULTS_DIR/latest.png
  fi
  local failures_json
  failures_json=$("$PY" -c 'import json,sys; print(json.dumps(sys.argv[1:]))' "${FAILURES[@]}")
  emit kind=failures list:="$failures_json"
  emit kind=end loadavg="$(cut -d' ' -f1-3 /proc/loadavg)" seconds:="$(($(date +%s) - T_START))"
  cp "$JSONL" "${md%.md}.jsonl"
  "$PY" "$LIB/report.py" "$JSONL" "$md" "$png" "$WORK"
  sed -e "s#($(basename "$png"))#($(basename "${latest_png:-$png}"))#" \
    -e "s#($(basename "${png%.png}")-postgres.png)#($(basename "${latest_png:-$png}" .png)-postgres.png)#" \
    "$md" >"$latest_md"
  [[ -n $latest_png && -f $png ]] && cp "$png" "$latest_png"
  [[ -n $latest_png && -f ${png%.png}-postgres.png ]] && cp "${png%.png}-postgres.png" "${latest_png%.png}-postgres.png"
  log "results: $md${latest_png:+ (and latest.md, latest.png)}"
  if ((${#FAILURES[@]})); then
    log "${#FAILURES[@]} failure(s):"
    printf '  - %s\n' "${FAILURES[@]}" >&2
    exit 1
  fi
  log "done in $(($(date +%s) - T_START)) s"
}

main
