// Micro-benchmarks of SqliteStore's hot paths against a real file in a temp directory:
//  * BM_FindSessionByTokenHash/<sessions>: the per-request lookup (session JOIN user) with 1,000
//    and 100,000 sessions seeded, single-threaded and with two threads sharing the pool.
//  * BM_RawSqlitePreparedLookup/<sessions>: the same SELECT through one raw prepared statement,
//    materialising the same columns: the floor the store's overhead (pool checkout, Result,
//    structs) is measured against.
//  * BM_TouchSession/<synchronous>: the sliding-expiry UPDATE, one commit per call, with
//    synchronous=FULL (0) and NORMAL (1).
// Seeding goes through one raw transaction (a batch), not the store, so 100,000 rows take well
// under a second.
#include <benchmark/benchmark.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "store/sqlite/sqlite_store.h"

namespace sessiond::store {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kNow = 1795428000000;  // 2026-11-23T10:00:00Z in Unix milliseconds.
constexpr int kUsers = 1000;

[[noreturn]] void Die(const std::string& why) {
  std::fprintf(stderr, "sqlite_store_benchmark: %s\n", why.c_str());
  std::abort();
}

// 64 lower-case hex characters, distinct per `n` (splitmix64), shaped like a SHA-256 hash.
std::string TokenHash(std::uint64_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  std::uint64_t state = n * 4;
  for (int word = 0; word < 4; ++word) {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    for (int nibble = 0; nibble < 16; ++nibble) out.push_back(kHex[(z >> (60 - 4 * nibble)) & 0xF]);
  }
  return out;
}

void ExecOrDie(sqlite3* db, const char* sql) {
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
    Die(std::string(sql) + ": " + sqlite3_errmsg(db));
  }
}

// A migrated database with `sessions` sessions spread over kUsers users, its store, and the
// sessions' ids and token hashes. Removes its directory when destroyed.
class SeededDatabase {
 public:
  SeededDatabase(std::int64_t sessions, const std::string& synchronous) {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern =
        (fs::path(tmp != nullptr ? tmp : "/tmp") / "sessiond-bench-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) Die("mkdtemp failed");
    dir_ = pattern;
    path_ = (dir_ / "bench.db").string();

    auto store = SqliteStore::Open(SqliteOptions{.path = path_, .synchronous = synchronous});
    if (!store) Die(store.error().detail);
    store_ = std::move(*store);
    if (auto migrated = store_->Migrate(); !migrated) Die(migrated.error().detail);
    Seed(sessions);
  }
  SeededDatabase(const SeededDatabase&) = delete;
  SeededDatabase& operator=(const SeededDatabase&) = delete;
  ~SeededDatabase() {
    store_.reset();
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  [[nodiscard]] SqliteStore& store() const { return *store_; }
  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] const std::vector<std::string>& ids() const { return ids_; }
  [[nodiscard]] const std::vector<std::string>& hashes() const { return hashes_; }

 private:
  void Seed(std::int64_t sessions) {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
      Die("cannot open " + path_);
    }
    sqlite3_busy_timeout(db, 5000);
    ExecOrDie(db, "BEGIN IMMEDIATE");
    sqlite3_stmt* user = nullptr;
    sqlite3_stmt* session = nullptr;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO \"user\" (id, email, name, email_verified, created_at, "
                           "updated_at) VALUES (?1, ?1 || '@example.com', 'Bench User', 1, ?2, ?2)",
                           -1, &user, nullptr) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "INSERT INTO session (id, user_id, token_hash, expires_at, ip_address, "
                           "user_agent, remember_me, created_at, updated_at) VALUES "
                           "(?1, ?2, ?3, ?4, '203.0.113.9', 'Mozilla/5.0 (X11; Linux x86_64) "
                           "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36', "
                           "1, ?5, ?5)",
                           -1, &session, nullptr) != SQLITE_OK) {
      Die(sqlite3_errmsg(db));
    }
    for (int u = 0; u < kUsers; ++u) {
      const std::string id = "user" + std::to_string(u);
      sqlite3_bind_text(user, 1, id.c_str(), -1, nullptr);
      sqlite3_bind_int64(user, 2, kNow);
      if (sqlite3_step(user) != SQLITE_DONE) Die(sqlite3_errmsg(db));
      sqlite3_reset(user);
    }
    ids_.reserve(static_cast<std::size_t>(sessions));
    hashes_.reserve(static_cast<std::size_t>(sessions));
    for (std::int64_t s = 0; s < sessions; ++s) {
      ids_.push_back("session" + std::to_string(s));
      hashes_.push_back(TokenHash(static_cast<std::uint64_t>(s)));
      const std::string user_id = "user" + std::to_string(s % kUsers);
      sqlite3_bind_text(session, 1, ids_.back().c_str(), -1, nullptr);
      sqlite3_bind_text(session, 2, user_id.c_str(), -1, nullptr);
      sqlite3_bind_text(session, 3, hashes_.back().c_str(), -1, nullptr);
      sqlite3_bind_int64(session, 4, kNow + 7LL * 86'400'000);
      sqlite3_bind_int64(session, 5, kNow);
      if (sqlite3_step(session) != SQLITE_DONE) Die(sqlite3_errmsg(db));
      sqlite3_reset(session);
    }
    sqlite3_finalize(user);
    sqlite3_finalize(session);
    ExecOrDie(db, "COMMIT");
    ExecOrDie(db, "PRAGMA wal_checkpoint(TRUNCATE)");
    ExecOrDie(db, "ANALYZE");
    sqlite3_close_v2(db);
  }

  fs::path dir_;
  std::string path_;
  std::unique_ptr<SqliteStore> store_;
  std::vector<std::string> ids_;
  std::vector<std::string> hashes_;
};

// Databases are built once per (sessions, synchronous) and shared by every run and thread. The
// map is destroyed at exit (after every benchmark thread has finished), removing the files.
const SeededDatabase& Database(std::int64_t sessions, const std::string& synchronous = "full") {
  static std::mutex mu;
  static std::map<std::pair<std::int64_t, std::string>, std::unique_ptr<SeededDatabase>> databases;
  std::lock_guard lock(mu);
  auto& slot = databases[{sessions, synchronous}];
  if (slot == nullptr) slot = std::make_unique<SeededDatabase>(sessions, synchronous);
  return *slot;
}

// Visits the sessions in a scattered order (a stride coprime with the size) so the B-tree is
// not walked sequentially.
std::size_t Scatter(std::size_t i, std::size_t n) { return (i * 7919) % n; }

void BM_FindSessionByTokenHash(benchmark::State& state) {
  const SeededDatabase& db = Database(state.range(0));
  const std::vector<std::string>& hashes = db.hashes();
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * 104729;
  for (auto _ : state) {
    auto found = db.store().FindSessionByTokenHash(hashes[Scatter(i++, hashes.size())]);
    if (!found || !found->has_value()) {
      state.SkipWithError("lookup failed");
      break;
    }
    benchmark::DoNotOptimize(found);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FindSessionByTokenHash)->ArgName("sessions")->Arg(1'000)->Arg(100'000);
BENCHMARK(BM_FindSessionByTokenHash)->ArgName("sessions")->Arg(100'000)->Threads(2)->UseRealTime();

// The same SELECT on one raw connection with one prepared statement, reading every column into
// std::string / int64 as the store does: no pool, no Result, no structs.
void BM_RawSqlitePreparedLookup(benchmark::State& state) {
  const SeededDatabase& db = Database(state.range(0));
  sqlite3* conn = nullptr;
  if (sqlite3_open_v2(db.path().c_str(), &conn, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    Die("cannot open " + db.path());
  }
  ExecOrDie(conn, "PRAGMA foreign_keys = ON");
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(
          conn,
          "SELECT s.id, s.user_id, s.token_hash, s.expires_at, s.ip_address, s.user_agent, "
          "s.remember_me, s.created_at, s.updated_at, u.id, u.email, u.name, u.image, "
          "u.email_verified, u.created_at, u.updated_at FROM session AS s "
          "JOIN \"user\" AS u ON u.id = s.user_id WHERE s.token_hash = ?1",
          -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
    Die(sqlite3_errmsg(conn));
  }
  const std::vector<std::string>& hashes = db.hashes();
  std::size_t i = 0;
  std::array<std::string, 16> text;
  std::array<std::int64_t, 16> ints{};
  for (auto _ : state) {
    const std::string& hash = hashes[Scatter(i++, hashes.size())];
    sqlite3_bind_text(stmt, 1, hash.data(), static_cast<int>(hash.size()), nullptr);
    if (sqlite3_step(stmt) != SQLITE_ROW) {
      state.SkipWithError("lookup failed");
      break;
    }
    for (int c = 0; c < 16; ++c) {
      const auto idx = static_cast<std::size_t>(c);
      if (sqlite3_column_type(stmt, c) == SQLITE_INTEGER) {
        ints[idx] = sqlite3_column_int64(stmt, c);
      } else if (const unsigned char* value = sqlite3_column_text(stmt, c); value != nullptr) {
        text[idx].assign(reinterpret_cast<const char*>(value),
                         static_cast<std::size_t>(sqlite3_column_bytes(stmt, c)));
      }
    }
    benchmark::DoNotOptimize(text);
    benchmark::DoNotOptimize(ints);
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
  }
  sqlite3_finalize(stmt);
  sqlite3_close_v2(conn);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RawSqlitePreparedLookup)->ArgName("sessions")->Arg(1'000)->Arg(100'000);

// One UPDATE + commit per call; the cost is dominated by the WAL fsync (FULL) or its absence
// (NORMAL).
void BM_TouchSession(benchmark::State& state) {
  const SeededDatabase& db = Database(1'000, state.range(0) == 0 ? "full" : "normal");
  const std::vector<std::string>& ids = db.ids();
  std::size_t i = 0;
  std::int64_t expires = kNow + 8LL * 86'400'000;
  for (auto _ : state) {
    ++expires;
    auto touched = db.store().TouchSession(ids[Scatter(i++, ids.size())], FromUnixMillis(expires),
                                           FromUnixMillis(kNow));
    if (!touched || !*touched) {
      state.SkipWithError("touch failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TouchSession)->ArgName("normal_sync")->Arg(0)->Arg(1);

}  // namespace
}  // namespace sessiond::store

BENCHMARK_MAIN();
