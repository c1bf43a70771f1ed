#include "routes/auth_routes.h"

#include <utility>

#include "http/error_table.h"
#include "routes/access_tokens.h"
#include "routes/cookie_cache.h"
#include "routes/json_body.h"
#include "routes/render.h"
#include "session/email.h"

namespace sessiond::routes {
namespace {

using boost::json::object;

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

// Answers a successful sign-up / sign-in: cookie, bearer header, body.
http::Response SessionCreated(const RouteContext& ctx, const session::NewSession& s, bool from_form,
                              bool sign_in, const std::optional<std::string>& callback_url) {
  if (from_form) {
    http::Response r = FormRedirect(ctx.options.path_success);
    r.headers.Add("set-cookie", ctx.cookies.Issue(s.token, s.session.remember_me));
    AddCookieCache(ctx, {s.session, s.user, false}, s.token, r);
    NoStore(r);
    return r;
  }
  object body;
  if (sign_in) body["redirect"] = callback_url.has_value();
  body["token"] = s.token;
  if (sign_in && callback_url) body["url"] = *callback_url;
  body["user"] = RenderUser(s.user);
  http::Response r = JsonResponse(200, body);
  IssueSession(ctx, s, r);
  NoStore(r);
  return r;
}

// callbackURL, if given, must be a local path or on a trusted origin (no open redirect).
Result<std::optional<std::string>> CallbackUrl(const RouteContext& ctx, const BodyFields& body) {
  auto url = body.OptionalString("callbackURL");
  if (!url) return url;
  if (*url && !ctx.origin_check.IsSafeRedirect(**url)) {
    return Fail(ErrorCode::kInvalidCallbackUrl, "callbackURL not trusted");
  }
  return url;
}

// The fields sign-up and sign-in share.
struct Credentials {
  std::string email;
  std::string password;
  bool remember_me = true;
  std::optional<std::string> callback_url;
};

Result<Credentials> ParseCredentials(const RouteContext& ctx, const BodyFields& body) {
  auto email = body.RequiredString("email");
  if (!email) return std::unexpected(email.error());
  auto password = body.RequiredString("password");
  if (!password) return std::unexpected(password.error());
  auto remember = body.OptionalBool("rememberMe");
  if (!remember) return std::unexpected(remember.error());
  auto callback = CallbackUrl(ctx, body);
  if (!callback) return std::unexpected(callback.error());
  return Credentials{std::move(*email), std::move(*password), remember->value_or(true),
                     std::move(*callback)};
}

http::Response SignUp(const RouteContext& ctx, const http::Request& request) {
  auto body = ParseBody(request, /*allow_form=*/true);
  if (!body) return http::ErrorResponse(body.error());
  auto credentials = ParseCredentials(ctx, *body);
  if (!credentials) return http::ErrorResponse(credentials.error());
  auto name = body->RequiredString("name");
  if (!name) return http::ErrorResponse(name.error());
  auto image = body->OptionalString("image");
  if (!image) return http::ErrorResponse(image.error());

  auto created = ctx.sessions.SignUp({.email = std::move(credentials->email),
                                      .password = std::move(credentials->password),
                                      .name = std::move(*name),
                                      .image = std::move(*image),
                                      .remember_me = credentials->remember_me},
                                     ClientOf(request));
  if (!created) return http::ErrorResponse(created.error());
  return SessionCreated(ctx, *created, body->from_form(), /*sign_in=*/false, std::nullopt);
}

http::Response SignIn(const RouteContext& ctx, const http::Request& request) {
  auto body = ParseBody(request, /*allow_form=*/true);
  if (!body) return http::ErrorResponse(body.error());
  auto credentials = ParseCredentials(ctx, *body);
  if (!credentials) return http::ErrorResponse(credentials.error());

  // One account cannot be brute-forced from many IPs: attempts per email are limited (counted
  // before the password check so parallel guesses cannot slip past), and a success clears them.
  const std::string account = session::NormalizeEmail(credentials->email);
  if (ctx.limiter != nullptr) {
    auto decision = ctx.limiter->CheckAccount(ratelimit::kSignInAccountRule, account);
    if (decision && !decision->allowed) {
      http::Response r = http::ErrorResponse({ErrorCode::kRateLimited, "per-account limit"});
      // Only Retry-After: the remaining count would tell anyone how many guesses were made.
      for (auto& [n, v] : ratelimit::RateLimitHeaders(*decision)) {
        if (n == "retry-after" || n == "x-retry-after") r.headers.Add(std::move(n), std::move(v));
      }
      return r;
    }
  }
  auto started = ctx.sessions.SignIn({.email = std::move(credentials->email),
                                      .password = std::move(credentials->password),
                                      .remember_me = credentials->remember_me},
                                     ClientOf(request));
  if (!started) return http::ErrorResponse(started.error());
  if (ctx.limiter != nullptr) ctx.limiter->Clear(ratelimit::kSignInAccountRule, account);
  return SessionCreated(ctx, *started, body->from_form(), /*sign_in=*/true,
                        credentials->callback_url);
}

// get-session and session differ only in how "no session" is rendered.
http::Response GetSession(const RouteContext& ctx, const http::Request& request,
                          const boost::json::value& signed_out_body) {
  auto signed_out = [&](bool clear) {
    http::Response r = JsonResponse(200, signed_out_body);
    if (clear) ClearCookies(ctx, r);
    NoStore(r);
    return r;
  };
  // `from_store`: the caller as validated against the store (null when answered from the cookie
  // cache, which re-sets no cookie).
  auto signed_in = [&](const session::ActiveSession& s, const Caller* from_store) {
    // Serialized directly (no JSON tree): this is the hot path of every app.
    http::Response r = http::Response::Json(
        200, RenderSessionAndUser(s.session, ctx.sessions.RevocationHandle(s.session), s.user));
    if (from_store != nullptr) AddRenewal(ctx, *from_store, r);
    if (ctx.get_session_jwt && ctx.tokens != nullptr) {
      // Better Auth's jwt plugin: a JWT for the session rides along (cached, so this costs a map
      // lookup on most requests, not a signature).
      if (auto jwt = ctx.tokens->IssueCached(s); jwt) {
        r.headers.Add("access-control-expose-headers", "set-auth-jwt");
        r.headers.Add("set-auth-jwt", jwt->token);
      }
    }
    NoStore(r);
    return r;
  };
  // Read once: the signed-out answer below needs to know where the credential came from.
  Credential credential = ctx.cookies.Read(request);
  const bool verified_cookie =
      credential.source == CredentialSource::kCookie && credential.token.has_value();
  // The cookie cache: a session_data cookie issued with this session cookie answers without a
  // database read — unless the session was revoked (checked in memory), is past a limit, or is
  // due for a write (renewal, idle-timeout activity), all decided by the core. Anything else
  // about the cookie (absent, tampered, foreign, stale) just means reading the store, which
  // then re-sets it. ?disableCookieCache=true always reads the store (Better Auth's flag), past
  // the core's in-process cache too.
  const auto bypass_param = request.QueryParam("disableCookieCache");
  const bool bypass = bypass_param && (*bypass_param == "true" || *bypass_param == "1");
  if (verified_cookie && ctx.cookie_cache != nullptr && !bypass) {
    if (auto copy = ctx.cookie_cache->Read(request, *credential.token);
        copy && ctx.sessions.CanAnswerFromCopy(copy->session)) {
      return signed_in(*copy, nullptr);
    }
  }
  auto caller =
      RequireSession(ctx, std::move(credential),
                     bypass ? session::ReadFrom::kStore : session::ReadFrom::kCacheOrStore);
  if (!caller) {
    if (caller.error().code != ErrorCode::kUnauthorized) {
      http::Response r = http::ErrorResponse(caller.error());
      NoStore(r);
      return r;
    }
    // A cookie that verified but names no live session (revoked, expired): tell the browser to
    // drop it (and its session_data), as Better Auth does. A forged cookie is left alone, also as
    // Better Auth does.
    return signed_out(verified_cookie);
  }
  return signed_in(caller->active, &*caller);
}

http::Response GetSessionOrNull(const RouteContext& ctx, const http::Request& request) {
  return GetSession(ctx, request, nullptr);
}

// The seed's path: same, but signed-out is {"session":null,"user":null}.
http::Response GetSessionOrNulls(const RouteContext& ctx, const http::Request& request) {
  return GetSession(ctx, request, object{{"session", nullptr}, {"user", nullptr}});
}

http::Response SignOut(const RouteContext& ctx, const http::Request& request) {
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

// Better Auth's one-time-token plugin: a signed-in client mints a short-lived single-use token
// (e.g. to hand its sign-in to another app or domain in a link)...
http::Response GenerateOneTimeToken(const RouteContext& ctx, const http::Request& request) {
  auto caller = RequireSession(ctx, request);
  if (!caller) return http::ErrorResponse(caller.error());
  auto token = ctx.sessions.CreateOneTimeToken(caller->active);
  if (!token) return http::ErrorResponse(token.error());
  http::Response r = JsonResponse(200, object{{"token", *token}});
  AddRenewal(ctx, *caller, r);
  NoStore(r);
  return r;
}

// ...and whoever holds it spends it once for a session of their own: {session, user} and a new
// session cookie (a new session, since only the original session's hash is stored).
http::Response VerifyOneTimeToken(const RouteContext& ctx, const http::Request& request) {
  auto body = ParseBody(request, /*allow_form=*/false);
  if (!body) return http::ErrorResponse(body.error());
  auto token = body->RequiredString("token");
  if (!token) return http::ErrorResponse(token.error());
  auto redeemed = ctx.sessions.RedeemOneTimeToken(*token, ClientOf(request));
  if (!redeemed) return http::ErrorResponse(redeemed.error());
  object out;
  out["session"] =
      RenderSession(redeemed->session, ctx.sessions.RevocationHandle(redeemed->session));
  out["user"] = RenderUser(redeemed->user);
  http::Response r = JsonResponse(200, out);
  IssueSession(ctx, *redeemed, r);
  NoStore(r);
  return r;
}

}  // namespace

void AddAuthRoutes(http::Router& router, const std::shared_ptr<const RouteContext>& ctx) {
  // Sign-up and sign-in hash passwords (tens of milliseconds): off the I/O threads.
  AddGuarded(router, ctx, "POST", "/api/auth/sign-up/email", &SignUp, /*csrf=*/true,
             http::Execution::kBlocking);
  AddGuarded(router, ctx, "POST", "/api/auth/sign-in/email", &SignIn, /*csrf=*/true,
             http::Execution::kBlocking);
  AddGuarded(router, ctx, "POST", "/api/auth/sign-out", &SignOut, /*csrf=*/true);
  AddGuarded(router, ctx, "GET", "/api/auth/get-session", &GetSessionOrNull, /*csrf=*/false);
  AddGuarded(router, ctx, "GET", "/api/auth/session", &GetSessionOrNulls, /*csrf=*/false);
  AddGuarded(router, ctx, "GET", "/api/auth/one-time-token/generate", &GenerateOneTimeToken,
             /*csrf=*/false);
  AddGuarded(router, ctx, "POST", "/api/auth/one-time-token/verify", &VerifyOneTimeToken,
             /*csrf=*/true);
}

}  // namespace sessiond::routes
