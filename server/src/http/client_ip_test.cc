// IpInList and ClientIp are declared in server.h.
#include "http/server.h"

#include <gtest/gtest.h>

namespace sessiond::http {
namespace {

using List = std::vector<std::string>;

TEST(IpInListTest, ExactAddresses) {
  const List trusted = {"127.0.0.1", "::1", "10.1.2.3"};
  EXPECT_TRUE(IpInList("127.0.0.1", trusted));
  EXPECT_TRUE(IpInList("::1", trusted));
  EXPECT_TRUE(IpInList("0:0:0:0:0:0:0:1", trusted));  // Same address, other spelling.
  EXPECT_TRUE(IpInList("10.1.2.3", trusted));
  EXPECT_FALSE(IpInList("10.1.2.4", trusted));
  EXPECT_FALSE(IpInList("127.0.0.2", trusted));
  EXPECT_FALSE(IpInList("::2", trusted));
  EXPECT_FALSE(IpInList("1.2.3.4", {}));
}

TEST(IpInListTest, Ipv4Cidr) {
  const List trusted = {"10.0.0.0/8", "192.168.1.128/25", "172.16.5.4/32"};
  EXPECT_TRUE(IpInList("10.0.0.1", trusted));
  EXPECT_TRUE(IpInList("10.255.255.255", trusted));
  EXPECT_FALSE(IpInList("11.0.0.0", trusted));
  EXPECT_TRUE(IpInList("192.168.1.128", trusted));
  EXPECT_TRUE(IpInList("192.168.1.255", trusted));
  EXPECT_FALSE(IpInList("192.168.1.127", trusted));
  EXPECT_TRUE(IpInList("172.16.5.4", trusted));
  EXPECT_FALSE(IpInList("172.16.5.5", trusted));
  EXPECT_TRUE(IpInList("1.2.3.4", {"0.0.0.0/0"}));
  EXPECT_FALSE(IpInList("::1", {"0.0.0.0/0"}));  // Families never mix.
}

TEST(IpInListTest, Ipv6Cidr) {
  const List trusted = {"::1/128", "fd00::/8", "2001:db8:abcd::/48", "2001:db8::/33"};
  EXPECT_TRUE(IpInList("::1", trusted));
  EXPECT_TRUE(IpInList("fd12:3456::1", trusted));
  EXPECT_FALSE(IpInList("fe80::1", trusted));
  EXPECT_TRUE(IpInList("2001:db8:abcd:ffff::1", trusted));
  EXPECT_TRUE(IpInList("2001:db8:7fff::1", trusted));   // Inside /33.
  EXPECT_FALSE(IpInList("2001:db8:8000::1", trusted));  // Outside /33, outside /48.
  EXPECT_FALSE(IpInList("10.0.0.1", trusted));
}

TEST(IpInListTest, V4MappedAddressesAreIpv4) {
  EXPECT_TRUE(IpInList("::ffff:10.1.2.3", {"10.0.0.0/8"}));
  EXPECT_TRUE(IpInList("10.1.2.3", {"::ffff:10.1.2.3"}));
  EXPECT_TRUE(IpInList("10.1.2.3", {"::ffff:10.0.0.0/104"}));
  EXPECT_FALSE(IpInList("11.1.2.3", {"::ffff:10.0.0.0/104"}));
}

TEST(IpInListTest, BadEntriesNeverMatch) {
  const List garbage = {"",
                        "not-an-ip",
                        "10.0.0.0/",
                        "10.0.0.0/33",
                        "10.0.0.0/-1",
                        "10.0.0.0/8x",
                        "/8",
                        "::1/129",
                        "1.2.3",
                        "10.0.0.0/ 8",
                        "::ffff:10.0.0.0/95",
                        "999.1.1.1",
                        "10.0.0.0/99999999999999999999"};
  for (const char* ip : {"10.0.0.1", "1.2.3", "::1", "0.0.0.0"}) {
    EXPECT_FALSE(IpInList(ip, garbage)) << ip;
  }
  EXPECT_FALSE(IpInList("garbage", {"0.0.0.0/0", "::/0"}));
  EXPECT_FALSE(IpInList("", {"0.0.0.0/0", "::/0"}));
  // Good entries still work next to garbage.
  EXPECT_TRUE(IpInList("10.0.0.1", {"nope", "10.0.0.0/8"}));
  EXPECT_TRUE(IpInList(" 10.0.0.1 ", {" 10.0.0.0/8 "}));
}

TEST(ClientIpTest, UntrustedPeerIgnoresForwardedFor) {
  // A client connecting directly cannot choose its IP by sending the header (spoofing).
  EXPECT_EQ(ClientIp("203.0.113.7", "1.1.1.1", {"10.0.0.0/8"}), "203.0.113.7");
  EXPECT_EQ(ClientIp("203.0.113.7", "1.1.1.1", {}), "203.0.113.7");
  EXPECT_EQ(ClientIp("203.0.113.7", std::nullopt, {"10.0.0.0/8"}), "203.0.113.7");
}

TEST(ClientIpTest, TrustedPeerUsesForwardedFor) {
  const List trusted = {"10.0.0.0/8", "::1"};
  EXPECT_EQ(ClientIp("10.0.0.5", "198.51.100.4", trusted), "198.51.100.4");
  EXPECT_EQ(ClientIp("::1", "2001:db8::7", trusted), "2001:db8::7");
  EXPECT_EQ(ClientIp("10.0.0.5", "::ffff:198.51.100.4", trusted), "198.51.100.4");
  EXPECT_EQ(ClientIp("10.0.0.5", std::nullopt, trusted), "10.0.0.5");
}

TEST(ClientIpTest, ChainsAreWalkedFromTheRight) {
  const List trusted = {"10.0.0.0/8"};
  // The client put a fake entry first; our proxies appended the real one.
  EXPECT_EQ(ClientIp("10.0.0.1", "6.6.6.6, 198.51.100.4, 10.0.0.2", trusted), "198.51.100.4");
  EXPECT_EQ(ClientIp("10.0.0.1", " 6.6.6.6 ,198.51.100.4 ", trusted), "198.51.100.4");
  // All hops trusted: the left-most one.
  EXPECT_EQ(ClientIp("10.0.0.1", "10.0.0.9, 10.0.0.2", trusted), "10.0.0.9");
}

TEST(ClientIpTest, GarbageEntriesAreSkipped) {
  const List trusted = {"10.0.0.0/8"};
  EXPECT_EQ(ClientIp("10.0.0.1", "198.51.100.4, garbage, 10.0.0.2", trusted), "198.51.100.4");
  EXPECT_EQ(ClientIp("10.0.0.1", "garbage", trusted), "10.0.0.1");
  EXPECT_EQ(ClientIp("10.0.0.1", "", trusted), "10.0.0.1");
  EXPECT_EQ(ClientIp("10.0.0.1", ",,, ,", trusted), "10.0.0.1");
  EXPECT_EQ(ClientIp("10.0.0.1", "1.2.3.4:80, unknown", trusted), "10.0.0.1");
  EXPECT_EQ(ClientIp("10.0.0.1", "garbage, 10.0.0.3", trusted), "10.0.0.3");
  EXPECT_EQ(ClientIp("10.0.0.1", std::string(10'000, ','), trusted), "10.0.0.1");
}

}  // namespace
}  // namespace sessiond::http
