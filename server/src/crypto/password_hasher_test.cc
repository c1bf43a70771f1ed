#include "crypto/password_hasher.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "crypto/crypto.h"

namespace sessiond::crypto {
namespace {

using std::string_view_literals::operator""sv;

class SodiumEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { ASSERT_TRUE(Init()); }
};
[[maybe_unused]] ::testing::Environment* const kSodiumEnvironment =
    ::testing::AddGlobalTestEnvironment(new SodiumEnvironment);

// libsodium's floor for argon2id (crypto_pwhash_argon2id_MEMLIMIT_MIN = 8 KiB,
// OPSLIMIT_MIN = 1): fast enough to hash freely in tests. Never use in production.
constexpr Argon2Params kFastParams{.memory_kib = 8, .iterations = 1};

std::string MustHash(const PasswordHasher& hasher, std::string_view password) {
  Result<std::string> hash = hasher.Hash(password);
  EXPECT_TRUE(hash.has_value()) << hash.error().detail;
  return hash.value_or("");
}

TEST(PasswordHasherTest, DefaultsAreOwaspFloor) {
  const Argon2Params params;
  EXPECT_EQ(params.memory_kib, 19456u);
  EXPECT_EQ(params.iterations, 2u);
}

TEST(PasswordHasherTest, RoundTrip) {
  const PasswordHasher hasher(kFastParams);
  const std::string hash = MustHash(hasher, "correct horse battery staple");
  EXPECT_TRUE(hasher.Verify(hash, "correct horse battery staple"));
}

TEST(PasswordHasherTest, WrongPasswordFails) {
  const PasswordHasher hasher(kFastParams);
  const std::string hash = MustHash(hasher, "correct horse battery staple");
  EXPECT_FALSE(hasher.Verify(hash, "correct horse battery stapl"));
  EXPECT_FALSE(hasher.Verify(hash, "Correct horse battery staple"));
  EXPECT_FALSE(hasher.Verify(hash, ""));
}

TEST(PasswordHasherTest, PhcStringFormat) {
  const PasswordHasher hasher(kFastParams);
  const std::string hash = MustHash(hasher, "pw");
  EXPECT_TRUE(hash.starts_with("$argon2id$v=19$m=8,t=1,p=1$")) << hash;
}

TEST(PasswordHasherTest, EmbeddedNulIsNotTruncated) {
  const PasswordHasher hasher(kFastParams);
  const std::string hash = MustHash(hasher, "abc\0def"sv);
  EXPECT_TRUE(hasher.Verify(hash, "abc\0def"sv));
  EXPECT_FALSE(hasher.Verify(hash, "abc"sv));
  EXPECT_FALSE(hasher.Verify(hash, "abc\0"sv));
  EXPECT_FALSE(hasher.Verify(hash, "abc\0deg"sv));
}

TEST(PasswordHasherTest, LongPasswordIsNotTruncated) {
  const PasswordHasher hasher(kFastParams);
  const std::string long_password(1000, 'x');
  const std::string hash = MustHash(hasher, long_password);
  EXPECT_TRUE(hasher.Verify(hash, long_password));
  EXPECT_FALSE(hasher.Verify(hash, long_password.substr(0, 999)));
  EXPECT_FALSE(hasher.Verify(hash, std::string(72, 'x')));  // bcrypt's cut-off.
  EXPECT_FALSE(hasher.Verify(hash, long_password + "x"));
}

TEST(PasswordHasherTest, EmptyPasswordHashes) {
  const PasswordHasher hasher(kFastParams);
  const std::string hash = MustHash(hasher, "");
  EXPECT_TRUE(hasher.Verify(hash, ""));
  EXPECT_FALSE(hasher.Verify(hash, "\0"sv));
}

TEST(PasswordHasherTest, SaltMakesHashesDiffer) {
  const PasswordHasher hasher(kFastParams);
  const std::string a = MustHash(hasher, "same password");
  const std::string b = MustHash(hasher, "same password");
  EXPECT_NE(a, b);
  EXPECT_TRUE(hasher.Verify(a, "same password"));
  EXPECT_TRUE(hasher.Verify(b, "same password"));
}

TEST(PasswordHasherTest, VerifiesStoredHash) {
  // Made earlier by libsodium 1.0.18's crypto_pwhash_str_alg (ALG_ARGON2ID13, t=1, 8 KiB):
  // hashes already in a database must keep verifying.
  constexpr std::string_view kStored =
      "$argon2id$v=19$m=8,t=1,p=1$B/gci/JBQ81L/c3WkiHf8A$a2ADYgQcZLAQC9w1KLl/h67iIyLulXypM789HeweY/"
      "M";
  const PasswordHasher hasher(kFastParams);
  EXPECT_TRUE(hasher.Verify(kStored, "password"));
  EXPECT_FALSE(hasher.Verify(kStored, "Password"));
  EXPECT_FALSE(hasher.NeedsRehash(kStored));
}

TEST(PasswordHasherTest, RejectsArgon2i) {
  // A valid argon2i hash of "password" (libsodium, t=3, 8 KiB). libsodium's generic
  // crypto_pwhash_str_verify accepts it; sessiond must not.
  constexpr std::string_view kArgon2i =
      "$argon2i$v=19$m=8,t=3,p=1$LqIhNNFE0y267ELKMrWwSA$"
      "TDgAod30vkXXMz0HJGLRVDXYGkwFQSrIDaYOLKoLASA";
  const PasswordHasher hasher(kFastParams);
  EXPECT_FALSE(hasher.Verify(kArgon2i, "password"));
  EXPECT_TRUE(hasher.NeedsRehash(kArgon2i));
}

TEST(PasswordHasherTest, GarbageFailsWithoutCrashing) {
  const PasswordHasher hasher(kFastParams);
  const std::string good = MustHash(hasher, "password");
  const std::string huge = "$argon2id$" + std::string(10000, 'A');
  for (
      const std::string_view bad : {
          ""sv,
          "password"sv,
          "$"sv,
          "$argon2id"sv,
          "$argon2id$"sv,
          "$argon2id$v=19$"sv,
          "$argon2id$v=19$m=8,t=1,p=1$"sv,
          "$argon2id$v=19$m=8,t=1,p=1$$"sv,
          "$argon2id$v=19$m=8,t=1,p=1$AAAA$BBBB"sv,
          "$argon2id$v=18$m=8,t=1,p=1$B/gci/JBQ81L/c3WkiHf8A$a2ADYgQcZLAQC9w1KLl/h67iIyLulXypM789HeweY/M"sv,
          "$argon2id$v=19$m=8,t=0,p=1$B/gci/JBQ81L/c3WkiHf8A$a2ADYgQcZLAQC9w1KLl/h67iIyLulXypM789HeweY/M"sv,
          "$argon2id$v=19$m=8,t=1,p=2$B/gci/JBQ81L/c3WkiHf8A$a2ADYgQcZLAQC9w1KLl/h67iIyLulXypM789HeweY/M"sv,
          "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"sv,  // bcrypt.
          std::string_view(huge),
      }) {
    EXPECT_FALSE(hasher.Verify(bad, "password")) << bad;
    EXPECT_TRUE(hasher.NeedsRehash(bad)) << bad;
  }
  // A shortened tag may still parse (as a shorter argon2 output) but never verifies.
  EXPECT_FALSE(hasher.Verify(std::string_view(good).substr(0, good.size() - 4), "password"));
  EXPECT_FALSE(hasher.Verify(std::string_view(good).substr(0, good.size() - 1), "password"));
}

TEST(PasswordHasherTest, EmbeddedNulInHashIsRejected) {
  const PasswordHasher hasher(kFastParams);
  const std::string good = MustHash(hasher, "password");
  std::string with_junk = good;
  with_junk.push_back('\0');
  with_junk.append("junk");
  EXPECT_FALSE(hasher.Verify(with_junk, "password"));
  EXPECT_TRUE(hasher.NeedsRehash(with_junk));
}

TEST(PasswordHasherTest, NeedsRehash) {
  const PasswordHasher weak(kFastParams);
  const PasswordHasher stronger_memory(Argon2Params{.memory_kib = 16, .iterations = 1});
  const PasswordHasher stronger_time(Argon2Params{.memory_kib = 8, .iterations = 2});
  const std::string hash = MustHash(weak, "password");
  EXPECT_FALSE(weak.NeedsRehash(hash));
  EXPECT_TRUE(stronger_memory.NeedsRehash(hash));
  EXPECT_TRUE(stronger_time.NeedsRehash(hash));
  // A hash with other parameters still verifies; the caller then re-hashes.
  EXPECT_TRUE(stronger_memory.Verify(hash, "password"));
}

TEST(PasswordHasherTest, InvalidParamsFailWithInternal) {
  // Below libsodium's floors (8 KiB, t = 1): Hash reports kInternal instead of crashing.
  const PasswordHasher too_little_memory(Argon2Params{.memory_kib = 1, .iterations = 1});
  const Result<std::string> a = too_little_memory.Hash("password");
  ASSERT_FALSE(a.has_value());
  EXPECT_EQ(a.error().code, ErrorCode::kInternal);
  EXPECT_EQ(a.error().detail.find("password"), std::string::npos);  // No secret in logs.

  const PasswordHasher zero_iterations(Argon2Params{.memory_kib = 8, .iterations = 0});
  const Result<std::string> b = zero_iterations.Hash("password");
  ASSERT_FALSE(b.has_value());
  EXPECT_EQ(b.error().code, ErrorCode::kInternal);
}

// The production parameters once (~20 MiB, a few tens of milliseconds).
TEST(PasswordHasherTest, DefaultOwaspParams) {
  const PasswordHasher hasher(Argon2Params{});
  const std::string hash = MustHash(hasher, "correct horse battery staple");
  EXPECT_TRUE(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$")) << hash;
  EXPECT_TRUE(hasher.Verify(hash, "correct horse battery staple"));
  EXPECT_FALSE(hasher.Verify(hash, "correct horse battery stapler"));
  EXPECT_FALSE(hasher.NeedsRehash(hash));
  EXPECT_TRUE(PasswordHasher(kFastParams).NeedsRehash(hash));
}

}  // namespace
}  // namespace sessiond::crypto
