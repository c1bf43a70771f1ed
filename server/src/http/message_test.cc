#include "http/message.h"

#include <gtest/gtest.h>

namespace sessiond::http {
namespace {

TEST(HeadersTest, GetIsCaseInsensitive) {
  Headers headers;
  headers.Add("Content-Type", "application/json");
  EXPECT_EQ(headers.Get("content-type"), "application/json");
  EXPECT_EQ(headers.Get("CONTENT-TYPE"), "application/json");
  EXPECT_FALSE(headers.Get("content-length").has_value());
  EXPECT_FALSE(headers.Get("content-typ").has_value());
}

TEST(HeadersTest, GetReturnsFirstAndGetAllEveryValueInOrder) {
  Headers headers;
  headers.Add("set-cookie", "a=1");
  headers.Add("X-Other", "x");
  headers.Add("Set-Cookie", "b=2");
  EXPECT_EQ(headers.Get("SET-COOKIE"), "a=1");
  const std::vector<std::string_view> all = headers.GetAll("Set-Cookie");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0], "a=1");
  EXPECT_EQ(all[1], "b=2");
  EXPECT_TRUE(headers.GetAll("missing").empty());
  EXPECT_EQ(headers.fields().size(), 3u);
}

TEST(RequestTest, QueryParamDecodesPercentAndPlus) {
  Request request;
  request.query = "a=1&callbackURL=%2Fdash%3Fx%3D1&name=John+Doe&plus=%2B&empty=&flag";
  EXPECT_EQ(request.QueryParam("a"), "1");
  EXPECT_EQ(request.QueryParam("callbackURL"), "/dash?x=1");
  EXPECT_EQ(request.QueryParam("name"), "John Doe");
  EXPECT_EQ(request.QueryParam("plus"), "+");
  EXPECT_EQ(request.QueryParam("empty"), "");
  EXPECT_EQ(request.QueryParam("flag"), "");
  EXPECT_FALSE(request.QueryParam("missing").has_value());
  EXPECT_FALSE(request.QueryParam("A").has_value());  // Names are case-sensitive.
}

TEST(RequestTest, QueryParamFirstOccurrenceWinsAndNamesAreDecoded) {
  Request request;
  request.query = "&&x=1&x=2&my%20key=v&bad=%zz%";
  EXPECT_EQ(request.QueryParam("x"), "1");
  EXPECT_EQ(request.QueryParam("my key"), "v");
  EXPECT_EQ(request.QueryParam("bad"), "%zz%");  // Invalid escapes kept literally.
}

TEST(RequestTest, QueryParamOnEmptyQuery) {
  Request request;
  EXPECT_FALSE(request.QueryParam("a").has_value());
  EXPECT_FALSE(request.QueryParam("").has_value());
}

TEST(ResponseTest, JsonSetsContentType) {
  const Response response = Response::Json(201, R"({"ok":true})");
  EXPECT_EQ(response.status, 201);
  EXPECT_EQ(response.headers.Get("Content-Type"), "application/json");
  EXPECT_EQ(response.body, R"({"ok":true})");
}

}  // namespace
}  // namespace sessiond::http
