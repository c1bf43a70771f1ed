#include "common/random.h"

#include <gtest/gtest.h>

#include <set>

#include "testing/fake_random.h"

namespace sessiond {
namespace {

TEST(RandomIdTest, LengthAndAlphabet) {
  testing::FakeRandom random;
  const std::string id = RandomId(random, 32);
  ASSERT_EQ(id.size(), 32u);
  for (const char c : id) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << c;
}

TEST(RandomIdTest, DistinctIds) {
  testing::FakeRandom random;
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) ids.insert(RandomId(random));
  EXPECT_EQ(ids.size(), 1000u);
}

}  // namespace
}  // namespace sessiond
