// CSRF defence as Better Auth applies it: a state-changing request (not GET/HEAD/OPTIONS) that
// carries a Cookie header must name a trusted origin in Origin, or failing that in Referer.
// Requests with no cookies (first sign-in, bearer clients) carry no ambient credential and pass.
//
// Thread-safety: immutable after construction.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "http/message.h"

namespace sessiond::routes {

class OriginCheck {
 public:
  // `trusted` are origins ("https://app.example.com", "http://127.0.0.1:3000"); an entry may
  // use '*' as a wildcard ("https://*.example.com").
  explicit OriginCheck(const std::vector<std::string>& trusted);

  // kMissingOrNullOrigin when neither header names an origin (or Origin is "null"),
  // kInvalidOrigin when the origin is not trusted.
  [[nodiscard]] Result<void> Check(const http::Request& request) const;

  // True if an Origin header value names a trusted origin (CORS).
  [[nodiscard]] bool IsTrustedOrigin(std::string_view origin_header) const {
    const std::string origin = OriginOf(origin_header);
    return !origin.empty() && IsTrusted(origin);
  }

  // True if `url` may be redirected to: a path on this server ("/x", not "//host") or a URL on a
  // trusted origin. Used for callbackURL (no open redirects).
  [[nodiscard]] bool IsSafeRedirect(std::string_view url) const;

  // The origin ("scheme://host[:port]", lower-cased, default port dropped) of a URL, or "" if it
  // has none.
  [[nodiscard]] static std::string OriginOf(std::string_view url);

 private:
  [[nodiscard]] bool IsTrusted(std::string_view origin) const;
  std::vector<std::string> trusted_;  // Normalised with OriginOf (wildcards kept).
};

}  // namespace sessiond::routes
