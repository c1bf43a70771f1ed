#include "config/config_loader.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

#include <toml++/toml.h>

#include "ratelimit/redis_url.h"
#include "ratelimit/rule.h"

namespace sessiond::config {
namespace {

// argon2id floor (OWASP Password Storage Cheat Sheet): m = 19 MiB, t = 2, p = 1.
constexpr std::uint64_t kArgon2MinMemoryKib = 19ULL * 1024;
constexpr std::uint64_t kArgon2MinIterations = 2;
// What libsodium itself accepts, even in the insecure test mode.
constexpr std::uint64_t kSodiumMinMemoryKib = 8;
constexpr std::uint64_t kSodiumMinIterations = 1;
constexpr std::uint32_t kMaxPasswordLength = 4096;
constexpr std::size_t kMinSecretLength = 32;
constexpr std::string_view kInsecureFastHashEnv = "SESSIOND_INSECURE_FAST_HASH_FOR_TESTS";

// ---------------------------------------------------------------------------------------------
// Small string helpers.

char LowerChar(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
char UpperChar(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return LowerChar(x) == LowerChar(y);
         });
}

std::string_view Trim(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\n";
  const std::size_t first = s.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(kSpace) - first + 1);
}

// A TOML basic string literal: "..." with \" \\ and control characters escaped.
std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      std::array<char, 8> buf{};
      (void)std::snprintf(buf.data(), buf.size(), "\\u%04X", static_cast<unsigned>(u));
      out += buf.data();
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

std::string Join(std::span<const std::string_view> items, std::string_view last_sep) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += (i + 1 == items.size()) ? last_sep : ", ";
    out += items[i];
  }
  return out;
}

[[noreturn]] void Fail(std::string_view key, std::string_view message) {
  throw ConfigError(std::string(key) + ": " + std::string(message));
}

// ---------------------------------------------------------------------------------------------
// Parsing one value. A value comes either from the TOML file (a node, whose type must match)
// or as text (environment variable, flag).

struct Value {
  const toml::node* node = nullptr;  // Set for TOML values.
  std::string_view text;             // Otherwise the text.
};

std::string TypeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::date:
    case toml::node_type::time:
    case toml::node_type::date_time:
      return "a date/time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

[[noreturn]] void FailType(std::string_view key, std::string_view expected,
                           const toml::node& node) {
  Fail(key, "expected " + std::string(expected) + ", got " + TypeName(node));
}

template <typename T>
T ParseInt(std::string_view key, const Value& value) {
  static_assert(std::is_integral_v<T> && !std::is_same_v<T, bool>);
  const std::string expected = "expected an integer from " +
                               std::to_string(std::numeric_limits<T>::min()) + " to " +
                               std::to_string(std::numeric_limits<T>::max());
  if (value.node != nullptr) {
    const toml::value<std::int64_t>* integer = value.node->as_integer();
    if (integer == nullptr) FailType(key, "an integer", *value.node);
    const std::int64_t n = integer->get();
    if (!std::in_range<T>(n)) Fail(key, expected + ", got " + std::to_string(n));
    return static_cast<T>(n);
  }
  const std::string_view text = value.text;
  T out{};
  if (text.empty()) Fail(key, expected + ", got \"\"");
  const char* last = text.data() + text.size();
  const auto [end, ec] = std::from_chars(text.data(), last, out);
  if (ec != std::errc{} || end != last) Fail(key, expected + ", got " + Quote(text));
  return out;
}

std::optional<bool> BoolWord(std::string_view text) {
  for (const std::string_view word : {"true", "1", "yes"}) {
    if (IEquals(text, word)) return true;
  }
  for (const std::string_view word : {"false", "0", "no"}) {
    if (IEquals(text, word)) return false;
  }
  return std::nullopt;
}

bool ParseBool(std::string_view key, const Value& value) {
  if (value.node != nullptr) {
    const toml::value<bool>* boolean = value.node->as_boolean();
    if (boolean == nullptr) FailType(key, "a boolean (true or false)", *value.node);
    return boolean->get();
  }
  const std::optional<bool> b = BoolWord(value.text);
  if (!b) Fail(key, "expected true, false, 1, 0, yes or no, got " + Quote(value.text));
  return *b;
}

std::string ParseString(std::string_view key, const Value& value) {
  if (value.node != nullptr) {
    const toml::value<std::string>* str = value.node->as_string();
    if (str == nullptr) FailType(key, "a string", *value.node);
    return str->get();
  }
  return std::string(value.text);
}

// TOML: an array of strings. Text: comma-separated, blanks around items and empty items dropped.
std::vector<std::string> ParseList(std::string_view key, const Value& value) {
  std::vector<std::string> out;
  if (value.node != nullptr) {
    const toml::array* array = value.node->as_array();
    if (array == nullptr) FailType(key, "an array of strings", *value.node);
    for (const toml::node& item : *array) {
      const toml::value<std::string>* str = item.as_string();
      if (str == nullptr) FailType(key, "an array of strings, with every item a string", item);
      out.push_back(str->get());
    }
    return out;
  }
  std::string_view rest = value.text;
  while (true) {
    const std::size_t comma = rest.find(',');
    const std::string_view item = Trim(rest.substr(0, comma));
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return out;
}

// One of `names`, compared case-insensitively; returns its index. TOML: must be a string.
std::size_t ParseChoice(std::string_view key, const Value& value,
                        std::span<const std::string_view> names) {
  const std::string text = ParseString(key, value);
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (IEquals(text, names[i])) return i;
  }
  Fail(key, "expected " + Join(names, " or ") + ", got " + Quote(text));
}

// ---------------------------------------------------------------------------------------------
// Normalisation applied when a value is loaded.

// "HTTPS://Example.COM/" → "https://example.com": lower-cases scheme and authority (origins
// compare case-insensitively there) and drops one trailing "/".
std::string NormalizeUrl(std::string url) {
  const std::size_t scheme_end = url.find("://");
  if (scheme_end != std::string::npos) {
    const std::size_t authority_end = url.find_first_of("/?#", scheme_end + 3);
    const std::size_t stop = authority_end == std::string::npos ? url.size() : authority_end;
    for (std::size_t i = 0; i < stop; ++i) url[i] = LowerChar(url[i]);
  }
  if (url.size() > 1 && url.back() == '/') url.pop_back();
  return url;
}

// ---------------------------------------------------------------------------------------------
// The key table: the single list of keys. TOML, environment and overrides all go through
// KeyDef::set; Keys() (and so the docs and --help) comes from the same rows.

struct KeyDef {
  std::string key;  // "session.expiresIn"
  std::string description;
  std::function<void(Config&, std::string_view key, const Value&)> set;
  std::function<std::string(const Config&)> show;  // Current value as TOML text.
};

// `Get` is a generic lambda `[](auto& c) -> auto& { return c.field; }`, so one accessor
// serves both the setter (Config&) and the renderer (const Config&).
template <typename Get>
using FieldType = std::remove_cvref_t<decltype(std::declval<Get>()(std::declval<Config&>()))>;

template <typename Get>
KeyDef IntKey(std::string key, Get get, std::string description) {
  using T = FieldType<Get>;
  return {std::move(key), std::move(description),
          [get](Config& c, std::string_view k, const Value& v) { get(c) = ParseInt<T>(k, v); },
          [get](const Config& c) { return std::to_string(get(c)); }};
}

template <typename Get>
KeyDef BoolKey(std::string key, Get get, std::string description) {
  return {std::move(key), std::move(description),
          [get](Config& c, std::string_view k, const Value& v) { get(c) = ParseBool(k, v); },
          [get](const Config& c) { return std::string(get(c) ? "true" : "false"); }};
}

template <typename Get>
KeyDef StringKey(std::string key, Get get, std::string description,
                 std::string (*normalize)(std::string) = nullptr) {
  return {std::move(key), std::move(description),
          [get, normalize](Config& c, std::string_view k, const Value& v) {
            std::string s = ParseString(k, v);
            get(c) = normalize != nullptr ? normalize(std::move(s)) : std::move(s);
          },
          [get](const Config& c) { return Quote(get(c)); }};
}

template <typename Get>
KeyDef ListKey(std::string key, Get get, std::string description,
               std::string (*normalize)(std::string) = nullptr) {
  return {std::move(key), std::move(description),
          [get, normalize](Config& c, std::string_view k, const Value& v) {
            std::vector<std::string> items = ParseList(k, v);
            if (normalize != nullptr) {
              for (std::string& item : items) item = normalize(std::move(item));
            }
            get(c) = std::move(items);
          },
          [get](const Config& c) {
            std::string out = "[";
            for (const std::string& item : get(c)) {
              if (out.size() > 1) out += ", ";
              out += Quote(item);
            }
            return out + "]";
          }};
}

// A string field restricted to `names` (matched case-insensitively, stored as written there).
template <typename Get, std::size_t N>
KeyDef ChoiceStringKey(std::string key, Get get, const std::array<std::string_view, N>& names,
                       std::string description) {
  return {std::move(key), std::move(description),
          [get, names](Config& c, std::string_view k, const Value& v) {
            get(c) = std::string(names[ParseChoice(k, v, names)]);
          },
          [get](const Config& c) { return Quote(get(c)); }};
}

// An enum field; `names[i]` is the spelling of enumerator `values[i]`.
template <typename Get, typename E, std::size_t N>
KeyDef EnumKey(std::string key, Get get, const std::array<std::string_view, N>& names,
               const std::array<E, N>& values, std::string description) {
  return {std::move(key), std::move(description),
          [get, names, values](Config& c, std::string_view k, const Value& v) {
            get(c) = values[ParseChoice(k, v, names)];
          },
          [get, names, values](const Config& c) {
            for (std::size_t i = 0; i < N; ++i) {
              if (values[i] == get(c)) return Quote(names[i]);
            }
            return std::string("?");
          }};
}

// cookie.secure: TOML true / false / "auto"; text "auto" or any boolean word.
template <typename Get>
KeyDef TristateKey(std::string key, Get get, std::string description) {
  return {std::move(key), std::move(description),
          [get](Config& c, std::string_view k, const Value& v) {
            if (v.node != nullptr && v.node->is_boolean()) {
              get(c) = v.node->as_boolean()->get() ? Tristate::kOn : Tristate::kOff;
              return;
            }
            if (v.node != nullptr && !v.node->is_string()) {
              FailType(k, "\"auto\", true or false", *v.node);
            }
            const std::string text = ParseString(k, v);
            if (IEquals(text, "auto")) {
              get(c) = Tristate::kAuto;
            } else if (const std::optional<bool> b = BoolWord(text)) {
              get(c) = *b ? Tristate::kOn : Tristate::kOff;
            } else {
              Fail(k, "expected auto, true or false, got " + Quote(text));
            }
          },
          [get](const Config& c) {
            switch (get(c)) {
              case Tristate::kOn:
                return std::string("true");
              case Tristate::kOff:
                return std::string("false");
              case Tristate::kAuto:
                break;
            }
            return std::string("\"auto\"");
          }};
}

constexpr std::array<std::string_view, 2> kSynchronousNames = {"full", "normal"};
constexpr std::array<std::string_view, 2> kRateLimitStorages = {"memory", "redis"};
constexpr std::array<std::string_view, 6> kLogLevels = {"trace", "debug", "info",
                                                        "warn",  "error", "off"};
constexpr std::array<std::string_view, 3> kSameSiteNames = {"lax", "strict", "none"};
constexpr std::array<SameSite, 3> kSameSiteValues = {SameSite::kLax, SameSite::kStrict,
                                                     SameSite::kNone};

std::vector<KeyDef> BuildTable() {
  std::vector<KeyDef> t;
  // Top level.
  t.push_back(StringKey(
      "host", [](auto& c) -> auto& { return c.host; },
      "Address to listen on; 0.0.0.0 or :: for all interfaces."));
  t.push_back(IntKey(
      "port", [](auto& c) -> auto& { return c.port; },
      "TCP port to listen on (0 to 65535); 0 picks a free port, printed at start-up."));
  t.push_back(StringKey(
      "baseUrl", [](auto& c) -> auto& { return c.base_url; },
      "Public URL of the server, http(s)://host[:port] with no path. Its origin is trusted, "
      "and an https URL makes cookies Secure when cookie.secure is auto. Empty: "
      "http://<host>:<port>.",
      NormalizeUrl));
  t.push_back(IntKey(
      "threads", [](auto& c) -> auto& { return c.threads; },
      "Worker threads; 0 = the number of CPU cores."));
  t.push_back(ListKey(
      "trustedOrigins", [](auto& c) -> auto& { return c.trusted_origins; },
      "Origins (scheme://host[:port]) besides baseUrl's that may send cookie-authenticated "
      "state-changing requests (CSRF check on Origin / Referer).",
      NormalizeUrl));
  t.push_back(ListKey(
      "trustedProxies", [](auto& c) -> auto& { return c.trusted_proxies; },
      "IPs or CIDRs of reverse proxies whose X-Forwarded-For header is believed for the client "
      "address. Empty: the header is ignored."));
  t.push_back(StringKey(
      "dataDir", [](auto& c) -> auto& { return c.data_dir; },
      "Directory for the SQLite file (sessiond.db) and the generated dev secret (dev-secret)."));
  t.push_back(StringKey(
      "secret", [](auto& c) -> auto& { return c.secret; },
      "Server secret, at least 32 characters. Empty: a dev secret is generated into "
      "<dataDir>/dev-secret with a warning; production must set SESSIOND_SECRET."));
  // [limits]
  t.push_back(IntKey(
      "limits.maxHeaderBytes", [](auto& c) -> auto& { return c.limits.max_header_bytes; },
      "Largest request line plus headers, in bytes (at least 1024); larger gets 431."));
  t.push_back(IntKey(
      "limits.maxBodyBytes", [](auto& c) -> auto& { return c.limits.max_body_bytes; },
      "Largest request body, in bytes (at least 1024); larger gets 413."));
  t.push_back(IntKey(
      "limits.readTimeoutMs", [](auto& c) -> auto& { return c.limits.read_timeout_ms; },
      "Milliseconds within which a whole request must arrive."));
  t.push_back(IntKey(
      "limits.idleTimeoutMs", [](auto& c) -> auto& { return c.limits.idle_timeout_ms; },
      "Milliseconds a keep-alive connection may sit idle before it is closed."));
  t.push_back(IntKey(
      "limits.maxConnections", [](auto& c) -> auto& { return c.limits.max_connections; },
      "Concurrent connections; further ones are closed as soon as they are accepted."));
  t.push_back(IntKey(
      "limits.shutdownGraceMs", [](auto& c) -> auto& { return c.limits.shutdown_grace_ms; },
      "Milliseconds in-flight requests get to finish after SIGTERM / SIGINT."));
  // [database]
  t.push_back(StringKey(
      "database.url", [](auto& c) -> auto& { return c.database.url; },
      "Database: postgres://user:password@host:port/dbname (or postgresql://) for PostgreSQL, "
      "sqlite:PATH or file:PATH for SQLite; empty = the SQLite file <dataDir>/sessiond.db."));
  t.push_back(ChoiceStringKey(
      "database.synchronous", [](auto& c) -> auto& { return c.database.synchronous; },
      kSynchronousNames,
      "SQLite PRAGMA synchronous: full (a commit survives power loss) or normal (faster; the "
      "last commits may be lost on power loss)."));
  t.push_back(IntKey(
      "database.busyTimeoutMs", [](auto& c) -> auto& { return c.database.busy_timeout_ms; },
      "Milliseconds a statement waits for a database lock (SQLite) or a call for a free pooled "
      "connection (SQLite, PostgreSQL) before failing with 503."));
  t.push_back(IntKey(
      "database.poolSize", [](auto& c) -> auto& { return c.database.pool_size; },
      "Database connections per process; 0 = twice the CPU cores (at least 2)."));
  t.push_back(IntKey(
      "database.connectTimeoutMs", [](auto& c) -> auto& { return c.database.connect_timeout_ms; },
      "PostgreSQL: milliseconds to establish a connection (TCP, TLS, authentication) before "
      "failing with 503."));
  t.push_back(IntKey(
      "database.statementTimeoutMs",
      [](auto& c) -> auto& { return c.database.statement_timeout_ms; },
      "PostgreSQL: statement_timeout in milliseconds (lock waits included); a statement running "
      "longer fails with 503. If the server stops answering altogether, sessiond gives up 1 s "
      "later and reconnects."));
  // [session]
  t.push_back(IntKey(
      "session.expiresIn", [](auto& c) -> auto& { return c.session.expires_in; },
      "Seconds a session lives (7 days)."));
  t.push_back(IntKey(
      "session.updateAge", [](auto& c) -> auto& { return c.session.update_age; },
      "When a session is used more than this many seconds after its expiry was last set, the "
      "expiry slides to now + expiresIn (1 day); 0 = on every use. At most expiresIn."));
  t.push_back(IntKey(
      "session.dontRememberExpiresIn",
      [](auto& c) -> auto& { return c.session.dont_remember_expires_in; },
      "Seconds a session signed in with rememberMe: false lives (1 day)."));
  t.push_back(IntKey(
      "session.sweepInterval", [](auto& c) -> auto& { return c.session.sweep_interval; },
      "Seconds between sweeps that delete expired sessions; 0 = never."));
  t.push_back(IntKey(
      "session.maxUserAgentLength",
      [](auto& c) -> auto& { return c.session.max_user_agent_length; },
      "User-Agent strings stored with a session are cut to this many bytes."));
  t.push_back(IntKey(
      "session.absoluteLifetime", [](auto& c) -> auto& { return c.session.absolute_lifetime; },
      "Seconds after sign-in when a session ends however active it is (30 days); sliding expiry "
      "never extends past it. Bounds what a stolen cookie is worth. 0 = no bound."));
  t.push_back(IntKey(
      "session.idleTimeout", [](auto& c) -> auto& { return c.session.idle_timeout; },
      "Seconds without a request after which a session ends, to within a tenth: use is recorded "
      "at most once per tenth (so validation does not write on every request), and a session "
      "ends after 0.9x to 1x this much inactivity. 0 = off, the default (sliding expiry already "
      "ends sessions unused for expiresIn)."));
  // [cookie]
  t.push_back(StringKey(
      "cookie.prefix", [](auto& c) -> auto& { return c.cookie.prefix; },
      "Cookie names are <prefix>.session_token etc.; keep better-auth so Better Auth's "
      "getSessionCookie() and existing middleware find the cookie."));
  t.push_back(TristateKey(
      "cookie.secure", [](auto& c) -> auto& { return c.cookie.secure; },
      "auto, true or false. auto: cookies are Secure (and named with the __Secure- prefix) "
      "exactly when baseUrl is https."));
  t.push_back(BoolKey(
      "cookie.httpOnly", [](auto& c) -> auto& { return c.cookie.http_only; },
      "Mark cookies HttpOnly so page scripts cannot read them."));
  t.push_back(EnumKey(
      "cookie.sameSite", [](auto& c) -> auto& { return c.cookie.same_site; }, kSameSiteNames,
      kSameSiteValues,
      "SameSite attribute: lax, strict or none (case-insensitive). none needs Secure cookies: "
      "secure must not be false (use true, or auto with an https baseUrl)."));
  t.push_back(StringKey(
      "cookie.path", [](auto& c) -> auto& { return c.cookie.path; },
      "Path attribute of the cookies; starts with /."));
  t.push_back(IntKey(
      "cookie.expires", [](auto& c) -> auto& { return c.cookie.expires; },
      "Cookie Max-Age in seconds; 0 = session.expiresIn."));
  t.push_back(BoolKey(
      "cookie.renew", [](auto& c) -> auto& { return c.cookie.renew; },
      "Send the cookie again with a fresh Max-Age when the session's expiry slides."));
  t.push_back(StringKey(
      "cookie.pathSuccess", [](auto& c) -> auto& { return c.cookie.path_success; },
      "Where a form (non-JSON) sign-in or sign-up redirects on success: a path starting with /, "
      "or an absolute http(s) URL."));
  t.push_back(StringKey(
      "cookie.pathLoggedOut", [](auto& c) -> auto& { return c.cookie.path_logged_out; },
      "Where a form (non-JSON) sign-out redirects: a path starting with /, or an absolute "
      "http(s) URL."));
  // [password]
  t.push_back(IntKey(
      "password.minLength", [](auto& c) -> auto& { return c.password.min_length; },
      "Shortest password accepted at sign-up (at least 1)."));
  t.push_back(IntKey(
      "password.maxLength", [](auto& c) -> auto& { return c.password.max_length; },
      "Longest password accepted (minLength to 4096)."));
  t.push_back(IntKey(
      "password.argon2MemoryKib", [](auto& c) -> auto& { return c.password.argon2_memory_kib; },
      "argon2id memory cost in KiB; at least 19456 (19 MiB, the OWASP floor)."));
  t.push_back(IntKey(
      "password.argon2Iterations", [](auto& c) -> auto& { return c.password.argon2_iterations; },
      "argon2id time cost (passes over memory); at least 2 (the OWASP floor)."));
  // [rateLimit]
  t.push_back(BoolKey(
      "rateLimit.enabled", [](auto& c) -> auto& { return c.rate_limit.enabled; },
      "Rate limiting on; turn off only for tests and benchmarks."));
  t.push_back(ListKey(
      "rateLimit.rules", [](auto& c) -> auto& { return c.rate_limit.rules; },
      "Rules \"<path>[*]=<max>/<window>[:ip]\" or \"account:<name>=<max>/<window>\"; empty = the "
      "defaults (10/60s per IP on sign-in, sign-up and session-changing routes; 600/60s on "
      "get-session; 5 sign-in attempts per account per 15m)."));
  t.push_back(ChoiceStringKey(
      "rateLimit.storage", [](auto& c) -> auto& { return c.rate_limit.storage; },
      kRateLimitStorages,
      "Where the counters live: memory (this process; each replica counts alone) or redis "
      "(redis.url, shared by every replica; while Redis is down, counted in memory)."));
  // [redis]
  t.push_back(StringKey(
      "redis.url", [](auto& c) -> auto& { return c.redis.url; },
      "Redis for rateLimit.storage = \"redis\": redis://[[user]:password@]host[:port][/db] or "
      "unix:///path[?db=N]; no TLS (rediss://)."));
  t.push_back(IntKey(
      "redis.timeoutMs", [](auto& c) -> auto& { return c.redis.timeout_ms; },
      "Milliseconds one Redis call may take, connecting included (1 to 60000); then the "
      "request is counted in memory instead."));
  t.push_back(IntKey(
      "redis.poolSize", [](auto& c) -> auto& { return c.redis.pool_size; },
      "Redis connections per process, at most 256; 0 = twice the CPU cores (at least 2), one "
      "for every thread that can check a limit at once."));
  // [cookieCache]
  t.push_back(BoolKey(
      "cookieCache.enabled", [](auto& c) -> auto& { return c.cookie_cache.enabled; },
      "Let a signed session_data cookie (Better Auth's format) answer get-session without a "
      "database read; a session revoked through the API is still refused on the next request "
      "(revocations are checked in memory)."));
  t.push_back(IntKey(
      "cookieCache.maxAge", [](auto& c) -> auto& { return c.cookie_cache.max_age; },
      "Seconds a session_data cookie is trusted, and its Max-Age (5 minutes)."));
  // [sessionCache]
  t.push_back(BoolKey(
      "sessionCache.enabled", [](auto& c) -> auto& { return c.session_cache.enabled; },
      "Answer repeated get-session (and every session check) from an in-process cache without "
      "a database read. A revocation on any replica is refused at once; a user's name or image "
      "changed on another replica shows up to sessionCache.maxAge late."));
  t.push_back(IntKey(
      "sessionCache.maxAge", [](auto& c) -> auto& { return c.session_cache.max_age; },
      "Seconds a cached session answers after its database read, 1 to 3600 (5)."));
  t.push_back(IntKey(
      "sessionCache.maxEntries", [](auto& c) -> auto& { return c.session_cache.max_entries; },
      "Most sessions cached per process, at least 1; the one read longest ago goes first."));
  // [replication]
  t.push_back(IntKey(
      "replication.pollIntervalMs", [](auto& c) -> auto& { return c.replication.poll_interval_ms; },
      "Milliseconds between reads of the revocation feed, 10 to 60000: the fallback to "
      "PostgreSQL's LISTEN/NOTIFY, and how fast processes sharing one SQLite file converge."));
  // [oneTimeToken]
  t.push_back(IntKey(
      "oneTimeToken.expiresIn", [](auto& c) -> auto& { return c.one_time_token.expires_in; },
      "Seconds a one-time token (GET /api/auth/one-time-token/generate) can be spent, 1 to 3600 "
      "(3 minutes)."));
  // [jwt]
  t.push_back(StringKey(
      "jwt.algorithm", [](auto& c) -> auto& { return c.jwt.algorithm; },
      "Signing algorithm of access tokens: EdDSA, ES256, RS256, HS256, HS384 or HS512."));
  t.push_back(IntKey(
      "jwt.expiresIn", [](auto& c) -> auto& { return c.jwt.expires_in; },
      "Access-token lifetime in seconds (15 minutes), at most 86400."));
  t.push_back(StringKey(
      "jwt.issuer", [](auto& c) -> auto& { return c.jwt.issuer; }, "iss claim; empty = baseUrl."));
  t.push_back(StringKey(
      "jwt.audience", [](auto& c) -> auto& { return c.jwt.audience; },
      "aud claim; empty = baseUrl."));
  t.push_back(ListKey(
      "jwt.fields", [](auto& c) -> auto& { return c.jwt.fields; },
      "User fields copied into access tokens besides sub, sid, email and role: name, image, "
      "emailVerified."));
  t.push_back(IntKey(
      "jwt.rotationInterval", [](auto& c) -> auto& { return c.jwt.rotation_interval; },
      "Seconds between automatic signing-key rotations; 0 = only by `sessiond keys rotate`."));
  t.push_back(BoolKey(
      "jwt.getSessionHeader", [](auto& c) -> auto& { return c.jwt.get_session_header; },
      "get-session also answers with a fresh access token in the set-auth-jwt header."));
  // [log]
  t.push_back(ChoiceStringKey(
      "log.level", [](auto& c) -> auto& { return c.log.level; }, kLogLevels,
      "Least severe log level written: trace, debug, info, warn, error or off."));
  return t;
}

const std::vector<KeyDef>& Table() {
  static const std::vector<KeyDef>& table = *new std::vector<KeyDef>(BuildTable());
  return table;
}

const KeyDef* FindKey(std::string_view key) {
  for (const KeyDef& def : Table()) {
    if (def.key == key) return &def;
  }
  return nullptr;
}

// True if `name` is a table that holds keys ("session" for "session.expiresIn").
bool IsSection(std::string_view name) {
  return std::ranges::any_of(Table(), [name](const KeyDef& def) {
    return def.key.size() > name.size() && def.key.starts_with(name) && def.key[name.size()] == '.';
  });
}

std::size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      const std::size_t cost = LowerChar(a[i - 1]) == LowerChar(b[j - 1]) ? 0 : 1;
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + cost});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// Lower case without '_' and '-': "session.expires_in" and "session.expiresIn" compare equal.
std::string Loose(std::string_view key) {
  std::string out;
  for (const char c : key) {
    if (c != '_' && c != '-') out += LowerChar(c);
  }
  return out;
}

[[noreturn]] void FailUnknownKey(std::string_view key) {
  std::string best;
  std::size_t best_distance = 3;  // Suggest only within an edit distance of 2.
  auto consider = [&](std::string_view candidate) {
    const std::size_t d = Loose(candidate) == Loose(key) ? 0 : EditDistance(candidate, key);
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  };
  for (const KeyDef& def : Table()) {
    consider(def.key);
    // Sections too: "sessions" → "session".
    for (std::size_t dot = def.key.find('.'); dot != std::string::npos;
         dot = def.key.find('.', dot + 1)) {
      consider(std::string_view(def.key).substr(0, dot));
    }
  }
  std::string message = "unknown key";
  if (!best.empty()) message += " (did you mean " + best + "?)";
  Fail(key, message);
}

// Runs `set`, adding where the value came from to a ConfigError's message.
template <typename F>
void WithOrigin(std::string_view origin, F&& set) {
  try {
    std::forward<F>(set)();
  } catch (const ConfigError& e) {
    throw ConfigError(std::string(e.what()) + " (" + std::string(origin) + ")");
  }
}

std::string Location(std::string_view path, const toml::source_region& source) {
  return std::string(path) + ":" + std::to_string(source.begin.line) + ":" +
         std::to_string(source.begin.column);
}

// ---------------------------------------------------------------------------------------------
// Sources.

std::optional<std::string> GetEnv(const Sources& sources, const std::string& name) {
  if (sources.getenv) return sources.getenv(name);
  const char* value = std::getenv(name.c_str());  // NOLINT(concurrency-mt-unsafe): start-up.
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

[[noreturn]] void FailRead(const std::string& path, int error) {
  throw ConfigError(path +
                    ": cannot read the config file: " + std::generic_category().message(error));
}

std::string ReadFile(const std::string& path) {
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                             &std::fclose);
  if (file == nullptr) FailRead(path, errno);
  std::string text;
  std::array<char, 8192> buffer{};
  std::size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), file.get())) > 0) {
    text.append(buffer.data(), n);
  }
  if (std::ferror(file.get()) != 0) FailRead(path, errno != 0 ? errno : EIO);
  return text;
}

void ApplyTable(Config& config, const toml::table& table, const std::string& prefix,
                std::string_view path) {
  for (const auto& [name, node] : table) {
    const std::string key =
        prefix.empty() ? std::string(name.str()) : prefix + "." + std::string(name.str());
    if (const KeyDef* def = FindKey(key)) {
      WithOrigin(Location(path, node.source()),
                 [&] { def->set(config, def->key, Value{.node = &node, .text = {}}); });
    } else if (IsSection(key)) {
      const toml::table* section = node.as_table();
      if (section == nullptr) {
        throw ConfigError(key + ": expected a table, got " + TypeName(node) + " (" +
                          Location(path, node.source()) + ")");
      }
      ApplyTable(config, *section, key, path);
    } else {
      WithOrigin(Location(path, name.source()), [&] { FailUnknownKey(key); });
    }
  }
}

void ApplyTomlFile(Config& config, const std::string& path) {
  const std::string text = ReadFile(path);
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    throw ConfigError(Location(path, e.source()) + ": " + std::string(e.description()));
  }
  ApplyTable(config, root, "", path);
}

// ---------------------------------------------------------------------------------------------
// Validation helpers.

// Dotted quad, each part 0-255 written with 1-3 digits.
bool IsIpv4(std::string_view s) {
  int parts = 0;
  while (true) {
    const std::size_t dot = s.find('.');
    const std::string_view part = s.substr(0, dot);
    if (part.empty() || part.size() > 3 || !std::ranges::all_of(part, IsDigit)) return false;
    int value = 0;
    const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), value);
    if (ec != std::errc{} || value > 255) return false;
    ++parts;
    if (dot == std::string_view::npos) break;
    s.remove_prefix(dot + 1);
  }
  return parts == 4;
}

bool IsIpv6(std::string_view s) {
  in6_addr addr{};
  return s.find(':') != std::string_view::npos &&
         inet_pton(AF_INET6, std::string(s).c_str(), &addr) == 1;
}

// An IP, or an IP with a /prefix length (0-32 for IPv4, 0-128 for IPv6).
bool IsIpOrCidr(std::string_view s) {
  const std::size_t slash = s.find('/');
  const std::string_view address = s.substr(0, slash);
  const bool v6 = address.find(':') != std::string_view::npos;
  if (v6 ? !IsIpv6(address) : !IsIpv4(address)) return false;
  if (slash == std::string_view::npos) return true;
  const std::string_view bits = s.substr(slash + 1);
  int value = 0;
  const char* last = bits.data() + bits.size();
  const auto [end, ec] = std::from_chars(bits.data(), last, value);
  return !bits.empty() && bits.size() <= 3 && ec == std::errc{} && end == last &&
         std::ranges::all_of(bits, IsDigit) && value <= (v6 ? 128 : 32);
}

struct Url {
  std::string_view scheme;
  std::string_view host;  // Brackets kept for IPv6: "[::1]".
  std::string_view rest;  // Path, query and fragment: "" or starting with '/', '?' or '#'.
};

// scheme://host[:port]rest, without user info; the port, if written, is 1-65535.
std::optional<Url> ParseUrl(std::string_view s) {
  const std::size_t scheme_end = s.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0) return std::nullopt;
  Url url;
  url.scheme = s.substr(0, scheme_end);
  if (!IsAlpha(url.scheme[0]) || !std::ranges::all_of(url.scheme, [](char c) {
        return IsAlpha(c) || IsDigit(c) || c == '+' || c == '-' || c == '.';
      })) {
    return std::nullopt;
  }
  const std::string_view after = s.substr(scheme_end + 3);
  const std::size_t authority_end = after.find_first_of("/?#");
  const std::string_view authority = after.substr(0, authority_end);
  url.rest = authority_end == std::string_view::npos ? "" : after.substr(authority_end);
  std::string_view port;
  bool has_port = false;
  if (authority.starts_with('[')) {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos || !IsIpv6(authority.substr(1, close - 1))) {
      return std::nullopt;
    }
    url.host = authority.substr(0, close + 1);
    const std::string_view tail = authority.substr(close + 1);
    if (!tail.empty()) {
      if (tail[0] != ':') return std::nullopt;
      has_port = true;
      port = tail.substr(1);
    }
  } else {
    const std::size_t colon = authority.find(':');
    url.host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      has_port = true;
      port = authority.substr(colon + 1);
    }
    if (url.host.empty() || !std::ranges::all_of(url.host, [](char c) {
          return IsAlpha(c) || IsDigit(c) || c == '-' || c == '.' || c == '_';
        })) {
      return std::nullopt;
    }
  }
  if (has_port) {
    int value = 0;
    const char* last = port.data() + port.size();
    const auto [end, ec] = std::from_chars(port.data(), last, value);
    if (port.empty() || port.size() > 5 || !std::ranges::all_of(port, IsDigit) ||
        ec != std::errc{} || end != last || value < 1 || value > 65535) {
      return std::nullopt;
    }
  }
  return url;
}

bool IsHttpScheme(std::string_view scheme) {
  return IEquals(scheme, "http") || IEquals(scheme, "https");
}

// A redirect target: "/path" (not "//host", which browsers read as another site) or an
// absolute http(s) URL.
bool IsRedirectTarget(std::string_view s) {
  if (s.starts_with('/')) return !s.starts_with("//") && !s.starts_with("/\\");
  const std::optional<Url> url = ParseUrl(s);
  return url && IsHttpScheme(url->scheme);
}

// RFC 6265 cookie-name (token) characters.
bool IsCookieNameChar(char c) {
  constexpr std::string_view kSeparators = "()<>@,;:\\\"/[]?={} \t";
  const auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u < 0x7f && kSeparators.find(c) == std::string_view::npos;
}

template <typename T>
void RequireAtLeast(std::string_view key, T value, T minimum) {
  if (value < minimum) {
    Fail(key, "must be at least " + std::to_string(minimum) + ", got " + std::to_string(value));
  }
}

}  // namespace

std::string EnvName(std::string_view key) {
  std::string out = "SESSIOND_";
  char previous = '\0';
  for (const char c : key) {
    if (c == '.' || c == '-') {
      out += '_';
    } else if (c >= 'A' && c <= 'Z' &&
               ((previous >= 'a' && previous <= 'z') || IsDigit(previous))) {
      out += '_';
      out += c;
    } else {
      out += UpperChar(c);
    }
    previous = c;
  }
  return out;
}

std::vector<KeyInfo> Keys() {
  const Config defaults;
  std::vector<KeyInfo> keys;
  keys.reserve(Table().size());
  for (const KeyDef& def : Table()) {
    keys.push_back({.key = def.key,
                    .env = EnvName(def.key),
                    .default_value = def.show(defaults),
                    .description = def.description});
  }
  return keys;
}

void Validate(const Config& config, const Sources& sources) {
  if (config.host.empty()) Fail("host", "must not be empty");

  if (!config.base_url.empty()) {
    const std::optional<Url> url = ParseUrl(config.base_url);
    if (!url || !IsHttpScheme(url->scheme) || !(url->rest.empty() || url->rest == "/")) {
      Fail("baseUrl", "must be an absolute http:// or https:// URL with a host and no path, got " +
                          Quote(config.base_url));
    }
  }
  for (const std::string& origin : config.trusted_origins) {
    // '*' is a wildcard within the host ("https://*.example.com"); check the rest of the shape.
    std::string shape = origin;
    for (std::size_t at = shape.find('*'); at != std::string::npos; at = shape.find('*', at)) {
      shape.replace(at, 1, "wildcard");
    }
    const std::optional<Url> url = ParseUrl(shape);
    if (!url || !url->rest.empty()) {
      Fail("trustedOrigins", Quote(origin) +
                                 " is not an origin (scheme://host[:port], with no path; '*' "
                                 "may stand for part of the host)");
    }
  }
  for (const std::string& proxy : config.trusted_proxies) {
    if (!IsIpOrCidr(proxy)) {
      Fail("trustedProxies", Quote(proxy) + " is not an IP address or CIDR (e.g. 10.0.0.0/8)");
    }
  }
  if (config.data_dir.empty()) Fail("dataDir", "must not be empty");
  if (!config.secret.empty() && config.secret.size() < kMinSecretLength) {
    Fail("secret", "must be at least " + std::to_string(kMinSecretLength) + " characters");
  }

  const Limits& limits = config.limits;
  RequireAtLeast<std::uint32_t>("limits.maxHeaderBytes", limits.max_header_bytes, 1024);
  RequireAtLeast<std::uint64_t>("limits.maxBodyBytes", limits.max_body_bytes, 1024);
  RequireAtLeast<std::uint32_t>("limits.readTimeoutMs", limits.read_timeout_ms, 1);
  RequireAtLeast<std::uint32_t>("limits.idleTimeoutMs", limits.idle_timeout_ms, 1);
  RequireAtLeast<std::uint32_t>("limits.maxConnections", limits.max_connections, 1);
  RequireAtLeast<std::uint32_t>("limits.shutdownGraceMs", limits.shutdown_grace_ms, 1);
  RequireAtLeast<std::uint32_t>("database.connectTimeoutMs", config.database.connect_timeout_ms, 1);
  RequireAtLeast<std::uint32_t>("database.statementTimeoutMs", config.database.statement_timeout_ms,
                                1);

  if (std::ranges::find(kSynchronousNames, config.database.synchronous) ==
      kSynchronousNames.end()) {
    Fail("database.synchronous", "expected " + Join(kSynchronousNames, " or ") + ", got " +
                                     Quote(config.database.synchronous));
  }

  const Session& session = config.session;
  if (session.expires_in <= 0) Fail("session.expiresIn", "must be a positive integer");
  if (session.update_age < 0) Fail("session.updateAge", "must not be negative");
  if (session.update_age > session.expires_in) {
    Fail("session.updateAge", "must not exceed session.expiresIn (" +
                                  std::to_string(session.update_age) + " > " +
                                  std::to_string(session.expires_in) + ")");
  }
  if (session.dont_remember_expires_in <= 0) {
    Fail("session.dontRememberExpiresIn", "must be a positive integer");
  }
  if (session.sweep_interval < 0) Fail("session.sweepInterval", "must not be negative");

  const Cookie& cookie = config.cookie;
  if (cookie.prefix.empty() || !std::ranges::all_of(cookie.prefix, IsCookieNameChar)) {
    Fail("cookie.prefix",
         "must be non-empty and contain only cookie-name characters (no spaces, ;, =, ...), "
         "got " +
             Quote(cookie.prefix));
  }
  if (!cookie.path.starts_with('/')) {
    Fail("cookie.path", "must start with '/', got " + Quote(cookie.path));
  }
  if (cookie.path.find_first_of(";\r\n") != std::string::npos) {
    Fail("cookie.path", "must not contain ';' or line breaks");
  }
  if (cookie.expires < 0) Fail("cookie.expires", "must not be negative (0 = session.expiresIn)");
  // Browsers reject SameSite=None without Secure; with secure=auto the cookie is Secure only
  // when baseUrl is https.
  const bool secure_cookie =
      cookie.secure == Tristate::kOn ||
      (cookie.secure == Tristate::kAuto && config.base_url.starts_with("https://"));
  if (cookie.same_site == SameSite::kNone && !secure_cookie) {
    Fail("cookie.sameSite",
         "\"none\" requires a Secure cookie: cookie.secure true, or auto with an https baseUrl "
         "(browsers reject SameSite=None without Secure)");
  }
  if (!IsRedirectTarget(cookie.path_success)) {
    Fail("cookie.pathSuccess", "must be a path starting with '/' or an absolute http(s) URL, got " +
                                   Quote(cookie.path_success));
  }
  if (!IsRedirectTarget(cookie.path_logged_out)) {
    Fail("cookie.pathLoggedOut",
         "must be a path starting with '/' or an absolute http(s) URL, got " +
             Quote(cookie.path_logged_out));
  }

  const Password& password = config.password;
  RequireAtLeast<std::uint32_t>("password.minLength", password.min_length, 1);
  RequireAtLeast<std::uint32_t>("password.maxLength", password.max_length, password.min_length);
  if (password.max_length > kMaxPasswordLength) {
    Fail("password.maxLength", "must be at most " + std::to_string(kMaxPasswordLength) + ", got " +
                                   std::to_string(password.max_length));
  }
  const bool fast_hash = GetEnv(sources, std::string(kInsecureFastHashEnv)) == "1";
  const std::string floor_note = fast_hash ? std::string(" (libsodium's minimum)")
                                           : " (the OWASP floor; only " +
                                                 std::string(kInsecureFastHashEnv) +
                                                 "=1 allows less, for tests)";
  const std::uint64_t min_memory = fast_hash ? kSodiumMinMemoryKib : kArgon2MinMemoryKib;
  const std::uint64_t min_iterations = fast_hash ? kSodiumMinIterations : kArgon2MinIterations;
  if (password.argon2_memory_kib < min_memory) {
    Fail("password.argon2MemoryKib", "must be at least " + std::to_string(min_memory) + floor_note +
                                         ", got " + std::to_string(password.argon2_memory_kib));
  }
  if (password.argon2_iterations < min_iterations) {
    Fail("password.argon2Iterations", "must be at least " + std::to_string(min_iterations) +
                                          floor_note + ", got " +
                                          std::to_string(password.argon2_iterations));
  }

  if (config.session.absolute_lifetime < 0) {
    Fail("session.absoluteLifetime", "must not be negative (0 = no bound)");
  }
  if (config.session.absolute_lifetime > 0 &&
      config.session.absolute_lifetime < config.session.expires_in) {
    Fail("session.absoluteLifetime", "must be 0 or at least session.expiresIn");
  }
  if (config.session.idle_timeout < 0) Fail("session.idleTimeout", "must not be negative");
  if (auto rules = ratelimit::ParseRules(config.rate_limit.rules); !rules) {
    Fail("rateLimit.rules", rules.error().detail);
  }
  if (auto redis = ratelimit::ParseRedisUrl(config.redis.url); !redis) {
    Fail("redis.url", redis.error().detail);  // The detail never repeats the URL's password.
  }
  if (config.redis.timeout_ms < 1 || config.redis.timeout_ms > 60'000) {
    Fail("redis.timeoutMs", "must be from 1 to 60000");
  }
  if (config.redis.pool_size > 256) Fail("redis.poolSize", "must be from 0 to 256");
  if (config.cookie_cache.max_age <= 0) Fail("cookieCache.maxAge", "must be positive");
  if (config.session_cache.max_age < 1 || config.session_cache.max_age > 3'600) {
    Fail("sessionCache.maxAge", "must be from 1 to 3600 seconds");
  }
  RequireAtLeast<std::uint32_t>("sessionCache.maxEntries", config.session_cache.max_entries, 1);
  if (config.replication.poll_interval_ms < 10 || config.replication.poll_interval_ms > 60'000) {
    Fail("replication.pollIntervalMs", "must be from 10 to 60000");
  }
  if (config.one_time_token.expires_in <= 0 || config.one_time_token.expires_in > 3'600) {
    Fail("oneTimeToken.expiresIn", "must be from 1 to 3600 seconds");
  }
  static constexpr std::array<std::string_view, 6> kJwtAlgorithms = {"EdDSA", "ES256", "RS256",
                                                                     "HS256", "HS384", "HS512"};
  if (std::ranges::find(kJwtAlgorithms, config.jwt.algorithm) == kJwtAlgorithms.end()) {
    Fail("jwt.algorithm",
         "expected EdDSA, ES256, RS256, HS256, HS384 or HS512, got " + Quote(config.jwt.algorithm));
  }
  if (config.jwt.expires_in <= 0 || config.jwt.expires_in > 86'400) {
    Fail("jwt.expiresIn", "must be from 1 to 86400 seconds");
  }
  for (const std::string& field : config.jwt.fields) {
    if (field != "name" && field != "image" && field != "emailVerified") {
      Fail("jwt.fields", "unknown user field " + Quote(field) + " (name, image, emailVerified)");
    }
  }
  if (config.jwt.rotation_interval < 0) Fail("jwt.rotationInterval", "must not be negative");

  if (std::ranges::find(kLogLevels, config.log.level) == kLogLevels.end()) {
    Fail("log.level", "expected " + Join(kLogLevels, " or ") + ", got " + Quote(config.log.level));
  }
}

Config Load(const Sources& sources) {
  Config config;
  if (sources.toml_path) ApplyTomlFile(config, *sources.toml_path);
  for (const KeyDef& def : Table()) {
    const std::string env = EnvName(def.key);
    if (const std::optional<std::string> text = GetEnv(sources, env)) {
      WithOrigin("from " + env,
                 [&] { def.set(config, def.key, Value{.node = nullptr, .text = *text}); });
    }
  }
  for (const auto& [key, text] : sources.overrides) {
    const KeyDef* def = FindKey(key);
    if (def == nullptr) FailUnknownKey(key);
    WithOrigin("from the command line",
               [&] { def->set(config, def->key, Value{.node = nullptr, .text = text}); });
  }
  Validate(config, sources);
  return config;
}

}  // namespace sessiond::config
