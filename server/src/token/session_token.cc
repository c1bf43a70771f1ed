#include "token/session_token.h"

#include <array>
#include <cstdint>
#include <utility>

#include "crypto/crypto.h"

namespace sessiond::token {
namespace {

// 256 bits of entropy: base64url (RFC 4648 §5) without padding gives ceil(32 * 4 / 3) = 43.
constexpr std::size_t kTokenBytes = 32;
static_assert((kTokenBytes * 4 + 2) / 3 == kTokenLength);

// base64 (RFC 4648 §4, with padding) of a 32-byte HMAC-SHA256: 4 * ceil(32 / 3) = 44 chars,
// the last one '='. better-call's getSignedCookie checks exactly this shape.
constexpr std::size_t kSignatureLength = 44;

constexpr bool IsBase64UrlChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

// Shape check only: kTokenLength characters of the base64url alphabet (so no '.', '+', '/',
// '=' or whitespace).
bool HasTokenShape(std::string_view token) {
  if (token.size() != kTokenLength) return false;
  for (const char c : token) {
    if (!IsBase64UrlChar(c)) return false;
  }
  return true;
}

}  // namespace

std::string NewSessionToken(Random& random) {
  std::array<std::uint8_t, kTokenBytes> bytes{};
  random.Fill(bytes);
  return crypto::Base64UrlEncode(bytes);
}

std::string HashSessionToken(std::string_view token) {
  return crypto::HexEncode(crypto::Sha256(token));
}

TokenSigner::TokenSigner(std::string secret) : secret_(std::move(secret)) {}

TokenSigner::~TokenSigner() { crypto::Wipe(secret_); }

std::string TokenSigner::Sign(std::string_view token) const {
  const std::string signature = crypto::Base64Encode(crypto::HmacSha256(secret_, token));
  std::string out;
  out.reserve(token.size() + 1 + signature.size());
  out.append(token).append(1, '.').append(signature);
  return out;
}

std::optional<std::string> TokenSigner::Verify(std::string_view signed_value) const {
  // better-call splits at the last '.'; the token alphabet has no '.', so a '.' left in the
  // token part fails the shape check below.
  const std::size_t dot = signed_value.rfind('.');
  if (dot == std::string_view::npos) return std::nullopt;
  const std::string_view token = signed_value.substr(0, dot);
  const std::string_view signature = signed_value.substr(dot + 1);
  // Shape checks reveal nothing secret, so they may short-circuit.
  if (!HasTokenShape(token) || signature.size() != kSignatureLength) return std::nullopt;

  // Compare the canonical encoding of the expected MAC with what was sent, in constant time.
  // Comparing encodings (not decoded bytes) also rejects non-canonical base64 spellings.
  const std::string expected = crypto::Base64Encode(crypto::HmacSha256(secret_, token));
  if (!crypto::ConstantTimeEquals(expected, signature)) return std::nullopt;
  return std::string(token);
}

}  // namespace sessiond::token
