#include "store/postgres/migrations.h"

#include <spdlog/spdlog.h>

#include <array>
#include <string>

#include "store/postgres/pg_connection.h"

namespace sessiond::store::postgres_internal {
namespace {

// Times are BIGINT milliseconds since the Unix epoch (common/clock.h ToUnixMillis), as in the
// SQLite schema: exact round trips (timestamptz has microseconds, but converting in SQL invites
// time-zone mistakes), and the same operator queries with a different "now". Booleans are
// BOOLEAN. Ids, hashes and emails are COLLATE "C": compared and ordered bytewise as in SQLite
// (ListUserSessions breaks created_at ties by id), and their B-tree indexes skip locale rules.
// Table and column names follow Better Auth's schema; "user" is quoted: a reserved word here.
constexpr std::string_view kV1InitialSchema = R"sql(
CREATE TABLE "user" (
  id             TEXT COLLATE "C" PRIMARY KEY,
  email          TEXT COLLATE "C" NOT NULL CONSTRAINT user_email_key UNIQUE,
  name           TEXT NOT NULL,
  image          TEXT,
  email_verified BOOLEAN NOT NULL DEFAULT FALSE,
  created_at     BIGINT NOT NULL,
  updated_at     BIGINT NOT NULL
);

CREATE TABLE account (
  id          TEXT COLLATE "C" PRIMARY KEY,
  user_id     TEXT COLLATE "C" NOT NULL REFERENCES "user"(id) ON DELETE CASCADE,
  account_id  TEXT COLLATE "C" NOT NULL,
  provider_id TEXT COLLATE "C" NOT NULL,
  password    TEXT,
  created_at  BIGINT NOT NULL,
  updated_at  BIGINT NOT NULL,
  CONSTRAINT account_provider_account_key UNIQUE (provider_id, account_id)
);
CREATE INDEX account_user_id_idx ON account(user_id);

CREATE TABLE session (
  id          TEXT COLLATE "C" PRIMARY KEY,
  user_id     TEXT COLLATE "C" NOT NULL REFERENCES "user"(id) ON DELETE CASCADE,
  token_hash  TEXT COLLATE "C" NOT NULL CONSTRAINT session_token_hash_key UNIQUE,
  expires_at  BIGINT NOT NULL,
  ip_address  TEXT NOT NULL DEFAULT '',
  user_agent  TEXT NOT NULL DEFAULT '',
  remember_me BOOLEAN NOT NULL DEFAULT TRUE,
  created_at  BIGINT NOT NULL,
  updated_at  BIGINT NOT NULL
);
CREATE INDEX session_user_id_idx ON session(user_id);
CREATE INDEX session_expires_at_idx ON session(expires_at);
)sql";

// v2: the parsed user agent (JSON text), made once at sign-in.
constexpr std::string_view kV2SessionUserAgentParsed = R"sql(
ALTER TABLE session ADD COLUMN user_agent_parsed TEXT NOT NULL DEFAULT '';
)sql";

// v3: single-use secrets (one-time tokens) and the revocation feed for JWT verifiers. seq is an
// identity column: its sequence never hands a value out twice, so a pruned seq is never reused
// (readers hold seqs as cursors). Inserts are serialised by the store (see AddRevocations) so
// that seq order is commit order.
constexpr std::string_view kV3VerificationAndRevocation = R"sql(
CREATE TABLE verification (
  id          TEXT COLLATE "C" PRIMARY KEY,
  identifier  TEXT COLLATE "C" NOT NULL CONSTRAINT verification_identifier_key UNIQUE,
  value       TEXT NOT NULL,
  expires_at  BIGINT NOT NULL,
  created_at  BIGINT NOT NULL,
  updated_at  BIGINT NOT NULL
);
CREATE INDEX verification_expires_at_idx ON verification(expires_at);

CREATE TABLE revocation (
  seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  session_id  TEXT COLLATE "C" NOT NULL,
  revoked_at  BIGINT NOT NULL
);
CREATE INDEX revocation_revoked_at_idx ON revocation(revoked_at);
)sql";

constexpr std::array kMigrations = {
    PostgresMigration{1, "initial schema: user, account, session", kV1InitialSchema},
    PostgresMigration{2, "session.user_agent_parsed", kV2SessionUserAgentParsed},
    PostgresMigration{3, "verification and revocation tables", kV3VerificationAndRevocation},
};

// The first key of the advisory lock: "sess" in ASCII. The second is the current schema's hash,
// so migrators of different schemas in one database do not wait for each other. coalesce:
// with no existing schema on search_path current_schema() is NULL, and pg_advisory_xact_lock is
// strict — it would return NULL without locking (the CREATE TABLE then fails anyway).
// statement_timeout = 0 for this transaction only: waiting for another replica's migration or
// running DDL on a large table is expected to take a while.
constexpr const char* kLockForMigration =
    "SET LOCAL statement_timeout = 0; "
    "SELECT pg_advisory_xact_lock(1936028531, hashtext(coalesce(current_schema(), '')))";

constexpr const char* kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)";

constexpr const char* kCurrentVersion = "SELECT coalesce(max(version), 0) FROM schema_migrations";

// applied_at is bookkeeping for humans, so it comes from the server's clock: milliseconds since
// the Unix epoch, like every other time column.
constexpr const char* kRecordMigration =
    "INSERT INTO schema_migrations (version, applied_at) "
    "VALUES ($1, (extract(epoch FROM clock_timestamp()) * 1000)::bigint)";

// Rolls the migration transaction back unless Commit() succeeded.
class MigrationTransaction {
 public:
  explicit MigrationTransaction(Connection& connection) : connection_(connection) {}
  MigrationTransaction(const MigrationTransaction&) = delete;
  MigrationTransaction& operator=(const MigrationTransaction&) = delete;
  ~MigrationTransaction() {
    if (open_ && !connection_.broken()) {
      (void)connection_.RunSimple("ROLLBACK", "roll back migration",
                                  connection_.StatementDeadline());
    }
  }
  [[nodiscard]] Result<void> Commit() {
    auto committed = connection_.RunSimple("COMMIT", "commit migration", std::nullopt);
    if (!committed) return std::unexpected(committed.error());
    open_ = false;
    return {};
  }

 private:
  Connection& connection_;
  bool open_ = true;
};

}  // namespace

std::span<const PostgresMigration> AllPostgresMigrations() { return kMigrations; }

int LatestPostgresSchemaVersion() { return kMigrations.back().version; }

Result<int> ApplyPostgresMigrations(Connection& connection) {
  auto begun = connection.RunSimple("BEGIN", "begin migration", connection.StatementDeadline());
  if (!begun) return std::unexpected(begun.error());
  MigrationTransaction transaction(connection);
  if (auto locked = connection.RunSimple(kLockForMigration, "lock for migration", std::nullopt);
      !locked) {
    return std::unexpected(locked.error());
  }
  if (auto created =
          connection.RunSimple(kCreateMigrationsTable, "create schema_migrations", std::nullopt);
      !created) {
    return std::unexpected(created.error());
  }
  auto current = connection.RunSimple(kCurrentVersion, "read schema version", std::nullopt);
  if (!current) return std::unexpected(current.error());
  const auto version = static_cast<int>(ColumnInt64(current->get(), 0, 0));
  if (version > LatestPostgresSchemaVersion()) {
    return Fail(ErrorCode::kInternal, "postgres: database schema version " +
                                          std::to_string(version) + " is newer than this build's " +
                                          std::to_string(LatestPostgresSchemaVersion()));
  }
  for (const PostgresMigration& migration : kMigrations) {
    if (migration.version <= version) continue;
    const std::string sql(migration.sql);  // libpq needs NUL termination.
    const std::string what = "apply migration " + std::to_string(migration.version);
    if (auto ran = connection.RunSimple(sql.c_str(), what, std::nullopt); !ran) {
      return std::unexpected(ran.error());
    }
    Params params;
    params.Int64(migration.version);
    if (auto recorded =
            connection.RunParams(kRecordMigration, params, "record migration", std::nullopt);
        !recorded) {
      return std::unexpected(recorded.error());
    }
  }
  if (auto committed = transaction.Commit(); !committed) return std::unexpected(committed.error());
  for (const PostgresMigration& migration : kMigrations) {
    if (migration.version > version) {
      spdlog::info("postgres: applied schema migration {} ({})", migration.version,
                   migration.description);
    }
  }
  return LatestPostgresSchemaVersion();
}

}  // namespace sessiond::store::postgres_internal
