// GET /healthz (the process is alive) and GET /readyz (the store answers). No auth.
#pragma once

#include "http/router.h"
#include "session/session_service.h"
#include "store/store.h"

namespace sessiond::routes {

// `store` (and `sessions`, when given) must outlive the router. With `sessions`, a ready answer
// says whether this replica trusts its caches: while it does not (its notification connection
// is down or it is catching up on the revocation feed) /readyz is still 200 — every answer then
// comes from the database, which is correct, only slower — with "caches":"bypassed", for
// monitoring: {"status":"ready","caches":"bypassed"}.
void AddHealthRoutes(http::Router& router, store::Store& store,
                     const session::SessionService* sessions = nullptr);

}  // namespace sessiond::routes
