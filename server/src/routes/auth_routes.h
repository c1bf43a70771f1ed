// The Better Auth-compatible session routes under /api/auth: sign-up/email, sign-in/email,
// get-session, session, sign-out. Thin: parse → session core → render (docs/api.md).
#pragma once

#include <string>

#include "http/router.h"
#include "routes/origin_check.h"
#include "routes/session_cookies.h"
#include "session/session_service.h"

namespace sessiond::routes {

struct AuthRoutesOptions {
  std::string path_success = "/";     // Redirect target of a form sign-in / sign-up.
  std::string path_logged_out = "/";  // Redirect target of a form sign-out.
};

// Registers the routes. The references must outlive the router.
void AddAuthRoutes(http::Router& router, session::SessionService& sessions,
                   const SessionCookies& cookies, const OriginCheck& origin_check,
                   AuthRoutesOptions options);

}  // namespace sessiond::routes
