// The server's JWT keys: one active signing key plus retired keys that still verify.
//
// Lifecycle (issue "keys"): a key set is created on first start (LoadOrCreateFile, or Create +
// the store); `sessiond keys rotate` or the optional interval (RotateIfDue) calls Rotate, which
// makes a new active key and retires the old one. A retired key no longer signs but stays in
// the JWKS and keeps verifying until every token it signed has expired:
//   drop_after = retired_at + max token lifetime + kRetirementGrace,
// after which Prune removes it (its kid then fails with VerifyError::kUnknownKid).
//
// Persistence: SealAll/UnsealAll give the sealed blobs (Key::Seal) for a store table, to be
// written in one transaction; SaveToFile/LoadFromFile keep them in a JSON file (mode 0600,
// replaced atomically) until that table exists.
//
// Thread-safety: all methods are thread-safe. `mu_` (a reader/writer lock) guards `active_`
// and `retired_`; readers (FindByKid, Active, Jwks) take it shared and copy out shared_ptrs, so
// a key stays alive for a verifier even if Prune drops it meanwhile. Slow work (RSA key
// generation, sealing, file I/O) happens outside the lock.
#pragma once

#include <boost/json/object.hpp>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/error.h"
#include "common/random.h"
#include "jwt/algorithm.h"
#include "jwt/key.h"
#include "jwt/key_lookup.h"

namespace sessiond::jwt {

// Added to the maximum token lifetime before a retired key is dropped. Covers the verifiers'
// clock leeway (VerifyOptions::leeway, 30 s by default) with room to spare.
inline constexpr std::chrono::seconds kRetirementGrace{60};

class KeySet final : public KeyLookup {
 public:
  // An empty set: no active key, nothing verifies.
  KeySet() = default;
  // A set whose active key is `active` (e.g. Key::FromSharedSecret for HS* setups).
  explicit KeySet(Key active);
  KeySet(KeySet&& other) noexcept;
  KeySet& operator=(KeySet&& other) noexcept;
  KeySet(const KeySet&) = delete;
  KeySet& operator=(const KeySet&) = delete;
  ~KeySet() override = default;

  // A set with one freshly generated active key (see Key::Generate).
  [[nodiscard]] static Result<KeySet> Create(Algorithm algorithm, Random& random, TimePoint now);

  // The signing key, or null for an empty set.
  [[nodiscard]] std::shared_ptr<const Key> Active() const;

  // Sign(*Active(), claims); kInternal if there is no active key.
  [[nodiscard]] Result<std::string> Sign(const boost::json::object& claims) const;

  // The active or a retired key with this kid (exact comparison), or null.
  [[nodiscard]] std::shared_ptr<const Key> FindByKid(std::string_view kid) const override;

  // All keys, active first, then retired ones newest first.
  [[nodiscard]] std::vector<std::shared_ptr<const Key>> Keys() const;

  // The JWK Set (RFC 7517 §5): {"keys":[public JWKs of the active and retired keys]}. HS*
  // keys are never listed. Call Prune first so expired keys are not served.
  [[nodiscard]] boost::json::object Jwks() const;

  // Generates a new active key (with `algorithm`, or the current key's algorithm) and
  // retires the current one at `now`, to be dropped after
  // now + max_token_lifetime + kRetirementGrace. kValidation if the set is empty and no
  // algorithm is given; kInternal if generation fails (the set is then unchanged).
  // Shared-secret (HS*) setups should not rotate: the other party would not know the new key.
  [[nodiscard]] Result<void> Rotate(Random& random, TimePoint now,
                                    std::chrono::seconds max_token_lifetime,
                                    std::optional<Algorithm> algorithm = std::nullopt);

  // Rotate() if the active key is at least `interval` old; a zero or negative interval
  // disables it. True if it rotated. Concurrent callers rotate at most once per due key.
  [[nodiscard]] Result<bool> RotateIfDue(Random& random, TimePoint now,
                                         std::chrono::seconds interval,
                                         std::chrono::seconds max_token_lifetime);

  // Removes retired keys whose drop_after is at or before `now`. Returns how many.
  std::size_t Prune(TimePoint now);

  // Every key sealed (Key::Seal), active first. The store must replace its rows with these in
  // one transaction.
  [[nodiscard]] Result<std::vector<std::string>> SealAll(std::string_view server_secret) const;

  // The set SealAll produced. Empty input gives an empty set. kInternal if a blob does not
  // unseal (wrong secret, tampering), kids repeat, or the blobs do not hold exactly one
  // active (non-retired) key.
  [[nodiscard]] static Result<KeySet> UnsealAll(std::span<const std::string> sealed,
                                                std::string_view server_secret);

  // Writes {"version":1,"keys":[sealed keys]} to `path` atomically: a temporary file in the
  // same directory, mode 0600, fsync, rename, fsync of the directory. Creates the directory.
  // kServiceUnavailable on an I/O error; the previous file is then left intact.
  [[nodiscard]] Result<void> SaveToFile(const std::filesystem::path& path,
                                        std::string_view server_secret) const;

  // Reads a file written by SaveToFile. kServiceUnavailable if it cannot be read, kInternal if
  // its content is not a sealed key set (see UnsealAll).
  [[nodiscard]] static Result<KeySet> LoadFromFile(const std::filesystem::path& path,
                                                   std::string_view server_secret);

  // First start: loads `path` if it exists, otherwise creates a set with one `algorithm` key
  // and saves it. The loaded set's algorithm is not changed: if the configured algorithm
  // differs from Active()->algorithm(), the caller decides whether to Rotate to it.
  [[nodiscard]] static Result<KeySet> LoadOrCreateFile(const std::filesystem::path& path,
                                                       std::string_view server_secret,
                                                       Algorithm algorithm, Random& random,
                                                       TimePoint now);

 private:
  // Makes `next` active if the active key is still `expected` (null: only if still empty).
  // Returns false if someone else rotated first.
  bool Install(Key next, const std::shared_ptr<const Key>& expected, TimePoint now,
               std::chrono::seconds max_token_lifetime);

  mutable std::shared_mutex mu_;
  std::shared_ptr<const Key> active_;                // Guarded by mu_. Null when empty.
  std::vector<std::shared_ptr<const Key>> retired_;  // Guarded by mu_. Newest first.
};

}  // namespace sessiond::jwt
