// JSON shapes on the wire, exactly as Better Auth renders them (camelCase keys, ISO 8601 UTC
// dates with milliseconds). The session's `token` field carries the revocation handle, never
// the credential: get-session's body is readable by page scripts, the HttpOnly cookie is not.
#pragma once

#include <boost/json/object.hpp>
#include <string_view>

#include "store/store.h"

namespace sessiond::routes {

// {name, email, emailVerified, image, createdAt, updatedAt, id}
[[nodiscard]] boost::json::object RenderUser(const store::User& user);

// {expiresAt, token, createdAt, updatedAt, ipAddress, userAgent, userId, id}
[[nodiscard]] boost::json::object RenderSession(const store::Session& session,
                                                std::string_view handle);

}  // namespace sessiond::routes
