#include "verifier/url.h"

#include <gtest/gtest.h>

namespace sessiond::verifier::internal {
namespace {

TEST(BaseUrlTest, ParsesHostPortAndScheme) {
  auto url = ParseBaseUrl("http://127.0.0.1:3000");
  ASSERT_TRUE(url.has_value()) << url.error();
  EXPECT_FALSE(url->tls);
  EXPECT_EQ(url->host, "127.0.0.1");
  EXPECT_EQ(url->port, "3000");
  EXPECT_EQ(url->host_header, "127.0.0.1:3000");

  url = ParseBaseUrl("HTTPS://auth.example.com/");
  ASSERT_TRUE(url.has_value()) << url.error();
  EXPECT_TRUE(url->tls);
  EXPECT_EQ(url->host, "auth.example.com");
  EXPECT_EQ(url->port, "443");
  EXPECT_EQ(url->host_header, "auth.example.com");

  url = ParseBaseUrl("http://[::1]:8080");
  ASSERT_TRUE(url.has_value()) << url.error();
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, "8080");
  EXPECT_EQ(url->host_header, "[::1]:8080");

  url = ParseBaseUrl("http://localhost");
  ASSERT_TRUE(url.has_value()) << url.error();
  EXPECT_EQ(url->port, "80");
}

TEST(BaseUrlTest, RefusesWhatItCannotUse) {
  for (const char* bad :
       {"", "127.0.0.1:3000", "ftp://host", "http://", "http://:80", "http://host:0",
        "http://host:65536", "http://host:12ab", "http://host:", "http://user@host",
        "http://host/api", "http://host?x=1", "http://host#f", "http://[::1", "http://[::1]x"}) {
    EXPECT_FALSE(ParseBaseUrl(bad).has_value()) << bad;
  }
}

TEST(PercentEncodeTest, KeepsOnlyUnreservedCharacters) {
  EXPECT_EQ(PercentEncode("aZ09-._~"), "aZ09-._~");
  EXPECT_EQ(PercentEncode("c/1/2 +&=%"), "c%2F1%2F2%20%2B%26%3D%25");
  EXPECT_EQ(PercentEncode("\xC3\xA9"), "%C3%A9");
}

TEST(HeaderValueTest, RefusesControlCharactersAndOverlongValues) {
  EXPECT_TRUE(IsSafeHeaderValue("c/0/12 x"));
  EXPECT_FALSE(IsSafeHeaderValue(""));
  EXPECT_FALSE(IsSafeHeaderValue("a\r\nX-Injected: 1"));
  EXPECT_FALSE(IsSafeHeaderValue(std::string("a\0b", 3)));
  EXPECT_FALSE(IsSafeHeaderValue(std::string(1025, 'a')));
}

}  // namespace
}  // namespace sessiond::verifier::internal
