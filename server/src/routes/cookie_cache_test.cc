#include "routes/cookie_cache.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <map>
#include <memory>

#include "crypto/crypto.h"
#include "http/cookies.h"
#include "routes/auth_routes.h"
#include "routes/route_context.h"
#include "routes/session_routes.h"
#include "store/memory/memory_store.h"
#include "testing/fake_clock.h"
#include "testing/fake_random.h"

namespace sessiond::routes {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;

constexpr char kSecret[] = "0123456789abcdef0123456789abcdef-test";
constexpr char kToken[] = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdE";
constexpr char kOtherToken[] = "ZZCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdE";

std::span<const std::uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// The value of a Set-Cookie line ("name=value; ..."), percent-decoded.
std::string ValueOf(std::string_view set_cookie) {
  const auto eq = set_cookie.find('=');
  const auto semi = set_cookie.find(';');
  return http::PercentDecode(set_cookie.substr(eq + 1, semi - eq - 1));
}

// ---------------------------------------------------------------------------------------------
// The cookie on its own.

class CookieCacheTest : public ::testing::Test {
 protected:
  CookieCacheTest() {
    EXPECT_TRUE(crypto::Init());
    active_.session = {.id = "session-id-1",
                       .user_id = "user-id-1",
                       .token_hash = "h",
                       .expires_at = clock_.Now() + days(7),
                       .ip_address = "203.0.113.9",
                       .user_agent = "Mozilla/5.0 \"quoted\" \xC3\xA9",
                       .user_agent_parsed = R"({"family":"Firefox","major":"120"})",
                       .remember_me = false,
                       .created_at = clock_.Now() - hours(2),
                       .updated_at = clock_.Now() - hours(1)};
    active_.user = {.id = "user-id-1",
                    .email = "alice@example.com",
                    .name = "Alice \xE2\x9C\x93",
                    .image = std::nullopt,
                    .email_verified = true,
                    .created_at = clock_.Now() - days(3),
                    .updated_at = clock_.Now() - days(2)};
  }

  static http::Request WithCookie(const std::string& set_cookie_line) {
    http::Request r;
    r.headers.Add("Cookie", "a=b; " + set_cookie_line.substr(0, set_cookie_line.find(';')));
    return r;
  }

  static http::Request WithValue(const std::string& value) {
    http::Request r;
    r.headers.Add("Cookie", "better-auth.session_data=" + value);
    return r;
  }

  testing::FakeClock clock_;
  CookieCache cache_{{.max_age = seconds(300), .not_before = clock_.Now()}, kSecret, {}, clock_};
  session::ActiveSession active_;
};

TEST_F(CookieCacheTest, IssuesBetterAuthsCompactCookie) {
  const std::string line = cache_.Issue(active_, "the-handle", kToken);
  EXPECT_EQ(line.rfind("better-auth.session_data=", 0), 0u) << line;
  EXPECT_NE(line.find("; Max-Age=300; Path=/; HttpOnly; SameSite=Lax"), std::string::npos) << line;
  const std::string value = ValueOf(line);
  const auto json = crypto::Base64UrlDecode(value);
  ASSERT_TRUE(json.has_value());
  const auto outer = boost::json::parse(*json).as_object();
  const auto& data = outer.at("session").as_object();
  EXPECT_EQ(outer.at("expiresAt").as_int64(), ToUnixMillis(clock_.Now() + seconds(300)));
  EXPECT_EQ(data.at("updatedAt").as_int64(), ToUnixMillis(clock_.Now()));
  EXPECT_EQ(data.at("version").as_string(), "1");
  EXPECT_EQ(data.at("session").at("id").as_string(), "session-id-1");
  EXPECT_EQ(data.at("session").at("token").as_string(), "the-handle");
  EXPECT_EQ(data.at("session").at("expiresAt").as_string(), ToIso8601(clock_.Now() + days(7)));
  EXPECT_EQ(data.at("user").at("email").as_string(), "alice@example.com");
  EXPECT_TRUE(data.at("user").at("image").is_null());
  EXPECT_EQ(json->find(kToken), std::string::npos) << "the credential is never in the copy";

  // The signature, recomputed from the text alone as Better Auth's getCookieCache() does:
  // HMAC-SHA256(secret, JSON.stringify({...session, expiresAt})), base64url without padding.
  const std::string prefix = R"({"session":)";
  ASSERT_EQ(json->rfind(prefix, 0), 0u);
  const auto data_end = json->find(R"(,"expiresAt":)");
  ASSERT_NE(data_end, std::string::npos);
  std::string signed_text = json->substr(prefix.size(), data_end - prefix.size());
  signed_text.pop_back();
  signed_text += ",\"expiresAt\":" + std::to_string(outer.at("expiresAt").as_int64()) + "}";
  EXPECT_EQ(outer.at("signature").as_string(),
            crypto::Base64UrlEncode(crypto::HmacSha256(kSecret, signed_text)));
}

TEST_F(CookieCacheTest, ReadsItsOwnCopyBackForTheSameToken) {
  const std::string line = cache_.Issue(active_, "the-handle", kToken);
  const auto copy = cache_.Read(WithCookie(line), kToken);
  ASSERT_TRUE(copy.has_value());
  const store::Session& s = copy->session;
  EXPECT_EQ(s.id, active_.session.id);
  EXPECT_EQ(s.user_id, active_.session.user_id);
  EXPECT_EQ(s.expires_at, active_.session.expires_at);
  EXPECT_EQ(s.created_at, active_.session.created_at);
  EXPECT_EQ(s.updated_at, active_.session.updated_at);
  EXPECT_EQ(s.ip_address, active_.session.ip_address);
  EXPECT_EQ(s.user_agent, active_.session.user_agent);
  EXPECT_EQ(s.user_agent_parsed, active_.session.user_agent_parsed);
  EXPECT_FALSE(s.remember_me);
  EXPECT_FALSE(copy->renewed);
  const store::User& u = copy->user;
  EXPECT_EQ(u.id, active_.user.id);
  EXPECT_EQ(u.email, active_.user.email);
  EXPECT_EQ(u.name, active_.user.name);
  EXPECT_FALSE(u.image.has_value());
  EXPECT_TRUE(u.email_verified);
  EXPECT_EQ(u.created_at, active_.user.created_at);
  EXPECT_EQ(u.updated_at, active_.user.updated_at);

  active_.user.image = "https://example.com/a.png";
  const auto with_image = cache_.Read(WithCookie(cache_.Issue(active_, "h", kToken)), kToken);
  ASSERT_TRUE(with_image.has_value());
  EXPECT_EQ(with_image->user.image.value_or(""), "https://example.com/a.png");
}

TEST_F(CookieCacheTest, CopyIsBoundToTheTokenItWasIssuedWith) {
  const std::string line = cache_.Issue(active_, "h", kToken);
  EXPECT_FALSE(cache_.Read(WithCookie(line), kOtherToken).has_value());
}

TEST_F(CookieCacheTest, TamperedCopyIsIgnored) {
  const std::string value = ValueOf(cache_.Issue(active_, "h", kToken));
  ASSERT_TRUE(cache_.Read(WithValue(value), kToken).has_value());
  // Rename the user and re-encode, keeping the signature.
  std::string json = *crypto::Base64UrlDecode(value);
  const auto at = json.find("Alice");
  ASSERT_NE(at, std::string::npos);
  json.replace(at, 5, "Mallo");
  EXPECT_FALSE(cache_.Read(WithValue(crypto::Base64UrlEncode(Bytes(json))), kToken).has_value());
  // Push its expiry out.
  json = *crypto::Base64UrlDecode(value);
  const auto exp =
      json.find(R"("expiresAt":)" + std::to_string(ToUnixMillis(clock_.Now())).substr(0, 3));
  ASSERT_NE(exp, std::string::npos);
  json.insert(exp + 12, "9");
  EXPECT_FALSE(cache_.Read(WithValue(crypto::Base64UrlEncode(Bytes(json))), kToken).has_value());
  // One character of the encoded value changed.
  std::string flipped = value;
  flipped[flipped.size() / 2] = flipped[flipped.size() / 2] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(cache_.Read(WithValue(flipped), kToken).has_value());
}

TEST_F(CookieCacheTest, CopySignedUnderAnotherSecretIsIgnored) {
  CookieCache other({.max_age = seconds(300), .not_before = clock_.Now()},
                    "another-secret-of-at-least-32-characters", {}, clock_);
  EXPECT_FALSE(cache_.Read(WithCookie(other.Issue(active_, "h", kToken)), kToken).has_value());
}

TEST_F(CookieCacheTest, GarbageIsAMissNeverAnError) {
  for (const std::string& v :
       {std::string(), std::string("!!!"), std::string("e30"), /* {} */
        crypto::Base64UrlEncode(Bytes("[1,2,3]")), crypto::Base64UrlEncode(Bytes("not json")),
        crypto::Base64UrlEncode(Bytes(R"({"session":{},"expiresAt":1,"signature":"x"})")),
        crypto::Base64UrlEncode(Bytes(R"({"session":1,"expiresAt":"x","signature":2})")),
        std::string(20000, 'A')}) {
    EXPECT_FALSE(cache_.Read(WithValue(v), kToken).has_value()) << v.substr(0, 40);
  }
  http::Request none;
  EXPECT_FALSE(cache_.Read(none, kToken).has_value());
}

TEST_F(CookieCacheTest, CopyIsTrustedForMaxAgeOnly) {
  const std::string line = cache_.Issue(active_, "h", kToken);
  clock_.Advance(seconds(300) - milliseconds(1));
  EXPECT_TRUE(cache_.Read(WithCookie(line), kToken).has_value());
  clock_.Advance(milliseconds(1));
  EXPECT_FALSE(cache_.Read(WithCookie(line), kToken).has_value());
}

TEST_F(CookieCacheTest, LoweredMaxAgeAppliesToCopiesAlreadyIssued) {
  const std::string line = cache_.Issue(active_, "h", kToken);
  CookieCache shorter({.max_age = seconds(60), .not_before = clock_.Now()}, kSecret, {}, clock_);
  clock_.Advance(seconds(60));
  EXPECT_FALSE(shorter.Read(WithCookie(line), kToken).has_value());
}

TEST_F(CookieCacheTest, CopiesFromBeforeTheProcessStartedAreNotTrusted) {
  const std::string line = cache_.Issue(active_, "h", kToken);
  clock_.Advance(seconds(1));
  CookieCache restarted({.max_age = seconds(300), .not_before = clock_.Now()}, kSecret, {}, clock_);
  EXPECT_FALSE(restarted.Read(WithCookie(line), kToken).has_value());
  EXPECT_TRUE(restarted.Read(WithCookie(restarted.Issue(active_, "h", kToken)), kToken));
}

TEST_F(CookieCacheTest, SecureCookiesGetThePrefixAndAttribute) {
  CookieCache secure({.max_age = seconds(300), .not_before = clock_.Now()}, kSecret,
                     {.secure = true, .same_site = "Strict", .path = "/auth"}, clock_);
  EXPECT_EQ(secure.cookie_name(), "__Secure-better-auth.session_data");
  const std::string line = secure.Issue(active_, "h", kToken);
  EXPECT_EQ(line.rfind("__Secure-better-auth.session_data=", 0), 0u);
  EXPECT_NE(line.find("; Max-Age=300; Path=/auth; HttpOnly; Secure; SameSite=Strict"),
            std::string::npos)
      << line;
  EXPECT_EQ(secure.Clear(),
            "__Secure-better-auth.session_data=; Max-Age=0; Path=/auth; HttpOnly; Secure; "
            "SameSite=Strict");
}

TEST_F(CookieCacheTest, SessionTooLargeForACookieIsNotCached) {
  active_.user.image = std::string(2048, 'i');
  active_.session.user_agent = std::string(512, 'u');
  const std::string line = cache_.Issue(active_, "h", kToken);
  EXPECT_EQ(line, cache_.Clear());
  EXPECT_NE(line.find("Max-Age=0"), std::string::npos);
}

TEST(ParseIso8601Test, RoundTripsAndRejectsAnythingElse) {
  const TimePoint t = FromUnixMillis(1795431475588);
  EXPECT_EQ(ParseIso8601(ToIso8601(t)), t);
  EXPECT_EQ(ParseIso8601("1970-01-01T00:00:00.000Z"), FromUnixMillis(0));
  EXPECT_EQ(ParseIso8601("2024-02-29T23:59:59.999Z"), FromUnixMillis(1709251199999));
  for (const char* bad :
       {"", "2026-11-23T10:57:53Z", "2026-11-23T10:57:53.221", "2026-11-23 10:57:53.221Z",
        "2026-13-23T10:57:53.221Z", "2023-02-29T10:57:53.221Z", "2026-11-23T24:00:00.000Z",
        "2026-11-23T10:60:00.000Z", "2026-11-23T10:57:60.000Z", "2026-11-23T10:57:53.2a1Z",
        "+026-11-23T10:57:53.221Z"}) {
    EXPECT_FALSE(ParseIso8601(bad).has_value()) << bad;
  }
}

// ---------------------------------------------------------------------------------------------
// get-session and the session routes with the cache on, driven in-process with a FakeClock.

// One browser: a cookie jar fed by Set-Cookie (Max-Age=0 deletes).
struct Device {
  std::map<std::string, std::string> jar;  // name → wire value

  std::string Header() const {
    std::string h;
    for (const auto& [k, v] : jar) h += (h.empty() ? "" : "; ") + k + "=" + v;
    return h;
  }
  void Absorb(const http::Response& r) {
    for (auto line : r.headers.GetAll("set-cookie")) {
      const std::string l(line);
      const std::string name = l.substr(0, l.find('='));
      const auto semi = l.find(';');
      if (l.find("Max-Age=0") != std::string::npos) {
        jar.erase(name);
      } else {
        jar[name] = l.substr(name.size() + 1, semi - name.size() - 1);
      }
    }
  }
  bool Has(const std::string& name) const { return jar.contains(name); }
};

class CookieCacheRoutesTest : public ::testing::Test {
 protected:
  static constexpr char kOrigin[] = "http://127.0.0.1:3000";
  static constexpr char kData[] = "better-auth.session_data";

  CookieCacheRoutesTest() {
    EXPECT_TRUE(crypto::Init());
    Build({.handle_key = "k"});
  }

  void Build(session::SessionOptions options, seconds max_age = seconds(300)) {
    router_ = http::Router();
    sessions_ =
        std::make_unique<session::SessionService>(store_, hasher_, clock_, random_, options);
    cache_ = std::make_unique<CookieCache>(
        CookieCacheOptions{.max_age = max_age, .not_before = clock_.Now()}, kSecret,
        cookies_.options(), clock_);
    RouteContext ctx{.sessions = *sessions_, .cookies = cookies_, .origin_check = origin_check_};
    ctx.cookie_cache = cache_.get();
    auto shared = std::make_shared<const RouteContext>(ctx);
    AddAuthRoutes(router_, shared);
    AddSessionRoutes(router_, shared);
  }

  http::Response Call(Device& d, const std::string& method, const std::string& path,
                      std::string body = {}) {
    http::Request r;
    r.method = method;
    const auto q = path.find('?');
    r.path = path.substr(0, q);
    if (q != std::string::npos) r.query = path.substr(q + 1);
    r.client_ip = "198.51.100.4";
    r.headers.Add("User-Agent", "test-agent/1.0");
    r.headers.Add("Origin", kOrigin);
    if (!body.empty()) r.headers.Add("Content-Type", "application/json");
    if (!d.jar.empty()) r.headers.Add("Cookie", d.Header());
    r.body = std::move(body);
    http::Response resp = router_.Dispatch(r);
    d.Absorb(resp);
    return resp;
  }

  http::Response GetSession(Device& d, const std::string& query = {}) {
    return Call(d, "GET", "/api/auth/get-session" + query);
  }

  // The session id get-session shows the device, or "" for null.
  std::string SessionId(Device& d, const std::string& query = {}) {
    auto r = GetSession(d, query);
    EXPECT_EQ(r.status, 200);
    if (r.body == "null") return {};
    return std::string(boost::json::parse(r.body).at("session").at("id").as_string());
  }

  Device SignUp() {
    Device d;
    auto r = Call(d, "POST", "/api/auth/sign-up/email",
                  R"({"email":"alice@example.com","password":"correct-horse","name":"Alice"})");
    EXPECT_EQ(r.status, 200) << r.body;
    return d;
  }

  Device SignIn() {
    Device d;
    auto r = Call(d, "POST", "/api/auth/sign-in/email",
                  R"({"email":"alice@example.com","password":"correct-horse"})");
    EXPECT_EQ(r.status, 200) << r.body;
    return d;
  }

  // Deletes the device's session row behind the service's back (not a revocation): only the
  // cookie cache can still answer for it.
  void DeleteRowOf(const std::string& session_id) {
    auto deleted = store_.DeleteSession(session_id);
    ASSERT_TRUE(deleted.has_value());
    ASSERT_EQ(*deleted, 1);
  }

  std::string HandleOf(Device& d) {
    auto r = GetSession(d, "?disableCookieCache=true");
    return std::string(boost::json::parse(r.body).at("session").at("token").as_string());
  }

  store::MemoryStore store_;
  testing::FakeClock clock_;
  testing::FakeRandom random_;
  crypto::PasswordHasher hasher_{{.memory_kib = 8, .iterations = 1}};
  std::unique_ptr<session::SessionService> sessions_;
  token::TokenSigner signer_{kSecret};
  SessionCookies cookies_{CookieOptions{}, signer_};
  OriginCheck origin_check_{{kOrigin}};
  std::unique_ptr<CookieCache> cache_;
  http::Router router_;
};

TEST_F(CookieCacheRoutesTest, SignInSetsTheCacheAndGetSessionAnswersFromItWithoutTheStore) {
  Device a = SignUp();
  ASSERT_TRUE(a.Has(kData));
  const std::string id = SessionId(a);
  ASSERT_FALSE(id.empty());
  DeleteRowOf(id);
  // The store no longer has the session: only the cache can answer.
  auto cached = GetSession(a);
  EXPECT_EQ(cached.status, 200);
  ASSERT_NE(cached.body, "null");
  const auto body = boost::json::parse(cached.body);
  EXPECT_EQ(body.at("session").at("id").as_string(), id);
  EXPECT_EQ(body.at("user").at("name").as_string(), "Alice");
  EXPECT_EQ(body.at("session").at("token").as_string(), sessions_->RevocationHandle({.id = id}));
  EXPECT_TRUE(cached.headers.GetAll("set-cookie").empty()) << "a cache hit re-sets nothing";
  EXPECT_EQ(cached.headers.Get("cache-control").value_or(""), "no-store");
  // ?disableCookieCache=true reads the store: no row, no session, cookies cleared.
  EXPECT_EQ(SessionId(a, "?disableCookieCache=true"), "");
  EXPECT_FALSE(a.Has(kData));
}

TEST_F(CookieCacheRoutesTest, CacheAnswerEqualsTheStoreAnswer) {
  Device a = SignUp();
  auto from_cache = GetSession(a);
  auto from_store = GetSession(a, "?disableCookieCache=true");
  EXPECT_EQ(boost::json::parse(from_cache.body), boost::json::parse(from_store.body));
  // The store path re-sets the copy.
  bool reset = false;
  for (auto l : from_store.headers.GetAll("set-cookie")) reset |= l.starts_with(kData);
  EXPECT_TRUE(reset);
}

TEST_F(CookieCacheRoutesTest, RevocationIsSeenOnTheVeryNextRequestFromEveryDevice) {
  Device a = SignUp();
  Device b = SignIn();
  Device c = SignIn();
  const std::string ida = SessionId(a), idb = SessionId(b), idc = SessionId(c);
  ASSERT_FALSE(ida.empty() || idb.empty() || idc.empty());
  for (Device* d : {&a, &b, &c}) ASSERT_TRUE(d->Has(kData));

  // b revokes a's session; a still holds its session_data cookie.
  auto revoked = Call(b, "POST", "/api/auth/revoke-session",
                      R"({"token":")" + sessions_->RevocationHandle({.id = ida}) + "\"}");
  ASSERT_EQ(revoked.status, 200);
  EXPECT_TRUE(a.Has(kData));
  EXPECT_EQ(SessionId(a), "");
  EXPECT_FALSE(a.Has(kData)) << "the null answer clears the cookies";
  EXPECT_EQ(SessionId(b), idb);
  EXPECT_EQ(SessionId(c), idc);

  // b revokes the others: c is out at once, b keeps going.
  Device c_before = c;
  ASSERT_EQ(Call(b, "POST", "/api/auth/revoke-other-sessions", "{}").status, 200);
  EXPECT_EQ(SessionId(c), "");
  EXPECT_EQ(SessionId(c_before), "");
  EXPECT_EQ(SessionId(b), idb);

  // revoke-sessions ends b too; a copy of b's cookies from before is refused as well.
  Device b_before = b;
  auto all = Call(b, "POST", "/api/auth/revoke-sessions", "{}");
  ASSERT_EQ(all.status, 200);
  EXPECT_FALSE(b.Has(kData));
  EXPECT_EQ(SessionId(b_before), "");
}

TEST_F(CookieCacheRoutesTest, SignOutAndChangePasswordEndCachedSessions) {
  Device a = SignUp();
  Device b = SignIn();
  Device c = SignIn();
  ASSERT_FALSE(SessionId(a).empty());

  Device a_before = a;
  auto out = Call(a, "POST", "/api/auth/sign-out", "{}");
  ASSERT_EQ(out.status, 200);
  EXPECT_FALSE(a.Has(kData));
  EXPECT_EQ(SessionId(a_before), "") << "the old cookies answer nothing after sign-out";

  const std::string idb = SessionId(b);
  ASSERT_FALSE(SessionId(c).empty());
  Device b_before = b;
  auto changed = Call(
      b, "POST", "/api/auth/change-password",
      R"({"currentPassword":"correct-horse","newPassword":"new-horse-1","revokeOtherSessions":true})");
  ASSERT_EQ(changed.status, 200) << changed.body;
  // b continues on a new session with a new copy; its old session and c's are over.
  const std::string idb2 = SessionId(b);
  EXPECT_FALSE(idb2.empty());
  EXPECT_NE(idb2, idb);
  EXPECT_EQ(SessionId(b_before), "");
  EXPECT_EQ(SessionId(c), "");
}

TEST_F(CookieCacheRoutesTest, TamperedOrForeignCopyFallsBackToTheStore) {
  Device a = SignUp();
  Device b = SignIn();
  const std::string ida = SessionId(a);
  // A forged copy: same shape, another user's name, signature kept.
  std::string json = *crypto::Base64UrlDecode(http::PercentDecode(a.jar[kData]));
  json.replace(json.find("Alice"), 5, "Mallo");
  a.jar[kData] = crypto::Base64UrlEncode(Bytes(json));
  auto r = GetSession(a);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(boost::json::parse(r.body).at("user").at("name").as_string(), "Alice");
  EXPECT_EQ(boost::json::parse(*crypto::Base64UrlDecode(http::PercentDecode(a.jar[kData])))
                .at("session")
                .at("user")
                .at("name")
                .as_string(),
            "Alice")
      << "the store answer re-set a good copy";

  // b's copy presented with a's session cookie: ignored (the store answers for a).
  a.jar[kData] = b.jar[kData];
  EXPECT_EQ(SessionId(a), ida);
  // With a's row gone, the forged and foreign copies cannot answer either.
  a.jar[kData] = b.jar[kData];
  DeleteRowOf(ida);
  EXPECT_EQ(SessionId(a), "");
}

TEST_F(CookieCacheRoutesTest, CopyExpiresAfterMaxAge) {
  Device a = SignUp();
  const std::string id = SessionId(a);
  DeleteRowOf(id);
  clock_.Advance(seconds(300) - milliseconds(1));
  EXPECT_EQ(SessionId(a), id);
  clock_.Advance(milliseconds(1));
  EXPECT_EQ(SessionId(a), "");
}

TEST_F(CookieCacheRoutesTest, CopyNeverOutlivesTheSessionsExpiry) {
  Build({.absolute_lifetime = days(8), .handle_key = "k"});
  Device a = SignUp();
  const TimePoint t0 = clock_.Now();
  clock_.Set(t0 + days(7) - minutes(1));
  ASSERT_FALSE(SessionId(a).empty());  // Renewed up to the bound: expires at t0 + 8 days.
  clock_.Set(t0 + days(8) - minutes(1));
  const std::string id = SessionId(a);  // From the store (the copy is stale): a new copy.
  ASSERT_FALSE(id.empty());
  DeleteRowOf(id);
  clock_.Set(t0 + days(8) - milliseconds(1));
  EXPECT_EQ(SessionId(a), id) << "the copy answers while the session would live";
  clock_.Set(t0 + days(8));
  EXPECT_EQ(SessionId(a), "") << "the copy's expiresAt is checked";
}

TEST_F(CookieCacheRoutesTest, IdleTimeoutStillSeesActivityAnsweredFromTheCache) {
  // maxAge above the activity interval (6 minutes): the copy stops answering when activity is
  // due, so the store records it and the session survives steady use through the cache.
  Build({.idle_timeout = hours(1), .handle_key = "k"}, seconds(600));
  Device a = SignUp();
  const TimePoint t0 = clock_.Now();
  const std::string id = SessionId(a);
  clock_.Set(t0 + minutes(6) - milliseconds(1));
  EXPECT_EQ(SessionId(a), id);
  const auto token = signer_.Verify(http::PercentDecode(a.jar[cookies_.token_cookie_name()]));
  ASSERT_TRUE(token.has_value());
  auto before = store_.FindSessionByTokenHash(token::HashSessionToken(*token));
  ASSERT_TRUE(before.has_value() && before->has_value());
  EXPECT_EQ((*before)->session.updated_at, t0) << "answered from the copy: nothing written";
  clock_.Set(t0 + minutes(6));
  EXPECT_EQ(SessionId(a), id);
  auto after = store_.FindSessionByTokenHash((*before)->session.token_hash);
  ASSERT_TRUE(after.has_value() && after->has_value());
  EXPECT_EQ((*after)->session.updated_at, t0 + minutes(6)) << "activity recorded by the store";
  // Used every 5 minutes for three hours, mostly from the cache: never idle.
  for (int i = 1; i <= 36; ++i) {
    clock_.Set(t0 + minutes(6) + minutes(5 * i));
    ASSERT_EQ(SessionId(a), id) << i;
  }
  // Then an hour of silence ends it, copy or not.
  clock_.Advance(hours(1));
  EXPECT_EQ(SessionId(a), "");
}

TEST_F(CookieCacheRoutesTest, UpdateUserReSetsTheCallersCopy) {
  Device a = SignUp();
  ASSERT_FALSE(SessionId(a).empty());
  ASSERT_EQ(Call(a, "POST", "/api/auth/update-user", R"({"name":"Alice Liddell"})").status, 200);
  auto r = GetSession(a);
  EXPECT_EQ(boost::json::parse(r.body).at("user").at("name").as_string(), "Alice Liddell");
}

TEST_F(CookieCacheRoutesTest, BearerCallersNeverUseTheCache) {
  Device a = SignUp();
  const std::string signed_token = http::PercentDecode(a.jar[cookies_.token_cookie_name()]);
  const std::string id = SessionId(a);
  DeleteRowOf(id);
  http::Request r;
  r.method = "GET";
  r.path = "/api/auth/get-session";
  r.headers.Add("Authorization", "Bearer " + signed_token);
  r.headers.Add("Cookie", std::string(kData) + "=" + a.jar[kData]);
  EXPECT_EQ(router_.Dispatch(r).body, "null");
}

}  // namespace
}  // namespace sessiond::routes
