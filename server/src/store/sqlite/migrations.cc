#include "store/sqlite/migrations.h"

#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "store/sqlite/sqlite_util.h"

namespace sessiond::store {
namespace {

using sqlite_internal::Exec;
using sqlite_internal::SqliteFail;
using sqlite_internal::StmtHandle;

// Times are INTEGER milliseconds since the Unix epoch (common/clock.h ToUnixMillis). Table and
// column names follow Better Auth's schema (user, account, session) so its docs' SQL reads the
// same; "user" is quoted because it is a reserved word in PostgreSQL and SQL:2016.
constexpr std::string_view kV1InitialSchema = R"sql(
CREATE TABLE "user" (
  id             TEXT PRIMARY KEY,
  email          TEXT NOT NULL UNIQUE,
  name           TEXT NOT NULL,
  image          TEXT,
  email_verified INTEGER NOT NULL DEFAULT 0,
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL
);

CREATE TABLE account (
  id          TEXT PRIMARY KEY,
  user_id     TEXT NOT NULL REFERENCES "user"(id) ON DELETE CASCADE,
  account_id  TEXT NOT NULL,
  provider_id TEXT NOT NULL,
  password    TEXT,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  UNIQUE (provider_id, account_id)
);
CREATE INDEX account_user_id_idx ON account(user_id);

CREATE TABLE session (
  id          TEXT PRIMARY KEY,
  user_id     TEXT NOT NULL REFERENCES "user"(id) ON DELETE CASCADE,
  token_hash  TEXT NOT NULL UNIQUE,
  expires_at  INTEGER NOT NULL,
  ip_address  TEXT NOT NULL DEFAULT '',
  user_agent  TEXT NOT NULL DEFAULT '',
  remember_me INTEGER NOT NULL DEFAULT 1,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);
CREATE INDEX session_user_id_idx ON session(user_id);
CREATE INDEX session_expires_at_idx ON session(expires_at);
)sql";

// v2: the parsed user agent (JSON text), made once at sign-in.
constexpr std::string_view kV2SessionUserAgentParsed = R"sql(
ALTER TABLE session ADD COLUMN user_agent_parsed TEXT NOT NULL DEFAULT '';
)sql";

// v3: single-use secrets (one-time tokens) and the revocation feed for JWT verifiers.
// AUTOINCREMENT so a seq is never reused after old rows are pruned: readers hold seqs as cursors.
constexpr std::string_view kV3VerificationAndRevocation = R"sql(
CREATE TABLE verification (
  id          TEXT PRIMARY KEY,
  identifier  TEXT NOT NULL UNIQUE,
  value       TEXT NOT NULL,
  expires_at  INTEGER NOT NULL,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);
CREATE INDEX verification_expires_at_idx ON verification(expires_at);

CREATE TABLE revocation (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  session_id  TEXT NOT NULL,
  revoked_at  INTEGER NOT NULL
);
CREATE INDEX revocation_revoked_at_idx ON revocation(revoked_at);
)sql";

constexpr std::array kMigrations = {
    Migration{1, "initial schema: user, account, session", kV1InitialSchema},
    Migration{2, "session.user_agent_parsed", kV2SessionUserAgentParsed},
    Migration{3, "verification and revocation tables", kV3VerificationAndRevocation},
};

constexpr const char* kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)";

// applied_at is bookkeeping for humans, so it comes from SQLite's clock rather than an injected
// one: milliseconds since the Unix epoch, like every other time column.
constexpr const char* kRecordMigration =
    "INSERT INTO schema_migrations(version, applied_at) "
    "VALUES (?1, CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER))";

// Rolls an open transaction back unless Commit() succeeded.
class TransactionGuard {
 public:
  explicit TransactionGuard(sqlite3* db) : db_(db) {}
  TransactionGuard(const TransactionGuard&) = delete;
  TransactionGuard& operator=(const TransactionGuard&) = delete;
  ~TransactionGuard() {
    if (open_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  [[nodiscard]] Result<void> Commit() {
    auto committed = Exec(db_, "COMMIT", "commit migration");
    if (committed) open_ = false;
    return committed;
  }

 private:
  sqlite3* db_;
  bool open_ = true;
};

// Prepares `sql` and binds ?1 = `param` (if given).
Result<StmtHandle> PrepareWithParam(sqlite3* db, const char* sql, std::optional<std::int64_t> param,
                                    std::string_view what) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db, sql, -1, &raw, nullptr);
  StmtHandle stmt(raw);
  if (rc != SQLITE_OK) return SqliteFail(db, rc, what);
  if (param.has_value()) {
    rc = sqlite3_bind_int64(stmt.get(), 1, *param);
    if (rc != SQLITE_OK) return SqliteFail(db, rc, what);
  }
  return stmt;
}

// Runs a query returning one row with one integer column.
Result<std::int64_t> QueryInt(sqlite3* db, const char* sql, std::optional<std::int64_t> param,
                              std::string_view what) {
  auto stmt = PrepareWithParam(db, sql, param, what);
  if (!stmt) return std::unexpected(stmt.error());
  int rc = sqlite3_step(stmt->get());
  if (rc != SQLITE_ROW) return SqliteFail(db, rc, what);
  return sqlite3_column_int64(stmt->get(), 0);
}

// Runs a statement returning no rows.
Result<void> ExecWithParam(sqlite3* db, const char* sql, std::int64_t param,
                           std::string_view what) {
  auto stmt = PrepareWithParam(db, sql, param, what);
  if (!stmt) return std::unexpected(stmt.error());
  int rc = sqlite3_step(stmt->get());
  if (rc != SQLITE_DONE) return SqliteFail(db, rc, what);
  return {};
}

// Applies `migration` unless schema_migrations already lists it, all under one write lock.
Result<void> ApplyOne(sqlite3* db, const Migration& migration) {
  // IMMEDIATE takes the write lock before the check, so a concurrent migrator (another process)
  // waits here (busy_timeout) and then sees the version recorded.
  if (auto begun = Exec(db, "BEGIN IMMEDIATE", "begin migration"); !begun) return begun;
  TransactionGuard transaction(db);
  if (auto created = Exec(db, kCreateMigrationsTable, "create schema_migrations"); !created) {
    return created;
  }
  auto applied = QueryInt(db, "SELECT count(*) FROM schema_migrations WHERE version = ?1",
                          migration.version, "read schema_migrations");
  if (!applied) return std::unexpected(applied.error());
  if (*applied == 0) {
    const std::string sql(migration.sql);  // sqlite3_exec needs NUL termination.
    const std::string what = "apply migration " + std::to_string(migration.version);
    if (auto ran = Exec(db, sql.c_str(), what); !ran) return ran;
    auto recorded = ExecWithParam(db, kRecordMigration, migration.version, "record migration");
    if (!recorded) return recorded;
    if (auto committed = transaction.Commit(); !committed) return committed;
    spdlog::info("sqlite: applied schema migration {} ({})", migration.version,
                 migration.description);
    return {};
  }
  return transaction.Commit();
}

}  // namespace

std::span<const Migration> AllMigrations() { return kMigrations; }

int LatestSchemaVersion() { return kMigrations.back().version; }

Result<int> ApplyMigrations(sqlite3* db) {
  for (const Migration& migration : kMigrations) {
    if (auto applied = ApplyOne(db, migration); !applied) return std::unexpected(applied.error());
  }
  auto version = QueryInt(db, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                          std::nullopt, "read schema version");
  if (!version) return std::unexpected(version.error());
  if (*version > LatestSchemaVersion()) {
    return Fail(ErrorCode::kInternal,
                "sqlite: database schema version " + std::to_string(*version) +
                    " is newer than this build's " + std::to_string(LatestSchemaVersion()));
  }
  return static_cast<int>(*version);
}

}  // namespace sessiond::store
