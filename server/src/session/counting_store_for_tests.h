// Test-only: a Store that forwards every call to another one (normally a MemoryStore), counts the
// calls the session cache and the revocation follower are judged by, and can be told to fail the
// revocation feed (ListRevocations) as an unreachable database would.
#pragma once

#include <atomic>

#include "store/store.h"

namespace sessiond::session::testing {

class CountingStore final : public store::Store {
 public:
  explicit CountingStore(store::Store& inner) : inner_(inner) {}

  std::atomic<int> find_session_calls{0};
  std::atomic<int> touch_calls{0};
  std::atomic<int> list_revocations_calls{0};
  std::atomic<bool> fail_list_revocations{false};

  Result<int> Migrate() override { return inner_.Migrate(); }
  Result<void> Ping() override { return inner_.Ping(); }
  Result<void> CreateUser(const store::User& user, const store::Account& account) override {
    return inner_.CreateUser(user, account);
  }
  Result<std::optional<store::UserWithPassword>> FindUserByEmail(std::string_view email) override {
    return inner_.FindUserByEmail(email);
  }
  Result<std::optional<store::User>> FindUserById(std::string_view user_id) override {
    return inner_.FindUserById(user_id);
  }
  Result<bool> UpdatePasswordHash(std::string_view user_id, std::string_view password_hash,
                                  TimePoint now) override {
    return inner_.UpdatePasswordHash(user_id, password_hash, now);
  }
  Result<bool> UpdateUser(std::string_view user_id, const store::UserUpdate& update,
                          TimePoint now) override {
    return inner_.UpdateUser(user_id, update, now);
  }
  Result<void> CreateSession(const store::Session& session) override {
    return inner_.CreateSession(session);
  }
  Result<std::optional<store::SessionWithUser>> FindSessionByTokenHash(
      std::string_view token_hash) override {
    ++find_session_calls;
    return inner_.FindSessionByTokenHash(token_hash);
  }
  Result<bool> TouchSession(std::string_view session_id, TimePoint expires_at,
                            TimePoint updated_at) override {
    ++touch_calls;
    return inner_.TouchSession(session_id, expires_at, updated_at);
  }
  Result<int> DeleteSession(std::string_view session_id) override {
    return inner_.DeleteSession(session_id);
  }
  Result<std::vector<store::Session>> ListUserSessions(std::string_view user_id) override {
    return inner_.ListUserSessions(user_id);
  }
  Result<std::vector<std::string>> DeleteUserSessions(
      std::string_view user_id, std::optional<std::string_view> keep_session_id) override {
    return inner_.DeleteUserSessions(user_id, keep_session_id);
  }
  Result<std::int64_t> DeleteExpiredSessions(TimePoint now) override {
    return inner_.DeleteExpiredSessions(now);
  }
  Result<void> CreateVerification(const store::Verification& verification) override {
    return inner_.CreateVerification(verification);
  }
  Result<std::optional<store::Verification>> ConsumeVerification(
      std::string_view identifier) override {
    return inner_.ConsumeVerification(identifier);
  }
  Result<std::int64_t> DeleteExpiredVerifications(TimePoint now) override {
    return inner_.DeleteExpiredVerifications(now);
  }
  Result<void> AddRevocations(std::span<const std::string> session_ids, TimePoint at) override {
    return inner_.AddRevocations(session_ids, at);
  }
  Result<std::vector<store::Revocation>> ListRevocations(std::int64_t after_seq,
                                                         std::size_t limit) override {
    ++list_revocations_calls;
    if (fail_list_revocations) return Fail(ErrorCode::kServiceUnavailable, "test: feed down");
    return inner_.ListRevocations(after_seq, limit);
  }
  Result<std::int64_t> DeleteRevocationsBefore(TimePoint before) override {
    return inner_.DeleteRevocationsBefore(before);
  }

 private:
  store::Store& inner_;
};

}  // namespace sessiond::session::testing
