// A Clock whose time only moves when a test says so.
#pragma once

#include <atomic>

#include "common/clock.h"

namespace sessiond::testing {

class FakeClock final : public Clock {
 public:
  // Starts at 2026-11-23T10:00:00.000Z unless told otherwise.
  explicit FakeClock(TimePoint start = FromUnixMillis(1795428000000))
      : now_ms_(ToUnixMillis(start)) {}
  [[nodiscard]] TimePoint Now() const override { return FromUnixMillis(now_ms_.load()); }
  void Advance(milliseconds d) { now_ms_ += d.count(); }
  void Set(TimePoint t) { now_ms_ = ToUnixMillis(t); }

 private:
  std::atomic<std::int64_t> now_ms_;
};

}  // namespace sessiond::testing
