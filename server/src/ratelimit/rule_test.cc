#include "ratelimit/rule.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sessiond::ratelimit {
namespace {

using std::chrono::seconds;
using ::testing::HasSubstr;

Rule Ip(std::string pattern, std::uint32_t max, seconds window) {
  return Rule{std::move(pattern), window, max, Rule::Key::kIp};
}
Rule Account(std::string name, std::uint32_t max, seconds window) {
  return Rule{std::move(name), window, max, Rule::Key::kAccount};
}

TEST(ParseRuleTest, IpRuleWithAndWithoutSuffix) {
  EXPECT_EQ(ParseRule("/api/auth/sign-in/*=10/60s:ip"), Ip("/api/auth/sign-in/*", 10, seconds(60)));
  EXPECT_EQ(ParseRule("/api/auth/sign-in/*=10/60s"), Ip("/api/auth/sign-in/*", 10, seconds(60)));
  EXPECT_EQ(ParseRule("/api/auth/get-session=600/1m"),
            Ip("/api/auth/get-session", 600, seconds(60)));
}

TEST(ParseRuleTest, AccountRule) {
  EXPECT_EQ(ParseRule("account:sign-in=5/900s"), Account("sign-in", 5, seconds(900)));
  EXPECT_EQ(ParseRule("account:sign-in=5/15m"), Account("sign-in", 5, seconds(900)));
  EXPECT_EQ(ParseRule("account:otp_verify-2=3/1h"), Account("otp_verify-2", 3, seconds(3600)));
}

TEST(ParseRuleTest, BoundsAndBlanks) {
  EXPECT_EQ(ParseRule("  /x=1/1s\t"), Ip("/x", 1, seconds(1)));
  EXPECT_EQ(ParseRule("/x=1000000/24h"), Ip("/x", 1'000'000, seconds(86'400)));
  EXPECT_EQ(ParseRule("/x=1/86400s"), Ip("/x", 1, seconds(86'400)));
  EXPECT_EQ(ParseRule("/*=1/1440m"), Ip("/*", 1, seconds(86'400)));
  EXPECT_EQ(ParseRule("/=1/1s"), Ip("/", 1, seconds(1)));
}

// Each bad rule fails with kValidation, quoting the rule and saying why.
struct BadRule {
  std::string text;
  std::string why;
};

class ParseRuleBadTest : public ::testing::TestWithParam<BadRule> {};

TEST_P(ParseRuleBadTest, NamesTheRuleAndTheProblem) {
  const Result<Rule> rule = ParseRule(GetParam().text);
  ASSERT_FALSE(rule.has_value()) << GetParam().text;
  EXPECT_EQ(rule.error().code, ErrorCode::kValidation);
  EXPECT_THAT(rule.error().detail, HasSubstr("rate limit rule \""));
  EXPECT_THAT(rule.error().detail, HasSubstr(GetParam().why));
}

INSTANTIATE_TEST_SUITE_P(
    Bad, ParseRuleBadTest,
    ::testing::Values(
        BadRule{"", "expected <path>=<max>/<window>"},
        BadRule{"/api/auth/sign-in", "\"/api/auth/sign-in\": expected <path>="},
        BadRule{"api/x=10/60s", "must start with '/'"}, BadRule{"=10/60s", "must start with '/'"},
        BadRule{"/a*b=10/60s", "'*' is only allowed at the end"},
        BadRule{"/a**=10/60s", "'*' is only allowed at the end"},
        BadRule{"/a b=10/60s", "reserved character"}, BadRule{"/a|b=10/60s", "reserved character"},
        BadRule{"/a\x01=10/60s", "reserved character"}, BadRule{"/x=10", "expected <max>/<window>"},
        BadRule{"/x=0/60s", "max must be 1 to 1000000"},
        BadRule{"/x=1000001/60s", "max must be 1 to 1000000"},
        BadRule{"/x=-1/60s", "max must be 1 to 1000000"},
        BadRule{"/x=ten/60s", "max must be 1 to 1000000"},
        BadRule{"/x=/60s", "max must be 1 to 1000000"},
        BadRule{"/x=99999999999999999999/60s", "max must be 1 to 1000000"},
        BadRule{"/x=10/60", "window must be a number followed by s, m or h"},
        BadRule{"/x=10/", "window must be a number followed by s, m or h"},
        BadRule{"/x=10/s", "window must be a number followed by s, m or h"},
        BadRule{"/x=10/1d", "window must be a number followed by s, m or h"},
        BadRule{"/x=10/1.5m", "window must be a number followed by s, m or h"},
        BadRule{"/x=10/0s", "window must be 1s to 24h"},
        BadRule{"/x=10/25h", "window must be 1s to 24h"},
        BadRule{"/x=10/86401s", "window must be 1s to 24h"},
        BadRule{"/x=10/9223372036854775807h", "window must be 1s to 24h"},
        BadRule{"/x=10/99999999999999999999s", "window must be a number"},
        BadRule{"/x=10/60s:account", "the only key suffix is :ip"},
        BadRule{"/x=10/60s:IP", "the only key suffix is :ip"},
        BadRule{"account:=5/15m", "name must be 1 to 64 characters"},
        BadRule{"account:" + std::string(65, 'a') + "=5/15m", "name must be 1 to 64"},
        BadRule{"account:Sign-In=5/15m", "may only hold a-z 0-9 - _"},
        BadRule{"account:sign/in=5/15m", "may only hold a-z 0-9 - _"},
        BadRule{"account:sign-in=5/15m:ip", "an account rule cannot end in :ip"},
        BadRule{"account:sign-in=0/15m", "max must be 1 to 1000000"}));

TEST(ParseRuleListTest, CommaSeparatedWithBlanksAndEmptyItems) {
  const auto rules = ParseRuleList(" /a/*=10/60s:ip, ,account:sign-in=5/15m,,/b=1/1s ");
  ASSERT_TRUE(rules.has_value()) << rules.error().detail;
  EXPECT_EQ(*rules,
            (std::vector<Rule>{Ip("/a/*", 10, seconds(60)), Account("sign-in", 5, seconds(900)),
                               Ip("/b", 1, seconds(1))}));
  EXPECT_EQ(ParseRuleList(""), std::vector<Rule>{});
  EXPECT_EQ(ParseRuleList(" , "), std::vector<Rule>{});
}

TEST(ParseRuleListTest, FailsNamingTheBadRule) {
  const auto rules = ParseRuleList("/a=10/60s,/b=10/6x,/c=1/1s");
  ASSERT_FALSE(rules.has_value());
  EXPECT_THAT(rules.error().detail, HasSubstr("\"/b=10/6x\""));
}

TEST(ParseRulesTest, OneRulePerString) {
  const auto rules = ParseRules({"/a=1/1s", "account:x=2/2m"});
  ASSERT_TRUE(rules.has_value());
  EXPECT_EQ(*rules, (std::vector<Rule>{Ip("/a", 1, seconds(1)), Account("x", 2, seconds(120))}));
  const auto bad = ParseRules({"/a=1/1s", "/a,b=1/1s"});
  ASSERT_FALSE(bad.has_value());
  EXPECT_THAT(bad.error().detail, HasSubstr("\"/a,b=1/1s\""));
}

TEST(FormatRuleTest, LargestExactUnit) {
  EXPECT_EQ(FormatRule(Ip("/a/*", 10, seconds(60))), "/a/*=10/1m");
  EXPECT_EQ(FormatRule(Ip("/a", 10, seconds(90))), "/a=10/90s");
  EXPECT_EQ(FormatRule(Ip("/a", 10, seconds(7200))), "/a=10/2h");
  EXPECT_EQ(FormatRule(Account("sign-in", 5, seconds(900))), "account:sign-in=5/15m");
}

TEST(FormatRuleTest, DefaultRulesRoundTrip) {
  for (const Rule& rule : DefaultRules()) {
    EXPECT_EQ(ParseRule(FormatRule(rule)), rule) << FormatRule(rule);
  }
}

TEST(MatchesTest, ExactAndPrefix) {
  const Rule exact = Ip("/api/auth/sign-out", 1, seconds(1));
  EXPECT_TRUE(Matches(exact, "/api/auth/sign-out"));
  EXPECT_FALSE(Matches(exact, "/api/auth/sign-out/"));
  EXPECT_FALSE(Matches(exact, "/api/auth/sign-outx"));
  EXPECT_FALSE(Matches(exact, "/api/auth/sign-ou"));

  const Rule prefix = Ip("/api/auth/sign-in/*", 1, seconds(1));
  EXPECT_TRUE(Matches(prefix, "/api/auth/sign-in/email"));
  EXPECT_TRUE(Matches(prefix, "/api/auth/sign-in/social"));
  EXPECT_TRUE(Matches(prefix, "/api/auth/sign-in/"));
  EXPECT_FALSE(Matches(prefix, "/api/auth/sign-in"));
  EXPECT_FALSE(Matches(prefix, "/api/auth/sign-up/email"));

  EXPECT_TRUE(Matches(Ip("/*", 1, seconds(1)), "/anything"));
}

TEST(MatchesTest, AccountRulesNeverMatchPaths) {
  EXPECT_FALSE(Matches(Account("sign-in", 5, seconds(900)), "sign-in"));
  EXPECT_FALSE(Matches(Account("/x", 5, seconds(900)), "/x"));
}

TEST(DefaultRulesTest, TheDocumentedTable) {
  const std::vector<Rule> rules = DefaultRules();
  std::vector<std::string> text;
  for (const Rule& rule : rules) text.push_back(FormatRule(rule));
  EXPECT_EQ(text, (std::vector<std::string>{
                      "/api/auth/sign-in/*=10/1m",
                      "/api/auth/sign-up/*=10/1m",
                      "/api/auth/sign-out=10/1m",
                      "/api/auth/revoke-session=10/1m",
                      "/api/auth/revoke-sessions=10/1m",
                      "/api/auth/revoke-other-sessions=10/1m",
                      "/api/auth/change-password=10/1m",
                      "/api/auth/update-user=10/1m",
                      "/api/auth/get-session=600/1m",
                      "/api/auth/session=600/1m",
                      "account:sign-in=5/15m",
                  }));
  EXPECT_EQ(rules.back().pattern, kSignInAccountRule);
}

}  // namespace
}  // namespace sessiond::ratelimit
