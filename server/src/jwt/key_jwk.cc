// Public JWK export and import (RFC 7517 §4, RFC 7518 §6.2.1 and §6.3.1, RFC 8037 §2).
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crypto/crypto.h"
#include "jwt/bytes.h"
#include "jwt/key.h"
#include "jwt/key_material.h"
#include "jwt/openssl_holders.h"

namespace sessiond::jwt {
namespace {

constexpr std::size_t kEd25519PublicBytes = 32;
constexpr std::size_t kP256CoordinateBytes = 32;

std::string B64(std::span<const unsigned char> bytes) { return crypto::Base64UrlEncode(bytes); }

// A BIGNUM parameter of `pkey` (e.g. OSSL_PKEY_PARAM_RSA_N), or null.
internal::BignumPtr GetBnParam(const EVP_PKEY& pkey, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(&pkey, name, &bn) != 1) {
    ERR_clear_error();
    return nullptr;
  }
  return internal::BignumPtr(bn);
}

// Big-endian bytes of `bn`: exactly `width` bytes (left-padded) if width > 0, otherwise the
// minimal encoding. nullopt if it does not fit.
std::optional<std::vector<unsigned char>> BnBytes(const BIGNUM& bn, int width) {
  const int len = width > 0 ? width : BN_num_bytes(&bn);
  std::vector<unsigned char> out(static_cast<std::size_t>(len));
  if (BN_bn2binpad(&bn, out.data(), len) != len) return std::nullopt;
  return out;
}

std::optional<std::string_view> StringMember(const boost::json::object& o, std::string_view name) {
  const boost::json::value* v = o.if_contains(name);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string_view(v->get_string());
}

// The decoded base64url member `name`, if present, well-formed and (when `size` > 0) exactly
// `size` bytes long.
std::optional<std::string> BytesMember(const boost::json::object& o, std::string_view name,
                                       std::size_t size = 0) {
  const auto text = StringMember(o, name);
  if (!text) return std::nullopt;
  auto bytes = crypto::Base64UrlDecode(*text);
  if (!bytes || bytes->empty() || (size > 0 && bytes->size() != size)) return std::nullopt;
  return bytes;
}

// EVP_PKEY_fromdata for a public key of `type` ("EC", "RSA") from `params`.
internal::EvpPkeyPtr PublicKeyFromParams(const char* type, const OSSL_PARAM* params) {
  internal::EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* pkey = nullptr;
  if (ctx == nullptr || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, const_cast<OSSL_PARAM*>(params)) !=
          1) {
    ERR_clear_error();
    return nullptr;
  }
  return internal::EvpPkeyPtr(pkey);
}

Result<internal::EvpPkeyPtr> ImportEd25519(const boost::json::object& jwk) {
  // RFC 8037 §2: {"kty":"OKP","crv":"Ed25519","x": 32 bytes}.
  if (StringMember(jwk, "kty") != "OKP" || StringMember(jwk, "crv") != "Ed25519") {
    return Fail(ErrorCode::kValidation, "EdDSA JWK must be kty OKP, crv Ed25519");
  }
  const auto x = BytesMember(jwk, "x", kEd25519PublicBytes);
  if (!x) return Fail(ErrorCode::kValidation, "Ed25519 JWK needs a 32-byte x");
  internal::EvpPkeyPtr pkey(
      EVP_PKEY_new_raw_public_key_ex(nullptr, "ED25519", nullptr, internal::UChars(*x), x->size()));
  if (pkey == nullptr) {
    ERR_clear_error();
    return Fail(ErrorCode::kValidation, "invalid Ed25519 public key");
  }
  return pkey;
}

Result<internal::EvpPkeyPtr> ImportP256(const boost::json::object& jwk) {
  // RFC 7518 §6.2.1: x and y are the full 32-byte coordinates.
  if (StringMember(jwk, "kty") != "EC" || StringMember(jwk, "crv") != "P-256") {
    return Fail(ErrorCode::kValidation, "ES256 JWK must be kty EC, crv P-256");
  }
  const auto x = BytesMember(jwk, "x", kP256CoordinateBytes);
  const auto y = BytesMember(jwk, "y", kP256CoordinateBytes);
  if (!x || !y) return Fail(ErrorCode::kValidation, "P-256 JWK needs 32-byte x and y");
  // SEC 1 §2.3.3 uncompressed point: 0x04 || X || Y. OpenSSL checks it lies on the curve.
  std::string point = "\x04" + *x + *y;
  internal::ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (bld == nullptr ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return Fail(ErrorCode::kInternal, "OSSL_PARAM_BLD failed");
  }
  internal::ParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  if (params == nullptr) return Fail(ErrorCode::kInternal, "OSSL_PARAM_BLD_to_param failed");
  internal::EvpPkeyPtr pkey = PublicKeyFromParams("EC", params.get());
  if (pkey == nullptr) return Fail(ErrorCode::kValidation, "invalid P-256 public key");
  internal::EvpPkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
  if (check == nullptr || EVP_PKEY_public_check(check.get()) != 1) {
    ERR_clear_error();
    return Fail(ErrorCode::kValidation, "P-256 public key fails validation");
  }
  return pkey;
}

Result<internal::EvpPkeyPtr> ImportRsa(const boost::json::object& jwk) {
  // RFC 7518 §6.3.1: n and e as unsigned big-endian integers.
  if (StringMember(jwk, "kty") != "RSA") {
    return Fail(ErrorCode::kValidation, "RS256 JWK must be kty RSA");
  }
  const auto n_bytes = BytesMember(jwk, "n");
  const auto e_bytes = BytesMember(jwk, "e");
  if (!n_bytes || !e_bytes) return Fail(ErrorCode::kValidation, "RSA JWK needs n and e");
  internal::BignumPtr n(
      BN_bin2bn(internal::UChars(*n_bytes), static_cast<int>(n_bytes->size()), nullptr));
  internal::BignumPtr e(
      BN_bin2bn(internal::UChars(*e_bytes), static_cast<int>(e_bytes->size()), nullptr));
  internal::ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (n == nullptr || e == nullptr || bld == nullptr ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
    return Fail(ErrorCode::kInternal, "OSSL_PARAM_BLD failed");
  }
  internal::ParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  if (params == nullptr) return Fail(ErrorCode::kInternal, "OSSL_PARAM_BLD_to_param failed");
  internal::EvpPkeyPtr pkey = PublicKeyFromParams("RSA", params.get());
  if (pkey == nullptr) return Fail(ErrorCode::kValidation, "invalid RSA public key");
  return pkey;
}

}  // namespace

namespace internal {

Result<boost::json::object> PublicJwkMembers(Algorithm algorithm, const EVP_PKEY& pkey) {
  boost::json::object jwk;
  switch (algorithm) {
    case Algorithm::kEdDSA: {
      std::array<unsigned char, kEd25519PublicBytes> x{};
      std::size_t x_len = x.size();
      if (EVP_PKEY_get_raw_public_key(&pkey, x.data(), &x_len) != 1 || x_len != x.size()) {
        ERR_clear_error();
        return Fail(ErrorCode::kInternal, "cannot export the Ed25519 public key");
      }
      jwk["kty"] = "OKP";
      jwk["crv"] = "Ed25519";
      jwk["x"] = B64(x);
      return jwk;
    }
    case Algorithm::kES256: {
      const BignumPtr x = GetBnParam(pkey, OSSL_PKEY_PARAM_EC_PUB_X);
      const BignumPtr y = GetBnParam(pkey, OSSL_PKEY_PARAM_EC_PUB_Y);
      const int width = static_cast<int>(kP256CoordinateBytes);
      const auto x_bytes = x ? BnBytes(*x, width) : std::nullopt;
      const auto y_bytes = y ? BnBytes(*y, width) : std::nullopt;
      if (!x_bytes || !y_bytes) {
        return Fail(ErrorCode::kInternal, "cannot export the P-256 public key");
      }
      jwk["kty"] = "EC";
      jwk["crv"] = "P-256";
      jwk["x"] = B64(*x_bytes);
      jwk["y"] = B64(*y_bytes);
      return jwk;
    }
    case Algorithm::kRS256: {
      const BignumPtr n = GetBnParam(pkey, OSSL_PKEY_PARAM_RSA_N);
      const BignumPtr e = GetBnParam(pkey, OSSL_PKEY_PARAM_RSA_E);
      const auto n_bytes = n ? BnBytes(*n, 0) : std::nullopt;
      const auto e_bytes = e ? BnBytes(*e, 0) : std::nullopt;
      if (!n_bytes || !e_bytes) {
        return Fail(ErrorCode::kInternal, "cannot export the RSA public key");
      }
      jwk["kty"] = "RSA";
      jwk["n"] = B64(*n_bytes);
      jwk["e"] = B64(*e_bytes);
      return jwk;
    }
    case Algorithm::kHS256:
    case Algorithm::kHS384:
    case Algorithm::kHS512:
      break;
  }
  return Fail(ErrorCode::kInternal, "HMAC keys have no public JWK");
}

}  // namespace internal

Result<Key> Key::FromPublicJwk(const boost::json::object& jwk) {
  const auto alg_name = StringMember(jwk, "alg");
  const std::optional<Algorithm> algorithm = alg_name ? ParseAlgorithm(*alg_name) : std::nullopt;
  if (!algorithm) return Fail(ErrorCode::kValidation, "JWK needs a supported \"alg\"");
  if (IsSymmetric(*algorithm)) {
    return Fail(ErrorCode::kValidation, "HMAC keys are never imported from a JWK");
  }
  const auto kid = StringMember(jwk, "kid");
  if (!kid) return Fail(ErrorCode::kValidation, "JWK needs a \"kid\"");
  if (const boost::json::value* use = jwk.if_contains("use");
      use != nullptr && !(use->is_string() && use->get_string() == "sig")) {
    return Fail(ErrorCode::kValidation, "JWK \"use\" must be \"sig\" (RFC 7517 §4.2)");
  }
  // Private members (RFC 7518 §6.2.2, §6.3.2; RFC 8037 §2): a public import must not carry them.
  for (const std::string_view name : {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}) {
    if (jwk.contains(name)) return Fail(ErrorCode::kValidation, "JWK carries private member");
  }

  Result<internal::EvpPkeyPtr> pkey = Fail(ErrorCode::kInternal);
  switch (*algorithm) {
    case Algorithm::kEdDSA:
      pkey = ImportEd25519(jwk);
      break;
    case Algorithm::kES256:
      pkey = ImportP256(jwk);
      break;
    case Algorithm::kRS256:
      pkey = ImportRsa(jwk);
      break;
    case Algorithm::kHS256:
    case Algorithm::kHS384:
    case Algorithm::kHS512:
      break;
  }
  if (!pkey) return std::unexpected(std::move(pkey.error()));
  auto material = std::make_shared<internal::KeyMaterial>();
  material->pkey = std::move(*pkey);
  material->can_sign = false;
  return KeyFactory::Make(std::string(*kid), *algorithm, TimePoint{}, std::nullopt, std::nullopt,
                          std::move(material));
}

}  // namespace sessiond::jwt
