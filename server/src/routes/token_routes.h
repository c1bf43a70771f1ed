// Access tokens on Better Auth's jwt-plugin wire: GET /api/auth/token (a JWT for the caller's
// session), GET /api/auth/jwks and GET /.well-known/jwks.json (the public keys).
#pragma once

#include <memory>

#include "http/router.h"
#include "routes/route_context.h"

namespace sessiond::routes {

// Registers the routes; requires ctx->tokens.
void AddTokenRoutes(http::Router& router, const std::shared_ptr<const RouteContext>& ctx);

}  // namespace sessiond::routes
