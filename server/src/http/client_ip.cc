// IpInList and ClientIp (declared in server.h). Only Asio's address parsing is used here.
#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <boost/asio/ip/address.hpp>

#include "http/server.h"

namespace sessiond::http {
namespace {

namespace ip = boost::asio::ip;

std::string_view TrimWhitespace(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Parses an IP literal without throwing; IPv4-mapped IPv6 (::ffff:a.b.c.d, RFC 4291 §2.5.5.2)
// becomes the IPv4 address so that one list entry covers both spellings.
std::optional<ip::address> ParseIp(std::string_view text) {
  boost::system::error_code ec;
  const ip::address address = ip::make_address(std::string(text), ec);
  if (ec) return std::nullopt;
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return ip::address(ip::make_address_v4(ip::v4_mapped, address.to_v6()));
  }
  return address;
}

// Whether the first `prefix_bits` bits of `a` and `b` agree. Both spans have the same size and
// prefix_bits <= 8 * size.
bool PrefixMatches(std::span<const unsigned char> a, std::span<const unsigned char> b,
                   unsigned prefix_bits) {
  std::size_t i = 0;
  for (; prefix_bits >= 8; prefix_bits -= 8, ++i) {
    if (a[i] != b[i]) return false;
  }
  if (prefix_bits == 0) return true;
  const auto mask = static_cast<unsigned char>(0xFFu << (8 - prefix_bits));
  return (a[i] & mask) == (b[i] & mask);
}

// One entry of a trusted list: "10.0.0.0/8", "::1/128", "192.168.1.7" or "::1". A malformed
// entry never matches.
bool EntryMatches(std::string_view entry, const ip::address& candidate) {
  entry = TrimWhitespace(entry);
  const std::size_t slash = entry.find('/');
  const std::optional<ip::address> network = ParseIp(entry.substr(0, slash));
  if (!network) return false;

  const unsigned max_bits = network->is_v4() ? 32 : 128;
  unsigned prefix_bits = max_bits;
  if (slash != std::string_view::npos) {
    const std::string_view bits_text = entry.substr(slash + 1);
    const char* const end = bits_text.data() + bits_text.size();
    const auto [ptr, err] = std::from_chars(bits_text.data(), end, prefix_bits);
    if (bits_text.empty() || err != std::errc() || ptr != end) return false;
    // A v4-mapped network ("::ffff:10.0.0.0/104") was turned into IPv4: rebase its prefix.
    const bool was_mapped =
        network->is_v4() && entry.substr(0, slash).find(':') != std::string_view::npos;
    if (was_mapped) {
      if (prefix_bits < 96 || prefix_bits > 128) return false;
      prefix_bits -= 96;
    }
    if (prefix_bits > max_bits) return false;
  }

  if (network->is_v4() != candidate.is_v4()) return false;
  if (network->is_v4()) {
    const std::array<unsigned char, 4> a = network->to_v4().to_bytes();
    const std::array<unsigned char, 4> b = candidate.to_v4().to_bytes();
    return PrefixMatches(a, b, prefix_bits);
  }
  const std::array<unsigned char, 16> a = network->to_v6().to_bytes();
  const std::array<unsigned char, 16> b = candidate.to_v6().to_bytes();
  return PrefixMatches(a, b, prefix_bits);
}

bool AddressInList(const ip::address& address, const std::vector<std::string>& trusted) {
  for (const std::string& entry : trusted) {
    if (EntryMatches(entry, address)) return true;
  }
  return false;
}

}  // namespace

bool IpInList(std::string_view ip, const std::vector<std::string>& trusted) {
  const std::optional<ip::address> address = ParseIp(TrimWhitespace(ip));
  return address.has_value() && AddressInList(*address, trusted);
}

std::string ClientIp(std::string_view peer_ip, std::optional<std::string_view> xff,
                     const std::vector<std::string>& trusted_proxies) {
  // Only a trusted peer may speak for the client; anyone else could forge the header.
  if (!xff.has_value() || !IpInList(peer_ip, trusted_proxies)) return std::string(peer_ip);

  // X-Forwarded-For is "client, proxy1, proxy2": each proxy appends the address it saw, so
  // the right-most entry that is not one of our proxies is the first one we cannot vouch for
  // beyond, and everything to its left is client-controlled.
  std::optional<ip::address> left_most_valid;
  std::string_view rest = *xff;
  while (true) {
    const std::size_t comma = rest.rfind(',');
    const std::string_view entry =
        TrimWhitespace(comma == std::string_view::npos ? rest : rest.substr(comma + 1));
    if (const std::optional<ip::address> address = ParseIp(entry)) {
      if (!AddressInList(*address, trusted_proxies)) return address->to_string();
      left_most_valid = address;
    }
    if (comma == std::string_view::npos) break;
    rest = rest.substr(0, comma);
  }
  // Every hop is a trusted proxy (or unparseable): the origin is the left-most one.
  if (left_most_valid.has_value()) return left_most_valid->to_string();
  return std::string(peer_ip);
}

}  // namespace sessiond::http
