// The opaque session token and its signed cookie form.
//
//  * A token is 32 bytes (256 bits) from the injected Random, base64url without padding
//    (43 characters). Only its SHA-256 (hex) is stored.
//  * The cookie / bearer value is "<token>.<sig>", sig = base64(HMAC-SHA256(secret, token))
//    with padding: Better Auth's (better-call's) signed-cookie format, so a forged or tampered
//    value is rejected without touching the database.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/random.h"

namespace sessiond::token {

// Length of a raw token in characters.
inline constexpr std::size_t kTokenLength = 43;

// A fresh random token.
[[nodiscard]] std::string NewSessionToken(Random& random);

// Lower-case hex SHA-256 of the token: the only form a store ever sees.
[[nodiscard]] std::string HashSessionToken(std::string_view token);

// Signs and verifies "<token>.<sig>" values under one server secret.
// Thread-safety: immutable after construction; safe to share.
class TokenSigner {
 public:
  explicit TokenSigner(std::string secret);
  ~TokenSigner();
  TokenSigner(const TokenSigner&) = delete;
  TokenSigner& operator=(const TokenSigner&) = delete;

  // "<token>.<base64 HMAC>".
  [[nodiscard]] std::string Sign(std::string_view token) const;

  // The token if `signed_value` is "<token>.<sig>" with a valid signature (compared in
  // constant time) and a token of the expected shape; nullopt otherwise.
  [[nodiscard]] std::optional<std::string> Verify(std::string_view signed_value) const;

 private:
  std::string secret_;  // Wiped on destruction.
};

}  // namespace sessiond::token
