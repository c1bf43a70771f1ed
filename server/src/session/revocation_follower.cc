#include "session/revocation_follower.h"

#include <spdlog/spdlog.h>

#include <string>
#include <utility>
#include <vector>

namespace sessiond::session {

RevocationFollower::RevocationFollower(SessionService& sessions, RevocationFollowerOptions options)
    : sessions_(sessions), options_(options) {
  if (options_.wait_for_notifications) sessions_.set_caches_trusted(false);
}

RevocationFollower::~RevocationFollower() { Stop(); }

Result<void> RevocationFollower::CatchUp() {
  std::lock_guard read_lock(read_mu_);
  std::int64_t cursor = 0;
  {
    std::lock_guard lock(mu_);
    cursor = cursor_;
  }
  for (;;) {
    auto page = sessions_.RevocationsSince(cursor, options_.page_size);
    if (!page) return std::unexpected(page.error());
    // Entries this process knows already (its own revocations, or read before) are skipped, so
    // that NoteRevoked — which wakes the event streams — runs only for news. Consecutive entries
    // of one moment (one revoke-sessions) go in one call.
    std::vector<std::string> ids;
    TimePoint at{};
    const auto flush = [&] {
      if (!ids.empty()) sessions_.NoteRevoked(ids, at);
      ids.clear();
    };
    for (const store::Revocation& r : *page) {
      if (sessions_.IsRevoked(r.session_id)) continue;
      if (!ids.empty() && r.revoked_at != at) flush();
      at = r.revoked_at;
      ids.push_back(r.session_id);
    }
    flush();
    if (!page->empty()) {
      spdlog::debug("revocations: read {} up to seq {}", page->size(), page->back().seq);
      cursor = page->back().seq;
      std::lock_guard lock(mu_);
      cursor_ = cursor;
      cv_.notify_all();
    }
    if (page->size() < options_.page_size) return {};
  }
}

void RevocationFollower::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Run(); });
}

void RevocationFollower::Stop() {
  {
    std::lock_guard lock(mu_);
    if (!thread_.joinable()) return;
    stop_ = true;
    cv_.notify_all();
  }
  thread_.join();
}

void RevocationFollower::Wake() {
  std::lock_guard lock(mu_);
  wake_ = true;
  cv_.notify_all();
}

void RevocationFollower::Apply(std::span<const std::string> session_ids, TimePoint at) {
  std::vector<std::string> news;
  for (const std::string& id : session_ids) {
    if (!sessions_.IsRevoked(id)) news.push_back(id);
  }
  if (!news.empty()) sessions_.NoteRevoked(news, at);
}

void RevocationFollower::SetNotificationsConnected(bool connected) {
  std::lock_guard lock(mu_);
  connected_ = connected;
  ++connection_epoch_;
  if (!connected) {
    // At once, not at the next cycle: from now on a revocation elsewhere may go unheard.
    sessions_.set_caches_trusted(false);
  } else {
    wake_ = true;  // Catch up on what was missed; the cycle then trusts again.
  }
  cv_.notify_all();
}

std::int64_t RevocationFollower::cursor() const {
  std::lock_guard lock(mu_);
  return cursor_;
}

bool RevocationFollower::WaitForCursor(std::int64_t seq, milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return cursor_ >= seq; });
}

void RevocationFollower::Run() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, options_.poll_interval, [this] { return stop_ || wake_; });
    if (stop_) break;
    wake_ = false;
    lock.unlock();
    Cycle();
    lock.lock();
  }
}

void RevocationFollower::Cycle() {
  std::uint64_t epoch = 0;
  {
    std::lock_guard lock(mu_);
    epoch = connection_epoch_;
  }
  auto caught_up = CatchUp();
  std::lock_guard lock(mu_);
  if (!caught_up) {
    if (!feed_failing_) {
      spdlog::warn("revocations: cannot read the feed ({}); caches bypassed until it can be read",
                   caught_up.error().detail);
    }
    feed_failing_ = true;
    sessions_.set_caches_trusted(false);
    return;
  }
  if (feed_failing_) spdlog::info("revocations: the feed is readable again");
  feed_failing_ = false;
  // In notification mode, only a catch-up that began after the latest (re)connection counts: a
  // revocation committed while the connection was down is then known before caches answer.
  const bool may_trust =
      !options_.wait_for_notifications || (connected_ && epoch == connection_epoch_);
  if (may_trust && !sessions_.caches_trusted()) {
    spdlog::info("revocations: caught up to seq {}; caches trusted again", cursor_);
  }
  if (may_trust) sessions_.set_caches_trusted(true);
}

}  // namespace sessiond::session
