// Runs the shared conformance suite against SqliteStore (default options, and a one-connection
// pool with synchronous=normal), plus SQLite-specific checks: pragmas, the file on disk,
// migrations bookkeeping, reopening, and error mapping.
#include "store/sqlite/sqlite_store.h"

#include <sqlite3.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "store/sqlite/migrations.h"
#include "store/testing/store_conformance.h"
#include "testing/fake_clock.h"

namespace sessiond::store {
namespace {

namespace fs = std::filesystem;
using testing::StoreConformanceTest;
using testing::StoreFactory;
using testing::StoreFactoryName;

// A fresh directory under ::testing::TempDir(), removed with its contents on destruction.
class ScopedTempDir {
 public:
  ScopedTempDir() {
    std::string pattern = (fs::path(::testing::TempDir()) / "sessiond-store-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      ADD_FAILURE() << "mkdtemp failed for " << pattern;
    }
    path_ = pattern;
  }
  ScopedTempDir(const ScopedTempDir&) = delete;
  ScopedTempDir& operator=(const ScopedTempDir&) = delete;
  ~ScopedTempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }

  [[nodiscard]] std::string File(const std::string& name) const { return (path_ / name).string(); }
  [[nodiscard]] const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Owns the directory the conformance stores' files go in, for the whole test program.
class ConformanceDirEnvironment final : public ::testing::Environment {
 public:
  void SetUp() override { dir_ = std::make_unique<ScopedTempDir>(); }
  void TearDown() override { dir_.reset(); }
  [[nodiscard]] std::string NextFile() { return dir_->File(std::to_string(next_++) + ".db"); }

 private:
  std::unique_ptr<ScopedTempDir> dir_;
  std::atomic<int> next_{0};
};

ConformanceDirEnvironment* const conformance_dir = static_cast<ConformanceDirEnvironment*>(
    ::testing::AddGlobalTestEnvironment(new ConformanceDirEnvironment));

std::function<std::unique_ptr<Store>()> SqliteFactory(std::string synchronous,
                                                      std::uint32_t pool_size) {
  return [synchronous, pool_size]() -> std::unique_ptr<Store> {
    SqliteOptions options;
    options.path = conformance_dir->NextFile();
    options.synchronous = synchronous;
    options.pool_size = pool_size;
    auto store = SqliteStore::Open(options);
    if (!store) {
      ADD_FAILURE() << "SqliteStore::Open: " << store.error().detail;
      return nullptr;
    }
    return std::move(*store);
  };
}

INSTANTIATE_TEST_SUITE_P(
    Sqlite, StoreConformanceTest,
    ::testing::Values(StoreFactory{"Sqlite", SqliteFactory("full", 0)},
                      // One connection: every call queues for it, so any lock-order mistake
                      // between the writer lock and the pool would deadlock here.
                      StoreFactory{"SqlitePoolOfOne", SqliteFactory("normal", 1)}),
    StoreFactoryName);

TEST(SqliteStoreConformanceTest, SuiteIsLinkedInForEveryInstantiation) {
  const ::testing::UnitTest& unit = *::testing::UnitTest::GetInstance();
  int conformance_tests = 0;
  for (int i = 0; i < unit.total_test_suite_count(); ++i) {
    const ::testing::TestSuite& suite = *unit.GetTestSuite(i);
    if (std::string_view(suite.name()) == "Sqlite/StoreConformanceTest") {
      conformance_tests = suite.total_test_count();
    }
  }
  EXPECT_GE(conformance_tests, 2 * 30);  // Two factories.
}

// --- Helpers for poking at the file with the raw C API -------------------------------------------

struct RawDb {
  explicit RawDb(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << "cannot open " << path;
    }
    sqlite3_busy_timeout(db, 5000);
  }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;
  ~RawDb() { sqlite3_close_v2(db); }

  void Exec(const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << (error != nullptr ? error : "?");
    }
    sqlite3_free(error);
  }
  // The first column of the first row as text ("" if no row).
  std::string QueryText(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    std::string out;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db);
    } else if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0) != nullptr) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
    return out;
  }
  // EXPLAIN QUERY PLAN's detail lines joined with " | ".
  std::string QueryPlan(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    std::string plan;
    const std::string explain = "EXPLAIN QUERY PLAN " + sql;
    if (sqlite3_prepare_v2(db, explain.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db);
    } else {
      while (sqlite3_step(stmt) == SQLITE_ROW) {
        if (!plan.empty()) plan += " | ";
        plan += reinterpret_cast<const char*>(sqlite3_column_text(stmt, 3));
      }
    }
    sqlite3_finalize(stmt);
    return plan;
  }
  std::int64_t QueryInt(const std::string& sql) {
    std::string text = QueryText(sql);
    return text.empty() ? -1 : std::stoll(text);
  }

  sqlite3* db = nullptr;
};

class SqliteStoreTest : public ::testing::Test {
 protected:
  [[nodiscard]] std::unique_ptr<SqliteStore> OpenOrDie(SqliteOptions options) {
    auto store = SqliteStore::Open(std::move(options));
    if (!store) {
      ADD_FAILURE() << "Open: " << store.error().detail;
      return nullptr;
    }
    return std::move(*store);
  }
  [[nodiscard]] std::unique_ptr<SqliteStore> OpenAndMigrate(const std::string& path) {
    auto store = OpenOrDie(SqliteOptions{.path = path});
    if (store == nullptr) return nullptr;
    auto migrated = store->Migrate();
    EXPECT_TRUE(migrated.has_value()) << migrated.error().detail;
    return store;
  }

  User MakeUser(const std::string& id) const {
    return User{.id = id,
                .email = id + "@example.com",
                .name = "User " + id,
                .image = std::nullopt,
                .email_verified = true,
                .created_at = clock_.Now(),
                .updated_at = clock_.Now() + milliseconds(1)};
  }
  Account MakeAccount(const User& user, std::string password_hash) const {
    return Account{.id = "acc-" + user.id,
                   .user_id = user.id,
                   .account_id = user.id,
                   .provider_id = "credential",
                   .password_hash = std::move(password_hash),
                   .created_at = user.created_at,
                   .updated_at = user.updated_at};
  }
  Session MakeSession(const std::string& id, const std::string& user_id) const {
    return Session{.id = id,
                   .user_id = user_id,
                   .token_hash = std::string(64, 'a') + id,
                   .expires_at = clock_.Now() + std::chrono::days(7) + milliseconds(42),
                   .ip_address = "198.51.100.4",
                   .user_agent = "curl/8.0",
                   .remember_me = false,
                   .created_at = clock_.Now() + milliseconds(5),
                   .updated_at = clock_.Now() + milliseconds(6)};
  }

  ScopedTempDir dir_;
  sessiond::testing::FakeClock clock_;
};

// --- Opening and pragmas -------------------------------------------------------------------------

TEST_F(SqliteStoreTest, OpenCreatesTheDatabaseFile) {
  const std::string path = dir_.File("sessiond.db");
  ASSERT_FALSE(fs::exists(path));
  auto store = OpenOrDie(SqliteOptions{.path = path});
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(fs::exists(path));
}

TEST_F(SqliteStoreTest, DefaultsAreWalFullSynchronousForeignKeysAndBusyTimeout) {
  auto store = OpenOrDie(SqliteOptions{.path = dir_.File("sessiond.db")});
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->QueryPragma("journal_mode"), "wal");
  EXPECT_EQ(store->QueryPragma("synchronous"), "2");  // FULL.
  EXPECT_EQ(store->QueryPragma("foreign_keys"), "1");
  EXPECT_EQ(store->QueryPragma("busy_timeout"), "5000");
  EXPECT_EQ(store->pool_size(), std::max<std::size_t>(2, 2 * std::thread::hardware_concurrency()));
}

TEST_F(SqliteStoreTest, EveryPooledConnectionGetsThePragmas) {
  auto store = OpenOrDie(
      SqliteOptions{.path = dir_.File("sessiond.db"), .synchronous = "normal", .pool_size = 3});
  ASSERT_NE(store, nullptr);
  ASSERT_EQ(store->pool_size(), 3u);
  // Concurrent readers spread over the pool; whichever connection serves a call must show the
  // configured pragmas.
  std::atomic<int> ready{0};
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&] {
      ++ready;
      while (ready.load() < 3) std::this_thread::yield();
      for (int j = 0; j < 50; ++j) {
        if (store->QueryPragma("synchronous") != "1") ++wrong;
        if (store->QueryPragma("foreign_keys") != "1") ++wrong;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST_F(SqliteStoreTest, NormalSynchronousIsHonouredCaseInsensitively) {
  auto store = OpenOrDie(SqliteOptions{.path = dir_.File("sessiond.db"), .synchronous = "NORMAL"});
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->QueryPragma("synchronous"), "1");
}

TEST_F(SqliteStoreTest, BadSynchronousValueIsRejectedBeforeTouchingTheDisk) {
  for (const char* value : {"off", "extra", "", "2", "full; DROP TABLE session"}) {
    const std::string path = dir_.File("never.db");
    auto store = SqliteStore::Open(SqliteOptions{.path = path, .synchronous = value});
    ASSERT_FALSE(store.has_value()) << value;
    EXPECT_EQ(store.error().code, ErrorCode::kInternal) << value;
    EXPECT_FALSE(fs::exists(path)) << value;
  }
}

TEST_F(SqliteStoreTest, UnopenablePathIsServiceUnavailableWithTheReason) {
  auto missing_dir = SqliteStore::Open(SqliteOptions{.path = dir_.File("no/such/dir/s.db")});
  ASSERT_FALSE(missing_dir.has_value());
  EXPECT_EQ(missing_dir.error().code, ErrorCode::kServiceUnavailable);
  EXPECT_NE(missing_dir.error().detail.find("unable to open"), std::string::npos)
      << missing_dir.error().detail;

  auto a_directory = SqliteStore::Open(SqliteOptions{.path = dir_.path().string()});
  ASSERT_FALSE(a_directory.has_value());
  EXPECT_EQ(a_directory.error().code, ErrorCode::kServiceUnavailable);
}

TEST_F(SqliteStoreTest, NotADatabaseIsServiceUnavailable) {
  const std::string path = dir_.File("garbage.db");
  {
    std::FILE* file = std::fopen(path.c_str(), "wb");
    ASSERT_NE(file, nullptr);
    std::fputs("this is not an SQLite database, just some text that is long enough....", file);
    std::fclose(file);
  }
  auto store = SqliteStore::Open(SqliteOptions{.path = path});
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code, ErrorCode::kServiceUnavailable);
}

TEST_F(SqliteStoreTest, InMemoryAndEmptyPathsAreRejected) {
  for (const char* path : {":memory:", ""}) {
    auto store = SqliteStore::Open(SqliteOptions{.path = path});
    ASSERT_FALSE(store.has_value()) << path;
    EXPECT_EQ(store.error().code, ErrorCode::kInternal) << path;
  }
}

TEST_F(SqliteStoreTest, QueryPragmaRejectsAnythingButAName) {
  auto store = OpenOrDie(SqliteOptions{.path = dir_.File("sessiond.db")});
  ASSERT_NE(store, nullptr);
  auto injected = store->QueryPragma("journal_mode; DROP TABLE session");
  ASSERT_FALSE(injected.has_value());
  EXPECT_EQ(injected.error().code, ErrorCode::kInternal);
}

// --- Migrations
// -----------------------------------------------------------------------------------

TEST_F(SqliteStoreTest, MigrateTwiceRecordsEachMigrationOnce) {
  const std::string path = dir_.File("sessiond.db");
  auto store = OpenOrDie(SqliteOptions{.path = path});
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Migrate(), LatestSchemaVersion());
  EXPECT_EQ(store->Migrate(), LatestSchemaVersion());

  RawDb raw(path);
  EXPECT_EQ(raw.QueryInt("SELECT count(*) FROM schema_migrations"),
            static_cast<std::int64_t>(AllMigrations().size()));
  EXPECT_EQ(raw.QueryInt("SELECT max(version) FROM schema_migrations"), LatestSchemaVersion());
  // applied_at is Unix milliseconds: after 2020-01-01 and before 2200-01-01.
  const std::int64_t applied_at = raw.QueryInt("SELECT applied_at FROM schema_migrations");
  EXPECT_GT(applied_at, 1577836800000);
  EXPECT_LT(applied_at, 7258118400000);
}

TEST_F(SqliteStoreTest, SchemaHasBetterAuthTablesAndIndexes) {
  const std::string path = dir_.File("sessiond.db");
  auto store = OpenAndMigrate(path);
  ASSERT_NE(store, nullptr);
  RawDb raw(path);
  for (const char* table : {"user", "account", "session", "schema_migrations"}) {
    EXPECT_EQ(raw.QueryInt(std::string("SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                                       "AND name = '") +
                           table + "'"),
              1)
        << table;
  }
  // Indexes by the columns they cover (names are ours, columns are the contract).
  EXPECT_EQ(raw.QueryText("SELECT name FROM pragma_index_info('account_user_id_idx')"), "user_id");
  EXPECT_EQ(raw.QueryText("SELECT name FROM pragma_index_info('session_user_id_idx')"), "user_id");
  EXPECT_EQ(raw.QueryText("SELECT name FROM pragma_index_info('session_expires_at_idx')"),
            "expires_at");
}

TEST_F(SqliteStoreTest, HotQueriesUseIndexesNotScans) {
  const std::string path = dir_.File("sessiond.db");
  auto store = OpenAndMigrate(path);
  ASSERT_NE(store, nullptr);
  RawDb raw(path);
  const std::string lookup = raw.QueryPlan(
      "SELECT s.id, u.id FROM session AS s JOIN \"user\" AS u ON u.id = s.user_id "
      "WHERE s.token_hash = ?1");
  EXPECT_EQ(lookup.find("SCAN"), std::string::npos) << lookup;
  EXPECT_NE(lookup.find("token_hash=?"), std::string::npos) << lookup;
  const std::string sweep = raw.QueryPlan("DELETE FROM session WHERE expires_at <= ?1");
  EXPECT_NE(sweep.find("session_expires_at_idx"), std::string::npos) << sweep;
  const std::string list = raw.QueryPlan("SELECT id FROM session WHERE user_id = ?1");
  EXPECT_NE(list.find("session_user_id_idx"), std::string::npos) << list;
}

TEST_F(SqliteStoreTest, ConcurrentMigrateFromTwoProcessesAppliesOnce) {
  // Two stores on one file stand for two processes: they share no in-process lock.
  const std::string path = dir_.File("sessiond.db");
  auto first = OpenOrDie(SqliteOptions{.path = path});
  auto second = OpenOrDie(SqliteOptions{.path = path});
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  Result<int> first_version = 0;
  Result<int> second_version = 0;
  std::thread a([&] { first_version = first->Migrate(); });
  std::thread b([&] { second_version = second->Migrate(); });
  a.join();
  b.join();
  ASSERT_TRUE(first_version.has_value()) << first_version.error().detail;
  ASSERT_TRUE(second_version.has_value()) << second_version.error().detail;
  EXPECT_EQ(*first_version, LatestSchemaVersion());
  EXPECT_EQ(*second_version, LatestSchemaVersion());
  RawDb raw(path);
  EXPECT_EQ(raw.QueryInt("SELECT count(*) FROM schema_migrations"),
            static_cast<std::int64_t>(AllMigrations().size()));
}

TEST_F(SqliteStoreTest, SchemaFromANewerBuildIsRefused) {
  const std::string path = dir_.File("sessiond.db");
  auto store = OpenAndMigrate(path);
  ASSERT_NE(store, nullptr);
  {
    RawDb raw(path);
    raw.Exec("INSERT INTO schema_migrations(version, applied_at) VALUES (999, 0)");
  }
  auto migrated = store->Migrate();
  ASSERT_FALSE(migrated.has_value());
  EXPECT_EQ(migrated.error().code, ErrorCode::kInternal);
  EXPECT_NE(migrated.error().detail.find("999"), std::string::npos) << migrated.error().detail;
}

TEST_F(SqliteStoreTest, UnmigratedStoreFailsWithInternal) {
  auto store = OpenOrDie(SqliteOptions{.path = dir_.File("sessiond.db")});
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->Ping().has_value());
  auto found = store->FindUserById("u1");
  ASSERT_FALSE(found.has_value());
  EXPECT_EQ(found.error().code, ErrorCode::kInternal);
}

// --- Persistence and storage format -----------------------------------------------------------

TEST_F(SqliteStoreTest, DataSurvivesClosingAndReopening) {
  const std::string path = dir_.File("sessiond.db");
  const User user = MakeUser("u1");
  const Session session = MakeSession("s1", "u1");
  {
    auto store = OpenAndMigrate(path);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->CreateUser(user, MakeAccount(user, "hash-1")).has_value());
    ASSERT_TRUE(store->CreateSession(session).has_value());
  }
  EXPECT_FALSE(fs::exists(path + "-wal") && fs::file_size(path + "-wal") > 0)
      << "closing the last connection checkpoints the WAL";

  auto reopened = OpenAndMigrate(path);
  ASSERT_NE(reopened, nullptr);
  auto found = reopened->FindSessionByTokenHash(session.token_hash);
  ASSERT_TRUE(found.has_value()) << found.error().detail;
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->session.id, "s1");
  EXPECT_EQ(ToUnixMillis((*found)->session.expires_at), ToUnixMillis(session.expires_at));
  EXPECT_FALSE((*found)->session.remember_me);
  EXPECT_EQ((*found)->user.email, "u1@example.com");
  auto by_email = reopened->FindUserByEmail("u1@example.com");
  ASSERT_TRUE(by_email.has_value() && by_email->has_value());
  EXPECT_EQ((*by_email)->password_hash, "hash-1");
}

TEST_F(SqliteStoreTest, RowsUseUnixMillisecondsAndIntegerBooleans) {
  const std::string path = dir_.File("sessiond.db");
  auto store = OpenAndMigrate(path);
  ASSERT_NE(store, nullptr);
  const User user = MakeUser("u1");
  ASSERT_TRUE(store->CreateUser(user, MakeAccount(user, "")).has_value());
  const Session session = MakeSession("s1", "u1");
  ASSERT_TRUE(store->CreateSession(session).has_value());

  RawDb raw(path);
  EXPECT_EQ(raw.QueryInt("SELECT expires_at FROM session WHERE id = 's1'"),
            ToUnixMillis(session.expires_at));
  EXPECT_EQ(raw.QueryInt("SELECT created_at FROM session WHERE id = 's1'"),
            ToUnixMillis(session.created_at));
  EXPECT_EQ(raw.QueryInt("SELECT remember_me FROM session WHERE id = 's1'"), 0);
  EXPECT_EQ(raw.QueryText("SELECT typeof(expires_at) FROM session"), "integer");
  EXPECT_EQ(raw.QueryInt("SELECT email_verified FROM \"user\" WHERE id = 'u1'"), 1);
  EXPECT_EQ(raw.QueryText("SELECT typeof(image) FROM \"user\""), "null");
  EXPECT_EQ(raw.QueryText("SELECT typeof(password) FROM account"), "null")
      << "no password is stored as NULL";
  EXPECT_EQ(raw.QueryText("SELECT provider_id || ':' || account_id FROM account"), "credential:u1");
}

TEST_F(SqliteStoreTest, DeletingAUserCascadesToItsAccountAndSessions) {
  const std::string path = dir_.File("sessiond.db");
  auto store = OpenAndMigrate(path);
  ASSERT_NE(store, nullptr);
  const User user = MakeUser("u1");
  ASSERT_TRUE(store->CreateUser(user, MakeAccount(user, "h")).has_value());
  ASSERT_TRUE(store->CreateSession(MakeSession("s1", "u1")).has_value());
  ASSERT_TRUE(store->CreateSession(MakeSession("s2", "u1")).has_value());

  RawDb raw(path);
  raw.Exec("PRAGMA foreign_keys = ON");
  raw.Exec("DELETE FROM \"user\" WHERE id = 'u1'");
  EXPECT_EQ(raw.QueryInt("SELECT count(*) FROM session"), 0);
  EXPECT_EQ(raw.QueryInt("SELECT count(*) FROM account"), 0);
}

// --- Error mapping
// --------------------------------------------------------------------------------

TEST_F(SqliteStoreTest, LockHeldByAnotherProcessIsServiceUnavailableWithoutSecrets) {
  const std::string path = dir_.File("sessiond.db");
  auto store = OpenOrDie(SqliteOptions{.path = path, .busy_timeout_ms = 100});
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Migrate().has_value());
  const User user = MakeUser("u1");
  ASSERT_TRUE(store->CreateUser(user, MakeAccount(user, "secret-hash")).has_value());

  RawDb other(path);
  other.Exec("BEGIN IMMEDIATE");  // Another process holds the write lock.
  const Session session = MakeSession("s1", "u1");
  auto created = store->CreateSession(session);
  ASSERT_FALSE(created.has_value());
  EXPECT_EQ(created.error().code, ErrorCode::kServiceUnavailable);
  EXPECT_NE(created.error().detail.find("locked"), std::string::npos) << created.error().detail;
  EXPECT_EQ(created.error().detail.find(session.token_hash), std::string::npos);

  auto updated = store->UpdatePasswordHash("u1", "new-secret-hash", clock_.Now());
  ASSERT_FALSE(updated.has_value());
  EXPECT_EQ(updated.error().code, ErrorCode::kServiceUnavailable);
  EXPECT_EQ(updated.error().detail.find("secret"), std::string::npos);

  // Reads are not blocked by a writer (WAL).
  auto found = store->FindUserByEmail("u1@example.com");
  ASSERT_TRUE(found.has_value()) << found.error().detail;
  EXPECT_TRUE(found->has_value());

  other.Exec("ROLLBACK");
  EXPECT_TRUE(store->CreateSession(session).has_value()) << "recovers once the lock is gone";
}

TEST_F(SqliteStoreTest, DuplicateEmailDetailCarriesNoEmail) {
  auto store = OpenAndMigrate(dir_.File("sessiond.db"));
  ASSERT_NE(store, nullptr);
  User user = MakeUser("u1");
  ASSERT_TRUE(store->CreateUser(user, MakeAccount(user, "h")).has_value());
  User again = MakeUser("u2");
  again.email = user.email;
  auto created = store->CreateUser(again, MakeAccount(again, "h"));
  ASSERT_FALSE(created.has_value());
  EXPECT_EQ(created.error().code, ErrorCode::kUserAlreadyExists);
  EXPECT_EQ(created.error().detail.find(user.email), std::string::npos);
}

TEST_F(SqliteStoreTest, UserIdCollisionIsInternalNotAlreadyExists) {
  auto store = OpenAndMigrate(dir_.File("sessiond.db"));
  ASSERT_NE(store, nullptr);
  User user = MakeUser("u1");
  ASSERT_TRUE(store->CreateUser(user, MakeAccount(user, "h")).has_value());
  User same_id = MakeUser("u1");
  same_id.email = "other@example.com";
  Account account = MakeAccount(same_id, "h");
  account.id = "acc-other";
  auto created = store->CreateUser(same_id, account);
  ASSERT_FALSE(created.has_value());
  EXPECT_EQ(created.error().code, ErrorCode::kInternal);
}

}  // namespace
}  // namespace sessiond::store
