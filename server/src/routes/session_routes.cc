#include "routes/session_routes.h"

#include <utility>

#include "http/error_table.h"
#include "routes/json_body.h"
#include "routes/render.h"

namespace sessiond::routes {
namespace {

using boost::json::object;

http::Response Status(const RouteContext& ctx, const Caller& caller) {
  http::Response r = JsonResponse(200, object{{"status", true}});
  AddRenewal(ctx, caller, r);
  NoStore(r);
  return r;
}

// Newest first; `token` is each session's revocation handle (never a credential, unlike Better
// Auth, which lists every session's raw token), `current` marks the caller's.
http::Response ListSessions(const RouteContext& ctx, const http::Request& request) {
  auto caller = RequireSession(ctx, request);
  if (!caller) return http::ErrorResponse(caller.error());
  auto sessions = ctx.sessions.ListSessions(caller->active.user.id);
  if (!sessions) return http::ErrorResponse(sessions.error());
  boost::json::array list;
  list.reserve(sessions->size());
  for (const store::Session& s : *sessions) {
    object o = RenderSession(s, ctx.sessions.RevocationHandle(s));
    o["current"] = s.id == caller->active.session.id;
    list.emplace_back(std::move(o));
  }
  http::Response r = JsonResponse(200, list);
  AddRenewal(ctx, *caller, r);
  NoStore(r);
  return r;
}

http::Response RevokeSession(const RouteContext& ctx, const http::Request& request) {
  auto body = ParseBody(request, /*allow_form=*/false);
  if (!body) return http::ErrorResponse(body.error());
  auto handle = body->RequiredString("token");
  if (!handle) return http::ErrorResponse(handle.error());
  auto caller = RequireSession(ctx, request);
  if (!caller) return http::ErrorResponse(caller.error());
  auto revoked = ctx.sessions.RevokeSession(caller->active.user.id, *handle);
  if (!revoked) return http::ErrorResponse(revoked.error());
  http::Response r = JsonResponse(200, object{{"status", true}});
  if (*revoked == caller->active.session.id) {
    ClearCookies(ctx, r);  // The caller ended their own session.
  } else {
    AddRenewal(ctx, *caller, r);
  }
  NoStore(r);
  return r;
}

http::Response RevokeSessions(const RouteContext& ctx, const http::Request& request) {
  auto caller = RequireSession(ctx, request);
  if (!caller) return http::ErrorResponse(caller.error());
  auto ended = ctx.sessions.RevokeSessions(caller->active.user.id, std::nullopt);
  if (!ended) return http::ErrorResponse(ended.error());
  http::Response r = JsonResponse(200, object{{"status", true}});
  ClearCookies(ctx, r);
  NoStore(r);
  return r;
}

http::Response RevokeOtherSessions(const RouteContext& ctx, const http::Request& request) {
  auto caller = RequireSession(ctx, request);
  if (!caller) return http::ErrorResponse(caller.error());
  auto ended = ctx.sessions.RevokeSessions(caller->active.user.id, caller->active.session.id);
  if (!ended) return http::ErrorResponse(ended.error());
  return Status(ctx, *caller);
}

http::Response ChangePassword(const RouteContext& ctx, const http::Request& request) {
  auto body = ParseBody(request, /*allow_form=*/false);
  if (!body) return http::ErrorResponse(body.error());
  auto current = body->RequiredString("currentPassword");
  if (!current) return http::ErrorResponse(current.error());
  auto next = body->RequiredString("newPassword");
  if (!next) return http::ErrorResponse(next.error());
  auto revoke_others = body->OptionalBool("revokeOtherSessions");
  if (!revoke_others) return http::ErrorResponse(revoke_others.error());
  auto caller = RequireSession(ctx, request);
  if (!caller) return http::ErrorResponse(caller.error());

  auto fresh = ctx.sessions.ChangePassword(caller->active, *current, *next,
                                           revoke_others->value_or(false), ClientOf(request));
  if (!fresh) return http::ErrorResponse(fresh.error());
  object out;
  out["token"] = fresh->token;
  out["user"] = RenderUser(fresh->user);
  http::Response r = JsonResponse(200, out);
  // The old session's cookie-cache copy (if any) is replaced by one of the new session.
  IssueSession(ctx, *fresh, r);
  NoStore(r);
  return r;
}

http::Response UpdateUser(const RouteContext& ctx, const http::Request& request) {
  auto body = ParseBody(request, /*allow_form=*/false);
  if (!body) return http::ErrorResponse(body.error());
  auto name = body->OptionalString("name");
  if (!name) return http::ErrorResponse(name.error());
  auto image = body->OptionalString("image");
  if (!image) return http::ErrorResponse(image.error());
  auto caller = RequireSession(ctx, request);
  if (!caller) return http::ErrorResponse(caller.error());
  store::UserUpdate update{
      .name = std::move(*name), .set_image = body->Has("image"), .image = std::move(*image)};
  auto user = ctx.sessions.UpdateUser(caller->active.user.id, update);
  if (!user) return http::ErrorResponse(user.error());
  caller->active.user = std::move(*user);  // So a re-set session_data cookie shows the change.
  return Status(ctx, *caller);
}

}  // namespace

void AddSessionRoutes(http::Router& router, const std::shared_ptr<const RouteContext>& ctx) {
  AddGuarded(router, ctx, "GET", "/api/auth/list-sessions", &ListSessions, /*csrf=*/false);
  AddGuarded(router, ctx, "POST", "/api/auth/revoke-session", &RevokeSession, /*csrf=*/true);
  AddGuarded(router, ctx, "POST", "/api/auth/revoke-sessions", &RevokeSessions, /*csrf=*/true);
  AddGuarded(router, ctx, "POST", "/api/auth/revoke-other-sessions", &RevokeOtherSessions,
             /*csrf=*/true);
  AddGuarded(router, ctx, "POST", "/api/auth/change-password", &ChangePassword, /*csrf=*/true,
             http::Execution::kBlocking);
  AddGuarded(router, ctx, "POST", "/api/auth/update-user", &UpdateUser, /*csrf=*/true);
}

}  // namespace sessiond::routes
