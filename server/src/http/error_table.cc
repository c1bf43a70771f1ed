#include "http/error_table.h"

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

namespace sessiond::http {
namespace {

// The rows. Codes and messages match Better Auth's where it has an equivalent
// (docs: /work/shared/reference/better-auth-wire.md).
constexpr HttpError kInvalidJsonRow{400, "INVALID_JSON", "Request body is not valid JSON"};
constexpr HttpError kValidationRow{400, "VALIDATION_ERROR", "Invalid request body"};
constexpr HttpError kUnsupportedMediaTypeRow{415, "UNSUPPORTED_MEDIA_TYPE",
                                             "Unsupported content type"};
constexpr HttpError kPayloadTooLargeRow{413, "PAYLOAD_TOO_LARGE", "Request body too large"};
constexpr HttpError kHeadersTooLargeRow{431, "REQUEST_HEADER_FIELDS_TOO_LARGE",
                                        "Request headers too large"};
constexpr HttpError kBadRequestRow{400, "BAD_REQUEST", "Bad request"};
constexpr HttpError kNotFoundRow{404, "NOT_FOUND", "Not found"};
constexpr HttpError kMethodNotAllowedRow{405, "METHOD_NOT_ALLOWED", "Method not allowed"};
constexpr HttpError kInvalidEmailRow{400, "INVALID_EMAIL", "Invalid email"};
constexpr HttpError kPasswordTooShortRow{400, "PASSWORD_TOO_SHORT", "Password too short"};
constexpr HttpError kPasswordTooLongRow{400, "PASSWORD_TOO_LONG", "Password too long"};
constexpr HttpError kUserAlreadyExistsRow{422, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL",
                                          "User already exists. Use another email."};
constexpr HttpError kInvalidEmailOrPasswordRow{401, "INVALID_EMAIL_OR_PASSWORD",
                                               "Invalid email or password"};
constexpr HttpError kUnauthorizedRow{401, "UNAUTHORIZED", "Unauthorized"};
constexpr HttpError kMissingOrNullOriginRow{403, "MISSING_OR_NULL_ORIGIN",
                                            "Missing or null Origin"};
constexpr HttpError kInvalidOriginRow{403, "INVALID_ORIGIN", "Invalid origin"};
constexpr HttpError kInvalidCallbackUrlRow{403, "INVALID_CALLBACKURL", "Invalid callbackURL"};
constexpr HttpError kInvalidPasswordRow{400, "INVALID_PASSWORD", "Invalid password"};
// Better Auth's one-time-token plugin answers these three as 400 BAD_REQUEST.
constexpr HttpError kInvalidTokenRow{400, "INVALID_TOKEN", "Invalid token"};
constexpr HttpError kTokenExpiredRow{400, "TOKEN_EXPIRED", "Token expired"};
constexpr HttpError kSessionNotFoundRow{400, "SESSION_NOT_FOUND", "Session not found"};
constexpr HttpError kInvalidCursorRow{400, "INVALID_CURSOR", "Invalid cursor"};
constexpr HttpError kRateLimitedRow{429, "TOO_MANY_REQUESTS",
                                    "Too many requests. Please try again later."};
constexpr HttpError kServiceUnavailableRow{503, "SERVICE_UNAVAILABLE",
                                           "Service temporarily unavailable"};
constexpr HttpError kInternalRow{500, "INTERNAL_SERVER_ERROR", "Internal server error"};

}  // namespace

const HttpError& ToHttpError(ErrorCode code) {
  // No default: -Wswitch (in -Wall, an error under -Werror) flags a new enumerator without a row.
  switch (code) {
    case ErrorCode::kInvalidJson:
      return kInvalidJsonRow;
    case ErrorCode::kValidation:
      return kValidationRow;
    case ErrorCode::kUnsupportedMediaType:
      return kUnsupportedMediaTypeRow;
    case ErrorCode::kPayloadTooLarge:
      return kPayloadTooLargeRow;
    case ErrorCode::kHeadersTooLarge:
      return kHeadersTooLargeRow;
    case ErrorCode::kBadRequest:
      return kBadRequestRow;
    case ErrorCode::kNotFound:
      return kNotFoundRow;
    case ErrorCode::kMethodNotAllowed:
      return kMethodNotAllowedRow;
    case ErrorCode::kInvalidEmail:
      return kInvalidEmailRow;
    case ErrorCode::kPasswordTooShort:
      return kPasswordTooShortRow;
    case ErrorCode::kPasswordTooLong:
      return kPasswordTooLongRow;
    case ErrorCode::kUserAlreadyExists:
      return kUserAlreadyExistsRow;
    case ErrorCode::kInvalidEmailOrPassword:
      return kInvalidEmailOrPasswordRow;
    case ErrorCode::kUnauthorized:
      return kUnauthorizedRow;
    case ErrorCode::kMissingOrNullOrigin:
      return kMissingOrNullOriginRow;
    case ErrorCode::kInvalidOrigin:
      return kInvalidOriginRow;
    case ErrorCode::kInvalidCallbackUrl:
      return kInvalidCallbackUrlRow;
    case ErrorCode::kInvalidPassword:
      return kInvalidPasswordRow;
    case ErrorCode::kInvalidToken:
      return kInvalidTokenRow;
    case ErrorCode::kTokenExpired:
      return kTokenExpiredRow;
    case ErrorCode::kSessionNotFound:
      return kSessionNotFoundRow;
    case ErrorCode::kInvalidCursor:
      return kInvalidCursorRow;
    case ErrorCode::kRateLimited:
      return kRateLimitedRow;
    case ErrorCode::kServiceUnavailable:
      return kServiceUnavailableRow;
    case ErrorCode::kInternal:
      return kInternalRow;
  }
  // Only reachable through a value cast from outside the enumeration.
  return kInternalRow;
}

Response ErrorResponse(const Error& error) {
  const HttpError& row = ToHttpError(error.code);
  // The detail is for operators only; Error's contract keeps secrets out of it. The request
  // body never reaches this function.
  if (row.status >= 500) {
    spdlog::warn("{} {}: {}", row.status, row.code, error.detail);
  } else {
    spdlog::debug("{} {}: {}", row.status, row.code, error.detail);
  }
  // Better Auth's order: {"message":..,"code":..}.
  boost::json::object body;
  body.emplace("message", row.message);
  body.emplace("code", row.code);
  return Response::Json(row.status, boost::json::serialize(body));
}

}  // namespace sessiond::http
