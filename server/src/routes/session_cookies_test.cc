#include "routes/session_cookies.h"

#include <gtest/gtest.h>

#include "crypto/crypto.h"
#include "http/cookies.h"

namespace sessiond::routes {
namespace {

constexpr char kToken[] = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdE";

class SessionCookiesTest : public ::testing::Test {
 protected:
  SessionCookiesTest() { EXPECT_TRUE(crypto::Init()); }
  token::TokenSigner signer_{"0123456789abcdef0123456789abcdef-test"};
  SessionCookies cookies_{CookieOptions{}, signer_};
};

TEST_F(SessionCookiesTest, IssueMatchesBetterAuthAttributes) {
  const std::string c = cookies_.Issue(kToken, true);
  EXPECT_EQ(c.rfind("better-auth.session_token=", 0), 0u);
  EXPECT_NE(c.find("; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax"), std::string::npos) << c;
  EXPECT_EQ(cookies_.Issue(kToken, false).find("Max-Age"), std::string::npos);
}

TEST_F(SessionCookiesTest, SecureCookiesGetThePrefix) {
  SessionCookies secure({.secure = true}, signer_);
  EXPECT_EQ(secure.token_cookie_name(), "__Secure-better-auth.session_token");
  EXPECT_NE(secure.Issue(kToken, true).find("; Secure"), std::string::npos);
}

TEST_F(SessionCookiesTest, ReadsTheSignedCookieBack) {
  http::Request r;
  r.headers.Add("Cookie",
                "other=1; better-auth.session_token=" + http::PercentEncode(signer_.Sign(kToken)));
  const Credential c = cookies_.Read(r);
  EXPECT_EQ(c.source, CredentialSource::kCookie);
  ASSERT_TRUE(c.token.has_value());
  EXPECT_EQ(*c.token, kToken);
}

TEST_F(SessionCookiesTest, ForgedCookieGivesNoToken) {
  http::Request r;
  r.headers.Add("Cookie", std::string("better-auth.session_token=") + kToken +
                              ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%3D");
  const Credential c = cookies_.Read(r);
  EXPECT_EQ(c.source, CredentialSource::kCookie);
  EXPECT_FALSE(c.token.has_value());
  // An unsigned raw token in the cookie is not accepted either.
  http::Request raw;
  raw.headers.Add("Cookie", std::string("better-auth.session_token=") + kToken);
  EXPECT_FALSE(cookies_.Read(raw).token.has_value());
}

TEST_F(SessionCookiesTest, BearerAcceptsSignedOrRawToken) {
  http::Request signed_req;
  signed_req.headers.Add("Authorization", "Bearer " + signer_.Sign(kToken));
  EXPECT_EQ(cookies_.Read(signed_req).token.value_or(""), kToken);
  http::Request raw;
  raw.headers.Add("Authorization", std::string("bearer ") + kToken);
  EXPECT_EQ(cookies_.Read(raw).token.value_or(""), kToken);
  http::Request bad;
  bad.headers.Add("Authorization", "Bearer nonsense");
  EXPECT_EQ(cookies_.Read(bad).source, CredentialSource::kBearer);
  EXPECT_FALSE(cookies_.Read(bad).token.has_value());
}

TEST_F(SessionCookiesTest, ClearExpiresEveryCookie) {
  const auto cleared = cookies_.Clear();
  ASSERT_EQ(cleared.size(), 3u);
  EXPECT_EQ(cleared[0], "better-auth.session_token=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax");
}

}  // namespace
}  // namespace sessiond::routes
