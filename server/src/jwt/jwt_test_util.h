// Shared fixtures for jwt_test (test-only; not part of sessiond_jwt).
#pragma once

#include <gtest/gtest.h>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "crypto/crypto.h"
#include "jwt/algorithm.h"
#include "jwt/jws.h"
#include "jwt/key.h"
#include "jwt/signature.h"
#include "testing/fake_random.h"

namespace sessiond::jwt::testutil {

class SodiumEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { ASSERT_TRUE(crypto::Init()); }
};
// Registered once per test binary, whichever test files include this header.
inline ::testing::Environment* const kSodiumEnvironment =
    ::testing::AddGlobalTestEnvironment(new SodiumEnvironment);

inline constexpr std::string_view kIssuer = "http://127.0.0.1:4100";
inline constexpr std::string_view kServerSecret = "sessiond-test-secret-at-least-32-chars!";
// 2026-11-23T10:57:53Z, the iat of the Better Auth sample token.
inline const TimePoint kNow = FromUnixMillis(1795431473000);

// One key per algorithm for the whole binary (RSA generation takes tens of milliseconds).
// Kids are deterministic: FakeRandom seeded by the algorithm.
inline const Key& TestKey(Algorithm algorithm) {
  static std::array<std::optional<Key>, kAllAlgorithms.size()> keys;
  auto& slot = keys.at(static_cast<std::size_t>(algorithm));
  if (!slot) {
    testing::FakeRandom random(100 + static_cast<std::uint64_t>(algorithm));
    auto key = Key::Generate(algorithm, random, kNow);
    EXPECT_TRUE(key.has_value()) << key.error().detail;
    slot.emplace(std::move(*key));
  }
  return *slot;
}

inline VerifyOptions AllowAll() {
  VerifyOptions options;
  options.allowed.assign(kAllAlgorithms.begin(), kAllAlgorithms.end());
  options.issuer = kIssuer;
  options.audience = kIssuer;
  return options;
}

// A valid claim set: iat = now, exp = now + lifetime.
inline boost::json::object ValidClaims(TimePoint now = kNow,
                                       std::chrono::seconds lifetime = std::chrono::minutes(15)) {
  const std::int64_t iat = std::chrono::floor<std::chrono::seconds>(now).time_since_epoch().count();
  boost::json::object claims;
  claims["iss"] = kIssuer;
  claims["aud"] = kIssuer;
  claims["sub"] = "user-1";
  claims["sid"] = "session-1";
  claims["iat"] = iat;
  claims["exp"] = iat + lifetime.count();
  return claims;
}

inline std::string B64(std::string_view bytes) {
  return crypto::Base64UrlEncode(
      {reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
}

inline std::string HeaderJson(const Key& key) {
  return R"({"alg":")" + std::string(AlgorithmName(key.algorithm())) + R"(","kid":")" + key.kid() +
         R"(","typ":"JWT"})";
}

// A compact JWS over arbitrary header/payload text, validly signed by `key`: the way to make
// hostile tokens that only the verifier's structural checks can stop.
inline std::string Forge(const Key& key, std::string_view header_json,
                         std::string_view payload_json) {
  std::string input = B64(header_json) + "." + B64(payload_json);
  auto signature = SignBytes(key, input);
  EXPECT_TRUE(signature.has_value());
  return input + "." + B64(signature.value_or(""));
}

inline std::string Json(const boost::json::object& o) { return boost::json::serialize(o); }

// Verify against a lookup that knows every TestKey, with AllowAll() options.
class AllTestKeys final : public KeyLookup {
 public:
  [[nodiscard]] std::shared_ptr<const Key> FindByKid(std::string_view kid) const override {
    for (const Algorithm algorithm : kAllAlgorithms) {
      if (TestKey(algorithm).kid() == kid) return std::make_shared<const Key>(TestKey(algorithm));
    }
    return nullptr;
  }
};

inline VerifyResult<boost::json::object> VerifyAll(std::string_view token, TimePoint now = kNow,
                                                   const VerifyOptions& options = AllowAll()) {
  static const AllTestKeys lookup;
  return Verify(token, lookup, options, now);
}

// The failure reason, or nullopt if the token verified.
inline std::optional<VerifyError> Reason(const VerifyResult<boost::json::object>& result) {
  if (result) return std::nullopt;
  return result.error().reason;
}

}  // namespace sessiond::jwt::testutil
