#include "store/memory/memory_store.h"

#include <algorithm>
#include <mutex>
#include <utility>

namespace sessiond::store {
namespace {

constexpr std::string_view kCredentialProvider = "credential";

std::string ProviderKey(std::string_view provider_id, std::string_view account_id) {
  std::string key;
  key.reserve(provider_id.size() + 1 + account_id.size());
  key.append(provider_id).append(1, '\n').append(account_id);
  return key;
}

}  // namespace

Result<int> MemoryStore::Migrate() { return 1; }

Result<void> MemoryStore::Ping() { return {}; }

Result<void> MemoryStore::CreateUser(const User& user, const Account& account) {
  if (account.user_id != user.id) {
    return Fail(ErrorCode::kInternal, "memory store: account.user_id does not match user.id");
  }
  std::string provider_key = ProviderKey(account.provider_id, account.account_id);
  std::unique_lock lock(mu_);
  // Checked in the order SQLite meets the constraints: the user row, then the account row.
  if (users_by_id_.contains(user.id)) {
    return Fail(ErrorCode::kInternal, "memory store: user id collision");
  }
  if (user_id_by_email_.contains(user.email)) {
    return Fail(ErrorCode::kUserAlreadyExists, "memory store: email already registered");
  }
  if (account_ids_.contains(account.id) || account_provider_keys_.contains(provider_key)) {
    return Fail(ErrorCode::kInternal, "memory store: account id collision");
  }
  users_by_id_.emplace(user.id, UserRecord{user, account});
  user_id_by_email_.emplace(user.email, user.id);
  account_ids_.insert(account.id);
  account_provider_keys_.insert(std::move(provider_key));
  return {};
}

Result<std::optional<UserWithPassword>> MemoryStore::FindUserByEmail(std::string_view email) {
  std::shared_lock lock(mu_);
  auto id_it = user_id_by_email_.find(email);
  if (id_it == user_id_by_email_.end()) return std::optional<UserWithPassword>();
  auto user_it = users_by_id_.find(id_it->second);
  if (user_it == users_by_id_.end()) {
    return Fail(ErrorCode::kInternal, "memory store: email index points at a missing user");
  }
  const UserRecord& record = user_it->second;
  UserWithPassword found{record.user, {}};
  if (record.account.provider_id == kCredentialProvider) {
    found.password_hash = record.account.password_hash;
  }
  return std::optional<UserWithPassword>(std::move(found));
}

Result<std::optional<User>> MemoryStore::FindUserById(std::string_view user_id) {
  std::shared_lock lock(mu_);
  auto it = users_by_id_.find(user_id);
  if (it == users_by_id_.end()) return std::optional<User>();
  return std::optional<User>(it->second.user);
}

Result<bool> MemoryStore::UpdatePasswordHash(std::string_view user_id,
                                             std::string_view password_hash, TimePoint now) {
  std::unique_lock lock(mu_);
  auto it = users_by_id_.find(user_id);
  if (it == users_by_id_.end() || it->second.account.provider_id != kCredentialProvider) {
    return false;
  }
  it->second.account.password_hash = std::string(password_hash);
  it->second.account.updated_at = now;
  return true;
}

Result<bool> MemoryStore::UpdateUser(std::string_view user_id, const UserUpdate& update,
                                     TimePoint now) {
  std::unique_lock lock(mu_);
  auto it = users_by_id_.find(user_id);
  if (it == users_by_id_.end()) return false;
  User& user = it->second.user;
  if (update.name) user.name = *update.name;
  if (update.set_image) user.image = update.image;
  user.updated_at = now;
  return true;
}

Result<void> MemoryStore::CreateSession(const Session& session) {
  std::unique_lock lock(mu_);
  if (!users_by_id_.contains(session.user_id)) {
    return Fail(ErrorCode::kInternal, "memory store: session for an unknown user");
  }
  if (sessions_by_id_.contains(session.id)) {
    return Fail(ErrorCode::kInternal, "memory store: session id collision");
  }
  if (session_id_by_token_hash_.contains(session.token_hash)) {
    return Fail(ErrorCode::kInternal, "memory store: session token hash collision");
  }
  sessions_by_id_.emplace(session.id, session);
  session_id_by_token_hash_.emplace(session.token_hash, session.id);
  session_ids_by_user_[session.user_id].insert(session.id);
  return {};
}

Result<std::optional<SessionWithUser>> MemoryStore::FindSessionByTokenHash(
    std::string_view token_hash) {
  std::shared_lock lock(mu_);
  auto id_it = session_id_by_token_hash_.find(token_hash);
  if (id_it == session_id_by_token_hash_.end()) return std::optional<SessionWithUser>();
  auto session_it = sessions_by_id_.find(id_it->second);
  if (session_it == sessions_by_id_.end()) {
    return Fail(ErrorCode::kInternal, "memory store: token index points at a missing session");
  }
  auto user_it = users_by_id_.find(session_it->second.user_id);
  if (user_it == users_by_id_.end()) {
    return Fail(ErrorCode::kInternal, "memory store: session of a missing user");
  }
  return std::optional<SessionWithUser>(SessionWithUser{session_it->second, user_it->second.user});
}

Result<bool> MemoryStore::TouchSession(std::string_view session_id, TimePoint expires_at,
                                       TimePoint updated_at) {
  std::unique_lock lock(mu_);
  auto it = sessions_by_id_.find(session_id);
  if (it == sessions_by_id_.end()) return false;
  it->second.expires_at = expires_at;
  it->second.updated_at = updated_at;
  return true;
}

void MemoryStore::EraseSessionLocked(const Session& session) {
  session_id_by_token_hash_.erase(session.token_hash);
  if (auto it = session_ids_by_user_.find(session.user_id); it != session_ids_by_user_.end()) {
    it->second.erase(session.id);
    if (it->second.empty()) session_ids_by_user_.erase(it);
  }
}

Result<int> MemoryStore::DeleteSession(std::string_view session_id) {
  std::unique_lock lock(mu_);
  auto it = sessions_by_id_.find(session_id);
  if (it == sessions_by_id_.end()) return 0;
  EraseSessionLocked(it->second);
  sessions_by_id_.erase(it);
  return 1;
}

Result<std::vector<Session>> MemoryStore::ListUserSessions(std::string_view user_id) {
  std::vector<Session> sessions;
  {
    std::shared_lock lock(mu_);
    auto it = session_ids_by_user_.find(user_id);
    if (it == session_ids_by_user_.end()) return sessions;
    sessions.reserve(it->second.size());
    for (const std::string& id : it->second) {
      auto session_it = sessions_by_id_.find(id);
      if (session_it == sessions_by_id_.end()) {
        return Fail(ErrorCode::kInternal, "memory store: user index points at a missing session");
      }
      sessions.push_back(session_it->second);
    }
  }
  // Same order as the SQL backend: created_at descending, then id ascending.
  std::ranges::sort(sessions, [](const Session& a, const Session& b) {
    if (a.created_at != b.created_at) return a.created_at > b.created_at;
    return a.id < b.id;
  });
  return sessions;
}

Result<std::vector<std::string>> MemoryStore::DeleteUserSessions(
    std::string_view user_id, std::optional<std::string_view> keep_session_id) {
  std::unique_lock lock(mu_);
  std::vector<std::string> deleted;
  auto user_it = session_ids_by_user_.find(user_id);
  if (user_it == session_ids_by_user_.end()) return deleted;
  StringSet& ids = user_it->second;
  for (auto id_it = ids.begin(); id_it != ids.end();) {
    if (keep_session_id.has_value() && *id_it == *keep_session_id) {
      ++id_it;
      continue;
    }
    if (auto session_it = sessions_by_id_.find(*id_it); session_it != sessions_by_id_.end()) {
      session_id_by_token_hash_.erase(session_it->second.token_hash);
      sessions_by_id_.erase(session_it);
    }
    deleted.push_back(*id_it);
    id_it = ids.erase(id_it);
  }
  if (ids.empty()) session_ids_by_user_.erase(user_it);
  return deleted;
}

Result<std::int64_t> MemoryStore::DeleteExpiredSessions(TimePoint now) {
  std::unique_lock lock(mu_);
  std::int64_t deleted = 0;
  for (auto it = sessions_by_id_.begin(); it != sessions_by_id_.end();) {
    if (it->second.expires_at <= now) {
      EraseSessionLocked(it->second);
      it = sessions_by_id_.erase(it);
      ++deleted;
    } else {
      ++it;
    }
  }
  return deleted;
}

Result<void> MemoryStore::CreateVerification(const Verification& verification) {
  std::unique_lock lock(mu_);
  if (verification_ids_.contains(verification.id) ||
      verifications_.contains(verification.identifier)) {
    return Fail(ErrorCode::kInternal, "memory store: verification id or identifier collides");
  }
  verification_ids_.insert(verification.id);
  verifications_.emplace(verification.identifier, verification);
  return {};
}

Result<std::optional<Verification>> MemoryStore::ConsumeVerification(std::string_view identifier) {
  std::unique_lock lock(mu_);
  auto it = verifications_.find(identifier);
  if (it == verifications_.end()) return std::optional<Verification>();
  Verification found = std::move(it->second);
  verifications_.erase(it);
  verification_ids_.erase(found.id);
  return std::optional<Verification>(std::move(found));
}

Result<std::int64_t> MemoryStore::DeleteExpiredVerifications(TimePoint now) {
  std::unique_lock lock(mu_);
  std::int64_t deleted = 0;
  for (auto it = verifications_.begin(); it != verifications_.end();) {
    if (it->second.expires_at <= now) {
      verification_ids_.erase(it->second.id);
      it = verifications_.erase(it);
      ++deleted;
    } else {
      ++it;
    }
  }
  return deleted;
}

Result<void> MemoryStore::AddRevocations(std::span<const std::string> session_ids, TimePoint at) {
  std::unique_lock lock(mu_);
  for (const std::string& id : session_ids) {
    revocations_.push_back(Revocation{++last_revocation_seq_, id, at});
  }
  return {};
}

Result<std::vector<Revocation>> MemoryStore::ListRevocations(std::int64_t after_seq,
                                                             std::size_t limit) {
  std::shared_lock lock(mu_);
  // revocations_ is in seq order: binary-search the first one past the cursor.
  auto it = std::ranges::upper_bound(revocations_, after_seq, {}, &Revocation::seq);
  std::vector<Revocation> out;
  for (; it != revocations_.end() && out.size() < limit; ++it) out.push_back(*it);
  return out;
}

Result<std::int64_t> MemoryStore::DeleteRevocationsBefore(TimePoint before) {
  std::unique_lock lock(mu_);
  const auto removed = std::erase_if(revocations_, [before](const Revocation& revocation) {
    return revocation.revoked_at < before;
  });
  return static_cast<std::int64_t>(removed);
}

}  // namespace sessiond::store
