// Typed errors for the data path. Every fallible call returns Result<T>; nothing on the
// data path throws. The mapping from ErrorCode to an HTTP status and a client-facing
// SCREAMING_SNAKE code lives in exactly one place: http/error_table.cc. Keep the two in step:
// a new enumerator here needs a row there (error_table_test.cc checks every enumerator).
#pragma once

#include <expected>
#include <string>
#include <utility>

namespace sessiond {

enum class ErrorCode {
  // Request shape.
  kInvalidJson,           // Body is not well-formed JSON.
  kValidation,            // A field is missing or has the wrong type.
  kUnsupportedMediaType,  // Content-Type is not one the route accepts.
  kPayloadTooLarge,       // Body over limits.max_body_bytes.
  kHeadersTooLarge,       // Header block over limits.max_header_bytes.
  kBadRequest,            // Anything else the transport could not parse.
  kNotFound,              // No such route.
  kMethodNotAllowed,      // Route exists, method does not.
  // Sign-up / sign-in rules.
  kInvalidEmail,
  kPasswordTooShort,
  kPasswordTooLong,
  kUserAlreadyExists,       // Email already registered (compared case-insensitively).
  kInvalidEmailOrPassword,  // Unknown email or wrong password; deliberately indistinguishable.
  kInvalidPassword,         // Wrong current password when changing it.
  // Authentication and CSRF.
  kUnauthorized,         // No valid session where one is required.
  kMissingOrNullOrigin,  // Cookie-authenticated state change with no Origin/Referer.
  kInvalidOrigin,        // Origin/Referer not among the trusted origins.
  kInvalidCallbackUrl,   // callbackURL is neither a relative path nor on a trusted origin.
  kInvalidToken,         // A one-time token that is unknown, malformed or already used.
  kTokenExpired,         // A one-time token past its lifetime.
  kSessionNotFound,      // The session a one-time token stood for has ended.
  kInvalidCursor,        // A revocation-feed cursor that is not one the server handed out.
  // Abuse and availability.
  kRateLimited,
  kServiceUnavailable,  // Storage unreachable or busy; safe to retry.
  kInternal,            // A bug or an invariant broken; detail goes to the log only.
};

// An error: a stable code for the client and a detail for the log. The detail never
// reaches a client and must never contain a secret (token, password, hash).
struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string detail;
};

template <class T>
using Result = std::expected<T, Error>;

// Shorthand for returning an error: `return Fail(ErrorCode::kInvalidEmail, "why");`.
[[nodiscard]] inline std::unexpected<Error> Fail(ErrorCode code, std::string detail = {}) {
  return std::unexpected<Error>(Error{code, std::move(detail)});
}

}  // namespace sessiond
