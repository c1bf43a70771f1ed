// The storage interface the session core is written against. Backends: memory/ (tests),
// sqlite/ (the embedded default), and later postgres/. Every backend passes the one
// conformance suite in testing/store_conformance.h.
//
// Contract shared by all methods:
//  * Thread-safe: any method may be called from any thread concurrently.
//  * Failures of the backend itself (I/O, busy, connection lost) return
//    ErrorCode::kServiceUnavailable; broken invariants return kInternal. "Not found" is not an
//    error: lookups return std::nullopt, deletes return how many rows went.
//  * Emails are stored and compared in the lower-case form the caller passes; the store does not
//    fold case itself (the session core normalises before calling).
//  * Raw session tokens never reach the store: only `token_hash` (lower-case hex SHA-256).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/error.h"

namespace sessiond::store {

struct User {
  std::string id;
  std::string email;  // Lower-case.
  std::string name;
  std::optional<std::string> image;
  bool email_verified = false;
  TimePoint created_at;
  TimePoint updated_at;
};

// A sign-in method of a user; for email+password, provider_id == "credential" and
// account_id == user_id, as Better Auth stores it.
struct Account {
  std::string id;
  std::string user_id;
  std::string account_id;
  std::string provider_id;
  std::string password_hash;  // argon2id PHC string; empty for non-password providers.
  TimePoint created_at;
  TimePoint updated_at;
};

struct Session {
  std::string id;
  std::string user_id;
  std::string token_hash;  // Lower-case hex SHA-256 of the raw token. Unique.
  TimePoint expires_at;
  std::string ip_address;  // May be empty.
  std::string user_agent;  // May be empty; bounded by the caller.
  // The user agent parsed once at sign-in, as JSON text (Agnost's shape); "" when unknown. The
  // store keeps it opaque.
  std::string user_agent_parsed;
  bool remember_me = true;  // false: browser-session cookie and the short lifetime.
  TimePoint created_at;
  TimePoint updated_at;
};

// Fields of a user that may change; unset members stay as they are.
struct UserUpdate {
  std::optional<std::string> name;
  bool set_image = false;  // When true, image becomes `image` (nullopt: cleared).
  std::optional<std::string> image;
};

struct SessionWithUser {
  Session session;
  User user;
};

struct UserWithPassword {
  User user;
  std::string password_hash;  // From the user's "credential" account.
};

// A single-use secret such as a one-time token (Better Auth's "verification" table). The secret
// itself is never stored: `identifier` carries a hash of it.
struct Verification {
  std::string id;
  std::string identifier;  // Unique, e.g. "one-time-token:<hex SHA-256 of the token>".
  std::string value;       // What the secret stands for, e.g. a session id.
  TimePoint expires_at;
  TimePoint created_at;
};

// A session ended before its time, kept so that verifiers of stateless access tokens (JWTs that
// name the session in `sid`) can refuse them (GET /api/auth/revocations).
struct Revocation {
  std::int64_t seq = 0;  // Assigned by the store: > 0, strictly increasing in commit order.
  std::string session_id;
  TimePoint revoked_at;
};

class Store {
 public:
  virtual ~Store() = default;

  // Creates the schema or brings it up to date (idempotent). Returns the schema version now in
  // force.
  [[nodiscard]] virtual Result<int> Migrate() = 0;

  // Cheap liveness check of the backend (for /readyz).
  [[nodiscard]] virtual Result<void> Ping() = 0;

  // Inserts the user and its credential account atomically. kUserAlreadyExists when the email
  // is taken (nothing is written then).
  [[nodiscard]] virtual Result<void> CreateUser(const User& user, const Account& account) = 0;

  // The user with that (lower-case) email and its credential password hash, if any.
  [[nodiscard]] virtual Result<std::optional<UserWithPassword>> FindUserByEmail(
      std::string_view email) = 0;

  [[nodiscard]] virtual Result<std::optional<User>> FindUserById(std::string_view user_id) = 0;

  // Replaces the credential account's password hash. Returns false if the user has none.
  [[nodiscard]] virtual Result<bool> UpdatePasswordHash(std::string_view user_id,
                                                        std::string_view password_hash,
                                                        TimePoint now) = 0;

  // Applies `update` and sets updated_at = now. Returns false if there is no such user.
  [[nodiscard]] virtual Result<bool> UpdateUser(std::string_view user_id, const UserUpdate& update,
                                                TimePoint now) = 0;

  // Inserts a session. kInternal if the id or token_hash collides (never expected: both random).
  [[nodiscard]] virtual Result<void> CreateSession(const Session& session) = 0;

  // The session with that token hash and its user, expired or not (the core decides).
  [[nodiscard]] virtual Result<std::optional<SessionWithUser>> FindSessionByTokenHash(
      std::string_view token_hash) = 0;

  // Sets expires_at and updated_at. Returns false if the session no longer exists.
  [[nodiscard]] virtual Result<bool> TouchSession(std::string_view session_id, TimePoint expires_at,
                                                  TimePoint updated_at) = 0;

  // Deletes one session by id. Returns the number of rows deleted (0 or 1).
  [[nodiscard]] virtual Result<int> DeleteSession(std::string_view session_id) = 0;

  // All sessions of a user, newest (created_at) first, expired ones included.
  [[nodiscard]] virtual Result<std::vector<Session>> ListUserSessions(std::string_view user_id) = 0;

  // Deletes every session of the user except `keep_session_id` (if given). Returns the ids of the
  // sessions deleted, in no particular order.
  [[nodiscard]] virtual Result<std::vector<std::string>> DeleteUserSessions(
      std::string_view user_id, std::optional<std::string_view> keep_session_id) = 0;

  // Deletes sessions with expires_at <= now. Returns the count.
  [[nodiscard]] virtual Result<std::int64_t> DeleteExpiredSessions(TimePoint now) = 0;

  // Inserts a verification. kInternal if the id or identifier collides (never expected: random).
  [[nodiscard]] virtual Result<void> CreateVerification(const Verification& verification) = 0;

  // Deletes the verification with that identifier and returns it, expired or not (the core
  // decides). Atomic: of any number of concurrent callers, at most one gets the row, which is
  // what makes a one-time token single-use.
  [[nodiscard]] virtual Result<std::optional<Verification>> ConsumeVerification(
      std::string_view identifier) = 0;

  // Deletes verifications with expires_at <= now. Returns the count.
  [[nodiscard]] virtual Result<std::int64_t> DeleteExpiredVerifications(TimePoint now) = 0;

  // Records that these sessions were revoked at `at`, each under a new seq (in the order given).
  // An empty span writes nothing.
  [[nodiscard]] virtual Result<void> AddRevocations(std::span<const std::string> session_ids,
                                                    TimePoint at) = 0;

  // Revocations with seq > `after_seq`, lowest seq first, at most `limit` of them. A reader that
  // passes the last seq it saw never misses a later commit (seq order is commit order).
  [[nodiscard]] virtual Result<std::vector<Revocation>> ListRevocations(std::int64_t after_seq,
                                                                        std::size_t limit) = 0;

  // Deletes revocations with revoked_at < before. Returns the count.
  [[nodiscard]] virtual Result<std::int64_t> DeleteRevocationsBefore(TimePoint before) = 0;
};

}  // namespace sessiond::store
