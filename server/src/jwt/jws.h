// JWTs as compact JWS (RFC 7515 §7.1, RFC 7519 §7): signing and the one verifier.
//
// Verify() applies, in this order (each failure has its own VerifyError):
//   1. size limit, then exactly three non-empty base64url segments, strict alphabet, no
//      padding, no whitespace, canonical final bits (RFC 7515 §2, §7.1; RFC 4648 §5);
//   2. the header is a JSON object without duplicate names (RFC 7515 §4, §5.2 steps 3-4);
//   3. "alg" is a string naming an Algorithm in `allowed` ("none" never is: it is not an
//      Algorithm) (RFC 7515 §4.1.1; RFC 8725 §3.1);
//   4. no "crit" (RFC 7515 §4.1.11: we understand no extensions, so any must be rejected);
//      "typ", if present, is "JWT" (RFC 7519 §5.1);
//   5. "kid" is a string naming a known key (RFC 7515 §4.1.4) and that key's bound algorithm
//      EQUALS the header's "alg": the key decides the algorithm, the header can only agree
//      (RFC 8725 §2.1, §3.1), so "HS256 signed with the RSA public key" cannot verify;
//   6. the signature is valid for that key (RFC 7515 §5.2 step 8; HMACs compared in constant
//      time);
//   7. the payload is a JSON object without duplicate claim names (RFC 7519 §4, §7.2 step 10);
//   8. "exp" is present and a NumericDate and now < exp + leeway (RFC 7519 §4.1.4); "nbf", if
//      present, now >= nbf - leeway (§4.1.5); "iat", if present, is not after now + leeway
//      (§4.1.6);
//   9. "iss" equals options.issuer (§4.1.1); "aud" equals options.audience or is an array
//      containing it (§4.1.3).
// Only then are the claims returned.
//
// Thread-safety: pure functions; the KeyLookup must be thread-safe (KeySet is).
#pragma once

#include <boost/json/object.hpp>

#include <chrono>
#include <cstddef>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/error.h"
#include "jwt/algorithm.h"
#include "jwt/key.h"
#include "jwt/key_lookup.h"

namespace sessiond::jwt {

// The compact JWS "<b64 header>.<b64 claims>.<b64 signature>" with the protected header
// {"alg": key's algorithm, "kid": key's kid, "typ": "JWT"}. kInternal if the key cannot sign.
[[nodiscard]] Result<std::string> Sign(const Key& key, const boost::json::object& claims);

// Why a token was rejected. Stable: tests and logs use the names.
enum class VerifyError {
  kTooLarge,        // Longer than VerifyOptions::max_token_bytes.
  kMalformed,       // Not three strict base64url segments; header or payload not a JSON
                    // object; duplicate header parameter; "typ" not JWT.
  kBadAlgorithm,    // "alg" missing, unknown ("none"), not allowed, or not the key's algorithm.
  kCriticalHeader,  // "crit" present.
  kUnknownKid,      // "kid" missing, not a string, too long, or names no key.
  kBadSignature,    // Signature does not verify.
  kDuplicateClaim,  // A claim name appears twice in the payload.
  kInvalidClaim,    // "exp" missing, or exp/nbf/iat not a NumericDate.
  kExpired,         // now >= exp + leeway.
  kNotYetValid,     // now < nbf - leeway, or iat > now + leeway.
  kBadIssuer,       // "iss" missing or not options.issuer.
  kBadAudience,     // "aud" missing or does not contain options.audience.
};

// "kBadSignature" → "bad_signature".
[[nodiscard]] std::string_view VerifyErrorName(VerifyError error);

struct VerifyFailure {
  VerifyError reason = VerifyError::kMalformed;
  std::string detail;  // For logs; never contains the token or key material.
};

template <class T>
using VerifyResult = std::expected<T, VerifyFailure>;

// Tokens longer than this are rejected before any decoding. A sessiond access token is well
// under 1 KiB even with RS256 and several user fields; 8 KiB is also the header-line limit of
// common proxies.
inline constexpr std::size_t kDefaultMaxTokenBytes = std::size_t{8} * 1024;

struct VerifyOptions {
  std::vector<Algorithm> allowed;   // The allowlist; empty accepts nothing.
  std::string issuer;               // Required "iss"; empty matches nothing.
  std::string audience;             // Required "aud" (or member of it); empty matches nothing.
  std::chrono::seconds leeway{30};  // Clock skew tolerated for exp/nbf/iat.
  std::size_t max_token_bytes = kDefaultMaxTokenBytes;
};

// The verified claims of `jws`, or why it was rejected (see the file comment for the rules).
[[nodiscard]] VerifyResult<boost::json::object> Verify(std::string_view jws,
                                                       const KeyLookup& lookup,
                                                       const VerifyOptions& options, TimePoint now);

// For the app: every verification failure is ErrorCode::kUnauthorized (no valid credential),
// with "jwt <reason>: <detail>" for the log.
[[nodiscard]] Error ToError(const VerifyFailure& failure);

}  // namespace sessiond::jwt
