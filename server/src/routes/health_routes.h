// GET /healthz (the process is alive) and GET /readyz (the store answers). No auth.
#pragma once

#include "http/router.h"
#include "store/store.h"

namespace sessiond::routes {

// `store` must outlive the router.
void AddHealthRoutes(http::Router& router, store::Store& store);

}  // namespace sessiond::routes
