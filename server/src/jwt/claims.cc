#include "jwt/claims.h"

#include <array>
#include <cstdint>
#include <string_view>

#include "crypto/crypto.h"

namespace sessiond::jwt {

std::string NewJwtId(Random& random) {
  std::array<std::uint8_t, 16> bytes{};
  random.Fill(bytes);
  return crypto::Base64UrlEncode(bytes);
}

boost::json::object AccessTokenClaims(const ClaimsInput& input) {
  const std::int64_t iat =
      std::chrono::floor<std::chrono::seconds>(input.issued_at).time_since_epoch().count();
  boost::json::object claims;
  claims["iss"] = input.issuer;
  claims["aud"] = input.audience;
  claims["sub"] = input.user_id;
  claims["sid"] = input.session_id;
  claims["jti"] = input.jti;
  claims["iat"] = iat;
  claims["exp"] = iat + input.lifetime.count();
  claims["email"] = input.email;
  if (input.role) claims["role"] = *input.role;
  constexpr std::array<std::string_view, 10> kReserved = {"iss", "aud", "sub", "sid",   "jti",
                                                          "iat", "exp", "nbf", "email", "role"};
  for (const auto& [name, value] : input.extra) {
    bool reserved = false;
    for (const std::string_view r : kReserved) reserved = reserved || name == r;
    if (!reserved) claims[name] = value;
  }
  return claims;
}

}  // namespace sessiond::jwt
