// The revocation feed for stateless verifiers of access tokens (docs/tokens.md "Revocation"):
//
//   GET /api/auth/revocations[?since=<cursor>]
//     → {"revocations":[{"sid":"…","revokedAt":<unix s>}], "cursor":"<opaque>", "hasMore":bool}
//     oldest first, at most 500 a page; without `since`, every revocation still retained (each is
//     kept at least as long as the longest access-token lifetime).
//   The same path with `Accept: text/event-stream` → server-sent events (WHATWG HTML §9.2): after
//     `retry: 1000`, one `id: <cursor>` / `event: revocation` / `data: {"sid","revokedAt"}` event
//     per revocation, from `since` or the Last-Event-ID header, and then live as they happen.
//
// A session id names a session but authenticates nothing, so the feed is public like the JWKS.
#pragma once

#include <memory>

#include "http/router.h"
#include "routes/route_context.h"

namespace sessiond::routes {

void AddRevocationRoutes(http::Router& router, const std::shared_ptr<const RouteContext>& ctx);

}  // namespace sessiond::routes
