// Randomness is injected. Production uses crypto::SodiumRandom (libsodium's CSPRNG, the only
// source of randomness in sessiond); tests use testing::FakeRandom for reproducible ids.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace sessiond {

// A cryptographically secure byte source. Implementations are thread-safe.
class Random {
 public:
  virtual ~Random() = default;
  // Fills `out` entirely with random bytes. Never fails.
  virtual void Fill(std::span<std::uint8_t> out) = 0;
};

// A random identifier of `length` characters from [A-Za-z0-9], the alphabet of Better Auth's
// ids. Uses rejection sampling so every character is uniform.
[[nodiscard]] std::string RandomId(Random& random, std::size_t length = 32);

}  // namespace sessiond
