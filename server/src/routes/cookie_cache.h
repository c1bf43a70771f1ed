// The cookie cache (Better Auth's session.cookieCache, strategy "compact"): a signed
// "<prefix>.session_data" cookie holding the session and user as the database last showed them,
// so get-session can answer again without a database read for up to maxAge seconds.
//
// Value, exactly Better Auth's compact form so its getCookieCache() can read our cookies:
//   base64url(JSON {"session": D, "expiresAt": <ms>, "signature": S}), no padding, where
//   D = {"session": <session as get-session renders it>, "user": <user>, "updatedAt": <ms issued>,
//        "version": "1", "rememberMe": <bool>, "binding": <B>}
//   S = base64url(HMAC-SHA256(server secret, JSON of D with "expiresAt" appended)).
// "rememberMe" and "binding" are sessiond's: the session's kind (for its lifetime rules) and
// B = base64url(HMAC-SHA256(key derived from the secret, raw session token)), which ties the copy
// to the session_token cookie it was issued with — a session_data cookie presented with any other
// token is ignored. Like get-session's body, the copy never holds the credential: its `token`
// field is the revocation handle.
//
// What may answer from a copy (not revoked, not expired, nothing due) is the session core's
// decision (SessionService::CanAnswerFromCopy); this class only proves the copy is ours, for
// this token, and fresh.
//
// Thread-safety: immutable after construction.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "http/message.h"
#include "routes/session_cookies.h"
#include "session/session_service.h"

namespace sessiond::routes {

struct CookieCacheOptions {
  seconds max_age{300};  // Seed 002: 5 minutes. The cookie's Max-Age and the copy's lifetime.
  // Copies issued before this instant are not trusted. The in-memory record of revocations
  // (SessionService::IsRevoked) starts empty with the process, so a copy made before it started
  // could name a session revoked before it started: the app sets its start time here.
  TimePoint not_before;
};

class CookieCache {
 public:
  // Longest Set-Cookie name=value written; a session that would need more (a long image URL and
  // user agent) is not cached, as browsers drop cookies over 4096 bytes.
  static constexpr std::size_t kMaxCookieBytes = 4000;

  // `secret` is the server secret (Better Auth signs session_data with it); `cookie_options`
  // gives the name prefix and the attributes shared with the session cookie.
  CookieCache(CookieCacheOptions options, std::string secret, const CookieOptions& cookie_options,
              const Clock& clock);
  ~CookieCache();
  CookieCache(const CookieCache&) = delete;
  CookieCache& operator=(const CookieCache&) = delete;

  // "<__Secure->?<prefix>.session_data".
  [[nodiscard]] const std::string& cookie_name() const { return name_; }

  // The Set-Cookie line caching `active` (whose revocation handle is `handle`) for whoever
  // holds `token`, valid for max_age from now; when that would exceed kMaxCookieBytes, the line
  // that deletes the cookie instead (so no older copy lingers).
  [[nodiscard]] std::string Issue(const session::ActiveSession& active, std::string_view handle,
                                  std::string_view token) const;

  // The Set-Cookie line that deletes the cookie.
  [[nodiscard]] std::string Clear() const;

  // The session cached in the request's session_data cookie, if there is one that is ours (its
  // signature verifies, compared in constant time), bound to `token`, issued at or after
  // not_before and less than max_age ago, and not past its own expiresAt. Anything else —
  // missing, malformed, tampered, foreign, stale — is nullopt, never an error: the caller reads
  // the database instead. The copy's `renewed` is false.
  [[nodiscard]] std::optional<session::ActiveSession> Read(const http::Request& request,
                                                           std::string_view token) const;

 private:
  [[nodiscard]] std::string Binding(std::string_view token) const;

  CookieCacheOptions options_;
  std::string secret_;       // Wiped on destruction.
  std::string binding_key_;  // HMAC-SHA256(secret, "sessiond/session-data-binding/v1"); wiped.
  CookieOptions cookie_options_;
  const Clock& clock_;
  std::string name_;
};

// ISO 8601 "YYYY-MM-DDTHH:MM:SS.mmmZ" (exactly what ToIso8601 writes) back to a TimePoint;
// nullopt for anything else.
[[nodiscard]] std::optional<TimePoint> ParseIso8601(std::string_view text);

}  // namespace sessiond::routes
