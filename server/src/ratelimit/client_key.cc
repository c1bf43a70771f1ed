#include "ratelimit/client_key.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>

namespace sessiond::ratelimit {
namespace {

// Appends `value` in `base` (no leading zeros).
void AppendNumber(std::string& out, unsigned value, int base) {
  std::array<char, 8> digits{};
  const std::to_chars_result r =
      std::to_chars(digits.data(), digits.data() + digits.size(), value, base);
  out.append(digits.data(), r.ptr);
}

// "a.b.c.d" from four octets.
std::string FormatIpv4(const unsigned char* octets) {
  std::string key;
  for (int i = 0; i < 4; ++i) {
    if (i > 0) key += '.';
    AppendNumber(key, octets[i], 10);
  }
  return key;
}

// The /64 network of `address` in RFC 5952 canonical text plus "/64": lower-case hex without
// leading zeros, and the zero tail (always the longest zero run, as it is at least 4 groups
// long) written "::", e.g. "2001:db8:1:2::/64", "2001:db8::/64", "::/64".
std::string FormatSlash64(const in6_addr& address) {
  std::array<unsigned, 4> groups{};
  for (std::size_t i = 0; i < groups.size(); ++i) {
    groups[i] = (unsigned{address.s6_addr[2 * i]} << 8) | address.s6_addr[2 * i + 1];
  }
  std::size_t kept = groups.size();  // Groups before the zero tail.
  while (kept > 0 && groups[kept - 1] == 0) --kept;
  std::string key;
  for (std::size_t i = 0; i < kept; ++i) {
    if (i > 0) key += ':';
    AppendNumber(key, groups[i], 16);
  }
  key += "::/64";
  return key;
}

}  // namespace

std::string ClientKey(std::string_view client_ip) {
  // inet_pton wants a NUL-terminated string; the longest IPv6 text is 45 characters (an
  // IPv4-mapped address), so anything longer is not an address.
  std::array<char, INET6_ADDRSTRLEN + 1> text{};
  if (client_ip.empty() || client_ip.size() >= text.size()) return std::string(client_ip);
  std::copy(client_ip.begin(), client_ip.end(), text.begin());

  in_addr v4{};
  if (inet_pton(AF_INET, text.data(), &v4) == 1) {
    // glibc accepts only canonical dotted-quad here (four parts, no leading zeros), so the
    // text is already the key.
    return std::string(client_ip);
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.data(), &v6) != 1) return std::string(client_ip);

  // ::ffff:a.b.c.d (RFC 4291 §2.5.5.2) is an IPv4 client; its /64 would lump every IPv4
  // client together.
  static constexpr std::array<unsigned char, 12> kMappedPrefix = {0, 0, 0, 0, 0,    0,
                                                                  0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(v6.s6_addr, kMappedPrefix.data(), kMappedPrefix.size()) == 0) {
    return FormatIpv4(v6.s6_addr + 12);
  }
  return FormatSlash64(v6);
}

}  // namespace sessiond::ratelimit
