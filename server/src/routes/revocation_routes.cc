#include "routes/revocation_routes.h"

#include <spdlog/spdlog.h>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "http/error_table.h"

namespace sessiond::routes {
namespace {

using boost::json::object;

constexpr std::size_t kPageSize = 500;

// A cursor is the decimal seq of the last revocation seen ("0": none). Anything else is refused.
Result<std::int64_t> ParseCursor(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || text.size() > 19 || ec != std::errc() || end != text.data() + text.size() ||
      value < 0) {
    return Fail(ErrorCode::kInvalidCursor, "revocations: bad cursor");
  }
  return value;
}

std::int64_t UnixSeconds(TimePoint t) { return ToUnixMillis(t) / 1000; }

object RenderRevocation(const store::Revocation& r) {
  return object{{"sid", r.session_id}, {"revokedAt", UnixSeconds(r.revoked_at)}};
}

std::string EventText(const store::Revocation& r) {
  std::string out = "id: " + std::to_string(r.seq) + "\nevent: revocation\ndata: ";
  out += boost::json::serialize(RenderRevocation(r));
  out += "\n\n";
  return out;
}

// Fans revocations out to every open event stream. One store read per revocation burst, shared
// by all followers; each follower has its own cursor so none gets an event twice or misses one.
class RevocationStream : public std::enable_shared_from_this<RevocationStream> {
 public:
  explicit RevocationStream(session::SessionService& sessions) : sessions_(sessions) {}
  RevocationStream(const RevocationStream&) = delete;
  RevocationStream& operator=(const RevocationStream&) = delete;
  ~RevocationStream() {
    if (subscription_) sessions_.recent_revocations().Unsubscribe(*subscription_);
  }

  // Sends the backlog after `after`, then follows. Runs on an I/O thread: one store read.
  void Follow(std::shared_ptr<http::EventSink> sink, std::int64_t after) {
    std::lock_guard lock(mu_);
    if (!subscription_) {
      // Subscribed on first use, so a server nobody follows pays nothing per revocation.
      std::weak_ptr<RevocationStream> weak = weak_from_this();
      subscription_ = sessions_.recent_revocations().Subscribe([weak] {
        if (auto self = weak.lock()) self->Broadcast();
      });
    }
    sink->Send("retry: 1000\n\n");
    Follower follower{std::move(sink), after};
    if (!SendAfter(follower, after)) return;
    followers_.push_back(std::move(follower));
  }

 private:
  struct Follower {
    std::shared_ptr<http::EventSink> sink;
    std::int64_t cursor = 0;
  };

  // Every revocation after `after`, page by page; nullopt (logged) if the store failed.
  std::optional<std::vector<store::Revocation>> ReadAfter(std::int64_t after) {
    std::vector<store::Revocation> all;
    for (;;) {
      auto page = sessions_.RevocationsSince(after, kPageSize);
      if (!page) {
        spdlog::warn("revocation stream: store read failed: {}", page.error().detail);
        return std::nullopt;
      }
      all.insert(all.end(), page->begin(), page->end());
      if (page->size() < kPageSize) return all;
      after = page->back().seq;
    }
  }

  // Sends `follower` the revocations in `list` past its cursor, advancing it. False once the
  // client is gone.
  static bool SendNew(Follower& follower, const std::vector<store::Revocation>& list) {
    for (const store::Revocation& r : list) {
      if (r.seq <= follower.cursor) continue;
      if (!follower.sink->Send(EventText(r))) return false;
      follower.cursor = r.seq;
    }
    return true;
  }

  // Sends every revocation after `after` to `follower`. False if the client is gone or the
  // store failed (the stream then ends; the client reconnects with Last-Event-ID).
  bool SendAfter(Follower& follower, std::int64_t after) {
    auto backlog = ReadAfter(after);
    return backlog && SendNew(follower, *backlog);
  }

  // Called on the revoking thread after each revocation (or peer notification).
  void Broadcast() {
    std::lock_guard lock(mu_);
    std::erase_if(followers_, [](const Follower& f) { return !f.sink->open(); });
    if (followers_.empty()) return;
    std::int64_t from = std::numeric_limits<std::int64_t>::max();
    for (const Follower& f : followers_) from = std::min(from, f.cursor);
    // On a store failure followers keep their cursors; the next revocation (or their
    // reconnect) catches up.
    auto fresh = ReadAfter(from);
    if (!fresh) return;
    std::erase_if(followers_, [&fresh](Follower& f) { return !SendNew(f, *fresh); });
  }

  session::SessionService& sessions_;
  std::mutex mu_;
  std::optional<std::uint64_t> subscription_;  // Guarded by mu_.
  std::vector<Follower> followers_;            // Guarded by mu_.
};

bool WantsEventStream(const http::Request& request) {
  const auto accept = request.headers.Get("accept");
  return accept && accept->find("text/event-stream") != std::string_view::npos;
}

http::Response Revocations(const RouteContext& ctx, const http::Request& request,
                           const std::shared_ptr<RevocationStream>& stream) {
  std::optional<std::string> since = request.QueryParam("since");
  const bool streaming = WantsEventStream(request);
  // EventSource resends the last id it saw on reconnect (WHATWG HTML §9.2.4).
  if (!since && streaming) {
    if (auto last = request.headers.Get("last-event-id"); last && !last->empty()) {
      since = std::string(*last);
    }
  }
  std::int64_t after = 0;
  if (since) {
    auto parsed = ParseCursor(*since);
    if (!parsed) return http::ErrorResponse(parsed.error());
    after = *parsed;
  }

  if (streaming) {
    http::Response r;
    r.status = 200;
    r.headers.Add("content-type", "text/event-stream; charset=utf-8");
    r.headers.Add("cache-control", "no-store");
    // Tells nginx not to buffer the stream (proxy_buffering would hold events back).
    r.headers.Add("x-accel-buffering", "no");
    r.stream = [stream, after](std::shared_ptr<http::EventSink> sink) {
      stream->Follow(std::move(sink), after);
    };
    return r;
  }

  auto page = ctx.sessions.RevocationsSince(after, kPageSize);
  if (!page) return http::ErrorResponse(page.error());
  boost::json::array list;
  list.reserve(page->size());
  for (const store::Revocation& r : *page) list.emplace_back(RenderRevocation(r));
  const std::int64_t cursor = page->empty() ? after : page->back().seq;
  http::Response r = JsonResponse(200, object{{"revocations", std::move(list)},
                                              {"cursor", std::to_string(cursor)},
                                              {"hasMore", page->size() == kPageSize}});
  r.headers.Add("cache-control", "no-store");
  return r;
}

}  // namespace

void AddRevocationRoutes(http::Router& router, const std::shared_ptr<const RouteContext>& ctx) {
  auto stream = std::make_shared<RevocationStream>(ctx->sessions);
  AddGuarded(
      router, ctx, "GET", "/api/auth/revocations",
      [stream](const RouteContext& c, const http::Request& request) {
        return Revocations(c, request, stream);
      },
      /*csrf=*/false);
}

}  // namespace sessiond::routes
