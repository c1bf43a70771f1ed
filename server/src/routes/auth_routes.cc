#include "routes/auth_routes.h"

#include <boost/json/serialize.hpp>
#include <memory>
#include <utility>

#include "http/error_table.h"
#include "routes/json_body.h"
#include "routes/render.h"

namespace sessiond::routes {
namespace {

using boost::json::object;

// Everything one route handler needs, shared by all of them.
struct Context {
  session::SessionService& sessions;
  const SessionCookies& cookies;
  const OriginCheck& origin_check;
  AuthRoutesOptions options;
};

// Responses that carry or create a session must not be stored by any cache (RFC 9111 §5.2.2.5).
void NoStore(http::Response& r) {
  r.headers.Add("cache-control", "no-store");
  r.headers.Add("pragma", "no-cache");
}

http::Response JsonResponse(int status, const boost::json::value& body) {
  return http::Response::Json(status, boost::json::serialize(body));
}

void ClearCookies(const Context& ctx, http::Response& r) {
  for (auto& c : ctx.cookies.Clear()) r.headers.Add("set-cookie", std::move(c));
}

// 303 See Other to `path` for an HTML form post (bknd's pathSuccess / pathLoggedOut); the body
// stays JSON so every response is.
http::Response FormRedirect(const std::string& path) {
  object body;
  body["redirect"] = true;
  body["url"] = path;
  http::Response r = JsonResponse(303, body);
  r.headers.Add("location", path);
  return r;
}

session::ClientInfo ClientOf(const http::Request& request) {
  const auto ua = request.headers.Get("user-agent");
  return {request.client_ip, ua ? std::string(*ua) : std::string()};
}

// Answers a successful sign-up / sign-in: cookie, bearer header, body.
http::Response SessionCreated(const Context& ctx, const session::NewSession& s,
                              bool from_form, bool with_redirect_field) {
  if (from_form) {
    http::Response r = FormRedirect(ctx.options.path_success);
    r.headers.Add("set-cookie", ctx.cookies.Issue(s.token, s.session.remember_me));
    NoStore(r);
    return r;
  }
  object body;
  if (with_redirect_field) body["redirect"] = false;
  body["token"] = s.token;
  body["user"] = RenderUser(s.user);
  http::Response r = JsonResponse(200, body);
  // Better Auth's bearer plugin: the signed token for clients that cannot hold cookies.
  r.headers.Add("access-control-expose-headers", "set-auth-token");
  r.headers.Add("set-auth-token", ctx.cookies.Signed(s.token));
  r.headers.Add("set-cookie", ctx.cookies.Issue(s.token, s.session.remember_me));
  NoStore(r);
  return r;
}

http::Response SignUp(const Context& ctx, const http::Request& request) {
  auto body = ParseBody(request, /*allow_form=*/true);
  if (!body) return http::ErrorResponse(body.error());
  auto email = body->RequiredString("email");
  if (!email) return http::ErrorResponse(email.error());
  auto password = body->RequiredString("password");
  if (!password) return http::ErrorResponse(password.error());
  auto name = body->RequiredString("name");
  if (!name) return http::ErrorResponse(name.error());
  auto image = body->OptionalString("image");
  if (!image) return http::ErrorResponse(image.error());
  auto remember = body->OptionalBool("rememberMe");
  if (!remember) return http::ErrorResponse(remember.error());

  auto created = ctx.sessions.SignUp({.email = std::move(*email),
                                      .password = std::move(*password),
                                      .name = std::move(*name),
                                      .image = std::move(*image),
                                      .remember_me = remember->value_or(true)},
                                     ClientOf(request));
  if (!created) return http::ErrorResponse(created.error());
  return SessionCreated(ctx, *created, body->from_form(), /*with_redirect_field=*/false);
}

http::Response SignIn(const Context& ctx, const http::Request& request) {
  auto body = ParseBody(request, /*allow_form=*/true);
  if (!body) return http::ErrorResponse(body.error());
  auto email = body->RequiredString("email");
  if (!email) return http::ErrorResponse(email.error());
  auto password = body->RequiredString("password");
  if (!password) return http::ErrorResponse(password.error());
  auto remember = body->OptionalBool("rememberMe");
  if (!remember) return http::ErrorResponse(remember.error());

  auto started = ctx.sessions.SignIn({.email = std::move(*email),
                                      .password = std::move(*password),
                                      .remember_me = remember->value_or(true)},
                                     ClientOf(request));
  if (!started) return http::ErrorResponse(started.error());
  return SessionCreated(ctx, *started, body->from_form(), /*with_redirect_field=*/true);
}

// get-session and session differ only in how "no session" is rendered.
http::Response GetSession(const Context& ctx, const http::Request& request,
                          const boost::json::value& signed_out_body) {
  const Credential credential = ctx.cookies.Read(request);
  auto signed_out = [&](bool clear) {
    http::Response r = JsonResponse(200, signed_out_body);
    if (clear) ClearCookies(ctx, r);
    NoStore(r);
    return r;
  };
  if (!credential.token) return signed_out(false);

  auto active = ctx.sessions.Validate(*credential.token);
  if (!active) {
    http::Response r = http::ErrorResponse(active.error());
    NoStore(r);
    return r;
  }
  if (!active->has_value()) {
    // A revoked or expired session: tell the browser to drop its cookie, as Better Auth does.
    return signed_out(credential.source == CredentialSource::kCookie);
  }
  const session::ActiveSession& s = **active;
  object body;
  body["session"] = RenderSession(s.session, ctx.sessions.RevocationHandle(s.session));
  body["user"] = RenderUser(s.user);
  http::Response r = JsonResponse(200, body);
  if (s.renewed && credential.source == CredentialSource::kCookie && ctx.cookies.options().renew) {
    r.headers.Add("set-cookie", ctx.cookies.Issue(*credential.token, s.session.remember_me));
  }
  NoStore(r);
  return r;
}

http::Response SignOut(const Context& ctx, const http::Request& request) {
  const Credential credential = ctx.cookies.Read(request);
  if (credential.token) {
    if (auto ended = ctx.sessions.SignOut(*credential.token); !ended) {
      return http::ErrorResponse(ended.error());
    }
  }
  http::Response r = IsFormPost(request) ? FormRedirect(ctx.options.path_logged_out)
                                         : JsonResponse(200, object{{"success", true}});
  ClearCookies(ctx, r);
  NoStore(r);
  return r;
}

}  // namespace

void AddAuthRoutes(http::Router& router, session::SessionService& sessions,
                   const SessionCookies& cookies, const OriginCheck& origin_check,
                   AuthRoutesOptions options) {
  auto ctx = std::make_shared<Context>(Context{sessions, cookies, origin_check, std::move(options)});

  // State-changing routes pass the CSRF origin check first.
  auto guarded = [ctx](http::Response (*handler)(const Context&, const http::Request&)) {
    return [ctx, handler](const http::Request& request) {
      if (auto ok = ctx->origin_check.Check(request); !ok) return http::ErrorResponse(ok.error());
      return handler(*ctx, request);
    };
  };

  // Sign-up and sign-in hash passwords (tens of milliseconds): off the I/O threads.
  router.Add("POST", "/api/auth/sign-up/email", guarded(&SignUp), http::Execution::kBlocking);
  router.Add("POST", "/api/auth/sign-in/email", guarded(&SignIn), http::Execution::kBlocking);
  router.Add("POST", "/api/auth/sign-out", guarded(&SignOut));
  router.Add("GET", "/api/auth/get-session", [ctx](const http::Request& request) {
    return GetSession(*ctx, request, nullptr);
  });
  // The seed's path: same, but signed-out is {"session":null,"user":null}.
  router.Add("GET", "/api/auth/session", [ctx](const http::Request& request) {
    return GetSession(*ctx, request, object{{"session", nullptr}, {"user", nullptr}});
  });
}

}  // namespace sessiond::routes
