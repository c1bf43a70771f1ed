#include "jwt/strict_json.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace sessiond::jwt {
namespace {

using std::string_view_literals::operator""sv;

TEST(StrictJsonTest, ParsesAnObject) {
  auto parsed = ParseObjectStrict(R"({"sub":"a","n":1,"big":18446744073709551615,"d":1.5,
      "nested":{"x":[1,{"y":null}]},"b":true})");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->at("sub").as_string(), "a");
  EXPECT_EQ(parsed->at("n").as_int64(), 1);
  EXPECT_EQ(parsed->at("big").as_uint64(), 18446744073709551615ULL);
  EXPECT_EQ(parsed->at("nested").as_object().at("x").as_array().size(), 2u);
}

TEST(StrictJsonTest, RejectsDuplicateNamesAtEveryLevel) {
  for (const std::string_view text : {
           R"({"sub":"a","sub":"b"})"sv,
           R"({"sub":"a","x":1,"sub":"a"})"sv,
           R"({"o":{"k":1,"k":2}})"sv,
           R"({"a":[{"k":1},{"k":1,"k":1}]})"sv,
           // Escapes are decoded before comparison: "s\u0075b" is "sub".
           R"({"sub":"a","s\u0075b":"b"})"sv,
       }) {
    EXPECT_EQ(ParseObjectStrict(text).error(), StrictJsonError::kDuplicateKey) << text;
  }
}

TEST(StrictJsonTest, SameNameInSiblingObjectsIsFine) {
  EXPECT_TRUE(ParseObjectStrict(R"({"a":{"k":1},"b":{"k":1},"k":{"k":{"k":1}}})").has_value());
}

TEST(StrictJsonTest, RejectsNonObjects) {
  for (const std::string_view text : {"[]"sv, R"("s")"sv, "1"sv, "null"sv, "true"sv}) {
    EXPECT_EQ(ParseObjectStrict(text).error(), StrictJsonError::kNotObject) << text;
  }
}

TEST(StrictJsonTest, RejectsWhatIsNotStrictJson) {
  for (const std::string_view text : {
           ""sv, " "sv, "{"sv, "{}}"sv, "{} {}"sv, "{}x"sv, R"({"a":1,})"sv, "{/*c*/}"sv,
           "{'a':1}"sv, R"({"a":01})"sv, R"({"a":NaN})"sv,
           "{\"a\":\"\xff\"}"sv,  // Invalid UTF-8.
           "{\"a\":\"\0\"}"sv,    // Raw control character in a string.
       }) {
    EXPECT_EQ(ParseObjectStrict(text).error(), StrictJsonError::kSyntax) << text;
  }
}

TEST(StrictJsonTest, RejectsDeepNesting) {
  std::string deep = R"({"a":)";
  for (int i = 0; i < 100; ++i) deep += "[";
  for (int i = 0; i < 100; ++i) deep += "]";
  deep += "}";
  EXPECT_EQ(ParseObjectStrict(deep).error(), StrictJsonError::kSyntax);
}

TEST(StrictJsonTest, AcceptsSurroundingWhitespace) {
  EXPECT_TRUE(ParseObjectStrict(" \n{\"a\":1}\t ").has_value());
}

}  // namespace
}  // namespace sessiond::jwt
