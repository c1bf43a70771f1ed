// In-process CounterStore: an exact sliding-window log per key, in hash-sharded maps with a
// hard memory bound. What a single replica uses; a shared backend replaces it for several.
//
// Algorithm: sliding-window LOG (each counted hit's timestamp, oldest first), not the
// two-fixed-windows "sliding window counter" approximation. Why:
//  - exact: never admits more than max in ANY window-long interval. The approximation assumes
//    hits were spread evenly over the previous window, so a burst at its end lets up to ~max
//    extra through just after the boundary, which matters for a 5-per-15-min brute-force
//    limit; and it can refuse a client that is under the limit.
//  - an exact Retry-After (oldest hit + window - now) that a client can trust.
//  - the cost is memory proportional to hits, bounded twice: a key holds at most `max`
//    timestamps (refused hits are not stored), and each shard caps keys and timestamps.
//
// Memory bound (Options below; defaults in brackets). Per shard at most max_keys_per_shard
// keys [4096] and max_hits_per_shard timestamp slots [65,536]; past either cap the least
// recently used key is evicted (forgetting its count) until the new entry fits. With the
// default 16 shards that is 65,536 keys and 1,048,576 slots. Measured: ~250 B per IP key
// (entry, list and map nodes, key text) → 16 MB; ~460 B per key for 230-character emails →
// 30 MB; slots 8 B each → 8 MB. So under ~40 MB whatever an attacker rotating IPs or emails
// sends. Legitimate load should stay well under the caps: eviction resets that key's budget,
// so an attacker who can create ~65k keys quickly (e.g. many IPv6 /64s) can make the store
// forget other counters early. Raise the caps if EvictionCount() grows under normal load.
//
// Expired hits go whenever their key is touched. Idle keys (every hit older than its window)
// go lazily: up to two at the LRU end of a shard on every access, and all of them on
// Sweep(now), which the app calls periodically.
//
// Thread-safety: thread-safe. Keys are spread over shards by hash; each shard's mutex guards
// that shard's map, LRU list, entries, slot total and eviction count, and is held only for
// one operation on one key, or one Sweep pass over that shard (no I/O, no callbacks).
// Different shards never contend.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "ratelimit/counter_store.h"

namespace sessiond::ratelimit {

class MemoryCounterStore final : public CounterStore {
 public:
  struct Options {
    std::size_t shards = 16;                // Lock stripes; >= 1.
    std::size_t max_keys_per_shard = 4096;  // Hard cap on keys (LRU-evicted past it); >= 1.
    // Hard cap on stored timestamps; keep it >= the largest rule max (a lone key is never
    // evicted for its own hits).
    std::size_t max_hits_per_shard = 65'536;
  };

  MemoryCounterStore();
  explicit MemoryCounterStore(Options options);
  ~MemoryCounterStore() override;
  MemoryCounterStore(const MemoryCounterStore&) = delete;
  MemoryCounterStore& operator=(const MemoryCounterStore&) = delete;

  [[nodiscard]] Decision Hit(std::string_view key, std::uint32_t max, std::chrono::seconds window,
                             TimePoint now) override;
  [[nodiscard]] Decision Peek(std::string_view key, std::uint32_t max, std::chrono::seconds window,
                              TimePoint now) override;
  void Reset(std::string_view key) override;

  // Removes every key whose hits have all left their window. Returns how many were removed.
  // Locks one shard at a time, so requests on other shards proceed meanwhile.
  std::size_t Sweep(TimePoint now);

  // For metrics and tests; each locks every shard in turn. KeyCount: keys held. SlotCount:
  // timestamp slots allocated (what max_hits_per_shard bounds; >= hits held). EvictionCount:
  // keys evicted by a cap since construction (idle keys removed by expiry do not count).
  [[nodiscard]] std::size_t KeyCount() const;
  [[nodiscard]] std::size_t SlotCount() const;
  [[nodiscard]] std::uint64_t EvictionCount() const;

  [[nodiscard]] const Options& options() const { return options_; }

 private:
  struct Shard;

  [[nodiscard]] Shard& ShardFor(std::string_view key) const;

  Options options_;
  std::unique_ptr<Shard[]> shards_;  // options_.shards of them; the array never changes.
};

}  // namespace sessiond::ratelimit
