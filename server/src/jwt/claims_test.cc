#include "jwt/claims.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <set>
#include <string>

#include "jwt/jwt_test_util.h"
#include "jwt/key_set.h"
#include "testing/fake_random.h"

namespace sessiond::jwt {
namespace {

using testutil::kIssuer;
using testutil::kNow;

ClaimsInput SampleInput() {
  ClaimsInput input;
  input.issuer = kIssuer;
  input.audience = kIssuer;
  input.user_id = "XawuQPtwlZknbXNam1qEJxmemikQfiWl";
  input.session_id = "iRLXZzIY1fscfnwaquup6BSGJWEG49oq";
  input.email = "alice@example.com";
  input.role = "user";
  input.extra["name"] = "Alice";
  input.extra["emailVerified"] = false;
  input.extra["image"] = nullptr;
  input.issued_at = kNow + std::chrono::milliseconds(999);  // iat truncates to the second.
  input.jti = "jti-1";
  return input;
}

TEST(ClaimsTest, DefaultLifetimeIsFifteenMinutes) {
  EXPECT_EQ(ClaimsInput{}.lifetime, std::chrono::seconds(900));
  EXPECT_EQ(kDefaultTokenLifetime, std::chrono::minutes(15));
}

TEST(ClaimsTest, BuildsTheDocumentedClaims) {
  const boost::json::object claims = AccessTokenClaims(SampleInput());
  const boost::json::value expected = boost::json::parse(R"({
      "iss":"http://127.0.0.1:4100","aud":"http://127.0.0.1:4100",
      "sub":"XawuQPtwlZknbXNam1qEJxmemikQfiWl","sid":"iRLXZzIY1fscfnwaquup6BSGJWEG49oq",
      "jti":"jti-1","iat":1795431473,"exp":1795432373,"email":"alice@example.com",
      "role":"user","name":"Alice","emailVerified":false,"image":null})");
  EXPECT_EQ(claims, expected.as_object());
}

TEST(ClaimsTest, RoleIsOmittedWhenAbsentAndLifetimeConfigurable) {
  ClaimsInput input = SampleInput();
  input.role.reset();
  input.lifetime = std::chrono::seconds(60);
  const boost::json::object claims = AccessTokenClaims(input);
  EXPECT_FALSE(claims.contains("role"));
  EXPECT_EQ(claims.at("exp").as_int64() - claims.at("iat").as_int64(), 60);
}

TEST(ClaimsTest, ExtraFieldsNeverOverrideRegisteredClaims) {
  ClaimsInput input = SampleInput();
  for (const char* name :
       {"iss", "aud", "sub", "sid", "jti", "iat", "exp", "nbf", "email", "role"}) {
    input.extra[name] = "attacker";
  }
  const boost::json::object claims = AccessTokenClaims(input);
  EXPECT_EQ(claims.at("sub").as_string(), input.user_id);
  EXPECT_EQ(claims.at("iss").as_string(), kIssuer);
  EXPECT_EQ(claims.at("exp").as_int64(), 1795432373);
  EXPECT_EQ(claims.at("role").as_string(), "user");
  EXPECT_FALSE(claims.contains("nbf"));
}

TEST(ClaimsTest, JwtIdsAreRandomBase64Url) {
  testing::FakeRandom random;
  std::set<std::string> ids;
  for (int i = 0; i < 50; ++i) {
    const std::string id = NewJwtId(random);
    EXPECT_EQ(id.size(), 22u);
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 50u);
}

TEST(ClaimsTest, SignedClaimsVerifyUnchanged) {
  testing::FakeRandom random;
  auto keys = KeySet::Create(Algorithm::kEdDSA, random, kNow);
  ASSERT_TRUE(keys.has_value());
  ClaimsInput input = SampleInput();
  input.jti = NewJwtId(random);
  const boost::json::object claims = AccessTokenClaims(input);
  auto token = keys->Sign(claims);
  ASSERT_TRUE(token.has_value());
  auto verified = Verify(*token, *keys, testutil::AllowAll(), kNow);
  ASSERT_TRUE(verified.has_value()) << verified.error().detail;
  EXPECT_EQ(*verified, claims);
}

}  // namespace
}  // namespace sessiond::jwt
