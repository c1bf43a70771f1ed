// SqliteStore: the embedded default Store, one SQLite database file in WAL mode, used through the
// SQLite C API directly.
//
// Design:
//  * A fixed pool of connections, all opened by Open() with the same pragmas (journal_mode=WAL,
//    synchronous FULL or NORMAL, busy_timeout, foreign_keys=ON). Each connection prepares each
//    statement once, on first use, and keeps it (sqlite3_reset + sqlite3_clear_bindings after
//    every use).
//  * Reads run in parallel on any free connection (WAL readers never block the writer).
//  * SQLite admits one writer at a time, so writes are also serialised in process (a writer gate
//    next to the pool), which turns would-be SQLITE_BUSY retries (the busy handler polls with
//    sleeps) into a condition-variable wait. A writer waiting for a connection goes before
//    waiting readers, so reads cannot starve writes. busy_timeout still bounds waits for *other
//    processes* holding the file.
//  * Writes spanning rows (CreateUser = user + account) run in one BEGIN IMMEDIATE transaction.
//  * FindSessionByTokenHash is a single query (session JOIN user).
//
// Errors: SQLITE_BUSY, I/O and similar → kServiceUnavailable with sqlite3_errmsg in the detail;
// a duplicate email (SQLITE_CONSTRAINT_UNIQUE on user.email) → kUserAlreadyExists; anything else
// → kInternal. Details name the operation, never a token hash, password or email.
//
// Thread-safety: every method may be called concurrently from any thread (see store.h). A caller
// waits at most busy_timeout_ms in all for the writer gate and a free connection, then gets
// kServiceUnavailable.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/store.h"

namespace sessiond::store {

namespace sqlite_internal {
class Connection;  // A sqlite3* with its prepared-statement cache (sqlite_store.cc).
}  // namespace sqlite_internal

struct SqliteOptions {
  // The database file; created (with its -wal and -shm companions) if missing. Must be a real
  // file: ":memory:" would give every pooled connection its own empty database.
  std::string path;
  // PRAGMA synchronous: "full" (default; a commit survives power loss) or "normal" (WAL stays
  // consistent, but the last commits may roll back after power loss). Case-insensitive.
  std::string synchronous = "full";
  // How long a statement waits for a lock held by another process before SQLITE_BUSY, and how
  // long a call waits for the in-process write lock or a free connection.
  std::uint32_t busy_timeout_ms = 5000;
  // Connections in the pool; 0 = 2 x std::thread::hardware_concurrency() (at least 2).
  std::uint32_t pool_size = 0;
};

class SqliteStore final : public Store {
 public:
  // Opens the pool. kServiceUnavailable (with SQLite's reason) if the file cannot be opened or
  // put in WAL mode; kInternal for invalid options (empty path, ":memory:", a synchronous value
  // other than full/normal), which the config loader should have rejected already. Does not
  // migrate: call Migrate() before anything else.
  [[nodiscard]] static Result<std::unique_ptr<SqliteStore>> Open(SqliteOptions options);

  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;
  // Closes every connection. No call may be in flight.
  ~SqliteStore() override;

  // Applies store/sqlite/migrations.h. Safe when already migrated and when several processes
  // migrate the same file at once.
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

  // The value of `PRAGMA <name>` as one pooled connection sees it, as text (e.g. journal_mode →
  // "wal", synchronous → "2"). For diagnostics and tests. `name` must be [a-z_]+ (kInternal
  // otherwise); only reading pragmas makes sense here.
  [[nodiscard]] Result<std::string> QueryPragma(std::string_view name);

  // Number of pooled connections.
  [[nodiscard]] std::size_t pool_size() const { return connections_.size(); }

 private:
  using Connection = sqlite_internal::Connection;
  class Lease;  // RAII checkout of a Connection (and for writes, of the writer gate).

  explicit SqliteStore(SqliteOptions options);

  // Checks out an idle connection, waiting up to busy_timeout_ms. A writer (`for_write`) first
  // takes the writer gate, then a connection, within the same deadline: always in that order, so
  // no one holds a connection while waiting for the gate. The lease releases both.
  [[nodiscard]] Result<Lease> Acquire(bool for_write);
  // Returns a connection to idle_ (rolling back a transaction left open, defensively) and, for a
  // writer, opens the gate.
  void Release(Connection* connection, bool for_write);

  const SqliteOptions options_;
  // Owns every connection; fixed after Open(), so reading it needs no lock.
  std::vector<std::unique_ptr<Connection>> connections_;

  // pool_mu_ guards idle_, writer_busy_ and writer_waiting_.
  std::mutex pool_mu_;
  std::condition_variable idle_cv_;    // A connection returned to idle_.
  std::condition_variable writer_cv_;  // writer_busy_ became false.
  std::vector<Connection*> idle_;
  bool writer_busy_ = false;     // A writer holds the gate (from checkout to release).
  bool writer_waiting_ = false;  // The gate holder waits for a connection; readers hold back.
};

}  // namespace sessiond::store
