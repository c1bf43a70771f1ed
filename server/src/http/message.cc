#include "http/message.h"

#include <cstddef>

#include "http/cookies.h"

namespace sessiond::http {
namespace {

// ASCII-only case folding: header names are tokens (RFC 9110 §5.1), so no locale is involved.
char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

// application/x-www-form-urlencoded decoding of one query component: '+' is a space, then
// %XX escapes (WHATWG URL §5.1). Replacing '+' first keeps an encoded "%2B" a literal '+'.
std::string DecodeQueryComponent(std::string_view s) {
  std::string plus_decoded(s);
  for (char& c : plus_decoded) {
    if (c == '+') c = ' ';
  }
  return PercentDecode(plus_decoded);
}

}  // namespace

EventSink::~EventSink() = default;

std::optional<std::string_view> Headers::Get(std::string_view name) const {
  for (const auto& [field_name, value] : fields_) {
    if (EqualsIgnoreCase(field_name, name)) return std::string_view(value);
  }
  return std::nullopt;
}

std::vector<std::string_view> Headers::GetAll(std::string_view name) const {
  std::vector<std::string_view> values;
  for (const auto& [field_name, value] : fields_) {
    if (EqualsIgnoreCase(field_name, name)) values.emplace_back(value);
  }
  return values;
}

std::optional<std::string> Request::QueryParam(std::string_view name) const {
  std::string_view rest = query;
  while (!rest.empty()) {
    const std::size_t amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    const std::string_view raw_name = pair.substr(0, eq);
    if (DecodeQueryComponent(raw_name) != name) continue;
    if (eq == std::string_view::npos) return std::string();  // "?flag" → present, empty.
    return DecodeQueryComponent(pair.substr(eq + 1));
  }
  return std::nullopt;
}

Response Response::Json(int status, std::string body) {
  Response response;
  response.status = status;
  response.headers.Reserve(4);  // Routes add cache-control, cookies, CORS: one allocation.
  response.headers.Add("content-type", "application/json");
  response.body = std::move(body);
  return response;
}

}  // namespace sessiond::http
