#include "session/session_cache.h"

#include <algorithm>
#include <mutex>

namespace sessiond::session {

SessionCache::SessionCache(std::size_t max_entries, milliseconds max_age)
    : max_entries_(std::max<std::size_t>(max_entries, 1)), max_age_(max_age) {}

std::optional<SessionCache::Entry> SessionCache::Find(std::string_view token_hash,
                                                      TimePoint now) const {
  std::shared_lock lock(mu_);
  const auto it = by_token_.find(token_hash);
  if (it == by_token_.end() || now - it->second.fetched_at >= max_age_) return std::nullopt;
  return it->second;
}

void SessionCache::Put(const store::Session& session, const store::User& user, TimePoint fetched_at,
                       std::uint64_t epoch) {
  std::unique_lock lock(mu_);
  // Compared under the lock that every invalidation holds while it bumps the epoch: either the
  // invalidation came first (and this fill, read before it, is dropped) or it comes after and
  // erases what is stored here.
  if (epoch != epoch_.load(std::memory_order_relaxed)) return;
  EraseLocked(session.token_hash);
  TrimLocked(fetched_at, max_entries_ - 1);
  by_token_.emplace(session.token_hash, Entry{session, user, fetched_at});
  by_session_.insert_or_assign(session.id, session.token_hash);
  by_user_[session.user_id].push_back(session.token_hash);
  order_.emplace_back(session.token_hash, fetched_at);
  // Records of entries erased or refilled stay in order_ until they reach its front; rebuild it
  // when they would make it outgrow the entries it orders.
  if (order_.size() > 2 * max_entries_ + 1024) {
    order_.clear();
    for (const auto& [hash, entry] : by_token_) order_.emplace_back(hash, entry.fetched_at);
    std::ranges::sort(order_, {}, &std::pair<std::string, TimePoint>::second);
  }
}

void SessionCache::EraseToken(std::string_view token_hash) {
  {
    // The common case (a token that was never cached) takes no exclusive lock.
    std::shared_lock lock(mu_);
    if (!by_token_.contains(token_hash)) return;
  }
  // No epoch bump: this forgets a copy the store has just contradicted; it does not announce a
  // write of ours that racing fills must not undo (a flood of unknown tokens would otherwise
  // keep every fill from being stored).
  std::unique_lock lock(mu_);
  EraseLocked(token_hash);
}

void SessionCache::EraseSessions(std::span<const std::string> session_ids) {
  std::unique_lock lock(mu_);
  epoch_.fetch_add(1, std::memory_order_release);
  for (const std::string& id : session_ids) {
    const auto it = by_session_.find(id);
    if (it == by_session_.end()) continue;
    const std::string hash = it->second;  // EraseLocked removes the index record.
    EraseLocked(hash);
  }
}

void SessionCache::EraseUser(std::string_view user_id) {
  std::unique_lock lock(mu_);
  epoch_.fetch_add(1, std::memory_order_release);
  const auto it = by_user_.find(user_id);
  if (it == by_user_.end()) return;
  const std::vector<std::string> hashes = it->second;  // EraseLocked edits the list.
  for (const std::string& hash : hashes) EraseLocked(hash);
}

void SessionCache::Clear() {
  std::unique_lock lock(mu_);
  epoch_.fetch_add(1, std::memory_order_release);
  by_token_.clear();
  by_session_.clear();
  by_user_.clear();
  order_.clear();
}

std::size_t SessionCache::size() const {
  std::shared_lock lock(mu_);
  return by_token_.size();
}

void SessionCache::EraseLocked(std::string_view token_hash) {
  const auto it = by_token_.find(token_hash);
  if (it == by_token_.end()) return;
  const store::Session& session = it->second.session;
  if (const auto s = by_session_.find(session.id);
      s != by_session_.end() && s->second == token_hash) {
    by_session_.erase(s);
  }
  if (const auto u = by_user_.find(session.user_id); u != by_user_.end()) {
    std::erase(u->second, token_hash);
    if (u->second.empty()) by_user_.erase(u);
  }
  by_token_.erase(it);
}

void SessionCache::TrimLocked(TimePoint now, std::size_t keep) {
  while (!order_.empty()) {
    const auto& [hash, fetched_at] = order_.front();
    const bool expired = now - fetched_at >= max_age_;
    if (!expired && by_token_.size() <= keep) break;
    // A record is current only if the entry it names was filled at that time; otherwise the
    // entry was erased or refilled later, and only the record goes.
    if (const auto it = by_token_.find(hash);
        it != by_token_.end() && it->second.fetched_at == fetched_at) {
      EraseLocked(hash);
    }
    order_.pop_front();
  }
}

}  // namespace sessiond::session
