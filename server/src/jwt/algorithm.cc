#include "jwt/algorithm.h"

namespace sessiond::jwt {

std::string_view AlgorithmName(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::kEdDSA:
      return "EdDSA";
    case Algorithm::kES256:
      return "ES256";
    case Algorithm::kRS256:
      return "RS256";
    case Algorithm::kHS256:
      return "HS256";
    case Algorithm::kHS384:
      return "HS384";
    case Algorithm::kHS512:
      return "HS512";
  }
  return "";  // Unreachable for valid enumerators; never a registered name.
}

std::optional<Algorithm> ParseAlgorithm(std::string_view name) {
  for (const Algorithm algorithm : kAllAlgorithms) {
    if (AlgorithmName(algorithm) == name) return algorithm;
  }
  return std::nullopt;
}

bool IsSymmetric(Algorithm algorithm) { return MinHmacKeyBytes(algorithm) != 0; }

std::size_t MinHmacKeyBytes(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::kHS256:
      return 32;
    case Algorithm::kHS384:
      return 48;
    case Algorithm::kHS512:
      return 64;
    case Algorithm::kEdDSA:
    case Algorithm::kES256:
    case Algorithm::kRS256:
      return 0;
  }
  return 0;
}

}  // namespace sessiond::jwt
