#include "ratelimit/memory_counter_store.h"

#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "ratelimit/counter_store_conformance.h"
#include "ratelimit/decision_printer.h"
#include "testing/fake_clock.h"

namespace sessiond::ratelimit {
namespace {

// The behaviour every CounterStore shares (counter_store.h) is tested by the conformance suite;
// this file tests what is MemoryCounterStore's own: memory caps, eviction, sweeping.
using testing::CounterStoreConformanceTest;
using testing::CounterStoreFactory;
using testing::CounterStoreFactoryName;

INSTANTIATE_TEST_SUITE_P(
    Memory, CounterStoreConformanceTest,
    ::testing::Values(
        CounterStoreFactory{"Memory", [] { return std::make_unique<MemoryCounterStore>(); }},
        // One shard with tight caps: the shared tests stay within them, so nothing is evicted.
        CounterStoreFactory{
            "MemoryOneShard",
            [] {
              return std::make_unique<MemoryCounterStore>(MemoryCounterStore::Options{
                  .shards = 1, .max_keys_per_shard = 16, .max_hits_per_shard = 1024});
            }}),
    CounterStoreFactoryName);

TEST(MemoryCounterStoreConformanceTest, SuiteIsLinkedIn) {
  const ::testing::UnitTest& unit = *::testing::UnitTest::GetInstance();
  int conformance_tests = 0;
  for (int i = 0; i < unit.total_test_suite_count(); ++i) {
    const ::testing::TestSuite& suite = *unit.GetTestSuite(i);
    if (std::string_view(suite.name()) == "Memory/CounterStoreConformanceTest") {
      conformance_tests = suite.total_test_count();
    }
  }
  EXPECT_GE(conformance_tests, 2 * 15);  // Two factories.
}

using sessiond::testing::FakeClock;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr seconds kMinute{60};

Decision Allowed(std::uint32_t limit, std::uint32_t remaining, seconds reset) {
  return Decision{true, limit, remaining, reset};
}

TEST(MemoryCounterStoreTest, PeekOnAnUnknownKeyCreatesNothing) {
  FakeClock clock;
  MemoryCounterStore store;
  EXPECT_EQ(store.Peek("k", 2, kMinute, clock.Now()), Allowed(2, 2, seconds(0)));
  EXPECT_EQ(store.KeyCount(), 0u);
  ASSERT_TRUE(store.Hit("k", 2, kMinute, clock.Now()).allowed);
  EXPECT_EQ(store.KeyCount(), 1u);
}

TEST(MemoryCounterStoreTest, ZeroMaxCreatesNoKey) {
  FakeClock clock;
  MemoryCounterStore store;
  EXPECT_FALSE(store.Hit("k", 0, kMinute, clock.Now()).allowed);
  EXPECT_FALSE(store.Peek("k", 0, kMinute, clock.Now()).allowed);
  EXPECT_EQ(store.KeyCount(), 0u);
}

TEST(MemoryCounterStoreTest, LargeMaxGrowsAndShrinksTheLog) {
  FakeClock clock;
  MemoryCounterStore store;
  const TimePoint t0 = clock.Now();
  for (std::uint32_t i = 0; i < 600; ++i) {
    ASSERT_EQ(store.Hit("k", 600, kMinute, t0 + milliseconds(i)), Allowed(600, 599 - i, kMinute));
  }
  EXPECT_FALSE(store.Hit("k", 600, kMinute, t0 + milliseconds(600)).allowed);
  EXPECT_EQ(store.SlotCount(), 600u);  // Capacity never exceeds max.
  // 550 of them leave the window; the log shrinks to within 2x of what it holds.
  // The oldest left (made at t0+550ms) goes 1 ms later: order survived the re-layout.
  EXPECT_EQ(store.Peek("k", 600, kMinute, t0 + kMinute + milliseconds(549)),
            Allowed(600, 550, seconds(1)));
  EXPECT_LE(store.SlotCount(), 100u);
  EXPECT_EQ(store.Peek("k", 600, kMinute, t0 + kMinute + milliseconds(550)),
            Allowed(600, 551, seconds(1)));
  EXPECT_EQ(store.Peek("k", 600, kMinute, t0 + kMinute + milliseconds(599)),
            Allowed(600, 600, seconds(0)));
}

TEST(MemoryCounterStoreTest, SweepRemovesOnlyIdleKeys) {
  FakeClock clock;
  MemoryCounterStore store;
  const TimePoint t0 = clock.Now();
  ASSERT_TRUE(store.Hit("short", 5, seconds(10), t0).allowed);
  ASSERT_TRUE(store.Hit("long", 5, seconds(900), t0).allowed);
  ASSERT_TRUE(store.Hit("late", 5, seconds(10), t0 + seconds(5)).allowed);
  EXPECT_EQ(store.Sweep(t0 + seconds(10) - milliseconds(1)), 0u);
  EXPECT_EQ(store.Sweep(t0 + seconds(10)), 1u);  // "short"
  EXPECT_EQ(store.KeyCount(), 2u);
  EXPECT_EQ(store.Sweep(t0 + seconds(15)), 1u);  // "late"
  EXPECT_EQ(store.Sweep(t0 + seconds(899)), 0u);
  EXPECT_EQ(store.Sweep(t0 + seconds(900)), 1u);  // "long"
  EXPECT_EQ(store.KeyCount(), 0u);
  EXPECT_EQ(store.SlotCount(), 0u);
  EXPECT_EQ(store.EvictionCount(), 0u);  // Expiry is not eviction.
}

TEST(MemoryCounterStoreTest, IdleKeysGoOpportunisticallyOnAccess) {
  FakeClock clock;
  MemoryCounterStore store(MemoryCounterStore::Options{.shards = 1});
  const TimePoint t0 = clock.Now();
  for (const char* key : {"a", "b", "c"}) ASSERT_TRUE(store.Hit(key, 5, kMinute, t0).allowed);
  // Each access drops up to two idle keys from the cold end: "a" and "b", then "c".
  EXPECT_TRUE(store.Hit("d", 5, kMinute, t0 + kMinute).allowed);
  EXPECT_EQ(store.KeyCount(), 2u);
  EXPECT_TRUE(store.Peek("e", 5, kMinute, t0 + kMinute).allowed);
  EXPECT_EQ(store.KeyCount(), 1u);
}

TEST(MemoryCounterStoreTest, KeyCapEvictsTheLeastRecentlyUsed) {
  FakeClock clock;
  MemoryCounterStore store(MemoryCounterStore::Options{.shards = 1, .max_keys_per_shard = 2});
  const TimePoint now = clock.Now();
  ASSERT_TRUE(store.Hit("a", 1, kMinute, now).allowed);
  ASSERT_TRUE(store.Hit("b", 1, kMinute, now).allowed);
  EXPECT_FALSE(store.Hit("a", 1, kMinute, now).allowed);  // Touches "a": "b" is now coldest.
  ASSERT_TRUE(store.Hit("c", 1, kMinute, now).allowed);   // Evicts "b".
  EXPECT_EQ(store.KeyCount(), 2u);
  EXPECT_EQ(store.EvictionCount(), 1u);
  EXPECT_FALSE(store.Peek("a", 1, kMinute, now).allowed);
  EXPECT_TRUE(store.Peek("b", 1, kMinute, now).allowed);  // Forgotten: a fresh budget.
  EXPECT_FALSE(store.Peek("c", 1, kMinute, now).allowed);
}

TEST(MemoryCounterStoreTest, HitCapEvictsColdKeysButNeverTheOneBeingHit) {
  FakeClock clock;
  MemoryCounterStore store(MemoryCounterStore::Options{
      .shards = 1, .max_keys_per_shard = 100, .max_hits_per_shard = 64});
  const TimePoint now = clock.Now();
  for (int i = 0; i < 10; ++i) {
    // Appended, not "k" + ...: GCC 12 -O2 raises a false -Wrestrict on prepending a literal.
    std::string key = "k";
    key += std::to_string(i);
    for (int j = 0; j < 8; ++j) ASSERT_TRUE(store.Hit(key, 8, kMinute, now).allowed);
    EXPECT_LE(store.SlotCount(), 64u);
  }
  EXPECT_EQ(store.KeyCount(), 8u);
  EXPECT_FALSE(store.Peek("k9", 8, kMinute, now).allowed);
  EXPECT_TRUE(store.Peek("k0", 8, kMinute, now).allowed);  // Evicted.

  // A key whose own max exceeds the cap keeps its hits (exactness beats the cap for one key).
  for (int j = 0; j < 100; ++j) ASSERT_TRUE(store.Hit("big", 100, kMinute, now).allowed);
  EXPECT_FALSE(store.Hit("big", 100, kMinute, now).allowed);
  EXPECT_EQ(store.KeyCount(), 1u);
}

TEST(MemoryCounterStoreTest, AMillionDistinctKeysStayUnderTheCap) {
  FakeClock clock;
  MemoryCounterStore store;  // Default caps: 16 shards × 4096 keys.
  const std::size_t cap = store.options().shards * store.options().max_keys_per_shard;
  const TimePoint now = clock.Now();
  std::string key;
  for (int i = 0; i < 1'000'000; ++i) {
    key = "rl:ip:/api/auth/sign-in/*|10." + std::to_string(i);
    ASSERT_TRUE(store.Hit(key, 10, kMinute, now).allowed);
    if (i % 100'000 == 0) {
      ASSERT_LE(store.KeyCount(), cap);
    }
  }
  EXPECT_LE(store.KeyCount(), cap);
  EXPECT_GT(store.KeyCount(), cap / 2);  // Hashing spreads keys over the shards.
  EXPECT_LE(store.SlotCount(), store.options().shards * store.options().max_hits_per_shard);
  EXPECT_EQ(store.EvictionCount(), 1'000'000u - store.KeyCount());
}

TEST(MemoryCounterStoreTest, ConcurrentHitsOnOneKeyAdmitExactlyMax) {
  FakeClock clock;  // Frozen: every hit falls in one window.
  MemoryCounterStore store;
  constexpr std::uint32_t kMax = 1000;
  constexpr int kThreads = 8;
  constexpr int kHitsPerThread = 5000;
  std::atomic<std::uint32_t> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kHitsPerThread; ++i) {
        if (store.Hit("hot", kMax, kMinute, clock.Now()).allowed) ++allowed;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(allowed.load(), kMax);
  EXPECT_EQ(store.Peek("hot", kMax, kMinute, clock.Now()).remaining, 0u);
}

TEST(MemoryCounterStoreTest, ConcurrentMixedTrafficWithSweeps) {
  // For the sanitizers: cold keys churn through the key cap and expire under a sweeping,
  // advancing clock while a few hot keys are counted exactly. A hot key is touched every few
  // operations by whichever thread runs, so the LRU cap never reaches it, and its window
  // (a year) never passes.
  FakeClock clock;
  MemoryCounterStore store(MemoryCounterStore::Options{.shards = 4, .max_keys_per_shard = 64});
  constexpr int kThreads = 8;
  constexpr std::uint32_t kHotMax = 100;
  constexpr auto kYear = std::chrono::hours(24 * 365);
  std::atomic<bool> stop{false};
  std::array<std::atomic<std::uint32_t>, 4> hot_allowed{};
  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([&, t] {
      const std::string prefix = "cold-" + std::to_string(t) + "-";
      for (int i = 0; i < 20'000; ++i) {
        const TimePoint now = clock.Now();
        const std::string cold = prefix + std::to_string(i);
        static_cast<void>(store.Hit(cold, 3, seconds(1), now));
        static_cast<void>(store.Peek(prefix + std::to_string(i / 2), 3, seconds(1), now));
        if (i % 100 == 0) store.Reset(cold);
        const std::size_t hot = static_cast<std::size_t>(i) % hot_allowed.size();
        if (store.Hit("hot-" + std::to_string(hot), kHotMax, kYear, now).allowed) {
          ++hot_allowed[hot];
        }
      }
    });
  }
  std::thread sweeper([&] {
    while (!stop.load()) {
      clock.Advance(milliseconds(10));
      static_cast<void>(store.Sweep(clock.Now()));
      std::this_thread::yield();
    }
  });
  for (std::thread& worker : workers) worker.join();
  stop = true;
  sweeper.join();
  for (const auto& allowed : hot_allowed) EXPECT_EQ(allowed.load(), kHotMax);
  EXPECT_LE(store.KeyCount(), 4u * 64u);
}

}  // namespace
}  // namespace sessiond::ratelimit
