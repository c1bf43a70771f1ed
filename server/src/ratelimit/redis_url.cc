#include "ratelimit/redis_url.h"

#include <charconv>
#include <limits>
#include <optional>
#include <system_error>

namespace sessiond::ratelimit {
namespace {

constexpr std::string_view kForms =
    "expected redis://[[user]:password@]host[:port][/db] or unix:///path[?db=N]";

std::unexpected<Error> Invalid(std::string_view why) {
  return Fail(ErrorCode::kValidation, std::string(why) + " (" + std::string(kForms) + ")");
}

template <typename T>
std::optional<T> ParseDecimal(std::string_view text) {
  T out{};
  if (text.empty() || text.size() > 10) return std::nullopt;
  const char* last = text.data() + text.size();
  const auto [end, ec] = std::from_chars(text.data(), last, out);
  if (ec != std::errc{} || end != last) return std::nullopt;
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 3986 §2.1 percent-decoding; nullopt on a malformed escape.
std::optional<std::string> PercentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    const int hi = HexValue(text[i + 1]);
    const int lo = HexValue(text[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

bool IsHostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == '_';
}

bool IsIpv6Char(char c) { return HexValue(c) >= 0 || c == ':' || c == '.'; }

std::optional<std::uint32_t> ParseDb(std::string_view text) {
  const auto db = ParseDecimal<std::uint32_t>(text);
  if (!db || *db > static_cast<std::uint32_t>(std::numeric_limits<int>::max())) return std::nullopt;
  return db;
}

Result<RedisEndpoint> ParseUnix(std::string_view rest) {
  RedisEndpoint endpoint;
  std::string_view path = rest;
  if (const std::size_t q = rest.find('?'); q != std::string_view::npos) {
    path = rest.substr(0, q);
    const std::string_view query = rest.substr(q + 1);
    if (!query.starts_with("db=")) return Invalid("unix:// accepts only the query ?db=N");
    const auto db = ParseDb(query.substr(3));
    if (!db) return Invalid("the database number must be a decimal integer");
    endpoint.db = *db;
  }
  if (!path.starts_with('/') || path.size() < 2) {
    return Invalid("unix:// needs an absolute socket path");
  }
  endpoint.unix_path = std::string(path);
  endpoint.host.clear();
  return endpoint;
}

Result<RedisEndpoint> ParseTcp(std::string_view rest) {
  RedisEndpoint endpoint;
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return Invalid("query strings and fragments are not supported");
  }
  const std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  const std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash + 1);

  if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    authority.remove_prefix(at + 1);
    const std::size_t colon = userinfo.find(':');
    if (colon == std::string_view::npos) {
      return Invalid("credentials must be user:password or :password");
    }
    auto username = PercentDecode(userinfo.substr(0, colon));
    auto password = PercentDecode(userinfo.substr(colon + 1));
    if (!username || !password) return Invalid("malformed percent-escape in the credentials");
    if (password->empty()) return Invalid("the password after ':' is empty");
    endpoint.username = std::move(*username);
    endpoint.password = std::move(*password);
  }

  std::string_view host = authority;
  std::string_view port;
  if (authority.starts_with('[')) {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return Invalid("unclosed '[' in the host");
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (!after.starts_with(':')) return Invalid("unexpected text after the IPv6 host");
      port = after.substr(1);
      if (port.empty()) return Invalid("empty port");
    }
    if (host.empty()) return Invalid("empty host");
    for (const char c : host) {
      if (!IsIpv6Char(c)) return Invalid("the bracketed host is not an IPv6 address");
    }
  } else {
    if (const std::size_t colon = authority.find(':'); colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
      if (port.empty()) return Invalid("empty port");
    }
    if (host.empty()) return Invalid("empty host");
    for (const char c : host) {
      if (!IsHostChar(c)) return Invalid("the host has a character not allowed in a host name");
    }
  }
  endpoint.host = std::string(host);
  if (!port.empty()) {
    const auto number = ParseDecimal<std::uint16_t>(port);
    if (!number || *number == 0) return Invalid("the port must be 1 to 65535");
    endpoint.port = *number;
  }
  if (!path.empty()) {
    const auto db = ParseDb(path);
    if (!db) return Invalid("the path must be a database number, e.g. /0");
    endpoint.db = *db;
  }
  return endpoint;
}

}  // namespace

// Built with append() only: GCC 12 at -O2 reports a false -Wrestrict on `"literal" + string`
// temporaries (GCC PR 105329), which -Werror turns into a release-build failure.
std::string RedisEndpoint::Redacted() const {
  std::string out;
  if (!unix_path.empty()) {
    out.append("unix://").append(unix_path);
    if (db != 0) out.append("?db=").append(std::to_string(db));
    return out;
  }
  out.append("redis://");
  if (!password.empty()) out.append(username).append(":***@");
  if (host.find(':') != std::string::npos) {
    out.append("[").append(host).append("]");
  } else {
    out.append(host);
  }
  out.append(":").append(std::to_string(port)).append("/").append(std::to_string(db));
  return out;
}

Result<RedisEndpoint> ParseRedisUrl(std::string_view url) {
  constexpr std::string_view kRedis = "redis://";
  constexpr std::string_view kUnix = "unix://";
  if (url.starts_with(kRedis)) return ParseTcp(url.substr(kRedis.size()));
  if (url.starts_with(kUnix)) return ParseUnix(url.substr(kUnix.size()));
  if (url.starts_with("rediss://")) {
    return Invalid(
        "rediss:// (TLS) is not supported by Debian 12's hiredis 0.14; use a private network, "
        "a TLS tunnel or a Unix socket");
  }
  return Invalid("unsupported scheme");
}

}  // namespace sessiond::ratelimit
