// How the verifier finds the key a token names: by "kid" only (RFC 7515 §4.1.4). Keys are never
// taken from the token itself ("jwk", "jku", "x5u", "x5c" headers are ignored), so a token can
// only be checked against keys the server already holds.
#pragma once

#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "jwt/key.h"

namespace sessiond::jwt {

// Resolves a kid to a key. Implementations are thread-safe.
class KeyLookup {
 public:
  virtual ~KeyLookup() = default;
  // The key whose kid equals `kid` exactly, or null. The shared_ptr keeps the key alive for
  // the caller even if it is pruned meanwhile.
  [[nodiscard]] virtual std::shared_ptr<const Key> FindByKid(std::string_view kid) const = 0;
};

// A fixed list of keys (e.g. verify-only keys imported from a JWKS). Immutable; thread-safe.
class KeyList final : public KeyLookup {
 public:
  explicit KeyList(std::vector<Key> keys) {
    for (Key& key : keys) keys_.push_back(std::make_shared<const Key>(std::move(key)));
  }
  [[nodiscard]] std::shared_ptr<const Key> FindByKid(std::string_view kid) const override {
    for (const auto& key : keys_) {
      if (key->kid() == kid) return key;
    }
    return nullptr;
  }

 private:
  std::vector<std::shared_ptr<const Key>> keys_;
};

}  // namespace sessiond::jwt
