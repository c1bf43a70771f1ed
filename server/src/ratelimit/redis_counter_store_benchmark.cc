// Throughput of RedisCounterStore::Hit against a local throwaway redis-server, by pool size and
// number of calling threads: what sizes redis.poolSize. Each call is one EVALSHA round trip, so
// a thread is bound by the round-trip time and the pool caps how many are in flight.
//
//   cmake --build <dir> --target redis_counter_store_benchmark
//   <dir>/server/src/ratelimit/redis_counter_store_benchmark
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "common/clock.h"
#include "ratelimit/memory_counter_store.h"
#include "ratelimit/redis_counter_store.h"
#include "ratelimit/redis_test_server.h"

namespace sessiond::ratelimit {
namespace {

testing::RedisTestServer& Server() {
  // Destroyed at exit, which stops the server and deletes its folder.
  static const std::unique_ptr<testing::RedisTestServer> server = [] {
    auto started = testing::RedisTestServer::Start();
    if (!started) {
      std::fprintf(stderr, "%s\n", started.error().detail.c_str());
      std::abort();
    }
    return std::move(*started);
  }();
  return *server;
}

// One store per pool size, shared by the benchmark's threads (as a server's threads share it).
RedisCounterStore& Store(std::size_t pool_size) {
  static std::mutex mu;
  static std::map<std::size_t, std::unique_ptr<RedisCounterStore>> stores;
  static MemoryCounterStore fallback;
  const std::lock_guard<std::mutex> lock(mu);
  auto& store = stores[pool_size];
  if (store == nullptr) {
    store = std::make_unique<RedisCounterStore>(
        RedisCounterStore::Options{.endpoint = Server().endpoint(),
                                   .timeout = std::chrono::milliseconds(1000),
                                   .pool_size = pool_size},
        fallback);
  }
  return *store;
}

// get-session's rule (600/min) over 10,000 client addresses, real time: the common case.
void BM_RedisHit(benchmark::State& state) {
  RedisCounterStore& store = Store(static_cast<std::size_t>(state.range(0)));
  const SystemClock clock;
  std::vector<std::string> keys;
  for (int i = 0; i < 10'000; ++i) {
    keys.push_back("rl:ip:/api/auth/get-session|10.0." + std::to_string(i / 256) + "." +
                   std::to_string(i % 256) + "#" + std::to_string(state.thread_index()));
  }
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        store.Hit(keys[i++ % keys.size()], 600, std::chrono::seconds(60), clock.Now()));
  }
  state.counters["fallback_calls"] = static_cast<double>(store.stats().fallback_calls);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RedisHit)
    ->ArgName("pool")
    ->Arg(1)
    ->Arg(2)
    ->Arg(4)
    ->Arg(8)
    ->Threads(1)
    ->Threads(4)
    ->Threads(8)
    ->UseRealTime();

}  // namespace
}  // namespace sessiond::ratelimit

BENCHMARK_MAIN();
