#!/usr/bin/env bash
# A throwaway PostgreSQL 15 for tests (Debian's postgresql-15: scripts/deps.sh test installs it).
#
#   with-postgres.sh run [--] CMD [ARG...]
#       Starts a fresh server in a new temp dir, runs CMD with
#         SESSIOND_TEST_POSTGRES_URL     postgresql://postgres@127.0.0.1:PORT/postgres
#         SESSIOND_TEST_POSTGRES_DIR     the server's dir (for `stop` / `start` below)
#         SESSIOND_TEST_POSTGRES_SCRIPT  this script's path
#       then stops the server and deletes the dir, and exits with CMD's status. If the server
#       cannot start, exits 1 without running CMD: tests that need it fail, never skip.
#   with-postgres.sh start DIR   initdb DIR (if not done yet) and start the server; prints its URL.
#                                Starting again after `stop` keeps the port, so the URL stays.
#   with-postgres.sh stop DIR    fast shutdown (the data stays).
#   with-postgres.sh destroy DIR stop if running, then delete DIR.
#
# The server listens on 127.0.0.1 on a free port and on a Unix socket in DIR/sock only, trusts
# every local connection (no password), and runs with fsync off: it is for tests, never data.
# initdb refuses to run as root, so as root the server runs as the `postgres` user (runuser) and
# DIR is handed to that user; DIR's parent must be traversable by it (mktemp -d in /tmp is).
# Every instance has its own dir and port, so parallel test runs (ctest -j) do not collide.
set -euo pipefail

pg_bin=${SESSIOND_PG_BIN:-/usr/lib/postgresql/15/bin}
self=$(readlink -f "${BASH_SOURCE[0]}")

die() {
  echo "with-postgres: $*" >&2
  exit 1
}

as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

is_running() {
  local dir=$1
  [[ -f "$dir/data/postmaster.pid" ]] && as_owner "$pg_bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
}

cmd_start() {
  local dir=$1
  [[ -x "$pg_bin/initdb" ]] || die "$pg_bin/initdb not found (apt-get install postgresql-15)"
  mkdir -p "$dir"
  dir=$(readlink -f "$dir")
  if [[ $(id -u) -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || die "running as root needs the postgres user (postgresql-common)"
    chown postgres: "$dir"
  fi
  cd "$dir"  # The server's user must be able to stay in the working directory.
  if [[ ! -f "$dir/data/PG_VERSION" ]]; then
    as_owner mkdir -p "$dir/sock"
    as_owner "$pg_bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
      --no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
    as_owner tee -a "$dir/data/postgresql.conf" >/dev/null <<EOF

# with-postgres.sh: a throwaway test server.
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir/sock'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 300
shared_buffers = 32MB
log_min_messages = warning
log_min_error_statement = panic
EOF
  fi

  local port attempt
  if [[ -f "$dir/port" ]]; then
    # A restart: same port, so clients' URLs stay valid.
    port=$(<"$dir/port")
    as_owner "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -o "-p $port" -w -t 60 \
      start >/dev/null || { tail -n 20 "$dir/server.log" >&2; die "restart on port $port failed"; }
  else
    # Another process may grab the free port before the server binds it: try a few.
    for attempt in 1 2 3 4 5; do
      port=$(free_port)
      if as_owner "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -o "-p $port" -w -t 60 \
        start >/dev/null; then
        echo "$port" | as_owner tee "$dir/port" >/dev/null
        break
      fi
      port=""
      echo "with-postgres: start on a free port failed (attempt $attempt)" >&2
    done
    [[ -n "$port" ]] || { tail -n 20 "$dir/server.log" >&2; die "cannot start PostgreSQL"; }
  fi
  echo "postgresql://postgres@127.0.0.1:$port/postgres"
}

cmd_stop() {
  local dir=$1
  if is_running "$dir"; then
    as_owner "$pg_bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
  fi
}

cmd_destroy() {
  local dir=$1
  [[ -d "$dir" ]] || return 0
  if is_running "$dir"; then
    as_owner "$pg_bin/pg_ctl" -D "$dir/data" -m immediate -w -t 60 stop >/dev/null || true
  fi
  rm -rf "$dir"
}

cmd_run() {
  [[ "${1:-}" == "--" ]] && shift
  [[ $# -gt 0 ]] || die "run: no command"
  local url status
  # Global: the EXIT trap runs after this function has returned.
  run_dir=$(mktemp -d "${TMPDIR:-/tmp}/sessiond-pg.XXXXXX")
  local dir=$run_dir
  trap 'cmd_destroy "$run_dir"' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  # If this script is killed outright (SIGKILL on a CTest timeout), no trap runs: a detached
  # watchdog destroys the server once this process is gone. Its output goes nowhere, so it
  # holds no pipe of the caller open.
  # shellcheck disable=SC2016  # $1..$3 are the inner shell's arguments.
  setsid bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 2; done; bash "$2" destroy "$3"' \
    watchdog "$$" "$self" "$dir" </dev/null >/dev/null 2>&1 &
  url=$(cmd_start "$dir") || die "PostgreSQL did not start; see the messages above"
  echo "with-postgres: PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') at $url" >&2
  status=0
  SESSIOND_TEST_POSTGRES_URL=$url SESSIOND_TEST_POSTGRES_DIR=$dir \
    SESSIOND_TEST_POSTGRES_SCRIPT=$self "$@" || status=$?
  return "$status"
}

case "${1:-}" in
  run) shift; cmd_run "$@" ;;
  start) [[ $# -eq 2 ]] || die "usage: $0 start DIR"; cmd_start "$2" ;;
  stop) [[ $# -eq 2 ]] || die "usage: $0 stop DIR"; cmd_stop "$2" ;;
  destroy) [[ $# -eq 2 ]] || die "usage: $0 destroy DIR"; cmd_destroy "$2" ;;
  *) die "usage: $0 run [--] CMD... | start DIR | stop DIR | destroy DIR" ;;
esac
