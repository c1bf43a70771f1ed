// CounterStore in Redis (hiredis), so that every replica counts against the same limits; falls
// back to a per-process store while Redis is unreachable.
//
// Data model: one sorted set per counter key, named key_prefix + the limiter's key
// ("sessiond:rl:ip:/api/auth/sign-in/*|203.0.113.7"); each counted hit is a member scored
// with its time in Unix milliseconds. One Lua script (EVALSHA, falling back to EVAL after a
// NOSCRIPT) prunes, counts and records in one step, so the semantics of counter_store.h hold
// exactly as in MemoryCounterStore: the same sliding-window log, refused hits are not recorded,
// atomic per key (Redis runs a script with nothing interleaved), and PEXPIRE drops a key one
// window after its newest hit, so Redis never keeps a hit longer than its window. Memory
// (measured, Redis 7.0): ~150 B per key plus ~30 B per hit up to 128 hits (listpack), ~145 B
// per hit beyond (skiplist); a key holds at most its rule's max (docs/deployment.md).
//
// Time: the hit times are the limiter's `now` (the injected Clock), not Redis' TIME, so tests
// drive the window with a FakeClock. In production that is each replica's system clock, so the
// replicas' clocks must agree to well within a second (NTP does): a replica whose clock is ahead
// by d makes the others' hits count for up to d less (it never makes a hit count longer:
// hits "in the future" are treated as made now, as MemoryCounterStore does).
//
// Availability: no call takes longer than `timeout` (connecting, AUTH, SELECT, waiting for a
// pooled connection and the command together share that deadline; only resolving a host name,
// which hiredis does with the blocking getaddrinfo, is outside it: prefer an IP address). When
// Redis cannot be reached, times out or answers with an error, the call is answered by `fallback`
// instead — limits then count per replica — one warning is logged for the outage (not one per
// request), and for `retry_interval` every call goes straight to the fallback without touching
// Redis; then one call at a time probes Redis again, and the first that succeeds ends the outage
// (one info line). Reset always clears the key in the fallback too, so a cleared account does not
// come back from counts made during an earlier outage. Hits counted in the fallback are not
// copied to Redis when it returns. A call that timed out may still be applied by a Redis that
// was only slow: a hit answered from the fallback can also count in Redis (never the reverse).
//
// Connections: a pool of up to pool_size hiredis connections, opened lazily and reused (one
// round trip per call, so one connection serves ~1/RTT calls a second; the pool lets every
// thread that checks limits have a call in flight). A connection that fails or gets an error
// reply is dropped (and, as Redis probably restarted or failed over, every idle one with it),
// so calls reconnect — resolving the host again — after Redis restarts. A pooled connection
// found closed or reset (Redis' `timeout`, a firewall) is retried once on a new connection
// before the call counts as failed. A call waits for a free connection until its deadline,
// then falls back without declaring an outage.
//
// Thread-safety: thread-safe. The pool's mutex is held only to take or return a connection,
// never during I/O; a connection is used by one thread at a time.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/error.h"
#include "ratelimit/counter_store.h"
#include "ratelimit/redis_url.h"

namespace sessiond::ratelimit {

class RedisCounterStore final : public CounterStore {
 public:
  struct Options {
    RedisEndpoint endpoint;
    // Deadline of one call: connect, AUTH/SELECT, the wait for a pooled connection and the
    // command. Short: a request waits this long for its rate-limit answer at worst.
    std::chrono::milliseconds timeout{200};
    std::size_t pool_size = 4;  // Connections at most; >= 1.
    // Prepended to the limiter's keys (which start "rl:"), so one Redis can hold other data.
    std::string key_prefix = "sessiond:";
    // While Redis is down, calls skip it for this long between probes (0: probe on every call,
    // one at a time).
    std::chrono::milliseconds retry_interval{1000};
  };

  struct Stats {
    bool up = true;                    // No outage in progress.
    std::uint64_t redis_calls = 0;     // Calls Redis answered.
    std::uint64_t fallback_calls = 0;  // Calls the fallback answered (outage or busy pool).
    std::uint64_t outages = 0;         // Times Redis went from up to down.
    std::uint64_t connects = 0;        // Connections opened (reconnects included).
  };

  // `fallback` answers while Redis is unreachable and must outlive this store (the app passes
  // its MemoryCounterStore, which it keeps sweeping). Does no I/O: the first call connects.
  RedisCounterStore(Options options, CounterStore& fallback);
  ~RedisCounterStore() override;
  RedisCounterStore(const RedisCounterStore&) = delete;
  RedisCounterStore& operator=(const RedisCounterStore&) = delete;

  // CounterStore: Redis, or the fallback as described above. Never fail, never throw.
  [[nodiscard]] Decision Hit(std::string_view key, std::uint32_t max, std::chrono::seconds window,
                             TimePoint now) override;
  [[nodiscard]] Decision Peek(std::string_view key, std::uint32_t max, std::chrono::seconds window,
                              TimePoint now) override;
  void Reset(std::string_view key) override;

  // Redis only: the same operations with the error (kServiceUnavailable) instead of the
  // fallback, ignoring retry_interval. They still end or start an outage (and log it).
  [[nodiscard]] Result<Decision> TryHit(std::string_view key, std::uint32_t max,
                                        std::chrono::seconds window, TimePoint now);
  [[nodiscard]] Result<Decision> TryPeek(std::string_view key, std::uint32_t max,
                                         std::chrono::seconds window, TimePoint now);
  [[nodiscard]] Result<void> TryReset(std::string_view key);
  // PING; for start-up, where the app logs whether counters are shared from the first request.
  [[nodiscard]] Result<void> Ping();

  // The Redis key of a limiter key (key_prefix + key).
  [[nodiscard]] std::string RedisKey(std::string_view key) const;
  // SHA-1 of the Lua script, as EVALSHA and SCRIPT EXISTS name it.
  [[nodiscard]] const std::string& ScriptSha() const;
  [[nodiscard]] Stats stats() const;
  [[nodiscard]] const Options& options() const { return options_; }

 private:
  struct State;

  enum class Mode { kHit, kPeek };
  [[nodiscard]] Result<Decision> Run(std::string_view key, std::uint32_t max,
                                     std::chrono::seconds window, TimePoint now, Mode mode);
  [[nodiscard]] Decision WithFallback(std::string_view key, std::uint32_t max,
                                      std::chrono::seconds window, TimePoint now, Mode mode);

  Options options_;
  CounterStore& fallback_;
  std::unique_ptr<State> state_;
};

}  // namespace sessiond::ratelimit
