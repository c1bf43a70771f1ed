#include "routes/session_cookies.h"

#include <cctype>
#include <utility>

#include "http/cookies.h"

namespace sessiond::routes {

SessionCookies::SessionCookies(CookieOptions options, const token::TokenSigner& signer)
    : options_(std::move(options)),
      signer_(signer),
      name_prefix_((options_.secure ? "__Secure-" : "") + options_.prefix + "."),
      token_name_(name_prefix_ + "session_token") {}

Credential SessionCookies::Read(const http::Request& request) const {
  if (const auto auth = request.headers.Get("authorization")) {
    // RFC 6750 §2.1: the scheme is case-insensitive; one space, then the credential.
    constexpr std::string_view kScheme = "bearer ";
    if (auth->size() > kScheme.size()) {
      std::string scheme(auth->substr(0, kScheme.size()));
      for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (scheme == kScheme) {
        std::string_view value = auth->substr(kScheme.size());
        while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
        if (value.size() == token::kTokenLength) {
          return {CredentialSource::kBearer, std::string(value)};
        }
        // Clients that copy the cookie value may send it URL-encoded.
        return {CredentialSource::kBearer, signer_.Verify(http::PercentDecode(value))};
      }
    }
  }
  if (const auto header = request.headers.Get("cookie")) {
    if (auto value = http::FindCookie(*header, token_name_)) {
      return {CredentialSource::kCookie, signer_.Verify(*value)};
    }
  }
  return {};
}

std::string SessionCookies::Issue(std::string_view token, bool remember_me) const {
  http::SetCookie c;
  c.name = token_name_;
  c.value = signer_.Sign(token);
  if (remember_me) c.max_age = options_.max_age;
  c.path = options_.path;
  c.http_only = options_.http_only;
  c.secure = options_.secure;
  c.same_site = options_.same_site;
  return http::Serialize(c);
}

std::vector<std::string> SessionCookies::Clear() const {
  std::vector<std::string> out;
  for (const char* suffix : {"session_token", "session_data", "dont_remember"}) {
    http::SetCookie c;
    c.name = name_prefix_ + suffix;
    c.max_age = 0;
    c.path = options_.path;
    c.http_only = options_.http_only;
    c.secure = options_.secure;
    c.same_site = options_.same_site;
    out.push_back(http::Serialize(c));
  }
  return out;
}

}  // namespace sessiond::routes
