#include "session/session_service.h"

#include <gtest/gtest.h>

#include "crypto/crypto.h"
#include "store/memory/memory_store.h"
#include "testing/fake_clock.h"
#include "testing/fake_random.h"
#include "token/session_token.h"

namespace sessiond::session {
namespace {

using std::chrono::days;
using std::chrono::hours;

// libsodium's minimum argon2id cost keeps these tests fast; the production floor is enforced by
// config validation, and password_hasher_test covers the real parameters.
constexpr crypto::Argon2Params kFastParams{.memory_kib = 8, .iterations = 1};

class SessionServiceTest : public ::testing::Test {
 protected:
  SessionServiceTest() { EXPECT_TRUE(crypto::Init()); }

  SessionService MakeService(const crypto::PasswordHasher& hasher) {
    SessionOptions options;
    options.handle_key = "handle-key-for-tests";
    return SessionService(store_, hasher, clock_, random_, options);
  }

  NewSession SignUpAlice() {
    auto created = service_.SignUp(
        {.email = "Alice@Example.com", .password = "correct-horse-battery", .name = "Alice"},
        {.ip_address = "203.0.113.7", .user_agent = "curl/8.0"});
    EXPECT_TRUE(created.has_value());
    return *created;
  }

  store::MemoryStore store_;
  testing::FakeClock clock_;
  testing::FakeRandom random_;
  crypto::PasswordHasher hasher_{kFastParams};
  SessionService service_ = MakeService(hasher_);
};

TEST_F(SessionServiceTest, SignUpCreatesUserAndSession) {
  const TimePoint t0 = clock_.Now();
  const NewSession s = SignUpAlice();
  EXPECT_EQ(s.token.size(), token::kTokenLength);
  EXPECT_EQ(s.user.email, "alice@example.com");
  EXPECT_EQ(s.user.name, "Alice");
  EXPECT_FALSE(s.user.email_verified);
  EXPECT_EQ(s.user.created_at, t0);
  EXPECT_EQ(s.session.user_id, s.user.id);
  EXPECT_EQ(s.session.expires_at, t0 + days(7));
  EXPECT_EQ(s.session.ip_address, "203.0.113.7");
  EXPECT_EQ(s.session.user_agent, "curl/8.0");
  // Only the hash is stored.
  EXPECT_NE(s.session.token_hash, s.token);
  EXPECT_EQ(s.session.token_hash, token::HashSessionToken(s.token));
  auto stored = store_.FindSessionByTokenHash(s.session.token_hash);
  ASSERT_TRUE(stored.has_value() && stored->has_value());
  EXPECT_EQ((*stored)->session.id, s.session.id);
}

TEST_F(SessionServiceTest, SignUpRejectsDuplicateEmailCaseInsensitively) {
  SignUpAlice();
  auto again = service_.SignUp(
      {.email = "ALICE@example.COM", .password = "another-password", .name = "A2"}, {});
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, ErrorCode::kUserAlreadyExists);
}

TEST_F(SessionServiceTest, SignUpValidatesInput) {
  auto bad_email =
      service_.SignUp({.email = "not-an-email", .password = "long-enough", .name = "x"}, {});
  ASSERT_FALSE(bad_email.has_value());
  EXPECT_EQ(bad_email.error().code, ErrorCode::kInvalidEmail);

  auto short_pw =
      service_.SignUp({.email = "b@example.com", .password = "1234567", .name = "x"}, {});
  ASSERT_FALSE(short_pw.has_value());
  EXPECT_EQ(short_pw.error().code, ErrorCode::kPasswordTooShort);

  auto long_pw = service_.SignUp(
      {.email = "b@example.com", .password = std::string(129, 'p'), .name = "x"}, {});
  ASSERT_FALSE(long_pw.has_value());
  EXPECT_EQ(long_pw.error().code, ErrorCode::kPasswordTooLong);

  // Boundaries are inclusive.
  EXPECT_TRUE(service_.SignUp({.email = "c@example.com", .password = "12345678", .name = "x"}, {}));
  EXPECT_TRUE(service_.SignUp(
      {.email = "d@example.com", .password = std::string(128, 'p'), .name = "x"}, {}));
}

TEST_F(SessionServiceTest, SignInIssuesAFreshTokenEachTime) {
  const NewSession first = SignUpAlice();
  auto second =
      service_.SignIn({.email = "alice@EXAMPLE.com", .password = "correct-horse-battery"}, {});
  ASSERT_TRUE(second.has_value());
  EXPECT_NE(second->token, first.token);
  EXPECT_NE(second->session.id, first.session.id);
  EXPECT_EQ(second->user.id, first.user.id);
  auto sessions = store_.ListUserSessions(first.user.id);
  ASSERT_TRUE(sessions.has_value());
  EXPECT_EQ(sessions->size(), 2u);
}

TEST_F(SessionServiceTest, WrongPasswordAndUnknownEmailFailAlike) {
  SignUpAlice();
  auto wrong = service_.SignIn({.email = "alice@example.com", .password = "wrong-password"}, {});
  auto unknown = service_.SignIn({.email = "nobody@example.com", .password = "whatever-pw"}, {});
  ASSERT_FALSE(wrong.has_value());
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(wrong.error().code, ErrorCode::kInvalidEmailOrPassword);
  EXPECT_EQ(unknown.error().code, ErrorCode::kInvalidEmailOrPassword);
}

TEST_F(SessionServiceTest, SignInWithMalformedEmailIsInvalidEmail) {
  auto r = service_.SignIn({.email = "not-an-email", .password = "whatever-pw"}, {});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidEmail);
}

TEST(Utf16LengthTest, CountsLikeJavaScript) {
  EXPECT_EQ(Utf16Length(""), 0u);
  EXPECT_EQ(Utf16Length("abc"), 3u);
  EXPECT_EQ(Utf16Length("caf\xc3\xa9"), 4u);       // é: one unit
  EXPECT_EQ(Utf16Length("\xe2\x82\xac"), 1u);      // €: one unit
  EXPECT_EQ(Utf16Length("\xf0\x9f\x94\x91"), 2u);  // 🔑: a surrogate pair
}

TEST_F(SessionServiceTest, PasswordLengthCountsUtf16Units) {
  // Seven emoji are 14 UTF-16 units (>= 8) though only 7 characters; four are 8 units.
  std::string four_keys;
  for (int i = 0; i < 4; ++i) four_keys += "\xf0\x9f\x94\x91";
  EXPECT_TRUE(service_.SignUp({.email = "k@example.com", .password = four_keys, .name = "k"}, {}));
  auto short_pw = service_.SignUp(
      {.email = "j@example.com", .password = "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", .name = "j"}, {});
  ASSERT_FALSE(short_pw.has_value());  // 8 bytes but 4 units.
  EXPECT_EQ(short_pw.error().code, ErrorCode::kPasswordTooShort);
}

TEST_F(SessionServiceTest, ValidateReturnsNothingForUnknownOrMalformedTokens) {
  SignUpAlice();
  for (const std::string& t : {std::string(), std::string("short"), std::string(43, 'A'),
                               std::string(44, 'A'), std::string(10000, 'x')}) {
    auto v = service_.Validate(t);
    ASSERT_TRUE(v.has_value());
    EXPECT_FALSE(v->has_value()) << t.size();
  }
}

TEST_F(SessionServiceTest, SlidesExpiryOnlyAfterUpdateAge) {
  const NewSession s = SignUpAlice();
  clock_.Advance(hours(23));
  auto early = service_.Validate(s.token);
  ASSERT_TRUE(early.has_value() && early->has_value());
  EXPECT_FALSE((*early)->renewed);
  EXPECT_EQ((*early)->session.expires_at, s.session.expires_at);

  clock_.Advance(hours(1));  // Exactly updateAge after creation.
  auto due = service_.Validate(s.token);
  ASSERT_TRUE(due.has_value() && due->has_value());
  EXPECT_TRUE((*due)->renewed);
  EXPECT_EQ((*due)->session.expires_at, clock_.Now() + days(7));
  EXPECT_EQ((*due)->session.updated_at, clock_.Now());

  // Persisted, and not renewed again until another updateAge passes.
  auto again = service_.Validate(s.token);
  ASSERT_TRUE(again.has_value() && again->has_value());
  EXPECT_FALSE((*again)->renewed);
  EXPECT_EQ((*again)->session.expires_at, clock_.Now() + days(7));
}

TEST_F(SessionServiceTest, ExpiredSessionIsNoSessionAndItsRowGoes) {
  const NewSession s = SignUpAlice();
  clock_.Advance(days(7) - milliseconds(1));
  // Still valid one millisecond before expiry (and renewed, being due).
  auto last = service_.Validate(s.token);
  ASSERT_TRUE(last.has_value() && last->has_value());
  clock_.Advance(days(7));
  auto gone = service_.Validate(s.token);
  ASSERT_TRUE(gone.has_value());
  EXPECT_FALSE(gone->has_value());
  auto rows = store_.ListUserSessions(s.user.id);
  ASSERT_TRUE(rows.has_value());
  EXPECT_TRUE(rows->empty());
}

TEST_F(SessionServiceTest, ExpiryBoundaryIsExclusive) {
  const NewSession s = SignUpAlice();
  clock_.Set(s.session.expires_at);
  auto at_expiry = service_.Validate(s.token);
  ASSERT_TRUE(at_expiry.has_value());
  EXPECT_FALSE(at_expiry->has_value());
}

TEST_F(SessionServiceTest, DontRememberSessionsLiveOneDayAndSlideAtHalf) {
  SignUpAlice();
  auto s = service_.SignIn(
      {.email = "alice@example.com", .password = "correct-horse-battery", .remember_me = false},
      {});
  ASSERT_TRUE(s.has_value());
  EXPECT_FALSE(s->session.remember_me);
  EXPECT_EQ(s->session.expires_at, clock_.Now() + days(1));
  clock_.Advance(hours(11));
  auto early = service_.Validate(s->token);
  ASSERT_TRUE(early.has_value() && early->has_value());
  EXPECT_FALSE((*early)->renewed);
  clock_.Advance(hours(1));
  auto due = service_.Validate(s->token);
  ASSERT_TRUE(due.has_value() && due->has_value());
  EXPECT_TRUE((*due)->renewed);
  EXPECT_EQ((*due)->session.expires_at, clock_.Now() + days(1));
}

TEST_F(SessionServiceTest, SignOutEndsOnlyThatSessionAndIsIdempotent) {
  const NewSession a = SignUpAlice();
  auto b = service_.SignIn({.email = "alice@example.com", .password = "correct-horse-battery"}, {});
  ASSERT_TRUE(b.has_value());
  EXPECT_TRUE(service_.SignOut(a.token).has_value());
  EXPECT_TRUE(service_.SignOut(a.token).has_value());
  EXPECT_TRUE(service_.SignOut("not-a-token").has_value());
  auto va = service_.Validate(a.token);
  auto vb = service_.Validate(b->token);
  ASSERT_TRUE(va.has_value() && vb.has_value());
  EXPECT_FALSE(va->has_value());
  EXPECT_TRUE(vb->has_value());
}

TEST_F(SessionServiceTest, SweepDeletesOnlyExpiredRows) {
  SignUpAlice();
  clock_.Advance(days(3));
  auto later =
      service_.SignIn({.email = "alice@example.com", .password = "correct-horse-battery"}, {});
  ASSERT_TRUE(later.has_value());
  clock_.Advance(days(5));  // First session (7 d) expired, second (day 3 + 7 d) not.
  auto swept = service_.SweepExpired();
  ASSERT_TRUE(swept.has_value());
  EXPECT_EQ(*swept, 1);
  auto rows = store_.ListUserSessions(later->user.id);
  ASSERT_TRUE(rows.has_value());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->front().id, later->session.id);
}

TEST_F(SessionServiceTest, WeakHashIsUpgradedOnSignIn) {
  SignUpAlice();
  const crypto::PasswordHasher stronger({.memory_kib = 16, .iterations = 2});
  SessionService upgraded = MakeService(stronger);
  auto before = store_.FindUserByEmail("alice@example.com");
  ASSERT_TRUE(before.has_value() && before->has_value());
  EXPECT_TRUE(stronger.NeedsRehash((*before)->password_hash));

  ASSERT_TRUE(
      upgraded.SignIn({.email = "alice@example.com", .password = "correct-horse-battery"}, {}));
  auto after = store_.FindUserByEmail("alice@example.com");
  ASSERT_TRUE(after.has_value() && after->has_value());
  EXPECT_FALSE(stronger.NeedsRehash((*after)->password_hash));
  EXPECT_TRUE(stronger.Verify((*after)->password_hash, "correct-horse-battery"));
}

TEST_F(SessionServiceTest, UserAgentIsBoundedAndMadeValidUtf8) {
  SignUpAlice();
  std::string ua = "Mozilla/5.0 \xff\xfe caf\xc3\xa9 \x01";
  auto s = service_.SignIn({.email = "alice@example.com", .password = "correct-horse-battery"},
                           {.ip_address = "::1", .user_agent = ua + std::string(10'000, 'x')});
  ASSERT_TRUE(s.has_value());
  EXPECT_LE(s->session.user_agent.size(), 512u);
  EXPECT_EQ(s->session.user_agent.rfind(
                "Mozilla/5.0 \xEF\xBF\xBD\xEF\xBF\xBD caf\xc3\xa9 \xEF\xBF\xBD", 0),
            0u);
}

TEST_F(SessionServiceTest, RevocationHandleIsStableAndDistinct) {
  const NewSession a = SignUpAlice();
  auto b = service_.SignIn({.email = "alice@example.com", .password = "correct-horse-battery"}, {});
  ASSERT_TRUE(b.has_value());
  const std::string ha = service_.RevocationHandle(a.session);
  EXPECT_EQ(ha.size(), 43u);
  EXPECT_EQ(ha, service_.RevocationHandle(a.session));
  EXPECT_NE(ha, service_.RevocationHandle(b->session));
  EXPECT_NE(ha, a.token);
}

TEST_F(SessionServiceTest, ListSessionsShowsOnlyLiveOnesNewestFirst) {
  const NewSession a = SignUpAlice();
  clock_.Advance(hours(1));
  auto b = service_.SignIn({.email = "alice@example.com", .password = "correct-horse-battery"}, {});
  ASSERT_TRUE(b.has_value());
  auto listed = service_.ListSessions(a.user.id);
  ASSERT_TRUE(listed.has_value());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].id, b->session.id);
  EXPECT_EQ((*listed)[1].id, a.session.id);
  clock_.Set(a.session.expires_at);  // a expired, b (an hour younger) not yet.
  listed = service_.ListSessions(a.user.id);
  ASSERT_TRUE(listed.has_value());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].id, b->session.id);
}

TEST_F(SessionServiceTest, RevokeByHandleOrTokenOnlyWithinTheUser) {
  const NewSession a = SignUpAlice();
  auto b = service_.SignIn({.email = "alice@example.com", .password = "correct-horse-battery"}, {});
  auto mallory = service_.SignUp(
      {.email = "mallory@example.com", .password = "mallory-password", .name = "M"}, {});
  ASSERT_TRUE(b.has_value() && mallory.has_value());

  // Mallory cannot end Alice's session, even knowing its handle.
  auto foreign = service_.RevokeSession(mallory->user.id, service_.RevocationHandle(a.session));
  ASSERT_TRUE(foreign.has_value());
  EXPECT_FALSE(foreign->has_value());
  EXPECT_TRUE(service_.Validate(a.token)->has_value());

  auto by_handle = service_.RevokeSession(a.user.id, service_.RevocationHandle(a.session));
  ASSERT_TRUE(by_handle.has_value());
  EXPECT_EQ(by_handle->value_or(""), a.session.id);
  EXPECT_FALSE(service_.Validate(a.token)->has_value());

  auto by_token = service_.RevokeSession(a.user.id, b->token);
  ASSERT_TRUE(by_token.has_value());
  EXPECT_EQ(by_token->value_or(""), b->session.id);
  EXPECT_FALSE(service_.Validate(b->token)->has_value());

  auto unknown = service_.RevokeSession(a.user.id, "no-such-handle");
  ASSERT_TRUE(unknown.has_value());
  EXPECT_FALSE(unknown->has_value());
  EXPECT_TRUE(service_.Validate(mallory->token)->has_value());
}

TEST_F(SessionServiceTest, RevokeSessionsKeepsOnlyTheOneAskedFor) {
  const NewSession a = SignUpAlice();
  auto b = service_.SignIn({.email = "alice@example.com", .password = "correct-horse-battery"}, {});
  auto c = service_.SignIn({.email = "alice@example.com", .password = "correct-horse-battery"}, {});
  ASSERT_TRUE(b.has_value() && c.has_value());
  auto others = service_.RevokeSessions(a.user.id, b->session.id);
  ASSERT_TRUE(others.has_value());
  EXPECT_EQ(*others, 2);
  EXPECT_TRUE(service_.Validate(b->token)->has_value());
  EXPECT_FALSE(service_.Validate(a.token)->has_value());
  auto all = service_.RevokeSessions(a.user.id, std::nullopt);
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(*all, 1);
  EXPECT_FALSE(service_.Validate(b->token)->has_value());
}

TEST_F(SessionServiceTest, ChangePasswordRotatesTheTokenAndOptionallyEndsOthers) {
  const NewSession a = SignUpAlice();
  auto b = service_.SignIn({.email = "alice@example.com", .password = "correct-horse-battery"}, {});
  ASSERT_TRUE(b.has_value());
  auto active = service_.Validate(a.token);
  ASSERT_TRUE(active.has_value() && active->has_value());

  auto wrong = service_.ChangePassword(**active, "not-my-password", "new-password-1", false, {});
  ASSERT_FALSE(wrong.has_value());
  EXPECT_EQ(wrong.error().code, ErrorCode::kInvalidPassword);
  auto too_short = service_.ChangePassword(**active, "correct-horse-battery", "short", false, {});
  ASSERT_FALSE(too_short.has_value());
  EXPECT_EQ(too_short.error().code, ErrorCode::kPasswordTooShort);

  auto changed =
      service_.ChangePassword(**active, "correct-horse-battery", "new-password-1", false, {});
  ASSERT_TRUE(changed.has_value());
  EXPECT_NE(changed->token, a.token);
  EXPECT_FALSE(service_.Validate(a.token)->has_value());        // Old token is dead.
  EXPECT_TRUE(service_.Validate(changed->token)->has_value());  // New one works.
  EXPECT_TRUE(service_.Validate(b->token)->has_value());        // Others kept.
  EXPECT_FALSE(
      service_.SignIn({.email = "alice@example.com", .password = "correct-horse-battery"}, {}));
  EXPECT_TRUE(service_.SignIn({.email = "alice@example.com", .password = "new-password-1"}, {}));

  auto now_active = service_.Validate(changed->token);
  ASSERT_TRUE(now_active.has_value() && now_active->has_value());
  auto again = service_.ChangePassword(**now_active, "new-password-1", "new-password-2", true, {});
  ASSERT_TRUE(again.has_value());
  EXPECT_FALSE(service_.Validate(b->token)->has_value());
  auto left = service_.ListSessions(a.user.id);
  ASSERT_TRUE(left.has_value());
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ(left->front().id, again->session.id);
}

TEST_F(SessionServiceTest, UpdateUserChangesNameAndImage) {
  const NewSession a = SignUpAlice();
  clock_.Advance(seconds(10));
  auto updated = service_.UpdateUser(
      a.user.id, {.name = "Alice Liddell", .set_image = true, .image = "https://x.test/a.png"});
  ASSERT_TRUE(updated.has_value());
  EXPECT_EQ(updated->name, "Alice Liddell");
  EXPECT_EQ(updated->image.value_or(""), "https://x.test/a.png");
  EXPECT_EQ(updated->updated_at, clock_.Now());
  auto seen = service_.Validate(a.token);
  ASSERT_TRUE(seen.has_value() && seen->has_value());
  EXPECT_EQ((*seen)->user.name, "Alice Liddell");
  auto too_long = service_.UpdateUser(a.user.id, {.name = std::string(300, 'x')});
  ASSERT_FALSE(too_long.has_value());
  EXPECT_EQ(too_long.error().code, ErrorCode::kValidation);
}

TEST_F(SessionServiceTest, AbsoluteLifetimeBoundsSlidingExpiry) {
  SessionOptions options;
  options.handle_key = "k";
  options.absolute_lifetime = days(10);
  SessionService bounded(store_, hasher_, clock_, random_, options);
  auto s =
      bounded.SignUp({.email = "b@example.com", .password = "long-enough-pw", .name = "B"}, {});
  ASSERT_TRUE(s.has_value());
  const TimePoint start = clock_.Now();
  // Active every day: slides, but never past start + 10 days.
  for (int day = 1; day <= 9; ++day) {
    clock_.Set(start + days(day));
    auto v = bounded.Validate(s->token);
    ASSERT_TRUE(v.has_value() && v->has_value()) << day;
    EXPECT_LE((*v)->session.expires_at, start + days(10));
  }
  clock_.Set(start + days(10));
  auto ended = bounded.Validate(s->token);
  ASSERT_TRUE(ended.has_value());
  EXPECT_FALSE(ended->has_value());
}

// The revocation ids recorded in the store's feed, oldest first.
std::vector<std::string> FeedIds(store::Store& store) {
  std::vector<std::string> ids;
  auto listed = store.ListRevocations(0, 1000);
  EXPECT_TRUE(listed.has_value());
  if (listed) {
    for (const store::Revocation& r : *listed) ids.push_back(r.session_id);
  }
  return ids;
}

TEST_F(SessionServiceTest, EveryWayOfEndingASessionIsRecordedAsARevocation) {
  const NewSession a = SignUpAlice();
  auto signed_in = [&] {
    auto s =
        service_.SignIn({.email = "alice@example.com", .password = "correct-horse-battery"}, {});
    EXPECT_TRUE(s.has_value());
    return *s;
  };
  const NewSession b = signed_in();
  const NewSession c = signed_in();
  const NewSession d = signed_in();
  EXPECT_FALSE(service_.IsRevoked(a.session.id));

  ASSERT_TRUE(service_.SignOut(a.token).has_value());
  EXPECT_TRUE(service_.IsRevoked(a.session.id));
  EXPECT_EQ(FeedIds(store_), std::vector<std::string>{a.session.id});

  ASSERT_TRUE(service_.RevokeSession(a.user.id, service_.RevocationHandle(b.session)).has_value());
  EXPECT_TRUE(service_.IsRevoked(b.session.id));

  auto others = service_.RevokeSessions(a.user.id, d.session.id);
  ASSERT_TRUE(others.has_value());
  EXPECT_EQ(*others, 1);
  EXPECT_TRUE(service_.IsRevoked(c.session.id));
  EXPECT_FALSE(service_.IsRevoked(d.session.id));
  EXPECT_EQ(FeedIds(store_), (std::vector<std::string>{a.session.id, b.session.id, c.session.id}));

  // Changing the password replaces the caller's session: the old one is revoked.
  auto active = service_.Validate(d.token);
  ASSERT_TRUE(active.has_value() && active->has_value());
  auto changed = service_.ChangePassword(**active, "correct-horse-battery", "new-password-1",
                                         /*revoke_others=*/false, {});
  ASSERT_TRUE(changed.has_value());
  EXPECT_TRUE(service_.IsRevoked(d.session.id));
  EXPECT_FALSE(service_.IsRevoked(changed->session.id));
  EXPECT_EQ(FeedIds(store_).back(), d.session.id);
}

TEST_F(SessionServiceTest, RevocationsArePrunedAfterTheRetention) {
  const NewSession a = SignUpAlice();
  ASSERT_TRUE(service_.SignOut(a.token).has_value());
  clock_.Advance(service_.options().revocation_retention - std::chrono::seconds(1));
  ASSERT_TRUE(service_.SweepExpired().has_value());
  EXPECT_TRUE(service_.IsRevoked(a.session.id));
  EXPECT_EQ(FeedIds(store_).size(), 1u);
  clock_.Advance(std::chrono::seconds(2));
  ASSERT_TRUE(service_.SweepExpired().has_value());
  EXPECT_FALSE(service_.IsRevoked(a.session.id));
  EXPECT_TRUE(FeedIds(store_).empty());
}

TEST_F(SessionServiceTest, RevocationListenersHearEachRevocation) {
  const NewSession a = SignUpAlice();
  int heard = 0;
  const auto id = service_.recent_revocations().Subscribe([&heard] { ++heard; });
  ASSERT_TRUE(service_.SignOut(a.token).has_value());
  EXPECT_EQ(heard, 1);
  // Signing out an unknown token revokes nothing and wakes nobody.
  ASSERT_TRUE(service_.SignOut(a.token).has_value());
  EXPECT_EQ(heard, 1);
  service_.recent_revocations().Unsubscribe(id);
  const std::string peer[] = {"peer-session"};
  service_.NoteRevoked(peer, clock_.Now());
  EXPECT_EQ(heard, 1);
  EXPECT_TRUE(service_.IsRevoked("peer-session"));
}

TEST_F(SessionServiceTest, OneTimeTokenGivesANewSessionOnce) {
  const NewSession a = SignUpAlice();
  auto active = service_.Validate(a.token);
  ASSERT_TRUE(active.has_value() && active->has_value());
  auto ott = service_.CreateOneTimeToken(**active);
  ASSERT_TRUE(ott.has_value());
  EXPECT_EQ(ott->size(), token::kTokenLength);
  EXPECT_NE(*ott, a.token);

  auto redeemed = service_.RedeemOneTimeToken(*ott, {.user_agent = "other-device"});
  ASSERT_TRUE(redeemed.has_value());
  EXPECT_EQ(redeemed->user.id, a.user.id);
  EXPECT_NE(redeemed->session.id, a.session.id);
  EXPECT_NE(redeemed->token, a.token);
  auto valid = service_.Validate(redeemed->token);
  ASSERT_TRUE(valid.has_value() && valid->has_value());

  auto again = service_.RedeemOneTimeToken(*ott, {});
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, ErrorCode::kInvalidToken);
  auto garbage = service_.RedeemOneTimeToken("short", {});
  ASSERT_FALSE(garbage.has_value());
  EXPECT_EQ(garbage.error().code, ErrorCode::kInvalidToken);
}

TEST_F(SessionServiceTest, OneTimeTokenExpiresAndDiesWithItsSession) {
  const NewSession a = SignUpAlice();
  auto active = service_.Validate(a.token);
  ASSERT_TRUE(active.has_value() && active->has_value());
  auto late = service_.CreateOneTimeToken(**active);
  auto orphan = service_.CreateOneTimeToken(**active);
  ASSERT_TRUE(late.has_value() && orphan.has_value());

  ASSERT_TRUE(service_.SignOut(a.token).has_value());
  auto no_session = service_.RedeemOneTimeToken(*orphan, {});
  ASSERT_FALSE(no_session.has_value());
  EXPECT_EQ(no_session.error().code, ErrorCode::kSessionNotFound);

  clock_.Advance(service_.options().one_time_token_lifetime);
  auto expired = service_.RedeemOneTimeToken(*late, {});
  ASSERT_FALSE(expired.has_value());
  EXPECT_EQ(expired.error().code, ErrorCode::kTokenExpired);
  // Spent even though it failed.
  auto after = service_.RedeemOneTimeToken(*late, {});
  ASSERT_FALSE(after.has_value());
  EXPECT_EQ(after.error().code, ErrorCode::kInvalidToken);
}

TEST_F(SessionServiceTest, UserAgentIsDescribedOnceAtSignIn) {
  SessionOptions options;
  options.handle_key = "k";
  int calls = 0;
  options.describe_user_agent = [&calls](std::string_view ua) {
    ++calls;
    return std::string(R"({"family":")") + std::string(ua) + "\"}";
  };
  SessionService described(store_, hasher_, clock_, random_, options);
  auto s = described.SignUp({.email = "u@example.com", .password = "long-enough-pw", .name = "U"},
                            {.ip_address = "::1", .user_agent = "curl"});
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->session.user_agent_parsed, R"({"family":"curl"})");
  ASSERT_TRUE(described.Validate(s->token).has_value());
  EXPECT_EQ(calls, 1);
}

// --- Idle timeout and copies answered without the store -------------------------------------

using std::chrono::minutes;

class IdleTimeoutTest : public SessionServiceTest {
 protected:
  static SessionOptions IdleOptions(seconds idle, seconds absolute = seconds(0)) {
    SessionOptions options;
    options.handle_key = "k";
    options.idle_timeout = idle;
    options.absolute_lifetime = absolute;
    return options;
  }

  // The session row as stored now.
  store::Session Row(const NewSession& s) {
    auto found = store_.FindSessionByTokenHash(s.session.token_hash);
    EXPECT_TRUE(found.has_value() && found->has_value());
    return found.has_value() && found->has_value() ? (*found)->session : store::Session{};
  }

  bool Live(SessionService& service, const NewSession& s) {
    auto v = service.Validate(s.token);
    EXPECT_TRUE(v.has_value());
    return v.has_value() && v->has_value();
  }
};

TEST_F(IdleTimeoutTest, OneTimeTokenOfAnIdleSessionGivesNoSession) {
  SessionService idle(store_, hasher_, clock_, random_, IdleOptions(hours(1)));
  auto s = idle.SignUp({.email = "o@example.com", .password = "long-enough-pw", .name = "O"}, {});
  ASSERT_TRUE(s.has_value());
  auto active = idle.Validate(s->token);
  ASSERT_TRUE(active.has_value() && active->has_value());
  auto ott = idle.CreateOneTimeToken(**active);
  ASSERT_TRUE(ott.has_value());
  // The token is still within its own lifetime when the session it stands for dies idle:
  // bring the session to the brink, then past the timeout in the last seconds of the token.
  ASSERT_TRUE(store_
                  .TouchSession(s->session.id, s->session.expires_at,
                                clock_.Now() - hours(1) + std::chrono::seconds(10))
                  .has_value());
  clock_.Advance(std::chrono::seconds(10));
  auto redeemed = idle.RedeemOneTimeToken(*ott, {});
  ASSERT_FALSE(redeemed.has_value());
  EXPECT_EQ(redeemed.error().code, ErrorCode::kSessionNotFound);
}

TEST_F(IdleTimeoutTest, UnusedSessionDiesAtExactlyTheIdleTimeoutAndItsRowGoes) {
  SessionService idle(store_, hasher_, clock_, random_, IdleOptions(hours(1)));
  auto s = idle.SignUp({.email = "i@example.com", .password = "long-enough-pw", .name = "I"}, {});
  ASSERT_TRUE(s.has_value());
  const TimePoint t0 = clock_.Now();
  clock_.Set(t0 + hours(1));
  EXPECT_FALSE(Live(idle, *s));
  auto rows = store_.ListUserSessions(s->user.id);
  ASSERT_TRUE(rows.has_value());
  EXPECT_TRUE(rows->empty()) << "deleted like an expired session";
}

TEST_F(IdleTimeoutTest, ActivityIsRecordedAtMostOncePerTenthOfTheTimeout) {
  SessionService idle(store_, hasher_, clock_, random_, IdleOptions(hours(1)));
  auto s = idle.SignUp({.email = "i@example.com", .password = "long-enough-pw", .name = "I"}, {});
  ASSERT_TRUE(s.has_value());
  const TimePoint t0 = clock_.Now();

  // Within the first tenth (6 minutes): valid, and nothing written.
  clock_.Set(t0 + minutes(6) - milliseconds(1));
  auto early = idle.Validate(s->token);
  ASSERT_TRUE(early.has_value() && early->has_value());
  EXPECT_FALSE((*early)->renewed);
  EXPECT_EQ(Row(*s).updated_at, t0);

  // At the tenth: activity recorded; the expiry does not move (that is sliding renewal's job),
  // so the cookie need not be re-sent.
  clock_.Set(t0 + minutes(6));
  auto due = idle.Validate(s->token);
  ASSERT_TRUE(due.has_value() && due->has_value());
  EXPECT_FALSE((*due)->renewed);
  EXPECT_EQ((*due)->session.updated_at, t0 + minutes(6));
  EXPECT_EQ((*due)->session.expires_at, s->session.expires_at);
  EXPECT_EQ(Row(*s).updated_at, t0 + minutes(6));
  EXPECT_EQ(Row(*s).expires_at, s->session.expires_at);

  // The timeout now counts from the recorded activity.
  clock_.Set(t0 + minutes(66) - milliseconds(1));
  EXPECT_TRUE(Live(idle, *s));
  EXPECT_EQ(Row(*s).updated_at, t0 + minutes(66) - milliseconds(1));
  clock_.Set(t0 + minutes(126) - milliseconds(1));
  EXPECT_FALSE(Live(idle, *s));
}

TEST_F(IdleTimeoutTest, SessionEndsBetweenNineTenthsAndAllOfTheTimeoutAfterItsLastUse) {
  // The last use falls just short of the recording interval (6 minutes), so it is not written:
  // the timeout still counts from sign-in, i.e. from 0.9 x idleTimeout before that use.
  SessionService idle(store_, hasher_, clock_, random_, IdleOptions(hours(1)));
  auto s = idle.SignUp({.email = "i@example.com", .password = "long-enough-pw", .name = "I"}, {});
  auto u = idle.SignIn({.email = "i@example.com", .password = "long-enough-pw"}, {});
  ASSERT_TRUE(s.has_value() && u.has_value());
  const TimePoint t0 = clock_.Now();
  const TimePoint last_use = t0 + minutes(6) - milliseconds(1);
  clock_.Set(last_use);
  EXPECT_TRUE(Live(idle, *s));
  EXPECT_TRUE(Live(idle, *u));
  EXPECT_EQ(Row(*s).updated_at, t0);
  // 0.9 x idleTimeout after the last use: still alive.
  clock_.Set(last_use + minutes(54));
  EXPECT_TRUE(Live(idle, *s));
  // 0.9 x idleTimeout + 1 ms after it: over.
  clock_.Set(last_use + minutes(54) + milliseconds(1));
  EXPECT_FALSE(Live(idle, *u));
}

TEST_F(IdleTimeoutTest, SteadyUseKeepsASessionButNeverPastTheAbsoluteBound) {
  SessionService idle(store_, hasher_, clock_, random_, IdleOptions(hours(1), days(8)));
  auto s = idle.SignUp({.email = "i@example.com", .password = "long-enough-pw", .name = "I"}, {});
  ASSERT_TRUE(s.has_value());
  const TimePoint t0 = clock_.Now();
  // A request every 50 minutes for 8 days: alive throughout (sliding renewal takes it past the
  // 7-day expiry, activity past the idle timeout), but not a moment past the 8-day bound.
  for (TimePoint t = t0 + minutes(50); t < t0 + days(8); t += minutes(50)) {
    clock_.Set(t);
    auto v = idle.Validate(s->token);
    ASSERT_TRUE(v.has_value() && v->has_value()) << ToIso8601(t);
    EXPECT_LE((*v)->session.expires_at, t0 + days(8));
  }
  clock_.Set(t0 + days(8) - milliseconds(1));
  EXPECT_TRUE(Live(idle, *s));
  clock_.Set(t0 + days(8));
  EXPECT_FALSE(Live(idle, *s));
}

TEST_F(IdleTimeoutTest, FrequentUseWritesOncePerInterval) {
  SessionService idle(store_, hasher_, clock_, random_, IdleOptions(hours(1)));
  auto s = idle.SignUp({.email = "i@example.com", .password = "long-enough-pw", .name = "I"}, {});
  ASSERT_TRUE(s.has_value());
  const TimePoint t0 = clock_.Now();
  // A request every second for one hour: 3600 validations, one write per 6 minutes.
  int writes = 0;
  TimePoint last_updated = t0;
  for (int i = 1; i <= 3600; ++i) {
    clock_.Set(t0 + seconds(i));
    auto v = idle.Validate(s->token);
    ASSERT_TRUE(v.has_value() && v->has_value());
    if ((*v)->session.updated_at != last_updated) ++writes;
    last_updated = (*v)->session.updated_at;
  }
  EXPECT_EQ(writes, 10);
}

TEST_F(IdleTimeoutTest, ZeroMeansOff) {
  SessionService never(store_, hasher_, clock_, random_, IdleOptions(seconds(0)));
  auto s = never.SignUp({.email = "i@example.com", .password = "long-enough-pw", .name = "I"}, {});
  ASSERT_TRUE(s.has_value());
  clock_.Advance(days(6));  // Unused for six days: still alive (it expires after seven).
  EXPECT_TRUE(Live(never, *s));
}

TEST_F(IdleTimeoutTest, ListSessionsHidesIdleSessions) {
  SessionService idle(store_, hasher_, clock_, random_, IdleOptions(hours(1)));
  auto a = idle.SignUp({.email = "i@example.com", .password = "long-enough-pw", .name = "I"}, {});
  ASSERT_TRUE(a.has_value());
  clock_.Advance(minutes(50));
  auto b = idle.SignIn({.email = "i@example.com", .password = "long-enough-pw"}, {});
  ASSERT_TRUE(b.has_value());
  clock_.Advance(minutes(10));  // a: idle for 1 h; b: for 10 min.
  auto listed = idle.ListSessions(a->user.id);
  ASSERT_TRUE(listed.has_value());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().id, b->session.id);
}

TEST_F(IdleTimeoutTest, LoweredAbsoluteBoundEndsOlderSessionsOnTime) {
  // Made while there was no bound: renewed on day 6, so its expiry is day 13.
  SessionService unbounded(store_, hasher_, clock_, random_, IdleOptions(seconds(0)));
  auto s =
      unbounded.SignUp({.email = "i@example.com", .password = "long-enough-pw", .name = "I"}, {});
  ASSERT_TRUE(s.has_value());
  const TimePoint t0 = clock_.Now();
  clock_.Set(t0 + days(6));
  EXPECT_TRUE(Live(unbounded, *s));
  EXPECT_EQ(Row(*s).expires_at, t0 + days(13));

  SessionService bounded(store_, hasher_, clock_, random_, IdleOptions(seconds(0), days(10)));
  clock_.Set(t0 + days(10) - milliseconds(1));
  EXPECT_TRUE(Live(bounded, *s));
  clock_.Set(t0 + days(10));
  EXPECT_FALSE(Live(bounded, *s));
}

TEST_F(IdleTimeoutTest, CopyAnswersOnlyWhileValidateWouldNeitherWriteNorRefuse) {
  SessionService idle(store_, hasher_, clock_, random_, IdleOptions(hours(1), days(8)));
  auto s = idle.SignUp({.email = "i@example.com", .password = "long-enough-pw", .name = "I"}, {});
  ASSERT_TRUE(s.has_value());
  const TimePoint t0 = clock_.Now();
  const store::Session copy = s->session;
  EXPECT_TRUE(idle.CanAnswerFromCopy(copy));
  clock_.Set(t0 + minutes(6) - milliseconds(1));
  EXPECT_TRUE(idle.CanAnswerFromCopy(copy));
  clock_.Set(t0 + minutes(6));  // Activity would be recorded: the store must be asked.
  EXPECT_FALSE(idle.CanAnswerFromCopy(copy));

  // Expired, past the absolute bound, due for renewal: each sends the caller to the store.
  store::Session expired = copy;
  expired.updated_at = clock_.Now();
  EXPECT_TRUE(idle.CanAnswerFromCopy(expired));
  expired.expires_at = clock_.Now();
  EXPECT_FALSE(idle.CanAnswerFromCopy(expired));
  store::Session old = copy;
  old.updated_at = t0 + days(8);
  old.expires_at = t0 + days(9);
  clock_.Set(t0 + days(8));
  EXPECT_FALSE(idle.CanAnswerFromCopy(old));
  SessionService plain(store_, hasher_, clock_, random_, IdleOptions(seconds(0)));
  clock_.Set(t0 + days(1) - milliseconds(1));
  EXPECT_TRUE(plain.CanAnswerFromCopy(copy));
  clock_.Set(t0 + days(1));  // updateAge reached: Validate would slide the expiry.
  EXPECT_FALSE(plain.CanAnswerFromCopy(copy));
}

TEST_F(IdleTimeoutTest, RevokedCopyNeverAnswers) {
  const NewSession a = SignUpAlice();
  auto b = service_.SignIn({.email = "alice@example.com", .password = "correct-horse-battery"}, {});
  auto c = service_.SignIn({.email = "alice@example.com", .password = "correct-horse-battery"}, {});
  auto d = service_.SignIn({.email = "alice@example.com", .password = "correct-horse-battery"}, {});
  ASSERT_TRUE(b.has_value() && c.has_value() && d.has_value());
  for (const store::Session& s : {a.session, b->session, c->session, d->session}) {
    EXPECT_TRUE(service_.CanAnswerFromCopy(s));
  }
  ASSERT_TRUE(service_.SignOut(a.token).has_value());
  EXPECT_FALSE(service_.CanAnswerFromCopy(a.session));
  EXPECT_TRUE(service_.CanAnswerFromCopy(b->session));
  ASSERT_TRUE(service_.RevokeSession(a.user.id, service_.RevocationHandle(b->session)));
  EXPECT_FALSE(service_.CanAnswerFromCopy(b->session));
  ASSERT_TRUE(service_.RevokeSessions(a.user.id, d->session.id));
  EXPECT_FALSE(service_.CanAnswerFromCopy(c->session));
  EXPECT_TRUE(service_.CanAnswerFromCopy(d->session));
  // A row deleted behind the service's back is not a revocation it knows of: the copy still
  // answers (the cookie cache's documented limit); Validate refuses.
  ASSERT_TRUE(store_.DeleteSession(d->session.id));
  EXPECT_TRUE(service_.CanAnswerFromCopy(d->session));
  auto gone = service_.Validate(d->token);
  ASSERT_TRUE(gone.has_value());
  EXPECT_FALSE(gone->has_value());
}

}  // namespace
}  // namespace sessiond::session
