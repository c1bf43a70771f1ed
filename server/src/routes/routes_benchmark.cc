// Hot-path pieces of get-session, each beside a baseline doing the bare minimum of the same
// work, so the ratio shows what our layer costs: cookie parse + signature check, JSON rendering,
// and the whole route in-process (router → cookie → core → memory store → render).
#include <benchmark/benchmark.h>

#include <boost/json/serialize.hpp>

#include "crypto/crypto.h"
#include "http/cookies.h"
#include "routes/auth_routes.h"
#include "routes/render.h"
#include "store/memory/memory_store.h"
#include "testing/fake_clock.h"
#include "testing/fake_random.h"

namespace sessiond::routes {
namespace {

constexpr char kSecret[] = "0123456789abcdef0123456789abcdef-bench";
constexpr char kToken[] = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdE";

std::string CookieHeader(const token::TokenSigner& signer) {
  return "theme=dark; _ga=GA1.2.3.4; better-auth.session_token=" +
         http::PercentEncode(signer.Sign(kToken)) + "; other=1";
}

void BM_CookieParseAndVerify(benchmark::State& state) {
  (void)crypto::Init();
  const token::TokenSigner signer(kSecret);
  const std::string header = CookieHeader(signer);
  for (auto _ : state) {
    auto value = http::FindCookie(header, "better-auth.session_token");
    auto token = signer.Verify(*value);
    benchmark::DoNotOptimize(token);
  }
}
BENCHMARK(BM_CookieParseAndVerify);

// Baseline: find the cookie by substring search, no decoding, no signature.
void BM_BaselineCookieFind(benchmark::State& state) {
  const token::TokenSigner signer(kSecret);
  const std::string header = CookieHeader(signer);
  for (auto _ : state) {
    auto at = header.find("better-auth.session_token=");
    benchmark::DoNotOptimize(at);
  }
}
BENCHMARK(BM_BaselineCookieFind);

store::Session SampleSession() {
  store::Session s;
  s.id = "hYhK6Y9cTLBv4ascjcaJkZnJIC0Bq7Lo";
  s.user_id = "enWjxEQaH3zlwej9zaH7wSl3zDOwb3d5";
  s.expires_at = FromUnixMillis(1795431473221);
  s.created_at = s.updated_at = FromUnixMillis(1794826673221);
  s.ip_address = "203.0.113.7";
  s.user_agent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36";
  s.user_agent_parsed =
      R"({"family":"Chrome","major":"120","minor":"0","patch":"","device":{"family":"Other",)"
      R"("brand":"","model":""},"os":{"family":"Linux","major":"","minor":"","patch":""}})";
  return s;
}

store::User SampleUser() {
  return {.id = "enWjxEQaH3zlwej9zaH7wSl3zDOwb3d5",
          .email = "alice@example.com",
          .name = "Alice",
          .created_at = FromUnixMillis(1794826673221),
          .updated_at = FromUnixMillis(1794826673221)};
}

void BM_RenderGetSessionBody(benchmark::State& state) {
  const store::Session session = SampleSession();
  const store::User user = SampleUser();
  for (auto _ : state) {
    boost::json::object body;
    body["session"] = RenderSession(session, "jfzOjNohcAeL4_wVzyMntgbVBWNSEdrIUEsZ2LM1Lj8");
    body["user"] = RenderUser(user);
    benchmark::DoNotOptimize(boost::json::serialize(body));
  }
}
BENCHMARK(BM_RenderGetSessionBody);

// Baseline: serialise an already built object of the same shape (no date formatting, no
// user-agent JSON parse).
void BM_BaselineSerializeOnly(benchmark::State& state) {
  boost::json::object body;
  body["session"] = RenderSession(SampleSession(), "jfzOjNohcAeL4_wVzyMntgbVBWNSEdrIUEsZ2LM1Lj8");
  body["user"] = RenderUser(SampleUser());
  for (auto _ : state) benchmark::DoNotOptimize(boost::json::serialize(body));
}
BENCHMARK(BM_BaselineSerializeOnly);

// The whole get-session route in-process against the memory store: what a request costs
// before the socket (compare with the HTTP figure in bench/ to see the transport's share).
void BM_GetSessionRouteInProcess(benchmark::State& state) {
  (void)crypto::Init();
  store::MemoryStore store;
  testing::FakeClock clock;
  testing::FakeRandom random;
  const crypto::PasswordHasher hasher({.memory_kib = 8, .iterations = 1});
  session::SessionService sessions(store, hasher, clock, random, {.handle_key = "k"});
  const token::TokenSigner signer(kSecret);
  const SessionCookies cookies({}, signer);
  const OriginCheck origin_check({"http://127.0.0.1:3000"});
  auto ctx = std::make_shared<const RouteContext>(RouteContext{sessions, cookies, origin_check});
  http::Router router;
  AddAuthRoutes(router, ctx);
  auto created = sessions.SignUp(
      {.email = "alice@example.com", .password = "correct-horse-battery", .name = "Alice"}, {});
  http::Request request;
  request.method = "GET";
  request.path = "/api/auth/get-session";
  request.headers.Add(
      "Cookie", "better-auth.session_token=" + http::PercentEncode(signer.Sign(created->token)));
  for (auto _ : state) benchmark::DoNotOptimize(router.Dispatch(request));
}
BENCHMARK(BM_GetSessionRouteInProcess);

}  // namespace
}  // namespace sessiond::routes

BENCHMARK_MAIN();
