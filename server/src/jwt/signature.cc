#include "jwt/signature.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <sodium.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "crypto/crypto.h"
#include "jwt/bytes.h"
#include "jwt/key_material.h"
#include "jwt/openssl_holders.h"

namespace sessiond::jwt {
namespace {

constexpr std::size_t kEs256CoordinateBytes = 32;  // RFC 7518 §3.4: R and S, 32 bytes each.
constexpr std::size_t kEs256SignatureBytes = 2 * kEs256CoordinateBytes;

const char* DigestName(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::kEdDSA:
      return nullptr;  // Signed by libsodium; PureEdDSA takes no digest anyway.
    case Algorithm::kES256:
    case Algorithm::kRS256:
    case Algorithm::kHS256:
      return "SHA256";
    case Algorithm::kHS384:
      return "SHA384";
    case Algorithm::kHS512:
      return "SHA512";
  }
  return nullptr;
}

// HMAC-SHA-2 of `data`; nullopt if OpenSSL fails (callers fail closed).
std::optional<std::string> Hmac(Algorithm algorithm, std::string_view key, std::string_view data) {
  if (algorithm == Algorithm::kHS256) {
    // The audited, context-caching wrapper; it aborts rather than return a wrong MAC.
    const crypto::Sha256Digest mac = crypto::HmacSha256(key, data);
    return std::string(internal::AsChars(mac));
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  std::size_t mac_len = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, DigestName(algorithm), nullptr, internal::UChars(key),
                key.size(), internal::UChars(data), data.size(), mac.data(), mac.size(),
                &mac_len) == nullptr ||
      mac_len != MinHmacKeyBytes(algorithm)) {
    ERR_clear_error();
    return std::nullopt;
  }
  return std::string(reinterpret_cast<const char*>(mac.data()), mac_len);
}

// One-shot EVP_DigestSign with the key's digest (none for Ed25519).
std::optional<std::string> EvpSign(Algorithm algorithm, EVP_PKEY& pkey, std::string_view input) {
  internal::EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // Owned by ctx.
  if (ctx == nullptr || EVP_DigestSignInit_ex(ctx.get(), &pctx, DigestName(algorithm), nullptr,
                                              nullptr, &pkey, nullptr) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  if (algorithm == Algorithm::kRS256 &&
      EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  std::size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, internal::UChars(input), input.size()) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  std::string signature(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &len,
                     internal::UChars(input), input.size()) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  signature.resize(len);
  return signature;
}

bool EvpVerify(Algorithm algorithm, EVP_PKEY& pkey, std::string_view input,
               std::string_view signature) {
  internal::EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // Owned by ctx.
  bool ok = ctx != nullptr && EVP_DigestVerifyInit_ex(ctx.get(), &pctx, DigestName(algorithm),
                                                      nullptr, nullptr, &pkey, nullptr) == 1;
  if (ok && algorithm == Algorithm::kRS256) {
    ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1;
  }
  ok = ok && EVP_DigestVerify(ctx.get(), internal::UChars(signature), signature.size(),
                              internal::UChars(input), input.size()) == 1;
  // A failed verification leaves entries on this thread's error queue; do not leak them to
  // whoever checks the queue next.
  if (!ok) ERR_clear_error();
  return ok;
}

// DER ECDSA-Sig-Value → R||S with each integer left-padded to 32 bytes (RFC 7518 §3.4).
std::optional<std::string> DerToRaw(std::string_view der) {
  const unsigned char* p = internal::UChars(der);
  internal::EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (sig == nullptr) {
    ERR_clear_error();
    return std::nullopt;
  }
  const BIGNUM* r = ECDSA_SIG_get0_r(sig.get());
  const BIGNUM* s = ECDSA_SIG_get0_s(sig.get());
  std::string raw(kEs256SignatureBytes, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  const int width = static_cast<int>(kEs256CoordinateBytes);
  if (BN_bn2binpad(r, out, width) != width || BN_bn2binpad(s, out + width, width) != width) {
    return std::nullopt;
  }
  return raw;
}

// R||S (exactly 64 bytes) → DER ECDSA-Sig-Value for OpenSSL.
std::optional<std::vector<unsigned char>> RawToDer(std::string_view raw) {
  if (raw.size() != kEs256SignatureBytes) return std::nullopt;
  const unsigned char* in = internal::UChars(raw);
  const int width = static_cast<int>(kEs256CoordinateBytes);
  internal::BignumPtr r(BN_bin2bn(in, width, nullptr));
  internal::BignumPtr s(BN_bin2bn(in + width, width, nullptr));
  internal::EcdsaSigPtr sig(ECDSA_SIG_new());
  if (r == nullptr || s == nullptr || sig == nullptr ||
      ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
    return std::nullopt;
  }
  // ECDSA_SIG_set0 took ownership of r and s.
  static_cast<void>(r.release());
  static_cast<void>(s.release());
  const int len = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (len <= 0) return std::nullopt;
  std::vector<unsigned char> der(static_cast<std::size_t>(len));
  unsigned char* p = der.data();
  if (i2d_ECDSA_SIG(sig.get(), &p) != len) return std::nullopt;
  return der;
}

}  // namespace

Result<std::string> SignBytes(const Key& key, std::string_view signing_input) {
  const internal::KeyMaterial& material = key.material();
  if (!material.can_sign) return Fail(ErrorCode::kInternal, "key " + key.kid() + " cannot sign");
  const Algorithm algorithm = key.algorithm();
  std::optional<std::string> signature;
  if (IsSymmetric(algorithm)) {
    signature = Hmac(algorithm, material.hmac_secret, signing_input);
  } else if (algorithm == Algorithm::kEdDSA) {
    if (material.ed25519_secret.size() == crypto_sign_SECRETKEYBYTES) {
      std::string ed25519(crypto_sign_BYTES, '\0');
      crypto_sign_detached(reinterpret_cast<unsigned char*>(ed25519.data()), nullptr,
                           internal::UChars(signing_input), signing_input.size(),
                           internal::UChars(material.ed25519_secret));
      signature = std::move(ed25519);
    }
  } else {
    signature = EvpSign(algorithm, *material.pkey, signing_input);
    if (signature && algorithm == Algorithm::kES256) signature = DerToRaw(*signature);
  }
  if (!signature) {
    return Fail(ErrorCode::kInternal,
                std::string(AlgorithmName(algorithm)) + " signing failed in OpenSSL");
  }
  return std::move(*signature);
}

bool VerifyBytes(const Key& key, std::string_view signing_input, std::string_view signature) {
  const internal::KeyMaterial& material = key.material();
  const Algorithm algorithm = key.algorithm();
  switch (algorithm) {
    case Algorithm::kHS256:
    case Algorithm::kHS384:
    case Algorithm::kHS512: {
      if (signature.size() != MinHmacKeyBytes(algorithm)) return false;
      const auto expected = Hmac(algorithm, material.hmac_secret, signing_input);
      return expected && crypto::ConstantTimeEquals(*expected, signature);
    }
    case Algorithm::kEdDSA:
      return signature.size() == crypto_sign_BYTES &&
             crypto_sign_verify_detached(internal::UChars(signature),
                                         internal::UChars(signing_input), signing_input.size(),
                                         material.ed25519_public.data()) == 0;
    case Algorithm::kES256: {
      const auto der = RawToDer(signature);
      if (!der) return false;
      const std::string_view der_view(reinterpret_cast<const char*>(der->data()), der->size());
      return EvpVerify(algorithm, *material.pkey, signing_input, der_view);
    }
    case Algorithm::kRS256:
      // RFC 8017 §8.2.2 step 1: the signature is exactly k (modulus length) bytes.
      return signature.size() == static_cast<std::size_t>(EVP_PKEY_get_size(material.pkey.get())) &&
             EvpVerify(algorithm, *material.pkey, signing_input, signature);
  }
  return false;
}

}  // namespace sessiond::jwt
