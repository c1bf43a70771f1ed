#include "jwt/key_set.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <boost/json/parse.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "jwt/jws.h"
#include "jwt/jwt_test_util.h"
#include "testing/fake_clock.h"
#include "testing/fake_random.h"

namespace sessiond::jwt {
namespace {

using testutil::AllowAll;
using testutil::kNow;
using testutil::kServerSecret;
using testutil::Reason;
using testutil::ValidClaims;

constexpr std::chrono::seconds kLifetime = std::chrono::minutes(15);

std::vector<std::string> JwksKids(const KeySet& keys) {
  std::vector<std::string> kids;
  const boost::json::object jwks = keys.Jwks();  // Outlives the loop (no dangling temporary).
  for (const auto& jwk : jwks.at("keys").as_array()) {
    kids.emplace_back(jwk.as_object().at("kid").as_string());
  }
  return kids;
}

TEST(KeySetTest, EmptySetSignsAndVerifiesNothing) {
  const KeySet keys;
  EXPECT_EQ(keys.Active(), nullptr);
  EXPECT_FALSE(keys.Sign(ValidClaims()).has_value());
  EXPECT_TRUE(keys.Jwks().at("keys").as_array().empty());
  const std::string token = Sign(testutil::TestKey(Algorithm::kEdDSA), ValidClaims()).value();
  EXPECT_EQ(Reason(Verify(token, keys, AllowAll(), kNow)), VerifyError::kUnknownKid);
}

TEST(KeySetTest, JwksListsPublicKeysOnly) {
  testing::FakeRandom random;
  auto keys = KeySet::Create(Algorithm::kRS256, random, kNow).value();
  ASSERT_TRUE(keys.Rotate(random, kNow, kLifetime, Algorithm::kES256));
  ASSERT_TRUE(keys.Rotate(random, kNow, kLifetime, Algorithm::kEdDSA));
  ASSERT_TRUE(keys.Rotate(random, kNow, kLifetime, Algorithm::kHS256));  // Never listed.
  const boost::json::object jwks = keys.Jwks();
  ASSERT_EQ(jwks.size(), 1u);
  const auto& list = jwks.at("keys").as_array();
  ASSERT_EQ(list.size(), 3u);
  std::set<std::string> algs;
  for (const auto& value : list) {
    const auto& jwk = value.as_object();
    algs.emplace(jwk.at("alg").as_string());
    EXPECT_EQ(jwk.at("use").as_string(), "sig");
    EXPECT_FALSE(jwk.at("kid").as_string().empty());
    for (const char* secret_member : {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}) {
      EXPECT_FALSE(jwk.contains(secret_member)) << secret_member;
    }
  }
  EXPECT_EQ(algs, (std::set<std::string>{"EdDSA", "ES256", "RS256"}));
}

TEST(KeySetTest, SharedSecretSetPublishesNothing) {
  auto key = Key::FromSharedSecret(Algorithm::kHS384, std::string(48, 'z'), "hs", kNow).value();
  const KeySet keys(key);
  EXPECT_TRUE(keys.Jwks().at("keys").as_array().empty());
  const std::string token = keys.Sign(ValidClaims()).value();
  EXPECT_TRUE(Verify(token, keys, AllowAll(), kNow).has_value());
}

// The issue's rotation story, on a fake clock.
TEST(KeySetTest, RetiredKeyVerifiesUntilPrunedAfterMaxLifetime) {
  testing::FakeClock clock(kNow);
  testing::FakeRandom random;
  auto keys = KeySet::Create(Algorithm::kEdDSA, random, clock.Now()).value();
  const std::string old_kid = keys.Active()->kid();
  const std::string old_token = keys.Sign(ValidClaims(clock.Now(), kLifetime)).value();

  clock.Advance(std::chrono::minutes(5));
  ASSERT_TRUE(keys.Rotate(random, clock.Now(), kLifetime));
  const TimePoint rotated_at = clock.Now();
  EXPECT_NE(keys.Active()->kid(), old_kid);
  EXPECT_EQ(keys.Active()->algorithm(), Algorithm::kEdDSA);
  const auto retired = keys.FindByKid(old_kid);
  ASSERT_NE(retired, nullptr);
  EXPECT_EQ(retired->retired_at(), rotated_at);
  EXPECT_EQ(retired->drop_after(), rotated_at + kLifetime + kRetirementGrace);
  EXPECT_EQ(JwksKids(keys), (std::vector<std::string>{keys.Active()->kid(), old_kid}));

  // New tokens use the new key; the old token still verifies.
  const std::string new_token = keys.Sign(ValidClaims(clock.Now(), kLifetime)).value();
  EXPECT_TRUE(Verify(new_token, keys, AllowAll(), clock.Now()).has_value());
  clock.Advance(std::chrono::minutes(9));
  EXPECT_TRUE(Verify(old_token, keys, AllowAll(), clock.Now()).has_value());

  // Kept until drop_after, even though the old token has expired by then.
  clock.Set(*retired->drop_after() - std::chrono::milliseconds(1));
  EXPECT_EQ(keys.Prune(clock.Now()), 0u);
  EXPECT_EQ(JwksKids(keys).size(), 2u);
  clock.Set(*retired->drop_after());
  EXPECT_EQ(keys.Prune(clock.Now()), 1u);
  EXPECT_EQ(JwksKids(keys), (std::vector<std::string>{keys.Active()->kid()}));
  EXPECT_EQ(keys.FindByKid(old_kid), nullptr);
  EXPECT_EQ(Reason(Verify(old_token, keys, AllowAll(), kNow)), VerifyError::kUnknownKid);
  // A verifier still holding the retired key keeps a valid object.
  EXPECT_EQ(retired->kid(), old_kid);
}

TEST(KeySetTest, RotateToAnotherAlgorithmAndFromEmpty) {
  testing::FakeRandom random;
  KeySet keys;
  EXPECT_EQ(keys.Rotate(random, kNow, kLifetime).error().code, ErrorCode::kValidation);
  ASSERT_TRUE(keys.Rotate(random, kNow, kLifetime, Algorithm::kES256));
  EXPECT_EQ(keys.Active()->algorithm(), Algorithm::kES256);
  EXPECT_EQ(keys.Keys().size(), 1u);  // Nothing to retire.
  ASSERT_TRUE(keys.Rotate(random, kNow, kLifetime, Algorithm::kEdDSA));
  EXPECT_EQ(keys.Active()->algorithm(), Algorithm::kEdDSA);
  EXPECT_EQ(keys.Keys().size(), 2u);
}

TEST(KeySetTest, RotateIfDue) {
  testing::FakeClock clock(kNow);
  testing::FakeRandom random;
  auto keys = KeySet::Create(Algorithm::kEdDSA, random, clock.Now()).value();
  const auto interval = std::chrono::hours(24);
  EXPECT_FALSE(keys.RotateIfDue(random, clock.Now(), std::chrono::seconds(0), kLifetime).value());
  clock.Advance(interval - std::chrono::milliseconds(1));
  EXPECT_FALSE(keys.RotateIfDue(random, clock.Now(), interval, kLifetime).value());
  clock.Advance(std::chrono::milliseconds(1));
  EXPECT_TRUE(keys.RotateIfDue(random, clock.Now(), interval, kLifetime).value());
  EXPECT_FALSE(keys.RotateIfDue(random, clock.Now(), interval, kLifetime).value());
  EXPECT_EQ(keys.Keys().size(), 2u);
  EXPECT_FALSE(KeySet().RotateIfDue(random, clock.Now(), interval, kLifetime).has_value());
}

// Readers sign and verify while the key set rotates and prunes under them. A token may lose
// its key between Sign and Verify (pruned: kUnknownKid); any other failure, or a crash under
// the sanitizers, is a bug.
TEST(KeySetTest, ConcurrentVerifyRotateAndPrune) {
  testing::FakeRandom random;
  auto keys = KeySet::Create(Algorithm::kEdDSA, random, kNow).value();
  std::atomic<bool> stop = false;
  std::atomic<int> verified = 0;
  std::atomic<int> unexpected = 0;
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!stop) {
        auto token = keys.Sign(ValidClaims());
        if (!token) {
          ++unexpected;
          continue;
        }
        auto result = Verify(*token, keys, AllowAll(), kNow);
        if (result) {
          ++verified;
        } else if (result.error().reason != VerifyError::kUnknownKid) {
          ++unexpected;
        }
        static_cast<void>(keys.Jwks());
      }
    });
  }
  const auto wait_for_verifications = [&](int at_least) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (verified.load() < at_least && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
  };
  wait_for_verifications(10);
  for (int i = 0; i < 20; ++i) {
    EXPECT_TRUE(keys.Rotate(random, kNow + std::chrono::seconds(i), std::chrono::seconds(0)));
    keys.Prune(kNow + std::chrono::hours(1));
  }
  wait_for_verifications(verified.load() + 10);
  stop = true;
  for (auto& reader : readers) reader.join();
  EXPECT_GE(verified.load(), 20);
  EXPECT_EQ(unexpected.load(), 0);
  EXPECT_EQ(keys.Keys().size(), 1u);
}

TEST(KeySetTest, SealAllUnsealAllRoundTrip) {
  testing::FakeRandom random;
  auto keys = KeySet::Create(Algorithm::kRS256, random, kNow).value();
  const std::string rs_token = keys.Sign(ValidClaims()).value();
  ASSERT_TRUE(keys.Rotate(random, kNow + std::chrono::seconds(1), kLifetime, Algorithm::kEdDSA));
  ASSERT_TRUE(keys.Rotate(random, kNow + std::chrono::seconds(2), kLifetime, Algorithm::kHS256));
  const std::string hs_token = keys.Sign(ValidClaims()).value();

  const std::vector<std::string> sealed = keys.SealAll(kServerSecret).value();
  ASSERT_EQ(sealed.size(), 3u);
  auto restored = KeySet::UnsealAll(sealed, kServerSecret);
  ASSERT_TRUE(restored.has_value()) << restored.error().detail;
  EXPECT_EQ(restored->Active()->kid(), keys.Active()->kid());
  EXPECT_EQ(restored->Jwks(), keys.Jwks());
  std::vector<std::string> before, after;
  for (const auto& k : keys.Keys()) before.push_back(k->kid());
  for (const auto& k : restored->Keys()) after.push_back(k->kid());
  EXPECT_EQ(before, after);  // Active first, then retired newest first.
  EXPECT_TRUE(Verify(rs_token, *restored, AllowAll(), kNow).has_value());
  EXPECT_TRUE(Verify(hs_token, *restored, AllowAll(), kNow).has_value());

  EXPECT_FALSE(KeySet::UnsealAll(sealed, "wrong-secret-but-long-enough-0123456789").has_value());
  const std::vector<std::string> twice = {sealed[0], sealed[0]};
  EXPECT_FALSE(KeySet::UnsealAll(twice, kServerSecret).has_value());
  const std::vector<std::string> retired_only = {sealed[1]};
  EXPECT_FALSE(KeySet::UnsealAll(retired_only, kServerSecret).has_value());
  auto other_active =
      KeySet::Create(Algorithm::kEdDSA, random, kNow).value().SealAll(kServerSecret).value();
  const std::vector<std::string> two_active = {sealed[0], other_active[0]};
  EXPECT_FALSE(KeySet::UnsealAll(two_active, kServerSecret).has_value());
  auto empty = KeySet::UnsealAll({}, kServerSecret);
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(empty->Active(), nullptr);
}

class KeySetFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sessiond-jwt-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(KeySetFileTest, SaveLoadRoundTripWithMode0600) {
  testing::FakeRandom random;
  auto keys = KeySet::Create(Algorithm::kES256, random, kNow).value();
  ASSERT_TRUE(keys.Rotate(random, kNow, kLifetime));
  const auto path = dir_ / "keys" / "jwt-keys.json";
  ASSERT_TRUE(keys.SaveToFile(path, kServerSecret));
  ASSERT_TRUE(keys.SaveToFile(path, kServerSecret));  // Replacing works too.

  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(std::filesystem::exists(path.string() + ".tmp"));

  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  const auto file = boost::json::parse(content.str()).as_object();
  EXPECT_EQ(file.at("version").as_int64(), 1);
  EXPECT_EQ(file.at("keys").as_array().size(), 2u);
  EXPECT_EQ(content.str().find("\"d\""), std::string::npos);

  auto loaded = KeySet::LoadFromFile(path, kServerSecret);
  ASSERT_TRUE(loaded.has_value()) << loaded.error().detail;
  EXPECT_EQ(loaded->Jwks(), keys.Jwks());
  EXPECT_EQ(loaded->Active()->kid(), keys.Active()->kid());

  auto wrong = KeySet::LoadFromFile(path, "wrong-secret-but-long-enough-0123456789");
  ASSERT_FALSE(wrong.has_value());
  EXPECT_EQ(wrong.error().code, ErrorCode::kInternal);
}

TEST_F(KeySetFileTest, LoadErrors) {
  EXPECT_EQ(KeySet::LoadFromFile(dir_ / "missing.json", kServerSecret).error().code,
            ErrorCode::kServiceUnavailable);
  std::filesystem::create_directories(dir_);
  for (const std::string_view content :
       {"", "garbage", "{}", R"({"version":2,"keys":[]})", R"({"version":1,"keys":[1]})",
        R"({"version":1,"keys":[{"kid":"x"}]})"}) {
    std::ofstream(dir_ / "bad.json") << content;
    EXPECT_EQ(KeySet::LoadFromFile(dir_ / "bad.json", kServerSecret).error().code,
              ErrorCode::kInternal)
        << content;
  }
}

TEST_F(KeySetFileTest, LoadOrCreateCreatesOnceThenLoads) {
  testing::FakeRandom random;
  const auto path = dir_ / "jwt-keys.json";
  auto first = KeySet::LoadOrCreateFile(path, kServerSecret, Algorithm::kEdDSA, random, kNow);
  ASSERT_TRUE(first.has_value()) << first.error().detail;
  EXPECT_TRUE(std::filesystem::exists(path));
  auto second = KeySet::LoadOrCreateFile(path, kServerSecret, Algorithm::kRS256, random, kNow);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->Active()->kid(), first->Active()->kid());
  EXPECT_EQ(second->Active()->algorithm(), Algorithm::kEdDSA);
}

}  // namespace
}  // namespace sessiond::jwt
