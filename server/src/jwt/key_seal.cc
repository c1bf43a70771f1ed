// Key::Seal / Key::Unseal: keys at rest.
//
// Sealed form (one JSON object):
//   {"v":1, "kid", "alg", "created_at" (Unix ms), "retired_at"?, "drop_after"?,
//    "nonce": base64url(24 bytes), "box": base64url(crypto_secretbox_easy(plaintext))}
// plaintext = <the same metadata, serialized> "\n" <private bytes>
// private bytes = PKCS#8 PrivateKeyInfo DER (RFC 5208) for EdDSA/ES256/RS256, the raw shared
// secret for HS*.
//
// crypto_secretbox has no associated data, so the metadata is also encrypted and compared on
// unseal: editing "alg" or "kid" in the clear part of a stored blob (e.g. to turn an RS256 key
// into an "HS256" one) fails instead of rebinding the key.
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/encoder.h>
#include <openssl/err.h>
#include <sodium.h>

#include <boost/json/serialize.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "crypto/crypto.h"
#include "jwt/bytes.h"
#include "jwt/key.h"
#include "jwt/key_material.h"
#include "jwt/openssl_holders.h"
#include "jwt/strict_json.h"

namespace sessiond::jwt {
namespace {

namespace json = boost::json;

constexpr std::string_view kContext = "sessiond/jwt-key-encryption/v1";
constexpr std::size_t kMinServerSecretBytes = 32;
constexpr std::int64_t kSealVersion = 1;

// Holds secret bytes and wipes them when it goes out of scope.
template <std::size_t N>
struct WipedArray {
  std::array<unsigned char, N> bytes{};
  WipedArray() = default;
  WipedArray(const WipedArray&) = delete;
  WipedArray& operator=(const WipedArray&) = delete;
  ~WipedArray() { sodium_memzero(bytes.data(), bytes.size()); }
};
struct WipedString {
  std::string s;
  WipedString() = default;
  WipedString(const WipedString&) = delete;
  WipedString& operator=(const WipedString&) = delete;
  ~WipedString() { crypto::Wipe(s); }
};

using SealingKey = WipedArray<crypto_secretbox_KEYBYTES>;

// BLAKE2b-256(kContext || 0x00 || secret). The server secret is high-entropy (>= 32 bytes,
// generated or configured), so a fast hash is a sound KDF; the context separates this key
// from every other use of the secret (cookie HMACs).
void DeriveSealingKey(std::string_view server_secret, SealingKey& key) {
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, key.bytes.size());
  crypto_generichash_update(&state, internal::UChars(kContext), kContext.size());
  const unsigned char separator = 0;
  crypto_generichash_update(&state, &separator, 1);
  crypto_generichash_update(&state, internal::UChars(server_secret), server_secret.size());
  crypto_generichash_final(&state, key.bytes.data(), key.bytes.size());
  sodium_memzero(&state, sizeof state);
}

json::object Metadata(const Key& key) {
  json::object meta;
  meta["v"] = kSealVersion;
  meta["kid"] = key.kid();
  meta["alg"] = AlgorithmName(key.algorithm());
  meta["created_at"] = ToUnixMillis(key.created_at());
  if (const auto retired_at = key.retired_at()) meta["retired_at"] = ToUnixMillis(*retired_at);
  if (const auto drop_after = key.drop_after()) meta["drop_after"] = ToUnixMillis(*drop_after);
  return meta;
}

// PKCS#8 DER of `pkey` into `out` (wiped by its owner).
Result<void> EncodePrivateKey(const EVP_PKEY& pkey, std::string& out) {
  internal::EncoderCtxPtr ctx(
      OSSL_ENCODER_CTX_new_for_pkey(&pkey, EVP_PKEY_KEYPAIR, "DER", "PrivateKeyInfo", nullptr));
  unsigned char* data = nullptr;
  std::size_t len = 0;
  if (ctx == nullptr || OSSL_ENCODER_CTX_get_num_encoders(ctx.get()) == 0 ||
      OSSL_ENCODER_to_data(ctx.get(), &data, &len) != 1) {
    ERR_clear_error();
    return Fail(ErrorCode::kInternal, "cannot encode the private key");
  }
  out.assign(reinterpret_cast<const char*>(data), len);
  OPENSSL_clear_free(data, len);
  return {};
}

Result<internal::EvpPkeyPtr> DecodePrivateKey(Algorithm algorithm, std::string_view der) {
  const char* type = algorithm == Algorithm::kEdDSA   ? "ED25519"
                     : algorithm == Algorithm::kES256 ? "EC"
                                                      : "RSA";
  EVP_PKEY* pkey = nullptr;
  internal::DecoderCtxPtr ctx(OSSL_DECODER_CTX_new_for_pkey(&pkey, "DER", "PrivateKeyInfo", type,
                                                            EVP_PKEY_KEYPAIR, nullptr, nullptr));
  const unsigned char* data = internal::UChars(der);
  std::size_t len = der.size();
  if (ctx == nullptr || OSSL_DECODER_from_data(ctx.get(), &data, &len) != 1 || pkey == nullptr) {
    ERR_clear_error();
    EVP_PKEY_free(pkey);
    return Fail(ErrorCode::kInternal, "sealed private key does not decode");
  }
  return internal::EvpPkeyPtr(pkey);
}

struct SealedMetadata {
  std::string kid;
  Algorithm algorithm = Algorithm::kEdDSA;
  TimePoint created_at;
  std::optional<TimePoint> retired_at;
  std::optional<TimePoint> drop_after;
};

// The fields Metadata() wrote; kInternal for anything else.
Result<SealedMetadata> ParseMetadata(const json::object& meta) {
  const auto unsupported = [] {
    return Fail(ErrorCode::kInternal, "sealed JWT key: unsupported metadata");
  };
  const json::value* version = meta.if_contains("v");
  const json::value* kid = meta.if_contains("kid");
  const json::value* alg = meta.if_contains("alg");
  const json::value* created = meta.if_contains("created_at");
  if (version == nullptr || !version->is_int64() || version->get_int64() != kSealVersion ||
      kid == nullptr || !kid->is_string() || alg == nullptr || !alg->is_string() ||
      created == nullptr || !created->is_int64()) {
    return unsupported();
  }
  SealedMetadata out;
  const std::optional<Algorithm> algorithm = ParseAlgorithm(alg->get_string());
  if (!algorithm.has_value()) return unsupported();
  out.algorithm = *algorithm;
  out.kid = kid->get_string();
  out.created_at = FromUnixMillis(created->get_int64());
  for (const auto& [name, field] :
       {std::pair{"retired_at", &out.retired_at}, std::pair{"drop_after", &out.drop_after}}) {
    if (const json::value* v = meta.if_contains(name)) {
      if (!v->is_int64()) return unsupported();
      *field = FromUnixMillis(v->get_int64());
    }
  }
  return out;
}

Result<void> CheckSecret(std::string_view server_secret) {
  if (server_secret.size() < kMinServerSecretBytes) {
    return Fail(ErrorCode::kValidation, "the server secret must be at least 32 bytes");
  }
  return {};
}

}  // namespace

Result<std::string> Key::Seal(std::string_view server_secret) const {
  if (auto ok = CheckSecret(server_secret); !ok) return std::unexpected(std::move(ok.error()));
  if (!can_sign()) return Fail(ErrorCode::kInternal, "a verify-only key has nothing to seal");

  WipedString private_bytes;
  if (IsSymmetric(algorithm_)) {
    private_bytes.s = material_->hmac_secret;
  } else if (auto encoded = EncodePrivateKey(*material_->pkey, private_bytes.s); !encoded) {
    return std::unexpected(std::move(encoded.error()));
  }
  json::object sealed = Metadata(*this);
  WipedString plaintext;
  plaintext.s = json::serialize(sealed);
  plaintext.s += '\n';
  plaintext.s += private_bytes.s;

  std::array<std::uint8_t, crypto_secretbox_NONCEBYTES> nonce{};
  crypto::SodiumRandom().Fill(nonce);
  SealingKey key;
  DeriveSealingKey(server_secret, key);
  std::string box(crypto_secretbox_MACBYTES + plaintext.s.size(), '\0');
  crypto_secretbox_easy(reinterpret_cast<unsigned char*>(box.data()), internal::UChars(plaintext.s),
                        plaintext.s.size(), nonce.data(), key.bytes.data());
  sealed["nonce"] = crypto::Base64UrlEncode(nonce);
  sealed["box"] = crypto::Base64UrlEncode(internal::AsBytes(box));
  return json::serialize(sealed);
}

Result<Key> Key::Unseal(std::string_view sealed, std::string_view server_secret) {
  if (auto ok = CheckSecret(server_secret); !ok) return std::unexpected(std::move(ok.error()));
  auto outer = ParseObjectStrict(sealed);
  if (!outer) return Fail(ErrorCode::kInternal, "sealed JWT key is not a JSON object");
  const json::value* nonce_text = outer->if_contains("nonce");
  const json::value* box_text = outer->if_contains("box");
  if (nonce_text == nullptr || box_text == nullptr || !nonce_text->is_string() ||
      !box_text->is_string()) {
    return Fail(ErrorCode::kInternal, "sealed JWT key lacks nonce/box");
  }
  const auto nonce = crypto::Base64UrlDecode(nonce_text->get_string());
  const auto box = crypto::Base64UrlDecode(box_text->get_string());
  if (!nonce || !box || nonce->size() != crypto_secretbox_NONCEBYTES ||
      box->size() < crypto_secretbox_MACBYTES) {
    return Fail(ErrorCode::kInternal, "sealed JWT key has a malformed nonce/box");
  }

  SealingKey key;
  DeriveSealingKey(server_secret, key);
  WipedString plaintext;
  plaintext.s.assign(box->size() - crypto_secretbox_MACBYTES, '\0');
  if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(plaintext.s.data()),
                                 internal::UChars(*box), box->size(), internal::UChars(*nonce),
                                 key.bytes.data()) != 0) {
    return Fail(ErrorCode::kInternal,
                "cannot decrypt sealed JWT key: wrong server secret or corrupted data");
  }

  const std::size_t newline = plaintext.s.find('\n');
  if (newline == std::string::npos) {
    return Fail(ErrorCode::kInternal, "sealed JWT key: bad plaintext");
  }
  auto meta = ParseObjectStrict(std::string_view(plaintext.s).substr(0, newline));
  json::object clear_meta = *outer;
  clear_meta.erase("nonce");
  clear_meta.erase("box");
  if (!meta || *meta != clear_meta) {
    return Fail(ErrorCode::kInternal, "sealed JWT key: metadata was altered");
  }

  auto metadata = ParseMetadata(*meta);
  if (!metadata) return std::unexpected(std::move(metadata.error()));
  const Algorithm algorithm = metadata->algorithm;

  const std::string_view private_bytes = std::string_view(plaintext.s).substr(newline + 1);
  auto material = std::make_shared<internal::KeyMaterial>();
  material->can_sign = true;
  if (IsSymmetric(algorithm)) {
    material->hmac_secret.assign(private_bytes);
  } else {
    auto pkey = DecodePrivateKey(algorithm, private_bytes);
    if (!pkey) return std::unexpected(std::move(pkey.error()));
    material->pkey = std::move(*pkey);
  }
  auto result = KeyFactory::Make(std::move(metadata->kid), algorithm, metadata->created_at,
                                 metadata->retired_at, metadata->drop_after, std::move(material));
  if (!result) {
    return Fail(ErrorCode::kInternal, "sealed JWT key is invalid: " + result.error().detail);
  }
  return result;
}

}  // namespace sessiond::jwt
