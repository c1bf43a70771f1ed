#include "store/postgres/pg_listener.h"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>
#include <utility>

#include "common/error.h"
#include "store/postgres/pg_connection.h"

namespace sessiond::store {
namespace {

using postgres_internal::Connection;
using SteadyClock = std::chrono::steady_clock;

// The channel goes into SQL text (LISTEN takes an identifier, not a parameter): letters, digits
// and underscores only, not starting with a digit.
bool IsPlainIdentifier(const std::string& s) {
  if (s.empty() || s.size() > 63 || (s[0] >= '0' && s[0] <= '9')) return false;
  return std::ranges::all_of(
      s, [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

PgListenerOptions Checked(PgListenerOptions options) {
  if (!IsPlainIdentifier(options.channel)) {
    spdlog::error("revocations: channel name \"{}\" is not a plain identifier; using {}",
                  options.channel, kRevocationChannel);
    options.channel = kRevocationChannel;
  }
  return options;
}

std::string OneLine(const char* message) {
  std::string out = message != nullptr ? message : "";
  std::ranges::replace(out, '\n', ' ');
  std::ranges::replace(out, '\t', ' ');
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// Takes every notification libpq has parsed, appending their payloads to `payloads`.
void DrainNotifications(PGconn* conn, std::vector<std::string>& payloads) {
  while (PGnotify* n = PQnotifies(conn)) {
    payloads.emplace_back(n->extra != nullptr ? n->extra : "");
    PQfreemem(n);
  }
}

bool IsIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

// PostgreSQL refuses payloads of 8000 bytes or more.
constexpr std::size_t kMaxPayload = 7999;

}  // namespace

std::string RevocationNotifySql(std::span<const std::string> session_ids, TimePoint at) {
  std::string payload = std::to_string(ToUnixMillis(at)) + ":";
  bool first = true;
  for (const std::string& id : session_ids) {
    if (id.empty() || !std::ranges::all_of(id, IsIdChar) ||
        payload.size() + id.size() + 1 > kMaxPayload) {
      payload.clear();
      break;
    }
    if (!first) payload.push_back(',');
    payload += id;
    first = false;
  }
  if (first) payload.clear();  // No ids.
  return std::string("NOTIFY ") + kRevocationChannel + ", '" + payload + "'";
}

std::optional<RevocationNotice> ParseRevocationNotice(std::string_view payload) {
  const std::size_t colon = payload.find(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  std::int64_t ms = 0;
  const std::string_view digits = payload.substr(0, colon);
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), ms);
  if (ec != std::errc() || end != digits.data() + digits.size() || ms < 0) return std::nullopt;
  RevocationNotice notice{.at = FromUnixMillis(ms), .session_ids = {}};
  std::string_view rest = payload.substr(colon + 1);
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    const std::string_view id = rest.substr(0, comma);
    if (id.empty() || !std::ranges::all_of(id, IsIdChar)) return std::nullopt;
    notice.session_ids.emplace_back(id);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  if (notice.session_ids.empty()) return std::nullopt;
  return notice;
}

PgListener::PgListener(PgListenerOptions options, NotifyCallback on_notify, StateCallback on_state)
    : options_(Checked(std::move(options))),
      on_notify_(std::move(on_notify)),
      on_state_(std::move(on_state)),
      wake_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (wake_fd_ < 0) spdlog::error("revocations: eventfd: {}", std::strerror(errno));
}

PgListener::~PgListener() {
  Stop();
  if (wake_fd_ >= 0) close(wake_fd_);
}

void PgListener::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Run(); });
}

void PgListener::Stop() {
  {
    std::lock_guard lock(mu_);
    if (!thread_.joinable()) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (wake_fd_ >= 0) {
    const std::uint64_t one = 1;
    (void)!write(wake_fd_, &one, sizeof one);
  }
  thread_.join();
  if (wake_fd_ >= 0) {
    std::uint64_t drained = 0;
    (void)!read(wake_fd_, &drained, sizeof drained);
  }
}

bool PgListener::stopping() const {
  std::lock_guard lock(mu_);
  return stop_;
}

bool PgListener::WaitFor(milliseconds d) {
  std::unique_lock lock(mu_);
  return !cv_.wait_for(lock, d, [this] { return stop_; });
}

void PgListener::Run() {
  const std::string listen_sql = "LISTEN " + options_.channel;
  milliseconds backoff{0};  // The first attempt, and the first after a loss, are immediate.
  bool reported_down = false;
  bool ever_listened = false;
  while (!stopping()) {
    if (backoff.count() > 0 && !WaitFor(backoff)) break;
    ++attempts_;
    auto connected = Connection::Open({.url = options_.url,
                                       .connect_timeout = options_.connect_timeout,
                                       .statement_timeout = options_.statement_timeout},
                                      /*statement_slots=*/0);
    Result<postgres_internal::ResultHandle> ready =
        connected
            ? (*connected)
                  ->RunSimple(
                      ("SET application_name = 'sessiond-revocations'; " + listen_sql).c_str(),
                      "listen", (*connected)->StatementDeadline())
            : Result<postgres_internal::ResultHandle>(std::unexpected(connected.error()));
    if (!ready) {
      if (!reported_down) {
        spdlog::warn("revocations: cannot listen for notifications ({}); retrying",
                     ready.error().detail);
        reported_down = true;
      }
      backoff = std::clamp(backoff * 2, options_.min_backoff, options_.max_backoff);
      continue;
    }
    Connection& connection = **connected;
    PGconn* const conn = connection.native_handle();
    ++connects_;
    backoff = milliseconds{0};
    reported_down = false;
    backend_pid_ = PQbackendPID(conn);
    listening_ = true;
    spdlog::info("revocations: {} notifications on {} (channel {})",
                 ever_listened ? "listening again for" : "listening for", connection.Describe(),
                 options_.channel);
    ever_listened = true;
    if (on_state_) on_state_(true);

    // Until the connection fails or Stop.
    std::string lost;
    auto next_check = SteadyClock::now() + options_.check_interval;
    while (lost.empty()) {
      const auto left = std::chrono::ceil<milliseconds>(next_check - SteadyClock::now()).count();
      pollfd fds[2] = {{.fd = PQsocket(conn), .events = POLLIN, .revents = 0},
                       {.fd = wake_fd_, .events = POLLIN, .revents = 0}};
      if (fds[0].fd < 0) {
        lost = "no socket";
        break;
      }
      const int n = poll(fds, wake_fd_ >= 0 ? 2 : 1, static_cast<int>(std::max<long>(left, 0)));
      if (n < 0 && errno != EINTR) {
        lost = std::string("poll: ") + std::strerror(errno);
        break;
      }
      if (stopping()) break;
      if (n > 0 && fds[0].revents != 0) {
        if (PQconsumeInput(conn) == 0) {
          lost = OneLine(PQerrorMessage(conn));
          break;
        }
        std::vector<std::string> payloads;
        DrainNotifications(conn, payloads);
        if (PQstatus(conn) != CONNECTION_OK) lost = OneLine(PQerrorMessage(conn));
        if (!payloads.empty()) {
          spdlog::debug("revocations: {} notification(s)", payloads.size());
          if (on_notify_) on_notify_(payloads);
        }
        continue;
      }
      if (SteadyClock::now() >= next_check) {
        // LISTEN on a channel already listened to is a no-op round trip: proof the server and
        // the path to it are alive, and pg_stat_activity keeps showing what this session is.
        auto checked = connection.RunSimple(listen_sql.c_str(), "listen check",
                                            connection.StatementDeadline());
        // Notifications that arrived with the answer are parsed already.
        std::vector<std::string> payloads;
        DrainNotifications(conn, payloads);
        if (!checked) lost = checked.error().detail;
        if (!payloads.empty() && on_notify_) on_notify_(payloads);
        next_check = SteadyClock::now() + options_.check_interval;
      }
    }
    listening_ = false;
    backend_pid_ = 0;
    connected->reset();
    if (stopping()) break;
    spdlog::warn("revocations: notification connection lost ({}); caches bypassed until it is back",
                 lost);
    if (on_state_) on_state_(false);
  }
  listening_ = false;
  backend_pid_ = 0;
}

}  // namespace sessiond::store
