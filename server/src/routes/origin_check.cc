#include "routes/origin_check.h"

#include <cctype>
#include <utility>

namespace sessiond::routes {
namespace {

// Glob match where '*' matches any run of characters except '/'.
bool Glob(std::string_view pattern, std::string_view text) {
  if (pattern.empty()) return text.empty();
  if (pattern.front() == '*') {
    for (std::size_t i = 0; i <= text.size(); ++i) {
      if (Glob(pattern.substr(1), text.substr(i))) return true;
      if (i < text.size() && text[i] == '/') return false;
    }
    return false;
  }
  return !text.empty() && pattern.front() == text.front() &&
         Glob(pattern.substr(1), text.substr(1));
}

}  // namespace

OriginCheck::OriginCheck(const std::vector<std::string>& trusted) {
  for (const auto& t : trusted) {
    std::string o = OriginOf(t);
    if (!o.empty()) trusted_.push_back(std::move(o));
  }
}

std::string OriginCheck::OriginOf(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0) return {};
  std::string scheme(url.substr(0, scheme_end));
  std::string_view rest = url.substr(scheme_end + 3);
  const auto authority_end = rest.find_first_of("/?#");
  std::string authority(rest.substr(0, authority_end));
  if (authority.empty() || authority.find('@') != std::string::npos) return {};
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (char& c : authority) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // RFC 6454 §4: the default port is not part of the serialised origin.
  if (scheme == "http" && authority.ends_with(":80")) authority.resize(authority.size() - 3);
  if (scheme == "https" && authority.ends_with(":443")) authority.resize(authority.size() - 4);
  return scheme + "://" + authority;
}

bool OriginCheck::IsTrusted(std::string_view origin) const {
  for (const auto& t : trusted_) {
    if (t.find('*') == std::string::npos ? t == origin : Glob(t, origin)) return true;
  }
  return false;
}

bool OriginCheck::IsSafeRedirect(std::string_view url) const {
  if (url.starts_with('/')) {
    // "//evil.example" and "/\\evil.example" are protocol-relative to browsers.
    return url.size() == 1 || (url[1] != '/' && url[1] != '\\');
  }
  const std::string origin = OriginOf(url);
  return !origin.empty() && IsTrusted(origin);
}

Result<void> OriginCheck::Check(const http::Request& request) const {
  const std::string& m = request.method;
  if (m == "GET" || m == "HEAD" || m == "OPTIONS") return {};
  if (!request.headers.Get("cookie")) return {};
  std::string origin;
  if (const auto o = request.headers.Get("origin"); o && *o != "null") {
    origin = OriginOf(*o);
  } else if (const auto r = request.headers.Get("referer"); r && !o) {
    origin = OriginOf(*r);
  }
  if (origin.empty()) return Fail(ErrorCode::kMissingOrNullOrigin, "no usable Origin/Referer");
  if (!IsTrusted(origin)) return Fail(ErrorCode::kInvalidOrigin, "untrusted origin " + origin);
  return {};
}

}  // namespace sessiond::routes
