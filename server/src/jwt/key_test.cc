#include "jwt/key.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <set>
#include <string>
#include <string_view>

#include "crypto/crypto.h"
#include "jwt/jwt_test_util.h"
#include "jwt/signature.h"
#include "testing/fake_random.h"

namespace sessiond::jwt {
namespace {

using testutil::kNow;
using testutil::kServerSecret;
using testutil::TestKey;

std::set<std::string> MemberNames(const boost::json::object& o) {
  std::set<std::string> names;
  for (const auto& member : o) names.emplace(member.key());
  return names;
}

std::size_t DecodedSize(const boost::json::value& v) {
  return crypto::Base64UrlDecode(v.as_string()).value_or("").size();
}

class KeyPerAlgorithmTest : public ::testing::TestWithParam<Algorithm> {};
INSTANTIATE_TEST_SUITE_P(All, KeyPerAlgorithmTest, ::testing::ValuesIn(kAllAlgorithms),
                         [](const auto& param_info) {
                           return std::string(AlgorithmName(param_info.param));
                         });

TEST_P(KeyPerAlgorithmTest, GenerateBindsAlgorithmAndRandomKid) {
  const Key& key = TestKey(GetParam());
  EXPECT_EQ(key.algorithm(), GetParam());
  EXPECT_EQ(key.created_at(), kNow);
  EXPECT_TRUE(key.can_sign());
  EXPECT_FALSE(key.retired_at().has_value());
  EXPECT_EQ(key.kid().size(), 32u);  // 24 bytes, base64url.
  EXPECT_TRUE(crypto::Base64UrlDecode(key.kid()).has_value());
  // Kids come from the injected Random.
  testing::FakeRandom random(100 + static_cast<std::uint64_t>(GetParam()));
  std::array<std::uint8_t, 24> kid_bytes{};
  random.Fill(kid_bytes);
  EXPECT_EQ(key.kid(), crypto::Base64UrlEncode(kid_bytes));
}

TEST_P(KeyPerAlgorithmTest, SealUnsealRoundTrip) {
  const Key& key = TestKey(GetParam());
  const Key retired = key.Retired(kNow + std::chrono::minutes(1), kNow + std::chrono::minutes(17));
  auto sealed = retired.Seal(kServerSecret);
  ASSERT_TRUE(sealed.has_value()) << sealed.error().detail;
  auto restored = Key::Unseal(*sealed, kServerSecret);
  ASSERT_TRUE(restored.has_value()) << restored.error().detail;
  EXPECT_EQ(restored->kid(), key.kid());
  EXPECT_EQ(restored->algorithm(), key.algorithm());
  EXPECT_EQ(restored->created_at(), key.created_at());
  EXPECT_EQ(restored->retired_at(), retired.retired_at());
  EXPECT_EQ(restored->drop_after(), retired.drop_after());
  EXPECT_EQ(restored->PublicJwk(), key.PublicJwk());
  // Same private key: each verifies what the other signs.
  const std::string input = "header.payload";
  EXPECT_TRUE(VerifyBytes(key, input, SignBytes(*restored, input).value()));
  EXPECT_TRUE(VerifyBytes(*restored, input, SignBytes(key, input).value()));
}

TEST_P(KeyPerAlgorithmTest, UnsealWithWrongSecretFailsCleanly) {
  auto sealed = TestKey(GetParam()).Seal(kServerSecret);
  ASSERT_TRUE(sealed.has_value());
  auto restored = Key::Unseal(*sealed, "another-secret-that-is-also-32-chars-long");
  ASSERT_FALSE(restored.has_value());
  EXPECT_EQ(restored.error().code, ErrorCode::kInternal);
  EXPECT_NE(restored.error().detail.find("wrong server secret"), std::string::npos);
}

TEST_P(KeyPerAlgorithmTest, SealingIsRandomizedAndHidesTheSecret) {
  const Key& key = TestKey(GetParam());
  auto a = key.Seal(kServerSecret);
  auto b = key.Seal(kServerSecret);
  ASSERT_TRUE(a.has_value() && b.has_value());
  EXPECT_NE(*a, *b);  // Fresh nonce each time.
  const boost::json::object sealed = boost::json::parse(*a).as_object();
  EXPECT_EQ(MemberNames(sealed),
            (std::set<std::string>{"v", "kid", "alg", "created_at", "nonce", "box"}));
  EXPECT_EQ(sealed.at("alg").as_string(), AlgorithmName(GetParam()));
}

TEST(KeyTest, PublicJwksFollowRfc7517And7518And8037) {
  const auto ed = TestKey(Algorithm::kEdDSA).PublicJwk().value();
  EXPECT_EQ(MemberNames(ed), (std::set<std::string>{"kty", "crv", "x", "kid", "alg", "use"}));
  EXPECT_EQ(ed.at("kty").as_string(), "OKP");
  EXPECT_EQ(ed.at("crv").as_string(), "Ed25519");
  EXPECT_EQ(DecodedSize(ed.at("x")), 32u);
  EXPECT_EQ(ed.at("alg").as_string(), "EdDSA");
  EXPECT_EQ(ed.at("use").as_string(), "sig");
  EXPECT_EQ(ed.at("kid").as_string(), TestKey(Algorithm::kEdDSA).kid());

  const auto ec = TestKey(Algorithm::kES256).PublicJwk().value();
  EXPECT_EQ(MemberNames(ec), (std::set<std::string>{"kty", "crv", "x", "y", "kid", "alg", "use"}));
  EXPECT_EQ(ec.at("kty").as_string(), "EC");
  EXPECT_EQ(ec.at("crv").as_string(), "P-256");
  EXPECT_EQ(DecodedSize(ec.at("x")), 32u);  // Full-length coordinates (RFC 7518 §6.2.1.2).
  EXPECT_EQ(DecodedSize(ec.at("y")), 32u);
  EXPECT_EQ(ec.at("alg").as_string(), "ES256");

  const auto rsa = TestKey(Algorithm::kRS256).PublicJwk().value();
  EXPECT_EQ(MemberNames(rsa), (std::set<std::string>{"kty", "n", "e", "kid", "alg", "use"}));
  EXPECT_EQ(rsa.at("kty").as_string(), "RSA");
  const std::string n = crypto::Base64UrlDecode(rsa.at("n").as_string()).value();
  EXPECT_EQ(n.size(), 256u);
  EXPECT_NE(n[0], '\0');  // No leading zero octet (RFC 7518 §6.3.1.1).
  EXPECT_EQ(rsa.at("e").as_string(), "AQAB");
  EXPECT_EQ(rsa.at("alg").as_string(), "RS256");

  for (const Algorithm hs : {Algorithm::kHS256, Algorithm::kHS384, Algorithm::kHS512}) {
    EXPECT_FALSE(TestKey(hs).PublicJwk().has_value()) << AlgorithmName(hs);
  }
}

TEST(KeyTest, PublicJwkImportRoundTrip) {
  for (const Algorithm algorithm : {Algorithm::kEdDSA, Algorithm::kES256, Algorithm::kRS256}) {
    const Key& key = TestKey(algorithm);
    auto imported = Key::FromPublicJwk(key.PublicJwk().value());
    ASSERT_TRUE(imported.has_value()) << imported.error().detail;
    EXPECT_FALSE(imported->can_sign());
    EXPECT_EQ(imported->kid(), key.kid());
    EXPECT_EQ(imported->algorithm(), algorithm);
    EXPECT_EQ(imported->PublicJwk(), key.PublicJwk());
    EXPECT_TRUE(VerifyBytes(*imported, "in", SignBytes(key, "in").value()));
    EXPECT_FALSE(SignBytes(*imported, "in").has_value());
    EXPECT_FALSE(imported->Seal(kServerSecret).has_value());
  }
}

TEST(KeyTest, PublicJwkImportRejectsBadKeys) {
  const auto ed = TestKey(Algorithm::kEdDSA).PublicJwk().value();
  const auto ec = TestKey(Algorithm::kES256).PublicJwk().value();
  const auto rsa = TestKey(Algorithm::kRS256).PublicJwk().value();
  const auto with = [](boost::json::object o, std::string_view name, const auto& v) {
    o[name] = v;
    return o;
  };
  const auto without = [](boost::json::object o, std::string_view name) {
    o.erase(name);
    return o;
  };
  const std::string a32 = testutil::B64(std::string(32, '\x11'));
  std::string modulus_1024(128, '\x35');  // A 1024-bit "modulus" (top bit set).
  modulus_1024[0] = '\xC1';
  const std::string rsa1024 = testutil::B64(modulus_1024);
  for (const boost::json::object& jwk : {
           with(ed, "alg", "ES256"),  // Key type does not fit alg.
           with(ed, "alg", "HS256"),  // HMAC is never imported.
           with(ed, "alg", "none"),
           without(ed, "alg"),
           without(ed, "kid"),
           with(ed, "use", "enc"),
           with(ed, "d", a32),  // Private member.
           with(ed, "x", testutil::B64(std::string(31, 'x'))),
           with(ed, "crv", "Ed448"),
           with(ec, "x", a32),  // Point not on P-256.
           with(ec, "crv", "P-384"),
           without(ec, "y"),
           with(rsa, "alg", "ES256"),
           with(rsa, "n", rsa1024),  // Under 2048 bits.
           with(rsa, "p", a32),
           with(rsa, "n", "not base64!"),
       }) {
    EXPECT_FALSE(Key::FromPublicJwk(jwk).has_value()) << boost::json::serialize(jwk);
  }
}

TEST(KeyTest, SharedSecretKeys) {
  auto key = Key::FromSharedSecret(Algorithm::kHS256, std::string(32, 's'), "shared", kNow);
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(key->kid(), "shared");
  EXPECT_FALSE(key->PublicJwk().has_value());
  // RFC 7518 §3.2: at least the hash size.
  EXPECT_EQ(Key::FromSharedSecret(Algorithm::kHS256, std::string(31, 's'), "k", kNow).error().code,
            ErrorCode::kValidation);
  EXPECT_FALSE(Key::FromSharedSecret(Algorithm::kHS512, std::string(63, 's'), "k", kNow));
  EXPECT_FALSE(Key::FromSharedSecret(Algorithm::kEdDSA, std::string(64, 's'), "k", kNow));
  EXPECT_FALSE(Key::FromSharedSecret(Algorithm::kHS256, std::string(32, 's'), "", kNow));
  EXPECT_FALSE(
      Key::FromSharedSecret(Algorithm::kHS256, std::string(32, 's'), std::string(257, 'k'), kNow));
}

TEST(KeyTest, SealedHmacSecretIsNotInTheClear) {
  const std::string secret(32, 'Q');
  auto key = Key::FromSharedSecret(Algorithm::kHS256, secret, "shared", kNow);
  auto sealed = key->Seal(kServerSecret).value();
  EXPECT_EQ(sealed.find(secret), std::string::npos);
  EXPECT_EQ(sealed.find(testutil::B64(secret)), std::string::npos);
  EXPECT_EQ(sealed.find(crypto::Base64Encode(
                {reinterpret_cast<const std::uint8_t*>(secret.data()), secret.size()})),
            std::string::npos);
}

TEST(KeyTest, SealNeedsALongServerSecret) {
  EXPECT_EQ(TestKey(Algorithm::kEdDSA).Seal("short").error().code, ErrorCode::kValidation);
  auto sealed = TestKey(Algorithm::kEdDSA).Seal(kServerSecret).value();
  EXPECT_FALSE(Key::Unseal(sealed, "short").has_value());
}

TEST(KeyTest, UnsealRejectsTamperingAndGarbage) {
  const std::string sealed = TestKey(Algorithm::kRS256).Seal(kServerSecret).value();
  boost::json::object o = boost::json::parse(sealed).as_object();
  const auto edited = [&](std::string_view name, const auto& v) {
    boost::json::object copy = o;
    copy[name] = v;
    return boost::json::serialize(copy);
  };
  std::string flipped_box = std::string(o.at("box").as_string());
  flipped_box[10] = flipped_box[10] == 'A' ? 'B' : 'A';
  for (const std::string& bad : {
           edited("alg", "HS256"),  // Rebinding the key's algorithm.
           edited("kid", "other"),
           edited("created_at", 1),
           edited("retired_at", 1),
           edited("box", flipped_box),
           edited("nonce", testutil::B64(std::string(24, 'n'))),
           edited("nonce", "short"),
           edited("box", ""),
           sealed.substr(0, sealed.size() / 2),
           std::string(""),
           std::string("{}"),
           std::string("[]"),
           std::string("not json"),
           sealed + sealed,
       }) {
    auto restored = Key::Unseal(bad, kServerSecret);
    ASSERT_FALSE(restored.has_value()) << bad;
    EXPECT_EQ(restored.error().code, ErrorCode::kInternal);
  }
}

}  // namespace
}  // namespace sessiond::jwt
