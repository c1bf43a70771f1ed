// The one conformance suite every Store backend passes (Ory Kratos' practice): each test checks a
// sentence of the contract in store/store.h, so backends cannot drift apart.
//
// A backend instantiates it in its own _test.cc:
//
//   INSTANTIATE_TEST_SUITE_P(Memory, StoreConformanceTest,
//                            ::testing::Values(StoreFactory{"Memory", [] {
//                              return std::make_unique<MemoryStore>();
//                            }}),
//                            StoreFactoryName);
//
// Pass StoreFactoryName as the name generator: it is defined in store_conformance.cc, and naming
// it is what makes the linker keep that object file, whose TEST_P definitions would otherwise be
// dropped from the static library without a word (GoogleTest's "tests in a library" gotcha).
//
// Thread-safety: factories may be called from the test's main thread only; each call must return
// a fresh, empty, independent store (the fixture calls Migrate() on it).
#pragma once

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <utility>

#include <gtest/gtest.h>

#include "store/store.h"
#include "testing/fake_clock.h"

// Unwraps a Result in a test (any store test may use these), failing it with the error's detail.
// lhs names a variable, which cannot be parenthesised.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define SESSIOND_ASSERT_OK_AND_ASSIGN(lhs, expr)                                    \
  auto lhs##_result = (expr);                                                       \
  ASSERT_TRUE(lhs##_result.has_value())                                             \
      << #expr << " failed: " << static_cast<int>(lhs##_result.error().code) << " " \
      << lhs##_result.error().detail;                                               \
  auto lhs = std::move(*lhs##_result)
// NOLINTEND(bugprone-macro-parentheses)

#define SESSIOND_ASSERT_OK(expr)                                                    \
  do {                                                                              \
    auto ok_result_ = (expr);                                                       \
    ASSERT_TRUE(ok_result_.has_value())                                             \
        << #expr << " failed: " << static_cast<int>(ok_result_.error().code) << " " \
        << ok_result_.error().detail;                                               \
  } while (false)

namespace sessiond::store::testing {

struct StoreFactory {
  std::string name;  // [A-Za-z0-9_]+; becomes part of the test names.
  // A fresh, empty store; nullptr if it could not be made (the factory reports why).
  std::function<std::unique_ptr<Store>()> make;
};

// So GoogleTest prints the backend's name instead of the struct's bytes.
inline void PrintTo(const StoreFactory& factory, std::ostream* os) { *os << factory.name; }

// The name generator to pass to INSTANTIATE_TEST_SUITE_P (see above for why it is required).
[[nodiscard]] std::string StoreFactoryName(const ::testing::TestParamInfo<StoreFactory>& info);

class StoreConformanceTest : public ::testing::TestWithParam<StoreFactory> {
 protected:
  // Makes the store and migrates it.
  void SetUp() override;

  // A user with every field set: an image, verified, distinct millisecond timestamps.
  [[nodiscard]] User MakeUser(const std::string& id, const std::string& email) const;
  // The "credential" account of `user` (account_id == user.id, as Better Auth stores it).
  [[nodiscard]] Account MakeAccount(const User& user, const std::string& password_hash) const;
  // Creates `user` with its credential account; fails the test on error.
  void CreateUserOrFail(const User& user, const std::string& password_hash = "$argon2id$v=19$x");
  // A session of `user_id` expiring a week from now, created now.
  [[nodiscard]] Session MakeSession(const std::string& id, const std::string& user_id) const;

  sessiond::testing::FakeClock clock_;
  std::unique_ptr<Store> store_;
};

}  // namespace sessiond::store::testing
