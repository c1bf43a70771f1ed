// The Better Auth-compatible sign-in routes under /api/auth: sign-up/email, sign-in/email,
// get-session, session, sign-out. Thin: parse → session core → render (docs/api.md).
#pragma once

#include <memory>

#include "http/router.h"
#include "routes/route_context.h"

namespace sessiond::routes {

// Registers the routes; `ctx` is shared by their handlers.
void AddAuthRoutes(http::Router& router, const std::shared_ptr<const RouteContext>& ctx);

}  // namespace sessiond::routes
