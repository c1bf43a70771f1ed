#include "session/session_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "crypto/crypto.h"
#include "session/email.h"
#include "token/session_token.h"

namespace sessiond::session {
namespace {

// Cuts `s` to at most `max` bytes and replaces bytes that are not valid UTF-8 with U+FFFD, so
// whatever a client sent as User-Agent can be stored and rendered as JSON safely.
std::string SanitizeUtf8(std::string_view s, std::size_t max) {
  std::string out;
  out.reserve(std::min(s.size(), max));
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    if (c < 0x80) {
      len = 1;
    } else if ((c & 0xE0) == 0xC0 && c >= 0xC2) {
      len = 2;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
    } else if ((c & 0xF8) == 0xF0 && c <= 0xF4) {
      len = 4;
    }
    bool ok = len > 0 && i + len <= s.size();
    for (std::size_t k = 1; ok && k < len; ++k) {
      ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    }
    // Reject overlong 3-byte forms, UTF-16 surrogates and code points above U+10FFFF.
    if (ok && len == 3) {
      const auto c1 = static_cast<unsigned char>(s[i + 1]);
      ok = !(c == 0xE0 && c1 < 0xA0) && !(c == 0xED && c1 >= 0xA0);
    }
    if (ok && len == 4) {
      const auto c1 = static_cast<unsigned char>(s[i + 1]);
      ok = !(c == 0xF0 && c1 < 0x90) && !(c == 0xF4 && c1 >= 0x90);
    }
    const std::string_view piece = ok ? s.substr(i, len) : std::string_view("\xEF\xBF\xBD");
    if (out.size() + piece.size() > max) break;
    // Control characters other than tab have no business in a user agent.
    if (len == 1 && ok && c < 0x20 && c != '\t') {
      out += "\xEF\xBF\xBD";
    } else {
      out += piece;
    }
    i += ok ? len : 1;
  }
  return out;
}

}  // namespace

std::size_t Utf16Length(std::string_view utf8) {
  std::size_t units = 0;
  for (const char ch : utf8) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c & 0xC0) != 0x80) ++units;  // Every lead byte (or ASCII byte) starts a code point.
    if (c >= 0xF0) ++units;           // 4-byte sequences are astral: a surrogate pair in UTF-16.
  }
  return units;
}

SessionService::SessionService(store::Store& store, const crypto::PasswordHasher& hasher,
                               const Clock& clock, Random& random, SessionOptions options)
    : store_(store),
      hasher_(hasher),
      clock_(clock),
      random_(random),
      options_(std::move(options)),
      recent_(options_.revocation_retention) {
  if (options_.cache_enabled) {
    cache_ = std::make_unique<SessionCache>(options_.cache_max_entries, options_.cache_max_age);
  }
}

seconds SessionService::LifetimeOf(bool remember_me) const {
  return remember_me ? options_.expires_in : options_.dont_remember_expires_in;
}

TimePoint SessionService::ExpiryFrom(TimePoint now, TimePoint created_at, bool remember_me) const {
  const TimePoint sliding = now + LifetimeOf(remember_me);
  if (options_.absolute_lifetime.count() <= 0) return sliding;
  return std::min(sliding, created_at + options_.absolute_lifetime);
}

bool SessionService::IsDead(const store::Session& session, TimePoint now) const {
  if (session.expires_at <= now) return true;
  // Also checked here, not only folded into expires_at by ExpiryFrom: a row written while the
  // bound was longer (or off) ends on time once it is lowered.
  if (options_.absolute_lifetime.count() > 0 &&
      now >= session.created_at + options_.absolute_lifetime) {
    return true;
  }
  // updated_at is the last recorded activity (see ActivityDue).
  return options_.idle_timeout.count() > 0 && now - session.updated_at >= options_.idle_timeout;
}

bool SessionService::RenewalDue(const store::Session& session, TimePoint now) const {
  // Better Auth's rule: renew once updateAge has passed since the expiry was last set, i.e.
  // when now >= expires_at - lifetime + updateAge. For short (rememberMe:false) lifetimes the
  // update age is capped at half the lifetime so an active session can still slide.
  const seconds lifetime = LifetimeOf(session.remember_me);
  const seconds update_age = std::min(options_.update_age, lifetime / 2);
  // Renewal never moves the expiry back, and stops once the absolute bound is reached.
  return now >= session.expires_at - lifetime + update_age &&
         ExpiryFrom(now, session.created_at, session.remember_me) > session.expires_at;
}

bool SessionService::ActivityDue(const store::Session& session, TimePoint now) const {
  if (options_.idle_timeout.count() <= 0) return false;
  // Recording every request would make validation a write. Recording once per interval means the
  // last real activity is less than one interval after updated_at, so a session dies after
  // between (idle_timeout - interval) and idle_timeout of inactivity: 0.9x to 1x with the tenth.
  const milliseconds interval =
      std::min<milliseconds>(options_.update_age, milliseconds(options_.idle_timeout) / 10);
  return now - session.updated_at >= interval;
}

bool SessionService::CanAnswerFromCopy(const store::Session& copy) const {
  return CopyAnswersAt(copy, clock_.Now());
}

bool SessionService::CopyAnswersAt(const store::Session& copy, TimePoint now) const {
  return caches_trusted() && !IsRevoked(copy.id) && !IsDead(copy, now) && !RenewalDue(copy, now) &&
         !ActivityDue(copy, now);
}

Result<void> SessionService::CheckPassword(std::string_view password) const {
  // Better Auth checks JavaScript's String.length, i.e. UTF-16 code units; count the same way
  // so the same password is accepted by both.
  const std::size_t length = Utf16Length(password);
  if (length < options_.min_password_length) {
    return Fail(ErrorCode::kPasswordTooShort, "password below minimum length");
  }
  if (length > options_.max_password_length) {
    return Fail(ErrorCode::kPasswordTooLong, "password above maximum length");
  }
  return {};
}

void SessionService::BurnDummyVerify(std::string_view password) const {
  std::call_once(dummy_once_, [this] {
    auto hash = hasher_.Hash("sessiond-dummy-password-for-equal-timing");
    dummy_hash_ = hash.has_value() ? std::move(*hash) : std::string();
  });
  (void)hasher_.Verify(dummy_hash_, password);
}

Result<NewSession> SessionService::SignUp(const SignUpRequest& request, const ClientInfo& client) {
  const std::string email = NormalizeEmail(request.email);
  if (!IsValidEmail(email)) return Fail(ErrorCode::kInvalidEmail, "sign-up: invalid email");
  if (auto ok = CheckPassword(request.password); !ok) return std::unexpected(ok.error());
  if (request.name.size() > options_.max_name_length) {
    return Fail(ErrorCode::kValidation, "sign-up: name too long");
  }
  if (request.image && request.image->size() > options_.max_image_length) {
    return Fail(ErrorCode::kValidation, "sign-up: image too long");
  }
  // Cheap pre-check so a taken email does not cost a password hash; CreateUser's unique
  // constraint is still what guarantees no duplicate under races.
  auto existing = store_.FindUserByEmail(email);
  if (!existing) return std::unexpected(existing.error());
  if (existing->has_value()) {
    return Fail(ErrorCode::kUserAlreadyExists, "sign-up: email taken");
  }
  auto hash = hasher_.Hash(request.password);
  if (!hash) return std::unexpected(hash.error());

  const TimePoint now = clock_.Now();
  store::User user{.id = RandomId(random_),
                   .email = email,
                   .name = request.name,
                   .image = request.image,
                   .email_verified = false,
                   .created_at = now,
                   .updated_at = now};
  store::Account account{.id = RandomId(random_),
                         .user_id = user.id,
                         .account_id = user.id,
                         .provider_id = "credential",
                         .password_hash = std::move(*hash),
                         .created_at = now,
                         .updated_at = now};
  if (auto created = store_.CreateUser(user, account); !created) {
    return std::unexpected(created.error());
  }
  return StartSession(std::move(user), request.remember_me, client);
}

Result<NewSession> SessionService::SignIn(const SignInRequest& request, const ClientInfo& client) {
  const std::string email = NormalizeEmail(request.email);
  // As Better Auth: a malformed address is a 400, not a failed sign-in (it reveals nothing).
  if (!IsValidEmail(email)) return Fail(ErrorCode::kInvalidEmail, "sign-in: invalid email");
  auto found = store_.FindUserByEmail(email);
  if (!found) return std::unexpected(found.error());
  if (!found->has_value() || (*found)->password_hash.empty()) {
    BurnDummyVerify(request.password);
    return Fail(ErrorCode::kInvalidEmailOrPassword, "sign-in: no such credential");
  }
  store::UserWithPassword& record = **found;
  if (!hasher_.Verify(record.password_hash, request.password)) {
    return Fail(ErrorCode::kInvalidEmailOrPassword, "sign-in: wrong password");
  }
  if (hasher_.NeedsRehash(record.password_hash)) {
    // Upgrade a hash made with weaker parameters now that we hold the plain password. A
    // failure here must not fail the sign-in: the old hash still works.
    if (auto rehashed = hasher_.Hash(request.password); rehashed) {
      auto updated = store_.UpdatePasswordHash(record.user.id, *rehashed, clock_.Now());
      if (!updated) spdlog::warn("password rehash not stored: {}", updated.error().detail);
    }
  }
  return StartSession(std::move(record.user), request.remember_me, client);
}

Result<NewSession> SessionService::StartSession(store::User user, bool remember_me,
                                                const ClientInfo& client) {
  const TimePoint now = clock_.Now();
  std::string token = token::NewSessionToken(random_);
  store::Session session{
      .id = RandomId(random_),
      .user_id = user.id,
      .token_hash = token::HashSessionToken(token),
      .expires_at = ExpiryFrom(now, now, remember_me),
      .ip_address = SanitizeUtf8(client.ip_address, 64),
      .user_agent = SanitizeUtf8(client.user_agent, options_.max_user_agent_length),
      .remember_me = remember_me,
      .created_at = now,
      .updated_at = now};
  if (options_.describe_user_agent) {
    session.user_agent_parsed = options_.describe_user_agent(session.user_agent);
  }
  if (auto created = store_.CreateSession(session); !created) {
    return std::unexpected(created.error());
  }
  return NewSession{std::move(token), std::move(session), std::move(user)};
}

Result<std::optional<ActiveSession>> SessionService::Validate(std::string_view token,
                                                              ReadFrom from) {
  // A value that cannot be one of our tokens never reaches the store.
  if (token.size() != token::kTokenLength) return std::nullopt;
  const std::string token_hash = token::HashSessionToken(token);
  // Read before the store is, so that an invalidation racing this validation drops its fill.
  const std::uint64_t cache_epoch = cache_ ? cache_->Epoch() : 0;
  const TimePoint fetched_at = clock_.Now();
  if (cache_ && from == ReadFrom::kCacheOrStore) {
    // The checks of CanAnswerFromCopy (trusted, not revoked, not dead, nothing to write) make a
    // hit the answer the store would give, except for what no revocation changes — stale for at
    // most cache_max_age (SessionOptions).
    if (auto hit = cache_->Find(token_hash, fetched_at);
        hit && CopyAnswersAt(hit->session, fetched_at)) {
      return ActiveSession{std::move(hit->session), std::move(hit->user), false};
    }
  }
  auto found = store_.FindSessionByTokenHash(token_hash);
  if (!found) return std::unexpected(found.error());
  // The store's "no session" also ends any copy cached before the row went some other way than
  // a revocation this process heard of (e.g. deleted by hand).
  const auto forget = [&] {
    if (cache_) cache_->EraseToken(token_hash);
  };
  if (!found->has_value()) {
    forget();
    return std::nullopt;
  }
  store::SessionWithUser& record = **found;
  const TimePoint now = clock_.Now();

  if (IsDead(record.session, now)) {
    forget();
    // An expired (or idle, or over-age) session is no session; its row goes now rather than at
    // the next sweep.
    auto deleted = store_.DeleteSession(record.session.id);
    if (!deleted) spdlog::warn("dead session not deleted: {}", deleted.error().detail);
    return std::nullopt;
  }

  ActiveSession active{std::move(record.session), std::move(record.user), false};
  const bool renew = RenewalDue(active.session, now);
  // One write covers both: a renewal records activity too, and recording activity alone keeps
  // the expiry where it is.
  if (renew || ActivityDue(active.session, now)) {
    const TimePoint expiry =
        renew ? ExpiryFrom(now, active.session.created_at, active.session.remember_me)
              : active.session.expires_at;
    auto touched = store_.TouchSession(active.session.id, expiry, now);
    if (!touched) return std::unexpected(touched.error());
    if (!*touched) {  // Revoked between the read and the write.
      forget();
      return std::nullopt;
    }
    active.session.expires_at = expiry;
    active.session.updated_at = now;
    active.renewed = renew;
  }
  if (cache_) cache_->Put(active.session, active.user, fetched_at, cache_epoch);
  return active;
}

Result<void> SessionService::SignOut(std::string_view token) {
  if (token.size() != token::kTokenLength) return {};
  auto found = store_.FindSessionByTokenHash(token::HashSessionToken(token));
  if (!found) return std::unexpected(found.error());
  if (!found->has_value()) return {};
  return EndSession((*found)->session.id);
}

Result<std::int64_t> SessionService::SweepExpired() {
  const TimePoint now = clock_.Now();
  // The side tables are housekeeping: a failure there is logged, not fatal to the sweep.
  if (auto verifications = store_.DeleteExpiredVerifications(now); !verifications) {
    spdlog::warn("sweep: expired one-time tokens not deleted: {}", verifications.error().detail);
  }
  if (auto old = store_.DeleteRevocationsBefore(now - options_.revocation_retention); !old) {
    spdlog::warn("sweep: old revocations not deleted: {}", old.error().detail);
  }
  recent_.Prune(now);
  return store_.DeleteExpiredSessions(now);
}

Result<void> SessionService::RecordRevoked(std::span<const std::string> session_ids) {
  if (session_ids.empty()) return {};
  const TimePoint now = clock_.Now();
  if (auto added = store_.AddRevocations(session_ids, now); !added) return added;
  if (cache_) cache_->EraseSessions(session_ids);
  recent_.Add(session_ids, now);
  return {};
}

Result<void> SessionService::EndSession(const std::string& session_id) {
  const std::string ids[] = {session_id};
  if (auto recorded = RecordRevoked(ids); !recorded) return recorded;
  auto deleted = store_.DeleteSession(session_id);
  if (!deleted) return std::unexpected(deleted.error());
  return {};
}

Result<int> SessionService::EndUserSessions(std::string_view user_id,
                                            std::optional<std::string_view> keep) {
  // Record the sessions we know of first, then delete; a session created in between is recorded
  // after the fact from the ids the delete returns.
  auto listed = store_.ListUserSessions(user_id);
  if (!listed) return std::unexpected(listed.error());
  std::vector<std::string> ids;
  for (const store::Session& s : *listed) {
    if (!keep.has_value() || s.id != *keep) ids.push_back(s.id);
  }
  if (auto recorded = RecordRevoked(ids); !recorded) return std::unexpected(recorded.error());
  auto deleted = store_.DeleteUserSessions(user_id, keep);
  if (!deleted) return std::unexpected(deleted.error());
  std::vector<std::string> late;
  for (std::string& id : *deleted) {
    if (std::ranges::find(ids, id) == ids.end()) late.push_back(std::move(id));
  }
  if (auto recorded = RecordRevoked(late); !recorded) return std::unexpected(recorded.error());
  return static_cast<int>(deleted->size());
}

Result<std::vector<store::Revocation>> SessionService::RevocationsSince(std::int64_t after_seq,
                                                                        std::size_t limit) {
  return store_.ListRevocations(after_seq, limit);
}

namespace {
// Better Auth's identifier prefix in its verification table; the rest is the token's hash.
constexpr std::string_view kOneTimeTokenPrefix = "one-time-token:";
}  // namespace

Result<std::string> SessionService::CreateOneTimeToken(const ActiveSession& caller) {
  std::string token = token::NewSessionToken(random_);
  const TimePoint now = clock_.Now();
  store::Verification verification{
      .id = RandomId(random_),
      .identifier = std::string(kOneTimeTokenPrefix) + token::HashSessionToken(token),
      // The session's token hash, not its id: the store finds sessions by hash.
      .value = caller.session.token_hash,
      .expires_at = now + options_.one_time_token_lifetime,
      .created_at = now};
  if (auto created = store_.CreateVerification(verification); !created) {
    return std::unexpected(created.error());
  }
  return token;
}

Result<NewSession> SessionService::RedeemOneTimeToken(std::string_view token,
                                                      const ClientInfo& client) {
  if (token.size() != token::kTokenLength) {
    return Fail(ErrorCode::kInvalidToken, "one-time token: malformed");
  }
  auto consumed =
      store_.ConsumeVerification(std::string(kOneTimeTokenPrefix) + token::HashSessionToken(token));
  if (!consumed) return std::unexpected(consumed.error());
  if (!consumed->has_value()) {
    return Fail(ErrorCode::kInvalidToken, "one-time token: unknown or already used");
  }
  if ((*consumed)->expires_at <= clock_.Now()) {
    return Fail(ErrorCode::kTokenExpired, "one-time token: expired");
  }
  auto found = store_.FindSessionByTokenHash((*consumed)->value);
  if (!found) return std::unexpected(found.error());
  // The same rule as Validate: expired, idle past the timeout or over the absolute bound.
  if (!found->has_value() || IsDead((*found)->session, clock_.Now())) {
    return Fail(ErrorCode::kSessionNotFound, "one-time token: its session has ended");
  }
  return StartSession(std::move((*found)->user), (*found)->session.remember_me, client);
}

Result<bool> SessionService::IsSessionLive(std::string_view user_id, std::string_view session_id) {
  auto live = ListSessions(user_id);
  if (!live) return std::unexpected(live.error());
  return std::ranges::any_of(*live, [&](const store::Session& s) { return s.id == session_id; });
}

Result<std::vector<store::Session>> SessionService::ListSessions(std::string_view user_id) {
  auto all = store_.ListUserSessions(user_id);
  if (!all) return std::unexpected(all.error());
  const TimePoint now = clock_.Now();
  std::erase_if(*all, [this, now](const store::Session& s) { return IsDead(s, now); });
  return all;
}

Result<std::optional<std::string>> SessionService::RevokeSession(std::string_view user_id,
                                                                 std::string_view handle_or_token) {
  auto sessions = store_.ListUserSessions(user_id);
  if (!sessions) return std::unexpected(sessions.error());
  const std::string token_hash = handle_or_token.size() == token::kTokenLength
                                     ? token::HashSessionToken(handle_or_token)
                                     : std::string();
  for (const store::Session& s : *sessions) {
    // Compare in constant time: a handle is not a credential, but it need not leak either.
    if (crypto::ConstantTimeEquals(RevocationHandle(s), handle_or_token) ||
        (!token_hash.empty() && crypto::ConstantTimeEquals(s.token_hash, token_hash))) {
      if (auto ended = EndSession(s.id); !ended) return std::unexpected(ended.error());
      return std::optional<std::string>(s.id);
    }
  }
  return std::optional<std::string>();
}

Result<int> SessionService::RevokeSessions(std::string_view user_id,
                                           std::optional<std::string_view> keep_session_id) {
  return EndUserSessions(user_id, keep_session_id);
}

Result<NewSession> SessionService::ChangePassword(const ActiveSession& caller,
                                                  std::string_view current_password,
                                                  std::string_view new_password, bool revoke_others,
                                                  const ClientInfo& client) {
  auto found = store_.FindUserByEmail(caller.user.email);
  if (!found) return std::unexpected(found.error());
  if (!found->has_value() || (*found)->user.id != caller.user.id ||
      (*found)->password_hash.empty()) {
    BurnDummyVerify(current_password);
    return Fail(ErrorCode::kInvalidPassword, "change-password: no credential account");
  }
  if (!hasher_.Verify((*found)->password_hash, current_password)) {
    return Fail(ErrorCode::kInvalidPassword, "change-password: wrong current password");
  }
  if (auto ok = CheckPassword(new_password); !ok) return std::unexpected(ok.error());
  auto hash = hasher_.Hash(new_password);
  if (!hash) return std::unexpected(hash.error());
  auto updated = store_.UpdatePasswordHash(caller.user.id, *hash, clock_.Now());
  if (!updated) return std::unexpected(updated.error());
  if (cache_) cache_->EraseUser(caller.user.id);

  // The caller continues on a fresh token; the old one dies with its row.
  auto fresh = StartSession((*found)->user, caller.session.remember_me, client);
  if (!fresh) return fresh;
  if (revoke_others) {
    if (auto ended = EndUserSessions(caller.user.id, fresh->session.id); !ended) {
      return std::unexpected(ended.error());
    }
    return fresh;
  }
  if (auto ended = EndSession(caller.session.id); !ended) return std::unexpected(ended.error());
  return fresh;
}

Result<store::User> SessionService::UpdateUser(std::string_view user_id,
                                               const store::UserUpdate& update) {
  if (update.name && update.name->size() > options_.max_name_length) {
    return Fail(ErrorCode::kValidation, "update-user: name too long");
  }
  if (update.image && update.image->size() > options_.max_image_length) {
    return Fail(ErrorCode::kValidation, "update-user: image too long");
  }
  auto changed = store_.UpdateUser(user_id, update, clock_.Now());
  // Even after a failure: the update may have committed before the answer was lost.
  if (cache_) cache_->EraseUser(user_id);
  if (!changed) return std::unexpected(changed.error());
  auto user = store_.FindUserById(user_id);
  if (!user) return std::unexpected(user.error());
  if (!*changed || !user->has_value()) return Fail(ErrorCode::kUnauthorized, "user is gone");
  return std::move(**user);
}

std::string SessionService::RevocationHandle(const store::Session& session) const {
  const auto mac = crypto::HmacSha256(options_.handle_key, session.id);
  return crypto::Base64UrlEncode(mac);
}

}  // namespace sessiond::session
