// SessionCache: the in-process cache behind SessionService::Validate — session + user as the store
// last showed them, by token hash, so a repeated get-session is answered without a database read.
//
// This class only stores and forgets; whether an entry may answer (not revoked, nothing due, the
// caches trusted) is the session core's decision. Its own promises:
//  * Bounded: at most max_entries entries; when full, the entry fetched longest ago goes (the one
//    closest to its max_age anyway).
//  * Find returns an entry only while it is younger than max_age (fetched_at + max_age > now).
//  * Invalidation (by session id, by user id, all) wins over a racing fill: Put carries the
//    Epoch() read before the store read it caches, and is dropped if any invalidation happened
//    since, so a reader that fetched a row just before an update-user commit cannot put the old
//    user back after the update's invalidation.
//
// Thread-safety: every method may be called concurrently. Find takes a shared lock only.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/string_map.h"
#include "store/store.h"

namespace sessiond::session {

class SessionCache {
 public:
  struct Entry {
    store::Session session;
    store::User user;
    TimePoint fetched_at;  // When the store read that produced it began.
  };

  SessionCache(std::size_t max_entries, milliseconds max_age);
  SessionCache(const SessionCache&) = delete;
  SessionCache& operator=(const SessionCache&) = delete;

  // The entry for `token_hash` if there is one younger than max_age at `now`.
  [[nodiscard]] std::optional<Entry> Find(std::string_view token_hash, TimePoint now) const;

  // The invalidation counter; read it before the store read whose result is then Put.
  [[nodiscard]] std::uint64_t Epoch() const { return epoch_.load(std::memory_order_acquire); }

  // Caches `session` (keyed by its token_hash) and `user` as fetched at `fetched_at`, unless an
  // invalidation happened since `epoch` was read (then nothing is stored). Replaces an older
  // entry for the same token hash.
  void Put(const store::Session& session, const store::User& user, TimePoint fetched_at,
           std::uint64_t epoch);

  // Forgets the session with that token hash (not an invalidation: racing fills still land) /
  // the sessions with these ids / every session of the user / everything.
  void EraseToken(std::string_view token_hash);
  void EraseSessions(std::span<const std::string> session_ids);
  void EraseUser(std::string_view user_id);
  void Clear();

  [[nodiscard]] std::size_t size() const;
  [[nodiscard]] std::size_t max_entries() const { return max_entries_; }
  [[nodiscard]] milliseconds max_age() const { return max_age_; }

 private:
  // Removes the entry for `token_hash` and its index records. Caller holds mu_ exclusively.
  void EraseLocked(std::string_view token_hash);
  // Drops entries older than max_age at `now`, and the oldest while more than `keep` remain.
  // Caller holds mu_ exclusively.
  void TrimLocked(TimePoint now, std::size_t keep);

  const std::size_t max_entries_;
  const milliseconds max_age_;
  std::atomic<std::uint64_t> epoch_{0};  // Changed only with mu_ held exclusively.

  mutable std::shared_mutex mu_;
  StringMap<Entry> by_token_;                            // token_hash → entry. Guarded.
  StringMap<std::string> by_session_;                    // session id → token_hash. Guarded.
  StringMap<std::vector<std::string>> by_user_;          // user id → token hashes. Guarded.
  std::deque<std::pair<std::string, TimePoint>> order_;  // Fill order (token_hash, fetched_at).
};

}  // namespace sessiond::session
