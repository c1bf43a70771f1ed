#include "crypto/crypto.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sodium.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace sessiond::crypto {
namespace {

using ::testing::Each;
using ::testing::Eq;
using ::testing::Optional;

// libsodium must be initialised before any test in this binary runs.
class SodiumEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { ASSERT_TRUE(Init()); }
};
[[maybe_unused]] ::testing::Environment* const kSodiumEnvironment =
    ::testing::AddGlobalTestEnvironment(new SodiumEnvironment);

std::span<const std::uint8_t> AsBytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string HexOf(const Sha256Digest& digest) { return HexEncode(digest); }

TEST(InitTest, IsIdempotent) {
  EXPECT_TRUE(Init());
  EXPECT_TRUE(Init());
}

// FIPS 180-4 / NIST CSRC example values for SHA-256.
TEST(Sha256Test, FipsVectors) {
  EXPECT_EQ(HexOf(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HexOf(Sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(HexOf(Sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256Test, HashesEmbeddedNulBytes) {
  using std::string_view_literals::operator""sv;
  EXPECT_NE(Sha256("a\0b"sv), Sha256("a"sv));
  EXPECT_NE(Sha256("a\0b"sv), Sha256("ab"sv));
}

TEST(Sha256Test, RepeatedCallsAgree) {
  // The implementation reuses one context per thread; it must be fully reset between calls.
  const Sha256Digest first = Sha256("abc");
  (void)Sha256("something else entirely");
  EXPECT_EQ(Sha256("abc"), first);
}

TEST(Sha256Test, ThreadsAgree) {
  const Sha256Digest expected = Sha256("abc");
  std::vector<std::thread> threads;
  std::array<bool, 4> ok{};
  for (std::size_t i = 0; i < ok.size(); ++i) {
    threads.emplace_back([&ok, &expected, i] {
      bool all = true;
      for (int j = 0; j < 200; ++j) {
        all = all && Sha256("abc") == expected &&
              HmacSha256("Jefe", "what do ya want for nothing?") ==
                  HmacSha256("Jefe", "what do ya want for nothing?");
      }
      ok[i] = all;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_THAT(ok, Each(Eq(true)));
}

// RFC 4231 §4.2: test case 1.
TEST(HmacSha256Test, Rfc4231Case1) {
  const std::string key(20, '\x0b');
  EXPECT_EQ(HexOf(HmacSha256(key, "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

// RFC 4231 §4.3: test case 2 (key shorter than the output).
TEST(HmacSha256Test, Rfc4231Case2) {
  EXPECT_EQ(HexOf(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

// Keyed contexts are kept per key (more keys than the cache holds, interleaved, each reused,
// plus keys that are prefixes of each other and the empty key): every MAC must be the one a
// fresh HMAC computes. The reference is libsodium's independent HMAC-SHA256.
TEST(HmacSha256Test, ManyKeysInterleavedMatchAFreshHmac) {
  std::vector<std::string> keys = {"", "k", "k2", std::string(64, 'a'), std::string(65, 'a')};
  for (int i = 0; i < 20; ++i) keys.push_back("key-" + std::to_string(i));
  for (std::size_t round = 0; round < 3; ++round) {
    for (std::size_t k = 0; k < keys.size(); k += round + 1) {
      const std::string data = "message " + std::to_string(round) + "/" + std::to_string(k);
      std::array<std::uint8_t, 32> expected{};
      crypto_auth_hmacsha256_state state;
      crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(keys[k].data()),
                                  keys[k].size());
      crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(data.data()),
                                    data.size());
      crypto_auth_hmacsha256_final(&state, expected.data());
      EXPECT_EQ(HmacSha256(keys[k], data), expected) << "key #" << k << " round " << round;
    }
  }
}

// RFC 4231 §4.7: test case 6 (key longer than the block size is hashed first).
TEST(HmacSha256Test, Rfc4231Case6LongKey) {
  const std::string key(131, '\xaa');
  EXPECT_EQ(HexOf(HmacSha256(key, "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(HmacSha256Test, EmptyKeyIsTheEmptyKeyNotThePreviousOne) {
  // Computed with `printf '' | openssl dgst -sha256 -hmac ''`.
  (void)HmacSha256("Jefe", "warm the per-thread context with another key");
  EXPECT_EQ(HexOf(HmacSha256("", "")),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(HmacSha256Test, RekeysBetweenCalls) {
  const Sha256Digest a = HmacSha256("key-a", "data");
  const Sha256Digest b = HmacSha256("key-b", "data");
  EXPECT_NE(a, b);
  EXPECT_EQ(HmacSha256("key-a", "data"), a);
}

TEST(ConstantTimeEqualsTest, Equal) {
  EXPECT_TRUE(ConstantTimeEquals("signature", "signature"));
  using std::string_view_literals::operator""sv;
  EXPECT_TRUE(ConstantTimeEquals("a\0b"sv, "a\0b"sv));
}

TEST(ConstantTimeEqualsTest, Differ) {
  EXPECT_FALSE(ConstantTimeEquals("signature", "signaturf"));
  EXPECT_FALSE(ConstantTimeEquals("signature", "Signature"));
  using std::string_view_literals::operator""sv;
  EXPECT_FALSE(ConstantTimeEquals("a\0b"sv, "a\0c"sv));
}

TEST(ConstantTimeEqualsTest, DifferentLengths) {
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
  EXPECT_FALSE(ConstantTimeEquals("abcd", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("", "a"));
}

TEST(ConstantTimeEqualsTest, Empty) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals(std::string_view(), std::string_view()));
}

TEST(HexEncodeTest, LowerCase) {
  const std::array<std::uint8_t, 5> bytes = {0x00, 0x01, 0xab, 0xcd, 0xff};
  EXPECT_EQ(HexEncode(bytes), "0001abcdff");
  EXPECT_EQ(HexEncode({}), "");
}

// RFC 4648 §10 test vectors.
struct Rfc4648Vector {
  std::string_view plain;
  std::string_view base64;
  std::string_view base64url;  // §5 alphabet, padding removed.
};
constexpr std::array<Rfc4648Vector, 7> kRfc4648Vectors = {{
    {"", "", ""},
    {"f", "Zg==", "Zg"},
    {"fo", "Zm8=", "Zm8"},
    {"foo", "Zm9v", "Zm9v"},
    {"foob", "Zm9vYg==", "Zm9vYg"},
    {"fooba", "Zm9vYmE=", "Zm9vYmE"},
    {"foobar", "Zm9vYmFy", "Zm9vYmFy"},
}};

TEST(Base64Test, Rfc4648Vectors) {
  for (const auto& v : kRfc4648Vectors) {
    EXPECT_EQ(Base64Encode(AsBytes(v.plain)), v.base64) << v.plain;
    EXPECT_THAT(Base64Decode(v.base64), Optional(Eq(std::string(v.plain)))) << v.base64;
  }
}

TEST(Base64UrlTest, Rfc4648Vectors) {
  for (const auto& v : kRfc4648Vectors) {
    EXPECT_EQ(Base64UrlEncode(AsBytes(v.plain)), v.base64url) << v.plain;
    EXPECT_THAT(Base64UrlDecode(v.base64url), Optional(Eq(std::string(v.plain)))) << v.base64url;
  }
}

TEST(Base64Test, AlphabetsDiffer) {
  // 0xfb 0xff 0xbf exercises both alphabet-specific characters (RFC 4648 §4 vs §5).
  const std::array<std::uint8_t, 5> bytes = {0xfb, 0xff, 0xbf, 0xfb, 0xff};
  EXPECT_EQ(Base64Encode(bytes), "+/+/+/8=");
  EXPECT_EQ(Base64UrlEncode(bytes), "-_-_-_8");
}

TEST(Base64Test, RoundTripsAllByteValues) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (std::size_t len = 0; len <= all.size(); len += 17) {
    const std::string_view plain = std::string_view(all).substr(0, len);
    EXPECT_THAT(Base64Decode(Base64Encode(AsBytes(plain))), Optional(Eq(std::string(plain))));
    EXPECT_THAT(Base64UrlDecode(Base64UrlEncode(AsBytes(plain))), Optional(Eq(std::string(plain))));
  }
}

TEST(Base64Test, DecodeRejectsInvalidInput) {
  using std::string_view_literals::operator""sv;
  for (const std::string_view bad : {
           "Zg"sv,            // Missing padding.
           "Zg="sv,           // Short padding.
           "Zg==="sv,         // Extra padding.
           "Zm9v===="sv,      // Padding after a full quantum.
           "===="sv,          // Padding only.
           "Z"sv,             // A lone character cannot encode a byte.
           "Zh=="sv,          // Non-zero pad bits (non-canonical).
           "Zm9v!"sv,         // Outside the alphabet.
           "Zm9v YmFy"sv,     // Whitespace is not ignored.
           "Zm9v\n"sv,        // Neither is a trailing newline.
           "Zm9v\0"sv,        // Embedded NUL.
           "Zm9vYg==Zg=="sv,  // Trailing data after the padding.
           "Zm9vYg==x"sv,     // Trailing garbage.
           "-_8="sv,          // base64url alphabet.
       }) {
    EXPECT_EQ(Base64Decode(bad), std::nullopt) << bad;
  }
}

TEST(Base64UrlTest, DecodeRejectsInvalidInput) {
  using std::string_view_literals::operator""sv;
  for (const std::string_view bad : {
           "Zg=="sv,     // Padding is not part of the token form.
           "Zm8="sv,     // Ditto.
           "Z"sv,        // A lone character cannot encode a byte.
           "Zh"sv,       // Non-zero pad bits (non-canonical).
           "+/8"sv,      // Standard alphabet.
           "Zm9v."sv,    // '.' separates a token from its signature.
           "Zm9v "sv,    // Whitespace.
           "Zm9v\0"sv,   // Embedded NUL.
           "Zm9v%3D"sv,  // Still URL-encoded.
       }) {
    EXPECT_EQ(Base64UrlDecode(bad), std::nullopt) << bad;
  }
}

TEST(SodiumRandomTest, FillsWithDifferingOutput) {
  SodiumRandom random;
  std::array<std::uint8_t, 32> a{};
  std::array<std::uint8_t, 32> b{};
  random.Fill(a);
  random.Fill(b);
  EXPECT_NE(a, b);
  // 2^-256 chance of a false failure.
  EXPECT_NE(a, (std::array<std::uint8_t, 32>{}));
}

TEST(SodiumRandomTest, FillsEmptySpan) {
  SodiumRandom random;
  random.Fill({});
}

TEST(WipeTest, ZeroesContentsKeepsSize) {
  std::string secret = "a secret long enough to live on the heap, not in SSO";
  const std::size_t size = secret.size();
  Wipe(secret);
  ASSERT_EQ(secret.size(), size);
  EXPECT_THAT(secret, Each(Eq('\0')));

  std::string empty;
  Wipe(empty);
  EXPECT_TRUE(empty.empty());
}

}  // namespace
}  // namespace sessiond::crypto
