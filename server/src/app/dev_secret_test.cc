#include "app/dev_secret.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "testing/fake_random.h"

namespace sessiond::app {
namespace {

std::filesystem::path FreshDir(const std::string& name) {
  auto dir = std::filesystem::path(::testing::TempDir()) /
             ("dev_secret_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  return dir;
}

TEST(DevSecretTest, CreatesOnceThenReusesWithMode0600) {
  testing::FakeRandom random;
  const auto dir = FreshDir("reuse");
  auto first = LoadOrCreateDevSecret(dir / "nested", random);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->size(), 43u);
  struct stat st {};
  ASSERT_EQ(::stat((dir / "nested" / "dev-secret").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto second = LoadOrCreateDevSecret(dir / "nested", random);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(*first, *second);
  std::filesystem::remove_all(dir);
}

TEST(DevSecretTest, RejectsATruncatedSecretFile) {
  testing::FakeRandom random;
  const auto dir = FreshDir("short");
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "dev-secret") << "short\n";
  auto loaded = LoadOrCreateDevSecret(dir, random);
  ASSERT_FALSE(loaded.has_value());
  EXPECT_EQ(loaded.error().code, ErrorCode::kInternal);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sessiond::app
