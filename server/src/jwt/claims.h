// The claims of a sessiond access token (GET /api/auth/token), shaped like Better Auth's jwt
// plugin (iss = aud = base URL, sub = user id, 15 minutes) plus sid and jti.
//
// Thread-safety: pure functions (NewJwtId uses the given Random, which is thread-safe).
#pragma once

#include <boost/json/object.hpp>

#include <chrono>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/random.h"

namespace sessiond::jwt {

// Default access-token lifetime (Better Auth's jwt plugin: 15 minutes).
inline constexpr std::chrono::seconds kDefaultTokenLifetime{15 * 60};

struct ClaimsInput {
  std::string issuer;      // "iss" (RFC 7519 §4.1.1): the base URL.
  std::string audience;    // "aud" (§4.1.3): the base URL unless configured.
  std::string user_id;     // "sub" (§4.1.2).
  std::string session_id;  // "sid" (OpenID Connect Front-Channel Logout §3 uses the same name).
  std::string email;
  std::optional<std::string> role;  // Omitted when the user has none.
  // User fields named in config (bknd `fields`), name → value, copied as they are. Registered
  // and sessiond claims (iss, aud, sub, sid, jti, iat, exp, nbf, email, role) are never
  // overridden by them: those names are skipped here, and config should refuse them.
  boost::json::object extra;
  TimePoint issued_at;                                    // "iat"; truncated to whole seconds.
  std::chrono::seconds lifetime = kDefaultTokenLifetime;  // "exp" = iat + lifetime.
  std::string jti;                                        // "jti" (§4.1.7): NewJwtId().
};

// A fresh "jti": 16 bytes from `random`, base64url (22 characters).
[[nodiscard]] std::string NewJwtId(Random& random);

// {iss, aud, sub, sid, jti, iat, exp, email, role?, ...extra} with iat/exp as integer
// NumericDates (RFC 7519 §2).
[[nodiscard]] boost::json::object AccessTokenClaims(const ClaimsInput& input);

}  // namespace sessiond::jwt
