// The session core: sign-up, sign-in, validation with sliding expiry, sign-out and the sweep of
// expired rows. It knows no HTTP and no SQL: transports call it with plain values, it talks to
// storage only through store::Store, and reads time and randomness only from the injected
// Clock and Random, so tests drive expiry exactly (see session_service_test.cc).
//
// Thread-safety: all methods are safe to call concurrently; the service holds no mutable state
// besides the lazily made dummy password hash (guarded by std::call_once).
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/error.h"
#include "common/random.h"
#include "crypto/password_hasher.h"
#include "store/store.h"

namespace sessiond::session {

struct SessionOptions {
  seconds expires_in{604'800};               // Lifetime of a remembered session (7 days).
  seconds update_age{86'400};                // Renew when this much of the lifetime has passed.
  seconds dont_remember_expires_in{86'400};  // Lifetime with rememberMe:false (1 day).
  std::uint32_t min_password_length = 8;
  std::uint32_t max_password_length = 128;
  std::size_t max_user_agent_length = 512;
  std::size_t max_name_length = 256;
  std::size_t max_image_length = 2048;
  // No session lives past created_at + this, however active (0 = no bound).
  seconds absolute_lifetime{0};
  // Key for revocation handles (RevocationHandle). Derived from the server secret by the app.
  std::string handle_key;
  // Turns a User-Agent string into the JSON stored with the session (made once at sign-in).
  // Unset: nothing is stored.
  std::function<std::string(std::string_view)> describe_user_agent;
};

// Where a request came from, recorded on the session row.
struct ClientInfo {
  std::string ip_address;
  std::string user_agent;
};

struct SignUpRequest {
  std::string email;
  std::string password;
  std::string name;
  std::optional<std::string> image;
  bool remember_me = true;
};

struct SignInRequest {
  std::string email;
  std::string password;
  bool remember_me = true;
};

// A session just created. `token` is the raw secret, handed to the client once and never
// stored (the row holds its hash).
struct NewSession {
  std::string token;
  store::Session session;
  store::User user;
};

// A session that validated. `renewed` is true when this validation slid its expiry, so the
// transport should re-send the credential with the new lifetime.
struct ActiveSession {
  store::Session session;
  store::User user;
  bool renewed = false;
};

// Length of UTF-8 text in UTF-16 code units (JavaScript's String.length), the unit Better Auth's
// password length rules use. Bytes that are not valid UTF-8 count as one unit each.
[[nodiscard]] std::size_t Utf16Length(std::string_view utf8);

class SessionService {
 public:
  // All references must outlive the service.
  SessionService(store::Store& store, const crypto::PasswordHasher& hasher, const Clock& clock,
                 Random& random, SessionOptions options);

  // Creates a user with an email+password credential and signs them in.
  // Errors: kInvalidEmail, kPasswordTooShort, kPasswordTooLong, kValidation (name/image),
  // kUserAlreadyExists, kServiceUnavailable.
  [[nodiscard]] Result<NewSession> SignUp(const SignUpRequest& request, const ClientInfo& client);

  // Checks the password and starts a new session with a new token (a token the client already
  // had is never adopted). kInvalidEmail for a malformed address. Unknown email and wrong
  // password both give
  // kInvalidEmailOrPassword after the same amount of hashing work. A hash with parameters
  // weaker than the configured ones is replaced.
  [[nodiscard]] Result<NewSession> SignIn(const SignInRequest& request, const ClientInfo& client);

  // The live session for a raw token, or nullopt when there is none (unknown, malformed or
  // expired — an expired row is deleted on the way). Slides the expiry when the session is due
  // (see docs/architecture.md "Sliding expiry").
  [[nodiscard]] Result<std::optional<ActiveSession>> Validate(std::string_view token);

  // Ends the session with that raw token. Succeeds when there is none.
  [[nodiscard]] Result<void> SignOut(std::string_view token);

  // The user's live sessions, newest first.
  [[nodiscard]] Result<std::vector<store::Session>> ListSessions(std::string_view user_id);

  // Ends one of the user's own sessions, named by its revocation handle or its raw token.
  // Anything else (another user's session, an unknown value) changes nothing and still
  // succeeds, as Better Auth answers. Returns the id of the session ended, if one was.
  [[nodiscard]] Result<std::optional<std::string>> RevokeSession(std::string_view user_id,
                                                                 std::string_view handle_or_token);

  // Ends every session of the user except `keep_session_id` (when given). Returns the count.
  [[nodiscard]] Result<int> RevokeSessions(std::string_view user_id,
                                           std::optional<std::string_view> keep_session_id);

  // Checks `current_password`, stores a hash of `new_password`, and replaces the calling session
  // with a new one (a new token: whoever held the old one is out). With `revoke_others`, every
  // other session of the user ends too. Errors: kInvalidPassword (wrong current password),
  // kPasswordTooShort / kPasswordTooLong, kServiceUnavailable.
  [[nodiscard]] Result<NewSession> ChangePassword(const ActiveSession& caller,
                                                  std::string_view current_password,
                                                  std::string_view new_password, bool revoke_others,
                                                  const ClientInfo& client);

  // Changes the user's name and/or image. kValidation for over-long values.
  [[nodiscard]] Result<store::User> UpdateUser(std::string_view user_id,
                                               const store::UserUpdate& update);

  // Deletes every expired session row. Returns how many went.
  [[nodiscard]] Result<std::int64_t> SweepExpired();

  // A stable public handle for a session: names it (for revocation) but authenticates nothing.
  // base64url(HMAC-SHA256(handle_key, session id)), 43 characters.
  [[nodiscard]] std::string RevocationHandle(const store::Session& session) const;

  [[nodiscard]] const SessionOptions& options() const { return options_; }

 private:
  [[nodiscard]] Result<NewSession> StartSession(store::User user, bool remember_me,
                                                const ClientInfo& client);
  // When a session of this kind created at `created_at` must end if not renewed, from `now`.
  [[nodiscard]] TimePoint ExpiryFrom(TimePoint now, TimePoint created_at, bool remember_me) const;
  [[nodiscard]] seconds LifetimeOf(bool remember_me) const;
  [[nodiscard]] Result<void> CheckPassword(std::string_view password) const;
  // Verifies against a fixed dummy hash so a sign-in for an unknown email costs what a real one
  // does.
  void BurnDummyVerify(std::string_view password) const;

  store::Store& store_;
  const crypto::PasswordHasher& hasher_;
  const Clock& clock_;
  Random& random_;
  SessionOptions options_;
  mutable std::once_flag dummy_once_;
  mutable std::string dummy_hash_;  // Written once under dummy_once_.
};

}  // namespace sessiond::session
