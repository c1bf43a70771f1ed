// Managing sessions and the account behind them (Better Auth wire): list-sessions,
// revoke-session, revoke-sessions, revoke-other-sessions, change-password, update-user.
// Every route needs a live session (401 UNAUTHORIZED otherwise).
#pragma once

#include <memory>

#include "http/router.h"
#include "routes/route_context.h"

namespace sessiond::routes {

void AddSessionRoutes(http::Router& router, const std::shared_ptr<const RouteContext>& ctx);

}  // namespace sessiond::routes
