#include "routes/json_body.h"

#include <gtest/gtest.h>

namespace sessiond::routes {
namespace {

http::Request Post(std::string content_type, std::string body) {
  http::Request r;
  r.method = "POST";
  r.path = "/x";
  if (!content_type.empty()) r.headers.Add("Content-Type", std::move(content_type));
  r.body = std::move(body);
  return r;
}

ErrorCode CodeOf(const Result<BodyFields>& r) { return r.error().code; }

TEST(JsonBodyTest, ParsesObjectsWithCharsetParameter) {
  auto body =
      ParseBody(Post("application/json; charset=utf-8", R"({"email":"a@b.co","n":1})"), false);
  ASSERT_TRUE(body.has_value());
  EXPECT_EQ(*body->RequiredString("email"), "a@b.co");
  EXPECT_FALSE(body->from_form());
}

TEST(JsonBodyTest, RejectsWrongOrMissingContentType) {
  EXPECT_EQ(CodeOf(ParseBody(Post("text/plain", "{}"), false)), ErrorCode::kUnsupportedMediaType);
  EXPECT_EQ(CodeOf(ParseBody(Post("", "{}"), false)), ErrorCode::kUnsupportedMediaType);
  EXPECT_EQ(CodeOf(ParseBody(Post("application/x-www-form-urlencoded", "a=b"), false)),
            ErrorCode::kUnsupportedMediaType);
}

TEST(JsonBodyTest, RejectsMalformedOrNonObjectJson) {
  for (const char* body :
       {"", "{", R"({"email":)", "[]", "\"s\"", "42", "null", "{} trailing", "{\"a\":\"\xff\"}"}) {
    EXPECT_EQ(CodeOf(ParseBody(Post("application/json", body), false)), ErrorCode::kInvalidJson)
        << body;
  }
  EXPECT_EQ(CodeOf(ParseBody(Post("application/json", std::string(10000, '[')), false)),
            ErrorCode::kInvalidJson);
}

TEST(JsonBodyTest, FieldTypesAreChecked) {
  auto body =
      ParseBody(Post("application/json", R"({"s":"x","n":5,"b":true,"z":null,"sb":"yes"})"), false);
  ASSERT_TRUE(body.has_value());
  EXPECT_EQ(body->RequiredString("n").error().code, ErrorCode::kValidation);
  EXPECT_EQ(body->RequiredString("missing").error().code, ErrorCode::kValidation);
  EXPECT_EQ(body->RequiredString("z").error().code, ErrorCode::kValidation);
  EXPECT_FALSE(body->OptionalString("z")->has_value());
  EXPECT_FALSE(body->OptionalString("missing")->has_value());
  EXPECT_EQ(body->OptionalString("n").error().code, ErrorCode::kValidation);
  EXPECT_EQ(body->OptionalBool("b")->value(), true);
  EXPECT_EQ(body->OptionalBool("sb").error().code, ErrorCode::kValidation);
}

TEST(JsonBodyTest, EmbeddedNulIsKept) {
  auto body = ParseBody(Post("application/json", R"({"p":"ab\u0000cd"})"), false);
  ASSERT_TRUE(body.has_value());
  EXPECT_EQ(*body->RequiredString("p"), std::string("ab\0cd", 5));
}

TEST(JsonBodyTest, FormBodiesWhenAllowed) {
  auto body = ParseBody(
      Post("application/x-www-form-urlencoded", "email=a%40b.co&password=p+q%2Br&rememberMe=on&x"),
      true);
  ASSERT_TRUE(body.has_value());
  EXPECT_TRUE(body->from_form());
  EXPECT_EQ(*body->RequiredString("email"), "a@b.co");
  EXPECT_EQ(*body->RequiredString("password"), "p q+r");
  EXPECT_EQ(body->OptionalBool("rememberMe")->value(), true);
  EXPECT_TRUE(IsFormPost(Post("Application/X-WWW-Form-Urlencoded; charset=utf-8", "")));
}

}  // namespace
}  // namespace sessiond::routes
