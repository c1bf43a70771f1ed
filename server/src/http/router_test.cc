#include "http/router.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace sessiond::http {
namespace {

Handler Text(std::string text) {
  return [text = std::move(text)](const Request&) {
    Response response;
    response.body = text;
    return response;
  };
}

Request Make(std::string method, std::string path) {
  Request request;
  request.method = std::move(method);
  request.path = std::move(path);
  return request;
}

std::string CodeOf(const Response& response) {
  const boost::json::value body = boost::json::parse(response.body);
  return std::string(body.as_object().at("code").as_string());
}

TEST(RouterTest, DispatchesByMethodAndPath) {
  Router router;
  router.Add("GET", "/api/auth/get-session", Text("get"));
  router.Add("POST", "/api/auth/sign-out", Text("post"));
  router.Add("GET", "/api/auth/sign-out", Text("get-sign-out"));

  EXPECT_EQ(router.Dispatch(Make("GET", "/api/auth/get-session")).body, "get");
  EXPECT_EQ(router.Dispatch(Make("POST", "/api/auth/sign-out")).body, "post");
  EXPECT_EQ(router.Dispatch(Make("GET", "/api/auth/sign-out")).body, "get-sign-out");
}

TEST(RouterTest, UnknownPathIs404Json) {
  Router router;
  router.Add("GET", "/a", Text("a"));
  for (const char* path : {"/b", "/a/", "/A", "", "/a?x=1"}) {
    const Response response = router.Dispatch(Make("GET", path));
    EXPECT_EQ(response.status, 404) << path;
    EXPECT_EQ(response.headers.Get("content-type"), "application/json");
    EXPECT_EQ(CodeOf(response), "NOT_FOUND");
    EXPECT_FALSE(response.headers.Get("allow").has_value());
  }
}

TEST(RouterTest, KnownPathOtherMethodIs405WithSortedAllow) {
  Router router;
  router.Add("POST", "/x", Text("post"));
  router.Add("GET", "/x", Text("get"));
  router.Add("DELETE", "/x", Text("delete"));
  const Response response = router.Dispatch(Make("PUT", "/x"));
  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(CodeOf(response), "METHOD_NOT_ALLOWED");
  EXPECT_EQ(response.headers.Get("Allow"), "DELETE, GET, POST");
}

TEST(RouterTest, MethodsAreCaseSensitive) {
  Router router;
  router.Add("GET", "/x", Text("get"));
  EXPECT_EQ(router.Dispatch(Make("get", "/x")).status, 405);
}

TEST(RouterTest, FindReportsExecution) {
  Router router;
  router.Add("POST", "/slow", Text("slow"), Execution::kBlocking);
  router.Add("GET", "/fast", Text("fast"));
  const Router::Match slow = router.Find("POST", "/slow");
  ASSERT_NE(slow.handler, nullptr);
  EXPECT_EQ(slow.execution, Execution::kBlocking);
  const Router::Match fast = router.Find("GET", "/fast");
  ASSERT_NE(fast.handler, nullptr);
  EXPECT_EQ(fast.execution, Execution::kInline);
  EXPECT_EQ(router.Find("GET", "/slow").handler, nullptr);
  EXPECT_EQ(router.Find("GET", "/none").handler, nullptr);
}

TEST(RouterTest, LaterAddReplacesRoute) {
  Router router;
  router.Add("GET", "/x", Text("old"));
  router.Add("GET", "/x", Text("new"));
  EXPECT_EQ(router.Dispatch(Make("GET", "/x")).body, "new");
}

TEST(RouterTest, NotFoundOrNotAllowedDirectly) {
  Router router;
  router.Add("POST", "/p", Text("p"));
  EXPECT_EQ(router.NotFoundOrNotAllowed("/q").status, 404);
  const Response not_allowed = router.NotFoundOrNotAllowed("/p");
  EXPECT_EQ(not_allowed.status, 405);
  EXPECT_EQ(not_allowed.headers.Get("allow"), "POST");
}

}  // namespace
}  // namespace sessiond::http
