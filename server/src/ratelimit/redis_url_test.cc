#include "ratelimit/redis_url.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sessiond::ratelimit {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(RedisUrlTest, HostPortAndDatabase) {
  auto e = ParseRedisUrl("redis://127.0.0.1:6379/0");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->host, "127.0.0.1");
  EXPECT_EQ(e->port, 6379);
  EXPECT_EQ(e->db, 0u);
  EXPECT_TRUE(e->unix_path.empty());
  EXPECT_TRUE(e->password.empty());

  e = ParseRedisUrl("redis://cache.internal");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->host, "cache.internal");
  EXPECT_EQ(e->port, 6379);  // Defaults.
  EXPECT_EQ(e->db, 0u);

  e = ParseRedisUrl("redis://redis-1:6380/");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->port, 6380);
  EXPECT_EQ(e->db, 0u);

  e = ParseRedisUrl("redis://[::1]:7000/15");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->host, "::1");
  EXPECT_EQ(e->port, 7000);
  EXPECT_EQ(e->db, 15u);
  EXPECT_EQ(e->Redacted(), "redis://[::1]:7000/15");
}

TEST(RedisUrlTest, CredentialsArePercentDecodedAndRedacted) {
  auto e = ParseRedisUrl("redis://:p%40ss%3Aw0rd@10.0.0.5/2");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->username, "");
  EXPECT_EQ(e->password, "p@ss:w0rd");
  EXPECT_EQ(e->db, 2u);
  EXPECT_EQ(e->Redacted(), "redis://:***@10.0.0.5:6379/2");

  e = ParseRedisUrl("redis://sessiond:pw@10.0.0.5:6379");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->username, "sessiond");
  EXPECT_EQ(e->password, "pw");
  EXPECT_EQ(e->Redacted(), "redis://sessiond:***@10.0.0.5:6379/0");

  // The last '@' ends the credentials, so an unescaped '@' in the password still works.
  e = ParseRedisUrl("redis://:a@b@host");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->password, "a@b");
  EXPECT_EQ(e->host, "host");
}

TEST(RedisUrlTest, UnixSocket) {
  auto e = ParseRedisUrl("unix:///run/redis/redis-server.sock");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->unix_path, "/run/redis/redis-server.sock");
  EXPECT_EQ(e->db, 0u);
  EXPECT_EQ(e->Redacted(), "unix:///run/redis/redis-server.sock");

  e = ParseRedisUrl("unix:///tmp/r.sock?db=4");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->unix_path, "/tmp/r.sock");
  EXPECT_EQ(e->db, 4u);
  EXPECT_EQ(e->Redacted(), "unix:///tmp/r.sock?db=4");
}

TEST(RedisUrlTest, RejectsWhatItCannotUse) {
  for (const std::string url : {"",
                                "127.0.0.1:6379",
                                "http://127.0.0.1",
                                "redis://",
                                "redis://:6379",
                                "redis://host:",
                                "redis://host:0",
                                "redis://host:65536",
                                "redis://host:port",
                                "redis://host/db",
                                "redis://host/-1",
                                "redis://host/1/2",
                                "redis://host?timeout=1",
                                "redis://ho st",
                                "redis://[::1",
                                "redis://[::1]x",
                                "redis://[]:1",
                                "redis://user@host",
                                "redis://:@host",
                                "redis://:%zz@host",
                                "redis://:%4@host",
                                "unix://",
                                "unix://relative",
                                "unix:///tmp/s?password=x",
                                "unix:///tmp/s?db=x",
                                "redis://host/99999999999"}) {
    const auto e = ParseRedisUrl(url);
    EXPECT_FALSE(e.has_value()) << url;
    if (!e) {
      EXPECT_EQ(e.error().code, ErrorCode::kValidation) << url;
      EXPECT_THAT(e.error().detail, HasSubstr("redis://")) << url;  // Names the accepted forms.
    }
  }
  const auto tls = ParseRedisUrl("rediss://host:6380");
  ASSERT_FALSE(tls.has_value());
  EXPECT_THAT(tls.error().detail, HasSubstr("TLS"));
}

TEST(RedisUrlTest, ErrorsNeverRepeatThePassword) {
  for (const std::string url : {"redis://:hunter2secret@host:99999", "redis://u:hunter2secret@",
                                "redis://:hunter2secret@ho st/1"}) {
    const auto e = ParseRedisUrl(url);
    ASSERT_FALSE(e.has_value()) << url;
    EXPECT_THAT(e.error().detail, Not(HasSubstr("hunter2"))) << url;
  }
}

}  // namespace
}  // namespace sessiond::ratelimit
