#include "store/testing/store_conformance.h"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <latch>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

namespace sessiond::store::testing {
namespace {

// 64 lower-case hex characters derived from `seed`, shaped like a SHA-256 token hash.
std::string FakeTokenHash(std::string_view seed) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  for (std::uint64_t round = 0; round < 4; ++round) {
    std::uint64_t h = 0xcbf29ce484222325ULL ^ (round * 0x9E3779B97F4A7C15ULL);  // FNV-1a.
    for (char c : seed) {
      h ^= static_cast<unsigned char>(c);
      h *= 0x100000001b3ULL;
    }
    for (int nibble = 0; nibble < 16; ++nibble) {
      out.push_back(kHex[(h >> (60 - 4 * nibble)) & 0xF]);
    }
  }
  return out;
}

void ExpectSameUser(const User& actual, const User& expected) {
  EXPECT_EQ(actual.id, expected.id);
  EXPECT_EQ(actual.email, expected.email);
  EXPECT_EQ(actual.name, expected.name);
  EXPECT_EQ(actual.image, expected.image);
  EXPECT_EQ(actual.email_verified, expected.email_verified);
  EXPECT_EQ(ToUnixMillis(actual.created_at), ToUnixMillis(expected.created_at));
  EXPECT_EQ(ToUnixMillis(actual.updated_at), ToUnixMillis(expected.updated_at));
}

void ExpectSameSession(const Session& actual, const Session& expected) {
  EXPECT_EQ(actual.id, expected.id);
  EXPECT_EQ(actual.user_id, expected.user_id);
  EXPECT_EQ(actual.token_hash, expected.token_hash);
  EXPECT_EQ(ToUnixMillis(actual.expires_at), ToUnixMillis(expected.expires_at));
  EXPECT_EQ(actual.ip_address, expected.ip_address);
  EXPECT_EQ(actual.user_agent, expected.user_agent);
  EXPECT_EQ(actual.user_agent_parsed, expected.user_agent_parsed);
  EXPECT_EQ(actual.remember_me, expected.remember_me);
  EXPECT_EQ(ToUnixMillis(actual.created_at), ToUnixMillis(expected.created_at));
  EXPECT_EQ(ToUnixMillis(actual.updated_at), ToUnixMillis(expected.updated_at));
}

// Concatenation that sidesteps GCC 12's -Wrestrict false positive on `"literal" + std::string&&`
// at -O2 (GCC PR 105329), which -Werror would turn into a build failure.
std::string Cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view part : parts) out.append(part);
  return out;
}

std::vector<std::string> Sorted(std::vector<std::string> values) {
  std::ranges::sort(values);
  return values;
}

std::vector<std::string> Ids(const std::vector<Session>& sessions) {
  std::vector<std::string> ids;
  ids.reserve(sessions.size());
  for (const Session& s : sessions) ids.push_back(s.id);
  return ids;
}

}  // namespace

std::string StoreFactoryName(const ::testing::TestParamInfo<StoreFactory>& info) {
  return info.param.name;
}

void StoreConformanceTest::SetUp() {
  store_ = GetParam().make();
  ASSERT_NE(store_, nullptr) << "factory " << GetParam().name << " returned no store";
  SESSIOND_ASSERT_OK(store_->Migrate());
}

User StoreConformanceTest::MakeUser(const std::string& id, const std::string& email) const {
  User user;
  user.id = id;
  user.email = email;
  user.name = "Name of " + id;
  user.image = "https://example.com/avatars/" + id + ".png";
  user.email_verified = true;
  user.created_at = clock_.Now() + milliseconds(123);
  user.updated_at = clock_.Now() + milliseconds(456);
  return user;
}

Account StoreConformanceTest::MakeAccount(const User& user,
                                          const std::string& password_hash) const {
  Account account;
  account.id = "acc-" + user.id;
  account.user_id = user.id;
  account.account_id = user.id;
  account.provider_id = "credential";
  account.password_hash = password_hash;
  account.created_at = user.created_at;
  account.updated_at = user.updated_at;
  return account;
}

void StoreConformanceTest::CreateUserOrFail(const User& user, const std::string& password_hash) {
  SESSIOND_ASSERT_OK(store_->CreateUser(user, MakeAccount(user, password_hash)));
}

Session StoreConformanceTest::MakeSession(const std::string& id, const std::string& user_id) const {
  Session session;
  session.id = id;
  session.user_id = user_id;
  session.token_hash = FakeTokenHash(id);
  session.expires_at = clock_.Now() + std::chrono::days(7);
  session.ip_address = "203.0.113.7";
  session.user_agent = "Mozilla/5.0 (X11; Linux x86_64)";
  session.user_agent_parsed = R"({"family":"Other","os":{"family":"Linux"}})";
  session.remember_me = true;
  session.created_at = clock_.Now();
  session.updated_at = clock_.Now();
  return session;
}

// --- Migrate, Ping -----------------------------------------------------------------------------

TEST_P(StoreConformanceTest, MigrateIsIdempotentAndReturnsTheVersion) {
  SESSIOND_ASSERT_OK_AND_ASSIGN(first, store_->Migrate());
  SESSIOND_ASSERT_OK_AND_ASSIGN(second, store_->Migrate());
  EXPECT_GE(first, 1);
  EXPECT_EQ(first, second);
}

TEST_P(StoreConformanceTest, MigrateKeepsExistingData) {
  User user = MakeUser("u1", "alice@example.com");
  CreateUserOrFail(user);
  SESSIOND_ASSERT_OK(store_->CreateSession(MakeSession("s1", "u1")));
  SESSIOND_ASSERT_OK(store_->Migrate());
  SESSIOND_ASSERT_OK_AND_ASSIGN(found, store_->FindUserById("u1"));
  EXPECT_TRUE(found.has_value());
  SESSIOND_ASSERT_OK_AND_ASSIGN(session, store_->FindSessionByTokenHash(FakeTokenHash("s1")));
  EXPECT_TRUE(session.has_value());
}

TEST_P(StoreConformanceTest, PingSucceeds) { SESSIOND_ASSERT_OK(store_->Ping()); }

// --- Users ---------------------------------------------------------------------------------------

TEST_P(StoreConformanceTest, CreateUserThenFindByEmailRoundTripsEveryField) {
  User user = MakeUser("u1", "alice@example.com");
  user.name = "Alice Ünïcødé 日本";
  user.created_at = FromUnixMillis(1795428000001);
  user.updated_at = FromUnixMillis(1795428000999);
  CreateUserOrFail(user, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA");

  SESSIOND_ASSERT_OK_AND_ASSIGN(found, store_->FindUserByEmail("alice@example.com"));
  ASSERT_TRUE(found.has_value());
  ExpectSameUser(found->user, user);
  EXPECT_EQ(found->password_hash, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA");
}

TEST_P(StoreConformanceTest, CreateUserThenFindByIdRoundTripsEveryField) {
  User user = MakeUser("u1", "alice@example.com");
  SESSIOND_ASSERT_OK(store_->CreateUser(user, MakeAccount(user, "hash")));
  SESSIOND_ASSERT_OK_AND_ASSIGN(found, store_->FindUserById("u1"));
  ASSERT_TRUE(found.has_value());
  ExpectSameUser(*found, user);
}

TEST_P(StoreConformanceTest, NullImageAndUnverifiedEmailRoundTrip) {
  User user = MakeUser("u1", "alice@example.com");
  user.image = std::nullopt;
  user.email_verified = false;
  CreateUserOrFail(user);

  SESSIOND_ASSERT_OK_AND_ASSIGN(by_id, store_->FindUserById("u1"));
  ASSERT_TRUE(by_id.has_value());
  EXPECT_EQ(by_id->image, std::nullopt);
  EXPECT_FALSE(by_id->email_verified);
  SESSIOND_ASSERT_OK_AND_ASSIGN(by_email, store_->FindUserByEmail("alice@example.com"));
  ASSERT_TRUE(by_email.has_value());
  ExpectSameUser(by_email->user, user);
}

TEST_P(StoreConformanceTest, EmptyImageIsNotNull) {
  User user = MakeUser("u1", "alice@example.com");
  user.image = "";
  CreateUserOrFail(user);
  SESSIOND_ASSERT_OK_AND_ASSIGN(found, store_->FindUserById("u1"));
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->image, std::optional<std::string>(""));
}

TEST_P(StoreConformanceTest, TimestampsKeepMillisecondsBeforeAndAfterTheEpoch) {
  User user = MakeUser("u1", "alice@example.com");
  user.created_at = FromUnixMillis(-1);             // 1969-12-31T23:59:59.999Z.
  user.updated_at = FromUnixMillis(4102444800007);  // 2100-01-01T00:00:00.007Z.
  CreateUserOrFail(user);
  SESSIOND_ASSERT_OK_AND_ASSIGN(found, store_->FindUserById("u1"));
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(ToUnixMillis(found->created_at), -1);
  EXPECT_EQ(ToUnixMillis(found->updated_at), 4102444800007);
}

TEST_P(StoreConformanceTest, FindUserByEmailUnknownReturnsNullopt) {
  CreateUserOrFail(MakeUser("u1", "alice@example.com"));
  SESSIOND_ASSERT_OK_AND_ASSIGN(found, store_->FindUserByEmail("bob@example.com"));
  EXPECT_FALSE(found.has_value());
}

TEST_P(StoreConformanceTest, FindUserByEmailDoesNotFoldCase) {
  CreateUserOrFail(MakeUser("u1", "alice@example.com"));
  SESSIOND_ASSERT_OK_AND_ASSIGN(found, store_->FindUserByEmail("Alice@Example.com"));
  EXPECT_FALSE(found.has_value());
}

TEST_P(StoreConformanceTest, FindUserByIdUnknownReturnsNullopt) {
  SESSIOND_ASSERT_OK_AND_ASSIGN(found, store_->FindUserById("nobody"));
  EXPECT_FALSE(found.has_value());
}

TEST_P(StoreConformanceTest, DuplicateEmailIsUserAlreadyExistsAndWritesNothing) {
  User alice = MakeUser("u1", "alice@example.com");
  CreateUserOrFail(alice, "first-hash");

  User impostor = MakeUser("u2", "alice@example.com");
  impostor.name = "Impostor";
  auto created = store_->CreateUser(impostor, MakeAccount(impostor, "second-hash"));
  ASSERT_FALSE(created.has_value());
  EXPECT_EQ(created.error().code, ErrorCode::kUserAlreadyExists);

  // Neither the user row nor its account was written.
  SESSIOND_ASSERT_OK_AND_ASSIGN(by_id, store_->FindUserById("u2"));
  EXPECT_FALSE(by_id.has_value());
  SESSIOND_ASSERT_OK_AND_ASSIGN(updated, store_->UpdatePasswordHash("u2", "x", clock_.Now()));
  EXPECT_FALSE(updated) << "the second user's account must not exist";
  // The first user is untouched.
  SESSIOND_ASSERT_OK_AND_ASSIGN(by_email, store_->FindUserByEmail("alice@example.com"));
  ASSERT_TRUE(by_email.has_value());
  ExpectSameUser(by_email->user, alice);
  EXPECT_EQ(by_email->password_hash, "first-hash");
  // And the id u2 is still free for a later, valid sign-up.
  CreateUserOrFail(MakeUser("u2", "bob@example.com"));
}

TEST_P(StoreConformanceTest, ConcurrentSignUpsWithOneEmailHaveExactlyOneWinner) {
  constexpr int kThreads = 8;
  std::latch start(kThreads);
  std::atomic<int> created{0};
  std::atomic<int> already_exists{0};
  std::atomic<int> other_errors{0};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      User user = MakeUser("u" + std::to_string(t), "same@example.com");
      Account account = MakeAccount(user, "hash" + std::to_string(t));
      start.arrive_and_wait();
      auto result = store_->CreateUser(user, account);
      if (result.has_value()) {
        ++created;
      } else if (result.error().code == ErrorCode::kUserAlreadyExists) {
        ++already_exists;
      } else {
        ++other_errors;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(already_exists.load(), kThreads - 1);
  EXPECT_EQ(other_errors.load(), 0);
}

TEST_P(StoreConformanceTest, AccountOfAnotherUserIsInternalAndWritesNothing) {
  CreateUserOrFail(MakeUser("u1", "alice@example.com"));
  User bob = MakeUser("u2", "bob@example.com");
  Account account = MakeAccount(bob, "hash");
  account.user_id = "u1";
  auto created = store_->CreateUser(bob, account);
  ASSERT_FALSE(created.has_value());
  EXPECT_EQ(created.error().code, ErrorCode::kInternal);
  SESSIOND_ASSERT_OK_AND_ASSIGN(found, store_->FindUserById("u2"));
  EXPECT_FALSE(found.has_value());
}

TEST_P(StoreConformanceTest, UserWithoutCredentialAccountHasEmptyPasswordHash) {
  User user = MakeUser("u1", "alice@example.com");
  Account account = MakeAccount(user, "");
  account.provider_id = "github";
  account.account_id = "gh-12345";
  SESSIOND_ASSERT_OK(store_->CreateUser(user, account));

  SESSIOND_ASSERT_OK_AND_ASSIGN(found, store_->FindUserByEmail("alice@example.com"));
  ASSERT_TRUE(found.has_value());
  ExpectSameUser(found->user, user);
  EXPECT_EQ(found->password_hash, "");
  SESSIOND_ASSERT_OK_AND_ASSIGN(updated, store_->UpdatePasswordHash("u1", "new", clock_.Now()));
  EXPECT_FALSE(updated);
}

TEST_P(StoreConformanceTest, UpdatePasswordHashReplacesOnlyThatUsersHash) {
  CreateUserOrFail(MakeUser("u1", "alice@example.com"), "alice-old");
  CreateUserOrFail(MakeUser("u2", "bob@example.com"), "bob-old");

  SESSIOND_ASSERT_OK_AND_ASSIGN(updated,
                                store_->UpdatePasswordHash("u1", "alice-new", clock_.Now()));
  EXPECT_TRUE(updated);
  SESSIOND_ASSERT_OK_AND_ASSIGN(alice, store_->FindUserByEmail("alice@example.com"));
  ASSERT_TRUE(alice.has_value());
  EXPECT_EQ(alice->password_hash, "alice-new");
  SESSIOND_ASSERT_OK_AND_ASSIGN(bob, store_->FindUserByEmail("bob@example.com"));
  ASSERT_TRUE(bob.has_value());
  EXPECT_EQ(bob->password_hash, "bob-old");
}

TEST_P(StoreConformanceTest, UpdatePasswordHashOfUnknownUserReturnsFalse) {
  SESSIOND_ASSERT_OK_AND_ASSIGN(updated, store_->UpdatePasswordHash("nobody", "h", clock_.Now()));
  EXPECT_FALSE(updated);
}

// --- Sessions ------------------------------------------------------------------------------------

TEST_P(StoreConformanceTest, CreateSessionThenFindByTokenHashReturnsSessionAndUser) {
  User user = MakeUser("u1", "alice@example.com");
  CreateUserOrFail(user);
  Session session = MakeSession("s1", "u1");
  session.ip_address = "2001:db8::1";
  session.user_agent = "Mözilla/5.0 (日本語; Ελληνικά) 🚀 \"quoted\" 'single' \\ ; DROP TABLE";
  session.remember_me = false;
  session.expires_at = clock_.Now() + milliseconds(86'400'001);
  session.created_at = clock_.Now() + milliseconds(1);
  session.updated_at = clock_.Now() + milliseconds(2);
  SESSIOND_ASSERT_OK(store_->CreateSession(session));

  SESSIOND_ASSERT_OK_AND_ASSIGN(found, store_->FindSessionByTokenHash(session.token_hash));
  ASSERT_TRUE(found.has_value());
  ExpectSameSession(found->session, session);
  ExpectSameUser(found->user, user);
}

TEST_P(StoreConformanceTest, RememberMeTrueAndEmptyClientFieldsRoundTrip) {
  CreateUserOrFail(MakeUser("u1", "alice@example.com"));
  Session session = MakeSession("s1", "u1");
  session.remember_me = true;
  session.ip_address = "";
  session.user_agent = "";
  SESSIOND_ASSERT_OK(store_->CreateSession(session));

  SESSIOND_ASSERT_OK_AND_ASSIGN(found, store_->FindSessionByTokenHash(session.token_hash));
  ASSERT_TRUE(found.has_value());
  ExpectSameSession(found->session, session);
}

TEST_P(StoreConformanceTest, LongUserAgentRoundTrips) {
  CreateUserOrFail(MakeUser("u1", "alice@example.com"));
  Session session = MakeSession("s1", "u1");
  session.user_agent = std::string(4096, 'a') + "é";
  SESSIOND_ASSERT_OK(store_->CreateSession(session));
  SESSIOND_ASSERT_OK_AND_ASSIGN(found, store_->FindSessionByTokenHash(session.token_hash));
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->session.user_agent, session.user_agent);
}

TEST_P(StoreConformanceTest, FindSessionByUnknownTokenHashReturnsNullopt) {
  CreateUserOrFail(MakeUser("u1", "alice@example.com"));
  SESSIOND_ASSERT_OK(store_->CreateSession(MakeSession("s1", "u1")));
  SESSIOND_ASSERT_OK_AND_ASSIGN(found, store_->FindSessionByTokenHash(FakeTokenHash("other")));
  EXPECT_FALSE(found.has_value());
}

TEST_P(StoreConformanceTest, FindSessionByTokenHashReturnsExpiredSessions) {
  CreateUserOrFail(MakeUser("u1", "alice@example.com"));
  Session session = MakeSession("s1", "u1");
  session.expires_at = clock_.Now() - milliseconds(1);
  SESSIOND_ASSERT_OK(store_->CreateSession(session));
  SESSIOND_ASSERT_OK_AND_ASSIGN(found, store_->FindSessionByTokenHash(session.token_hash));
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(ToUnixMillis(found->session.expires_at), ToUnixMillis(session.expires_at));
}

TEST_P(StoreConformanceTest, SessionIdCollisionIsInternal) {
  CreateUserOrFail(MakeUser("u1", "alice@example.com"));
  Session first = MakeSession("s1", "u1");
  SESSIOND_ASSERT_OK(store_->CreateSession(first));
  Session second = MakeSession("s1", "u1");
  second.token_hash = FakeTokenHash("different");
  auto created = store_->CreateSession(second);
  ASSERT_FALSE(created.has_value());
  EXPECT_EQ(created.error().code, ErrorCode::kInternal);
  // Neither overwritten nor added.
  SESSIOND_ASSERT_OK_AND_ASSIGN(by_new_hash, store_->FindSessionByTokenHash(second.token_hash));
  EXPECT_FALSE(by_new_hash.has_value());
  SESSIOND_ASSERT_OK_AND_ASSIGN(by_old_hash, store_->FindSessionByTokenHash(first.token_hash));
  EXPECT_TRUE(by_old_hash.has_value());
}

TEST_P(StoreConformanceTest, TokenHashCollisionIsInternalAndSecretFree) {
  CreateUserOrFail(MakeUser("u1", "alice@example.com"));
  Session first = MakeSession("s1", "u1");
  SESSIOND_ASSERT_OK(store_->CreateSession(first));
  Session second = MakeSession("s2", "u1");
  second.token_hash = first.token_hash;
  auto created = store_->CreateSession(second);
  ASSERT_FALSE(created.has_value());
  EXPECT_EQ(created.error().code, ErrorCode::kInternal);
  EXPECT_EQ(created.error().detail.find(first.token_hash), std::string::npos)
      << "error details must never carry a token hash";
  SESSIOND_ASSERT_OK_AND_ASSIGN(sessions, store_->ListUserSessions("u1"));
  EXPECT_EQ(Ids(sessions), std::vector<std::string>{"s1"});
}

TEST_P(StoreConformanceTest, SessionOfUnknownUserIsInternal) {
  auto created = store_->CreateSession(MakeSession("s1", "nobody"));
  ASSERT_FALSE(created.has_value());
  EXPECT_EQ(created.error().code, ErrorCode::kInternal);
}

TEST_P(StoreConformanceTest, TouchSessionUpdatesExpiryAndUpdatedAtOnly) {
  CreateUserOrFail(MakeUser("u1", "alice@example.com"));
  Session session = MakeSession("s1", "u1");
  SESSIOND_ASSERT_OK(store_->CreateSession(session));

  clock_.Advance(std::chrono::hours(25) + milliseconds(7));
  TimePoint new_expiry = clock_.Now() + std::chrono::days(7);
  SESSIOND_ASSERT_OK_AND_ASSIGN(touched, store_->TouchSession("s1", new_expiry, clock_.Now()));
  EXPECT_TRUE(touched);

  SESSIOND_ASSERT_OK_AND_ASSIGN(found, store_->FindSessionByTokenHash(session.token_hash));
  ASSERT_TRUE(found.has_value());
  Session expected = session;
  expected.expires_at = new_expiry;
  expected.updated_at = clock_.Now();
  ExpectSameSession(found->session, expected);
}

TEST_P(StoreConformanceTest, TouchSessionOfDeletedOrUnknownSessionReturnsFalse) {
  CreateUserOrFail(MakeUser("u1", "alice@example.com"));
  SESSIOND_ASSERT_OK(store_->CreateSession(MakeSession("s1", "u1")));
  SESSIOND_ASSERT_OK_AND_ASSIGN(deleted, store_->DeleteSession("s1"));
  EXPECT_EQ(deleted, 1);
  SESSIOND_ASSERT_OK_AND_ASSIGN(touched_deleted,
                                store_->TouchSession("s1", clock_.Now(), clock_.Now()));
  EXPECT_FALSE(touched_deleted);
  SESSIOND_ASSERT_OK_AND_ASSIGN(touched_unknown,
                                store_->TouchSession("never", clock_.Now(), clock_.Now()));
  EXPECT_FALSE(touched_unknown);
}

TEST_P(StoreConformanceTest, DeleteSessionReturnsOneThenZero) {
  CreateUserOrFail(MakeUser("u1", "alice@example.com"));
  Session session = MakeSession("s1", "u1");
  SESSIOND_ASSERT_OK(store_->CreateSession(session));
  SESSIOND_ASSERT_OK(store_->CreateSession(MakeSession("s2", "u1")));

  SESSIOND_ASSERT_OK_AND_ASSIGN(first, store_->DeleteSession("s1"));
  EXPECT_EQ(first, 1);
  SESSIOND_ASSERT_OK_AND_ASSIGN(second, store_->DeleteSession("s1"));
  EXPECT_EQ(second, 0);
  SESSIOND_ASSERT_OK_AND_ASSIGN(found, store_->FindSessionByTokenHash(session.token_hash));
  EXPECT_FALSE(found.has_value());
  SESSIOND_ASSERT_OK_AND_ASSIGN(rest, store_->ListUserSessions("u1"));
  EXPECT_EQ(Ids(rest), std::vector<std::string>{"s2"});
  // The freed token hash can be used again.
  Session again = MakeSession("s3", "u1");
  again.token_hash = session.token_hash;
  SESSIOND_ASSERT_OK(store_->CreateSession(again));
}

TEST_P(StoreConformanceTest, ListUserSessionsIsNewestFirstAndOnlyThatUsers) {
  CreateUserOrFail(MakeUser("u1", "alice@example.com"));
  CreateUserOrFail(MakeUser("u2", "bob@example.com"));
  const TimePoint t0 = clock_.Now();
  // Inserted out of order; one already expired (still listed).
  const std::vector<std::pair<std::string, milliseconds>> created = {
      {"s-mid", milliseconds(2000)}, {"s-new", milliseconds(3001)}, {"s-old", milliseconds(1)}};
  for (const auto& [id, offset] : created) {
    Session session = MakeSession(id, "u1");
    session.created_at = t0 + offset;
    if (id == "s-old") session.expires_at = t0 - milliseconds(1);
    SESSIOND_ASSERT_OK(store_->CreateSession(session));
  }
  Session other = MakeSession("s-bob", "u2");
  other.created_at = t0 + milliseconds(5000);
  SESSIOND_ASSERT_OK(store_->CreateSession(other));

  SESSIOND_ASSERT_OK_AND_ASSIGN(sessions, store_->ListUserSessions("u1"));
  EXPECT_EQ(Ids(sessions), (std::vector<std::string>{"s-new", "s-mid", "s-old"}));
  ASSERT_EQ(sessions.size(), 3u);
  Session expected_new = MakeSession("s-new", "u1");
  expected_new.created_at = t0 + milliseconds(3001);
  ExpectSameSession(sessions[0], expected_new);

  SESSIOND_ASSERT_OK_AND_ASSIGN(none, store_->ListUserSessions("nobody"));
  EXPECT_TRUE(none.empty());
}

TEST_P(StoreConformanceTest, DeleteUserSessionsWithoutKeepDeletesAllOfThatUser) {
  CreateUserOrFail(MakeUser("u1", "alice@example.com"));
  CreateUserOrFail(MakeUser("u2", "bob@example.com"));
  for (const char* id : {"a1", "a2", "a3"}) {
    SESSIOND_ASSERT_OK(store_->CreateSession(MakeSession(id, "u1")));
  }
  for (const char* id : {"b1", "b2"}) {
    SESSIOND_ASSERT_OK(store_->CreateSession(MakeSession(id, "u2")));
  }

  SESSIOND_ASSERT_OK_AND_ASSIGN(deleted, store_->DeleteUserSessions("u1", std::nullopt));
  EXPECT_EQ(Sorted(deleted), (std::vector<std::string>{"a1", "a2", "a3"}));
  SESSIOND_ASSERT_OK_AND_ASSIGN(alice, store_->ListUserSessions("u1"));
  EXPECT_TRUE(alice.empty());
  SESSIOND_ASSERT_OK_AND_ASSIGN(gone, store_->FindSessionByTokenHash(FakeTokenHash("a2")));
  EXPECT_FALSE(gone.has_value());
  SESSIOND_ASSERT_OK_AND_ASSIGN(bob, store_->ListUserSessions("u2"));
  EXPECT_EQ(bob.size(), 2u);
  SESSIOND_ASSERT_OK_AND_ASSIGN(again, store_->DeleteUserSessions("u1", std::nullopt));
  EXPECT_TRUE(again.empty());
}

TEST_P(StoreConformanceTest, DeleteUserSessionsKeepsTheGivenSession) {
  CreateUserOrFail(MakeUser("u1", "alice@example.com"));
  CreateUserOrFail(MakeUser("u2", "bob@example.com"));
  for (const char* id : {"a1", "a2", "a3", "a4"}) {
    SESSIOND_ASSERT_OK(store_->CreateSession(MakeSession(id, "u1")));
  }
  SESSIOND_ASSERT_OK(store_->CreateSession(MakeSession("b1", "u2")));

  SESSIOND_ASSERT_OK_AND_ASSIGN(deleted, store_->DeleteUserSessions("u1", std::string_view("a3")));
  EXPECT_EQ(Sorted(deleted), (std::vector<std::string>{"a1", "a2", "a4"}));
  SESSIOND_ASSERT_OK_AND_ASSIGN(alice, store_->ListUserSessions("u1"));
  EXPECT_EQ(Ids(alice), std::vector<std::string>{"a3"});
  SESSIOND_ASSERT_OK_AND_ASSIGN(kept, store_->FindSessionByTokenHash(FakeTokenHash("a3")));
  EXPECT_TRUE(kept.has_value());
  SESSIOND_ASSERT_OK_AND_ASSIGN(bob, store_->ListUserSessions("u2"));
  EXPECT_EQ(Ids(bob), std::vector<std::string>{"b1"});
}

TEST_P(StoreConformanceTest, DeleteUserSessionsKeepingAnotherUsersSessionDeletesAll) {
  CreateUserOrFail(MakeUser("u1", "alice@example.com"));
  CreateUserOrFail(MakeUser("u2", "bob@example.com"));
  SESSIOND_ASSERT_OK(store_->CreateSession(MakeSession("a1", "u1")));
  SESSIOND_ASSERT_OK(store_->CreateSession(MakeSession("a2", "u1")));
  SESSIOND_ASSERT_OK(store_->CreateSession(MakeSession("b1", "u2")));

  SESSIOND_ASSERT_OK_AND_ASSIGN(deleted, store_->DeleteUserSessions("u1", std::string_view("b1")));
  EXPECT_EQ(Sorted(deleted), (std::vector<std::string>{"a1", "a2"}));
  SESSIOND_ASSERT_OK_AND_ASSIGN(bob, store_->ListUserSessions("u2"));
  EXPECT_EQ(Ids(bob), std::vector<std::string>{"b1"});
}

TEST_P(StoreConformanceTest, DeleteUserSessionsOfUnknownUserReturnsNothing) {
  SESSIOND_ASSERT_OK_AND_ASSIGN(deleted, store_->DeleteUserSessions("nobody", std::nullopt));
  EXPECT_TRUE(deleted.empty());
  SESSIOND_ASSERT_OK_AND_ASSIGN(kept, store_->DeleteUserSessions("nobody", std::string_view("x")));
  EXPECT_TRUE(kept.empty());
}

TEST_P(StoreConformanceTest, DeleteExpiredSessionsDeletesExactlyThoseAtOrBeforeNow) {
  CreateUserOrFail(MakeUser("u1", "alice@example.com"));
  CreateUserOrFail(MakeUser("u2", "bob@example.com"));
  const TimePoint now = clock_.Now();
  const std::vector<std::tuple<std::string, std::string, milliseconds>> sessions = {
      {"long-ago", "u1", -std::chrono::days(30)}, {"just-before", "u2", milliseconds(-1)},
      {"exactly-now", "u1", milliseconds(0)},  // expires_at == now counts as expired.
      {"just-after", "u1", milliseconds(1)},      {"far-future", "u2", std::chrono::days(30)},
  };
  for (const auto& [id, user_id, offset] : sessions) {
    Session session = MakeSession(id, user_id);
    session.expires_at = now + offset;
    SESSIOND_ASSERT_OK(store_->CreateSession(session));
  }

  SESSIOND_ASSERT_OK_AND_ASSIGN(deleted, store_->DeleteExpiredSessions(now));
  EXPECT_EQ(deleted, 3);
  for (const char* id : {"long-ago", "just-before", "exactly-now"}) {
    SESSIOND_ASSERT_OK_AND_ASSIGN(found, store_->FindSessionByTokenHash(FakeTokenHash(id)));
    EXPECT_FALSE(found.has_value()) << id;
  }
  for (const char* id : {"just-after", "far-future"}) {
    SESSIOND_ASSERT_OK_AND_ASSIGN(found, store_->FindSessionByTokenHash(FakeTokenHash(id)));
    EXPECT_TRUE(found.has_value()) << id;
  }
  SESSIOND_ASSERT_OK_AND_ASSIGN(again, store_->DeleteExpiredSessions(now));
  EXPECT_EQ(again, 0);
  SESSIOND_ASSERT_OK_AND_ASSIGN(later, store_->DeleteExpiredSessions(now + milliseconds(1)));
  EXPECT_EQ(later, 1);
}

TEST_P(StoreConformanceTest, DeleteExpiredSessionsOnEmptyStoreReturnsZero) {
  SESSIOND_ASSERT_OK_AND_ASSIGN(deleted, store_->DeleteExpiredSessions(clock_.Now()));
  EXPECT_EQ(deleted, 0);
}

// --- Concurrency ---------------------------------------------------------------------------------

// 8 threads x 200 iterations of create + find (+ touch, list, delete on some iterations) against
// shared users. No call may fail and no row may be lost or left behind.
TEST_P(StoreConformanceTest, ConcurrentSessionTrafficLosesNothing) {
  constexpr int kThreads = 8;
  constexpr int kIterations = 200;
  constexpr int kUsers = 4;  // Two threads per user, so per-user operations interleave.
  for (int u = 0; u < kUsers; ++u) {
    CreateUserOrFail(MakeUser("user" + std::to_string(u), "user" + std::to_string(u) + "@x.io"));
  }

  std::atomic<int> failures{0};
  std::mutex first_failure_mu;
  std::string first_failure;  // Guarded by first_failure_mu.
  auto fail = [&](const std::string& what) {
    if (failures.fetch_add(1) == 0) {
      std::lock_guard lock(first_failure_mu);
      first_failure = what;
    }
  };
  auto error_text = [](const Error& e) {
    return std::to_string(static_cast<int>(e.code)) + " " + e.detail;
  };

  std::latch start(kThreads);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string user_id = "user" + std::to_string(t % kUsers);
      start.arrive_and_wait();
      for (int i = 0; i < kIterations; ++i) {
        const std::string id = Cat({"t", std::to_string(t), "-", std::to_string(i)});
        Session session = MakeSession(id, user_id);
        session.created_at = clock_.Now() + milliseconds(i);
        if (auto r = store_->CreateSession(session); !r) {
          fail("create " + id + ": " + error_text(r.error()));
          continue;
        }
        auto found = store_->FindSessionByTokenHash(session.token_hash);
        if (!found) {
          fail("find " + id + ": " + error_text(found.error()));
        } else if (!found->has_value() || (*found)->session.id != id ||
                   (*found)->user.id != user_id) {
          fail("find " + id + ": wrong or missing row");
        }
        if (i % 5 == 1) {
          auto touched = store_->TouchSession(id, session.expires_at + std::chrono::hours(1),
                                              session.updated_at + milliseconds(1));
          if (!touched || !*touched) fail("touch " + id);
        }
        if (i % 10 == 4) {
          if (auto listed = store_->ListUserSessions(user_id); !listed) {
            fail("list: " + error_text(listed.error()));
          }
          if (auto swept = store_->DeleteExpiredSessions(clock_.Now()); !swept || *swept != 0) {
            fail("sweep deleted live sessions");
          }
        }
        if (i % 3 == 2) {
          auto deleted = store_->DeleteSession(id);
          if (!deleted || *deleted != 1) fail("delete " + id);
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  {
    std::lock_guard lock(first_failure_mu);
    ASSERT_EQ(failures.load(), 0) << "first failure: " << first_failure;
  }

  // Per thread: kIterations created, every third (i % 3 == 2) deleted again.
  constexpr int kDeletedPerThread = kIterations / 3;
  constexpr int kLivePerThread = kIterations - kDeletedPerThread;
  constexpr int kLivePerUser = kLivePerThread * kThreads / kUsers;
  std::int64_t total = 0;
  for (int u = 0; u < kUsers; ++u) {
    const std::string user_id = "user" + std::to_string(u);
    SESSIOND_ASSERT_OK_AND_ASSIGN(listed, store_->ListUserSessions(user_id));
    EXPECT_EQ(listed.size(), static_cast<std::size_t>(kLivePerUser)) << user_id;
    std::set<std::string> unique_ids;
    for (const Session& s : listed) {
      EXPECT_EQ(s.user_id, user_id);
      unique_ids.insert(s.id);
    }
    EXPECT_EQ(unique_ids.size(), listed.size());
    total += static_cast<std::int64_t>(listed.size());
  }
  EXPECT_EQ(total, kLivePerThread * kThreads);
  // Every live row is still there exactly once: sweeping "the end of time" removes them all.
  SESSIOND_ASSERT_OK_AND_ASSIGN(
      swept, store_->DeleteExpiredSessions(clock_.Now() + std::chrono::days(3650)));
  EXPECT_EQ(swept, kLivePerThread * kThreads);
}

TEST_P(StoreConformanceTest, UpdateUserChangesOnlyTheGivenFields) {
  User alice = MakeUser("u1", "alice@example.com");
  alice.image = "https://example.com/a.png";
  CreateUserOrFail(alice, "pw");
  CreateUserOrFail(MakeUser("u2", "bob@example.com"), "pw");
  clock_.Advance(std::chrono::seconds(5));

  SESSIOND_ASSERT_OK_AND_ASSIGN(renamed,
                                store_->UpdateUser("u1", {.name = "Alice B."}, clock_.Now()));
  EXPECT_TRUE(renamed);
  SESSIOND_ASSERT_OK_AND_ASSIGN(after_name, store_->FindUserById("u1"));
  ASSERT_TRUE(after_name.has_value());
  EXPECT_EQ(after_name->name, "Alice B.");
  EXPECT_EQ(after_name->image, alice.image);  // Untouched.
  EXPECT_EQ(after_name->updated_at, clock_.Now());
  EXPECT_EQ(after_name->created_at, alice.created_at);

  SESSIOND_ASSERT_OK_AND_ASSIGN(
      cleared, store_->UpdateUser("u1", {.set_image = true, .image = std::nullopt}, clock_.Now()));
  EXPECT_TRUE(cleared);
  SESSIOND_ASSERT_OK_AND_ASSIGN(after_image, store_->FindUserById("u1"));
  ASSERT_TRUE(after_image.has_value());
  EXPECT_FALSE(after_image->image.has_value());
  EXPECT_EQ(after_image->name, "Alice B.");

  SESSIOND_ASSERT_OK_AND_ASSIGN(bob, store_->FindUserById("u2"));
  ASSERT_TRUE(bob.has_value());
  EXPECT_EQ(bob->name, MakeUser("u2", "bob@example.com").name);

  SESSIOND_ASSERT_OK_AND_ASSIGN(missing, store_->UpdateUser("nobody", {.name = "x"}, clock_.Now()));
  EXPECT_FALSE(missing);
}

namespace {

Verification MakeVerification(const std::string& identifier, const std::string& value,
                              TimePoint now, milliseconds lifetime) {
  return Verification{.id = Cat({"v-", identifier}),
                      .identifier = identifier,
                      .value = value,
                      .expires_at = now + lifetime,
                      .created_at = now};
}

}  // namespace

TEST_P(StoreConformanceTest, ConsumeVerificationReturnsTheRowOnce) {
  const TimePoint now = clock_.Now();
  SESSIOND_ASSERT_OK(store_->CreateVerification(
      MakeVerification("one-time-token:abc", "session-1", now, std::chrono::minutes(3))));

  SESSIOND_ASSERT_OK_AND_ASSIGN(first, store_->ConsumeVerification("one-time-token:abc"));
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->id, "v-one-time-token:abc");
  EXPECT_EQ(first->identifier, "one-time-token:abc");
  EXPECT_EQ(first->value, "session-1");
  EXPECT_EQ(ToUnixMillis(first->expires_at), ToUnixMillis(now + std::chrono::minutes(3)));
  EXPECT_EQ(ToUnixMillis(first->created_at), ToUnixMillis(now));

  SESSIOND_ASSERT_OK_AND_ASSIGN(second, store_->ConsumeVerification("one-time-token:abc"));
  EXPECT_FALSE(second.has_value());
  SESSIOND_ASSERT_OK_AND_ASSIGN(unknown, store_->ConsumeVerification("one-time-token:nope"));
  EXPECT_FALSE(unknown.has_value());
}

TEST_P(StoreConformanceTest, ConsumeVerificationReturnsExpiredRowsToo) {
  const TimePoint now = clock_.Now();
  SESSIOND_ASSERT_OK(
      store_->CreateVerification(MakeVerification("old", "x", now, milliseconds(-1))));
  SESSIOND_ASSERT_OK_AND_ASSIGN(found, store_->ConsumeVerification("old"));
  ASSERT_TRUE(found.has_value());
  EXPECT_LT(found->expires_at, now);
}

TEST_P(StoreConformanceTest, CreateVerificationRejectsADuplicateIdentifier) {
  const TimePoint now = clock_.Now();
  SESSIOND_ASSERT_OK(store_->CreateVerification(MakeVerification("dup", "a", now, seconds(60))));
  Verification again = MakeVerification("dup", "b", now, seconds(60));
  again.id = "another-id";
  auto created = store_->CreateVerification(again);
  ASSERT_FALSE(created.has_value());
  EXPECT_EQ(created.error().code, ErrorCode::kInternal);
  SESSIOND_ASSERT_OK_AND_ASSIGN(kept, store_->ConsumeVerification("dup"));
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(kept->value, "a");
}

TEST_P(StoreConformanceTest, DeleteExpiredVerificationsDeletesExactlyThoseAtOrBeforeNow) {
  const TimePoint now = clock_.Now();
  SESSIOND_ASSERT_OK(store_->CreateVerification(MakeVerification("a", "x", now, seconds(-5))));
  SESSIOND_ASSERT_OK(store_->CreateVerification(MakeVerification("b", "x", now, milliseconds(0))));
  SESSIOND_ASSERT_OK(store_->CreateVerification(MakeVerification("c", "x", now, milliseconds(1))));
  SESSIOND_ASSERT_OK_AND_ASSIGN(deleted, store_->DeleteExpiredVerifications(now));
  EXPECT_EQ(deleted, 2);
  SESSIOND_ASSERT_OK_AND_ASSIGN(a, store_->ConsumeVerification("a"));
  EXPECT_FALSE(a.has_value());
  SESSIOND_ASSERT_OK_AND_ASSIGN(c, store_->ConsumeVerification("c"));
  EXPECT_TRUE(c.has_value());
}

TEST_P(StoreConformanceTest, ConcurrentConsumersGetAVerificationAtMostOnce) {
  constexpr int kTokens = 20;
  constexpr int kThreads = 4;
  const TimePoint now = clock_.Now();
  for (int i = 0; i < kTokens; ++i) {
    SESSIOND_ASSERT_OK(store_->CreateVerification(
        MakeVerification(Cat({"t", std::to_string(i)}), "s", now, seconds(60))));
  }
  std::atomic<int> won{0};
  std::atomic<int> failed{0};
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      for (int i = 0; i < kTokens; ++i) {
        auto got = store_->ConsumeVerification(Cat({"t", std::to_string(i)}));
        if (!got) {
          failed.fetch_add(1);
        } else if (got->has_value()) {
          won.fetch_add(1);
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(won.load(), kTokens);
}

TEST_P(StoreConformanceTest, RevocationsAreListedInSeqOrderAfterTheCursor) {
  const TimePoint t0 = clock_.Now();
  SESSIOND_ASSERT_OK_AND_ASSIGN(empty, store_->ListRevocations(0, 100));
  EXPECT_TRUE(empty.empty());

  const std::vector<std::string> first = {"s1", "s2"};
  SESSIOND_ASSERT_OK(store_->AddRevocations(first, t0));
  SESSIOND_ASSERT_OK(store_->AddRevocations(std::span<const std::string>(), t0));  // No-op.
  const std::vector<std::string> second = {"s3"};
  SESSIOND_ASSERT_OK(store_->AddRevocations(second, t0 + seconds(1)));

  SESSIOND_ASSERT_OK_AND_ASSIGN(all, store_->ListRevocations(0, 100));
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].session_id, "s1");
  EXPECT_EQ(all[1].session_id, "s2");
  EXPECT_EQ(all[2].session_id, "s3");
  EXPECT_GT(all[0].seq, 0);
  EXPECT_LT(all[0].seq, all[1].seq);
  EXPECT_LT(all[1].seq, all[2].seq);
  EXPECT_EQ(ToUnixMillis(all[0].revoked_at), ToUnixMillis(t0));
  EXPECT_EQ(ToUnixMillis(all[2].revoked_at), ToUnixMillis(t0 + seconds(1)));

  SESSIOND_ASSERT_OK_AND_ASSIGN(after_first, store_->ListRevocations(all[0].seq, 100));
  ASSERT_EQ(after_first.size(), 2u);
  EXPECT_EQ(after_first[0].session_id, "s2");
  SESSIOND_ASSERT_OK_AND_ASSIGN(page, store_->ListRevocations(0, 2));
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[1].session_id, "s2");
  SESSIOND_ASSERT_OK_AND_ASSIGN(none, store_->ListRevocations(all[2].seq, 100));
  EXPECT_TRUE(none.empty());
}

TEST_P(StoreConformanceTest, PrunedRevocationSeqsAreNeverReused) {
  const TimePoint t0 = clock_.Now();
  const std::vector<std::string> old_ids = {"old1", "old2"};
  SESSIOND_ASSERT_OK(store_->AddRevocations(old_ids, t0));
  const std::vector<std::string> new_ids = {"new1"};
  SESSIOND_ASSERT_OK(store_->AddRevocations(new_ids, t0 + seconds(10)));
  SESSIOND_ASSERT_OK_AND_ASSIGN(before_prune, store_->ListRevocations(0, 100));
  ASSERT_EQ(before_prune.size(), 3u);

  SESSIOND_ASSERT_OK_AND_ASSIGN(pruned, store_->DeleteRevocationsBefore(t0 + seconds(10)));
  EXPECT_EQ(pruned, 2);
  SESSIOND_ASSERT_OK_AND_ASSIGN(kept, store_->ListRevocations(0, 100));
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].session_id, "new1");

  // Even with every row pruned, a new revocation gets a seq above every one handed out.
  SESSIOND_ASSERT_OK_AND_ASSIGN(all_pruned, store_->DeleteRevocationsBefore(t0 + seconds(11)));
  EXPECT_EQ(all_pruned, 1);
  const std::vector<std::string> later = {"later"};
  SESSIOND_ASSERT_OK(store_->AddRevocations(later, t0 + seconds(12)));
  SESSIOND_ASSERT_OK_AND_ASSIGN(after, store_->ListRevocations(before_prune[2].seq, 100));
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].session_id, "later");
}

}  // namespace sessiond::store::testing
