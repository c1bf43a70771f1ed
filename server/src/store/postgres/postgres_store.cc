#include "store/postgres/postgres_store.h"

#include <libpq-fe.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <iterator>
#include <thread>
#include <utility>

#include "store/postgres/libpq_loader.h"
#include "store/postgres/migrations.h"
#include "store/postgres/pg_connection.h"
#include "store/postgres/pg_listener.h"

namespace sessiond::store {
namespace postgres_internal {
namespace {

// Every statement the store prepares, at most once per connection (Connection::RunPrepared).
enum class Sql : std::size_t {
  kPing,
  kCreateUser,
  kFindUserByEmail,
  kFindUserById,
  kUpdatePasswordHash,
  kUpdateUser,
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
  kInsertRevocations,
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

// Parameters whose type the context does not pin down (a SELECT list, CASE) carry a cast.
constexpr const char* kSqlText[] = {
    // kPing
    "SELECT 1",
    // kCreateUser: both rows in one statement, hence atomically: if either insert fails (a
    // taken email: 23505 on user_email_key), nothing is written. The account's foreign key is
    // checked at the end of the statement, when the new user row is visible.
    "WITH new_user AS ("
    "INSERT INTO \"user\" (id, email, name, image, email_verified, created_at, updated_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id) "
    "INSERT INTO account (id, user_id, account_id, provider_id, password, created_at, "
    "updated_at) "
    "SELECT $8::text, new_user.id, $9::text, $10::text, $11::text, $12::bigint, $13::bigint "
    "FROM new_user",
    // kFindUserByEmail
    "SELECT " SESSIOND_USER_COLUMNS
    ", a.password FROM \"user\" AS u "
    "LEFT JOIN account AS a ON a.user_id = u.id AND a.provider_id = 'credential' "
    "WHERE u.email = $1 LIMIT 1",
    // kFindUserById
    "SELECT " SESSIOND_USER_COLUMNS " FROM \"user\" AS u WHERE u.id = $1",
    // kUpdatePasswordHash
    "UPDATE account SET password = $2, updated_at = $3 "
    "WHERE user_id = $1 AND provider_id = 'credential'",
    // kUpdateUser: $2 / $4 say whether name / image change, so one statement serves every
    // combination.
    "UPDATE \"user\" SET name = CASE WHEN $2::boolean THEN $3::text ELSE name END, "
    "image = CASE WHEN $4::boolean THEN $5::text ELSE image END, updated_at = $6 "
    "WHERE id = $1",
    // kInsertSession
    "INSERT INTO session (id, user_id, token_hash, expires_at, ip_address, user_agent, "
    "remember_me, created_at, updated_at, user_agent_parsed) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    // kFindSessionByTokenHash: one query for the hot path of every authenticated request.
    "SELECT " SESSIOND_SESSION_COLUMNS ", " SESSIOND_USER_COLUMNS
    " FROM session AS s "
    "JOIN \"user\" AS u ON u.id = s.user_id WHERE s.token_hash = $1",
    // kTouchSession
    "UPDATE session SET expires_at = $2, updated_at = $3 WHERE id = $1",
    // kDeleteSession
    "DELETE FROM session WHERE id = $1",
    // kListUserSessions
    "SELECT " SESSIOND_SESSION_COLUMNS
    " FROM session AS s WHERE s.user_id = $1 "
    "ORDER BY s.created_at DESC, s.id ASC",
    // kDeleteUserSessions
    "DELETE FROM session WHERE user_id = $1 RETURNING id",
    // kDeleteUserSessionsExcept
    "DELETE FROM session WHERE user_id = $1 AND id <> $2 RETURNING id",
    // kDeleteExpiredSessions
    "DELETE FROM session WHERE expires_at <= $1",
    // kInsertVerification
    "INSERT INTO verification (id, identifier, value, expires_at, created_at, updated_at) "
    "VALUES ($1, $2, $3, $4, $5, $5)",
    // kConsumeVerification: one statement, so two consumers can never both get the row. Under
    // READ COMMITTED a second DELETE of the same row waits for the first to commit, then
    // re-checks the row, finds it gone and returns nothing.
    "DELETE FROM verification WHERE identifier = $1 "
    "RETURNING id, identifier, value, expires_at, created_at",
    // kDeleteExpiredVerifications
    "DELETE FROM verification WHERE expires_at <= $1",
    // kInsertRevocations: the ids of a text[] in their given order, so seqs follow it.
    "INSERT INTO revocation (session_id, revoked_at) "
    "SELECT t.id, $2::bigint FROM unnest($1::text[]) WITH ORDINALITY AS t(id, n) ORDER BY t.n",
    // kListRevocations
    "SELECT seq, session_id, revoked_at FROM revocation WHERE seq > $1 ORDER BY seq LIMIT $2",
    // kDeleteRevocationsBefore
    "DELETE FROM revocation WHERE revoked_at < $1",
};

static_assert(std::size(kSqlText) == kSqlCount, "one SQL text per Sql enumerator");

#undef SESSIOND_USER_COLUMNS
#undef SESSIOND_SESSION_COLUMNS

User ReadUser(const PGresult* result, int row, int first) {
  User user;
  user.id = ColumnText(result, row, first);
  user.email = ColumnText(result, row, first + 1);
  user.name = ColumnText(result, row, first + 2);
  user.image = ColumnNullableText(result, row, first + 3);
  user.email_verified = ColumnBool(result, row, first + 4);
  user.created_at = ColumnTime(result, row, first + 5);
  user.updated_at = ColumnTime(result, row, first + 6);
  return user;
}

Session ReadSession(const PGresult* result, int row, int first) {
  Session session;
  session.id = ColumnText(result, row, first);
  session.user_id = ColumnText(result, row, first + 1);
  session.token_hash = ColumnText(result, row, first + 2);
  session.expires_at = ColumnTime(result, row, first + 3);
  session.ip_address = ColumnText(result, row, first + 4);
  session.user_agent = ColumnText(result, row, first + 5);
  session.remember_me = ColumnBool(result, row, first + 6);
  session.created_at = ColumnTime(result, row, first + 7);
  session.updated_at = ColumnTime(result, row, first + 8);
  session.user_agent_parsed = ColumnText(result, row, first + 9);
  return session;
}

Result<ResultHandle> Exec(Connection& connection, Sql id, Params& params, std::string_view what,
                          SqlFailure* failure = nullptr) {
  const auto index = static_cast<std::size_t>(id);
  return connection.RunPrepared(index, kSqlText[index], params, what, failure);
}

// Runs `id` and reads its first row, if any, with `read(result, row)`.
template <class T, class ReadFn>
Result<std::optional<T>> QueryOne(Connection& connection, Sql id, Params& params,
                                  std::string_view what, ReadFn&& read) {
  auto result = Exec(connection, id, params, what);
  if (!result) return std::unexpected(result.error());
  if (PQntuples(result->get()) == 0) return std::optional<T>();
  return std::optional<T>(std::forward<ReadFn>(read)(result->get(), 0));
}

// Runs `id` and reads every row with `read(result, row)`.
template <class T, class ReadFn>
Result<std::vector<T>> QueryAll(Connection& connection, Sql id, Params& params,
                                std::string_view what, ReadFn&& read) {
  auto result = Exec(connection, id, params, what);
  if (!result) return std::unexpected(result.error());
  const int rows = PQntuples(result->get());
  std::vector<T> out;
  out.reserve(static_cast<std::size_t>(rows));
  for (int row = 0; row < rows; ++row) out.push_back(read(result->get(), row));
  return out;
}

// Runs `id` and returns the number of rows it changed.
Result<std::int64_t> Change(Connection& connection, Sql id, Params& params, std::string_view what) {
  auto result = Exec(connection, id, params, what);
  if (!result) return std::unexpected(result.error());
  return AffectedRows(result->get());
}

// An explicit transaction, rolled back on destruction unless committed (or the connection broke,
// in which case the server rolls it back and the pool discards the connection).
class Transaction {
 public:
  explicit Transaction(Connection& connection) : connection_(connection) {}
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction() {
    if (!connection_.broken() && connection_.transaction_status() != PQTRANS_IDLE) {
      (void)connection_.RunSimple("ROLLBACK", "roll back", connection_.StatementDeadline());
    }
  }
  [[nodiscard]] Result<void> Commit() {
    auto committed = connection_.RunSimple("COMMIT", "commit", connection_.StatementDeadline());
    if (!committed) return std::unexpected(committed.error());
    return {};
  }

 private:
  Connection& connection_;
};

}  // namespace
}  // namespace postgres_internal

using postgres_internal::Params;
using postgres_internal::ReadSession;
using postgres_internal::ReadUser;
using postgres_internal::Sql;
using std::chrono::milliseconds;

// A checked-out slot whose connection is live; gives the slot back on destruction.
class PostgresStore::Lease {
 public:
  Lease(PostgresStore* store, Slot* slot) : store_(store), slot_(slot) {}
  Lease(Lease&& other) noexcept
      : store_(other.store_), slot_(std::exchange(other.slot_, nullptr)), reused_(other.reused_) {}
  Lease& operator=(Lease&&) = delete;
  ~Lease() {
    if (slot_ != nullptr) store_->Release(slot_);
  }

  [[nodiscard]] Slot& slot() const { return *slot_; }
  [[nodiscard]] Connection& connection() const { return *slot_->connection; }
  // True if the connection was already open before this checkout (so it may have died unseen).
  [[nodiscard]] bool reused() const { return reused_; }
  void set_reused(bool reused) { reused_ = reused; }

 private:
  PostgresStore* store_;
  Slot* slot_;
  bool reused_ = true;
};

PostgresStore::PostgresStore(PostgresOptions options) : options_(std::move(options)) {}

PostgresStore::~PostgresStore() = default;

Result<std::unique_ptr<PostgresStore>> PostgresStore::Open(PostgresOptions options) {
  if (options.url.empty()) return Fail(ErrorCode::kValidation, "postgres: empty database URL");
  if (auto loaded = postgres_internal::LoadLibpq(); !loaded) {
    return std::unexpected(std::move(loaded.error()));
  }
  char* parse_error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(options.url.c_str(), &parse_error);
  if (parsed == nullptr) {
    // libpq's message may quote part of the URL, password included: leave it out.
    PQfreemem(parse_error);
    return Fail(ErrorCode::kValidation,
                "postgres: database.url is not a valid PostgreSQL connection URI "
                "(postgres://user:password@host:port/dbname?param=value)");
  }
  // libpq checks the port only when connecting, and then reports it like an outage.
  bool port_ok = true;
  for (const PQconninfoOption* option = parsed; option->keyword != nullptr; ++option) {
    if (std::string_view(option->keyword) != "port" || option->val == nullptr) continue;
    port_ok = std::ranges::all_of(std::string_view(option->val),
                                  [](char c) { return (c >= '0' && c <= '9') || c == ','; });
  }
  PQconninfoFree(parsed);
  if (!port_ok) return Fail(ErrorCode::kValidation, "postgres: database.url: invalid port");
  if (options.connect_timeout_ms == 0 || options.statement_timeout_ms == 0) {
    return Fail(ErrorCode::kValidation, "postgres: connect and statement timeouts must be > 0");
  }
  if (options.pool_size == 0) {
    options.pool_size = std::max(2U, 2 * std::thread::hardware_concurrency());
  }

  std::unique_ptr<PostgresStore> store(new PostgresStore(std::move(options)));
  store->slots_.reserve(store->options_.pool_size);
  store->idle_.reserve(store->options_.pool_size);
  for (std::uint32_t i = 0; i < store->options_.pool_size; ++i) {
    store->slots_.push_back(std::make_unique<Slot>());
    store->idle_.push_back(store->slots_.back().get());
  }
  // One connection now, so a wrong URL or password, or an unreachable server, shows at start-up.
  Slot& first = *store->slots_.front();
  if (auto connected = store->Connect(first); !connected) {
    return std::unexpected(connected.error());
  }
  store->server_ = first.connection->Describe();
  return store;
}

Result<void> PostgresStore::Connect(Slot& slot) {
  auto connection =
      Connection::Open({.url = options_.url,
                        .connect_timeout = milliseconds(options_.connect_timeout_ms),
                        .statement_timeout = milliseconds(options_.statement_timeout_ms)},
                       postgres_internal::kSqlCount);
  if (!connection) {
    // Once per outage at warn level: during one, every request tries and fails.
    if (reachable_.exchange(false)) {
      spdlog::warn("postgres: unavailable: {}", connection.error().detail);
    } else {
      spdlog::debug("postgres: still unavailable: {}", connection.error().detail);
    }
    return std::unexpected(connection.error());
  }
  if (!reachable_.exchange(true)) {
    spdlog::info("postgres: reachable again ({})", (*connection)->Describe());
  }
  slot.connection = std::move(*connection);
  connects_.fetch_add(1);
  return {};
}

Result<PostgresStore::Lease> PostgresStore::Acquire() {
  Slot* slot = nullptr;
  {
    std::unique_lock lock(pool_mu_);
    const auto deadline = std::chrono::steady_clock::now() + milliseconds(options_.pool_timeout_ms);
    if (!idle_cv_.wait_until(lock, deadline, [this] { return !idle_.empty(); })) {
      return Fail(ErrorCode::kServiceUnavailable, "postgres: no free connection within " +
                                                      std::to_string(options_.pool_timeout_ms) +
                                                      " ms (pool of " +
                                                      std::to_string(slots_.size()) + ")");
    }
    slot = idle_.back();
    idle_.pop_back();
  }
  Lease lease(this, slot);  // From here on, every path gives the slot back.
  if (slot->connection != nullptr && !slot->connection->LooksAlive()) {
    spdlog::debug("postgres: replacing a pooled connection the server closed");
    slot->connection.reset();
  }
  if (slot->connection == nullptr) {
    lease.set_reused(false);
    if (auto connected = Connect(*slot); !connected) return std::unexpected(connected.error());
  }
  return lease;
}

void PostgresStore::Release(Slot* slot) {
  if (Connection* connection = slot->connection.get(); connection != nullptr) {
    const PGTransactionStatusType status = connection->transaction_status();
    if (!connection->broken() && (status == PQTRANS_INTRANS || status == PQTRANS_INERROR)) {
      // Never left open on purpose; make sure the next user starts clean.
      spdlog::warn("postgres: connection returned inside a transaction; rolling it back");
      (void)connection->RunSimple("ROLLBACK", "roll back", connection->StatementDeadline());
    }
    if (connection->broken() || connection->transaction_status() != PQTRANS_IDLE) {
      slot->connection.reset();  // Reconnected on its next checkout.
    }
  }
  {
    std::lock_guard lock(pool_mu_);
    idle_.push_back(slot);
  }
  idle_cv_.notify_one();
}

template <class Body>
auto PostgresStore::Run(bool idempotent, Body&& body) -> std::invoke_result_t<Body&, Connection&> {
  for (int attempt = 0;; ++attempt) {
    auto lease = Acquire();
    if (!lease) return std::unexpected(lease.error());
    auto result = body(lease->connection());
    // A reused connection can die between LooksAlive() and the statement (the server restarted
    // just then). Safe to run again only what has the same effect run twice; a fresh connection
    // failing means the server is really gone.
    if (result.has_value() || !idempotent || attempt > 0 || !lease->reused() ||
        !lease->connection().lost()) {
      return result;
    }
    spdlog::info("postgres: a pooled connection was lost ({}); retrying on a new one",
                 result.error().detail);
  }
}

Result<int> PostgresStore::Migrate() {
  return Run(/*idempotent=*/false, [](Connection& connection) {
    return postgres_internal::ApplyPostgresMigrations(connection);
  });
}

Result<void> PostgresStore::Ping() {
  return Run(/*idempotent=*/true, [](Connection& connection) -> Result<void> {
    Params params;
    auto pinged = Exec(connection, Sql::kPing, params, "ping");
    if (!pinged) return std::unexpected(pinged.error());
    return {};
  });
}

Result<void> PostgresStore::CreateUser(const User& user, const Account& account) {
  if (account.user_id != user.id) {
    return Fail(ErrorCode::kInternal, "postgres: account.user_id does not match user.id");
  }
  return Run(/*idempotent=*/false, [&](Connection& connection) -> Result<void> {
    Params params;
    params.Text(user.id)
        .Text(user.email)
        .Text(user.name)
        .NullableText(user.image)
        .Bool(user.email_verified)
        .Time(user.created_at)
        .Time(user.updated_at)
        .Text(account.id)
        .Text(account.account_id)
        .Text(account.provider_id)
        .TextOrNull(account.password_hash)
        .Time(account.created_at)
        .Time(account.updated_at);
    postgres_internal::SqlFailure failure;
    auto created = Exec(connection, Sql::kCreateUser, params, "create user", &failure);
    if (!created) {
      // Only the email's unique constraint means "taken"; a primary-key collision is a bug.
      if (failure.sqlstate == "23505" && failure.constraint == "user_email_key") {
        return Fail(ErrorCode::kUserAlreadyExists, "postgres: email already registered");
      }
      return std::unexpected(created.error());
    }
    return {};
  });
}

Result<std::optional<UserWithPassword>> PostgresStore::FindUserByEmail(std::string_view email) {
  return Run(/*idempotent=*/true, [&](Connection& connection) {
    Params params;
    params.Text(email);
    return postgres_internal::QueryOne<UserWithPassword>(
        connection, Sql::kFindUserByEmail, params, "find user by email",
        [](const PGresult* result, int row) {
          return UserWithPassword{
              ReadUser(result, row, 0),
              postgres_internal::ColumnText(result, row, postgres_internal::kUserColumnCount)};
        });
  });
}

Result<std::optional<User>> PostgresStore::FindUserById(std::string_view user_id) {
  return Run(/*idempotent=*/true, [&](Connection& connection) {
    Params params;
    params.Text(user_id);
    return postgres_internal::QueryOne<User>(
        connection, Sql::kFindUserById, params, "find user by id",
        [](const PGresult* result, int row) { return ReadUser(result, row, 0); });
  });
}

Result<bool> PostgresStore::UpdatePasswordHash(std::string_view user_id,
                                               std::string_view password_hash, TimePoint now) {
  return Run(/*idempotent=*/true, [&](Connection& connection) -> Result<bool> {
    Params params;
    params.Text(user_id).TextOrNull(password_hash).Time(now);
    auto changed = Change(connection, Sql::kUpdatePasswordHash, params, "update password hash");
    if (!changed) return std::unexpected(changed.error());
    return *changed > 0;
  });
}

Result<bool> PostgresStore::UpdateUser(std::string_view user_id, const UserUpdate& update,
                                       TimePoint now) {
  return Run(/*idempotent=*/true, [&](Connection& connection) -> Result<bool> {
    Params params;
    params.Text(user_id).Bool(update.name.has_value());
    if (update.name.has_value()) {
      params.Text(*update.name);
    } else {
      params.Null();
    }
    params.Bool(update.set_image).NullableText(update.set_image ? update.image : std::nullopt);
    params.Time(now);
    auto changed = Change(connection, Sql::kUpdateUser, params, "update user");
    if (!changed) return std::unexpected(changed.error());
    return *changed > 0;
  });
}

Result<void> PostgresStore::CreateSession(const Session& session) {
  return Run(/*idempotent=*/false, [&](Connection& connection) -> Result<void> {
    Params params;
    params.Text(session.id)
        .Text(session.user_id)
        .Text(session.token_hash)
        .Time(session.expires_at)
        .Text(session.ip_address)
        .Text(session.user_agent)
        .Bool(session.remember_me)
        .Time(session.created_at)
        .Time(session.updated_at)
        .Text(session.user_agent_parsed);
    // Collisions (id, token_hash: 23505) and an unknown user_id (foreign key: 23503) are
    // kInternal, as the contract asks.
    auto inserted = Exec(connection, Sql::kInsertSession, params, "insert session");
    if (!inserted) return std::unexpected(inserted.error());
    return {};
  });
}

Result<std::optional<SessionWithUser>> PostgresStore::FindSessionByTokenHash(
    std::string_view token_hash) {
  return Run(/*idempotent=*/true, [&](Connection& connection) {
    Params params;
    params.Text(token_hash);
    return postgres_internal::QueryOne<SessionWithUser>(
        connection, Sql::kFindSessionByTokenHash, params, "find session",
        [](const PGresult* result, int row) {
          return SessionWithUser{ReadSession(result, row, 0),
                                 ReadUser(result, row, postgres_internal::kSessionColumnCount)};
        });
  });
}

Result<bool> PostgresStore::TouchSession(std::string_view session_id, TimePoint expires_at,
                                         TimePoint updated_at) {
  return Run(/*idempotent=*/true, [&](Connection& connection) -> Result<bool> {
    Params params;
    params.Text(session_id).Time(expires_at).Time(updated_at);
    auto changed = Change(connection, Sql::kTouchSession, params, "touch session");
    if (!changed) return std::unexpected(changed.error());
    return *changed > 0;
  });
}

Result<int> PostgresStore::DeleteSession(std::string_view session_id) {
  return Run(/*idempotent=*/false, [&](Connection& connection) -> Result<int> {
    Params params;
    params.Text(session_id);
    auto deleted = Change(connection, Sql::kDeleteSession, params, "delete session");
    if (!deleted) return std::unexpected(deleted.error());
    return static_cast<int>(*deleted);
  });
}

Result<std::vector<Session>> PostgresStore::ListUserSessions(std::string_view user_id) {
  return Run(/*idempotent=*/true, [&](Connection& connection) {
    Params params;
    params.Text(user_id);
    return postgres_internal::QueryAll<Session>(
        connection, Sql::kListUserSessions, params, "list sessions",
        [](const PGresult* result, int row) { return ReadSession(result, row, 0); });
  });
}

Result<std::vector<std::string>> PostgresStore::DeleteUserSessions(
    std::string_view user_id, std::optional<std::string_view> keep_session_id) {
  return Run(/*idempotent=*/false, [&](Connection& connection) {
    Params params;
    params.Text(user_id);
    if (keep_session_id.has_value()) params.Text(*keep_session_id);
    return postgres_internal::QueryAll<std::string>(
        connection,
        keep_session_id.has_value() ? Sql::kDeleteUserSessionsExcept : Sql::kDeleteUserSessions,
        params, "delete user sessions", [](const PGresult* result, int row) {
          return postgres_internal::ColumnText(result, row, 0);
        });
  });
}

Result<std::int64_t> PostgresStore::DeleteExpiredSessions(TimePoint now) {
  return Run(/*idempotent=*/false, [&](Connection& connection) {
    Params params;
    params.Time(now);
    return Change(connection, Sql::kDeleteExpiredSessions, params, "delete expired sessions");
  });
}

Result<void> PostgresStore::CreateVerification(const Verification& verification) {
  return Run(/*idempotent=*/false, [&](Connection& connection) -> Result<void> {
    Params params;
    params.Text(verification.id)
        .Text(verification.identifier)
        .Text(verification.value)
        .Time(verification.expires_at)
        .Time(verification.created_at);
    auto inserted = Exec(connection, Sql::kInsertVerification, params, "insert verification");
    if (!inserted) return std::unexpected(inserted.error());
    return {};
  });
}

Result<std::optional<Verification>> PostgresStore::ConsumeVerification(
    std::string_view identifier) {
  // Not retried: if the connection died after the DELETE committed, running it again would
  // find nothing and hide that the token was spent — an error is the honest answer.
  return Run(/*idempotent=*/false, [&](Connection& connection) {
    Params params;
    params.Text(identifier);
    return postgres_internal::QueryOne<Verification>(
        connection, Sql::kConsumeVerification, params, "consume verification",
        [](const PGresult* result, int row) {
          return Verification{.id = postgres_internal::ColumnText(result, row, 0),
                              .identifier = postgres_internal::ColumnText(result, row, 1),
                              .value = postgres_internal::ColumnText(result, row, 2),
                              .expires_at = postgres_internal::ColumnTime(result, row, 3),
                              .created_at = postgres_internal::ColumnTime(result, row, 4)};
        });
  });
}

Result<std::int64_t> PostgresStore::DeleteExpiredVerifications(TimePoint now) {
  return Run(/*idempotent=*/false, [&](Connection& connection) {
    Params params;
    params.Time(now);
    return Change(connection, Sql::kDeleteExpiredVerifications, params,
                  "delete expired verifications");
  });
}

Result<void> PostgresStore::AddRevocations(std::span<const std::string> session_ids, TimePoint at) {
  if (session_ids.empty()) return {};
  return Run(/*idempotent=*/false, [&](Connection& connection) -> Result<void> {
    postgres_internal::Transaction transaction(connection);
    // Why the lock: an identity (or BIGSERIAL) value is taken when the INSERT runs, not when it
    // commits. Without it, transaction A could take seq 7, B seq 8, B commit first, a reader see
    // 8 and move its cursor past it, and then miss 7 for good when A commits — breaking "seq
    // order is commit order" (store.h). EXCLUSIVE mode conflicts with itself and with the ROW
    // EXCLUSIVE lock of every INSERT/UPDATE/DELETE, but not with the ACCESS SHARE lock of a
    // plain SELECT: writers of the feed queue one at a time across all replicas, readers never
    // wait. The lock is released only after the commit is visible, so the next writer's seqs
    // are both larger and later in commit order. The wait is bounded by statement_timeout.
    // The NOTIFY (pg_listener.h) is delivered at commit, and dropped on rollback, to every
    // replica's listener: a revocation reaches the other replicas' caches within milliseconds,
    // not a poll interval. Sent with BEGIN: no extra round trip.
    const std::string begin =
        "BEGIN; LOCK TABLE revocation IN EXCLUSIVE MODE; " + RevocationNotifySql(session_ids, at);
    auto locked =
        connection.RunSimple(begin.c_str(), "lock revocations", connection.StatementDeadline());
    if (!locked) return std::unexpected(locked.error());
    Params params;
    params.TextArray(session_ids).Time(at);
    auto inserted = Exec(connection, Sql::kInsertRevocations, params, "insert revocations");
    if (!inserted) return std::unexpected(inserted.error());
    return transaction.Commit();
  });
}

Result<std::vector<Revocation>> PostgresStore::ListRevocations(std::int64_t after_seq,
                                                               std::size_t limit) {
  const auto bounded =
      static_cast<std::int64_t>(std::min<std::size_t>(limit, static_cast<std::size_t>(INT64_MAX)));
  return Run(/*idempotent=*/true, [&](Connection& connection) {
    Params params;
    params.Int64(after_seq).Int64(bounded);
    return postgres_internal::QueryAll<Revocation>(
        connection, Sql::kListRevocations, params, "list revocations",
        [](const PGresult* result, int row) {
          return Revocation{.seq = postgres_internal::ColumnInt64(result, row, 0),
                            .session_id = postgres_internal::ColumnText(result, row, 1),
                            .revoked_at = postgres_internal::ColumnTime(result, row, 2)};
        });
  });
}

Result<std::int64_t> PostgresStore::DeleteRevocationsBefore(TimePoint before) {
  return Run(/*idempotent=*/false, [&](Connection& connection) {
    Params params;
    params.Time(before);
    return Change(connection, Sql::kDeleteRevocationsBefore, params, "delete old revocations");
  });
}

}  // namespace sessiond::store
