#include "routes/auth_routes.h"
#include "routes/session_routes.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "crypto/crypto.h"
#include "http/cookies.h"
#include "store/memory/memory_store.h"
#include "testing/fake_clock.h"
#include "testing/fake_random.h"

namespace sessiond::routes {
namespace {

using std::chrono::days;
using std::chrono::hours;

constexpr char kOrigin[] = "http://127.0.0.1:3000";

// The routes driven through a Router in-process, with an injected clock: what the black-box tests
// cannot do without waiting (sliding expiry, expiry).
class AuthRoutesTest : public ::testing::Test {
 protected:
  AuthRoutesTest() {
    EXPECT_TRUE(crypto::Init());
    Build(CookieOptions{});
  }

  void Build(CookieOptions options) {
    router_ = http::Router();
    cookies_ = std::make_unique<SessionCookies>(options, signer_);
    auto ctx = std::make_shared<const RouteContext>(
        RouteContext{sessions_, *cookies_, origin_check_, limiter_.get(), {}});
    AddAuthRoutes(router_, ctx);
    AddSessionRoutes(router_, ctx);
  }

  http::Response Call(const std::string& method, const std::string& path, std::string body = {},
                      std::string cookie = {}) {
    http::Request r;
    r.method = method;
    r.path = path;
    r.client_ip = "198.51.100.4";
    r.headers.Add("User-Agent", "test-agent/1.0");
    if (!body.empty()) r.headers.Add("Content-Type", "application/json");
    if (!cookie.empty()) {
      r.headers.Add("Cookie", cookie);
      r.headers.Add("Origin", kOrigin);
    }
    r.body = std::move(body);
    return router_.Dispatch(r);
  }

  // "better-auth.session_token=<value>" from a response's Set-Cookie, for the next request.
  static std::string CookieFrom(const http::Response& r) {
    for (auto v : r.headers.GetAll("set-cookie")) {
      if (v.starts_with("better-auth.session_token=")) return std::string(v.substr(0, v.find(';')));
    }
    return {};
  }

  static std::optional<std::string> SetCookieFor(const http::Response& r) {
    for (auto v : r.headers.GetAll("set-cookie")) {
      if (v.starts_with("better-auth.session_token=")) return std::string(v);
    }
    return std::nullopt;
  }

  std::string SignUp(bool remember = true) {
    auto r = Call(
        "POST", "/api/auth/sign-up/email",
        std::string(
            R"({"email":"alice@example.com","password":"correct-horse","name":"Alice","rememberMe":)") +
            (remember ? "true}" : "false}"));
    EXPECT_EQ(r.status, 200) << r.body;
    return CookieFrom(r);
  }

  store::MemoryStore store_;
  testing::FakeClock clock_;
  testing::FakeRandom random_;
  crypto::PasswordHasher hasher_{{.memory_kib = 8, .iterations = 1}};
  session::SessionService sessions_{store_, hasher_, clock_, random_,
                                    session::SessionOptions{.handle_key = "k"}};
  token::TokenSigner signer_{"0123456789abcdef0123456789abcdef-test"};
  OriginCheck origin_check_{{kOrigin}};
  std::unique_ptr<SessionCookies> cookies_;
  std::unique_ptr<ratelimit::RateLimiter> limiter_;
  http::Router router_;
};

TEST_F(AuthRoutesTest, SignUpSetsCookieBearerHeaderAndBody) {
  auto r = Call("POST", "/api/auth/sign-up/email",
                R"({"email":"Alice@Example.com","password":"correct-horse","name":"Alice"})");
  ASSERT_EQ(r.status, 200);
  const auto body = boost::json::parse(r.body).as_object();
  const std::string token(body.at("token").as_string());
  EXPECT_EQ(body.at("user").at("email").as_string(), "alice@example.com");
  EXPECT_TRUE(body.at("user").at("image").is_null());
  EXPECT_EQ(r.headers.Get("set-auth-token").value_or(""), signer_.Sign(token));
  EXPECT_EQ(r.headers.Get("cache-control").value_or(""), "no-store");
  EXPECT_EQ(*SetCookieFor(r),
            "better-auth.session_token=" + http::PercentEncode(signer_.Sign(token)) +
                "; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax");
}

TEST_F(AuthRoutesTest, GetSessionRendersBetterAuthShapeWithoutTheCredential) {
  const std::string cookie = SignUp();
  auto r = Call("GET", "/api/auth/get-session", {}, cookie);
  ASSERT_EQ(r.status, 200);
  const auto body = boost::json::parse(r.body).as_object();
  const auto& s = body.at("session").as_object();
  EXPECT_EQ(s.at("ipAddress").as_string(), "198.51.100.4");
  EXPECT_EQ(s.at("userAgent").as_string(), "test-agent/1.0");
  EXPECT_EQ(s.at("expiresAt").as_string(), ToIso8601(clock_.Now() + days(7)));
  EXPECT_EQ(s.at("userId").as_string(), body.at("user").at("id").as_string());
  // The body's token is the revocation handle, not the cookie's token.
  const std::string cookie_token =
      *signer_.Verify(http::PercentDecode(cookie.substr(cookie.find('=') + 1)));
  EXPECT_NE(std::string(s.at("token").as_string()), cookie_token);
  EXPECT_FALSE(SetCookieFor(r).has_value());  // Fresh session: nothing to renew.
}

TEST_F(AuthRoutesTest, RenewalReSetsTheCookieOncePerUpdateAge) {
  const std::string cookie = SignUp();
  clock_.Advance(days(1));
  auto renewed = Call("GET", "/api/auth/get-session", {}, cookie);
  ASSERT_EQ(renewed.status, 200);
  const auto set = SetCookieFor(renewed);
  ASSERT_TRUE(set.has_value());
  EXPECT_NE(set->find("Max-Age=604800"), std::string::npos);
  EXPECT_EQ(boost::json::parse(renewed.body).at("session").at("expiresAt").as_string(),
            ToIso8601(clock_.Now() + days(7)));
  clock_.Advance(hours(1));
  EXPECT_FALSE(SetCookieFor(Call("GET", "/api/auth/get-session", {}, cookie)).has_value());
}

TEST_F(AuthRoutesTest, RenewCanBeTurnedOff) {
  Build({.renew = false});
  const std::string cookie = SignUp();
  clock_.Advance(days(2));
  auto r = Call("GET", "/api/auth/get-session", {}, cookie);
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body, "null");
  EXPECT_FALSE(SetCookieFor(r).has_value());
}

TEST_F(AuthRoutesTest, DontRememberCookieHasNoMaxAgeEvenWhenRenewed) {
  const std::string cookie = SignUp(/*remember=*/false);
  clock_.Advance(hours(13));
  auto r = Call("GET", "/api/auth/get-session", {}, cookie);
  const auto set = SetCookieFor(r);
  ASSERT_TRUE(set.has_value());
  EXPECT_EQ(set->find("Max-Age"), std::string::npos);
}

TEST_F(AuthRoutesTest, ExpiredSessionIsNullAndCookiesAreCleared) {
  const std::string cookie = SignUp();
  clock_.Advance(days(8));
  auto r = Call("GET", "/api/auth/get-session", {}, cookie);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "null");
  const auto set = SetCookieFor(r);
  ASSERT_TRUE(set.has_value());
  EXPECT_NE(set->find("Max-Age=0"), std::string::npos);
  auto seed = Call("GET", "/api/auth/session", {}, cookie);
  EXPECT_EQ(boost::json::parse(seed.body), boost::json::parse(R"({"session":null,"user":null})"));
}

TEST_F(AuthRoutesTest, SignOutEndsTheSessionAndNeedsAnOrigin) {
  const std::string cookie = SignUp();
  http::Request no_origin;
  no_origin.method = "POST";
  no_origin.path = "/api/auth/sign-out";
  no_origin.headers.Add("Cookie", cookie);
  EXPECT_EQ(router_.Dispatch(no_origin).status, 403);
  EXPECT_NE(Call("GET", "/api/auth/get-session", {}, cookie).body, "null");

  auto out = Call("POST", "/api/auth/sign-out", {}, cookie);
  EXPECT_EQ(out.status, 200);
  EXPECT_EQ(out.body, R"({"success":true})");
  EXPECT_EQ(Call("GET", "/api/auth/get-session", {}, cookie).body, "null");
  EXPECT_EQ(Call("POST", "/api/auth/sign-out").status, 200);
}

TEST_F(AuthRoutesTest, CorsOnlyForTrustedOrigins) {
  http::Request preflight;
  preflight.method = "OPTIONS";
  preflight.path = "/api/auth/sign-in/email";
  preflight.headers.Add("Origin", kOrigin);
  preflight.headers.Add("Access-Control-Request-Method", "POST");
  auto ok = router_.Dispatch(preflight);
  EXPECT_EQ(ok.status, 204);
  EXPECT_EQ(ok.headers.Get("access-control-allow-origin").value_or(""), kOrigin);
  EXPECT_EQ(ok.headers.Get("access-control-allow-credentials").value_or(""), "true");

  http::Request evil = preflight;
  evil.headers = http::Headers();
  evil.headers.Add("Origin", "http://evil.example");
  auto refused = router_.Dispatch(evil);
  EXPECT_FALSE(refused.headers.Get("access-control-allow-origin").has_value());

  http::Request get;
  get.method = "GET";
  get.path = "/api/auth/get-session";
  get.headers.Add("Origin", kOrigin);
  EXPECT_EQ(router_.Dispatch(get).headers.Get("access-control-allow-origin").value_or(""), kOrigin);
}

}  // namespace
}  // namespace sessiond::routes
