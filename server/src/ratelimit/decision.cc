#include "ratelimit/decision.h"

namespace sessiond::ratelimit {

std::vector<std::pair<std::string, std::string>> RateLimitHeaders(const Decision& decision) {
  const std::string reset = std::to_string(decision.reset_after.count());
  std::vector<std::pair<std::string, std::string>> headers;
  headers.reserve(5);
  headers.emplace_back("x-ratelimit-limit", std::to_string(decision.limit));
  headers.emplace_back("x-ratelimit-remaining", std::to_string(decision.remaining));
  headers.emplace_back("x-ratelimit-reset", reset);
  if (!decision.allowed) {
    headers.emplace_back("retry-after", reset);
    headers.emplace_back("x-retry-after", reset);
  }
  return headers;
}

}  // namespace sessiond::ratelimit
