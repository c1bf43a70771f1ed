// Short-lived JWT access tokens for a live session (Neon / baas.sh / bknd in the seeds), signed
// with the server's key set, and the public JWKS backends verify them with.
//
// Thread-safety: all methods are safe to call concurrently. mu_ guards keys_ (swapped whole on
// reload) and cache_.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/error.h"
#include "common/random.h"
#include "jwt/key_set.h"
#include "session/session_service.h"

namespace sessiond::routes {

struct AccessTokenOptions {
  std::string issuer;    // "iss"
  std::string audience;  // "aud"
  seconds lifetime{900};
  std::string role = "authenticated";  // "role", as Neon and Supabase name signed-in users.
  std::vector<std::string> fields;     // User fields copied in: name, image, emailVerified.
};

struct AccessToken {
  std::string token;
  std::int64_t expires_at = 0;  // Seconds since the epoch: the JWT's exp.
  TimePoint user_updated_at;    // The user as it was when signed (a cached token is stale after).
};

// What a verified access token says.
struct VerifiedAccessToken {
  std::string user_id;     // sub
  std::string session_id;  // sid
  std::string email;
};

class AccessTokens {
 public:
  AccessTokens(std::shared_ptr<jwt::KeySet> keys, const Clock& clock, Random& random,
               AccessTokenOptions options);

  // A freshly signed token for the session.
  [[nodiscard]] Result<AccessToken> Issue(const session::ActiveSession& active);

  // The session's cached token while more than a quarter of its lifetime is left and the user
  // has not changed since it was signed, else a fresh one (get-session's set-auth-jwt header: cheap
  // on the hot path). The cache is bounded.
  [[nodiscard]] Result<AccessToken> IssueCached(const session::ActiveSession& active);

  // The claims of an access token this server signed, checked like any verifier would (signature
  // by a key of the set, bound algorithm, iss, aud, exp/nbf with 30 s leeway). kUnauthorized
  // for anything else; the detail (never the token) is for the log.
  [[nodiscard]] Result<VerifiedAccessToken> Verify(std::string_view jwt) const;

  // {"keys":[...]}: public keys only (HMAC keys never), retired keys until their tokens expire
  // (expired ones are pruned here, so a running server drops them on time).
  [[nodiscard]] boost::json::object Jwks();

  // Serves `keys` from now on (after `sessiond keys rotate` wrote a new key file).
  void Replace(std::shared_ptr<jwt::KeySet> keys);

  [[nodiscard]] const AccessTokenOptions& options() const { return options_; }

 private:
  [[nodiscard]] std::shared_ptr<jwt::KeySet> Keys() const;

  static constexpr std::size_t kMaxCached = 100'000;
  mutable std::mutex mu_;
  std::shared_ptr<jwt::KeySet> keys_;                   // Guarded by mu_.
  std::unordered_map<std::string, AccessToken> cache_;  // Guarded by mu_. session id → token.
  const Clock& clock_;
  Random& random_;
  AccessTokenOptions options_;
};

}  // namespace sessiond::routes
