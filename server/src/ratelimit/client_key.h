// The subject an IP-keyed rule counts by. One client is one IPv4 address, but one IPv6 /64:
// a single subscriber or LAN is routinely handed a whole /64 (RFC 6177, SLAAC privacy
// addresses), so counting per IPv6 address would give a client 2^64 fresh budgets.
#pragma once

#include <string>
#include <string_view>

namespace sessiond::ratelimit {

// "203.0.113.7" → "203.0.113.7"; "::ffff:203.0.113.7" (IPv4-mapped, as a dual-stack socket
// reports IPv4 peers) → "203.0.113.7"; "2001:db8:1:2:3:4:5:6" → "2001:db8:1:2::/64". IPv6
// comes out in RFC 5952 canonical text, so spellings of one address share a budget; IPv4 is
// accepted only in canonical dotted-quad. Anything else (not an IP literal, "010.0.0.1", a
// zone id) is returned unchanged and gets its own budget: the transport hands over canonical
// text (the socket's, or X-Forwarded-For re-printed by Asio), so clients cannot vary it.
// Thread-safe.
[[nodiscard]] std::string ClientKey(std::string_view client_ip);

}  // namespace sessiond::ratelimit
