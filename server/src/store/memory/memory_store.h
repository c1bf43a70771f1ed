// MemoryStore: a Store kept entirely in process memory (hash maps), for unit tests of the layers
// above the store and for throw-away runs. Nothing survives the object. It passes the same
// conformance suite (store/testing/store_conformance.h) as the SQLite backend, so it mirrors the
// SQL schema's constraints: unique user id and email, unique account id and (provider_id,
// account_id), unique session id and token hash, and a session's user must exist.
//
// Thread-safety: every method may be called concurrently from any thread. One std::shared_mutex
// (mu_) guards every map; lookups take it shared, writes take it exclusively, so each method is
// atomic with respect to the others.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/string_map.h"
#include "store/store.h"

namespace sessiond::store {

class MemoryStore final : public Store {
 public:
  MemoryStore() = default;
  MemoryStore(const MemoryStore&) = delete;
  MemoryStore& operator=(const MemoryStore&) = delete;

  // Nothing to migrate; always reports schema version 1 (the SQLite schema it mirrors).
  [[nodiscard]] Result<int> Migrate() override;
  // Always succeeds.
  [[nodiscard]] Result<void> Ping() override;
  [[nodiscard]] Result<void> CreateUser(const User& user, const Account& account) override;
  [[nodiscard]] Result<std::optional<UserWithPassword>> FindUserByEmail(
      std::string_view email) override;
  [[nodiscard]] Result<std::optional<User>> FindUserById(std::string_view user_id) override;
  [[nodiscard]] Result<bool> UpdateUser(std::string_view user_id, const UserUpdate& update,
                                        TimePoint now) override;
  [[nodiscard]] Result<bool> UpdatePasswordHash(std::string_view user_id,
                                                std::string_view password_hash,
                                                TimePoint now) override;
  [[nodiscard]] Result<void> CreateSession(const Session& session) override;
  [[nodiscard]] Result<std::optional<SessionWithUser>> FindSessionByTokenHash(
      std::string_view token_hash) override;
  [[nodiscard]] Result<bool> TouchSession(std::string_view session_id, TimePoint expires_at,
                                          TimePoint updated_at) override;
  [[nodiscard]] Result<int> DeleteSession(std::string_view session_id) override;
  [[nodiscard]] Result<std::vector<Session>> ListUserSessions(std::string_view user_id) override;
  [[nodiscard]] Result<std::vector<std::string>> DeleteUserSessions(
      std::string_view user_id, std::optional<std::string_view> keep_session_id) override;
  // A linear scan over all sessions: fine for tests, not meant for millions of rows.
  [[nodiscard]] Result<std::int64_t> DeleteExpiredSessions(TimePoint now) override;
  [[nodiscard]] Result<void> CreateVerification(const Verification& verification) override;
  [[nodiscard]] Result<std::optional<Verification>> ConsumeVerification(
      std::string_view identifier) override;
  [[nodiscard]] Result<std::int64_t> DeleteExpiredVerifications(TimePoint now) override;
  [[nodiscard]] Result<void> AddRevocations(std::span<const std::string> session_ids,
                                            TimePoint at) override;
  [[nodiscard]] Result<std::vector<Revocation>> ListRevocations(std::int64_t after_seq,
                                                                std::size_t limit) override;
  [[nodiscard]] Result<std::int64_t> DeleteRevocationsBefore(TimePoint before) override;

 private:
  // A user and the one account CreateUser stored with it.
  struct UserRecord {
    User user;
    Account account;
  };

  // Erases one session from every index. Requires mu_ held exclusively.
  void EraseSessionLocked(const Session& session);

  mutable std::shared_mutex mu_;
  // All members below are guarded by mu_.
  StringMap<UserRecord> users_by_id_;
  StringMap<std::string> user_id_by_email_;
  StringSet account_ids_;            // Every Account::id (the SQL primary key).
  StringSet account_provider_keys_;  // provider_id + '\n' + account_id (the SQL UNIQUE pair).
  StringMap<Session> sessions_by_id_;
  StringMap<std::string> session_id_by_token_hash_;
  StringMap<StringSet> session_ids_by_user_;  // Only users with at least one session.
  StringMap<Verification> verifications_;     // By identifier.
  StringSet verification_ids_;
  std::vector<Revocation> revocations_;  // In seq order.
  std::int64_t last_revocation_seq_ = 0;
};

}  // namespace sessiond::store
