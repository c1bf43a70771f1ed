#include "routes/json_body.h"

#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/value.hpp>
#include <cctype>

#include "http/cookies.h"

namespace sessiond::routes {
namespace {

// The media type of a Content-Type value, lower-cased, without parameters (RFC 9110 §8.3.1).
std::string MediaType(std::string_view content_type) {
  const auto semi = content_type.find(';');
  std::string_view type = content_type.substr(0, semi);
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  std::string out(type);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string MediaTypeOf(const http::Request& request) {
  const auto ct = request.headers.Get("content-type");
  return ct ? MediaType(*ct) : std::string();
}

Result<boost::json::object> ParseForm(std::string_view body) {
  boost::json::object fields;
  std::size_t start = 0;
  while (start <= body.size() && !body.empty()) {
    auto amp = body.find('&', start);
    if (amp == std::string_view::npos) amp = body.size();
    const std::string_view pair = body.substr(start, amp - start);
    if (!pair.empty()) {
      const auto eq = pair.find('=');
      std::string key(pair.substr(0, eq));
      std::string value(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
      for (char& c : key) c = c == '+' ? ' ' : c;
      for (char& c : value) c = c == '+' ? ' ' : c;
      fields[http::PercentDecode(key)] = http::PercentDecode(value);
    }
    start = amp + 1;
    if (amp == body.size()) break;
  }
  return fields;
}

}  // namespace

bool IsFormPost(const http::Request& request) {
  return MediaTypeOf(request) == "application/x-www-form-urlencoded";
}

Result<BodyFields> ParseBody(const http::Request& request, bool allow_form) {
  const std::string type = MediaTypeOf(request);
  if (allow_form && type == "application/x-www-form-urlencoded") {
    auto fields = ParseForm(request.body);
    if (!fields) return std::unexpected(fields.error());
    return BodyFields(std::move(*fields), true);
  }
  if (type != "application/json") {
    return Fail(ErrorCode::kUnsupportedMediaType, "content-type is not application/json");
  }
  boost::json::parse_options options;
  options.max_depth = 32;
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(request.body, ec, {}, options);
  if (ec) return Fail(ErrorCode::kInvalidJson, "body: " + ec.message());
  if (!value.is_object()) return Fail(ErrorCode::kInvalidJson, "body is not a JSON object");
  return BodyFields(std::move(value.as_object()), false);
}

Result<std::string> BodyFields::RequiredString(std::string_view key) const {
  const auto* v = fields_.if_contains(key);
  if (v == nullptr || !v->is_string()) {
    return Fail(ErrorCode::kValidation, std::string(key) + " must be a string");
  }
  return std::string(v->as_string());
}

Result<std::optional<std::string>> BodyFields::OptionalString(std::string_view key) const {
  const auto* v = fields_.if_contains(key);
  if (v == nullptr || v->is_null()) return std::optional<std::string>();
  if (!v->is_string()) return Fail(ErrorCode::kValidation, std::string(key) + " must be a string");
  return std::optional<std::string>(std::string(v->as_string()));
}

Result<std::optional<bool>> BodyFields::OptionalBool(std::string_view key) const {
  const auto* v = fields_.if_contains(key);
  if (v == nullptr || v->is_null()) return std::optional<bool>();
  if (v->is_bool()) return std::optional<bool>(v->as_bool());
  if (from_form_ && v->is_string()) {
    const std::string_view s = v->as_string();
    if (s == "true" || s == "on" || s == "1") return std::optional<bool>(true);
    if (s == "false" || s == "off" || s == "0" || s.empty()) return std::optional<bool>(false);
  }
  return Fail(ErrorCode::kValidation, std::string(key) + " must be a boolean");
}

}  // namespace sessiond::routes
