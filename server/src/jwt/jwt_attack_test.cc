// The JWT attack suite: every token here must be rejected, each for its documented reason.
#include "jwt/jws.h"

#include <gtest/gtest.h>

#include <openssl/bio.h>
#include <openssl/pem.h>

#include <boost/json/serialize.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "crypto/crypto.h"
#include "jwt/jwt_test_util.h"
#include "jwt/key_material.h"
#include "testing/fake_random.h"

namespace sessiond::jwt {
namespace {

using testutil::B64;
using testutil::Forge;
using testutil::HeaderJson;
using testutil::Json;
using testutil::kNow;
using testutil::Reason;
using testutil::TestKey;
using testutil::ValidClaims;
using testutil::VerifyAll;

std::string Hs256(std::string_view secret, std::string_view input) {
  const crypto::Sha256Digest mac = crypto::HmacSha256(secret, input);
  return B64({reinterpret_cast<const char*>(mac.data()), mac.size()});
}

// "<b64 header>.<b64 payload>.<b64 HMAC-SHA256(secret)>": how an attacker signs HS256.
std::string Hs256Token(std::string_view header, std::string_view payload, std::string_view secret) {
  const std::string input = B64(header) + "." + B64(payload);
  return input + "." + Hs256(secret, input);
}

std::string PublicKeyPem(const Key& key) {
  BIO* bio = BIO_new(BIO_s_mem());
  EXPECT_EQ(PEM_write_bio_PUBKEY(bio, key.material().pkey.get()), 1);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  return pem;
}

std::string Header(std::string_view alg, std::string_view kid) {
  return R"({"alg":")" + std::string(alg) + R"(","kid":")" + std::string(kid) + R"(","typ":"JWT"})";
}

// Replaces the character at `i` with another base64url character.
std::string Flip(std::string token, std::size_t i) {
  token[i] = token[i] == 'A' ? 'B' : 'A';
  return token;
}

TEST(JwtAttackTest, AlgNoneIsNeverAccepted) {
  const std::string payload = Json(ValidClaims());
  const Key& hs = TestKey(Algorithm::kHS256);
  for (const std::string_view none : {"none", "None", "NONE", "nOnE"}) {
    for (const std::string& header :
         {R"({"alg":")" + std::string(none) + R"("})", Header(none, hs.kid())}) {
      const std::string unsigned_token = B64(header) + "." + B64(payload) + ".";
      EXPECT_EQ(Reason(VerifyAll(unsigned_token)), VerifyError::kMalformed) << header;
      // With a signature, even a valid HMAC by a real key of the set.
      EXPECT_EQ(Reason(VerifyAll(unsigned_token + "c2ln")), VerifyError::kBadAlgorithm) << header;
      EXPECT_EQ(Reason(VerifyAll(Forge(hs, header, payload))), VerifyError::kBadAlgorithm)
          << header;
    }
  }
  // Two segments (the unsecured JWS without its trailing dot).
  EXPECT_EQ(Reason(VerifyAll(B64(R"({"alg":"none"})") + "." + B64(payload))),
            VerifyError::kMalformed);
}

// The classic confusion: an RS256/EdDSA/ES256 key's public bytes used as an HS256 secret.
TEST(JwtAttackTest, HmacSignedWithThePublicKeyIsRejected) {
  const std::string payload = Json(ValidClaims());
  for (const Algorithm algorithm : {Algorithm::kEdDSA, Algorithm::kES256, Algorithm::kRS256}) {
    const Key& key = TestKey(algorithm);
    const boost::json::object jwk = key.PublicJwk().value();
    std::vector<std::string> secrets = {PublicKeyPem(key), boost::json::serialize(jwk)};
    if (algorithm == Algorithm::kEdDSA) {
      secrets.push_back(crypto::Base64UrlDecode(jwk.at("x").as_string()).value());
    }
    for (const std::string& secret : secrets) {
      for (const std::string_view alg : {"HS256", "HS384", "HS512"}) {
        const std::string token = Hs256Token(Header(alg, key.kid()), payload, secret);
        EXPECT_EQ(Reason(VerifyAll(token)), VerifyError::kBadAlgorithm) << AlgorithmName(algorithm);
      }
    }
  }
}

TEST(JwtAttackTest, HeaderAlgMustEqualTheKeysAlgorithm) {
  const std::string payload = Json(ValidClaims());
  for (const Algorithm key_alg : kAllAlgorithms) {
    for (const Algorithm header_alg : kAllAlgorithms) {
      if (key_alg == header_alg) continue;
      const Key& key = TestKey(key_alg);
      // Signed by the right key, header claims a different algorithm.
      const std::string token = Forge(key, Header(AlgorithmName(header_alg), key.kid()), payload);
      EXPECT_EQ(Reason(VerifyAll(token)), VerifyError::kBadAlgorithm)
          << AlgorithmName(header_alg) << " with a " << AlgorithmName(key_alg) << " key";
    }
  }
}

TEST(JwtAttackTest, MissingUnknownAndHostileKids) {
  const Key& key = TestKey(Algorithm::kEdDSA);
  const std::string payload = Json(ValidClaims());
  const std::vector<std::string> headers = {
      R"({"alg":"EdDSA"})",
      Header("EdDSA", "unknown"),
      Header("EdDSA", ""),
      Header("EdDSA", "../../etc/passwd"),
      Header("EdDSA", "' OR 1=1 --"),
      Header("EdDSA", std::string(2000, 'k')),
      Header("EdDSA", key.kid() + " "),
      Header("EdDSA", key.kid() + "\\u0000"),
      Header("EdDSA", key.kid().substr(1)),
      R"({"alg":"EdDSA","kid":123})",
      R"({"alg":"EdDSA","kid":null})",
      R"({"alg":"EdDSA","kid":true})",
      R"({"alg":"EdDSA","kid":{"kid":")" + key.kid() + R"("}})",
      R"({"alg":"EdDSA","kid":[")" + key.kid() + R"("]})",
  };
  for (const std::string& header : headers) {
    EXPECT_EQ(Reason(VerifyAll(Forge(key, header, payload))), VerifyError::kUnknownKid) << header;
  }
}

// CVE-2018-0114 style: the token carries its own key. Keys come only from the server's set.
TEST(JwtAttackTest, EmbeddedKeysAreIgnored) {
  testing::FakeRandom random(666);
  const Key attacker = Key::Generate(Algorithm::kEdDSA, random, kNow).value();
  const std::string payload = Json(ValidClaims());
  const std::string jwk = boost::json::serialize(attacker.PublicJwk().value());
  const std::string with_own_kid =
      R"({"alg":"EdDSA","kid":")" + attacker.kid() + R"(","jwk":)" + jwk + "}";
  EXPECT_EQ(Reason(VerifyAll(Forge(attacker, with_own_kid, payload))), VerifyError::kUnknownKid);
  const std::string with_victim_kid = R"({"alg":"EdDSA","kid":")" +
                                      TestKey(Algorithm::kEdDSA).kid() + R"(","jwk":)" + jwk +
                                      R"(,"jku":"https://evil.example/jwks"})";
  EXPECT_EQ(Reason(VerifyAll(Forge(attacker, with_victim_kid, payload))),
            VerifyError::kBadSignature);
}

TEST(JwtAttackTest, CritHeadersAreRejected) {
  const Key& key = TestKey(Algorithm::kES256);
  const std::string header =
      R"({"alg":"ES256","kid":")" + key.kid() + R"(","crit":["b64"],"b64":false})";
  EXPECT_EQ(Reason(VerifyAll(Forge(key, header, Json(ValidClaims())))),
            VerifyError::kCriticalHeader);
}

TEST(JwtAttackTest, ExpiryHonoursLeewayExactly) {
  const std::string token = Sign(TestKey(Algorithm::kEdDSA), ValidClaims()).value();
  const TimePoint exp = kNow + std::chrono::minutes(15);
  const auto leeway = std::chrono::seconds(30);
  EXPECT_TRUE(VerifyAll(token, exp + leeway - std::chrono::milliseconds(1)).has_value());
  EXPECT_EQ(Reason(VerifyAll(token, exp + leeway)), VerifyError::kExpired);
  EXPECT_EQ(Reason(VerifyAll(token, exp + std::chrono::hours(24))), VerifyError::kExpired);
  VerifyOptions strict = testutil::AllowAll();
  strict.leeway = std::chrono::seconds(0);
  EXPECT_TRUE(VerifyAll(token, exp - std::chrono::milliseconds(1), strict).has_value());
  EXPECT_EQ(Reason(VerifyAll(token, exp, strict)), VerifyError::kExpired);
}

TEST(JwtAttackTest, NotYetValid) {
  const Key& key = TestKey(Algorithm::kHS256);
  boost::json::object claims = ValidClaims();
  claims["nbf"] = claims.at("iat").as_int64() + 31;
  EXPECT_EQ(Reason(VerifyAll(Sign(key, claims).value())), VerifyError::kNotYetValid);
  claims["nbf"] = claims.at("iat").as_int64() + 30;  // Within leeway.
  EXPECT_TRUE(VerifyAll(Sign(key, claims).value()).has_value());
  claims = ValidClaims(kNow + std::chrono::minutes(5));  // Issued in the future.
  EXPECT_EQ(Reason(VerifyAll(Sign(key, claims).value())), VerifyError::kNotYetValid);
}

TEST(JwtAttackTest, IssuerMustMatchExactly) {
  const Key& key = TestKey(Algorithm::kRS256);
  for (const boost::json::value& iss :
       {boost::json::value("http://evil.example"), boost::json::value("http://127.0.0.1:4100/"),
        boost::json::value("HTTP://127.0.0.1:4100"), boost::json::value(nullptr),
        boost::json::value(boost::json::array{"http://127.0.0.1:4100"})}) {
    boost::json::object claims = ValidClaims();
    claims["iss"] = iss;
    EXPECT_EQ(Reason(VerifyAll(Sign(key, claims).value())), VerifyError::kBadIssuer)
        << boost::json::serialize(iss);
  }
  boost::json::object claims = ValidClaims();
  claims.erase("iss");
  EXPECT_EQ(Reason(VerifyAll(Sign(key, claims).value())), VerifyError::kBadIssuer);
}

TEST(JwtAttackTest, AudienceStringOrArray) {
  const Key& key = TestKey(Algorithm::kEdDSA);
  boost::json::object claims = ValidClaims();
  claims["aud"] = boost::json::array{"other", testutil::kIssuer};
  EXPECT_TRUE(VerifyAll(Sign(key, claims).value()).has_value());
  for (const boost::json::value& aud :
       {boost::json::value("http://evil.example"), boost::json::value(boost::json::array{"other"}),
        boost::json::value(boost::json::array{}), boost::json::value(1),
        boost::json::value(boost::json::array{boost::json::array{testutil::kIssuer}})}) {
    claims["aud"] = aud;
    EXPECT_EQ(Reason(VerifyAll(Sign(key, claims).value())), VerifyError::kBadAudience)
        << boost::json::serialize(aud);
  }
  claims.erase("aud");
  EXPECT_EQ(Reason(VerifyAll(Sign(key, claims).value())), VerifyError::kBadAudience);
}

TEST(JwtAttackTest, AnyChangedCharacterBreaksTheSignature) {
  for (const Algorithm algorithm : kAllAlgorithms) {
    const std::string token = Sign(TestKey(algorithm), ValidClaims()).value();
    const std::size_t dot1 = token.find('.');
    const std::size_t dot2 = token.find('.', dot1 + 1);
    // One character in the middle of the payload, of the signature; and a truncated signature.
    EXPECT_EQ(Reason(VerifyAll(Flip(token, dot1 + 10))), VerifyError::kBadSignature);
    EXPECT_EQ(Reason(VerifyAll(Flip(token, dot2 + 10))), VerifyError::kBadSignature);
    const std::string signature = crypto::Base64UrlDecode(token.substr(dot2 + 1)).value();
    EXPECT_EQ(Reason(VerifyAll(token.substr(0, dot2 + 1) +
                               B64(signature.substr(0, signature.size() - 3)))),
              VerifyError::kBadSignature);
    // A signature from another token (valid signature, other content).
    boost::json::object other = ValidClaims();
    other["sub"] = "admin";
    const std::string other_token = Sign(TestKey(algorithm), other).value();
    const std::string forged = token.substr(0, dot2) + other_token.substr(other_token.rfind('.'));
    EXPECT_EQ(Reason(VerifyAll(forged)), VerifyError::kBadSignature) << AlgorithmName(algorithm);
  }
}

TEST(JwtAttackTest, WrongLengthSignatures) {
  for (const Algorithm algorithm : kAllAlgorithms) {
    const std::string token = Sign(TestKey(algorithm), ValidClaims()).value();
    const std::size_t dot2 = token.rfind('.');
    std::string signature = crypto::Base64UrlDecode(token.substr(dot2 + 1)).value();
    const std::string input = token.substr(0, dot2 + 1);
    EXPECT_EQ(Reason(VerifyAll(input + B64(std::string(1, '\0') + signature))),
              VerifyError::kBadSignature);
    EXPECT_EQ(Reason(VerifyAll(input + B64(signature + std::string(1, '\0')))),
              VerifyError::kBadSignature);
    EXPECT_EQ(Reason(VerifyAll(input + B64(std::string(signature.size(), '\0')))),
              VerifyError::kBadSignature);
    EXPECT_EQ(Reason(VerifyAll(input + B64("x"))), VerifyError::kBadSignature);
  }
}

TEST(JwtAttackTest, StrictBase64Url) {
  const std::string token = Sign(TestKey(Algorithm::kHS256), ValidClaims()).value();
  const std::size_t dot1 = token.find('.');
  const std::size_t dot2 = token.find('.', dot1 + 1);
  std::vector<std::string> bad = {
      token + "=",  // Padding.
      token + "==",
      token.substr(0, dot1) + "=" + token.substr(dot1),          // Padded header.
      token.substr(0, dot2 + 5) + "+" + token.substr(dot2 + 6),  // Base64 (not url) alphabet.
      token.substr(0, dot1 + 5) + "/" + token.substr(dot1 + 6),
      token.substr(0, dot1 + 5) + " " + token.substr(dot1 + 5),  // Whitespace.
      token.substr(0, dot1 + 5) + "\n" + token.substr(dot1 + 5),
      " " + token,
      token + "\n",
      token.substr(0, dot2 + 1) + "AA" + token.substr(dot2 + 1),  // 45 characters: 1 mod 4.
      token.substr(0, 10) + "%" + token.substr(11),
      token.substr(0, 10) + std::string(1, '\0') + token.substr(11),
  };
  // A non-canonical last character (unused low bits set): HS256 = 32 bytes = 43 chars, whose
  // last character carries 2 unused bits; "B" sets one when the canonical form ends in "A".
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string noncanonical = token;
  noncanonical.back() = kAlphabet[kAlphabet.find(noncanonical.back()) | 1];
  ASSERT_NE(noncanonical, token);
  bad.push_back(noncanonical);
  for (const std::string& t : bad) {
    EXPECT_EQ(Reason(VerifyAll(t)), VerifyError::kMalformed) << t;
  }
}

TEST(JwtAttackTest, WrongSegmentCounts) {
  const std::string token = Sign(TestKey(Algorithm::kEdDSA), ValidClaims()).value();
  const std::size_t dot1 = token.find('.');
  const std::size_t dot2 = token.find('.', dot1 + 1);
  for (const std::string& bad : {
           token + ".c2ln",
           token + ".",
           "." + token,
           token.substr(0, dot2),
           token.substr(0, dot1),
           token.substr(0, dot1 + 1) + "." + token.substr(dot2 + 1),  // Empty payload.
           token.substr(dot1),                                        // Empty header.
           token.substr(0, dot2 + 1),                                 // Empty signature.
           std::string(".."),
           std::string("."),
           std::string(""),
           // JWE compact form: five segments.
           token.substr(0, dot1) + ".a.b.c.d",
       }) {
    EXPECT_EQ(Reason(VerifyAll(bad)), VerifyError::kMalformed) << bad;
  }
}

TEST(JwtAttackTest, DuplicateClaimsAndHeaderParameters) {
  const Key& key = TestKey(Algorithm::kEdDSA);
  const std::string valid = Json(ValidClaims());
  const std::string body = valid.substr(1, valid.size() - 2);  // Members without the braces.
  for (const std::string& payload : {
           R"({"sub":"a","sub":"b",)" + body + "}",
           "{" + body + R"(,"sub":"admin"})",  // "sub" again after the real one.
           "{" + body + R"(,"exp":1})",        // Smuggled second exp.
           "{" + body + R"(,"s\u0075b":"admin"})",
           "{" + body + R"(,"x":{"role":"a","role":"admin"}})",
       }) {
    EXPECT_EQ(Reason(VerifyAll(Forge(key, HeaderJson(key), payload))), VerifyError::kDuplicateClaim)
        << payload;
  }
  const std::string dup_alg = R"({"alg":"none","alg":"EdDSA","kid":")" + key.kid() + R"("})";
  EXPECT_EQ(Reason(VerifyAll(Forge(key, dup_alg, valid))), VerifyError::kMalformed);
  const std::string dup_kid = R"({"alg":"EdDSA","kid":"x","kid":")" + key.kid() + R"("})";
  EXPECT_EQ(Reason(VerifyAll(Forge(key, dup_kid, valid))), VerifyError::kMalformed);
}

TEST(JwtAttackTest, NonObjectHeadersAndPayloads) {
  const Key& key = TestKey(Algorithm::kHS512);
  for (const std::string_view payload : {"[]", R"("claims")", "123", "null", "true", "not json",
                                         "{", R"({"exp":1}x)", "{\"sub\":\"\xff\"}"}) {
    EXPECT_EQ(Reason(VerifyAll(Forge(key, HeaderJson(key), payload))), VerifyError::kMalformed)
        << payload;
  }
  std::string deep = "{\"a\":" + std::string(64, '[') + std::string(64, ']') + "}";
  EXPECT_EQ(Reason(VerifyAll(Forge(key, HeaderJson(key), deep))), VerifyError::kMalformed);
  for (const std::string_view header : {"[]", R"("HS512")", "", "{}"}) {
    const auto reason = Reason(VerifyAll(Forge(key, header, Json(ValidClaims()))));
    EXPECT_TRUE(reason == VerifyError::kMalformed || reason == VerifyError::kBadAlgorithm)
        << header;
  }
}

TEST(JwtAttackTest, HugeTokensAreRejectedBeforeParsing) {
  const Key& key = TestKey(Algorithm::kEdDSA);
  boost::json::object claims = ValidClaims();
  claims["pad"] = std::string(kDefaultMaxTokenBytes, 'p');
  const std::string big = Sign(key, claims).value();
  EXPECT_EQ(Reason(VerifyAll(big)), VerifyError::kTooLarge);
  EXPECT_EQ(Reason(VerifyAll(std::string(1 << 20, 'A'))), VerifyError::kTooLarge);
  // The limit is configurable.
  VerifyOptions options = testutil::AllowAll();
  options.max_token_bytes = 64 * 1024;
  EXPECT_TRUE(VerifyAll(big, kNow, options).has_value());
}

}  // namespace
}  // namespace sessiond::jwt
