#include "ratelimit/redis_counter_store.h"

#include <netinet/in.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ratelimit/counter_store_conformance.h"
#include "ratelimit/decision_printer.h"
#include "ratelimit/memory_counter_store.h"
#include "ratelimit/redis_test_server.h"
#include "testing/fake_clock.h"

namespace sessiond::ratelimit {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::CounterStoreConformanceTest;
using testing::CounterStoreFactory;
using testing::CounterStoreFactoryName;
using ::testing::HasSubstr;
using testing::RedisTestServer;
using SteadyClock = std::chrono::steady_clock;

constexpr seconds kMinute{60};

Decision Allowed(std::uint32_t limit, std::uint32_t remaining, seconds reset) {
  return Decision{true, limit, remaining, reset};
}
Decision Refused(std::uint32_t limit, seconds reset) { return Decision{false, limit, 0, reset}; }

std::unique_ptr<RedisTestServer> StartServerOrFail(std::string password = {}) {
  auto server = RedisTestServer::Start(std::move(password));
  if (!server) {
    ADD_FAILURE() << server.error().detail;
    return nullptr;
  }
  return std::move(*server);
}

// One server for every test of this process that does not stop or restart it; each store gets
// its own key prefix, so tests never see each other's counts.
RedisTestServer* SharedServer() {
  // Destroyed at exit, which stops the server and deletes its folder.
  static const std::unique_ptr<RedisTestServer> server = StartServerOrFail();
  return server.get();
}

std::string UniquePrefix() {
  static std::atomic<int> next{0};
  return "test" + std::to_string(next++) + ":sessiond:";
}

// A RedisCounterStore with the MemoryCounterStore it falls back to, as app.cc wires them.
class RedisWithFallback final : public CounterStore {
 public:
  explicit RedisWithFallback(RedisCounterStore::Options options)
      : redis(std::move(options), memory) {}

  [[nodiscard]] Decision Hit(std::string_view key, std::uint32_t max, seconds window,
                             TimePoint now) override {
    return redis.Hit(key, max, window, now);
  }
  [[nodiscard]] Decision Peek(std::string_view key, std::uint32_t max, seconds window,
                              TimePoint now) override {
    return redis.Peek(key, max, window, now);
  }
  void Reset(std::string_view key) override { redis.Reset(key); }

  MemoryCounterStore memory;
  RedisCounterStore redis;
};

RedisCounterStore::Options OptionsFor(const RedisTestServer& server,
                                      milliseconds timeout = milliseconds(2000)) {
  return RedisCounterStore::Options{.endpoint = server.endpoint(),
                                    .timeout = timeout,
                                    .pool_size = 4,
                                    .key_prefix = UniquePrefix(),
                                    .retry_interval = milliseconds(0)};
}

// The Redis key of a limiter key, for a store made with `options`.
std::string KeyOf(const RedisCounterStore::Options& options, std::string_view key) {
  return options.key_prefix + std::string(key);
}

// Conformance factories. The deadline is generous: these tests are about counting, and a busy
// CI machine must not push a call into the fallback (verify would then fail the test).
CounterStoreFactory Factory(std::string name, std::size_t pool_size, bool unix_socket) {
  return CounterStoreFactory{.name = std::move(name),
                             .make = [pool_size, unix_socket]() -> std::unique_ptr<CounterStore> {
                               RedisTestServer* server = SharedServer();
                               if (server == nullptr) return nullptr;
                               RedisCounterStore::Options options = OptionsFor(*server);
                               options.pool_size = pool_size;
                               if (unix_socket) options.endpoint.unix_path = server->socket_path();
                               return std::make_unique<RedisWithFallback>(std::move(options));
                             },
                             .verify =
                                 [](CounterStore& store) {
                                   auto& both = dynamic_cast<RedisWithFallback&>(store);
                                   const RedisCounterStore::Stats stats = both.redis.stats();
                                   EXPECT_GT(stats.redis_calls, 0u);
                                   EXPECT_EQ(stats.fallback_calls, 0u)
                                       << "a call was answered by the fallback";
                                   EXPECT_EQ(stats.outages, 0u);
                                   EXPECT_EQ(both.memory.KeyCount(), 0u);
                                 }};
}

INSTANTIATE_TEST_SUITE_P(Redis, CounterStoreConformanceTest,
                         ::testing::Values(Factory("Redis", 4, false),
                                           // Every call queues for one connection.
                                           Factory("RedisPoolOfOne", 1, false),
                                           Factory("RedisUnixSocket", 2, true)),
                         CounterStoreFactoryName);

TEST(RedisCounterStoreConformanceTest, SuiteIsLinkedIn) {
  const ::testing::UnitTest& unit = *::testing::UnitTest::GetInstance();
  int conformance_tests = 0;
  for (int i = 0; i < unit.total_test_suite_count(); ++i) {
    const ::testing::TestSuite& suite = *unit.GetTestSuite(i);
    if (std::string_view(suite.name()) == "Redis/CounterStoreConformanceTest") {
      conformance_tests = suite.total_test_count();
    }
  }
  EXPECT_GE(conformance_tests, 3 * 15);  // Three factories.
}

// Routes spdlog's default logger into a string for the test's lifetime.
class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    sink_ = std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_);
    auto logger = std::make_shared<spdlog::logger>("capture", sink_);
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  // Occurrences of `needle`. Call when no other thread is logging.
  [[nodiscard]] int Count(std::string_view needle) {
    sink_->flush();
    const std::string text = stream_.str();
    int n = 0;
    for (std::size_t at = text.find(needle); at != std::string::npos;
         at = text.find(needle, at + 1)) {
      ++n;
    }
    return n;
  }
  [[nodiscard]] std::string Text() {
    sink_->flush();
    return stream_.str();
  }

 private:
  std::ostringstream stream_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
  std::shared_ptr<spdlog::logger> previous_;
};

constexpr std::string_view kOutage = "is unavailable";
constexpr std::string_view kRecovery = "is back;";

class RedisCounterStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = StartServerOrFail();
    ASSERT_NE(server_, nullptr);
  }

  [[nodiscard]] std::string Redis(const std::vector<std::string>& argv) const {
    auto reply = server_->Command(argv);
    EXPECT_TRUE(reply.has_value()) << (reply ? "" : reply.error().detail);
    return reply.value_or("");
  }

  sessiond::testing::FakeClock clock_;
  std::unique_ptr<RedisTestServer> server_;
};

TEST_F(RedisCounterStoreTest, KeysArePrefixedAndExpireOneWindowAfterTheNewestHit) {
  const RedisCounterStore::Options options = OptionsFor(*server_);
  MemoryCounterStore memory;
  RedisCounterStore store(options, memory);
  const std::string key = "rl:ip:/api/auth/sign-in/*|203.0.113.7";
  const std::string redis_key = KeyOf(options, key);
  EXPECT_EQ(store.RedisKey(key), redis_key);

  ASSERT_EQ(store.Hit(key, 2, kMinute, clock_.Now()), Allowed(2, 1, kMinute));
  EXPECT_EQ(Redis({"TYPE", redis_key}), "zset");
  EXPECT_EQ(Redis({"ZCARD", redis_key}), "1");
  const long ttl = std::stol(Redis({"PTTL", redis_key}));
  EXPECT_GT(ttl, 55'000);  // Real time passes while the test runs; the TTL is one window.
  EXPECT_LE(ttl, 60'000);

  // A refused hit neither records nor extends the TTL.
  ASSERT_TRUE(store.Hit(key, 2, kMinute, clock_.Now()).allowed);
  const long ttl2 = std::stol(Redis({"PTTL", redis_key}));
  ASSERT_FALSE(store.Hit(key, 2, kMinute, clock_.Now()).allowed);
  EXPECT_LE(std::stol(Redis({"PTTL", redis_key})), ttl2);
  EXPECT_EQ(Redis({"ZCARD", redis_key}), "2");

  // A short window: the key goes one second after its newest hit.
  ASSERT_TRUE(store.Hit("short", 5, seconds(1), clock_.Now()).allowed);
  EXPECT_LE(std::stol(Redis({"PTTL", KeyOf(options, "short")})), 1000);

  // Nothing else was written: only the two counters, both under the prefix.
  EXPECT_EQ(Redis({"KEYS", options.key_prefix + "*"}).size(),
            redis_key.size() + 1 + KeyOf(options, "short").size());
  EXPECT_EQ(Redis({"DBSIZE"}), "2");
}

TEST_F(RedisCounterStoreTest, PeekAndRefusedHitsOnUnknownKeysCreateNothing) {
  const RedisCounterStore::Options options = OptionsFor(*server_);
  MemoryCounterStore memory;
  RedisCounterStore store(options, memory);
  EXPECT_TRUE(store.Peek("k", 3, kMinute, clock_.Now()).allowed);
  EXPECT_FALSE(store.Hit("k", 0, kMinute, clock_.Now()).allowed);
  EXPECT_EQ(Redis({"DBSIZE"}), "0");
  // Once every hit has left the window, the pruned key is gone too.
  ASSERT_TRUE(store.Hit("k", 3, kMinute, clock_.Now()).allowed);
  EXPECT_EQ(Redis({"DBSIZE"}), "1");
  EXPECT_TRUE(store.Peek("k", 3, kMinute, clock_.Now() + kMinute).allowed);
  EXPECT_EQ(Redis({"DBSIZE"}), "0");
  EXPECT_EQ(store.stats().fallback_calls, 0u);
}

TEST_F(RedisCounterStoreTest, ResetDeletesTheKey) {
  const RedisCounterStore::Options options = OptionsFor(*server_);
  MemoryCounterStore memory;
  RedisCounterStore store(options, memory);
  ASSERT_TRUE(store.Hit("k", 1, kMinute, clock_.Now()).allowed);
  ASSERT_EQ(Redis({"EXISTS", KeyOf(options, "k")}), "1");
  store.Reset("k");
  EXPECT_EQ(Redis({"EXISTS", KeyOf(options, "k")}), "0");
  EXPECT_TRUE(store.TryReset("never-seen").has_value());
}

TEST_F(RedisCounterStoreTest, ScriptShaIsWhatRedisComputes) {
  MemoryCounterStore memory;
  RedisCounterStore store(OptionsFor(*server_), memory);
  EXPECT_EQ(store.ScriptSha().size(), 40u);
  EXPECT_EQ(Redis({"SCRIPT", "EXISTS", store.ScriptSha()}), "0");
  ASSERT_TRUE(store.TryHit("k", 5, kMinute, clock_.Now()).has_value());
  // The first EVALSHA found no script, EVAL ran (and cached) it under the SHA we computed.
  EXPECT_EQ(Redis({"SCRIPT", "EXISTS", store.ScriptSha()}), "1");
}

TEST_F(RedisCounterStoreTest, AFlushedScriptCacheIsRefilledWithoutFallingBack) {
  MemoryCounterStore memory;
  RedisCounterStore store(OptionsFor(*server_), memory);
  ASSERT_EQ(store.Hit("k", 5, kMinute, clock_.Now()), Allowed(5, 4, kMinute));
  ASSERT_EQ(Redis({"SCRIPT", "FLUSH"}), "OK");
  EXPECT_EQ(store.Hit("k", 5, kMinute, clock_.Now()), Allowed(5, 3, kMinute));
  EXPECT_EQ(store.stats().fallback_calls, 0u);
  EXPECT_EQ(store.stats().outages, 0u);
}

TEST_F(RedisCounterStoreTest, ConnectionsAreReused) {
  MemoryCounterStore memory;
  RedisCounterStore::Options options = OptionsFor(*server_);
  options.pool_size = 2;
  RedisCounterStore store(options, memory);
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(store.Hit("k", 100, kMinute, clock_.Now()).allowed);
  EXPECT_EQ(store.stats().connects, 1u);  // One thread: one connection, reused.
  EXPECT_EQ(store.stats().redis_calls, 50u);
}

// Redis (its `timeout` setting, here CLIENT KILL), a proxy or a firewall may close a connection
// while it sits idle in the pool: the next call finds out, and retries on a new connection
// instead of declaring an outage.
TEST_F(RedisCounterStoreTest, AnIdleConnectionClosedByTheServerIsReplacedTransparently) {
  LogCapture log;
  MemoryCounterStore memory;
  RedisCounterStore store(OptionsFor(*server_), memory);
  ASSERT_EQ(store.Hit("k", 5, kMinute, clock_.Now()), Allowed(5, 4, kMinute));
  ASSERT_EQ(store.stats().connects, 1u);
  EXPECT_EQ(Redis({"CLIENT", "KILL", "TYPE", "normal"}), "1");  // Ours (not the asking one).
  EXPECT_EQ(store.Hit("k", 5, kMinute, clock_.Now()), Allowed(5, 3, kMinute));
  EXPECT_EQ(store.stats().connects, 2u);
  EXPECT_EQ(store.stats().fallback_calls, 0u);
  EXPECT_EQ(store.stats().outages, 0u);
  EXPECT_EQ(log.Count(kOutage), 0);
}

TEST_F(RedisCounterStoreTest, TwoStoresOnOneRedisCountTogether) {
  // Two replicas: each its own store, pool and fallback; the same prefix and Redis.
  const RedisCounterStore::Options options = OptionsFor(*server_);
  MemoryCounterStore memory_a;
  MemoryCounterStore memory_b;
  RedisCounterStore a(options, memory_a);
  RedisCounterStore b(options, memory_b);
  const std::string key = "rl:ip:/api/auth/sign-in/*|127.0.0.1";
  for (std::uint32_t i = 0; i < 6; ++i) {
    ASSERT_EQ(a.Hit(key, 10, kMinute, clock_.Now()), Allowed(10, 9 - i, kMinute));
  }
  for (std::uint32_t i = 0; i < 4; ++i) {
    ASSERT_EQ(b.Hit(key, 10, kMinute, clock_.Now()), Allowed(10, 3 - i, kMinute));
  }
  EXPECT_EQ(a.Hit(key, 10, kMinute, clock_.Now()), Refused(10, kMinute));
  EXPECT_EQ(b.Hit(key, 10, kMinute, clock_.Now()), Refused(10, kMinute));
  a.Reset(key);  // A successful sign-in on one replica clears the count for all.
  EXPECT_EQ(b.Peek(key, 10, kMinute, clock_.Now()), Allowed(10, 10, seconds(0)));
  EXPECT_EQ(memory_a.KeyCount() + memory_b.KeyCount(), 0u);
}

TEST_F(RedisCounterStoreTest, ConcurrentHitsThroughTwoStoresAdmitExactlyMax) {
  const RedisCounterStore::Options options = OptionsFor(*server_);
  MemoryCounterStore memory_a;
  MemoryCounterStore memory_b;
  RedisCounterStore a(options, memory_a);
  RedisCounterStore b(options, memory_b);
  constexpr std::uint32_t kMax = 500;
  constexpr int kThreads = 8;
  constexpr int kHitsPerThread = 150;
  std::atomic<std::uint32_t> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      RedisCounterStore& store = t % 2 == 0 ? a : b;
      for (int i = 0; i < kHitsPerThread; ++i) {
        if (store.Hit("hot", kMax, kMinute, clock_.Now()).allowed) ++allowed;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(allowed.load(), kMax);
  EXPECT_EQ(Redis({"ZCARD", KeyOf(options, "hot")}), std::to_string(kMax));
  EXPECT_EQ(a.stats().fallback_calls + b.stats().fallback_calls, 0u);
  EXPECT_LE(a.stats().connects, 4u);  // Pool size.
}

TEST_F(RedisCounterStoreTest, SelectsTheDatabaseOfTheUrl) {
  auto endpoint = ParseRedisUrl("redis://127.0.0.1:" + std::to_string(server_->port()) + "/3");
  ASSERT_TRUE(endpoint.has_value());
  RedisCounterStore::Options options = OptionsFor(*server_);
  options.endpoint = *endpoint;
  MemoryCounterStore memory;
  RedisCounterStore store(options, memory);
  ASSERT_TRUE(store.TryHit("k", 5, kMinute, clock_.Now()).has_value());
  EXPECT_EQ(Redis({"DBSIZE"}), "0");  // Database 0.
  EXPECT_EQ(Redis({"EVAL", "redis.call('SELECT', 3) return redis.call('EXISTS', KEYS[1])", "1",
                   KeyOf(options, "k")}),
            "1");
}

TEST_F(RedisCounterStoreTest, UnixSocketUrl) {
  auto endpoint = ParseRedisUrl("unix://" + server_->socket_path() + "?db=2");
  ASSERT_TRUE(endpoint.has_value());
  RedisCounterStore::Options options = OptionsFor(*server_);
  options.endpoint = *endpoint;
  MemoryCounterStore memory;
  RedisCounterStore store(options, memory);
  ASSERT_TRUE(store.TryHit("k", 5, kMinute, clock_.Now()).has_value());
  EXPECT_EQ(Redis({"EVAL", "redis.call('SELECT', 2) return redis.call('EXISTS', KEYS[1])", "1",
                   KeyOf(options, "k")}),
            "1");
}

TEST(RedisCounterStoreAuthTest, AuthenticatesWithThePasswordOfTheUrl) {
  const std::string password = "s3cr:t@/pw";  // Percent-encoded in the URL.
  const std::unique_ptr<RedisTestServer> server = StartServerOrFail(password);
  ASSERT_NE(server, nullptr);
  const sessiond::testing::FakeClock clock;
  for (std::string url : {"redis://:s3cr%3At%40%2Fpw", "redis://default:s3cr%3At%40%2Fpw"}) {
    url += "@127.0.0.1:";
    url += std::to_string(server->port());
    auto endpoint = ParseRedisUrl(url);
    ASSERT_TRUE(endpoint.has_value()) << url;
    RedisCounterStore::Options options = OptionsFor(*server);
    options.endpoint = *endpoint;
    MemoryCounterStore memory;
    RedisCounterStore store(options, memory);
    EXPECT_TRUE(store.TryHit("k", 5, kMinute, clock.Now()).has_value()) << url;
    EXPECT_EQ(server->Command({"EXISTS", KeyOf(options, "k")}).value_or("?"), "1");
  }

  // A wrong password is an outage like any other: the fallback answers, the log says why.
  LogCapture log;
  RedisCounterStore::Options options = OptionsFor(*server);
  options.endpoint.password = "wrong";
  MemoryCounterStore memory;
  RedisCounterStore store(options, memory);
  const auto tried = store.TryHit("k", 5, kMinute, clock.Now());
  ASSERT_FALSE(tried.has_value());
  EXPECT_EQ(tried.error().code, ErrorCode::kServiceUnavailable);
  EXPECT_EQ(store.Hit("k", 5, kMinute, clock.Now()), Allowed(5, 4, kMinute));
  EXPECT_EQ(memory.KeyCount(), 1u);
  EXPECT_EQ(log.Count(kOutage), 1);
  EXPECT_THAT(log.Text(), HasSubstr("AUTH"));
  EXPECT_THAT(log.Text(), ::testing::Not(HasSubstr("wrong")));  // No password in the log.
}

// Redis gone (connections reset, connects refused): every call is answered at once by the
// fallback, which counts per process; one warning for the whole outage; after a restart the
// next call reconnects and the stores share counts again.
TEST_F(RedisCounterStoreTest, KilledAndRestartedRedis) {
  LogCapture log;
  const RedisCounterStore::Options options = OptionsFor(*server_, milliseconds(200));
  MemoryCounterStore memory_a;
  MemoryCounterStore memory_b;
  RedisCounterStore a(options, memory_a);
  RedisCounterStore b(options, memory_b);
  const std::string key = "rl:ip:/x|1";
  ASSERT_EQ(a.Hit(key, 5, kMinute, clock_.Now()), Allowed(5, 4, kMinute));
  ASSERT_EQ(b.Hit(key, 5, kMinute, clock_.Now()), Allowed(5, 3, kMinute));

  ASSERT_TRUE(server_->Kill().has_value());
  // Each replica now counts alone, from zero (its fallback has seen nothing).
  auto slowest = SteadyClock::duration::zero();
  for (std::uint32_t i = 0; i < 5; ++i) {
    const auto start = SteadyClock::now();
    EXPECT_EQ(a.Hit(key, 5, kMinute, clock_.Now()), Allowed(5, 4 - i, kMinute)) << i;
    slowest = std::max(slowest, SteadyClock::now() - start);
  }
  EXPECT_FALSE(a.Hit(key, 5, kMinute, clock_.Now()).allowed);
  EXPECT_EQ(b.Hit(key, 5, kMinute, clock_.Now()), Allowed(5, 4, kMinute));
  EXPECT_LT(slowest, milliseconds(200));  // Refused connects fail at once.
  EXPECT_EQ(a.stats().outages, 1u);
  EXPECT_FALSE(a.stats().up);
  EXPECT_EQ(a.stats().fallback_calls, 6u);
  EXPECT_EQ(log.Count(kOutage), 2);  // One per store (replica), not one per call.

  // A successful sign-in during the outage clears the fallback's count.
  a.Reset(key);
  EXPECT_EQ(memory_a.Peek(key, 5, kMinute, clock_.Now()), Allowed(5, 5, seconds(0)));

  ASSERT_TRUE(server_->Restart().has_value());
  // retry_interval is 0: the next call probes, reconnects and counts in Redis (which lost its
  // data: nothing is persisted).
  EXPECT_EQ(a.Hit(key, 5, kMinute, clock_.Now()), Allowed(5, 4, kMinute));
  EXPECT_TRUE(a.stats().up);
  EXPECT_EQ(b.Hit(key, 5, kMinute, clock_.Now()), Allowed(5, 3, kMinute));
  EXPECT_EQ(Redis({"ZCARD", KeyOf(options, key)}), "2");
  EXPECT_EQ(log.Count(kRecovery), 2);
  EXPECT_EQ(log.Count(kOutage), 2);
  EXPECT_GE(a.stats().connects, 2u);  // Reconnected.

  // A second outage is a second warning.
  ASSERT_TRUE(server_->Kill().has_value());
  EXPECT_TRUE(a.Hit(key, 5, kMinute, clock_.Now()).allowed);
  EXPECT_EQ(a.stats().outages, 2u);
  EXPECT_EQ(log.Count(kOutage), 3);
}

// Redis hung (SIGSTOP: connections are accepted by the kernel, nothing is answered): no call
// takes much longer than the timeout, then the fallback answers at once until retry_interval
// has passed. Here that is an hour, so only TryHit (which ignores it) goes back to Redis.
TEST_F(RedisCounterStoreTest, HungRedisCostsAtMostTheTimeout) {
  LogCapture log;
  constexpr milliseconds kTimeout{150};
  RedisCounterStore::Options options = OptionsFor(*server_, kTimeout);
  options.retry_interval = std::chrono::hours(1);
  MemoryCounterStore memory;
  RedisCounterStore store(options, memory);
  ASSERT_TRUE(store.Hit("warm", 5, kMinute, clock_.Now()).allowed);  // One pooled connection.

  ASSERT_TRUE(server_->Pause().has_value());
  constexpr int kThreads = 8;  // Twice the pool: half of them wait for a connection.
  std::vector<std::thread> threads;
  std::mutex mu;
  std::vector<SteadyClock::duration> latencies;
  std::atomic<int> allowed{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        const auto start = SteadyClock::now();
        std::string key = "k";  // Appended: GCC 12 warns (-Wrestrict) on "k" + std::string.
        key += std::to_string(t);
        if (store.Hit(key, 5, kMinute, clock_.Now()).allowed) ++allowed;
        const auto took = SteadyClock::now() - start;
        const std::lock_guard<std::mutex> lock(mu);
        latencies.push_back(took);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  const auto slowest = *std::max_element(latencies.begin(), latencies.end());
  EXPECT_LT(slowest, kTimeout + milliseconds(200))
      << std::chrono::duration_cast<milliseconds>(slowest).count() << " ms";
  EXPECT_EQ(allowed.load(), kThreads * 5);  // Every key's five hits fit the fallback's budget.
  EXPECT_EQ(store.stats().outages, 1u);
  EXPECT_EQ(log.Count(kOutage), 1);
  EXPECT_THAT(log.Text(), HasSubstr("(timed out)"));

  // During retry_interval the fallback answers without touching Redis: at once.
  const auto start = SteadyClock::now();
  EXPECT_FALSE(store.Hit("k0", 5, kMinute, clock_.Now()).allowed);  // Counted in memory: 6th.
  EXPECT_LT(SteadyClock::now() - start, milliseconds(50));

  ASSERT_TRUE(server_->Resume().has_value());
  const std::uint64_t redis_calls = store.stats().redis_calls;
  EXPECT_FALSE(store.Hit("k0", 5, kMinute, clock_.Now()).allowed);
  EXPECT_EQ(store.stats().redis_calls, redis_calls);  // Still skipping Redis.
  // TryHit goes to Redis whatever retry_interval says, and its success ends the outage.
  ASSERT_TRUE(store.TryHit("after", 5, kMinute, clock_.Now()).has_value());
  EXPECT_TRUE(store.stats().up);
  EXPECT_EQ(log.Count(kRecovery), 1);
  EXPECT_EQ(store.Hit("after", 5, kMinute, clock_.Now()), Allowed(5, 3, kMinute));
}

// An error reply (here READONLY: the server was turned into a replica, as in a failover) is
// an outage like a dead server, and the connection that got it is replaced when Redis takes
// writes again (after a failover, reconnecting is how a call finds the new primary).
TEST_F(RedisCounterStoreTest, ErrorRepliesAreAnOutageAndEndWithANewConnection) {
  LogCapture log;
  MemoryCounterStore memory;
  RedisCounterStore store(OptionsFor(*server_), memory);  // retry_interval 0: probe every call.
  ASSERT_EQ(store.Hit("k", 5, kMinute, clock_.Now()), Allowed(5, 4, kMinute));
  // A primary that is not there: the server stays a read-only replica, with its data.
  ASSERT_EQ(Redis({"REPLICAOF", "127.0.0.1", "1"}), "OK");
  EXPECT_EQ(store.Hit("k", 5, kMinute, clock_.Now()), Allowed(5, 4, kMinute));  // The fallback.
  EXPECT_EQ(store.Hit("k", 5, kMinute, clock_.Now()), Allowed(5, 3, kMinute));
  EXPECT_EQ(store.stats().outages, 1u);
  EXPECT_EQ(log.Count(kOutage), 1);
  EXPECT_THAT(log.Text(), HasSubstr("READONLY"));

  ASSERT_EQ(Redis({"REPLICAOF", "NO", "ONE"}), "OK");
  const std::uint64_t connects = store.stats().connects;
  EXPECT_EQ(store.Hit("k", 5, kMinute, clock_.Now()), Allowed(5, 3, kMinute));  // Redis: 2nd.
  EXPECT_TRUE(store.stats().up);
  EXPECT_EQ(store.stats().connects, connects + 1);
  EXPECT_EQ(log.Count(kRecovery), 1);
}

// A server whose accept queue is full drops our SYNs: connect itself hangs, and the timeout
// must cover it.
TEST(RedisCounterStoreConnectTest, ConnectTimeoutIsBounded) {
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  // NOLINTBEGIN(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API.
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ASSERT_EQ(::listen(listener, 0), 0);
  // Fill the accept queue (never accepted), so further SYNs are dropped.
  std::vector<int> fillers;
  for (int i = 0; i < 4; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    (void)::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    fillers.push_back(fd);
  }
  // NOLINTEND(cppcoreguidelines-pro-type-reinterpret-cast)

  RedisCounterStore::Options options;
  options.endpoint.host = "127.0.0.1";
  options.endpoint.port = ntohs(addr.sin_port);
  options.timeout = milliseconds(100);
  MemoryCounterStore memory;
  RedisCounterStore store(options, memory);
  const sessiond::testing::FakeClock clock;
  const auto start = SteadyClock::now();
  EXPECT_FALSE(store.TryHit("k", 5, kMinute, clock.Now()).has_value());
  const auto took = SteadyClock::now() - start;
  EXPECT_GE(took, milliseconds(90));   // It did hang in connect...
  EXPECT_LT(took, milliseconds(300));  // ...for the timeout only.
  EXPECT_FALSE(store.stats().up);
  for (const int fd : fillers) ::close(fd);
  ::close(listener);
}

TEST(RedisCounterStorePingTest, PingReportsAnUnreachableServer) {
  // A port nothing listens on: bind one, note it, close it.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  // NOLINTBEGIN(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API.
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  // NOLINTEND(cppcoreguidelines-pro-type-reinterpret-cast)
  ::close(fd);
  LogCapture log;
  RedisCounterStore::Options options;
  options.endpoint.port = ntohs(addr.sin_port);
  MemoryCounterStore memory;
  RedisCounterStore store(options, memory);
  const auto ping = store.Ping();
  ASSERT_FALSE(ping.has_value());
  EXPECT_THAT(ping.error().detail, HasSubstr("refused"));
  EXPECT_EQ(log.Count(kOutage), 1);
  EXPECT_THAT(log.Text(), HasSubstr("redis://127.0.0.1:" + std::to_string(options.endpoint.port)));

  RedisTestServer* shared = SharedServer();
  ASSERT_NE(shared, nullptr);
  options.endpoint = shared->endpoint();
  RedisCounterStore reachable(options, memory);
  EXPECT_TRUE(reachable.Ping().has_value());
}

}  // namespace
}  // namespace sessiond::ratelimit
