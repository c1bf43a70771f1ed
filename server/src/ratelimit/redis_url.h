// Where a Redis server is: the parsed form of `redis.url`. Parsing only (no hiredis), so the
// config loader can validate the URL without linking a Redis client.
//
// Accepted forms:
//   redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]   HOST a name, IPv4 or [IPv6]; PORT 6379; DB 0
//   unix://PATH[?db=DB]                          a Unix socket, e.g. unix:///run/redis/redis.sock
// USER and PASSWORD are percent-decoded (RFC 3986 §2.1); with a USER, sessiond sends
// `AUTH USER PASSWORD` (Redis 6 ACLs), otherwise `AUTH PASSWORD`. rediss:// (TLS) is refused:
// Debian 12's hiredis 0.14 has no TLS; reach a remote Redis over a private network, a TLS tunnel
// (stunnel, spiped) or a local socket.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"

namespace sessiond::ratelimit {

struct RedisEndpoint {
  std::string host = "127.0.0.1";  // TCP host (no brackets for IPv6); unused with unix_path.
  std::uint16_t port = 6379;
  std::string unix_path;  // Non-empty: connect to this Unix socket instead of host:port.
  std::string username;   // Redis 6 ACL user; empty: AUTH with the password alone.
  std::string password;   // Empty: no AUTH.
  std::uint32_t db = 0;   // SELECTed after connecting when not 0.

  // The URL without the password ("redis://user:***@host:6379/0"), for logs.
  [[nodiscard]] std::string Redacted() const;
};

// Parses a redis:// or unix:// URL. Errors (kValidation) say what is wrong without repeating
// the URL, which may hold a password.
[[nodiscard]] Result<RedisEndpoint> ParseRedisUrl(std::string_view url);

}  // namespace sessiond::ratelimit
