#include "http/error_table.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include <boost/json.hpp>

namespace sessiond::http {
namespace {

// ^[A-Z][A-Z0-9_]*$ (hand-written: GCC 12's std::regex trips -Wmaybe-uninitialized at -O2).
bool IsScreamingSnake(std::string_view code) {
  if (code.empty() || code.front() < 'A' || code.front() > 'Z') return false;
  for (const char c : code) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

TEST(ErrorTableTest, ScreamingSnakeCheckItself) {
  EXPECT_TRUE(IsScreamingSnake("INVALID_EMAIL_OR_PASSWORD"));
  EXPECT_TRUE(IsScreamingSnake("A1_"));
  EXPECT_FALSE(IsScreamingSnake(""));
  EXPECT_FALSE(IsScreamingSnake("_A"));
  EXPECT_FALSE(IsScreamingSnake("1A"));
  EXPECT_FALSE(IsScreamingSnake("Invalid"));
  EXPECT_FALSE(IsScreamingSnake("A-B"));
}

TEST(ErrorTableTest, EveryEnumeratorHasAWellFormedRow) {
  std::set<std::string_view> codes;
  for (int i = static_cast<int>(ErrorCode::kInvalidJson);
       i <= static_cast<int>(ErrorCode::kInternal); ++i) {
    const HttpError& row = ToHttpError(static_cast<ErrorCode>(i));
    const std::string code(row.code);
    EXPECT_TRUE(IsScreamingSnake(code)) << i << ": " << code;
    EXPECT_GE(row.status, 400) << code;
    EXPECT_LE(row.status, 599) << code;
    EXPECT_FALSE(row.message.empty()) << code;
    EXPECT_TRUE(codes.insert(row.code).second) << "duplicate code " << code;
  }
  EXPECT_EQ(codes.size(), static_cast<std::size_t>(ErrorCode::kInternal) + 1);
}

void ExpectRow(ErrorCode error_code, int status, std::string_view code, std::string_view message) {
  const HttpError& row = ToHttpError(error_code);
  EXPECT_EQ(row.status, status) << code;
  EXPECT_EQ(row.code, code);
  EXPECT_EQ(row.message, message) << code;
}

TEST(ErrorTableTest, RowsMatchTheSpecification) {
  ExpectRow(ErrorCode::kInvalidJson, 400, "INVALID_JSON", "Request body is not valid JSON");
  ExpectRow(ErrorCode::kPayloadTooLarge, 413, "PAYLOAD_TOO_LARGE", "Request body too large");
  ExpectRow(ErrorCode::kHeadersTooLarge, 431, "REQUEST_HEADER_FIELDS_TOO_LARGE",
            "Request headers too large");
  ExpectRow(ErrorCode::kMethodNotAllowed, 405, "METHOD_NOT_ALLOWED", "Method not allowed");
  ExpectRow(ErrorCode::kUserAlreadyExists, 422, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL",
            "User already exists. Use another email.");
  ExpectRow(ErrorCode::kInvalidEmailOrPassword, 401, "INVALID_EMAIL_OR_PASSWORD",
            "Invalid email or password");
  ExpectRow(ErrorCode::kUnauthorized, 401, "UNAUTHORIZED", "Unauthorized");
  ExpectRow(ErrorCode::kMissingOrNullOrigin, 403, "MISSING_OR_NULL_ORIGIN",
            "Missing or null Origin");
  ExpectRow(ErrorCode::kRateLimited, 429, "TOO_MANY_REQUESTS",
            "Too many requests. Please try again later.");
  ExpectRow(ErrorCode::kServiceUnavailable, 503, "SERVICE_UNAVAILABLE",
            "Service temporarily unavailable");
  ExpectRow(ErrorCode::kInternal, 500, "INTERNAL_SERVER_ERROR", "Internal server error");
}

TEST(ErrorTableTest, ErrorResponseIsJsonWithExactlyCodeAndMessage) {
  const Response response =
      ErrorResponse(Error{ErrorCode::kInvalidEmailOrPassword, "secret detail \"quoted\""});
  EXPECT_EQ(response.status, 401);
  EXPECT_EQ(response.headers.Get("content-type"), "application/json");
  const boost::json::value body = boost::json::parse(response.body);
  const boost::json::object& object = body.as_object();
  EXPECT_EQ(object.size(), 2u);
  EXPECT_EQ(object.at("code").as_string(), "INVALID_EMAIL_OR_PASSWORD");
  EXPECT_EQ(object.at("message").as_string(), "Invalid email or password");
  // Better Auth's byte layout, and the detail never reaches the client.
  EXPECT_EQ(response.body,
            R"({"message":"Invalid email or password","code":"INVALID_EMAIL_OR_PASSWORD"})");
}

TEST(ErrorTableTest, ServerErrorsHideTheDetail) {
  const Response response = ErrorResponse(Error{ErrorCode::kInternal, "db path /var/x broke"});
  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(response.body.find("/var/x"), std::string::npos);
}

TEST(ErrorTableTest, OutOfRangeValueMapsToInternal) {
  EXPECT_EQ(ToHttpError(static_cast<ErrorCode>(1000)).status, 500);
}

}  // namespace
}  // namespace sessiond::http
