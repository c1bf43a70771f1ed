// A JSON object parser that refuses what Boost.JSON's parse() silently accepts.
//
// boost::json::parse keeps only the lexically last of duplicate member names. RFC 7515 §4 and
// RFC 7519 §4 say a JWS/JWT with duplicate Header Parameter or Claim names must be rejected (or
// parsed by a last-wins parser); sessiond rejects, because a last-wins parser in one component
// and a first-wins parser in another is exactly how claim smuggling works. Duplicates are
// detected at every nesting level.
//
// Also rejected: anything but a single JSON object (RFC 7515 §5.2 steps 4 and 8; RFC 7519 §7.2
// step 10), invalid UTF-8, comments, trailing commas, trailing data, nesting deeper than 32.
//
// Thread-safety: a pure function; never throws except std::bad_alloc.
#pragma once

#include <boost/json/object.hpp>

#include <expected>
#include <string_view>

namespace sessiond::jwt {

enum class StrictJsonError {
  kSyntax,        // Not well-formed JSON (RFC 8259), invalid UTF-8, too deep, trailing data.
  kNotObject,     // Well-formed, but the top-level value is not an object.
  kDuplicateKey,  // Some object has the same member name twice.
};

// The object `text` encodes, or why it is not acceptable.
[[nodiscard]] std::expected<boost::json::object, StrictJsonError> ParseObjectStrict(
    std::string_view text);

}  // namespace sessiond::jwt
