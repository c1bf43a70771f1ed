#include "common/clock.h"

#include <gtest/gtest.h>

#include "testing/fake_clock.h"

namespace sessiond {
namespace {

TEST(ClockTest, Iso8601HasMillisecondsAndZ) {
  EXPECT_EQ(ToIso8601(FromUnixMillis(1795431473221)), "2026-11-23T10:57:53.221Z");
  EXPECT_EQ(ToIso8601(FromUnixMillis(0)), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(ToIso8601(FromUnixMillis(-1)), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(ToIso8601(FromUnixMillis(951782400007)), "2000-02-29T00:00:00.007Z");
  EXPECT_EQ(ToIso8601(FromUnixMillis(946684799999)), "1999-12-31T23:59:59.999Z");
  EXPECT_EQ(ToIso8601(FromUnixMillis(253402300799999)), "9999-12-31T23:59:59.999Z");
  EXPECT_EQ(ToIso8601(FromUnixMillis(-62167219200000)), "0000-01-01T00:00:00.000Z");
}

TEST(ClockTest, UnixMillisRoundTrip) { EXPECT_EQ(ToUnixMillis(FromUnixMillis(1234567)), 1234567); }

TEST(ClockTest, FakeClockMovesOnlyWhenAdvanced) {
  testing::FakeClock clock;
  const TimePoint t0 = clock.Now();
  EXPECT_EQ(clock.Now(), t0);
  clock.Advance(seconds(90));
  EXPECT_EQ(clock.Now() - t0, milliseconds(90000));
}

TEST(ClockTest, SystemClockIsNearNow) {
  SystemClock clock;
  EXPECT_GT(ToUnixMillis(clock.Now()), 1700000000000);
}

}  // namespace
}  // namespace sessiond
