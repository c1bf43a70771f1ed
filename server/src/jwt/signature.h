// Raw JWS signature primitives: the bytes of the JWS Signature over a JWS Signing Input
// (RFC 7515 §5.1 step 5 and §5.2 step 8), computed with the algorithm the key is bound to.
// Sign()/Verify() in jws.h are built on these; tests use SignBytes to forge well-signed but
// hostile tokens.
//
//  * EdDSA: Ed25519 (RFC 8037 §3.1, RFC 8032 §5.1.6), 64 bytes, via libsodium
//    (crypto_sign_detached / crypto_sign_verify_detached).
//  * ES256: ECDSA P-256 SHA-256, the 64-byte R||S form of RFC 7518 §3.4 (OpenSSL's DER
//    ECDSA-Sig-Value is converted both ways).
//  * RS256: RSASSA-PKCS1-v1_5 SHA-256 (RFC 7518 §3.3), modulus-length bytes.
//  * HS256/384/512: HMAC (RFC 7518 §3.2), compared in constant time.
//
// Thread-safety: pure functions of their arguments; Keys may be shared between threads.
#pragma once

#include <string>
#include <string_view>

#include "common/error.h"
#include "jwt/key.h"

namespace sessiond::jwt {

// The signature of `signing_input` under `key`. kInternal if the key is verify-only or
// OpenSSL fails.
[[nodiscard]] Result<std::string> SignBytes(const Key& key, std::string_view signing_input);

// True only if `signature` is exactly the right length for the key's algorithm and valid over
// `signing_input`. Never throws; an OpenSSL failure counts as invalid.
[[nodiscard]] bool VerifyBytes(const Key& key, std::string_view signing_input,
                               std::string_view signature);

}  // namespace sessiond::jwt
