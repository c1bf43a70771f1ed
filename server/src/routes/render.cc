#include "routes/render.h"

#include <boost/json/parse.hpp>

#include "common/clock.h"

namespace sessiond::routes {

boost::json::object RenderUser(const store::User& user) {
  boost::json::object o;
  o.reserve(7);
  o.emplace("name", user.name);
  o.emplace("email", user.email);
  o.emplace("emailVerified", user.email_verified);
  if (user.image) {
    o.emplace("image", *user.image);
  } else {
    o.emplace("image", nullptr);
  }
  o.emplace("createdAt", ToIso8601(user.created_at));
  o.emplace("updatedAt", ToIso8601(user.updated_at));
  o.emplace("id", user.id);
  return o;
}

boost::json::object RenderSession(const store::Session& session, std::string_view handle) {
  boost::json::object o;
  o.reserve(9);
  o.emplace("expiresAt", ToIso8601(session.expires_at));
  o.emplace("token", handle);
  o.emplace("createdAt", ToIso8601(session.created_at));
  o.emplace("updatedAt", ToIso8601(session.updated_at));
  o.emplace("ipAddress", session.ip_address);
  o.emplace("userAgent", session.user_agent);
  o.emplace("userId", session.user_id);
  o.emplace("id", session.id);
  boost::system::error_code ec;
  boost::json::value parsed = session.user_agent_parsed.empty()
                                  ? boost::json::value(nullptr)
                                  : boost::json::parse(session.user_agent_parsed, ec);
  o.emplace("userAgentParsed", ec ? boost::json::value(nullptr) : std::move(parsed));
  return o;
}

}  // namespace sessiond::routes
