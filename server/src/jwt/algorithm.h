// The JWS algorithms sessiond signs and verifies with, and their registered names.
//
// The set is closed: "none" (RFC 7518 §3.6) is deliberately not an enumerator, so no code path
// can produce or accept an unsecured JWS. Every Key is bound to exactly one Algorithm at
// creation (see key.h); the verifier only accepts a token whose header names the algorithm its
// key is bound to, which is what makes algorithm confusion impossible.
//
// Thread-safety: everything here is a pure function.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

namespace sessiond::jwt {

enum class Algorithm {
  kEdDSA,  // Ed25519 (RFC 8037 §3.1). The default, as in Better Auth's jwt plugin.
  kES256,  // ECDSA P-256 + SHA-256, signature R||S (RFC 7518 §3.4).
  kRS256,  // RSASSA-PKCS1-v1_5 + SHA-256, modulus >= 2048 bits (RFC 7518 §3.3).
  kHS256,  // HMAC-SHA-256 (RFC 7518 §3.2), shared-secret setups only.
  kHS384,  // HMAC-SHA-384.
  kHS512,  // HMAC-SHA-512.
};

inline constexpr std::array<Algorithm, 6> kAllAlgorithms = {
    Algorithm::kEdDSA, Algorithm::kES256, Algorithm::kRS256,
    Algorithm::kHS256, Algorithm::kHS384, Algorithm::kHS512,
};

// The "alg" Header Parameter value (RFC 7518 §3.1, RFC 8037 §3.1), e.g. "EdDSA", "HS256".
[[nodiscard]] std::string_view AlgorithmName(Algorithm algorithm);

// The Algorithm whose registered name is exactly `name` (case-sensitive, RFC 7515 §4.1.1 says
// "alg" is a case-sensitive string); nullopt for anything else, including "none" in any case.
[[nodiscard]] std::optional<Algorithm> ParseAlgorithm(std::string_view name);

// True for HS256/384/512: a shared secret, never published in a JWKS.
[[nodiscard]] bool IsSymmetric(Algorithm algorithm);

// HS*: the hash output length in bytes, which RFC 7518 §3.2 makes the minimum key length.
// 0 for asymmetric algorithms.
[[nodiscard]] std::size_t MinHmacKeyBytes(Algorithm algorithm);

}  // namespace sessiond::jwt
