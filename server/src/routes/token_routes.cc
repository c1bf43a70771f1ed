#include "routes/token_routes.h"

#include <algorithm>
#include <string>
#include <string_view>

#include "http/error_table.h"
#include "routes/access_tokens.h"

namespace sessiond::routes {
namespace {

using boost::json::object;

// {token, expiresAt}: expiresAt (seconds since the epoch, the JWT's exp) lets a client schedule
// its refresh without decoding the token.
http::Response Token(const RouteContext& ctx, const http::Request& request) {
  auto caller = RequireSession(ctx, request);
  if (!caller) return http::ErrorResponse(caller.error());
  auto issued = ctx.tokens->Issue(caller->active);
  if (!issued) return http::ErrorResponse(issued.error());
  http::Response r =
      JsonResponse(200, object{{"token", issued->token}, {"expiresAt", issued->expires_at}});
  AddRenewal(ctx, *caller, r);
  NoStore(r);
  return r;
}

http::Response Jwks(const RouteContext& ctx, const http::Request&) {
  http::Response r = JsonResponse(200, ctx.tokens->Jwks());
  // Verifiers may cache the set; a rotated-in key is fetched on its first unknown kid.
  r.headers.Add("cache-control", "public, max-age=300");
  return r;
}

// Forward auth (nginx auth_request, Traefik forwardAuth): 200 with the identity in headers for a
// live session (cookie or bearer) or a valid, unrevoked access token; 401 otherwise. An access
// token is checked without the database: signature and claims, then the in-memory revocation
// record, so a signed-out session's tokens stop passing at once.
http::Response ForwardAuth(const RouteContext& ctx, const http::Request& request) {
  auto allow = [](const std::string& user_id, const std::string& email,
                  const std::string& session_id) {
    http::Response r =
        JsonResponse(200, object{{"userId", user_id}, {"email", email}, {"sessionId", session_id}});
    r.headers.Add("x-user-id", user_id);
    r.headers.Add("x-user-email", email);
    r.headers.Add("x-session-id", session_id);
    NoStore(r);
    return r;
  };
  auto refuse = [](const Error& error) {
    http::Response r = http::ErrorResponse(error);
    if (r.status == 401) r.headers.Add("www-authenticate", "Bearer");
    NoStore(r);
    return r;
  };
  const auto authorization = request.headers.Get("authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (ctx.tokens != nullptr && authorization && authorization->starts_with(kBearer) &&
      std::ranges::count(*authorization, '.') == 2) {
    // Three dot-separated segments: a JWT (a signed session token has one dot).
    auto verified = ctx.tokens->Verify(authorization->substr(kBearer.size()));
    if (!verified) return refuse(verified.error());
    if (ctx.sessions.IsRevoked(verified->session_id)) {
      return refuse({ErrorCode::kUnauthorized, "access token of a revoked session"});
    }
    // While this replica may be missing revocations made elsewhere (its notification
    // connection is down: caches not trusted), memory is not enough: the database decides.
    if (!ctx.sessions.caches_trusted()) {
      auto live = ctx.sessions.IsSessionLive(verified->user_id, verified->session_id);
      if (!live) return refuse(live.error());
      if (!*live) return refuse({ErrorCode::kUnauthorized, "access token of an ended session"});
    }
    return allow(verified->user_id, verified->email, verified->session_id);
  }
  auto caller = RequireSession(ctx, request);
  if (!caller) return refuse(caller.error());
  http::Response r =
      allow(caller->active.user.id, caller->active.user.email, caller->active.session.id);
  AddRenewal(ctx, *caller, r);
  return r;
}

}  // namespace

void AddTokenRoutes(http::Router& router, const std::shared_ptr<const RouteContext>& ctx) {
  AddGuarded(router, ctx, "GET", "/api/auth/token", &Token, /*csrf=*/false);
  AddGuarded(router, ctx, "GET", "/api/auth/jwks", &Jwks, /*csrf=*/false);
  AddGuarded(router, ctx, "GET", "/.well-known/jwks.json", &Jwks, /*csrf=*/false);
  // auth_request keeps the original method; every one of them gets the same answer.
  for (const char* method : {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}) {
    AddGuarded(router, ctx, method, "/api/auth/verify", &ForwardAuth, /*csrf=*/false);
  }
}

}  // namespace sessiond::routes
