// Runs the shared conformance suite against PostgresStore (default pool and a pool of one), plus
// PostgreSQL-specific checks: migrations (bookkeeping, a newer schema, concurrent migrators),
// timeouts (connect, statement, pool, a frozen server), recovery after a server restart,
// replicas sharing one database (verifications consumed once, the revocation feed in commit
// order) and error mapping.
//
// Needs a server: SESSIOND_TEST_POSTGRES_URL (a superuser URL; CTest runs this binary through
// scripts/with-postgres.sh, which starts a throwaway PostgreSQL). Without it every test fails —
// they never skip. Each store gets a fresh schema of its own (search_path in the URL), so tests
// never see each other's rows. The restart test stops and starts the server with the same script
// (SESSIOND_TEST_POSTGRES_SCRIPT / SESSIOND_TEST_POSTGRES_DIR).
#include "store/postgres/postgres_store.h"

#include <libpq-fe.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <latch>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include "store/postgres/migrations.h"
#include "store/testing/store_conformance.h"
#include "testing/fake_clock.h"

namespace sessiond::store {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;
using testing::StoreConformanceTest;
using testing::StoreFactory;
using testing::StoreFactoryName;

// Migrations log at info level for every fresh schema; keep the test output to what matters.
const bool kQuietLogs = [] {
  spdlog::set_level(spdlog::level::warn);
  return true;
}();

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

// The server's superuser URL; fails the calling test when it is not set.
std::string BaseUrl() {
  std::string url = Env("SESSIOND_TEST_POSTGRES_URL");
  if (url.empty()) {
    ADD_FAILURE() << "SESSIOND_TEST_POSTGRES_URL is not set: run this test through CTest or "
                     "scripts/with-postgres.sh run -- <this binary>";
  }
  return url;
}

// `base` with extra URI query parameters appended.
std::string WithParams(const std::string& base, const std::string& params) {
  return base + (base.find('?') == std::string::npos ? "?" : "&") + params;
}

long Elapsed(steady_clock::time_point since) {
  return static_cast<long>(
      std::chrono::duration_cast<milliseconds>(steady_clock::now() - since).count());
}

// A plain blocking libpq connection as the superuser, for setting up and inspecting.
// Reconnects when its connection was lost (the restart test).
class Admin {
 public:
  Admin() = default;
  Admin(const Admin&) = delete;
  Admin& operator=(const Admin&) = delete;
  ~Admin() { PQfinish(conn_); }

  // Runs `sql`, fails the test on error, returns the first row's first column ("" if none).
  std::string Query(const std::string& sql) {
    if (!Connect()) return "";
    PGresult* result = PQexec(conn_, sql.c_str());
    if (PQstatus(conn_) != CONNECTION_OK) {  // Lost in a server restart: once more, anew.
      PQclear(result);
      if (!Connect()) return "";
      result = PQexec(conn_, sql.c_str());
    }
    const ExecStatusType status = PQresultStatus(result);
    std::string value;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      ADD_FAILURE() << "admin query failed: " << sql << ": " << PQresultErrorMessage(result);
    } else if (PQntuples(result) > 0 && PQnfields(result) > 0) {
      value = PQgetvalue(result, 0, 0);
    }
    PQclear(result);
    return value;
  }

 private:
  bool Connect() {
    if (conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK) return true;
    PQfinish(conn_);
    conn_ = PQconnectdb(BaseUrl().c_str());
    if (PQstatus(conn_) != CONNECTION_OK) {
      ADD_FAILURE() << "admin connect failed: " << PQerrorMessage(conn_);
      return false;
    }
    return true;
  }

  PGconn* conn_ = nullptr;
};

// A new, empty schema; returns its name.
std::string CreateSchema() {
  static std::atomic<int> next{0};
  const std::string name = "t" + std::to_string(getpid()) + "_" + std::to_string(next.fetch_add(1));
  Admin admin;
  admin.Query("CREATE SCHEMA " + name);
  return name;
}

// The URL of `schema` (as the only schema on search_path), naming the connections
// `application_name` so tests can find them in pg_stat_activity.
std::string SchemaUrl(const std::string& schema, const std::string& application_name = "") {
  std::string url = WithParams(BaseUrl(), "options=-csearch_path%3D" + schema);
  if (!application_name.empty()) url = WithParams(url, "application_name=" + application_name);
  return url;
}

std::function<std::unique_ptr<Store>()> PostgresFactory(std::uint32_t pool_size) {
  return [pool_size]() -> std::unique_ptr<Store> {
    if (BaseUrl().empty()) return nullptr;
    auto store = PostgresStore::Open({.url = SchemaUrl(CreateSchema()), .pool_size = pool_size});
    if (!store) {
      ADD_FAILURE() << "PostgresStore::Open: " << store.error().detail;
      return nullptr;
    }
    return std::move(*store);
  };
}

INSTANTIATE_TEST_SUITE_P(
    Postgres, StoreConformanceTest,
    ::testing::Values(StoreFactory{"Postgres", PostgresFactory(0)},
                      // One connection: every call queues for it, so a call that took a second
                      // connection while holding one would deadlock here.
                      StoreFactory{"PostgresPoolOfOne", PostgresFactory(1)}),
    StoreFactoryName);

TEST(PostgresStoreConformanceTest, SuiteIsLinkedInForEveryInstantiation) {
  const ::testing::UnitTest& unit = *::testing::UnitTest::GetInstance();
  int conformance_tests = 0;
  for (int i = 0; i < unit.total_test_suite_count(); ++i) {
    const ::testing::TestSuite& suite = *unit.GetTestSuite(i);
    if (std::string_view(suite.name()) == "Postgres/StoreConformanceTest") {
      conformance_tests = suite.total_test_count();
    }
  }
  EXPECT_GE(conformance_tests, 2 * 30);  // Two factories.
}

// --- Fixture for the PostgreSQL-specific tests ---------------------------------------------------

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(BaseUrl().empty());
    schema_ = CreateSchema();
  }

  // A store on this test's schema, migrated unless `migrate` is false.
  std::unique_ptr<PostgresStore> OpenStore(PostgresOptions options, bool migrate = true) {
    if (options.url.empty()) options.url = SchemaUrl(schema_);
    auto store = PostgresStore::Open(options);
    if (!store) {
      ADD_FAILURE() << "Open: " << store.error().detail;
      return nullptr;
    }
    if (migrate) {
      if (auto migrated = (*store)->Migrate(); !migrated) {
        ADD_FAILURE() << "Migrate: " << migrated.error().detail;
        return nullptr;
      }
    }
    return std::move(*store);
  }

  // Creates a user with a credential account; fails the test on error.
  void CreateUser(Store& store, const std::string& id) {
    User user{.id = id,
              .email = id + "@example.com",
              .name = "Name " + id,
              .created_at = clock_.Now(),
              .updated_at = clock_.Now()};
    Account account{.id = "acc-" + id,
                    .user_id = id,
                    .account_id = id,
                    .provider_id = "credential",
                    .password_hash = "hash",
                    .created_at = clock_.Now(),
                    .updated_at = clock_.Now()};
    auto created = store.CreateUser(user, account);
    ASSERT_TRUE(created.has_value()) << created.error().detail;
  }

  // Waits (polling pg_stat_activity, bounded) until `count` connections named
  // `application_name` are waiting for a lock. Returns false if that never happens within 10 s.
  bool WaitUntilBlockedOnLock(const std::string& application_name, int count = 1) {
    const auto deadline = steady_clock::now() + std::chrono::seconds(10);
    while (steady_clock::now() < deadline) {
      // Within a transaction (the one holding the lock), pg_stat_activity would be the snapshot
      // of its first read: clear it, or a waiter arriving later is never seen.
      const std::string waiting = admin_.Query(
          "SELECT pg_stat_clear_snapshot(); "
          "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND "
          "application_name = '" +
          application_name + "'");
      if (!waiting.empty() && std::stoi(waiting) >= count) return true;
      std::this_thread::sleep_for(milliseconds(5));  // Poll interval, not a timing assumption.
    }
    return false;
  }

  std::string Q(const std::string& sql) { return admin_.Query(sql); }

  sessiond::testing::FakeClock clock_;
  Admin admin_;
  std::string schema_;
};

// --- Migrations ----------------------------------------------------------------------------------

TEST_F(PostgresStoreTest, MigrateRecordsEveryVersionOnceAndReturnsTheLatest) {
  auto store = OpenStore({}, /*migrate=*/false);
  ASSERT_NE(store, nullptr);
  SESSIOND_ASSERT_OK_AND_ASSIGN(version, store->Migrate());
  EXPECT_EQ(version, postgres_internal::LatestPostgresSchemaVersion());
  EXPECT_EQ(version, 3);
  SESSIOND_ASSERT_OK_AND_ASSIGN(again, store->Migrate());
  EXPECT_EQ(again, version);
  EXPECT_EQ(Q("SELECT string_agg(version::text, ',' ORDER BY version) FROM " + schema_ +
              ".schema_migrations"),
            "1,2,3");
  // applied_at is milliseconds since the epoch, from the server's clock (within a day of now).
  const std::int64_t applied =
      std::stoll(Q("SELECT min(applied_at) FROM " + schema_ + ".schema_migrations"));
  const std::int64_t now_ms = std::stoll(Q("SELECT (extract(epoch FROM now()) * 1000)::bigint"));
  EXPECT_LT(std::llabs(now_ms - applied), 86'400'000LL);
}

TEST_F(PostgresStoreTest, TablesHaveTheDocumentedTypes) {
  auto store = OpenStore({});
  ASSERT_NE(store, nullptr);
  auto type = [&](const std::string& table, const std::string& column) {
    return Q("SELECT data_type FROM information_schema.columns WHERE table_schema = '" + schema_ +
             "' AND table_name = '" + table + "' AND column_name = '" + column + "'");
  };
  EXPECT_EQ(type("user", "created_at"), "bigint");
  EXPECT_EQ(type("user", "email_verified"), "boolean");
  EXPECT_EQ(type("session", "expires_at"), "bigint");
  EXPECT_EQ(type("session", "remember_me"), "boolean");
  EXPECT_EQ(type("session", "user_agent_parsed"), "text");
  EXPECT_EQ(type("verification", "expires_at"), "bigint");
  EXPECT_EQ(type("revocation", "seq"), "bigint");
  EXPECT_EQ(Q("SELECT count(*) FROM pg_indexes WHERE schemaname = '" + schema_ +
              "' AND indexname IN ('session_user_id_idx', 'session_expires_at_idx', "
              "'account_user_id_idx', 'verification_expires_at_idx', "
              "'revocation_revoked_at_idx', 'session_token_hash_key', 'user_email_key')"),
            "7");
}

TEST_F(PostgresStoreTest, MigrateRefusesASchemaFromANewerBuild) {
  auto store = OpenStore({});
  ASSERT_NE(store, nullptr);
  Q("INSERT INTO " + schema_ + ".schema_migrations VALUES (99, 0)");
  auto migrated = store->Migrate();
  ASSERT_FALSE(migrated.has_value());
  EXPECT_EQ(migrated.error().code, ErrorCode::kInternal);
  EXPECT_NE(migrated.error().detail.find("newer"), std::string::npos) << migrated.error().detail;
}

// Replicas starting at once: every migrator succeeds, each version is applied exactly once.
TEST_F(PostgresStoreTest, ConcurrentMigratorsApplyEachVersionOnce) {
  constexpr int kStores = 4;
  std::vector<std::unique_ptr<PostgresStore>> stores;
  for (int i = 0; i < kStores; ++i) {
    stores.push_back(OpenStore({.pool_size = 1}, /*migrate=*/false));
    ASSERT_NE(stores.back(), nullptr);
  }
  std::latch start(kStores);
  std::vector<Result<int>> results(kStores, Fail(ErrorCode::kInternal, "not run"));
  std::vector<std::thread> threads;
  for (int i = 0; i < kStores; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      results[static_cast<std::size_t>(i)] = stores[static_cast<std::size_t>(i)]->Migrate();
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const Result<int>& result : results) {
    ASSERT_TRUE(result.has_value()) << result.error().detail;
    EXPECT_EQ(*result, 3);
  }
  EXPECT_EQ(Q("SELECT count(*) FROM " + schema_ + ".schema_migrations"), "3");
  // And the schema works.
  CreateUser(*stores[0], "u1");
  SESSIOND_ASSERT_OK_AND_ASSIGN(found, stores[3]->FindUserById("u1"));
  EXPECT_TRUE(found.has_value());
}

TEST_F(PostgresStoreTest, SchemasInOneDatabaseAreIndependent) {
  auto first = OpenStore({});
  ASSERT_NE(first, nullptr);
  const std::string other_schema = CreateSchema();
  auto second = OpenStore({.url = SchemaUrl(other_schema)});
  ASSERT_NE(second, nullptr);
  CreateUser(*first, "u1");
  SESSIOND_ASSERT_OK_AND_ASSIGN(in_first, first->FindUserById("u1"));
  EXPECT_TRUE(in_first.has_value());
  SESSIOND_ASSERT_OK_AND_ASSIGN(in_second, second->FindUserById("u1"));
  EXPECT_FALSE(in_second.has_value());
}

// --- Options and errors --------------------------------------------------------------------------

TEST_F(PostgresStoreTest, InvalidUrlIsValidationAndNeverEchoesIt) {
  for (const std::string url : {"postgresql://user:s3cr3t@localhost:notaport/db",
                                "postgresql://user:s3cr3t@localhost/db?nosuchparam=1",
                                "host=localhost password=s3cr3t bogus"}) {
    auto store = PostgresStore::Open({.url = url});
    ASSERT_FALSE(store.has_value()) << url;
    EXPECT_EQ(store.error().code, ErrorCode::kValidation) << url;
    EXPECT_EQ(store.error().detail.find("s3cr3t"), std::string::npos) << store.error().detail;
  }
  auto empty = PostgresStore::Open({.url = ""});
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error().code, ErrorCode::kValidation);
  auto zero = PostgresStore::Open({.url = SchemaUrl(schema_), .statement_timeout_ms = 0});
  ASSERT_FALSE(zero.has_value());
  EXPECT_EQ(zero.error().code, ErrorCode::kValidation);
}

TEST_F(PostgresStoreTest, WrongCredentialsOrDatabaseAreServiceUnavailable) {
  auto store = PostgresStore::Open({.url = WithParams(BaseUrl(), "dbname=no_such_database")});
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code, ErrorCode::kServiceUnavailable);
  EXPECT_NE(store.error().detail.find("no_such_database"), std::string::npos)
      << store.error().detail;
}

TEST_F(PostgresStoreTest, NothingListeningIsServiceUnavailableAtOnce) {
  // A port that was free a moment ago: connection refused.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int port = ntohs(addr.sin_port);
  close(fd);

  const auto start = steady_clock::now();
  auto store = PostgresStore::Open(
      {.url = "postgresql://postgres@127.0.0.1:" + std::to_string(port) + "/postgres"});
  const long elapsed = Elapsed(start);
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code, ErrorCode::kServiceUnavailable);
  EXPECT_LT(elapsed, 2000) << "connection refused must fail at once";
  std::printf("[ figure ] refused connection -> kServiceUnavailable in %ld ms\n", elapsed);
}

TEST_F(PostgresStoreTest, ASilentServerCostsTheConnectTimeout) {
  // Accepts TCP connections (the kernel completes the handshake) but never answers.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(fd, 8), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int port = ntohs(addr.sin_port);

  const auto start = steady_clock::now();
  auto store =
      PostgresStore::Open({.url = "postgresql://postgres@127.0.0.1:" + std::to_string(port) +
                                  "/postgres?sslmode=disable",
                           .connect_timeout_ms = 300});
  const long elapsed = Elapsed(start);
  close(fd);
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code, ErrorCode::kServiceUnavailable);
  EXPECT_GE(elapsed, 290);
  EXPECT_LT(elapsed, 3000);
  std::printf("[ figure ] silent server, connectTimeoutMs=300 -> failed after %ld ms\n", elapsed);
}

TEST_F(PostgresStoreTest, TextWithANulCharacterIsValidationAndWritesNothing) {
  auto store = OpenStore({});
  ASSERT_NE(store, nullptr);
  User user{.id = "u1", .email = "a@example.com", .name = std::string("Al\0ce", 5)};
  Account account{.id = "a1", .user_id = "u1", .account_id = "u1", .provider_id = "credential"};
  auto created = store->CreateUser(user, account);
  ASSERT_FALSE(created.has_value());
  EXPECT_EQ(created.error().code, ErrorCode::kValidation);
  SESSIOND_ASSERT_OK_AND_ASSIGN(found, store->FindUserById("u1"));
  EXPECT_FALSE(found.has_value());
}

// --- Timeouts and the pool -----------------------------------------------------------------------

TEST_F(PostgresStoreTest, StatementTimeoutIsServiceUnavailableAndKeepsTheConnection) {
  auto store = OpenStore(
      {.url = SchemaUrl(schema_, "st-" + schema_), .pool_size = 1, .statement_timeout_ms = 300});
  ASSERT_NE(store, nullptr);
  CreateUser(*store, "u1");
  const std::uint64_t connects = store->connects();

  Q("BEGIN");
  Q("LOCK TABLE " + schema_ + ".\"user\" IN ACCESS EXCLUSIVE MODE");
  const auto start = steady_clock::now();
  auto blocked = store->FindUserById("u1");
  const long elapsed = Elapsed(start);
  Q("ROLLBACK");
  ASSERT_FALSE(blocked.has_value());
  EXPECT_EQ(blocked.error().code, ErrorCode::kServiceUnavailable) << blocked.error().detail;
  EXPECT_NE(blocked.error().detail.find("57014"), std::string::npos) << blocked.error().detail;
  EXPECT_GE(elapsed, 250);
  EXPECT_LT(elapsed, 3000);
  std::printf("[ figure ] statement_timeout=300 ms -> kServiceUnavailable after %ld ms\n", elapsed);

  // The server cancelled the statement; the connection is fine and is kept.
  SESSIOND_ASSERT_OK_AND_ASSIGN(found, store->FindUserById("u1"));
  EXPECT_TRUE(found.has_value());
  EXPECT_EQ(store->connects(), connects);
}

TEST_F(PostgresStoreTest, ACallWaitsForAFreeConnectionAtMostPoolTimeout) {
  const std::string app = "pool-" + schema_;
  auto store = OpenStore({.url = SchemaUrl(schema_, app),
                          .pool_size = 1,
                          .pool_timeout_ms = 200,
                          .statement_timeout_ms = 10'000});
  ASSERT_NE(store, nullptr);
  CreateUser(*store, "u1");

  Q("BEGIN");
  Q("LOCK TABLE " + schema_ + ".\"user\" IN ACCESS EXCLUSIVE MODE");
  Result<std::optional<User>> holder_result = std::nullopt;
  std::thread holder([&] { holder_result = store->FindUserById("u1"); });  // Holds the pool.
  const bool blocked = WaitUntilBlockedOnLock(app);

  const auto start = steady_clock::now();
  auto waited = store->Ping();
  const long elapsed = Elapsed(start);
  Q("ROLLBACK");
  holder.join();
  ASSERT_TRUE(blocked) << "the first call never reached the lock";
  ASSERT_FALSE(waited.has_value());
  EXPECT_EQ(waited.error().code, ErrorCode::kServiceUnavailable);
  EXPECT_NE(waited.error().detail.find("no free connection"), std::string::npos);
  EXPECT_GE(elapsed, 190);
  EXPECT_LT(elapsed, 3000);
  std::printf("[ figure ] pool of 1 exhausted, poolTimeout=200 ms -> 503 after %ld ms\n", elapsed);

  ASSERT_TRUE(holder_result.has_value()) << holder_result.error().detail;
  EXPECT_TRUE(holder_result->has_value());
  SESSIOND_ASSERT_OK(store->Ping());
}

// A server that stops answering mid-statement (frozen process, network partition): the server
// cannot cancel, so the client gives up after statement_timeout + 1 s and drops the connection.
TEST_F(PostgresStoreTest, AFrozenServerCostsTheStatementTimeoutPlusGrace) {
  const std::string app = "frozen-" + schema_;
  auto store =
      OpenStore({.url = SchemaUrl(schema_, app), .pool_size = 1, .statement_timeout_ms = 300});
  ASSERT_NE(store, nullptr);
  CreateUser(*store, "u1");
  const std::string pid_text =
      Q("SELECT pid FROM pg_stat_activity WHERE application_name = '" + app + "'");
  ASSERT_FALSE(pid_text.empty());
  const auto pid = static_cast<pid_t>(std::stol(pid_text));
  ASSERT_EQ(kill(pid, SIGSTOP), 0) << "cannot stop the backend (run as root or as its owner)";

  const auto start = steady_clock::now();
  auto frozen = store->FindUserById("u1");
  const long elapsed = Elapsed(start);
  ASSERT_EQ(kill(pid, SIGCONT), 0);
  ASSERT_FALSE(frozen.has_value());
  EXPECT_EQ(frozen.error().code, ErrorCode::kServiceUnavailable);
  EXPECT_GE(elapsed, 1250);
  EXPECT_LT(elapsed, 5000);
  std::printf("[ figure ] frozen backend, statement_timeout=300 ms -> 503 after %ld ms\n", elapsed);

  // The connection was out of step and is replaced by a new one.
  SESSIOND_ASSERT_OK_AND_ASSIGN(found, store->FindUserById("u1"));
  EXPECT_TRUE(found.has_value());
  EXPECT_EQ(store->connects(), 2u);
}

// --- Recovery
// --------------------------------------------------------------------------------------

class ServerControl {
 public:
  ServerControl()
      : script_(Env("SESSIOND_TEST_POSTGRES_SCRIPT")), dir_(Env("SESSIOND_TEST_POSTGRES_DIR")) {}
  [[nodiscard]] bool available() const { return !script_.empty() && !dir_.empty(); }
  [[nodiscard]] int Run(const std::string& verb) const {
    const std::string command = "bash '" + script_ + "' " + verb + " '" + dir_ + "' >/dev/null";
    return std::system(command.c_str());
  }

 private:
  std::string script_;
  std::string dir_;
};

TEST_F(PostgresStoreTest, RecoversWithoutARestartWhenTheServerComesBack) {
  const ServerControl server;
  ASSERT_TRUE(server.available())
      << "SESSIOND_TEST_POSTGRES_SCRIPT / _DIR not set: run through scripts/with-postgres.sh";
  const std::string app = "restart-" + schema_;
  auto store = OpenStore({.url = SchemaUrl(schema_, app), .pool_size = 2});
  ASSERT_NE(store, nullptr);
  CreateUser(*store, "u1");
  // Both pooled connections busy at once (two calls waiting for a lock), so both are used. The
  // calls are deletes, which are never retried: they succeed only on a connection that works
  // the first time.
  auto both_slots_busy = [&]() -> bool {
    Q("BEGIN");
    Q("LOCK TABLE " + schema_ + ".session IN ACCESS EXCLUSIVE MODE");
    Result<std::vector<std::string>> first = std::vector<std::string>();
    Result<std::vector<std::string>> second = std::vector<std::string>();
    std::thread a([&] { first = store->DeleteUserSessions("u1", std::nullopt); });
    std::thread b([&] { second = store->DeleteUserSessions("u1", std::nullopt); });
    const bool blocked = WaitUntilBlockedOnLock(app, 2);
    Q("ROLLBACK");
    a.join();
    b.join();
    EXPECT_TRUE(first.has_value()) << "first call: " << first.error().detail;
    EXPECT_TRUE(second.has_value()) << "second call: " << second.error().detail;
    return blocked;
  };
  ASSERT_TRUE(both_slots_busy()) << "the two calls did not run on two connections";
  const std::uint64_t connects_before = store->connects();
  EXPECT_EQ(connects_before, 2u);

  ASSERT_EQ(server.Run("stop"), 0);
  auto start = steady_clock::now();
  auto down = store->FindUserById("u1");
  const long read_ms = Elapsed(start);
  ASSERT_FALSE(down.has_value());
  EXPECT_EQ(down.error().code, ErrorCode::kServiceUnavailable) << down.error().detail;
  start = steady_clock::now();
  auto write_down = store->DeleteSession("s1");
  const long write_ms = Elapsed(start);
  ASSERT_FALSE(write_down.has_value());
  EXPECT_EQ(write_down.error().code, ErrorCode::kServiceUnavailable);
  auto ping_down = store->Ping();
  ASSERT_FALSE(ping_down.has_value());
  EXPECT_EQ(ping_down.error().code, ErrorCode::kServiceUnavailable);
  EXPECT_LT(read_ms, 3000);
  EXPECT_LT(write_ms, 3000);
  std::printf("[ figure ] server stopped -> read 503 in %ld ms, write 503 in %ld ms\n", read_ms,
              write_ms);

  ASSERT_EQ(server.Run("start"), 0);
  // The very first calls succeed: stale connections are noticed before use and replaced. One
  // slot was reset during the outage; the other still holds its pre-restart connection, and
  // both are used here at once.
  SESSIOND_ASSERT_OK_AND_ASSIGN(found, store->FindUserById("u1"));
  ASSERT_TRUE(found.has_value());
  EXPECT_TRUE(both_slots_busy());
  CreateUser(*store, "u2");
  SESSIOND_ASSERT_OK(store->Ping());
  EXPECT_EQ(store->connects(), connects_before + 2);
}

// A TCP proxy in front of the server that can make the connections open so far die silently:
// nothing arrives while they are idle (so they look alive), and the next thing the client sends
// closes them. That is a server lost between the pool's check and the statement.
class CuttingProxy {
 public:
  explicit CuttingProxy(int upstream_port) : upstream_port_(upstream_port) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (listen_fd_ < 0 || bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        listen(listen_fd_, 16) != 0 ||
        getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "proxy: cannot listen";
      return;
    }
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }
  CuttingProxy(const CuttingProxy&) = delete;
  CuttingProxy& operator=(const CuttingProxy&) = delete;
  ~CuttingProxy() {
    stop_ = true;
    shutdown(listen_fd_, SHUT_RDWR);  // Wakes accept().
    if (acceptor_.joinable()) acceptor_.join();
    close(listen_fd_);
    std::lock_guard lock(mu_);
    for (std::thread& pump : pumps_) pump.join();
  }

  [[nodiscard]] int port() const { return port_; }
  // Every connection open now is dropped the next time its client sends anything.
  void CutOpenConnections() { generation_.fetch_add(1); }

 private:
  void AcceptLoop() {
    while (!stop_) {
      const int client = accept(listen_fd_, nullptr, nullptr);
      if (client < 0) return;
      const int server = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(static_cast<std::uint16_t>(upstream_port_));
      if (connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        close(client);
        close(server);
        continue;
      }
      std::lock_guard lock(mu_);
      pumps_.emplace_back([this, client, server, generation = generation_.load()] {
        Pump(client, server, generation);
      });
    }
  }

  void Pump(int client, int server, int generation) {
    char buffer[16384];
    while (!stop_) {
      pollfd fds[2] = {{.fd = client, .events = POLLIN, .revents = 0},
                       {.fd = server, .events = POLLIN, .revents = 0}};
      if (poll(fds, 2, 100) < 0) break;  // 100 ms: how often stop_ is checked.
      if (fds[0].revents != 0) {
        const ssize_t n = read(client, buffer, sizeof buffer);
        if (n <= 0 || generation_.load() != generation) break;  // Cut: drop it unforwarded.
        if (write(server, buffer, static_cast<std::size_t>(n)) != n) break;
      }
      if (fds[1].revents != 0) {
        const ssize_t n = read(server, buffer, sizeof buffer);
        if (n <= 0 || write(client, buffer, static_cast<std::size_t>(n)) != n) break;
      }
    }
    close(client);
    close(server);
  }

  int upstream_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> generation_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> pumps_;
};

// The port of the server SESSIOND_TEST_POSTGRES_URL names.
int ServerPort() {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(BaseUrl().c_str(), &error);
  PQfreemem(error);
  int port = 0;
  for (PQconninfoOption* o = options; o != nullptr && o->keyword != nullptr; ++o) {
    if (std::string_view(o->keyword) == "port" && o->val != nullptr) port = std::atoi(o->val);
  }
  PQconninfoFree(options);
  return port;
}

TEST_F(PostgresStoreTest, IdempotentCallsRetryOnceOnAConnectionLostUnseen) {
  const int server_port = ServerPort();
  ASSERT_GT(server_port, 0);
  CuttingProxy proxy(server_port);
  ASSERT_GT(proxy.port(), 0);
  const std::string url = "postgresql://postgres@127.0.0.1:" + std::to_string(proxy.port()) +
                          "/postgres?sslmode=disable&options=-csearch_path%3D" + schema_;
  auto store = OpenStore({.url = url, .pool_size = 1});
  ASSERT_NE(store, nullptr);
  CreateUser(*store, "u1");
  ASSERT_EQ(store->connects(), 1u);

  // A read is retried on a new connection: the caller sees no error.
  proxy.CutOpenConnections();
  SESSIOND_ASSERT_OK_AND_ASSIGN(found, store->FindUserById("u1"));
  EXPECT_TRUE(found.has_value());
  EXPECT_EQ(store->connects(), 2u);

  // A delete is not (it may have run before the connection died): the caller sees the 503.
  proxy.CutOpenConnections();
  auto deleted = store->DeleteSession("s1");
  ASSERT_FALSE(deleted.has_value());
  EXPECT_EQ(deleted.error().code, ErrorCode::kServiceUnavailable);
  EXPECT_EQ(store->connects(), 2u);
  // And the next call reconnects.
  SESSIOND_ASSERT_OK(store->Ping());
  EXPECT_EQ(store->connects(), 3u);
}

// --- Replicas sharing one database
// -----------------------------------------------------------------

TEST_F(PostgresStoreTest, ReplicasSeeEachOthersWrites) {
  auto a = OpenStore({});
  auto b = OpenStore({});
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  CreateUser(*a, "u1");
  Session session{.id = "s1",
                  .user_id = "u1",
                  .token_hash = std::string(64, 'a'),
                  .expires_at = clock_.Now() + std::chrono::hours(1),
                  .created_at = clock_.Now(),
                  .updated_at = clock_.Now()};
  SESSIOND_ASSERT_OK(a->CreateSession(session));
  SESSIOND_ASSERT_OK_AND_ASSIGN(found, b->FindSessionByTokenHash(session.token_hash));
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->session.id, "s1");
  SESSIOND_ASSERT_OK_AND_ASSIGN(deleted, b->DeleteUserSessions("u1", std::nullopt));
  EXPECT_EQ(deleted, std::vector<std::string>{"s1"});
  SESSIOND_ASSERT_OK_AND_ASSIGN(gone, a->FindSessionByTokenHash(session.token_hash));
  EXPECT_FALSE(gone.has_value());
}

TEST_F(PostgresStoreTest, ConcurrentConsumersOnTwoReplicasGetEachVerificationOnce) {
  constexpr int kTokens = 50;
  constexpr int kThreadsPerStore = 3;
  auto a = OpenStore({});
  auto b = OpenStore({});
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  for (int i = 0; i < kTokens; ++i) {
    SESSIOND_ASSERT_OK(a->CreateVerification({.id = "v" + std::to_string(i),
                                              .identifier = "one-time-token:" + std::to_string(i),
                                              .value = "session-" + std::to_string(i),
                                              .expires_at = clock_.Now() + std::chrono::minutes(3),
                                              .created_at = clock_.Now()}));
  }
  std::mutex mu;
  std::map<std::string, int> wins;  // identifier → times handed out.
  std::atomic<int> errors{0};
  std::latch start(2 * kThreadsPerStore);
  std::vector<std::thread> threads;
  for (int t = 0; t < 2 * kThreadsPerStore; ++t) {
    PostgresStore* store = t % 2 == 0 ? a.get() : b.get();
    threads.emplace_back([&, store] {
      start.arrive_and_wait();
      for (int i = 0; i < kTokens; ++i) {
        auto got = store->ConsumeVerification("one-time-token:" + std::to_string(i));
        if (!got) {
          errors.fetch_add(1);
        } else if (got->has_value()) {
          std::lock_guard lock(mu);
          ++wins[(*got)->identifier];
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(wins.size(), static_cast<std::size_t>(kTokens));
  for (const auto& [identifier, count] : wins) EXPECT_EQ(count, 1) << identifier;
}

// The property the revocation lock exists for: while a revocation with seq N is uncommitted, no
// reader may see a seq above N. Here N is inserted by hand in an open transaction; the store's
// AddRevocations must wait for it instead of committing N+1 first.
TEST_F(PostgresStoreTest, ARevocationNeverBecomesVisibleBeforeAnEarlierSeq) {
  const std::string app = "rev-" + schema_;
  auto writer = OpenStore({.url = SchemaUrl(schema_, app)});
  auto reader = OpenStore({});
  ASSERT_NE(writer, nullptr);
  ASSERT_NE(reader, nullptr);

  Q("BEGIN");
  Q("INSERT INTO " + schema_ + ".revocation (session_id, revoked_at) VALUES ('first', 1)");
  Result<void> added;
  std::thread adder([&] {
    const std::vector<std::string> ids = {"second"};
    added = writer->AddRevocations(ids, clock_.Now());
  });
  const bool waited = WaitUntilBlockedOnLock(app);
  SESSIOND_ASSERT_OK_AND_ASSIGN(while_open, reader->ListRevocations(0, 100));
  Q("COMMIT");
  adder.join();
  EXPECT_TRUE(waited) << "AddRevocations did not wait for the earlier, uncommitted seq";
  EXPECT_TRUE(while_open.empty()) << "a reader saw a later seq while an earlier one was open";
  ASSERT_TRUE(added.has_value()) << added.error().detail;
  SESSIOND_ASSERT_OK_AND_ASSIGN(all, reader->ListRevocations(0, 100));
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].session_id, "first");
  EXPECT_EQ(all[1].session_id, "second");
  EXPECT_LT(all[0].seq, all[1].seq);
}

// Many writers on two replicas, one reader following the feed with a cursor: the reader ends up
// with every revocation exactly once, in increasing seq order.
TEST_F(PostgresStoreTest, AReaderFollowingTheRevocationFeedMissesNothing) {
  constexpr int kWritersPerStore = 3;
  constexpr int kBatches = 30;
  auto a = OpenStore({});
  auto b = OpenStore({});
  auto reader = OpenStore({.pool_size = 1});
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_NE(reader, nullptr);

  std::atomic<int> writers_left{2 * kWritersPerStore};
  std::atomic<int> errors{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 2 * kWritersPerStore; ++w) {
    PostgresStore* store = w % 2 == 0 ? a.get() : b.get();
    writers.emplace_back([&, store, w] {
      for (int i = 0; i < kBatches; ++i) {
        const std::vector<std::string> ids = {
            "w" + std::to_string(w) + "-" + std::to_string(i) + "-a",
            "w" + std::to_string(w) + "-" + std::to_string(i) + "-b"};
        if (!store->AddRevocations(ids, clock_.Now())) errors.fetch_add(1);
      }
      writers_left.fetch_sub(1);
    });
  }
  std::vector<std::string> seen;
  std::int64_t cursor = 0;
  bool out_of_order = false;
  auto drain = [&] {
    auto page = reader->ListRevocations(cursor, 7);
    if (!page) {
      errors.fetch_add(1);
      return false;
    }
    for (const Revocation& r : *page) {
      if (r.seq <= cursor) out_of_order = true;
      cursor = r.seq;
      seen.push_back(r.session_id);
    }
    return !page->empty();
  };
  while (writers_left.load() > 0) (void)drain();
  for (std::thread& writer : writers) writer.join();
  while (drain()) {
  }
  EXPECT_EQ(errors.load(), 0);
  EXPECT_FALSE(out_of_order);
  const std::set<std::string> unique(seen.begin(), seen.end());
  EXPECT_EQ(seen.size(), unique.size()) << "a revocation was read twice";
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(2 * kWritersPerStore * kBatches * 2));
  // Within one batch the given order is the seq order.
  for (std::size_t i = 0; i + 1 < seen.size(); ++i) {
    if (seen[i].ends_with("-b")) continue;
    const std::string prefix = seen[i].substr(0, seen[i].size() - 1);
    EXPECT_EQ(seen[i + 1], prefix + "b") << "a batch was split or reordered";
  }
}

}  // namespace
}  // namespace sessiond::store
