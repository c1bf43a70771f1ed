// RecentRevocations: the session ids revoked lately, in memory, so paths that answer without a
// database read (the cookie cache, the revocation event stream, peer replicas' caches) learn of a
// revocation at once. Entries are kept for a retention window that the owner sets at least as
// long as anything that could still vouch for a revoked session (a cached session cookie, an
// access token); after it the database's answer is the only one needed.
//
// Thread-safety: every method may be called concurrently from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/string_map.h"

namespace sessiond::session {

class RecentRevocations {
 public:
  explicit RecentRevocations(seconds retention) : retention_(retention) {}
  RecentRevocations(const RecentRevocations&) = delete;
  RecentRevocations& operator=(const RecentRevocations&) = delete;

  // Records `session_ids` as revoked at `at`, then calls every listener (on this thread, with no
  // lock held). Ids already known keep their first time.
  void Add(std::span<const std::string> session_ids, TimePoint at);

  // True if `session_id` was added and not yet pruned.
  [[nodiscard]] bool Contains(std::string_view session_id) const;

  // Forgets entries added for times before `now - retention`.
  void Prune(TimePoint now);

  [[nodiscard]] std::size_t size() const;

  using Listener = std::function<void()>;
  // Calls `listener` after every Add until Unsubscribe(returned id). The listener must be cheap
  // and must not call Subscribe/Unsubscribe itself.
  [[nodiscard]] std::uint64_t Subscribe(Listener listener);
  void Unsubscribe(std::uint64_t id);

 private:
  const seconds retention_;
  mutable std::shared_mutex mu_;
  StringMap<TimePoint> revoked_;  // Guarded by mu_.
  std::mutex listeners_mu_;
  std::map<std::uint64_t, Listener> listeners_;  // Guarded by listeners_mu_.
  std::uint64_t next_listener_ = 1;              // Guarded by listeners_mu_.
};

}  // namespace sessiond::session
