// Hash containers keyed by std::string that can be searched with a std::string_view without
// building a std::string first (C++20 heterogeneous lookup for unordered containers, P0919R3 /
// P1690R1): the hash and the equality both declare themselves transparent.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace sessiond {

struct TransparentStringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

template <class V>
using StringMap = std::unordered_map<std::string, V, TransparentStringHash, std::equal_to<>>;

using StringSet = std::unordered_set<std::string, TransparentStringHash, std::equal_to<>>;

}  // namespace sessiond
