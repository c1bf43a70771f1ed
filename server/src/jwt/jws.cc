#include "jwt/jws.h"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>
#include <string>
#include <utility>

#include "crypto/crypto.h"
#include "jwt/bytes.h"
#include "jwt/signature.h"
#include "jwt/strict_json.h"

namespace sessiond::jwt {
namespace {

namespace json = boost::json;

std::unexpected<VerifyFailure> Reject(VerifyError reason, std::string detail) {
  return std::unexpected(VerifyFailure{reason, std::move(detail)});
}

std::string B64(std::string_view bytes) {
  return crypto::Base64UrlEncode(internal::AsBytes(bytes));
}

// RFC 4648 §5 alphabet only: no '=', '+', '/', whitespace or anything else.
bool IsBase64UrlSegment(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

// A NumericDate (RFC 7519 §2): a JSON number of seconds since the epoch, possibly fractional.
std::optional<double> NumericDate(const json::value& v) {
  double seconds = 0;
  if (v.is_int64()) {
    seconds = static_cast<double>(v.get_int64());
  } else if (v.is_uint64()) {
    seconds = static_cast<double>(v.get_uint64());
  } else if (v.is_double()) {
    seconds = v.get_double();
  } else {
    return std::nullopt;
  }
  if (!std::isfinite(seconds)) return std::nullopt;
  return seconds;
}

bool EqualsIgnoringAsciiCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           const auto lower = [](char c) {
             return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
           };
           return lower(x) == lower(y);
         });
}

// Steps 2-5 of the file comment: the header names an allowed algorithm and a known key bound
// to exactly that algorithm.
VerifyResult<std::shared_ptr<const Key>> CheckHeader(std::string_view header_json,
                                                     const KeyLookup& lookup,
                                                     const VerifyOptions& options) {
  auto header = ParseObjectStrict(header_json);
  if (!header) {
    return Reject(VerifyError::kMalformed, header.error() == StrictJsonError::kDuplicateKey
                                               ? "duplicate header parameter"
                                               : "header is not a JSON object");
  }
  const json::value* alg_value = header->if_contains("alg");
  if (alg_value == nullptr || !alg_value->is_string()) {
    return Reject(VerifyError::kBadAlgorithm, "no alg");
  }
  const std::optional<Algorithm> alg = ParseAlgorithm(alg_value->get_string());
  if (!alg) return Reject(VerifyError::kBadAlgorithm, "unsupported alg");
  if (std::find(options.allowed.begin(), options.allowed.end(), *alg) == options.allowed.end()) {
    return Reject(VerifyError::kBadAlgorithm,
                  "alg " + std::string(AlgorithmName(*alg)) + " not allowed");
  }
  if (header->contains("crit")) return Reject(VerifyError::kCriticalHeader, "crit present");
  if (const json::value* typ = header->if_contains("typ");
      typ != nullptr && !(typ->is_string() && EqualsIgnoringAsciiCase(typ->get_string(), "JWT"))) {
    return Reject(VerifyError::kMalformed, "typ is not JWT");
  }
  const json::value* kid = header->if_contains("kid");
  if (kid == nullptr || !kid->is_string() || kid->get_string().empty() ||
      kid->get_string().size() > Key::kMaxKidLength) {
    return Reject(VerifyError::kUnknownKid, "no usable kid");
  }
  std::shared_ptr<const Key> key = lookup.FindByKid(kid->get_string());
  if (key == nullptr) return Reject(VerifyError::kUnknownKid, "no key with this kid");
  // The algorithm-confusion guard: the key's bound algorithm, not the header, decides.
  if (key->algorithm() != *alg) {
    return Reject(VerifyError::kBadAlgorithm, "header alg " + std::string(AlgorithmName(*alg)) +
                                                  " but key " + key->kid() + " is " +
                                                  std::string(AlgorithmName(key->algorithm())));
  }
  return key;
}

// Steps 8-9: time and audience claims.
VerifyResult<void> CheckClaims(const json::object& claims, const VerifyOptions& options,
                               TimePoint now) {
  const double now_s = static_cast<double>(ToUnixMillis(now)) / 1000.0;
  const double leeway_s = static_cast<double>(options.leeway.count());

  const json::value* exp_value = claims.if_contains("exp");
  const std::optional<double> exp = exp_value ? NumericDate(*exp_value) : std::nullopt;
  if (!exp) return Reject(VerifyError::kInvalidClaim, "exp missing or not a NumericDate");
  if (now_s >= *exp + leeway_s) return Reject(VerifyError::kExpired, "expired");

  if (const json::value* nbf_value = claims.if_contains("nbf")) {
    const std::optional<double> nbf = NumericDate(*nbf_value);
    if (!nbf) return Reject(VerifyError::kInvalidClaim, "nbf not a NumericDate");
    if (now_s + leeway_s < *nbf) return Reject(VerifyError::kNotYetValid, "nbf in the future");
  }
  if (const json::value* iat_value = claims.if_contains("iat")) {
    const std::optional<double> iat = NumericDate(*iat_value);
    if (!iat) return Reject(VerifyError::kInvalidClaim, "iat not a NumericDate");
    if (*iat > now_s + leeway_s) return Reject(VerifyError::kNotYetValid, "iat in the future");
  }

  const json::value* iss = claims.if_contains("iss");
  if (options.issuer.empty() || iss == nullptr || !iss->is_string() ||
      iss->get_string() != options.issuer) {
    return Reject(VerifyError::kBadIssuer, "iss mismatch");
  }

  const json::value* aud = claims.if_contains("aud");
  const auto is_audience = [&](const json::value& v) {
    return v.is_string() && v.get_string() == options.audience;
  };
  bool aud_ok = false;
  if (!options.audience.empty() && aud != nullptr) {
    if (aud->is_array()) {
      aud_ok = std::any_of(aud->get_array().begin(), aud->get_array().end(), is_audience);
    } else {
      aud_ok = is_audience(*aud);
    }
  }
  if (!aud_ok) return Reject(VerifyError::kBadAudience, "aud mismatch");
  return {};
}

}  // namespace

Result<std::string> Sign(const Key& key, const boost::json::object& claims) {
  if (!key.can_sign()) return Fail(ErrorCode::kInternal, "key " + key.kid() + " cannot sign");
  json::object header;
  header["alg"] = AlgorithmName(key.algorithm());
  header["kid"] = key.kid();
  header["typ"] = "JWT";
  std::string token = B64(json::serialize(header));
  token += '.';
  token += B64(json::serialize(claims));
  auto signature = SignBytes(key, token);
  if (!signature) return std::unexpected(std::move(signature.error()));
  token += '.';
  token += B64(*signature);
  return token;
}

VerifyResult<boost::json::object> Verify(std::string_view jws, const KeyLookup& lookup,
                                         const VerifyOptions& options, TimePoint now) {
  if (jws.size() > options.max_token_bytes) {
    return Reject(VerifyError::kTooLarge, "token too large");
  }

  // Step 1: "<header>.<payload>.<signature>", each strictly base64url.
  const std::size_t dot1 = jws.find('.');
  const std::size_t dot2 = dot1 == std::string_view::npos ? dot1 : jws.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || jws.find('.', dot2 + 1) != std::string_view::npos) {
    return Reject(VerifyError::kMalformed, "not three segments");
  }
  const std::string_view header_b64 = jws.substr(0, dot1);
  const std::string_view payload_b64 = jws.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string_view signature_b64 = jws.substr(dot2 + 1);
  if (!IsBase64UrlSegment(header_b64) || !IsBase64UrlSegment(payload_b64) ||
      !IsBase64UrlSegment(signature_b64)) {
    return Reject(VerifyError::kMalformed, "segment empty or outside the base64url alphabet");
  }
  const auto header_json = crypto::Base64UrlDecode(header_b64);
  const auto payload_json = crypto::Base64UrlDecode(payload_b64);
  const auto signature = crypto::Base64UrlDecode(signature_b64);
  if (!header_json || !payload_json || !signature) {
    return Reject(VerifyError::kMalformed, "invalid base64url");
  }

  // Steps 2-5.
  auto key = CheckHeader(*header_json, lookup, options);
  if (!key) return std::unexpected(std::move(key.error()));

  // Step 6: the JWS Signing Input is the ASCII of the first two segments and the dot.
  if (!VerifyBytes(**key, jws.substr(0, dot2), *signature)) {
    return Reject(VerifyError::kBadSignature, "signature does not verify");
  }

  // Step 7.
  auto claims = ParseObjectStrict(*payload_json);
  if (!claims) {
    return Reject(claims.error() == StrictJsonError::kDuplicateKey ? VerifyError::kDuplicateClaim
                                                                   : VerifyError::kMalformed,
                  claims.error() == StrictJsonError::kDuplicateKey
                      ? "duplicate claim"
                      : "payload is not a JSON object");
  }

  // Steps 8-9.
  if (auto checked = CheckClaims(*claims, options, now); !checked) {
    return std::unexpected(std::move(checked.error()));
  }
  return std::move(*claims);
}

std::string_view VerifyErrorName(VerifyError error) {
  switch (error) {
    case VerifyError::kTooLarge:
      return "too_large";
    case VerifyError::kMalformed:
      return "malformed";
    case VerifyError::kBadAlgorithm:
      return "bad_algorithm";
    case VerifyError::kCriticalHeader:
      return "critical_header";
    case VerifyError::kUnknownKid:
      return "unknown_kid";
    case VerifyError::kBadSignature:
      return "bad_signature";
    case VerifyError::kDuplicateClaim:
      return "duplicate_claim";
    case VerifyError::kInvalidClaim:
      return "invalid_claim";
    case VerifyError::kExpired:
      return "expired";
    case VerifyError::kNotYetValid:
      return "not_yet_valid";
    case VerifyError::kBadIssuer:
      return "bad_issuer";
    case VerifyError::kBadAudience:
      return "bad_audience";
  }
  return "unknown";
}

Error ToError(const VerifyFailure& failure) {
  return Error{ErrorCode::kUnauthorized,
               "jwt " + std::string(VerifyErrorName(failure.reason)) + ": " + failure.detail};
}

}  // namespace sessiond::jwt
