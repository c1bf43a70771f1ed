#include "common/random.h"

#include <array>
#include <string_view>

namespace sessiond {

std::string RandomId(Random& random, std::size_t length) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string id;
  id.reserve(length);
  std::array<std::uint8_t, 64> buf{};
  while (id.size() < length) {
    random.Fill(buf);
    for (const std::uint8_t b : buf) {
      // 248 = 62 * 4: bytes at or above it would bias the first characters.
      if (b < 248 && id.size() < length) id.push_back(kAlphabet[b % kAlphabet.size()]);
    }
  }
  return id;
}

}  // namespace sessiond
