// Test support: lets GoogleTest print a Decision readably ("{allowed, limit 10, remaining 9,
// reset 60s}") instead of as bytes. Include only from tests.
#pragma once

#include <ostream>

#include "ratelimit/decision.h"

namespace sessiond::ratelimit {

inline void PrintTo(const Decision& d, std::ostream* os) {
  *os << '{' << (d.allowed ? "allowed" : "REFUSED") << ", limit " << d.limit << ", remaining "
      << d.remaining << ", reset " << d.reset_after.count() << "s}";
}

}  // namespace sessiond::ratelimit
