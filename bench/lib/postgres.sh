# shellcheck shell=bash
# The PostgreSQL pass of bench/run.sh (`--database postgres|both`), sourced by it: it uses the
# harness's helpers (log, fail, emit, start_server, stop_pid, scenario, seed, ...) and globals
# (ROOT, WORK, KEEP, SESSIOND_BIN, SCALE_*, CORES, PASSWORD, ...).
#
# One throwaway PostgreSQL 15 (scripts/with-postgres.sh start/destroy, in its own temp dir,
# 127.0.0.1, a free port) serves both servers, each in its own database on it:
#   bench_sessiond   sessiond (`sessiond migrate`, then `serve --database-url ...`)
#   bench_ba_off     Better Auth, cookie cache off   (tables from its own getMigrations)
#   bench_ba_on      Better Auth, cookie cache on
# Separate databases because the two schemas share table names ("user", "session").
#
# with-postgres.sh makes a test server (fsync, synchronous_commit and full_page_writes off); the
# benchmark puts PostgreSQL's durable defaults back (ALTER SYSTEM) so a commit costs what it does
# in production, as SQLite's synchronous=FULL does in the SQLite rows, and gives it 256 MB of
# shared_buffers (the script's 32 MB would hold a fraction of the 1M-session table).
#
# Every record emitted during the pass carries database=postgres (run.sh's DB_TAG), so
# lib/report.py puts those rows in their own section with ratios over Better Auth on PostgreSQL.

PG_BIN=${SESSIOND_PG_BIN:-/usr/lib/postgresql/15/bin}
PG_SCRIPT=$ROOT/scripts/with-postgres.sh
PG_DIR=
PG_URL=

pg_psql() { # URL [PSQL ARGS...] → psql, unaligned, quiet, stopping at the first error
  local url=$1
  shift
  "$PG_BIN/psql" "$url" -X -q -A -t -v ON_ERROR_STOP=1 "$@"
}

pg_url_for() { # DATABASE → the URL of that database on the throwaway server
  echo "${PG_URL%/*}/$1"
}

# pg_start → PG_DIR, PG_URL; returns 1 (after logging why) if the server cannot be set up.
pg_start() {
  local verb=destroy
  PG_DIR=$(mktemp -d /tmp/sessiond-bench-pg.XXXXXX)
  # run.sh's EXIT trap stops the server; this covers the harness being killed outright (no trap
  # runs on SIGKILL), as with-postgres.sh's own `run` does. Its output goes nowhere, so it holds
  # no pipe of the caller open; it ends within 2 s of the harness.
  ((KEEP)) && verb=stop
  # shellcheck disable=SC2016  # $1..$4 are the inner shell's arguments.
  setsid bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 2; done; bash "$2" "$3" "$4"' \
    watchdog "$$" "$PG_SCRIPT" "$verb" "$PG_DIR" </dev/null >/dev/null 2>&1 &
  log "starting a throwaway PostgreSQL 15 in $PG_DIR"
  if ! PG_URL=$(bash "$PG_SCRIPT" start "$PG_DIR" 2>"$WORK/pg-start.log" | tail -n1) ||
     [[ $PG_URL != postgresql://* ]]; then
    PG_ERROR="with-postgres.sh start failed: $(tail -n 3 "$WORK/pg-start.log" | tr '\n' ' ' | cut -c1-300)"
    return 1
  fi
  if ! pg_psql "$PG_URL" -c "ALTER SYSTEM SET fsync = on" \
         -c "ALTER SYSTEM SET synchronous_commit = on" -c "ALTER SYSTEM SET full_page_writes = on" \
         -c "ALTER SYSTEM SET shared_buffers = '256MB'" 2>"$WORK/pg-start.log" ||
     ! bash "$PG_SCRIPT" stop "$PG_DIR" 2>>"$WORK/pg-start.log" ||
     ! bash "$PG_SCRIPT" start "$PG_DIR" >/dev/null 2>>"$WORK/pg-start.log"; then
    PG_ERROR="configuring PostgreSQL failed: $(tail -n 3 "$WORK/pg-start.log" | tr '\n' ' ' | cut -c1-300)"
    return 1
  fi
  local db
  for db in bench_sessiond bench_ba_off bench_ba_on; do
    pg_psql "$PG_URL" -c "CREATE DATABASE $db" 2>>"$WORK/pg-start.log" || {
      PG_ERROR="CREATE DATABASE $db failed: $(tail -n 2 "$WORK/pg-start.log" | tr '\n' ' ')"
      return 1
    }
  done
  log "PostgreSQL $(pg_psql "$PG_URL" -c 'SHOW server_version' | cut -d' ' -f1) at $PG_URL" \
    "(fsync on, shared_buffers $(pg_psql "$PG_URL" -c 'SHOW shared_buffers'))"
}

# Called by run.sh's cleanup (EXIT trap): stops the server; deletes it unless --keep.
pg_cleanup() {
  [[ -n $PG_DIR && -d $PG_DIR ]] || return 0
  if ((KEEP)); then
    bash "$PG_SCRIPT" stop "$PG_DIR" >/dev/null 2>&1 || true
    log "postgres dir kept (stopped; \`scripts/with-postgres.sh start $PG_DIR\` restarts it): $PG_DIR"
  else
    bash "$PG_SCRIPT" destroy "$PG_DIR" >/dev/null 2>&1 || true
  fi
}

# ---------------------------------------------------------------------------------------------
# Seeding: the same filler rows as the SQLite seeding (100 sessions per filler user, random ids
# and token hashes), in one transaction with generate_series, then ANALYZE (what autovacuum would
# do after such an insert). Called through run.sh's seed() as kinds sessiond_pg / better_auth_pg.

seed_sql_sessiond_pg() { # URL TOTAL (sessiond's schema: server/src/store/postgres/migrations.cc)
  local url=$1 total=$2
  pg_psql "$url" <<SQL
SET maintenance_work_mem = '256MB';
BEGIN;
CREATE TEMP TABLE bench_n ON COMMIT DROP AS
  SELECT greatest(0, $total - (SELECT count(*) FROM session)) AS k,
         (extract(epoch FROM now()) * 1000)::bigint AS now;
INSERT INTO "user" (id, email, name, image, email_verified, created_at, updated_at)
  SELECT 'bench-filler-' || i, 'filler-' || i || '@bench.invalid', 'Filler ' || i, NULL, FALSE,
         b.now, b.now
  FROM bench_n b, generate_series(0, (b.k + 99) / 100 - 1) AS i
  ON CONFLICT DO NOTHING;
INSERT INTO session (id, user_id, token_hash, expires_at, ip_address, user_agent, remember_me,
                     created_at, updated_at)
  SELECT replace(gen_random_uuid()::text, '-', ''), 'bench-filler-' || (i / 100),
         encode(sha256(gen_random_uuid()::text::bytea), 'hex'), b.now + 7 * 86400000,
         '127.0.0.1', 'bench-seed', TRUE, b.now, b.now
  FROM bench_n b, generate_series(0, b.k - 1) AS i;
COMMIT;
ANALYZE "user";
ANALYZE session;
SELECT count(*) FROM session;
SQL
}

seed_sql_better_auth_pg() { # URL TOTAL (Better Auth's schema: timestamptz dates, raw tokens)
  local url=$1 total=$2
  pg_psql "$url" <<SQL
SET maintenance_work_mem = '256MB';
BEGIN;
CREATE TEMP TABLE bench_n ON COMMIT DROP AS
  SELECT greatest(0, $total - (SELECT count(*) FROM session)) AS k;
INSERT INTO "user" (id, name, email, "emailVerified", image, "createdAt", "updatedAt")
  SELECT 'bench-filler-' || i, 'Filler ' || i, 'filler-' || i || '@bench.invalid', FALSE, NULL,
         now(), now()
  FROM bench_n b, generate_series(0, (b.k + 99) / 100 - 1) AS i
  ON CONFLICT DO NOTHING;
INSERT INTO session (id, "expiresAt", token, "createdAt", "updatedAt", "ipAddress", "userAgent",
                     "userId")
  SELECT replace(gen_random_uuid()::text, '-', ''), now() + interval '7 days',
         replace(gen_random_uuid()::text, '-', ''), now(), now(), '127.0.0.1', 'bench-seed',
         'bench-filler-' || (i / 100)
  FROM bench_n b, generate_series(0, b.k - 1) AS i;
COMMIT;
ANALYZE "user";
ANALYZE session;
SELECT count(*) FROM session;
SQL
}

# ---------------------------------------------------------------------------------------------
# Servers.

bench_sessiond_pg() {
  local url data=$WORK/sessiond-pg-data pid ready idle load peak out
  url=$(pg_url_for bench_sessiond)
  if ! ensure_sessiond; then sessiond_failed "${SESSIOND_ERROR:-not built}"; return; fi
  log "sessiond: sessiond migrate --database-url ..."
  if ! out=$("$SESSIOND_BIN" --database-url "$url" migrate 2>&1); then
    sessiond_failed "sessiond migrate failed: $(tail -n 2 <<<"$out" | tr '\n' ' ' | cut -c1-300)"
    return
  fi
  log "sessiond: starting (threads=1)"
  if ! sessiond_start "$data" 1 --database-url "$url"; then
    sessiond_failed "did not start: $START_ERROR"; return
  fi
  pid=$PID; ready=$READY_MS
  idle=$(rss_kb "$pid")
  log "sessiond: ready in $ready ms, idle RSS $idle kB"
  if ! sign_up_bench_user "$BASE"; then
    sessiond_failed "sign-up of the benchmark user failed"
    stop_pid "$pid"; return
  fi
  local small_ok=1
  seed sessiond_pg "$url" "$SCALE_SMALL" || small_ok=0
  : >"$WORK/load_rss"
  auth_read_scenarios sessiond "$BASE" "$pid"
  load=$(cat "$WORK/load_rss" 2>/dev/null || true)
  stale_check sessiond "$BASE"
  peak=$(rss_kb "$pid" VmHWM)
  emit kind=footprint server=sessiond ready_ms:="$ready" idle_rss_kb:="$idle" \
    load_rss_kb:="${load:-null}" peak_rss_kb:="$peak" note="threads=1"
  stop_pid "$pid"

  # With its session cache (on by default) sessiond reads a session from the database once per
  # sessionCache.maxAge, so the rows above barely touch PostgreSQL. With the cache off every
  # get-session is a round trip to it: that is the database path, and what the scale compares.
  local label="sessiond (1 thread, session cache off)" rps_small=0
  log "sessiond: starting (threads=1, sessionCache.enabled=false)"
  if sessiond_start "$data" 1 --database-url "$url" --set sessionCache.enabled=false; then
    pid=$PID
    scenario "get-session (cookie)" "$label" "$BASE" /api/auth/get-session cookie.lua "" \
      GET /api/auth/get-session --cookie "$BENCH_COOKIE"
    rps_small=$WRK_RPS
    stop_pid "$pid"
  else
    small_ok=0
    fail "sessiond did not start with sessionCache.enabled=false: $START_ERROR"
  fi

  if ((small_ok)) && seed sessiond_pg "$url" "$SCALE_LARGE"; then
    if sessiond_start "$data" 1 --database-url "$url" --set sessionCache.enabled=false; then
      pid=$PID
      log "sessiond: ready in $READY_MS ms with $SEEDED sessions stored"
      emit kind=footprint_large server="$label" ready_ms:="$READY_MS" \
        idle_rss_kb:="$(rss_kb "$pid")" sessions:="$SEEDED"
      scenario "get-session (cookie) @ large" "$label" "$BASE" /api/auth/get-session cookie.lua "" \
        GET /api/auth/get-session --cookie "$BENCH_COOKIE"
      emit kind=scale server="$label" small:="$SCALE_SMALL" large:="$SEEDED" \
        small_rps:="${rps_small:-0}" large_rps:="$WRK_RPS"
      stop_pid "$pid"
    else
      fail "sessiond did not start with $SCALE_LARGE sessions: $START_ERROR"
    fi
  else
    emit kind=scale server="$label" error="seeding failed: ${SEED_ERROR:-?}"
  fi

  # Sign-in (a session insert, committed with fsync) with every core, as on SQLite.
  log "sessiond: starting (threads=$CORES) for sign-in"
  if sessiond_start "$data" "$CORES" --database-url "$url"; then
    pid=$PID
    signin_scenario "sessiond ($CORES threads)" "$BASE" "signin-$(date +%s%N)@bench.invalid"
    stop_pid "$pid"
  else
    fail "sessiond did not start with threads=$CORES: $START_ERROR"
  fi
}

better_auth_pg_start() { # URL COOKIE_CACHE(0|1) → PID, READY_MS, BASE
  local url=$1 cache=$2 port
  port=$(free_port); BASE=http://127.0.0.1:$port
  PORT=$port BA_DATABASE_URL=$url BA_COOKIE_CACHE=$cache NODE_ENV=production \
    start_server "$WORK/better-auth.log" "$BASE/api/auth/ok" node "$BENCH_DIR/better-auth/server.mjs"
}

bench_better_auth_pg() { # COOKIE_CACHE(0|1)
  local cache=$1 url
  url=$(pg_url_for "bench_ba_$([[ $cache == 1 ]] && echo on || echo off)")
  better_auth_pass "$cache" better_auth_pg_start better_auth_pg "$url" \
    "node $(node -v), pg Pool (max 10)"
}

# The whole pass: the server, then sessiond and Better Auth (cache off, on) on it. Its records
# carry database=postgres; a server that cannot be set up fails the pass's rows, not the run.
# shellcheck disable=SC2034  # DB_TAG is read by run.sh's log, fail and emit.
bench_postgres() {
  local pg_version pg_npm
  DB_TAG=postgres
  if ! pg_start; then
    fail "PostgreSQL: $PG_ERROR"
    want sessiond && emit kind=server_error server=sessiond error="PostgreSQL: $PG_ERROR"
    DB_TAG=
    return
  fi
  pg_version=$(pg_psql "$PG_URL" -c 'SHOW server_version' | cut -d' ' -f1)
  pg_npm=$(node -p 'require(process.argv[1]).version' \
    "$BENCH_DIR/better-auth/node_modules/pg/package.json" 2>/dev/null || echo "?")
  emit kind=machine_pg postgres="$pg_version" pg_npm="$pg_npm" \
    shared_buffers="$(pg_psql "$PG_URL" -c 'SHOW shared_buffers')" \
    sessiond_pool="database.poolSize default (2 × cores)" \
    loadavg="$(cut -d' ' -f1-3 /proc/loadavg)"
  want sessiond && bench_sessiond_pg
  if want better-auth; then
    bench_better_auth_pg 0
    bench_better_auth_pg 1
  fi
  pg_cleanup
  PG_DIR=
  DB_TAG=
}
