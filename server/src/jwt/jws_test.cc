#include "jwt/jws.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <string>
#include <vector>

#include "crypto/crypto.h"
#include "jwt/jwt_test_util.h"
#include "jwt/key_lookup.h"
#include "jwt/signature.h"

namespace sessiond::jwt {
namespace {

using testutil::AllowAll;
using testutil::kIssuer;
using testutil::kNow;
using testutil::Reason;
using testutil::TestKey;
using testutil::ValidClaims;
using testutil::VerifyAll;

std::vector<std::string> Segments(std::string_view token) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t dot = token.find('.'); dot != std::string_view::npos;
       start = dot + 1, dot = token.find('.', start)) {
    out.emplace_back(token.substr(start, dot - start));
  }
  out.emplace_back(token.substr(start));
  return out;
}

class JwsPerAlgorithmTest : public ::testing::TestWithParam<Algorithm> {};
INSTANTIATE_TEST_SUITE_P(All, JwsPerAlgorithmTest, ::testing::ValuesIn(kAllAlgorithms),
                         [](const auto& param_info) {
                           return std::string(AlgorithmName(param_info.param));
                         });

TEST_P(JwsPerAlgorithmTest, SignVerifyRoundTrip) {
  boost::json::object claims = ValidClaims();
  claims["email"] = "alice@example.com";
  claims["nested"] = boost::json::parse(R"({"a":[1,2,{"b":null}]})");
  auto token = Sign(TestKey(GetParam()), claims);
  ASSERT_TRUE(token.has_value()) << token.error().detail;
  auto verified = VerifyAll(*token);
  ASSERT_TRUE(verified.has_value()) << verified.error().detail;
  EXPECT_EQ(*verified, claims);
}

TEST_P(JwsPerAlgorithmTest, HeaderIsAlgKidTyp) {
  const Key& key = TestKey(GetParam());
  const auto segments = Segments(Sign(key, ValidClaims()).value());
  ASSERT_EQ(segments.size(), 3u);
  const auto header = boost::json::parse(crypto::Base64UrlDecode(segments[0]).value());
  EXPECT_EQ(header, boost::json::parse(testutil::HeaderJson(key)));
}

TEST_P(JwsPerAlgorithmTest, SignatureHasTheRegisteredLength) {
  const auto segments = Segments(Sign(TestKey(GetParam()), ValidClaims()).value());
  const std::size_t size = crypto::Base64UrlDecode(segments[2]).value().size();
  switch (GetParam()) {
    case Algorithm::kEdDSA:  // RFC 8032 §5.1.6.
    case Algorithm::kES256:  // RFC 7518 §3.4: R||S, not DER.
    case Algorithm::kHS512:
      EXPECT_EQ(size, 64u);
      break;
    case Algorithm::kRS256:  // Modulus length.
      EXPECT_EQ(size, 256u);
      break;
    case Algorithm::kHS256:
      EXPECT_EQ(size, 32u);
      break;
    case Algorithm::kHS384:
      EXPECT_EQ(size, 48u);
      break;
  }
}

// What a relying party does: fetch the JWKS, import the public keys, verify.
TEST(JwsTest, VerifiesWithKeysImportedFromTheJwks) {
  for (const Algorithm algorithm : {Algorithm::kEdDSA, Algorithm::kES256, Algorithm::kRS256}) {
    const Key& key = TestKey(algorithm);
    auto imported = Key::FromPublicJwk(key.PublicJwk().value());
    ASSERT_TRUE(imported.has_value()) << imported.error().detail;
    const KeyList lookup({*imported});
    auto verified = Verify(Sign(key, ValidClaims()).value(), lookup, AllowAll(), kNow);
    EXPECT_TRUE(verified.has_value()) << AlgorithmName(algorithm);
  }
}

TEST(JwsTest, Es256SignaturesAreRandomizedButBothVerify) {
  const Key& key = TestKey(Algorithm::kES256);
  const std::string a = Sign(key, ValidClaims()).value();
  const std::string b = Sign(key, ValidClaims()).value();
  EXPECT_NE(a, b);
  EXPECT_TRUE(VerifyAll(a).has_value());
  EXPECT_TRUE(VerifyAll(b).has_value());
}

// RFC 7515 Appendix A.3: the ES256 example verifies with its published public key, proving
// the R||S conversion matches other implementations.
TEST(JwsTest, Rfc7515AppendixA3Es256Vector) {
  auto key = Key::FromPublicJwk(boost::json::parse(R"({"kty":"EC","crv":"P-256",
      "x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
      "y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","kid":"a3","alg":"ES256"})")
                                    .as_object());
  ASSERT_TRUE(key.has_value()) << key.error().detail;
  const std::string input =
      "eyJhbGciOiJFUzI1NiJ9."
      "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVl"
      "fQ";
  const std::string signature =
      crypto::Base64UrlDecode(
          "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q")
          .value();
  EXPECT_TRUE(VerifyBytes(*key, input, signature));
  EXPECT_FALSE(VerifyBytes(*key, input + "x", signature));
}

// Yields scripted bytes: first the kid, then the Ed25519 seed.
class ScriptedRandom final : public Random {
 public:
  explicit ScriptedRandom(std::string bytes) : bytes_(std::move(bytes)) {}
  void Fill(std::span<std::uint8_t> out) override {
    for (auto& b : out) b = static_cast<std::uint8_t>(bytes_.at(next_++));
  }

 private:
  std::string bytes_;
  std::size_t next_ = 0;
};

// RFC 8037 Appendix A.1-A.4: the Ed25519 key and its deterministic signature.
TEST(JwsTest, Rfc8037AppendixAEd25519Vector) {
  ScriptedRandom random(
      std::string(24, 'k') +
      crypto::Base64UrlDecode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A").value());
  auto key = Key::Generate(Algorithm::kEdDSA, random, kNow);
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(key->PublicJwk()->at("x").as_string(), "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
  const auto signature =
      SignBytes(*key, "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc");
  ASSERT_TRUE(signature.has_value());
  EXPECT_EQ(
      testutil::B64(*signature),
      "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg");
}

// RFC 7515 Appendix A.1: the HS256 example.
TEST(JwsTest, Rfc7515AppendixA1Hs256Vector) {
  auto key = Key::FromSharedSecret(
      Algorithm::kHS256,
      crypto::Base64UrlDecode("AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4"
                              "hcgUuTwjAzZr1Z9CAow")
          .value(),
      "a1", kNow);
  ASSERT_TRUE(key.has_value());
  const auto signature = SignBytes(*key,
                                   "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
                                   "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGF"
                                   "tcGxlLmNvbS9pc19yb290Ijp0cnVlfQ");
  EXPECT_EQ(testutil::B64(signature.value()), "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
}

TEST(JwsTest, AllowlistIsEnforced) {
  const std::string token = Sign(TestKey(Algorithm::kEdDSA), ValidClaims()).value();
  VerifyOptions options = AllowAll();
  options.allowed = {Algorithm::kES256, Algorithm::kRS256};
  EXPECT_EQ(Reason(VerifyAll(token, kNow, options)), VerifyError::kBadAlgorithm);
  options.allowed.clear();
  EXPECT_EQ(Reason(VerifyAll(token, kNow, options)), VerifyError::kBadAlgorithm);
  options.allowed = {Algorithm::kEdDSA};
  EXPECT_TRUE(VerifyAll(token, kNow, options).has_value());
}

TEST(JwsTest, TypIsOptionalAndCaseInsensitive) {
  const Key& key = TestKey(Algorithm::kHS256);
  const std::string claims = testutil::Json(ValidClaims());
  const std::string kid = R"(,"kid":")" + key.kid() + R"(")";
  EXPECT_TRUE(VerifyAll(testutil::Forge(key, R"({"alg":"HS256")" + kid + "}", claims)));
  EXPECT_TRUE(VerifyAll(testutil::Forge(key, R"({"alg":"HS256","typ":"jwt")" + kid + "}", claims)));
  EXPECT_EQ(Reason(VerifyAll(
                testutil::Forge(key, R"({"alg":"HS256","typ":"at+jwt")" + kid + "}", claims))),
            VerifyError::kMalformed);
  EXPECT_EQ(
      Reason(VerifyAll(testutil::Forge(key, R"({"alg":"HS256","typ":1)" + kid + "}", claims))),
      VerifyError::kMalformed);
}

TEST(JwsTest, NumericDatesMayBeFractionalButMustBeNumbers) {
  const Key& key = TestKey(Algorithm::kHS256);
  const std::string header = testutil::HeaderJson(key);
  boost::json::object claims = ValidClaims();
  claims["exp"] = 1795431473.5 + 60;
  EXPECT_TRUE(VerifyAll(Sign(key, claims).value()).has_value());
  for (const boost::json::value& bad :
       {boost::json::value("1795432373"), boost::json::value(true), boost::json::value(nullptr),
        boost::json::value(boost::json::array{})}) {
    claims["exp"] = bad;
    EXPECT_EQ(Reason(VerifyAll(Sign(key, claims).value())), VerifyError::kInvalidClaim);
  }
  claims = ValidClaims();
  claims.erase("exp");
  EXPECT_EQ(Reason(VerifyAll(Sign(key, claims).value())), VerifyError::kInvalidClaim);
  claims = ValidClaims();
  claims["nbf"] = "soon";
  EXPECT_EQ(Reason(VerifyAll(Sign(key, claims).value())), VerifyError::kInvalidClaim);
}

TEST(JwsTest, IssuerAndAudienceOptionsMustBeSet) {
  const std::string token = Sign(TestKey(Algorithm::kEdDSA), ValidClaims()).value();
  VerifyOptions options = AllowAll();
  options.issuer.clear();
  EXPECT_EQ(Reason(VerifyAll(token, kNow, options)), VerifyError::kBadIssuer);
  options = AllowAll();
  options.audience.clear();
  EXPECT_EQ(Reason(VerifyAll(token, kNow, options)), VerifyError::kBadAudience);
}

TEST(JwsTest, SigningNeedsAPrivateKey) {
  auto imported = Key::FromPublicJwk(TestKey(Algorithm::kEdDSA).PublicJwk().value());
  ASSERT_TRUE(imported.has_value());
  EXPECT_EQ(Sign(*imported, ValidClaims()).error().code, ErrorCode::kInternal);
}

TEST(JwsTest, FailuresMapToUnauthorized) {
  const Error error = ToError(VerifyFailure{VerifyError::kExpired, "expired"});
  EXPECT_EQ(error.code, ErrorCode::kUnauthorized);
  EXPECT_EQ(error.detail, "jwt expired: expired");
  EXPECT_EQ(VerifyErrorName(VerifyError::kBadSignature), "bad_signature");
  EXPECT_EQ(VerifyErrorName(VerifyError::kUnknownKid), "unknown_kid");
}

TEST(JwsTest, IssuerIsTheBaseUrl) {
  auto verified = VerifyAll(Sign(TestKey(Algorithm::kEdDSA), ValidClaims()).value());
  ASSERT_TRUE(verified.has_value());
  EXPECT_EQ(verified->at("iss").as_string(), kIssuer);
}

}  // namespace
}  // namespace sessiond::jwt
