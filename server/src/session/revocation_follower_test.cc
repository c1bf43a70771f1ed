// RevocationFollower: two SessionServices on one store stand for two replicas. Revocations made
// by one reach the other's in-memory record by catch-up, by Wake (a notification) and by the
// poll fallback; trust follows the notification connection and the feed's readability.
#include "session/revocation_follower.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "crypto/crypto.h"
#include "session/counting_store_for_tests.h"
#include "session/session_service.h"
#include "store/memory/memory_store.h"
#include "testing/fake_clock.h"
#include "testing/fake_random.h"

namespace sessiond::session {
namespace {

using std::chrono::hours;
using std::chrono::steady_clock;

constexpr crypto::Argon2Params kFastParams{.memory_kib = 8, .iterations = 1};
constexpr milliseconds kWait{10'000};  // Bound on waits for what must happen.

// Polls `condition` every millisecond until it holds or kWait passes (state set by another
// thread that offers nothing to wait on).
template <class F>
bool Eventually(F condition) {
  const auto deadline = steady_clock::now() + kWait;
  while (!condition()) {
    if (steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return true;
}

class RevocationFollowerTest : public ::testing::Test {
 protected:
  RevocationFollowerTest() { EXPECT_TRUE(crypto::Init()); }

  static SessionOptions Options() {
    SessionOptions options;
    options.handle_key = "handle-key-for-tests";
    options.cache_enabled = true;
    options.cache_max_age = hours(1);
    return options;
  }

  // A session signed in through `service`, validated on `here` (so `here` caches it).
  NewSession SessionSeenBy(SessionService& service, SessionService& here) {
    auto created = service.SignIn({.email = "alice@example.com", .password = "correct-horse"}, {});
    EXPECT_TRUE(created.has_value());
    auto active = here.Validate(created->token);
    EXPECT_TRUE(active.has_value() && active->has_value());
    return *created;
  }

  void SetUp() override {
    ASSERT_TRUE(
        b_.SignUp({.email = "alice@example.com", .password = "correct-horse", .name = "A"}, {})
            .has_value());
  }

  // The seq of the newest revocation in the store.
  std::int64_t LastSeq() {
    auto all = memory_.ListRevocations(0, 100'000);
    EXPECT_TRUE(all.has_value());
    return all->empty() ? 0 : all->back().seq;
  }

  store::MemoryStore memory_;
  testing::CountingStore store_{memory_};
  sessiond::testing::FakeClock clock_;
  sessiond::testing::FakeRandom random_;
  crypto::PasswordHasher hasher_{kFastParams};
  SessionService a_{store_, hasher_, clock_, random_, Options()};   // This replica.
  SessionService b_{memory_, hasher_, clock_, random_, Options()};  // Another one.
};

TEST_F(RevocationFollowerTest, CatchUpAppliesWhatOthersRevoked) {
  const NewSession s = SessionSeenBy(b_, a_);
  ASSERT_TRUE(b_.SignOut(s.token).has_value());
  EXPECT_FALSE(a_.IsRevoked(s.session.id));
  RevocationFollower follower(a_, {});
  ASSERT_TRUE(follower.CatchUp().has_value());
  EXPECT_TRUE(a_.IsRevoked(s.session.id));
  EXPECT_EQ(follower.cursor(), LastSeq());
  auto active = a_.Validate(s.token);
  ASSERT_TRUE(active.has_value());
  EXPECT_FALSE(active->has_value());
}

TEST_F(RevocationFollowerTest, CatchUpReadsPageByPage) {
  std::vector<std::string> ids;
  ids.reserve(25);
  for (int i = 0; i < 25; ++i) ids.push_back("session-" + std::to_string(i));
  ASSERT_TRUE(memory_.AddRevocations(ids, clock_.Now()).has_value());
  RevocationFollower follower(a_, {.page_size = 10});
  const int calls = store_.list_revocations_calls;
  ASSERT_TRUE(follower.CatchUp().has_value());
  EXPECT_EQ(store_.list_revocations_calls, calls + 3);
  for (const std::string& id : ids) EXPECT_TRUE(a_.IsRevoked(id)) << id;
  EXPECT_EQ(follower.cursor(), LastSeq());
}

TEST_F(RevocationFollowerTest, OwnRevocationsDoNotWakeListenersTwice) {
  const NewSession s = SessionSeenBy(a_, a_);
  std::atomic<int> heard{0};
  const auto id = a_.recent_revocations().Subscribe([&heard] { ++heard; });
  ASSERT_TRUE(a_.SignOut(s.token).has_value());
  EXPECT_EQ(heard, 1);
  RevocationFollower follower(a_, {});
  ASSERT_TRUE(follower.CatchUp().has_value());
  EXPECT_EQ(heard, 1);
  EXPECT_EQ(follower.cursor(), LastSeq());
  a_.recent_revocations().Unsubscribe(id);
}

TEST_F(RevocationFollowerTest, WakeReadsAtOnce) {
  RevocationFollower follower(a_, {.poll_interval = hours(1)});  // Never polls in this test.
  ASSERT_TRUE(follower.CatchUp().has_value());
  follower.Start();
  const NewSession s = SessionSeenBy(b_, a_);
  ASSERT_TRUE(b_.SignOut(s.token).has_value());
  follower.Wake();
  ASSERT_TRUE(follower.WaitForCursor(LastSeq(), kWait));
  EXPECT_TRUE(a_.IsRevoked(s.session.id));
  follower.Stop();
}

TEST_F(RevocationFollowerTest, PollingAloneConverges) {
  RevocationFollower follower(a_, {.poll_interval = milliseconds(20)});
  follower.Start();
  const NewSession s = SessionSeenBy(b_, a_);
  ASSERT_TRUE(b_.RevokeSessions(s.user.id, std::nullopt).has_value());
  const auto revoked = steady_clock::now();
  ASSERT_TRUE(follower.WaitForCursor(LastSeq(), kWait));
  EXPECT_LT(steady_clock::now() - revoked, milliseconds(2000));
  EXPECT_TRUE(a_.IsRevoked(s.session.id));
  EXPECT_TRUE(a_.caches_trusted()) << "polling mode trusts after each catch-up";
}

TEST_F(RevocationFollowerTest, NotificationModeTrustsOnlyWhileConnectedAndCaughtUp) {
  RevocationFollower follower(a_,
                              {.poll_interval = milliseconds(5), .wait_for_notifications = true});
  EXPECT_FALSE(a_.caches_trusted()) << "nothing connected yet";
  follower.Start();
  const int calls = store_.list_revocations_calls;
  // Polls succeed, but without a notification connection nothing is trusted.
  ASSERT_TRUE(Eventually([&] { return store_.list_revocations_calls >= calls + 3; }));
  EXPECT_FALSE(a_.caches_trusted());

  follower.SetNotificationsConnected(true);
  ASSERT_TRUE(Eventually([&] { return a_.caches_trusted(); }));

  follower.SetNotificationsConnected(false);
  EXPECT_FALSE(a_.caches_trusted()) << "untrusted at once, not at the next cycle";
  ASSERT_TRUE(Eventually([&] { return store_.list_revocations_calls >= calls + 10; }));
  EXPECT_FALSE(a_.caches_trusted());
  follower.Stop();
}

TEST_F(RevocationFollowerTest, WhatWasMissedWhileDisconnectedIsKnownBeforeTrust) {
  RevocationFollower follower(a_, {.poll_interval = hours(1), .wait_for_notifications = true});
  ASSERT_TRUE(follower.CatchUp().has_value());
  follower.Start();
  follower.SetNotificationsConnected(true);
  ASSERT_TRUE(Eventually([&] { return a_.caches_trusted(); }));
  const NewSession s = SessionSeenBy(b_, a_);
  follower.SetNotificationsConnected(false);
  // Revoked elsewhere while this replica hears nothing (no wake, no poll within the test).
  ASSERT_TRUE(b_.SignOut(s.token).has_value());
  EXPECT_FALSE(a_.IsRevoked(s.session.id));
  // Meanwhile validations read the store, which knows.
  auto meanwhile = a_.Validate(s.token);
  ASSERT_TRUE(meanwhile.has_value());
  EXPECT_FALSE(meanwhile->has_value());
  follower.SetNotificationsConnected(true);
  ASSERT_TRUE(Eventually([&] { return a_.caches_trusted(); }));
  EXPECT_TRUE(a_.IsRevoked(s.session.id)) << "caught up before trusting again";
  follower.Stop();
}

TEST_F(RevocationFollowerTest, AnUnreadableFeedUntrustsUntilItIsReadable) {
  RevocationFollower follower(a_, {.poll_interval = hours(1)});
  follower.Start();
  EXPECT_TRUE(a_.caches_trusted());
  store_.fail_list_revocations = true;
  follower.Wake();
  ASSERT_TRUE(Eventually([&] { return !a_.caches_trusted(); }));
  const NewSession s = SessionSeenBy(b_, a_);
  ASSERT_TRUE(b_.SignOut(s.token).has_value());
  store_.fail_list_revocations = false;
  follower.Wake();
  ASSERT_TRUE(Eventually([&] { return a_.caches_trusted(); }));
  EXPECT_TRUE(a_.IsRevoked(s.session.id));
  follower.Stop();
}

TEST_F(RevocationFollowerTest, StopIsPromptAndIdempotent) {
  RevocationFollower follower(a_, {.poll_interval = hours(1)});
  follower.Start();
  follower.Start();
  const auto before = steady_clock::now();
  follower.Stop();
  follower.Stop();
  EXPECT_LT(steady_clock::now() - before, milliseconds(1000));
}

}  // namespace
}  // namespace sessiond::session
