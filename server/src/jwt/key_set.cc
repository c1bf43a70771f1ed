#include "jwt/key_set.h"

#include <boost/json/array.hpp>

#include <algorithm>
#include <mutex>
#include <set>
#include <utility>

#include "jwt/jws.h"

namespace sessiond::jwt {

KeySet::KeySet(Key active) : active_(std::make_shared<const Key>(std::move(active))) {}

KeySet::KeySet(KeySet&& other) noexcept {
  std::unique_lock lock(other.mu_);
  active_ = std::move(other.active_);
  retired_ = std::move(other.retired_);
}

KeySet& KeySet::operator=(KeySet&& other) noexcept {
  if (this != &other) {
    std::scoped_lock lock(mu_, other.mu_);
    active_ = std::move(other.active_);
    retired_ = std::move(other.retired_);
  }
  return *this;
}

Result<KeySet> KeySet::Create(Algorithm algorithm, Random& random, TimePoint now) {
  auto key = Key::Generate(algorithm, random, now);
  if (!key) return std::unexpected(std::move(key.error()));
  return KeySet(std::move(*key));
}

std::shared_ptr<const Key> KeySet::Active() const {
  std::shared_lock lock(mu_);
  return active_;
}

Result<std::string> KeySet::Sign(const boost::json::object& claims) const {
  const std::shared_ptr<const Key> key = Active();
  if (key == nullptr) return Fail(ErrorCode::kInternal, "no active JWT signing key");
  return jwt::Sign(*key, claims);
}

std::shared_ptr<const Key> KeySet::FindByKid(std::string_view kid) const {
  std::shared_lock lock(mu_);
  if (active_ != nullptr && active_->kid() == kid) return active_;
  for (const auto& key : retired_) {
    if (key->kid() == kid) return key;
  }
  return nullptr;
}

std::vector<std::shared_ptr<const Key>> KeySet::Keys() const {
  std::shared_lock lock(mu_);
  std::vector<std::shared_ptr<const Key>> keys;
  keys.reserve(retired_.size() + 1);
  if (active_ != nullptr) keys.push_back(active_);
  keys.insert(keys.end(), retired_.rbegin(), retired_.rend());  // Newest retired first.
  return keys;
}

boost::json::object KeySet::Jwks() const {
  boost::json::array keys;
  for (const auto& key : Keys()) {
    if (auto jwk = key->PublicJwk()) keys.emplace_back(std::move(*jwk));
  }
  boost::json::object jwks;
  jwks["keys"] = std::move(keys);
  return jwks;
}

bool KeySet::Install(Key next, const std::shared_ptr<const Key>& expected, TimePoint now,
                     std::chrono::seconds max_token_lifetime) {
  auto next_ptr = std::make_shared<const Key>(std::move(next));
  std::unique_lock lock(mu_);
  if (active_ != expected) return false;
  active_.swap(next_ptr);  // next_ptr now holds the previous active key, if any.
  if (const Key* previous = next_ptr.get()) {
    const TimePoint drop_after = now + max_token_lifetime + kRetirementGrace;
    retired_.push_back(std::make_shared<const Key>(previous->Retired(now, drop_after)));
  }
  return true;
}

Result<void> KeySet::Rotate(Random& random, TimePoint now, std::chrono::seconds max_token_lifetime,
                            std::optional<Algorithm> algorithm) {
  const std::shared_ptr<const Key> current = Active();
  if (!algorithm && current == nullptr) {
    return Fail(ErrorCode::kValidation, "an empty key set needs an algorithm to rotate to");
  }
  // Generate outside the lock: an RSA key takes tens of milliseconds.
  auto next = Key::Generate(algorithm.value_or(current ? current->algorithm() : Algorithm::kEdDSA),
                            random, now);
  if (!next) return std::unexpected(std::move(next.error()));
  // An explicit rotation always wins: if another rotation slipped in, retire that one too.
  std::shared_ptr<const Key> expected = current;
  while (!Install(*next, expected, now, max_token_lifetime)) expected = Active();
  return {};
}

Result<bool> KeySet::RotateIfDue(Random& random, TimePoint now, std::chrono::seconds interval,
                                 std::chrono::seconds max_token_lifetime) {
  if (interval <= std::chrono::seconds::zero()) return false;
  const std::shared_ptr<const Key> current = Active();
  if (current == nullptr) return Fail(ErrorCode::kValidation, "no active JWT key to rotate");
  if (now < current->created_at() + interval) return false;
  auto next = Key::Generate(current->algorithm(), random, now);
  if (!next) return std::unexpected(std::move(next.error()));
  // Only rotate the key we saw: a concurrent caller that won has already done the work.
  return Install(std::move(*next), current, now, max_token_lifetime);
}

std::size_t KeySet::Prune(TimePoint now) {
  std::unique_lock lock(mu_);
  return std::erase_if(retired_, [now](const std::shared_ptr<const Key>& key) {
    return key->drop_after().has_value() && *key->drop_after() <= now;
  });
}

Result<std::vector<std::string>> KeySet::SealAll(std::string_view server_secret) const {
  std::vector<std::string> sealed;
  for (const auto& key : Keys()) {
    auto blob = key->Seal(server_secret);
    if (!blob) return std::unexpected(std::move(blob.error()));
    sealed.push_back(std::move(*blob));
  }
  return sealed;
}

Result<KeySet> KeySet::UnsealAll(std::span<const std::string> sealed,
                                 std::string_view server_secret) {
  KeySet set;
  std::set<std::string> kids;
  for (const std::string& blob : sealed) {
    auto key = Key::Unseal(blob, server_secret);
    if (!key) return std::unexpected(std::move(key.error()));
    if (!kids.insert(key->kid()).second) {
      return Fail(ErrorCode::kInternal, "sealed key set repeats kid " + key->kid());
    }
    auto ptr = std::make_shared<const Key>(std::move(*key));
    if (ptr->retired_at().has_value()) {
      set.retired_.push_back(std::move(ptr));
    } else if (set.active_ == nullptr) {
      set.active_ = std::move(ptr);
    } else {
      return Fail(ErrorCode::kInternal, "sealed key set has more than one active key");
    }
  }
  if (set.active_ == nullptr && !set.retired_.empty()) {
    return Fail(ErrorCode::kInternal, "sealed key set has retired keys but no active key");
  }
  std::sort(set.retired_.begin(), set.retired_.end(),
            [](const auto& a, const auto& b) { return *a->retired_at() < *b->retired_at(); });
  return set;
}

}  // namespace sessiond::jwt
