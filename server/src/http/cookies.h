// Cookie header parsing and Set-Cookie serialisation (RFC 6265).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sessiond::http {

// Value of the named cookie in a Cookie header ("a=1; b=2"), percent-decoded; the first
// occurrence wins. Malformed pairs are skipped, never an error.
[[nodiscard]] std::optional<std::string> FindCookie(std::string_view cookie_header,
                                                    std::string_view name);

struct SetCookie {
  std::string name;
  std::string value;                 // Percent-encoded on output (as better-call does).
  std::optional<long long> max_age;  // Omitted → browser-session cookie.
  std::string path = "/";
  bool http_only = true;
  bool secure = false;
  std::string same_site = "Lax";  // "Lax" | "Strict" | "None".
};

// "name=value; Max-Age=N; Path=/; HttpOnly; Secure; SameSite=Lax".
[[nodiscard]] std::string Serialize(const SetCookie& cookie);

// Percent-encoding as JavaScript's encodeURIComponent does.
[[nodiscard]] std::string PercentEncode(std::string_view s);
// Decodes %XX; invalid escapes are kept literally.
[[nodiscard]] std::string PercentDecode(std::string_view s);

}  // namespace sessiond::http
