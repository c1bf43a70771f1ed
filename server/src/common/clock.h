// Time is injected: the session core and stores never read the system clock directly, so
// tests drive expiry with a FakeClock (server/testing/fake_clock.h) instead of sleeping.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace sessiond {

// Wall-clock instants at millisecond precision, the resolution Better Auth's ISO dates carry.
using TimePoint = std::chrono::sys_time<std::chrono::milliseconds>;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Source of the current time. Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  [[nodiscard]] virtual TimePoint Now() const = 0;
};

// The real wall clock (std::chrono::system_clock truncated to milliseconds).
class SystemClock final : public Clock {
 public:
  [[nodiscard]] TimePoint Now() const override;
};

// Milliseconds since the Unix epoch, the form stores persist.
[[nodiscard]] inline std::int64_t ToUnixMillis(TimePoint t) { return t.time_since_epoch().count(); }
[[nodiscard]] inline TimePoint FromUnixMillis(std::int64_t ms) {
  return TimePoint(milliseconds(ms));
}

// ISO 8601 in UTC with milliseconds, e.g. "2026-11-23T10:57:53.221Z" (the form Better Auth
// puts on the wire).
[[nodiscard]] std::string ToIso8601(TimePoint t);

}  // namespace sessiond
