// The one table from ErrorCode to what a client sees: HTTP status, stable SCREAMING_SNAKE code,
// generic message. The error's detail is logged, never sent.
#pragma once

#include <string_view>

#include "common/error.h"
#include "http/message.h"

namespace sessiond::http {

struct HttpError {
  int status;
  std::string_view code;     // e.g. "INVALID_EMAIL_OR_PASSWORD"
  std::string_view message;  // e.g. "Invalid email or password"
};

[[nodiscard]] const HttpError& ToHttpError(ErrorCode code);

// {"code":..., "message":...} with the table's status; logs error.detail at a level fitting the
// status (warn for 5xx, debug otherwise).
[[nodiscard]] Response ErrorResponse(const Error& error);

}  // namespace sessiond::http
