// Password hashing with argon2id (RFC 9106) through libsodium's crypto_pwhash_str family.
// Hashes are PHC strings ("$argon2id$v=19$m=19456,t=2,p=1$...") that carry their own
// parameters, so a hash made with weaker settings is detected and upgraded on the next sign-in.
//
// Thread-safety: const methods are safe to call concurrently.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"

namespace sessiond::crypto {

struct Argon2Params {
  // OWASP Password Storage Cheat Sheet floor for argon2id: m = 19 MiB, t = 2, p = 1.
  // (libsodium always uses p = 1.)
  std::uint64_t memory_kib = 19ULL * 1024;
  std::uint64_t iterations = 2;
};

class PasswordHasher {
 public:
  explicit PasswordHasher(Argon2Params params);

  // Hashes `password` (any bytes, never truncated) with a fresh random salt.
  // kInternal only if libsodium runs out of memory.
  [[nodiscard]] Result<std::string> Hash(std::string_view password) const;

  // True iff `hash` is a valid argon2id string and `password` matches it. Runs in time set by
  // the hash's parameters, not by where a mismatch occurs.
  [[nodiscard]] bool Verify(std::string_view hash, std::string_view password) const;

  // True if `hash` was made with parameters other than this hasher's (or is unparsable), so
  // it should be replaced after a successful Verify.
  [[nodiscard]] bool NeedsRehash(std::string_view hash) const;

  [[nodiscard]] const Argon2Params& params() const { return params_; }

 private:
  Argon2Params params_;
};

}  // namespace sessiond::crypto
