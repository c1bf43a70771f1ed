// The in-process session cache: SessionCache on its own (bounds, age, invalidation racing a
// fill) and inside SessionService::Validate (a hit avoids the store; revoked, untrusted, too old,
// due for a write, changed user → the store answers), driven by a FakeClock.
#include "session/session_cache.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "crypto/crypto.h"
#include "session/counting_store_for_tests.h"
#include "session/session_service.h"
#include "store/memory/memory_store.h"
#include "testing/fake_clock.h"
#include "testing/fake_random.h"
#include "token/session_token.h"

namespace sessiond::session {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;

constexpr crypto::Argon2Params kFastParams{.memory_kib = 8, .iterations = 1};

// --- SessionCache ------------------------------------------------------------------------------

store::Session MakeSession(const std::string& n, const std::string& user = "u1") {
  return store::Session{.id = "s" + n, .user_id = user, .token_hash = "h" + n};
}
store::User MakeUser(const std::string& id = "u1") { return store::User{.id = id, .name = "N"}; }

TEST(SessionCacheTest, FindsWhileYoungerThanMaxAge) {
  SessionCache cache(10, milliseconds(5000));
  const TimePoint t0 = FromUnixMillis(1'000'000);
  cache.Put(MakeSession("1"), MakeUser(), t0, cache.Epoch());
  ASSERT_TRUE(cache.Find("h1", t0 + milliseconds(4999)).has_value());
  EXPECT_EQ(cache.Find("h1", t0)->session.id, "s1");
  EXPECT_FALSE(cache.Find("h1", t0 + milliseconds(5000)).has_value());
  EXPECT_FALSE(cache.Find("h2", t0).has_value());
}

TEST(SessionCacheTest, BoundedByMaxEntriesDroppingTheOldestFill) {
  SessionCache cache(3, milliseconds(60'000));
  const TimePoint t0 = FromUnixMillis(1'000'000);
  for (int i = 1; i <= 5; ++i) {
    cache.Put(MakeSession(std::to_string(i)), MakeUser(), t0 + milliseconds(i), cache.Epoch());
  }
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_FALSE(cache.Find("h1", t0 + milliseconds(10)).has_value());
  EXPECT_FALSE(cache.Find("h2", t0 + milliseconds(10)).has_value());
  EXPECT_TRUE(cache.Find("h5", t0 + milliseconds(10)).has_value());
  // Refilling an entry makes it the newest: the next eviction takes h4, not h3's refill.
  cache.Put(MakeSession("3"), MakeUser(), t0 + milliseconds(6), cache.Epoch());
  cache.Put(MakeSession("6"), MakeUser(), t0 + milliseconds(7), cache.Epoch());
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_TRUE(cache.Find("h3", t0 + milliseconds(10)).has_value());
  EXPECT_FALSE(cache.Find("h4", t0 + milliseconds(10)).has_value());
  // Many refills of one entry never grow it past its bound.
  for (int i = 0; i < 10'000; ++i) {
    cache.Put(MakeSession("6"), MakeUser(), t0 + milliseconds(8 + i), cache.Epoch());
  }
  EXPECT_EQ(cache.size(), 3u);
}

TEST(SessionCacheTest, ErasesBySessionAndByUser) {
  SessionCache cache(10, milliseconds(60'000));
  const TimePoint t0 = FromUnixMillis(1'000'000);
  cache.Put(MakeSession("1", "alice"), MakeUser("alice"), t0, cache.Epoch());
  cache.Put(MakeSession("2", "alice"), MakeUser("alice"), t0, cache.Epoch());
  cache.Put(MakeSession("3", "bob"), MakeUser("bob"), t0, cache.Epoch());
  const std::string ids[] = {"s1", "unknown"};
  cache.EraseSessions(ids);
  EXPECT_FALSE(cache.Find("h1", t0).has_value());
  EXPECT_TRUE(cache.Find("h2", t0).has_value());
  cache.EraseUser("alice");
  EXPECT_FALSE(cache.Find("h2", t0).has_value());
  EXPECT_TRUE(cache.Find("h3", t0).has_value());
  cache.EraseToken("h3");
  EXPECT_EQ(cache.size(), 0u);
}

TEST(SessionCacheTest, AFillReadBeforeAnInvalidationIsDropped) {
  SessionCache cache(10, milliseconds(60'000));
  const TimePoint t0 = FromUnixMillis(1'000'000);
  // A validation reads the epoch, then the (old) row; meanwhile update-user commits and
  // invalidates the user. The old row must not land in the cache.
  const std::uint64_t epoch = cache.Epoch();
  cache.EraseUser("u1");
  cache.Put(MakeSession("1"), MakeUser(), t0, epoch);
  EXPECT_FALSE(cache.Find("h1", t0).has_value());
  // A fill that read after it does.
  cache.Put(MakeSession("1"), MakeUser(), t0, cache.Epoch());
  EXPECT_TRUE(cache.Find("h1", t0).has_value());
}

// --- SessionService with the cache -------------------------------------------------------------

class CachedValidateTest : public ::testing::Test {
 protected:
  CachedValidateTest() { EXPECT_TRUE(crypto::Init()); }

  static SessionOptions Options(milliseconds max_age) {
    SessionOptions options;
    options.handle_key = "handle-key-for-tests";
    options.cache_enabled = true;
    options.cache_max_age = max_age;
    options.cache_max_entries = 1000;
    return options;
  }

  NewSession SignUp(SessionService& service, const std::string& email = "alice@example.com") {
    auto created =
        service.SignUp({.email = email, .password = "correct-horse-battery", .name = "Alice"}, {});
    EXPECT_TRUE(created.has_value());
    return *created;
  }

  NewSession SignIn(SessionService& service, const std::string& email = "alice@example.com") {
    auto signed_in = service.SignIn({.email = email, .password = "correct-horse-battery"}, {});
    EXPECT_TRUE(signed_in.has_value());
    return *signed_in;
  }

  // The session id Validate answers for `token` ("" for none), asserting it did not fail.
  static std::string Check(SessionService& service, const std::string& token,
                           ReadFrom from = ReadFrom::kCacheOrStore) {
    auto active = service.Validate(token, from);
    EXPECT_TRUE(active.has_value());
    if (!active.has_value() || !active->has_value()) return "";
    return (*active)->session.id;
  }

  store::MemoryStore memory_;
  testing::CountingStore store_{memory_};
  sessiond::testing::FakeClock clock_;
  sessiond::testing::FakeRandom random_;
  crypto::PasswordHasher hasher_{kFastParams};
};

TEST_F(CachedValidateTest, AHitAvoidsTheStore) {
  SessionService service(store_, hasher_, clock_, random_, Options(milliseconds(5000)));
  const NewSession s = SignUp(service);
  EXPECT_EQ(Check(service, s.token), s.session.id);
  EXPECT_EQ(store_.find_session_calls, 1);
  for (int i = 0; i < 10; ++i) {
    auto active = service.Validate(s.token);
    ASSERT_TRUE(active.has_value() && active->has_value());
    EXPECT_EQ((*active)->session.id, s.session.id);
    EXPECT_EQ((*active)->user.email, "alice@example.com");
    EXPECT_FALSE((*active)->renewed);
  }
  EXPECT_EQ(store_.find_session_calls, 1) << "answered from the cache";
  EXPECT_EQ(store_.touch_calls, 0);
  ASSERT_NE(service.cache(), nullptr);
  EXPECT_EQ(service.cache()->size(), 1u);
  // Malformed and unknown tokens never fill it.
  EXPECT_EQ(Check(service, "short"), "");
  EXPECT_EQ(Check(service, std::string(token::kTokenLength, 'x')), "");
  EXPECT_EQ(service.cache()->size(), 1u);
}

TEST_F(CachedValidateTest, OffByDefault) {
  SessionOptions options;
  options.handle_key = "k";
  SessionService service(store_, hasher_, clock_, random_, options);
  const NewSession s = SignUp(service);
  EXPECT_EQ(Check(service, s.token), s.session.id);
  EXPECT_EQ(Check(service, s.token), s.session.id);
  EXPECT_EQ(store_.find_session_calls, 2);
  EXPECT_EQ(service.cache(), nullptr);
}

TEST_F(CachedValidateTest, ARevocationIsAMissAtOnceLocalOrElsewhere) {
  SessionService a(store_, hasher_, clock_, random_, Options(hours(1)));
  SessionService b(store_, hasher_, clock_, random_, Options(hours(1)));  // Another replica.
  const NewSession s1 = SignUp(a);
  const NewSession s2 = SignIn(a);
  const NewSession s3 = SignIn(a);
  for (const NewSession* s : {&s1, &s2, &s3}) EXPECT_EQ(Check(a, s->token), s->session.id);
  const int reads = store_.find_session_calls;

  // Local sign-out: refused on the very next validation.
  ASSERT_TRUE(a.SignOut(s1.token).has_value());
  EXPECT_EQ(Check(a, s1.token), "");

  // Revoked on b: a learns of it through NoteRevoked (the follower) and refuses at once.
  ASSERT_TRUE(b.SignOut(s2.token).has_value());
  EXPECT_EQ(Check(a, s3.token), s3.session.id);
  const std::string ids[] = {s2.session.id};
  a.NoteRevoked(ids, clock_.Now());
  EXPECT_EQ(Check(a, s2.token), "");

  // The check is made at lookup, not only by eviction: with an id in the in-memory record
  // alone (no eviction), the cached copy does not answer — the store does (here it still has
  // the row, as no revocation was written).
  EXPECT_EQ(Check(a, s3.token), s3.session.id);
  const std::string ids3[] = {s3.session.id};
  a.recent_revocations().Add(ids3, clock_.Now());
  const int before = store_.find_session_calls;
  EXPECT_EQ(Check(a, s3.token), s3.session.id);
  EXPECT_EQ(store_.find_session_calls, before + 1) << "the cached copy did not answer";
  EXPECT_GT(store_.find_session_calls, reads);
}

TEST_F(CachedValidateTest, UntrustedCachesAreBypassed) {
  SessionService service(store_, hasher_, clock_, random_, Options(hours(1)));
  const NewSession s = SignUp(service);
  EXPECT_EQ(Check(service, s.token), s.session.id);
  EXPECT_TRUE(service.CanAnswerFromCopy(s.session));
  service.set_caches_trusted(false);
  const int before = store_.find_session_calls;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Check(service, s.token), s.session.id);
  EXPECT_EQ(store_.find_session_calls, before + 3);
  EXPECT_FALSE(service.CanAnswerFromCopy(s.session)) << "the cookie cache is bypassed too";
  // While untrusted the store is the only judge: a row removed behind our back is gone.
  ASSERT_TRUE(memory_.DeleteSession(s.session.id).has_value());
  EXPECT_EQ(Check(service, s.token), "");
  service.set_caches_trusted(true);
  EXPECT_EQ(Check(service, s.token), "") << "the store's no-session forgot the copy";
}

TEST_F(CachedValidateTest, AnEntryAnswersForMaxAgeOnly) {
  SessionService service(store_, hasher_, clock_, random_, Options(milliseconds(5000)));
  const NewSession s = SignUp(service);
  EXPECT_EQ(Check(service, s.token), s.session.id);
  clock_.Advance(milliseconds(4999));
  EXPECT_EQ(Check(service, s.token), s.session.id);
  EXPECT_EQ(store_.find_session_calls, 1);
  clock_.Advance(milliseconds(1));
  EXPECT_EQ(Check(service, s.token), s.session.id);
  EXPECT_EQ(store_.find_session_calls, 2) << "5 s old: read again";
  EXPECT_EQ(Check(service, s.token), s.session.id);
  EXPECT_EQ(store_.find_session_calls, 2) << "and cached again";
  // A change no revocation announces (a row deleted by hand) is seen after max age at most.
  ASSERT_TRUE(memory_.DeleteSession(s.session.id).has_value());
  EXPECT_EQ(Check(service, s.token), s.session.id);
  clock_.Advance(milliseconds(5000));
  EXPECT_EQ(Check(service, s.token), "");
}

TEST_F(CachedValidateTest, RenewalIsStillWrittenWhenDue) {
  // A long max age, so that only the due renewal can make the cache step aside.
  SessionService service(store_, hasher_, clock_, random_, Options(hours(2)));
  const TimePoint t0 = clock_.Now();
  const NewSession s = SignUp(service);
  clock_.Advance(days(1) - minutes(1));
  EXPECT_EQ(Check(service, s.token), s.session.id);
  EXPECT_EQ(store_.touch_calls, 0);
  clock_.Advance(minutes(2));  // updateAge (1 day) has passed: renewal due; the entry is young.
  auto renewed = service.Validate(s.token);
  ASSERT_TRUE(renewed.has_value() && renewed->has_value());
  EXPECT_TRUE((*renewed)->renewed);
  EXPECT_EQ(store_.touch_calls, 1);
  EXPECT_EQ((*renewed)->session.expires_at, t0 + days(1) + minutes(1) + days(7));
  auto stored = memory_.FindSessionByTokenHash(s.session.token_hash);
  ASSERT_TRUE(stored.has_value() && stored->has_value());
  EXPECT_EQ((*stored)->session.expires_at, (*renewed)->session.expires_at);
  // The cache now holds the renewed session: no second write, no read.
  const int reads = store_.find_session_calls;
  auto again = service.Validate(s.token);
  ASSERT_TRUE(again.has_value() && again->has_value());
  EXPECT_FALSE((*again)->renewed);
  EXPECT_EQ((*again)->session.expires_at, (*renewed)->session.expires_at);
  EXPECT_EQ(store_.touch_calls, 1);
  EXPECT_EQ(store_.find_session_calls, reads);
}

TEST_F(CachedValidateTest, IdleActivityIsStillRecordedAndExpiryHonoured) {
  SessionOptions options = Options(hours(2));
  options.idle_timeout = hours(1);  // Activity recorded at most every 6 minutes.
  SessionService service(store_, hasher_, clock_, random_, options);
  const NewSession s = SignUp(service);
  EXPECT_EQ(Check(service, s.token), s.session.id);
  clock_.Advance(minutes(5));
  EXPECT_EQ(Check(service, s.token), s.session.id);
  EXPECT_EQ(store_.touch_calls, 0);
  clock_.Advance(minutes(1));
  EXPECT_EQ(Check(service, s.token), s.session.id);
  EXPECT_EQ(store_.touch_calls, 1) << "activity due: written, not answered from the cache";

  // A session that expires while its entry is young is not answered from it.
  SessionOptions short_lived = Options(days(2));
  short_lived.expires_in = hours(1);
  short_lived.update_age = hours(1);  // Capped at half the lifetime; never due before expiry
                                      // here since the copy is checked against its expiry.
  SessionService other(store_, hasher_, clock_, random_, short_lived);
  const NewSession t = SignUp(other, "bob@example.com");
  EXPECT_EQ(Check(other, t.token), t.session.id);
  clock_.Advance(hours(1));
  EXPECT_EQ(Check(other, t.token), "");
}

TEST_F(CachedValidateTest, UserChangesInvalidateLocally) {
  SessionService service(store_, hasher_, clock_, random_, Options(hours(1)));
  const NewSession s1 = SignUp(service);
  const NewSession s2 = SignIn(service);
  EXPECT_EQ(Check(service, s1.token), s1.session.id);
  EXPECT_EQ(Check(service, s2.token), s2.session.id);

  ASSERT_TRUE(service.UpdateUser(s1.user.id, {.name = "Alice Liddell"}).has_value());
  for (const NewSession* s : {&s1, &s2}) {
    auto active = service.Validate(s->token);
    ASSERT_TRUE(active.has_value() && active->has_value());
    EXPECT_EQ((*active)->user.name, "Alice Liddell");
  }

  // change-password (keeping the other sessions): both users' entries are read anew.
  auto caller = service.Validate(s1.token);
  ASSERT_TRUE(caller.has_value() && caller->has_value());
  auto fresh = service.ChangePassword(**caller, "correct-horse-battery", "another-horse-battery",
                                      /*revoke_others=*/false, {});
  ASSERT_TRUE(fresh.has_value());
  const int reads = store_.find_session_calls;
  EXPECT_EQ(Check(service, s2.token), s2.session.id);
  EXPECT_EQ(store_.find_session_calls, reads + 1);
  EXPECT_EQ(Check(service, s1.token), "") << "the replaced session is revoked";
  EXPECT_EQ(Check(service, fresh->token), fresh->session.id);
}

TEST_F(CachedValidateTest, ReadFromStoreBypassesAndRefills) {
  SessionService service(store_, hasher_, clock_, random_, Options(hours(1)));
  const NewSession s = SignUp(service);
  EXPECT_EQ(Check(service, s.token), s.session.id);
  EXPECT_EQ(Check(service, s.token, ReadFrom::kStore), s.session.id);
  EXPECT_EQ(store_.find_session_calls, 2);
  // Deleted behind our back: the store read says so, and the copy is forgotten.
  ASSERT_TRUE(memory_.DeleteSession(s.session.id).has_value());
  EXPECT_EQ(Check(service, s.token), s.session.id);  // Within max age: the copy.
  EXPECT_EQ(Check(service, s.token, ReadFrom::kStore), "");
  EXPECT_EQ(Check(service, s.token), "");
}

}  // namespace
}  // namespace sessiond::session
