#include "common/clock.h"

#include <cstdio>

namespace sessiond {

TimePoint SystemClock::Now() const {
  return std::chrono::time_point_cast<milliseconds>(std::chrono::system_clock::now());
}

std::string ToIso8601(TimePoint t) {
  const auto days = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::year_month_day ymd{days};
  const std::chrono::hh_mm_ss<milliseconds> hms{t - days};
  char buf[32];
  const int n = std::snprintf(
      buf, sizeof buf, "%04d-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ", static_cast<int>(ymd.year()),
      static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
      static_cast<long long>(hms.hours().count()), static_cast<long long>(hms.minutes().count()),
      static_cast<long long>(hms.seconds().count()),
      static_cast<long long>(hms.subseconds().count()));
  return std::string(buf, static_cast<std::size_t>(n));
}

}  // namespace sessiond
