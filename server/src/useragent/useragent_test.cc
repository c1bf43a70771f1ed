#include "useragent/useragent.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <ostream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "useragent/fixtures.h"
#include "useragent/rules.h"

namespace sessiond::useragent {

// Readable failures: gtest prints results in Agnost's JSON shape.
void PrintTo(const Device& d, std::ostream* os) {
  *os << R"({"family":")" << d.family << R"(","brand":")" << d.brand << R"(","model":")" << d.model
      << R"("})";
}

void PrintTo(const Os& o, std::ostream* os) {
  *os << R"({"family":")" << o.family << R"(","major":")" << o.major << R"(","minor":")" << o.minor
      << R"(","patch":")" << o.patch << R"("})";
}

void PrintTo(const UserAgent& ua, std::ostream* os) {
  *os << R"({"family":")" << ua.family << R"(","major":")" << ua.major << R"(","minor":")"
      << ua.minor << R"(","patch":")" << ua.patch << R"(","device":)";
  PrintTo(ua.device, os);
  *os << R"(,"os":)";
  PrintTo(ua.os, os);
  *os << "}";
}

namespace {

using std::chrono::steady_clock;

const UserAgent kUnknown{
    .family = "Other", .device = {.family = "Other"}, .os = {.family = "Other"}};

// True when `s` is well-formed UTF-8 (no check for overlongs: enough to catch a split character).
bool IsUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t len = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += len;
  }
  return true;
}

bool IsUtf8(const UserAgent& ua) {
  for (const std::string* f :
       {&ua.family, &ua.major, &ua.minor, &ua.patch, &ua.device.family, &ua.device.brand,
        &ua.device.model, &ua.os.family, &ua.os.major, &ua.os.minor, &ua.os.patch}) {
    if (!IsUtf8(*f)) return false;
  }
  return true;
}

TEST(UserAgentRulesTest, AllCompile) {
  EXPECT_GT(internal::UaRules().size(), 300u);
  EXPECT_GT(internal::OsRules().size(), 150u);
  EXPECT_GT(internal::DeviceRules().size(), 500u);
  EXPECT_EQ(internal::RuleCompileErrors(), 0u);
}

// Real browser strings. Expectations agree with uap-core's own fixtures for the same shapes
// (tests/test_ua.yaml, test_os.yaml, test_device.yaml: e.g. Edg/75, Googlebot/2.1, SM-L710).
struct BrowserCase {
  std::string_view name;
  std::string_view ua;
  UserAgent want;
};

class RealBrowserTest : public ::testing::TestWithParam<BrowserCase> {};

TEST_P(RealBrowserTest, Parses) {
  const BrowserCase& c = GetParam();
  EXPECT_EQ(Parser::Default().Parse(c.ua), c.want) << c.ua;
  EXPECT_EQ(Parser(0).Parse(c.ua), c.want) << "uncached: " << c.ua;
}

INSTANTIATE_TEST_SUITE_P(
    Table, RealBrowserTest,
    ::testing::Values(
        BrowserCase{"ChromeWindows",
                    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
                    "Gecko) Chrome/120.0.0.0 Safari/537.36",
                    {.family = "Chrome",
                     .major = "120",
                     .minor = "0",
                     .patch = "0",
                     .device = {.family = "Other"},
                     .os = {.family = "Windows", .major = "10"}}},
        BrowserCase{
            "ChromeAndroid",
            "Mozilla/5.0 (Linux; Android 13; SM-S901B) AppleWebKit/537.36 (KHTML, like "
            "Gecko) Chrome/112.0.0.0 Mobile Safari/537.36",
            {.family = "Chrome Mobile",
             .major = "112",
             .minor = "0",
             .patch = "0",
             .device = {.family = "Samsung SM-S901B", .brand = "Samsung", .model = "SM-S901B"},
             .os = {.family = "Android", .major = "13"}}},
        BrowserCase{"FirefoxLinux",
                    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
                    {.family = "Firefox",
                     .major = "121",
                     .minor = "0",
                     .device = {.family = "Other"},
                     .os = {.family = "Linux"}}},
        BrowserCase{"SafariIos",
                    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 "
                    "(KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
                    {.family = "Mobile Safari",
                     .major = "17",
                     .minor = "2",
                     .device = {.family = "iPhone", .brand = "Apple", .model = "iPhone"},
                     .os = {.family = "iOS", .major = "17", .minor = "2"}}},
        BrowserCase{"SafariMac",
                    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, "
                    "like Gecko) Version/17.2 Safari/605.1.15",
                    {.family = "Safari",
                     .major = "17",
                     .minor = "2",
                     .device = {.family = "Mac", .brand = "Apple", .model = "Mac"},
                     .os = {.family = "Mac OS X", .major = "10", .minor = "15", .patch = "7"}}},
        BrowserCase{"EdgeWindows",
                    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
                    "Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
                    {.family = "Edge",
                     .major = "120",
                     .minor = "0",
                     .patch = "2210",
                     .device = {.family = "Other"},
                     .os = {.family = "Windows", .major = "10"}}},
        BrowserCase{"Curl",
                    "curl/8.4.0",
                    {.family = "curl",
                     .major = "8",
                     .minor = "4",
                     .patch = "0",
                     .device = {.family = "Other"},
                     .os = {.family = "Other"}}},
        BrowserCase{"Googlebot",
                    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
                    {.family = "Googlebot",
                     .major = "2",
                     .minor = "1",
                     .device = {.family = "Spider", .brand = "Spider", .model = "Desktop"},
                     .os = {.family = "Other"}}},
        BrowserCase{"Empty", "", kUnknown},
        BrowserCase{"Unrecognised", "sessiond-test-client", kUnknown}),
    [](const ::testing::TestParamInfo<BrowserCase>& param) {
      return std::string(param.param.name);
    });

// A 10 KB string is cut to Parser::kMaxInputBytes before matching: whatever its shape, parsing
// ends quickly (the rules' worst cases take a few ms on 512 bytes) and nothing throws.
TEST(UserAgentParserTest, TenKilobyteStringsParseQuickly) {
  const std::string chrome =
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/120.0.0.0 Safari/537.36 ";
  std::vector<std::string> inputs = {chrome + std::string(10 * 1024, 'x'),
                                     std::string(10 * 1024, 'a'), std::string(10 * 1024, ' ')};
  const auto repeat = [](std::string_view piece) {
    std::string s;
    while (s.size() < 10 * 1024) s += piece;
    return s;
  };
  for (std::string_view piece : {"; ", "(", "1.", "bot", "Mozilla/5.0 (Linux; Android 1",
                                 "Android Application - HTC HTC ", "/", "\xC3\xA9"}) {
    inputs.push_back(repeat(piece));
  }
  const Parser parser(0);
  for (const std::string& input : inputs) {
    ASSERT_GE(input.size(), 10u * 1024);
    const auto start = steady_clock::now();
    const UserAgent ua = parser.Parse(input);
    const auto elapsed = steady_clock::now() - start;
    EXPECT_LT(elapsed, std::chrono::milliseconds(500)) << input.substr(0, 40);
    EXPECT_FALSE(ua.family.empty());
    EXPECT_FALSE(ua.os.family.empty());
    EXPECT_FALSE(ua.device.family.empty());
    EXPECT_TRUE(IsUtf8(ua)) << input.substr(0, 40);
  }
  const UserAgent padded = parser.Parse(inputs[0]);
  EXPECT_EQ(padded.family, "Chrome");
  EXPECT_EQ(padded.major, "120");
  EXPECT_EQ(padded.os.family, "Windows");
}

// Only the first kMaxInputBytes count: the same string with anything after them parses alike.
TEST(UserAgentParserTest, MatchesOnlyTheFirstBytes) {
  const std::string prefix(Parser::kMaxInputBytes, ' ');
  const Parser parser(0);
  EXPECT_EQ(parser.Parse(prefix + "curl/8.4.0"), kUnknown);
  EXPECT_EQ(parser.Parse("curl/8.4.0" + prefix).family, "curl");
}

// The cut never splits a UTF-8 character: a model captured up to the end of the (cut) input is
// whole characters.
TEST(UserAgentParserTest, CutKeepsUtf8Whole) {
  std::string ua = "Lenovo-";
  while (ua.size() < 600) ua += "\xC3\xA9";  // é
  const UserAgent got = Parser(0).Parse(ua);
  EXPECT_EQ(got.device.brand, "Lenovo");
  EXPECT_TRUE(IsUtf8(got)) << got.device.model;
  EXPECT_EQ(got.device.model.size(), Parser::kMaxInputBytes - 8);  // 252 whole é.
}

// A capture that starts inside a character (only possible with invalid input) loses the stray
// bytes rather than passing them on.
TEST(UserAgentParserTest, CapturesDropPartialCharacters) {
  const UserAgent got = Parser(0).Parse(
      "Lenovo-\xA9"
      "abc");
  EXPECT_EQ(got.device.family, "Lenovo abc");
  EXPECT_EQ(got.device.model, "abc");
}

TEST(UserAgentParserTest, CacheKeepsResultsRightAcrossEviction) {
  const std::string chrome =
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/120.0.0.0 Safari/537.36";
  const std::string firefox =
      "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0";
  const Parser uncached(0);
  const Parser cached(2);
  for (int round = 0; round < 3; ++round) {
    for (const std::string& ua : {chrome, firefox, std::string("curl/8.4.0"), chrome}) {
      EXPECT_EQ(cached.Parse(ua), uncached.Parse(ua)) << ua;
    }
  }
}

TEST(UserAgentParserTest, ConcurrentParsesAgree) {
  const std::vector<std::string> uas = {
      "curl/8.4.0", "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
      "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", ""};
  std::vector<UserAgent> want;
  for (const std::string& ua : uas) want.push_back(Parser(0).Parse(ua));
  const Parser shared(3);  // Smaller than the working set, so threads also evict.
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (std::size_t t = 0; t < mismatches.size(); ++t) {
    threads.emplace_back([&, t] {
      for (std::size_t i = 0; i < 50; ++i) {
        const std::size_t k = (i + t) % uas.size();
        if (shared.Parse(uas[k]) != want[k]) ++mismatches[t];
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (const int m : mismatches) EXPECT_EQ(m, 0);
}

// uap-core's own test cases (a sample spread over each file; SESSIOND_UAP_FIXTURE_LIMIT=0 at
// configure time runs them all). Null expectations in the YAML are "" here, as in Parse().
TEST(UapConformanceTest, UserAgents) {
  ASSERT_FALSE(internal::UaCases().empty());
  const Parser parser(0);
  for (const internal::UaCase& c : internal::UaCases()) {
    const UserAgent got = parser.Parse(c.ua);
    EXPECT_EQ(got.family, c.family) << c.ua;
    EXPECT_EQ(got.major, c.major) << c.ua;
    EXPECT_EQ(got.minor, c.minor) << c.ua;
    EXPECT_EQ(got.patch, c.patch) << c.ua;
  }
}

TEST(UapConformanceTest, OperatingSystems) {
  ASSERT_FALSE(internal::OsCases().empty());
  const Parser parser(0);
  for (const internal::OsCase& c : internal::OsCases()) {
    const Os want{.family = std::string(c.family),
                  .major = std::string(c.major),
                  .minor = std::string(c.minor),
                  .patch = std::string(c.patch)};
    EXPECT_EQ(parser.Parse(c.ua).os, want) << c.ua;
  }
}

TEST(UapConformanceTest, Devices) {
  ASSERT_FALSE(internal::DeviceCases().empty());
  const Parser parser(0);
  for (const internal::DeviceCase& c : internal::DeviceCases()) {
    const Device want{.family = std::string(c.family),
                      .brand = std::string(c.brand),
                      .model = std::string(c.model)};
    EXPECT_EQ(parser.Parse(c.ua).device, want) << c.ua;
  }
}

}  // namespace
}  // namespace sessiond::useragent
