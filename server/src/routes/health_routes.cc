#include "routes/health_routes.h"

#include "http/error_table.h"

namespace sessiond::routes {

void AddHealthRoutes(http::Router& router, store::Store& store,
                     const session::SessionService* sessions) {
  router.Add("GET", "/healthz",
             [](const http::Request&) { return http::Response::Json(200, R"({"status":"ok"})"); });
  router.Add("GET", "/readyz", [&store, sessions](const http::Request&) {
    if (auto ok = store.Ping(); !ok) return http::ErrorResponse(ok.error());
    if (sessions != nullptr && !sessions->caches_trusted()) {
      return http::Response::Json(200, R"({"status":"ready","caches":"bypassed"})");
    }
    return http::Response::Json(200, R"({"status":"ready"})");
  });
}

}  // namespace sessiond::routes
