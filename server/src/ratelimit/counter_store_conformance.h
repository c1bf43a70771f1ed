// The one suite every CounterStore backend passes: each test checks a sentence of the contract
// in counter_store.h, so the memory and Redis stores cannot drift apart.
//
// A backend instantiates it in its own _test.cc:
//
//   INSTANTIATE_TEST_SUITE_P(Memory, CounterStoreConformanceTest,
//                            ::testing::Values(CounterStoreFactory{"Memory", [] {
//                              return std::make_unique<MemoryCounterStore>();
//                            }}),
//                            CounterStoreFactoryName);
//
// Pass CounterStoreFactoryName as the name generator: it is defined in
// counter_store_conformance.cc, and naming it is what makes the linker keep that object file,
// whose TEST_P definitions would otherwise be dropped from the static library without a word.
#pragma once

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include <gtest/gtest.h>

#include "ratelimit/counter_store.h"
#include "testing/fake_clock.h"

namespace sessiond::ratelimit::testing {

struct CounterStoreFactory {
  std::string name;  // [A-Za-z0-9_]+; becomes part of the test names.
  // A fresh store that holds no counts; nullptr if it could not be made (the factory says why).
  std::function<std::unique_ptr<CounterStore>()> make;
  // Optional: called with the store after each test, for a backend's own checks (the Redis
  // store checks that Redis, not its fallback, answered every call).
  std::function<void(CounterStore&)> verify;
};

inline void PrintTo(const CounterStoreFactory& factory, std::ostream* os) { *os << factory.name; }

// The name generator to pass to INSTANTIATE_TEST_SUITE_P (see above for why it is required).
[[nodiscard]] std::string CounterStoreFactoryName(
    const ::testing::TestParamInfo<CounterStoreFactory>& info);

class CounterStoreConformanceTest : public ::testing::TestWithParam<CounterStoreFactory> {
 protected:
  void SetUp() override;
  void TearDown() override;

  sessiond::testing::FakeClock clock_;
  std::unique_ptr<CounterStore> store_;
};

}  // namespace sessiond::ratelimit::testing
