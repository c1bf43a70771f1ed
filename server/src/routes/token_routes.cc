#include "routes/token_routes.h"

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

}  // namespace

void AddTokenRoutes(http::Router& router, const std::shared_ptr<const RouteContext>& ctx) {
  AddGuarded(router, ctx, "GET", "/api/auth/token", &Token, /*csrf=*/false);
  AddGuarded(router, ctx, "GET", "/api/auth/jwks", &Jwks, /*csrf=*/false);
  AddGuarded(router, ctx, "GET", "/.well-known/jwks.json", &Jwks, /*csrf=*/false);
}

}  // namespace sessiond::routes
