// The pieces of sessiond's base URL the HTTP client needs, and query-string encoding. Internal.
//
// Thread-safety: pure functions.
#pragma once

#include <expected>
#include <string>
#include <string_view>

namespace sessiond::verifier::internal {

struct BaseUrl {
  bool tls = false;         // https
  std::string host;         // For DNS / connect and TLS name checks; IPv6 without brackets.
  std::string port;         // "80"/"443" when the URL has none.
  std::string host_header;  // The Host header (RFC 9110 §7.2): host[:port] as written.
};

// "http://host[:port][/]" or "https://…" (RFC 3986 §3; scheme case-insensitive). Refuses
// userinfo, a path other than "/", a query or fragment, an empty host, and a port outside
// 1-65535, with a message saying which.
[[nodiscard]] std::expected<BaseUrl, std::string> ParseBaseUrl(std::string_view url);

// Percent-encodes everything except RFC 3986 §2.3 unreserved characters, for a query value.
[[nodiscard]] std::string PercentEncode(std::string_view value);

// True if `value` can go in an HTTP header field as it is: 1-1024 visible ASCII characters or
// spaces (no CR/LF/NUL, so no header injection; RFC 9110 §5.5).
[[nodiscard]] bool IsSafeHeaderValue(std::string_view value);

}  // namespace sessiond::verifier::internal
