#include "session/recent_revocations.h"

#include <vector>

namespace sessiond::session {

void RecentRevocations::Add(std::span<const std::string> session_ids, TimePoint at) {
  if (session_ids.empty()) return;
  {
    std::unique_lock lock(mu_);
    for (const std::string& id : session_ids) revoked_.try_emplace(id, at);
  }
  // Copy the listeners out so one may be removed concurrently without the call holding a lock.
  std::vector<Listener> to_call;
  {
    std::lock_guard lock(listeners_mu_);
    to_call.reserve(listeners_.size());
    for (const auto& [id, listener] : listeners_) to_call.push_back(listener);
  }
  for (const Listener& listener : to_call) listener();
}

bool RecentRevocations::Contains(std::string_view session_id) const {
  std::shared_lock lock(mu_);
  return revoked_.find(session_id) != revoked_.end();
}

void RecentRevocations::Prune(TimePoint now) {
  const TimePoint horizon = now - retention_;
  std::unique_lock lock(mu_);
  std::erase_if(revoked_, [horizon](const auto& entry) { return entry.second < horizon; });
}

std::size_t RecentRevocations::size() const {
  std::shared_lock lock(mu_);
  return revoked_.size();
}

std::uint64_t RecentRevocations::Subscribe(Listener listener) {
  std::lock_guard lock(listeners_mu_);
  const std::uint64_t id = next_listener_++;
  listeners_.emplace(id, std::move(listener));
  return id;
}

void RecentRevocations::Unsubscribe(std::uint64_t id) {
  std::lock_guard lock(listeners_mu_);
  listeners_.erase(id);
}

}  // namespace sessiond::session
