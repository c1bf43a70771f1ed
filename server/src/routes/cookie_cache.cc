#include "routes/cookie_cache.h"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <span>
#include <utility>

#include "crypto/crypto.h"
#include "http/cookies.h"
#include "routes/render.h"
#include "token/session_token.h"

namespace sessiond::routes {
namespace {

// Cookie values longer than this are not even decoded (a real one stays under kMaxCookieBytes).
constexpr std::size_t kMaxReadBytes = 8192;

std::span<const std::uint8_t> AsBytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string Mac(std::string_view key, std::string_view data) {
  return crypto::Base64UrlEncode(crypto::HmacSha256(key, data));
}

// Better Auth signs JSON.stringify({...sessionData, expiresAt}): the serialised object with the
// key appended. Boost.JSON keeps insertion order and writes no whitespace, as JSON.stringify, so
// splicing the key before the closing brace gives the same bytes as re-serialising with it.
std::string SignedText(const boost::json::object& data, std::int64_t expires_at) {
  std::string text = boost::json::serialize(data);
  text.pop_back();  // The closing '}'.
  if (!data.empty()) text += ',';
  text += "\"expiresAt\":";
  text += std::to_string(expires_at);
  text += '}';
  return text;
}

const boost::json::object* ObjectAt(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr ? v->if_object() : nullptr;
}

std::optional<std::string_view> StringAt(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  const auto* s = v != nullptr ? v->if_string() : nullptr;
  if (s == nullptr) return std::nullopt;
  return std::string_view(s->data(), s->size());
}

std::optional<std::int64_t> IntAt(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (const auto* i = v->if_int64()) return *i;
  if (const auto* u = v->if_uint64(); u != nullptr && *u <= INT64_MAX) {
    return static_cast<std::int64_t>(*u);
  }
  return std::nullopt;
}

std::optional<bool> BoolAt(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_bool()) return std::nullopt;
  return v->get_bool();
}

std::optional<TimePoint> TimeAt(const boost::json::object& o, std::string_view key) {
  const auto s = StringAt(o, key);
  if (!s) return std::nullopt;
  return ParseIso8601(*s);
}

// The session and user of a copy whose signature verified (so the shape is ours; still checked,
// as a failure here must be a miss, not a crash).
std::optional<session::ActiveSession> Decode(const boost::json::object& data,
                                             std::string_view token) {
  const auto* s = ObjectAt(data, "session");
  const auto* u = ObjectAt(data, "user");
  const auto remember_me = BoolAt(data, "rememberMe");
  if (s == nullptr || u == nullptr || !remember_me) return std::nullopt;

  session::ActiveSession active;
  store::Session& session = active.session;
  const auto id = StringAt(*s, "id");
  const auto user_id = StringAt(*s, "userId");
  const auto ip = StringAt(*s, "ipAddress");
  const auto ua = StringAt(*s, "userAgent");
  const auto expires_at = TimeAt(*s, "expiresAt");
  const auto created_at = TimeAt(*s, "createdAt");
  const auto updated_at = TimeAt(*s, "updatedAt");
  if (!id || !user_id || !ip || !ua || !expires_at || !created_at || !updated_at) {
    return std::nullopt;
  }
  session.id = *id;
  session.user_id = *user_id;
  session.token_hash = token::HashSessionToken(token);
  session.expires_at = *expires_at;
  session.ip_address = *ip;
  session.user_agent = *ua;
  if (const auto* parsed = s->if_contains("userAgentParsed"); parsed && parsed->is_object()) {
    session.user_agent_parsed = boost::json::serialize(*parsed);
  }
  session.remember_me = *remember_me;
  session.created_at = *created_at;
  session.updated_at = *updated_at;

  store::User& user = active.user;
  const auto uid = StringAt(*u, "id");
  const auto email = StringAt(*u, "email");
  const auto name = StringAt(*u, "name");
  const auto verified = BoolAt(*u, "emailVerified");
  const auto user_created = TimeAt(*u, "createdAt");
  const auto user_updated = TimeAt(*u, "updatedAt");
  const auto* image = u->if_contains("image");
  if (!uid || !email || !name || !verified || !user_created || !user_updated || image == nullptr ||
      !(image->is_null() || image->is_string()) || *uid != session.user_id) {
    return std::nullopt;
  }
  user.id = *uid;
  user.email = *email;
  user.name = *name;
  if (const auto* i = image->if_string()) user.image = std::string(i->data(), i->size());
  user.email_verified = *verified;
  user.created_at = *user_created;
  user.updated_at = *user_updated;
  return active;
}

}  // namespace

std::optional<TimePoint> ParseIso8601(std::string_view t) {
  // 2026-11-23T10:57:53.221Z
  if (t.size() != 24 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' ||
      t[16] != ':' || t[19] != '.' || t[23] != 'Z') {
    return std::nullopt;
  }
  auto number = [t](std::size_t at, std::size_t len) -> int {
    int n = 0;
    for (std::size_t i = at; i < at + len; ++i) {
      if (t[i] < '0' || t[i] > '9') return -1;
      n = n * 10 + (t[i] - '0');
    }
    return n;
  };
  const int year = number(0, 4), month = number(5, 2), day = number(8, 2);
  const int hour = number(11, 2), minute = number(14, 2), second = number(17, 2);
  const int ms = number(20, 3);
  if (year < 0 || month < 0 || day < 0 || hour < 0 || hour > 23 || minute < 0 || minute > 59 ||
      second < 0 || second > 59 || ms < 0) {
    return std::nullopt;
  }
  const std::chrono::year_month_day date{std::chrono::year(year),
                                         std::chrono::month(static_cast<unsigned>(month)),
                                         std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok()) return std::nullopt;
  return TimePoint(std::chrono::sys_days(date).time_since_epoch() + std::chrono::hours(hour) +
                   std::chrono::minutes(minute) + seconds(second) + milliseconds(ms));
}

CookieCache::CookieCache(CookieCacheOptions options, std::string secret,
                         const CookieOptions& cookie_options, const Clock& clock)
    : options_(options),
      secret_(std::move(secret)),
      cookie_options_(cookie_options),
      clock_(clock),
      name_((cookie_options.secure ? "__Secure-" : "") + cookie_options.prefix + ".session_data") {
  const auto key = crypto::HmacSha256(secret_, "sessiond/session-data-binding/v1");
  binding_key_.assign(key.begin(), key.end());
}

CookieCache::~CookieCache() {
  crypto::Wipe(secret_);
  crypto::Wipe(binding_key_);
}

std::string CookieCache::Binding(std::string_view token) const { return Mac(binding_key_, token); }

std::string CookieCache::Issue(const session::ActiveSession& active, std::string_view handle,
                               std::string_view token) const {
  const TimePoint now = clock_.Now();
  const std::int64_t expires_at = ToUnixMillis(now + options_.max_age);
  boost::json::object data;
  data.reserve(6);
  data.emplace("session", RenderSession(active.session, handle));
  data.emplace("user", RenderUser(active.user));
  data.emplace("updatedAt", ToUnixMillis(now));
  data.emplace("version", "1");
  data.emplace("rememberMe", active.session.remember_me);
  data.emplace("binding", Binding(token));
  std::string signature = Mac(secret_, SignedText(data, expires_at));

  boost::json::object outer;
  outer.reserve(3);
  outer.emplace("session", std::move(data));
  outer.emplace("expiresAt", expires_at);
  outer.emplace("signature", std::move(signature));
  const std::string json = boost::json::serialize(outer);

  http::SetCookie c;
  c.name = name_;
  c.value = crypto::Base64UrlEncode(AsBytes(json));  // Unreserved characters: sent as they are.
  if (c.name.size() + 1 + c.value.size() > kMaxCookieBytes) return Clear();
  c.max_age = options_.max_age.count();
  c.path = cookie_options_.path;
  c.http_only = cookie_options_.http_only;
  c.secure = cookie_options_.secure;
  c.same_site = cookie_options_.same_site;
  return http::Serialize(c);
}

std::string CookieCache::Clear() const {
  http::SetCookie c;
  c.name = name_;
  c.max_age = 0;
  c.path = cookie_options_.path;
  c.http_only = cookie_options_.http_only;
  c.secure = cookie_options_.secure;
  c.same_site = cookie_options_.same_site;
  return http::Serialize(c);
}

std::optional<session::ActiveSession> CookieCache::Read(const http::Request& request,
                                                        std::string_view token) const {
  const auto header = request.headers.Get("cookie");
  if (!header) return std::nullopt;
  const auto value = http::FindCookie(*header, name_);
  if (!value || value->empty() || value->size() > kMaxReadBytes) return std::nullopt;
  const auto json = crypto::Base64UrlDecode(*value);
  if (!json) return std::nullopt;
  boost::system::error_code ec;
  boost::json::value parsed = boost::json::parse(*json, ec);
  if (ec || !parsed.is_object()) return std::nullopt;
  const boost::json::object& outer = parsed.get_object();
  const auto* data = ObjectAt(outer, "session");
  const auto expires_at = IntAt(outer, "expiresAt");
  const auto signature = StringAt(outer, "signature");
  if (data == nullptr || !expires_at || !signature) return std::nullopt;

  if (!crypto::ConstantTimeEquals(Mac(secret_, SignedText(*data, *expires_at)), *signature)) {
    return std::nullopt;  // Tampered, or signed under another secret.
  }
  const auto binding = StringAt(*data, "binding");
  if (!binding || !crypto::ConstantTimeEquals(Binding(token), *binding)) {
    return std::nullopt;  // Issued with another session token (or by Better Auth itself).
  }
  const auto issued_ms = IntAt(*data, "updatedAt");
  if (!issued_ms) return std::nullopt;
  const TimePoint now = clock_.Now();
  const TimePoint issued = FromUnixMillis(*issued_ms);
  // Stale by its own expiry, by the configured age (which may have been lowered since), or
  // older than this process's memory of revocations.
  if (now >= FromUnixMillis(*expires_at) || now >= issued + options_.max_age ||
      issued < options_.not_before) {
    return std::nullopt;
  }
  return Decode(*data, token);
}

}  // namespace sessiond::routes
