#include "session/email.h"

#include <gtest/gtest.h>

#include <string>

namespace sessiond::session {
namespace {

TEST(EmailTest, NormalizeLowercasesAscii) {
  EXPECT_EQ(NormalizeEmail("Alice@Example.COM"), "alice@example.com");
}

TEST(EmailTest, AcceptsOrdinaryAddresses) {
  for (const char* e : {"alice@example.com", "a.b+tag@sub.example.co.uk", "x_y-z@a-b.io",
                        "o'neil@example.org", "1@2.io"}) {
    EXPECT_TRUE(IsValidEmail(e)) << e;
  }
}

TEST(EmailTest, RejectsMalformedAddresses) {
  for (const char* e :
       {"", "alice", "alice@", "@example.com", "alice@example", "a@b@c.com", "alice @example.com",
        "alice@exa mple.com", ".alice@example.com", "alice.@example.com", "al..ice@example.com",
        "alice@-example.com", "alice@example-.com", "alice@example..com", "alice@.example.com",
        "alice@example.com.", "alice\n@example.com", "\"quoted\"@example.com"}) {
    EXPECT_FALSE(IsValidEmail(e)) << e;
  }
}

TEST(EmailTest, RejectsOverlongParts) {
  EXPECT_FALSE(IsValidEmail(std::string(65, 'a') + "@example.com"));
  EXPECT_TRUE(IsValidEmail(std::string(64, 'a') + "@example.com"));
  EXPECT_FALSE(IsValidEmail("a@" + std::string(250, 'b') + ".com"));
  EXPECT_FALSE(IsValidEmail("a@" + std::string(64, 'b') + ".com"));
}

}  // namespace
}  // namespace sessiond::session
