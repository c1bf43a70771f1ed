// A deterministic Random for tests: a counter run through a simple mixer, so two FakeRandoms
// with the same seed produce the same bytes. Never use outside tests.
#pragma once

#include <cstdint>
#include <mutex>

#include "common/random.h"

namespace sessiond::testing {

class FakeRandom final : public Random {
 public:
  explicit FakeRandom(std::uint64_t seed = 1) : state_(seed) {}
  void Fill(std::span<std::uint8_t> out) override {
    std::lock_guard lock(mu_);
    for (auto& b : out) {
      // splitmix64 step; good enough spread for ids in tests.
      state_ += 0x9E3779B97F4A7C15ULL;
      std::uint64_t z = state_;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
      b = static_cast<std::uint8_t>(z ^ (z >> 31));
    }
  }

 private:
  std::mutex mu_;
  std::uint64_t state_;  // Guarded by mu_.
};

}  // namespace sessiond::testing
