// The inside of a Key: OpenSSL key or HMAC secret. Internal to sessiond_jwt.
#pragma once

#include <openssl/evp.h>
#include <boost/json/object.hpp>

#include <array>
#include <memory>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/error.h"
#include "jwt/algorithm.h"
#include "jwt/key.h"
#include "jwt/openssl_holders.h"

namespace sessiond::jwt {
namespace internal {

struct KeyMaterial {
  KeyMaterial() = default;
  KeyMaterial(const KeyMaterial&) = delete;
  KeyMaterial& operator=(const KeyMaterial&) = delete;
  // Wipes hmac_secret and ed25519_secret; EVP_PKEY_free cleanses OpenSSL's private parts.
  ~KeyMaterial();

  EvpPkeyPtr pkey;          // EdDSA/ES256/RS256; null for HS*. The canonical form (sealing, JWK).
  std::string hmac_secret;  // HS*: the shared secret; empty otherwise.
  bool can_sign = false;    // False for public-only keys.

  // EdDSA only: the same key in libsodium's form, which signs and verifies it (2-2.5x faster
  // than OpenSSL 3.0's EVP Ed25519, see jwt_benchmark; and its verifier rejects non-canonical
  // and small-order points). Filled by KeyFactory::Make from `pkey`.
  std::array<unsigned char, 32> ed25519_public{};
  std::string ed25519_secret;  // seed || public key (64 bytes); empty if !can_sign.
};

// OK if `pkey` is the key type `algorithm` needs: Ed25519 for EdDSA, EC on P-256 for ES256,
// RSA (not RSA-PSS) of at least Key::kRsaBits for RS256. kValidation otherwise.
[[nodiscard]] Result<void> CheckKeyFitsAlgorithm(Algorithm algorithm, const EVP_PKEY& pkey);

// The key-type members of the public JWK of `pkey` (asymmetric `algorithm` only):
// {"kty":"OKP","crv":"Ed25519","x"} (RFC 8037 §2), {"kty":"EC","crv":"P-256","x","y"} with
// 32-byte coordinates (RFC 7518 §6.2.1), {"kty":"RSA","n","e"} without leading zero octets
// (RFC 7518 §6.3.1). kInternal if OpenSSL cannot export the public key.
[[nodiscard]] Result<boost::json::object> PublicJwkMembers(Algorithm algorithm,
                                                           const EVP_PKEY& pkey);

}  // namespace internal

// Builds Keys for this library's .cc files (the Key constructor is private).
struct KeyFactory {
  // Checks the kid (1..Key::kMaxKidLength characters) and that the material fits the
  // algorithm, completes the libsodium form of EdDSA keys, and computes the public JWK once.
  // kValidation / kInternal on failure.
  [[nodiscard]] static Result<Key> Make(std::string kid, Algorithm algorithm, TimePoint created_at,
                                        std::optional<TimePoint> retired_at,
                                        std::optional<TimePoint> drop_after,
                                        std::shared_ptr<internal::KeyMaterial> material);
};

}  // namespace sessiond::jwt
