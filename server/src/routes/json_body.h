// Request-body parsing for routes: JSON objects (application/json) and, for the browser form
// flows bknd documents (pathSuccess / pathLoggedOut), application/x-www-form-urlencoded.
// Every failure is a typed 4xx error; nothing here throws.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"
#include "http/message.h"

namespace sessiond::routes {

// The fields of a request body, whichever encoding it came in.
class BodyFields {
 public:
  BodyFields(boost::json::object fields, bool from_form)
      : fields_(std::move(fields)), from_form_(from_form) {}

  // A string field that must be present. kValidation if absent or not a string.
  [[nodiscard]] Result<std::string> RequiredString(std::string_view key) const;
  // A string field that may be absent or null. kValidation for other types.
  [[nodiscard]] Result<std::optional<std::string>> OptionalString(std::string_view key) const;
  // A boolean field that may be absent or null. Form bodies accept true/false/on/1/0.
  [[nodiscard]] Result<std::optional<bool>> OptionalBool(std::string_view key) const;

  // True if the field is present (even if null).
  [[nodiscard]] bool Has(std::string_view key) const { return fields_.contains(key); }

  // True when the body was an HTML form post (the route may answer with a redirect).
  [[nodiscard]] bool from_form() const { return from_form_; }

 private:
  boost::json::object fields_;
  bool from_form_;
};

// Parses the body of `request`.
//  * Content-Type application/json (parameters such as charset allowed): must be a JSON object.
//  * application/x-www-form-urlencoded, when `allow_form`: key=value pairs, percent-decoded.
// Errors: kUnsupportedMediaType (missing or other content type), kInvalidJson (malformed,
// empty, not an object, invalid UTF-8, nested deeper than 32), kValidation.
[[nodiscard]] Result<BodyFields> ParseBody(const http::Request& request, bool allow_form);

// True if the request's Content-Type is application/x-www-form-urlencoded.
[[nodiscard]] bool IsFormPost(const http::Request& request);

}  // namespace sessiond::routes
