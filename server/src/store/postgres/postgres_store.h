// PostgresStore: the Store for many replicas, on PostgreSQL (15 tested) through libpq.
//
// Design:
//  * A fixed-size pool of connections. A slot connects lazily (Open() connects the first one to
//    fail fast on a bad URL or an unreachable server) and reconnects on its next checkout after
//    its connection was lost, so when PostgreSQL comes back the store recovers by itself.
//  * A connection checked out of the pool is first checked for a goodbye from the server (see
//    Connection::LooksAlive), so after a server restart the stale connections are replaced before
//    they fail a request. Idempotent operations (reads, touches, updates that set values) are
//    retried once on a fresh connection when a reused one turns out to be lost (reset, EOF);
//    never after a timeout, which a retry would only double.
//  * Each connection prepares each statement once, on first use (PQprepare by name).
//  * Every wait is bounded: connecting by connect_timeout_ms, a statement by the server's
//    statement_timeout (set per session) and, should the server or the network freeze, by the
//    client giving up statement_timeout_ms + 1 s later and discarding the connection. A call
//    waits at most pool_timeout_ms for a free connection. Each bound gives kServiceUnavailable.
//    Not bounded: resolving a host name (libpq calls getaddrinfo synchronously) — use an IP
//    address or a local resolver when DNS may hang.
//  * Changes spanning statements run in one transaction (AddRevocations); CreateUser is one
//    statement inserting both rows (a data-modifying CTE), which is atomic by itself and costs
//    one round trip instead of four.
//  * Schema: store/postgres/migrations.h (BIGINT millisecond times, as in SQLite).
//
// Errors: connection failures, timeouts and SQLSTATE classes 08/53/57/58 (and serialization
// failures, deadlocks, lock timeouts) → kServiceUnavailable; a duplicate email (23505 on
// user_email_key) → kUserAlreadyExists; text containing U+0000, which PostgreSQL's text type
// cannot hold → kValidation; anything else → kInternal. Details carry the operation, the
// server's primary message and the SQLSTATE — never its DETAIL line, which can quote values.
//
// Thread-safety: every method may be called concurrently from any thread (see store.h).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "store/store.h"

namespace sessiond::store {

namespace postgres_internal {
class Connection;  // pg_connection.h
}  // namespace postgres_internal

struct PostgresOptions {
  // A libpq connection URI, postgres://user:password@host:port/dbname?param=value (or a
  // key=value string). Holds a secret: never log it.
  std::string url;
  // Connections in the pool; 0 = 2 x std::thread::hardware_concurrency() (at least 2).
  std::uint32_t pool_size = 0;
  // How long a call waits for a free pooled connection.
  std::uint32_t pool_timeout_ms = 5000;
  // How long establishing a connection (TCP, TLS, authentication) may take.
  std::uint32_t connect_timeout_ms = 5000;
  // The server-side statement_timeout of every session (lock waits included).
  std::uint32_t statement_timeout_ms = 5000;
};

class PostgresStore final : public Store {
 public:
  // Validates the options and connects the first pooled connection. kValidation if the URL does
  // not parse (the detail does not repeat it: it may hold a password) or a timeout is 0;
  // kServiceUnavailable (with libpq's reason) if the server cannot be reached. Does not migrate:
  // call Migrate() before anything else.
  [[nodiscard]] static Result<std::unique_ptr<PostgresStore>> Open(PostgresOptions options);

  PostgresStore(const PostgresStore&) = delete;
  PostgresStore& operator=(const PostgresStore&) = delete;
  // Closes every connection. No call may be in flight.
  ~PostgresStore() override;

  // Applies store/postgres/migrations.h. Safe when already migrated and when several processes
  // migrate the same database at once.
  [[nodiscard]] Result<int> Migrate() override;
  // SELECT 1 on a pooled connection.
  [[nodiscard]] Result<void> Ping() override;
  [[nodiscard]] Result<void> CreateUser(const User& user, const Account& account) override;
  [[nodiscard]] Result<std::optional<UserWithPassword>> FindUserByEmail(
      std::string_view email) override;
  [[nodiscard]] Result<std::optional<User>> FindUserById(std::string_view user_id) override;
  [[nodiscard]] Result<bool> UpdateUser(std::string_view user_id, const UserUpdate& update,
                                        TimePoint now) override;
  [[nodiscard]] Result<bool> UpdatePasswordHash(std::string_view user_id,
                                                std::string_view password_hash,
                                                TimePoint now) override;
  [[nodiscard]] Result<void> CreateSession(const Session& session) override;
  [[nodiscard]] Result<std::optional<SessionWithUser>> FindSessionByTokenHash(
      std::string_view token_hash) override;
  [[nodiscard]] Result<bool> TouchSession(std::string_view session_id, TimePoint expires_at,
                                          TimePoint updated_at) override;
  [[nodiscard]] Result<int> DeleteSession(std::string_view session_id) override;
  [[nodiscard]] Result<std::vector<Session>> ListUserSessions(std::string_view user_id) override;
  [[nodiscard]] Result<std::vector<std::string>> DeleteUserSessions(
      std::string_view user_id, std::optional<std::string_view> keep_session_id) override;
  [[nodiscard]] Result<std::int64_t> DeleteExpiredSessions(TimePoint now) override;
  [[nodiscard]] Result<void> CreateVerification(const Verification& verification) override;
  [[nodiscard]] Result<std::optional<Verification>> ConsumeVerification(
      std::string_view identifier) override;
  [[nodiscard]] Result<std::int64_t> DeleteExpiredVerifications(TimePoint now) override;
  [[nodiscard]] Result<void> AddRevocations(std::span<const std::string> session_ids,
                                            TimePoint at) override;
  [[nodiscard]] Result<std::vector<Revocation>> ListRevocations(std::int64_t after_seq,
                                                                std::size_t limit) override;
  [[nodiscard]] Result<std::int64_t> DeleteRevocationsBefore(TimePoint before) override;

  // The server reached at Open(), "host:port/dbname" (no user, no password): for logs.
  [[nodiscard]] const std::string& server() const { return server_; }
  // Number of pooled connections (slots).
  [[nodiscard]] std::size_t pool_size() const { return slots_.size(); }
  // Connections established so far, reconnections included. For diagnostics and tests.
  [[nodiscard]] std::uint64_t connects() const { return connects_.load(); }

 private:
  using Connection = postgres_internal::Connection;
  // A pooled place for a connection; `connection` is null until connected, and after a loss.
  struct Slot {
    std::unique_ptr<Connection> connection;
  };
  class Lease;  // RAII checkout of a Slot with a live connection.

  explicit PostgresStore(PostgresOptions options);

  // Checks out a slot (waiting up to pool_timeout_ms) and makes sure it holds a connection that
  // looks alive, connecting if needed. On failure the slot goes back to the pool.
  [[nodiscard]] Result<Lease> Acquire();
  // Returns a slot: a broken connection is closed, a transaction left open rolled back.
  void Release(Slot* slot);
  // Connects `slot`, logging the transitions between reachable and unreachable once each.
  [[nodiscard]] Result<void> Connect(Slot& slot);

  // Runs `body(Connection&)` on a pooled connection. When `idempotent` and the body failed
  // because a reused connection was dead, runs it once more on a fresh connection.
  template <class Body>
  auto Run(bool idempotent, Body&& body) -> std::invoke_result_t<Body&, Connection&>;

  const PostgresOptions options_;
  std::string server_;  // Set by Open().
  // Owns every slot; fixed after Open(), so reading it needs no lock.
  std::vector<std::unique_ptr<Slot>> slots_;
  std::atomic<std::uint64_t> connects_{0};
  std::atomic<bool> reachable_{true};  // Last connection attempt succeeded (for logging).

  std::mutex pool_mu_;  // Guards idle_.
  std::condition_variable idle_cv_;
  std::vector<Slot*> idle_;
};

}  // namespace sessiond::store
