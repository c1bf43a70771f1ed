// Views between char strings and the byte pointers libsodium/OpenSSL take. Internal.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace sessiond::jwt::internal {

// Aliasing char data as unsigned bytes is always allowed.
[[nodiscard]] inline std::span<const std::uint8_t> AsBytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
[[nodiscard]] inline std::span<std::uint8_t> AsWritableBytes(std::string& s) {
  return {reinterpret_cast<std::uint8_t*>(s.data()), s.size()};
}
// Never null, even for an empty view (OpenSSL and libsodium may reject null pointers).
[[nodiscard]] inline const unsigned char* UChars(std::string_view s) {
  static constexpr unsigned char kEmpty[1] = {0};
  return s.empty() ? kEmpty : reinterpret_cast<const unsigned char*>(s.data());
}
[[nodiscard]] inline std::string_view AsChars(std::span<const std::uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

}  // namespace sessiond::jwt::internal
