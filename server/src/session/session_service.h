// The session core: sign-up, sign-in, validation with sliding expiry, sign-out and the sweep of
// expired rows. It knows no HTTP and no SQL: transports call it with plain values, it talks to
// storage only through store::Store, and reads time and randomness only from the injected
// Clock and Random, so tests drive expiry exactly (see session_service_test.cc).
//
// Thread-safety: all methods are safe to call concurrently; the service's only mutable state is
// the lazily made dummy password hash (guarded by std::call_once), the thread-safe
// RecentRevocations and SessionCache, and the atomic caches-trusted flag.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/error.h"
#include "common/random.h"
#include "crypto/password_hasher.h"
#include "session/recent_revocations.h"
#include "session/session_cache.h"
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
  // A session unused this long ends (0 = off). Activity is recorded by moving the row's
  // updated_at, at most once per min(update_age, idle_timeout / 10) so that validation does not
  // write on every request; a session therefore ends after between 0.9x and 1x this much
  // inactivity (docs/configuration.md, "Idle timeout").
  seconds idle_timeout{0};
  // Key for revocation handles (RevocationHandle). Derived from the server secret by the app.
  std::string handle_key;
  // Turns a User-Agent string into the JSON stored with the session (made once at sign-in).
  // Unset: nothing is stored.
  std::function<std::string(std::string_view)> describe_user_agent;
  // How long a revocation stays in the feed (GET /api/auth/revocations) and in memory
  // (IsRevoked). Must cover the longest access-token lifetime and the cookie-cache age, so that
  // nothing that still vouches for a revoked session outlives the record of its revocation.
  seconds revocation_retention{960};
  // Lifetime of a one-time token (Better Auth's default: 3 minutes).
  seconds one_time_token_lifetime{180};
  // The in-process session cache (see Validate): off unless enabled. An entry answers for at
  // most cache_max_age after its store read, so what no revocation changes (a user's name or
  // image updated through another replica, a row edited behind sessiond's back) is stale here
  // for at most that long. revocation_retention must exceed cache_max_age.
  bool cache_enabled = false;
  milliseconds cache_max_age{5000};
  std::size_t cache_max_entries = 50'000;
};

// Where Validate may take its answer from.
enum class ReadFrom {
  kCacheOrStore,  // The in-process cache when it may answer (see Validate), else the store.
  kStore,         // The store, always (Better Auth's ?disableCookieCache=true). Refills the cache.
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

  // The live session for a raw token, or nullopt when there is none (unknown, malformed,
  // expired, idle for idle_timeout or older than absolute_lifetime — such a row is deleted on the
  // way). Slides the expiry when the session is due (see docs/architecture.md "Sliding expiry")
  // and records activity for the idle timeout; either is one write, and most validations make
  // none.
  // With the cache enabled and `from` kCacheOrStore, an entry of the in-process cache answers
  // without the store when the caches are trusted (caches_trusted()), the entry is younger than
  // options().cache_max_age, and CanAnswerFromCopy accepts it (not revoked, not dead, no renewal
  // and no activity record due); otherwise the store answers and its answer is cached.
  [[nodiscard]] Result<std::optional<ActiveSession>> Validate(
      std::string_view token, ReadFrom from = ReadFrom::kCacheOrStore);

  // Whether `copy`, a session as an earlier Validate returned it (e.g. kept in the signed
  // cookie cache), may answer a validation now without reading the store: it is not revoked
  // (IsRevoked), not expired, idle or past the absolute bound, and Validate would write nothing
  // for it now (no renewal and no activity record due). So the answer is the one Validate would
  // give unless the row changed meanwhile by a path other than revocation. Always false while
  // the caches are not trusted (set_caches_trusted). False means: call Validate.
  [[nodiscard]] bool CanAnswerFromCopy(const store::Session& copy) const;

  // Whether answers from copies (the in-process cache, the cookie cache) are allowed. The
  // revocation follower clears it while this process may be missing revocations made by other
  // processes (its notification connection is down, or the feed cannot be read) and sets it once
  // it has caught up; while false, every validation reads the store. True initially.
  void set_caches_trusted(bool trusted) {
    caches_trusted_.store(trusted, std::memory_order_release);
  }
  [[nodiscard]] bool caches_trusted() const {
    return caches_trusted_.load(std::memory_order_acquire);
  }

  // The in-process cache, or nullptr when options().cache_enabled is false. For diagnostics
  // and tests.
  [[nodiscard]] const SessionCache* cache() const { return cache_.get(); }

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

  // Deletes every expired session row (and expired one-time tokens, and revocations past their
  // retention). Returns how many sessions went.
  [[nodiscard]] Result<std::int64_t> SweepExpired();

  // A single-use token standing for `caller`'s session (Better Auth's one-time-token plugin):
  // 256 random bits, only its hash stored, valid for options().one_time_token_lifetime.
  [[nodiscard]] Result<std::string> CreateOneTimeToken(const ActiveSession& caller);

  // Spends a one-time token: a new session for the user whose session made it. The token is gone
  // after the first attempt, whatever its outcome. Errors: kInvalidToken (unknown, malformed or
  // already used), kTokenExpired, kSessionNotFound (the session that made it has ended).
  [[nodiscard]] Result<NewSession> RedeemOneTimeToken(std::string_view token,
                                                      const ClientInfo& client);

  // True when the session was revoked (signed out, revoked, replaced) within the retention
  // window, as recorded in this process or reported by a peer (NoteRevoked). Answers from
  // memory: for paths that skip the database.
  [[nodiscard]] bool IsRevoked(std::string_view session_id) const {
    return recent_.Contains(session_id);
  }

  // Whether the store still holds a live session `session_id` of `user_id` (one indexed read).
  // For paths that normally answer from memory (an access token's IsRevoked check) while
  // caches_trusted() is false.
  [[nodiscard]] Result<bool> IsSessionLive(std::string_view user_id, std::string_view session_id);

  // Records revocations made elsewhere (another replica) in memory, for IsRevoked and listeners,
  // and drops those sessions from the in-process cache.
  void NoteRevoked(std::span<const std::string> session_ids, TimePoint at) {
    if (cache_) cache_->EraseSessions(session_ids);
    recent_.Add(session_ids, at);
  }

  // The in-memory record behind IsRevoked; subscribe to hear of each revocation as it happens.
  [[nodiscard]] RecentRevocations& recent_revocations() { return recent_; }

  // Revocations after the cursor `after_seq`, oldest first, at most `limit` (the feed).
  [[nodiscard]] Result<std::vector<store::Revocation>> RevocationsSince(std::int64_t after_seq,
                                                                        std::size_t limit);

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
  // Expired, idle for idle_timeout, or at its absolute bound at `now`: no longer a session.
  [[nodiscard]] bool IsDead(const store::Session& session, TimePoint now) const;
  // When a validation at `now` slides the expiry: Better Auth's updateAge rule, and only if that
  // moves the expiry forward (not once the absolute bound caps it).
  [[nodiscard]] bool RenewalDue(const store::Session& session, TimePoint now) const;
  // When a validation at `now` must record activity for the idle timeout (updated_at := now).
  [[nodiscard]] bool ActivityDue(const store::Session& session, TimePoint now) const;
  // CanAnswerFromCopy at `now`.
  [[nodiscard]] bool CopyAnswersAt(const store::Session& copy, TimePoint now) const;
  [[nodiscard]] Result<void> CheckPassword(std::string_view password) const;
  // Writes the revocations to the store's feed and to memory. Called before the rows go where
  // the ids are known beforehand, so a failure leaves the sessions alive rather than
  // unrecorded.
  [[nodiscard]] Result<void> RecordRevoked(std::span<const std::string> session_ids);
  // Records the session as revoked, then deletes it (RecordRevoked says why in that order).
  [[nodiscard]] Result<void> EndSession(const std::string& session_id);
  // Deletes the user's sessions but `keep`, recording each as revoked. Returns the count.
  [[nodiscard]] Result<int> EndUserSessions(std::string_view user_id,
                                            std::optional<std::string_view> keep);
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
  RecentRevocations recent_;
  std::unique_ptr<SessionCache> cache_;  // Null when options_.cache_enabled is false.
  std::atomic<bool> caches_trusted_{true};
};

}  // namespace sessiond::session
