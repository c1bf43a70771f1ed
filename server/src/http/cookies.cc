#include "http/cookies.h"

#include <cstddef>

namespace sessiond::http {
namespace {

// Optional whitespace around cookie-pairs and '=' (RFC 6265 §5.2 trims SP and HTAB).
std::string_view TrimWhitespace(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// encodeURIComponent's unreserved set (ECMA-262 §19.2.6.5): ALPHA DIGIT - _ . ! ~ * ' ( ).
bool IsUriComponentUnreserved(unsigned char c) {
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '-':
    case '_':
    case '.':
    case '!':
    case '~':
    case '*':
    case '\'':
    case '(':
    case ')':
      return true;
    default:
      return false;
  }
}

}  // namespace

std::optional<std::string> FindCookie(std::string_view cookie_header, std::string_view name) {
  // RFC 6265 §5.4 / §4.2.1: cookie-pairs separated by ";" (normally "; "). Each pair is
  // name=value; a pair without '=' or with an empty name is ignored (§5.2 step 2-3).
  std::string_view rest = cookie_header;
  while (!rest.empty()) {
    const std::size_t semi = rest.find(';');
    const std::string_view pair = rest.substr(0, semi);
    rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);

    const std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view pair_name = TrimWhitespace(pair.substr(0, eq));
    if (pair_name.empty() || pair_name != name) continue;
    std::string_view value = TrimWhitespace(pair.substr(eq + 1));
    // cookie-value may be wrapped in DQUOTEs (RFC 6265 §4.1.1); they are not part of the value.
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    return PercentDecode(value);
  }
  return std::nullopt;
}

std::string Serialize(const SetCookie& cookie) {
  // Attribute order as better-call writes it (see the wire reference):
  // Max-Age, Path, HttpOnly, Secure, SameSite.
  std::string out = cookie.name;
  out += '=';
  out += PercentEncode(cookie.value);
  if (cookie.max_age.has_value()) {
    out += "; Max-Age=";
    out += std::to_string(*cookie.max_age);
  }
  if (!cookie.path.empty()) {
    out += "; Path=";
    out += cookie.path;
  }
  if (cookie.http_only) out += "; HttpOnly";
  if (cookie.secure) out += "; Secure";
  if (!cookie.same_site.empty()) {
    out += "; SameSite=";
    out += cookie.same_site;
  }
  return out;
}

std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    const auto byte = static_cast<unsigned char>(c);
    if (IsUriComponentUnreserved(byte)) {
      out += c;
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0x0F];
    }
  }
  return out;
}

std::string PercentDecode(std::string_view s) {
  // Runs without '%' are copied whole (every request path goes through here).
  std::size_t percent = s.find('%');
  if (percent == std::string_view::npos) return std::string(s);
  std::string out;
  out.reserve(s.size());
  std::size_t copied = 0;  // s[0, copied) is in `out`.
  while (percent != std::string_view::npos) {
    out.append(s.data() + copied, percent - copied);
    // An escape needs two hex digits; anything else ("%", "%G1", a trailing "%4") is kept.
    if (percent + 2 < s.size() && HexValue(s[percent + 1]) >= 0 && HexValue(s[percent + 2]) >= 0) {
      out += static_cast<char>(HexValue(s[percent + 1]) * 16 + HexValue(s[percent + 2]));
      copied = percent + 3;
    } else {
      out += '%';
      copied = percent + 1;
    }
    percent = s.find('%', copied);
  }
  out.append(s.data() + copied, s.size() - copied);
  return out;
}

}  // namespace sessiond::http
