#include "routes/origin_check.h"

#include <gtest/gtest.h>

namespace sessiond::routes {
namespace {

http::Request Req(std::string method, bool cookie) {
  http::Request r;
  r.method = std::move(method);
  r.path = "/api/auth/sign-out";
  if (cookie) r.headers.Add("Cookie", "better-auth.session_token=x");
  return r;
}

class OriginCheckTest : public ::testing::Test {
 protected:
  OriginCheck check_{
      {"http://127.0.0.1:3000", "https://app.example.com:443", "https://*.example.org"}};
};

TEST_F(OriginCheckTest, SafeMethodsAndCookielessRequestsPass) {
  EXPECT_TRUE(check_.Check(Req("GET", true)).has_value());
  EXPECT_TRUE(check_.Check(Req("HEAD", true)).has_value());
  EXPECT_TRUE(check_.Check(Req("POST", false)).has_value());
}

TEST_F(OriginCheckTest, CookiePostNeedsAnOrigin) {
  EXPECT_EQ(check_.Check(Req("POST", true)).error().code, ErrorCode::kMissingOrNullOrigin);
  auto null_origin = Req("POST", true);
  null_origin.headers.Add("Origin", "null");
  EXPECT_EQ(check_.Check(null_origin).error().code, ErrorCode::kMissingOrNullOrigin);
}

TEST_F(OriginCheckTest, TrustedOriginsPassOthersFail) {
  for (const char* ok : {"http://127.0.0.1:3000", "HTTP://127.0.0.1:3000",
                         "https://app.example.com", "https://a.example.org"}) {
    auto r = Req("POST", true);
    r.headers.Add("Origin", ok);
    EXPECT_TRUE(check_.Check(r).has_value()) << ok;
  }
  for (const char* bad : {"http://127.0.0.1:3001", "http://evil.example", "https://example.org",
                          "https://a.example.org.evil.com", "garbage"}) {
    auto r = Req("POST", true);
    r.headers.Add("Origin", bad);
    const auto result = check_.Check(r);
    ASSERT_FALSE(result.has_value()) << bad;
    EXPECT_NE(result.error().code, ErrorCode::kInternal);
  }
}

TEST_F(OriginCheckTest, RefererIsTheFallback) {
  auto r = Req("POST", true);
  r.headers.Add("Referer", "http://127.0.0.1:3000/settings?tab=1");
  EXPECT_TRUE(check_.Check(r).has_value());
  auto bad = Req("POST", true);
  bad.headers.Add("Referer", "http://evil.example/page");
  EXPECT_EQ(check_.Check(bad).error().code, ErrorCode::kInvalidOrigin);
}

TEST(OriginOfTest, Normalises) {
  EXPECT_EQ(OriginCheck::OriginOf("https://Example.com:443/a/b"), "https://example.com");
  EXPECT_EQ(OriginCheck::OriginOf("http://example.com:80"), "http://example.com");
  EXPECT_EQ(OriginCheck::OriginOf("http://example.com:8080?q"), "http://example.com:8080");
  EXPECT_EQ(OriginCheck::OriginOf("example.com"), "");
  EXPECT_EQ(OriginCheck::OriginOf("http://user@example.com"), "");
}

}  // namespace
}  // namespace sessiond::routes
