// RevocationFollower: keeps this process's in-memory record of revocations (SessionService's
// IsRevoked) current with revocations other processes on the same store make, and decides
// whether this process's caches may be trusted.
//
// It holds a cursor into the store's revocation feed (Store::ListRevocations, seq order = commit
// order) and, whenever woken — by Wake() (a PostgreSQL NOTIFY, through app/) or every
// poll_interval as a fallback — reads everything after the cursor and hands the entries this
// process does not know yet to SessionService::NoteRevoked. Polling alone makes two processes on
// one SQLite file converge within poll_interval. A notification that names the sessions is
// applied before any read (Apply), so the feed read is off the critical path.
//
// Trust (SessionService::set_caches_trusted): a cache may answer only if this process cannot be
// missing a revocation committed more than a notification's latency ago.
//  * With `wait_for_notifications` (PostgreSQL): trusted only while the notification source
//    reports connected AND a catch-up that started after it (re)connected has succeeded — a
//    revocation committed while the connection was down is applied before any cache answers
//    again. Disconnection untrusts at once (SetNotificationsConnected(false)).
//  * Without (polling only): trusted after every successful catch-up; staleness is bounded by
//    poll_interval.
//  * In both modes a failed read of the feed untrusts until a read succeeds.
//
// It knows no SQL: it talks to the store through SessionService only, and the notification
// source (store/postgres/pg_listener.h) is wired to Wake / SetNotificationsConnected by app/.
//
// Thread-safety: every public method may be called from any thread; Start/Stop not concurrently
// with each other.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <thread>

#include "common/clock.h"
#include "common/error.h"
#include "session/session_service.h"

namespace sessiond::session {

struct RevocationFollowerOptions {
  // Fallback read of the feed when nothing woke the follower (replication.pollIntervalMs).
  milliseconds poll_interval{1000};
  // Trust caches only while notifications are connected (see above). Set for PostgreSQL.
  bool wait_for_notifications = false;
  // Revocations read per store call.
  std::size_t page_size = 1000;
};

class RevocationFollower {
 public:
  // `sessions` must outlive the follower. In wait_for_notifications mode the constructor
  // untrusts the caches (nothing is connected yet).
  RevocationFollower(SessionService& sessions, RevocationFollowerOptions options);
  RevocationFollower(const RevocationFollower&) = delete;
  RevocationFollower& operator=(const RevocationFollower&) = delete;
  ~RevocationFollower();  // Stop()

  // Reads the feed from the cursor to its end, now, on this thread (at start-up, before Start:
  // the whole retained feed, which is what a fresh process must know). The store's error on
  // failure (the cursor then stays where the last page left it).
  [[nodiscard]] Result<void> CatchUp();

  // Starts the background thread (woken by Wake, else every poll_interval). Idempotent.
  void Start();
  // Stops and joins the thread. Idempotent; the destructor calls it.
  void Stop();

  // Asks the thread to read the feed now. Cheap; callable from any thread (a listener's).
  void Wake();

  // Records revocations heard of directly (a notification naming them) at once, on the calling
  // thread; those this process knows already are skipped. The feed remains the authority: the
  // next catch-up reads them again (and skips them).
  void Apply(std::span<const std::string> session_ids, TimePoint at);

  // The notification source's state: false untrusts the caches at once; true wakes the thread,
  // whose next successful catch-up trusts them again.
  void SetNotificationsConnected(bool connected);

  // The seq of the last revocation read.
  [[nodiscard]] std::int64_t cursor() const;

  // Waits until the cursor reaches `seq` (or passes it), at most `timeout`. For tests and
  // diagnostics.
  [[nodiscard]] bool WaitForCursor(std::int64_t seq, milliseconds timeout) const;

 private:
  void Run();
  // One catch-up from the cursor; updates trust. Called on the thread.
  void Cycle();

  SessionService& sessions_;
  const RevocationFollowerOptions options_;

  // Serialises catch-ups (CatchUp from the caller, Cycle on the thread): the cursor and the
  // pages read must move together.
  std::mutex read_mu_;

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;  // Wakes the thread; notifies cursor waiters.
  std::int64_t cursor_ = 0;             // Guarded by mu_ (written with read_mu_ held too).
  bool wake_ = false;                   // Guarded by mu_.
  bool stop_ = false;                   // Guarded by mu_.
  bool connected_ = false;              // Guarded by mu_.
  std::uint64_t connection_epoch_ = 0;  // Guarded by mu_; bumped on every state change.
  bool feed_failing_ = false;           // Guarded by mu_ (for logging transitions).
  std::thread thread_;
};

}  // namespace sessiond::session
