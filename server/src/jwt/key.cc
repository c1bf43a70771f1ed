#include "jwt/key.h"

#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <sodium.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "crypto/crypto.h"
#include "jwt/bytes.h"
#include "jwt/key_material.h"

namespace sessiond::jwt {
namespace internal {

KeyMaterial::~KeyMaterial() {
  crypto::Wipe(hmac_secret);
  crypto::Wipe(ed25519_secret);
}

namespace {

// Fills material.ed25519_* from material.pkey (an Ed25519 EVP_PKEY).
Result<void> CompleteEd25519(KeyMaterial& material) {
  std::size_t public_len = material.ed25519_public.size();
  if (EVP_PKEY_get_raw_public_key(material.pkey.get(), material.ed25519_public.data(),
                                  &public_len) != 1 ||
      public_len != material.ed25519_public.size()) {
    ERR_clear_error();
    return Fail(ErrorCode::kInternal, "cannot export the Ed25519 public key");
  }
  if (!material.can_sign) return {};
  std::array<unsigned char, crypto_sign_SEEDBYTES> seed{};
  std::size_t seed_len = seed.size();
  std::array<unsigned char, crypto_sign_PUBLICKEYBYTES> derived_public{};
  material.ed25519_secret.assign(crypto_sign_SECRETKEYBYTES, '\0');
  const bool ok =
      EVP_PKEY_get_raw_private_key(material.pkey.get(), seed.data(), &seed_len) == 1 &&
      seed_len == seed.size() &&
      crypto_sign_seed_keypair(derived_public.data(),
                               reinterpret_cast<unsigned char*>(material.ed25519_secret.data()),
                               seed.data()) == 0 &&
      derived_public == material.ed25519_public;
  sodium_memzero(seed.data(), seed.size());
  if (!ok) {
    ERR_clear_error();
    crypto::Wipe(material.ed25519_secret);
    material.ed25519_secret.clear();
    return Fail(ErrorCode::kInternal, "cannot convert the Ed25519 private key");
  }
  return {};
}

}  // namespace

Result<void> CheckKeyFitsAlgorithm(Algorithm algorithm, const EVP_PKEY& pkey) {
  switch (algorithm) {
    case Algorithm::kEdDSA:
      if (EVP_PKEY_is_a(&pkey, "ED25519") == 1) return {};
      return Fail(ErrorCode::kValidation, "EdDSA needs an Ed25519 key");
    case Algorithm::kES256: {
      if (EVP_PKEY_is_a(&pkey, "EC") != 1) {
        return Fail(ErrorCode::kValidation, "ES256 needs an EC key");
      }
      std::array<char, 80> group{};
      std::size_t group_len = 0;
      if (EVP_PKEY_get_group_name(&pkey, group.data(), group.size(), &group_len) != 1) {
        ERR_clear_error();
        return Fail(ErrorCode::kValidation, "ES256 key has no named curve");
      }
      // OpenSSL reports P-256 by its SN ("prime256v1"); accept the NIST name too.
      int nid = OBJ_sn2nid(group.data());
      if (nid == NID_undef) nid = EC_curve_nist2nid(group.data());
      if (nid == NID_X9_62_prime256v1) return {};
      return Fail(ErrorCode::kValidation, "ES256 needs a P-256 key (RFC 7518 §3.4)");
    }
    case Algorithm::kRS256:
      // "RSA" excludes "RSA-PSS" keys, which must not be used with PKCS#1 v1.5 signatures.
      if (EVP_PKEY_is_a(&pkey, "RSA") != 1) {
        return Fail(ErrorCode::kValidation, "RS256 needs an RSA key");
      }
      if (EVP_PKEY_get_bits(&pkey) < Key::kRsaBits) {
        return Fail(ErrorCode::kValidation,
                    "RS256 needs a modulus of at least 2048 bits (RFC 7518 §3.3)");
      }
      return {};
    case Algorithm::kHS256:
    case Algorithm::kHS384:
    case Algorithm::kHS512:
      break;
  }
  return Fail(ErrorCode::kValidation, "HMAC algorithms take no OpenSSL key");
}

}  // namespace internal

Result<Key> KeyFactory::Make(std::string kid, Algorithm algorithm, TimePoint created_at,
                             std::optional<TimePoint> retired_at,
                             std::optional<TimePoint> drop_after,
                             std::shared_ptr<internal::KeyMaterial> material) {
  if (kid.empty() || kid.size() > Key::kMaxKidLength) {
    return Fail(ErrorCode::kValidation, "kid must have 1 to 256 characters");
  }
  if (material == nullptr) return Fail(ErrorCode::kInternal, "key without material");
  std::optional<boost::json::object> public_jwk;
  if (IsSymmetric(algorithm)) {
    if (material->pkey != nullptr || material->hmac_secret.size() < MinHmacKeyBytes(algorithm)) {
      return Fail(ErrorCode::kValidation, "HMAC key shorter than the hash output (RFC 7518 §3.2)");
    }
  } else {
    if (material->pkey == nullptr) {
      return Fail(ErrorCode::kInternal, "asymmetric key without EVP_PKEY");
    }
    if (auto fits = internal::CheckKeyFitsAlgorithm(algorithm, *material->pkey); !fits) {
      return std::unexpected(std::move(fits.error()));
    }
    if (algorithm == Algorithm::kEdDSA) {
      if (auto completed = internal::CompleteEd25519(*material); !completed) {
        return std::unexpected(std::move(completed.error()));
      }
    }
    auto members = internal::PublicJwkMembers(algorithm, *material->pkey);
    if (!members) return std::unexpected(std::move(members.error()));
    // RFC 7517 §4.5 "kid", §4.4 "alg", §4.2 "use".
    (*members)["kid"] = kid;
    (*members)["alg"] = AlgorithmName(algorithm);
    (*members)["use"] = "sig";
    public_jwk = std::move(*members);
  }
  Key key(std::move(kid), algorithm, created_at, std::move(material), std::move(public_jwk));
  key.retired_at_ = retired_at;
  key.drop_after_ = drop_after;
  return key;
}

Result<Key> Key::Generate(Algorithm algorithm, Random& random, TimePoint now) {
  std::array<std::uint8_t, 24> kid_bytes{};
  random.Fill(kid_bytes);
  std::string kid = crypto::Base64UrlEncode(kid_bytes);

  auto material = std::make_shared<internal::KeyMaterial>();
  material->can_sign = true;
  switch (algorithm) {
    case Algorithm::kEdDSA: {
      // An Ed25519 private key is a 32-byte seed (RFC 8032 §5.1.5).
      std::array<std::uint8_t, 32> seed{};
      random.Fill(seed);
      material->pkey.reset(
          EVP_PKEY_new_raw_private_key_ex(nullptr, "ED25519", nullptr, seed.data(), seed.size()));
      OPENSSL_cleanse(seed.data(), seed.size());
      break;
    }
    case Algorithm::kES256:
      // OpenSSL's DRBG (seeded from the OS) generates RSA and EC keys.
      material->pkey.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
      break;
    case Algorithm::kRS256:
      material->pkey.reset(
          EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(kRsaBits)));
      break;
    case Algorithm::kHS256:
    case Algorithm::kHS384:
    case Algorithm::kHS512:
      material->hmac_secret.assign(MinHmacKeyBytes(algorithm), '\0');
      random.Fill(internal::AsWritableBytes(material->hmac_secret));
      break;
  }
  if (!IsSymmetric(algorithm) && material->pkey == nullptr) {
    ERR_clear_error();
    return Fail(ErrorCode::kInternal,
                "OpenSSL could not generate a " + std::string(AlgorithmName(algorithm)) + " key");
  }
  return KeyFactory::Make(std::move(kid), algorithm, now, std::nullopt, std::nullopt,
                          std::move(material));
}

Result<Key> Key::FromSharedSecret(Algorithm algorithm, std::string_view secret, std::string kid,
                                  TimePoint created_at) {
  if (!IsSymmetric(algorithm)) {
    return Fail(ErrorCode::kValidation, "a shared secret can only be an HS256/384/512 key");
  }
  auto material = std::make_shared<internal::KeyMaterial>();
  material->can_sign = true;
  material->hmac_secret.assign(secret);
  return KeyFactory::Make(std::move(kid), algorithm, created_at, std::nullopt, std::nullopt,
                          std::move(material));
}

bool Key::can_sign() const { return material_->can_sign; }

std::optional<boost::json::object> Key::PublicJwk() const { return public_jwk_; }

Key Key::Retired(TimePoint retired_at, TimePoint drop_after) const {
  Key copy = *this;
  copy.retired_at_ = retired_at;
  copy.drop_after_ = drop_after;
  return copy;
}

}  // namespace sessiond::jwt
