#include "store/sqlite/sqlite_store.h"

#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <climits>
#include <cstddef>
#include <iterator>
#include <thread>
#include <utility>

#include "store/sqlite/migrations.h"
#include "store/sqlite/sqlite_util.h"

namespace sessiond::store {
namespace sqlite_internal {
namespace {

// Every statement the store runs, prepared at most once per connection.
enum class Sql : std::size_t {
  kBegin,
  kCommit,
  kRollback,
  kPing,
  kInsertUser,
  kInsertAccount,
  kFindUserByEmail,
  kFindUserById,
  kUpdatePasswordHash,
  kUpdateUserName,
  kUpdateUserImage,
  kTouchUser,
  kInsertSession,
  kFindSessionByTokenHash,
  kTouchSession,
  kDeleteSession,
  kListUserSessions,
  kDeleteUserSessions,
  kDeleteUserSessionsExcept,
  kDeleteExpiredSessions,
  kInsertVerification,
  kConsumeVerification,
  kDeleteExpiredVerifications,
  kInsertRevocation,
  kListRevocations,
  kDeleteRevocationsBefore,
  kCount,
};
constexpr std::size_t kSqlCount = static_cast<std::size_t>(Sql::kCount);

// Column lists shared by the readers below; Read*() depend on their order.
#define SESSIOND_USER_COLUMNS \
  "u.id, u.email, u.name, u.image, u.email_verified, u.created_at, u.updated_at"
#define SESSIOND_SESSION_COLUMNS                                                             \
  "s.id, s.user_id, s.token_hash, s.expires_at, s.ip_address, s.user_agent, s.remember_me, " \
  "s.created_at, s.updated_at, s.user_agent_parsed"
constexpr int kUserColumnCount = 7;
constexpr int kSessionColumnCount = 10;

constexpr const char* kSqlText[] = {
    // kBegin: IMMEDIATE takes the write lock up front, so the transaction never has to upgrade a
    // read lock (which can fail with SQLITE_BUSY without waiting).
    "BEGIN IMMEDIATE",
    // kCommit, kRollback, kPing
    "COMMIT",
    "ROLLBACK",
    "SELECT 1",
    // kInsertUser
    "INSERT INTO \"user\" (id, email, name, image, email_verified, created_at, updated_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    // kInsertAccount
    "INSERT INTO account (id, user_id, account_id, provider_id, password, created_at, updated_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    // kFindUserByEmail
    "SELECT " SESSIOND_USER_COLUMNS
    ", a.password FROM \"user\" AS u "
    "LEFT JOIN account AS a ON a.user_id = u.id AND a.provider_id = 'credential' "
    "WHERE u.email = ?1 LIMIT 1",
    // kFindUserById
    "SELECT " SESSIOND_USER_COLUMNS " FROM \"user\" AS u WHERE u.id = ?1",
    // kUpdatePasswordHash
    "UPDATE account SET password = ?2, updated_at = ?3 "
    "WHERE user_id = ?1 AND provider_id = 'credential'",
    // kUpdateUserName, kUpdateUserImage, kTouchUser
    "UPDATE \"user\" SET name = ?2 WHERE id = ?1",
    "UPDATE \"user\" SET image = ?2 WHERE id = ?1",
    "UPDATE \"user\" SET updated_at = ?2 WHERE id = ?1",
    // kInsertSession
    "INSERT INTO session (id, user_id, token_hash, expires_at, ip_address, user_agent, "
    "remember_me, created_at, updated_at, user_agent_parsed) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    // kFindSessionByTokenHash: one query for the hot path of every authenticated request.
    "SELECT " SESSIOND_SESSION_COLUMNS ", " SESSIOND_USER_COLUMNS
    " FROM session AS s "
    "JOIN \"user\" AS u ON u.id = s.user_id WHERE s.token_hash = ?1",
    // kTouchSession
    "UPDATE session SET expires_at = ?2, updated_at = ?3 WHERE id = ?1",
    // kDeleteSession
    "DELETE FROM session WHERE id = ?1",
    // kListUserSessions
    "SELECT " SESSIOND_SESSION_COLUMNS
    " FROM session AS s WHERE s.user_id = ?1 "
    "ORDER BY s.created_at DESC, s.id ASC",
    // kDeleteUserSessions
    "DELETE FROM session WHERE user_id = ?1 RETURNING id",
    // kDeleteUserSessionsExcept
    "DELETE FROM session WHERE user_id = ?1 AND id <> ?2 RETURNING id",
    // kDeleteExpiredSessions
    "DELETE FROM session WHERE expires_at <= ?1",
    // kInsertVerification
    "INSERT INTO verification (id, identifier, value, expires_at, created_at, updated_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
    // kConsumeVerification: one statement, so two consumers can never both get the row.
    "DELETE FROM verification WHERE identifier = ?1 "
    "RETURNING id, identifier, value, expires_at, created_at",
    // kDeleteExpiredVerifications
    "DELETE FROM verification WHERE expires_at <= ?1",
    // kInsertRevocation
    "INSERT INTO revocation (session_id, revoked_at) VALUES (?1, ?2)",
    // kListRevocations
    "SELECT seq, session_id, revoked_at FROM revocation WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    // kDeleteRevocationsBefore
    "DELETE FROM revocation WHERE revoked_at < ?1",
};

static_assert(std::size(kSqlText) == kSqlCount, "one SQL text per Sql enumerator");

#undef SESSIOND_USER_COLUMNS
#undef SESSIOND_SESSION_COLUMNS

User ReadUser(sqlite3_stmt* stmt, int first) {
  User user;
  user.id = ColumnText(stmt, first);
  user.email = ColumnText(stmt, first + 1);
  user.name = ColumnText(stmt, first + 2);
  user.image = ColumnNullableText(stmt, first + 3);
  user.email_verified = ColumnBool(stmt, first + 4);
  user.created_at = ColumnTime(stmt, first + 5);
  user.updated_at = ColumnTime(stmt, first + 6);
  return user;
}

Session ReadSession(sqlite3_stmt* stmt, int first) {
  Session session;
  session.id = ColumnText(stmt, first);
  session.user_id = ColumnText(stmt, first + 1);
  session.token_hash = ColumnText(stmt, first + 2);
  session.expires_at = ColumnTime(stmt, first + 3);
  session.ip_address = ColumnText(stmt, first + 4);
  session.user_agent = ColumnText(stmt, first + 5);
  session.remember_me = ColumnBool(stmt, first + 6);
  session.created_at = ColumnTime(stmt, first + 7);
  session.updated_at = ColumnTime(stmt, first + 8);
  session.user_agent_parsed = ColumnText(stmt, first + 9);
  return session;
}

// A cached statement in use: reset and unbound when this goes, ready for the next user.
class ScopedStatement {
 public:
  explicit ScopedStatement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ScopedStatement(ScopedStatement&& other) noexcept : stmt_(std::exchange(other.stmt_, nullptr)) {}
  ScopedStatement& operator=(ScopedStatement&&) = delete;
  ~ScopedStatement() {
    if (stmt_ != nullptr) {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
    }
  }

  [[nodiscard]] sqlite3_stmt* get() const { return stmt_; }
  [[nodiscard]] Binder Bind() const { return Binder(stmt_); }
  [[nodiscard]] int Step() const { return sqlite3_step(stmt_); }

 private:
  sqlite3_stmt* stmt_;
};

}  // namespace

// One pooled connection. Used by one thread at a time (whoever holds its Lease).
class Connection {
 public:
  explicit Connection(DbHandle db) : db_(std::move(db)) {}

  [[nodiscard]] sqlite3* db() const { return db_.get(); }

  // The statement `id`, prepared on first use and kept for the connection's life.
  [[nodiscard]] Result<ScopedStatement> Use(Sql id) {
    StmtHandle& slot = statements_[static_cast<std::size_t>(id)];
    if (slot == nullptr) {
      sqlite3_stmt* raw = nullptr;
      int rc = sqlite3_prepare_v3(db_.get(), kSqlText[static_cast<std::size_t>(id)], -1,
                                  SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
      if (rc != SQLITE_OK) {
        sqlite3_finalize(raw);
        return SqliteFail(db_.get(), rc, "prepare statement");
      }
      slot.reset(raw);
    }
    return ScopedStatement(slot.get());
  }

 private:
  DbHandle db_;
  // Declared after db_ so they are finalized before the connection closes.
  std::array<StmtHandle, kSqlCount> statements_;
};

namespace {

// A BEGIN IMMEDIATE transaction on one connection, rolled back unless committed. Declare it before
// the ScopedStatements used inside it, so they are reset before the rollback runs.
class Transaction {
 public:
  [[nodiscard]] static Result<Transaction> Begin(Connection& connection) {
    auto begin = connection.Use(Sql::kBegin);
    if (!begin) return std::unexpected(begin.error());
    int rc = begin->Step();
    if (rc != SQLITE_DONE) return SqliteFail(connection.db(), rc, "begin transaction");
    return Transaction(connection);
  }

  Transaction(Transaction&& other) noexcept
      : connection_(other.connection_), open_(std::exchange(other.open_, false)) {}
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction() {
    if (!open_) return;
    if (auto rollback = connection_->Use(Sql::kRollback); rollback) {
      (void)rollback->Step();
    }
  }

  [[nodiscard]] Result<void> Commit() {
    auto commit = connection_->Use(Sql::kCommit);
    if (!commit) return std::unexpected(commit.error());
    int rc = commit->Step();
    if (rc != SQLITE_DONE) return SqliteFail(connection_->db(), rc, "commit");
    open_ = false;
    return {};
  }

 private:
  explicit Transaction(Connection& connection) : connection_(&connection) {}

  Connection* connection_;
  bool open_ = true;
};

// Binds with `bind`, runs a statement that returns no rows, and returns sqlite3_changes64. On
// failure, stores the (extended) result code in *failed_rc if given: it must be read before the
// statement is reset, which happens on return.
template <class BindFn>
Result<std::int64_t> RunUpdate(Connection& connection, Sql id, std::string_view what, BindFn&& bind,
                               int* failed_rc = nullptr) {
  auto stmt = connection.Use(id);
  if (!stmt) return std::unexpected(stmt.error());
  Binder binder = stmt->Bind();
  std::forward<BindFn>(bind)(binder);
  if (binder.rc() != SQLITE_OK) return SqliteFail(connection.db(), binder.rc(), what);
  int rc = stmt->Step();
  if (rc != SQLITE_DONE) {
    if (failed_rc != nullptr) *failed_rc = rc;
    return SqliteFail(connection.db(), rc, what);
  }
  return sqlite3_changes64(connection.db());
}

// Runs a query that has at most one row, binding ?1 = `key`; `read` turns the row into a T.
template <class T, class ReadFn>
Result<std::optional<T>> QueryOne(Connection& connection, Sql id, std::string_view key,
                                  std::string_view what, ReadFn&& read) {
  auto stmt = connection.Use(id);
  if (!stmt) return std::unexpected(stmt.error());
  Binder binder = stmt->Bind();
  binder.Text(key);
  if (binder.rc() != SQLITE_OK) return SqliteFail(connection.db(), binder.rc(), what);
  int rc = stmt->Step();
  if (rc == SQLITE_DONE) return std::optional<T>();
  if (rc != SQLITE_ROW) return SqliteFail(connection.db(), rc, what);
  return std::optional<T>(std::forward<ReadFn>(read)(stmt->get()));
}

// Binds with `bind`, steps `id` to the end and turns every row into a T with `read` (also for
// DELETE ... RETURNING, which must run to SQLITE_DONE to finish deleting).
template <class T, class BindFn, class ReadFn>
Result<std::vector<T>> QueryAll(Connection& connection, Sql id, std::string_view what,
                                BindFn&& bind, ReadFn&& read) {
  auto stmt = connection.Use(id);
  if (!stmt) return std::unexpected(stmt.error());
  Binder binder = stmt->Bind();
  std::forward<BindFn>(bind)(binder);
  if (binder.rc() != SQLITE_OK) return SqliteFail(connection.db(), binder.rc(), what);
  std::vector<T> rows;
  for (;;) {
    int rc = stmt->Step();
    if (rc == SQLITE_DONE) return rows;
    if (rc != SQLITE_ROW) return SqliteFail(connection.db(), rc, what);
    rows.push_back(read(stmt->get()));
  }
}

[[nodiscard]] std::string AsciiLower(std::string_view s) {
  std::string out(s);
  std::ranges::transform(out, out.begin(), [](char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  });
  return out;
}

// Opens one connection to `options.path` and applies the per-connection pragmas.
Result<DbHandle> OpenConnection(const SqliteOptions& options) {
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(options.path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  DbHandle db(raw);  // sqlite3_open_v2 allocates a handle even when it fails.
  if (rc != SQLITE_OK) {
    return Fail(ErrorCode::kServiceUnavailable,
                "sqlite: cannot open database file '" + options.path +
                    "': " + (raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  sqlite3_extended_result_codes(db.get(), 1);
  const int busy_ms = static_cast<int>(std::min<std::uint32_t>(options.busy_timeout_ms, INT_MAX));
  sqlite3_busy_timeout(db.get(), busy_ms);

  // journal_mode answers with the mode now in force; anything but "wal" means it did not stick.
  {
    sqlite3_stmt* raw_stmt = nullptr;
    rc = sqlite3_prepare_v2(db.get(), "PRAGMA journal_mode = WAL", -1, &raw_stmt, nullptr);
    StmtHandle stmt(raw_stmt);
    if (rc == SQLITE_OK) rc = sqlite3_step(stmt.get());
    if (rc != SQLITE_ROW) {
      Error error = SqliteError(db.get(), rc, "enable WAL on '" + options.path + "'");
      error.code = ErrorCode::kServiceUnavailable;
      return std::unexpected(std::move(error));
    }
    std::string mode = AsciiLower(ColumnText(stmt.get(), 0));
    if (mode != "wal") {
      return Fail(ErrorCode::kServiceUnavailable,
                  "sqlite: '" + options.path + "' refused WAL journal mode (got '" + mode + "')");
    }
  }
  const std::string synchronous = "PRAGMA synchronous = " + options.synchronous;
  for (const char* pragma : {synchronous.c_str(), "PRAGMA foreign_keys = ON"}) {
    if (auto set = Exec(db.get(), pragma, "set pragma"); !set) {
      Error error = set.error();
      error.code = ErrorCode::kServiceUnavailable;
      return std::unexpected(std::move(error));
    }
  }
  return db;
}

}  // namespace
}  // namespace sqlite_internal

using sqlite_internal::Binder;
using sqlite_internal::Connection;
using sqlite_internal::QueryAll;
using sqlite_internal::QueryOne;
using sqlite_internal::ReadSession;
using sqlite_internal::ReadUser;
using sqlite_internal::RunUpdate;
using sqlite_internal::Sql;
using sqlite_internal::SqliteFail;
using sqlite_internal::Transaction;

// A connection checked out of the pool (and for a writer, the writer gate); returns both.
class SqliteStore::Lease {
 public:
  Lease(SqliteStore* store, Connection* connection, bool for_write)
      : store_(store), connection_(connection), for_write_(for_write) {}
  Lease(Lease&& other) noexcept
      : store_(other.store_),
        connection_(std::exchange(other.connection_, nullptr)),
        for_write_(other.for_write_) {}
  Lease& operator=(Lease&&) = delete;
  ~Lease() {
    if (connection_ != nullptr) store_->Release(connection_, for_write_);
  }

  [[nodiscard]] Connection& connection() const { return *connection_; }
  [[nodiscard]] sqlite3* db() const { return connection_->db(); }

 private:
  SqliteStore* store_;
  Connection* connection_;
  bool for_write_;
};

SqliteStore::SqliteStore(SqliteOptions options) : options_(std::move(options)) {}

SqliteStore::~SqliteStore() = default;

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(SqliteOptions options) {
  if (options.path.empty() || options.path == ":memory:") {
    return Fail(ErrorCode::kInternal,
                "sqlite: database path must name a file (\":memory:\" cannot be pooled)");
  }
  options.synchronous = sqlite_internal::AsciiLower(options.synchronous);
  if (options.synchronous != "full" && options.synchronous != "normal") {
    return Fail(ErrorCode::kInternal, "sqlite: synchronous must be \"full\" or \"normal\", got \"" +
                                          options.synchronous + "\"");
  }
  if (options.pool_size == 0) {
    options.pool_size = std::max(2U, 2 * std::thread::hardware_concurrency());
  }

  std::unique_ptr<SqliteStore> store(new SqliteStore(std::move(options)));
  store->connections_.reserve(store->options_.pool_size);
  store->idle_.reserve(store->options_.pool_size);
  for (std::uint32_t i = 0; i < store->options_.pool_size; ++i) {
    auto db = sqlite_internal::OpenConnection(store->options_);
    if (!db) return std::unexpected(db.error());
    store->connections_.push_back(std::make_unique<Connection>(std::move(*db)));
    store->idle_.push_back(store->connections_.back().get());
  }
  return store;
}

Result<SqliteStore::Lease> SqliteStore::Acquire(bool for_write) {
  const auto deadline = std::chrono::steady_clock::now() + milliseconds(options_.busy_timeout_ms);
  std::unique_lock lock(pool_mu_);
  if (for_write) {
    if (!writer_cv_.wait_until(lock, deadline, [this] { return !writer_busy_; })) {
      return Fail(ErrorCode::kServiceUnavailable, "sqlite: another write still running after " +
                                                      std::to_string(options_.busy_timeout_ms) +
                                                      " ms");
    }
    writer_busy_ = true;
    writer_waiting_ = idle_.empty();
    const bool got = idle_cv_.wait_until(lock, deadline, [this] { return !idle_.empty(); });
    writer_waiting_ = false;
    if (!got) {
      writer_busy_ = false;
      lock.unlock();
      writer_cv_.notify_one();
      idle_cv_.notify_all();  // Readers held back by writer_waiting_ may go now.
      return Fail(
          ErrorCode::kServiceUnavailable,
          "sqlite: no free connection within " + std::to_string(options_.busy_timeout_ms) + " ms");
    }
  } else if (!idle_cv_.wait_until(lock, deadline,
                                  [this] { return !idle_.empty() && !writer_waiting_; })) {
    return Fail(
        ErrorCode::kServiceUnavailable,
        "sqlite: no free connection within " + std::to_string(options_.busy_timeout_ms) + " ms");
  }
  Connection* connection = idle_.back();
  idle_.pop_back();
  const bool more_idle = !idle_.empty();
  lock.unlock();
  // A writer that waited held readers back; let them re-check now it has its connection.
  if (for_write && more_idle) idle_cv_.notify_all();
  return Lease(this, connection, for_write);
}

void SqliteStore::Release(Connection* connection, bool for_write) {
  // A transaction is never left open on purpose; make sure the next user starts clean.
  if (sqlite3_get_autocommit(connection->db()) == 0) {
    spdlog::warn("sqlite: connection returned inside a transaction; rolling it back");
    sqlite3_exec(connection->db(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
  bool writer_waiting = false;
  {
    std::lock_guard lock(pool_mu_);
    idle_.push_back(connection);
    if (for_write) writer_busy_ = false;
    writer_waiting = writer_waiting_;
  }
  // While a writer waits, readers are parked on the same condition: wake everyone so the writer
  // is among them; otherwise one waiter is enough.
  if (writer_waiting) {
    idle_cv_.notify_all();
  } else {
    idle_cv_.notify_one();
  }
  if (for_write) writer_cv_.notify_one();
}

Result<int> SqliteStore::Migrate() {
  auto lease = Acquire(/*for_write=*/true);
  if (!lease) return std::unexpected(lease.error());
  return ApplyMigrations(lease->db());
}

Result<void> SqliteStore::Ping() {
  auto lease = Acquire(/*for_write=*/false);
  if (!lease) return std::unexpected(lease.error());
  auto stmt = lease->connection().Use(Sql::kPing);
  if (!stmt) return std::unexpected(stmt.error());
  int rc = stmt->Step();
  if (rc != SQLITE_ROW) return SqliteFail(lease->db(), rc, "ping");
  return {};
}

Result<void> SqliteStore::CreateUser(const User& user, const Account& account) {
  if (account.user_id != user.id) {
    return Fail(ErrorCode::kInternal, "sqlite: account.user_id does not match user.id");
  }
  auto lease = Acquire(/*for_write=*/true);
  if (!lease) return std::unexpected(lease.error());
  Connection& connection = lease->connection();
  auto transaction = Transaction::Begin(connection);
  if (!transaction) return std::unexpected(transaction.error());

  int insert_rc = SQLITE_OK;
  auto user_row = RunUpdate(
      connection, Sql::kInsertUser, "insert user",
      [&](Binder& b) {
        b.Text(user.id)
            .Text(user.email)
            .Text(user.name)
            .NullableText(user.image)
            .Bool(user.email_verified)
            .Time(user.created_at)
            .Time(user.updated_at);
      },
      &insert_rc);
  if (!user_row) {
    // The user table's only UNIQUE constraint besides the primary key (which reports
    // SQLITE_CONSTRAINT_PRIMARYKEY, hence kInternal) is the email.
    if (insert_rc == SQLITE_CONSTRAINT_UNIQUE) {
      return Fail(ErrorCode::kUserAlreadyExists, "sqlite: email already registered");
    }
    return std::unexpected(user_row.error());
  }
  auto account_row = RunUpdate(connection, Sql::kInsertAccount, "insert account", [&](Binder& b) {
    b.Text(account.id)
        .Text(account.user_id)
        .Text(account.account_id)
        .Text(account.provider_id)
        .TextOrNull(account.password_hash)
        .Time(account.created_at)
        .Time(account.updated_at);
  });
  if (!account_row) return std::unexpected(account_row.error());
  return transaction->Commit();
}

Result<std::optional<UserWithPassword>> SqliteStore::FindUserByEmail(std::string_view email) {
  auto lease = Acquire(/*for_write=*/false);
  if (!lease) return std::unexpected(lease.error());
  return QueryOne<UserWithPassword>(
      lease->connection(), Sql::kFindUserByEmail, email, "find user by email",
      [](sqlite3_stmt* stmt) {
        return UserWithPassword{ReadUser(stmt, 0), sqlite_internal::ColumnText(
                                                       stmt, sqlite_internal::kUserColumnCount)};
      });
}

Result<std::optional<User>> SqliteStore::FindUserById(std::string_view user_id) {
  auto lease = Acquire(/*for_write=*/false);
  if (!lease) return std::unexpected(lease.error());
  return QueryOne<User>(lease->connection(), Sql::kFindUserById, user_id, "find user by id",
                        [](sqlite3_stmt* stmt) { return ReadUser(stmt, 0); });
}

Result<bool> SqliteStore::UpdatePasswordHash(std::string_view user_id,
                                             std::string_view password_hash, TimePoint now) {
  auto lease = Acquire(/*for_write=*/true);
  if (!lease) return std::unexpected(lease.error());
  auto changed = RunUpdate(lease->connection(), Sql::kUpdatePasswordHash, "update password hash",
                           [&](Binder& b) { b.Text(user_id).TextOrNull(password_hash).Time(now); });
  if (!changed) return std::unexpected(changed.error());
  return *changed > 0;
}

Result<bool> SqliteStore::UpdateUser(std::string_view user_id, const UserUpdate& update,
                                     TimePoint now) {
  auto lease = Acquire(/*for_write=*/true);
  if (!lease) return std::unexpected(lease.error());
  Connection& db = lease->connection();
  auto txn = Transaction::Begin(db);
  if (!txn) return std::unexpected(txn.error());
  if (update.name) {
    auto named = RunUpdate(db, Sql::kUpdateUserName, "update user name",
                           [&](Binder& b) { b.Text(user_id).Text(*update.name); });
    if (!named) return std::unexpected(named.error());
  }
  if (update.set_image) {
    auto imaged = RunUpdate(db, Sql::kUpdateUserImage, "update user image",
                            [&](Binder& b) { b.Text(user_id).NullableText(update.image); });
    if (!imaged) return std::unexpected(imaged.error());
  }
  auto touched =
      RunUpdate(db, Sql::kTouchUser, "touch user", [&](Binder& b) { b.Text(user_id).Time(now); });
  if (!touched) return std::unexpected(touched.error());
  if (auto committed = txn->Commit(); !committed) return std::unexpected(committed.error());
  return *touched > 0;
}

Result<void> SqliteStore::CreateSession(const Session& session) {
  auto lease = Acquire(/*for_write=*/true);
  if (!lease) return std::unexpected(lease.error());
  // Collisions (id, token_hash) and an unknown user_id (foreign key) are SQLITE_CONSTRAINT_*,
  // which SqliteError maps to kInternal, as the contract asks.
  auto inserted =
      RunUpdate(lease->connection(), Sql::kInsertSession, "insert session", [&](Binder& b) {
        b.Text(session.id)
            .Text(session.user_id)
            .Text(session.token_hash)
            .Time(session.expires_at)
            .Text(session.ip_address)
            .Text(session.user_agent)
            .Bool(session.remember_me)
            .Time(session.created_at)
            .Time(session.updated_at)
            .Text(session.user_agent_parsed);
      });
  if (!inserted) return std::unexpected(inserted.error());
  return {};
}

Result<std::optional<SessionWithUser>> SqliteStore::FindSessionByTokenHash(
    std::string_view token_hash) {
  auto lease = Acquire(/*for_write=*/false);
  if (!lease) return std::unexpected(lease.error());
  return QueryOne<SessionWithUser>(lease->connection(), Sql::kFindSessionByTokenHash, token_hash,
                                   "find session", [](sqlite3_stmt* stmt) {
                                     return SessionWithUser{
                                         ReadSession(stmt, 0),
                                         ReadUser(stmt, sqlite_internal::kSessionColumnCount)};
                                   });
}

Result<bool> SqliteStore::TouchSession(std::string_view session_id, TimePoint expires_at,
                                       TimePoint updated_at) {
  auto lease = Acquire(/*for_write=*/true);
  if (!lease) return std::unexpected(lease.error());
  auto changed =
      RunUpdate(lease->connection(), Sql::kTouchSession, "touch session",
                [&](Binder& b) { b.Text(session_id).Time(expires_at).Time(updated_at); });
  if (!changed) return std::unexpected(changed.error());
  return *changed > 0;
}

Result<int> SqliteStore::DeleteSession(std::string_view session_id) {
  auto lease = Acquire(/*for_write=*/true);
  if (!lease) return std::unexpected(lease.error());
  auto deleted = RunUpdate(lease->connection(), Sql::kDeleteSession, "delete session",
                           [&](Binder& b) { b.Text(session_id); });
  if (!deleted) return std::unexpected(deleted.error());
  return static_cast<int>(*deleted);
}

Result<std::vector<Session>> SqliteStore::ListUserSessions(std::string_view user_id) {
  auto lease = Acquire(/*for_write=*/false);
  if (!lease) return std::unexpected(lease.error());
  return QueryAll<Session>(
      lease->connection(), Sql::kListUserSessions, "list sessions",
      [&](Binder& b) { b.Text(user_id); }, [](sqlite3_stmt* stmt) { return ReadSession(stmt, 0); });
}

Result<std::vector<std::string>> SqliteStore::DeleteUserSessions(
    std::string_view user_id, std::optional<std::string_view> keep_session_id) {
  auto lease = Acquire(/*for_write=*/true);
  if (!lease) return std::unexpected(lease.error());
  return QueryAll<std::string>(
      lease->connection(),
      keep_session_id.has_value() ? Sql::kDeleteUserSessionsExcept : Sql::kDeleteUserSessions,
      "delete user sessions",
      [&](Binder& b) {
        b.Text(user_id);
        if (keep_session_id.has_value()) b.Text(*keep_session_id);
      },
      [](sqlite3_stmt* stmt) { return sqlite_internal::ColumnText(stmt, 0); });
}

Result<std::int64_t> SqliteStore::DeleteExpiredSessions(TimePoint now) {
  auto lease = Acquire(/*for_write=*/true);
  if (!lease) return std::unexpected(lease.error());
  return RunUpdate(lease->connection(), Sql::kDeleteExpiredSessions, "delete expired sessions",
                   [&](Binder& b) { b.Time(now); });
}

Result<void> SqliteStore::CreateVerification(const Verification& verification) {
  auto lease = Acquire(/*for_write=*/true);
  if (!lease) return std::unexpected(lease.error());
  auto inserted = RunUpdate(lease->connection(), Sql::kInsertVerification, "insert verification",
                            [&](Binder& b) {
                              b.Text(verification.id)
                                  .Text(verification.identifier)
                                  .Text(verification.value)
                                  .Time(verification.expires_at)
                                  .Time(verification.created_at);
                            });
  if (!inserted) return std::unexpected(inserted.error());
  return {};
}

Result<std::optional<Verification>> SqliteStore::ConsumeVerification(std::string_view identifier) {
  auto lease = Acquire(/*for_write=*/true);
  if (!lease) return std::unexpected(lease.error());
  auto rows = QueryAll<Verification>(
      lease->connection(), Sql::kConsumeVerification, "consume verification",
      [&](Binder& b) { b.Text(identifier); },
      [](sqlite3_stmt* stmt) {
        return Verification{
            sqlite_internal::ColumnText(stmt, 0), sqlite_internal::ColumnText(stmt, 1),
            sqlite_internal::ColumnText(stmt, 2), sqlite_internal::ColumnTime(stmt, 3),
            sqlite_internal::ColumnTime(stmt, 4)};
      });
  if (!rows) return std::unexpected(rows.error());
  if (rows->empty()) return std::optional<Verification>();
  return std::optional<Verification>(std::move(rows->front()));
}

Result<std::int64_t> SqliteStore::DeleteExpiredVerifications(TimePoint now) {
  auto lease = Acquire(/*for_write=*/true);
  if (!lease) return std::unexpected(lease.error());
  return RunUpdate(lease->connection(), Sql::kDeleteExpiredVerifications,
                   "delete expired verifications", [&](Binder& b) { b.Time(now); });
}

Result<void> SqliteStore::AddRevocations(std::span<const std::string> session_ids, TimePoint at) {
  if (session_ids.empty()) return {};
  auto lease = Acquire(/*for_write=*/true);
  if (!lease) return std::unexpected(lease.error());
  Connection& connection = lease->connection();
  auto transaction = Transaction::Begin(connection);
  if (!transaction) return std::unexpected(transaction.error());
  for (const std::string& id : session_ids) {
    auto inserted = RunUpdate(connection, Sql::kInsertRevocation, "insert revocation",
                              [&](Binder& b) { b.Text(id).Time(at); });
    if (!inserted) return std::unexpected(inserted.error());
  }
  return transaction->Commit();
}

Result<std::vector<Revocation>> SqliteStore::ListRevocations(std::int64_t after_seq,
                                                             std::size_t limit) {
  auto lease = Acquire(/*for_write=*/false);
  if (!lease) return std::unexpected(lease.error());
  const auto bounded = static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX));
  return QueryAll<Revocation>(
      lease->connection(), Sql::kListRevocations, "list revocations",
      [&](Binder& b) { b.Int64(after_seq).Int64(bounded); },
      [](sqlite3_stmt* stmt) {
        return Revocation{sqlite_internal::ColumnInt64(stmt, 0),
                          sqlite_internal::ColumnText(stmt, 1),
                          sqlite_internal::ColumnTime(stmt, 2)};
      });
}

Result<std::int64_t> SqliteStore::DeleteRevocationsBefore(TimePoint before) {
  auto lease = Acquire(/*for_write=*/true);
  if (!lease) return std::unexpected(lease.error());
  return RunUpdate(lease->connection(), Sql::kDeleteRevocationsBefore, "delete old revocations",
                   [&](Binder& b) { b.Time(before); });
}

Result<std::string> SqliteStore::QueryPragma(std::string_view name) {
  if (name.empty() ||
      !std::ranges::all_of(name, [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; })) {
    return Fail(ErrorCode::kInternal, "sqlite: invalid pragma name");
  }
  auto lease = Acquire(/*for_write=*/false);
  if (!lease) return std::unexpected(lease.error());
  const std::string sql = "PRAGMA " + std::string(name);
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(lease->db(), sql.c_str(), -1, &raw, nullptr);
  sqlite_internal::StmtHandle stmt(raw);
  if (rc != SQLITE_OK) return SqliteFail(lease->db(), rc, "query pragma");
  rc = sqlite3_step(stmt.get());
  if (rc == SQLITE_DONE) return std::string();
  if (rc != SQLITE_ROW) return SqliteFail(lease->db(), rc, "query pragma");
  return sqlite_internal::ColumnText(stmt.get(), 0);
}

}  // namespace sessiond::store
