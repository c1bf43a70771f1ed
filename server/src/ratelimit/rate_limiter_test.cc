#include "ratelimit/rate_limiter.h"

#include <atomic>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "ratelimit/decision_printer.h"
#include "ratelimit/memory_counter_store.h"
#include "testing/fake_clock.h"

namespace sessiond::ratelimit {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::FakeClock;

constexpr std::string_view kSignIn = "/api/auth/sign-in/email";
constexpr std::string_view kIp = "203.0.113.7";
constexpr std::string_view kEmail = "ada@example.com";

std::vector<Rule> Rules(std::string_view text) {
  Result<std::vector<Rule>> rules = ParseRuleList(text);
  EXPECT_TRUE(rules.has_value()) << rules.error().detail;
  return rules.value_or(std::vector<Rule>{});
}

class RateLimiterTest : public ::testing::Test {
 protected:
  FakeClock clock_;
  MemoryCounterStore store_;
  RateLimiter limiter_{DefaultRules(), store_, clock_, /*enabled=*/true};
};

TEST_F(RateLimiterTest, TenSignInsPerMinuteThenRefused) {
  const TimePoint t0 = clock_.Now();
  for (std::uint32_t i = 0; i < 10; ++i) {
    const std::optional<Decision> d = limiter_.Check(kSignIn, kIp);
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(*d, (Decision{true, 10, 9 - i, seconds(60)})) << i;
  }
  clock_.Advance(seconds(15));
  EXPECT_EQ(limiter_.Check(kSignIn, kIp), (Decision{false, 10, 0, seconds(45)}));

  clock_.Set(t0 + seconds(60) - milliseconds(1));
  EXPECT_FALSE(limiter_.Check(kSignIn, kIp)->allowed);
  clock_.Set(t0 + seconds(60));  // Exactly the boundary: all ten (made at t0) have left.
  EXPECT_EQ(limiter_.Check(kSignIn, kIp), (Decision{true, 10, 9, seconds(60)}));
}

TEST_F(RateLimiterTest, EachClientIpHasItsOwnBudget) {
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(limiter_.Check(kSignIn, kIp)->allowed);
  EXPECT_FALSE(limiter_.Check(kSignIn, kIp)->allowed);
  EXPECT_EQ(limiter_.Check(kSignIn, "198.51.100.1")->remaining, 9u);
  EXPECT_EQ(limiter_.Check(kSignIn, "::ffff:198.51.100.2")->remaining, 9u);
  EXPECT_FALSE(limiter_.Check(kSignIn, "::ffff:203.0.113.7")->allowed);  // Same client.
}

TEST_F(RateLimiterTest, Ipv6ClientsAreCountedPerSlash64) {
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(limiter_.Check(kSignIn, "2001:db8:1:2::" + std::to_string(i + 1))->allowed);
  }
  EXPECT_FALSE(limiter_.Check(kSignIn, "2001:db8:1:2:ffff:ffff:ffff:ffff")->allowed);
  EXPECT_TRUE(limiter_.Check(kSignIn, "2001:db8:1:3::1")->allowed);
}

TEST_F(RateLimiterTest, RulesHaveSeparateCountersAndAPrefixRuleSharesOne) {
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(limiter_.Check(kSignIn, kIp)->allowed);
  // Another path under the same prefix rule shares its budget...
  EXPECT_FALSE(limiter_.Check("/api/auth/sign-in/social", kIp)->allowed);
  // ...other rules do not.
  EXPECT_EQ(limiter_.Check("/api/auth/sign-up/email", kIp)->remaining, 9u);
  EXPECT_EQ(limiter_.Check("/api/auth/sign-out", kIp)->remaining, 9u);
  EXPECT_EQ(limiter_.Check("/api/auth/get-session", kIp)->remaining, 599u);
  EXPECT_EQ(limiter_.Check("/api/auth/session", kIp)->remaining, 599u);
}

TEST_F(RateLimiterTest, DefaultRulesCoverTheSessionChangingRoutes) {
  for (const char* path :
       {"/api/auth/sign-in/email", "/api/auth/sign-up/email", "/api/auth/sign-out",
        "/api/auth/revoke-session", "/api/auth/revoke-sessions", "/api/auth/revoke-other-sessions",
        "/api/auth/change-password", "/api/auth/update-user"}) {
    const std::optional<Decision> d = limiter_.Check(path, kIp);
    ASSERT_TRUE(d.has_value()) << path;
    EXPECT_EQ(d->limit, 10u) << path;
  }
  EXPECT_EQ(limiter_.Check("/api/auth/get-session", kIp)->limit, 600u);
  EXPECT_EQ(limiter_.Check("/health", kIp), std::nullopt);
  EXPECT_EQ(limiter_.Check("/api/auth/sign-in", kIp), std::nullopt);  // Not under the prefix.
  EXPECT_EQ(limiter_.Check("sign-in", kIp), std::nullopt);  // Account rules never match paths.
}

TEST(RateLimiterMatchTest, FirstMatchWinsAndNoMatchIsNullopt) {
  FakeClock clock;
  MemoryCounterStore store;
  RateLimiter limiter(Rules("/a/*=1/60s, /a/b=5/60s, /c=3/60s"), store, clock, true);
  EXPECT_EQ(limiter.Check("/a/b", kIp)->limit, 1u);
  EXPECT_EQ(limiter.RuleForPath("/a/b"), &limiter.rules()[0]);
  EXPECT_EQ(limiter.Check("/c", kIp)->limit, 3u);
  EXPECT_EQ(limiter.Check("/c/", kIp), std::nullopt);
  EXPECT_EQ(limiter.Check("/b", kIp), std::nullopt);
  EXPECT_EQ(limiter.RuleForPath("/b"), nullptr);
  EXPECT_EQ(store.KeyCount(), 2u);  // Unmatched paths count nothing.
}

TEST(RateLimiterDisabledTest, AlwaysNulloptAndCountsNothing) {
  FakeClock clock;
  MemoryCounterStore store;
  RateLimiter limiter(DefaultRules(), store, clock, /*enabled=*/false);
  EXPECT_FALSE(limiter.enabled());
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(limiter.Check(kSignIn, kIp), std::nullopt);
    EXPECT_EQ(limiter.CheckAccount(kSignInAccountRule, kEmail), std::nullopt);
  }
  EXPECT_EQ(limiter.PeekAccount(kSignInAccountRule, kEmail), std::nullopt);
  limiter.Clear(kSignInAccountRule, kEmail);
  EXPECT_EQ(store.KeyCount(), 0u);
}

// The sign-in flow: CheckAccount before the password check (counts the attempt), Clear on
// success, nothing more on failure.
class SignInFlow : public RateLimiterTest {
 protected:
  // One attempt; returns 429 / 200 / 401 like the route would.
  int Attempt(std::string_view email, bool right_password) {
    const std::optional<Decision> d = limiter_.CheckAccount(kSignInAccountRule, email);
    if (d.has_value() && !d->allowed) return 429;
    if (!right_password) return 401;
    limiter_.Clear(kSignInAccountRule, email);
    return 200;
  }
};

TEST_F(SignInFlow, FiveFailuresBlockEvenTheRightPasswordUntilTheWindowPasses) {
  const TimePoint t0 = clock_.Now();
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(Attempt(kEmail, false), 401) << i;
    clock_.Advance(seconds(1));
  }
  EXPECT_EQ(Attempt(kEmail, true), 429);
  const std::optional<Decision> d = limiter_.CheckAccount(kSignInAccountRule, kEmail);
  EXPECT_EQ(d, (Decision{false, 5, 0, seconds(900 - 5)}));  // First failure was at t0.

  // The first failure leaves at t0 + 900 s: one attempt, then blocked again until t0 + 901 s.
  clock_.Set(t0 + seconds(900));
  EXPECT_EQ(Attempt(kEmail, false), 401);
  EXPECT_EQ(Attempt(kEmail, true), 429);
  clock_.Set(t0 + seconds(901));
  EXPECT_EQ(Attempt(kEmail, true), 200);
  EXPECT_EQ(limiter_.PeekAccount(kSignInAccountRule, kEmail), (Decision{true, 5, 5, seconds(0)}));
}

TEST_F(SignInFlow, SuccessClearsTheFailures) {
  for (int i = 0; i < 4; ++i) ASSERT_EQ(Attempt(kEmail, false), 401);
  EXPECT_EQ(Attempt(kEmail, true), 200);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Attempt(kEmail, false), 401) << i;
  EXPECT_EQ(Attempt(kEmail, true), 429);
}

TEST_F(SignInFlow, AccountLimitHoldsAcrossIpsAndAccountsAreSeparate) {
  // Many IPs each well within their per-IP budget still share the account's 5.
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(limiter_.Check(kSignIn, "198.51.100." + std::to_string(i))->allowed);
    ASSERT_EQ(Attempt(kEmail, false), 401);
  }
  EXPECT_TRUE(limiter_.Check(kSignIn, "198.51.100.99")->allowed);
  EXPECT_EQ(Attempt(kEmail, true), 429);
  EXPECT_EQ(Attempt("grace@example.com", true), 200);
}

TEST_F(SignInFlow, BlockedAttemptsDoNotExtendTheBlock) {
  const TimePoint t0 = clock_.Now();
  for (int i = 0; i < 5; ++i) ASSERT_EQ(Attempt(kEmail, false), 401);
  for (int i = 1; i < 900; i += 7) {
    clock_.Set(t0 + seconds(i));
    ASSERT_EQ(Attempt(kEmail, true), 429);
  }
  clock_.Set(t0 + seconds(900));
  EXPECT_EQ(Attempt(kEmail, true), 200);
}

TEST_F(SignInFlow, ConcurrentGuessesCannotSlipPastTheCheck) {
  constexpr int kThreads = 8;
  std::atomic<int> reached_password_check{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        if (Attempt(kEmail, false) == 401) ++reached_password_check;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(reached_password_check.load(), 5);
}

TEST_F(RateLimiterTest, UnknownAccountRuleIsNullopt) {
  EXPECT_EQ(limiter_.CheckAccount("no-such-rule", kEmail), std::nullopt);
  EXPECT_EQ(limiter_.PeekAccount("/api/auth/sign-in/*", kEmail), std::nullopt);
  limiter_.Clear("no-such-rule", kEmail);
  EXPECT_EQ(limiter_.AccountRule("sign-in"), &limiter_.rules().back());
}

TEST_F(RateLimiterTest, IpAndAccountCountersDoNotCollide) {
  // An account rule and an IP rule with look-alike subjects still count separately.
  RateLimiter limiter(Rules("/x=1/60s, account:x=1/60s"), store_, clock_, true);
  EXPECT_TRUE(limiter.Check("/x", "a")->allowed);
  EXPECT_TRUE(limiter.CheckAccount("x", "a")->allowed);
  EXPECT_TRUE(limiter.CheckAccount("x", "/x|a")->allowed);
}

TEST_F(RateLimiterTest, ConcurrentChecksFromOneIpAdmitExactlyTen) {
  constexpr int kThreads = 8;
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        if (limiter_.Check(kSignIn, kIp)->allowed) ++allowed;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(allowed.load(), 10);
}

}  // namespace
}  // namespace sessiond::ratelimit
