#include "ratelimit/counter_store_conformance.h"

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "ratelimit/decision_printer.h"

namespace sessiond::ratelimit::testing {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::string CounterStoreFactoryName(const ::testing::TestParamInfo<CounterStoreFactory>& info) {
  return info.param.name;
}

void CounterStoreConformanceTest::SetUp() {
  store_ = GetParam().make();
  ASSERT_NE(store_, nullptr) << "factory " << GetParam().name << " returned no store";
}

void CounterStoreConformanceTest::TearDown() {
  if (store_ != nullptr && GetParam().verify) GetParam().verify(*store_);
}

namespace {

constexpr seconds kMinute{60};

Decision Allowed(std::uint32_t limit, std::uint32_t remaining, seconds reset) {
  return Decision{true, limit, remaining, reset};
}
Decision Refused(std::uint32_t limit, seconds reset) { return Decision{false, limit, 0, reset}; }

}  // namespace

TEST_P(CounterStoreConformanceTest, CountsToTheLimitThenRefuses) {
  CounterStore& store = *store_;
  EXPECT_EQ(store.Hit("k", 3, kMinute, clock_.Now()), Allowed(3, 2, seconds(60)));
  clock_.Advance(seconds(10));
  EXPECT_EQ(store.Hit("k", 3, kMinute, clock_.Now()), Allowed(3, 1, seconds(50)));
  EXPECT_EQ(store.Hit("k", 3, kMinute, clock_.Now()), Allowed(3, 0, seconds(50)));
  // Retry-After: the first hit (t0) leaves the window at t0 + 60 s, 50 s from now.
  EXPECT_EQ(store.Hit("k", 3, kMinute, clock_.Now()), Refused(3, seconds(50)));
  clock_.Advance(seconds(20));
  EXPECT_EQ(store.Hit("k", 3, kMinute, clock_.Now()), Refused(3, seconds(30)));
}

TEST_P(CounterStoreConformanceTest, SlotFreesExactlyAtTheWindowBoundary) {
  CounterStore& store = *store_;
  const TimePoint t0 = clock_.Now();
  ASSERT_TRUE(store.Hit("k", 1, kMinute, t0).allowed);
  // 1 ms left still reads as 1 s: a client that waits Retry-After is never early.
  EXPECT_EQ(store.Hit("k", 1, kMinute, t0 + kMinute - milliseconds(1)), Refused(1, seconds(1)));
  // A hit at t counts in (now - window, now]: gone at t + window.
  EXPECT_EQ(store.Hit("k", 1, kMinute, t0 + kMinute), Allowed(1, 0, seconds(60)));
}

TEST_P(CounterStoreConformanceTest, WindowSlidesOneHitAtATime) {
  CounterStore& store = *store_;
  const TimePoint t0 = clock_.Now();
  ASSERT_TRUE(store.Hit("k", 3, kMinute, t0).allowed);
  ASSERT_TRUE(store.Hit("k", 3, kMinute, t0 + seconds(20)).allowed);
  ASSERT_TRUE(store.Hit("k", 3, kMinute, t0 + seconds(40)).allowed);
  EXPECT_EQ(store.Hit("k", 3, kMinute, t0 + seconds(59)), Refused(3, seconds(1)));
  // At t0+60 only the first hit has left: one slot, then refused until t0+80.
  EXPECT_EQ(store.Hit("k", 3, kMinute, t0 + seconds(60)), Allowed(3, 0, seconds(20)));
  EXPECT_EQ(store.Hit("k", 3, kMinute, t0 + seconds(60)), Refused(3, seconds(20)));
  EXPECT_EQ(store.Hit("k", 3, kMinute, t0 + seconds(80)), Allowed(3, 0, seconds(20)));
  // Long after: everything has left, the full budget is back.
  EXPECT_EQ(store.Peek("k", 3, kMinute, t0 + seconds(200)), Allowed(3, 3, seconds(0)));
}

TEST_P(CounterStoreConformanceTest, RefusedHitsAreNotCounted) {
  CounterStore& store = *store_;
  const TimePoint t0 = clock_.Now();
  ASSERT_TRUE(store.Hit("k", 2, kMinute, t0).allowed);
  ASSERT_TRUE(store.Hit("k", 2, kMinute, t0).allowed);
  for (int i = 1; i < 60; ++i) {
    EXPECT_FALSE(store.Hit("k", 2, kMinute, t0 + seconds(i)).allowed);
  }
  // Hammering while blocked did not extend the block.
  EXPECT_EQ(store.Hit("k", 2, kMinute, t0 + kMinute), Allowed(2, 1, seconds(60)));
}

TEST_P(CounterStoreConformanceTest, PeekDoesNotCount) {
  CounterStore& store = *store_;
  EXPECT_EQ(store.Peek("k", 2, kMinute, clock_.Now()), Allowed(2, 2, seconds(0)));
  EXPECT_EQ(store.Peek("k", 2, kMinute, clock_.Now()), Allowed(2, 2, seconds(0)));
  ASSERT_TRUE(store.Hit("k", 2, kMinute, clock_.Now()).allowed);
  EXPECT_EQ(store.Peek("k", 2, kMinute, clock_.Now()), Allowed(2, 1, seconds(60)));
  EXPECT_EQ(store.Peek("k", 2, kMinute, clock_.Now()), Allowed(2, 1, seconds(60)));
  ASSERT_TRUE(store.Hit("k", 2, kMinute, clock_.Now()).allowed);
  EXPECT_EQ(store.Peek("k", 2, kMinute, clock_.Now()), Refused(2, seconds(60)));
  EXPECT_EQ(store.Hit("k", 2, kMinute, clock_.Now()), Refused(2, seconds(60)));
}

TEST_P(CounterStoreConformanceTest, ResetForgetsTheKeyOnly) {
  CounterStore& store = *store_;
  ASSERT_TRUE(store.Hit("a", 1, kMinute, clock_.Now()).allowed);
  ASSERT_TRUE(store.Hit("b", 1, kMinute, clock_.Now()).allowed);
  store.Reset("a");
  store.Reset("never-seen");
  EXPECT_TRUE(store.Hit("a", 1, kMinute, clock_.Now()).allowed);
  EXPECT_FALSE(store.Hit("b", 1, kMinute, clock_.Now()).allowed);
}

TEST_P(CounterStoreConformanceTest, KeysAreIndependent) {
  CounterStore& store = *store_;
  ASSERT_TRUE(store.Hit("a", 1, kMinute, clock_.Now()).allowed);
  EXPECT_FALSE(store.Hit("a", 1, kMinute, clock_.Now()).allowed);
  EXPECT_TRUE(store.Hit("b", 1, kMinute, clock_.Now()).allowed);
  EXPECT_TRUE(store.Hit("a2", 1, kMinute, clock_.Now()).allowed);
}

TEST_P(CounterStoreConformanceTest, KeysAreOpaqueBytes) {
  // Account keys hold normalised emails: any bytes, and nothing in them is syntax (a Redis
  // hash tag's braces, spaces, newlines, a NUL, non-ASCII).
  CounterStore& store = *store_;
  const std::vector<std::string> keys = {"rl:account:sign-in|o'brien+x@ex\xc3\xa4mple.com",
                                         "rl:ip:/a b|{1}",
                                         "rl:ip:/a b|{2}",
                                         std::string("nul\0one", 7),
                                         std::string("nul\0two", 7),
                                         "line\nbreak",
                                         ""};
  for (const std::string& key : keys) {
    EXPECT_EQ(store.Hit(key, 1, kMinute, clock_.Now()), Allowed(1, 0, kMinute)) << key;
  }
  for (const std::string& key : keys) {
    EXPECT_FALSE(store.Peek(key, 1, kMinute, clock_.Now()).allowed) << key;
  }
  store.Reset(keys[3]);
  EXPECT_TRUE(store.Peek(keys[3], 1, kMinute, clock_.Now()).allowed);
  EXPECT_FALSE(store.Peek(keys[4], 1, kMinute, clock_.Now()).allowed);
}

TEST_P(CounterStoreConformanceTest, ZeroMaxRefusesEverything) {
  CounterStore& store = *store_;
  EXPECT_EQ(store.Hit("k", 0, kMinute, clock_.Now()), Refused(0, seconds(60)));
  EXPECT_EQ(store.Peek("k", 0, kMinute, clock_.Now()), Refused(0, seconds(60)));
  // Nothing was recorded: with a budget again, it is whole.
  EXPECT_EQ(store.Hit("k", 2, kMinute, clock_.Now()), Allowed(2, 1, seconds(60)));
}

TEST_P(CounterStoreConformanceTest, LoweringMaxRefusesUntilEnoughHitsLeave) {
  // A rule edited to a smaller max (replicas restarted one by one, for a while running both).
  CounterStore& store = *store_;
  const TimePoint t0 = clock_.Now();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(store.Hit("k", 10, kMinute, t0 + seconds(i)).allowed);
  EXPECT_EQ(store.Hit("k", 3, kMinute, t0 + seconds(10)), Refused(3, seconds(50)));
  EXPECT_EQ(store.Peek("k", 3, kMinute, t0 + seconds(61)), Refused(3, seconds(1)));
  EXPECT_EQ(store.Hit("k", 3, kMinute, t0 + seconds(63)), Allowed(3, 1, seconds(1)));
}

TEST_P(CounterStoreConformanceTest, ClockSteppingBackDoesNotStretchTheWindow) {
  CounterStore& store = *store_;
  const TimePoint t0 = clock_.Now();
  ASSERT_TRUE(store.Hit("k", 1, kMinute, t0).allowed);
  const TimePoint earlier = t0 - std::chrono::hours(1);
  // The hit now counts as made at `earlier`: blocked for one window from there, not 61 min.
  EXPECT_EQ(store.Hit("k", 1, kMinute, earlier), Refused(1, seconds(60)));
  EXPECT_TRUE(store.Hit("k", 1, kMinute, earlier + kMinute).allowed);
}

TEST_P(CounterStoreConformanceTest, HitsMadeInTheSameMillisecondStayDistinct) {
  CounterStore& store = *store_;
  const TimePoint t0 = clock_.Now();
  for (std::uint32_t i = 0; i < 50; ++i) {
    ASSERT_EQ(store.Hit("k", 50, kMinute, t0), Allowed(50, 49 - i, kMinute));
  }
  EXPECT_FALSE(store.Hit("k", 50, kMinute, t0).allowed);
  // All fifty leave together, at exactly t0 + window.
  EXPECT_EQ(store.Peek("k", 50, kMinute, t0 + kMinute - milliseconds(1)), Refused(50, seconds(1)));
  EXPECT_EQ(store.Peek("k", 50, kMinute, t0 + kMinute), Allowed(50, 50, seconds(0)));
}

TEST_P(CounterStoreConformanceTest, LargeMaxCountsEveryHitInOrder) {
  CounterStore& store = *store_;
  const TimePoint t0 = clock_.Now();
  for (std::uint32_t i = 0; i < 600; ++i) {
    ASSERT_EQ(store.Hit("k", 600, kMinute, t0 + milliseconds(i)), Allowed(600, 599 - i, kMinute));
  }
  EXPECT_FALSE(store.Hit("k", 600, kMinute, t0 + milliseconds(600)).allowed);
  // Hits leave one by one, oldest first.
  EXPECT_EQ(store.Peek("k", 600, kMinute, t0 + kMinute + milliseconds(549)),
            Allowed(600, 550, seconds(1)));
  EXPECT_EQ(store.Peek("k", 600, kMinute, t0 + kMinute + milliseconds(550)),
            Allowed(600, 551, seconds(1)));
  EXPECT_EQ(store.Peek("k", 600, kMinute, t0 + kMinute + milliseconds(599)),
            Allowed(600, 600, seconds(0)));
}

TEST_P(CounterStoreConformanceTest, WindowsOfDifferentLengthsOnDifferentKeys) {
  CounterStore& store = *store_;
  const TimePoint t0 = clock_.Now();
  ASSERT_TRUE(store.Hit("short", 1, seconds(1), t0).allowed);
  ASSERT_TRUE(store.Hit("day", 1, std::chrono::hours(24), t0).allowed);
  EXPECT_TRUE(store.Hit("short", 1, seconds(1), t0 + seconds(1)).allowed);
  EXPECT_EQ(store.Hit("day", 1, std::chrono::hours(24), t0 + std::chrono::hours(23)),
            Refused(1, std::chrono::hours(1)));
}

TEST_P(CounterStoreConformanceTest, ConcurrentHitsOnOneKeyAdmitExactlyMax) {
  CounterStore& store = *store_;  // The clock is frozen: every hit falls in one window.
  constexpr std::uint32_t kMax = 300;
  constexpr int kThreads = 8;
  constexpr int kHitsPerThread = 100;
  std::atomic<std::uint32_t> allowed{0};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kHitsPerThread; ++i) {
        if (store.Hit("hot", kMax, kMinute, clock_.Now()).allowed) ++allowed;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(allowed.load(), kMax);
  EXPECT_EQ(store.Peek("hot", kMax, kMinute, clock_.Now()).remaining, 0u);
}

}  // namespace sessiond::ratelimit::testing
