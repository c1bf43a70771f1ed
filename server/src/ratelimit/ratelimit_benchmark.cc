// Cost of one rate-limit check, against a baseline of the least any shared in-memory counter
// needs: one mutex lock/unlock around one unordered_map lookup.
//
//   cmake --build <dir> --target ratelimit_benchmark && <dir>/.../ratelimit_benchmark
#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <benchmark/benchmark.h>

#include "common/clock.h"
#include "ratelimit/client_key.h"
#include "ratelimit/memory_counter_store.h"
#include "ratelimit/rate_limiter.h"
#include "ratelimit/rule.h"

namespace sessiond::ratelimit {
namespace {

constexpr std::string_view kSignIn = "/api/auth/sign-in/email";

std::vector<std::string> Ips(int n) {
  std::vector<std::string> ips;
  ips.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    ips.push_back("10." + std::to_string((i >> 16) & 255) + "." + std::to_string((i >> 8) & 255) +
                  "." + std::to_string(i & 255));
  }
  return ips;
}

// Baseline: a bare std::mutex + unordered_map lookup of one key (what a single global counter
// map costs at best, before any sliding-window bookkeeping).
void BM_BaselineMutexMapLookup(benchmark::State& state) {
  static std::mutex mu;
  static std::unordered_map<std::string, int> map = {{"rl:ip:/api/auth/sign-in/*|10.0.0.1", 1}};
  const std::string key = "rl:ip:/api/auth/sign-in/*|10.0.0.1";
  for (auto _ : state) {
    const std::lock_guard<std::mutex> lock(mu);
    benchmark::DoNotOptimize(map.find(key));
  }
}
BENCHMARK(BM_BaselineMutexMapLookup)->Threads(1)->Threads(2);

// Store alone, one hot key, window sliding (each hit retires one and records one).
void BM_StoreHitHotKeySliding(benchmark::State& state) {
  MemoryCounterStore store;
  TimePoint now = FromUnixMillis(1'795'428'000'000);
  for (auto _ : state) {
    benchmark::DoNotOptimize(store.Hit("rl:ip:/x|10.0.0.1", 1000, std::chrono::seconds(1), now));
    now += std::chrono::milliseconds(1);
  }
}
BENCHMARK(BM_StoreHitHotKeySliding);

// The full check (rule match, client key, counter key, clock, store) on one IP that is over
// its limit: the attack case, where the check is all the server does.
void BM_CheckHotKey(benchmark::State& state) {
  static SystemClock clock;
  static MemoryCounterStore store;
  static RateLimiter limiter(DefaultRules(), store, clock, true);
  for (auto _ : state) benchmark::DoNotOptimize(limiter.Check(kSignIn, "203.0.113.7"));
}
BENCHMARK(BM_CheckHotKey)->Threads(1)->Threads(2);

// The full check spread over many client IPs: 10k (all fit under the key cap) and 200k (past
// the 65,536-key cap, so most checks also evict the least recently used key).
void BM_CheckManyKeys(benchmark::State& state) {
  static SystemClock clock;
  static MemoryCounterStore store;
  static RateLimiter limiter(DefaultRules(), store, clock, true);
  const std::vector<std::string> ips = Ips(static_cast<int>(state.range(0)));
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * 7919;
  for (auto _ : state) {
    benchmark::DoNotOptimize(limiter.Check(kSignIn, ips[i % ips.size()]));
    ++i;
  }
}
BENCHMARK(BM_CheckManyKeys)->Arg(10'000)->Arg(200'000)->Threads(1)->Threads(2);

// Turning request.client_ip into the counted subject (part of every Check above).
void BM_ClientKey(benchmark::State& state) {
  const std::string ip = state.range(0) == 4 ? "203.0.113.7" : "2001:db8:1:2:3:4:5:6";
  for (auto _ : state) benchmark::DoNotOptimize(ClientKey(ip));
}
BENCHMARK(BM_ClientKey)->Arg(4)->Arg(6);

// A path no rule matches: the cost every other request pays.
void BM_CheckNoRule(benchmark::State& state) {
  SystemClock clock;
  MemoryCounterStore store;
  RateLimiter limiter(DefaultRules(), store, clock, true);
  for (auto _ : state) benchmark::DoNotOptimize(limiter.Check("/health", "203.0.113.7"));
}
BENCHMARK(BM_CheckNoRule);

}  // namespace
}  // namespace sessiond::ratelimit

BENCHMARK_MAIN();
