-- Shared by every scenario script (each one dofile()s this): on done(), prints one line
--   BENCH_JSON {...}
-- that bench/run.sh picks out of wrk's output. Latencies are in milliseconds.
-- "status" errors are wrk's count of responses with a status >= 400 (non-2xx/3xx); no route
-- under test redirects, and run.sh's pre-flight request rejects anything but a 2xx.
-- No response() callback on purpose: one would run Lua on every response and lower the
-- load generator's own ceiling, which matters when the server under test is nginx.
function done(summary, latency, requests)
  local e = summary.errors
  local total = e.connect + e.read + e.write + e.status + e.timeout
  local secs = summary.duration / 1e6
  local rps = 0
  if secs > 0 then rps = summary.requests / secs end
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_s":%.3f,"rps":%.2f,' ..
    '"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,"mean_ms":%.3f,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"errors_total":%d}\n',
    summary.requests, secs, rps,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, latency.mean / 1000,
    e.connect, e.read, e.write, e.status, e.timeout, total))
end
