#include "jwt/strict_json.h"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/error.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/value.hpp>
#include <boost/json/value_stack.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace sessiond::jwt {
namespace {

namespace json = boost::json;

// A basic_parser handler that builds the value exactly as boost::json::parser does (through a
// value_stack) and additionally remembers the member names of every open object, so a
// duplicate is seen before value_stack::push_object would quietly drop it.
class DuplicateCheckingHandler {
 public:
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();

  DuplicateCheckingHandler() { stack_.reset(); }

  [[nodiscard]] bool duplicate_found() const { return duplicate_found_; }
  [[nodiscard]] json::value Release() { return stack_.release(); }

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }

  bool on_object_begin(json::error_code&) {
    object_starts_.push_back(keys_.size());
    return true;
  }
  bool on_object_end(std::size_t n, json::error_code& ec) {
    const std::size_t start = object_starts_.back();
    object_starts_.pop_back();
    // Member names of this object are keys_[start, end): nested objects' names were appended
    // after their parent's name and already removed when they closed.
    const auto first = keys_.begin() + static_cast<std::ptrdiff_t>(start);
    std::sort(first, keys_.end());
    if (std::adjacent_find(first, keys_.end()) != keys_.end()) {
      duplicate_found_ = true;
      ec = json::error::exception;  // Any error stops the parser; duplicate_found_ says why.
      return false;
    }
    keys_.erase(first, keys_.end());
    stack_.push_object(n);
    return true;
  }

  bool on_array_begin(json::error_code&) { return true; }
  bool on_array_end(std::size_t n, json::error_code&) {
    stack_.push_array(n);
    return true;
  }

  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    pending_key_.append(s.data(), s.size());
    stack_.push_chars(s);
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code&) {
    pending_key_.append(s.data(), s.size());
    keys_.push_back(std::move(pending_key_));
    pending_key_.clear();
    stack_.push_key(s);
    return true;
  }

  bool on_string_part(json::string_view s, std::size_t, json::error_code&) {
    stack_.push_chars(s);
    return true;
  }
  bool on_string(json::string_view s, std::size_t, json::error_code&) {
    stack_.push_string(s);
    return true;
  }

  bool on_number_part(json::string_view, json::error_code&) { return true; }
  bool on_int64(std::int64_t i, json::string_view, json::error_code&) {
    stack_.push_int64(i);
    return true;
  }
  bool on_uint64(std::uint64_t u, json::string_view, json::error_code&) {
    stack_.push_uint64(u);
    return true;
  }
  bool on_double(double d, json::string_view, json::error_code&) {
    stack_.push_double(d);
    return true;
  }
  bool on_bool(bool b, json::error_code&) {
    stack_.push_bool(b);
    return true;
  }
  bool on_null(json::error_code&) {
    stack_.push_null();
    return true;
  }

  // Comments are disabled in the parse options; these are never called.
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }

 private:
  json::value_stack stack_;
  std::vector<std::string> keys_;           // Names seen in every currently open object.
  std::vector<std::size_t> object_starts_;  // Where each open object's names begin in keys_.
  std::string pending_key_;                 // A name delivered in parts (on_key_part).
  bool duplicate_found_ = false;
};

}  // namespace

std::expected<boost::json::object, StrictJsonError> ParseObjectStrict(std::string_view text) {
  json::parse_options options;
  options.max_depth = 32;
  options.allow_comments = false;
  options.allow_trailing_commas = false;
  options.allow_invalid_utf8 = false;

  json::basic_parser<DuplicateCheckingHandler> parser(options);
  json::error_code ec;
  const std::size_t consumed = parser.write_some(/*more=*/false, text.data(), text.size(), ec);
  if (parser.handler().duplicate_found()) return std::unexpected(StrictJsonError::kDuplicateKey);
  if (ec || !parser.done() || consumed != text.size()) {
    return std::unexpected(StrictJsonError::kSyntax);
  }
  json::value value = parser.handler().Release();
  if (!value.is_object()) return std::unexpected(StrictJsonError::kNotObject);
  return std::move(value.get_object());
}

}  // namespace sessiond::jwt
