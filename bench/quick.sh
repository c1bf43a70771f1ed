#!/usr/bin/env bash
# A/B measurement of one server on one scenario, for profiling work (bench/run.sh is the report).
#
#   bench/quick.sh [options] BIN [BIN...]     sessiond binaries, get-session (cookie)
#   bench/quick.sh --nginx                    the static-JSON ceiling
#
# Each binary is started (threads=1 unless --threads), a user signs up, wrk warms up for 2 s,
# then RUNS measured runs of DURATION s with wrk -t1 -c32, like bench/run.sh. Per run it prints
# req/s, p50/p99, the load average, and what does not depend much on the other load on the
# machine: the server's CPU time per request (user + system, and user alone, from
# /proc/PID/stat: all threads, ticks of 10 ms) and the share of a core wrk itself used. Binaries
# are measured in turn within each round, so A and B see the same machine state.
#
# Options: --runs N (3), --duration S (10), --threads N (1), --connections N (32),
#          --path P (/api/auth/get-session), --nginx, --help
# Environment: SESSIOND_BENCH_ARGS (extra `sessiond serve` arguments).
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3
[[ -x $PY ]] || PY=$(command -v python3)
RUNS=3 DURATION=10 THREADS=1 CONNECTIONS=32 NGINX=0 URL_PATH=/api/auth/get-session
BINS=()
while (($#)); do
  case $1 in
    --runs) RUNS=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --threads) THREADS=$2; shift ;;
    --connections) CONNECTIONS=$2; shift ;;
    --path) URL_PATH=$2; shift ;;
    --nginx) NGINX=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "quick.sh: unknown option $1" >&2; exit 2 ;;
    *) BINS+=("$1") ;;
  esac
  shift
done
((${#BINS[@]} || NGINX)) || { echo "quick.sh: no binary given (try --help)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "quick.sh: wrk missing (apt-get install wrk)" >&2; exit 2; }
export BENCH_WRK_DIR=$BENCH_DIR/wrk

WORK=$(mktemp -d /tmp/sessiond-quick.XXXXXX)
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_ready() { # URL
  local i
  for ((i = 0; i < 500; i++)); do curl -sf -o /dev/null "$1" && return 0; sleep 0.02; done
  echo "quick.sh: $1 never answered" >&2
  return 1
}
ticks() { awk '{print $14 + $15, $14}' "/proc/$1/stat"; } # user+system, user (all threads)

# start_sessiond INDEX BIN → SRV_PID[i], URL[i], SCRIPT[i]
declare -a SRV_PID URL SCRIPT LABEL
start_sessiond() {
  local i=$1 bin=$2 port data out
  port=$(free_port); data=$WORK/data-$i; mkdir -p "$data"
  # shellcheck disable=SC2086
  SESSIOND_SECRET=sessiond-bench-secret-0123456789abcdef0123 \
  SESSIOND_BASE_URL=http://127.0.0.1:$port SESSIOND_RATE_LIMIT_ENABLED=false \
    "$bin" serve --host 127.0.0.1 --port "$port" --data-dir "$data" --set "threads=$THREADS" \
    --set log.level=warn --set password.argon2MemoryKib=19456 ${SESSIOND_BENCH_ARGS:-} \
    >"$data/log" 2>&1 &
  SRV_PID[i]=$!; PIDS+=("${SRV_PID[i]}")
  wait_ready "http://127.0.0.1:$port/readyz"
  out=$("$PY" "$BENCH_DIR/lib/client.py" auth "http://127.0.0.1:$port" sign-up \
          "quick-$i@example.com" bench-password-123 Quick)
  COOKIE[i]=$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["cookie"])' "$out")
  URL[i]=http://127.0.0.1:$port$URL_PATH; SCRIPT[i]=cookie.lua; LABEL[i]=$bin
}
declare -a COOKIE
start_nginx() {
  local i=$1 port prefix
  port=$(free_port); prefix=$WORK/nginx; mkdir -p "$prefix"
  sed -e "s#@PREFIX@#$prefix#g" -e "s#@PORT@#$port#g" "$BENCH_DIR/nginx/nginx.conf" \
    >"$prefix/nginx.conf"
  "$(command -v nginx || echo /usr/sbin/nginx)" -p "$prefix" -e "$prefix/error.log" \
    -c "$prefix/nginx.conf" &
  PIDS+=("$!")
  wait_ready "http://127.0.0.1:$port/"
  SRV_PID[i]=$(ps -o pid= --ppid "$!" | head -n1 | tr -d ' ')  # The one worker.
  COOKIE[i]=; URL[i]=http://127.0.0.1:$port/; SCRIPT[i]=plain.lua; LABEL[i]=nginx
}

n=0
for bin in "${BINS[@]}"; do start_sessiond "$n" "$bin"; n=$((n + 1)); done
if ((NGINX)); then start_nginx "$n"; n=$((n + 1)); fi
for ((i = 0; i < n; i++)); do
  BENCH_COOKIE=${COOKIE[i]} wrk -t1 -c"$CONNECTIONS" -d2s -s "$BENCH_DIR/wrk/${SCRIPT[i]}" \
    "${URL[i]}" >/dev/null 2>&1
done

for ((r = 1; r <= RUNS; r++)); do
  for ((i = 0; i < n; i++)); do
    load=$(cut -d' ' -f1 /proc/loadavg)
    read -r t0 u0 < <(ticks "${SRV_PID[i]}")
    out=$( { BENCH_COOKIE=${COOKIE[i]} /usr/bin/time -f "WRKCPU %U %S" wrk -t1 \
               -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$BENCH_DIR/wrk/${SCRIPT[i]}" \
               "${URL[i]}"; } 2>&1)
    read -r t1 u1 < <(ticks "${SRV_PID[i]}")
    "$PY" - "$out" "${LABEL[i]}" "$load" "$((t1 - t0))" "$((u1 - u0))" <<'PY'
import json, sys
out, label, load, cpu, user = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
j = json.loads(next(l for l in out.splitlines() if l.startswith("BENCH_JSON ")).split(" ", 1)[1])
w = next(l for l in out.splitlines() if l.startswith("WRKCPU ")).split()
n, secs = j["requests"], j["duration_s"]
print(f"{label[-40:]:>40}  {j['rps']:>9,.0f} req/s  p50 {j['p50_ms']:.3f}  p99 {j['p99_ms']:.3f} ms"
      f"  err {j['errors_total']}  load {load}  server {cpu * 1e4 / n:.1f} us/req"
      f" (user {user * 1e4 / n:.1f}, {cpu / secs:.0f}% of a core)"
      f"  wrk {(float(w[1]) + float(w[2])) * 100 / secs:.0f}% of a core")
PY
  done
done
