#include "crypto/password_hasher.h"

#include <sodium.h>

#include <array>
#include <cstddef>
#include <limits>
#include <optional>
#include <string>

namespace sessiond::crypto {
namespace {

// PHC prefix of every string crypto_pwhash_str_alg(..., ALG_ARGON2ID13) produces.
constexpr std::string_view kArgon2idPrefix = "$argon2id$";

// libsodium's password pointer must be valid even for an empty password.
const char* PasswordBytes(std::string_view password) {
  return password.empty() ? "" : password.data();
}

// libsodium parses the PHC string with strlen(), so it needs a NUL-terminated copy. A string
// with an embedded NUL is rejected outright: truncating it at the NUL could turn
// "<valid hash>\0<junk>" into an accepted hash.
std::optional<std::string> TerminatedHash(std::string_view hash) {
  if (hash.find('\0') != std::string_view::npos) return std::nullopt;
  return std::string(hash);
}

// Argon2Params -> libsodium limits; nullopt if they cannot be represented.
struct Limits {
  unsigned long long opslimit;
  std::size_t memlimit;  // Bytes.
};
std::optional<Limits> ToLimits(const Argon2Params& params) {
  if (params.memory_kib > std::numeric_limits<std::size_t>::max() / 1024) return std::nullopt;
  return Limits{.opslimit = params.iterations,
                .memlimit = static_cast<std::size_t>(params.memory_kib) * 1024};
}

// "$argon2id$v=19$m=<KiB>,t=<iterations>,p=1$": how libsodium starts a hash made with `params`.
std::string ExpectedPrefix(const Argon2Params& params) {
  return std::string(kArgon2idPrefix) + "v=19$m=" + std::to_string(params.memory_kib) +
         ",t=" + std::to_string(params.iterations) + ",p=1$";
}

}  // namespace

PasswordHasher::PasswordHasher(Argon2Params params) : params_(params) {}

Result<std::string> PasswordHasher::Hash(std::string_view password) const {
  const std::optional<Limits> limits = ToLimits(params_);
  if (!limits) return Fail(ErrorCode::kInternal, "argon2id memory limit overflows size_t");
  if (password.size() > crypto_pwhash_PASSWD_MAX) {
    return Fail(ErrorCode::kInternal, "password longer than crypto_pwhash_PASSWD_MAX");
  }
  std::array<char, crypto_pwhash_STRBYTES> out{};
  // Fresh random salt (crypto_pwhash_SALTBYTES) inside libsodium; p = 1 (RFC 9106 §4).
  if (crypto_pwhash_str_alg(out.data(), PasswordBytes(password), password.size(), limits->opslimit,
                            limits->memlimit, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Fail(ErrorCode::kInternal,
                "crypto_pwhash_str_alg failed (out of memory or parameters out of range)");
  }
  return std::string(out.data());  // libsodium NUL-terminates within STRBYTES.
}

bool PasswordHasher::Verify(std::string_view hash, std::string_view password) const {
  // Only argon2id is accepted: the generic crypto_pwhash_str_verify would also take argon2i.
  if (!hash.starts_with(kArgon2idPrefix)) return false;
  if (password.size() > crypto_pwhash_PASSWD_MAX) return false;
  const std::optional<std::string> terminated = TerminatedHash(hash);
  if (!terminated) return false;
  // Recomputes argon2id with the string's own parameters and salt, then compares the tags
  // with sodium_memcmp (constant time). Returns -1 on mismatch or on any parse error.
  return crypto_pwhash_argon2id_str_verify(terminated->c_str(), PasswordBytes(password),
                                           password.size()) == 0;
}

bool PasswordHasher::NeedsRehash(std::string_view hash) const {
  const std::optional<Limits> limits = ToLimits(params_);
  if (!limits) return true;
  const std::optional<std::string> terminated = TerminatedHash(hash);
  if (!terminated) return true;
  // 0: argon2id with these m and t; 1: other m or t; -1: not parsable as argon2id
  // (including argon2i strings, which must be upgraded too).
  if (crypto_pwhash_argon2id_str_needs_rehash(terminated->c_str(), limits->opslimit,
                                              limits->memlimit) != 0) {
    return true;
  }
  // libsodium ignores the version and lane count; a current hash also has exactly the prefix
  // crypto_pwhash_str_alg writes (RFC 9106 version 0x13, p = 1).
  return !hash.starts_with(ExpectedPrefix(params_));
}

}  // namespace sessiond::crypto
