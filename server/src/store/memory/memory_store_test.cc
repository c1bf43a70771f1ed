// Runs the shared conformance suite against MemoryStore.
#include "store/memory/memory_store.h"

#include <memory>

#include <gtest/gtest.h>

#include "store/testing/store_conformance.h"

namespace sessiond::store {
namespace {

using testing::StoreConformanceTest;
using testing::StoreFactory;
using testing::StoreFactoryName;

INSTANTIATE_TEST_SUITE_P(Memory, StoreConformanceTest,
                         ::testing::Values(StoreFactory{
                             "Memory", [] { return std::make_unique<MemoryStore>(); }}),
                         StoreFactoryName);

// Guards against the static-library gotcha: if the conformance object file were dropped by the
// linker, the suite above would silently have no tests.
TEST(MemoryStoreTest, ConformanceSuiteIsLinkedIn) {
  const ::testing::UnitTest& unit = *::testing::UnitTest::GetInstance();
  int conformance_tests = 0;
  for (int i = 0; i < unit.total_test_suite_count(); ++i) {
    const ::testing::TestSuite& suite = *unit.GetTestSuite(i);
    if (std::string_view(suite.name()) == "Memory/StoreConformanceTest") {
      conformance_tests = suite.total_test_count();
    }
  }
  EXPECT_GE(conformance_tests, 30);
}

}  // namespace
}  // namespace sessiond::store
