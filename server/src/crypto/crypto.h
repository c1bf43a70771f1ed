// Named wrappers around libsodium and OpenSSL 3. Every secret comparison, hash, MAC and random
// byte in sessiond goes through here, so the primitives are audited in one place.
//
// Thread-safety: all free functions are thread-safe once Init() has returned.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/random.h"

namespace sessiond::crypto {

// Initialises libsodium. Call once at start-up before anything else here; safe to call again.
// Returns false only if libsodium cannot initialise (then the process must not serve).
[[nodiscard]] bool Init();

using Sha256Digest = std::array<std::uint8_t, 32>;

// SHA-256 (FIPS 180-4) of `data`, via OpenSSL.
[[nodiscard]] Sha256Digest Sha256(std::string_view data);

// HMAC-SHA256 (RFC 2104) of `data` under `key`, via OpenSSL.
[[nodiscard]] Sha256Digest HmacSha256(std::string_view key, std::string_view data);

// Compares two byte strings in time that depends only on their lengths (sodium_memcmp).
// Different lengths compare unequal.
[[nodiscard]] bool ConstantTimeEquals(std::string_view a, std::string_view b);

// Lower-case hex.
[[nodiscard]] std::string HexEncode(std::span<const std::uint8_t> bytes);

// Standard base64 with padding (RFC 4648 §4).
[[nodiscard]] std::string Base64Encode(std::span<const std::uint8_t> bytes);
// Base64url without padding (RFC 4648 §5), the form of tokens.
[[nodiscard]] std::string Base64UrlEncode(std::span<const std::uint8_t> bytes);
// Decoders return nullopt on any character outside the alphabet or bad padding.
[[nodiscard]] std::optional<std::string> Base64Decode(std::string_view text);
[[nodiscard]] std::optional<std::string> Base64UrlDecode(std::string_view text);

// libsodium's CSPRNG (randombytes_buf). The only production Random.
class SodiumRandom final : public Random {
 public:
  void Fill(std::span<std::uint8_t> out) override;
};

// Overwrites `s` with zeros in a way the compiler cannot elide (sodium_memzero).
void Wipe(std::string& s);

}  // namespace sessiond::crypto
