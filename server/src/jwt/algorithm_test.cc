#include "jwt/algorithm.h"

#include <gtest/gtest.h>

#include <optional>
#include <string_view>

namespace sessiond::jwt {
namespace {

TEST(AlgorithmTest, NamesAreTheRegisteredAlgValues) {
  EXPECT_EQ(AlgorithmName(Algorithm::kEdDSA), "EdDSA");
  EXPECT_EQ(AlgorithmName(Algorithm::kES256), "ES256");
  EXPECT_EQ(AlgorithmName(Algorithm::kRS256), "RS256");
  EXPECT_EQ(AlgorithmName(Algorithm::kHS256), "HS256");
  EXPECT_EQ(AlgorithmName(Algorithm::kHS384), "HS384");
  EXPECT_EQ(AlgorithmName(Algorithm::kHS512), "HS512");
}

TEST(AlgorithmTest, ParseRoundTripsEveryAlgorithm) {
  for (const Algorithm algorithm : kAllAlgorithms) {
    EXPECT_EQ(ParseAlgorithm(AlgorithmName(algorithm)), algorithm);
  }
}

TEST(AlgorithmTest, NoneAndLookalikesAreNotAlgorithms) {
  for (const std::string_view name : {"none", "None", "NONE", "nOnE", "", "eddsa", "EDDSA", "hs256",
                                      "HS256 ", " HS256", "ES384", "RS512", "PS256", "Ed25519"}) {
    EXPECT_EQ(ParseAlgorithm(name), std::nullopt) << name;
  }
  EXPECT_EQ(ParseAlgorithm(std::string_view("HS256\0", 6)), std::nullopt);
}

TEST(AlgorithmTest, SymmetricAndKeyLengths) {
  EXPECT_FALSE(IsSymmetric(Algorithm::kEdDSA));
  EXPECT_FALSE(IsSymmetric(Algorithm::kES256));
  EXPECT_FALSE(IsSymmetric(Algorithm::kRS256));
  EXPECT_TRUE(IsSymmetric(Algorithm::kHS256));
  EXPECT_TRUE(IsSymmetric(Algorithm::kHS384));
  EXPECT_TRUE(IsSymmetric(Algorithm::kHS512));
  EXPECT_EQ(MinHmacKeyBytes(Algorithm::kHS256), 32u);
  EXPECT_EQ(MinHmacKeyBytes(Algorithm::kHS384), 48u);
  EXPECT_EQ(MinHmacKeyBytes(Algorithm::kHS512), 64u);
  EXPECT_EQ(MinHmacKeyBytes(Algorithm::kEdDSA), 0u);
}

}  // namespace
}  // namespace sessiond::jwt
