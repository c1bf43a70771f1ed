#include "token/session_token.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "crypto/crypto.h"
#include "testing/fake_random.h"

namespace sessiond::token {
namespace {

using std::string_view_literals::operator""sv;

class SodiumEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { ASSERT_TRUE(crypto::Init()); }
};
[[maybe_unused]] ::testing::Environment* const kSodiumEnvironment =
    ::testing::AddGlobalTestEnvironment(new SodiumEnvironment);

constexpr std::string_view kSecret = "sessiond-test-secret-at-least-32-chars!";

// Yields 0, 1, 2, ... so the expected token can be computed by hand.
class CountingRandom final : public Random {
 public:
  void Fill(std::span<std::uint8_t> out) override {
    for (auto& b : out) b = next_++;
  }

 private:
  std::uint8_t next_ = 0;
};

bool IsBase64UrlChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

TEST(NewSessionTokenTest, LengthAndAlphabet) {
  testing::FakeRandom random;
  for (int i = 0; i < 100; ++i) {
    const std::string token = NewSessionToken(random);
    ASSERT_EQ(token.size(), kTokenLength);
    for (const char c : token) EXPECT_TRUE(IsBase64UrlChar(c)) << token;
  }
}

TEST(NewSessionTokenTest, EncodesThirtyTwoRandomBytes) {
  CountingRandom random;
  // base64url(00 01 .. 1f) without padding (python3 base64.urlsafe_b64encode).
  EXPECT_EQ(NewSessionToken(random), "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8");
}

TEST(NewSessionTokenTest, Distinct) {
  testing::FakeRandom fake;
  crypto::SodiumRandom sodium;
  std::set<std::string> tokens;
  for (int i = 0; i < 500; ++i) {
    tokens.insert(NewSessionToken(fake));
    tokens.insert(NewSessionToken(sodium));
  }
  EXPECT_EQ(tokens.size(), 1000u);
}

TEST(NewSessionTokenTest, DeterministicForSameSeed) {
  testing::FakeRandom a(42);
  testing::FakeRandom b(42);
  EXPECT_EQ(NewSessionToken(a), NewSessionToken(b));
}

TEST(HashSessionTokenTest, LowerHexAndStable) {
  const std::string token = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
  const std::string hash = HashSessionToken(token);
  ASSERT_EQ(hash.size(), 64u);
  for (const char c : hash) {
    EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << hash;
  }
  EXPECT_EQ(HashSessionToken(token), hash);
  // `printf %s TOKEN | sha256sum`.
  EXPECT_EQ(hash, "ea866a757e4c38babfa8127cbe9a409d3e1f93a00ff1488ff735fcf917afffd0");
  EXPECT_NE(HashSessionToken("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9"), hash);
}

TEST(TokenSignerTest, SignVerifyRoundTrip) {
  testing::FakeRandom random;
  const TokenSigner signer{std::string(kSecret)};
  for (int i = 0; i < 50; ++i) {
    const std::string token = NewSessionToken(random);
    EXPECT_EQ(signer.Verify(signer.Sign(token)), token);
  }
}

TEST(TokenSignerTest, SignedShape) {
  testing::FakeRandom random;
  const TokenSigner signer{std::string(kSecret)};
  const std::string token = NewSessionToken(random);
  const std::string signed_value = signer.Sign(token);
  ASSERT_EQ(signed_value.size(), kTokenLength + 1 + 44);
  EXPECT_TRUE(signed_value.starts_with(token + "."));
  const std::string_view signature = std::string_view(signed_value).substr(kTokenLength + 1);
  EXPECT_EQ(signature.size(), 44u);
  EXPECT_TRUE(signature.ends_with("="));
  EXPECT_FALSE(signature.ends_with("=="));
}

// Cross-check against independent implementations of better-call's signCookieValue:
//   printf %s TOKEN | openssl dgst -sha256 -hmac KEY -binary | base64
// and WebCrypto HMAC + btoa in Node, both giving the same value.
TEST(TokenSignerTest, MatchesBetterCallSignature) {
  const TokenSigner signer{std::string(kSecret)};
  constexpr std::string_view kToken = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
  constexpr std::string_view kSigned =
      "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8.ThoqJFnqb9qLLH727JZTc6Bu7ubJLf4U77CCog6YXZs=";
  EXPECT_EQ(signer.Sign(kToken), kSigned);
  EXPECT_EQ(signer.Verify(kSigned), std::string(kToken));
}

class TokenSignerRejectTest : public ::testing::Test {
 protected:
  TokenSignerRejectTest() : signer_(std::string(kSecret)) {
    testing::FakeRandom random(7);
    token_ = NewSessionToken(random);
    signed_ = signer_.Sign(token_);
  }

  // Flips one character to another of the same alphabet class.
  static std::string Tamper(std::string s, std::size_t pos) {
    s[pos] = s[pos] == 'A' ? 'B' : 'A';
    return s;
  }

  TokenSigner signer_;
  std::string token_;
  std::string signed_;
};

TEST_F(TokenSignerRejectTest, TamperedSignature) {
  for (std::size_t pos = kTokenLength + 1; pos < signed_.size() - 1; ++pos) {
    EXPECT_EQ(signer_.Verify(Tamper(signed_, pos)), std::nullopt) << pos;
  }
  // Same bytes, non-canonical encoding: the last data char carries 2 unused bits.
  std::string non_canonical = signed_;
  char& last = non_canonical[non_canonical.size() - 2];
  last = static_cast<char>(last ^ 1);
  EXPECT_EQ(signer_.Verify(non_canonical), std::nullopt);
}

TEST_F(TokenSignerRejectTest, TamperedToken) {
  for (std::size_t pos = 0; pos < kTokenLength; ++pos) {
    EXPECT_EQ(signer_.Verify(Tamper(signed_, pos)), std::nullopt) << pos;
  }
}

TEST_F(TokenSignerRejectTest, OtherSecret) {
  const TokenSigner other{std::string(kSecret) + "x"};
  EXPECT_EQ(other.Verify(signed_), std::nullopt);
  EXPECT_EQ(signer_.Verify(other.Sign(token_)), std::nullopt);
  const TokenSigner empty{std::string()};
  EXPECT_EQ(signer_.Verify(empty.Sign(token_)), std::nullopt);
}

TEST_F(TokenSignerRejectTest, MissingDot) {
  std::string no_dot = signed_;
  no_dot.erase(kTokenLength, 1);
  EXPECT_EQ(signer_.Verify(no_dot), std::nullopt);
  EXPECT_EQ(signer_.Verify(token_), std::nullopt);
}

TEST_F(TokenSignerRejectTest, EmptyAndDegenerate) {
  for (const std::string_view bad : {""sv, "."sv, ".."sv, "a."sv, ".a"sv, "\0"sv}) {
    EXPECT_EQ(signer_.Verify(bad), std::nullopt) << bad;
  }
  // Only the signature part.
  EXPECT_EQ(signer_.Verify(std::string_view(signed_).substr(kTokenLength)), std::nullopt);
}

TEST_F(TokenSignerRejectTest, TokenOfWrongLengthEvenIfSigned) {
  // Correctly signed under the same secret, but not the shape of a session token.
  for (const std::string& bad_token :
       {token_.substr(0, kTokenLength - 1), token_ + "A", std::string(), std::string(200, 'A')}) {
    EXPECT_EQ(signer_.Verify(signer_.Sign(bad_token)), std::nullopt) << bad_token;
  }
}

TEST_F(TokenSignerRejectTest, TokenOutsideAlphabetEvenIfSigned) {
  for (const char c : {'.', '+', '/', '=', ' ', '%', '\0', '\n', '\x80'}) {
    std::string bad_token = token_;
    bad_token[10] = c;
    EXPECT_EQ(signer_.Verify(signer_.Sign(bad_token)), std::nullopt) << static_cast<int>(c);
  }
}

TEST_F(TokenSignerRejectTest, SignatureOfWrongLength) {
  EXPECT_EQ(signer_.Verify(signed_.substr(0, signed_.size() - 1)), std::nullopt);
  EXPECT_EQ(signer_.Verify(signed_ + "="), std::nullopt);
  EXPECT_EQ(signer_.Verify(token_ + "."), std::nullopt);
  // The signature without padding (43 chars) is not accepted either.
  std::string unpadded = signed_;
  unpadded.pop_back();
  EXPECT_EQ(signer_.Verify(unpadded), std::nullopt);
}

TEST_F(TokenSignerRejectTest, TrailingGarbage) {
  for (const std::string_view suffix : {"x"sv, " "sv, "\n"sv, "\0"sv, ".x"sv, ";"sv, "."sv}) {
    EXPECT_EQ(signer_.Verify(signed_ + std::string(suffix)), std::nullopt) << suffix;
  }
  // Leading garbage and a doubled value.
  EXPECT_EQ(signer_.Verify(" " + signed_), std::nullopt);
  EXPECT_EQ(signer_.Verify("x." + signed_), std::nullopt);
  EXPECT_EQ(signer_.Verify(signed_ + "." + signed_), std::nullopt);
}

TEST_F(TokenSignerRejectTest, UrlEncodedSignatureIsNotDecodedHere) {
  // Cookie values arrive percent-encoded ('=' as %3D); decoding is the HTTP layer's job.
  std::string encoded = signed_;
  encoded.replace(encoded.size() - 1, 1, "%3D");
  EXPECT_EQ(signer_.Verify(encoded), std::nullopt);
}

}  // namespace
}  // namespace sessiond::token
