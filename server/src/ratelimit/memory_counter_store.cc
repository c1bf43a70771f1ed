#include "ratelimit/memory_counter_store.h"

#include <algorithm>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace sessiond::ratelimit {
namespace {

using Millis = std::int64_t;  // Unix milliseconds, as ToUnixMillis gives.

// Timestamps of counted hits, oldest first, in a ring buffer. Grows by doubling up to the
// rule's max and shrinks when mostly empty, so its capacity stays within 2× of what it holds
// (after the first few) and never exceeds max.
class HitLog {
 public:
  [[nodiscard]] std::size_t size() const { return size_; }
  [[nodiscard]] bool empty() const { return size_ == 0; }
  [[nodiscard]] std::size_t capacity() const { return slots_.size(); }
  [[nodiscard]] Millis oldest() const { return slots_[head_]; }
  [[nodiscard]] Millis newest() const { return slots_[(head_ + size_ - 1) % slots_.size()]; }

  void PopOldest() {
    head_ = (head_ + 1) % slots_.size();
    --size_;
  }

  // Precondition: size() < max.
  void Push(Millis t, std::size_t max) {
    if (size_ == slots_.size()) Resize(std::min(std::max<std::size_t>(2 * size_, 2), max));
    slots_[(head_ + size_) % slots_.size()] = t;
    ++size_;
  }

  // A clock that stepped back would leave hits "in the future" that count for longer than
  // their window; treat them as made now instead.
  void ClampTo(Millis now) {
    for (Millis& t : slots_) t = std::min(t, now);
  }

  void ShrinkIfSparse() {
    if (slots_.size() > 8 && size_ <= slots_.size() / 4)
      Resize(std::max<std::size_t>(2 * size_, 2));
  }

 private:
  void Resize(std::size_t capacity) {
    std::vector<Millis> resized(capacity);
    for (std::size_t i = 0; i < size_; ++i) resized[i] = slots_[(head_ + i) % slots_.size()];
    slots_ = std::move(resized);
    head_ = 0;
  }

  std::vector<Millis> slots_;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

struct Entry {
  std::string key;
  HitLog hits;
  Millis idle_at = 0;  // Newest hit + window: from then on nothing is counted.
};

Millis ToMillis(std::chrono::seconds window) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(window).count();
}

// Whole seconds, rounded up, so a client that waits Retry-After is never early.
std::chrono::seconds CeilSeconds(Millis ms) {
  return std::chrono::seconds(ms <= 0 ? 0 : (ms + 999) / 1000);
}

Decision Describe(const HitLog& hits, bool allowed, std::uint32_t max, Millis window_ms,
                  Millis now) {
  Decision d;
  d.allowed = allowed;
  d.limit = max;
  d.remaining = hits.size() < max ? max - static_cast<std::uint32_t>(hits.size()) : 0;
  if (!hits.empty()) {
    d.reset_after = CeilSeconds(hits.oldest() + window_ms - now);
  } else if (!allowed) {
    d.reset_after = CeilSeconds(window_ms);  // Only when max == 0: nothing will free a slot.
  }
  return d;
}

}  // namespace

// alignas: keep each shard's mutex on its own cache line so threads working on different
// shards do not false-share.
struct alignas(64) MemoryCounterStore::Shard {
  using Lru = std::list<Entry>;

  // Guards everything below.
  mutable std::mutex mu;
  // Entries, most recently used first. std::list so iterators and the key strings the index
  // points into stay valid while other entries come and go.
  Lru lru;
  // Key → entry; the string_view keys point into the entries' own `key` strings.
  std::unordered_map<std::string_view, Lru::iterator> index;
  // Sum of the entries' hit-log capacities (timestamps allocated), held <= max_hits_per_shard.
  std::size_t slots = 0;
  // Entries evicted by a cap (not by expiry).
  std::uint64_t evictions = 0;

  // All helpers below require `mu` held.

  void Erase(Lru::iterator it) {
    slots -= it->hits.capacity();
    index.erase(std::string_view(it->key));
    lru.erase(it);
  }

  void EvictLeastRecentlyUsed() {
    Erase(std::prev(lru.end()));
    ++evictions;
  }

  // Opportunistic expiry: a few idle entries at the cold end go on every access, so a shard
  // that is only ever touched does not need Sweep to stay small.
  void EvictIdleTail(Millis now, int budget) {
    while (budget-- > 0 && !lru.empty() && lru.back().idle_at <= now) Erase(std::prev(lru.end()));
  }

  // Drops hits that have left the window (a hit at t counts in (now - window, now], so it
  // goes at exactly t + window).
  void Prune(Entry& entry, Millis window_ms, Millis now) {
    const std::size_t before = entry.hits.capacity();
    if (!entry.hits.empty() && entry.hits.newest() > now) {
      entry.hits.ClampTo(now);
      entry.idle_at = now + window_ms;
    }
    while (!entry.hits.empty() && entry.hits.oldest() + window_ms <= now) entry.hits.PopOldest();
    entry.hits.ShrinkIfSparse();
    slots = slots - before + entry.hits.capacity();
  }
};

MemoryCounterStore::MemoryCounterStore() : MemoryCounterStore(Options{}) {}

MemoryCounterStore::MemoryCounterStore(Options options) : options_(options) {
  options_.shards = std::max<std::size_t>(options_.shards, 1);
  options_.max_keys_per_shard = std::max<std::size_t>(options_.max_keys_per_shard, 1);
  options_.max_hits_per_shard = std::max<std::size_t>(options_.max_hits_per_shard, 1);
  shards_ = std::make_unique<Shard[]>(options_.shards);
}

MemoryCounterStore::~MemoryCounterStore() = default;

MemoryCounterStore::Shard& MemoryCounterStore::ShardFor(std::string_view key) const {
  return shards_[std::hash<std::string_view>{}(key) % options_.shards];
}

Decision MemoryCounterStore::Hit(std::string_view key, std::uint32_t max,
                                 std::chrono::seconds window, TimePoint now) {
  const Millis now_ms = ToUnixMillis(now);
  const Millis window_ms = ToMillis(window);
  Shard& shard = ShardFor(key);
  const std::lock_guard<std::mutex> lock(shard.mu);
  shard.EvictIdleTail(now_ms, 2);

  Shard::Lru::iterator it;
  if (const auto found = shard.index.find(key); found != shard.index.end()) {
    it = found->second;
    shard.lru.splice(shard.lru.begin(), shard.lru, it);  // Now the most recently used.
    shard.Prune(*it, window_ms, now_ms);
  } else {
    if (max == 0) return Describe(HitLog(), false, max, window_ms, now_ms);
    while (shard.index.size() >= options_.max_keys_per_shard) shard.EvictLeastRecentlyUsed();
    shard.lru.push_front(Entry{std::string(key), HitLog(), 0});
    it = shard.lru.begin();
    shard.index.emplace(std::string_view(it->key), it);
  }

  Entry& entry = *it;
  if (entry.hits.size() >= max) return Describe(entry.hits, false, max, window_ms, now_ms);

  const std::size_t before = entry.hits.capacity();
  entry.hits.Push(now_ms, max);
  entry.idle_at = now_ms + window_ms;
  shard.slots = shard.slots - before + entry.hits.capacity();
  // Make room from the cold end; `entry` is at the front, so it survives unless alone.
  while (shard.slots > options_.max_hits_per_shard && shard.lru.size() > 1) {
    shard.EvictLeastRecentlyUsed();
  }
  return Describe(entry.hits, true, max, window_ms, now_ms);
}

Decision MemoryCounterStore::Peek(std::string_view key, std::uint32_t max,
                                  std::chrono::seconds window, TimePoint now) {
  const Millis now_ms = ToUnixMillis(now);
  const Millis window_ms = ToMillis(window);
  Shard& shard = ShardFor(key);
  const std::lock_guard<std::mutex> lock(shard.mu);
  shard.EvictIdleTail(now_ms, 2);

  const auto found = shard.index.find(key);
  if (found == shard.index.end()) return Describe(HitLog(), max > 0, max, window_ms, now_ms);
  Entry& entry = *found->second;
  shard.Prune(entry, window_ms, now_ms);
  return Describe(entry.hits, entry.hits.size() < max, max, window_ms, now_ms);
}

void MemoryCounterStore::Reset(std::string_view key) {
  Shard& shard = ShardFor(key);
  const std::lock_guard<std::mutex> lock(shard.mu);
  if (const auto found = shard.index.find(key); found != shard.index.end()) {
    shard.Erase(found->second);
  }
}

std::size_t MemoryCounterStore::Sweep(TimePoint now) {
  const Millis now_ms = ToUnixMillis(now);
  std::size_t removed = 0;
  for (std::size_t i = 0; i < options_.shards; ++i) {
    Shard& shard = shards_[i];
    const std::lock_guard<std::mutex> lock(shard.mu);
    for (auto it = shard.lru.begin(); it != shard.lru.end();) {
      const auto next = std::next(it);
      if (it->idle_at <= now_ms) {
        shard.Erase(it);
        ++removed;
      }
      it = next;
    }
  }
  return removed;
}

std::size_t MemoryCounterStore::KeyCount() const {
  std::size_t keys = 0;
  for (std::size_t i = 0; i < options_.shards; ++i) {
    const std::lock_guard<std::mutex> lock(shards_[i].mu);
    keys += shards_[i].index.size();
  }
  return keys;
}

std::size_t MemoryCounterStore::SlotCount() const {
  std::size_t hits = 0;
  for (std::size_t i = 0; i < options_.shards; ++i) {
    const std::lock_guard<std::mutex> lock(shards_[i].mu);
    hits += shards_[i].slots;
  }
  return hits;
}

std::uint64_t MemoryCounterStore::EvictionCount() const {
  std::uint64_t evictions = 0;
  for (std::size_t i = 0; i < options_.shards; ++i) {
    const std::lock_guard<std::mutex> lock(shards_[i].mu);
    evictions += shards_[i].evictions;
  }
  return evictions;
}

}  // namespace sessiond::ratelimit
