// How the session credential travels: the signed session cookie (Better Auth's
// "<prefix>.session_token" = "<token>.<HMAC>") or an `Authorization: Bearer` header carrying
// the same signed value or the raw token. Builds the Set-Cookie values that create, renew and
// clear it.
//
// Thread-safety: immutable after construction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.h"
#include "token/session_token.h"

namespace sessiond::routes {

struct CookieOptions {
  std::string prefix = "better-auth";
  bool secure = false;  // Secure attribute and the "__Secure-" name prefix.
  bool http_only = true;
  std::string same_site = "Lax";  // "Lax" | "Strict" | "None".
  std::string path = "/";
  std::int64_t max_age = 604'800;  // For remembered sessions.
  bool renew = true;               // Re-set the cookie when the session slides.
};

// Where a credential was found in a request.
enum class CredentialSource { kNone, kCookie, kBearer };

struct Credential {
  CredentialSource source = CredentialSource::kNone;
  std::optional<std::string> token;  // The raw token when the credential verified.
};

class SessionCookies {
 public:
  SessionCookies(CookieOptions options, const token::TokenSigner& signer);

  // "<__Secure->?<prefix>.session_token".
  [[nodiscard]] const std::string& token_cookie_name() const { return token_name_; }

  // The raw token from the request. A bearer header wins over the cookie (it is explicit). A
  // signed value whose HMAC does not verify gives source set and no token (rejected without a
  // database read).
  [[nodiscard]] Credential Read(const http::Request& request) const;

  // Set-Cookie value for a session token: Max-Age when `remember_me`, a browser-session cookie
  // otherwise.
  [[nodiscard]] std::string Issue(std::string_view token, bool remember_me) const;

  // Set-Cookie values that expire every cookie sessiond (or Better Auth) may have set.
  [[nodiscard]] std::vector<std::string> Clear() const;

  // The signed "<token>.<sig>" (for the set-auth-token header).
  [[nodiscard]] std::string Signed(std::string_view token) const { return signer_.Sign(token); }

  [[nodiscard]] const CookieOptions& options() const { return options_; }

 private:
  CookieOptions options_;
  const token::TokenSigner& signer_;
  std::string name_prefix_;  // "__Secure-better-auth." or "better-auth."
  std::string token_name_;
};

}  // namespace sessiond::routes
