#include "routes/render.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "common/clock.h"

namespace sessiond::routes {
namespace {

store::Session SampleSession() {
  store::Session s;
  s.id = "8f3c2a1b9d4e4f6a8b7c6d5e4f3a2b1c";
  s.user_id = "u-7d2f9a";
  s.token_hash = "not rendered";
  s.expires_at = FromUnixMillis(1795431473221);
  s.ip_address = "198.51.100.4";
  s.user_agent = "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0";
  s.user_agent_parsed =
      R"({"family":"Firefox","major":"120","minor":"0","patch":"","device":{"family":"Other",)"
      R"("brand":"","model":""},"os":{"family":"Linux","major":"","minor":"","patch":""}})";
  s.created_at = FromUnixMillis(1794826673000);
  s.updated_at = FromUnixMillis(1794826673999);
  return s;
}

store::User SampleUser() {
  store::User u;
  u.id = "u-7d2f9a";
  u.email = "alice@example.com";
  u.name = "Alice";
  u.email_verified = false;
  u.created_at = FromUnixMillis(0);
  u.updated_at = FromUnixMillis(253402300799999);  // 9999-12-31T23:59:59.999Z
  return u;
}

constexpr std::string_view kHandle = "jfzOjNohcAeL4_wVzyMntgbVBWNSEdrIUEsZ2LM1Lj8";

// What get-session rendered before RenderSessionAndUser: the JSON tree, serialized.
std::string Reference(const store::Session& s, std::string_view handle, const store::User& u) {
  boost::json::object body;
  body["session"] = RenderSession(s, handle);
  body["user"] = RenderUser(u);
  return boost::json::serialize(body);
}

TEST(RenderTest, SessionAndUserIsByteForByteTheSerializedTree) {
  const store::Session s = SampleSession();
  store::User u = SampleUser();
  EXPECT_EQ(RenderSessionAndUser(s, kHandle, u), Reference(s, kHandle, u));
  u.email_verified = true;
  u.image = "https://example.com/a.png";
  EXPECT_EQ(RenderSessionAndUser(s, kHandle, u), Reference(s, kHandle, u));
}

TEST(RenderTest, DatesAreToIso8601) {
  for (const std::int64_t ms : {std::int64_t{0}, std::int64_t{-1}, std::int64_t{951782400007},
                                std::int64_t{253402300799999}, std::int64_t{253402300800000},
                                std::int64_t{-62167219200001}, std::int64_t{1795431473221}}) {
    store::Session s = SampleSession();
    s.expires_at = FromUnixMillis(ms);
    store::User u = SampleUser();
    u.created_at = FromUnixMillis(ms);
    EXPECT_EQ(RenderSessionAndUser(s, kHandle, u), Reference(s, kHandle, u)) << ms;
  }
}

TEST(RenderTest, DatesMatchToIso8601AcrossTheRange) {
  // A fixed pseudo-random walk over years -100..10100 (the renderer's own calendar arithmetic
  // against std::chrono's, through ToIso8601).
  std::uint64_t state = 0x9e3779b97f4a7c15ULL;
  for (int i = 0; i < 3000; ++i) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    const auto span = static_cast<std::uint64_t>(320'000'000'000'000LL);
    const std::int64_t ms = static_cast<std::int64_t>(state % span) - 65'000'000'000'000LL;
    store::Session s = SampleSession();
    s.expires_at = FromUnixMillis(ms);
    ASSERT_EQ(RenderSessionAndUser(s, kHandle, SampleUser()), Reference(s, kHandle, SampleUser()))
        << ms;
  }
}

TEST(RenderTest, StringsAreEscapedAsBoostJsonDoes) {
  // Every byte value, in the fields that carry client-supplied text.
  std::string every_byte;
  for (int c = 1; c < 256; ++c) every_byte += static_cast<char>(c);
  const std::vector<std::string> samples = {"",
                                            "plain",
                                            "quote\" backslash\\ slash/",
                                            std::string("nul\0inside", 10),
                                            every_byte,
                                            "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92",
                                            "\x7f\x1f\x01\b\f\n\r\t"};
  for (const std::string& text : samples) {
    store::Session s = SampleSession();
    store::User u = SampleUser();
    s.user_agent = text;
    s.ip_address = text;
    u.name = text;
    u.image = text;
    EXPECT_EQ(RenderSessionAndUser(s, text, u), Reference(s, text, u)) << text;
  }
}

TEST(RenderTest, UserAgentParsedIsNullWhenAbsentOrNotJson) {
  for (const std::string stored : {"", "{", "{\"a\":1} trailing", "not json", "{\"a\":1}{}"}) {
    store::Session s = SampleSession();
    s.user_agent_parsed = stored;
    const std::string out = RenderSessionAndUser(s, kHandle, SampleUser());
    EXPECT_EQ(out, Reference(s, kHandle, SampleUser())) << stored;
    EXPECT_TRUE(boost::json::parse(out).at("session").at("userAgentParsed").is_null()) << stored;
  }
}

TEST(RenderTest, UserAgentParsedIsEmbeddedAsStored) {
  store::Session s = SampleSession();
  s.user_agent_parsed = R"({ "family" : "X", "n": [1, 2.5, true, null] })";
  const boost::json::value out = boost::json::parse(RenderSessionAndUser(s, kHandle, SampleUser()));
  EXPECT_EQ(out.at("session").at("userAgentParsed"), boost::json::parse(s.user_agent_parsed));
}

}  // namespace
}  // namespace sessiond::routes
