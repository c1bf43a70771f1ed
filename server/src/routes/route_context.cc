#include "routes/route_context.h"

#include <boost/json/serialize.hpp>
#include <utility>

#include "http/error_table.h"
#include "routes/cookie_cache.h"

namespace sessiond::routes {

void NoStore(http::Response& response) {
  response.headers.Add("cache-control", "no-store");
  response.headers.Add("pragma", "no-cache");
}

http::Response JsonResponse(int status, const boost::json::value& body) {
  return http::Response::Json(status, boost::json::serialize(body));
}

http::Response JsonResponse(int status, const boost::json::object& body) {
  return http::Response::Json(status, boost::json::serialize(body));
}

void ClearCookies(const RouteContext& ctx, http::Response& response) {
  for (auto& c : ctx.cookies.Clear()) response.headers.Add("set-cookie", std::move(c));
}

session::ClientInfo ClientOf(const http::Request& request) {
  const auto ua = request.headers.Get("user-agent");
  return {request.client_ip, ua ? std::string(*ua) : std::string()};
}

Result<Caller> RequireSession(const RouteContext& ctx, const http::Request& request) {
  return RequireSession(ctx, ctx.cookies.Read(request));
}

Result<Caller> RequireSession(const RouteContext& ctx, Credential credential,
                              session::ReadFrom from) {
  if (!credential.token) return Fail(ErrorCode::kUnauthorized, "no valid credential");
  auto active = ctx.sessions.Validate(*credential.token, from);
  if (!active) return std::unexpected(active.error());
  if (!active->has_value()) return Fail(ErrorCode::kUnauthorized, "no live session");
  return Caller{std::move(credential), std::move(**active)};
}

void AddRenewal(const RouteContext& ctx, const Caller& caller, http::Response& response) {
  if (caller.credential.source != CredentialSource::kCookie) return;
  const std::string& token = *caller.credential.token;
  if (caller.active.renewed && ctx.cookies.options().renew) {
    response.headers.Add("set-cookie", ctx.cookies.Issue(token, caller.active.session.remember_me));
    response.headers.Add("set-auth-token", ctx.cookies.Signed(token));
  }
  AddCookieCache(ctx, caller.active, token, response);
}

void IssueSession(const RouteContext& ctx, const session::NewSession& s, http::Response& response) {
  response.headers.Add("access-control-expose-headers", "set-auth-token");
  response.headers.Add("set-auth-token", ctx.cookies.Signed(s.token));
  response.headers.Add("set-cookie", ctx.cookies.Issue(s.token, s.session.remember_me));
  AddCookieCache(ctx, {s.session, s.user, false}, s.token, response);
}

void AddCookieCache(const RouteContext& ctx, const session::ActiveSession& active,
                    std::string_view token, http::Response& response) {
  if (ctx.cookie_cache == nullptr) return;
  response.headers.Add(
      "set-cookie",
      ctx.cookie_cache->Issue(active, ctx.sessions.RevocationHandle(active.session), token));
}

void AddCorsHeaders(const RouteContext& ctx, const http::Request& request,
                    http::Response& response) {
  const auto origin = request.headers.Get("origin");
  if (!origin || !ctx.origin_check.IsTrustedOrigin(*origin)) return;
  response.headers.Add("access-control-allow-origin", std::string(*origin));
  response.headers.Add("access-control-allow-credentials", "true");
  response.headers.Add("access-control-expose-headers", "set-auth-token, set-auth-jwt");
  response.headers.Add("vary", "Origin");
}

namespace {

// Answers a CORS preflight (OPTIONS with Access-Control-Request-Method) for `method`.
http::Response Preflight(const RouteContext& ctx, const http::Request& request,
                         const std::string& method) {
  http::Response r = http::Response::Json(204, "");
  r.headers = http::Headers();  // 204 carries no body and so no content-type.
  const auto origin = request.headers.Get("origin");
  if (origin && ctx.origin_check.IsTrustedOrigin(*origin)) {
    AddCorsHeaders(ctx, request, r);
    r.headers.Add("access-control-allow-methods", method + ", OPTIONS");
    r.headers.Add("access-control-allow-headers", "content-type, authorization");
    r.headers.Add("access-control-max-age", "600");
  }
  return r;
}

}  // namespace

void AddGuarded(http::Router& router, const std::shared_ptr<const RouteContext>& ctx,
                std::string method, std::string path, ContextHandler handler, bool csrf,
                http::Execution execution) {
  const std::string path_copy = path;
  const std::string method_copy = method;
  router.Add(
      std::move(method), std::move(path),
      [ctx, handler = std::move(handler), csrf](const http::Request& request) {
        std::optional<ratelimit::Decision> decision;
        if (ctx->limiter != nullptr)
          decision = ctx->limiter->Check(request.path, request.client_ip);
        auto add_limit_headers = [&decision](http::Response& r) {
          if (!decision) return;
          for (auto& [name, value] : ratelimit::RateLimitHeaders(*decision)) {
            r.headers.Add(std::move(name), std::move(value));
          }
        };
        // Every answer, refusals included, carries the CORS headers: a browser app must be able
        // to read a 429 or 403 to show it.
        http::Response r;
        if (decision && !decision->allowed) {
          r = http::ErrorResponse({ErrorCode::kRateLimited, "per-IP limit"});
        } else if (auto ok = csrf ? ctx->origin_check.Check(request) : Result<void>(); !ok) {
          r = http::ErrorResponse(ok.error());
        } else {
          r = handler(*ctx, request);
        }
        add_limit_headers(r);
        AddCorsHeaders(*ctx, request, r);
        return r;
      },
      execution);
  router.Add("OPTIONS", path_copy, [ctx, method_copy](const http::Request& request) {
    return Preflight(*ctx, request, method_copy);
  });
}

}  // namespace sessiond::routes
