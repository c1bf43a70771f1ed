// JSON shapes on the wire, exactly as Better Auth renders them (camelCase keys, ISO 8601 UTC
// dates with milliseconds). The session's `token` field carries the revocation handle, never
// the credential: get-session's body is readable by page scripts, the HttpOnly cookie is not.
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <string_view>

#include "store/store.h"

namespace sessiond::routes {

// {name, email, emailVerified, image, createdAt, updatedAt, id}
[[nodiscard]] boost::json::object RenderUser(const store::User& user);

// {expiresAt, token, createdAt, updatedAt, ipAddress, userAgent, userId, id, userAgentParsed}
// userAgentParsed (an extra field; Better Auth's keep their names) is the user agent parsed at
// sign-in in Agnost's shape: {family, major, minor, patch, device:{family, brand, model},
// os:{family, major, minor, patch}}, or null.
[[nodiscard]] boost::json::object RenderSession(const store::Session& session,
                                                std::string_view handle);

// get-session's body, {"session": RenderSession(..), "user": RenderUser(..)}, serialized: the
// same bytes as boost::json::serialize of those objects, written straight into one string
// (no JSON tree is built, the stored userAgentParsed is checked, not re-parsed into a tree).
[[nodiscard]] std::string RenderSessionAndUser(const store::Session& session,
                                               std::string_view handle, const store::User& user);

}  // namespace sessiond::routes
