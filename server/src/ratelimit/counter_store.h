// Where rate-limit counters live. RateLimiter talks only to this interface so that a shared
// backend (Redis, for several replicas) can replace MemoryCounterStore without touching the
// rules or the routes.
//
// Semantics every backend must keep (counter_store_conformance.cc states them as tests, and
// every backend's test runs that suite):
//  - A key's count is the number of hits recorded in the sliding window (now - window, now]:
//    a hit recorded at t stops counting at exactly t + window.
//  - Hit records a hit only when fewer than `max` are counted; a refused hit is not recorded,
//    so hammering while blocked does not extend the block.
//  - Hit is atomic per key: N concurrent Hits on a key at one instant admit exactly
//    min(N, max - counted).
//  - A store may forget a key early (eviction under memory pressure); it never remembers a
//    hit longer than its window.
//
// Thread-safety: implementations are safe to call from any number of threads at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "common/clock.h"
#include "ratelimit/decision.h"

namespace sessiond::ratelimit {

class CounterStore {
 public:
  virtual ~CounterStore() = default;

  // Counts one hit on `key` if fewer than `max` hits are within `window` of `now`. allowed
  // says whether it was counted; remaining and reset_after describe the state after it.
  // max == 0 refuses everything (reset_after = window).
  [[nodiscard]] virtual Decision Hit(std::string_view key, std::uint32_t max,
                                     std::chrono::seconds window, TimePoint now) = 0;

  // The decision a Hit would return, without counting anything. allowed is whether a Hit now
  // would be admitted; remaining is what is left before it.
  [[nodiscard]] virtual Decision Peek(std::string_view key, std::uint32_t max,
                                      std::chrono::seconds window, TimePoint now) = 0;

  // Forgets every hit on `key` (e.g. a successful sign-in clears its failed attempts).
  virtual void Reset(std::string_view key) = 0;
};

}  // namespace sessiond::ratelimit
