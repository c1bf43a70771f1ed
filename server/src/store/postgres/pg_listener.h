// PgListener: one dedicated libpq connection that LISTENs on a channel and reports, from its own
// thread, each batch of notifications and each change of its connection state. sessiond uses it
// for the revocation feed: PostgresStore::AddRevocations issues `NOTIFY sessiond_revocations,
// '<notice>'` (RevocationNotifySql) in its inserting transaction, PostgreSQL delivers it at
// commit to every listening replica, and app/ hands the notice's session ids to the
// RevocationFollower at once (session/revocation_follower.h) and wakes it to read the feed.
//
// Behaviour:
//  * Connects (bounded by connect_timeout, as every pooled connection: pg_connection.h), names
//    itself application_name = 'sessiond-revocations' (so an operator can find it in
//    pg_stat_activity), runs LISTEN, then reports on_state(true). Notifications are read as soon
//    as the socket is readable (poll() on PQsocket, PQconsumeInput, PQnotifies): on_notify runs
//    once per batch, never with a lock held.
//  * Liveness: a terminated backend or a server shutdown closes the socket, which poll() reports
//    at once. A server that vanished silently (host down, partition) is caught by re-issuing the
//    (idempotent) LISTEN every check_interval, with the statement deadline of pooled connections.
//  * On a loss: on_state(false) at once, one immediate reconnection attempt (a terminated backend
//    usually means the server is fine), then attempts with exponential backoff from min_backoff
//    to max_backoff. Transitions are logged once each, never the URL.
//  * Notifications sent while the connection was down are lost (PostgreSQL queues them per
//    listening session only): whoever uses on_state(true) must catch up by other means (the
//    follower reads the feed from its cursor).
//
// Thread-safety: Start/Stop from one thread; listening() and backend_pid() from any. The
// callbacks run on the listener's thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/clock.h"

namespace sessiond::store {

// The channel PostgresStore::AddRevocations notifies.
inline constexpr const char* kRevocationChannel = "sessiond_revocations";

// A notification's payload names the revoked sessions, so a listener can refuse them before it
// has read the feed (one database round trip less on the path a revocation takes to another
// replica): "<revoked_at, Unix ms>:<id>,<id>,...". The payload is "" when the ids would not fit
// PostgreSQL's payload limit (8000 bytes) or are not all made of [A-Za-z0-9_-] (session ids are
// base62): receivers then learn them from the feed only.
struct RevocationNotice {
  TimePoint at;
  std::vector<std::string> session_ids;
};

// `NOTIFY sessiond_revocations, '<payload>'`, safe to append to other SQL text (the payload holds
// only the characters above).
[[nodiscard]] std::string RevocationNotifySql(std::span<const std::string> session_ids,
                                              TimePoint at);

// The notice in a payload, or nullopt for "" and anything malformed.
[[nodiscard]] std::optional<RevocationNotice> ParseRevocationNotice(std::string_view payload);

struct PgListenerOptions {
  std::string url;  // A libpq URI or key=value string; may hold a password: never logged.
  std::string channel = kRevocationChannel;  // An SQL identifier (letters, digits, _).
  milliseconds connect_timeout{5000};
  milliseconds statement_timeout{5000};
  milliseconds check_interval{5000};
  milliseconds min_backoff{100};
  milliseconds max_backoff{5000};
};

class PgListener {
 public:
  // The payloads of one batch of notifications, in arrival order.
  using NotifyCallback = std::function<void(const std::vector<std::string>& payloads)>;
  using StateCallback = std::function<void(bool listening)>;

  PgListener(PgListenerOptions options, NotifyCallback on_notify, StateCallback on_state);
  PgListener(const PgListener&) = delete;
  PgListener& operator=(const PgListener&) = delete;
  ~PgListener();  // Stop()

  // Starts the thread (connects in the background). Idempotent.
  void Start();
  // Ends the thread: at once while it waits (on the socket or a backoff), after at most
  // connect_timeout / the statement deadline while it connects or checks. No callback runs after
  // Stop returns. Idempotent.
  void Stop();

  // True between on_state(true) and on_state(false).
  [[nodiscard]] bool listening() const { return listening_.load(); }
  // The server process id of the listening session (PQbackendPID), 0 when not listening.
  [[nodiscard]] int backend_pid() const { return backend_pid_.load(); }
  // Connections established so far (reconnections included), and attempts made (failed ones
  // included).
  [[nodiscard]] std::uint64_t connects() const { return connects_.load(); }
  [[nodiscard]] std::uint64_t attempts() const { return attempts_.load(); }

 private:
  void Run();
  // Sleeps `d` unless Stop is called first. False if stopping.
  bool WaitFor(milliseconds d);
  [[nodiscard]] bool stopping() const;

  const PgListenerOptions options_;
  const NotifyCallback on_notify_;
  const StateCallback on_state_;
  int wake_fd_ = -1;  // eventfd: Stop writes it so the socket poll returns.

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // Guarded by mu_.
  std::thread thread_;

  std::atomic<bool> listening_{false};
  std::atomic<int> backend_pid_{0};
  std::atomic<std::uint64_t> connects_{0};
  std::atomic<std::uint64_t> attempts_{0};
};

}  // namespace sessiond::store
