#include "ratelimit/decision.h"

#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "ratelimit/decision_printer.h"

namespace sessiond::ratelimit {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

TEST(RateLimitHeadersTest, AllowedCarriesNoRetryAfter) {
  const Decision d{
      .allowed = true, .limit = 10, .remaining = 7, .reset_after = std::chrono::seconds(42)};
  EXPECT_EQ(RateLimitHeaders(d), (Fields{{"x-ratelimit-limit", "10"},
                                         {"x-ratelimit-remaining", "7"},
                                         {"x-ratelimit-reset", "42"}}));
}

TEST(RateLimitHeadersTest, RefusedAddsRetryAfterAndBetterAuthsName) {
  const Decision d{
      .allowed = false, .limit = 5, .remaining = 0, .reset_after = std::chrono::seconds(900)};
  EXPECT_EQ(RateLimitHeaders(d), (Fields{{"x-ratelimit-limit", "5"},
                                         {"x-ratelimit-remaining", "0"},
                                         {"x-ratelimit-reset", "900"},
                                         {"retry-after", "900"},
                                         {"x-retry-after", "900"}}));
}

}  // namespace
}  // namespace sessiond::ratelimit
