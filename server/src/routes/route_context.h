// What every session route needs, and the small pieces they share: the credential → session
// step, response headers, rate-limit and CSRF guards. One place, so auth_routes.cc and
// session_routes.cc stay thin.
#pragma once

#include <boost/json/value.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "http/message.h"
#include "http/router.h"
#include "ratelimit/rate_limiter.h"
#include "routes/origin_check.h"
#include "routes/session_cookies.h"
#include "session/session_service.h"

namespace sessiond::routes {

class AccessTokens;
class CookieCache;

struct RouteOptions {
  std::string path_success = "/";     // Redirect target of a form sign-in / sign-up.
  std::string path_logged_out = "/";  // Redirect target of a form sign-out.
};

// Shared by every handler; the references must outlive the router.
struct RouteContext {
  session::SessionService& sessions;
  const SessionCookies& cookies;
  const OriginCheck& origin_check;
  ratelimit::RateLimiter* limiter = nullptr;  // Null: no rate limiting.
  RouteOptions options;
  AccessTokens* tokens = nullptr;  // Null: no JWT routes.
  bool get_session_jwt = false;    // get-session sends a (cached) JWT in set-auth-jwt.
  // Null: cookie cache off (cookieCache.enabled = false); get-session always reads the store.
  const CookieCache* cookie_cache = nullptr;
};

using ContextHandler = std::function<http::Response(const RouteContext&, const http::Request&)>;

// CORS (Fetch standard, "CORS protocol"): a request whose Origin is trusted gets
// Access-Control-Allow-Origin: <that origin> with credentials allowed, so a web app on another
// port or subdomain can call sessiond with credentials:'include'. Untrusted origins get no CORS
// headers, and the browser withholds the response from them.
void AddCorsHeaders(const RouteContext& ctx, const http::Request& request,
                    http::Response& response);

// Registers `handler` behind the guards: the per-IP rate limit (429 with Retry-After when over,
// X-RateLimit-* headers otherwise) and, when `csrf`, the origin check of cookie-carrying
// state-changing requests.
void AddGuarded(http::Router& router, const std::shared_ptr<const RouteContext>& ctx,
                std::string method, std::string path, ContextHandler handler, bool csrf,
                http::Execution execution = http::Execution::kInline);

// Responses that carry or create a session must not be stored by any cache (RFC 9111 §5.2.2.5).
void NoStore(http::Response& response);

[[nodiscard]] http::Response JsonResponse(int status, const boost::json::value& body);
// The same for an object, serialized as is (through the value overload an object would first be
// deep-copied into a temporary boost::json::value).
[[nodiscard]] http::Response JsonResponse(int status, const boost::json::object& body);

// Set-Cookie lines that expire the session cookies.
void ClearCookies(const RouteContext& ctx, http::Response& response);

// IP and User-Agent of the request, as the session records them.
[[nodiscard]] session::ClientInfo ClientOf(const http::Request& request);

// The caller's session (validated, possibly renewed), or kUnauthorized.
struct Caller {
  Credential credential;
  session::ActiveSession active;
};
[[nodiscard]] Result<Caller> RequireSession(const RouteContext& ctx, const http::Request& request);
// The same, for a credential the caller has already read from the request. `from` kStore skips
// the core's in-process session cache (?disableCookieCache=true).
[[nodiscard]] Result<Caller> RequireSession(
    const RouteContext& ctx, Credential credential,
    session::ReadFrom from = session::ReadFrom::kCacheOrStore);

// Adds the caller's refreshed cookies when the credential came by cookie: the session cookie
// (and set-auth-token) when the session slid, and with the cookie cache on a fresh session_data
// cookie caching the session as just validated (as Better Auth re-sets it on every read of the
// session from the database).
void AddRenewal(const RouteContext& ctx, const Caller& caller, http::Response& response);

// Hands a session just created (sign-up, sign-in, change-password, one-time token) to the
// client: Better Auth's set-auth-token header (the signed token, for clients that cannot hold
// cookies), the session cookie and its cookie-cache copy.
void IssueSession(const RouteContext& ctx, const session::NewSession& s, http::Response& response);

// With the cookie cache on, the session_data cookie caching `active` for the holder of `token`
// (sign-in, sign-up, change-password: a session that just began). Nothing when it is off.
void AddCookieCache(const RouteContext& ctx, const session::ActiveSession& active,
                    std::string_view token, http::Response& response);

}  // namespace sessiond::routes
