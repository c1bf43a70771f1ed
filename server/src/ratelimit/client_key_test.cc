#include "ratelimit/client_key.h"

#include <string>

#include <gtest/gtest.h>

namespace sessiond::ratelimit {
namespace {

TEST(ClientKeyTest, Ipv4IsItself) {
  EXPECT_EQ(ClientKey("203.0.113.7"), "203.0.113.7");
  EXPECT_EQ(ClientKey("10.0.0.1"), "10.0.0.1");
}

TEST(ClientKeyTest, Ipv4MappedIpv6IsTheIpv4Client) {
  EXPECT_EQ(ClientKey("::ffff:203.0.113.7"), "203.0.113.7");
  EXPECT_EQ(ClientKey("::FFFF:cb00:7107"), "203.0.113.7");
  // Two IPv4 clients on a dual-stack socket must not share one "::/64" budget.
  EXPECT_NE(ClientKey("::ffff:203.0.113.7"), ClientKey("::ffff:198.51.100.1"));
}

TEST(ClientKeyTest, Ipv6IsItsSlash64) {
  EXPECT_EQ(ClientKey("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
  EXPECT_EQ(ClientKey("2001:db8:1:2::ffff"), "2001:db8:1:2::/64");
  EXPECT_EQ(ClientKey("2001:db8:1:3::1"), "2001:db8:1:3::/64");
  EXPECT_EQ(ClientKey("::1"), "::/64");
}

TEST(ClientKeyTest, SpellingsOfOneAddressShareAKey) {
  EXPECT_EQ(ClientKey("2001:DB8:0:0:1::1"), ClientKey("2001:db8::1:0:0:1"));
  EXPECT_EQ(ClientKey("2001:0db8:0001:0002::"), "2001:db8:1:2::/64");
  EXPECT_EQ(ClientKey("2001:db8:0:0:1::"), "2001:db8::/64");  // Zero tail compressed.
  EXPECT_EQ(ClientKey("2001:0:0:1::"), "2001:0:0:1::/64");    // Inner zeros are not.
  EXPECT_EQ(ClientKey("ABCD:EF01:2345:6789:abcd::"), "abcd:ef01:2345:6789::/64");
  EXPECT_EQ(ClientKey("::ffff:0.0.0.0"), "0.0.0.0");
  EXPECT_EQ(ClientKey("::ffff:255.255.255.255"), "255.255.255.255");
}

TEST(ClientKeyTest, NonAddressesPassThrough) {
  EXPECT_EQ(ClientKey(""), "");
  EXPECT_EQ(ClientKey("unknown"), "unknown");
  EXPECT_EQ(ClientKey("fe80::1%eth0"), "fe80::1%eth0");
  EXPECT_EQ(ClientKey("203.0.113.7 "), "203.0.113.7 ");
  EXPECT_EQ(ClientKey("010.0.0.1"), "010.0.0.1");  // Not canonical: not an address here.
  EXPECT_EQ(ClientKey("1.2.3"), "1.2.3");
  const std::string long_text(200, '1');
  EXPECT_EQ(ClientKey(long_text), long_text);
}

}  // namespace
}  // namespace sessiond::ratelimit
