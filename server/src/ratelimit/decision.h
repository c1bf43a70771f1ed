// The outcome of counting one request against one rule, and the response headers that
// report it. Independent of http::Headers so the routes layer decides where they go.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace sessiond::ratelimit {

struct Decision {
  bool allowed = true;          // false → answer 429 Too Many Requests.
  std::uint32_t limit = 0;      // The rule's max.
  std::uint32_t remaining = 0;  // Requests left in the current window after this one.
  // Whole seconds (rounded up) until the oldest counted request leaves the window and so
  // frees a slot; 0 when nothing is counted. When !allowed this is the Retry-After value:
  // a client that waits this long is admitted (unless others used the slot meanwhile).
  std::chrono::seconds reset_after{0};

  friend bool operator==(const Decision&, const Decision&) = default;
};

// Header fields describing `decision`, lower-case like every header this server writes:
//   x-ratelimit-limit, x-ratelimit-remaining, x-ratelimit-reset (seconds, = reset_after),
// and, only when !allowed, retry-after (RFC 9110 §10.2.3, delta-seconds) plus x-retry-after
// (the name Better Auth's own 429s carry, for clients written against it).
[[nodiscard]] std::vector<std::pair<std::string, std::string>> RateLimitHeaders(
    const Decision& decision);

}  // namespace sessiond::ratelimit
